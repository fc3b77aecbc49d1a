"""Figure-regression and unit tests of ``plots.plot_mean_history`` (chapters 03 and 04).

Baseline: `pytest tests/test_plots_step_decay.py -o addopts="" --mpl-generate-path=tests/baseline`.
"""
from types import SimpleNamespace

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from lrcore import plots  # noqa: E402

STYLE = plots.book_style()


def _runs(rate, seeds=4, epochs=12, steps_per_epoch=10, diverge_at=None):
    """Synthetic seeds of one configuration: exponential decay plus a seed-dependent offset."""
    runs = []
    for s in range(seeds):
        val = 2.0 * np.exp(-rate * np.arange(1, epochs + 1)) + 0.1 + 0.02 * s
        k = np.arange(epochs * steps_per_epoch)
        loss = 2.0 * np.exp(-rate * k / steps_per_epoch) + 0.1 + 0.02 * s
        if diverge_at is not None and s == 0:
            val[diverge_at:] = np.nan
            loss[diverge_at * steps_per_epoch:] = np.nan
        runs.append(SimpleNamespace(val_loss=val, loss=loss, steps_per_epoch=steps_per_epoch,
                                    lr=0.1 * 0.1 ** (k // (6 * steps_per_epoch))))
    return runs


@pytest.mark.mpl_image_compare(style=STYLE)
def test_plot_mean_history_bands_with_a_diverged_seed():
    fig, (a, b) = plt.subplots(1, 2)
    plots.plot_mean_history(_runs(0.5), ax=a, label="fast")
    plots.plot_mean_history(_runs(0.2, diverge_at=5), ax=a, label="slow, one seed diverged")
    a.legend()
    plots.plot_mean_history(_runs(0.5), ax=b, metric="loss")
    plots.mark_lr_changes(_runs(0.5)[0], ax=b)
    b.set_yscale("log")
    return fig


def test_mean_and_band_are_the_mean_and_sample_std_of_the_finite_runs():
    fig, ax = plt.subplots()
    runs = _runs(0.3, seeds=3, diverge_at=4)
    assert plots.plot_mean_history(runs, ax=ax) is ax
    line = ax.get_lines()[0]
    Y = np.array([r.val_loss for r in runs])
    np.testing.assert_allclose(line.get_xdata(), np.arange(1, 13))
    np.testing.assert_allclose(line.get_ydata()[:4], Y[:, :4].mean(axis=0))
    np.testing.assert_allclose(line.get_ydata()[4:], Y[1:, 4:].mean(axis=0))  # seed 0 left out
    band = ax.collections[0].get_paths()[0].vertices
    top = Y[:, 0].mean() + Y[:, 0].std(ddof=1)
    assert np.isclose(band[:, 1].max(), max(top, (Y[1:, 4:].mean(0) + Y[1:, 4:].std(0, ddof=1)).max()))
    plt.close(fig)


def test_a_single_run_has_no_band_and_empty_input_raises():
    fig, ax = plt.subplots()
    plots.plot_mean_history(_runs(0.3, seeds=1), ax=ax)
    band = ax.collections[0].get_paths()[0].vertices
    assert np.ptp(band[:, 1]) == pytest.approx(np.ptp(_runs(0.3, seeds=1)[0].val_loss))
    with pytest.raises(ValueError, match="histories"):
        plots.plot_mean_history([], ax=ax)
    plt.close(fig)
