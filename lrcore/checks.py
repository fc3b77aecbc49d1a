"""The argument checks of every lrcore function: one kind of check per kind of argument.

Each check takes the parameter's ``name`` and its ``value``, returns the value converted (a
``float``, an ``int``, a ``bool``...) and raises:

* ``TypeError`` for a value of the wrong type (``"x"`` where a number is required);
* :class:`NotIntegerError` (both a ``TypeError`` and a ``ValueError``) for a float or a bool
  where an integer is required;
* ``ValueError`` for a value of the right type outside the accepted range.

Every message has one form: the parameter, what it accepts, what it got.

>>> real("factor", 0.5, low=0, high=1, low_open=True)
0.5
>>> real("factor", 1.5, low=0, high=1, low_open=True)
Traceback (most recent call last):
...
ValueError: factor must be a real number in (0, 1]; got 1.5
>>> integer("every", 0, low=1)
Traceback (most recent call last):
...
ValueError: every must be an int >= 1; got 0
"""

from __future__ import annotations

import math
import numbers
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from pathlib import Path

import numpy as np

__all__ = ["NotIntegerError", "MAX_STEP", "fail", "real", "integer", "seed", "flag", "choice",
           "fraction", "float_dtype", "path", "schedule", "schedule_or_real", "sequence",
           "increasing", "per_step", "returned_number", "DEPRECATED", "renamed"]

#: the largest step (and count of steps) the int64 closed forms of the schedules can take
MAX_STEP = int(np.iinfo(np.int64).max)


class NotIntegerError(TypeError, ValueError):
    """A float or a bool where an integer (a step, ``every``, ``until``...) is required.

    Both a ``TypeError`` and a ``ValueError``: ``2.5`` has the wrong type *and* is not an
    integer value.
    """


def fail(error: type[Exception], name: str, accepted: str, got) -> Exception:
    """The one wording: ``error("{name} must be {accepted}; got {got}")``, to be raised."""
    return error(f"{name} must be {accepted}; got {got}")


def _bound(x) -> str:
    return "2**63 - 1" if x == MAX_STEP else f"{x:g}" if isinstance(x, float) else f"{x}"


def interval(low=None, high=None, low_open=False, high_open=False) -> str:
    """The accepted range in words: ``" in (0, 1]"``, ``" > 0"``, ``" >= 0"``, ``" <= 1"``, ``""``."""
    if low is not None and high is not None and high != math.inf:
        left, right = "(" if low_open else "[", ")" if high_open else "]"
        return f" in {left}{_bound(low)}, {_bound(high)}{right}"
    if low is not None:
        return f" {'>' if low_open else '>='} {_bound(low)}"
    if high is not None and high != math.inf:
        return f" {'<' if high_open else '<='} {_bound(high)}"
    return ""


def is_real(value) -> bool:
    """A real number that is not a bool (``True`` is not a learning rate)."""
    return not isinstance(value, (bool, np.bool_)) and isinstance(value, numbers.Real)


def real(name: str, value, *, low=None, high=None, low_open=False, high_open=False,
         finite=True, what="a real number") -> float:
    """``value`` as a float: a real number (not a bool), finite unless ``finite=False``, in the
    range ``low``/``high`` (each end closed unless ``low_open``/``high_open``)."""
    accepted = f"{what}{interval(low, high, low_open, high_open)}"
    if not is_real(value):
        raise fail(TypeError, name, accepted, repr(value))
    try:
        x = float(value)
    except OverflowError:  # an int beyond the float range is a wrong value, not a crash
        big = "an int" if isinstance(value, numbers.Integral) else "a number"
        raise fail(ValueError, name, accepted, f"{big} beyond the float range") from None
    ok = not math.isnan(x) and (math.isfinite(x) or not finite)
    if ok and low is not None:
        ok = x > low if low_open else x >= low
    if ok and high is not None:
        ok = x < high if high_open else x <= high
    if not ok:
        raise fail(ValueError, name, accepted, repr(value))
    return x


def integer(name: str, value, *, low=None, high=MAX_STEP, why: str = "") -> int:
    """``value`` as an int (a Python or NumPy integer; a float or a bool raises
    :class:`NotIntegerError`) in ``[low, high]``; ``high`` defaults to ``2**63 - 1``. ``why``
    says where a bound set by another argument comes from (``"n_features + 1"``)."""
    why = f" ({why})" if why else ""
    accepted = f"an int{interval(low, high)}{why}"
    shown = f"an int{interval(low, None if high == MAX_STEP else high)}{why}"  # cap said when hit
    if isinstance(value, (bool, np.bool_)) or (
            isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral)):
        raise fail(NotIntegerError, name, shown, f"{value!r} ({type(value).__name__})")
    if not isinstance(value, numbers.Integral):
        raise fail(TypeError, name, shown, repr(value))
    n = int(value)
    if low is not None and n < low:
        raise fail(ValueError, name, shown, n)
    if high is not None and n > high:
        raise fail(ValueError, name, accepted, n)
    return n


def seed(name: str, value) -> int:
    """A seed of ``np.random.default_rng``: an int >= 0."""
    return integer(name, value, low=0, high=None)


def flag(name: str, value) -> bool:
    """``True`` or ``False`` (a NumPy bool too), nothing else."""
    if not isinstance(value, (bool, np.bool_)):
        raise fail(TypeError, name, "True or False", repr(value))
    return bool(value)


def choice(name: str, value, options) -> str:
    """One of the strings ``options`` (another type is a TypeError, another string a ValueError)."""
    if not isinstance(value, str) or value not in options:
        error = ValueError if isinstance(value, str) else TypeError
        raise fail(error, name, f"one of {', '.join(map(repr, options))}", repr(value))
    return value


def fraction(name: str, value) -> float:
    """A fraction strictly between 0 and 1."""
    return real(name, value, low=0, high=1, low_open=True, high_open=True)


def float_dtype(name: str, value) -> np.dtype:
    """float32 or float64, as a NumPy dtype (a name NumPy does not know is a wrong value)."""
    accepted = "float32 or float64 (np.float32, np.float64 or their names)"
    try:
        dtype = np.dtype(value)
    except TypeError:
        raise fail(ValueError if isinstance(value, str) else TypeError, name, accepted,
                   repr(value)) from None
    if dtype not in (np.float32, np.float64):
        raise fail(ValueError, name, accepted, dtype)
    return dtype


def path(name: str, value) -> Path:
    """A file-system path: a ``str`` or an ``os.PathLike``, returned as a :class:`~pathlib.Path`."""
    if not isinstance(value, (str, os.PathLike)):
        raise fail(TypeError, name, "a str or os.PathLike path", repr(value))
    return Path(value)


def schedule(name: str, value) -> Callable:
    """A schedule: a callable of the step ``k``."""
    if not callable(value):
        raise fail(TypeError, name, "a schedule (a callable of the step k)", repr(value))
    return value


def schedule_or_real(name: str, value, **limits):
    """A schedule (returned as is, its values checked where it is evaluated) or a real number in
    the range ``limits`` (the keywords of :func:`real`), returned as a float."""
    if callable(value):
        return value
    if not is_real(value):
        what = f"a real number{interval(**_ends(limits))} or a schedule (a callable of the step k)"
        raise fail(TypeError, name, what, repr(value))
    return real(name, value, what="a real number", **limits)


def _ends(limits: dict) -> dict:
    return {k: limits[k] for k in ("low", "high", "low_open", "high_open") if k in limits}


def sequence(name: str, value, rule: str) -> list:
    """``value`` as a list: a non-empty ordered sequence (a list, tuple or array), not a str, a
    dict or a set; ``rule`` says what it must hold (``"a non-empty list of learning rates"``)."""
    if isinstance(value, (Mapping, AbstractSet)):
        hint = (f"pass list({name}.values()) for its values" if isinstance(value, Mapping)
                else "which has no order: pass a list")
        raise fail(TypeError, name, rule, f"a {type(value).__name__} ({hint})")
    if (isinstance(value, (str, bytes)) or callable(value) or not hasattr(value, "__len__")
            or getattr(value, "ndim", 1) == 0 or len(value) < 1):  # ndim 0: a NumPy scalar array
        raise fail(TypeError, name, rule, repr(value))
    return list(value)


def increasing(name: str, values, *, low: int) -> tuple[int, ...]:
    """A strictly increasing sequence of ints >= ``low`` (sorted, no duplicates), as a tuple."""
    accepted = f"a sequence of strictly increasing ints >= {low}"
    if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray)):
        raise fail(TypeError, name, accepted, f"{values!r} ({type(values).__name__})")
    out = tuple(integer(name, v, low=low) for v in values)
    if any(b <= a for a, b in zip(out, out[1:])):
        raise fail(ValueError, name, f"{accepted} (sorted, no duplicates)", list(out))
    return out


def returned_number(name: str, value, k: int) -> float:
    """``float(value)``, what the schedule ``name`` returned at step ``k``; a str, a complex or
    what is not a number is a TypeError, an int beyond the float range a ValueError."""
    try:
        if isinstance(value, (str, bytes, complex, np.complexfloating)):  # float("0.1") would pass
            raise TypeError
        return float(value)
    except (TypeError, ValueError):
        raise fail(TypeError, f"{name}(k)", "a real number at every step",
                   f"{value!r} at k = {k}") from None
    except OverflowError:
        raise fail(ValueError, f"{name}(k)", "a real number in the float range at every step",
                   f"an int beyond the float range at k = {k}") from None


def per_step(name: str, value, n: int, *, low: float, high: float, high_open: bool) -> np.ndarray:
    """``value`` (a real number or a schedule ``f(k)``) at ``k = 0 .. n-1``, as float64, each
    value checked to lie in ``[low, high]`` (``[low, high)`` with ``high_open``).

    A schedule is called once with ``np.arange(n)`` when it accepts arrays (every lrcore
    schedule does); otherwise once per ``k`` with a Python int.
    """
    if not callable(value):
        return np.full(n, schedule_or_real(name, value, low=low, high=high, high_open=high_open))
    k = np.arange(n)
    try:
        values = np.asarray(value(k))
    except Exception:  # noqa: BLE001 -- a scalar-only callable (`if k < 10: ...`): per step
        values = None
    if values is None or values.shape != (n,) or values.dtype.kind not in "biuf":
        values = [returned_number(name, value(int(i)), int(i)) for i in k]
    values = np.asarray(values, dtype=np.float64)
    bad = ~((values >= low) & ((values < high) if high_open else (values <= high)))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise fail(ValueError, f"{name}(k)",
                   f"a real number{interval(low, high, False, high_open)} at every step",
                   f"{float(values[i])!r} at k = {i}")
    return values


class _Deprecated:
    """The default of a renamed keyword's old spelling: "not passed"."""

    def __repr__(self) -> str:
        return "<deprecated>"


#: the default of a deprecated old keyword: ``def f(*, diverge_factor=4.0, diverge=DEPRECATED)``
DEPRECATED = _Deprecated()


def renamed(old: str, old_value, new: str, new_value, default, *, stacklevel: int = 3):
    """The value of a keyword renamed from ``old`` to ``new``: ``new_value``, or ``old_value``
    with a ``DeprecationWarning`` naming the new spelling when the caller used the old one (as
    NumPy and PyTorch do). Passing both (``new_value`` not its ``default``) is a TypeError."""
    if old_value is DEPRECATED:
        return new_value
    numbers_ = isinstance(default, numbers.Real) and isinstance(new_value, numbers.Real)
    if not (new_value is default or (numbers_ and new_value == default)):
        raise TypeError(f"pass {new} only; {old} is its deprecated old name")
    warnings.warn(f"{old} is deprecated, use {new}={old_value!r}", DeprecationWarning,
                  stacklevel=stacklevel)
    return old_value
