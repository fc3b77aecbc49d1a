r"""The sharpness of a loss: the largest eigenvalue :math:`λ_{max}` of its Hessian.

On a quadratic, gradient descent at a rate :math:`ε` is stable only while
:math:`ε λ_{max} < 2`; chapters 1 and 6 measure :math:`λ_{max}` of a network's training loss to
see how far that rule carries over. The Hessian itself (``n_params`` squared numbers) is never
formed: the Lanczos method needs only products :math:`Hv`, and each is a central difference of
two gradients,

.. math:: H v \approx \frac{∇L(θ + h v) - ∇L(θ - h v)}{2 h}.

>>> from lrcore.data import make_least_squares
>>> from lrcore.models import LinearRegression
>>> data = make_least_squares(n_train=200, n_features=5, lambda_max=10.0,
...                           seed=0)
>>> model = LinearRegression(5)  # the Hessian is X^T X / n: λ_max = 10 exactly
>>> print(f"{sharpness(model, data.X_train, data.y_train):.6f}")
10.000000
"""
from __future__ import annotations

import numpy as np

from . import checks

__all__ = ["sharpness"]


def sharpness(model, X, y, *, iters: int = 20, h: float = 1e-4,
              seed: int = 0) -> float:
    r""":math:`λ_{max}`, the largest eigenvalue of the Hessian of ``model``'s
    mean loss on ``(X, y)`` at its current parameters, by ``iters`` steps of
    the Lanczos method.

    Lanczos builds an orthonormal basis :math:`v_1, v_2, \dots` of the Krylov
    space of a random start (drawn from ``seed``), in which :math:`H` is a
    tridiagonal matrix :math:`T`; the largest eigenvalue of :math:`T` converges
    to :math:`λ_{max}` in a few tens of steps. Each step costs two gradients
    (the product :math:`Hv` by a central difference of step ``h``); every new
    vector is re-orthogonalised against all earlier ones, which keeps the basis
    orthogonal in floating point, and the iteration stops early when the Krylov
    space is exhausted (fewer parameters than ``iters``). ``model`` is not
    modified: the gradients are taken on a copy.
    """
    iters = checks.integer("iters", iters, low=1)
    h = checks.real("h", h, low=0, low_open=True)
    seed = checks.seed("seed", seed)
    trial = model.copy()
    xp, theta = trial.xp, [t.copy() for t in trial.theta]
    cuts = [int(c) for c in np.cumsum([t.size for t in theta])[:-1]]

    def grad(v):                               # ∇L at θ + v, flattened like θ
        for t, t0, dv in zip(trial.theta, theta, xp.split(v, cuts)):
            t[...] = t0 + dv.reshape(t0.shape)
        g = trial.loss_and_grad(X, y)[1]
        return xp.concatenate([gi.ravel() for gi in g])

    size = sum(int(t.size) for t in theta)
    v = xp.asarray(np.random.default_rng(seed).standard_normal(size),
                   dtype=theta[0].dtype)
    V, alpha, beta = [v / xp.linalg.norm(v)], [], []
    for _ in range(iters):
        w = (grad(h * V[-1]) - grad(-h * V[-1])) / (2 * h)      # H v
        alpha.append(float(V[-1] @ w))
        Q = xp.stack(V)
        w -= Q.T @ (Q @ w)                     # orthogonal to every earlier v
        b = float(xp.linalg.norm(w))
        # stop when the Krylov space is exhausted (the rest is round-off)
        if b < 1e-6 * max(abs(a) for a in alpha):
            break
        beta.append(b)
        V.append(w / b)
    off = beta[:len(alpha) - 1]                # T: H restricted to span(V)
    T = np.diag(alpha) + np.diag(off, 1) + np.diag(off, -1)
    return float(np.linalg.eigvalsh(T).max())
