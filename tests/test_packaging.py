"""The installation files agree with each other: environment.yml lists what pyproject.toml lists."""
import re
import sys
from pathlib import Path

import pytest
import yaml

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    tomllib = pytest.importorskip("tomli")

ROOT = Path(__file__).resolve().parents[1]


def _norm(req: str) -> str:
    """Canonical form of a requirement: lower-case name with '-', no spaces."""
    req = req.replace(" ", "")
    name, rest = re.match(r"([A-Za-z0-9_.\-]+)(.*)", req).groups()
    return re.sub(r"[-_.]+", "-", name).lower() + rest


def _pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    project = _pyproject()
    extras = project["optional-dependencies"]
    wanted = {_norm(r) for r in project["dependencies"] + extras["book"] + extras["test"]}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    listed = {_norm(r) for r in pip if not r.startswith("-e")}
    assert listed == wanted, f"only in environment.yml: {listed - wanted}; only in pyproject: {wanted - listed}"
    assert "-e ." in pip, "environment.yml must install lrcore itself"


def test_python_versions_agree():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    py = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python"))
    assert ">=3.10" in py and _pyproject()["requires-python"] == ">=3.10"


def test_core_needs_only_numpy():
    deps = [_norm(r) for r in _pyproject()["dependencies"]]
    assert [d.split(">")[0].split("=")[0] for d in deps] == ["numpy"]


def test_book_and_test_pin_what_stored_outputs_depend_on():
    extras = _pyproject()["optional-dependencies"]
    for extra in ("book", "test"):
        pins = {_norm(r) for r in extras[extra]}
        assert any(p.startswith("numpy==") for p in pins), extra
        assert any(p.startswith("matplotlib==") for p in pins), extra


def test_jupyter_book_is_pinned_below_2():
    book = [_norm(r) for r in _pyproject()["optional-dependencies"]["book"]]
    assert any(r.startswith("jupyter-book") and "<2" in r for r in book)


def test_lab_extra_pins_jupyterlab_and_jupyterlab_myst_by_major_version():
    lab = {_norm(r).split(">")[0]: _norm(r) for r in _pyproject()["optional-dependencies"]["lab"]}
    assert set(lab) == {"jupyterlab", "jupyterlab-myst"}
    assert "<5" in lab["jupyterlab"] and "<3" in lab["jupyterlab-myst"]


def test_make_lab_and_test_browser_are_wired():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^lab:.*\n(\t.*\n)*\t.*tools/reading_copies.py|^lab-copies:.*\n\t.*reading_copies.py",
                     makefile, re.M), "make lab must write the reading copies"
    assert re.search(r'^\$\(LAB_STAMP\):.*\n\t.*pip install .*\[[^]]*lab', makefile, re.M)
    assert re.search(r"^test-browser:.*\n\t.*tests/test_lab.py", makefile, re.M)
    assert "make test-browser" in (ROOT / ".ci" / "run").read_text()
