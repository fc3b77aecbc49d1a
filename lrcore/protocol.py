r"""The comparison protocol of the schedule chapters, stated once: :data:`PROTOCOL`.

Every chapter that compares schedules (3 to 8) imports this module instead of choosing its own
setup, so that their verdicts can be put side by side. The protocol fixes

* the **data**: :func:`lrcore.data.make_teacher_student` (8,000 training and 4,000 validation
  points, 20 features, 5 classes, 30 % noisy labels), where SGD noise limits the final loss;
* the **model**: ``MLP([20, 64, 5], seed=s)`` (one hidden layer of 64 ReLU units);
* the **budget**: 10 epochs of minibatches of 32 (2,500 steps), plain SGD (momentum 0, no weight
  decay), schedules counted in steps;
* the **seeds**: run seed :math:`s` initialises the model with :math:`s` *and* draws the
  minibatch order with :math:`s`; peaks are tuned on ``tune_seeds`` (0, 1, 2) and the tuned
  schedules evaluated on the fresh ``eval_seeds`` (100 to 109), never used for tuning, so the
  evaluation is not biased by the choice of the peak;
* the **tuning grid** of every schedule's peak rate :math:`ε_0` (``peak``): powers of 2 from
  1/32 to 8. Each schedule gets the same grid and the same tuning effort.

The recipe, for schedules A and B, each given as ``make_schedule(peak, total_steps)``:

1. :func:`tune`: train every grid peak on every tuning seed; keep the peak whose mean final
   validation loss over the tuning seeds is lowest, :math:`\hat ε_0 = \arg\min_{ε_0}
   \frac{1}{|S_{tune}|} \sum_{s} L_{val}(ε_0, s)`; a peak at which any tuning run diverged
   is not eligible.
2. :func:`evaluate`: train the tuned schedule on each evaluation seed; the final validation
   losses, in the order of ``eval_seeds``.
3. :func:`lrcore.stats.paired` on the two arrays: the mean of the paired differences
   :math:`d_s = L^A_s - L^B_s`, its standard error and the verdict.

A chapter that must deviate (another batch size, momentum...) says so in its text and uses
``PROTOCOL.replace(batch_size=128)``: a new, named protocol, the original untouched.

>>> from lrcore.schedules import constant
>>> PROTOCOL.steps, PROTOCOL.tune_seeds, PROTOCOL.eval_seeds[:3]
(2500, (0, 1, 2), (100, 101, 102))
>>> small = make_teacher_student(n_train=400, n_val=200)
>>> tiny = PROTOCOL.replace(data=small, epochs=2, tune_seeds=(0,),
...                         eval_seeds=(7, 8), lr_grid=(0.1, 0.4))
>>> make = lambda peak, total: constant(peak)
>>> result = tune(make, protocol=tiny)
>>> result.best_peak in (0.1, 0.4), evaluate(make, 0.4, protocol=tiny).shape
(True, (2,))
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import checks
from .data import Dataset, make_teacher_student
from .models import MLP
from .plateau import ReduceLROnPlateau
from .schedules import (constant, cosine_decay, cosine_restarts, cyclic, exponential_decay,
                        linear_decay, multistep_decay, one_cycle, step_decay, warmup)
from .training import sweep

__all__ = ["Protocol", "PROTOCOL", "TuneResult", "tune", "evaluate", "RECIPES", "PLATEAU"]


@dataclass(frozen=True, kw_only=True)
class Protocol:
    """The setup every schedule comparison shares (see the module docstring for the recipe).

    Fields (keyword-only): ``data`` (a classification :class:`~lrcore.data.Dataset`),
    ``hidden`` (the hidden widths of the MLP; ``()`` is softmax regression), ``epochs``,
    ``batch_size``, ``momentum`` :math:`μ`, ``weight_decay`` :math:`λ`, ``tune_seeds``,
    ``eval_seeds`` (disjoint from ``tune_seeds``), ``lr_grid`` (the peaks tried by
    :func:`tune`, increasing). Checked when built; :meth:`replace` builds a changed copy.
    """

    data: Dataset
    hidden: tuple = (64,)
    epochs: int = 10
    batch_size: int = 32
    momentum: float = 0.0
    weight_decay: float = 0.0
    tune_seeds: tuple = (0, 1, 2)
    eval_seeds: tuple = tuple(range(100, 110))
    lr_grid: tuple = tuple(2.0 ** np.arange(-5, 4))

    def __post_init__(self):
        if not isinstance(self.data, Dataset) or self.data.task != "classification":
            raise TypeError(f"data must be a classification lrcore.data.Dataset; got "
                            f"{self.data!r}")
        fixed = dict(
            hidden=tuple(checks.integer(f"hidden[{i}]", h, low=1)
                         for i, h in enumerate(_tuple("hidden", self.hidden, empty=True))),
            epochs=checks.integer("epochs", self.epochs, low=1),
            batch_size=checks.integer("batch_size", self.batch_size, low=1,
                                      high=self.data.n_train),
            momentum=checks.real("momentum", self.momentum, low=0, high=1, high_open=True),
            weight_decay=checks.real("weight_decay", self.weight_decay, low=0),
            tune_seeds=tuple(checks.seed(f"tune_seeds[{i}]", s)
                             for i, s in enumerate(_tuple("tune_seeds", self.tune_seeds))),
            eval_seeds=tuple(checks.seed(f"eval_seeds[{i}]", s)
                             for i, s in enumerate(_tuple("eval_seeds", self.eval_seeds))),
            lr_grid=tuple(checks.real(f"lr_grid[{i}]", lr, low=0, low_open=True)
                          for i, lr in enumerate(_tuple("lr_grid", self.lr_grid))),
        )
        for name in ("tune_seeds", "eval_seeds", "lr_grid"):
            if len(set(fixed[name])) != len(fixed[name]):
                raise ValueError(f"{name} must not repeat a value; got {fixed[name]}")
        if sorted(fixed["lr_grid"]) != list(fixed["lr_grid"]):
            raise ValueError(f"lr_grid must be increasing; got {fixed['lr_grid']}")
        shared = set(fixed["tune_seeds"]) & set(fixed["eval_seeds"])
        if shared:
            raise ValueError(f"eval_seeds must be fresh, disjoint from tune_seeds; both hold "
                             f"{sorted(shared)}")
        for name, value in fixed.items():
            object.__setattr__(self, name, value)

    def replace(self, **changes) -> Protocol:
        """A copy with ``changes`` (a named deviation): ``PROTOCOL.replace(batch_size=128)``."""
        return dataclasses.replace(self, **changes)

    @property
    def steps_per_epoch(self) -> int:
        """:math:`\\lceil n_{train} / m \\rceil`, the updates of one epoch (last batch kept)."""
        return -(-self.data.n_train // self.batch_size)

    @property
    def steps(self) -> int:
        """The budget in updates, ``epochs * steps_per_epoch``: the ``total_steps`` that
        ``make_schedule(peak, total_steps)`` receives."""
        return self.epochs * self.steps_per_epoch

    def model(self, seed: int):
        """The model of run ``seed``: ``MLP([n_features, *hidden, n_classes], seed=seed)``."""
        return MLP([self.data.n_features, *self.hidden, self.data.n_classes], seed=seed)

    def run(self, lrs, seed: int, *, plateau=None) -> list:
        """Train one model per entry of ``lrs`` (rates or schedules) from run ``seed``
        (initialisation and minibatch order), stacked in one :func:`~lrcore.training.sweep`;
        their Histories. ``plateau`` (a ``ReduceLROnPlateau``, e.g. :data:`PLATEAU`) scales
        each run's rate by its own copy of the rule, fed that run's validation loss."""
        return sweep(self.model(seed), self.data, lrs=list(lrs), epochs=self.epochs,
                     batch_size=self.batch_size, momentum=self.momentum,
                     weight_decay=self.weight_decay, seed=seed, plateau=plateau)


def _tuple(name: str, value, *, empty: bool = False) -> tuple:
    if isinstance(value, (str, bytes, dict, set)) or not hasattr(value, "__iter__"):
        raise checks.fail(TypeError, name, "a tuple or list", repr(value))
    value = tuple(value)
    if not value and not empty:
        raise checks.fail(ValueError, name, "a non-empty tuple or list", "()")
    return value


#: the protocol of the book's schedule chapters
PROTOCOL = Protocol(data=make_teacher_student(seed=0))


@dataclass(frozen=True, kw_only=True)
class TuneResult:
    """What :func:`tune` found. ``grid``: the peaks tried; ``losses``: final validation losses,
    shape ``(len(tune_seeds), len(grid))``, NaN where the run diverged; ``diverged``: per peak,
    whether any tuning run diverged; ``mean_loss``: per peak, the mean over the tuning seeds
    (NaN where diverged); ``best_peak``: the eligible peak of lowest mean loss; ``best_index``
    its index in ``grid``; ``at_edge``: whether it is the grid's first or last value (then the
    grid may be too narrow)."""

    grid: tuple
    losses: np.ndarray
    diverged: np.ndarray
    mean_loss: np.ndarray
    best_index: int
    best_peak: float
    at_edge: bool


def _schedules(make_schedule, peaks, total: int) -> list:
    if not callable(make_schedule):
        raise checks.fail(TypeError, "make_schedule", "a function (peak, total_steps) -> "
                          "schedule", repr(make_schedule))
    return [make_schedule(peak, total) for peak in peaks]


def tune(make_schedule: Callable, *, protocol: Protocol = PROTOCOL, plateau=None) -> TuneResult:
    r"""Tune the peak of a schedule on the protocol's tuning seeds.

    ``make_schedule(peak, total_steps)`` returns a learning rate (an lrcore schedule or a
    float) whose largest value is ``peak``, e.g. ``lambda peak, total: constant(peak)`` or
    ``lambda peak, total: cosine_decay(peak, until=total)``. For every tuning seed :math:`s`, all
    the grid's schedules are trained together (one :func:`~lrcore.training.sweep`); the result
    holds every final validation loss :math:`L_{val}(ε_0, s)` and the chosen peak
    :math:`\hat ε_0 = \arg\min_{ε_0} \operatorname{mean}_s L_{val}(ε_0, s)` over the peaks at
    which no tuning run diverged (a diverged run is reported, never an error). Raises
    ``ValueError`` if every peak diverged. ``plateau``: as in :meth:`Protocol.run`
    (``tune(RECIPES["plateau"], plateau=PLATEAU)`` tunes reduce-on-plateau's starting rate).
    """
    grid = protocol.lr_grid
    schedules = _schedules(make_schedule, grid, protocol.steps)
    losses = np.array([[h.final_val_loss for h in protocol.run(schedules, s, plateau=plateau)]
                       for s in protocol.tune_seeds])
    diverged = np.isnan(losses).any(axis=0)
    mean_loss = np.where(diverged, np.nan, losses.mean(axis=0))
    if diverged.all():
        raise ValueError(f"every peak of lr_grid {grid} diverged on a tuning seed: lower the grid")
    best = int(np.nanargmin(mean_loss))
    return TuneResult(grid=grid, losses=losses, diverged=diverged, mean_loss=mean_loss,
                      best_index=best, best_peak=grid[best], at_edge=best in (0, len(grid) - 1))


def evaluate(make_schedule: Callable, peak: float, *, protocol: Protocol = PROTOCOL,
             plateau=None) -> np.ndarray:
    """The final validation losses of ``make_schedule(peak, protocol.steps)`` on the fresh
    evaluation seeds: one float per seed, in the order of ``protocol.eval_seeds`` (NaN for a
    run that diverged), so that two schedules' arrays are paired seed by seed
    (:func:`lrcore.stats.paired`). ``plateau``: as in :meth:`Protocol.run`."""
    peak = checks.real("peak", peak, low=0, low_open=True)
    schedule = _schedules(make_schedule, [peak], protocol.steps)
    return np.array([protocol.run(schedule, s, plateau=plateau)[0].final_val_loss
                     for s in protocol.eval_seeds])


#: The schedules the book compares, each as ``make(peak, total)`` (``total``: the budget in
#: updates, ``Protocol.steps``): the recipes of chapters 3 to 6, which chapter 8 puts side by
#: side. Written once, so that a verdict of chapter 8 is the verdict of the chapter that
#: introduced the schedule.
RECIPES = {
    "constant": lambda peak, total: constant(peak),
    # chapter 3: ×0.1 every third of the budget (two drops); ×0.1 at 1/2 and 3/4 of it
    "step decay": lambda peak, total: step_decay(peak, factor=0.1, every=-(-total // 3)),
    "multistep": lambda peak, total: multistep_decay(
        peak, milestones=[total // 2, 3 * total // 4], factor=0.1),
    # chapter 4: linear to ε_0/100 at τ = T/2, then held; exponential to ε_0/100 at T
    "linear to τ": lambda peak, total: linear_decay(peak, lr_end=peak / 100, until=total // 2),
    "exponential": lambda peak, total: exponential_decay(peak, factor=0.01, every=total),
    # chapter 5: a constant rate cut by the plateau rule: pass plateau=PLATEAU
    "plateau": lambda peak, total: constant(peak),
    # chapter 6
    "cosine": lambda peak, total: cosine_decay(peak, until=total),
    "warm-up + cosine": lambda peak, total: warmup(
        cosine_decay(peak, until=total - total // 10), steps=total // 10),
    "SGDR": lambda peak, total: cosine_restarts(peak, period=-(-total // 15), mult=2),
    "triangular": lambda peak, total: cyclic(peak / 4, peak, half_cycle=total // 10),
    "1cycle": lambda peak, total: one_cycle(peak, total=total),
}

#: Chapter 5's reduce-on-plateau rule, as a multiplier of the starting rate (``lr0 = 1``):
#: ×0.1 after ``patience`` epochs without a relative improvement of the validation loss by
#: 1e-4, never below 1e-3 of the start. The patience is the one chapter 5's tuning picks.
PLATEAU = ReduceLROnPlateau(1.0, factor=0.1, patience=0, lr_min=1e-3)
