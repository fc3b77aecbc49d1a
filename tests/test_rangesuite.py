"""lrcore.rangesuite: the cross-validated choice of the range test's default suggestion,
recomputed from the stored task table (lrcore/data/range_suite.json.gz), so that a change to
the smoothing, the stopping rule or the rule that makes it worse fails here."""
import inspect

import numpy as np
import pytest

from lrcore import rangesuite as rs
from lrcore import rangetest
from lrcore.rangetest import range_test, range_test_fn

pytestmark = pytest.mark.slow

#: the default rule's out-of-sample scores per task when the table was stored (chapter 02
#: prints them): max(decades / 0.5, ln ratio / ln 1.3), <= 1 when both targets are met
STORED_SCORES = [0.43, 0.91, 0.65, 0.13, 0.72, 2.20, 0.57, 0.63, 0.84, 0.44, 1.00, 2.10,
                 0.64, 0.50, 0.90, 1.26, 0.80, 2.34, 0.64]


@pytest.fixture(scope="module")
def suite():
    return rs.Suite()


@pytest.fixture(scope="module")
def families(suite):
    """Every family of rules the chapter compares, cross-validated."""
    out = {}
    for anchor in rs.ANCHORS:
        for corrected in (False, True):
            for budget in (False, True):
                out[anchor, corrected, budget, None] = rs.loo(suite, anchor, budget=budget,
                                                              corrected=corrected)
    for corrected in (False, True):
        for blend in ("minimum", "steepest"):
            out["end", corrected, False, blend] = rs.loo(suite, "end", blend=blend,
                                                         corrected=corrected)
    return out


def test_the_table_is_the_suite(suite):
    assert suite.names == [t.name for t in rs.TASKS] and len(suite.names) >= 10
    for row in suite.rows:
        assert len(row["grid"]) == len(rs.GRID) and len(row["rt"]["losses"]) == len(rs.RT_SEEDS)


def test_the_library_default_is_the_cross_validated_winner(suite, families):
    winner = families[min(families, key=lambda k: (
        -int(np.sum(families[k]["score"] <= 1)), float(np.max(families[k]["score"])),
        float(np.mean(families[k]["score"]))))]
    default = rs.DEFAULT_RULE
    assert (winner["anchor"], winner["corrected"], winner["blend"]) == (
        default["anchor"], default["corrected"], default["blend"])
    assert winner["p_all"] == rangetest.EDGE_BLEND and winner["c_all"] == rangetest.EDGE_DECADES
    for fn in (range_test, range_test_fn):
        assert inspect.signature(fn).parameters["suggest"].default == rangetest.MEASURED


def test_out_of_sample_errors_are_no_worse_than_stored(suite):
    result = rs.loo(suite, **rs.DEFAULT_RULE)
    np.testing.assert_array_less(result["score"], np.array(STORED_SCORES) + 0.01)
    assert int(np.sum(result["score"] <= 1)) >= 14


def test_the_stored_check_trained_at_the_current_suggestions(suite):
    """bench/suggestion_suite.py trained every task at the rule's out-of-sample suggestions; a
    change of the rule makes that check stale, and this test says so."""
    result = rs.loo(suite, **rs.DEFAULT_RULE)
    for row, lrs in zip(suite.rows, result["lrs"]):
        np.testing.assert_allclose(row["check"]["lrs"], lrs, rtol=1e-12)


def test_the_library_suggestion_is_the_rule_the_suite_judged(suite):
    """The stored range tests, read by range_test_fn (replaying their losses), give the
    ``edge`` suggestion the cross-validation computed with the constants of all tasks."""
    logs = ((1 - rangetest.EDGE_BLEND) * suite.log_anchor("end", True)
            + rangetest.EDGE_BLEND * suite.log_anchor("minimum", True) + rangetest.EDGE_DECADES)
    for t, row in enumerate(suite.rows):
        for j, losses in enumerate(row["rt"]["losses"][:2]):
            replay = iter(losses + [float("nan")])
            rt = range_test_fn(lambda lr: next(replay), momentum=row["momentum"],
                               diverge_factor=float("inf"))
            assert rt.suggestion == pytest.approx(10 ** logs[t, j], rel=1e-9)


def test_the_stored_range_tests_are_what_range_test_computes_now(suite):
    """Re-run every stored range test (about a second): the same losses and the same stop,
    so the stored table still describes lrcore's range test (its engine and stopping rule)."""
    for task, row in zip(rs.TASKS, suite.rows):
        model, data = task.make()
        for s, stored in zip(rs.RT_SEEDS, row["rt"]["losses"]):
            rt = range_test(model.copy(seed=s), data, batch_size=task.batch_size,
                            momentum=task.momentum, seed=s)
            assert abs(len(rt.losses) - len(stored)) <= 1, (task.name, s)
            n = min(len(rt.losses), len(stored)) - 8   # the last steps are blowing up
            np.testing.assert_allclose(rt.losses[:n], stored[:n], rtol=1e-6)
