"""Learning-rate schedules: pure functions of the step ``k``.

(The one stateful schedule, ``ReduceLROnPlateau``, lives in :mod:`lrcore.plateau`.)

Names, keyword arguments and semantics follow the schedule contract of the project, reproduced
in the docstrings below (each gives its formula and the PyTorch, Keras or optax call it equals);
the equations use the notation of the source article: ε_k is the learning rate of update ``k``,
ε_0 the initial rate, α the decay factor, N the number of steps between two drops and τ the step
at which an annealing ends.

Every function below *validates* its arguments, writes the closed form as a small function
``lr(k)`` of an array of steps that reads like its equation, and returns it wrapped in a
:class:`Schedule`, a callable that only *computes*::

    >>> lr = cosine_decay(0.1, until=1000)
    >>> round(lr(500), 6)
    0.05
    >>> lr(np.arange(3)).dtype
    dtype('float64')

Conventions shared by every schedule:

- ``k`` counts parameter updates from 0: ``schedule(k)`` is the learning rate of update ``k``.
- A scalar integer step (Python ``int``, NumPy integer, 0-d integer array) gives a Python
  ``float``; an integer array (or a list of ints) gives a ``float64`` array of the same shape.
  Both come from one code path, the vectorized closed form (a scalar is an array of one step),
  so ``lr(k)`` equals ``lr(np.arange(n))[k]`` bit for bit on every machine.
- Steps are integers, strictly: a float step, even ``10.0``, raises :class:`NotIntegerError`
  (so does ``every=10.0`` for an integer hyper-parameter); a negative step raises ``ValueError``
  naming ``k``.  :class:`NotIntegerError` is both a ``TypeError`` (wrong type) and a
  ``ValueError`` (not an integer), so either ``except`` clause catches it, as NumPy's
  ``AxisError`` is both a ``ValueError`` and an ``IndexError``.
- Bad hyper-parameters raise ``ValueError`` (``TypeError`` for a wrong type) whose message names
  the parameter and the accepted range, e.g.
  ``ValueError: every must be an int >= 1; got 0`` (the checks of :mod:`lrcore.checks`).
  Integer hyper-parameters (``every``, ``until``, ``period``, ``mult``...) are at most
  ``2**63 - 1``, the last step.
- ``warmup`` and ``join`` accept any callable of ``k`` as a child; what a callable that is not
  an lrcore schedule returns is checked when it is evaluated (a finite number >= 0).
- ``repr`` shows the call that rebuilds the schedule, defaults included:
  ``step_decay(lr0=0.1, factor=0.5, every=10)``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from . import checks
from .checks import MAX_STEP, NotIntegerError

__all__ = [
    "NotIntegerError",
    "Schedule",
    "constant",
    "step_decay",
    "multistep_decay",
    "exponential_decay",
    "linear_decay",
    "polynomial_decay",
    "inverse_time_decay",
    "cosine_decay",
    "cosine_restarts",
    "cyclic",
    "one_cycle",
    "warmup",
    "join",
    "exponential_range",
    "linear_range",
]


def __getattr__(name):
    """``ReduceLROnPlateau`` moved to :mod:`lrcore.plateau`; it is still importable from here.

    Imported on first use: ``plateau`` imports this module's argument checks, so importing it
    at the top would make the two modules import each other.
    """
    if name == "ReduceLROnPlateau":
        from .plateau import ReduceLROnPlateau

        return ReduceLROnPlateau
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --------------------------------------------------------------------------------------------
# Arguments are checked by lrcore.checks, called by the constructors only, never by __call__.
# --------------------------------------------------------------------------------------------

def _steps(k):
    """Validate a step argument: return an int or an int64 array, each step in [0, 2**63 - 1]."""
    accepted = "an int >= 0 or an array of them"
    if isinstance(k, (bool, np.bool_)):
        raise checks.fail(NotIntegerError, "k", accepted, repr(k))
    if isinstance(k, int):
        return checks.integer("k", k, low=0)
    arr = np.asarray(k)
    if arr.dtype.kind not in "iu":
        if arr.dtype.kind in "fcb":
            raise checks.fail(NotIntegerError, "k", accepted, f"{arr.dtype} {k!r}; steps are "
                              "counted, use int(k) or k.astype(int)")
        raise checks.fail(TypeError, "k", accepted, f"{k!r} ({type(k).__name__})")
    if arr.size and arr.min() < 0:
        raise checks.fail(ValueError, "k", accepted, arr.min())
    if arr.size and arr.dtype.kind == "u" and arr.max() > MAX_STEP:  # would wrap in int64
        raise checks.fail(ValueError, "k", "an int in [0, 2**63 - 1] or an array of them", arr.max())
    if arr.ndim == 0:
        return int(arr)
    return arr.astype(np.int64, copy=False)


# --------------------------------------------------------------------------------------------
# The wrapper: the closed form, its name and its hyper-parameters
# --------------------------------------------------------------------------------------------

class Schedule:
    """A learning-rate schedule: a pure function ``k -> ε_k`` of the update index ``k >= 0``.

    ``Schedule(lr, name, **hyper_parameters)`` wraps ``lr``, the closed form, a function of a
    1-D ``int64`` array of valid steps that the functions of this module write as the equation
    reads, with the name of the function that built it and its validated hyper-parameters:

    - calling it only checks the step, evaluates ``lr`` on it as an array (a scalar step is an
      array of one) and converts the result (``float`` for a scalar, ``float64`` array of the
      step's shape for an array): one code path for both, so a scalar and an array give the same
      bits (NumPy's SIMD ``exp``/``pow`` and the C library's ``math.exp``/``math.pow`` can differ
      in the last bit);
    - the hyper-parameters are read-only attributes (``lr.lr0``; a sequence reads as a new list):
      ``lr`` holds their values, so changing one could not change the schedule;
    - ``repr`` is the call that rebuilds it, ``name(p=value, ...)``, with the child schedules of
      ``warmup`` and ``join`` first and by position, as those are called; ``copy`` and ``pickle``
      rebuild it by that call too.

    Build schedules with the functions of this module: ``Schedule`` checks nothing.  ``lr`` and
    ``name`` are positional-only, so a hyper-parameter may be called ``lr`` (as in ``constant``).
    """

    __slots__ = ("_lr", "_name", "_params")
    _BY_POSITION = ("schedule", "schedules")  # warmup(schedule, ...), join(schedules, ...)

    def __init__(self, lr, name, /, **hyper_parameters):
        object.__setattr__(self, "_lr", lr)  # the closed form, on validated int64 steps
        object.__setattr__(self, "_name", name)  # the function that built it
        object.__setattr__(self, "_params", hyper_parameters)  # in the order of its call

    def __call__(self, k):
        k = _steps(k)  # an int or an int64 array, >= 0
        steps = np.reshape(k, -1)  # 1-D: a scalar is one step
        lr = np.broadcast_to(np.asarray(self._lr(steps), dtype=np.float64), steps.shape)
        return float(lr[0]) if isinstance(k, int) else lr.reshape(np.shape(k))

    @property
    def name(self) -> str:
        """The name of the function that built the schedule (``"cosine_decay"``)."""
        return self._name

    def __getattr__(self, name):  # called only for what is not a slot: the hyper-parameters
        if name.startswith("_") or name not in self._params:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        value = self._params[name]
        return list(value) if isinstance(value, tuple) else value

    def __setattr__(self, name, value):
        raise AttributeError(f"a schedule is read-only: build a new one (cannot set {name!r} of "
                             f"{self!r})")

    def __dir__(self):
        return [*super().__dir__(), *self._params]

    def __reduce__(self):  # copy and pickle: the call that built it (a closure cannot be pickled)
        return _rebuild, (self._name, self._params)

    def __repr__(self) -> str:
        args = []
        for name in self._params:
            value = getattr(self, name)
            args.append(repr(value) if name in self._BY_POSITION else f"{name}={value!r}")
        return f"{self._name}({', '.join(args)})"


def _rebuild(name, hyper_parameters) -> Schedule:
    """The schedule ``name(**hyper_parameters)``, built (and checked) again: unpickling."""
    return globals()[name](**hyper_parameters)


def _evaluate(schedule, k, name):
    """A child ``schedule`` at the validated 1-D int64 steps ``k``, as a float64 array.

    An lrcore :class:`Schedule` is valid by construction: its closed form is evaluated directly.
    Any other callable is called with the array once; if it cannot take arrays (``if k < 10:``
    raises on more than one step), once per step with an int.  What it returns is checked, and
    a value that is not a learning rate (NaN, infinite, negative, not a number) raises an error
    naming the child, ``name`` (``"schedule"``, ``"schedules[1]"``).
    """
    if isinstance(schedule, Schedule):
        out = np.asarray(schedule._lr(k), dtype=np.float64)  # already validated: no checks
        return np.broadcast_to(out, k.shape)
    try:
        out = np.asarray(schedule(k))
    except Exception:  # a scalar-only callable
        out = None
    if out is None or out.shape not in (k.shape, ()) or out.dtype.kind not in "iuf":
        out = np.array([checks.returned_number(name, schedule(int(i)), int(i)) for i in k])
    out = np.broadcast_to(out.astype(np.float64, copy=False), k.shape)
    bad = ~np.isfinite(out) | (out < 0)
    if bad.any():
        i = int(np.argmax(bad))  # the first offending step
        raise checks.fail(ValueError, f"{name}(k)", "a real number >= 0 at every step",
                          f"{float(out[i])!r} at k = {int(k[i])}")
    return out


# --------------------------------------------------------------------------------------------
# Constant and step-wise decays
# --------------------------------------------------------------------------------------------

def constant(lr) -> Schedule:
    """A constant learning rate: ``ε_k = ε``.

    Equals a plain float learning rate in any library (torch ``SGD(lr=...)`` without a
    scheduler).

    >>> lr = constant(0.1)
    >>> lr(0), lr(1000)
    (0.1, 0.1)
    >>> lr([0, 1, 2])
    array([0.1, 0.1, 0.1])
    """
    lr = checks.real("lr", lr, low=0, low_open=True)
    return Schedule(lambda k: np.full(k.shape, lr), "constant", lr=lr)  # ε_k = ε


def step_decay(lr0, *, factor, every) -> Schedule:
    """Step decay: multiply by α every N steps, ``ε_k = ε_0 α^⌊k/N⌋``.

    ``factor`` is α in (0, 1], ``every`` is N.  Equals torch
    ``StepLR(step_size=every, gamma=factor)`` and TF
    ``exponential_decay(lr0, k, every, factor, staircase=True)``.

    >>> lr = step_decay(0.1, factor=0.5, every=10)
    >>> lr(9), lr(10), round(lr(25), 6)
    (0.1, 0.05, 0.025)
    >>> lr
    step_decay(lr0=0.1, factor=0.5, every=10)
    """
    lr0 = checks.real("lr0", lr0, low=0, low_open=True)
    factor = checks.real("factor", factor, low=0, high=1, low_open=True)
    every = checks.integer("every", every, low=1)

    def lr(k):
        return lr0 * factor ** (k // every)  # ε_k = ε_0 α^⌊k/N⌋

    return Schedule(lr, "step_decay", lr0=lr0, factor=factor, every=every)


def multistep_decay(lr0, *, milestones, factor) -> Schedule:
    """Drop by α at each milestone: ``ε_k = ε_0 α^#{m ∈ milestones : m ≤ k}``.

    ``milestones`` are strictly increasing non-negative steps; the drop happens *at* ``k = m``.
    Equals torch ``MultiStepLR(milestones, gamma=factor)``.

    >>> lr = multistep_decay(0.1, milestones=[30, 80], factor=0.1)
    >>> round(lr(29), 6), round(lr(30), 6), round(lr(80), 6)
    (0.1, 0.01, 0.001)
    """
    lr0 = checks.real("lr0", lr0, low=0, low_open=True)
    milestones = checks.increasing("milestones", milestones, low=0)
    factor = checks.real("factor", factor, low=0, high=1, low_open=True)

    def lr(k):
        passed = np.searchsorted(milestones, k, side="right")  # #{m ∈ milestones : m ≤ k}
        return lr0 * factor ** passed  # ε_k = ε_0 α^#{m ≤ k}

    return Schedule(lr, "multistep_decay", lr0=lr0, milestones=milestones, factor=factor)


def exponential_decay(lr0, *, factor, every=1, staircase=False) -> Schedule:
    """Exponential decay: ``ε_k = ε_0 α^(k/N)`` (``α^⌊k/N⌋`` if ``staircase``).

    ``factor`` is α in (0, 1], ``every`` is N.  Equals TF
    ``exponential_decay(lr0, k, every, factor, staircase)``, Keras ``ExponentialDecay`` and
    optax ``exponential_decay(lr0, transition_steps=every, decay_rate=factor,
    staircase=staircase)``; with ``every=1``, torch ``ExponentialLR(gamma=factor)``.

    >>> lr = exponential_decay(0.1, factor=0.5, every=10)
    >>> round(lr(5), 6), round(lr(10), 6)
    (0.070711, 0.05)
    """
    lr0 = checks.real("lr0", lr0, low=0, low_open=True)
    factor = checks.real("factor", factor, low=0, high=1, low_open=True)
    every = checks.integer("every", every, low=1)
    staircase = checks.flag("staircase", staircase)

    def lr(k):
        p = np.floor(k / every) if staircase else k / every  # ⌊k/N⌋ or k/N
        return lr0 * factor ** p  # ε_k = ε_0 α^(k/N)

    return Schedule(lr, "exponential_decay", lr0=lr0, factor=factor, every=every,
                    staircase=staircase)


# --------------------------------------------------------------------------------------------
# Annealing to a final value at step τ (= until), then holding it
# --------------------------------------------------------------------------------------------

def linear_decay(lr0, *, lr_end, until) -> Schedule:
    """Linear decay to ε_τ at step τ, then constant (the article's favourite).

    ``ε_k = (1 - α) ε_0 + α ε_τ`` with ``α = min(k, τ)/τ``; ``lr_end`` is ε_τ (``>= 0``; it may
    exceed ``lr0``, giving a linear ramp up), ``until`` is τ.  Equals torch
    ``LinearLR(start_factor=1, end_factor=lr_end/lr0, total_iters=until)``.

    >>> lr = linear_decay(0.1, lr_end=0.01, until=100)
    >>> round(lr(50), 6), round(lr(100), 6), round(lr(1000), 6)
    (0.055, 0.01, 0.01)
    """
    lr0 = checks.real("lr0", lr0, low=0, low_open=True)
    lr_end = checks.real("lr_end", lr_end, low=0)
    until = checks.integer("until", until, low=1)

    def lr(k):
        a = np.minimum(k, until) / until  # α = min(k, τ)/τ
        return (1 - a) * lr0 + a * lr_end  # ε_k = (1 - α) ε_0 + α ε_τ

    return Schedule(lr, "linear_decay", lr0=lr0, lr_end=lr_end, until=until)


def polynomial_decay(lr0, *, until, power=1.0, lr_end=0.0) -> Schedule:
    """Polynomial decay: ``ε_k = (ε_0 - ε_τ)(1 - α)^p + ε_τ``, ``α = min(k, τ)/τ``.

    ``until`` is τ, ``power`` is p (> 0), ``lr_end`` is ε_τ (>= 0), held after τ.  Equals Keras
    ``PolynomialDecay(lr0, decay_steps=until, end_learning_rate=lr_end, power=power,
    cycle=False)``; with ``lr_end=0``, torch ``PolynomialLR(total_iters=until, power=power)``.

    >>> lr = polynomial_decay(0.1, until=100, power=2.0)
    >>> round(lr(50), 6), lr(100), lr(200)
    (0.025, 0.0, 0.0)
    """
    lr0 = checks.real("lr0", lr0, low=0, low_open=True)
    until = checks.integer("until", until, low=1)
    power = checks.real("power", power, low=0, low_open=True)
    lr_end = checks.real("lr_end", lr_end, low=0)

    def lr(k):
        a = np.minimum(k, until) / until  # α = min(k, τ)/τ
        return (lr0 - lr_end) * (1 - a) ** power + lr_end  # ε_k = (ε_0 - ε_τ)(1 - α)^p + ε_τ

    return Schedule(lr, "polynomial_decay", lr0=lr0, until=until, power=power, lr_end=lr_end)


def inverse_time_decay(lr0, *, rate, every=1, staircase=False) -> Schedule:
    """Inverse-time decay: ``ε_k = ε_0 / (1 + r k/N)`` (``⌊k/N⌋`` if ``staircase``).

    ``rate`` is r (>= 0), ``every`` is N.  Equals Keras
    ``InverseTimeDecay(lr0, decay_steps=every, decay_rate=rate, staircase=staircase)``.

    >>> lr = inverse_time_decay(0.1, rate=0.5, every=10)
    >>> round(lr(10), 6), round(lr(20), 6)
    (0.066667, 0.05)
    """
    lr0 = checks.real("lr0", lr0, low=0, low_open=True)
    rate = checks.real("rate", rate, low=0)
    every = checks.integer("every", every, low=1)
    staircase = checks.flag("staircase", staircase)

    def lr(k):
        p = np.floor(k / every) if staircase else k / every  # ⌊k/N⌋ or k/N
        return lr0 / (1 + rate * p)  # ε_k = ε_0 / (1 + r k/N)

    return Schedule(lr, "inverse_time_decay", lr0=lr0, rate=rate, every=every,
                    staircase=staircase)


def cosine_decay(lr0, *, until, lr_end=0.0) -> Schedule:
    """Cosine annealing to ε_τ at step τ, then constant.

    ``ε_k = ε_τ + (ε_0 - ε_τ)(1 + cos(π min(k, τ)/τ))/2``; ``until`` is τ, ``lr_end`` is ε_τ.
    Equals torch ``CosineAnnealingLR(T_max=until, eta_min=lr_end)`` for ``k <= until``;
    **lrcore** then holds ``lr_end`` (as Keras ``CosineDecay`` and optax
    ``cosine_decay_schedule`` do), where torch rises again.

    >>> lr = cosine_decay(0.1, until=100, lr_end=0.01)
    >>> round(lr(0), 6), round(lr(50), 6), round(lr(100), 6), round(lr(500), 6)
    (0.1, 0.055, 0.01, 0.01)
    """
    lr0 = checks.real("lr0", lr0, low=0, low_open=True)
    until = checks.integer("until", until, low=1)
    lr_end = checks.real("lr_end", lr_end, low=0)

    def lr(k):
        t = np.minimum(k, until)  # hold ε_τ after τ
        return lr_end + (lr0 - lr_end) * ((1 + np.cos(np.pi * t / until)) / 2)
        # ε_k = ε_τ + (ε_0 - ε_τ)(1 + cos(π min(k, τ)/τ))/2, halved before the product (exact)
        # so that ε_0 - ε_τ near the float maximum does not overflow

    return Schedule(lr, "cosine_decay", lr0=lr0, until=until, lr_end=lr_end)


# --------------------------------------------------------------------------------------------
# Periodic schedules
# --------------------------------------------------------------------------------------------

def cosine_restarts(lr_max, *, period, mult=1, lr_min=0.0) -> Schedule:
    """Cosine annealing with warm restarts (SGDR).

    ``ε_k = ε_min + (ε_max - ε_min)(1 + cos(π T_cur/T_i))/2`` where cycle ``i`` lasts
    ``T_i = N m^i`` steps (N = ``period``, m = ``mult``, an integer >= 1) and ``T_cur ∈ [0, T_i)``
    counts the steps since the last restart: the first restart is at ``k = N``.  Equals torch
    ``CosineAnnealingWarmRestarts(T_0=period, T_mult=mult, eta_min=lr_min)`` and Keras
    ``CosineDecayRestarts(lr_max, period, t_mul=mult, m_mul=1, alpha=lr_min/lr_max)``.

    >>> lr = cosine_restarts(0.1, period=10, mult=2)
    >>> round(lr(5), 6), lr(10), round(lr(20), 6), lr(30)
    (0.05, 0.1, 0.05, 0.1)
    """
    lr_max = checks.real("lr_max", lr_max, low=0, low_open=True)
    lr_min = checks.real("lr_min", lr_min, low=0)
    if lr_max < lr_min:
        raise ValueError(f"lr_max must be >= lr_min; got lr_max={lr_max!r} < lr_min={lr_min!r}")
    period, mult = checks.integer("period", period, low=1), checks.integer("mult", mult, low=1)
    # cycle i starts at N (1 + m + ... + m^(i-1)) and lasts T_i = N m^i
    # steps; with m >= 2 at most 63 cycles start at a step k <= 2**63 - 1:
    # list them, in exact integers
    starts, lengths = [0], [period]
    while mult > 1 and starts[-1] + lengths[-1] <= MAX_STEP:
        starts.append(starts[-1] + lengths[-1])
        lengths.append(lengths[-1] * mult)
    starts = np.array(starts, dtype=np.int64)
    lengths = np.array(lengths, dtype=np.float64)  # the last may exceed int64

    def lr(k):
        if mult == 1:
            t_cur, t_i = k % period, period  # T_cur: steps since the last restart
        else:
            # the cycle that holds k
            i = np.searchsorted(starts, k, side="right") - 1
            t_cur, t_i = k - starts[i], lengths[i]
        return lr_min + (lr_max - lr_min) * ((1 + np.cos(np.pi * t_cur / t_i)) / 2)
        # ε_k = ε_min + (ε_max - ε_min)(1 + cos(π T_cur/T_i))/2

    return Schedule(lr, "cosine_restarts", lr_max=lr_max, period=period, mult=mult,
                    lr_min=lr_min)


def cyclic(lr_min, lr_max, *, half_cycle, half_cycle_down=None, mode="triangular",
           gamma=1.0) -> Schedule:
    """Cyclical learning rate (CLR, Smith 2017): a triangle between ε_min and ε_max.

    With ``T = up + down`` (``half_cycle``, ``half_cycle_down``, which defaults to
    ``half_cycle``), ``r = up/T``, ``cycle = ⌊1 + k/T⌋`` and ``x = 1 + k/T - cycle``:
    ``f = x/r`` if ``x <= r`` else ``(x - 1)/(r - 1)``, and
    ``ε_k = ε_min + (ε_max - ε_min) f s`` with ``s = 1`` (``"triangular"``),
    ``1/2^(cycle-1)`` (``"triangular2"``) or ``γ^k`` (``"exp_range"``; ``gamma`` in (0, 1]).
    Equals torch ``CyclicLR(base_lr=lr_min, max_lr=lr_max, step_size_up=half_cycle,
    step_size_down=half_cycle_down, mode=mode, gamma=gamma)``.

    >>> lr = cyclic(0.001, 0.01, half_cycle=10)
    >>> round(lr(0), 6), round(lr(5), 6), round(lr(10), 6), round(lr(20), 6)
    (0.001, 0.0055, 0.01, 0.001)
    """
    lr_min = checks.real("lr_min", lr_min, low=0)
    lr_max = checks.real("lr_max", lr_max, low=0, low_open=True)
    if lr_max < lr_min:
        raise ValueError(f"lr_max must be >= lr_min; got lr_max={lr_max!r} < lr_min={lr_min!r}")
    half_cycle = checks.integer("half_cycle", half_cycle, low=1)
    if half_cycle_down is not None:
        half_cycle_down = checks.integer("half_cycle_down", half_cycle_down, low=1)
    mode = checks.choice("mode", mode, ("triangular", "triangular2", "exp_range"))
    gamma = checks.real("gamma", gamma, low=0, high=1, low_open=True)
    down = half_cycle if half_cycle_down is None else half_cycle_down
    size = float(half_cycle) + float(down)  # T = up + down
    r = half_cycle / size  # r = up/T

    def lr(k):
        cycle = np.floor(1 + k / size)  # cycle = ⌊1 + k/T⌋, counted from 1
        x = 1.0 + k / size - cycle  # position in the cycle, in [0, 1)
        # r rounds to 1 if down << up: then x <= r always
        with np.errstate(divide="ignore"):
            f = np.where(x <= r, x / r, (x - 1) / (r - 1))  # triangle: 0 -> 1 -> 0
        if mode == "triangular2":
            # 1/2^(cycle-1): halve the amplitude every cycle (exact)
            s = 0.5 ** (cycle - 1)
        elif mode == "exp_range":
            s = gamma**k  # γ^k, k the update index
        else:
            s = 1.0
        return lr_min + (lr_max - lr_min) * f * s
        # ε_k = ε_min + (ε_max - ε_min) f s

    return Schedule(lr, "cyclic", lr_min=lr_min, lr_max=lr_max, half_cycle=half_cycle,
                    half_cycle_down=half_cycle_down, mode=mode, gamma=gamma)


# --------------------------------------------------------------------------------------------
# One cycle
# --------------------------------------------------------------------------------------------

def _anneal_cos(start, end, pct):
    """torch's ``_annealing_cos``: from ``start`` (pct=0) to ``end`` (pct=1)."""
    return end + (start - end) / 2.0 * (np.cos(np.pi * pct) + 1)


def _anneal_linear(start, end, pct):
    """torch's ``_annealing_linear``."""
    return (end - start) * pct + start


def _one_cycle_ends(total, pct_start, three_phase):
    """Last step of each phase, computed exactly as torch's ``OneCycleLR`` does."""
    if three_phase:
        return (float(pct_start * total) - 1, float(2 * pct_start * total) - 2, total - 1)
    return (float(pct_start * total) - 1, total - 1)


def one_cycle(lr_max, *, total, pct_start=0.3, div=25.0, final_div=1e4, anneal="cos",
              three_phase=False) -> Schedule:
    """The 1cycle policy (Smith 2018, fastai): warm up to ε_max, then anneal far below ε_0.

    Warm-up from ``ε_0 = lr_max/div`` to ``ε_max`` until step ``pct_start*total - 1``, then
    anneal to ``ε_min = ε_0/final_div`` at step ``total - 1``; with ``three_phase`` go back to
    ε_0 at ``2*pct_start*total - 2`` first.  Each phase interpolates with torch's
    ``_annealing_cos(a, b, p) = b + (a - b)/2 (cos(π p) + 1)`` (or linearly, ``anneal="linear"``),
    ``p = (k - start)/(end - start)``.  Equals torch ``OneCycleLR(max_lr=lr_max,
    total_steps=total, pct_start, div_factor=div, final_div_factor=final_div,
    anneal_strategy=anneal, three_phase)`` for ``k < total``; **lrcore** holds the final value
    for ``k >= total - 1``.

    >>> lr = one_cycle(0.1, total=100)
    >>> round(lr(0), 6), round(lr(29), 6), round(lr(99), 9), round(lr(500), 9)
    (0.004, 0.1, 4e-07, 4e-07)
    """
    lr_max = checks.real("lr_max", lr_max, low=0, low_open=True)
    total = checks.integer("total", total, low=1)
    pct_start = checks.real("pct_start", pct_start, low=0, high=1, low_open=True, high_open=True)
    div = checks.real("div", div, low=0, low_open=True)
    final_div = checks.real("final_div", final_div, low=0, low_open=True)
    anneal = checks.choice("anneal", anneal, ("cos", "linear"))
    three_phase = checks.flag("three_phase", three_phase)
    if not math.isfinite(lr_max / div / final_div):  # ε_0 = ε_max/div, ε_min = ε_0/final_div
        raise ValueError(
            "div and final_div must keep lr_max/div and lr_max/div/final_div finite"
            f"; got lr_max={lr_max!r}, div={div!r}, final_div={final_div!r}"
        )
    ends = _one_cycle_ends(total, pct_start, three_phase)
    if ends[0] <= 0:  # torch would divide 0 by 0 at k = 0
        raise ValueError(
            "pct_start * total must be > 1 so that the warm-up phase lasts at least one step "
            f"(it ends at pct_start*total - 1 = {ends[0]!r}); got pct_start={pct_start!r}, "
            f"total={total}"
        )
    if three_phase and ends[2] <= ends[1]:  # the final phase would be empty
        raise ValueError(
            "with three_phase=True, pct_start must leave a final phase: "
            f"2*pct_start*total - 2 = {ends[1]!r} must be < total - 1 = {ends[2]}; "
            f"got pct_start={pct_start!r}, total={total}"
        )
    lr0, final = lr_max / div, lr_max / div / final_div  # ε_0 = ε_max/div, ε_min = ε_0/final_div
    interpolate = _anneal_cos if anneal == "cos" else _anneal_linear

    def lr(k):
        k = np.minimum(k, total - 1)  # lrcore holds the final value from k = total - 1
        if three_phase:
            e1, e2, e3 = ends
            up = interpolate(lr0, lr_max, k / e1)  # ε_0 -> ε_max on [0, e1]
            down = interpolate(lr_max, lr0, (k - e1) / (e2 - e1))  # ε_max -> ε_0 on [e1, e2]
            tail = interpolate(lr0, final, (k - e2) / (e3 - e2))  # ε_0 -> ε_min on [e2, e3]
            return np.where(k <= e1, up, np.where(k <= e2, down, tail))
        e1, e2 = ends
        up = interpolate(lr0, lr_max, k / e1)  # ε_0 -> ε_max on [0, e1]
        down = interpolate(lr_max, final, (k - e1) / (e2 - e1))  # ε_max -> ε_min on [e1, e2]
        return np.where(k <= e1, up, down)

    return Schedule(lr, "one_cycle", lr_max=lr_max, total=total, pct_start=pct_start, div=div,
                    final_div=final_div, anneal=anneal, three_phase=three_phase)


# --------------------------------------------------------------------------------------------
# Composition: warm-up and join
# --------------------------------------------------------------------------------------------

def warmup(schedule, *, steps, lr_start=0.0) -> Schedule:
    """Linear warm-up for ``steps`` steps, then ``schedule`` delayed by ``steps``.

    ``ε_k = ε_start + (s(0) - ε_start) k/W`` for ``k < W`` (W = ``steps``), then
    ``ε_k = s(k - W)``: continuous, ``ε_W = s(0)``.  ``lr_start`` (>= 0) is the first LR.
    ``warmup(cosine_decay(peak, until=until, lr_end=end), steps=W, lr_start=init)`` equals optax
    ``warmup_cosine_decay_schedule(init, peak, warmup_steps=W, decay_steps=W + until, end)``.

    >>> lr = warmup(cosine_decay(0.1, until=900), steps=100)
    >>> lr(0), round(lr(50), 6), round(lr(100), 6), round(lr(550), 6)
    (0.0, 0.05, 0.1, 0.05)
    >>> lr
    warmup(cosine_decay(lr0=0.1, until=900, lr_end=0.0), steps=100, lr_start=0.0)
    """
    schedule = checks.schedule("schedule", schedule)
    steps = checks.integer("steps", steps, low=1)
    lr_start = checks.real("lr_start", lr_start, low=0)
    lr_peak = float(_evaluate(schedule, np.zeros(1, np.int64), "schedule")[0])  # s(0)

    def lr(k):
        ramp = lr_start + (lr_peak - lr_start) * k / steps  # linear ramp to s(0)
        after = _evaluate(schedule, np.maximum(k - steps, 0), "schedule")  # s(k - W)
        return np.where(k < steps, ramp, after)

    return Schedule(lr, "warmup", schedule=schedule, steps=steps, lr_start=lr_start)


def join(schedules, boundaries) -> Schedule:
    """Chain schedules: schedule ``i + 1`` takes over at step ``boundaries[i]``, restarted there.

    ``ε_k = s_i(k - b_i)`` for ``b_i <= k < b_{i+1}`` (``b_0 = 0``); ``boundaries`` are strictly
    increasing positive integers, one fewer than ``schedules``.  Equals optax
    ``join_schedules(schedules, boundaries)``.

    >>> lr = join([constant(0.1), step_decay(0.05, factor=0.5, every=10)], [100])
    >>> lr(99), lr(100), round(lr(110), 6)
    (0.1, 0.05, 0.025)
    """
    if isinstance(schedules, (str, bytes)) or not isinstance(schedules, Sequence):
        raise checks.fail(TypeError, "schedules", "a non-empty list of schedules",
                          f"{schedules!r} ({type(schedules).__name__})")
    if len(schedules) == 0:
        raise checks.fail(ValueError, "schedules", "a non-empty list of schedules", [])
    schedules = tuple(checks.schedule(f"schedules[{i}]", s) for i, s in enumerate(schedules))
    boundaries = checks.increasing("boundaries", boundaries, low=1)
    if len(boundaries) != len(schedules) - 1:
        raise ValueError(
            f"boundaries must have len(schedules) - 1 = {len(schedules) - 1} entries"
            f"; got {len(boundaries)}: {list(boundaries)}"
        )
    starts = (0, *boundaries)  # b_i, the first step of each piece

    def lr(k):
        piece = np.searchsorted(boundaries, k, side="right")  # which schedule
        out = np.empty(k.shape)
        for i, (schedule, start) in enumerate(zip(schedules, starts)):
            mask = piece == i
            if mask.any():  # each schedule evaluated once, on its own steps
                out[mask] = _evaluate(schedule, k[mask] - start, f"schedules[{i}]")  # s_i(k-b_i)
        return out

    return Schedule(lr, "join", schedules=schedules, boundaries=boundaries)


# --------------------------------------------------------------------------------------------
# Ranges for the LR range test
# --------------------------------------------------------------------------------------------

def exponential_range(lr_start, lr_end, *, steps) -> Schedule:
    """Geometric sweep for the range test: ``ε_k = ε_start (ε_end/ε_start)^(k/(S-1))``.

    ``S = steps`` (>= 2) learning rates from ``lr_start`` (k = 0) to ``lr_end`` (k = S - 1),
    both hit exactly; ``lr_end`` is held after.  Requires ``0 < lr_start < lr_end``.
    Computed as the weighted geometric mean ``ε_start^(1-t) ε_end^t`` (t = k/(S-1)), whose
    factors lie between 1 and the ends: no overflow even when ``ε_end/ε_start`` exceeds the
    largest float (``exponential_range(1e-300, 1e10, steps=5)(2)`` is 1e-145).

    >>> lr = exponential_range(1e-5, 1.0, steps=6)
    >>> [round(lr(k), 6) for k in range(6)]
    [1e-05, 0.0001, 0.001, 0.01, 0.1, 1.0]
    """
    lr_start, lr_end, steps = _range_args(lr_start, lr_end, steps)
    last = steps - 1

    def lr(k):
        k = np.minimum(k, last)
        t = k / last  # t = k/(S-1)
        lr_k = lr_start ** (1 - t) * lr_end**t  # ε_k = ε_start^(1-t) ε_end^t
        return np.where(k == 0, lr_start, np.where(k == last, lr_end, lr_k))  # both ends exact

    return Schedule(lr, "exponential_range", lr_start=lr_start, lr_end=lr_end, steps=steps)


def linear_range(lr_start, lr_end, *, steps) -> Schedule:
    """Linear sweep for the range test: ``ε_k = ε_start + (ε_end - ε_start) k/(S-1)``.

    ``S = steps`` (>= 2) learning rates from ``lr_start`` (k = 0) to ``lr_end`` (k = S - 1),
    both hit exactly; ``lr_end`` is held after.  Requires ``0 < lr_start < lr_end``.

    >>> lr = linear_range(0.1, 1.0, steps=10)
    >>> lr(0), round(lr(4), 6), lr(9)
    (0.1, 0.5, 1.0)
    """
    lr_start, lr_end, steps = _range_args(lr_start, lr_end, steps)
    last = steps - 1

    def lr(k):
        k = np.minimum(k, last)
        lr_k = lr_start + (lr_end - lr_start) * (k / last)  # ε_start + (ε_end - ε_start) k/(S-1)
        return np.where(k == last, lr_end, lr_k)  # the last step is exactly ε_end

    return Schedule(lr, "linear_range", lr_start=lr_start, lr_end=lr_end, steps=steps)


def _range_args(lr_start, lr_end, steps):
    lr_start = checks.real("lr_start", lr_start, low=0, low_open=True)
    lr_end = checks.real("lr_end", lr_end, low=0, low_open=True)
    if lr_end <= lr_start:
        raise ValueError(
            f"lr_end must be > lr_start for a range; got lr_start={lr_start!r}, lr_end={lr_end!r}"
        )
    return lr_start, lr_end, checks.integer("steps", steps, low=2)
