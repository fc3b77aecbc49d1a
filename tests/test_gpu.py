"""CuPy on a GPU gives the NumPy results to float32 tolerance (skipped without a usable GPU).

Float32 sums run in a different order on the device, so results agree to round-off that grows
slowly with training; the runs here are short and at moderate learning rates.
"""
import numpy as np
import pytest

from lrcore.backend import get_backend
from lrcore.data import load_digits, make_least_squares
from lrcore.models import MLP, LinearRegression, SoftmaxRegression
from lrcore.rangetest import range_test
from lrcore.schedules import ReduceLROnPlateau, cosine_decay
from lrcore.training import sweep, train

pytestmark = pytest.mark.gpu

DIGITS = load_digits(seed=0)
RTOL = 2e-3


@pytest.fixture(scope="module")
def cp():
    return get_backend("cupy")


def close(a, b, rtol=RTOL, atol=1e-5):
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


def same_history(hg, hc):
    for h in (hg, hc):
        for field in ("lr", "momentum", "loss", "train_loss", "val_loss", "val_accuracy"):
            assert type(getattr(h, field)) is np.ndarray, field     # NumPy for plotting
    np.testing.assert_array_equal(hg.lr, hc.lr)
    assert (hg.diverged, hg.diverged_at) == (hc.diverged, hc.diverged_at)
    close(hg.loss, hc.loss)
    close(hg.val_loss, hc.val_loss)
    np.testing.assert_allclose(hg.val_accuracy, hc.val_accuracy, atol=0.02)


def test_backend_names(cp):
    assert get_backend("cupy") is cp
    assert get_backend("auto") is cp
    m = MLP([64, 32, 10], backend="cupy")
    assert all(isinstance(t, cp.ndarray) for t in m.theta)
    assert isinstance(m.params["W1"], cp.ndarray)


@pytest.mark.parametrize("make", [lambda b: SoftmaxRegression(64, 10, backend=b),
                                  lambda b: MLP([64, 32, 10], backend=b)])
def test_loss_and_gradient(cp, make):
    X, y = DIGITS.X_train[:50], DIGITS.y_train[:50]
    mg, mc = make("cupy"), make("numpy")
    assert mg.loss(X, y) == pytest.approx(mc.loss(X, y), rel=1e-5)
    gg, gc = mg.gradient(X, y), mc.gradient(X, y)
    for name in gc:
        close(cp.asnumpy(gg[name]), gc[name], rtol=1e-4, atol=1e-6)
    np.testing.assert_array_equal(mg.predict(X), mc.predict(X))


def test_train_matches_numpy(cp):
    kw = dict(lr=cosine_decay(0.1, until=135), epochs=3, batch_size=32, momentum=0.9, seed=1)
    mg, mc = MLP([64, 32, 10], backend="cupy"), MLP([64, 32, 10], backend="numpy")
    same_history(train(mg, DIGITS, **kw), train(mc, DIGITS, **kw))
    close(cp.asnumpy(mg.theta[0]), mc.theta[0], rtol=1e-2, atol=1e-4)


def test_train_regression_weight_decay_and_plateau(cp):
    data = make_least_squares(n_features=6, seed=0)
    plateau = ReduceLROnPlateau(0.05, factor=0.5, patience=0, threshold=0.2)
    kw = dict(lr=0.05, epochs=4, batch_size=64, weight_decay=1e-3, plateau=plateau)
    same_history(train(LinearRegression(6, backend="cupy"), data, **kw),
                 train(LinearRegression(6, backend="numpy"), data, **kw))


def test_sweep_matches_numpy_with_a_diverging_member(cp):
    lrs = [0.01, 0.1, 1e7]
    kw = dict(epochs=2, batch_size=64, seed=2)
    hg = sweep(MLP([64, 32, 10], backend="cupy"), DIGITS, lrs=lrs, **kw)
    hc = sweep(MLP([64, 32, 10], backend="numpy"), DIGITS, lrs=lrs, **kw)
    assert [h.diverged for h in hg] == [False, False, True]
    for a, b in zip(hg, hc):
        assert a.diverged == b.diverged
        if not a.diverged:
            same_history(a, b)


def test_sweep_seeds_on_the_gpu(cp):
    grid = sweep(SoftmaxRegression(64, 10, backend="cupy"), DIGITS, lrs=[0.1], init_seeds=[0, 1],
                 epochs=1)
    ref = sweep(SoftmaxRegression(64, 10, backend="numpy"), DIGITS, lrs=[0.1], init_seeds=[0, 1],
                epochs=1)
    for a, b in zip(grid[0], ref[0]):
        same_history(a, b)


def test_range_test_matches_numpy_and_leaves_the_model_alone(cp):
    mg, mc = MLP([64, 32, 10], backend="cupy"), MLP([64, 32, 10], backend="numpy")
    before = [t.copy() for t in mg.theta]
    state = np.random.get_state()  # lrcore never touches the global random state
    kw = dict(lr_start=1e-5, lr_end=0.1, steps=50, seed=0)
    rg, rc = range_test(mg, DIGITS, **kw), range_test(mc, DIGITS, **kw)
    np.testing.assert_array_equal(rg.lrs, rc.lrs)
    assert rg.stop_reason == rc.stop_reason
    close(rg.losses, rc.losses)
    for t, b in zip(mg.theta, before):  # range_test trains a copy
        assert bool((t == b).all())
    after = np.random.get_state()
    assert np.array_equal(after[1], state[1]) and after[2] == state[2]


def test_divergence_on_the_gpu(cp):
    h = train(MLP([64, 32, 10], backend="cupy"), DIGITS, lr=1e7, epochs=2)
    assert h.diverged and np.isnan(h.final_val_loss)
