"""Tests of lrcore.schedules against independent references written from the published code.

The references are ported from the library they cite, never copied from lrcore's vectorized
closed forms, and are compared at every step of a long range, boundaries included:
- in chapters/appendix_translations.ipynb (cells tagged torch-ports, keras-ports, optax-ports),
  the book's one copy, loaded here as ``REF``: PyTorch's ``CosineAnnealingWarmRestarts``
  T_cur/T_i loop, its ``OneCycleLR`` phase loop, ``CyclicLR``; the closed forms of Keras and optax;
- below, what only the tests use: PyTorch's chainable ``get_lr`` updates (the appendix writes
  their closed forms) and the original CLR code.
"""

import copy
import math
import pickle
from collections import Counter
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lrcore
from lrcore import schedules as S
from lrcore.schedules import (
    NotIntegerError,
    Schedule,
    constant,
    cosine_decay,
    cosine_restarts,
    cyclic,
    exponential_decay,
    exponential_range,
    inverse_time_decay,
    join,
    linear_decay,
    linear_range,
    multistep_decay,
    one_cycle,
    polynomial_decay,
    step_decay,
    warmup,
)
from translations_table import run_tagged_cells

FAST = settings(max_examples=40, deadline=None)
RTOL = 1e-12  # closed form against closed form (or exact loops)
RTOL_CHAIN = 1e-9  # torch's chainable (recursive) updates accumulate round-off


def assert_close(actual, expected, rtol=RTOL, scale=1.0):
    """Relative comparison, with an absolute floor far below any LR of interest (`scale`)."""
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=1e-15 * scale)


def values(schedule, n):
    return schedule(np.arange(n))


# ------------------------------------------------------------------------------------------
# Independent references
# ------------------------------------------------------------------------------------------

# The appendix's ports of PyTorch, Keras and optax: REF.CyclicLR(REF.SGD(), ...)(k), ...
REF = SimpleNamespace(**run_tagged_cells("torch-ports", "keras-ports", "optax-ports",
                                         np=np, math=math))


def ref_torch_step(lr0, gamma, step_size, n):
    """torch StepLR.get_lr: multiply the current lr by gamma at each non-zero multiple."""
    lr, out = lr0, []
    for epoch in range(n):
        if epoch != 0 and epoch % step_size == 0:
            lr = lr * gamma
        out.append(lr)
    return out


def ref_torch_multistep(lr0, gamma, milestones, n):
    """torch MultiStepLR.get_lr: lr * gamma ** milestones[epoch] when epoch is a milestone."""
    counts, lr, out = Counter(milestones), lr0, []
    for epoch in range(n):
        if epoch in counts:
            lr = lr * gamma ** counts[epoch]
        out.append(lr)
    return out


def ref_torch_exponential(lr0, gamma, n):
    """torch ExponentialLR.get_lr: lr * gamma at every step after the first."""
    lr, out = lr0, []
    for epoch in range(n):
        if epoch > 0:
            lr = lr * gamma
        out.append(lr)
    return out




def ref_torch_linear(lr0, start_factor, end_factor, total_iters, n):
    """torch LinearLR.get_lr (chainable)."""
    out = []
    for epoch in range(n):
        if epoch == 0:
            lr = lr0 * start_factor
        elif epoch <= total_iters:
            lr = lr * (1.0 + (end_factor - start_factor) / (
                total_iters * start_factor + (epoch - 1) * (end_factor - start_factor)))
        out.append(lr)
    return out




def ref_torch_polynomial(lr0, total_iters, power, n):
    """torch PolynomialLR.get_lr (chainable)."""
    lr, out = lr0, []
    for epoch in range(n):
        if 0 < epoch <= total_iters:
            lr = lr * ((1.0 - epoch / total_iters) / (1.0 - (epoch - 1) / total_iters)) ** power
        out.append(lr)
    return out




def ref_torch_cosine(lr0, T_max, eta_min, n):
    """torch CosineAnnealingLR.get_lr (recursive form), for epochs <= T_max."""
    lr, out = lr0, []
    for epoch in range(n):
        if epoch > 0:
            if (epoch - 1 - T_max) % (2 * T_max) == 0:
                lr = lr + (lr0 - eta_min) * (1 - math.cos(math.pi / T_max)) / 2
            else:
                lr = ((1 + math.cos(math.pi * epoch / T_max))
                      / (1 + math.cos(math.pi * (epoch - 1) / T_max))
                      * (lr - eta_min) + eta_min)
        out.append(lr)
    return out








def ref_clr_paper(base_lr, max_lr, step_size, mode, gamma, n):
    """bckenstler/CLR (the paper's Keras callback): symmetric cycles."""
    out = []
    for it in range(n):
        cycle = math.floor(1 + it / (2 * step_size))
        x = abs(it / step_size - 2 * cycle + 1)
        if mode == "triangular":
            scale = 1.0
        elif mode == "triangular2":
            scale = 1 / (2.0 ** (cycle - 1))
        else:
            scale = gamma**it
        out.append(base_lr + (max_lr - base_lr) * max(0.0, 1 - x) * scale)
    return out








# ------------------------------------------------------------------------------------------
# Every schedule against its references, at every step of a long range
# ------------------------------------------------------------------------------------------

lrs = st.floats(1e-5, 10.0)
factors = st.floats(0.01, 1.0)


@FAST
@given(lr0=lrs, factor=factors, every=st.integers(1, 60))
def test_step_decay_matches_torch_steplr_and_tf_staircase(lr0, factor, every):
    n = 8 * every + 3
    got = values(step_decay(lr0, factor=factor, every=every), n)
    assert_close(got, ref_torch_step(lr0, factor, every, n), scale=lr0)
    assert_close(got, REF.ExponentialDecay(lr0, every, factor, staircase=True)(np.arange(n)), scale=lr0)
    assert got[every - 1] == lr0 and got[every] == lr0 * factor  # the drop is at k = every


@FAST
@given(lr0=lrs, factor=factors,
       milestones=st.lists(st.integers(0, 300), max_size=6, unique=True).map(sorted))
def test_multistep_decay_matches_torch_multisteplr(lr0, factor, milestones):
    n = 320
    got = values(multistep_decay(lr0, milestones=milestones, factor=factor), n)
    assert_close(got, ref_torch_multistep(lr0, factor, milestones, n), scale=lr0)
    for m in milestones[1:] if milestones[:1] == [0] else milestones:  # switch at k = m
        assert got[m] < got[m - 1] or factor > 0.999  # (1 - ulp)^n may round to the same float


@FAST
@given(lr0=lrs, factor=factors, every=st.integers(1, 50), staircase=st.booleans())
def test_exponential_decay_matches_tf_keras(lr0, factor, every, staircase):
    n = 400
    got = values(exponential_decay(lr0, factor=factor, every=every, staircase=staircase), n)
    assert_close(got, REF.ExponentialDecay(lr0, every, factor, staircase)(np.arange(n)), scale=lr0)


@FAST
@given(lr0=lrs, factor=st.floats(0.9, 1.0))
def test_exponential_decay_every_1_matches_torch_exponentiallr(lr0, factor):
    n = 400
    got = values(exponential_decay(lr0, factor=factor), n)
    assert_close(got, ref_torch_exponential(lr0, factor, n), rtol=RTOL_CHAIN, scale=lr0)


@FAST
@given(lr0=lrs, ratio=st.floats(0.0, 1.0), until=st.integers(1, 300))
def test_linear_decay_matches_torch_linearlr(lr0, ratio, until):
    lr_end = lr0 * ratio
    n = until + 50
    got = values(linear_decay(lr0, lr_end=lr_end, until=until), n)
    assert_close(got, ref_torch_linear(lr0, 1.0, lr_end / lr0, until, n), rtol=RTOL_CHAIN,
                 scale=lr0)
    # the article's formula, ε_k = (1 - α) ε_0 + α ε_τ with α = k/τ, then constant
    article = [(1 - min(k, until) / until) * lr0 + min(k, until) / until * lr_end
               for k in range(n)]
    assert_close(got, article, scale=lr0)
    assert got[until] == got[-1]


@FAST
@given(lr0=lrs, until=st.integers(1, 300), power=st.floats(0.1, 4.0),
       lr_end=st.floats(0.0, 1e-3))
def test_polynomial_decay_matches_keras(lr0, until, power, lr_end):
    n = until + 50
    got = values(polynomial_decay(lr0, until=until, power=power, lr_end=lr_end), n)
    assert_close(got, REF.PolynomialDecay(lr0, until, lr_end, power)(np.arange(n)), scale=lr0)


@FAST
@given(lr0=lrs, until=st.integers(1, 300), power=st.floats(0.5, 3.0))
def test_polynomial_decay_matches_torch_polynomiallr(lr0, until, power):
    n = until + 20
    got = values(polynomial_decay(lr0, until=until, power=power), n)
    assert_close(got, ref_torch_polynomial(lr0, until, power, n), rtol=RTOL_CHAIN, scale=lr0)


@FAST
@given(lr0=lrs, rate=st.floats(0.0, 5.0), every=st.integers(1, 50), staircase=st.booleans())
def test_inverse_time_decay_matches_keras(lr0, rate, every, staircase):
    n = 400
    got = values(inverse_time_decay(lr0, rate=rate, every=every, staircase=staircase), n)
    assert_close(got, REF.InverseTimeDecay(lr0, every, rate, staircase)(np.arange(n)), scale=lr0)


@FAST
@given(lr0=lrs, until=st.integers(1, 400), ratio=st.floats(0.0, 0.5))
def test_cosine_decay_matches_torch_until_then_holds_like_optax(lr0, until, ratio):
    lr_end = lr0 * ratio
    n = 2 * until + 5
    got = values(cosine_decay(lr0, until=until, lr_end=lr_end), n)
    torch_ref = ref_torch_cosine(lr0, until, lr_end, until + 1)
    assert_close(got[: until + 1], torch_ref, rtol=RTOL_CHAIN, scale=lr0)
    optax_ref = REF.cosine_decay_schedule(lr0, until, ratio)(np.arange(n))
    assert_close(got, optax_ref, scale=lr0)
    assert np.all(got[until:] == lr_end)  # lrcore holds lr_end; torch would rise again


@FAST
@given(lr_max=lrs, period=st.integers(1, 40), mult=st.integers(1, 4),
       floor=st.floats(0.0, 0.5))
def test_cosine_restarts_matches_torch_tcur_loop(lr_max, period, mult, floor):
    lr_min = lr_max * floor
    n = 600
    got = values(cosine_restarts(lr_max, period=period, mult=mult, lr_min=lr_min), n)
    assert_close(got, REF.CosineAnnealingWarmRestarts(REF.SGD(lr=lr_max), period, mult, lr_min)(np.arange(n)), scale=lr_max)


def test_cosine_restarts_cycle_boundaries_are_exact():
    # cycle starts: N (m^i - 1)/(m - 1); the lookup of the cycle must not be off by one there
    for period, mult in [(1, 2), (3, 3), (7, 2), (10, 5), (1, 10)]:
        lr = cosine_restarts(1.0, period=period, mult=mult)
        starts = [period * (mult**i - 1) // (mult - 1) for i in range(1, 12)]
        big = np.array(starts + [s - 1 for s in starts])
        assert np.all(lr(np.array(starts)) == 1.0)  # restart: T_cur = 0
        assert all(lr(s) == 1.0 for s in starts)
        ends = [s - 1 for i, s in enumerate(starts) if period * mult**i > 1]  # cycles > 1 step
        assert all(lr(e) < 1.0 for e in ends)
        assert np.array_equal(lr(big), [lr(int(k)) for k in big])
    lr = cosine_restarts(0.1, period=10)
    assert lr(10) == lr(20) == 0.1 and lr(9) < 0.1  # first restart at k = period


def ref_restart_position(period, mult, k):
    """(T_cur, T_i) in exact Python integers: walk the cycles N, N m, N m^2, ..."""
    if mult == 1:
        return k % period, period
    start, length = 0, period
    while start + length <= k:
        start, length = start + length, length * mult
    return k - start, length


@FAST
@given(period=st.one_of(st.integers(1, 50), st.integers(1, 2**63 - 1)),
       mult=st.one_of(st.integers(1, 5), st.integers(1, 2**63 - 1)),
       k=st.lists(st.one_of(st.integers(0, 10**4), st.integers(2**59, 2**63 - 1)),
                  min_size=1, max_size=20))
def test_cosine_restarts_is_exact_up_to_the_last_step(period, mult, k):
    """Cycle starts overflowed int64 near k = 2**63 (wrong values, NaN at k = 2**63 - 1 for
    period=1, mult=2) and a period or mult beyond int64 raised OverflowError: the cycles are
    now found in a table of exact starts, whatever the step."""
    lr = cosine_restarts(1.0, period=period, mult=mult)
    got = lr(np.array(k, dtype=np.int64))
    expected = []
    for step in k:
        t_cur, t_i = ref_restart_position(period, mult, step)
        expected.append((1 + math.cos(math.pi * (float(t_cur) / float(t_i)))) / 2)
    assert_close(got, expected)
    assert np.all(np.isfinite(got))


def test_cosine_schedules_near_the_float_maximum():
    """(ε_0 - ε_τ)(1 + cos)/2 overflowed to inf for ε_0 near the largest float; halving first
    is exact, so ordinary values keep their bits."""
    assert cosine_decay(1e308, until=10)(0) == 1e308
    expected = 1.7e308 * (1 - math.cos(math.pi / 10)) / 2  # ε_τ + (0 - ε_τ)(1 + cos)/2
    assert cosine_decay(1e-300, until=10, lr_end=1.7e308)(1) == pytest.approx(expected)
    assert cosine_restarts(1e308, period=10, mult=2)(10) == 1e308
    v = values(cosine_decay(1.7e308, until=10, lr_end=1e-3), 12)
    assert np.all(np.isfinite(v)) and v[-1] == 1e-3


def test_cyclic_with_a_tiny_down_phase_leaks_no_warning():
    """up = 2**62, down = 1: r = up/T rounds to 1, and the unused branch divided by 0
    (a RuntimeWarning, an error under the test suite's -W error)."""
    lr = cyclic(0.0, 0.1, half_cycle=2**62, half_cycle_down=1)
    v = lr(np.array([0, 2**61, 2**62 - 1, 2**63 - 1]))
    assert np.all(np.isfinite(v)) and v[1] == pytest.approx(0.05)


@FAST
@given(lo=st.floats(1e-5, 1e-2), span=st.floats(1.0, 100.0), up=st.integers(1, 40),
       down=st.one_of(st.none(), st.integers(1, 40)),
       mode=st.sampled_from(["triangular", "triangular2", "exp_range"]),
       gamma=st.floats(0.99, 1.0))
def test_cyclic_matches_torch_cycliclr(lo, span, up, down, mode, gamma):
    hi = lo * span
    n = 500
    got = values(cyclic(lo, hi, half_cycle=up, half_cycle_down=down, mode=mode, gamma=gamma), n)
    torch_ref = REF.CyclicLR(REF.SGD(), lo, hi, up, down, mode, gamma)(np.arange(n))
    assert_close(got, torch_ref, scale=hi)


@FAST
@given(lo=st.floats(1e-5, 1e-2), span=st.floats(1.0, 100.0), step=st.integers(1, 40),
       mode=st.sampled_from(["triangular", "triangular2", "exp_range"]),
       gamma=st.floats(0.99, 1.0))
def test_cyclic_matches_the_clr_paper_code(lo, span, step, mode, gamma):
    hi = lo * span
    n = 500
    got = values(cyclic(lo, hi, half_cycle=step, mode=mode, gamma=gamma), n)
    assert_close(got, ref_clr_paper(lo, hi, step, mode, gamma, n), scale=hi)


one_cycle_cases = st.tuples(
    st.integers(10, 600), st.floats(0.05, 0.95), st.floats(1.0, 100.0), st.floats(1.0, 1e5),
    st.sampled_from(["cos", "linear"]), st.booleans(),
).filter(lambda c: c[1] * c[0] > 1 and (not c[5] or 2 * c[1] * c[0] - 2 < c[0] - 1))


@FAST
@given(lr_max=lrs, case=one_cycle_cases)
def test_one_cycle_matches_torch_onecyclelr_phase_loop(lr_max, case):
    total, pct, div, final_div, anneal, three = case
    n = total + 30
    got = values(one_cycle(lr_max, total=total, pct_start=pct, div=div, final_div=final_div,
                           anneal=anneal, three_phase=three), n)
    torch = REF.OneCycleLR(REF.SGD(), lr_max, total, pct, anneal, div_factor=div,
                           final_div_factor=final_div, three_phase=three)
    ref = torch(np.minimum(np.arange(n), total - 1))  # steps past the end hold the last value
    assert_close(got, ref, scale=lr_max)
    assert np.all(got[total - 1:] == got[total - 1])  # lrcore holds the final value


def test_one_cycle_landmarks():
    lr = one_cycle(0.1, total=100, pct_start=0.3)
    assert lr(0) == pytest.approx(0.1 / 25, rel=1e-15)
    assert lr(29) == pytest.approx(0.1, rel=1e-15)  # peak at pct_start*total - 1
    assert lr(99) == pytest.approx(0.1 / 25 / 1e4, rel=1e-12)
    three = one_cycle(0.1, total=100, pct_start=0.25, three_phase=True)
    assert three(24) == pytest.approx(0.1) and three(48) == pytest.approx(0.004)


@FAST
@given(init=st.floats(0.0, 1e-3), peak=st.floats(1e-3, 1.0), steps=st.integers(1, 100),
       until=st.integers(1, 300), ratio=st.floats(0.0, 0.1))
def test_warmup_cosine_matches_optax_warmup_cosine_decay_schedule(init, peak, steps, until,
                                                                 ratio):
    end = peak * ratio
    n = steps + until + 40
    got = values(warmup(cosine_decay(peak, until=until, lr_end=end), steps=steps,
                        lr_start=init), n)
    ref = REF.warmup_cosine_decay_schedule(init, peak, steps, steps + until, end)(np.arange(n))
    assert_close(got, ref, scale=peak)


@FAST
@given(b=st.lists(st.integers(1, 100), min_size=1, max_size=4, unique=True).map(sorted))
def test_join_matches_optax_join_schedules(b):
    pieces = [cosine_decay(0.1, until=50), constant(0.03), step_decay(0.05, factor=0.5, every=7),
              cyclic(0.001, 0.01, half_cycle=5), linear_decay(0.02, lr_end=0.0, until=30)]
    chosen = pieces[: len(b) + 1]
    n = b[-1] + 60
    got = values(join(chosen, b), n)
    # optax's join evaluates every child at every count, before the boundary too, where it
    # throws the value away; lrcore's schedules refuse negative steps, so clamp them there.
    children = [lambda k, s=s: s(np.maximum(k, 0)) for s in chosen]
    ref = REF.join_schedules(children, b)(np.arange(n))
    assert_close(got, ref, rtol=0)  # same children: exact


@FAST
@given(lo=st.floats(1e-8, 1e-2), span=st.floats(1.001, 1e6), steps=st.integers(2, 500))
def test_exponential_range_matches_geomspace_and_hits_both_ends(lo, span, steps):
    hi = lo * span
    lr = exponential_range(lo, hi, steps=steps)
    got = values(lr, steps)
    assert_close(got, np.geomspace(lo, hi, steps), scale=lo)
    assert got[0] == lo and got[-1] == hi and lr(0) == lo and lr(steps - 1) == hi
    assert np.all(np.diff(got) > 0)


@FAST
@given(lo=st.floats(1e-8, 1.0), span=st.floats(1e-3, 100.0), steps=st.integers(2, 500))
def test_linear_range_matches_linspace_and_hits_both_ends(lo, span, steps):
    hi = lo + span
    lr = linear_range(lo, hi, steps=steps)
    got = values(lr, steps)
    assert_close(got, np.linspace(lo, hi, steps), scale=hi)
    assert got[0] == lo and got[-1] == hi and lr(0) == lo and lr(steps - 1) == hi


@pytest.mark.parametrize("lo, hi, steps, k, expected", [
    (1e-300, 1e10, 5, 2, 1e-145),  # ε_end/ε_start = 1e310 overflows a float
    (1e-300, 1e300, 3, 1, 1.0),
    (1e-320, 10.0, 3, 1, math.exp((math.log(1e-320) + math.log(10.0)) / 2)),  # subnormal start
    (1e-6, 1e308, 3, 1, 1e151),
])
def test_exponential_range_does_not_overflow(lo, hi, steps, k, expected):
    """ε_k = ε_start^(1-t) ε_end^t: each factor lies between 1 and an end, so a sweep whose
    ratio ε_end/ε_start exceeds the largest float stays finite (it gave inf)."""
    lr = exponential_range(lo, hi, steps=steps)
    v = values(lr, steps)
    assert lr(k) == pytest.approx(expected, rel=1e-12)
    assert np.all(np.isfinite(v)) and v[0] == lo and v[-1] == hi and np.all(np.diff(v) > 0)


def test_ranges_hold_their_end_after_the_sweep():
    assert exponential_range(1e-6, 1.0, steps=10)(50) == 1.0
    assert linear_range(0.1, 1.0, steps=10)(np.array([9, 10, 99])).tolist() == [1.0] * 3


def test_constant():
    lr = constant(0.3)
    assert lr(0) == lr(10**6) == 0.3
    assert values(lr, 5).tolist() == [0.3] * 5


def test_article_step_decay_example():
    # ε_k = ε_0 α^⌊k/N⌋ with the article's TF example: 0.1, N = 100000, α = 0.96
    lr = step_decay(0.1, factor=0.96, every=100_000)
    assert lr(99_999) == 0.1 and lr(100_000) == pytest.approx(0.096, rel=1e-15)


# ------------------------------------------------------------------------------------------
# Properties
# ------------------------------------------------------------------------------------------

def spacing(x):
    return 4 * np.spacing(x)  # a few ulps: the closed forms round, they do not drift


decays = st.one_of(
    st.builds(lambda lr0, f, e: step_decay(lr0, factor=f, every=e), lrs, factors,
              st.integers(1, 50)),
    st.builds(lambda lr0, f, m: multistep_decay(lr0, milestones=m, factor=f), lrs, factors,
              st.lists(st.integers(0, 300), max_size=5, unique=True).map(sorted)),
    st.builds(lambda lr0, f, e, s: exponential_decay(lr0, factor=f, every=e, staircase=s),
              lrs, factors, st.integers(1, 50), st.booleans()),
    st.builds(lambda lr0, r, u: linear_decay(lr0, lr_end=lr0 * r, until=u), lrs,
              st.floats(0, 1), st.integers(1, 300)),
    st.builds(lambda lr0, u, p, r: polynomial_decay(lr0, until=u, power=p, lr_end=lr0 * r),
              lrs, st.integers(1, 300), st.floats(0.1, 4), st.floats(0, 1)),
    st.builds(lambda lr0, r, e, s: inverse_time_decay(lr0, rate=r, every=e, staircase=s),
              lrs, st.floats(0, 10), st.integers(1, 50), st.booleans()),
    st.builds(lambda lr0, u, r: cosine_decay(lr0, until=u, lr_end=lr0 * r), lrs,
              st.integers(1, 300), st.floats(0, 1)),
)


@FAST
@given(lr=decays)
def test_decays_are_monotone_non_increasing_and_bounded_by_lr0(lr):
    v = values(lr, 400)
    lr0 = lr.lr0
    assert np.all(np.diff(v) <= spacing(lr0))
    assert np.all(v <= lr0 + spacing(lr0)) and np.all(v >= 0)


@FAST
@given(lr_max=lrs, floor=st.floats(0, 1), period=st.integers(1, 30), mult=st.integers(1, 3))
def test_cosine_restarts_bounds(lr_max, floor, period, mult):
    lr_min = lr_max * floor
    v = values(cosine_restarts(lr_max, period=period, mult=mult, lr_min=lr_min), 300)
    assert np.all(v <= lr_max + spacing(lr_max)) and np.all(v >= lr_min - spacing(lr_max))


@FAST
@given(lo=st.floats(0.0, 1e-2), span=st.floats(1.0, 100.0), up=st.integers(1, 30),
       down=st.integers(1, 30), mode=st.sampled_from(["triangular", "triangular2", "exp_range"]),
       gamma=st.floats(0.9, 1.0))
def test_cyclic_bounds(lo, span, up, down, mode, gamma):
    hi = max(lo, 1e-6) * span
    v = values(cyclic(lo, hi, half_cycle=up, half_cycle_down=down, mode=mode, gamma=gamma), 300)
    assert np.all(v <= hi + spacing(hi)) and np.all(v >= lo - spacing(hi))


@FAST
@given(lo=st.floats(1e-6, 1e-2), span=st.floats(1.0, 100.0), up=st.integers(1, 30),
       down=st.integers(1, 30))
def test_cyclic_triangular_is_periodic_with_period_up_plus_down(lo, span, up, down):
    hi = lo * span
    lr = cyclic(lo, hi, half_cycle=up, half_cycle_down=down)
    period = up + down
    k = np.arange(4 * period)
    assert_close(lr(k + period), lr(k), scale=hi)
    assert lr(0) == lo and lr(up) == pytest.approx(hi, rel=1e-15)  # low at 0, peak at up


@FAST
@given(lr_max=lrs, case=one_cycle_cases)
def test_one_cycle_bounds(lr_max, case):
    total, pct, div, final_div, anneal, three = case
    lr = one_cycle(lr_max, total=total, pct_start=pct, div=div, final_div=final_div,
                   anneal=anneal, three_phase=three)
    v = values(lr, total + 5)
    # the linear anneal's (end - start) * pct + start cancels: a few ulps of lr_max (as torch)
    assert np.all(v <= lr_max + spacing(lr_max))
    assert np.all(v >= lr_max / div / final_div - spacing(lr_max))


@FAST
@given(b=st.lists(st.integers(1, 200), min_size=1, max_size=4, unique=True).map(sorted),
       seed=st.integers(0, 2**32 - 1))
def test_join_switches_exactly_at_its_boundaries(b, seed):
    rng = np.random.default_rng(seed)
    pieces = [constant(float(v)) for v in rng.uniform(0.01, 1.0, size=len(b) + 1)]
    decaying = [linear_decay(p.lr, lr_end=0.0, until=500) for p in pieces]
    lr = join(decaying, b)
    starts = [0, *b]
    for i, start in enumerate(starts):
        assert lr(start) == decaying[i](0)  # piece i restarts from its own step 0
        if i:
            assert lr(start - 1) == decaying[i - 1](start - 1 - starts[i - 1])
    v = values(join(pieces, b), b[-1] + 5)
    expected = np.concatenate([np.full(e - s, p.lr)
                               for p, s, e in zip(pieces, starts, [*b, b[-1] + 5])])
    assert np.array_equal(v, expected)


@FAST
@given(peak=st.floats(1e-4, 1.0), steps=st.integers(1, 200), lr_start=st.floats(0, 1e-4),
       until=st.integers(1, 200))
def test_warmup_is_linear_then_reaches_schedule0_continuously(peak, steps, lr_start, until):
    inner = cosine_decay(peak, until=until)
    lr = warmup(inner, steps=steps, lr_start=lr_start)
    v = values(lr, steps + until + 3)
    assert v[0] == lr_start
    assert v[steps] == inner(0) == peak  # at k = steps exactly schedule(0)
    ramp = v[: steps + 1]
    assert_close(ramp, lr_start + (peak - lr_start) * np.arange(steps + 1) / steps, scale=peak)
    assert_close(np.diff(ramp), np.full(steps, (peak - lr_start) / steps), rtol=1e-9,
                 scale=peak)
    assert np.array_equal(v[steps:], inner(np.arange(until + 3)))


def test_warmup_accepts_any_callable():
    lr = warmup(lambda k: 0.2 * np.ones_like(k, dtype=float), steps=4, lr_start=0.0)
    assert lr(2) == pytest.approx(0.1) and lr(10) == 0.2
    assert values(lr, 6).tolist() == pytest.approx([0.0, 0.05, 0.1, 0.15, 0.2, 0.2])


# ------------------------------------------------------------------------------------------
# Scalar / array behaviour, return types, purity
# ------------------------------------------------------------------------------------------

CATALOGUE = [
    constant(0.1),
    step_decay(0.1, factor=0.5, every=10),
    multistep_decay(0.1, milestones=[3, 30, 80], factor=0.1),
    multistep_decay(0.1, milestones=[], factor=0.1),
    exponential_decay(0.1, factor=0.9),
    exponential_decay(0.1, factor=0.5, every=7, staircase=True),
    linear_decay(0.1, lr_end=0.001, until=100),
    polynomial_decay(0.1, until=100, power=2.0, lr_end=1e-4),
    inverse_time_decay(0.1, rate=0.5, every=3, staircase=True),
    cosine_decay(0.1, until=90, lr_end=1e-3),
    cosine_restarts(0.1, period=7),
    cosine_restarts(0.1, period=3, mult=3, lr_min=1e-3),
    cyclic(1e-3, 0.1, half_cycle=6),
    cyclic(1e-3, 0.1, half_cycle=6, half_cycle_down=11, mode="triangular2"),
    cyclic(1e-3, 0.1, half_cycle=6, mode="exp_range", gamma=0.99),
    one_cycle(0.1, total=150),
    one_cycle(0.1, total=150, pct_start=0.25, anneal="linear", three_phase=True),
    warmup(cosine_decay(0.1, until=100), steps=20),
    warmup(step_decay(0.1, factor=0.5, every=10), steps=5, lr_start=0.01),
    join([constant(0.1), cosine_decay(0.05, until=30), constant(0.001)], [20, 50]),
    exponential_range(1e-6, 1.0, steps=120),
    linear_range(1e-3, 1.0, steps=120),
]
ids = [repr(s) for s in CATALOGUE]


@pytest.mark.parametrize("lr", CATALOGUE, ids=ids)
def test_scalar_and_array_agree_exactly(lr):
    """Bitwise equality holds by construction: a scalar step is evaluated as an array of one
    step, by the same NumPy code (``math.pow`` and NumPy's SIMD ``power`` differ in the last bit
    on some CPUs, so two implementations would not agree). It also relies on NumPy giving an
    element the same bits whatever the length of the array it sits in, which this checks too."""
    k = np.arange(250)
    v = lr(k)
    assert type(v) is np.ndarray and v.dtype == np.float64 and v.shape == k.shape
    scalars = [lr(int(i)) for i in k]
    assert all(type(x) is float for x in scalars)
    assert np.array_equal(v, scalars)
    assert np.array_equal(lr(k.reshape(10, 25)), v.reshape(10, 25))
    assert np.array_equal(lr(k.astype(np.int32)), v)
    assert np.array_equal(lr(k.astype(np.uint16)), v)
    assert np.array_equal(lr(list(range(5))), v[:5])


@pytest.mark.parametrize("lr", CATALOGUE, ids=ids)
def test_return_types(lr):
    expected = lr(7)
    for k in (7, np.int64(7), np.int32(7), np.uint8(7), np.array(7)):
        out = lr(k)
        assert type(out) is float and out == expected
    empty = lr(np.array([], dtype=np.int64))
    assert empty.dtype == np.float64 and empty.shape == (0,)


@pytest.mark.parametrize("lr", CATALOGUE, ids=ids)
def test_schedules_are_pure(lr):
    k = np.arange(0, 300, 7)
    before = k.copy()
    first, second = lr(k), lr(k)
    assert np.array_equal(first, second) and np.array_equal(k, before)
    assert lr(123) == lr(123)
    assert isinstance(lr, Schedule)


@pytest.mark.parametrize("lr", CATALOGUE, ids=ids)
def test_repr_round_trips(lr):
    text = repr(lr)
    rebuilt = eval(text, vars(S))  # the repr is the call that rebuilds the schedule
    assert repr(rebuilt) == text
    assert np.array_equal(rebuilt(np.arange(200)), lr(np.arange(200)))


@pytest.mark.parametrize("lr", CATALOGUE, ids=ids)
def test_copy_and_pickle_rebuild_the_schedule(lr):
    """The closed form is a closure, which pickle cannot store: a copy or an unpickled schedule
    is rebuilt (and checked) by the call its repr shows, and computes the same values."""
    for clone in (copy.copy(lr), copy.deepcopy(lr), pickle.loads(pickle.dumps(lr))):
        assert type(clone) is Schedule and clone is not lr and repr(clone) == repr(lr)
        assert np.array_equal(clone(np.arange(200)), lr(np.arange(200)))


def test_hyper_parameters_are_read_only_attributes():
    """The closure holds the values: an attribute that could be set would change nothing."""
    lr = multistep_decay(0.1, milestones=[3, 30], factor=0.5)
    assert (lr.lr0, lr.milestones, lr.factor) == (0.1, [3, 30], 0.5)
    lr.milestones.append(50)  # a new list at each read: the schedule is unchanged
    assert lr.milestones == [3, 30] and lr(50) == lr(30) == 0.025
    with pytest.raises(AttributeError, match="read-only"):
        lr.lr0 = 1.0
    with pytest.raises(AttributeError, match="no attribute 'every'"):
        lr.every  # noqa: B018
    assert lr(0) == 0.1 and "milestones" in dir(lr)
    inner = cosine_decay(0.1, until=10)
    assert warmup(inner, steps=5).schedule is inner
    joined = join([constant(0.1), inner], [3])
    assert joined.schedules[1] is inner and joined.boundaries == [3]


def test_repr_examples():
    assert repr(step_decay(0.1, factor=0.5, every=10)) == \
        "step_decay(lr0=0.1, factor=0.5, every=10)"
    assert repr(warmup(cosine_decay(0.1, until=900), steps=100)) == \
        "warmup(cosine_decay(lr0=0.1, until=900, lr_end=0.0), steps=100, lr_start=0.0)"
    assert repr(multistep_decay(1, milestones=(3, 5), factor=0.5)) == \
        "multistep_decay(lr0=1.0, milestones=[3, 5], factor=0.5)"
    assert repr(join([constant(0.1), constant(0.01)], [10])) == \
        "join([constant(lr=0.1), constant(lr=0.01)], boundaries=[10])"


@pytest.mark.parametrize("k", [-1, np.int64(-3), np.array(-2), np.array([0, 5, -1])])
def test_negative_step_raises_naming_k(k):
    with pytest.raises(ValueError, match=r"\bk\b"):
        step_decay(0.1, factor=0.5, every=10)(k)


@pytest.mark.parametrize("k", [2.5, 10.0, np.float64(3.0), np.array([0.0, 1.0]), True,
                               np.array([True, False])])
def test_float_or_bool_step_raises_not_integer(k):
    with pytest.raises(NotIntegerError, match=r"\bk\b") as info:
        cosine_decay(0.1, until=10)(k)
    assert isinstance(info.value, TypeError) and isinstance(info.value, ValueError)


@pytest.mark.parametrize("k", ["3", None, [1, "a"], object()])
def test_non_numeric_step_raises_type_error(k):
    with pytest.raises(TypeError, match=r"\bk\b"):
        constant(0.1)(k)


def test_children_are_checked_once_not_bypassed():
    lr = warmup(join([constant(0.1), constant(0.2)], [3]), steps=2)
    with pytest.raises(ValueError, match=r"\bk\b"):
        lr(np.array([1, -1]))


# ------------------------------------------------------------------------------------------
# Validation: every parameter named in the message
# ------------------------------------------------------------------------------------------

def bad(factory, exc, match, *args, **kwargs):
    return pytest.param(factory, args, kwargs, exc, match,
                        id=f"{factory.__name__}-{match}-{args}-{kwargs}")


INVALID = [
    # non-positive initial / peak LR
    bad(constant, ValueError, "lr", 0.0),
    bad(constant, ValueError, "lr", -0.1),
    bad(step_decay, ValueError, "lr0", 0, factor=0.5, every=10),
    bad(step_decay, ValueError, "lr0", -1.0, factor=0.5, every=10),
    bad(cosine_restarts, ValueError, "lr_max", 0.0, period=10),
    bad(cyclic, ValueError, "lr_max", 0.0, 0.0, half_cycle=10),
    bad(one_cycle, ValueError, "lr_max", -0.1, total=100),
    bad(exponential_range, ValueError, "lr_start", 0.0, 1.0, steps=10),
    bad(linear_range, ValueError, "lr_start", -1.0, 1.0, steps=10),
    # negative final / floor LR (0 is fine)
    bad(linear_decay, ValueError, "lr_end", 0.1, lr_end=-0.01, until=10),
    bad(cosine_decay, ValueError, "lr_end", 0.1, until=10, lr_end=-1e-3),
    bad(polynomial_decay, ValueError, "lr_end", 0.1, until=10, lr_end=-1e-3),
    bad(cosine_restarts, ValueError, "lr_min", 0.1, period=10, lr_min=-1e-3),
    bad(cyclic, ValueError, "lr_min", -1e-3, 0.1, half_cycle=10),
    bad(warmup, ValueError, "lr_start", constant(0.1), steps=10, lr_start=-0.1),
    # integers: every / until / period / half_cycle / steps / total
    bad(step_decay, ValueError, "every", 0.1, factor=0.5, every=0),
    bad(step_decay, ValueError, "every", 0.1, factor=0.5, every=-3),
    bad(step_decay, NotIntegerError, "every", 0.1, factor=0.5, every=2.5),
    bad(step_decay, NotIntegerError, "every", 0.1, factor=0.5, every=10.0),
    bad(step_decay, NotIntegerError, "every", 0.1, factor=0.5, every=True),
    bad(step_decay, TypeError, "every", 0.1, factor=0.5, every="10"),
    bad(exponential_decay, ValueError, "every", 0.1, factor=0.5, every=0),
    bad(inverse_time_decay, ValueError, "every", 0.1, rate=0.5, every=0),
    bad(linear_decay, ValueError, "until", 0.1, lr_end=0.0, until=0),
    bad(polynomial_decay, NotIntegerError, "until", 0.1, until=2.5),
    bad(cosine_decay, ValueError, "until", 0.1, until=-1),
    bad(cosine_restarts, ValueError, "period", 0.1, period=0),
    bad(cosine_restarts, NotIntegerError, "period", 0.1, period=1.5),
    bad(cyclic, ValueError, "half_cycle", 0.001, 0.1, half_cycle=0),
    bad(cyclic, ValueError, "half_cycle_down", 0.001, 0.1, half_cycle=5, half_cycle_down=0),
    bad(cyclic, NotIntegerError, "half_cycle", 0.001, 0.1, half_cycle=2.5),
    bad(warmup, ValueError, "steps", constant(0.1), steps=0),
    bad(warmup, NotIntegerError, "steps", constant(0.1), steps=2.5),
    bad(exponential_range, ValueError, "steps", 1e-5, 1.0, steps=1),
    bad(linear_range, ValueError, "steps", 1e-5, 1.0, steps=0),
    bad(one_cycle, ValueError, "total", 0.1, total=0),
    bad(one_cycle, NotIntegerError, "total", 0.1, total=100.0),
    # mult: an integer >= 1, as torch's T_mult
    bad(cosine_restarts, ValueError, "mult", 0.1, period=10, mult=0),
    bad(cosine_restarts, NotIntegerError, "mult", 0.1, period=10, mult=1.5),
    # factor outside (0, 1] for decays, gamma outside (0, 1]
    bad(step_decay, ValueError, "factor", 0.1, factor=0.0, every=10),
    bad(step_decay, ValueError, "factor", 0.1, factor=1.5, every=10),
    bad(multistep_decay, ValueError, "factor", 0.1, milestones=[10], factor=-0.5),
    bad(exponential_decay, ValueError, "factor", 0.1, factor=1.01),
    bad(cyclic, ValueError, "gamma", 0.001, 0.1, half_cycle=5, mode="exp_range", gamma=1.5),
    bad(cyclic, ValueError, "gamma", 0.001, 0.1, half_cycle=5, gamma=0.0),
    # milestones: unsorted, negative, duplicates, not integers
    bad(multistep_decay, ValueError, "milestones", 0.1, milestones=[30, 10], factor=0.1),
    bad(multistep_decay, ValueError, "milestones", 0.1, milestones=[-1, 10], factor=0.1),
    bad(multistep_decay, ValueError, "milestones", 0.1, milestones=[10, 10], factor=0.1),
    bad(multistep_decay, NotIntegerError, "milestones", 0.1, milestones=[1.5], factor=0.1),
    bad(multistep_decay, TypeError, "milestones", 0.1, milestones=10, factor=0.1),
    # lr_max < lr_min; ranges with lr_end <= lr_start
    bad(cyclic, ValueError, "lr_max", 0.1, 0.01, half_cycle=10),
    bad(cosine_restarts, ValueError, "lr_max", 0.01, period=10, lr_min=0.1),
    bad(exponential_range, ValueError, "lr_end", 1.0, 1e-5, steps=10),
    bad(linear_range, ValueError, "lr_end", 0.5, 0.5, steps=10),
    # pct_start outside (0, 1), phases too short
    bad(one_cycle, ValueError, "pct_start", 0.1, total=100, pct_start=0.0),
    bad(one_cycle, ValueError, "pct_start", 0.1, total=100, pct_start=1.0),
    bad(one_cycle, ValueError, "pct_start", 0.1, total=100, pct_start=0.01),
    bad(one_cycle, ValueError, "pct_start", 0.1, total=10, pct_start=0.1),
    bad(one_cycle, ValueError, "pct_start", 0.1, total=100, pct_start=0.6, three_phase=True),
    bad(one_cycle, ValueError, "div", 0.1, total=100, div=0.0),
    bad(one_cycle, ValueError, "final_div", 0.1, total=100, final_div=-1.0),
    # unknown mode / anneal, flags
    bad(cyclic, ValueError, "mode", 0.001, 0.1, half_cycle=5, mode="sine"),
    bad(one_cycle, ValueError, "anneal", 0.1, total=100, anneal="cosine"),
    bad(one_cycle, TypeError, "three_phase", 0.1, total=100, three_phase="yes"),
    bad(exponential_decay, TypeError, "staircase", 0.1, factor=0.5, staircase=1),
    # NaN / inf
    bad(step_decay, ValueError, "lr0", float("nan"), factor=0.5, every=10),
    bad(cosine_decay, ValueError, "lr0", float("inf"), until=10),
    bad(step_decay, ValueError, "factor", 0.1, factor=float("nan"), every=10),
    bad(cosine_restarts, ValueError, "lr_min", 0.1, period=10, lr_min=float("nan")),
    bad(polynomial_decay, ValueError, "power", 0.1, until=10, power=float("inf")),
    bad(polynomial_decay, ValueError, "power", 0.1, until=10, power=0.0),
    bad(inverse_time_decay, ValueError, "rate", 0.1, rate=-1.0),
    bad(exponential_range, ValueError, "lr_end", 1e-5, float("inf"), steps=10),
    # strings (and other non-numbers) where a number belongs
    bad(step_decay, TypeError, "lr0", "0.1", factor=0.5, every=10),
    bad(cosine_decay, TypeError, "lr_end", 0.1, until=10, lr_end="0"),
    bad(cyclic, TypeError, "lr_min", None, 0.1, half_cycle=10),
    bad(one_cycle, TypeError, "pct_start", 0.1, total=100, pct_start="0.3"),
    bad(constant, TypeError, "lr", True),
    # join and warmup
    bad(join, TypeError, "schedules", constant(0.1), []),
    bad(join, ValueError, "schedules", [], []),
    bad(join, TypeError, r"schedules\[1\]", [constant(0.1), 0.01], [10]),
    bad(join, ValueError, "boundaries", [constant(0.1), constant(0.2)], []),
    bad(join, ValueError, "boundaries", [constant(0.1), constant(0.2)], [10, 20]),
    bad(join, ValueError, "boundaries", [constant(0.1)] * 3, [20, 10]),
    bad(join, ValueError, "boundaries", [constant(0.1)] * 3, [10, 10]),
    bad(join, ValueError, "boundaries", [constant(0.1)] * 2, [0]),
    bad(join, NotIntegerError, "boundaries", [constant(0.1)] * 2, [2.5]),
    bad(warmup, TypeError, "schedule", 0.1, steps=10),
    # counts of steps beyond the last step k can reach (int64), and mult: refused, not overflowed
    bad(step_decay, ValueError, r"every must be an int in \[1, 2\*\*63 - 1\]", 0.1,
        factor=0.5, every=2**63),
    bad(cosine_decay, ValueError, r"until must be an int in \[1, 2\*\*63 - 1\]", 0.1,
        until=10**19),
    bad(cosine_restarts, ValueError, r"period must be an int in \[1, 2\*\*63 - 1\]", 0.1,
        period=10**19),
    bad(cosine_restarts, ValueError, r"mult must be an int in \[1, 2\*\*63 - 1\]", 0.1,
        period=10, mult=10**20),
    bad(cyclic, ValueError, r"half_cycle must be an int in \[1, 2\*\*63 - 1\]", 0.0, 0.1,
        half_cycle=2**64),
    bad(one_cycle, ValueError, r"total must be an int in \[1, 2\*\*63 - 1\]", 0.1,
        total=10**19),
    bad(warmup, ValueError, r"steps must be an int in \[1, 2\*\*63 - 1\]", constant(0.1),
        steps=10**19),
    bad(exponential_range, ValueError, r"steps must be an int in \[2, 2\*\*63 - 1\]", 1e-3,
        1.0, steps=10**19),
    bad(join, ValueError, r"boundaries must be an int in \[1, 2\*\*63 - 1\]",
        [constant(0.1)] * 2, [10**19]),
    bad(multistep_decay, ValueError, r"milestones must be an int in \[0, 2\*\*63 - 1\]", 0.1,
        milestones=[3, 2**63], factor=0.5),
    # one_cycle: ε_0 = lr_max/div and ε_min = ε_0/final_div must be finite floats
    bad(one_cycle, ValueError, "div and final_div", 0.1, total=100, div=1e-320),
    bad(one_cycle, ValueError, "div and final_div", 1e300, total=100, final_div=1e-10),
]


@pytest.mark.parametrize("factory, args, kwargs, exc, match", INVALID)
def test_invalid_arguments_raise_naming_the_parameter(factory, args, kwargs, exc, match):
    with pytest.raises(exc, match=match) as info:
        factory(*args, **kwargs)
    message = str(info.value)
    assert any(word in message for word in ("must", "got")), message


def test_messages_state_the_accepted_range():
    with pytest.raises(ValueError, match=r"every must be an int >= 1; got 0"):
        step_decay(0.1, factor=0.5, every=0)
    with pytest.raises(ValueError, match=r"factor must be a real number in \(0, 1\]; got 1.5"):
        step_decay(0.1, factor=1.5, every=10)
    with pytest.raises(ValueError, match=r"pct_start must be a real number in \(0, 1\)"):
        one_cycle(0.1, total=10, pct_start=1.0)


def test_edge_values_that_are_accepted():
    assert step_decay(0.1, factor=1.0, every=1)(100) == 0.1  # factor = 1: no decay
    assert cosine_decay(0.1, until=1, lr_end=0.0)(1) == 0.0
    assert cyclic(0.1, 0.1, half_cycle=3)(4) == 0.1  # lr_max == lr_min
    assert cosine_restarts(0.1, period=1, lr_min=0.1)(5) == 0.1
    assert multistep_decay(0.1, milestones=[0], factor=0.5)(0) == 0.05  # a drop at k = 0
    assert step_decay(np.float32(0.5), factor=np.float64(0.5), every=np.int64(2))(2) == 0.25
    assert linear_decay(0.01, lr_end=0.1, until=10)(10) == pytest.approx(0.1)  # a ramp up


def test_package_exports_every_schedule():
    for name in ["constant", "step_decay", "multistep_decay", "exponential_decay",
                 "linear_decay", "polynomial_decay", "inverse_time_decay", "cosine_decay",
                 "cosine_restarts", "cyclic", "one_cycle", "warmup", "join",
                 "exponential_range", "linear_range", "ReduceLROnPlateau"]:
        assert getattr(lrcore, name) is getattr(S, name)


def test_every_public_function_documents_formula_and_equivalent():
    for name in S.__all__:
        obj = getattr(S, name)
        doc = obj.__doc__ or ""
        assert doc, name
        if callable(obj) and name not in ("NotIntegerError", "Schedule"):
            assert ">>>" in doc and "ε" in doc, name


def test_a_scalar_only_callable_can_be_composed():
    """A user's schedule written for one int at a time (``if k < 10``) works inside warmup/join:
    it is called per step when it cannot take an array."""
    def step_at_10(k):
        return 0.1 if k < 10 else 0.01
    lr = warmup(step_at_10, steps=5)
    assert [lr(k) for k in (0, 5, 14, 15)] == [0.0, 0.1, 0.1, 0.01]
    assert np.array_equal(lr(np.arange(30)), [lr(k) for k in range(30)])
    joined = join([constant(0.5), step_at_10], [3])
    assert np.array_equal(joined(np.arange(20)), [0.5] * 3 + [0.1] * 10 + [0.01] * 7)


@pytest.mark.parametrize("k", [2**63, np.array([2**63], dtype=np.uint64), np.uint64(2**64 - 1)])
def test_steps_beyond_int64_are_refused(k):
    """Steps are int64 inside: a larger one is refused rather than wrapped to a negative step."""
    with pytest.raises(ValueError, match=r"k must be an int in \[0, 2\*\*63 - 1\]"):
        step_decay(0.1, factor=0.5, every=10)(k)


# ------------------------------------------------------------------------------------------
# A user's callable inside warmup/join: what it returns is checked
# ------------------------------------------------------------------------------------------

def negative_after_5(k):
    return np.where(np.asarray(k) < 5, 0.1, -0.1)


CHILD_RETURNS = [  # (call, exception, words the message must contain)
    (lambda: warmup(lambda k: -0.1, steps=3), ValueError,
     r"schedule\(k\) must be a real number >= 0 at every step; got -0\.1 at k = 0"),
    (lambda: warmup(lambda k: math.nan, steps=3), ValueError,
     r"schedule\(k\) must be a real number >= 0 at every step; got nan at k = 0"),
    (lambda: warmup(negative_after_5, steps=3)(10), ValueError,
     r"schedule\(k\) must be a real number >= 0 at every step; got -0\.1 at k = 7"),
    (lambda: warmup(negative_after_5, steps=3)(np.arange(20)), ValueError,
     r"schedule\(k\) must be a real number >= 0 at every step; got -0\.1 at k = 5"),
    (lambda: join([constant(0.1), lambda k: -0.1], [10])(13), ValueError,
     r"schedules\[1\]\(k\) must be a real number >= 0 at every step; got -0\.1 at k = 3"),
    (lambda: join([constant(0.1), lambda k: math.inf], [10])(np.arange(12)), ValueError,
     r"schedules\[1\]\(k\) must be a real number >= 0 at every step; got inf at k = 0"),
    (lambda: join([lambda k: 0.1 if k < 4 else math.nan, constant(0.1)], [10])(np.arange(12)),
     ValueError, r"schedules\[0\]\(k\) must be a real number >= 0 at every step; got nan at k = 4"),  # a scalar-only callable
    (lambda: join([constant(0.1), lambda k: "a"], [2])(5), TypeError,
     r"schedules\[1\]\(k\) must be a real number at every step; got 'a' at k = 3"),
    (lambda: warmup(lambda k: None, steps=3), TypeError,
     r"schedule\(k\) must be a real number at every step; got None"),
    (lambda: warmup(lambda k: "0.1", steps=3), TypeError,
     r"schedule\(k\) must be a real number at every step; got '0\.1'"),
]


@pytest.mark.parametrize("call, exc, match", CHILD_RETURNS)
def test_a_callable_that_returns_no_learning_rate_is_named(call, exc, match):
    """NaN, inf or negative rates from a user's callable passed silently into training."""
    with pytest.raises(exc, match=match):
        call()


def test_valid_callables_and_zero_rates_are_accepted():
    assert warmup(lambda k: 0.0, steps=2)(5) == 0.0  # a rate of 0 is a learning rate
    lr = join([constant(0.1), lambda k: 0.01 * np.ones(np.shape(k))], [3])
    assert lr(np.arange(5)).tolist() == [0.1, 0.1, 0.1, 0.01, 0.01]


# ------------------------------------------------------------------------------------------
# Property: a scalar step and an array of steps give the same bits, for every schedule
# ------------------------------------------------------------------------------------------

pos = st.floats(1e-8, 10.0)
counts = st.one_of(st.integers(1, 300), st.integers(1, 2**62))  # every, until, period, ...
unit = st.floats(0.0, 1.0)


@st.composite
def one_cycles(draw):
    total = draw(st.integers(20, 10**6))
    return one_cycle(draw(pos), total=total, pct_start=draw(st.floats(0.1, 0.45)),
                     div=draw(st.floats(1.0, 100.0)), final_div=draw(st.floats(1.0, 1e5)),
                     anneal=draw(st.sampled_from(["cos", "linear"])),
                     three_phase=draw(st.booleans()))


@st.composite
def ranges(draw, factory):
    lo = draw(pos)
    return factory(lo, lo * draw(st.floats(1.001, 1e8)), steps=draw(st.integers(2, 10**6)))


leaf_schedules = st.one_of(
    st.builds(constant, pos),
    st.builds(lambda a, f, n: step_decay(a, factor=f, every=n), pos, factors, counts),
    st.builds(lambda a, f, m: multistep_decay(a, milestones=m, factor=f), pos, factors,
              st.lists(st.integers(0, 10**6), max_size=5, unique=True).map(sorted)),
    st.builds(lambda a, f, n, s: exponential_decay(a, factor=f, every=n, staircase=s),
              pos, factors, counts, st.booleans()),
    st.builds(lambda a, r, n: linear_decay(a, lr_end=a * r, until=n), pos, st.floats(0, 2),
              counts),
    st.builds(lambda a, n, p, r: polynomial_decay(a, until=n, power=p, lr_end=a * r),
              pos, counts, st.floats(0.1, 4.0), unit),
    st.builds(lambda a, r, n, s: inverse_time_decay(a, rate=r, every=n, staircase=s),
              pos, st.floats(0, 10), counts, st.booleans()),
    st.builds(lambda a, n, r: cosine_decay(a, until=n, lr_end=a * r), pos, counts, unit),
    st.builds(lambda a, n, m, r: cosine_restarts(a, period=n, mult=m, lr_min=a * r),
              pos, counts, st.one_of(st.integers(1, 4), st.integers(1, 2**62)), unit),
    st.builds(lambda a, r, up, down, mode, g: cyclic(a * r, a, half_cycle=up,
                                                     half_cycle_down=down, mode=mode, gamma=g),
              pos, unit, counts, st.one_of(st.none(), counts),
              st.sampled_from(["triangular", "triangular2", "exp_range"]), st.floats(0.9, 1.0)),
    one_cycles(),
    ranges(exponential_range),
    ranges(linear_range),
)
all_schedules = st.one_of(
    leaf_schedules,
    st.builds(lambda s, n, r: warmup(s, steps=n, lr_start=r * s(0)), leaf_schedules, counts,
              unit),
    st.builds(lambda ss, b: join(ss, b), st.lists(leaf_schedules, min_size=3, max_size=3),
              st.lists(st.integers(1, 10**6), min_size=2, max_size=2, unique=True).map(sorted)),
)
any_steps = st.lists(st.one_of(st.integers(0, 2000), st.integers(0, 2**63 - 1)),
                     min_size=1, max_size=12)


@settings(max_examples=150, deadline=None)
@given(lr=all_schedules, k=any_steps)
def test_scalar_and_array_give_the_same_bits_for_any_schedule(lr, k):
    """For every public schedule, random valid hyper-parameters and random steps (up to the
    last int64 step): ``lr(k) == lr(np.array(ks))[i]`` bit for bit. It holds by construction
    (a scalar is evaluated as an array of one step); this guards it, and that every value is
    a learning rate (finite, >= 0) even at extreme steps."""
    array = lr(np.array(k, dtype=np.int64))
    scalars = np.array([lr(step) for step in k])
    assert np.array_equal(scalars.view(np.int64), array.view(np.int64))  # bits, -0.0 included
    assert np.all(np.isfinite(array)) and np.all(array >= 0)
