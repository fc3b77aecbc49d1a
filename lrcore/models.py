r"""Models with forward and backward written by hand: softmax regression, an MLP, linear regression.

All three are stacks of dense layers, :math:`z = W a + b`, with ReLU between layers and a loss on
the last layer's output:

* :class:`SoftmaxRegression` -- one layer, softmax cross-entropy;
* :class:`MLP` -- ``sizes = [n_in, h_1, ..., n_classes]``, ReLU hidden layers, softmax cross-entropy;
* :class:`LinearRegression` -- one layer, :math:`L = \frac{1}{2m'}\sum_i \lVert ŷ_i - y_i\rVert^2`
  (half the mean squared error), so that on least squares the Hessian is :math:`X^\top X / n`.

**Layout.** Activations are ``(features, batch)``, one column per example: the logits of a
minibatch are ``(classes, batch)``. Each layer keeps its weights and bias in one matrix
:math:`Θ_l = [W_l \; b_l]` of shape ``(out, in + 1)`` and its input gets an extra row of ones,
:math:`\tilde a = [a; 1]`, so that :math:`z = Θ_l \tilde a = W_l a + b_l` (the "bias trick"):
one matrix product per layer forward, one backward, one update. ``model.params`` shows the
familiar ``W`` ``(out, in)`` and ``b`` ``(out,)``, as views of ``model.theta``.

**What training calls.** :meth:`~DenseModel.loss_and_grad` gives the mean loss of a minibatch
and its gradient for every layer, by :meth:`~DenseModel.forward`, the loss of the output layer
and :meth:`~DenseModel.backward`: the code reads like the equations in their docstrings.
:func:`lrcore.training.train` calls it once a step. A sweep of K learning rates computes the
same things for K parameter sets at once, with code written for speed, in
:mod:`lrcore.stacked`.

>>> import numpy as np
>>> model = MLP([4, 8, 3], seed=0)
>>> {name: p.shape for name, p in model.params.items()}
{'W1': (8, 4), 'b1': (8,), 'W2': (3, 8), 'b2': (3,)}
>>> [theta.shape for theta in model.theta]
[(8, 5), (3, 9)]
>>> X, y = np.ones((5, 4), np.float32), np.array([0, 1, 2, 1, 0])
>>> print(f"{model.loss(X, y):.4f}")
1.3049
"""
from __future__ import annotations

import math
import reprlib

import numpy as np

from . import checks
from .backend import DEFAULT_DTYPE, get_backend, to_numpy

__all__ = ["DenseModel", "SoftmaxRegression", "MLP", "LinearRegression"]

def _as_array(xp, a, name: str, rule: str, kinds: str):
    """``a`` as an array of ``xp`` with a dtype of ``kinds`` (NumPy's ``dtype.kind`` letters: ``"iu"``
    integers, ``"f"`` floats; never ``"b"``, bool), else a TypeError: ``name`` must be ``rule``."""
    try:
        array = xp.asarray(a)
    except (TypeError, ValueError):  # ragged nested lists
        array = None
    if array is None or array.dtype.kind not in kinds:
        got = reprlib.repr(a) if array is None or array.dtype == object else f"dtype {array.dtype}"
        raise TypeError(f"{name} must be {rule}; got {got}")
    return array


def _check_examples(n: int):
    if n < 1:
        raise ValueError("X and y must hold at least one example (losses and accuracies are means "
                         "over them); got 0")


class DenseModel:
    """A stack of dense layers with hand-written forward and backward passes.

    Use :class:`SoftmaxRegression`, :class:`MLP` or :class:`LinearRegression`.
    Attributes: ``sizes`` (layer widths, input first), ``task`` (``"classification"`` or
    ``"regression"``), ``n_in``, ``n_out``, ``seed``, ``dtype``, ``xp`` (the array module),
    ``theta`` (one ``(out, in + 1)`` array per layer), ``params`` (views by name).

    **Precision.** ``dtype`` is float64 unless you pass ``dtype=np.float32``. Training amplifies
    round-off: two CPUs whose BLAS kernels or SIMD ``exp`` round differently start runs that
    drift apart, and in float32 the book's 20-epoch runs can end with validation losses that
    differ in the fourth digit. In float64 the drift of a stable run stays far below that (the
    digits MLP of the book's chapters ends the same to 10 digits with other BLAS kernels and
    other SIMD code), so the numbers the book prints come out the same on any machine. float32
    halves memory and is faster (it is what the benchmarks compare with PyTorch); a run near
    divergence differs across machines in either precision (chapter 1 shows this).
    """

    task = "classification"

    def __init__(self, sizes, *, seed: int = 0, backend=None, dtype=DEFAULT_DTYPE):
        if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__len__"):
            raise TypeError(f"sizes must be a sequence of layer widths like [64, 128, 10]; "
                            f"got {sizes!r}")
        if len(sizes) < 2:
            raise ValueError(f"sizes must list at least the input and output widths; "
                             f"got {list(sizes)}")
        self.sizes = tuple(checks.integer(f"sizes[{i}]", s, low=1) for i, s in enumerate(sizes))
        self.seed = checks.seed("seed", seed)
        self.dtype = checks.float_dtype("dtype", dtype)
        self.xp = get_backend(backend)
        self.theta = self._initial_theta(self.seed)

    def __getstate__(self):  # pickle/deepcopy: the backend by name, no module objects
        state = {k: v for k, v in self.__dict__.items() if k != "xp"}
        return {**state, "backend": self.xp.__name__}

    def __setstate__(self, state):
        state = dict(state)
        self.xp = get_backend(state.pop("backend"))
        self.__dict__.update(state)

    # ---- construction -----------------------------------------------------------------------
    @property
    def n_in(self) -> int:
        return self.sizes[0]

    @property
    def n_out(self) -> int:
        return self.sizes[-1]

    @property
    def n_params(self) -> int:
        return sum(int(t.size) for t in self.theta)

    @property
    def names(self) -> list[tuple[str, str]]:
        """The ``(W, b)`` names of each layer: ``W, b`` for one layer, else ``W1, b1, W2, ...``."""
        L = len(self.sizes) - 1
        return [("W", "b")] if L == 1 else [(f"W{l}", f"b{l}") for l in range(1, L + 1)]

    @property
    def params(self) -> dict:
        """``{"W1": W_1, "b1": b_1, ...}``: views of ``theta`` (writing into them changes the model)."""
        out = {}
        for (Wn, bn), theta in zip(self.names, self.theta):
            out[Wn], out[bn] = theta[:, :-1], theta[:, -1]
        return out

    def _initial_theta(self, seed: int) -> list:
        """W_l ~ N(0, s²/fan_in): s² = 2 (He) for a layer followed by ReLU, 1 for the output; b_l = 0."""
        rng = np.random.default_rng(seed)
        L, theta = len(self.sizes) - 1, []
        for l in range(L):
            fan_in, fan_out = self.sizes[l], self.sizes[l + 1]
            gain = 2.0 if l < L - 1 else 1.0
            W = rng.standard_normal((fan_out, fan_in)) * np.sqrt(gain / fan_in)
            theta.append(self.xp.asarray(np.hstack([W, np.zeros((fan_out, 1))]), dtype=self.dtype))
        return theta

    def copy(self, *, seed: int | None = None):
        """An independent copy; with ``seed``, the same architecture freshly initialised from it."""
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        if seed is None:
            new.theta = [t.copy() for t in self.theta]
        else:
            new.seed = checks.seed("seed", seed)
            new.theta = new._initial_theta(new.seed)
        return new

    def __repr__(self) -> str:
        name = type(self).__name__
        arch = f"{list(self.sizes)}" if name == "MLP" else f"{self.n_in}, {self.n_out}"
        return f"{name}({arch}, seed={self.seed}, params={self.n_params})"

    # ---- data on the model's backend, checked ------------------------------------------------
    def _cast(self, a):
        """``a`` in the model's dtype, on its backend: a number beyond float32 becomes inf in a
        float32 model, and the loss inf (a result, not an overflow warning)."""
        with np.errstate(over="ignore"):
            return self.xp.asarray(a, dtype=self.dtype)

    def _targets(self, y, n: int | None = None):
        """``y`` checked, on the model's backend: class labels, ints in ``[0, n_out)``, ``(n,)``;
        regression targets, real numbers, ``(n, n_out)`` (or ``(n,)`` for one output). ``n``: the
        rows of ``X`` they go with. Every method that takes ``y`` checks it here (a sweep once per
        run, through :meth:`encode_targets`), so that a label of -1 is not read as the last class.
        """
        classes = self.task == "classification"
        rule = f"integer class labels in [0, {self.n_out})" if classes else "real regression targets"
        y = _as_array(self.xp, y, "y", f"an array of {rule}", "iu" if classes else "iuf")
        column = y.ndim == 1 and (classes or self.n_out == 1)               # (n,)
        rows = not classes and y.ndim == 2 and y.shape[1] == self.n_out    # (n, n_out)
        if not (column or rows):
            wanted = ("(n,)" if classes else
                      "(n, 1) or (n,)" if self.n_out == 1 else f"(n, {self.n_out})")
            raise ValueError(f"y must have shape {wanted}, one {'label' if classes else 'target'} "
                             f"per row of X; got {tuple(y.shape)}")
        if n is not None and y.shape[0] != n:
            raise ValueError(f"y has {y.shape[0]} rows but X has {n}")
        _check_examples(y.shape[0])
        if classes:
            low, high = int(y.min()), int(y.max())
            if low < 0 or high >= self.n_out:
                raise ValueError(f"y must hold {rule}; got {low if low < 0 else high}")
        return y

    def encode_targets(self, y):
        """Targets in the layout of the output, ``(n_out, n)``: one-hot columns for class labels.
        ``y`` is checked (see :meth:`_targets`)."""
        return self._encode(self._targets(y))

    def _encode(self, y):
        xp = self.xp
        if self.task == "classification":
            T = xp.zeros((self.n_out, y.shape[0]), dtype=self.dtype)
            T[y, xp.arange(y.shape[0])] = 1
            return T
        return xp.ascontiguousarray(self._cast(y.reshape(y.shape[0], -1).T))

    def _inputs(self, X):
        """``X`` ``(n, n_in)`` checked, in the model's dtype: it may have no rows."""
        X = _as_array(self.xp, X, "X", "a 2-D array of real numbers (integer or float dtype)", "iuf")
        if X.ndim != 2 or X.shape[1] != self.n_in:
            raise ValueError(f"X must have shape (n, {self.n_in}); got {tuple(X.shape)}")
        return self._cast(X)

    def _examples(self, X, y):
        """``X`` and ``y`` checked (see :meth:`_inputs`, :meth:`_targets`)."""
        X = self._inputs(X)
        return X, self._targets(y, X.shape[0])

    # ---- forward, loss, backward -------------------------------------------------------------
    def forward(self, X):
        r"""The outputs :math:`Z_L` ``(n_out, m)`` of the examples ``X`` ``(m, n_in)``, and the
        input :math:`\tilde A_{l-1}` of every layer (what :meth:`backward` needs).

        :math:`A_0 = X^\top`; for each layer :math:`\tilde A_{l-1} = [A_{l-1}; 1]`,
        :math:`Z_l = Θ_l \tilde A_{l-1}`, and :math:`A_l = \max(Z_l, 0)` (ReLU) between layers.
        Parameters or inputs beyond the dtype (inf) give inf/NaN outputs: a result, not a warning.
        """
        xp, inputs = self.xp, []
        A = X.T                                          # a_0 = x, one column per example
        ones = xp.ones((1, A.shape[1]), dtype=self.dtype)
        with np.errstate(invalid="ignore"):              # inf · 0 = NaN: a result, no warning
            for l, theta in enumerate(self.theta):
                if l > 0:
                    A = xp.maximum(Z, 0)                 # a = ReLU(z)
                A = xp.concatenate([A, ones])            # ã = [a; 1]
                Z = theta @ A                            # z = Θ ã = W a + b
                inputs.append(A)
        return Z, inputs

    def backward(self, inputs, dZ) -> list:
        r"""The gradient :math:`∂L/∂Θ_l` of every layer, from :math:`dZ = ∂L/∂Z_L` and the
        ``inputs`` of :meth:`forward`, by the chain rule from the last layer back:

        :math:`∂L/∂Θ_l = dZ_l \tilde A_{l-1}^\top` and
        :math:`dZ_{l-1} = (W_l^\top dZ_l) ⊙ [Z_{l-1} > 0]` (ReLU's derivative; :math:`Z_{l-1} > 0`
        exactly where :math:`A_{l-1} > 0`).
        """
        grads = [None] * len(self.theta)
        for l in reversed(range(len(self.theta))):
            A = inputs[l]                                # ã_{l-1}
            grads[l] = dZ @ A.T                          # ∂L/∂Θ_l = dZ ãᵀ
            if l > 0:
                W = self.theta[l][:, :-1]
                dZ = (W.T @ dZ) * (A[:-1] > 0)           # back through W_l and the ReLU
        return grads

    def loss_and_grad(self, X, y):
        r"""The mean loss :math:`L` of the minibatch ``(X, y)`` (a float) and
        its gradient :math:`g = ∂L/∂Θ_l` for every layer (arrays shaped like
        ``theta``).

        >>> model = SoftmaxRegression(2, 3, seed=0)
        >>> X = np.array([[1.0, 2.0], [0.0, -1.0]])
        >>> loss, grads = model.loss_and_grad(X, [2, 0])
        >>> print(f"{loss:.4f}", [g.shape for g in grads])
        1.0789 [(3, 3)]
        """
        X, y = self._examples(X, y)
        Z, inputs = self.forward(X)
        loss, dZ = self._output_loss(Z, y)               # L and ∂L/∂Z
        return loss, self.backward(inputs, dZ)

    def _output_loss(self, Z, y):
        """The mean loss of the outputs ``Z`` against the targets ``y``, and ∂L/∂Z (see the
        subclasses)."""
        raise NotImplementedError

    # ---- one parameter set: conveniences -------------------------------------------------------
    def loss(self, X, y) -> float:
        """The mean loss of the model on ``(X, y)``."""
        X, y = self._examples(X, y)
        return self._output_loss(self.forward(X)[0], y)[0]

    def evaluate(self, X, y) -> tuple[float, float]:
        """The mean loss on ``(X, y)`` and the accuracy (NaN for regression): one forward pass."""
        X, y = self._examples(X, y)
        Z, _ = self.forward(X)
        accuracy = (float((Z.argmax(axis=0) == y).mean()) if self.task == "classification"
                    else math.nan)
        return self._output_loss(Z, y)[0], accuracy

    def gradient(self, X, y) -> dict:
        """∂L/∂θ of the mean loss on ``(X, y)``, by name and in the shapes of ``params``."""
        _, grads = self.loss_and_grad(X, y)
        out = {}
        for (Wn, bn), g in zip(self.names, grads):
            out[Wn], out[bn] = g[:, :-1], g[:, -1]
        return out

    def outputs(self, X) -> np.ndarray:
        """The last layer's outputs ``(n, n_out)`` (logits or predictions), as NumPy."""
        Z, _ = self.forward(self._inputs(X))
        return to_numpy(Z.T)


class _Classifier(DenseModel):
    task = "classification"

    def _output_loss(self, Z, y):
        r"""Softmax cross-entropy:
        :math:`L = \frac{1}{m'}\sum_i -\log p_{y_i i}` with
        :math:`p_{ci} = e^{z_{ci}} / \sum_{c'} e^{z_{c'i}}`, and
        :math:`∂L/∂Z = (P - T)/m'`, :math:`T` the one-hot labels."""
        xp, m = self.xp, Z.shape[1]
        Z = Z - Z.max(axis=0)                   # z' = z − max z: same p, e^z' ≤ 1
        E = xp.exp(Z)
        s = E.sum(axis=0)                       # Σ_c e^{z'_c}
        i = xp.arange(m)
        loss = (xp.log(s) - Z[y, i]).sum() / m  # −log p_y = log s − z'_y
        dZ = E / s                              # P, the softmax
        dZ[y, i] -= 1                           # P − T
        return float(loss), dZ / m

    def predict(self, X) -> np.ndarray:
        """Predicted class labels ``(n,)`` (NumPy int64)."""
        return self.outputs(X).argmax(axis=1)

    def accuracy(self, X, y) -> float:
        """Fraction of ``X`` whose predicted class is ``y``."""
        predicted = self.predict(X)
        return float(np.mean(predicted == to_numpy(self._targets(y, len(predicted)))))


class SoftmaxRegression(_Classifier):
    """Multinomial logistic regression: logits ``z = W x + b``, softmax cross-entropy loss.

    ``params``: ``W`` ``(n_classes, n_in)`` drawn with std √(1/n_in), and ``b = 0``.
    It is the MLP without a hidden layer, ``MLP([n_in, n_classes])``, bit for bit; the two
    arguments name the only two widths a one-layer model has (an MLP takes its list of widths).

    >>> SoftmaxRegression(64, 10, seed=0)
    SoftmaxRegression(64, 10, seed=0, params=650)
    """

    def __init__(self, n_in: int, n_classes: int, *, seed: int = 0, backend=None,
                 dtype=DEFAULT_DTYPE):
        n_in = checks.integer("n_in", n_in, low=1)
        n_classes = checks.integer("n_classes", n_classes, low=2)
        super().__init__([n_in, n_classes], seed=seed, backend=backend, dtype=dtype)


class MLP(_Classifier):
    """A multilayer perceptron classifier: ReLU hidden layers, softmax cross-entropy.

    ``sizes = [n_in, h_1, ..., h_{L-1}, n_classes]``; ``params`` holds ``W1, b1, ..., WL, bL``.
    Hidden layers are He-initialised (std √(2/fan_in)), the output layer with std √(1/fan_in).

    >>> MLP([64, 128, 10])
    MLP([64, 128, 10], seed=0, params=9610)
    >>> MLP([64])
    Traceback (most recent call last):
    ...
    ValueError: sizes must list at least the input and output widths; got [64]
    """

    def __init__(self, sizes, *, seed: int = 0, backend=None, dtype=DEFAULT_DTYPE):
        super().__init__(sizes, seed=seed, backend=backend, dtype=dtype)
        if self.sizes[-1] < 2:
            raise ValueError(f"sizes[-1] (the number of classes) must be >= 2; "
                             f"got {self.sizes[-1]}")


class LinearRegression(DenseModel):
    r"""Linear least squares: ``ŷ = W x + b``, loss :math:`\frac{1}{2m'}\sum_i \lVert ŷ_i - y_i\rVert^2`.

    Half the mean over samples of the squared error summed over the ``n_out`` outputs, so that
    for one output the Hessian of the loss on ``X`` is :math:`X^\top X / n` (with the bias as a
    column of ones), as in :func:`lrcore.data.make_least_squares`.

    >>> import numpy as np
    >>> m = LinearRegression(2, seed=0)
    >>> print(f"{m.loss(np.eye(2), np.array([1.0, -1.0])):.4f}")
    0.4130
    """

    task = "regression"

    def __init__(self, n_in: int, n_out: int = 1, *, seed: int = 0, backend=None,
                 dtype=DEFAULT_DTYPE):
        n_in = checks.integer("n_in", n_in, low=1)
        n_out = checks.integer("n_out", n_out, low=1)
        super().__init__([n_in, n_out], seed=seed, backend=backend, dtype=dtype)

    def _output_loss(self, Z, y):
        r"""Half the squared error: :math:`L = \frac{1}{2m'}\sum_i \lVert z_i - y_i\rVert^2`,
        :math:`∂L/∂Z = (Z - Y)/m'`."""
        R = Z - self._encode(y)                          # residuals z_i − y_i, (n_out, m')
        m = Z.shape[1]
        return float((R * R).sum() / (2 * m)), R / m

    def predict(self, X) -> np.ndarray:
        """Predictions: ``(n,)`` for one output, ``(n, n_out)`` otherwise (NumPy)."""
        Z = self.outputs(X)
        return Z[:, 0] if self.n_out == 1 else Z
