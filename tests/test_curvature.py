"""lrcore.curvature.sharpness: the largest Hessian eigenvalue by Lanczos."""
import numpy as np
import pytest

from lrcore.curvature import sharpness
from lrcore.data import make_least_squares, make_spirals
from lrcore.models import MLP, LinearRegression


def test_exact_on_a_quadratic_and_stops_when_the_space_is_exhausted():
    data = make_least_squares(n_train=200, n_features=5, lambda_max=7.0, seed=1)
    model = LinearRegression(5, seed=3)
    # 6 parameters: more iterations than that must not invent eigenvalues from round-off
    for iters in (6, 30):
        assert sharpness(model, data.X_train, data.y_train, iters=iters) == pytest.approx(7.0, rel=1e-6)


def test_matches_the_dense_hessian_of_a_small_network_and_leaves_the_model_alone():
    data = make_spirals(n_train=60, n_val=30, seed=0)
    model = MLP([2, 4, 3], seed=0)
    before = [t.copy() for t in model.theta]
    theta = np.concatenate([t.ravel() for t in model.theta])
    cuts = np.cumsum([t.size for t in model.theta])[:-1]
    trial = model.copy()

    def grad(x):
        for t, part in zip(trial.theta, np.split(x, cuts)):
            t[...] = part.reshape(t.shape)
        return np.concatenate([g.ravel() for g in trial.loss_and_grad(data.X_train, data.y_train)[1]])

    h, eye = 1e-5, np.eye(theta.size)
    H = np.array([(grad(theta + h * e) - grad(theta - h * e)) / (2 * h) for e in eye])
    exact = np.linalg.eigvalsh((H + H.T) / 2).max()
    got = sharpness(model, data.X_train, data.y_train, iters=theta.size)
    assert got == pytest.approx(exact, rel=1e-4)
    assert all(np.array_equal(a, b) for a, b in zip(model.theta, before))


@pytest.mark.parametrize("kw, match", [({"iters": 0}, "iters must be"), ({"h": 0.0}, "h must be"),
                                       ({"seed": -1}, "seed must be")])
def test_bad_arguments_are_named(kw, match):
    data = make_least_squares(n_train=20, n_features=2, seed=0)
    with pytest.raises(ValueError, match=match):
        sharpness(LinearRegression(2), data.X_train, data.y_train, **kw)
