"""The translation table of chapters/appendix_translations.ipynb against the real PyTorch.

Skipped without torch. The appendix keeps its table as Python records in the code cells tagged
``translations`` and its list of bad arguments in the cell tagged ``refusals``; the notebook
checks them against NumPy transcriptions of each library's formulas. This test runs those cells
and checks the PyTorch column against ``torch.optim.lr_scheduler`` itself, in the loop
``read lr -> optimizer.step() -> scheduler.step()``, together with what the page says PyTorch
does past the end of a schedule, with its default arguments, and with bad arguments.
"""

import builtins
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
lr_scheduler = torch.optim.lr_scheduler

import lrcore  # noqa: E402

from translations_table import run_tagged_cells as _run_tagged_cells  # noqa: E402

RTOL = 1e-9  # torch's recursive (chainable) updates drift by round-off

ROWS = _run_tagged_cells("translations")["ROWS"]
REFUSALS = _run_tagged_cells("refusals")["REFUSALS"]
STEPPED = [r for r in ROWS if r["steps"] and r["torch"]["kind"] in ("equal", "composition")]


def _optimizer(lr, momentum=0.0):
    param = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    param.grad = torch.zeros_like(param)
    return torch.optim.SGD([param], lr=lr, momentum=momentum)


def _lrs(call, lr, params, n):
    """The LR of updates 0..n-1 under the scheduler `call` (None: no scheduler)."""
    opt = _optimizer(lr)
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. torch's notes on SequentialLR internals
        scheduler = eval(call, {**vars(lr_scheduler), **params, "opt": opt})
        for _ in range(n):
            out.append(float(opt.param_groups[0]["lr"]))
            opt.step()
            if scheduler is not None:
                scheduler.step()
    return np.array(out)


def _lrcore(row, **override):
    return eval(row["lrcore"], {**vars(lrcore), **row["params"], **override})


def test_the_table_has_every_schedule():
    names = {r["lrcore"].split("(")[0] for r in ROWS}
    assert names == {"constant", "step_decay", "multistep_decay", "exponential_decay",
                     "linear_decay", "polynomial_decay", "inverse_time_decay", "cosine_decay",
                     "cosine_restarts", "cyclic", "one_cycle", "warmup", "join",
                     "exponential_range", "linear_range", "ReduceLROnPlateau"}
    modes = {r["lrcore"].split("mode='")[1].split("'")[0] if "mode=" in r["lrcore"] else
             "triangular" for r in ROWS if r["lrcore"].startswith("cyclic")}
    assert modes == {"triangular", "triangular2", "exp_range"}


@pytest.mark.parametrize("row", STEPPED, ids=[r["name"] for r in STEPPED])
def test_torch_column_equals_lrcore(row):
    params, entry = dict(row["params"]), row["torch"]
    last = eval(entry["upto"], dict(params)) if entry["upto"] else row["steps"] - 1
    theirs = _lrs(entry["call"], eval(entry["lr"], dict(params)), params, last + 1)
    ours = _lrcore(row)(np.arange(last + 1))
    np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=1e-15 * np.max(np.abs(ours)))


@pytest.mark.parametrize("mode", ["rel", "abs"])
@pytest.mark.parametrize("patience, cooldown", [(0, 0), (2, 1), (4, 3)])
def test_torch_plateau_row_equals_lrcore(mode, patience, cooldown):
    row = next(r for r in ROWS if r["name"] == "ReduceLROnPlateau")
    params = {**row["params"], "threshold_mode": mode, "patience": patience, "cooldown": cooldown}
    rng = np.random.default_rng(patience)
    metrics = np.exp(np.cumsum(rng.normal(-0.005, 0.05, size=200)))  # positive
    opt = _optimizer(params["lr0"])
    theirs = eval(row["torch"]["call"], {**vars(lr_scheduler), **params, "opt": opt})
    ours = _lrcore(row, threshold_mode=mode, patience=patience, cooldown=cooldown)
    reductions = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for m in metrics:
            opt.step()
            theirs.step(float(m))
            before = ours.lr
            assert ours.step(m) == opt.param_groups[0]["lr"]
            reductions += ours.lr < before
    assert reductions > 0  # the comparison covered reductions


def test_torch_plateau_misses_negative_metrics_as_the_page_says():
    opt = _optimizer(0.1)
    theirs = lr_scheduler.ReduceLROnPlateau(opt, threshold=0.01, patience=1)
    ours = lrcore.ReduceLROnPlateau(0.1, threshold=0.01, patience=1)
    for m in [-2.0, -1.99, -1.985, -1.98, -1.975, -1.97]:  # slowly getting worse
        opt.step()
        theirs.step(m)
        ours.step(m)
    assert opt.param_groups[0]["lr"] == 0.1 and ours.lr < 0.1


@pytest.mark.parametrize("refusal", REFUSALS, ids=[r[0] for r in REFUSALS])
def test_refusals(refusal):
    ours, theirs, lr, outcome, _ = refusal
    with pytest.raises((ValueError, TypeError)):
        eval(ours, dict(vars(lrcore)))
    if outcome == "accepted":
        assert len(_lrs(theirs, lr, {}, 8)) == 8  # 8 < total_steps of the OneCycleLR cases
    else:
        with pytest.raises(getattr(builtins, outcome)):
            _lrs(theirs, lr, {}, 8)


def test_one_cycle_climbs_at_total_steps_then_raises():
    opt = _optimizer(0.1)
    scheduler = lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=20, cycle_momentum=False)
    lrs = []
    with pytest.raises(ValueError, match="Tried to step 21 times"):
        for _ in range(25):
            lrs.append(opt.param_groups[0]["lr"])
            opt.step()
            scheduler.step()
    ours = lrcore.one_cycle(0.1, total=20)
    assert len(lrs) == 21  # updates 0..20 got an LR; the 21st scheduler.step() raised
    assert lrs[19] == pytest.approx(ours(19), rel=1e-12)
    assert lrs[20] > lrs[19] and ours(20) == ours(19)  # torch climbs again, lrcore holds


def test_constant_lr_is_not_constant():
    np.testing.assert_allclose(_lrs("ConstantLR(opt)", 0.1, {}, 7), [0.1 / 3] * 5 + [0.1] * 2)


@pytest.mark.parametrize("make", [
    lambda o: lr_scheduler.CyclicLR(o, base_lr=0.001, max_lr=0.1, step_size_up=4),
    lambda o: lr_scheduler.OneCycleLR(o, max_lr=0.1, total_steps=20),
], ids=["CyclicLR", "OneCycleLR"])
def test_default_cycle_momentum_overwrites_sgd_momentum(make):
    opt = _optimizer(0.01, momentum=0.5)
    scheduler = make(opt)
    momenta = []
    for _ in range(8):
        momenta.append(opt.param_groups[0]["momentum"])
        opt.step()
        scheduler.step()
    assert 0.5 not in momenta and len(set(momenta)) > 1


def test_lambda_lr_runs_an_lrcore_schedule():
    lr = lrcore.cosine_decay(0.1, until=30, lr_end=1e-3)
    np.testing.assert_array_equal(_lrs("LambdaLR(opt, lr_lambda=lr)", 1.0, {"lr": lr}, 40),
                                  lr(np.arange(40)))
