"""lrcore.rangetest: the default suggestion and the edge rule of ``steepest`` (chapter 02_range_test)."""
import inspect

import numpy as np

from lrcore.data import make_least_squares
from lrcore.models import LinearRegression
from lrcore.rangetest import _suggestions, range_test


def test_default_suggestion_is_the_one_chapter_02_measured_best():
    assert inspect.signature(range_test).parameters["suggest"].default == "minimum"


def test_steepest_skips_the_first_half_window():
    lrs = np.geomspace(1e-6, 1.0, 61)                       # 10 points a decade
    x = np.log10(lrs)
    curve = np.where(x < -2, 3.0, 3.0 - 2.0 * (x + 2))      # flat, then falls 2 per decade
    curve = np.where(x > -0.5, 0.0 + 4.0 * (x + 0.5), curve)  # minimum at 10^-0.5, then rises
    curve[:3] = [9.0, 6.0, 3.0]                              # a one-sided fit's steep edge
    assert _suggestions(lrs, curve)["steepest"] == lrs[0]
    steep = _suggestions(lrs, curve, skip=0.3)["steepest"]
    assert 1e-2 <= steep < 10 ** -0.5                       # on the real fall
    early = np.r_[3.0, 1.0, np.linspace(2.0, 5.0, 59)]      # minimum inside the skipped part
    assert _suggestions(lrs, early, skip=0.3)["steepest"] == lrs[0]


def test_range_test_steepest_is_not_read_from_the_one_sided_edge():
    data = make_least_squares(n_features=20, seed=0)        # noisy minibatch losses
    for seed in range(3):
        rt = range_test(LinearRegression(20, seed=seed), data, batch_size=32, seed=seed)
        half = rt.window * np.log10(rt.lr_end / rt.lr_start) / 2
        assert rt.suggestions["steepest"] >= rt.lr_start * 10 ** half * (1 - 1e-9)
