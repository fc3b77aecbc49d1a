"""lrcore.training.train: SGD against a hand-written reference loop, determinism, divergence, plateau."""
import sys
import warnings

import numpy as np
import pytest

from lrcore.data import Dataset, make_least_squares, make_spirals
from lrcore.models import MLP, LinearRegression, SoftmaxRegression
from lrcore.schedules import ReduceLROnPlateau, cosine_decay, step_decay
from lrcore.training import History, sweep, train


def classification(n=10, n_val=6, d=3, c=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n + n_val, d))
    y = np.arange(n + n_val) % c
    X[np.arange(n + n_val), y % d] += 2.0  # learnable
    return Dataset(X[:n], y[:n], X[n:], y[n:], name="toy")


def regression(n=10, n_val=6, d=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n + n_val, d))
    y = X @ rng.standard_normal(d) + 0.5 + 0.1 * rng.standard_normal(n + n_val)
    return Dataset(X[:n], y[:n], X[n:], y[n:], name="toy-regression")


# ---- an independent reference: plain NumPy, one parameter set, PyTorch's SGD -------------------

def grad_linear(theta, X, y):
    """½ mean squared error of [X 1] Θᵀ and its gradient (Θ = [W b])."""
    Xa = np.hstack([X, np.ones((len(X), 1))])
    R = Xa @ theta[0].T - y.reshape(len(y), -1)
    return 0.5 * np.mean(np.sum(R ** 2, axis=1)), [R.T @ Xa / len(X)]


def grad_softmax(theta, X, y):
    Xa = np.hstack([X, np.ones((len(X), 1))])
    logits = Xa @ theta[0].T
    logits -= logits.max(axis=1, keepdims=True)
    logp = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    onehot = np.eye(theta[0].shape[0])[y]
    return -np.mean(logp[np.arange(len(y)), y]), [(np.exp(logp) - onehot).T @ Xa / len(X)]


def reference_sgd(grad, theta0, data, *, lr, epochs, batch_size, momentum=0.0, nesterov=False,
                  weight_decay=0.0, seed=0):
    """for each epoch a permutation from default_rng(seed); minibatches in order, last one kept;
    d = g + λθ; v ← μv + d; θ ← θ − ε (d + μv if nesterov else v)  (torch.optim.SGD)."""
    rng = np.random.default_rng(seed)
    X, y = data.X_train.astype(np.float64), data.y_train
    theta = [np.array(t, dtype=np.float64) for t in theta0]
    v = [np.zeros_like(t) for t in theta]
    losses, k = [], 0
    for _ in range(epochs):
        order = rng.permutation(len(X))
        for s in range(0, len(X), batch_size):
            idx = order[s:s + batch_size]
            loss, g = grad(theta, X[idx], y[idx])
            losses.append(loss)
            mu = momentum[k] if np.ndim(momentum) else momentum
            for i in range(len(theta)):
                d = g[i] + weight_decay * theta[i]
                if mu:
                    v[i] = mu * v[i] + d
                    d = d + mu * v[i] if nesterov else v[i]
                theta[i] = theta[i] - lr[k] * d
            k += 1
    return np.array(losses), theta


@pytest.mark.parametrize("momentum, nesterov, weight_decay", [
    (0.0, False, 0.0), (0.0, False, 0.1), (0.9, False, 0.0), (0.9, True, 0.0), (0.5, True, 0.05),
])
@pytest.mark.parametrize("task", ["regression", "classification"])
def test_matches_reference_loop(task, momentum, nesterov, weight_decay):
    """float64 model: train is the reference to round-off (batches of 4, 4, 2)."""
    if task == "regression":
        data, model, grad = regression(), LinearRegression(3, dtype=np.float64), grad_linear
    else:
        data, model, grad = classification(), SoftmaxRegression(3, 3, dtype=np.float64), grad_softmax
    lr = cosine_decay(0.2, until=9)
    theta0 = [t.copy() for t in model.theta]
    h = train(model, data, lr=lr, epochs=3, batch_size=4, momentum=momentum, nesterov=nesterov,
              weight_decay=weight_decay, seed=3)
    losses, theta = reference_sgd(grad, theta0, data, lr=lr(np.arange(9)), epochs=3, batch_size=4,
                                  momentum=momentum, nesterov=nesterov,
                                  weight_decay=weight_decay, seed=3)
    assert h.steps_per_epoch == 3 and h.steps == 9
    np.testing.assert_allclose(h.loss, losses, rtol=1e-10)
    np.testing.assert_allclose(model.theta[0], theta[0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(h.lr, lr(np.arange(9)))
    np.testing.assert_array_equal(h.momentum, np.full(9, momentum))


def test_losses_between_checks_match_reference():
    """A sweep computes its minibatch losses at its divergence checks (every 64 steps for this
    small model, each epoch's end), for the steps since the last one: 66 steps an epoch (the
    last batch of 2) puts checks mid-epoch and right after a partial batch; each loss is still
    that of its minibatch before its update, as train (which computes it every step) has it."""
    data, model = classification(n=262, seed=1), SoftmaxRegression(3, 3, dtype=np.float64)
    theta0 = [t.copy() for t in model.theta]
    kw = dict(epochs=3, batch_size=4, momentum=0.5, seed=2)
    swept, = sweep(model, data, lrs=[0.2], **kw)
    h = train(model, data, lr=0.2, **kw)
    losses, theta = reference_sgd(grad_softmax, theta0, data, lr=np.full(198, 0.2), epochs=3,
                                  batch_size=4, momentum=0.5, seed=2)
    assert h.steps_per_epoch == 66
    np.testing.assert_allclose(h.loss, losses, rtol=1e-10)
    np.testing.assert_allclose(swept.loss, losses, rtol=1e-10)
    np.testing.assert_allclose(model.theta[0], theta[0], rtol=1e-10, atol=1e-12)


def test_float32_matches_reference():
    data, model = classification(n=30), SoftmaxRegression(3, 3)
    theta0 = [t.copy() for t in model.theta]
    h = train(model, data, lr=0.3, epochs=4, batch_size=8, momentum=0.9, seed=1)
    losses, theta = reference_sgd(grad_softmax, theta0, data, lr=np.full(h.steps, 0.3), epochs=4,
                                  batch_size=8, momentum=0.9, seed=1)
    np.testing.assert_allclose(h.loss, losses, rtol=1e-4)
    np.testing.assert_allclose(model.theta[0], theta[0], rtol=1e-4, atol=1e-5)


def test_momentum_schedule():
    """A schedule for μ (1cycle's cyclical momentum) is evaluated per step like the LR."""
    data, model = regression(), LinearRegression(3, dtype=np.float64)
    theta0 = [t.copy() for t in model.theta]
    mu = lambda k: 0.95 - 0.1 * np.minimum(k, 5) / 5  # noqa: E731
    h = train(model, data, lr=0.05, epochs=3, batch_size=4, momentum=mu)
    ks = np.arange(9)
    np.testing.assert_allclose(h.momentum, mu(ks))
    losses, theta = reference_sgd(grad_linear, theta0, data, lr=np.full(9, 0.05), epochs=3,
                                  batch_size=4, momentum=mu(ks))
    np.testing.assert_allclose(h.loss, losses, rtol=1e-10)


def test_schedule_unit_step_and_epoch():
    data = classification(n=10)
    sched = step_decay(0.1, factor=0.5, every=2)
    by_step = train(SoftmaxRegression(3, 3), data, lr=sched, epochs=4, batch_size=4)
    by_epoch = train(SoftmaxRegression(3, 3), data, lr=sched, epochs=4, batch_size=4,
                     schedule_unit="epoch")
    k = np.arange(12)
    np.testing.assert_allclose(by_step.lr, 0.1 * 0.5 ** (k // 2))        # k counts updates
    np.testing.assert_allclose(by_epoch.lr, 0.1 * 0.5 ** ((k // 3) // 2))  # k is the epoch


def test_scalar_only_schedule_is_evaluated_per_step():
    def lr(k):
        return 0.1 if k < 5 else 0.01   # fails on an array: `if` of an array

    h = train(SoftmaxRegression(3, 3), classification(), lr=lr, epochs=3, batch_size=4)
    np.testing.assert_allclose(h.lr, [0.1] * 5 + [0.01] * 4)


def test_bitwise_deterministic():
    data = make_spirals(n_train=90, n_val=30)
    runs = [train(MLP([2, 16, 3], seed=0), data, lr=0.2, epochs=3, batch_size=8, momentum=0.9,
                  seed=7) for _ in range(2)]
    for field in ("lr", "momentum", "loss", "train_loss", "val_loss", "val_accuracy"):
        np.testing.assert_array_equal(getattr(runs[0], field), getattr(runs[1], field))
    other = train(MLP([2, 16, 3], seed=0), data, lr=0.2, epochs=3, batch_size=8, momentum=0.9,
                  seed=8)
    assert not np.array_equal(other.loss, runs[0].loss)   # the seed sets the minibatch order


def test_history_fields():
    data = classification(n=10, n_val=6)
    model = SoftmaxRegression(3, 3)
    h = train(model, data, lr=0.5, epochs=5, batch_size=4)
    assert isinstance(h, History)
    assert (h.epochs, h.steps_per_epoch, h.steps) == (5, 3, 15)
    for field, n in (("lr", 15), ("momentum", 15), ("loss", 15), ("train_loss", 5),
                     ("val_loss", 5), ("val_accuracy", 5)):
        a = getattr(h, field)
        assert type(a) is np.ndarray and a.shape == (n,) and a.dtype == np.float64, field
    assert h.diverged is False and h.diverged_at is None
    assert h.final_val_loss == h.val_loss[-1] and h.best_val_loss == h.val_loss.min()
    assert h.val_loss[-1] == pytest.approx(model.loss(data.X_val, data.y_val), rel=1e-5)
    assert h.val_accuracy[-1] == pytest.approx(model.accuracy(data.X_val, data.y_val))
    assert h.val_loss[-1] < h.val_loss[0]
    assert repr(h).startswith("History(epochs=5, steps_per_epoch=3, final_val_loss=")


def test_train_loss_is_the_batch_weighted_mean_of_the_minibatch_losses():
    h = train(SoftmaxRegression(3, 3), classification(n=10), lr=0.1, epochs=2, batch_size=4)
    weights = np.array([4, 4, 2]) / 10
    np.testing.assert_allclose(h.train_loss, h.loss.reshape(2, 3) @ weights)


def test_regression_history_has_nan_accuracy():
    h = train(LinearRegression(3), regression(), lr=0.1, epochs=2, batch_size=5)
    assert np.isnan(h.val_accuracy).all() and np.isfinite(h.val_loss).all()
    assert "accuracy" not in repr(h)


def test_divergence_is_a_result_not_an_exception_nor_a_warning():
    data = make_spirals(n_train=60, n_val=20)
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # any warning, RuntimeWarning or not, fails
        h = train(MLP([2, 32, 3], seed=0), data, lr=1e6, epochs=4, batch_size=10)
    assert h.diverged and isinstance(h.diverged_at, int)
    d = h.diverged_at
    assert not np.isfinite(h.loss[d]) or h.loss[d] > 1e3 * h.loss[0]
    assert np.isnan(h.loss[d + 1:]).all() and np.isnan(h.lr[d:]).all()
    assert np.isnan(h.momentum[d:]).all()
    assert np.isnan(h.val_loss[d // h.steps_per_epoch:]).all()
    assert np.isnan(h.final_val_loss) and "diverged at step" in repr(h)


def test_divergence_rule_is_loss_above_factor_times_the_first():
    """Least squares with ε above 2/λ_max: the loss grows geometrically until the rule fires."""
    data = make_least_squares(n_features=4, seed=0)
    lr = 1.3 * data.info["lr_stability_limit"]
    for factor in (1e2, 1e3):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            h = train(LinearRegression(4), data, lr=lr, epochs=40, batch_size=data.n_train,
                      diverge_factor=factor)
        d = h.diverged_at
        assert d is not None and h.loss[d] > factor * h.loss[0]
        assert (h.loss[:d] <= factor * h.loss[0]).all()


def test_model_is_trained_in_place_and_global_random_state_is_untouched():
    model = SoftmaxRegression(3, 3)
    before = model.theta[0].copy()
    state = np.random.get_state()
    train(model, classification(), lr=0.3, epochs=2, batch_size=4)
    after = np.random.get_state()
    assert not np.array_equal(before, model.theta[0])
    assert state[0] == after[0] and np.array_equal(state[1], after[1]) and state[2:] == after[2:]


def test_plateau_drops_appear_in_history_lr():
    data = classification(n=10)
    plateau = ReduceLROnPlateau(0.2, factor=0.5, patience=0, threshold=0.5)
    before = plateau.state_dict()
    h = train(SoftmaxRegression(3, 3), data, lr=0.2, epochs=6, batch_size=4, plateau=plateau)
    assert plateau.state_dict() == before             # the object passed in was copied
    replay = ReduceLROnPlateau(0.2, factor=0.5, patience=0, threshold=0.5)
    expected = [0.2] + [replay.step(v) for v in h.val_loss[:-1]]   # the LR of each epoch
    np.testing.assert_array_equal(h.lr, np.repeat(expected, 3))    # exactly the plateau's LR
    assert len(set(expected)) > 2                                  # it did drop, twice or more


def test_plateau_scales_a_schedule():
    data = classification(n=10)
    sched = cosine_decay(0.4, until=18)
    plateau = ReduceLROnPlateau(0.5, factor=0.1, patience=0, threshold=0.9)
    h = train(SoftmaxRegression(3, 3), data, lr=sched, epochs=6, batch_size=4, plateau=plateau)
    replay = ReduceLROnPlateau(0.5, factor=0.1, patience=0, threshold=0.9)
    ratio = np.repeat([1.0] + [replay.step(v) / 0.5 for v in h.val_loss[:-1]], 3)
    np.testing.assert_allclose(h.lr, sched(np.arange(18)) * ratio, rtol=1e-12)
    assert ratio.min() < 1


def test_progress_bar(capsys):
    h = train(SoftmaxRegression(3, 3), classification(), lr=0.1, epochs=2, batch_size=4,
              progress=True)
    assert h.epochs == 2
    assert "2/2" in capsys.readouterr().err


def test_progress_without_tqdm_is_a_clear_import_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)
    with pytest.raises(ImportError, match="progress=True needs tqdm"):
        train(SoftmaxRegression(3, 3), classification(), lr=0.1, epochs=1, batch_size=4,
              progress=True)


def _bad(**kw):
    args = dict(lr=0.1, epochs=1, batch_size=4)
    args.update(kw)
    return args


@pytest.mark.parametrize("kwargs, exc, match", [
    (_bad(epochs=0), ValueError, r"epochs must be an int >= 1; got 0"),
    (_bad(epochs=2.0), TypeError, "epochs must be an int"),
    (_bad(batch_size=0), ValueError, r"batch_size must be an int in \[1, 10\]"),
    (_bad(batch_size=11), ValueError, r"batch_size must be an int in \[1, 10\]"),
    (_bad(lr=0.0), ValueError, "lr must be a real number > 0"),
    (_bad(lr=-1.0), ValueError, "lr must be a real number > 0"),
    (_bad(lr=float("nan")), ValueError, "lr must be a real number > 0"),
    (_bad(lr=float("inf")), ValueError, "lr must be a real number > 0"),
    (_bad(lr="0.1"), TypeError, "lr must be a real number > 0 or a schedule"),
    (_bad(lr=lambda k: 0.1 - 0.1 * k), ValueError, r"lr\(k\) must be a real number >= 0 at every step"),
    (_bad(momentum=1.0), ValueError, r"momentum must be a real number in \[0, 1\)"),
    (_bad(momentum=-0.1), ValueError, r"momentum must be a real number in \[0, 1\)"),
    (_bad(momentum=lambda k: 1.5 + 0 * k), ValueError, r"momentum\(k\) must be a real number in"),
    (_bad(nesterov=True), ValueError, "nesterov=True needs momentum > 0"),
    (_bad(nesterov=1, momentum=0.9), TypeError, "nesterov must be True or False"),
    (_bad(weight_decay=-1e-4), ValueError, "weight_decay must be a real number >= 0"),
    (_bad(schedule_unit="batch"), ValueError, "schedule_unit must be one of 'step', 'epoch'"),
    (_bad(plateau=0.5), TypeError, "plateau must be a ReduceLROnPlateau or None"),
    (_bad(seed=-1), ValueError, "seed must be an int >= 0"),
    (_bad(diverge_factor=1.0), ValueError, "diverge_factor must be a real number > 1"),
    (_bad(diverge_factor="big"), TypeError, "diverge_factor must be a real number > 1"),
    (_bad(weight_decay=None), TypeError, "weight_decay must be a real number >= 0"),
    (_bad(progress="yes"), TypeError, "progress must be True or False"),
    # batch_size not passed: the default, 32, is more than the 10 examples; an lr error comes first
    (dict(lr=0.1, epochs=1), ValueError,
     r"batch_size must be an int in \[1, 10\]; got 32, the default, more than the 10 training "
     "examples: pass a smaller batch_size"),
    (dict(lr=-1.0, epochs=1), ValueError, "lr must be a real number > 0"),
    (dict(lr="0.1", epochs=1), TypeError, "lr must be a real number > 0 or a schedule"),
    # a schedule that does not give numbers
    (_bad(lr=lambda k: "a"), TypeError, r"lr\(k\) must be a real number at every step; got 'a' at k = 0"),
    (_bad(lr=lambda k: "0.1"), TypeError, r"lr\(k\) must be a real number at every step; got '0.1' at k = 0"),
    (_bad(lr=lambda k: None), TypeError, r"lr\(k\) must be a real number at every step; got None at k = 0"),
    (_bad(lr=lambda k: 0.1 + 0j * k), TypeError, r"lr\(k\) must be a real number at every step; got \(0.1"),
    (_bad(momentum=lambda k: [0.9]), TypeError, r"momentum\(k\) must be a real number at every step"),
    # a constant lr that is 0 in the model's dtype (float64 here); epochs whose records take GiBs
    (_bad(lr=1e-310), ValueError, r"lr must be a real number >= 2.23e-308 \(the "
                                  "smallest normal float64"),
    (_bad(epochs=10**10), ValueError, r"epochs must be an int in \[1, 17895697\] for this run; "
                                      r"got 10000000000: 30000000000 steps \(3 an epoch\) would "
                                      r"need 2235.2 GiB .* reduce epochs \(or raise batch_size\)"),
])
def test_argument_validation_names_the_argument(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        train(SoftmaxRegression(3, 3), classification(n=10), **kwargs)


def test_a_constant_lr_that_is_0_in_float32_is_refused_a_decaying_schedule_is_not():
    """1e-50 is 0 in float32: training would change nothing while History.lr said 1e-50. A
    schedule may decay that far (its late steps change nothing, as a decayed rate does)."""
    model, data = SoftmaxRegression(3, 3, dtype=np.float32), classification(n=10)
    with pytest.raises(ValueError, match=r"lr must be a real number >= 1.18e-38 \(the "
                                          "smallest normal float32, the model's dtype"):
        train(model, data, lr=1e-50, epochs=1, batch_size=4)
    h = train(model, data, lr=step_decay(0.1, factor=1e-30, every=3), epochs=3, batch_size=4)
    assert h.lr[-1] == pytest.approx(1e-61) and not h.diverged
    assert train(model, data, lr=1.2e-38, epochs=1, batch_size=4).lr[0] == 1.2e-38


@pytest.mark.parametrize("extra", [{}, dict(momentum=0.9), dict(momentum=0.5, nesterov=True),
                                   dict(weight_decay=1e-3), dict(momentum=0.9, weight_decay=1e10)])
@pytest.mark.parametrize("lr", [1e40, 1e300])
def test_an_lr_beyond_float32_diverges_without_a_warning(lr, extra):
    """lr = 1e40 is inf in a float32 model: the run diverges (it was an overflow warning, an
    error under this project's pytest settings, on the momentum path)."""
    data = make_spirals(n_train=60, n_val=20)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        h = train(MLP([2, 8, 3], dtype=np.float32), data, lr=lr, epochs=2, batch_size=10, **extra)
    assert h.diverged and h.lr[0] == lr


def test_a_range_test_beyond_float32_diverges_without_a_warning():
    from lrcore.rangetest import range_test
    data = make_spirals(n_train=60, n_val=20)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        rt = range_test(MLP([2, 8, 3], dtype=np.float32), data, lr_start=1e-3, lr_end=1e60,
                        steps=20, batch_size=10)
    assert rt.stop_reason in ("diverged", "nan")


@pytest.mark.parametrize("make, data, exc, match", [
    (lambda: LinearRegression(3), classification(), ValueError,
     "classification dataset but LinearRegression"),
    (lambda: SoftmaxRegression(3, 3), regression(), ValueError,
     "regression dataset but SoftmaxRegression"),
    (lambda: SoftmaxRegression(4, 3), classification(), ValueError,
     r"3 features but the model expects 4"),
    (lambda: SoftmaxRegression(3, 4), classification(), ValueError, "3 classes but the model has 4"),
    (lambda: LinearRegression(3, 2), regression(), ValueError, "1 outputs but the model has 2"),
    (lambda: "model", classification(), TypeError, "model must be an lrcore model"),
    (lambda: SoftmaxRegression(3, 3), (np.ones((4, 3)), np.zeros(4)), TypeError,
     "data must be an lrcore"),
])
def test_model_and_data_validation(make, data, exc, match):
    with pytest.raises(exc, match=match):
        train(make(), data, lr=0.1, epochs=1, batch_size=2)
