"""Figure-regression tests of the house plotting functions (pytest-mpl, run with --mpl).

Baselines live in tests/baseline; regenerate them deliberately with
`pytest tests/test_plots.py -o addopts="" --mpl-generate-path=tests/baseline` and look at them.
"""
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from lrcore import plots  # noqa: E402

STYLE = plots.book_style()


def _history(lr0=0.1, epochs=10, steps_per_epoch=20, rate=0.3, diverged=False):
    k = np.arange(epochs * steps_per_epoch)
    lr = lr0 * 0.5 ** (k // (4 * steps_per_epoch))
    loss = 2.3 * np.exp(-rate * k / steps_per_epoch) + 0.1
    val = 2.3 * np.exp(-rate * np.arange(1, epochs + 1)) + 0.15
    if diverged:
        loss[100:] = np.nan
        val[5:] = np.nan
    return SimpleNamespace(lr=lr, loss=loss, val_loss=val, train_loss=val - 0.05,
                           steps_per_epoch=steps_per_epoch, diverged=diverged)


@pytest.mark.mpl_image_compare(style=STYLE)
def test_plot_histories_with_a_diverged_run():
    fig, ax = plt.subplots()
    plots.plot_histories([_history(rate=0.3), _history(rate=0.1), _history(diverged=True)],
                         ["good", "low", "too high"], ax=ax)
    return fig


@pytest.mark.mpl_image_compare(style=STYLE)
def test_plot_schedule_and_lr_changes():
    fig, (a, b) = plt.subplots(1, 2)
    h = _history()
    plots.plot_schedule(lambda k: 0.1 * 0.5 ** (np.asarray(k) // 50), 200, ax=a, label="step decay")
    plots.plot_history(h, ax=b, metric="loss")
    plots.mark_lr_changes(h, ax=b)
    return fig


@pytest.mark.mpl_image_compare(style=STYLE)
def test_plot_final_vs_lr_u_shape_with_error_bars():
    fig, ax = plt.subplots()
    lrs = np.logspace(-3, 1, 9)
    finals = 0.2 + (np.log10(lrs) + 1) ** 2 / 4
    finals[-1] = np.nan  # diverged: left out
    plots.plot_final_vs_lr(lrs, finals, ax=ax, yerr=0.05 * np.ones_like(lrs), label="3 seeds")
    ax.legend()
    return fig


def test_plot_functions_return_the_axes_they_drew_on():
    fig, ax = plt.subplots()
    assert plots.plot_history(_history(), ax=ax) is ax
    assert plots.plot_schedule(lambda k: 0.1 + 0 * np.asarray(k), 10, ax=ax) is ax
    plt.close(fig)


def test_lr_changes_are_marked_where_the_lr_changes():
    fig, ax = plt.subplots()
    plots.mark_lr_changes(_history(epochs=10, steps_per_epoch=20), ax=ax)
    xs = sorted(line.get_xdata()[0] for line in ax.get_lines())
    assert xs == [4.0, 8.0]  # the LR halves every 4 epochs
    plt.close(fig)


def _range_test(nan_suggestion=False):
    """A range-test record as plot_range_test reads it: a loss that falls, flattens, then rises."""
    lrs = np.geomspace(1e-5, 10, 61)
    x = np.log10(lrs)
    smoothed = 2.3 - 1.8 / (1 + np.exp(-3 * (x + 3))) + np.exp(2.5 * (x - 0.2))
    losses = smoothed + 0.08 * np.random.default_rng(0).standard_normal(lrs.size)
    suggestions = {"steepest": 10**-3.0, "minimum": 10**-1.6, "valley": 10**-2.2}
    if nan_suggestion:
        suggestions["valley"] = np.nan  # not drawn
    ema = np.r_[[smoothed[0]] * 5, smoothed[:-5]]  # lags five steps
    return SimpleNamespace(lrs=lrs, losses=losses, smoothed=smoothed, ema=ema,
                           suggestions=suggestions, suggest="minimum")


@pytest.mark.mpl_image_compare(style=STYLE)
def test_plot_range_test_with_ema_and_suggestions():
    fig, ax = plt.subplots()
    plots.plot_range_test(_range_test(), ax=ax, ema=True)
    return fig


def test_plot_range_test_marks_each_finite_suggestion_at_its_lr():
    rt = _range_test(nan_suggestion=True)
    fig, ax = plt.subplots()
    assert plots.plot_range_test(rt, ax=ax) is ax and ax.get_xscale() == "log"
    marks = {float(line.get_xdata()[0]): float(line.get_ydata()[0])
             for line in ax.lines if len(line.get_xdata()) == 1}
    expected = {lr: np.interp(np.log10(lr), np.log10(rt.lrs), rt.smoothed)
                for lr in (rt.suggestions["steepest"], rt.suggestions["minimum"])}
    assert marks.keys() == expected.keys()
    assert all(np.isclose(marks[lr], expected[lr], rtol=1e-12) for lr in marks)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert [t for t in labels if "suggestion" in t] == [f"minimum: {10**-1.6:.2g} (suggestion)"]
    assert len(ax.lines) == 2 + 2  # loss, smoothed (no EMA), two marks
    plt.close(fig)

