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
