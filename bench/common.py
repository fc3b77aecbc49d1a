"""What every benchmark shares: one thread, interleaved rounds, per-round ratios, the machine.

The method (see ``bench/README.md``):

* **One thread.** :func:`single_thread` caps every BLAS/OpenMP pool with threadpoolctl
  (``threadpool_limits(1)``) and, when PyTorch is loaded, ``torch.set_num_threads(1)``.
* **Interleaved rounds.** :func:`interleave` runs the compared implementations in the same
  process, one call each per round, the order reversed every other round, after a warm-up call
  of each. The garbage collector runs before every call and is disabled during it.
* **Ratios per round.** A shared, noisy machine slows whole stretches of time; two calls in the
  same round see about the same slowdown, so the ratio of their times is far steadier than either
  time. Every metric is the **median** of its per-round values, with their **range** (min-max).
* **Peak memory.** ``bench/run.py`` runs each benchmark in its own process, which reports its
  own peak resident set size at the end (:func:`peak_rss_mb`: Linux ``VmHWM``, see there why
  not ``ru_maxrss``) and, where it matters, ``tracemalloc`` peaks of NumPy allocations.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import gc
import json
import operator
import os
import platform
import resource
import statistics
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from anywhere: `python bench/run.py`
    sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

#: environment variables that change which BLAS kernel runs or how many threads it uses
BLAS_ENV = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
            "MKL_NUM_THREADS", "MKL_DEBUG_CPU_TYPE", "MKL_ENABLE_INSTRUCTIONS",
            "LRCORE_BACKEND", "CUDA_VISIBLE_DEVICES")


# ---------------------------------------------------------------------------------------------
# one thread
# ---------------------------------------------------------------------------------------------

@contextmanager
def single_thread():
    """Every BLAS/OpenMP pool limited to one thread (threadpoolctl), PyTorch too if imported."""
    from threadpoolctl import threadpool_limits
    torch = sys.modules.get("torch")
    old = torch.get_num_threads() if torch is not None else None
    if torch is not None:
        torch.set_num_threads(1)
    with threadpool_limits(limits=1):
        yield
    if torch is not None:
        torch.set_num_threads(old)


def blas_info() -> list[dict]:
    """threadpoolctl's view of the loaded BLAS/OpenMP libraries (kernel, version, threads)."""
    from threadpoolctl import threadpool_info
    keep = ("user_api", "internal_api", "prefix", "version", "architecture", "threading_layer",
            "num_threads", "filepath")
    return [{k: d.get(k) for k in keep if k in d} for d in threadpool_info()]


def numpy_blas() -> dict:
    """The BLAS NumPy itself calls (the first ``user_api == 'blas'`` library threadpoolctl sees)."""
    for d in blas_info():
        if d.get("user_api") == "blas" and "numpy" in (d.get("filepath") or ""):
            return d
    blas = [d for d in blas_info() if d.get("user_api") == "blas"]
    return blas[0] if blas else {}


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_flags() -> list[str]:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                flags = line.split(":", 1)[1].split()
                return sorted(f for f in flags if f.startswith(("avx", "fma", "sse4")))
    except OSError:
        pass
    return []


def machine_info() -> dict:
    """The machine, the libraries and the environment a result was measured with."""
    info = {
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "cpu_model": cpu_model(),
        "cpu_flags": cpu_flags(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "load_average_1_5_15": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "mem_total_gb": None,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "torch": None,
        "lrcore": None,
        "env": {k: os.environ.get(k) for k in BLAS_ENV},
        "numpy_blas": numpy_blas(),
    }
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["mem_total_gb"] = round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    try:
        import lrcore
        info["lrcore"] = lrcore.__version__
    except Exception:  # noqa: BLE001 -- the engine may be missing; the machine info still holds
        pass
    try:
        import torch
        info["torch"] = torch.__version__
        info["torch_blas"] = "mkl" if torch.backends.mkl.is_available() else "other"
        info["torch_cpu_capability"] = torch.backends.cpu.get_cpu_capability()
    except Exception:  # noqa: BLE001 -- torch is an optional extra
        pass
    return info


# ---------------------------------------------------------------------------------------------
# timing
# ---------------------------------------------------------------------------------------------

def _time_call(fn, sync=None) -> float:
    gc.collect()
    gc.disable()
    try:
        t0 = time.perf_counter()
        fn()
        if sync is not None:
            sync()
        return time.perf_counter() - t0
    finally:
        gc.enable()


def interleave(fns: dict, *, rounds: int, warmup: int = 1, sync=None) -> dict[str, list[float]]:
    """Seconds per call of each ``fns[name]()``, interleaved in ``rounds``.

    One call of each per round; the order is reversed every other round, so no implementation
    always runs first (or right after a particular other). ``warmup`` untimed calls of each come
    first. ``sync`` (e.g. a GPU synchronize) is called inside the timed region after each call.
    """
    names = list(fns)
    for _ in range(warmup):
        for name in names:
            fns[name]()
        if sync is not None:
            sync()
    times = {name: [] for name in names}
    for r in range(rounds):
        order = names if r % 2 == 0 else names[::-1]
        for name in order:
            times[name].append(_time_call(fns[name], sync))
    return times


def stats(values) -> dict:
    """Median, min, max and the count of a list of per-round values."""
    v = [float(x) for x in values]
    return {"median": statistics.median(v), "min": min(v), "max": max(v), "n": len(v)}


def ratios(num: list[float], den: list[float]) -> list[float]:
    """Per-round ratios ``num[r] / den[r]``."""
    return [a / b for a, b in zip(num, den, strict=True)]


_OPS = {"<=": operator.le, "<": operator.lt, ">=": operator.ge, ">": operator.gt}


def metric(key: str, label: str, values, *, unit: str, target: tuple[str, float] | None = None,
           note: str = "") -> dict:
    """A reported metric: median/min/max over rounds and, with a target ``(op, value)``, pass/fail.

    ``op`` is ``"<="``, ``"<"``, ``">="`` or ``">"``; the median is what is compared.
    """
    m = {"key": key, "label": label, "unit": unit, **stats(values),
         "values": [float(x) for x in values]}
    if target is not None:
        op, value = target
        ok = _OPS[op](m["median"], value)
        m.update(target={"op": op, "value": value}, passed=bool(ok))
    else:
        m.update(target=None, passed=None)
    if note:
        m["note"] = note
    return m


def _proc_status_mb(field: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024   # kB
    except OSError:
        pass
    return None


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MiB.

    Linux: ``VmHWM`` of ``/proc/self/status``, the high-water mark of this process image's own
    memory. Not ``ru_maxrss``: on Linux that survives ``exec``, so a process started by a big
    parent reports at least the parent's RSS at the time of the fork (measured: a child of a
    400 MB parent reports 407 MB with ``ru_maxrss`` and 11 MB with ``VmHWM``).
    Elsewhere ``ru_maxrss``.
    """
    hwm = _proc_status_mb("VmHWM")
    if hwm is not None:
        return hwm
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (1024 if sys.platform != "darwin" else 2**20)


def rss_mb() -> float | None:
    """This process's current resident set size in MiB (Linux ``VmRSS``; else ``None``)."""
    return _proc_status_mb("VmRSS")


def array_backend():
    """The array module lrcore computes with (``LRCORE_BACKEND``) and a function that waits for it."""
    from lrcore.backend import get_backend
    xp = get_backend()
    if xp.__name__ == "cupy":
        return xp, xp.cuda.Device().synchronize
    return xp, None


# ---------------------------------------------------------------------------------------------
# the command line every benchmark module shares
# ---------------------------------------------------------------------------------------------

def main(name: str, run) -> None:
    """``python bench/NAME.py [--quick] [--out FILE]``: run one benchmark on one thread, write JSON."""
    parser = argparse.ArgumentParser(description=f"benchmark {name} (see bench/README.md)")
    parser.add_argument("--quick", action="store_true", help="a short smoke run (few rounds)")
    parser.add_argument("--out", type=Path, help="write the result as JSON to this file")
    args = parser.parse_args()
    t0 = time.perf_counter()
    with single_thread():
        result = run(quick=args.quick)
        result.setdefault("info", {})["blas_during_run"] = blas_info()
    result["name"] = name
    result["wall_s"] = time.perf_counter() - t0
    result["self_peak_rss_mb"] = peak_rss_mb()
    text = json.dumps(result, indent=1)
    if args.out:
        args.out.write_text(text)
    else:
        for m in result["metrics"]:
            print(format_metric(m))


def format_metric(m: dict) -> str:
    t = m.get("target")
    tgt = f"{t['op']} {t['value']:g}" if t else "-"
    verdict = {True: "PASS", False: "FAIL", None: ""}[m.get("passed")]
    return (f"{m['label']:<58} {fmt(m['median']):>9} [{fmt(m['min'])}-{fmt(m['max'])}] "
            f"{m['unit']:<7} {tgt:<9} {verdict}")


def fmt(x: float) -> str:
    """A number with three significant figures (what per-round noise allows)."""
    if x == 0 or not np.isfinite(x):
        return f"{x:g}"
    return f"{x:.3g}" if abs(x) < 1000 else f"{x:.0f}"
