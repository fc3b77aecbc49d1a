r"""The task suite that chose the range test's default suggestion, and its cross-validation.

A *rule* reads one learning rate from a range-test record: an **anchor** point of the smoothed
curve (:func:`lrcore.rangetest.anchors`: ``steepest``, ``minimum``, ``valley``, ``end``,
``slide``) times a constant factor :math:`10^c`; optionally times the momentum correction
:func:`lrcore.rangetest.momentum_factor`; with a second constant :math:`p`, either
*budget-aware* (times :math:`10^{p \log_{10}(\text{epochs}/10)}`) or a *blend* of two anchors
(:math:`a_1^{1-p} a_2^p`). The constants are fitted, and the rules judged, against a grid
search of constant learning rates on each task of :data:`TASKS`. The winner, the blend of
``end`` and ``minimum`` with the momentum correction (:data:`DEFAULT_RULE`), is
``lrcore.rangetest``'s ``edge``.

**The table.** For every task, :func:`run_task` stores the final validation loss after the
task's budget for every learning rate of :data:`GRID` and every initialisation of
:data:`INIT_SEEDS` (``inf`` where a run diverged), and the minibatch losses of
:data:`RT_SEEDS` range tests at ``range_test``'s defaults (the task's batch size and momentum
passed; test ``s`` trains ``model.copy(seed=s)`` with minibatch order ``s``). The stored table
(``lrcore/data/range_suite.json.gz``) is written by ``bench/suggestion_suite.py``; everything
else here only reads it, in well under a second.

**Judging a suggestion** ε on a task: its distance from the grid best in decades,
:math:`|\log_{10}(ε / ε^*)|`, where :math:`ε^*` is the vertex of a parabola through the grid's
best mean loss and its two neighbours (in :math:`\log ε` and :math:`\log L`), and its *loss
ratio*, the grid's mean loss at ε (interpolated linearly in :math:`\log ε`, :math:`\log L`)
over the grid's best mean loss; ``inf`` above the largest grid rate whose runs all survived
(a real run there may diverge). A task's error is the mean over its range tests. Its
**score** puts both on the scale of the targets:

.. math:: \text{score} = \max\left(\frac{\text{decades}}{0.5},\
          \frac{\ln \text{ratio}}{\ln 1.3}\right),

so a task meets both targets (within 0.5 decade and 1.3x the loss) iff its score is <= 1.

**Cross-validation.** A rule's constants are fitted on the other tasks (the least mean score
over them, on a grid of constants) and the rule is judged on the task left out
(:func:`loo`); the reported errors are these out-of-sample ones. The winner
(:func:`choose`) is the rule meeting both targets out of sample on the most tasks, then the
one with the least worst out-of-sample score: a criterion fixed before looking at the results.
"""
from __future__ import annotations

import gzip
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .data import load_digits, make_least_squares, make_spirals, make_teacher_student
from .models import MLP, LinearRegression, SoftmaxRegression
from .rangetest import ANCHORS, anchors, centred_smooth, momentum_factor, range_test
from .schedules import exponential_range

__all__ = ["Task", "TASKS", "GRID", "INIT_SEEDS", "RT_SEEDS", "TABLE", "DEFAULT_RULE",
           "run_task", "train_at", "load_table", "save_table", "grid_best", "score", "Suite",
           "loo", "cv_table", "choose", "TARGET_DECADES", "TARGET_RATIO"]

#: the constant learning rates of the grid: 6 a decade from 1e-4 to 10
GRID = np.logspace(-4, 1, 31)
#: the initialisations of every grid point (mean final validation loss over them)
INIT_SEEDS = (0, 1, 2)
#: the range tests of every task (test ``s``: ``model.copy(seed=s)``, minibatch order ``s``)
RT_SEEDS = tuple(range(6))
#: the targets of issue 11: within 0.5 decade of the grid best and 1.3x its loss
TARGET_DECADES, TARGET_RATIO = 0.5, 1.3
#: where ``bench/suggestion_suite.py`` stores the table
TABLE = Path(__file__).with_name("data") / "range_suite.json.gz"
#: the default rule's family (``lrcore.rangetest``'s ``edge``), as :func:`loo` takes it
DEFAULT_RULE = {"anchor": "end", "corrected": True, "blend": "minimum"}
#: the constants a rule may take: the factor 10^c, c in decades
OFFSETS = np.round(np.arange(-3.0, 1.0 + 1e-9, 0.01), 2)
#: the budget slope of a budget-aware rule, decades per decade of epochs
SLOPES = np.round(np.arange(-1.0, 1.0 + 1e-9, 0.05), 2)
#: the weight of the second anchor in a blended rule
BLENDS = np.round(np.arange(0.0, 1.0 + 1e-9, 0.05), 2)


@dataclass(frozen=True)
class Task:
    """One task: data, model, batch size, budget (epochs) and momentum.

    ``data``: ``("digits", {})``, ``("spirals", kwargs)``, ``("least_squares", kwargs)`` or
    ``("teacher_student", kwargs)`` (the book's testbed, :func:`lrcore.data.make_teacher_student`);
    ``model``: ``("softmax",)``, ``("linear",)`` or ``("mlp", hidden sizes)``.
    """

    name: str
    data: tuple
    model: tuple
    batch_size: int
    epochs: int
    momentum: float = 0.0
    kw: dict = field(default_factory=dict)

    def make(self):
        """The task's ``(model, data)``: a fresh model (seed 0) and its dataset."""
        kind, kwargs = self.data
        data = {"digits": load_digits, "spirals": make_spirals,
                "least_squares": make_least_squares,
                "teacher_student": make_teacher_student}[kind](seed=0, **kwargs)
        n_in = data.X_train.shape[1]
        n_out = data.n_classes if data.n_classes else 1
        if self.model[0] == "softmax":
            model = SoftmaxRegression(n_in, n_out)
        elif self.model[0] == "linear":
            model = LinearRegression(n_in)
        else:
            model = MLP([n_in, *self.model[1], n_out])
        return model, data


_SP5 = {"n_classes": 5, "turns": 1.5}
_LS50 = {"n_features": 50, "lambda_max": 100.0, "lambda_min": 0.01}
#: the suite: datasets, models, batch sizes 16-256, budgets 5-50 epochs, with and without
#: momentum (0.9)
TASKS = (
    Task("digits softmax b32 5ep", ("digits", {}), ("softmax",), 32, 5),
    Task("digits softmax b128 20ep", ("digits", {}), ("softmax",), 128, 20),
    Task("digits softmax b64 10ep m0.9", ("digits", {}), ("softmax",), 64, 10, 0.9),
    Task("digits MLP 32 b16 5ep", ("digits", {}), ("mlp", (32,)), 16, 5),
    Task("digits MLP 128 b64 10ep", ("digits", {}), ("mlp", (128,)), 64, 10),
    Task("digits MLP 128 b32 5ep m0.9", ("digits", {}), ("mlp", (128,)), 32, 5, 0.9),
    Task("digits MLP 256 b128 50ep", ("digits", {}), ("mlp", (256,)), 128, 50),
    Task("digits MLP 128-128 b256 20ep", ("digits", {}), ("mlp", (128, 128)), 256, 20),
    Task("digits MLP 64-64-64 b128 50ep m0.9", ("digits", {}), ("mlp", (64, 64, 64)), 128, 50,
         0.9),
    Task("digits MLP 32-32-32 b32 10ep", ("digits", {}), ("mlp", (32, 32, 32)), 32, 10),
    Task("spirals MLP 64-64 b32 20ep", ("spirals", {}), ("mlp", (64, 64)), 32, 20),
    Task("spirals MLP 128 b16 50ep m0.9", ("spirals", {}), ("mlp", (128,)), 16, 50, 0.9),
    Task("spirals-5 MLP 64-64-64 b64 50ep", ("spirals", _SP5), ("mlp", (64, 64, 64)), 64, 50),
    Task("least squares b32 5ep", ("least_squares", {}), ("linear",), 32, 5),
    Task("least squares b256 50ep", ("least_squares", {}), ("linear",), 256, 50),
    Task("least squares 50 b16 10ep m0.9", ("least_squares", _LS50), ("linear",), 16, 10, 0.9),
    # the book's testbed (lrcore.protocol.PROTOCOL: MLP 20-64-5, batch 32, 10 epochs) and two
    # variants; added after the rule was first chosen on the 16 tasks above, and judged first
    # as held-out tasks with its constants fixed (chapter 02)
    Task("teacher-student MLP 64 b32 10ep", ("teacher_student", {}), ("mlp", (64,)), 32, 10),
    Task("teacher-student MLP 128-128 b128 20ep m0.9", ("teacher_student", {}),
         ("mlp", (128, 128)), 128, 20, 0.9),
    Task("teacher-student softmax b256 5ep", ("teacher_student", {}), ("softmax",), 256, 5),
)


# --------------------------------------------------------------------------------------------
# running a task (bench/suggestion_suite.py) and the stored table
# --------------------------------------------------------------------------------------------

def run_task(task: Task, *, grid=GRID, init_seeds=INIT_SEEDS, rt_seeds=RT_SEEDS) -> dict:
    """The grid and the range tests of ``task`` (one stacked ``sweep`` for the grid)."""
    from .training import sweep
    model, data = task.make()
    runs = sweep(model, data, lrs=list(grid), init_seeds=list(init_seeds), epochs=task.epochs,
                 batch_size=task.batch_size, momentum=task.momentum)
    final = np.array([[h.val_loss[-1] for h in row] for row in runs])
    final = np.where(np.isfinite(final), final, np.inf)
    tests = [range_test(model.copy(seed=s), data, batch_size=task.batch_size,
                        momentum=task.momentum, seed=s) for s in rt_seeds]
    rt = tests[0]
    return {"name": task.name, "epochs": task.epochs, "batch_size": task.batch_size,
            "momentum": task.momentum, "grid": [float(v) for v in grid],
            "grid_loss": [[float(v) for v in row] for row in final],
            "rt": {"lr_start": rt.lr_start, "lr_end": rt.lr_end, "steps": rt.steps,
                   "window": rt.window, "losses": [t.losses.tolist() for t in tests]}}


def train_at(task: Task, lrs, *, init_seeds=INIT_SEEDS) -> list:
    """Final validation losses ``(lrs, init seeds)`` of training ``task`` at ``lrs`` (the check
    of a rule's suggestions by real training; ``inf`` where a run diverged)."""
    from .training import sweep
    model, data = task.make()
    runs = sweep(model, data, lrs=[float(v) for v in lrs], init_seeds=list(init_seeds),
                 epochs=task.epochs, batch_size=task.batch_size, momentum=task.momentum)
    final = np.array([[h.val_loss[-1] for h in row] for row in runs])
    return np.where(np.isfinite(final), final, np.inf).tolist()


def save_table(rows: list, path=TABLE):
    with gzip.open(path, "wt", encoding="utf-8") as f:
        json.dump(rows, f, separators=(",", ":"))


def load_table(path=TABLE) -> list:
    """The stored table: one dict per task (see :func:`run_task`)."""
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return json.load(f)


# --------------------------------------------------------------------------------------------
# judging suggestions
# --------------------------------------------------------------------------------------------

def grid_best(grid, loss) -> tuple[float, float]:
    """``(ε*, L*)``: the parabola vertex in (log ε, log L) around the grid's best mean loss
    (the best grid rate itself at an edge), clipped to its neighbours; L* the best mean loss."""
    x, y = np.log10(grid), np.log(loss)
    i = int(np.argmin(y))
    if 0 < i < len(x) - 1 and np.isfinite(y[i - 1:i + 2]).all():
        a, b, _ = np.polyfit(x[i - 1:i + 2], y[i - 1:i + 2], 2)
        v = -b / (2 * a) if a > 0 else x[i]
        return float(10 ** np.clip(v, x[i - 1], x[i + 1])), float(loss[i])
    return float(grid[i]), float(loss[i])


class _Judge:
    """Distance and loss ratio of suggestions on one task, from its grid."""

    def __init__(self, grid, grid_loss):
        self.grid = np.asarray(grid)
        self.mean = np.asarray(grid_loss).mean(axis=1)         # inf where a run diverged
        self.best, self.best_loss = grid_best(self.grid, self.mean)
        ok = np.isfinite(self.mean)
        # the rates up to the largest whose runs all survived (a gap below it is interpolated)
        self.top = self.grid[ok].max()
        self.x, self.y = np.log10(self.grid[ok]), np.log(self.mean[ok])

    def decades(self, lr):
        return np.abs(np.log10(lr / self.best))

    def ratio(self, lr):
        lr = np.asarray(lr, dtype=float)
        r = np.exp(np.interp(np.log10(lr), self.x, self.y)) / self.best_loss
        return np.where(lr <= self.top * (1 + 1e-9), r, np.inf)


def score(decades, ratio):
    """``max(decades / 0.5, ln ratio / ln 1.3)``: <= 1 iff both targets are met."""
    return np.maximum(np.asarray(decades) / TARGET_DECADES,
                      np.log(np.asarray(ratio)) / math.log(TARGET_RATIO))


# --------------------------------------------------------------------------------------------
# the rules and the cross-validation
# --------------------------------------------------------------------------------------------

class Suite:
    """The stored table, read: per task its judge, budget and the anchors of its range tests.

    ``anchor[name]``: ``(tasks, tests)`` anchor LRs, recomputed from the stored minibatch
    losses with :func:`lrcore.rangetest.centred_smooth` and :func:`lrcore.rangetest.anchors`
    (so a change to either shows here).
    """

    def __init__(self, rows=None):
        rows = load_table() if rows is None else rows
        self.rows = rows
        self.names = [r["name"] for r in rows]
        self.epochs = np.array([r["epochs"] for r in rows], dtype=float)
        self.judges = [_Judge(r["grid"], r["grid_loss"]) for r in rows]
        per = [[_record_anchors(r["rt"], losses) for losses in r["rt"]["losses"]]
               for r in rows]
        self.anchor = {a: np.array([[t[a] for t in task] for task in per]) for a in ANCHORS}
        # the momentum correction of every record (1 without momentum)
        self.momentum = np.array([[momentum_factor(r["momentum"], _growth(r["rt"]))]
                                  for r in rows])

    def trained_ratio(self) -> np.ndarray:
        """Per task: the mean over the stored check's LRs (``row["check"]``, written by
        ``bench/suggestion_suite.py``: the default rule's out-of-sample suggestions) of the
        final validation loss of really training at them (mean over the initialisations)
        over the grid's best mean loss; ``inf`` where a run diverged."""
        out = []
        for row, judge in zip(self.rows, self.judges):
            loss = np.asarray(row["check"]["loss"]).mean(axis=1)
            out.append(np.mean(loss / judge.best_loss))
        return np.array(out)

    def errors(self, lrs):
        """``(decades, ratio)`` per task and test for the suggestions ``lrs`` (tasks, tests)."""
        d = np.array([j.decades(lr) for j, lr in zip(self.judges, lrs)])
        q = np.array([j.ratio(lr) for j, lr in zip(self.judges, lrs)])
        return d, q

    def log_anchor(self, anchor: str, corrected: bool = False) -> np.ndarray:
        """log10 of the anchor LRs (tasks, tests), times the momentum correction if asked."""
        A = np.log10(self.anchor[anchor])
        return A + np.log10(self.momentum) if corrected else A

    def task_scores(self, logs: np.ndarray, offsets=None) -> np.ndarray:
        """Per task (rows) and constant c (columns, ``offsets``, default :data:`OFFSETS`): the
        score of the task's mean errors for the suggestions ``10 ** (logs + c)``, ``logs``
        (tasks, tests) the log10 of the anchors."""
        c = np.asarray(OFFSETS if offsets is None else offsets, dtype=float)[:, None]
        out = np.empty((len(self.names), len(c)))
        for t, judge in enumerate(self.judges):
            lrs = 10 ** (logs[t][None, :] + c)                         # (offsets, tests)
            out[t] = score(judge.decades(lrs).mean(axis=1), judge.ratio(lrs).mean(axis=1))
        return out


def _growth(rt: dict) -> float:
    """The factor by which the exponential sweep of ``rt`` grows the LR at every step."""
    return (rt["lr_end"] / rt["lr_start"]) ** (1 / (rt["steps"] - 1))


def _record_anchors(rt: dict, losses) -> dict:
    losses = np.asarray(losses, dtype=float)
    n = len(losses)
    lrs = exponential_range(rt["lr_start"], rt["lr_end"], steps=rt["steps"])(np.arange(n))
    lrs = np.asarray(lrs, dtype=float)
    span = math.log10(rt["lr_end"] / rt["lr_start"])
    smoothed = centred_smooth(lrs, losses, window=rt["window"], span=span)
    return anchors(lrs, smoothed, skip=rt["window"] * span / 2)


def _fit(scores: np.ndarray, train: np.ndarray) -> int:
    """The constant (column) of least mean score over the ``train`` tasks (first on ties)."""
    return int(np.argmin(scores[train].mean(axis=0)))


def loo(suite: Suite, anchor: str, *, budget: bool = False, corrected: bool = False,
        blend: str | None = None) -> dict:
    """Leave-one-task-out cross-validation of the rule ``anchor × 10^c`` (``c`` fitted).

    ``corrected``: the anchor times the momentum correction
    :func:`lrcore.rangetest.momentum_factor`. A second constant ``p``, fitted with ``c``:
    ``budget=True`` -- ``× 10^(p·log10(epochs/10))`` (p in :data:`SLOPES`); ``blend`` (another
    anchor) -- the geometric blend ``anchor^(1-p) · blend^p`` (p in :data:`BLENDS`).

    Returns per task the constants fitted without it (``c``, ``p``), its out-of-sample
    suggestions (``lrs``: tasks × tests), mean ``decades``, mean ``ratio`` and ``score``;
    and the constants fitted on all tasks (``c_all``, ``p_all``: the rule's constants).
    """
    A = suite.log_anchor(anchor, corrected)
    if budget:
        params, shift = SLOPES, np.log10(suite.epochs / 10)[:, None]
        logs = [A + p * shift for p in params]
    elif blend is not None:
        params, B = BLENDS, suite.log_anchor(blend, corrected)
        logs = [(1 - p) * A + p * B for p in params]
    else:
        params, logs = np.array([0.0]), [A]
    S = np.stack([suite.task_scores(L) for L in logs])  # (p, task, c)
    n = len(suite.names)
    flat = S.transpose(1, 0, 2).reshape(n, -1)          # (task, p·c)

    def constants(train):
        k = _fit(flat, train)
        return k // len(OFFSETS), float(OFFSETS[k % len(OFFSETS)])

    ps, cs, lrs = [], [], []
    for t in range(n):
        j, c = constants(np.arange(n) != t)
        ps.append(float(params[j]))
        cs.append(c)
        lrs.append(10 ** (logs[j][t] + c))
    lrs = np.array(lrs)
    d, q = suite.errors(lrs)
    j_all, c_all = constants(np.ones(n, dtype=bool))
    return {"anchor": anchor, "budget": budget, "corrected": corrected,
            "blend": blend, "c": np.array(cs), "p": np.array(ps), "lrs": lrs,
            "decades": d.mean(axis=1), "ratio": q.mean(axis=1),
            "score": score(d.mean(axis=1), q.mean(axis=1)),
            "c_all": c_all, "p_all": float(params[j_all])}


def cv_table(suite: Suite, result: dict) -> list[dict]:
    """One row per task of a :func:`loo` result: grid best, the geometric mean of the
    out-of-sample suggestions, their mean signed distance in decades, the mean distance, the
    loss ratio read from the grid, and (when the table has the check and ``result`` is the
    default rule's) the ratio of really training there."""
    trained = (suite.trained_ratio() if all("check" in r for r in suite.rows)
               else np.full(len(suite.rows), np.nan))
    rows = []
    for t, (name, judge) in enumerate(zip(suite.names, suite.judges)):
        lrs = result["lrs"][t]
        signed = np.log10(lrs / judge.best)
        rows.append({"task": name, "best": judge.best, "suggested": float(np.exp(np.log(lrs).mean())),
                     "signed": float(signed.mean()), "decades": float(result["decades"][t]),
                     "ratio": float(result["ratio"][t]), "trained": float(trained[t]),
                     "score": float(result["score"][t])})
    return rows


def choose(results: dict) -> str:
    """The winner among ``{rule name: loo(...)}``: most tasks with score <= 1, then the least
    worst score, then the least mean score."""
    def key(name):
        s = results[name]["score"]
        return (-int(np.sum(s <= 1)), float(np.max(s)), float(np.mean(s)))
    return min(results, key=key)
