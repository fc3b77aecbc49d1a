r"""Minibatch SGD from scratch: :func:`train` one model, :func:`sweep` many learning rates at once.

One step, in the article's notation: draw a minibatch of :math:`m'` examples, compute

.. math:: g = \frac{1}{m'} \nabla_θ \sum_{i=1}^{m'} L(x^{(i)}, y^{(i)}, θ), \qquad
          θ \leftarrow θ - ε_k g ,

with :math:`ε_k` the learning rate of update :math:`k`. With momentum :math:`μ` and weight
decay :math:`λ` the update is PyTorch's ``torch.optim.SGD``:

.. math:: v \leftarrow μ v + g + λθ, \qquad θ \leftarrow θ - ε_k v
          \quad(\text{Nesterov: } θ \leftarrow θ - ε_k (g + λθ + μ v)).

**One engine.** :func:`sweep` trains ``K`` copies of a model together, their parameters stacked
on a leading ``K`` axis (see :mod:`lrcore.models`): the same minibatches for all, the first
layers of the K members as one matrix product, the rest as batched products; no Python loop
over K. :func:`train` is the case ``K = 1``, computed on the model's own parameter arrays
(no ``K`` axis: the same code), so it trains the model in place. Results agree with separate
runs to round-off (the stacked products add up in another order), which training amplifies
(see *Reproducibility* in :func:`train`).

**Threads.** What may run in several threads at once (``tests/test_threads.py`` checks it, on
the NumPy backend with one BLAS thread, the setting of the book's outputs):

* :func:`train` of *different* models: each run keeps its state (its minibatch order from its
  own ``np.random.default_rng(seed)``, its velocity and work arrays) to itself, so every result
  is bitwise the one the same run gives alone.
* :func:`sweep` and :func:`lrcore.rangetest.range_test` of *one* model: they read it once, at
  the start, to stack or copy its parameters, and never write it.
* Not :func:`train` of one model in two threads, nor a sweep or range test of a model that
  another thread is training: ``train`` writes ``model.theta`` in place, step by step, so the
  results would depend on the timing. Give each thread its own ``model.copy()``.

Nothing in lrcore reads, seeds or restores the process-wide ``np.random`` state, so a thread
drawing from it is not disturbed. Datasets are read-only and schedules are functions of the
step: both can be shared. A ``ReduceLROnPlateau`` has state: ``train`` and ``sweep`` step their
own copies, but one object stepped from two threads is a race.

>>> import numpy as np
>>> from lrcore.data import load_digits
>>> from lrcore.models import SoftmaxRegression
>>> data = load_digits(seed=0)
>>> h = train(SoftmaxRegression(64, 10), data, lr=0.5, epochs=2)
>>> print(f"{h.final_val_loss:.3f} {h.val_accuracy[-1]:.3f}")
0.203 0.944
"""
from __future__ import annotations

import contextlib
import copy
import math
from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

import numpy as np

from .backend import to_numpy
from .data import Dataset
from .models import DenseModel

__all__ = ["History", "train", "sweep"]

SCHEDULE_UNITS = ("step", "epoch")
BATCH_SIZE = 32          # the default batch_size of train, sweep (and range_test)
#: the per-step records of a run -- History.lr, .momentum, .loss and the engine's per-step tables,
#: all allocated before the first step -- take about this many bytes a step and run at their peak
#: (measured: 58 to 82); a run whose records would take more than MAX_RECORD_BYTES is refused
RECORD_BYTES = 80
MAX_RECORD_BYTES = 2**32  # 4 GiB: 50 million steps of one run, far beyond any run of the book


# --------------------------------------------------------------------------------------------
# History
# --------------------------------------------------------------------------------------------

@dataclass(repr=False, eq=False)
class History:
    """What a training run recorded (NumPy arrays, float64).

    Per step ``k`` (``epochs * steps_per_epoch`` entries):

    * ``lr[k]``, ``momentum[k]`` -- the :math:`ε_k`, :math:`μ_k` used for update ``k``
      (including a plateau's reductions);
    * ``loss[k]`` -- the minibatch loss measured *before* update ``k``.

    Per epoch: ``train_loss`` (the mean over the epoch of the minibatch losses, weighted by
    batch size: the average loss per example during the epoch, as Keras reports it, not a fresh
    pass over the training set), ``val_loss`` and ``val_accuracy`` on the validation split
    after the epoch (``val_accuracy`` is NaN for regression).

    ``diverged`` / ``diverged_at``: the first step whose loss was non-finite or too large (see
    :func:`train`). The run counts as stopped there: ``loss[diverged_at]`` is that loss, every
    later loss is NaN, so are ``lr`` and ``momentum`` from ``diverged_at`` on and the per-epoch
    entries from the epoch containing it.
    """

    lr: np.ndarray
    momentum: np.ndarray
    loss: np.ndarray
    train_loss: np.ndarray
    val_loss: np.ndarray
    val_accuracy: np.ndarray
    diverged: bool
    diverged_at: int | None
    epochs: int
    steps_per_epoch: int

    @property
    def steps(self) -> int:
        """Number of steps planned: ``epochs * steps_per_epoch``."""
        return self.epochs * self.steps_per_epoch

    @property
    def final_val_loss(self) -> float:
        """Validation loss after the last epoch (NaN if the run diverged)."""
        return float(self.val_loss[-1])

    @property
    def final_val_accuracy(self) -> float:
        """Validation accuracy after the last epoch (NaN if the run diverged or for regression)."""
        return float(self.val_accuracy[-1])

    @property
    def best_val_loss(self) -> float:
        """Lowest validation loss over the completed epochs (NaN if none completed)."""
        done = self.val_loss[~np.isnan(self.val_loss)]
        return float(done.min()) if done.size else math.nan

    def __repr__(self) -> str:
        head = f"History(epochs={self.epochs}, steps_per_epoch={self.steps_per_epoch}, "
        if self.diverged:
            return head + f"diverged at step {self.diverged_at})"
        acc = ("" if np.isnan(self.final_val_accuracy)
               else f", final_val_accuracy={self.final_val_accuracy:.4f}")
        return (head + f"final_val_loss={self.final_val_loss:.4g}, "
                f"best_val_loss={self.best_val_loss:.4g}{acc})")


# --------------------------------------------------------------------------------------------
# the engine: K stacked runs, one loop
# --------------------------------------------------------------------------------------------

class _LossLimit:
    """Divergence rule of :func:`train`: a loss that is NaN/inf or above ``factor`` × the loss of step 0."""

    def __init__(self, factor: float, dtype):
        self.factor, self.fmax, self.limit = factor, float(np.finfo(dtype).max), None

    def __call__(self, k0: int, losses: np.ndarray):
        """``None`` if all is well, else the first bad step of each member in ``losses`` (steps
        ``k0, k0 + 1, ...`` by K members), -1 for a member without one."""
        if self.limit is None:  # a first loss <= 0 has no meaningful multiple: only NaN/inf count
            first = losses[0]
            self.limit = np.where(first > 0, np.minimum(self.factor * first, self.fmax), self.fmax)
        ok = losses <= self.limit  # NaN compares False
        if ok.all():
            return None
        bad = ~ok
        return np.where(bad.any(axis=0), k0 + bad.argmax(axis=0), -1)


class _Engine:
    """K training runs of one architecture, stacked; see :func:`train` and :func:`sweep`.

    ``P``: the parameters, one array per layer, updated in place: ``model.theta`` itself
    (``(out, in + 1)`` arrays, K = 1) or K stacked sets (``(K, out, in + 1)``).
    ``lr``: ``(K, steps)`` learning rates; ``mu``: ``(steps,)`` momentum or ``None`` (plain SGD).
    ``stop(k0, losses)``: the divergence rule, applied every ``check_every`` steps (default: 64,
    or fewer so that the outputs kept for a check stay within 2**20 numbers) and at the end
    of every epoch to the losses ``(steps, K)`` of the steps since the last check; it returns
    ``None`` or, per member, the first step that diverged (-1 for none). Those losses are
    computed at the check from the terms each step kept (see :meth:`_record_losses`).
    ``work``: the model's arrays for this run (see :meth:`lrcore.models.DenseModel.forward`),
    dropped when it ends.
    """

    def __init__(self, model: DenseModel, P: list, data: Dataset, lr: np.ndarray, mu, *,
                 batch_size: int, nesterov: bool, weight_decay: float, plateaus, seed: int,
                 stop, evaluate: bool = True, progress: bool = False, check_every: int | None = None):
        xp, dtype = model.xp, model.dtype
        self.model, self.P, self.xp, self.dtype = model, P, xp, dtype
        self.K, self.total = lr.shape
        self.n = n = data.n_train
        self.batch_size = batch_size
        self.steps_per_epoch = spe = -(-n // batch_size)   # the last, partial batch is kept
        self.epochs = -(-self.total // spe)
        self.batches = [slice(s, s + batch_size) for s in range(0, n, batch_size)]
        sizes = np.array([min(batch_size, n - s) for s in range(0, n, batch_size)])
        self.m = np.tile(sizes, self.epochs)[: self.total]  # m' of every step
        self.X, self.T = model.with_ones(data.X_train), model.encode_targets(data.y_train)
        self.Xv, self.Tv = model.with_ones(data.X_val), model.encode_targets(data.y_val)
        self.yv = xp.asarray(data.y_val) if model.task == "classification" else None
        self.lr, self.lr_base, self.mu = lr.copy(), lr, mu
        self.nesterov, self.weight_decay = nesterov, weight_decay
        self.velocity = None if mu is None else [xp.zeros_like(theta) for theta in P]
        self.plateaus = plateaus
        self.plateau_lr0 = None if plateaus is None else [p.lr for p in plateaus]
        self.rng = np.random.default_rng(seed)
        if check_every is None:  # a check costs a tiny model ~3 steps: every 64 steps, fewer if the
            # outputs kept for it (K · (n_out + 1) · m' numbers a step) would pass 2**20 (4 MB)
            check_every = min(64, max(8, 2**20 // (self.K * (model.n_out + 1) * batch_size)))
        self.stop, self.check_every = stop, check_every
        self.evaluate, self.progress = evaluate, progress
        self.work = {}                  # the model's arrays for this run, written in place
        self.kept = []                  # the loss terms of the steps since the last check
        self.diverged_at = np.full(self.K, -1)
        self.losses = np.full((self.total, self.K), np.nan)
        self.val_loss = np.full((self.K, self.epochs), np.nan)
        self.val_accuracy = np.full((self.K, self.epochs), np.nan)
        # a number per step (and member); for one set a scalar, cheaper to multiply by than a (1, 1) array
        per_step = (self.total,) if P[0].ndim == 2 else (self.total, self.K, 1, 1)
        self.scale = xp.empty(per_step, dtype=dtype)           # ε_k/m' (momentum: 1/m')
        self.eps = xp.empty(per_step, dtype=dtype) if mu is not None else None  # ε_k, momentum only
        self.decay = (xp.empty(per_step, dtype=dtype) if mu is None and weight_decay
                      else None)                               # 1 − ε_k λ
        self._upload(0)

    def _upload(self, k0: int):
        """The per-step tables from step ``k0`` on, from ``self.lr`` (a stopped member: ε = 0).

        An ε beyond the model's dtype (above ~3.4e38 in float32) becomes inf there, and the run
        diverges: a result (``History.diverged``), not an overflow warning.
        """
        def put(table, values):  # values (steps, K, 1, 1), into the table's shape
            table[k0:] = self.xp.asarray(values.astype(self.dtype)).reshape(table[k0:].shape)

        eps = np.nan_to_num(self.lr[:, k0:].T, nan=0.0)[:, :, None, None]  # (steps, K, 1, 1)
        alive = (self.diverged_at < 0)[None, :, None, None]
        m = self.m[k0:, None, None, None]
        with np.errstate(over="ignore"):
            if self.mu is None:   # plain SGD: ε folded into the output gradient, so G = ε g
                put(self.scale, eps / m)
                if self.decay is not None:
                    put(self.decay, 1.0 - eps * self.weight_decay)
            else:                 # momentum: G = g, and ε in the update
                put(self.scale, alive / m)
                put(self.eps, eps)

    def run(self):
        """Run :meth:`_loop`; a diverging run computes inf/NaN, which is a result, not a warning.
        The arrays of the run (``work``) are dropped at the end."""
        try:
            with np.errstate(all="ignore"), self._progress_bar() as bar:
                self._loop(bar)
        finally:
            self.work.clear()
        return self

    def _loop(self, bar):
        """Minibatch SGD: each epoch a fresh order, an update per minibatch."""
        model, P, xp = self.model, self.P, self.xp
        work, kept, scale = self.work, self.kept, self.scale
        spe, total = self.steps_per_epoch, self.total
        for epoch in range(self.epochs):
            order = xp.asarray(self.rng.permutation(self.n))    # a fresh order
            X, T = self.X.take(order, axis=0), self.T.take(order, axis=1)
            first = epoch * spe
            for k, batch in enumerate(self.batches[:total - first], start=first):
                Xb, Tb = X[batch], T[:, batch]                  # a minibatch
                Z, acts = model.forward(P, Xb, work=work)       # forward
                dZ, terms = model.output_grad(Z, Tb, scale[k])  # ε/m' ∂L/∂Z
                kept.append(terms)                              # loss: at a check
                G = model.backward(P, acts, dZ, work=work)      # backward: ε g
                self._update(P, G, k)                           # θ ← θ − ε g
                if len(kept) == self.check_every and self._check(k, T):
                    return                                      # all diverged
            if kept and self._check(k, T):                      # check the rest
                return
            if k + 1 == first + spe:                            # a whole epoch:
                self._end_epoch(epoch, k, bar)                  # validation

    def _update(self, P: list, G: list, k: int):
        """θ ← θ − ε_k g (weight decay: θ ← (1 − ε_k λ) θ − ε_k g), or with
        momentum v ← μ_k v + g + λθ, θ ← θ − ε_k v
        (Nesterov: θ ← θ − ε_k (g + λθ + μ_k v))."""
        if self.velocity is None:
            for theta, g in zip(P, G):
                if self.decay is not None:
                    theta *= self.decay[k]
                theta -= g                                  # g holds ε g already
            return
        eps, mu, lam = self.eps[k], float(self.mu[k]), self.weight_decay
        for theta, g, v in zip(P, G, self.velocity):
            if lam:
                g += lam * theta
            v *= mu
            v += g
            theta -= eps * (g + mu * v if self.nesterov else v)

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
            terms = [self._stack(part) for part in zip(*run)]         # (steps, K or 1, rows, m')
            i = k0 % self.steps_per_epoch * self.batch_size             # their first example
            Ts = T[:, i:i + S * m].reshape(c, S, m).swapaxes(0, 1)[:, None]  # (steps, 1, n_out, m')
            self.losses[k0:k0 + S] = to_numpy(self.model.mean_loss(terms, Ts))
            k0 += S

    def _stack(self, arrays: tuple):
        """The steps' ``arrays`` (alike, ``([K,] rows, m')``) as one ``(steps, K or 1, rows, m')``
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
        for l, theta in enumerate(self.P):   # K > 1 here: the stacked (K, out, in + 1) arrays
            theta[idx] = 0
            if self.velocity is not None:
                self.velocity[l][idx] = 0
        self._upload(k + 1)
        return False

    def _end_epoch(self, epoch: int, k: int, bar):
        if self.evaluate:
            loss, acc = self.model.evaluate(self.P, self.Xv, self.Tv, self.yv, work=self.work)
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
        """ε_k = lr(k) · plateau.lr / lr_p (``plateau.lr`` at the start) for the steps after this epoch."""
        changed = False
        for j, plateau in enumerate(self.plateaus):
            if self.diverged_at[j] >= 0:
                continue
            before = plateau.lr
            after = plateau.step(float(self.val_loss[j, epoch]))
            if after != before:
                self.lr[j, k + 1:] = after * (self.lr_base[j, k + 1:] / self.plateau_lr0[j])
                changed = True
        if changed:
            self._upload(k + 1)

    def _progress_bar(self):
        """A tqdm bar over the epochs (a context manager), or ``nullcontext()`` without ``progress``."""
        if not self.progress:
            return contextlib.nullcontext()
        try:  # the plain text bar: tqdm.auto would warn in a notebook without ipywidgets
            from tqdm import tqdm
        except ImportError:
            raise ImportError("progress=True needs tqdm, which is not a core dependency of lrcore: "
                              "pip install tqdm (or pass progress=False)") from None
        return tqdm(total=self.epochs, unit="epoch")

    def histories(self) -> list[History]:
        K, spe, epochs = self.K, self.steps_per_epoch, self.epochs
        loss = self.losses.copy().T
        momentum = np.tile(np.zeros(self.total) if self.mu is None else self.mu, (K, 1))
        val_loss, val_acc = self.val_loss.copy(), self.val_accuracy.copy()
        full = self.total // spe                                 # complete epochs
        train_loss = np.full((K, epochs), np.nan)
        train_loss[:, :full] = loss[:, : full * spe].reshape(K, full, spe) @ (self.m[:spe] / self.n)
        out = []
        for j in range(K):
            d = int(self.diverged_at[j])
            if d >= 0:
                loss[j, d + 1:] = np.nan
                momentum[j, d:] = np.nan
                for a in (train_loss, val_loss, val_acc):
                    a[j, d // spe:] = np.nan
            out.append(History(lr=self.lr[j].copy(), momentum=momentum[j], loss=loss[j],
                               train_loss=train_loss[j], val_loss=val_loss[j],
                               val_accuracy=val_acc[j], diverged=d >= 0,
                               diverged_at=d if d >= 0 else None, epochs=epochs,
                               steps_per_epoch=spe))
        return out


# --------------------------------------------------------------------------------------------
# validation of the arguments
# --------------------------------------------------------------------------------------------

def _is_real(x) -> bool:
    return not isinstance(x, bool) and isinstance(x, (int, float, np.integer, np.floating))


def _check_int(value, name: str, low: int, high: int | None = None) -> int:
    rng = f"in [{low}, {high}]" if high is not None else f">= {low}"
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int {rng}; got {value!r}")
    if value < low or (high is not None and value > high):
        raise ValueError(f"{name} must be an int {rng}; got {value}")
    return int(value)


def _table(value, name: str, n: int, *, low: float, high: float, high_open: bool) -> np.ndarray:
    """``value`` (a number or a schedule ``f(k)``) evaluated at ``k = 0 .. n-1``, float64, checked.

    A schedule is called once with ``np.arange(n)`` when it accepts arrays (every lrcore
    schedule does); otherwise once per ``k``.
    """
    if callable(value):
        k = np.arange(n)
        try:
            values = np.asarray(value(k))
        except Exception:  # a scalar-only callable (`if k < 10: ...`): evaluate it per step
            values = None
        if values is None or values.shape != (n,) or values.dtype.kind not in "biuf":
            values = [_step_value(value, int(i), name) for i in k]
        values = np.asarray(values, dtype=np.float64)
        bad = ~((values >= low) & ((values < high) if high_open else (values <= high)))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"{name} schedule must give values in [{low}, {high}"
                             f"{')' if high_open else ']'}; got {values[i]!r} at k = {i}")
        return values
    if not _is_real(value):
        raise TypeError(f"{name} must be a number or a schedule (a callable of the step k); "
                        f"got {value!r}")
    return np.full(n, float(value))


def _step_value(schedule, k: int, name: str) -> float:
    """``schedule(k)`` as a float, or a TypeError naming the schedule."""
    value = schedule(k)
    if not isinstance(value, (str, bytes, complex, np.complexfloating)):
        with contextlib.suppress(TypeError, ValueError):
            return float(value)
    raise TypeError(f"{name} schedule must give real numbers; got {value!r} at k = {k}")


def _check_lr(lr, name: str, dtype):
    """A schedule, or a constant rate that is not 0 in the model's ``dtype``.

    A constant below the dtype's smallest normal number (1.2e-38 in float32) is refused: ε g
    (and ε/m', see ``_Engine._upload``) would round to 0 and training would silently change
    nothing. A schedule may decay that far (its tail then changes nothing, as a tiny rate does).
    """
    if callable(lr):
        return lr
    if not _is_real(lr):
        raise TypeError(f"{name} must be a positive finite float or a schedule (a callable of the "
                        f"step k); got {lr!r}")
    if not (math.isfinite(lr) and lr > 0):
        raise ValueError(f"{name} must be a positive finite float or a schedule; got {lr!r}")
    smallest = float(np.finfo(dtype).tiny)
    if lr < smallest:
        raise ValueError(f"{name} must be a positive finite float >= {smallest:.3g} (the smallest "
                         f"normal {np.dtype(dtype)}, the model's dtype: an update ε g would round "
                         f"to 0) or a schedule; got {lr!r}")
    return float(lr)


def _check_batch_size(batch_size, n_train: int) -> int:
    """An int in [1, n_train]; when it is too large and is the default, the message says so
    (the caller may not have passed it)."""
    try:
        return _check_int(batch_size, "batch_size", 1, n_train)
    except ValueError as error:
        if batch_size != BATCH_SIZE:
            raise
        raise ValueError(f"{error}, the default, more than the {n_train} training examples: pass a "
                         f"smaller batch_size") from None


def _check_record_size(epochs: int, spe: int, runs: int):
    """Refuse a run whose per-step records (see ``RECORD_BYTES``) would pass ``MAX_RECORD_BYTES``."""
    need = epochs * spe * runs * RECORD_BYTES
    if need > MAX_RECORD_BYTES:
        most = MAX_RECORD_BYTES // (spe * runs * RECORD_BYTES)
        each = f", for each of {runs} runs," if runs > 1 else ""
        also = [] if spe == 1 else ["raise batch_size"]
        also += ["pass fewer lrs or seeds"] if runs > 1 else []
        raise ValueError(f"epochs must be an int in [1, {most}] for this run; got {epochs}: "
                         f"{epochs * spe} steps ({spe} an epoch){each} would need "
                         f"{need / 2**30:.1f} GiB of per-step records (lr, momentum, loss: about "
                         f"{RECORD_BYTES} bytes a step and run, allocated before the first step), "
                         f"more than the {MAX_RECORD_BYTES // 2**30} GiB allowed: reduce epochs"
                         + (f" (or {' or '.join(also)})" if also else ""))


def _check_sequence(value, name: str, rule: str) -> list:
    """``value`` as a list: a non-empty ordered sequence (a list, tuple or array), not a dict or set."""
    if isinstance(value, (Mapping, AbstractSet)):
        hint = (f"pass list({name}.values()) for its values" if isinstance(value, Mapping)
                else "which has no order: pass a list")
        raise TypeError(f"{name} must be {rule}; got a {type(value).__name__} ({hint})")
    if (isinstance(value, (str, bytes)) or callable(value) or not hasattr(value, "__len__")
            or getattr(value, "ndim", 1) == 0 or len(value) < 1):   # ndim 0: a NumPy scalar array
        raise TypeError(f"{name} must be {rule}; got {value!r}")
    return list(value)


def _setup(model, data, *, epochs, batch_size, momentum, nesterov, weight_decay, schedule_unit,
           plateau, seed, diverge_factor, progress, lrs: dict | None = None, runs: int = 1) -> dict:
    """Check every argument of a run; return the step counts, the momentum table and the
    learning rates ``lrs`` (``{name: lr}``) checked. ``runs``: the number of runs (a sweep's K)."""
    if not isinstance(model, DenseModel):
        raise TypeError(f"model must be an lrcore model (SoftmaxRegression, MLP, "
                        f"LinearRegression); got {type(model).__name__}")
    if not isinstance(data, Dataset):
        raise TypeError(f"data must be an lrcore.data.Dataset; got {type(data).__name__}")
    if data.task != model.task:
        raise ValueError(f"data is a {data.task} dataset but {type(model).__name__} is a "
                         f"{model.task} model")
    if data.n_features != model.n_in:
        raise ValueError(f"data has {data.n_features} features but the model expects "
                         f"{model.n_in} (n_in)")
    n_out = data.n_classes if data.task == "classification" else (
        1 if data.y_train.ndim == 1 else data.y_train.shape[1])
    if n_out != model.n_out:
        what = "classes" if data.task == "classification" else "outputs"
        raise ValueError(f"data has {n_out} {what} but the model has {model.n_out} outputs")
    lrs = {name: _check_lr(lr, name, model.dtype) for name, lr in (lrs or {}).items()}
    epochs = _check_int(epochs, "epochs", 1)
    batch_size = _check_batch_size(batch_size, data.n_train)
    if not isinstance(nesterov, bool):
        raise TypeError(f"nesterov must be a bool; got {nesterov!r}")
    if not _is_real(weight_decay):
        raise TypeError(f"weight_decay must be a finite float >= 0; got {weight_decay!r}")
    if not (math.isfinite(weight_decay) and weight_decay >= 0):
        raise ValueError(f"weight_decay must be a finite float >= 0; got {weight_decay!r}")
    if schedule_unit not in SCHEDULE_UNITS:
        raise ValueError(f"schedule_unit must be 'step' or 'epoch'; got {schedule_unit!r}")
    if plateau is not None and not (hasattr(plateau, "step") and hasattr(plateau, "lr")):
        raise TypeError(f"plateau must be a ReduceLROnPlateau or None; got {type(plateau).__name__}")
    if plateau is not None and not (_is_real(plateau.lr) and plateau.lr > 0):
        raise ValueError(f"plateau.lr must be > 0 to scale the schedule by; got {plateau.lr!r}")
    _check_int(seed, "seed", 0)
    if not _is_real(diverge_factor):
        raise TypeError(f"diverge_factor must be a number > 1; got {diverge_factor!r}")
    if not diverge_factor > 1:
        raise ValueError(f"diverge_factor must be a number > 1; got {diverge_factor!r}")
    if not isinstance(progress, bool):
        raise TypeError(f"progress must be a bool; got {progress!r}")
    spe = -(-data.n_train // batch_size)
    total = epochs * spe
    _check_record_size(epochs, spe, runs)
    if not callable(momentum) and _is_real(momentum) and not 0 <= momentum < 1:
        raise ValueError(f"momentum must be a float in [0, 1) or a schedule; got {momentum!r}")
    mu = _units(momentum, "momentum", epochs, spe, schedule_unit, low=0.0, high=1.0, high_open=True)
    if nesterov and (mu == 0).any():
        raise ValueError("nesterov=True needs momentum > 0")
    if not callable(momentum) and momentum == 0:
        mu = None                          # plain SGD: no velocity at all
    return dict(epochs=epochs, batch_size=batch_size, spe=spe, total=total, mu=mu,
                unit=schedule_unit, seed=int(seed), lrs=lrs)


def _units(value, name, epochs, spe, unit, **limits) -> np.ndarray:
    """A per-step table of ``value``; with ``unit="epoch"`` the schedule's k is the epoch index."""
    if unit == "epoch":
        return np.repeat(_table(value, name, epochs, **limits), spe)
    return _table(value, name, epochs * spe, **limits)


def _lr_rows(s: dict) -> np.ndarray:
    """The table ``(K, steps)`` of the learning rates ``s["lrs"]`` checked by :func:`_setup`."""
    rows = [_units(lr, name, s["epochs"], s["spe"], s["unit"], low=0.0, high=np.inf,
                   high_open=True) for name, lr in s["lrs"].items()]
    return np.stack(rows)


# --------------------------------------------------------------------------------------------
# public entry points
# --------------------------------------------------------------------------------------------

def train(model, data, *, lr, epochs: int, batch_size: int = BATCH_SIZE, momentum=0.0,
          nesterov: bool = False, weight_decay: float = 0.0, schedule_unit: str = "step",
          plateau=None, seed: int = 0, diverge_factor: float = 1e3,
          progress: bool = False) -> History:
    r"""Train ``model`` in place on ``data`` with minibatch SGD; return its :class:`History`.

    Each epoch visits the training set in a fresh random order (a permutation from
    ``np.random.default_rng(seed)``) in minibatches of ``batch_size``; the last, smaller batch
    is kept (like PyTorch's ``drop_last=False``), so an epoch has ``ceil(n_train / batch_size)``
    steps. Update ``k`` is :math:`θ \leftarrow θ - ε_k g` (with ``momentum`` :math:`μ`,
    ``nesterov`` and ``weight_decay`` :math:`λ` as in ``torch.optim.SGD``; the decay applies to
    every parameter, biases included).

    * ``lr``: a positive float, or a schedule ``lr(k)`` (e.g. from :mod:`lrcore.schedules`),
      evaluated once for all steps as ``lr(np.arange(steps))`` when it accepts arrays, else
      per step. ``momentum`` may be a schedule too (1cycle's cyclical momentum). A constant
      ``lr`` must be at least the smallest normal number of the model's dtype (1.2e-38 in
      float32): below it an update rounds to 0 and the run would silently change nothing. A
      schedule may decay below that, or below what changes θ at its precision: those steps
      change nothing, which is what a decayed rate means. An ``lr`` above the dtype's largest
      number (3.4e38 in float32) is inf in the model: the run diverges.
    * ``batch_size``: at most ``n_train``; the default, 32, is too large for a smaller set.
    * Memory: the per-step records (``lr``, ``momentum``, ``loss`` and the engine's tables, about
      80 bytes a step, :data:`RECORD_BYTES`) are allocated before the first step; a run whose
      records would pass 4 GiB (:data:`MAX_RECORD_BYTES`) is refused with a ValueError that says
      how many epochs fit.
    * ``schedule_unit``: ``"step"`` -- ``k`` counts minibatch updates; ``"epoch"`` -- ``k`` is
      the epoch index (constant within an epoch).
    * ``plateau``: a ``ReduceLROnPlateau``, fed the validation loss after every epoch; the LR of
      update ``k`` is ``lr(k) * plateau.lr / lr_p`` where ``lr_p`` is ``plateau.lr`` when the run
      starts -- with a constant ``lr`` equal to the plateau's ``lr0`` this is exactly the
      plateau's LR. The plateau is copied: the object passed in is not stepped.
    * Divergence: when the loss of a step is NaN/inf or exceeds ``diverge_factor`` times the
      loss of step 0, the run stops and the History says so (no exception, no warning). The
      rule is checked every 64 steps (fewer for a large sweep, see ``_Engine``) and at the end
      of each epoch, and the minibatch losses are computed there, in one pass for the steps
      since the last check (computing and checking them every step would cost a small model a
      fifth of its step); the model then holds the parameters of the last step computed,
      possibly inf/NaN.
    * Reproducibility: the same ``seed`` on the same machine, backend, BLAS kernel and thread
      count gives bitwise-identical histories. Another CPU (another BLAS kernel, another SIMD
      ``exp``) rounds differently in the last bit, and training amplifies it: a stable run
      still agrees closely (in float64, the default, far below the fourth digit of the loss; in
      float32 to about the fourth digit after 20 epochs), while a run near divergence can end
      anywhere, or diverge at another step.

    >>> import numpy as np
    >>> from lrcore.data import make_least_squares
    >>> from lrcore.models import LinearRegression
    >>> data = make_least_squares(n_features=5, lambda_max=4.0)
    >>> h = train(LinearRegression(5), data, lr=0.3, epochs=3, batch_size=64)
    >>> print(np.round(h.val_loss, 3), h.diverged)
    [0.221 0.175 0.162] False
    >>> train(LinearRegression(5), data, lr=2.0, epochs=10, batch_size=512).diverged_at
    3
    """
    s = _setup(model, data, epochs=epochs, batch_size=batch_size, momentum=momentum,
               nesterov=nesterov, weight_decay=weight_decay, schedule_unit=schedule_unit,
               plateau=plateau, seed=seed, diverge_factor=diverge_factor, progress=progress,
               lrs={"lr": lr})
    lr_table = _lr_rows(s)
    plateaus = None if plateau is None else [copy.deepcopy(plateau)]
    engine = _Engine(model, model.theta, data, lr_table, s["mu"], batch_size=s["batch_size"],
                     nesterov=nesterov, weight_decay=float(weight_decay), plateaus=plateaus,
                     seed=s["seed"], stop=_LossLimit(float(diverge_factor), model.dtype),
                     progress=progress)
    return engine.run().histories()[0]


def sweep(model, data, *, lrs, seeds=None, epochs: int, batch_size: int = BATCH_SIZE,
          momentum=0.0, nesterov: bool = False, weight_decay: float = 0.0,
          schedule_unit: str = "step", plateau=None, seed: int = 0, diverge_factor: float = 1e3,
          progress: bool = False):
    """Train one copy of ``model`` per entry of ``lrs``, all together; return their Histories.

    ``lrs`` is a sequence (a list, tuple or array; not a dict or set) of floats and/or
    schedules, mixed freely. The K runs are one stacked computation (see the module docstring):
    every member sees the same minibatches, and each result equals ``train(model.copy(), data,
    lr=lrs[i], ...)`` to round-off. A member that diverges stops (its History says where) while
    the others go on. ``model`` is not modified. The other keywords are those of :func:`train`
    and apply to every member (a ``plateau`` is copied per member).

    ``seeds``: ``None`` -- every member starts from ``model``'s parameters; the result is a list
    with one History per ``lrs`` entry. A sequence of ints -- every (lr, seed) pair is a member,
    initialised afresh with ``model.copy(seed=s)``; the result is nested,
    ``result[i][j]`` for ``lrs[i]`` and ``seeds[j]``. The minibatch order is the same for all
    members (it comes from ``seed``): seeds vary the initialisation only, so their spread
    measures initialisation noise, not data-order noise (vary ``seed`` across calls for that).

    >>> from lrcore.data import load_digits
    >>> from lrcore.models import SoftmaxRegression
    >>> data = load_digits(seed=0)
    >>> hs = sweep(SoftmaxRegression(64, 10), data, lrs=[0.01, 0.1, 1.0, 1e4], epochs=2)
    >>> [f"{h.final_val_loss:.3f}" for h in hs], [h.diverged for h in hs]
    (['1.576', '0.393', '0.165', 'nan'], [False, False, False, True])
    >>> grid = sweep(SoftmaxRegression(64, 10), data, lrs=[0.5], seeds=[0, 1, 2], epochs=1)
    >>> print(len(grid), len(grid[0]), np.round([h.final_val_loss for h in grid[0]], 3))
    1 3 [0.257 0.244 0.25 ]
    """
    lrs = _check_sequence(lrs, "lrs", "a non-empty sequence of learning rates (floats or "
                                      "schedules)")
    if seeds is not None:
        seeds = _check_sequence(seeds, "seeds", "None or a non-empty sequence of ints")
        seeds = [_check_int(s_, f"seeds[{j}]", 0) for j, s_ in enumerate(seeds)]
    s = _setup(model, data, epochs=epochs, batch_size=batch_size, momentum=momentum,
               nesterov=nesterov, weight_decay=weight_decay, schedule_unit=schedule_unit,
               plateau=plateau, seed=seed, diverge_factor=diverge_factor, progress=progress,
               lrs={f"lrs[{i}]": lr for i, lr in enumerate(lrs)},
               runs=len(lrs) * (1 if seeds is None else len(seeds)))
    table = _lr_rows(s)
    if seeds is None:
        P = model.stack(len(lrs))
    else:
        table = np.repeat(table, len(seeds), axis=0)  # members (lr 0, seed 0), (lr 0, seed 1), ...
        P = model.stack(len(table), seeds=seeds * len(lrs))
    K = len(table)
    plateaus = None if plateau is None else [copy.deepcopy(plateau) for _ in range(K)]
    engine = _Engine(model, P, data, table, s["mu"], batch_size=s["batch_size"],
                     nesterov=nesterov, weight_decay=float(weight_decay), plateaus=plateaus,
                     seed=s["seed"], stop=_LossLimit(float(diverge_factor), model.dtype),
                     progress=progress)
    hs = engine.run().histories()
    if seeds is None:
        return hs
    S = len(seeds)
    return [hs[i * S:(i + 1) * S] for i in range(len(lrs))]
