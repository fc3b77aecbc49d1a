r"""Models with forward and backward written by hand: softmax regression, an MLP, linear regression.

All three are stacks of dense layers, :math:`z = W a + b`, with ReLU between layers and a loss on
the last layer's output:

* :class:`SoftmaxRegression` -- one layer, softmax cross-entropy;
* :class:`MLP` -- ``sizes = [n_in, h_1, ..., n_classes]``, ReLU hidden layers, softmax cross-entropy;
* :class:`LinearRegression` -- one layer, :math:`L = \frac{1}{2m'}\sum_i \lVert ŷ_i - y_i\rVert^2`
  (half the mean squared error), so that on least squares the Hessian is :math:`X^\top X / n`.

**Layout.** Activations are ``(features, batch)``: the logits of a minibatch are
``(classes, batch)``. Each layer keeps its weights and bias in one matrix
:math:`Θ_l = [W_l \; b_l]` of shape ``(out, in + 1)`` and its input carries an extra row of ones,
:math:`\tilde a = [a; 1]`, so that :math:`z = Θ_l \tilde a = W_l a + b_l` (the "bias trick"):
one matrix product per layer forward, one backward, one update. ``model.params`` shows the
familiar ``W`` ``(out, in)`` and ``b`` ``(out,)``, as views of ``model.theta``.

**One set or K stacked sets.** :meth:`~DenseModel.forward`, :meth:`~DenseModel.output_grad`
and :meth:`~DenseModel.backward` take a list ``P`` with one array per layer: ``model.theta``
itself, ``(out, in + 1)`` arrays, through which :func:`lrcore.training.train` updates the model in
place; or ``K`` parameter sets at once, ``(K, out, in + 1)`` arrays, so that a sweep of ``K``
learning rates is one computation. The code is the same for both (NumPy's matrix product
broadcasts over the leading axis), except that the K first layers, which all multiply the same
minibatch, are one product of the K matrices side by side. :meth:`~DenseModel.stacked` is the
model's own set as ``K = 1`` views.

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
from collections import namedtuple

import numpy as np

from .backend import DEFAULT_DTYPE, get_backend, to_numpy

__all__ = ["DenseModel", "SoftmaxRegression", "MLP", "LinearRegression"]

#: a hidden layer's arrays at one batch shape: its product Z (backward then writes ∂L/∂Z there),
#: ReLU' (Z > 0), Ã = [max(Z, 0); 1], Ã's first rows, and zeros for the ReLU (see DenseModel.forward)
_Hidden = namedtuple("_Hidden", "Z relu_grad A A_top zeros")


def _check_size(value, name: str, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int >= {low}; got {value!r}")
    if value < low:
        raise ValueError(f"{name} must be an int >= {low}; got {value}")
    return int(value)


def _check_dtype(dtype) -> np.dtype:
    accepted = "float32 or float64 (np.float32, np.float64 or their names)"
    try:
        dtype_ = np.dtype(dtype)
    except TypeError:  # not a dtype at all: a name NumPy does not know is a wrong value
        raise (ValueError if isinstance(dtype, str) else TypeError)(
            f"dtype must be {accepted}; got {dtype!r}") from None
    if dtype_ not in (np.float32, np.float64):
        raise ValueError(f"dtype must be {accepted}; got {dtype_}")
    return dtype_


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


def _matmul(xp, a, b, out=None):
    """``a @ b`` (into ``out``): ``xp.dot`` for two matrices, which NumPy runs ~0.6 µs faster per
    call than ``matmul`` (measured; a tiny model's step makes two such products), else ``matmul``,
    which also multiplies stacks of matrices."""
    return (xp.dot if a.ndim == 2 and b.ndim == 2 else xp.matmul)(a, b, out=out)


class DenseModel:
    """A stack of dense layers with hand-written forward and backward passes (the shared engine).

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
        self.sizes = tuple(_check_size(s, f"sizes[{i}]") for i, s in enumerate(sizes))
        self.seed = _check_size(seed, "seed", 0)
        self.dtype = _check_dtype(dtype)
        self._use_backend(get_backend(backend))
        self.theta = self._initial_theta(self.seed)

    def _use_backend(self, xp):
        self.xp = xp
        if xp is np:  # ufunc.reduce skips the Python wrapper of a.max()/a.sum(): ~1.5 µs a call
            self._max, self._sum = np.maximum.reduce, np.add.reduce
        else:
            self._max, self._sum = xp.max, xp.sum

    def __getstate__(self):  # pickle/deepcopy: the backend by name, no module objects
        state = {k: v for k, v in self.__dict__.items() if k not in ("xp", "_max", "_sum")}
        return {**state, "backend": self.xp.__name__}

    def __setstate__(self, state):
        state = dict(state)
        self._use_backend(get_backend(state.pop("backend")))
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
            new.seed = _check_size(seed, "seed", 0)
            new.theta = new._initial_theta(new.seed)
        return new

    def __repr__(self) -> str:
        name = type(self).__name__
        arch = f"{list(self.sizes)}" if name == "MLP" else f"{self.n_in}, {self.n_out}"
        return f"{name}({arch}, seed={self.seed}, params={self.n_params})"

    # ---- stacked parameters and data --------------------------------------------------------
    def stacked(self) -> list:
        """``theta`` as a stack of K = 1: views ``(1, out, in + 1)``; writing into them trains the model."""
        return [t[None] for t in self.theta]

    def stack(self, K: int, *, seeds=None) -> list:
        """K parameter sets, stacked: copies of ``theta``, or initialised from ``seeds`` (K of them)."""
        sets = [self.theta] * K if seeds is None else [self._initial_theta(int(s)) for s in seeds]
        return [self.xp.stack(layer) for layer in zip(*sets)]

    def with_ones(self, X):
        """``[X, 1]``: the inputs ``(n, n_in)`` with a column of ones, on the model's backend."""
        xp = self.xp
        X = self._cast(X)
        return xp.concatenate([X, xp.ones((X.shape[0], 1), dtype=self.dtype)], axis=1)

    def _cast(self, a):
        """``a`` in the model's dtype, on its backend: a number beyond float32 becomes inf in a
        float32 model, and the loss inf (a result, not an overflow warning)."""
        with np.errstate(over="ignore"):
            return self.xp.asarray(a, dtype=self.dtype)

    def _targets(self, y, n: int | None = None):
        """``y`` checked, on the model's backend: class labels, ints in ``[0, n_out)``, ``(n,)``;
        regression targets, real numbers, ``(n, n_out)`` (or ``(n,)`` for one output). ``n``: the
        rows of ``X`` they go with. Every method that takes ``y`` checks it here (the training
        engine once per run, through :meth:`encode_targets`), so that a label of -1 is not read
        as the last class.
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

    # ---- forward, loss, backward: one parameter set (2-D arrays) or K stacked sets (3-D) ---------
    def forward(self, P: list, X1, *, work: dict | None = None):
        r"""Outputs :math:`Z_L` of a minibatch ``X1 = [X, 1]`` ``(m', n_in + 1)``: ``(n_out, m')``
        for one parameter set (``P`` of ``(out, in + 1)`` arrays), ``(K, n_out, m')`` for K stacked sets.

        :math:`Z_1 = Θ_1 \tilde X^\top` -- for K sets one ``(K·h, n_in + 1) @ (n_in + 1, m')``
        product, the K first-layer matrices side by side; then :math:`\tilde A_l = [\max(Z_l, 0);
        1]`, :math:`Z_{l+1} = Θ_{l+1} \tilde A_l` (batched over K). Returns ``Z_L`` (a new array)
        and ``acts = [X1, H_1, ..., H_{L-1}]``, what :meth:`backward` needs (``H_l``: the arrays of
        hidden layer ``l``). ``work``: a dict the caller keeps across calls (the training engine
        keeps one per run): the hidden layers' arrays are then allocated once per shape and
        written in place, so ``acts`` is valid until the next pass of the same shape.
        """
        xp, m, last = self.xp, X1.shape[0], len(P) - 1
        acts, A = [X1], X1.T                             # Ã_0 = [X; 1]ᵀ, (n_in + 1, m')
        for l, theta in enumerate(P):
            H = self._hidden(l + 1, (*theta.shape[:-1], m), work) if l < last else None
            out = None if H is None else H.Z             # Z_l into its hidden layer's array; Z_L new
            if l == 0 and theta.ndim == 3:  # the K first layers side by side: one product, ~15% faster
                flat = _matmul(xp, theta.reshape(-1, theta.shape[-1]), A,
                               None if out is None else out.reshape(-1, m))
                Z = flat.reshape(*theta.shape[:-1], m)
            else:
                Z = _matmul(xp, theta, A, out)
            if H is not None:
                xp.maximum(Z, H.zeros, out=H.A_top)      # ReLU: max(Z, zeros) ~3x faster than max(Z, 0)
                xp.greater(Z, 0, out=H.relu_grad)        # ReLU', for backward
                acts.append(H)
                A = H.A
        return Z, acts

    def _hidden(self, l: int, shape: tuple, work: dict | None) -> _Hidden:
        """The arrays of hidden layer ``l`` for outputs of ``shape`` ``(..., h, m')``: from ``work``
        when it has them, else new (and stored in ``work``)."""
        H = None if work is None else work.get((l, shape))
        if H is None:
            *K, h, m = shape
            xp, dtype = self.xp, self.dtype
            A = xp.ones((*K, h + 1, m), dtype=dtype)     # its last row stays 1: the bias input
            H = _Hidden(Z=xp.empty(shape, dtype=dtype), relu_grad=xp.empty(shape, dtype=bool), A=A,
                        A_top=A[..., :h, :], zeros=xp.zeros(shape, dtype=dtype))
            if work is not None:
                work[l, shape] = H
        return H

    def output_grad(self, Z, T, scale=None):
        r"""``scale·∂(Σ_i L_i)/∂Z`` for outputs ``Z`` and targets ``T`` ``(n_out, m')``, and the
        terms :meth:`mean_loss` computes the loss from. ``Z`` is overwritten (it becomes a term).

        Cross-entropy :math:`L_i = -\log p_{y_i i} = \log s_i - z'_{y_i i}` with the shifted logits
        :math:`z'_{ci} = z_{ci} - \max_c z_{ci}` and :math:`s_i = \sum_c e^{z'_{ci}}`: terms
        ``(Z', s)``, gradient :math:`P - T` with the softmax :math:`P = e^{Z'}/s`. Squared error
        :math:`L_i = \frac12\lVert z_i - t_i\rVert^2`: terms ``(R,)``, the residual :math:`R = Z -
        T`, gradient :math:`R`. ``scale`` (a number, or one per set: ``(K, 1, 1)``) multiplies the
        gradient once: training passes :math:`ε/m'`, so that the backward pass yields :math:`ε g`
        directly. With ``scale=None`` only the terms are computed (and ``None`` for the gradient).
        """
        if self.task == "classification":
            Z -= self._max(Z, axis=-2, keepdims=True)    # softmax is shift-invariant; exp cannot overflow
            E = self.xp.exp(Z)
            s = self._sum(E, axis=-2, keepdims=True)     # Σ_c e^{z'_ci}, (..., 1, m')
            if scale is None:
                return None, (Z, s)
            E /= s                                       # P, the softmax
            E -= T
            E *= scale
            return E, (Z, s)
        Z -= T                                           # the residual z_i − t_i
        return (None if scale is None else Z * scale), (Z,)

    def mean_loss(self, terms, T):
        r"""Mean loss over the examples (the last axis) from the terms of :meth:`output_grad` and
        the targets ``T``; any leading axes (sets, steps) are kept. The terms are overwritten."""
        xp = self.xp
        c, m = T.shape[-2:]
        mean = xp.empty(c * m, dtype=self.dtype)
        mean.fill(1.0 / m)                               # Σ/m' as a matrix-vector product
        if self.task == "classification":
            Z, s = terms
            L = xp.subtract(xp.log(s), Z, out=Z)         # −log p_ci = log s_i − z'_ci
            L *= T                                       # keeps −log p_{y_i i}
            return L.reshape(*L.shape[:-2], c * m) @ mean
        R, = terms
        return (R * R).reshape(*R.shape[:-2], c * m) @ mean / 2

    def loss_and_grad(self, Z, T, scale=None):
        r"""Mean loss of outputs ``Z`` against targets ``T`` ``(n_out, m')`` (one per set: ``(K,)``
        for ``Z`` ``(K, n_out, m')``), and ``scale·∂(Σ_i L_i)/∂Z`` (``None`` with ``scale=None``).
        ``Z`` is overwritten.

        Cross-entropy :math:`L_i = -\log p_{y_i i}`, :math:`p_{ci} = e^{z_{ci}} / \sum_{c'}
        e^{z_{c'i}}`, gradient :math:`P - T`; squared error :math:`L_i = \frac12\lVert z_i -
        t_i\rVert^2`, gradient :math:`Z - T`. The two halves are :meth:`output_grad` (the
        gradient, and the terms the loss is computed from) and :meth:`mean_loss` (the loss from
        those terms): training calls the first every step and the second only at its divergence
        checks, for all the steps since the last one at once.
        """
        dZ, terms = self.output_grad(Z, T, scale)
        return self.mean_loss(terms, T), dZ

    def backward(self, P: list, acts: list, dZ, *, work: dict | None = None) -> list:
        r"""Gradients ``G`` (shapes of ``P``) from ``dZ``, the gradient with respect to :math:`Z_L`.

        :math:`∂Θ_l = dZ_l \tilde A_{l-1}^\top` (the bias column gets :math:`dZ_l \mathbf 1`),
        :math:`dZ_{l-1} = (W_l^\top dZ_l) ⊙ [Z_{l-1} > 0]`, from the last layer back. With
        ``work`` (the dict given to :meth:`forward`) the gradients are written into arrays kept
        there, valid until the next backward pass: a sweep's are megabytes, and new memory for
        them every step can cost page faults (measured: up to 15% of a step at K = 64).
        """
        xp, G = self.xp, self._gradients(P, work)
        for l in range(len(P) - 1, 0, -1):              # layers after the first: batched over K
            H = acts[l]
            # ∂Θ_l = dZ Ãᵀ, computed as (Ã dZᵀ)ᵀ: BLAS is ~1.5x faster with the tall factor first
            G[l] = _matmul(xp, H.A, dZ.swapaxes(-1, -2), G[l]).swapaxes(-1, -2)
            dZ = _matmul(xp, P[l][..., :-1].swapaxes(-1, -2), dZ, H.Z)  # W_lᵀ dZ_l, over Z_{l-1}
            dZ *= H.relu_grad                            # ⊙ [Z_{l-1} > 0]
        X1 = acts[0]
        if P[0].ndim == 3:   # the K first layers side by side, as in forward
            out = None if G[0] is None else G[0].reshape(-1, X1.shape[1])
            G[0] = _matmul(xp, dZ.reshape(-1, dZ.shape[-1]), X1, out).reshape(P[0].shape)
        else:
            G[0] = _matmul(xp, dZ, X1, G[0])
        return G

    def _gradients(self, P: list, work: dict | None) -> list:
        """Arrays for the gradients from ``work`` (allocated there the first time), ``(…, in + 1,
        out)`` for the layers after the first (written transposed, see :meth:`backward`); without
        ``work``, ``None`` for each (new arrays)."""
        if work is None:
            return [None] * len(P)
        G = work.get("gradients")
        if G is None:
            G = work["gradients"] = [self.xp.empty(theta.swapaxes(-1, -2).shape if l else theta.shape,
                                                   dtype=self.dtype) for l, theta in enumerate(P)]
        return list(G)

    def evaluate(self, P: list, X1, T, y=None, *, work: dict | None = None,
                 max_elements: int | None = None):
        """Mean loss per set ``(K,)`` on a whole split, and the accuracy ``(K,)`` given labels ``y``
        (``(1,)`` each for one set; ``y`` is checked as in :meth:`encode_targets`, which made
        ``T``). The forward pass goes through the split in as few equal chunks as keep a layer's
        outputs for all sets within ``max_elements``, so that the memory stays bounded however
        large the split (a 64-LR sweep of a 512-wide MLP on 10,000 validation images would
        otherwise take gigabytes); the loss is then computed on all the outputs at once. Default:
        2**18 with NumPy (1 MB of float32, chunks that stay in the CPU's cache: a 64-LR sweep's
        two validation passes on the digits took 27 ms instead of 36 ms in one pass, measured),
        2**24 on a GPU (fewer, larger kernels).
        """
        if max_elements is None:
            max_elements = 2**18 if self.xp is np else 2**24
        max_elements = _check_size(max_elements, "max_elements")
        n = X1.shape[0]
        if y is None:
            _check_examples(n)
        else:
            y = self._targets(y, n)
        per_example = math.prod(P[0].shape[:-2]) * max(theta.shape[-2] for theta in P)
        size = -(-n // max(1, -(-n * per_example // max_elements)))   # n / chunks, rounded up
        parts = [self.forward(P, X1[start:start + size], work=work)[0] for start in range(0, n, size)]
        Z = parts[0] if len(parts) == 1 else self.xp.concatenate(parts, axis=-1)
        Z = Z.reshape(-1, *Z.shape[-2:])                  # (K, n_out, n), also for one set
        correct = None if y is None else (Z.argmax(axis=1) == y).sum(axis=1)  # before Z is overwritten
        _, terms = self.output_grad(Z, T)
        return self.mean_loss(terms, T), (None if y is None else correct / n)

    # ---- one parameter set: conveniences -------------------------------------------------------
    def _inputs(self, X):
        """``[X, 1]``, checked: ``X`` may have no rows (``outputs`` is then empty)."""
        X = _as_array(self.xp, X, "X", "a 2-D array of real numbers (integer or float dtype)", "iuf")
        if X.ndim != 2 or X.shape[1] != self.n_in:
            raise ValueError(f"X must have shape (n, {self.n_in}); got {tuple(X.shape)}")
        return self.with_ones(X)

    def _examples(self, X, y):
        """``[X, 1]`` and the targets ``T`` of ``y`` (see :meth:`encode_targets`), checked."""
        X1 = self._inputs(X)
        return X1, self._encode(self._targets(y, X1.shape[0]))

    def loss(self, X, y) -> float:
        """The mean loss of the model on ``(X, y)``."""
        X1, T = self._examples(X, y)
        Z, _ = self.forward(self.stacked(), X1)
        return float(self.loss_and_grad(Z, T)[0][0])

    def gradient(self, X, y) -> dict:
        """∂L/∂θ of the mean loss on ``(X, y)``, by name and in the shapes of ``params``."""
        X1, T = self._examples(X, y)
        P = self.stacked()
        Z, acts = self.forward(P, X1)
        _, dZ = self.loss_and_grad(Z, T, scale=1.0 / X1.shape[0])
        out = {}
        for (Wn, bn), g in zip(self.names, self.backward(P, acts, dZ)):
            out[Wn], out[bn] = g[0, :, :-1], g[0, :, -1]
        return out

    def outputs(self, X) -> np.ndarray:
        """The last layer's outputs ``(n, n_out)`` (logits or predictions), as NumPy."""
        Z, _ = self.forward(self.stacked(), self._inputs(X))
        return to_numpy(Z[0].T)


class _Classifier(DenseModel):
    task = "classification"

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

    >>> SoftmaxRegression(64, 10, seed=0)
    SoftmaxRegression(64, 10, seed=0, params=650)
    """

    def __init__(self, n_in: int, n_classes: int, *, seed: int = 0, backend=None,
                 dtype=DEFAULT_DTYPE):
        n_in = _check_size(n_in, "n_in")
        n_classes = _check_size(n_classes, "n_classes", 2)
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
        n_in = _check_size(n_in, "n_in")
        n_out = _check_size(n_out, "n_out")
        super().__init__([n_in, n_out], seed=seed, backend=backend, dtype=dtype)

    def predict(self, X) -> np.ndarray:
        """Predictions: ``(n,)`` for one output, ``(n, n_out)`` otherwise (NumPy)."""
        Z = self.outputs(X)
        return Z[:, 0] if self.n_out == 1 else Z
