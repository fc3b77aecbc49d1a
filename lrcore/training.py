r"""Minibatch SGD from scratch: :func:`train` one model, :func:`sweep` many learning rates at once.

One step, in the article's notation: draw a minibatch of :math:`m'` examples, compute

.. math:: g = \frac{1}{m'} \nabla_θ \sum_{i=1}^{m'} L(x^{(i)}, y^{(i)}, θ), \qquad
          θ \leftarrow θ - ε_k g ,

with :math:`ε_k` the learning rate of update :math:`k`. With momentum :math:`μ` and weight
decay :math:`λ` the update is PyTorch's ``torch.optim.SGD``:

.. math:: v \leftarrow μ v + g + λθ, \qquad θ \leftarrow θ - ε_k v
          \quad(\text{Nesterov: } θ \leftarrow θ - ε_k (g + λθ + μ v)).

**Two loops, one result.** :func:`train` is that loop, written as the equations read (the book
shows it): one run, on the model's own parameters, which it trains in place. :func:`sweep`
trains ``K`` copies of a model together with :class:`lrcore.stacked.StackedRuns`, code written
for speed: their parameters stacked on a leading ``K`` axis, the same minibatches for all, the
first layers of the K members as one matrix product, no Python loop over K. A sweep's members
equal separate ``train`` runs to round-off (the stacked products add up in other orders), which
training amplifies near divergence (see *Reproducibility* in :func:`train`);
``tests/test_sweep.py`` keeps the two in agreement. What both record, and the rules they stop
and lower the rate by, are in :mod:`lrcore.history`.

**Threads.** What may run in several threads at once (``tests/test_threads.py`` checks it, on
the NumPy backend with one BLAS thread, the setting of the book's outputs):

* :func:`train` of *different* models: each run keeps its state (its minibatch order from its
  own ``np.random.default_rng(seed)``, its velocity) to itself, so every result is bitwise the
  one the same run gives alone.
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

import copy
import math

import numpy as np

from . import checks
from .data import Dataset
from .history import (History, divergence_limit, epoch_batch_sizes, plateau_step,
                      progress_bar)
from .models import DenseModel
from .stacked import StackedModel, StackedRuns

__all__ = ["History", "train", "sweep"]

SCHEDULE_UNITS = ("step", "epoch")
BATCH_SIZE = 32          # the default batch_size of train, sweep (and range_test)
#: the per-step records of a run -- History.lr, .momentum, .loss and a sweep's per-step tables,
#: all allocated before the first step -- take about this many bytes a step and run at their peak
#: (measured: 58 to 82); a run whose records would take more than MAX_RECORD_BYTES is refused
RECORD_BYTES = 80
MAX_RECORD_BYTES = 2**32  # 4 GiB: 50 million steps of one run, far beyond any run of the book


# --------------------------------------------------------------------------------------------
# what train writes down
# --------------------------------------------------------------------------------------------

class _Log:
    """What :func:`train` writes down as it goes: the loss of every step, checked against the
    divergence rule, the validation after every epoch, and a plateau fed with it, which lowers
    ``schedule`` (the rates of the steps left) in place. A context manager: the progress bar."""

    def __init__(self, model, s: dict, schedule, momenta, plateau, progress):
        self.schedule, self.momenta = schedule, momenta
        self.base = schedule.copy()                    # the rates before any plateau
        self.plateau = None if plateau is None else copy.deepcopy(plateau)
        self.lr0 = None if plateau is None else plateau.lr
        self.loss = np.full(s["total"], np.nan)
        self.val_loss, self.val_accuracy = np.full(s["epochs"], np.nan), np.full(s["epochs"], np.nan)
        self.sizes = epoch_batch_sizes(s["n"], s["batch_size"])     # the m' of an epoch's steps
        self.factor, self.dtype, self.limit = s["diverge_factor"], model.dtype, None
        self.diverged_at, self.progress, self.bar = None, progress, None

    def __enter__(self):
        self._bar = progress_bar(self.progress, len(self.val_loss))
        self.bar = self._bar.__enter__()            # None without progress
        return self

    def __exit__(self, *exc):
        return self._bar.__exit__(*exc)

    def step(self, k: int, loss: float) -> bool:
        """Write down the loss of step ``k``; True if it diverged (see :class:`History`)."""
        self.loss[k] = loss
        if k == 0:
            self.limit = divergence_limit(loss, self.factor, self.dtype)
        if loss <= self.limit:                         # NaN compares False
            return False
        self.diverged_at = k
        return True

    def end_epoch(self, epoch: int, val_loss: float, val_accuracy: float):
        """Write down the validation after ``epoch``; feed the plateau, if any."""
        self.val_loss[epoch], self.val_accuracy[epoch] = val_loss, val_accuracy
        if self.plateau is not None:
            last = (epoch + 1) * len(self.sizes) - 1   # the epoch's last step
            plateau_step(self.plateau, val_loss, self.schedule, self.base, self.lr0, last)
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix(val_loss=f"{val_loss:.4g}")

    def history(self) -> History:
        return History.of_run(lr=self.schedule, momentum=self.momenta, loss=self.loss,
                              val_loss=self.val_loss, val_accuracy=self.val_accuracy,
                              diverged_at=self.diverged_at, batch_sizes=self.sizes)


# --------------------------------------------------------------------------------------------
# validation of the arguments
# --------------------------------------------------------------------------------------------

def _check_lr(lr, name: str, dtype):
    """A schedule, or a constant rate that is not 0 in the model's ``dtype``.

    A constant below the dtype's smallest normal number (1.2e-38 in float32) is refused: ε g
    (and a sweep's ε/m', see ``StackedRuns._upload``) would round to 0 and training would
    silently change nothing. A schedule may decay that far (its tail then changes nothing, as a tiny rate does).
    """
    lr = checks.schedule_or_real(name, lr, low=0, low_open=True)
    smallest = float(np.finfo(dtype).tiny)
    if not callable(lr) and lr < smallest:
        raise checks.fail(ValueError, name, f"a real number >= {smallest:.3g} (the smallest normal "
                          f"{np.dtype(dtype)}, the model's dtype: an update ε g would round to 0) "
                          "or a schedule", repr(lr))
    return lr


def _check_batch_size(batch_size, n_train: int) -> int:
    """An int in [1, n_train]; when it is too large and is the default, the message says so
    (the caller may not have passed it)."""
    try:
        return checks.integer("batch_size", batch_size, low=1, high=n_train)
    except ValueError as error:
        if batch_size != BATCH_SIZE:
            raise
        raise ValueError(f"{error}, the default, more than the {n_train} training examples: pass a "
                         f"smaller batch_size") from None


def _check_record_size(epochs: int, steps_per_epoch: int, runs: int):
    """Refuse a run whose per-step records (see ``RECORD_BYTES``) would pass ``MAX_RECORD_BYTES``."""
    need = epochs * steps_per_epoch * runs * RECORD_BYTES
    if need > MAX_RECORD_BYTES:
        most = MAX_RECORD_BYTES // (steps_per_epoch * runs * RECORD_BYTES)
        each = f", for each of {runs} runs," if runs > 1 else ""
        also = [] if steps_per_epoch == 1 else ["raise batch_size"]
        also += ["pass fewer lrs or init_seeds"] if runs > 1 else []
        raise ValueError(f"epochs must be an int in [1, {most}] for this run; got {epochs}: "
                         f"{epochs * steps_per_epoch} steps ({steps_per_epoch} an epoch){each} "
                         f"would need "
                         f"{need / 2**30:.1f} GiB of per-step records (lr, momentum, loss: about "
                         f"{RECORD_BYTES} bytes a step and run, allocated before the first step), "
                         f"more than the {MAX_RECORD_BYTES // 2**30} GiB allowed: reduce epochs"
                         + (f" (or {' or '.join(also)})" if also else ""))


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
    epochs = checks.integer("epochs", epochs, low=1)
    batch_size = _check_batch_size(batch_size, data.n_train)
    nesterov = checks.flag("nesterov", nesterov)
    weight_decay = checks.real("weight_decay", weight_decay, low=0)
    schedule_unit = checks.choice("schedule_unit", schedule_unit, SCHEDULE_UNITS)
    if plateau is not None and not (hasattr(plateau, "step") and hasattr(plateau, "lr")):
        raise TypeError(f"plateau must be a ReduceLROnPlateau or None; got {type(plateau).__name__}")
    if plateau is not None:  # the schedule is scaled by it
        checks.real("plateau.lr", plateau.lr, low=0, low_open=True)
    seed = checks.seed("seed", seed)
    diverge_factor = checks.real("diverge_factor", diverge_factor, low=1, low_open=True, finite=False)
    progress = checks.flag("progress", progress)
    steps_per_epoch = -(-data.n_train // batch_size)
    total = epochs * steps_per_epoch
    _check_record_size(epochs, steps_per_epoch, runs)
    mu = _units(momentum, "momentum", epochs, steps_per_epoch, schedule_unit, low=0.0, high=1.0,
                high_open=True)
    if nesterov and (mu == 0).any():
        raise ValueError("nesterov=True needs momentum > 0")
    plain = not callable(momentum) and momentum == 0   # plain SGD: a sweep keeps no velocity
    return dict(epochs=epochs, batch_size=batch_size, n=data.n_train,
                steps_per_epoch=steps_per_epoch, total=total,
                mu=mu, plain=plain, unit=schedule_unit, seed=int(seed), lrs=lrs,
                weight_decay=float(weight_decay), diverge_factor=float(diverge_factor))


def _units(value, name, epochs, steps_per_epoch, unit, **limits) -> np.ndarray:
    """A per-step table of ``value``; with ``unit="epoch"`` the schedule's k is the epoch index."""
    if unit == "epoch":
        return np.repeat(checks.per_step(name, value, epochs, **limits), steps_per_epoch)
    return checks.per_step(name, value, epochs * steps_per_epoch, **limits)


def _lr_rows(s: dict) -> np.ndarray:
    """The table ``(K, steps)`` of the learning rates ``s["lrs"]`` checked by :func:`_setup`."""
    rows = [_units(lr, name, s["epochs"], s["steps_per_epoch"], s["unit"], low=0.0, high=np.inf,
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
    * Memory: the per-step records (``lr``, ``momentum``, ``loss``; in a sweep also its tables,
      about 80 bytes a step in all, :data:`RECORD_BYTES`) are allocated before the first step; a
      run whose records would pass 4 GiB (:data:`MAX_RECORD_BYTES`) is refused with a ValueError
      that says how many epochs fit.
    * ``schedule_unit``: ``"step"`` -- ``k`` counts minibatch updates; ``"epoch"`` -- ``k`` is
      the epoch index (constant within an epoch).
    * ``plateau``: a ``ReduceLROnPlateau``, fed the validation loss after every epoch; the LR of
      update ``k`` is ``lr(k) * plateau.lr / lr_p`` where ``lr_p`` is ``plateau.lr`` when the run
      starts -- with a constant ``lr`` equal to the plateau's ``lr0`` this is exactly the
      plateau's LR. The plateau is copied: the object passed in is not stepped.
    * Divergence: when the loss of a step is NaN/inf or exceeds ``diverge_factor`` times the
      loss of step 0, the run stops there, before that step's update, and the History says so
      (no exception, no warning); the model keeps the parameters that gave that loss. A sweep
      checks the same rule every few steps and reports the same step (see
      :class:`lrcore.stacked.StackedRuns`).
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
    >>> h = train(LinearRegression(5), data, lr=2.0, epochs=10, batch_size=512)
    >>> h.diverged_at
    3
    """
    s = _setup(model, data, epochs=epochs, batch_size=batch_size, momentum=momentum,
               nesterov=nesterov, weight_decay=weight_decay, schedule_unit=schedule_unit,
               plateau=plateau, seed=seed, diverge_factor=diverge_factor, progress=progress,
               lrs={"lr": lr})
    schedule = _lr_rows(s)[0]                         # ε_k of every step k
    momenta, with_momentum = s["mu"], not s["plain"]  # μ_k; False: plain SGD
    log = _Log(model, s, schedule, momenta, plateau, progress)
    X, y, n, batch_size = data.X_train, data.y_train, data.n_train, s["batch_size"]
    weight_decay = s["weight_decay"]                  # λ
    rng = np.random.default_rng(seed)                 # the minibatch order
    velocity = [model.xp.zeros_like(theta) for theta in model.theta]   # v = 0
    k = 0                                             # the step
    # inf/NaN when diverging is a result, not a warning
    with np.errstate(all="ignore"), log:
        for epoch in range(epochs):
            order = rng.permutation(n)                # a fresh order every epoch
            for start in range(0, n, batch_size):
                # a minibatch of m' examples
                batch = order[start:start + batch_size]
                lr, mu = float(schedule[k]), float(momenta[k])  # ε_k, μ_k
                loss, grads = model.loss_and_grad(X[batch], y[batch])  # L and g
                if log.step(k, loss):                 # diverged: the run stops
                    return log.history()
                for theta, g, v in zip(model.theta, grads, velocity):
                    if weight_decay:
                        g = g + weight_decay * theta  # g + λθ
                    if with_momentum:
                        v *= mu
                        v += g                        # v ← μ v + g + λθ
                        # Nesterov: g + λθ + μ v
                        g = g + mu * v if nesterov else v
                    theta -= lr * g                   # θ ← θ − ε g
                k += 1
            val_loss, val_accuracy = model.evaluate(data.X_val, data.y_val)
            # a plateau lowers the ε_k still to come
            log.end_epoch(epoch, val_loss, val_accuracy)
    return log.history()


def sweep(model, data, *, lrs, init_seeds=None, epochs: int, batch_size: int = BATCH_SIZE,
          momentum=0.0, nesterov: bool = False, weight_decay: float = 0.0,
          schedule_unit: str = "step", plateau=None, seed: int = 0, diverge_factor: float = 1e3,
          progress: bool = False, seeds=checks.DEPRECATED):
    """Train one copy of ``model`` per entry of ``lrs``, all together; return their Histories.

    ``lrs`` is a sequence (a list, tuple or array; not a dict or set) of floats and/or
    schedules, mixed freely. The K runs are one stacked computation (see the module docstring):
    every member sees the same minibatches, and each result equals ``train(model.copy(), data,
    lr=lrs[i], ...)`` to round-off. A member that diverges stops (its History says where) while
    the others go on. ``model`` is not modified. The other keywords are those of :func:`train`
    and apply to every member (a ``plateau`` is copied per member).

    ``init_seeds`` (the seeds of the initialisation): ``None`` -- every member starts from
    ``model``'s parameters; the result is a list with one History per ``lrs`` entry. A sequence
    of ints -- every (lr, init seed) pair is a member, initialised afresh with
    ``model.copy(seed=s)``; the result is nested, ``result[i][j]`` for ``lrs[i]`` and
    ``init_seeds[j]``. ``seed`` is, as in :func:`train`, the seed of the minibatch order, the
    same for all members: init seeds vary the initialisation only, so their spread measures
    initialisation noise, not data-order noise (vary ``seed`` across calls for that).
    ``seeds`` is the deprecated old name of ``init_seeds``.

    >>> from lrcore.data import load_digits
    >>> from lrcore.models import SoftmaxRegression
    >>> data = load_digits(seed=0)
    >>> hs = sweep(SoftmaxRegression(64, 10), data, lrs=[0.01, 0.1, 1.0, 1e4],
    ...            epochs=2)
    >>> [f"{h.final_val_loss:.3f}" for h in hs], [h.diverged for h in hs]
    (['1.576', '0.393', '0.165', 'nan'], [False, False, False, True])
    >>> grid = sweep(SoftmaxRegression(64, 10), data, lrs=[0.5],
    ...              init_seeds=[0, 1, 2], epochs=1)
    >>> losses = [h.final_val_loss for h in grid[0]]
    >>> print(len(grid), len(grid[0]), np.round(losses, 3))
    1 3 [0.257 0.244 0.25 ]
    """
    lrs = checks.sequence("lrs", lrs, "a non-empty sequence of learning rates (floats or "
                                      "schedules)")
    seeds = checks.renamed("seeds", seeds, "init_seeds", init_seeds, None)
    if seeds is not None:
        seeds = checks.sequence("init_seeds", seeds, "None or a non-empty sequence of ints >= 0")
        seeds = [checks.seed(f"init_seeds[{j}]", s_) for j, s_ in enumerate(seeds)]
    s = _setup(model, data, epochs=epochs, batch_size=batch_size, momentum=momentum,
               nesterov=nesterov, weight_decay=weight_decay, schedule_unit=schedule_unit,
               plateau=plateau, seed=seed, diverge_factor=diverge_factor, progress=progress,
               lrs={f"lrs[{i}]": lr for i, lr in enumerate(lrs)},
               runs=len(lrs) * (1 if seeds is None else len(seeds)))
    table = _lr_rows(s)
    if seeds is None:
        stack = StackedModel.copies(model, len(lrs))
    else:
        table = np.repeat(table, len(seeds), axis=0)  # members (lr 0, seed 0), (lr 0, seed 1), ...
        stack = StackedModel.initialised(model, seeds * len(lrs))
    K = len(table)
    plateaus = None if plateau is None else [copy.deepcopy(plateau) for _ in range(K)]
    engine = StackedRuns(stack, data, table, None if s["plain"] else s["mu"],
                         batch_size=s["batch_size"], nesterov=nesterov,
                         weight_decay=s["weight_decay"], plateaus=plateaus, seed=s["seed"],
                         diverge_factor=s["diverge_factor"], progress=progress)
    hs = engine.run().histories()
    if seeds is None:
        return hs
    S = len(seeds)
    return [hs[i * S:(i + 1) * S] for i in range(len(lrs))]
