"""lrcore.rangetest.range_test_fn: the range test of a model written outside lrcore (a NumPy
model here; PyTorch below, skipped without torch)."""
import math

import numpy as np
import pytest

from lrcore.data import make_least_squares
from lrcore.models import LinearRegression
from lrcore.rangetest import momentum_factor, range_test, range_test_fn

LSQ = make_least_squares(n_features=4, n_train=96, n_val=32, seed=0)


class NumpyLinear:
    """½ MSE linear regression in plain NumPy, minibatches as lrcore draws them (a fresh
    permutation from default_rng(seed) every epoch, the last batch partial)."""

    def __init__(self, theta, data, *, batch_size, seed):
        self.theta = np.array(theta, dtype=np.float64)
        self.X = np.hstack([data.X_train, np.ones((data.n_train, 1))]).astype(np.float64)
        self.y = data.y_train.astype(np.float64)
        self.batch_size, self.rng, self.batches = batch_size, np.random.default_rng(seed), []
        self.steps = 0

    def step(self, lr):
        if not self.batches:
            order = self.rng.permutation(len(self.X))
            self.batches = [order[s:s + self.batch_size]
                            for s in range(0, len(order), self.batch_size)]
        idx = self.batches.pop(0)
        r = self.X[idx] @ self.theta - self.y[idx]
        self.theta = self.theta - lr * (r @ self.X[idx]) / len(idx)
        self.steps += 1
        return 0.5 * np.mean(r ** 2)

    def save(self):
        return self.theta.copy()

    def restore(self, theta):
        self.theta = theta


def test_the_same_run_as_range_test_gives_the_same_record():
    """A model that computes what lrcore's LinearRegression computes, on the same minibatches:
    the same losses, stop and suggestions, to round-off."""
    model = LinearRegression(4, dtype=np.float64)
    kw = dict(lr_start=1e-4, lr_end=10.0, steps=80)
    rt = range_test(model, LSQ, batch_size=16, seed=3, **kw)
    own = NumpyLinear(model.theta[0][0], LSQ, batch_size=16, seed=3)
    fn = range_test_fn(own.step, save=own.save, restore=own.restore, batch_size=16, **kw)
    assert rt.stop_reason == fn.stop_reason == "diverged"
    np.testing.assert_array_equal(fn.lrs, rt.lrs)
    np.testing.assert_allclose(fn.losses, rt.losses, rtol=1e-9)
    assert fn.suggestions.keys() == rt.suggestions.keys()
    for name in rt.suggestions:
        assert fn.suggestions[name] == pytest.approx(rt.suggestions[name], rel=1e-12)
    assert fn.suggest == rt.suggest == "edge" and fn.batch_size == rt.batch_size == 16
    assert own.steps == len(fn.lrs)                   # it stopped as soon as the rule fired


def test_hooks_restore_the_model_and_without_them_it_is_left_trained():
    theta0 = np.zeros(5)
    own = NumpyLinear(theta0, LSQ, batch_size=16, seed=0)
    range_test_fn(own.step, save=own.save, restore=own.restore)
    np.testing.assert_array_equal(own.theta, theta0)
    bare = NumpyLinear(theta0, LSQ, batch_size=16, seed=0)
    rt = range_test_fn(bare.step)
    assert rt.stop_reason == "diverged"
    assert not np.allclose(bare.theta, theta0)        # what the docstring says: left trained


def test_the_model_is_restored_when_a_step_raises():
    own = NumpyLinear(np.zeros(5), LSQ, batch_size=16, seed=0)
    real = own.step

    def flaky(lr):
        if own.steps == 7:
            raise RuntimeError("injected failure")
        return real(lr)

    with pytest.raises(RuntimeError, match="injected failure"):
        range_test_fn(flaky, save=own.save, restore=own.restore)
    assert own.steps == 7
    np.testing.assert_array_equal(own.theta, np.zeros(5))


def test_a_non_finite_loss_stops_the_test_and_is_not_recorded():
    calls = []

    def step(lr):
        calls.append(lr)
        return 1.0 if len(calls) < 30 else math.nan

    rt = range_test_fn(step)
    assert rt.stop_reason == "nan" and len(rt.losses) == 29 and len(calls) == 30


def test_momentum_corrects_only_the_edge_suggestion():
    one, two = (NumpyLinear(np.zeros(5), LSQ, batch_size=16, seed=0) for _ in range(2))
    a = range_test_fn(one.step)
    b = range_test_fn(two.step, momentum=0.9)         # the same run: momentum is only read
    np.testing.assert_array_equal(a.losses, b.losses)
    growth = a.lrs[-1] / a.lrs[-2]
    assert b.suggestions["edge"] == pytest.approx(a.suggestions["edge"]
                                                  * momentum_factor(0.9, growth))
    assert {k: v for k, v in a.suggestions.items() if k != "edge"} == \
        {k: v for k, v in b.suggestions.items() if k != "edge"}


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(step=3), TypeError, "step must be a callable step\\(lr\\) -> loss; got int"),
    (dict(save=lambda: 0), TypeError, "pass save and restore together"),
    (dict(restore=lambda s: None), TypeError, "pass save and restore together"),
    (dict(save=1, restore=2), TypeError, "save must be callable or None; got int"),
    (dict(suggest="fastai"), ValueError, "suggest must be one of"),
    (dict(steps=2), ValueError, "steps must be an int in \\[3, "),
    (dict(momentum=1.0), ValueError, r"momentum must be a real number in \[0, 1\)"),
    (dict(batch_size=0), ValueError, "batch_size must be an int >= 1"),
])
def test_range_test_fn_validation(kwargs, exc, match):
    kwargs = {"step": lambda lr: 1.0, **kwargs}
    with pytest.raises(exc, match=match):
        range_test_fn(kwargs.pop("step"), **kwargs)


def test_pytorch_model_is_restored_and_gets_a_suggestion():
    """The book's PyTorch recipe (chapter 02), run for real: skipped without torch."""
    torch = pytest.importorskip("torch")
    import copy

    torch.manual_seed(0)
    X = torch.tensor(LSQ.X_train, dtype=torch.float64)
    y = torch.tensor(LSQ.y_train, dtype=torch.float64)[:, None]
    model = torch.nn.Sequential(torch.nn.Linear(4, 16), torch.nn.Tanh(),
                                torch.nn.Linear(16, 1)).double()
    opt = torch.optim.SGD(model.parameters(), lr=0.0, momentum=0.9)
    gen = torch.Generator().manual_seed(0)

    def step(lr):
        for group in opt.param_groups:
            group["lr"] = lr
        i = torch.randint(0, len(X), (16,), generator=gen)
        loss = 0.5 * ((model(X[i]) - y[i]) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss.item()

    def save():
        return copy.deepcopy((model.state_dict(), opt.state_dict()))

    def restore(state):
        model.load_state_dict(state[0])
        opt.load_state_dict(state[1])

    before = save()
    rt = range_test_fn(step, save=save, restore=restore, momentum=0.9, batch_size=16)
    assert rt.stop_reason in ("diverged", "nan") and rt.suggestion_note == ""
    for name, t in model.state_dict().items():
        assert torch.equal(t, before[0][name]), name
    assert opt.state_dict()["state"] == {} == before[1]["state"]   # no velocity left behind
    assert rt.lrs[0] < rt.suggestion < rt.lrs[-1] and rt.suggest == "edge"
