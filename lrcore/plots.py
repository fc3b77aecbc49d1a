"""The book's house figure style, and the plots two or more chapters need.

Computation returns data; plotting takes that data and an ``ax`` and returns the ``ax``::

    h = train(model, data, lr=0.1, epochs=10)
    fig, ax = plt.subplots()
    plot_history(h, ax=ax)

matplotlib is imported lazily, so ``lrcore`` itself needs only NumPy.
"""
from __future__ import annotations

import math
from typing import Iterable, Sequence

import numpy as np

# Okabe & Ito's palette: distinguishable with every common form of colour blindness.
COLORS = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")

#: One colour and one line style per schedule, the same in every figure of the book. Keys are the
#: names of the functions that build the schedules (``Schedule.name``), plus ``"reduce_on_plateau"``
#: and the variants the book compares by name. Colours are Okabe & Ito's; the line style tells
#: apart the few schedules that share a colour.
SCHEDULE_STYLES = {
    "constant": {"color": "#000000", "linestyle": "-"},
    "step_decay": {"color": "#0072B2", "linestyle": "-"},
    "multistep_decay": {"color": "#0072B2", "linestyle": "--"},
    "exponential_decay": {"color": "#D55E00", "linestyle": "-"},
    "linear_decay": {"color": "#009E73", "linestyle": "-"},
    "polynomial_decay": {"color": "#009E73", "linestyle": "--"},
    "inverse_time_decay": {"color": "#D55E00", "linestyle": "--"},
    "cosine_decay": {"color": "#CC79A7", "linestyle": "-"},
    "warmup_cosine": {"color": "#CC79A7", "linestyle": "--"},
    "cosine_restarts": {"color": "#56B4E9", "linestyle": "-"},
    "cyclic": {"color": "#E69F00", "linestyle": "-"},
    "triangular": {"color": "#E69F00", "linestyle": "-"},
    "triangular2": {"color": "#E69F00", "linestyle": "--"},
    "exp_range": {"color": "#E69F00", "linestyle": ":"},
    "one_cycle": {"color": "#882255", "linestyle": "-"},
    "reduce_on_plateau": {"color": "#7F7F7F", "linestyle": "-"},
}


def schedule_style(schedule) -> dict:
    """The colour and line style of a schedule in every figure: ``ax.plot(x, y, **schedule_style(s))``.

    ``schedule`` is a schedule built by :mod:`lrcore.schedules` (its ``name`` is looked up; a
    ``cyclic`` schedule by its ``mode``, a ``warmup`` of a ``cosine_decay`` as ``warmup_cosine``)
    or one of the names of :data:`SCHEDULE_STYLES`. Returns a new dict, safe to update.
    """
    name = schedule
    if not isinstance(schedule, str):
        name = getattr(schedule, "name", None)
        if name == "cyclic":
            name = schedule.mode
        elif name == "warmup" and getattr(schedule.schedule, "name", None) == "cosine_decay":
            name = "warmup_cosine"
    if name not in SCHEDULE_STYLES:
        raise ValueError(f"schedule must be a schedule of lrcore.schedules or one of "
                         f"{sorted(SCHEDULE_STYLES)}; got {schedule!r}")
    return dict(SCHEDULE_STYLES[name])


#: rcParams of the house style: sized for the book's text width (about 7 inches), readable labels.
#: (The colour cycle is added by :func:`book_style`, which needs matplotlib.)
STYLE = {
    "figure.figsize": (7.0, 3.6),
    "figure.dpi": 100,
    "figure.constrained_layout.use": True,
    "savefig.dpi": 100,
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "axes.grid": True,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "grid.alpha": 0.3,
    "grid.linewidth": 0.6,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "lines.linewidth": 1.6,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "image.cmap": "viridis",
}


def _plt():
    import matplotlib.pyplot as plt

    return plt


def book_style() -> dict:
    """The house style as a dict for ``plt.style.use``/``plt.style.context`` (figure tests use it)."""
    from cycler import cycler

    return {**STYLE, "axes.prop_cycle": cycler(color=COLORS)}


def use_book_style() -> None:
    """Apply the house style to every following figure (call once at the top of a chapter)."""
    _plt().style.use(book_style())


def _ax(ax):
    return ax if ax is not None else _plt().gca()


def _line_style(style, color, default=None) -> dict:
    """The colour and line style of a curve: ``style`` (a schedule or its name, see
    :func:`schedule_style`, or a dict of line properties) with ``color`` on top when given."""
    props = {}
    if style is not None:
        props = dict(style) if isinstance(style, dict) else schedule_style(style)
    elif default is not None:
        props = dict(default)
    if color is not None:
        props["color"] = color
    return props


def _auto_style(schedule) -> dict | None:
    """The book's style of a schedule built by lrcore (None for any other callable)."""
    try:
        return schedule_style(schedule)
    except (ValueError, AttributeError):
        return None


def unclip(artist, ax, pad: float = 0.04):
    """Let a marker at the edge of ``ax`` show whole: clip ``artist`` to the axes grown by ``pad``
    (a fraction of the axes) instead of to the axes, so that a point on the frame is not cut in
    half while a point far outside stays hidden. Returns the artist."""
    from matplotlib.transforms import Bbox, TransformedBbox

    artist.set_clip_path(None)
    artist.set_clip_box(TransformedBbox(Bbox([[-pad, -pad], [1 + pad, 1 + pad]]), ax.transAxes))
    return artist


def legend_outside(ax, **kwargs):
    """A legend right of the axes, never over the data (``kwargs`` go to ``ax.legend``)."""
    kwargs = {"loc": "upper left", "bbox_to_anchor": (1.02, 1.0), "borderaxespad": 0.0, **kwargs}
    return ax.legend(**kwargs)


def _legend(ax, legend):
    if legend == "outside":
        return legend_outside(ax)
    if legend in (None, False, "none"):
        return None
    if legend in (True, "inside"):
        return ax.legend()
    raise ValueError(f"legend must be one of 'outside', 'inside', None; got {legend!r}")


def plot_history(history, *, ax=None, metric: str = "val_loss", label: str | None = None,
                 color=None, per: str = "epoch", style=None):
    """Draw one training curve: ``metric`` of a History against epoch (or step, for ``loss``/``lr``).

    ``metric`` is a per-epoch field (``val_loss``, ``train_loss``, ``val_accuracy``) or a per-step
    field (``loss``, ``lr``, ``momentum``). A diverged run ends with a cross at its last finite
    value, drawn whole even on the frame of the axes. ``style``: the schedule the run used (or its
    name), to draw it in that schedule's colour and line style (:func:`schedule_style`);
    ``color`` overrides the colour.
    """
    ax = _ax(ax)
    y = np.asarray(getattr(history, metric), dtype=float)
    if metric in ("loss", "lr", "momentum"):
        x = np.arange(len(y))
        xlabel = "step k (minibatch updates)"
        if per == "epoch":
            x = x / history.steps_per_epoch
            xlabel = "epoch"
    else:
        x = np.arange(1, len(y) + 1)
        xlabel = "epoch"
    (line,) = ax.plot(x, y, label=label, **_line_style(style, color))
    finite = np.flatnonzero(np.isfinite(y))
    if getattr(history, "diverged", False) and finite.size:
        (cross,) = ax.plot(x[finite[-1]], y[finite[-1]], "x", color=line.get_color(), markersize=8,
                           mew=2, zorder=3)
        unclip(cross, ax)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(_LABELS.get(metric, metric))
    return ax


_LABELS = {
    "val_loss": "validation loss",
    "train_loss": "training loss",
    "loss": "minibatch loss",
    "val_accuracy": "validation accuracy",
    "lr": "learning rate ε",
    "momentum": "momentum μ",
}


def plot_histories(histories: Sequence, labels: Iterable[str], *, ax=None, metric: str = "val_loss",
                   per: str = "epoch", styles: Sequence | None = None, legend="outside"):
    """Several runs on one axis, one colour each, with a legend.

    ``styles``: one schedule (or name) per run, to draw each in its schedule's style; by default
    the runs take the colours of the house cycle. ``legend``: ``"outside"`` (right of the axes,
    never over a curve), ``"inside"`` (matplotlib's best place) or None.
    """
    ax = _ax(ax)
    histories = list(histories)
    styles = [None] * len(histories) if styles is None else list(styles)
    if len(styles) != len(histories):
        raise ValueError(f"styles must hold one style per history ({len(histories)}); got {len(styles)}")
    for h, label, style in zip(histories, labels, styles):
        plot_history(h, ax=ax, metric=metric, label=label, per=per, style=style)
    _legend(ax, legend)
    return ax


def plot_schedule(schedule, steps: int, *, ax=None, label: str | None = None, log: bool = False,
                  color=None, unit: str = "step k", style=None):
    """The learning rate ε_k of ``schedule`` for k = 0 .. steps-1 (a step plot: ε_k holds for update k).

    A schedule built by lrcore is drawn in its own colour and line style (:func:`schedule_style`),
    the same in every figure; ``style`` (a schedule name or a dict) chooses another, ``color``
    overrides the colour. Any other callable takes the next colour of the house cycle.
    """
    ax = _ax(ax)
    k = np.arange(steps)
    ax.step(k, schedule(k), where="post", label=label,
            **_line_style(style, color, default=_auto_style(schedule)))
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(unit)
    ax.set_ylabel("learning rate ε")
    return ax


def plot_final_vs_lr(lrs, finals, *, ax=None, label: str | None = None, yerr=None, color=None,
                     ylabel: str = "final validation loss", style=None):
    """Final loss against the learning rate on a log axis (the U-shape); NaN (diverged) left out.

    ``style``: the schedule these runs used (or its name), to draw them in its colour and line
    style (:func:`schedule_style`); ``color`` overrides the colour.
    """
    ax = _ax(ax)
    lrs, finals = np.asarray(lrs, dtype=float), np.asarray(finals, dtype=float)
    ok = np.isfinite(finals)
    props = _line_style(style, color)
    if yerr is None:
        ax.plot(lrs[ok], finals[ok], marker="o", label=label, **props)
    else:
        ax.errorbar(lrs[ok], finals[ok], yerr=np.asarray(yerr)[..., ok], marker="o", capsize=3,
                    label=label, **props)
    ax.set_xscale("log")
    ax.set_xlabel("learning rate ε")
    ax.set_ylabel(ylabel)
    return ax


def mark_lr_changes(history, *, ax=None, per: str = "epoch", color="0.4"):
    """Vertical dotted lines where the learning rate of a History drops or jumps."""
    ax = _ax(ax)
    lr = np.asarray(history.lr, dtype=float)
    changes = np.flatnonzero(~np.isclose(lr[1:], lr[:-1], rtol=1e-9, atol=0.0)) + 1
    for k in changes:
        x = k / history.steps_per_epoch if per == "epoch" else k
        ax.axvline(x, color=color, linestyle=":", linewidth=1)
    return ax


def plot_mean_history(histories: Sequence, *, ax=None, metric: str = "val_loss",
                      label: str | None = None, color=None, per: str = "epoch",
                      alpha: float = 0.2, style=None):
    """The mean of ``metric`` over several runs (e.g. seeds) as a line, ±1 standard deviation as a band.

    ``histories`` are runs of one configuration with equally long records (a row of
    ``sweep(..., init_seeds=...)``). The standard deviation is the sample one (``ddof=1``; 0 for a
    single run). A diverged run is NaN from where it stopped: each point averages the runs that
    are still finite there, and a point where none is finite is not drawn. The axes are those
    of :func:`plot_history`.
    """
    ax = _ax(ax)
    histories = list(histories)
    if not histories:
        raise ValueError("histories must hold at least one run")
    Y = np.array([np.asarray(getattr(h, metric), dtype=float) for h in histories])
    if metric in ("loss", "lr", "momentum"):
        x = np.arange(Y.shape[1]) / (histories[0].steps_per_epoch if per == "epoch" else 1)
        xlabel = "epoch" if per == "epoch" else "step k (minibatch updates)"
    else:
        x, xlabel = np.arange(1, Y.shape[1] + 1), "epoch"
    ok = np.isfinite(Y)
    n = ok.sum(axis=0)
    Z = np.where(ok, Y, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n > 0, Z.sum(axis=0) / n, np.nan)
        var = np.where(ok, (Y - mean) ** 2, 0.0).sum(axis=0) / np.maximum(n - 1, 1)
    std = np.where(n > 0, np.sqrt(var), np.nan)
    (line,) = ax.plot(x, mean, label=label, **_line_style(style, color))
    ax.fill_between(x, mean - std, mean + std, color=line.get_color(), alpha=alpha, linewidth=0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(_LABELS.get(metric, metric))
    return ax


def plot_range_test(rt, *, ax=None, ema: bool = False, legend="outside"):
    """The record of an LR range test (a :class:`~lrcore.rangetest.RangeTest`) against the LR.

    The minibatch loss (thin) and its centred smoothing against the LR on a log axis; each
    suggestion marked at exactly its LR, on the smoothed curve (whole, even on the frame);
    ``ema=True`` adds the EMA. ``legend``: ``"outside"`` (right of the axes, never over the
    curves), ``"inside"`` or None.
    """
    ax = _ax(ax)
    ax.plot(rt.lrs, rt.losses, color="0.6", lw=0.8, label="minibatch loss")
    ax.plot(rt.lrs, rt.smoothed, lw=2, label="smoothed (centred)")
    if ema:
        ax.plot(rt.lrs, rt.ema, lw=1.2, ls="--", label="EMA (β = 0.98)")
    if len(rt.lrs):
        log_lrs = np.log10(rt.lrs)
        markers = {"steepest": "v", "minimum": "s", "valley": "o", "edge": "D"}
        for name, lr in rt.suggestions.items():
            if not math.isfinite(lr):
                continue
            y = np.interp(np.log10(lr), log_lrs, rt.smoothed)
            (mark,) = ax.plot([lr], [y], markers.get(name, "o"), ms=7, zorder=3,
                              label=f"{name}: {lr:.2g}" + (" (suggestion)" if name == rt.suggest else ""))
            unclip(mark, ax)
    ax.set_xscale("log")
    ax.set_xlabel("learning rate ε")
    ax.set_ylabel("loss")
    _legend(ax, legend)
    return ax
