"""Tests of lrcore.stats against hand computations."""
import math

import numpy as np
import pytest

from lrcore import stats
from lrcore.stats import median_iqr, paired, permutation_test, spearman, spearman_critical


def test_paired_by_hand():
    # d = [-0.08, -0.09, -0.07, -0.10]: mean -0.085, squares 5 + 5 + 15 + 15 (x 1e-3)²/... by hand
    r = paired([0.52, 0.50, 0.55, 0.51], [0.60, 0.59, 0.62, 0.61])
    assert r.n == 4 and r.mean == pytest.approx(-0.085)
    assert r.se == pytest.approx(math.sqrt(0.0005 / 3) / 2)          # sd / sqrt(n)
    assert r.t == pytest.approx(-0.085 / (math.sqrt(0.0005 / 3) / 2))
    assert r.verdict == "a better"
    assert "t = -13.2" in str(r) and "a better" in str(r)


@pytest.mark.parametrize("t, verdict", [(-3.5, "cosine better"), (3.5, "constant better"),
                                        (-2.5, "borderline"), (2.5, "borderline"),
                                        (1.5, "within noise"), (-0.5, "within noise")])
def test_paired_verdict_rule(t, verdict):
    d = np.array([1.0, -1.0, 1.0, -1.0])           # mean 0, se = 1 / sqrt(3) ... shifted by m
    se = d.std(ddof=1) / 2
    b = np.zeros(4)
    r = paired(d + t * se, b, names=("cosine", "constant"))
    assert r.t == pytest.approx(t) and r.verdict == verdict
    assert stats.T_WIN == 3.0 and stats.T_NOISE == 2.0


def test_paired_edge_cases():
    assert paired([1.0, 2.0], [1.0, 2.0]).t == 0.0
    assert paired([1.0, 2.0], [2.0, 3.0]).t == -math.inf
    with pytest.raises(ValueError, match="diverged run"):
        paired([1.0, np.nan], [1.0, 2.0])
    with pytest.raises(ValueError, match="a and b must be paired"):
        paired([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="a must be a 1-D array of at least 2 numbers"):
        paired([1.0], [2.0])
    with pytest.raises(TypeError, match="names must be a pair of strings"):
        paired([1.0, 2.0], [2.0, 3.0], names="ab")


def test_spearman_by_hand():
    rho, critical = spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5])
    assert rho == pytest.approx(1 - 6 * 4 / (5 * 24))                 # Σd² = 4
    assert critical == pytest.approx(spearman_critical(5))
    assert spearman([1, 2, 3], [3, 2, 1])[0] == pytest.approx(-1.0)
    # ties: ranks x = [1, 2.5, 2.5, 4], y = [1, 3, 2, 4]; Pearson of the centred ranks
    rx, ry = np.array([-1.5, 0, 0, 1.5]), np.array([-1.5, 0.5, -0.5, 1.5])
    rho, _ = spearman([10, 20, 20, 30], [1, 3, 2, 4])
    assert rho == pytest.approx((rx @ ry) / math.sqrt((rx @ rx) * (ry @ ry)))
    assert math.isnan(spearman([1, 1, 1], [1, 2, 3])[0])
    with pytest.raises(ValueError, match="x must be a 1-D array of at least 3"):
        spearman([1, 2], [1, 2])


def test_spearman_critical_from_t_quantiles():
    # two-sided 5 % quantiles of Student's t (tables): df 1: 12.706, 2: 4.303, 10: 2.228
    for n, t in ((3, 12.7062), (4, 4.3027), (12, 2.2281)):
        assert spearman_critical(n) == pytest.approx(t / math.sqrt(n - 2 + t * t), abs=2e-5)
    assert spearman_critical(10_000) == pytest.approx(1.95996 / math.sqrt(10_000), rel=1e-3)
    assert stats._t_two_sided_coverage(1.0, 1) == pytest.approx(0.5)     # Cauchy
    assert stats._t_two_sided_coverage(math.sqrt(2), 2) == pytest.approx(math.sqrt(0.5))
    with pytest.raises(ValueError, match="n must be an int >= 3"):
        spearman_critical(2)


def test_permutation_test_exact_and_sampled():
    assert permutation_test([1.0, 2.0, 3.0], [0.0, 0.0, 0.0]) == pytest.approx(2 / 8)
    assert permutation_test([1.0, 0.0], [0.0, 1.0]) == 1.0               # |±1 ± 1|/2 >= 1: 2 of 4
    # d = [1, 2, 4]: patterns with |sum| >= 7: all +, all - -> 2/8; with |sum| >= 3: 6 of 8
    assert permutation_test([1.0, 2.0, 4.0], [0.0] * 3) == pytest.approx(0.25)
    assert permutation_test([1.0, -2.0, 4.0], [0.0] * 3) == pytest.approx(6 / 8)
    rng = np.random.default_rng(1)
    d = rng.standard_normal(12) + 0.5
    exact = permutation_test(d, np.zeros(12), n_permutations=4096)      # 2^12 patterns
    sampled = permutation_test(d, np.zeros(12), n_permutations=4000, seed=3)
    assert abs(exact - sampled) < 0.02
    assert sampled == permutation_test(d, np.zeros(12), n_permutations=4000, seed=3)
    strong = permutation_test(np.ones(20), np.zeros(20), n_permutations=999)
    assert strong == pytest.approx(1 / 1000)


def test_median_iqr_by_hand():
    r = median_iqr([1, 2, 3, 4, 100])
    assert (r.median, r.q1, r.q3, r.iqr) == (3.0, 2.0, 4.0, 2.0)
    r = median_iqr([4, 1, 3, 2])                    # linear interpolation: 1.75, 2.5, 3.25
    assert (r.median, r.q1, r.q3) == (2.5, 1.75, 3.25)
    assert str(r) == "2.5 (IQR 1.75 to 3.25)"
    with pytest.raises(ValueError, match="must hold finite numbers"):
        median_iqr([1.0, np.inf])
