"""``ReduceLROnPlateau``: the one stateful schedule, the one that reads the loss.

Every other schedule in :mod:`lrcore.schedules` is a pure function of the step ``k``; this one
decides the learning rate of the next epoch from the metrics seen so far (a validation loss,
usually), so it is an object with a state: ``lr``, the best metric, the count of epochs without
an improvement and of the cooldown still to run.  ``train`` and ``sweep`` take it as
``plateau=`` and step it once per epoch; it checks its arguments with :mod:`lrcore.checks`, as the
schedules, so a bad one raises the same error with the same wording.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from . import checks

__all__ = ["ReduceLROnPlateau"]


class ReduceLROnPlateau:
    """Multiply the learning rate by α = ``factor`` when a metric stops improving.

    ``step(metric)`` reads the metric of the epoch just finished and returns the LR for the
    next one.  A metric is an improvement when ``metric < best - |best| θ`` (``"rel"``; θ =
    ``threshold``) or ``metric < best - θ`` (``"abs"``), mirrored for ``mode="max"``.  After the
    ``(patience + 1)``-th consecutive metric that is not an improvement,
    ``ε ← max(α ε, ε_min)`` (skipped when the change is at most ``eps``), the bad count resets
    and the next ``cooldown`` metrics are ignored.

    For positive finite metrics the LR sequence equals torch ``ReduceLROnPlateau(opt, mode,
    factor, patience, threshold, threshold_mode, cooldown, min_lr=lr_min, eps)`` exactly.
    **lrcore** departs from torch in two ways: the relative threshold uses ``|best|``, so negative
    metrics work (torch issues 47513, 38622); a NaN or infinite metric is never an improvement
    and never becomes ``best``; ``n_nonfinite`` counts them.  The first finite metric is always
    an improvement.

    ``state_dict()`` is plain JSON-serialisable data (``best`` is ``None`` until a finite metric
    arrives); ``load_state_dict`` restores hyper-parameters and state, so the restored object
    continues exactly as the original.

    >>> plateau = ReduceLROnPlateau(0.1, factor=0.5, patience=1)
    >>> [plateau.step(loss) for loss in [1.0, 0.9, 0.95, 0.93, 0.92]]
    [0.1, 0.1, 0.1, 0.05, 0.05]
    >>> plateau.best, plateau.num_bad_epochs
    (0.9, 1)
    """

    _fields = ("lr0", "factor", "patience", "threshold", "threshold_mode", "cooldown",
               "lr_min", "mode", "eps")
    _state = ("lr", "best", "num_bad_epochs", "cooldown_counter", "n_nonfinite", "last_epoch")

    def __init__(self, lr0, *, factor=0.1, patience=10, threshold=1e-4, threshold_mode="rel",
                 cooldown=0, lr_min=0.0, mode="min", eps=1e-8):
        self.lr0 = checks.real("lr0", lr0, low=0, low_open=True)
        self.factor = checks.real("factor", factor, low=0, high=1, low_open=True, high_open=True)
        self.patience = checks.integer("patience", patience, low=0)
        self.threshold = checks.real("threshold", threshold, low=0)
        self.threshold_mode = checks.choice("threshold_mode", threshold_mode, ("rel", "abs"))
        self.cooldown = checks.integer("cooldown", cooldown, low=0)
        self.lr_min = checks.real("lr_min", lr_min, low=0)
        self.mode = checks.choice("mode", mode, ("min", "max"))
        self.eps = checks.real("eps", eps, low=0)
        self.lr = self.lr0  # ε, the LR in force
        self.best = math.inf if self.mode == "min" else -math.inf  # no finite metric yet
        self.num_bad_epochs = 0  # consecutive metrics that were not an improvement
        self.cooldown_counter = 0  # metrics still to ignore after a reduction
        self.n_nonfinite = 0  # NaN/inf metrics seen
        self.last_epoch = 0  # metrics seen

    def __repr__(self) -> str:
        args = ", ".join(f"{n}={getattr(self, n)!r}" for n in self._fields)
        return f"ReduceLROnPlateau({args})"

    def _is_better(self, metric: float) -> bool:
        best, threshold = self.best, self.threshold
        # the first finite metric is always an improvement (no inf - inf)
        if math.isinf(best):
            return True
        if self.threshold_mode == "abs":
            if self.mode == "min":
                return metric < best - threshold
            return metric > best + threshold
        # rel: best ∓ |best| θ, written as torch's best * (1 ∓ θ) if best >= 0
        if self.mode == "min":
            scale = 1.0 - threshold if best >= 0 else 1.0 + threshold
            return metric < best * scale
        scale = threshold + 1.0 if best >= 0 else 1.0 - threshold
        return metric > best * scale

    def step(self, metric) -> float:
        """Record the metric of the epoch just finished; return the LR for the
        next epoch."""
        if isinstance(metric, (str, bytes, bool, np.bool_)):
            raise checks.fail(TypeError, "metric", "a real number",
                              repr(metric))
        try:
            current = float(metric)
        except (TypeError, ValueError):
            got = f"{metric!r} ({type(metric).__name__})"
            raise checks.fail(TypeError, "metric", "a real number",
                              got) from None
        except OverflowError:  # an int or Fraction too large for a float
            raise checks.fail(ValueError, "metric",
                              "a real number in the float range "
                              "(|metric| <= 1.8e308)",
                              "a number beyond the float range") from None
        self.last_epoch += 1
        if not math.isfinite(current):
            self.n_nonfinite += 1
            improved = False  # NaN/inf never improve and never become best
        else:
            improved = self._is_better(current)
        if improved:
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs in cooldown are ignored
        if self.num_bad_epochs > self.patience:
            # ε ← max(α ε, ε_min)
            new_lr = max(self.lr * self.factor, self.lr_min)
            if self.lr - new_lr > self.eps:
                self.lr = new_lr
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        return self.lr

    def state_dict(self) -> dict:
        """Hyper-parameters and state as plain JSON-serialisable data."""
        d = {name: getattr(self, name) for name in self._fields + self._state}
        if math.isinf(self.best):
            d["best"] = None  # JSON has no infinity: None means "no finite metric yet"
        return d

    def load_state_dict(self, state: dict) -> None:
        """Restore hyper-parameters and state from :meth:`state_dict` (after a JSON trip).

        Only a state that :meth:`step` can reach is accepted: a dict with exactly the keys of
        :meth:`state_dict`, valid hyper-parameters, and a state consistent with them
        (``cooldown_counter <= cooldown``, ``num_bad_epochs <= patience``...).  Otherwise
        nothing changes and the error names the offending key.
        """
        if not isinstance(state, Mapping):
            raise checks.fail(TypeError, "state", "a dict from state_dict()",
                              f"{state!r} ({type(state).__name__})")
        keys = self._fields + self._state
        missing = [n for n in keys if n not in state]
        if missing:
            raise ValueError(f"state is missing the keys {missing}")
        unknown = [n for n in state if n not in keys]
        if unknown:
            raise ValueError(f"state has unknown keys {unknown}; the keys are {list(keys)}")
        fresh = ReduceLROnPlateau(**{n: state[n] for n in self._fields})  # validates
        fresh.lr = checks.real("lr", state["lr"], low=0)
        if state["best"] is not None:
            fresh.best = checks.real("best", state["best"])
        for name in ("num_bad_epochs", "cooldown_counter", "n_nonfinite", "last_epoch"):
            setattr(fresh, name, checks.integer(name, state[name], low=0))
        fresh._check_reachable(state)
        self.__dict__.update(fresh.__dict__)  # all or nothing

    def _check_reachable(self, state) -> None:
        """Raise ValueError unless this (freshly loaded) state is one that step() can reach."""
        seen_finite = self.n_nonfinite < self.last_epoch  # best is set by the first finite one
        rules = [  # (key, holds, what it must be)
            ("num_bad_epochs", self.num_bad_epochs <= self.patience,
             f"<= patience = {self.patience}"),
            ("cooldown_counter", self.cooldown_counter <= self.cooldown,
             f"<= cooldown = {self.cooldown}"),
            ("n_nonfinite", self.n_nonfinite <= self.last_epoch,
             f"<= last_epoch = {self.last_epoch}"),
            ("lr", min(self.lr0, self.lr_min) <= self.lr <= self.lr0,
             f"in [min(lr0, lr_min), lr0] = [{min(self.lr0, self.lr_min)!r}, {self.lr0!r}]"),
            ("best", (state["best"] is not None) == seen_finite,
             "None exactly when no finite metric has been seen (n_nonfinite == last_epoch = "
             f"{self.last_epoch})"),
        ]
        for key, holds, rule in rules:
            if not holds:
                raise ValueError(
                    f"{key} must be {rule} in a state that step() can reach; got {state[key]!r}"
                )
