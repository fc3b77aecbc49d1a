r"""The learning-rate range test: a short run whose LR grows every step, and what to read from it.

Train from the model's current parameters for ``steps`` minibatch updates while the learning
rate sweeps from ``lr_start`` to ``lr_end`` (geometrically with ``mode="exp"``, evenly with
``"linear"``: :func:`lrcore.schedules.exponential_range`, :func:`~lrcore.schedules.linear_range`);
record the loss of every minibatch; stop early once the loss blows up. The loss against
:math:`\log ε` falls, flattens, then rises: a good LR lies on the falling part, left of the
minimum (the article: "1 or 2 steps smaller" than where the loss starts to increase).

Conventions (those of the schedule contract the project follows, restated here):

* ``lrs[k]`` is the LR of update ``k`` and ``losses[k]`` the minibatch loss measured just before
  it; without divergence ``lrs[0] == lr_start`` and ``lrs[-1] == lr_end``.
* Stop when a loss is NaN/inf (``stop_reason="nan"``; that loss is not recorded), or when the
  bias-corrected EMA of the losses, :math:`s_k`, rises too far above its best value so far
  :math:`s^*` (``"diverged"``; the step that triggered it is the last one recorded):

  .. math:: s_k - s^* > (\text{diverge\_factor} - 1)\,|s^*| ,

  i.e. :math:`s_k > \text{diverge\_factor}·s^*` for a positive loss, and the same distance above
  :math:`s^*` when losses are negative. (The EMA is causal, so it can be checked as the run
  goes; the divergence check runs every 8 steps, the steps after a stop are discarded.)
* The caller's model is never written: the run trains a copy of its parameters
  (:meth:`~lrcore.stacked.StackedModel.copies`, as :func:`~lrcore.training.sweep` does), so
  they and the optimizer state (the run's velocity) live and die inside the test, whatever
  happens, and a model whose arrays are read-only can be tested. The minibatch order comes from ``np.random.default_rng(seed)``: the
  run is deterministic for a given ``seed`` and the process-wide ``np.random`` state is neither
  read nor written.

Suggestions are read from a **centred** smoother of the loss in :math:`\log_{10} ε` -- a local
linear fit over a window of ``window`` times the decades swept -- because an EMA lags: it
responds about :math:`β/(1-β)` steps late (49 at β = 0.98), so on a rising curve it sits to the
right of the data, and so do LRs read from it (how many decades that is depends on the steps
per decade of the sweep). ``ema`` keeps the EMA curve for comparison.

* ``steepest``: the LR where the smoothed loss falls fastest, :math:`\min\, ds/d\log ε`, left of
  the smoothed minimum and past the first half-window (where the smoother sees one side only
  and its slope is mostly noise);
* ``minimum``: the LR of the smoothed minimum, divided by 10 (the article's "1 step smaller");
* ``valley``: fastai's rule -- the longest decreasing run (a longest decreasing subsequence) of
  the smoothed loss, at the index fastai's code picks, about half-way along it;
* ``edge``: mostly the LR where the test stopped -- the edge of stability it found -- with a
  little of the smoothed minimum, :math:`ε_{stop}^{3/4}\, ε_{min}^{1/4}`, times the momentum
  correction :func:`momentum_factor` (1 for plain SGD), divided by :math:`10^{0.82} ≈ 6.6`
  (``EDGE_BLEND``, ``EDGE_DECADES``).

``suggestion`` is the one named by ``suggest``, by default ``"edge"``: the rule chosen by
leave-one-task-out cross-validation against grid searches of constant LRs on the 19 tasks of
:mod:`lrcore.rangesuite` (its constants fitted on the other tasks, judged on the one left out;
chapter ``02_range_test`` shows the table). Out of sample it came within 0.5 decade and 1.3x
the grid best's loss on 14 of the 19 tasks, against 10 for the best factor on the smoothed
minimum (with the momentum correction) and 3 for ``minimum`` (the smoothed minimum / 10, the
default before). It was first chosen on the 16 tasks without the book's testbed; judged on
the three testbed tasks with those constants fixed, it met both targets on two. Its limits:
the constants hold for the default sweep (1e-7 to 10 in 100 steps, 12.4 steps a decade): a
faster sweep stops later; a test that *completes* without diverging knows only that the edge
lies above ``lr_end``, and its ``edge`` then uses ``lr_end``: a lower bound (raise
``lr_end``); and it knows neither the budget nor the schedule of the training to come (a
budget-aware variant did no better out of sample). fastai's default is ``"valley"``, which lay farthest below the
grid best.

**No suggestion.** A record that cannot carry one gives NaN for every suggestion, and
``suggestion_note`` says why (it is ``""`` otherwise):

* fewer than 3 losses were recorded (the run stopped at once; the rules need a point on each side
  of one, so ``steps`` must be at least 3);
* the loss is flat, every recorded loss within a relative :math:`10^{-5}` of the others,

  .. math:: \max_k L_k - \min_k L_k \le 10^{-5} \max_k |L_k| ,

  e.g. all-zero features, or a sweep that ends far too low to move the loss. The curve has no
  minimum and no slope; the rules would read ``lr_start / 10`` or a point picked by round-off
  (about :math:`10^{-7}` of the loss in float32, :math:`10^{-16}` in float64).
"""
from __future__ import annotations

import bisect
import math
import warnings
from dataclasses import dataclass

import numpy as np

from .backend import to_numpy
from .models import DenseModel
from .plots import plot_range_test
from .schedules import exponential_range, linear_range
from .stacked import StackedModel, StackedRuns
from . import checks
from .training import MAX_RECORD_BYTES, RECORD_BYTES, _setup

__all__ = ["RangeTest", "range_test", "range_test_fn", "centred_smooth", "ema_smooth", "smoothed_diverged",
           "valley_index", "slide_index", "anchors", "SUGGESTIONS", "ANCHORS"]

#: the points of the smoothed curve that rules are read from (:func:`anchors`)
ANCHORS = ("steepest", "minimum", "valley", "end", "slide")
#: the name of the rule chosen by leave-one-task-out cross-validation on the task suite of
#: :mod:`lrcore.rangesuite`: a geometric blend of the LR where the test stopped (the edge of
#: stability it found, weight ``1 - EDGE_BLEND``) and the smoothed minimum (``EDGE_BLEND``),
#: corrected for momentum (:func:`momentum_factor`), times ``10 ** EDGE_DECADES``
MEASURED = "edge"
#: its constants, fitted on all the tasks of the suite (``rangesuite.loo``'s ``p_all`` and
#: ``c_all``; a slow test keeps them equal): ``stop^0.75 · min^0.25 / 10^0.82`` (/6.6)
EDGE_BLEND, EDGE_DECADES = 0.25, -0.82
#: the suggestion rules, in the order they are drawn
SUGGESTIONS = ("steepest", "minimum", "valley", MEASURED)
#: the fewest recorded losses the rules read a suggestion from, hence the fewest ``steps``
_MIN_STEPS = 3
#: the loss is flat when all recorded losses lie within this fraction of the largest |loss|
_FLAT_RTOL = 1e-5


# --------------------------------------------------------------------------------------------
# smoothing and the stopping rule
# --------------------------------------------------------------------------------------------

def ema_smooth(losses, beta: float = 0.98) -> np.ndarray:
    r"""Bias-corrected exponential moving average:
    :math:`a_k = β a_{k-1} + (1-β) L_k`, :math:`s_k = a_k / (1 - β^{k+1})`
    (what fastai and most range-test code plot).

    >>> print(np.round(ema_smooth([1.0, 1.0, 4.0], beta=0.5), 4))
    [1.     1.     2.7143]
    """
    losses = np.asarray(losses, dtype=np.float64)
    beta = checks.real("beta", beta, low=0, high=1, high_open=True)
    out, avg = np.empty_like(losses), 0.0
    for k, x in enumerate(losses):
        avg = beta * avg + (1 - beta) * x
        out[k] = avg / (1 - beta ** (k + 1))
    return out


def centred_smooth(lrs, losses, *, window: float = 0.1, span: float | None = None) -> np.ndarray:
    r"""A centred (lag-free) smoother of ``losses`` against :math:`x = \log_{10} ε`.

    At every point, the value at :math:`x_i` of the least-squares line through the points with
    :math:`|x_j - x_i| \le h`, :math:`h = \text{window}·\text{span}/2` (``span`` defaults to the
    decades covered by ``lrs``): a moving average where the points are evenly spread, without
    the bias a plain average has at the ends of a sloped curve (Savitzky–Golay of order 1).
    ``lrs`` must increase.

    >>> lrs = np.geomspace(1e-3, 1.0, 7)
    >>> print(np.round(centred_smooth(lrs, [3.0, 2.0, 1.0, 0.0, 1.0, 2.0, 3.0], window=0.4), 3))
    [3.    2.    1.    0.667 1.    2.    3.   ]
    """
    x = np.log10(np.asarray(lrs, dtype=np.float64))
    y = np.asarray(losses, dtype=np.float64)
    if x.shape != y.shape or x.ndim != 1:
        raise ValueError(f"lrs and losses must be 1-D of the same length; got {x.shape} and {y.shape}")
    if x.size == 0:
        return y.copy()
    if np.any(np.diff(x) <= 0):
        raise checks.fail(ValueError, "lrs", "strictly increasing", "a step down")
    span = (x[-1] - x[0]) if span is None else span
    half = window * span / 2
    x = x - x.mean()                                   # centre, for accurate sums of squares
    lo = np.searchsorted(x, x - half, side="left")     # window i: points lo[i] .. hi[i]-1
    hi = np.searchsorted(x, x + half, side="right")

    def window_sum(v):
        c = np.concatenate([[0.0], np.cumsum(v)])
        return c[hi] - c[lo]

    n, sx, sxx = window_sum(np.ones_like(x)), window_sum(x), window_sum(x * x)
    sy, sxy = window_sum(y), window_sum(x * y)
    # the line through the window, evaluated at x_i: a + b x_i with the normal equations
    d = n * sxx - sx * sx
    flat = d <= 1e-12 * np.maximum(n * sxx, 1e-300)    # one point (or one x): the mean
    d = np.where(flat, 1.0, d)
    b = np.where(flat, 0.0, (n * sxy - sx * sy) / d)
    a = (sy - b * sx) / n
    return a + b * x


def smoothed_diverged(s: float, best: float, *, diverge_factor: float = 4.0,
                      diverge=checks.DEPRECATED) -> bool:
    r"""The range test's stopping rule: :math:`s - s^* > (\text{diverge\_factor} - 1)|s^*|`.

    For a positive best value this is ``s > diverge_factor * best``; it also works when losses
    are negative (the same distance above the best), where ``s > diverge_factor * best`` would
    stop at once. ``diverge`` is the deprecated old name of ``diverge_factor``.

    >>> smoothed_diverged(4.5, 1.0, diverge_factor=4.0), smoothed_diverged(3.5, 1.0)
    (True, False)
    >>> smoothed_diverged(-1.0, -2.0), smoothed_diverged(4.5, -2.0)
    (False, True)
    """
    diverge_factor = checks.renamed("diverge", diverge, "diverge_factor", diverge_factor, 4.0)
    return bool(s - best > (diverge_factor - 1.0) * abs(best))


class _SmoothedLimit:
    """The stopping rule as the engine applies it: EMA of the losses, checked point by point."""

    def __init__(self, diverge_factor: float, beta: float):
        self.diverge_factor, self.beta = diverge_factor, beta
        self.avg, self.best, self.reason = 0.0, math.inf, None

    def __call__(self, k0: int, losses: np.ndarray) -> np.ndarray:
        for j, x in enumerate(losses[:, 0]):
            k = k0 + j
            if not math.isfinite(x):
                self.reason = "nan"
                return np.array([k])
            self.avg = self.beta * self.avg + (1 - self.beta) * x
            s = self.avg / (1 - self.beta ** (k + 1))
            if k > 0 and smoothed_diverged(s, self.best, diverge_factor=self.diverge_factor):
                self.reason = "diverged"
                return np.array([k])
            self.best = min(self.best, s)
        return None


# --------------------------------------------------------------------------------------------
# suggestions
# --------------------------------------------------------------------------------------------

def valley_index(values) -> int:
    """fastai's ``valley``: the index about half-way along the longest decreasing run of ``values``.

    The run is a longest strictly decreasing subsequence; with ``L`` its length in indices
    from its start to its end, fastai's code picks ``start + int(L/3) + int(L/3/2)``.

    >>> valley_index([9.0, 8.0, 7.0, 6.0, 5.0, 4.0, 3.0, 2.0, 1.0, 0.0, 1.0, 2.0])
    3
    """
    v = np.asarray(values, dtype=np.float64)
    n = len(v)
    if n == 0:
        raise ValueError("valley_index needs at least one value")
    # lds[i]: length of the longest strictly decreasing run ending at i, by patience sorting of
    # −v (O(n log n); fastai's double loop took 1 ms for 180 points, 6% of a range test)
    lds, tails = np.empty(n, dtype=np.int64), []   # tails[j]: least end of an increasing run of length j + 1
    for i, x in enumerate((-v).tolist()):
        j = bisect.bisect_left(tails, x)
        tails[j:j + 1] = [x]
        lds[i] = j + 1
    end = int(np.argmax(lds))                 # the first longest run
    start = end - int(lds[end])               # as fastai writes it (one before the run's start)
    sections = (end - start) / 3
    return int(min(max(start + int(sections) + int(sections / 2), 0), n - 1))


def slide_index(values, *, lr_diff: int = 15, thresh: float = 0.005) -> int:
    """fastai's ``slide``: from the right end of ``values`` (trimmed as fastai trims its record:
    the first tenth and the last 5 points dropped), slide a pair of points ``lr_diff`` apart to
    the left while their slopes (``np.gradient`` per index) differ by more than ``thresh``;
    the index of the left point where it stops (the start of the trimmed curve when too short).

    >>> slide_index(np.r_[np.linspace(3.0, 1.0, 60), np.linspace(1.0, 9.0, 40)])
    79
    """
    v = np.asarray(values, dtype=np.float64)
    n = len(v)
    lo, hi = n // 10, n - 5
    if hi - lo < lr_diff + 2:
        return int(min(lo, n - 1))
    g = np.gradient(v[lo:hi])
    m = len(g)
    r, left = m - 1, m - 1 - lr_diff
    found = left
    while left >= 0 and abs(g[r] - g[left]) > thresh:
        found = left
        r, left = r - 1, left - 1
    return lo + found


def momentum_factor(momentum: float, growth: float) -> float:
    r"""The correction of an LR read from a range test run with momentum μ, whose LR grows by
    the factor ``growth`` (r > 1) at every step: :math:`(1 - μ) / (1 - μ / r)`.

    With momentum the step is :math:`ε_k v_k`, :math:`v_k = \sum_j μ^j g_{k-j}`: at a
    constant LR it settles to :math:`ε g / (1 - μ)`; in the sweep the earlier terms carry
    smaller LRs, and the step is :math:`ε_k g \sum_j (μ/r)^j = ε_k g / (1 - μ/r)` -- smaller.
    The loss at a recorded :math:`ε_k` thus shows what training at the smaller constant LR
    :math:`ε_k (1 - μ)/(1 - μ/r)` does (0.40 ε_k at μ = 0.9 and the default sweep).

    >>> round(momentum_factor(0.9, 10 ** (8 / 99)), 3), momentum_factor(0.0, 1.2)
    (0.396, 1.0)
    """
    if momentum == 0:
        return 1.0
    return (1 - momentum) / (1 - momentum / growth)


def anchors(lrs: np.ndarray, smoothed: np.ndarray, *, skip: float = 0.0) -> dict:
    """The points of the centred ``smoothed`` curve the rules are read from (LRs, no factor):
    ``steepest`` (fastest fall, left of the minimum, from ``log10(lrs[0]) + skip`` on: in the
    first half-window the local line is fitted to one side only, and its slope is mostly
    noise; if the minimum comes before that, from the start), ``minimum`` (the smoothed
    minimum itself), ``valley`` (fastai's), ``end`` (the last LR recorded: where the test
    stopped, or ``lr_end``) and ``slide`` (fastai's, :func:`slide_index`). NaN for each when
    fewer than 3 points were recorded."""
    if len(lrs) < _MIN_STEPS:
        return dict.fromkeys(ANCHORS, math.nan)
    i_min = int(np.argmin(smoothed))
    x = np.log10(lrs)
    slope = np.gradient(smoothed, x)                       # d smoothed / d log10 ε
    first = int(np.searchsorted(x, x[0] + skip - 1e-12))   # the first point with a whole window
    first = first if first <= i_min else 0
    i_steep = first + int(np.argmin(slope[first: i_min + 1]))
    return {"steepest": float(lrs[i_steep]), "minimum": float(lrs[i_min]),
            "valley": float(lrs[valley_index(smoothed)]), "end": float(lrs[-1]),
            "slide": float(lrs[slide_index(smoothed)])}


def _suggestions(lrs: np.ndarray, smoothed: np.ndarray, *, skip: float = 0.0,
                 momentum: float = 0.0) -> dict:
    """The suggestions from the centred ``smoothed`` loss (see :func:`anchors`
    for ``skip``): ``steepest`` and ``valley`` are their anchors, ``minimum``
    the smoothed minimum / 10, ``edge`` :math:`ε_{stop}^{1-w} ε_{min}^{w}`
    (``w = EDGE_BLEND``; the last recorded LR and the smoothed minimum) times
    :func:`momentum_factor` times ``10 ** EDGE_DECADES``."""
    a = anchors(lrs, smoothed, skip=skip)
    growth = lrs[-1] / lrs[-2] if len(lrs) >= _MIN_STEPS else 1.0
    blend = a["end"] ** (1 - EDGE_BLEND) * a["minimum"] ** EDGE_BLEND
    edge = blend * momentum_factor(momentum, growth) * 10 ** EDGE_DECADES
    return {"steepest": a["steepest"], "minimum": a["minimum"] / 10,
            "valley": a["valley"], MEASURED: float(edge)}


def _why_no_suggestion(losses: np.ndarray) -> str:
    r"""Why the recorded ``losses`` carry no suggestion (see the module docstring), or ``""``.

    >>> _why_no_suggestion(np.array([2.3, 2.1, 2.5]))
    ''
    >>> _why_no_suggestion(np.array([2.3, 2.3, 2.3 + 1e-9]))[:58]
    'flat loss: all 3 recorded losses lie within 1e-05 x 2.3 of'
    """
    n = len(losses)
    if n < _MIN_STEPS:
        return f"only {n} losses recorded; a suggestion needs at least {_MIN_STEPS}"
    scale = float(np.max(np.abs(losses)))
    if np.ptp(losses) <= _FLAT_RTOL * scale:   # max L - min L <= 1e-5 max |L|
        return (f"flat loss: all {n} recorded losses lie within {_FLAT_RTOL:g} x {scale:.4g} of "
                f"each other; the curve carries no information about the LR (all-zero "
                f"features? lr_end far too small?)")
    return ""


# --------------------------------------------------------------------------------------------
# the result
# --------------------------------------------------------------------------------------------

@dataclass(repr=False, eq=False)
class RangeTest:
    """The record of an LR range test (NumPy arrays) and the LRs it suggests.

    ``lrs``, ``losses``: the LR of update ``k`` and the minibatch loss before it, for the steps
    recorded; ``smoothed``: the centred smoother of :func:`centred_smooth` (the suggestions use
    it); ``ema``: the bias-corrected EMA of :func:`ema_smooth` (what the stopping rule uses);
    ``suggestions``: ``{"steepest": ε, "minimum": ε, "valley": ε}``; ``suggest``: the name of
    the one returned as ``suggestion``; ``stop_reason``: ``"completed"``, ``"nan"`` or
    ``"diverged"`` (why the run stopped); ``suggestion_note``: ``""``, or why every suggestion
    is NaN -- fewer than 3 recorded losses, or a flat loss (see the module docstring). A flat
    run still completes: ``stop_reason`` tells how the run ended, ``suggestion_note`` what it
    could not tell. ``momentum``: the momentum of the test (it corrects ``edge``);
    ``batch_size``: the test's batch size (the suggestion holds for it; ``None`` when
    :func:`range_test_fn` was not told); ``members`` and ``spread``: the K records and the
    decades between their suggestions, for ``range_test(..., repeats=K)`` (``()`` and NaN for
    one test).
    """

    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    ema: np.ndarray
    suggestions: dict
    suggest: str
    stop_reason: str
    lr_start: float
    lr_end: float
    steps: int
    window: float = 0.1
    diverge_factor: float = 4.0
    mode: str = "exp"
    suggestion_note: str = ""
    momentum: float = 0.0
    batch_size: int | None = None
    members: tuple = ()
    spread: float = math.nan

    @property
    def diverge(self) -> float:
        """Deprecated: the old name of :attr:`diverge_factor`."""
        warnings.warn("RangeTest.diverge is deprecated, use RangeTest.diverge_factor",
                      DeprecationWarning, stacklevel=2)
        return self.diverge_factor

    @property
    def suggestion(self) -> float:
        """The suggested LR: ``suggestions[suggest]`` (NaN when ``suggestion_note`` says why)."""
        return self.suggestions[self.suggest]

    def __repr__(self) -> str:
        head = f"RangeTest({len(self.lrs)} of {self.steps} steps, {self.stop_reason}, "
        if self.suggestion_note:
            return head + f"no suggestion: {self.suggestion_note})"
        sug = ", ".join(f"{k}={v:.3g}" for k, v in self.suggestions.items())
        return head + f"suggestion={self.suggestion:.3g} ({self.suggest}); {sug})"

    def plot(self, ax=None, *, ema: bool = False):
        """Draw this record: :func:`lrcore.plots.plot_range_test` ``(self, ax=ax, ema=ema)``."""
        return plot_range_test(self, ax=ax, ema=ema)


# --------------------------------------------------------------------------------------------
# the test
# --------------------------------------------------------------------------------------------

def range_test(model, data, *, lr_start: float = 1e-7, lr_end: float = 10.0, steps: int = 100,
               batch_size: int = 32, mode: str = "exp", diverge_factor: float = 4.0,
               seed: int = 0, suggest: str = MEASURED, window: float = 0.1, beta: float = 0.98,
               momentum: float = 0.0, weight_decay: float = 0.0, repeats: int = 1,
               diverge=checks.DEPRECATED) -> RangeTest:
    """Run an LR range test on a copy of ``model`` with ``data``; ``model`` is not modified.

    ``steps`` updates (at least 3, the fewest a suggestion can be read from) with ``lr(k)`` from
    ``exponential_range(lr_start, lr_end, steps=steps)`` (``mode="exp"``) or ``linear_range``
    (``"linear"``); minibatches as in :func:`lrcore.training.train` (a fresh permutation from
    ``seed`` each epoch); plain SGD unless ``momentum``/``weight_decay`` are given.
    ``diverge_factor``: the stopping factor (> 1), ``diverge`` its deprecated old name.
    ``window``: width of the centred smoother, as a fraction of the decades swept. ``beta``: the
    EMA of the stopping rule. ``suggest``: which of ``"steepest"``, ``"minimum"``, ``"valley"``,
    ``"edge"`` (the default) is ``suggestion``. See the module docstring for the conventions.

    **The batch size matters**: the suggestion holds for the batch size of the test (a larger
    batch has less gradient noise and usually a larger edge of stability): pass the batch size
    you will train with. ``rt.batch_size`` records it.

    ``repeats=K``: K tests of the same model, with minibatch orders from ``seed``, ``seed + 1``,
    ... (K times the cost); the record is their median curve (see :func:`_median_record`),
    ``members`` the K records and ``spread`` the decades between their largest and smallest
    suggestion. On the first 16 tasks of :mod:`lrcore.rangesuite` the ``edge`` suggestion of one
    test varied by at most 0.34 decades over 6 minibatch orders (0.22 with K = 5); the default
    stays 1, the setting its constants were fitted with.

    Threads: ``model`` is only read (copied) at the start, and the test touches no global state
    (its random numbers come from its own ``default_rng(seed)``), so range tests of one model
    can run in several threads at once, as long as no thread trains that model meanwhile (see
    *Threads* in :mod:`lrcore.training`).

    >>> from lrcore.data import load_digits
    >>> from lrcore.models import SoftmaxRegression
    >>> rt = range_test(SoftmaxRegression(64, 10), load_digits(seed=0),
    ...                 lr_start=1e-4, lr_end=1e3, steps=60)
    >>> rt.stop_reason, len(rt.lrs)
    ('diverged', 54)
    >>> print({k: f"{v:.3g}" for k, v in rt.suggestions.items()})
    {'steepest': '0.363', 'minimum': '0.245', 'valley': '0.0925', 'edge': '9.85'}

    (That sweep is faster than the default one, 8.4 steps a decade instead of 12.4, and
    stops later: the ``edge`` constant holds for the default sweep, see the module docstring.)
    """
    if not isinstance(model, DenseModel):
        raise TypeError(f"model must be an lrcore model (SoftmaxRegression, MLP, "
                        f"LinearRegression); got {type(model).__name__}")
    diverge_factor = checks.renamed("diverge", diverge, "diverge_factor", diverge_factor, 4.0)
    # the table of rates first: at most what train records in its memory limit
    lrs, kw = _check_sweep(lr_start, lr_end, steps, mode, suggest,
                           diverge_factor, window, beta, momentum)
    steps, momentum, diverge_factor = (kw["steps"], kw["momentum"],
                                       kw["diverge_factor"])
    # checks the arguments the run shares with train
    s = _setup(model, data, epochs=1, batch_size=batch_size, momentum=momentum,
               nesterov=False, weight_decay=weight_decay,
               schedule_unit="step", plateau=None, seed=seed,
               diverge_factor=2.0, progress=False)
    mu = None if momentum == 0 else np.full(steps, float(momentum))
    repeats = checks.integer("repeats", repeats, low=1)
    runs = []
    for j in range(repeats):  # test j: minibatch order from seed + j
        rule = _SmoothedLimit(diverge_factor, float(kw["beta"]))
        # the run trains a copy: the model is only read
        trial = StackedModel.copies(model, 1)
        engine = StackedRuns(trial, data, lrs[None], mu,
                             batch_size=s["batch_size"], nesterov=False,
                             weight_decay=float(weight_decay), plateaus=None,
                             seed=s["seed"] + j, stop=rule, evaluate=False,
                             check_every=8)
        engine.run()
        losses = to_numpy(engine.losses[:, 0]).astype(np.float64)
        stop = int(engine.diverged_at[0])
        n = steps if stop < 0 else (stop if rule.reason == "nan" else stop + 1)
        runs.append((losses[:n], rule.reason))
    kw = dict(kw, lr_start=lr_start, lr_end=lr_end, batch_size=s["batch_size"])
    if repeats == 1:
        return _record(lrs[:len(runs[0][0])], runs[0][0], runs[0][1], **kw)
    return _median_record(lrs, runs, **kw)


def _median_record(lrs, runs, **kw) -> RangeTest:
    """The record of the median curve of several tests: at every step the median of the
    tests' losses, a test that has stopped counting as +inf; the curve ends where the median
    is no longer finite (more than half the tests have stopped). Its reason: that of the
    test whose stop ended it ("completed" if it did not end early). ``members``: each test's
    own record; ``spread``: decades between the largest and the smallest of their
    suggestions (``suggest``)."""
    table = np.full((len(runs), len(lrs)), np.inf)
    for j, (losses, _) in enumerate(runs):
        table[j, :len(losses)] = losses
    median = np.median(table, axis=0)
    n = int(np.argmin(np.isfinite(median))) if not np.isfinite(median).all() else len(lrs)
    lengths = sorted(((len(losses), reason) for losses, reason in runs), key=lambda t: t[0])
    reason = None if n == len(lrs) else next(r for m, r in lengths if m >= n)
    members = [_record(lrs[:len(losses)], losses, why, **kw) for losses, why in runs]
    rt = _record(lrs[:n], median[:n], reason, **kw)
    sug = np.array([m.suggestion for m in members])
    rt.members = tuple(members)
    rt.spread = (float(np.log10(sug.max() / sug.min())) if np.isfinite(sug).all()
                 else math.nan)
    return rt


def _record(lrs, losses, reason, *, lr_start, lr_end, steps, window, beta, diverge_factor,
            mode, suggest, momentum, batch_size) -> RangeTest:
    """The :class:`RangeTest` of the recorded ``lrs`` and ``losses`` (both entry points)."""
    span = math.log10(lr_end / lr_start)              # the window is a fraction of the planned sweep
    smoothed = centred_smooth(lrs, losses, window=window, span=span)
    note = _why_no_suggestion(losses)
    suggestions = (dict.fromkeys(SUGGESTIONS, math.nan) if note
                   else _suggestions(lrs, smoothed, skip=window * span / 2,    # half the window
                                     momentum=momentum))
    return RangeTest(lrs=lrs, losses=losses, smoothed=smoothed, ema=ema_smooth(losses, beta),
                     suggestions=suggestions, suggest=suggest,
                     stop_reason=reason or "completed", lr_start=float(lr_start),
                     lr_end=float(lr_end), steps=steps, window=float(window),
                     diverge_factor=diverge_factor, mode=mode, suggestion_note=note,
                     momentum=float(momentum), batch_size=batch_size)


def _check_sweep(lr_start, lr_end, steps, mode, suggest, diverge_factor, window, beta,
                 momentum):
    """The arguments both entry points share, checked; the planned ε_k."""
    mode = checks.choice("mode", mode, ("exp", "linear"))
    suggest = checks.choice("suggest", suggest, SUGGESTIONS)
    diverge_factor = checks.real("diverge_factor", diverge_factor, low=1, low_open=True,
                                 finite=False)
    window = checks.real("window", window, low=0, high=1, low_open=True,
                         what="a fraction of the decades swept")
    beta = checks.real("beta", beta, low=0, high=1, high_open=True)
    momentum = checks.real("momentum", momentum, low=0, high=1, high_open=True)
    steps = checks.integer("steps", steps, low=_MIN_STEPS, high=MAX_RECORD_BYTES // RECORD_BYTES)
    sweep = exponential_range if mode == "exp" else linear_range
    lrs = np.asarray(sweep(lr_start, lr_end, steps=steps)(np.arange(steps)), dtype=np.float64)
    return lrs, dict(mode=mode, suggest=suggest, diverge_factor=diverge_factor, window=window,
                     beta=beta, momentum=momentum, steps=steps)


def range_test_fn(step, *, save=None, restore=None, lr_start: float = 1e-7,
                  lr_end: float = 10.0, steps: int = 100, mode: str = "exp",
                  diverge_factor: float = 4.0, suggest: str = MEASURED, window: float = 0.1,
                  beta: float = 0.98, momentum: float = 0.0,
                  batch_size: int | None = None) -> RangeTest:
    """The range test of any model, in any framework: ``step(lr)`` trains it.

    ``step(lr)`` must make one training update of the user's model with learning rate ``lr``
    (a Python float) on the next minibatch, and return that minibatch's loss measured
    *before* the update (anything ``float()`` accepts: a float, a 0-d array or tensor). The
    test calls it for ``lr = ε_0, ε_1, ...`` of the sweep (``lr_start``, ``lr_end``,
    ``steps``, ``mode`` as in :func:`range_test`) and stops as :func:`range_test` does (a
    non-finite loss, or the EMA of the losses past ``diverge_factor`` times its best); it
    returns the same :class:`RangeTest`: the same smoothing, suggestions and plot.

    **State.** With ``save`` and ``restore`` (pass both or neither): ``state = save()`` before
    the first step, ``restore(state)`` after the last one, in a ``finally``, so that the
    model (and whatever ``save`` captured: the optimizer's state, a data iterator) is as
    before the call even when a step raises. ``save`` must return a *copy* (e.g.
    ``copy.deepcopy(model.state_dict())``), not a view that the steps will overwrite.
    **Without them the model is left as the last step left it: trained at learning rates up
    to where the loss blew up, i.e. ruined; re-create or re-load it before training.**

    ``momentum``: the momentum of the optimizer ``step`` uses (0 for plain SGD); it changes
    nothing in the run, only the ``edge`` suggestion (:func:`momentum_factor`).
    ``batch_size``: recorded, for the reader (the suggestion is valid for the batch size the
    steps use; train with the same one). The test draws no random numbers: the minibatch order
    is ``step``'s business.

    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((256, 3))
    >>> y = X @ np.array([1.0, -2.0, 0.5]) + rng.standard_normal(256)
    >>> w = np.zeros(3)
    >>> def step(lr):
    ...     global w
    ...     i = rng.integers(0, 256, 32)
    ...     r = X[i] @ w - y[i]
    ...     w = w - lr * X[i].T @ r / 32
    ...     return 0.5 * np.mean(r ** 2)
    >>> def restore(state):
    ...     global w
    ...     w = state
    >>> rt = range_test_fn(step, save=lambda: w.copy(), restore=restore,
    ...                    batch_size=32)
    >>> rt.stop_reason, bool(np.all(w == 0)), f"{rt.suggestion:.2g}"
    ('diverged', True, '0.5')
    """
    if not callable(step):
        raise TypeError(f"step must be a callable step(lr) -> loss; got {type(step).__name__}")
    if (save is None) != (restore is None):
        raise TypeError("pass save and restore together (state = save(); ...; restore(state)), "
                        "or neither")
    for name, hook in (("save", save), ("restore", restore)):
        if hook is not None and not callable(hook):
            raise TypeError(f"{name} must be callable or None; got {type(hook).__name__}")
    lrs, kw = _check_sweep(lr_start, lr_end, steps, mode, suggest, diverge_factor, window,
                           beta, momentum)
    if batch_size is not None:
        batch_size = checks.integer("batch_size", batch_size, low=1)
    rule = _SmoothedLimit(kw["diverge_factor"], float(kw["beta"]))
    losses = []
    state = save() if save is not None else None
    try:
        for k, lr in enumerate(lrs):
            loss = float(step(float(lr)))
            stopped = rule(k, np.array([[loss]])) is not None
            if not (stopped and rule.reason == "nan"):
                losses.append(loss)             # a non-finite loss is not recorded
            if stopped:
                break
    finally:
        if restore is not None:
            restore(state)
    n = len(losses)
    return _record(lrs[:n], np.array(losses, dtype=np.float64), rule.reason,
                   lr_start=lr_start, lr_end=lr_end, batch_size=batch_size, **kw)
