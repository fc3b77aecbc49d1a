"""lrcore.training.sweep: K runs as one stacked computation, equal to K separate trains.

``train`` is the readable loop the book shows, ``sweep`` runs on the stacked engine
(``lrcore.stacked``), code written for speed: two implementations, kept in agreement here. In
float64 (the models' default) a member equals its separate run to round-off (``rtol=1e-9``), with
every option, a member that diverges included.
"""
import warnings

import numpy as np
import pytest

from lrcore.data import make_least_squares, make_spirals
from lrcore.models import MLP, LinearRegression
from lrcore.schedules import ReduceLROnPlateau, cosine_decay, exponential_range, one_cycle
from lrcore.stacked import StackedModel
from lrcore.training import sweep, train

DATA = make_spirals(n_train=80, n_val=40, seed=0)
KW = dict(epochs=4, batch_size=12, seed=3)   # 7 steps per epoch, the last batch of 8


def assert_same_run(a, b, rtol=1e-9):
    """Two Histories equal to round-off (float64 by default), NaN exactly where the other has NaN."""
    np.testing.assert_array_equal(a.lr, b.lr)
    np.testing.assert_array_equal(a.momentum, b.momentum)
    assert (a.diverged, a.diverged_at) == (b.diverged, b.diverged_at)
    assert (a.epochs, a.steps_per_epoch) == (b.epochs, b.steps_per_epoch)
    for field in ("loss", "train_loss", "val_loss", "val_accuracy"):
        np.testing.assert_allclose(getattr(a, field), getattr(b, field), rtol=rtol, atol=rtol * 1e-3,
                                   err_msg=field)


LRS = [0.01, 0.1, cosine_decay(0.5, until=28), one_cycle(0.8, total=28)]  # floats and schedules


@pytest.mark.parametrize("extra", [
    {}, dict(momentum=0.9), dict(momentum=0.9, nesterov=True), dict(weight_decay=1e-2),
    dict(momentum=0.5, nesterov=True, weight_decay=1e-2),
    dict(momentum=lambda k: 0.95 - 0.1 * np.minimum(k, 10) / 10),      # a momentum schedule
    dict(schedule_unit="epoch"), dict(momentum=0.9, schedule_unit="epoch"),
])
def test_sweep_equals_separate_trains(extra):
    model = MLP([2, 16, 3], seed=0)
    hs = sweep(model, DATA, lrs=LRS, **KW, **extra)
    assert len(hs) == 4
    for lr, h in zip(LRS, hs):
        assert_same_run(h, train(model.copy(), DATA, lr=lr, **KW, **extra))


def test_sweep_equals_separate_trains_in_float32():
    """float32 rounds ~1e-7 a step instead of ~1e-16: the runs agree to the fourth digit."""
    model = MLP([2, 16, 3], seed=0, dtype=np.float32)
    hs = sweep(model, DATA, lrs=LRS, momentum=0.9, **KW)
    for lr, h in zip(LRS, hs):
        assert_same_run(h, train(model.copy(), DATA, lr=lr, momentum=0.9, **KW), rtol=1e-4)


@pytest.mark.parametrize("extra", [{}, dict(momentum=0.9, weight_decay=1e-3)])
def test_a_member_diverging_between_checks_stops_at_the_step_train_stops_at(extra):
    """The sweep checks its losses every 64 steps and at each epoch's end (128 steps an epoch
    here), train every step: both report the first step whose loss is above 1000x the first
    (step 159 here, 3 times the limit: far from a tie), and the same NaNs after it."""
    data = make_least_squares(n_features=4, seed=0)
    lrs = [0.01, exponential_range(1e-3, 10.0, steps=256)]
    kw = dict(epochs=2, batch_size=4, **extra)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hs = sweep(LinearRegression(4), data, lrs=lrs, **kw)
        alone = [train(LinearRegression(4), data, lr=lr, **kw) for lr in lrs]
    assert [h.diverged for h in hs] == [False, True]
    assert 128 < hs[1].diverged_at < 192          # in the second epoch, between two checks
    for h, a in zip(hs, alone):
        assert_same_run(h, a)


def test_sweep_leaves_the_model_untouched():
    model = MLP([2, 16, 3], seed=0)
    before = [t.copy() for t in model.theta]
    sweep(model, DATA, lrs=[0.1, 0.3], **KW)
    for t, b in zip(model.theta, before):
        np.testing.assert_array_equal(t, b)


def test_one_member_diverges_the_others_go_on():
    model = MLP([2, 16, 3], seed=0)
    lrs = [0.05, 1e7, 0.3]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hs = sweep(model, DATA, lrs=lrs, momentum=0.5, **KW)
    assert [h.diverged for h in hs] == [False, True, False]
    alone = train(model.copy(), DATA, lr=1e7, momentum=0.5, **KW)
    assert hs[1].diverged_at == alone.diverged_at
    for field in ("lr", "momentum", "loss", "train_loss", "val_loss", "val_accuracy"):
        np.testing.assert_array_equal(np.isnan(getattr(hs[1], field)),
                                      np.isnan(getattr(alone, field)), err_msg=field)
    for j in (0, 2):
        assert_same_run(hs[j], train(model.copy(), DATA, lr=lrs[j], momentum=0.5, **KW))


def test_every_member_diverges():
    data = make_least_squares(n_features=3, seed=0)
    limit = data.info["lr_stability_limit"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hs = sweep(LinearRegression(3), data, lrs=[2 * limit, 5 * limit], epochs=50,
                   batch_size=data.n_train)
    assert all(h.diverged for h in hs)
    assert hs[1].diverged_at < hs[0].diverged_at   # the larger LR blows up sooner


def test_seeds_make_a_grid_of_fresh_initialisations():
    model = MLP([2, 8, 3], seed=0)
    grid = sweep(model, DATA, lrs=[0.1, 0.3], init_seeds=[4, 5, 6], **KW)
    assert len(grid) == 2 and all(len(row) == 3 for row in grid)
    for lr, row in zip([0.1, 0.3], grid):
        for s, h in zip([4, 5, 6], row):
            assert_same_run(h, train(model.copy(seed=s), DATA, lr=lr, **KW))
    assert grid[0][0].val_loss[-1] != grid[0][1].val_loss[-1]   # seeds differ


def test_plateau_is_per_member():
    model = MLP([2, 8, 3], seed=0)
    plateau = ReduceLROnPlateau(0.3, factor=0.5, patience=0, threshold=0.05)
    hs = sweep(model, DATA, lrs=[0.3, 0.05], plateau=plateau, **KW)
    for lr, h in zip([0.3, 0.05], hs):
        assert_same_run(h, train(model.copy(), DATA, lr=lr, plateau=plateau, **KW))
    assert plateau.lr == 0.3 and plateau.num_bad_epochs == 0   # never stepped itself


def test_sweep_is_deterministic():
    a = sweep(MLP([2, 8, 3]), DATA, lrs=[0.1, 0.2], momentum=0.9, **KW)
    b = sweep(MLP([2, 8, 3]), DATA, lrs=[0.1, 0.2], momentum=0.9, **KW)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x.loss, y.loss)
        np.testing.assert_array_equal(x.val_loss, y.val_loss)


def test_one_forward_pass_per_step_whatever_k(monkeypatch):
    """The K members are one computation: no Python loop over K."""
    model = MLP([2, 8, 3])
    calls = []
    real = StackedModel.forward
    monkeypatch.setattr(StackedModel, "forward", lambda self, X, **kw: calls.append(self.K)
                        or real(self, X, **kw))
    sweep(model, DATA, lrs=list(np.geomspace(1e-3, 1, 9)), **KW)
    assert calls == [9] * (28 + 4)   # 28 steps and 4 validation passes, each for all 9


def test_a_run_leaves_no_arrays_on_the_model():
    """The engine's per-step arrays (megabytes for a large sweep) live as long as the run."""
    model = MLP([2, 16, 3], seed=0)
    sweep(model, DATA, lrs=[0.1, 0.2], **KW)
    train(model, DATA, lr=0.1, **KW)

    def holds_arrays(v):
        if isinstance(v, dict):
            v = list(v.values())
        return isinstance(v, np.ndarray) or (isinstance(v, (list, tuple)) and any(map(holds_arrays, v)))

    assert [name for name, v in vars(model).items() if name != "theta" and holds_arrays(v)] == []


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(lrs=[]), TypeError, "lrs must be a non-empty sequence"),
    (dict(lrs=0.1), TypeError, "lrs must be a non-empty sequence"),
    (dict(lrs=cosine_decay(0.1, until=5)), TypeError, "lrs must be a non-empty sequence"),
    (dict(lrs=[0.1, -0.1]), ValueError, r"lrs\[1\] must be a real number > 0"),
    (dict(lrs=[0.1, "a"]), TypeError, r"lrs\[1\] must be a real number > 0"),
    (dict(lrs=[0.1], init_seeds=[]), TypeError, "init_seeds must be None or a non-empty sequence"),
    (dict(lrs=[0.1], init_seeds=[0, -2]), ValueError, r"init_seeds\[1\] must be an int >= 0"),
    (dict(lrs=[0.1], momentum=2.0), ValueError, "momentum must be"),
    # a dict or a set was taken for its keys (in no particular order for a set)
    (dict(lrs={0.1: "slow", 0.3: "fast"}), TypeError,
     r"lrs must be a non-empty sequence of learning rates \(floats or schedules\); got a dict "
     r"\(pass list\(lrs.values\(\)\) for its values\)"),
    (dict(lrs={0.1, 0.3}), TypeError, "lrs must be a non-empty sequence .*; got a set "
                                      r"\(which has no order: pass a list\)"),
    (dict(lrs={0.1: 1}.keys()), TypeError, "lrs must be a non-empty sequence .*; got a dict_keys"),
    (dict(lrs=[0.1], init_seeds={1, 2}), TypeError, "init_seeds must be None or a non-empty sequence of ints >= 0; "
                                               "got a set"),
    (dict(lrs=np.float64(0.1)), TypeError, "lrs must be a non-empty sequence"),
    (dict(lrs=np.array(0.1)), TypeError, "lrs must be a non-empty sequence"),
    (dict(lrs=[0.1, 1e-320]), ValueError, r"lrs\[1\] must be a real number >= 2.23e-308"),
    (dict(lrs=[0.1, lambda k: "a"]), TypeError, r"lrs\[1\]\(k\) must be a real number at every step"),
])
def test_sweep_validation(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        sweep(MLP([2, 8, 3]), DATA, epochs=1, **kwargs)


def test_lrs_as_a_tuple_or_an_array():
    as_list = sweep(MLP([2, 8, 3]), DATA, lrs=[0.1, 0.3], **KW)
    for lrs in ((0.1, 0.3), np.array([0.1, 0.3])):
        for a, b in zip(sweep(MLP([2, 8, 3]), DATA, lrs=lrs, **KW), as_list):
            np.testing.assert_array_equal(a.loss, b.loss)


def test_the_memory_limit_counts_every_member(monkeypatch):
    """The per-step records are allocated before the first step, for each member: a limit that
    one run fits (28 steps here) refuses a grid of 4 lrs x 4 seeds, saying how many epochs fit."""
    import lrcore.training
    monkeypatch.setattr(lrcore.training, "MAX_RECORD_BYTES", 28 * 4 * lrcore.training.RECORD_BYTES)
    train(MLP([2, 8, 3]), DATA, lr=0.1, **KW)
    sweep(MLP([2, 8, 3]), DATA, lrs=[0.1] * 4, **KW)
    with pytest.raises(ValueError, match=r"epochs must be an int in \[1, 1\] for this run; got 4: "
                                         r"28 steps \(7 an epoch\), for each of 16 runs, would "
                                         r"need .* reduce epochs \(or raise batch_size or pass "
                                         r"fewer lrs or init_seeds\)"):
        sweep(MLP([2, 8, 3]), DATA, lrs=[0.1] * 4, init_seeds=[0, 1, 2, 3], **KW)


def test_seeds_is_a_deprecated_alias_of_init_seeds():
    """init_seeds (the initialisations) and seed (the data order) say what they seed; the old
    spelling seeds= still works, and warns naming the new one."""
    model = MLP([2, 8, 3], seed=0)
    new = sweep(model, DATA, lrs=[0.1], init_seeds=[4, 5], **KW)
    with pytest.warns(DeprecationWarning, match=r"seeds is deprecated, use init_seeds=\[4, 5\]"):
        old = sweep(model, DATA, lrs=[0.1], seeds=[4, 5], **KW)
    for a, b in zip(old[0], new[0]):
        np.testing.assert_array_equal(a.loss, b.loss)
    with pytest.raises(TypeError, match=r"pass init_seeds only; seeds is its deprecated old name"):
        sweep(model, DATA, lrs=[0.1], init_seeds=[4], seeds=[4], **KW)
