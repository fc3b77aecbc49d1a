"""Optional cross-check against the real ``torch.optim.lr_scheduler`` (skipped without torch).

The LR of update ``k`` is read in the loop ``read lr -> optimizer.step() ->
scheduler.step()``, as the contract defines PyTorch equivalence.  Schedulers whose ``get_lr`` is
chainable (a recursive update of the previous LR: StepLR, MultiStepLR, ExponentialLR, LinearLR,
PolynomialLR, CosineAnnealingLR) accumulate round-off, so the loop is compared at 1e-9 relative
and torch's own ``_get_closed_form_lr`` at 1e-12.  CosineAnnealingWarmRestarts, CyclicLR and
OneCycleLR compute each LR directly and are compared at 1e-12.
"""

import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
lr_scheduler = torch.optim.lr_scheduler

from lrcore.plateau import ReduceLROnPlateau  # noqa: E402
from lrcore.schedules import (  # noqa: E402
    cosine_decay,
    cosine_restarts,
    cyclic,
    exponential_decay,
    linear_decay,
    multistep_decay,
    one_cycle,
    polynomial_decay,
    step_decay,
)

RTOL, RTOL_CHAIN = 1e-12, 1e-9


def optimizer(lr):
    param = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    param.grad = torch.zeros_like(param)
    return torch.optim.SGD([param], lr=lr)


def torch_lrs(make, lr, n):
    """LR seen by optimizer.step() number k, for k < n."""
    opt = optimizer(lr)
    sched = make(opt)
    out = []
    for _ in range(n):
        out.append(float(opt.param_groups[0]["lr"]))
        opt.step()
        sched.step()
    return np.array(out)


def torch_closed_form(make, lr, n):
    """torch's own ``_get_closed_form_lr`` at every k < n."""
    sched = make(optimizer(lr))
    out = []
    for k in range(n):
        sched.last_epoch = k
        out.append(float(sched._get_closed_form_lr()[0]))
    return np.array(out)


def close(ours, theirs, rtol):
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=1e-15 * np.max(np.abs(theirs)))


CHAINABLE = [
    ("StepLR", step_decay(0.1, factor=0.5, every=7), 0.1,
     lambda o: lr_scheduler.StepLR(o, step_size=7, gamma=0.5), 200),
    ("MultiStepLR", multistep_decay(0.1, milestones=[5, 30, 31, 90], factor=0.3), 0.1,
     lambda o: lr_scheduler.MultiStepLR(o, milestones=[5, 30, 31, 90], gamma=0.3), 200),
    ("ExponentialLR", exponential_decay(0.1, factor=0.97), 0.1,
     lambda o: lr_scheduler.ExponentialLR(o, gamma=0.97), 300),
    ("LinearLR", linear_decay(0.1, lr_end=0.002, until=120), 0.1,
     lambda o: lr_scheduler.LinearLR(o, start_factor=1.0, end_factor=0.002 / 0.1,
                                     total_iters=120), 200),
    ("LinearLR-to-0", linear_decay(0.3, lr_end=0.0, until=50), 0.3,
     lambda o: lr_scheduler.LinearLR(o, start_factor=1.0, end_factor=0.0, total_iters=50), 80),
    ("PolynomialLR", polynomial_decay(0.1, until=100, power=2.0), 0.1,
     lambda o: lr_scheduler.PolynomialLR(o, total_iters=100, power=2.0), 150),
    ("CosineAnnealingLR", cosine_decay(0.1, until=150, lr_end=1e-3), 0.1,
     lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=150, eta_min=1e-3), 151),
    ("CosineAnnealingLR-to-0", cosine_decay(0.05, until=37), 0.05,
     lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=37), 38),
]


@pytest.mark.parametrize("name, ours, lr, make, n", CHAINABLE, ids=[c[0] for c in CHAINABLE])
def test_chainable_schedulers(name, ours, lr, make, n):
    expected = ours(np.arange(n))
    close(expected, torch_lrs(make, lr, n), RTOL_CHAIN)  # torch's recursive updates drift
    close(expected, torch_closed_form(make, lr, n), RTOL)


def test_cosine_decay_holds_where_torch_rises_again():
    theirs = torch_lrs(lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=20), 0.1, 40)
    ours = cosine_decay(0.1, until=20)(np.arange(40))
    assert theirs[30] > 0.01 and np.all(ours[20:] == 0.0)


@pytest.mark.parametrize("period, mult, lr_min", [(10, 1, 0.0), (7, 2, 1e-3), (3, 3, 1e-4),
                                                  (1, 2, 0.0), (50, 1, 0.01)])
def test_cosine_annealing_warm_restarts(period, mult, lr_min):
    n = 700
    theirs = torch_lrs(lambda o: lr_scheduler.CosineAnnealingWarmRestarts(
        o, T_0=period, T_mult=mult, eta_min=lr_min), 0.1, n)
    close(cosine_restarts(0.1, period=period, mult=mult, lr_min=lr_min)(np.arange(n)),
          theirs, RTOL)


@pytest.mark.parametrize("up, down, mode, gamma", [
    (10, None, "triangular", 1.0), (7, 13, "triangular", 1.0), (5, None, "triangular2", 1.0),
    (4, 9, "triangular2", 1.0), (8, None, "exp_range", 0.995), (3, 11, "exp_range", 0.98),
])
def test_cyclic_lr(up, down, mode, gamma):
    n = 600
    theirs = torch_lrs(lambda o: lr_scheduler.CyclicLR(
        o, base_lr=1e-3, max_lr=0.1, step_size_up=up, step_size_down=down, mode=mode,
        gamma=gamma, cycle_momentum=False), 1e-3, n)
    ours = cyclic(1e-3, 0.1, half_cycle=up, half_cycle_down=down, mode=mode, gamma=gamma)
    close(ours(np.arange(n)), theirs, RTOL)


@pytest.mark.parametrize("total, pct, div, final_div, anneal, three", [
    (100, 0.3, 25.0, 1e4, "cos", False), (1000, 0.25, 10.0, 100.0, "linear", False),
    (97, 0.33, 25.0, 1e4, "cos", True), (250, 0.4, 5.0, 1e3, "linear", True),
    (10, 0.15, 25.0, 1e4, "cos", False), (64, 0.5, 25.0, 1e4, "cos", False),
])
def test_one_cycle_lr(total, pct, div, final_div, anneal, three):
    theirs = torch_lrs(lambda o: lr_scheduler.OneCycleLR(
        o, max_lr=0.1, total_steps=total, pct_start=pct, div_factor=div,
        final_div_factor=final_div, anneal_strategy=anneal, three_phase=three,
        cycle_momentum=False), 0.1, total)
    ours = one_cycle(0.1, total=total, pct_start=pct, div=div, final_div=final_div,
                     anneal=anneal, three_phase=three)
    close(ours(np.arange(total)), theirs, RTOL)  # torch refuses k >= total; lrcore holds


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("mode", ["min", "max"])
def test_reduce_lr_on_plateau_positive_metrics(seed, mode):
    rng = np.random.default_rng(seed)
    losses = np.exp(np.cumsum(rng.normal(-0.005, 0.05, size=300)))
    kw = dict(factor=[0.1, 0.5][seed % 2], patience=seed % 4, threshold=[1e-4, 1e-2][seed % 2],
              threshold_mode=["rel", "abs"][seed // 3], cooldown=seed % 3)
    opt = optimizer(0.1)
    theirs = lr_scheduler.ReduceLROnPlateau(opt, mode=mode, min_lr=1e-4, **kw)
    ours = ReduceLROnPlateau(0.1, mode=mode, lr_min=1e-4, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's step-order warning does not apply here
        for loss in losses:
            opt.step()
            theirs.step(float(loss))
            assert ours.step(loss) == opt.param_groups[0]["lr"]
    assert ours.best == theirs.best and ours.num_bad_epochs == theirs.num_bad_epochs
