"""The perturbed passes of `make test` really perturb: `tools/simd_baseline.py` names the CPU
features NumPy dispatches to beyond its baseline, and with them disabled NumPy's `exp`, `log` and
`power` run their baseline code (whose results differ in the last bit on many CPUs)."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
TOOL = ROOT / "tools" / "simd_baseline.py"

try:  # NumPy >= 2.0
    from numpy._core._multiarray_umath import __cpu_baseline__, __cpu_features__
except ImportError:  # NumPy 1.x
    from numpy.core._multiarray_umath import __cpu_baseline__, __cpu_features__


def test_the_tool_names_found_features_beyond_the_baseline_only():
    env = {k: v for k, v in os.environ.items() if k != "NPY_DISABLE_CPU_FEATURES"}
    out = subprocess.run([sys.executable, str(TOOL)], capture_output=True, text=True, env=env,
                         check=True).stdout.split()
    assert not set(out) & set(__cpu_baseline__)       # NumPy refuses to disable a baseline one
    assert all(name in __cpu_features__ for name in out)


@pytest.mark.skipif(not os.environ.get("NPY_DISABLE_CPU_FEATURES"),
                    reason="only in the perturbed pass (make unit-baseline-simd)")
def test_the_perturbed_pass_runs_numpy_at_its_simd_baseline():
    introspect = pytest.importorskip("numpy.lib.introspect")
    info = introspect.opt_func_info(func_name="exp|log|power", signature="float64|float32")
    current = {(f, sig): v["current"] for f, sigs in info.items() for sig, v in sigs.items()}
    assert current, "NumPy reported no dispatched exp/log/power loops"
    off = {key: target for key, target in current.items() if not target.startswith("baseline")}
    assert not off, f"still dispatched beyond the baseline: {off}"
