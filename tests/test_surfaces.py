"""Tests of lrcore.surfaces: gradients, critical points, descend, escape_step."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrcore import surfaces
from lrcore.surfaces import (SURFACES, Trajectory, descend, escape_step, monkey_saddle,
                             rosenbrock, saddle, two_minima)

ALL = list(SURFACES.values())


@pytest.mark.parametrize("s", ALL, ids=lambda s: s.name)
def test_gradient_matches_central_differences(s):
    rng = np.random.default_rng(0)
    x0, x1, y0, y1 = s.extent
    x, y = rng.uniform(x0, x1, 200), rng.uniform(y0, y1, 200)
    h = 1e-5
    fd_x = (s.f(x + h, y) - s.f(x - h, y)) / (2 * h)
    fd_y = (s.f(x, y + h) - s.f(x, y - h)) / (2 * h)
    gx, gy = s.grad(x, y)
    scale = 1 + np.abs(gx) + np.abs(gy)
    assert np.abs(gx - fd_x).max() / scale.max() < 1e-6
    assert np.abs(gy - fd_y).max() / scale.max() < 1e-6


@pytest.mark.parametrize("s", ALL, ids=lambda s: s.name)
def test_critical_points_have_zero_gradient_and_right_kind(s):
    assert s.critical_points and s.extent[0] < s.extent[1] and s.extent[2] < s.extent[3]
    for cp in s.critical_points:
        x, y = cp["point"]
        assert np.allclose(s.grad(x, y), 0, atol=1e-12)
        assert s.extent[0] <= x <= s.extent[1] and s.extent[2] <= y <= s.extent[3]
        # classify by sampling a small circle: a minimum is below all of it, a saddle is not
        phi = np.linspace(0, 2 * np.pi, 72, endpoint=False)
        ring = s.f(x + 1e-3 * np.cos(phi), y + 1e-3 * np.sin(phi)) - s.f(x, y)
        assert cp["kind"] in ("minimum", "saddle")
        if cp["kind"] == "minimum":
            assert ring.min() > 0
        else:
            assert ring.min() < 0 < ring.max()


def test_surface_formulas_and_broadcasting():
    assert saddle.f(1.0, 2.0) == -3.0 and monkey_saddle.f(1.0, 1.0) == -2.0
    assert two_minima.f(0.0, 0.0) == 1.0 and rosenbrock.f(1.0, 1.0) == 0.0
    X, Y = np.meshgrid(np.linspace(-1, 1, 4), np.linspace(-1, 1, 3))
    assert saddle.f(X, Y).shape == (3, 4)
    gx, gy = saddle.grad(X, 0.5)  # a constant component is broadcast too
    assert gx.shape == gy.shape == (3, 4) and np.all(gy == -1.0)
    assert "x^2 - y^2" in repr(saddle)
    cps = saddle.critical_points
    cps[0]["kind"] = "changed"  # a fresh list: the surface is not modified
    assert saddle.critical_points[0]["kind"] == "saddle"


def _hand_descent(s, start, lrs, noise=0.0, seed=0):
    rng = np.random.default_rng(seed)
    theta = np.array(start, dtype=float)
    out = [theta.copy()]
    for k, lr in enumerate(lrs):
        g = np.array(s.grad(theta[0], theta[1]))
        if noise:
            g = g + noise * rng.standard_normal((1, 2))[0]
        theta = theta - lr * g
        out.append(theta.copy())
    return np.array(out)


def test_descend_with_schedule_equals_hand_loop():
    schedule = lambda k: 0.05 * 0.5 ** (np.asarray(k) // 10)  # noqa: E731, a vectorised step decay
    t = descend(two_minima, [0.1, 0.8], lr=schedule, steps=40)
    lrs = [0.05 * 0.5 ** (k // 10) for k in range(40)]
    assert np.array_equal(t.lr, lrs)
    assert np.allclose(t.points, _hand_descent(two_minima, [0.1, 0.8], lrs), rtol=0, atol=1e-15)
    assert np.allclose(t.values, two_minima.f(t.points[:, 0], t.points[:, 1]))
    assert t.diverged_at == -1 and not t.diverged and t.steps == 40


def test_descend_non_vectorised_schedule_evaluated_per_step():
    calls = []

    def schedule(k):
        calls.append(k)
        return 0.2 if k < 5 else 0.01  # `if` on an array raises: descend falls back to ints

    t = descend(saddle, [1.0, 0.1], lr=schedule, steps=8)
    assert t.lr.tolist() == [0.2] * 5 + [0.01] * 3
    assert calls[-8:] == list(range(8)) and all(type(k) is int for k in calls[-8:])
    assert np.allclose(t.points, _hand_descent(saddle, [1.0, 0.1], t.lr))
    # a schedule that ignores k and returns one scalar is also evaluated per step
    assert descend(saddle, [1.0, 0.0], lr=lambda k: 0.1, steps=3).lr.tolist() == [0.1] * 3


def test_descend_with_noise_equals_hand_loop():
    t = descend(saddle, [0.3, 0.0], lr=0.05, steps=25, noise=0.7, seed=11)
    assert np.allclose(t.points, _hand_descent(saddle, [0.3, 0.0], [0.05] * 25, noise=0.7, seed=11))
    again = descend(saddle, [0.3, 0.0], lr=0.05, steps=25, noise=0.7, seed=11)
    other = descend(saddle, [0.3, 0.0], lr=0.05, steps=25, noise=0.7, seed=12)
    assert np.array_equal(t.points, again.points) and not np.array_equal(t.points, other.points)


@settings(max_examples=20, deadline=None)
@given(starts=st.lists(st.tuples(st.floats(-1.5, 1.5), st.floats(-1.5, 1.5)), min_size=1, max_size=6),
       lr=st.floats(0.001, 0.3), which=st.sampled_from(sorted(SURFACES)))
def test_vectorised_starts_equal_one_by_one(starts, lr, which):
    s = SURFACES[which]
    batch = descend(s, starts, lr=lr, steps=30)
    assert batch.points.shape == (31, len(starts), 2) and batch.values.shape == (31, len(starts))
    for i, start in enumerate(starts):
        one = descend(s, start, lr=lr, steps=30)
        assert np.array_equal(batch.points[:, i], one.points, equal_nan=True)
        assert batch.diverged_at[i] == one.diverged_at


def test_descend_blow_up_is_recorded_without_warnings():
    # filterwarnings=error::RuntimeWarning (pyproject) turns any overflow warning into a failure
    t = descend(saddle, [[0.0, 1.0], [1.0, 0.0], [0.0, 0.0]], lr=0.9, steps=200, bound=1e6)
    assert t.diverged.tolist() == [True, False, False]
    k = t.diverged_at[0]
    assert k == math.ceil(math.log(1e6) / math.log(1 + 2 * 0.9))  # |y_k| = 2.8^k
    assert np.isfinite(t.points[:k, 0]).all() and np.isnan(t.points[k:, 0]).all()
    assert np.isnan(t.values[k:, 0]).all() and np.isfinite(t.values[:, 1:]).all()
    # overflow to inf (rosenbrock with a huge step) is caught the same way
    r = descend(rosenbrock, [-1.5, 2.0], lr=0.1, steps=50)
    assert r.diverged and r.diverged_at <= 3 and escape_step(r, radius=10.0) <= r.diverged_at
    # a start already outside the box is diverged at step 0
    assert descend(saddle, [2e6, 0.0], lr=0.1, steps=3).diverged_at == 0


def test_gd_converges_to_minima_of_two_minima():
    t = descend(two_minima, [[0.3, 0.5], [-0.2, -0.4]], lr=0.05, steps=400)
    assert np.allclose(t.points[-1], [[1, 0], [-1, 0]], atol=1e-6)
    # λ_max of the Hessian at (1, 1) is about 1001.6: ε = 0.0019 < 2/λ_max, the valley is slow
    r = descend(rosenbrock, [-1.0, 1.0], lr=0.0019, steps=5000)
    assert np.allclose(r.points[-1], [1, 1], atol=2e-2) and np.all(np.diff(r.values) <= 1e-12)


def test_saddle_escape_time_matches_theory():
    ys = np.geomspace(1e-8, 1e-2, 7)
    starts = np.column_stack([np.full(7, 0.5), ys])
    for lr in (0.05, 0.2):
        t = descend(saddle, starts, lr=lr, steps=400)
        # |y_k| = (1 + 2ε)^k y_0 and x_k → 0: escape when |y_k| > 1 (x_k² adds < 1e-3 then)
        expected = np.ceil(np.log(1 / ys) / np.log(1 + 2 * lr))
        assert np.all(np.abs(escape_step(t, radius=1.0) - expected) <= 1)


def test_escape_step():
    pts = np.array([[[0, 0], [0, 0]], [[0.5, 0], [0, 2]], [[3, 0], [0, 0]]], dtype=float)
    assert escape_step(pts, radius=1.0).tolist() == [2, 1]
    assert escape_step(pts, radius=5.0).tolist() == [-1, -1]
    assert escape_step(pts, radius=1.0, center=(3, 0)).tolist() == [0, 0]
    assert escape_step(pts[:, 0], radius=0.4) == 1 and isinstance(escape_step(pts[:, 0], radius=0.4), int)
    nan = np.array([[0, 0], [np.nan, np.nan]])
    assert escape_step(nan, radius=1e9) == 1
    t = descend(saddle, [0.0, 0.0], lr=0.1, steps=5)  # exactly on the saddle: never moves
    assert escape_step(t, radius=1e-9) == -1 and np.all(t.points == 0)


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(steps=0), ValueError, "steps must be an int >= 1"),
    (dict(steps=2.0), TypeError, "steps"),
    (dict(noise=-0.1), ValueError, "noise"),
    (dict(noise=float("inf")), ValueError, "noise"),
    (dict(lr=0.0), ValueError, "lr must be a real number > 0"),
    (dict(lr=10**400), ValueError, "lr must be a real number > 0; got an int beyond the float range"),
    (dict(noise=10**400), ValueError, "noise must be a real number >= 0; got an int beyond"),
    (dict(lr="0.1"), TypeError, "lr"),
    (dict(lr=lambda k: -0.1 + 0 * k), ValueError, r"lr\(k\) must be a real number >= 0 at every step; got .* at k = 0"),
    (dict(lr=lambda k: np.where(np.asarray(k) < 3, 0.1, np.nan)), ValueError, "at k = 3"),
    (dict(start=[1.0, 2.0, 3.0]), ValueError, r"start must have shape \(2,\) or \(n, 2\)"),
    (dict(start=np.zeros((0, 2))), ValueError, "start must have shape"),
    (dict(start=np.zeros((2, 3))), ValueError, "start must have shape"),
    (dict(start=[np.nan, 0.0]), ValueError, "start must be finite"),
    (dict(start=[[1.0], [1.0, 2.0]]), TypeError, "start must be an array"),
    (dict(start=[10**400, 0]), ValueError, "start must be finite; got an int beyond"),  # OverflowError before
    # a schedule returning something that is not a number: "could not convert string to float",
    # "float() argument must be ...", "only length-1 arrays ..." before
    (dict(lr=lambda k: "a"), TypeError, r"lr\(k\) must be a real number at every step; got 'a' at k = 0"),
    (dict(lr=lambda k: "0.1"), TypeError, r"lr\(k\) must be a real number at every step; got '0.1'"),  # silently 0.1
    (dict(lr=lambda k: None), TypeError, r"lr\(k\) must be a real number at every step; got None at k = 0"),
    (dict(lr=lambda k: np.ones((2, 2))), TypeError, r"lr\(k\) must be a real number at every step; got array"),
    (dict(lr=lambda k: 10**400), ValueError, r"lr\(k\) must be a real number in the float range at every step; got an int beyond the float range at k = 0"),
    (dict(seed=-1), ValueError, "seed must be an int >= 0; got -1"),
    (dict(seed=1.5), TypeError, "seed must be an int >= 0; got 1.5"),
    (dict(bound=0.0), ValueError, "bound"),
    (dict(surface=lambda x, y: x), TypeError, "surface must be"),
])
def test_descend_validation(kwargs, exc, match):
    args = dict(surface=saddle, start=[1.0, 0.1], lr=0.1, steps=5)
    args.update(kwargs)
    with pytest.raises(exc, match=match):
        descend(args.pop("surface"), args.pop("start"), **args)


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(radius=0.0), ValueError, "radius"),
    (dict(radius=-1.0), ValueError, "radius"),
    (dict(radius=None), TypeError, "radius"),
    (dict(radius=1.0, center=(0, 0, 0)), ValueError, "center"),
    (dict(radius=1.0, center=(np.nan, 0)), ValueError, "center"),
    (dict(radius=1.0, center="ab"), TypeError, r"center must be a finite point of shape \(2,\); got 'ab'"),
])
def test_escape_step_validation(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        escape_step(np.zeros((3, 2)), **kwargs)
    with pytest.raises(ValueError, match=r"shape \(T, 2\) or \(T, n, 2\)"):
        escape_step(np.zeros((3, 3)), radius=1.0)


@pytest.mark.parametrize("trajectory, exc, match", [
    ("abc", TypeError, "trajectory must be a Trajectory or an array of points .*; got str"),
    ([[0, 0], [1]], TypeError, "trajectory must be a Trajectory or an array of points .*; got list"),
    (np.zeros((0, 2)), ValueError, r"with T >= 1; got \(0, 2\)"),  # "argmax of an empty sequence" before
])
def test_escape_step_trajectory_validation(trajectory, exc, match):
    with pytest.raises(exc, match=match):
        escape_step(trajectory, radius=1.0)


def test_trajectory_is_exported():
    assert isinstance(descend(saddle, [1, 1], lr=0.1, steps=1), Trajectory)
    assert set(surfaces.__all__) >= {"descend", "escape_step", "saddle", "rosenbrock"}
