"""Figure-regression (pytest-mpl) and unit tests of the house plotting functions in lrcore.plots.

Baselines live in tests/baseline, one PNG per figure test, named after the test; regenerate them
deliberately with `pytest tests/test_plots.py -o addopts="" --mpl-generate-path=tests/baseline`
and look at them.
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
    """Legend right of the axes; the diverged run's cross sits on the top edge and shows whole."""
    fig, ax = plt.subplots()
    diverged = _history(rate=-0.2, diverged=True)  # rises, then NaN from epoch 6
    plots.plot_histories([_history(rate=0.3), _history(rate=0.1), diverged],
                         ["good", "low", "too high"], ax=ax,
                         styles=["cosine_decay", "constant", "step_decay"])
    ax.set_ylim(0, diverged.val_loss[4])  # its last finite value, the cross, on the top frame
    return fig


def test_a_cross_on_the_frame_is_not_cut_but_one_far_outside_is_hidden():
    fig, ax = plt.subplots()
    plots.plot_history(_history(diverged=True), ax=ax)
    cross = ax.lines[-1]
    assert cross.get_marker() == "x" and cross.get_clip_path() is None and cross.get_clip_on()
    fig.canvas.draw()
    box, frame = cross.get_clip_box(), ax.get_window_extent()
    assert box.x0 < frame.x0 and box.y1 > frame.y1          # room for half a marker beyond the frame
    assert box.height < 1.1 * frame.height                   # but not the whole figure
    plt.close(fig)


def test_styles_and_legend_arguments():
    from lrcore import schedules as S

    fig, ax = plt.subplots()
    plots.plot_schedule(S.step_decay(0.1, factor=0.5, every=10), 40, ax=ax)          # its own style
    plots.plot_schedule(S.cosine_decay(0.1, until=40), 40, ax=ax, color="red")      # colour overridden
    plots.plot_schedule(lambda k: 0.05 + 0 * np.asarray(k), 40, ax=ax, style="one_cycle")
    step, cosine, other = ax.lines
    assert (step.get_color(), step.get_linestyle()) == ("#0072B2", "-")
    assert (cosine.get_color(), cosine.get_linestyle()) == ("red", "-")
    assert (other.get_color(), other.get_linestyle()) == (plots.SCHEDULE_STYLES["one_cycle"]["color"], "-")
    plots.plot_mean_history(_runs(0.3), ax=ax, style="triangular2")
    assert ax.lines[-1].get_linestyle() == "--"
    plots.plot_final_vs_lr([0.1, 1.0], [0.5, 0.4], ax=ax, style="exp_range")
    assert (ax.lines[-1].get_linestyle(), ax.lines[-1].get_marker()) == (":", "o")
    with pytest.raises(ValueError, match="styles must hold one style per history"):
        plots.plot_histories([_history()], ["a"], ax=ax, styles=["constant", "constant"])
    with pytest.raises(ValueError, match="legend must be one of"):
        plots.plot_histories([_history()], ["a"], ax=ax, legend="top")
    plots.plot_histories([_history()], ["a"], ax=ax, legend=None)
    assert ax.get_legend() is None
    plt.close(fig)


@pytest.mark.mpl_image_compare(style=STYLE)
def test_plot_schedules_in_their_book_styles():
    """Every schedule in its one colour and line style (as in every figure of the book)."""
    from lrcore import schedules as S

    fig, ax = plt.subplots()
    steps = 300
    for schedule in (S.constant(0.1), S.step_decay(0.1, factor=0.5, every=75),
                     S.exponential_decay(0.1, factor=0.5, every=75),
                     S.linear_decay(0.1, lr_end=0.01, until=steps), S.cosine_decay(0.1, until=steps),
                     S.warmup(S.cosine_decay(0.1, until=steps - 30), steps=30),
                     S.cosine_restarts(0.1, period=100, lr_min=0.0),
                     S.cyclic(0.01, 0.1, half_cycle=50, mode="triangular2")):
        name = {"cyclic": "triangular2", "warmup": "warmup_cosine"}.get(schedule.name, schedule.name)
        plots.plot_schedule(schedule, steps, ax=ax, label=name)
    plots.legend_outside(ax)
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


# plot_mean_history: the mean of several seeds with a ±1 std band (chapters 03 and 04).

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


def test_schedule_style_is_one_per_schedule_and_names_errors():
    from lrcore import schedules as S
    from lrcore.plots import SCHEDULE_STYLES, schedule_style

    assert schedule_style(S.constant(0.1)) == SCHEDULE_STYLES["constant"]
    assert schedule_style(S.cyclic(0.1, 1.0, half_cycle=5, mode="exp_range", gamma=0.9)) \
        == SCHEDULE_STYLES["exp_range"]
    assert schedule_style(S.warmup(S.cosine_decay(1.0, until=10), steps=2)) \
        == SCHEDULE_STYLES["warmup_cosine"]
    pairs = [(v["color"], v["linestyle"]) for k, v in SCHEDULE_STYLES.items() if k != "cyclic"]
    assert len(set(pairs)) == len(pairs), "two schedules would look the same"
    style = schedule_style("constant")
    style["color"] = "red"  # a copy: the registry is unchanged
    assert SCHEDULE_STYLES["constant"]["color"] == "#000000"
    with pytest.raises(ValueError, match="schedule must be"):
        schedule_style("no_such_schedule")
