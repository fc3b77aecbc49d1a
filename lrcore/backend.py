"""The array backend: NumPy everywhere, CuPy on a GPU when asked for (or when ``auto`` finds one).

This is the only module of :mod:`lrcore` that imports CuPy. Everything else receives the array
module ``xp`` (``numpy`` or ``cupy``) from :func:`get_backend` and writes ``xp.exp(...)``,
``xp.zeros(...)``; results meant for plotting (the fields of a ``History``) go through
:func:`to_numpy`.

The choice, in order: the ``name`` argument of :func:`get_backend`, else the environment variable
``LRCORE_BACKEND`` (``numpy``, ``cupy`` or ``auto``), else ``auto``: CuPy when
:func:`cupy_usable`, NumPy otherwise. Asking for ``cupy`` where it cannot run raises
``RuntimeError`` rather than silently falling back. A model's parameters and activations are
float64 (:data:`DEFAULT_DTYPE`) unless it is built with ``dtype=np.float32``: see
:class:`lrcore.models.DenseModel` for why.

>>> import numpy as np
>>> get_backend("numpy") is np
True
>>> to_numpy([1.0, 2.0])
array([1., 2.])
"""
from __future__ import annotations

import os
from functools import lru_cache

import numpy as np

__all__ = ["BACKENDS", "DEFAULT_DTYPE", "cupy_usable", "get_backend", "to_numpy"]

#: the accepted backend names (argument of :func:`get_backend` and ``LRCORE_BACKEND``)
BACKENDS = ("numpy", "cupy", "auto")
#: the floating-point dtype of a model's parameters and activations unless it asks otherwise
DEFAULT_DTYPE = np.float64


def _import_cupy():
    """The ``cupy`` module, or ``None`` when it is not installed or fails to import."""
    try:
        import cupy
    except Exception:  # ImportError, or a broken install raising anything at import time
        return None
    return cupy


@lru_cache(maxsize=1)
def cupy_usable() -> bool:
    """True when CuPy imports **and** a GPU can run a kernel (checked once per process).

    Without a driver ``import cupy`` succeeds and the first device call raises
    ``CUDARuntimeError``; so this allocates a tiny array and runs a kernel, and catches whatever
    the missing device raises.
    """
    cupy = _import_cupy()
    if cupy is None:
        return False
    try:
        if cupy.cuda.runtime.getDeviceCount() < 1:
            return False
        a = cupy.arange(4, dtype=cupy.float32)
        return float((a * a).sum()) == 14.0  # an allocation, a kernel and a copy back
    except Exception:  # CUDARuntimeError, CompileException, out of memory...: not usable
        return False


def get_backend(name: str | None = None):
    """The array module to compute with: ``numpy`` or ``cupy``.

    ``name`` is ``"numpy"``, ``"cupy"``, ``"auto"`` or ``None`` (read ``LRCORE_BACKEND``,
    default ``"auto"``). The module itself is accepted too, so that ``backend=np`` works.

    >>> get_backend("numpy").__name__
    'numpy'
    >>> get_backend("torch")  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    ValueError: backend must be one of 'numpy', 'cupy', 'auto' (or None for
    LRCORE_BACKEND); got 'torch'
    """
    if name is np:
        return np
    if name is not None and getattr(name, "__name__", None) == "cupy":
        name = "cupy"
    source = "backend"
    if name is None:
        name, source = os.environ.get("LRCORE_BACKEND", "auto"), "LRCORE_BACKEND"
    if not isinstance(name, str) or name.strip().lower() not in BACKENDS:
        accepted = ", ".join(repr(b) for b in BACKENDS)
        raise ValueError(f"{source} must be one of {accepted} (or None for LRCORE_BACKEND); "
                         f"got {name!r}")
    name = name.strip().lower()
    if name == "numpy" or (name == "auto" and not cupy_usable()):
        return np
    if not cupy_usable():
        reason = ("CuPy is not installed" if _import_cupy() is None
                  else "CuPy is installed but no usable GPU was found")
        raise RuntimeError(f"{source}='cupy' was requested but {reason}; "
                           f"use 'numpy' or 'auto'")
    return _import_cupy()


def to_numpy(a) -> np.ndarray:
    """``a`` as a NumPy array (copied from the GPU for a CuPy array; a no-op for NumPy)."""
    if type(a).__module__.startswith("cupy"):
        return a.get()
    return np.asarray(a)
