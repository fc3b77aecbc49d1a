"""lrcore.stacked: K parameter sets computed together equal K separate passes of the readable model.

The sweep's engine (StackedModel, StackedRuns) is written for speed; the models' forward,
backward and loss (what ``train`` calls) are written like the math. Here the two agree, pass by
pass; tests/test_sweep.py checks that whole runs agree.
"""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from lrcore.models import MLP, LinearRegression, SoftmaxRegression
from lrcore.stacked import StackedModel

F64 = dict(dtype=np.float64)


def problem(n_in, n_out, *, n, seed=0, regression=False):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, n_in))
    y = rng.standard_normal((n, n_out)) if regression else np.arange(n) % n_out
    return X, y


@pytest.mark.parametrize("base, regression", [(MLP([5, 7, 3], seed=0, **F64), False),
                                              (MLP([4, 6, 5, 3], seed=0, **F64), False),
                                              (LinearRegression(4, 2, seed=0, **F64), True)])
def test_stacked_passes_equal_each_member(base, regression):
    """K sets at once (first layers side by side, then batched) = K separate readable passes."""
    seeds = [0, 1, 2]
    stack = StackedModel.initialised(base, seeds)
    X, y = problem(base.n_in, base.n_out, n=6, regression=regression)
    X1, T = stack.with_ones(X), base.encode_targets(y)
    Z, acts = stack.forward(X1, work={})
    outputs = Z.copy()
    dZ, terms = stack.output_grad(Z, T, scale=1.0 / len(y))
    loss = stack.mean_loss(terms, T)
    G = stack.backward(acts, dZ)
    for j, s in enumerate(seeds):
        member = base.copy(seed=s)
        np.testing.assert_allclose(outputs[j].T, member.outputs(X), rtol=1e-12)
        member_loss, grads = member.loss_and_grad(X, y)
        assert member_loss == pytest.approx(loss[j], rel=1e-12)
        for g_stacked, g in zip(G, grads):
            np.testing.assert_allclose(g_stacked[j], g, rtol=1e-12, atol=1e-15)


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, (2, 4, 5), elements=st.floats(-50, 50)),
       st.lists(st.integers(0, 3), min_size=5, max_size=5))
def test_softmax_gradient_columns_sum_to_zero(Z, labels):
    """∂L/∂z = p − t: every column sums to 0, and the loss is ≥ 0, in both implementations."""
    m = SoftmaxRegression(3, 4, **F64)
    stack = StackedModel.copies(m, 2)
    T = m.encode_targets(np.array(labels))
    dZ, terms = stack.output_grad(Z.copy(), T, scale=1.0)
    loss = stack.mean_loss(terms, T)
    assert (loss >= -1e-12).all()
    np.testing.assert_allclose(dZ.sum(axis=1), 0, atol=1e-12)
    for j in range(2):
        member_loss, member_dZ = m._output_loss(Z[j], np.array(labels))
        assert member_loss == pytest.approx(loss[j], rel=1e-12, abs=1e-12)
        np.testing.assert_allclose(member_dZ * len(labels), dZ[j], rtol=1e-12, atol=1e-12)


def test_copies_leave_the_model_alone_and_initialised_equals_copy_with_seed():
    model = MLP([3, 4, 2], seed=0)
    stack = StackedModel.copies(model, 2)
    stack.theta[0][...] = 0
    assert not (model.theta[0] == 0).all()
    fresh = StackedModel.initialised(model, [5])
    np.testing.assert_array_equal(fresh.theta[1][0], model.copy(seed=5).theta[1])


def test_evaluate_in_chunks_equals_one_pass():
    """A split too large for ``max_elements`` goes through in equal chunks: same loss and accuracy."""
    base = MLP([5, 7, 3], seed=0, **F64)
    stack = StackedModel.initialised(base, [0, 1, 2])
    X, y = problem(5, 3, n=50)
    X1, T = stack.with_ones(X), base.encode_targets(y)
    loss, acc = stack.evaluate(X1, T, y)
    for max_elements in (1, 100, 3 * 7 * 17):
        chunked_loss, chunked_acc = stack.evaluate(X1, T, y, max_elements=max_elements, work={})
        np.testing.assert_allclose(chunked_loss, loss, rtol=1e-12)
        np.testing.assert_array_equal(chunked_acc, acc)
    member_loss, member_acc = base.copy(seed=1).evaluate(X, y)
    assert member_loss == pytest.approx(loss[1], rel=1e-12) and member_acc == acc[1]


@pytest.mark.parametrize("bad, error", [(0, ValueError), (-5, ValueError), (2.5, TypeError),
                                        (True, TypeError)])
def test_evaluate_rejects_a_bad_max_elements(bad, error):
    model = MLP([3, 4, 2], seed=0)
    stack = StackedModel.copies(model, 1)
    X1, T = stack.with_ones(np.ones((5, 3))), model.encode_targets(np.array([0, 1, 0, 1, 1]))
    with pytest.raises(error, match="max_elements must be an int >= 1"):
        stack.evaluate(X1, T, max_elements=bad)
