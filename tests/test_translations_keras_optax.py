"""The Keras and optax columns of chapters/appendix_translations.ipynb against the real libraries.

Skipped without them (``pip install keras optax jax``; Keras runs on the backend that
``KERAS_BACKEND`` names, JAX by default). The appendix checks its table against
NumPy transcriptions of each library's formulas; this test evaluates the same translation
strings with ``keras.optimizers.schedules`` and ``optax`` themselves and compares them with
lrcore at every step the table checks. Both libraries compute in float32 by default, hence the
tolerance: a relative 1e-5 plus 1e-6 of the schedule's largest value (for the LRs that reach 0).
The plateau row is checked too, on the appendix's metric curve: Keras's ``ReduceLROnPlateau``
callback on a stand-in model that holds a Keras SGD optimizer, and optax's
``contrib.reduce_on_plateau`` fed one value per update.
"""

import importlib.util
import os

import numpy as np
import pytest

from translations_table import run_tagged_cells

import lrcore

RTOL, ATOL = 1e-5, 1e-6
ROWS = run_tagged_cells("translations")["ROWS"]
pytestmark = pytest.mark.filterwarnings(  # Keras's JAX backend on NumPy 2, not our concern
    "ignore:__array__ implementation doesn't accept a copy keyword:DeprecationWarning")
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


# --- the plateau rule: a callback (Keras) and a gradient transformation's state (optax) ---------

PLATEAU = next(r for r in ROWS if r["name"] == "ReduceLROnPlateau")
EPOCHS = np.arange(120)   # the appendix's metric: a noisy decaying validation loss
METRIC = (0.4 + 1.6 * np.exp(-EPOCHS / 15)
          + 0.005 * np.random.default_rng(0).standard_normal(EPOCHS.size).cumsum())
SETTINGS = [dict(patience=p, cooldown=c) for p, c in [(0, 0), (2, 1), (4, 3)]]


def _plateau_lrcore(params):
    plateau = eval(PLATEAU["lrcore"], {**vars(lrcore), **params})
    return np.array([plateau.step(float(m)) for m in METRIC])


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: f"patience{s['patience']}")
def test_keras_reduce_lr_on_plateau_matches_lrcore(setting):
    keras = pytest.importorskip("keras")
    params = {**PLATEAU["params"], **setting, "threshold_mode": "abs"}  # the row's condition
    callback = eval(PLATEAU["keras"]["call"],
                    {"ReduceLROnPlateau": keras.callbacks.ReduceLROnPlateau, **params})

    class Model:  # what the callback reads: the optimizer (its learning rate) and the metrics
        optimizer, metrics = keras.optimizers.SGD(learning_rate=params["lr0"]), []

    callback.set_model(Model())
    theirs = []
    for epoch, m in zip(EPOCHS, METRIC):
        callback.on_epoch_end(int(epoch), {"val_loss": float(m)})
        theirs.append(float(keras.ops.convert_to_numpy(Model.optimizer.learning_rate)))
    ours = _plateau_lrcore(params)
    assert np.sum(np.diff(ours) < 0) >= 2, "the metric must make the rule reduce the LR"
    np.testing.assert_allclose(theirs, ours, rtol=RTOL)


@pytest.mark.parametrize("mode", ["rel", "abs"])
@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: f"patience{s['patience']}")
def test_optax_reduce_on_plateau_matches_lrcore(setting, mode):
    optax = pytest.importorskip("optax")
    jax = pytest.importorskip("jax")
    params = {**PLATEAU["params"], **setting, "threshold_mode": mode}
    rule = eval(PLATEAU["optax"]["call"], {"contrib": optax.contrib, **params})
    update = jax.jit(rule.update)   # compiled once: unjitted, each update takes ~0.1 s
    zeros = jax.numpy.zeros(1)
    state, theirs = rule.init(zeros), []
    for m in METRIC:   # one value per update; optax scales sgd(lr0)'s updates by state.scale
        _, state = update(zeros, state, value=float(m))
        theirs.append(params["lr0"] * float(state.scale))
    ours = _plateau_lrcore(params)
    assert np.sum(np.diff(ours) < 0) >= 2, "the metric must make the rule reduce the LR"
    np.testing.assert_allclose(theirs, ours, rtol=RTOL)
