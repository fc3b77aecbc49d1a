r"""The statistics of the book's comparisons, written once (pure NumPy).

* :func:`paired` -- paired differences of two arrays of results on the same seeds: mean,
  standard error, :math:`t` and the book's verdict rule.
* :func:`spearman` -- Spearman's rank correlation :math:`ρ` and its two-sided 5 % critical value.
* :func:`permutation_test` -- the paired (sign-flip) permutation test of a mean difference.
* :func:`median_iqr` -- median and interquartile range, for spreads that are not normal.

The appendix on statistics (``chapters/appendix_statistics``) explains them; the chapters link
to it.

>>> a = [0.52, 0.50, 0.55, 0.51]
>>> b = [0.60, 0.59, 0.62, 0.61]
>>> r = paired(a, b, names=("cosine", "constant"))
>>> print(f"{r.mean:.4f} ± {r.se:.4f}, t = {r.t:.1f}: {r.verdict}")
-0.0850 ± 0.0065, t = -13.2: cosine better
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from . import checks

__all__ = ["Paired", "paired", "spearman", "spearman_critical", "permutation_test",
           "MedianIQR", "median_iqr", "T_WIN", "T_NOISE"]

#: :math:`|t|` above which a paired difference is a win (a verdict "A better")
T_WIN = 3.0
#: :math:`|t|` below which a paired difference is "within noise"
T_NOISE = 2.0


def _vector(name: str, values, *, min_len: int = 1) -> np.ndarray:
    """A 1-D float64 array of finite numbers, at least ``min_len`` long."""
    try:
        a = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise checks.fail(TypeError, name, "a 1-D array of real numbers", repr(values)) from None
    if a.ndim != 1 or len(a) < min_len:
        raise checks.fail(ValueError, name, f"a 1-D array of at least {min_len} numbers",
                          f"shape {a.shape}")
    if not np.isfinite(a).all():
        bad = np.flatnonzero(~np.isfinite(a)).tolist()
        raise ValueError(f"{name} must hold finite numbers (a diverged run has no loss to "
                         f"compare: report it as diverged); got NaN or inf at {bad}")
    return a


def _pair(a, b, min_len: int) -> np.ndarray:
    a, b = _vector("a", a, min_len=min_len), _vector("b", b, min_len=min_len)
    if a.shape != b.shape:
        raise ValueError(f"a and b must be paired, the same length; got {len(a)} and {len(b)}")
    return a - b


@dataclass(frozen=True)
class Paired:
    """The result of :func:`paired`: ``mean`` :math:`\\bar d`, ``se``, ``t``, ``n`` and
    ``verdict`` (a string)."""

    mean: float
    se: float
    t: float
    n: int
    verdict: str

    def __str__(self) -> str:
        return f"{self.mean:+.4f} ± {self.se:.4f} (t = {self.t:+.1f}, n = {self.n}): {self.verdict}"


def paired(a, b, *, names=("a", "b")) -> Paired:
    r"""Compare two results measured on the same seeds, seed by seed.

    With :math:`d_s = a_s - b_s` over the :math:`n` seeds (lower is better, as for a loss):

    .. math:: \bar d = \frac{1}{n} \sum_s d_s, \qquad
              \mathrm{SE} = \frac{\mathrm{sd}(d)}{\sqrt n}
              = \sqrt{\frac{\sum_s (d_s - \bar d)^2}{n (n - 1)}}, \qquad t = \bar d / \mathrm{SE}.

    Pairing removes what the seed does to both (an easy initialisation helps both), so the
    standard error of the difference is far smaller than that of either mean.

    **The verdict rule** (fixed for the whole book): :math:`t < -3`: "*A* better";
    :math:`t > 3`: "*B* better"; :math:`|t| < 2`: "within noise"; otherwise "borderline".
    ``names`` (two strings) replace *A* and *B*. With all differences equal, SE = 0 and
    :math:`t` is :math:`\pm\infty` (or 0 when they are all 0). Needs :math:`n \ge 2`; a
    non-finite value (a diverged run) raises ``ValueError``.
    """
    d = _pair(a, b, 2)
    if (not isinstance(names, (tuple, list)) or len(names) != 2
            or not all(isinstance(x, str) for x in names)):
        raise checks.fail(TypeError, "names", "a pair of strings", repr(names))
    n = len(d)
    mean = float(d.mean())
    se = float(d.std(ddof=1) / math.sqrt(n))
    if se > 0:
        t = mean / se
    else:
        t = 0.0 if mean == 0 else math.copysign(math.inf, mean)
    if t < -T_WIN:
        verdict = f"{names[0]} better"
    elif t > T_WIN:
        verdict = f"{names[1]} better"
    elif abs(t) < T_NOISE:
        verdict = "within noise"
    else:
        verdict = "borderline"
    return Paired(mean=mean, se=se, t=t, n=n, verdict=verdict)


def _ranks(x: np.ndarray) -> np.ndarray:
    """Ranks 1..n, ties given the mean of the ranks they span."""
    order = np.argsort(x, kind="stable")
    ranks = np.empty(len(x))
    ranks[order] = np.arange(1, len(x) + 1)
    for value in np.unique(x):
        tied = x == value
        if tied.sum() > 1:
            ranks[tied] = ranks[tied].mean()
    return ranks


def _t_two_sided_coverage(t: float, df: int) -> float:
    r""":math:`P(|T| < t)` for Student's :math:`T` with integer ``df`` degrees of freedom, by the
    closed forms of Abramowitz & Stegun 26.7.3-4 (:math:`θ = \arctan(t / \sqrt{ν})`)."""
    theta = math.atan(t / math.sqrt(df))
    c, s = math.cos(theta), math.sin(theta)
    if df % 2:  # ν odd: 2/π [θ + sin θ (cos θ + 2/3 cos³θ + ... )]
        total, term = 0.0, c
        for j in range(1, (df - 1) // 2 + 1):
            total += term
            term *= c * c * (2 * j) / (2 * j + 1)
        return 2 / math.pi * (theta + s * total)
    total, term = 0.0, 1.0  # ν even: sin θ [1 + 1/2 cos²θ + (1·3)/(2·4) cos⁴θ + ...]
    for j in range(1, df // 2 + 1):
        total += term
        term *= c * c * (2 * j - 1) / (2 * j)
    return s * total


def spearman_critical(n: int, *, level: float = 0.05) -> float:
    r"""The two-sided critical value of Spearman's :math:`ρ` for ``n`` pairs at ``level``:
    :math:`|ρ|` above it rejects "no monotone relation". By the usual :math:`t` approximation,
    :math:`ρ_c = t_c / \sqrt{n - 2 + t_c^2}` with :math:`t_c` the two-sided quantile of
    Student's :math:`t` with :math:`n - 2` degrees of freedom (exact tables differ by about
    0.01 for :math:`n \le 10`). Needs :math:`n \ge 3`.

    >>> print(f"{spearman_critical(10):.3f} {spearman_critical(30):.3f}")
    0.632 0.361
    """
    n = checks.integer("n", n, low=3)
    level = checks.fraction("level", level)
    df = n - 2
    lo, hi = 0.0, 1.0
    while _t_two_sided_coverage(hi, df) < 1 - level:
        hi *= 2
    for _ in range(200):  # bisection to full precision
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if _t_two_sided_coverage(mid, df) < 1 - level else (lo, mid)
    t = (lo + hi) / 2
    return t / math.sqrt(df + t * t)


def spearman(x, y) -> tuple[float, float]:
    r"""Spearman's rank correlation of ``x`` and ``y`` and its two-sided 5 % critical value.

    :math:`ρ` is Pearson's correlation of the ranks (ties get their mean rank); without ties
    it equals :math:`1 - 6 \sum_i (r_i - s_i)^2 / (n (n^2 - 1))`. Returns ``(rho,
    critical)``: :math:`|ρ| >` ``critical`` (:func:`spearman_critical`) is a monotone relation
    at the 5 % level; below it the data do not show one. ``rho`` is NaN if ``x`` or ``y`` is
    constant.

    >>> rho, critical = spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5])
    >>> print(f"{rho:.2f} {critical:.3f}")
    0.80 0.878
    """
    x, y = _vector("x", x, min_len=3), _vector("y", y, min_len=3)
    if x.shape != y.shape:
        raise ValueError(f"x and y must be paired, the same length; got {len(x)} and {len(y)}")
    rx, ry = _ranks(x) - (len(x) + 1) / 2, _ranks(y) - (len(y) + 1) / 2
    denominator = math.sqrt(float((rx * rx).sum() * (ry * ry).sum()))
    rho = float((rx * ry).sum() / denominator) if denominator > 0 else math.nan
    return rho, spearman_critical(len(x))


def permutation_test(a, b, *, n_permutations: int = 10_000, seed: int = 0) -> float:
    r"""Two-sided p-value of the paired permutation (sign-flip) test of :math:`\bar d = 0`.

    Under "the two schedules are exchangeable", each difference :math:`d_s = a_s - b_s` is as
    likely to have the other sign. The p-value is the fraction of sign patterns
    :math:`σ \in \{-1, 1\}^n` whose :math:`|\frac{1}{n}\sum_s σ_s d_s|` is at least the observed
    :math:`|\bar d|` (up to round-off). All :math:`2^n` patterns are used when
    :math:`2^n \le` ``n_permutations``; otherwise ``n_permutations`` random ones drawn with
    ``np.random.default_rng(seed)`` plus the observed one, :math:`p = (1 + \#\{\ge\}) / (1 +
    N)`. It assumes no normality; with :math:`n` pairs the smallest possible p-value is
    :math:`2 / 2^n` (0.0039 for 9 pairs).

    >>> print(f"{permutation_test([1.0, 2.0, 3.0], [0.0, 0.0, 0.0]):.2f}")
    0.25
    """
    d = _pair(a, b, 1)
    n_permutations = checks.integer("n_permutations", n_permutations, low=1)
    seed = checks.seed("seed", seed)
    n = len(d)
    observed = abs(d.mean())
    tolerance = 1e-12 * max(float(np.abs(d).max()), 1e-300)
    if 2 ** n <= n_permutations:
        signs = np.array(list(itertools.product((1.0, -1.0), repeat=n)))
        return float((np.abs(signs @ d / n) >= observed - tolerance).mean())
    rng = np.random.default_rng(seed)
    signs = rng.choice((-1.0, 1.0), size=(n_permutations, n))
    extreme = int((np.abs(signs @ d / n) >= observed - tolerance).sum())
    return (1 + extreme) / (1 + n_permutations)


@dataclass(frozen=True)
class MedianIQR:
    """``median``, the quartiles ``q1``, ``q3`` and ``iqr`` :math:`= q_3 - q_1`."""

    median: float
    q1: float
    q3: float

    @property
    def iqr(self) -> float:
        return self.q3 - self.q1

    def __str__(self) -> str:
        return f"{self.median:.4g} (IQR {self.q1:.4g} to {self.q3:.4g})"


def median_iqr(values) -> MedianIQR:
    """The median and the quartiles of ``values`` (NumPy's default linear interpolation between
    order statistics): half the values lie between ``q1`` and ``q3``, whatever the shape of the
    distribution, and one wild value moves neither (unlike the mean and standard deviation).

    >>> print(median_iqr([1, 2, 3, 4, 100]))
    3 (IQR 2 to 4)
    """
    x = _vector("values", values)
    q1, median, q3 = np.percentile(x, [25, 50, 75])
    return MedianIQR(median=float(median), q1=float(q1), q3=float(q3))
