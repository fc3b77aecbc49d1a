r"""K training runs of one architecture at once: the engine behind ``sweep`` and ``range_test``.

:func:`lrcore.training.train` is the loop the book shows: one run, written like the math. A
sweep of K learning rates computes the same K runs together, and this module is written for
speed rather than for reading:

* :class:`StackedModel` -- K parameter sets on a leading axis, ``(K, out, in + 1)`` arrays: the
  first layers of the K members as one matrix product (they all multiply the same minibatch),
  the other layers as batched products, with no Python loop over K; the arrays of a pass are
  allocated once per run and written in place.
* :class:`StackedRuns` -- the training loop over those sets: the same minibatches for all, the
  learning rate folded into the output gradient (plain SGD), the minibatch losses computed every
  few steps for all the steps since the last check, and a member that diverges stopped while the
  others go on.

The runs agree with separate ``train`` runs to round-off (the products add up in other orders),
which training amplifies near divergence; ``tests/test_sweep.py`` checks the agreement. What the
two loops share -- the record of a run, the divergence rule, the plateau -- is in
:mod:`lrcore.history`.
"""
from __future__ import annotations

from collections import namedtuple

import numpy as np

from .backend import to_numpy
from .data import Dataset
from .history import (History, divergence_limit, epoch_batch_sizes, plateau_step,
                      progress_bar)
from . import checks
from .models import DenseModel, _check_examples

__all__ = ["StackedModel", "StackedRuns"]

#: a hidden layer's arrays at one batch shape: its product Z (backward then writes ∂L/∂Z there),
#: ReLU' (Z > 0), Ã = [max(Z, 0); 1], Ã's first rows, and zeros for the ReLU (see StackedModel.forward)
_Hidden = namedtuple("_Hidden", "Z relu_grad A A_top zeros")


def _matmul(xp, a, b, out=None):
    """``a @ b`` (into ``out``): ``xp.dot`` for two matrices, which NumPy runs ~0.6 µs faster per
    call than ``matmul`` (measured), else ``matmul``, which multiplies stacks of matrices."""
    return (xp.dot if a.ndim == 2 and b.ndim == 2 else xp.matmul)(a, b, out=out)


class StackedModel:
    """K parameter sets of ``model``'s architecture, ``theta``: one ``(K, out, in + 1)`` array
    per layer, computed together. :meth:`copies` and :meth:`initialised` make them."""

    def __init__(self, model: DenseModel, theta: list):
        self.model, self.theta, self.K = model, theta, theta[0].shape[0]
        self.xp, self.dtype, self.task = model.xp, model.dtype, model.task
        if self.xp is np:  # ufunc.reduce skips the Python wrapper of a.max()/a.sum(): ~1.5 µs a call
            self._max, self._sum = np.maximum.reduce, np.add.reduce
        else:
            self._max, self._sum = self.xp.max, self.xp.sum

    @classmethod
    def copies(cls, model: DenseModel, K: int) -> StackedModel:
        """K copies of ``model``'s parameters (``model`` is only read)."""
        return cls(model, [model.xp.stack([theta] * K) for theta in model.theta])

    @classmethod
    def initialised(cls, model: DenseModel, seeds) -> StackedModel:
        """One set per seed, initialised as ``model.copy(seed=s)`` would be."""
        sets = [model.copy(seed=int(s)).theta for s in seeds]
        return cls(model, [model.xp.stack(layer) for layer in zip(*sets)])

    def with_ones(self, X):
        """``[X, 1]``: the inputs ``(n, n_in)`` with a column of ones, on the model's backend."""
        X = self.model._cast(X)
        return self.xp.concatenate([X, self.xp.ones((X.shape[0], 1), dtype=self.dtype)], axis=1)

    def forward(self, X1, *, work: dict | None = None):
        r"""Outputs :math:`Z_L` ``(K, n_out, m')`` of a minibatch ``X1 = [X, 1]`` ``(m', n_in + 1)``.

        :math:`Z_1 = Θ_1 \tilde X^\top` as one ``(K·h, n_in + 1) @ (n_in + 1, m')`` product, the K
        first-layer matrices side by side; then :math:`\tilde A_l = [\max(Z_l, 0); 1]`,
        :math:`Z_{l+1} = Θ_{l+1} \tilde A_l` (batched over K). Returns ``Z_L`` (a new array) and
        ``acts = [X1, H_1, ..., H_{L-1}]``, what :meth:`backward` needs (``H_l``: the arrays of
        hidden layer ``l``). ``work``: a dict the caller keeps across calls (a run keeps one):
        the hidden layers' arrays are then allocated once per shape and written in place, so
        ``acts`` is valid until the next pass of the same shape.
        """
        xp, params, m, last = self.xp, self.theta, X1.shape[0], len(self.theta) - 1
        acts, A = [X1], X1.T                             # Ã_0 = [X; 1]ᵀ, (n_in + 1, m')
        for l, theta in enumerate(params):
            H = self._hidden(l + 1, (*theta.shape[:-1], m), work) if l < last else None
            out = None if H is None else H.Z             # Z_l into its hidden layer's array; Z_L new
            if l == 0:  # the K first layers side by side: one product, ~15% faster
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
        """The arrays of hidden layer ``l`` for outputs of ``shape`` ``(K, h, m')``: from ``work``
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
        r"""``scale·∂(Σ_i L_i)/∂Z`` for outputs ``Z`` ``(K, n_out, m')`` and targets ``T``
        ``(n_out, m')``, and the terms :meth:`mean_loss` computes the loss from. ``Z`` is
        overwritten (it becomes a term).

        Cross-entropy :math:`L_i = -\log p_{y_i i} = \log s_i - z'_{y_i i}` with the shifted logits
        :math:`z'_{ci} = z_{ci} - \max_c z_{ci}` and :math:`s_i = \sum_c e^{z'_{ci}}`: terms
        ``(Z', s)``, gradient :math:`P - T` with the softmax :math:`P = e^{Z'}/s`. Squared error
        :math:`L_i = \frac12\lVert z_i - t_i\rVert^2`: terms ``(R,)``, the residual :math:`R = Z -
        T`, gradient :math:`R`. ``scale`` (``(K, 1, 1)``, one per set) multiplies the gradient
        once: plain SGD passes :math:`ε/m'`, so that the backward pass yields :math:`ε g`
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

    def backward(self, acts: list, dZ, *, work: dict | None = None) -> list:
        r"""Gradients ``grads`` (shapes of ``theta``) from ``dZ``, the gradient with respect to
        :math:`Z_L`.

        :math:`∂Θ_l = dZ_l \tilde A_{l-1}^\top` (the bias column gets :math:`dZ_l \mathbf 1`),
        :math:`dZ_{l-1} = (W_l^\top dZ_l) ⊙ [Z_{l-1} > 0]`, from the last layer back. With
        ``work`` (the dict given to :meth:`forward`) the gradients are written into arrays kept
        there, valid until the next backward pass: a sweep's are megabytes, and new memory for
        them every step can cost page faults (measured: up to 15% of a step at K = 64).
        """
        xp, params, grads = self.xp, self.theta, self._gradients(work)
        for l in range(len(params) - 1, 0, -1):         # layers after the first: batched over K
            H = acts[l]
            # ∂Θ_l = dZ Ãᵀ, computed as (Ã dZᵀ)ᵀ: BLAS is ~1.5x faster with the tall factor first
            grads[l] = _matmul(xp, H.A, dZ.swapaxes(-1, -2), grads[l]).swapaxes(-1, -2)
            W_T = params[l][..., :-1].swapaxes(-1, -2)
            dZ = _matmul(xp, W_T, dZ, H.Z)               # W_lᵀ dZ_l, over Z_{l-1}
            dZ *= H.relu_grad                            # ⊙ [Z_{l-1} > 0]
        X1 = acts[0]                                     # the K first layers side by side
        out = None if grads[0] is None else grads[0].reshape(-1, X1.shape[1])
        grads[0] = _matmul(xp, dZ.reshape(-1, dZ.shape[-1]), X1, out).reshape(params[0].shape)
        return grads

    def _gradients(self, work: dict | None) -> list:
        """Arrays for the gradients from ``work`` (allocated there the first time), ``(K, in + 1,
        out)`` for the layers after the first (written transposed, see :meth:`backward`); without
        ``work``, ``None`` for each (new arrays)."""
        if work is None:
            return [None] * len(self.theta)
        grads = work.get("gradients")
        if grads is None:
            grads = work["gradients"] = [
                self.xp.empty(theta.swapaxes(-1, -2).shape if l else theta.shape, dtype=self.dtype)
                for l, theta in enumerate(self.theta)]
        return list(grads)

    def evaluate(self, X1, T, y=None, *, work: dict | None = None, max_elements: int | None = None):
        """Mean loss per set ``(K,)`` on a whole split, and the accuracy ``(K,)`` given labels ``y``
        (``y`` is checked as in :meth:`DenseModel.encode_targets`, which made ``T``). The forward
        pass goes through the split in as few equal chunks as keep a layer's outputs for all sets
        within ``max_elements``, so that the memory stays bounded however large the split (a
        64-LR sweep of a 512-wide MLP on 10,000 validation images would otherwise take
        gigabytes); the loss is then computed on all the outputs at once. Default: 2**18 with
        NumPy (1 MB of float32, chunks that stay in the CPU's cache: a 64-LR sweep's two
        validation passes on the digits took 27 ms instead of 36 ms in one pass, measured),
        2**24 on a GPU (fewer, larger kernels).
        """
        if max_elements is None:
            max_elements = 2**18 if self.xp is np else 2**24
        max_elements = checks.integer("max_elements", max_elements, low=1)
        n = X1.shape[0]
        if y is None:
            _check_examples(n)
        else:
            y = self.model._targets(y, n)
        per_example = self.K * max(theta.shape[-2] for theta in self.theta)
        size = -(-n // max(1, -(-n * per_example // max_elements)))   # n / chunks, rounded up
        parts = [self.forward(X1[start:start + size], work=work)[0] for start in range(0, n, size)]
        Z = parts[0] if len(parts) == 1 else self.xp.concatenate(parts, axis=-1)
        correct = None if y is None else (Z.argmax(axis=1) == y).sum(axis=1)  # before Z is overwritten
        _, terms = self.output_grad(Z, T)
        return self.mean_loss(terms, T), (None if y is None else correct / n)


class _LossLimit:
    """The divergence rule of ``train`` for K runs: a loss that is NaN/inf or above
    ``factor`` × the loss of step 0 (:func:`lrcore.history.divergence_limit`)."""

    def __init__(self, factor: float, dtype):
        self.factor, self.dtype, self.limit = factor, dtype, None

    def __call__(self, k0: int, losses: np.ndarray):
        """``None`` if all is well, else the first bad step of each member in ``losses`` (steps
        ``k0, k0 + 1, ...`` by K members), -1 for a member without one."""
        if self.limit is None:
            self.limit = divergence_limit(losses[0], self.factor, self.dtype)
        ok = losses <= self.limit  # NaN compares False
        if ok.all():
            return None
        bad = ~ok
        return np.where(bad.any(axis=0), k0 + bad.argmax(axis=0), -1)


class StackedRuns:
    """K training runs of one architecture, stacked; see :func:`lrcore.training.sweep`.

    ``stack``: the K parameter sets (a :class:`StackedModel`), updated in place.
    ``lr``: ``(K, steps)`` learning rates; ``mu``: ``(steps,)`` momentum or ``None`` (plain SGD).
    ``stop(k0, losses)``: the divergence rule, applied every ``check_every`` steps (default: 64,
    or fewer so that the outputs kept for a check stay within 2**20 numbers) and at the end
    of every epoch to the losses ``(steps, K)`` of the steps since the last check; it returns
    ``None`` or, per member, the first step that diverged (-1 for none); the default is
    ``train``'s rule, ``diverge_factor`` × the first loss. Those losses are computed at the check
    from the terms each step kept (see :meth:`_record_losses`). ``work``: the arrays of this run
    (see :meth:`StackedModel.forward`), dropped when it ends.
    """

    def __init__(self, stack: StackedModel, data: Dataset, lr: np.ndarray, mu, *,
                 batch_size: int, nesterov: bool, weight_decay: float, plateaus, seed: int,
                 stop=None, diverge_factor: float = 1e3, evaluate: bool = True,
                 progress: bool = False, check_every: int | None = None):
        model, xp, dtype = stack.model, stack.xp, stack.dtype
        self.stack, self.params, self.xp, self.dtype = stack, stack.theta, xp, dtype
        self.K, self.total = lr.shape
        self.n = n = data.n_train
        self.batch_size = batch_size
        # the last, partial batch is kept
        self.steps_per_epoch = steps_per_epoch = -(-n // batch_size)
        self.epochs = -(-self.total // steps_per_epoch)
        self.batches = [slice(s, s + batch_size) for s in range(0, n, batch_size)]
        self.sizes = epoch_batch_sizes(n, batch_size)
        self.m = np.tile(self.sizes, self.epochs)[: self.total]  # m' of every step
        self.X, self.T = stack.with_ones(data.X_train), model.encode_targets(data.y_train)
        self.Xv, self.Tv = stack.with_ones(data.X_val), model.encode_targets(data.y_val)
        self.yv = xp.asarray(data.y_val) if model.task == "classification" else None
        self.lr, self.lr_base, self.mu = lr.copy(), lr, mu
        self.nesterov, self.weight_decay = nesterov, weight_decay
        self.velocity = None if mu is None else [xp.zeros_like(theta) for theta in self.params]
        self.plateaus = plateaus
        self.plateau_lr0 = None if plateaus is None else [p.lr for p in plateaus]
        self.rng = np.random.default_rng(seed)
        if check_every is None:  # a check costs a tiny model ~3 steps: every 64 steps, fewer if the
            # outputs kept for it (K · (n_out + 1) · m' numbers a step) would pass 2**20 (4 MB)
            check_every = min(64, max(8, 2**20 // (self.K * (model.n_out + 1) * batch_size)))
        self.stop = _LossLimit(diverge_factor, dtype) if stop is None else stop
        self.check_every = check_every
        self.evaluate, self.progress = evaluate, progress
        self.work = {}                  # the model's arrays for this run, written in place
        self.kept = []                  # the loss terms of the steps since the last check
        self.diverged_at = np.full(self.K, -1)
        self.losses = np.full((self.total, self.K), np.nan)
        self.val_loss = np.full((self.K, self.epochs), np.nan)
        self.val_accuracy = np.full((self.K, self.epochs), np.nan)
        per_step = (self.total, self.K, 1, 1)                  # a number per step and member
        self.scale = xp.empty(per_step, dtype=dtype)           # ε_k/m' (momentum: 1/m')
        self.lr_steps = (xp.empty(per_step, dtype=dtype) if mu is not None
                         else None)                            # ε_k, momentum only
        self.decay = (xp.empty(per_step, dtype=dtype) if mu is None and weight_decay
                      else None)                               # 1 − ε_k λ
        self._upload(0)

    def _upload(self, k0: int):
        """The per-step tables from step ``k0`` on, from ``self.lr`` (a stopped member: ε = 0).

        An ε beyond the model's dtype (above ~3.4e38 in float32) becomes inf there, and the run
        diverges: a result (``History.diverged``), not an overflow warning.
        """
        def put(table, values):  # values (steps, K, 1, 1)
            table[k0:] = self.xp.asarray(values.astype(self.dtype))

        lr = np.nan_to_num(self.lr[:, k0:].T, nan=0.0)[:, :, None, None]  # ε_k: (steps, K, 1, 1)
        alive = (self.diverged_at < 0)[None, :, None, None]
        m = self.m[k0:, None, None, None]
        with np.errstate(over="ignore"):
            if self.mu is None:   # plain SGD: ε folded into the output gradient, so grads = ε g
                put(self.scale, lr / m)
                if self.decay is not None:
                    put(self.decay, 1.0 - lr * self.weight_decay)
            else:                 # momentum: grads = g, and ε in the update
                put(self.scale, alive / m)
                put(self.lr_steps, lr)

    def run(self):
        """Run :meth:`_loop`; a diverging run computes inf/NaN, which is a result, not a warning.
        The arrays of the run (``work``) are dropped at the end."""
        try:
            with np.errstate(all="ignore"), progress_bar(self.progress, self.epochs) as bar:
                self._loop(bar)
        finally:
            self.work.clear()
        return self

    def _loop(self, bar):
        """Minibatch SGD: each epoch a fresh order, an update per minibatch."""
        stack, params, xp = self.stack, self.params, self.xp
        work, kept, scale = self.work, self.kept, self.scale
        steps_per_epoch, total = self.steps_per_epoch, self.total
        for epoch in range(self.epochs):
            order = xp.asarray(self.rng.permutation(self.n))    # a fresh order
            X, T = self.X.take(order, axis=0), self.T.take(order, axis=1)
            first = epoch * steps_per_epoch
            for k, batch in enumerate(self.batches[:total - first], start=first):
                Xb, Tb = X[batch], T[:, batch]                  # a minibatch
                Z, acts = stack.forward(Xb, work=work)          # forward
                dZ, terms = stack.output_grad(Z, Tb, scale[k])  # ε/m' ∂L/∂Z
                kept.append(terms)                              # loss: at a check
                grads = stack.backward(acts, dZ, work=work)         # backward: ε g
                self._update(params, grads, k)                           # θ ← θ − ε g
                if len(kept) == self.check_every and self._check(k, T):
                    return                                      # all diverged
            if kept and self._check(k, T):                      # check the rest
                return
            if k + 1 == first + steps_per_epoch:                # a whole epoch:
                self._end_epoch(epoch, k, bar)                  # validation

    def _update(self, params: list, grads: list, k: int):
        """θ ← θ − ε_k g (weight decay: θ ← (1 − ε_k λ) θ − ε_k g), or with
        momentum v ← μ_k v + g + λθ, θ ← θ − ε_k v
        (Nesterov: θ ← θ − ε_k (g + λθ + μ_k v))."""
        if self.velocity is None:
            for theta, g in zip(params, grads):
                if self.decay is not None:
                    theta *= self.decay[k]
                theta -= g                                  # g holds ε g already
            return
        lr, mu, lam = self.lr_steps[k], float(self.mu[k]), self.weight_decay
        for theta, g, v in zip(params, grads, self.velocity):
            if lam:
                g += lam * theta
            v *= mu
            v += g
            theta -= lr * (g + mu * v if self.nesterov else v)

    def _record_losses(self, k0: int, T):
        """``losses[k0:]``: the minibatch losses of the steps since the last check, each the loss
        of its minibatch before its update, from the terms the steps kept (``T``: this epoch's
        targets); one pass for all the steps of a batch size (only an epoch's last batch differs).
        """
        kept, n = self.kept.copy(), len(self.kept)
        self.kept.clear()
        full = n if kept[-1][0].shape == kept[0][0].shape else n - 1  # the last may be a smaller batch
        for run in (kept[:full], kept[full:]):
            if not run:
                continue
            S, (c, m) = len(run), run[0][0].shape[-2:]
            terms = [self._stack(part) for part in zip(*run)]         # (steps, K, rows, m')
            i = k0 % self.steps_per_epoch * self.batch_size             # their first example
            Ts = T[:, i:i + S * m].reshape(c, S, m).swapaxes(0, 1)[:, None]  # (steps, 1, n_out, m')
            self.losses[k0:k0 + S] = to_numpy(self.stack.mean_loss(terms, Ts))
            k0 += S

    def _stack(self, arrays: tuple):
        """The steps' ``arrays`` (alike, ``(K, rows, m')``) as one ``(steps, K, rows, m')``
        array, written into memory kept in ``work`` for the run: in new memory, page faults made
        a check 2.6x slower at K = 64 (measured)."""
        first, S = arrays[0], len(arrays)
        buffer = self.work.get(("steps", first.shape))
        if buffer is None:
            buffer = self.work["steps", first.shape] = self.xp.empty(
                (self.check_every * first.shape[0], *first.shape[1:]), dtype=first.dtype)
        return self.xp.concatenate(arrays, out=buffer[:S * first.shape[0]]).reshape(
            S, -1, *first.shape[-2:])

    def _check(self, k: int, T) -> bool:
        """Record the losses of the steps since the last check and apply the divergence rule to
        them; True when no member is left.

        A member that diverged stops: its parameters and velocity are zeroed and its ε set to 0,
        so that it computes harmless zeros while the others go on.
        """
        k0 = k + 1 - len(self.kept)
        self._record_losses(k0, T)
        first = self.stop(k0, self.losses[k0:k + 1])
        if first is None:
            return False
        new = np.flatnonzero((self.diverged_at < 0) & (first >= 0))
        if new.size == 0:
            return False
        self.diverged_at[new] = first[new]
        for j in new:
            self.lr[j, first[j]:] = np.nan
        if (self.diverged_at >= 0).all():
            return True
        idx = self.xp.asarray(new)
        for l, theta in enumerate(self.params):
            theta[idx] = 0
            if self.velocity is not None:
                self.velocity[l][idx] = 0
        self._upload(k + 1)
        return False

    def _end_epoch(self, epoch: int, k: int, bar):
        if self.evaluate:
            loss, acc = self.stack.evaluate(self.Xv, self.Tv, self.yv, work=self.work)
            self.val_loss[:, epoch] = to_numpy(loss)
            if acc is not None:
                self.val_accuracy[:, epoch] = to_numpy(acc)
            if self.plateaus is not None:
                self._plateau_step(epoch, k)
        if bar is not None:
            bar.update(1)
            alive = self.diverged_at < 0
            if self.evaluate and alive.any():
                bar.set_postfix(val_loss=f"{np.min(self.val_loss[alive, epoch]):.4g}")

    def _plateau_step(self, epoch: int, k: int):
        """Each member's plateau, fed its validation loss, lowers its rates after this epoch."""
        changed = False
        for j, plateau in enumerate(self.plateaus):
            if self.diverged_at[j] < 0:
                changed |= plateau_step(plateau, self.val_loss[j, epoch], self.lr[j],
                                        self.lr_base[j], self.plateau_lr0[j], k)
        if changed:
            self._upload(k + 1)

    def histories(self) -> list[History]:
        """One :class:`History` per member (whole epochs only: a sweep's runs)."""
        return [History.of_run(lr=self.lr[j], momentum=self.mu, loss=self.losses[:, j],
                               val_loss=self.val_loss[j], val_accuracy=self.val_accuracy[j],
                               diverged_at=int(d) if d >= 0 else None, batch_sizes=self.sizes)
                for j, d in enumerate(self.diverged_at)]
