"""lrcore.models: hand-written gradients against finite differences, stacking, initialisation."""
import numpy as np
import pytest

from lrcore.data import load_digits, make_least_squares
from lrcore.models import MLP, LinearRegression, SoftmaxRegression
from lrcore.stacked import StackedModel
from lrcore.training import train

F64 = dict(dtype=np.float64)


def numerical_gradient(model, X, y, eps=1e-6):
    """Central differences of model.loss in float64, entry by entry, through model.params."""
    out = {}
    for name, p in model.params.items():
        g = np.zeros(p.shape)
        for idx in np.ndindex(p.shape):
            old = p[idx]
            p[idx] = old + eps
            up = model.loss(X, y)
            p[idx] = old - eps
            down = model.loss(X, y)
            p[idx] = old
            g[idx] = (up - down) / (2 * eps)
        out[name] = g
    return out


def problem(n_in, n_out, *, n=9, seed=0, regression=False):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, n_in))
    if regression:
        y = rng.standard_normal((n, n_out)) if n_out > 1 else rng.standard_normal(n)
    else:
        y = np.arange(n) % n_out
    return X, y


@pytest.mark.parametrize("make, regression", [
    (lambda: SoftmaxRegression(4, 3, seed=1, **F64), False),
    (lambda: MLP([4, 6, 3], seed=2, **F64), False),
    (lambda: MLP([3, 5, 4, 2], seed=3, **F64), False),
    (lambda: LinearRegression(4, seed=4, **F64), True),
    (lambda: LinearRegression(3, 2, seed=5, **F64), True),
])
def test_gradient_matches_central_differences(make, regression):
    model = make()
    for theta in model.theta:  # non-zero biases, so their gradients are exercised too
        theta[:, -1] = np.linspace(-0.3, 0.3, theta.shape[0])
    X, y = problem(model.n_in, model.n_out, regression=regression)
    analytic = model.gradient(X, y)
    numeric = numerical_gradient(model, X, y)
    assert analytic.keys() == numeric.keys() == model.params.keys()
    for name in analytic:
        np.testing.assert_allclose(analytic[name], numeric[name], rtol=1e-6, atol=1e-8,
                                   err_msg=name)


def test_loss_and_grad_is_the_loss_and_the_gradient_of_every_layer():
    """What train calls each step: the mean loss (a float) and one gradient per layer, shaped
    like theta; evaluate gives the loss and the accuracy in one pass (NaN for regression)."""
    model = MLP([4, 6, 3], seed=2, **F64)
    X, y = problem(4, 3)
    loss, grads = model.loss_and_grad(X, y)
    assert type(loss) is float and loss == model.loss(X, y)
    assert [g.shape for g in grads] == [t.shape for t in model.theta]
    named = model.gradient(X, y)
    np.testing.assert_array_equal(grads[1][:, :-1], named["W2"])
    np.testing.assert_array_equal(grads[0][:, -1], named["b1"])
    assert model.evaluate(X, y) == (loss, model.accuracy(X, y))
    r = LinearRegression(4, seed=0, **F64)
    Xr, yr = problem(4, 1, regression=True)
    r_loss, r_acc = r.evaluate(Xr, yr)
    assert r_loss == r.loss(Xr, yr) and np.isnan(r_acc)


def test_losses_by_formula():
    X, y = problem(4, 3)
    m = SoftmaxRegression(4, 3, **F64)
    for theta in m.theta:
        theta[...] = 0
    assert m.loss(X, y) == pytest.approx(np.log(3))          # uniform softmax
    r = LinearRegression(4, seed=0, **F64)
    Xr, yr = problem(4, 1, regression=True)
    pred = Xr @ r.params["W"][0] + r.params["b"][0]
    assert r.loss(Xr, yr) == pytest.approx(0.5 * np.mean((pred - yr) ** 2))
    r2 = LinearRegression(4, 2, seed=0, **F64)
    Xr, Yr = problem(4, 2, regression=True)
    pred = Xr @ r2.params["W"].T + r2.params["b"]
    assert r2.loss(Xr, Yr) == pytest.approx(0.5 * np.mean(np.sum((pred - Yr) ** 2, axis=1)))


def test_linear_regression_loss_is_the_least_squares_loss():
    """At the stored optimum, LinearRegression's loss is make_least_squares' loss_star."""
    data = make_least_squares(n_features=4, seed=1)
    m = LinearRegression(4, **F64)
    m.params["W"][0] = data.info["w_star"]
    m.params["b"][0] = data.info["b_star"]
    assert m.loss(data.X_train, data.y_train) == pytest.approx(data.info["loss_star"], rel=1e-9)
    g = m.gradient(data.X_train, data.y_train)
    assert np.abs(g["W"]).max() < 1e-9 and abs(g["b"][0]) < 1e-9


def test_large_logits_do_not_overflow():
    m = SoftmaxRegression(2, 3)
    m.theta[0][...] = 1e4                                   # logits ~ 1e4: exp would overflow
    m.theta[0][1, 0] = -1e4
    X, y = np.array([[1.0, 1.0], [2.0, -1.0]]), np.array([0, 1])
    loss = m.loss(X, y)
    assert np.isfinite(loss) and loss > 1e3
    assert all(np.isfinite(g).all() for g in m.gradient(X, y).values())


def test_params_are_views_of_theta():
    m = MLP([3, 4, 2], seed=0)
    assert m.params["W1"].shape == (4, 3) and m.params["b1"].shape == (4,)
    m.params["b2"][...] = 7
    assert (m.theta[1][:, -1] == 7).all()


def test_initialisation():
    a, b, c = MLP([400, 300, 10], seed=0), MLP([400, 300, 10], seed=0), MLP([400, 300, 10], seed=1)
    for ta, tb, tc in zip(a.theta, b.theta, c.theta):
        assert ta.dtype == np.float64  # the default (lrcore.backend.DEFAULT_DTYPE)
        np.testing.assert_array_equal(ta, tb)
        assert not np.array_equal(ta, tc)
    assert (a.params["b1"] == 0).all() and (a.params["b2"] == 0).all()
    assert a.params["W1"].std() == pytest.approx(np.sqrt(2 / 400), rel=0.02)   # He (ReLU follows)
    assert a.params["W2"].std() == pytest.approx(np.sqrt(1 / 300), rel=0.05)   # output layer


def test_copy_is_independent_and_copy_with_seed_reinitialises():
    m = MLP([3, 4, 2], seed=0)
    c = m.copy()
    c.theta[0][...] = 1
    assert not (m.theta[0] == 1).all()
    fresh = m.copy(seed=5)
    np.testing.assert_array_equal(fresh.theta[0], MLP([3, 4, 2], seed=5).theta[0])
    assert fresh.seed == 5 and m.seed == 0


def test_predict_and_accuracy():
    X, y = problem(4, 3, n=12)
    m = SoftmaxRegression(4, 3, seed=0)
    p = m.predict(X)
    assert p.shape == (12,) and p.dtype.kind == "i"
    assert m.accuracy(X, y) == pytest.approx(np.mean(p == y))
    r = LinearRegression(4, seed=0)
    assert r.predict(X).shape == (12,)
    assert LinearRegression(4, 2).predict(X).shape == (12, 2)


def test_repr():
    assert repr(MLP([64, 128, 10])) == "MLP([64, 128, 10], seed=0, params=9610)"
    assert repr(LinearRegression(5)) == "LinearRegression(5, 1, seed=0, params=6)"


@pytest.mark.parametrize("call, exc, match", [
    (lambda: MLP(64), TypeError, "sizes must be a sequence"),
    (lambda: MLP([64]), ValueError, "at least the input and output"),
    (lambda: MLP([64, 0, 10]), ValueError, r"sizes\[1\] must be an int >= 1"),
    (lambda: MLP([64, 2.5, 10]), TypeError, r"sizes\[1\] must be an int"),
    (lambda: MLP([64, 1]), ValueError, "number of classes"),
    (lambda: SoftmaxRegression(4, 1), ValueError, "n_classes must be an int >= 2"),
    (lambda: SoftmaxRegression(0, 3), ValueError, "n_in must be an int >= 1"),
    (lambda: LinearRegression(3, n_out=0), ValueError, "n_out must be an int >= 1"),
    (lambda: MLP([3, 2], seed=-1), ValueError, "seed must be an int >= 0; got -1"),
    (lambda: MLP([3, 2], seed=1.5), TypeError, "seed must be an int >= 0; got 1.5"),
    (lambda: MLP([3, 2]).copy(seed=-1), ValueError, "seed must be an int >= 0; got -1"),
    (lambda: MLP([3, 2], dtype=np.int32), ValueError, "dtype must be float32 or float64"),
    (lambda: MLP([3, 2], dtype="foo"), ValueError,
     r"dtype must be float32 or float64 \(np.float32, np.float64 or their names\); got 'foo'"),
    (lambda: MLP([3, 2], dtype=5), TypeError, "dtype must be float32 or float64 .*; got 5"),
    (lambda: MLP([3, 2], backend="tpu"), ValueError, "backend must be one of"),
    (lambda: MLP([3, 2]).loss(np.ones((2, 4)), [0, 1]), ValueError, r"X must have shape \(n, 3\)"),
    (lambda: MLP([3, 2]).loss(np.ones((2, 3)), [0, 1, 1]), ValueError, "y has 3 rows"),
])
def test_constructor_and_input_validation(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


X2 = np.ones((2, 3))
SOFTMAX, LINEAR, LINEAR2 = SoftmaxRegression(3, 3), LinearRegression(3), LinearRegression(3, 2)


def _evaluate(model, X, y):
    """StackedModel.evaluate on the model's own parameters (a sweep's per-epoch call), targets
    of class 0 built by hand (encode_targets checks its own)."""
    T = np.zeros((model.n_out, len(X)))
    T[0] = 1
    stack = StackedModel.copies(model, 1)
    return stack.evaluate(stack.with_ones(X), T, y)


LABELS = r"y must hold integer class labels in \[0, 3\)"
EMPTY = "X and y must hold at least one example"


@pytest.mark.parametrize("call, exc, match", [
    # a label of -1 was read as the last class; 3 or a float label was an IndexError
    (lambda: SOFTMAX.loss(X2, [0, -1]), ValueError, LABELS + "; got -1"),
    (lambda: SOFTMAX.gradient(X2, [0, -1]), ValueError, LABELS + "; got -1"),
    (lambda: SOFTMAX.accuracy(X2, [0, -1]), ValueError, LABELS + "; got -1"),
    (lambda: SOFTMAX.encode_targets([0, -1]), ValueError, LABELS + "; got -1"),
    (lambda: _evaluate(SOFTMAX, X2, np.array([0, -1])), ValueError, LABELS + "; got -1"),
    (lambda: SOFTMAX.loss(X2, [0, 3]), ValueError, LABELS + "; got 3"),
    (lambda: SOFTMAX.gradient(X2, [0, 3]), ValueError, LABELS + "; got 3"),
    (lambda: SOFTMAX.loss(X2, [0.0, 1.0]), TypeError, "y must be an array of integer class labels "
                                                       r"in \[0, 3\); got dtype float64"),
    (lambda: SOFTMAX.gradient(X2, [0.5, 1.5]), TypeError, "y must be an array of integer class"),
    (lambda: _evaluate(SOFTMAX, X2, np.array([0.0, 1.0])), TypeError, "y must be an array of int"),
    (lambda: SOFTMAX.loss(X2, [True, False]), TypeError, "got dtype bool"),
    (lambda: SOFTMAX.loss(X2, ["a", "b"]), TypeError, "y must be an array of integer class"),
    (lambda: SOFTMAX.loss(X2, None), TypeError, "y must be an array of integer class.*got None"),
    (lambda: SOFTMAX.loss(X2, [[0], [1]]), ValueError,
     r"y must have shape \(n,\), one label per row of X; got \(2, 1\)"),
    (lambda: SOFTMAX.accuracy(X2, [0, 1, 2]), ValueError, "y has 3 rows but X has 2"),
    # an empty batch was a ZeroDivisionError (accuracy: a RuntimeWarning)
    (lambda: SOFTMAX.loss(np.ones((0, 3)), np.array([], int)), ValueError, EMPTY),
    (lambda: SOFTMAX.gradient(np.ones((0, 3)), np.array([], int)), ValueError, EMPTY),
    (lambda: SOFTMAX.accuracy(np.ones((0, 3)), np.array([], int)), ValueError, EMPTY),
    (lambda: _evaluate(SOFTMAX, np.ones((0, 3)), None), ValueError, EMPTY),
    (lambda: LINEAR.loss(np.ones((0, 3)), np.array([])), ValueError, EMPTY),
    # a regression target of the wrong width was a broadcast (or reshape) error
    (lambda: LINEAR2.loss(X2, np.ones((2, 3))), ValueError,
     r"y must have shape \(n, 2\), one target per row of X; got \(2, 3\)"),
    (lambda: LINEAR2.gradient(X2, np.ones(2)), ValueError, r"y must have shape \(n, 2\)"),
    (lambda: LINEAR.loss(X2, np.ones((2, 2))), ValueError, r"y must have shape \(n, 1\) or \(n,\)"),
    (lambda: LINEAR.loss(X2, ["a", "b"]), TypeError, "y must be an array of real regression targets"),
    # X, whether or not labels come with it
    (lambda: SOFTMAX.outputs("abc"), TypeError, "X must be a 2-D array of real numbers"),
    (lambda: SOFTMAX.outputs(X2 * 1j), TypeError, "X must be a 2-D array of real numbers.*complex"),
    (lambda: SOFTMAX.predict(X2 > 0), TypeError, "X must be a 2-D array of real numbers.*bool"),
    (lambda: SOFTMAX.loss([[1, 2, 3], [4]], [0, 1]), TypeError, "X must be a 2-D array of real"),
    (lambda: LINEAR.outputs(np.ones(3)), ValueError, r"X must have shape \(n, 3\); got \(3,\)"),
])
def test_labels_and_inputs_are_checked(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_valid_edge_cases_of_inputs_and_targets():
    """No rows to predict is an empty answer; a regression target may be (n,) or (n, 1) for one
    output, and integers; an input beyond float32 is inf in a float32 model, not a warning."""
    assert SOFTMAX.outputs(np.ones((0, 3))).shape == (0, 3)
    assert SOFTMAX.predict(np.ones((0, 3))).shape == (0,)
    y = np.array([1.0, -2.0])
    assert LINEAR.loss(X2, y) == LINEAR.loss(X2, y[:, None]) == LINEAR.loss(X2, np.array([1, -2]))
    assert SOFTMAX.loss(X2, np.array([2, 0], dtype=np.uint8)) == SOFTMAX.loss(X2, [2, 0])
    big, small = np.full((1, 3), 1e39), np.ones((1, 3))
    assert not np.isfinite(LinearRegression(3, dtype=np.float32).outputs(big)).all()
    assert LinearRegression(3, dtype=np.float32).loss(small, np.array([1e39])) == np.inf


def test_deepcopy_and_pickle():
    import copy
    import pickle
    m = MLP([3, 4, 2], seed=1)
    X, y = problem(3, 2)
    for clone in (copy.deepcopy(m), pickle.loads(pickle.dumps(m))):
        assert clone.xp is np and clone.theta[0] is not m.theta[0]
        assert clone.loss(X, y) == m.loss(X, y)


def test_softmax_regression_is_the_mlp_without_a_hidden_layer():
    """SoftmaxRegression(n_in, n_classes) and MLP([n_in, n_classes]) are one model, bit for bit."""
    data = load_digits(seed=0)
    a = train(SoftmaxRegression(64, 10, seed=3), data, lr=0.3, epochs=2)
    b = train(MLP([64, 10], seed=3), data, lr=0.3, epochs=2)
    np.testing.assert_array_equal(a.loss, b.loss)
    np.testing.assert_array_equal(a.val_loss, b.val_loss)
