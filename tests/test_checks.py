"""lrcore.checks: one module of argument checks, one exception type per kind of mistake, one
wording ("<name> must be <accepted>; got <value>"), used by every public function."""
import ast
import math
import pathlib
import re
from fractions import Fraction

import numpy as np
import pytest

import lrcore
from lrcore import checks, schedules
from lrcore.checks import NotIntegerError
from lrcore.data import load_digits, make_least_squares, make_spirals
from lrcore.mnist import load_mnist, read_idx
from lrcore.models import MLP, LinearRegression, SoftmaxRegression
from lrcore.rangetest import ema_smooth, range_test
from lrcore.surfaces import descend, escape_step, saddle
from lrcore.training import sweep, train

LRCORE = pathlib.Path(lrcore.__file__).parent


# --- each check: what it accepts, and the one wording of what it refuses ----------------------

@pytest.mark.parametrize("call, expected", [
    (lambda: checks.real("x", 2), 2.0),
    (lambda: checks.real("x", np.float32(0.5), low=0, high=1), 0.5),
    (lambda: checks.real("x", Fraction(1, 4)), 0.25),
    (lambda: checks.real("x", math.inf, low=1, low_open=True, finite=False), math.inf),
    (lambda: checks.integer("x", np.int64(3), low=1), 3),
    (lambda: checks.seed("x", 10**30), 10**30),           # no int64 cap on a seed
    (lambda: checks.flag("x", np.bool_(True)), True),
    (lambda: checks.choice("x", "a", ("a", "b")), "a"),
    (lambda: checks.fraction("x", 0.2), 0.2),
    (lambda: checks.schedule_or_real("x", 0.1, low=0, low_open=True), 0.1),
    (lambda: checks.sequence("x", (1, 2), "a list"), [1, 2]),
    (lambda: checks.increasing("x", [0, 3], low=0), (0, 3)),
    (lambda: checks.float_dtype("x", "float32"), np.float32),
    (lambda: checks.path("x", "a/b"), pathlib.Path("a/b")),
])
def test_accepted_values_are_returned_converted(call, expected):
    assert call() == expected


@pytest.mark.parametrize("call, error, message", [
    (lambda: checks.real("factor", 1.5, low=0, high=1, low_open=True), ValueError,
     "factor must be a real number in (0, 1]; got 1.5"),
    (lambda: checks.real("lr", "0.1", low=0, low_open=True), TypeError,
     "lr must be a real number > 0; got '0.1'"),
    (lambda: checks.real("lr", True), TypeError, "lr must be a real number; got True"),
    (lambda: checks.real("x", math.nan), ValueError, "x must be a real number; got nan"),
    (lambda: checks.real("x", math.inf, low=0), ValueError, "x must be a real number >= 0; got inf"),
    (lambda: checks.real("x", 10**400, low=0), ValueError,
     "x must be a real number >= 0; got an int beyond the float range"),
    (lambda: checks.real("x", 1.0, high=1, high_open=True), ValueError,
     "x must be a real number < 1; got 1.0"),
    (lambda: checks.integer("every", 0, low=1), ValueError, "every must be an int >= 1; got 0"),
    (lambda: checks.integer("every", 2.5, low=1), NotIntegerError,
     "every must be an int >= 1; got 2.5 (float)"),
    (lambda: checks.integer("every", True, low=1), NotIntegerError,
     "every must be an int >= 1; got True (bool)"),
    (lambda: checks.integer("every", "3", low=1), TypeError, "every must be an int >= 1; got '3'"),
    (lambda: checks.integer("every", 2**63, low=1), ValueError,
     "every must be an int in [1, 2**63 - 1]; got 9223372036854775808"),
    (lambda: checks.integer("batch_size", 11, low=1, high=10), ValueError,
     "batch_size must be an int in [1, 10]; got 11"),
    (lambda: checks.integer("n_train", 3, low=5, why="n_classes"), ValueError,
     "n_train must be an int >= 5 (n_classes); got 3"),
    (lambda: checks.seed("seed", -1), ValueError, "seed must be an int >= 0; got -1"),
    (lambda: checks.seed("seed", 1.0), NotIntegerError, "seed must be an int >= 0; got 1.0 (float)"),
    (lambda: checks.flag("nesterov", 1), TypeError, "nesterov must be True or False; got 1"),
    (lambda: checks.choice("mode", "x", ("min", "max")), ValueError,
     "mode must be one of 'min', 'max'; got 'x'"),
    (lambda: checks.choice("mode", None, ("min", "max")), TypeError,
     "mode must be one of 'min', 'max'; got None"),
    (lambda: checks.fraction("val_fraction", 1.0), ValueError,
     "val_fraction must be a real number in (0, 1); got 1.0"),
    (lambda: checks.schedule_or_real("lr", "a", low=0, low_open=True), TypeError,
     "lr must be a real number > 0 or a schedule (a callable of the step k); got 'a'"),
    (lambda: checks.schedule_or_real("lr", -1.0, low=0, low_open=True), ValueError,
     "lr must be a real number > 0; got -1.0"),
    (lambda: checks.schedule("schedule", 0.1), TypeError,
     "schedule must be a schedule (a callable of the step k); got 0.1"),
    (lambda: checks.sequence("lrs", {1, 2}, "a list"), TypeError,
     "lrs must be a list; got a set (which has no order: pass a list)"),
    (lambda: checks.sequence("lrs", [], "a non-empty list"), TypeError,
     "lrs must be a non-empty list; got []"),
    (lambda: checks.increasing("milestones", [3, 3], low=0), ValueError,
     "milestones must be a sequence of strictly increasing ints >= 0 (sorted, no duplicates); "
     "got [3, 3]"),
    (lambda: checks.float_dtype("dtype", "float16"), ValueError,
     "dtype must be float32 or float64 (np.float32, np.float64 or their names); got float16"),
    (lambda: checks.path("path", 3), TypeError, "path must be a str or os.PathLike path; got 3"),
    (lambda: checks.per_step("momentum", lambda k: 0.5 + 0.1 * k, 10, low=0.0, high=1.0,
                             high_open=True), ValueError,
     "momentum(k) must be a real number in [0, 1) at every step; got 1.0 at k = 5"),
    (lambda: checks.per_step("lr", lambda k: "a", 3, low=0.0, high=math.inf, high_open=True),
     TypeError, "lr(k) must be a real number at every step; got 'a' at k = 0"),
])
def test_refused_values_raise_one_type_per_mistake_in_one_wording(call, error, message):
    with pytest.raises(error) as info:
        call()
    assert type(info.value) is error and str(info.value) == message


def test_not_integer_error_is_both_a_type_and_a_value_error():
    assert issubclass(NotIntegerError, TypeError) and issubclass(NotIntegerError, ValueError)
    assert schedules.NotIntegerError is lrcore.NotIntegerError is NotIntegerError


# --- every public function goes through them ---------------------------------------------------

def _data():
    return load_digits(seed=0)


BAD = [  # (call, exception, message): one bad argument for each public entry point
    (lambda: train(SoftmaxRegression(64, 10), _data(), lr=0.1, epochs=0), ValueError,
     "epochs must be an int >= 1; got 0"),
    (lambda: train(SoftmaxRegression(64, 10), _data(), lr=0.1, epochs=1, seed=-1), ValueError,
     "seed must be an int >= 0; got -1"),
    (lambda: train(SoftmaxRegression(64, 10), _data(), lr=0.1, epochs=1, diverge_factor="x"),
     TypeError, "diverge_factor must be a real number > 1; got 'x'"),
    (lambda: sweep(SoftmaxRegression(64, 10), _data(), lrs=[0.1], init_seeds=[-1], epochs=1),
     ValueError, "init_seeds[0] must be an int >= 0; got -1"),
    (lambda: sweep(SoftmaxRegression(64, 10), _data(), lrs=[0.1], epochs=1, nesterov=1),
     TypeError, "nesterov must be True or False; got 1"),
    (lambda: range_test(SoftmaxRegression(64, 10), _data(), diverge_factor="x"), TypeError,
     "diverge_factor must be a real number > 1; got 'x'"),
    (lambda: range_test(SoftmaxRegression(64, 10), _data(), seed=-1), ValueError,
     "seed must be an int >= 0; got -1"),
    (lambda: ema_smooth([1.0], beta=1.0), ValueError, "beta must be a real number in [0, 1); got 1.0"),
    (lambda: load_digits(seed=-1), ValueError, "seed must be an int >= 0; got -1"),
    (lambda: load_digits(val_fraction=0), ValueError,
     "val_fraction must be a real number in (0, 1); got 0"),
    (lambda: make_least_squares(noise=-1.0), ValueError, "noise must be a real number >= 0; got -1.0"),
    (lambda: make_spirals(n_classes=1), ValueError, "n_classes must be an int >= 2; got 1"),
    (lambda: load_mnist("x", kind="emnist"), ValueError,
     "kind must be one of 'fashion-mnist', 'mnist'; got 'emnist'"),
    (lambda: read_idx(None), TypeError, "path must be a str or os.PathLike path; got None"),
    (lambda: MLP([4, 8, 3], seed=-1), ValueError, "seed must be an int >= 0; got -1"),
    (lambda: MLP([4, 0, 3]), ValueError, "sizes[1] must be an int >= 1; got 0"),
    (lambda: SoftmaxRegression(64, 10, dtype="int8"), ValueError,
     "dtype must be float32 or float64 (np.float32, np.float64 or their names); got int8"),
    (lambda: LinearRegression(0, 1), ValueError, "n_in must be an int >= 1; got 0"),
    (lambda: descend(saddle, [0.5, 0.1], lr=0.1, steps=10, seed=-1), ValueError,
     "seed must be an int >= 0; got -1"),
    (lambda: descend(saddle, [0.5, 0.1], lr=0.1, steps=10, noise=-1), ValueError,
     "noise must be a real number >= 0; got -1"),
    (lambda: escape_step(descend(saddle, [0.5, 0.1], lr=0.1, steps=3), radius=0), ValueError,
     "radius must be a real number > 0; got 0"),
    (lambda: schedules.step_decay(0.1, factor=0.5, every=0), ValueError,
     "every must be an int >= 1; got 0"),
    (lambda: lrcore.ReduceLROnPlateau(0.1, patience=-1), ValueError,
     "patience must be an int >= 0; got -1"),
]


@pytest.mark.parametrize("call, error, message", BAD)
def test_public_functions_use_the_one_wording(call, error, message):
    with pytest.raises(error) as info:
        call()
    assert isinstance(info.value, error) and str(info.value) == message


# --- no module keeps its own checkers ------------------------------------------------------------

_CHECKER = re.compile(r"^_(check_(int|real|seed|fraction|size|dtype|sequence|path|lr_value)|is_real|"
                      r"real|integer|choice|flag|increasing|schedule_arg|as_float|table|lr_at|"
                      r"lr_per_step_value|step_value|returned_number)$")


def test_no_module_defines_its_own_copy_of_a_check():
    for path in sorted(LRCORE.glob("*.py")):
        if path.name == "checks.py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        own = [n.name for n in ast.walk(tree)
               if isinstance(n, ast.FunctionDef) and _CHECKER.match(n.name)]
        assert not own, f"{path.name} defines its own checks {own}: use lrcore.checks"
