r"""Two-dimensional test surfaces with analytic gradients, and gradient descent on them.

The chapter on cyclical learning rates uses these to show why a large (or periodically
increased) learning rate helps to leave a saddle point: near a saddle the gradient is small, so
steps of size ε_k ∇f are small too.

* :data:`saddle` -- f = x² − y² (the article's ``Saddle_point.png``).
* :data:`monkey_saddle` -- f = x³ − 3xy², a degenerate saddle (three valleys, zero Hessian).
* :data:`two_minima` -- f = (x² − 1)² + y², two minima (±1, 0) with a saddle at the origin.
* :data:`rosenbrock` -- f = (a − x)² + b (y − x²)², a = 1, b = 100: a curved narrow valley.

:func:`descend` runs noisy gradient descent

.. math:: θ_{k+1} = θ_k - ε_k \, (∇f(θ_k) + σ ξ_k), \qquad ξ_k \sim N(0, I),

for one start or many at once, and :func:`escape_step` measures when each trajectory leaves a
disc around the saddle.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import numpy as np

from . import checks

__all__ = ["Surface", "saddle", "monkey_saddle", "two_minima", "rosenbrock", "SURFACES",
           "Trajectory", "descend", "escape_step"]


class Surface:
    """A function of two variables with its analytic gradient.

    Attributes: ``name``; ``formula`` (LaTeX); ``critical_points``, a list of dicts
    ``{"point": (x, y), "kind": "saddle" | "minimum"}``; ``extent``, a suggested plotting window
    ``(x_min, x_max, y_min, y_max)`` (matplotlib's ``extent`` order). Methods ``f(x, y)`` and
    ``grad(x, y) -> (∂f/∂x, ∂f/∂y)`` work elementwise on scalars or broadcastable arrays.
    """

    __slots__ = ("name", "formula", "_f", "_grad", "_critical", "extent")

    def __init__(self, name: str, formula: str, f: Callable, grad: Callable, critical_points,
                 extent):
        self.name, self.formula, self._f, self._grad = name, formula, f, grad
        self._critical = tuple((tuple(map(float, p)), kind) for p, kind in critical_points)
        self.extent = tuple(float(e) for e in extent)

    def f(self, x, y):
        """The surface's value at ``(x, y)`` (arrays broadcast)."""
        return self._f(np.asarray(x, dtype=float), np.asarray(y, dtype=float))

    def grad(self, x, y):
        """The analytic gradient ``(∂f/∂x, ∂f/∂y)`` at ``(x, y)`` (arrays broadcast)."""
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        gx, gy = self._grad(x, y)
        shape = np.broadcast_shapes(x.shape, y.shape)
        return np.broadcast_to(gx, shape).copy(), np.broadcast_to(gy, shape).copy()

    @property
    def critical_points(self) -> list[dict]:
        return [{"point": p, "kind": kind} for p, kind in self._critical]

    def __repr__(self) -> str:
        return f"Surface({self.name!r}, f = {self.formula})"


saddle = Surface(
    "saddle", r"x^2 - y^2",
    lambda x, y: x**2 - y**2,
    lambda x, y: (2 * x, -2 * y),
    [((0, 0), "saddle")],
    (-2, 2, -2, 2),
)

monkey_saddle = Surface(
    "monkey_saddle", r"x^3 - 3 x y^2",
    lambda x, y: x**3 - 3 * x * y**2,
    lambda x, y: (3 * x**2 - 3 * y**2, -6 * x * y),
    [((0, 0), "saddle")],
    (-1.5, 1.5, -1.5, 1.5),
)

two_minima = Surface(
    "two_minima", r"(x^2 - 1)^2 + y^2",
    lambda x, y: (x**2 - 1) ** 2 + y**2,
    lambda x, y: (4 * x * (x**2 - 1), 2 * y),
    [((-1, 0), "minimum"), ((0, 0), "saddle"), ((1, 0), "minimum")],
    (-2, 2, -1.5, 1.5),
)

_A, _B = 1.0, 100.0
rosenbrock = Surface(
    "rosenbrock", r"(1 - x)^2 + 100 (y - x^2)^2",
    lambda x, y: (_A - x) ** 2 + _B * (y - x**2) ** 2,
    lambda x, y: (-2 * (_A - x) - 4 * _B * x * (y - x**2), 2 * _B * (y - x**2)),
    [((_A, _A**2), "minimum")],
    (-2, 2, -1, 3),
)

#: The surfaces by name.
SURFACES = {s.name: s for s in (saddle, monkey_saddle, two_minima, rosenbrock)}


@dataclass(frozen=True)
class Trajectory:
    """The result of :func:`descend`.

    * ``points``: ``(steps + 1, 2)`` for one start, ``(steps + 1, n, 2)`` for ``n`` starts;
      ``points[k]`` is θ_k (``points[0]`` the start).
    * ``values``: f(θ_k), shape ``(steps + 1,)`` or ``(steps + 1, n)``.
    * ``lr``: ε_k used for step k → k + 1, shape ``(steps,)``.
    * ``diverged_at``: the first k at which θ_k left the box ``max(|x|, |y|) <= bound`` or was
      not finite, ``-1`` if never (an int for one start, an int array ``(n,)`` for many). From
      that k on, the trajectory's points and values are NaN (it is frozen); earlier points are
      untouched. ``diverged`` is ``diverged_at >= 0``.
    * ``surface``, ``noise``, ``seed``, ``bound``: the inputs.
    """

    points: np.ndarray
    values: np.ndarray
    lr: np.ndarray
    diverged_at: int | np.ndarray
    surface: str
    noise: float
    seed: int
    bound: float

    @property
    def diverged(self):
        return self.diverged_at >= 0

    @property
    def steps(self) -> int:
        return len(self.lr)




def _lr_per_step(lr, steps: int) -> np.ndarray:
    """ε_0 … ε_{steps-1} from a constant ε > 0 or a schedule ``lr(k)`` (values >= 0)."""
    if not callable(lr):
        return np.full(steps, checks.real("lr", lr, low=0, low_open=True))
    return checks.per_step("lr", lr, steps, low=0.0, high=math.inf, high_open=True)


def descend(surface: Surface, start, *, lr, steps: int, noise: float = 0.0, seed: int = 0,
            bound: float = 1e6) -> Trajectory:
    """Gradient descent on ``surface``: θ_{k+1} = θ_k − ε_k (∇f(θ_k) + σ ξ_k), k = 0 … steps − 1.

    * ``start``: shape ``(2,)`` for one trajectory or ``(n, 2)`` for ``n`` trajectories computed
      together (one array operation per step for all of them).
    * ``lr``: a constant ε > 0, or a schedule ``lr(k)`` (any callable of the step). It is
      evaluated once as ``lr(np.arange(steps))`` when that returns ``steps`` values (lrcore's
      schedules do), else step by step as ``lr(k)`` with Python ints.
    * ``noise``: σ ≥ 0, the standard deviation of the gradient noise; ``ξ_k ~ N(0, I)`` comes
      from ``np.random.default_rng(seed)``, one ``(n, 2)`` draw per step (trajectory i of a batch
      therefore sees different noise than a single run from the same seed; with ``noise=0`` a
      batch equals its trajectories run one by one).
    * ``bound``: a trajectory whose θ leaves ``max(|x|, |y|) <= bound`` or stops being finite is
      recorded in ``diverged_at`` and frozen (NaN from then on) -- no RuntimeWarning, no crash;
      x² − y² is unbounded below, so escaping trajectories do diverge.

    On x² − y², ``y_k = (1 + 2ε)^k y_0`` while ``x_k = (1 − 2ε)^k x_0`` shrinks, so a start at
    distance ``y_0`` from the ridge escapes a disc of radius R after about ``ln(R/|y_0|) / ln(1 + 2ε)``
    steps -- the larger ε, the faster:

    >>> t = descend(saddle, [0.5, 1e-3], lr=0.1, steps=60)
    >>> t.points.shape, escape_step(t, radius=1.0)
    ((61, 2), 38)
    >>> print(f"{math.log(1 / 1e-3) / math.log(1.2):.1f}")
    37.9
    >>> many = descend(saddle, [[0.5, 1e-3], [0.5, 1e-6]],
    ...                lr=lambda k: 0.1 + 0.0 * k, steps=100)
    >>> escape_step(many, radius=1.0).tolist(), many.diverged.tolist()
    ([38, 76], [False, False])
    """
    if not isinstance(surface, Surface):
        raise TypeError(f"surface must be a lrcore.surfaces.Surface; got {type(surface).__name__}")
    steps = checks.integer("steps", steps, low=1)
    noise = checks.real("noise", noise, low=0)
    bound = checks.real("bound", bound, low=0, low_open=True)
    seed = checks.seed("seed", seed)
    try:
        theta0 = np.array(start, dtype=float)
    except (TypeError, ValueError):
        raise TypeError(f"start must be an array of shape (2,) or (n, 2); got {start!r}") from None
    except OverflowError:  # an int beyond the float range
        raise ValueError("start must be finite; got an int beyond the float range") from None
    if theta0.shape != (2,) and (theta0.ndim != 2 or theta0.shape[1] != 2 or len(theta0) == 0):
        raise ValueError(f"start must have shape (2,) or (n, 2) with n >= 1; got shape {theta0.shape}")
    if not np.isfinite(theta0).all():
        raise ValueError("start must be finite")
    lrs = _lr_per_step(lr, steps)
    rng = np.random.default_rng(seed)

    single = theta0.ndim == 1
    theta = np.atleast_2d(theta0)                                  # (n, 2)
    n = len(theta)
    points = np.empty((steps + 1, n, 2))
    points[0] = theta
    diverged_at = np.full(n, -1)
    outside = np.abs(theta).max(axis=1) > bound
    diverged_at[outside] = 0
    theta[outside] = np.nan
    points[0, outside] = np.nan
    with np.errstate(all="ignore"):
        for k in range(steps):
            gx, gy = surface.grad(theta[:, 0], theta[:, 1])
            g = np.stack([gx, gy], axis=1)
            if noise > 0:
                g = g + noise * rng.standard_normal((n, 2))
            theta = theta - lrs[k] * g                             # θ_{k+1} = θ_k − ε_k (∇f + σξ_k)
            new = (diverged_at < 0) & ~(np.abs(theta).max(axis=1) <= bound)  # NaN counts as out
            diverged_at[new] = k + 1
            theta[diverged_at >= 0] = np.nan                       # frozen
            points[k + 1] = theta
        values = surface.f(points[..., 0], points[..., 1])
    if single:
        return Trajectory(points[:, 0], values[:, 0], lrs, int(diverged_at[0]), surface.name,
                          noise, seed, bound)
    return Trajectory(points, values, lrs, diverged_at, surface.name, noise, seed, bound)


def escape_step(trajectory, *, radius: float, center=(0.0, 0.0)):
    """First step k with ‖θ_k − center‖ > ``radius``, per trajectory; ``-1`` if
    it never escapes.

    ``trajectory``: a :class:`Trajectory`, or its ``points`` array ``(T, 2)`` /
    ``(T, n, 2)``. Returns an int for one trajectory and an int array ``(n,)``
    for many. A diverged trajectory (NaN points) counts as escaped at the
    latest from the step it diverged. A start already outside the disc gives 0.

    >>> escape_step(np.array([[0.0, 0.0], [0.5, 0.0], [2.0, 0.0]]), radius=1.0)
    2
    >>> escape_step(np.zeros((5, 3, 2)), radius=1.0).tolist()
    [-1, -1, -1]
    """
    try:
        points = (trajectory.points if isinstance(trajectory, Trajectory)
                  else np.asarray(trajectory, dtype=float))
    except (TypeError, ValueError, OverflowError):
        raise TypeError("trajectory must be a Trajectory or an array of points"
                        " of shape (T, 2) or (T, n, 2); "
                        f"got {type(trajectory).__name__}") from None
    if points.ndim not in (2, 3) or points.shape[-1] != 2 or len(points) == 0:
        raise ValueError("trajectory points must have shape (T, 2) or "
                         f"(T, n, 2) with T >= 1; got {points.shape}")
    radius = checks.real("radius", radius, low=0, low_open=True)
    try:
        center = np.asarray(center, dtype=float)
    except (TypeError, ValueError, OverflowError):
        raise TypeError("center must be a finite point of shape (2,); "
                        f"got {center!r}") from None
    if center.shape != (2,) or not np.isfinite(center).all():
        raise ValueError("center must be a finite point of shape (2,); "
                         f"got {center!r}")
    with np.errstate(invalid="ignore"):
        # ‖θ_k − center‖ > radius, a NaN point counting as outside
        out = ~(np.hypot(*np.moveaxis(points - center, -1, 0)) <= radius)
    first = np.where(out.any(axis=0), out.argmax(axis=0), -1)
    return int(first) if points.ndim == 2 else first
