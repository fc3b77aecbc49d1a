"""The Keras and optax columns of chapters/appendix_translations.ipynb against the real libraries.

Skipped without them (``pip install keras optax jax``; Keras runs on the backend that
``KERAS_BACKEND`` names, JAX by default). The appendix checks its table against
NumPy transcriptions of each library's formulas; this test evaluates the same translation
strings with ``keras.optimizers.schedules`` and ``optax`` themselves and compares them with
lrcore at every step the table checks. Both libraries compute in float32 by default, hence the
tolerance: a relative 1e-5 plus 1e-6 of the schedule's largest value (for the LRs that reach 0).
"""

import importlib.util
import os

import numpy as np
import pytest

from translations_table import run_tagged_cells

import lrcore

RTOL, ATOL = 1e-5, 1e-6
ROWS = run_tagged_cells("translations")["ROWS"]
if "KERAS_BACKEND" not in os.environ:  # Keras's own default, TensorFlow, is seldom installed
    os.environ["KERAS_BACKEND"] = next(
        (b for b in ("jax", "torch") if importlib.util.find_spec(b) is not None), "tensorflow")


def _checked(lib):
    """The rows whose `lib` column claims equality (alone or as a composition), with their steps."""
    rows = [r for r in ROWS if r["steps"] and r[lib]["kind"] in ("equal", "composition")]
    return pytest.mark.parametrize("row", rows, ids=[r["name"] for r in rows])


def _steps(row, lib):
    upto = row[lib]["upto"]
    last = eval(upto, dict(row["params"])) if upto else row["steps"] - 1
    return np.arange(last + 1)


def _assert_close(row, lib, k, theirs):
    ours = eval(row["lrcore"], {**vars(lrcore), **row["params"]})(k)
    theirs = np.broadcast_to(np.asarray(theirs, dtype=np.float64), k.shape)
    bound = RTOL * np.abs(ours) + ATOL * np.max(np.abs(ours))
    bad = np.flatnonzero(np.abs(ours - theirs) > bound)
    assert bad.size == 0, (f"{row['name']}, {lib}: {row[lib]['call']} differs from lrcore at "
                           f"k = {k[bad][:5].tolist()}: {theirs[bad][:5]} vs {ours[bad][:5]}")


def _values(schedule, to_numpy, k):
    """schedule(k) for all k at once where the schedule takes a vector of steps, else step by
    step (some take scalars only: Keras's CosineDecay with a warm-up branches with ``ops.cond``,
    optax's one-cycle schedules compare the count with a vector of boundaries)."""
    try:
        values = to_numpy(schedule(k))
        if np.shape(values) == k.shape:
            return values
    except Exception:  # noqa: BLE001 - whatever error the library raises for a vector step
        pass
    return [float(to_numpy(schedule(int(step)))) for step in k]


@_checked("keras")
def test_keras_column_matches_lrcore(row):
    keras = pytest.importorskip("keras")
    schedules = keras.optimizers.schedules
    namespace = {name: getattr(schedules, name) for name in dir(schedules)
                 if not name.startswith("_")}
    schedule = eval(row["keras"]["call"], {**namespace, **row["params"]})
    k = _steps(row, "keras")
    if callable(schedule):   # what the optimizer reads at update k: schedule(iterations == k)
        theirs = _values(lambda step: schedule(keras.ops.convert_to_tensor(step)),
                         keras.ops.convert_to_numpy, k)
    else:                    # a float learning rate
        theirs = schedule
    _assert_close(row, "keras", k, theirs)


@_checked("optax")
def test_optax_column_matches_lrcore(row):
    optax = pytest.importorskip("optax")
    jnp = pytest.importorskip("jax.numpy")
    schedule = eval(row["optax"]["call"], {**vars(optax), **row["params"]})
    k = _steps(row, "optax")
    theirs = _values(lambda step: schedule(jnp.asarray(step)), np.asarray, k)  # count == k
    _assert_close(row, "optax", k, theirs)
