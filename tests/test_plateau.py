"""ReduceLROnPlateau against an independent port of torch's logic, plus lrcore's two fixes."""

import json
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lrcore
from lrcore import checks, plateau as P, schedules as S
from lrcore.plateau import ReduceLROnPlateau
from lrcore.schedules import NotIntegerError

FAST = settings(max_examples=60, deadline=None)


class TorchPlateau:
    """torch.optim.lr_scheduler.ReduceLROnPlateau (one param group), ported as written."""

    def __init__(self, lr, mode="min", factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_lr=0.0, eps=1e-8):
        self.lr, self.mode, self.factor, self.patience = lr, mode, factor, patience
        self.threshold, self.threshold_mode, self.cooldown = threshold, threshold_mode, cooldown
        self.min_lr, self.eps = min_lr, eps
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = self.cooldown_counter = 0

    def is_better(self, a, best):
        if self.mode == "min" and self.threshold_mode == "rel":
            return a < best * (1.0 - self.threshold)
        if self.mode == "min" and self.threshold_mode == "abs":
            return a < best - self.threshold
        if self.mode == "max" and self.threshold_mode == "rel":
            return a > best * (self.threshold + 1.0)
        return a > best + self.threshold

    def step(self, metrics):
        current = float(metrics)
        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:
            old_lr = self.lr
            new_lr = max(old_lr * self.factor, self.min_lr)
            if old_lr - new_lr > self.eps:
                self.lr = new_lr
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        return self.lr


class FixedPlateau(TorchPlateau):
    """The contract's rule, written independently: |best| in the relative threshold, the first
    finite metric always improves, non-finite metrics never do."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.seen_finite = False

    def is_better(self, a, best):
        if not math.isfinite(a):
            return False
        if not self.seen_finite:
            self.seen_finite = True
            return True
        sign = 1.0 if self.mode == "min" else -1.0  # min: a < best - d; max: a > best + d
        margin = abs(best) * self.threshold if self.threshold_mode == "rel" else self.threshold
        return sign * a < sign * best - margin


def torch_kwargs(kw):
    out = dict(kw)
    out["min_lr"] = out.pop("lr_min")
    return out


configs = st.fixed_dictionaries({
    "factor": st.sampled_from([0.1, 0.5, 0.3]),
    "patience": st.integers(0, 4),
    "threshold": st.sampled_from([0.0, 1e-4, 1e-2, 0.1]),
    "threshold_mode": st.sampled_from(["rel", "abs"]),
    "cooldown": st.integers(0, 3),
    "lr_min": st.sampled_from([0.0, 1e-4, 2e-3]),
    "mode": st.sampled_from(["min", "max"]),
    "eps": st.sampled_from([1e-8, 0.0, 1e-3]),
})
positive_metrics = st.lists(st.floats(1e-3, 10.0), min_size=1, max_size=60)
any_metrics = st.lists(st.floats(-10.0, 10.0), min_size=1, max_size=60)


def run(plateau, metrics):
    return [plateau.step(m) for m in metrics]


@FAST
@given(kw=configs, metrics=positive_metrics)
def test_positive_metrics_match_torch_exactly(kw, metrics):
    ours = ReduceLROnPlateau(0.1, **kw)
    theirs = TorchPlateau(0.1, **torch_kwargs(kw))
    assert run(ours, metrics) == run(theirs, metrics)
    assert ours.best == theirs.best and ours.num_bad_epochs == theirs.num_bad_epochs
    assert ours.cooldown_counter == theirs.cooldown_counter and ours.n_nonfinite == 0


@FAST
@given(kw=configs, seed=st.integers(0, 2**32 - 1))
def test_random_walk_losses_match_torch(kw, seed):
    rng = np.random.default_rng(seed)
    losses = np.exp(np.cumsum(rng.normal(-0.01, 0.05, size=200)))  # positive, noisy plateaus
    ours = ReduceLROnPlateau(1.0, **kw)
    theirs = TorchPlateau(1.0, **torch_kwargs(kw))
    assert run(ours, losses) == run(theirs, losses.tolist())


@FAST
@given(kw=configs, metrics=any_metrics)
def test_signed_metrics_follow_the_abs_best_rule(kw, metrics):
    ours = ReduceLROnPlateau(0.1, **kw)
    ref = FixedPlateau(0.1, **torch_kwargs(kw))
    assert run(ours, metrics) == run(ref, metrics)
    assert ours.best == ref.best


def test_negative_metrics_torch_fault_is_fixed():
    # best = -1.0: torch's best * (1 - θ) = -0.9999 counts a *worse* -0.99995 as better
    metrics = [-1.0, -0.99995, -0.99995, -0.99995]
    theirs = TorchPlateau(0.1, patience=1, threshold=1e-4)
    assert run(theirs, metrics) == [0.1] * 4 and theirs.best == -0.99995
    ours = ReduceLROnPlateau(0.1, patience=1, threshold=1e-4)
    assert run(ours, metrics) == pytest.approx([0.1, 0.1, 0.01, 0.01])
    assert ours.best == -1.0
    # an improvement by more than |best| θ is one
    p = ReduceLROnPlateau(0.1, patience=0, threshold=0.1)
    p.step(-1.0)
    p.step(-1.05)  # not below -1.1
    assert p.best == -1.0 and p.lr == pytest.approx(0.01)
    p.step(-1.2)
    assert p.best == -1.2


def test_first_finite_metric_is_always_an_improvement():
    for mode, worse in [("min", 1e300), ("max", -1e300)]:
        for threshold_mode in ["rel", "abs"]:
            p = ReduceLROnPlateau(0.1, mode=mode, threshold_mode=threshold_mode, threshold=0.5,
                                  patience=0)
            assert p.step(worse) == 0.1 and p.best == worse and p.num_bad_epochs == 0
    p = ReduceLROnPlateau(0.1, threshold=2.0, patience=0)  # rel: best*(1-θ) would be <0
    p.step(5.0)
    assert p.best == 5.0


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_non_finite_metrics_are_never_improvements(bad):
    p = ReduceLROnPlateau(0.1, patience=1, factor=0.5)
    assert p.step(bad) == 0.1 and p.n_nonfinite == 1
    assert p.best == math.inf and p.num_bad_epochs == 1  # counts as not an improvement
    assert p.step(bad) == 0.05  # second bad epoch > patience: reduce
    p.step(1.0)
    assert p.best == 1.0 and p.num_bad_epochs == 0
    p.step(bad)
    assert p.best == 1.0 and p.n_nonfinite == 3
    p = ReduceLROnPlateau(0.1, mode="max")
    p.step(-math.inf if bad == -math.inf else bad)
    assert p.best == -math.inf and p.n_nonfinite == 1


def test_cooldown_ignores_bad_epochs_then_resumes():
    p = ReduceLROnPlateau(1.0, patience=0, cooldown=2, factor=0.5)
    lrs = run(p, [1.0, 2.0, 2.0, 2.0, 2.0, 2.0])
    # 2.0 bad -> reduce (cooldown 2), two ignored, then bad again -> reduce
    assert lrs == [1.0, 0.5, 0.5, 0.5, 0.25, 0.25]


def test_lr_min_and_eps():
    p = ReduceLROnPlateau(1.0, patience=0, factor=0.1, lr_min=0.05)
    assert run(p, [1.0, 2.0, 2.0, 2.0]) == [1.0, 0.1, 0.05, 0.05]
    p = ReduceLROnPlateau(1e-8, patience=0, factor=0.5, eps=1e-8)  # change below eps: skipped
    assert run(p, [1.0, 2.0, 2.0]) == [1e-8, 1e-8, 1e-8]


def test_mode_max_is_mirrored():
    p = ReduceLROnPlateau(0.1, mode="max", patience=1, factor=0.5)
    assert run(p, [0.5, 0.6, 0.6, 0.59, 0.7]) == [0.1, 0.1, 0.1, 0.05, 0.05]
    assert p.best == 0.7


@FAST
@given(kw=configs, metrics=st.lists(
    st.one_of(st.floats(-10.0, 10.0), st.sampled_from([math.nan, math.inf, -math.inf])),
    min_size=2, max_size=60), data=st.data())
def test_state_dict_json_round_trip_continues_exactly(kw, metrics, data):
    split = data.draw(st.integers(0, len(metrics)))
    original = ReduceLROnPlateau(0.1, **kw)
    run(original, metrics[:split])
    state = json.loads(json.dumps(original.state_dict(), allow_nan=False))
    restored = ReduceLROnPlateau(5.0, factor=0.9, patience=99, mode="max")  # overwritten
    restored.load_state_dict(state)
    assert restored.state_dict() == original.state_dict()
    assert repr(restored) == repr(original)
    assert run(restored, metrics[split:]) == run(original, metrics[split:])
    assert restored.state_dict() == original.state_dict()


def test_state_dict_is_plain_data():
    p = ReduceLROnPlateau(0.1)
    state = p.state_dict()
    assert state["best"] is None and json.loads(json.dumps(state)) == state
    p.step(0.5)
    assert p.state_dict()["best"] == 0.5
    with pytest.raises(ValueError, match="missing"):
        p.load_state_dict({"lr": 0.1})


@pytest.mark.parametrize("kwargs, exc, match", [
    ({"lr0": 0.0}, ValueError, "lr0"),
    ({"lr0": math.nan}, ValueError, "lr0"),
    ({"lr0": "0.1"}, TypeError, "lr0"),
    ({"factor": 1.0}, ValueError, "factor"),
    ({"factor": 0.0}, ValueError, "factor"),
    ({"patience": -1}, ValueError, "patience"),
    ({"patience": 1.5}, NotIntegerError, "patience"),
    ({"threshold": -1e-4}, ValueError, "threshold"),
    ({"threshold_mode": "relative"}, ValueError, "threshold_mode"),
    ({"cooldown": -1}, ValueError, "cooldown"),
    ({"lr_min": -1e-3}, ValueError, "lr_min"),
    ({"mode": "minimum"}, ValueError, "mode"),
    ({"eps": -1.0}, ValueError, "eps"),
    ({"eps": math.inf}, ValueError, "eps"),
])
def test_invalid_arguments(kwargs, exc, match):
    kwargs = {"lr0": 0.1, **kwargs}
    lr0 = kwargs.pop("lr0")
    with pytest.raises(exc, match=match):
        ReduceLROnPlateau(lr0, **kwargs)


@pytest.mark.parametrize("metric", ["0.5", None, True, [0.5, 0.4]])
def test_metric_must_be_a_number(metric):
    with pytest.raises(TypeError, match="metric"):
        ReduceLROnPlateau(0.1).step(metric)


def test_accepts_numpy_metrics_and_reports_lr():
    p = ReduceLROnPlateau(0.1, patience=0)
    assert p.step(np.float32(1.0)) == 0.1 and p.step(np.array(2.0)) == pytest.approx(0.01)
    assert p.lr == pytest.approx(0.01) and p.last_epoch == 2
    assert repr(p).startswith("ReduceLROnPlateau(lr0=0.1, factor=0.1, patience=0")


@pytest.mark.parametrize("metric", [10**400, -(10**400), Fraction(10**400, 3)],
                         ids=["10**400", "-10**400", "Fraction(10**400, 3)"])
def test_a_metric_beyond_the_float_range_is_named(metric):
    """float(10**400) raised a bare OverflowError ("int too large to convert to float")."""
    p = ReduceLROnPlateau(0.1)
    with pytest.raises(ValueError, match=r"metric must be a real number in the float range"):
        p.step(metric)
    assert p.last_epoch == 0  # nothing recorded


def reached_state(**changes):
    """A state that step() reached (cooldown 2, patience 1, one reduction), then edited."""
    p = ReduceLROnPlateau(0.1, factor=0.5, patience=1, cooldown=2, lr_min=0.01)
    for metric in [1.0, 2.0, 2.0, math.nan]:
        p.step(metric)
    return {**p.state_dict(), **changes}


BAD_STATES = [  # (state, exception, words the message must contain)
    (None, TypeError, r"state must be a dict from state_dict\(\); got None"),
    ([("lr", 0.1)], TypeError, r"state must be a dict"),
    ("lr=0.1", TypeError, r"state must be a dict"),
    ({"lr": 0.1}, ValueError, r"state is missing the keys"),
    (reached_state(patiance=3), ValueError, r"state has unknown keys \['patiance'\]"),
    (reached_state(cooldown_counter=3), ValueError,
     r"cooldown_counter must be <= cooldown = 2 .*got 3"),
    (reached_state(num_bad_epochs=2), ValueError, r"num_bad_epochs must be <= patience = 1"),
    (reached_state(n_nonfinite=5), ValueError, r"n_nonfinite must be <= last_epoch = 4"),
    (reached_state(lr=0.2), ValueError, r"lr must be in \[min\(lr0, lr_min\), lr0\] = "
                                        r"\[0\.01, 0\.1\].*got 0\.2"),
    (reached_state(lr=0.001), ValueError, r"lr must be in \[min\(lr0, lr_min\), lr0\]"),
    (reached_state(best=None), ValueError, r"best must be None exactly when"),
    (reached_state(last_epoch=1, n_nonfinite=1), ValueError, r"best must be None exactly when"),
    (reached_state(cooldown_counter=-1), ValueError, r"cooldown_counter"),
    (reached_state(cooldown_counter=1.5), NotIntegerError, r"cooldown_counter"),
    (reached_state(lr="0.1"), TypeError, r"\blr\b"),
    (reached_state(best=math.nan), ValueError, r"\bbest\b"),
    (reached_state(cooldown=-1), ValueError, r"\bcooldown\b"),
]


@pytest.mark.parametrize("state, exc, match", BAD_STATES)
def test_load_state_dict_refuses_a_state_step_cannot_reach(state, exc, match):
    p = ReduceLROnPlateau(0.3, patience=5)
    before = p.state_dict()
    with pytest.raises(exc, match=match):
        p.load_state_dict(state)
    assert p.state_dict() == before  # all or nothing


def test_a_reached_state_loads():
    p = ReduceLROnPlateau(1.0)
    p.load_state_dict(reached_state())
    assert p.state_dict() == reached_state() and p.cooldown_counter == 1
    fresh = ReduceLROnPlateau(0.1, lr_min=0.5)  # lr0 < lr_min: lr stays at lr0
    fresh.step(math.inf)
    p.load_state_dict(fresh.state_dict())
    assert p.best == math.inf and p.lr == 0.1


# ------------------------------------------------------------------------------------------
# where it lives: lrcore/plateau.py, still importable from lrcore.schedules
# ------------------------------------------------------------------------------------------

def test_one_class_importable_from_its_module_the_schedules_and_the_package():
    from lrcore.schedules import ReduceLROnPlateau as from_schedules

    assert from_schedules is S.ReduceLROnPlateau is lrcore.ReduceLROnPlateau is ReduceLROnPlateau
    assert ReduceLROnPlateau.__module__ == "lrcore.plateau"
    assert "ReduceLROnPlateau" in P.__all__ and "ReduceLROnPlateau" not in S.__all__
    with pytest.raises(AttributeError, match="module 'lrcore.schedules' has no attribute 'nope'"):
        S.nope  # noqa: B018


def test_the_argument_checks_are_the_schedules_own():
    """One way to check an argument: the plateau and the schedules use lrcore.checks."""
    assert P.checks is S.checks is checks
    with pytest.raises(ValueError, match=r"^factor must be a real number in \(0, 1\); got 1.5$"):
        ReduceLROnPlateau(0.1, factor=1.5)
    with pytest.raises(ValueError, match=r"^factor must be a real number in \(0, 1\]; got 1.5$"):
        S.step_decay(0.1, factor=1.5, every=1)
