"""lrcore.backend: the NumPy/CuPy choice, and CuPy confined to backend.py."""
import re
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from lrcore import backend
from lrcore.backend import cupy_usable, get_backend, to_numpy

LRCORE = Path(backend.__file__).parent


@pytest.fixture
def fresh_probe():
    """cupy_usable() caches its answer; clear it around a test that fakes CuPy."""
    backend.cupy_usable.cache_clear()
    yield
    backend.cupy_usable.cache_clear()


def test_numpy_by_name_env_and_module(monkeypatch):
    assert get_backend("numpy") is np
    assert get_backend(" NumPy ") is np
    assert get_backend(np) is np
    monkeypatch.setenv("LRCORE_BACKEND", "numpy")
    assert get_backend() is np
    assert get_backend(None) is np


def test_auto_is_numpy_without_a_gpu(monkeypatch):
    if cupy_usable():
        pytest.skip("a GPU is usable here: auto means CuPy")
    monkeypatch.delenv("LRCORE_BACKEND", raising=False)
    assert get_backend() is np
    assert get_backend("auto") is np


def test_unknown_names_list_the_accepted_values(monkeypatch):
    with pytest.raises(ValueError, match=r"backend must be one of 'numpy', 'cupy', 'auto'.*'torch'"):
        get_backend("torch")
    with pytest.raises(ValueError, match="backend must be one of"):
        get_backend(3)
    monkeypatch.setenv("LRCORE_BACKEND", "jax")
    with pytest.raises(ValueError, match=r"LRCORE_BACKEND must be one of .*'jax'"):
        get_backend()


def test_cupy_where_it_cannot_run_is_a_clear_error(monkeypatch):
    if cupy_usable():
        pytest.skip("CuPy runs here")
    with pytest.raises(RuntimeError, match="backend='cupy' was requested but CuPy"):
        get_backend("cupy")
    monkeypatch.setenv("LRCORE_BACKEND", "cupy")
    with pytest.raises(RuntimeError, match="LRCORE_BACKEND='cupy'"):
        get_backend()


def test_cupy_usable_is_false_when_cupy_is_missing(monkeypatch, fresh_probe):
    monkeypatch.setitem(sys.modules, "cupy", None)  # `import cupy` raises ImportError
    assert cupy_usable() is False


def test_cupy_usable_is_false_without_a_driver(monkeypatch, fresh_probe):
    """``import cupy`` works without a driver; the first device call raises: caught."""
    class CUDARuntimeError(RuntimeError):
        pass

    def no_driver():
        raise CUDARuntimeError("cudaErrorInsufficientDriver")

    fake = types.ModuleType("cupy")
    fake.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=no_driver))
    monkeypatch.setitem(sys.modules, "cupy", fake)
    assert cupy_usable() is False


def test_cupy_usable_is_false_with_zero_devices(monkeypatch, fresh_probe):
    fake = types.ModuleType("cupy")
    fake.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=lambda: 0))
    monkeypatch.setitem(sys.modules, "cupy", fake)
    assert cupy_usable() is False


def test_cupy_usable_is_false_when_a_kernel_fails(monkeypatch, fresh_probe):
    fake = types.ModuleType("cupy")
    fake.cuda = types.SimpleNamespace(runtime=types.SimpleNamespace(getDeviceCount=lambda: 1))
    fake.float32 = np.float32

    def arange(*args, **kwargs):
        raise RuntimeError("CUDA_ERROR_NO_BINARY_FOR_GPU")

    fake.arange = arange
    monkeypatch.setitem(sys.modules, "cupy", fake)
    assert cupy_usable() is False


def test_to_numpy():
    a = np.arange(3.0)
    assert to_numpy(a) is a
    out = to_numpy([1, 2])
    assert isinstance(out, np.ndarray) and out.tolist() == [1, 2]


def test_only_backend_imports_cupy():
    offenders = []
    for path in LRCORE.glob("*.py"):
        if path.name == "backend.py":
            continue
        text = path.read_text()
        if re.search(r"^\s*(import cupy|from cupy)", text, flags=re.M):
            offenders.append(path.name)
    assert offenders == []
