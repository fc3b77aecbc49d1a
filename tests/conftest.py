"""Shared pytest configuration: every test runs on NumPy unless it is marked `gpu`; the `gpu`
marker skips unless CuPy can really run."""
import os

import pytest

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def _gpu_usable() -> bool:
    try:
        from lrcore import backend
    except ImportError:  # backend not importable: no GPU path at all
        return False
    return backend.cupy_usable()


def pytest_collection_modifyitems(config, items):
    if any("gpu" in item.keywords for item in items) and not _gpu_usable():
        skip = pytest.mark.skip(reason="CuPy with a usable GPU is not available")
        for item in items:
            if "gpu" in item.keywords:
                item.add_marker(skip)

# The suite (doctests included) runs on NumPy unless a test asks for CuPy explicitly (tests/test_gpu.py).
os.environ.setdefault("LRCORE_BACKEND", "numpy")


@pytest.fixture(autouse=True)
def numpy_backend(request, monkeypatch):
    """Tests are about NumPy (tests/test_gpu.py, marked `gpu`, compares CuPy): models default to it,
    whatever LRCORE_BACKEND the caller exported."""
    if request.node.get_closest_marker("gpu") is None:
        monkeypatch.setenv("LRCORE_BACKEND", "numpy")
