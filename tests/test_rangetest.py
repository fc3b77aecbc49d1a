"""lrcore.rangetest: the LR range test's contract (the project's schedule contract, restated in the
lrcore.rangetest docstring)."""
import math
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrcore.data import Dataset, load_digits, make_least_squares
from lrcore.models import MLP, LinearRegression, SoftmaxRegression
from lrcore.rangetest import (_SmoothedLimit, _suggestions, _why_no_suggestion, centred_smooth,
                              ema_smooth, range_test, smoothed_diverged, valley_index)
from lrcore.schedules import exponential_range
from lrcore.stacked import StackedModel
from lrcore.training import train

LSQ = make_least_squares(n_features=4, n_train=96, n_val=32, seed=0)   # 2/λ_max = 0.2


def random_state_equal(a, b):
    return a[0] == b[0] and np.array_equal(a[1], b[1]) and a[2:] == b[2:]


def test_both_ends_are_reached_when_nothing_diverges():
    rt = range_test(LinearRegression(4), LSQ, lr_start=1e-5, lr_end=1e-2, steps=40, batch_size=16)
    assert rt.stop_reason == "completed" and len(rt.lrs) == len(rt.losses) == 40
    assert rt.lrs[0] == 1e-5 and rt.lrs[-1] == 1e-2
    np.testing.assert_allclose(np.diff(np.log(rt.lrs)), np.log(1e3) / 39)   # geometric
    lin = range_test(LinearRegression(4), LSQ, lr_start=1e-3, lr_end=1e-2, steps=10, mode="linear",
                     batch_size=16)
    assert lin.lrs[0] == 1e-3 and lin.lrs[-1] == 1e-2
    np.testing.assert_allclose(np.diff(lin.lrs), 1e-3)


def reference_losses(lrs, data, theta0, *, batch_size, seed):
    """Plain NumPy GD on ½ MSE; update k uses lrs[k]; losses[k] measured before update k."""
    rng = np.random.default_rng(seed)
    X = np.hstack([data.X_train, np.ones((data.n_train, 1))]).astype(np.float64)
    y = data.y_train.astype(np.float64)
    theta, losses, k = theta0.astype(np.float64)[0], [], 0
    while k < len(lrs):
        order = rng.permutation(len(X))
        for s in range(0, len(X), batch_size):
            if k == len(lrs):
                break
            idx = order[s:s + batch_size]
            r = X[idx] @ theta - y[idx]
            losses.append(0.5 * np.mean(r ** 2))
            theta = theta - lrs[k] * (r @ X[idx]) / len(idx)
            k += 1
    return np.array(losses)


def test_lr_k_is_the_lr_of_update_k():
    model = LinearRegression(4, dtype=np.float64)
    rt = range_test(model, LSQ, lr_start=1e-3, lr_end=0.15, steps=30, batch_size=16, seed=2)
    assert rt.stop_reason == "completed"
    ref = reference_losses(rt.lrs, LSQ, model.theta[0], batch_size=16, seed=2)
    np.testing.assert_allclose(rt.losses, ref, rtol=1e-10)      # 6 steps an epoch: 5 epochs
    shifted = reference_losses(np.r_[rt.lrs[1:], rt.lrs[-1]], LSQ, model.theta[0],
                               batch_size=16, seed=2)
    assert not np.allclose(rt.losses, shifted, rtol=1e-6)       # an off-by-one would show


def test_stops_when_the_smoothed_loss_diverges():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rt = range_test(LinearRegression(4), LSQ, lr_start=1e-4, lr_end=10.0, steps=80,
                        batch_size=16)
    assert rt.stop_reason == "diverged" and len(rt.lrs) < 80
    ema = ema_smooth(rt.losses)
    np.testing.assert_allclose(rt.ema, ema)
    best = np.minimum.accumulate(ema)
    fired = [smoothed_diverged(ema[k], best[k - 1], diverge_factor=4.0) for k in range(1, len(ema))]
    assert fired[-1] and not any(fired[:-1])    # the last recorded step is the one that fired
    assert np.isfinite(rt.losses).all()


def test_stops_on_a_non_finite_loss():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rt = range_test(LinearRegression(4), LSQ, lr_start=1e-2, lr_end=1e12, steps=100,
                        batch_size=16, diverge_factor=1e300)
    assert rt.stop_reason == "nan" and len(rt.lrs) < 100
    assert np.isfinite(rt.losses).all()          # the non-finite loss is not recorded


def test_the_model_is_never_written_and_the_global_random_state_is_left_alone():
    model = MLP([64, 16, 10], seed=0)
    before = [t.copy() for t in model.theta]
    np.random.seed(123)
    first = np.random.random()
    rt = range_test(model, load_digits(seed=0), steps=60)
    second = np.random.random()
    assert rt.stop_reason == "diverged"
    for t, b in zip(model.theta, before):
        np.testing.assert_array_equal(t, b)
    assert [first, second] == list(np.random.RandomState(123).random_sample(2))


def test_a_model_with_read_only_parameters_works():
    model = MLP([64, 16, 10], seed=0)
    reference = range_test(model.copy(), load_digits(seed=0), steps=60)
    for theta in model.theta:
        theta.flags.writeable = False
    rt = range_test(model, load_digits(seed=0), steps=60)
    np.testing.assert_array_equal(rt.losses, reference.losses)
    assert rt.suggestions == reference.suggestions


def test_losses_are_those_of_train_with_the_same_lrs():
    """The range test is `train` on a copy with the sweep as its schedule: the same minibatches
    and updates, so the same losses (the stopping rule aside), to round-off: the range test
    runs on the stacked engine (lrcore.stacked), train is the readable loop."""
    data = load_digits(seed=0)
    for kw in (dict(), dict(momentum=0.9, weight_decay=1e-3)):
        model = MLP([64, 16, 10], seed=1)
        rt = range_test(model, data, lr_start=1e-4, lr_end=0.3, steps=100, seed=3, **kw)
        assert rt.stop_reason == "completed"
        h = train(model.copy(), data, lr=exponential_range(1e-4, 0.3, steps=100), epochs=3,
                  seed=3, **kw)                                  # 45 steps an epoch
        np.testing.assert_allclose(rt.losses, h.loss[:100], rtol=1e-9)


def test_an_interrupted_test_leaves_the_model_and_the_global_random_state_alone(monkeypatch):
    """Draws from ``np.random`` during the test (as another thread might make) are not undone:
    the global state after the test is the one those draws left."""
    model = SoftmaxRegression(64, 10, seed=0)
    before = [t.copy() for t in model.theta]
    np.random.seed(7)
    calls = []
    real = StackedModel.backward

    def flaky_backward(self, acts, dZ, **kw):
        np.random.random()                        # something consumes the global random state
        calls.append(1)
        if len(calls) == 12:
            raise RuntimeError("injected failure")
        return real(self, acts, dZ, **kw)

    monkeypatch.setattr(StackedModel, "backward", flaky_backward)
    with pytest.raises(RuntimeError, match="injected failure"):
        range_test(model, load_digits(seed=0), lr_start=1e-3, lr_end=1.0, steps=50)
    assert len(calls) == 12                       # it was interrupted after 11 updates
    for t, b in zip(model.theta, before):
        np.testing.assert_array_equal(t, b)
    advanced = np.random.RandomState(7)
    advanced.random_sample(12)                    # the 12 draws the test made
    assert random_state_equal(np.random.get_state(), advanced.get_state())


def test_deterministic_and_seeded():
    kw = dict(lr_start=1e-4, lr_end=1.0, steps=40, batch_size=16)
    a = range_test(LinearRegression(4), LSQ, seed=1, **kw)
    b = range_test(LinearRegression(4), LSQ, seed=1, **kw)
    c = range_test(LinearRegression(4), LSQ, seed=2, **kw)
    np.testing.assert_array_equal(a.losses, b.losses)
    assert a.suggestions == b.suggestions
    assert not np.array_equal(a.losses, c.losses)


def test_suggestions_lie_in_the_tested_range():
    rt = range_test(MLP([64, 32, 10], seed=0), load_digits(seed=0), lr_start=1e-5, lr_end=10.0,
                    steps=80)
    assert set(rt.suggestions) == {"steepest", "minimum", "valley", "edge"}
    lo, hi = rt.lrs[0], rt.lrs[-1]
    assert lo <= rt.suggestions["steepest"] <= hi and lo <= rt.suggestions["valley"] <= hi
    i_min = int(np.argmin(rt.smoothed))
    assert rt.suggestions["minimum"] == pytest.approx(rt.lrs[i_min] / 10)
    assert rt.suggestions["steepest"] <= rt.lrs[i_min]          # left of the minimum
    edge = rt.lrs[-1] ** 0.75 * rt.lrs[i_min] ** 0.25 * 10 ** -0.82       # no momentum
    assert rt.suggestions["edge"] == pytest.approx(edge)
    assert rt.suggestion == rt.suggestions["edge"] and rt.suggest == "edge"  # chapter 02
    assert rt.suggestion_note == ""
    other = range_test(MLP([64, 32, 10], seed=0), load_digits(seed=0), lr_start=1e-5,
                       lr_end=10.0, steps=80, suggest="steepest")
    assert other.suggestion == other.suggestions["steepest"] == rt.suggestions["steepest"]
    assert repr(rt).startswith("RangeTest(")


# ---- the stopping rule: also for negative losses ------------------------------------------------

def test_stopping_rule_with_positive_and_negative_losses():
    assert smoothed_diverged(4.01, 1.0, diverge_factor=4.0) and not smoothed_diverged(3.99, 1.0, diverge_factor=4.0)
    # negative best: the same distance above it, not "4 × best" (which is lower than best)
    assert not smoothed_diverged(-7.9, -2.0, diverge_factor=4.0)
    assert not smoothed_diverged(3.9, -2.0, diverge_factor=4.0)
    assert smoothed_diverged(4.1, -2.0, diverge_factor=4.0)


def test_smoothed_limit_on_a_negative_loss_curve():
    """Losses that go negative (e.g. a log-likelihood bound): fall to −3, then climb."""
    losses = np.r_[np.linspace(-1, -3, 30), np.linspace(-3, 40, 60)]
    rule = _SmoothedLimit(4.0, 0.9)
    assert rule(0, losses[:30, None]) is None            # falling: no stop
    first = rule(30, losses[30:, None])[0]
    ema = ema_smooth(losses, beta=0.9)
    best = np.minimum.accumulate(ema)
    expected = next(k for k in range(1, len(ema)) if ema[k] - best[k - 1] > 3 * abs(best[k - 1]))
    assert rule.reason == "diverged" and first == expected
    assert ema[first] > 0 > best[first - 1]    # stopped well after the minimum, not at once
    assert _SmoothedLimit(4.0, 0.9)(0, np.array([[-1.0], [np.nan]]))[0] == 1


# ---- smoothing and suggestions -----------------------------------------------------------------

def test_centred_smoother_has_no_lag_and_the_ema_does():
    lrs = np.geomspace(1e-6, 10, 140)
    x = np.log10(lrs)
    rng = np.random.default_rng(0)
    curve = (x + 2.0) ** 2 + 0.05 * rng.standard_normal(len(x))    # minimum at ε = 1e-2
    smooth = centred_smooth(lrs, curve, window=0.1)
    ema = ema_smooth(curve, beta=0.98)
    assert abs(x[np.argmin(smooth)] + 2.0) < 0.15
    assert x[np.argmin(ema)] + 2.0 > 0.4            # the EMA's minimum lags by decades here


def test_centred_smoother_reproduces_a_line_exactly_even_at_the_ends():
    lrs = np.linspace(0.01, 1.0, 50)                 # uneven in log ε
    line = 3.0 - 2.0 * np.log10(lrs)
    np.testing.assert_allclose(centred_smooth(lrs, line, window=0.2), line, rtol=1e-9)


def fastai_valley(losses):
    """fastai's ``valley`` (fastai/callback/schedule.py), ported loop for loop."""
    n = len(losses)
    max_start, max_end = 0, 0
    lds = [1] * n
    for i in range(1, n):
        for j in range(0, i):
            if (losses[i] < losses[j]) and (lds[i] < lds[j] + 1):
                lds[i] = lds[j] + 1
            if lds[max_end] < lds[i]:
                max_end = i
                max_start = max_end - lds[max_end]
    sections = (max_end - max_start) / 3
    return max_start + int(sections) + int(sections / 2)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(-10, 10) | st.sampled_from([0.0, 1.0, 2.0]), min_size=1, max_size=60))
def test_valley_index_is_fastais(values):
    """Equal values included (the run is strictly decreasing), and the first longest run wins."""
    expected = fastai_valley(values)
    assert valley_index(values) == min(max(expected, 0), len(values) - 1)


def test_plot_method_draws_with_plot_range_test():
    """``rt.plot(ax=ax)`` (what chapter 02 calls) is :func:`lrcore.plots.plot_range_test`."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from lrcore.plots import plot_range_test
    rt = range_test(SoftmaxRegression(64, 10), load_digits(seed=0), lr_start=1e-4, lr_end=1e3,
                    steps=60)
    fig, (left, right) = plt.subplots(1, 2)
    try:
        assert rt.plot(left, ema=True) is left and plot_range_test(rt, ax=right, ema=True) is right
        drawn = [[(line.get_label(), line.get_xydata().tolist()) for line in ax.lines]
                 for ax in (left, right)]
        assert drawn[0] == drawn[1] and len(drawn[0]) == 3 + len(rt.suggestions)
    finally:
        plt.close(fig)


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(mode="log"), ValueError, "mode must be one of 'exp', 'linear'"),
    (dict(suggest="fastai"), ValueError,
     "suggest must be one of 'steepest', 'minimum', 'valley', 'edge'"),
    (dict(diverge_factor=1.0), ValueError, "diverge_factor must be a real number > 1"),
    (dict(steps=1), ValueError, "steps must be an int in \\[3, "),
    (dict(steps=2), ValueError, "steps must be an int in \\[3, 53687091\\]; got 2"),  # no suggestion from 2
    (dict(steps=10**10), ValueError, "steps must be an int in \\[3, 53687091\\]"),  # not a MemoryError
    (dict(window=0.0), ValueError, r"window must be a fraction of the decades swept in \(0, 1\]"),
    (dict(beta=1.0), ValueError, r"beta must be a real number in \[0, 1\)"),
    (dict(lr_start=0.0), ValueError, "lr_start"),
    (dict(lr_start=1.0, lr_end=0.1), ValueError, "lr_end"),
    (dict(batch_size=1000), ValueError, r"batch_size must be an int in \[1, 96\]"),
    (dict(momentum=1.0), ValueError, r"momentum must be a real number in \[0, 1\)"),
])
def test_range_test_validation(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        range_test(LinearRegression(4), LSQ, **kwargs)


def test_short_records_give_nan_suggestions():
    assert all(math.isnan(v) for v in _suggestions(np.array([1e-3, 1e-2]), np.array([1.0, 2.0])).values())
    three = _suggestions(np.array([1e-3, 1e-2, 1e-1]), np.array([2.0, 1.0, 3.0]))
    assert three == pytest.approx({"steepest": 1e-3, "minimum": 1e-3, "valley": 1e-3,
                                   "edge": 0.1 ** 0.75 * 1e-2 ** 0.25 * 10 ** -0.82})


# ---- no suggestion: a flat loss, a run that stops at once ----------------------------------------

ZERO_LSQ = Dataset(np.zeros((96, 4)), np.zeros(96), np.zeros((32, 4)), np.zeros(32))
ZERO_BALANCED = Dataset(np.zeros((320, 5)), np.arange(320) % 10, np.zeros((20, 5)),
                        np.arange(20) % 10)        # every class equally often: the bias stays put


@pytest.mark.parametrize("model, data, kwargs", [
    (lambda: LinearRegression(4), ZERO_LSQ, {}),                           # the loss is exactly 0
    (lambda: SoftmaxRegression(5, 10), ZERO_BALANCED, dict(batch_size=320)),   # log 10 ± round-off
    (lambda: MLP([5, 8, 10], dtype=np.float32), ZERO_BALANCED, dict(batch_size=320)),  # float32
    (lambda: LinearRegression(4), LSQ, dict(lr_start=1e-12, lr_end=1e-11, batch_size=96)),
], ids=["exact-zero", "float64-round-off", "float32-round-off", "lr-far-too-low"])
def test_a_flat_loss_gives_no_suggestion(model, data, kwargs):
    """Before: 'completed, suggestion=1e-08' (lr_start / 10) or a point picked by round-off."""
    rt = range_test(model(), data, **kwargs)
    assert rt.stop_reason == "completed" and len(rt.losses) == 100
    assert all(math.isnan(v) for v in rt.suggestions.values()) and math.isnan(rt.suggestion)
    assert rt.suggestion_note.startswith("flat loss: all 100 recorded losses lie within 1e-05 x")
    assert "completed, no suggestion: flat loss" in repr(rt)


def test_flat_means_within_1e_5_of_the_largest_loss():
    wave = np.sin(np.arange(50.0))                      # in [-1, 1], range ≈ 2
    for scale in (1e-30, 1e-6, 1.0, 1e6, -3.0):
        assert _why_no_suggestion(scale * (1 + 0.4e-5 * wave)).startswith("flat")   # range 0.8e-5
        assert _why_no_suggestion(scale * (1 + 0.6e-5 * wave)) == ""                # range 1.2e-5
    assert _why_no_suggestion(np.zeros(3)).startswith("flat")
    assert _why_no_suggestion(np.array([0.0, 1e-300, 0.0])) == ""


def test_a_run_that_stops_at_once_says_why_it_has_no_suggestion():
    rt = range_test(LinearRegression(4), LSQ, lr_start=1e100, lr_end=1e101, steps=10,
                    batch_size=16, diverge_factor=1e300)
    assert rt.stop_reason == "nan" and len(rt.losses) == 2
    assert all(math.isnan(v) for v in rt.suggestions.values())
    assert rt.suggestion_note == "only 2 losses recorded; a suggestion needs at least 3"


# The default suggestion and the edge rule of `steepest` (chapter 02_range_test).

def test_a_call_that_names_no_rule_gets_the_edge_rule_that_chapter_02_cross_validated():
    """The default changed from "minimum" to "edge" (issue 11): rangesuite's cross-validation;
    tests/test_rangesuite.py keeps the default and the measured winner equal."""
    kw = dict(lr_start=1e-4, lr_end=1.0, steps=60, batch_size=16, seed=0)
    rt = range_test(LinearRegression(4), LSQ, **kw)
    by_rule = {s: range_test(LinearRegression(4), LSQ, suggest=s, **kw).suggestion
               for s in ("steepest", "minimum", "valley", "edge")}
    assert all(math.isfinite(v) for v in by_rule.values())
    assert len(set(by_rule.values())) == 4            # the rules disagree here: the choice shows
    assert rt.suggest == "edge" and rt.suggestion == by_rule["edge"]


def test_steepest_skips_the_first_half_window():
    lrs = np.geomspace(1e-6, 1.0, 61)                       # 10 points a decade
    x = np.log10(lrs)
    curve = np.where(x < -2, 3.0, 3.0 - 2.0 * (x + 2))      # flat, then falls 2 per decade
    curve = np.where(x > -0.5, 0.0 + 4.0 * (x + 0.5), curve)  # minimum at 10^-0.5, then rises
    curve[:3] = [9.0, 6.0, 3.0]                              # a one-sided fit's steep edge
    assert _suggestions(lrs, curve)["steepest"] == lrs[0]
    steep = _suggestions(lrs, curve, skip=0.3)["steepest"]
    assert 1e-2 <= steep < 10 ** -0.5                       # on the real fall
    early = np.r_[3.0, 1.0, np.linspace(2.0, 5.0, 59)]      # minimum inside the skipped part
    assert _suggestions(lrs, early, skip=0.3)["steepest"] == lrs[0]


def test_range_test_steepest_is_not_read_from_the_one_sided_edge():
    data = make_least_squares(n_features=20, seed=0)        # noisy minibatch losses
    for seed in range(3):
        rt = range_test(LinearRegression(20, seed=seed), data, batch_size=32, seed=seed)
        half = rt.window * np.log10(rt.lr_end / rt.lr_start) / 2
        assert rt.suggestions["steepest"] >= rt.lr_start * 10 ** half * (1 - 1e-9)


def test_diverge_is_a_deprecated_alias_of_diverge_factor():
    """One name across train, sweep and range_test; the old spelling still works, and warns."""
    data = load_digits(seed=0)
    new = range_test(SoftmaxRegression(64, 10), data, steps=30, diverge_factor=3.0)
    with pytest.warns(DeprecationWarning, match=r"diverge is deprecated, use diverge_factor=3.0"):
        old = range_test(SoftmaxRegression(64, 10), data, steps=30, diverge=3.0)
    np.testing.assert_array_equal(old.losses, new.losses)
    assert old.diverge_factor == new.diverge_factor == 3.0
    with pytest.warns(DeprecationWarning, match=r"RangeTest.diverge is deprecated"):
        assert old.diverge == 3.0
    with pytest.warns(DeprecationWarning, match=r"diverge is deprecated, use diverge_factor"):
        assert smoothed_diverged(4.5, 1.0, diverge=4.0)
    with pytest.raises(TypeError, match=r"pass diverge_factor only; diverge is its deprecated"):
        range_test(SoftmaxRegression(64, 10), data, diverge_factor=3.0, diverge=3.0)


# ---- repeats: the median curve of several tests ------------------------------------------------

def test_repeats_reads_the_median_curve_of_tests_with_successive_seeds():
    model, data = MLP([64, 16, 10], seed=0), load_digits(seed=0)
    before = [t.copy() for t in model.theta]
    rt = range_test(model, data, seed=4, repeats=3)
    singles = [range_test(model, data, seed=4 + j) for j in range(3)]
    assert len(rt.members) == 3
    for m, single in zip(rt.members, singles):
        np.testing.assert_array_equal(m.losses, single.losses)
        assert m.suggestions == single.suggestions
    table = np.full((3, 100), np.inf)
    for j, single in enumerate(singles):
        table[j, :len(single.losses)] = single.losses
    median = np.median(table, axis=0)
    n = len(rt.losses)
    np.testing.assert_array_equal(rt.losses, median[:n])
    assert n == 100 or not np.isfinite(median[n])               # ends where 2 of 3 have stopped
    assert n == sorted(len(s.losses) for s in singles)[1]
    sug = [s.suggestion for s in singles]
    assert rt.spread == pytest.approx(np.log10(max(sug) / min(sug)))
    assert math.isnan(range_test(model, data, seed=4).spread)   # one test: no spread
    for t, b in zip(model.theta, before):
        np.testing.assert_array_equal(t, b)


def test_repeats_validation():
    with pytest.raises(ValueError, match=r"repeats must be an int >= 1; got 0"):
        range_test(LinearRegression(4), LSQ, repeats=0)
