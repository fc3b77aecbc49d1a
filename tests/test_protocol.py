"""Tests of lrcore.protocol: the one protocol of the schedule chapters (tune, evaluate)."""
import dataclasses

import numpy as np
import pytest

from lrcore.data import load_digits, make_least_squares, make_teacher_student
from lrcore.models import MLP
from lrcore.protocol import PROTOCOL, Protocol, TuneResult, evaluate, tune
from lrcore.schedules import constant, cosine_decay
from lrcore.training import train

DATA = make_teacher_student(n_train=300, n_val=100, n_features=5, n_classes=3, seed=1)
TINY = PROTOCOL.replace(data=DATA, epochs=2, tune_seeds=(0, 1), eval_seeds=(5, 6, 7),
                        lr_grid=(0.05, 0.2, 1e4))
CONSTANT = lambda peak, total: constant(peak)  # noqa: E731


def test_the_protocol_of_the_book():
    p = PROTOCOL
    assert p.data.name == "teacher-student" and p.data.n_train == 8000
    assert not set(p.tune_seeds) & set(p.eval_seeds)
    assert len(p.eval_seeds) >= 8
    assert p.steps == p.epochs * -(-p.data.n_train // p.batch_size) == 2500
    assert list(p.lr_grid) == sorted(p.lr_grid) and all(type(lr) is float for lr in p.lr_grid)
    model = p.model(3)
    assert isinstance(model, MLP) and tuple(model.sizes) == (20, 64, 5)
    assert all(np.array_equal(a, b) for a, b in zip(model.theta, MLP([20, 64, 5], seed=3).theta))


def test_replace_is_a_new_checked_protocol():
    other = PROTOCOL.replace(batch_size=128)
    assert other.batch_size == 128 and PROTOCOL.batch_size == 32
    with pytest.raises(dataclasses.FrozenInstanceError):
        PROTOCOL.epochs = 3
    with pytest.raises(ValueError, match="eval_seeds must be fresh, disjoint from tune_seeds"):
        PROTOCOL.replace(eval_seeds=(2, 100))
    with pytest.raises(ValueError, match="lr_grid must be increasing"):
        PROTOCOL.replace(lr_grid=(0.2, 0.1))
    with pytest.raises(ValueError, match="tune_seeds must not repeat"):
        PROTOCOL.replace(tune_seeds=(0, 0))
    with pytest.raises(ValueError, match=r"lr_grid\[1\] must be a real number > 0; got 0"):
        PROTOCOL.replace(lr_grid=(0.1, 0))
    with pytest.raises(ValueError, match="batch_size must be an int in"):
        PROTOCOL.replace(batch_size=10**6)
    with pytest.raises(ValueError, match=r"momentum must be a real number in \[0, 1\)"):
        PROTOCOL.replace(momentum=1.0)
    with pytest.raises(TypeError, match="data must be a classification"):
        PROTOCOL.replace(data=make_least_squares())
    with pytest.raises(TypeError, match="eval_seeds must be a tuple or list"):
        PROTOCOL.replace(eval_seeds=5)
    with pytest.raises(ValueError, match="tune_seeds must be a non-empty"):
        PROTOCOL.replace(tune_seeds=())
    assert PROTOCOL.replace(hidden=[]).model(0).sizes == (20, 5)   # softmax regression
    digits = PROTOCOL.replace(data=load_digits())
    assert digits.model(0).sizes == (64, 64, 10)


def test_tune_runs_the_grid_on_the_tuning_seeds_and_picks_the_minimum():
    totals = []

    def make(peak, total):
        totals.append(total)
        return cosine_decay(peak, until=total)

    result = tune(make, protocol=TINY)
    assert isinstance(result, TuneResult) and totals == [TINY.steps] * 3
    assert result.grid == TINY.lr_grid and result.losses.shape == (2, 3)
    assert result.diverged.tolist() == [False, False, True]          # lr 1e4: reported
    assert np.isnan(result.mean_loss[2]) and np.isnan(result.losses[:, 2]).any()
    np.testing.assert_allclose(result.mean_loss[:2], result.losses[:, :2].mean(axis=0))
    assert result.best_index == int(np.nanargmin(result.mean_loss))
    assert result.best_peak == TINY.lr_grid[result.best_index]
    assert result.at_edge == (result.best_index in (0, 2))
    # run seed s: model initialised with s and minibatches drawn with s, as train does
    h = train(TINY.model(1), DATA, lr=make(0.2, TINY.steps), epochs=2, batch_size=32, seed=1)
    assert result.losses[1, 1] == pytest.approx(h.final_val_loss, rel=1e-9)


def test_tune_refuses_a_grid_where_everything_diverged():
    with pytest.raises(ValueError, match="every peak of lr_grid"):
        tune(CONSTANT, protocol=TINY.replace(lr_grid=(1e4, 1e5)))
    with pytest.raises(TypeError, match="make_schedule must be a function"):
        tune(0.1, protocol=TINY)


def test_evaluate_pairs_the_fresh_seeds():
    losses = evaluate(CONSTANT, 0.2, protocol=TINY)
    assert losses.shape == (3,) and np.isfinite(losses).all()
    assert len(set(losses.tolist())) == 3                          # the seeds differ
    np.testing.assert_array_equal(evaluate(CONSTANT, 0.2, protocol=TINY), losses)
    swapped = evaluate(CONSTANT, 0.2, protocol=TINY.replace(eval_seeds=(7, 5, 6)))
    np.testing.assert_array_equal(swapped, losses[[2, 0, 1]])      # aligned with eval_seeds
    h = train(TINY.model(6), DATA, lr=0.2, epochs=2, batch_size=32, seed=6)
    assert losses[1] == pytest.approx(h.final_val_loss, rel=1e-9)
    diverged = evaluate(CONSTANT, 1e4, protocol=TINY)
    assert np.isnan(diverged).all()                                # reported, not raised
    with pytest.raises(ValueError, match="peak must be a real number > 0"):
        evaluate(CONSTANT, 0.0, protocol=TINY)


def test_every_recipe_peaks_at_its_peak_and_the_plateau_recipe_runs():
    from lrcore.protocol import PLATEAU, RECIPES

    total = 1000
    for name, make in RECIPES.items():
        lr = np.asarray(make(0.5, total)(np.arange(total)))
        assert lr.max() == pytest.approx(0.5, rel=1e-12), name
        assert (lr >= 0).all(), name
    tiny = PROTOCOL.replace(data=make_teacher_student(n_train=400, n_val=200), epochs=3,
                            tune_seeds=(0,), eval_seeds=(7, 8), lr_grid=(0.1, 0.4))
    plain = evaluate(RECIPES["plateau"], 0.4, protocol=tiny)
    cut = evaluate(RECIPES["plateau"], 0.4, protocol=tiny, plateau=PLATEAU)
    assert plain.shape == cut.shape == (2,)
    result = tune(RECIPES["plateau"], protocol=tiny, plateau=PLATEAU)
    assert result.best_peak in (0.1, 0.4)
    h = tiny.run([0.4], 7, plateau=PLATEAU)[0]
    assert h.lr[-1] <= h.lr[0]                   # the rule can only lower the rate
    assert PLATEAU.lr == 1.0 and PLATEAU.num_bad_epochs == 0   # copied, never stepped
