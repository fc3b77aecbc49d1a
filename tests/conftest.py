"""Shared pytest configuration: every test runs on NumPy unless it is marked `gpu`; the `gpu`
marker skips unless CuPy can really run."""
import os
import shutil

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


#: under CI a missing prerequisite (Chromium, Playwright, the built book) fails instead of skipping
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing_prerequisite(reason):
    if IN_CI:
        pytest.fail(reason + " (CI=true: a missing prerequisite is a failure, not a skip)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium driven by Playwright's Python package (never `playwright install`)."""
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        missing_prerequisite("Debian's chromium is not installed (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield b
        b.close()
