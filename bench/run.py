"""Run the benchmarks, print a table, write ``bench/results/latest.json``.

    python bench/run.py                  # all of them (a few minutes), -> bench/results/latest.json
    python bench/run.py --quick          # a smoke run (seconds)       -> bench/results/quick.json
    python bench/run.py --only sweep     # one (or several: --only sweep --only large_mlp);
                                         # its entry replaces the old one in the output file

Each benchmark runs in its own process (``python bench/NAME.py --out FILE``) so that its peak
resident memory is its own: the child reports its ``VmHWM`` (``common.peak_rss_mb``). The
``ru_maxrss`` that ``os.wait4`` returns is kept too (``wait4_maxrss_mb``) but is not the
benchmark's: on Linux it includes this parent's RSS at the fork. See ``bench/README.md``.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import common

BENCH = Path(__file__).resolve().parent
RESULTS = BENCH / "results"
#: in the order they run; the numbers are those of the README
BENCHMARKS = ("digits_epoch", "fixed_cost", "sweep", "large_mlp", "range_test")


def run_one(name: str, quick: bool) -> dict:
    out = RESULTS / f"{name}.json.tmp"
    out.unlink(missing_ok=True)
    cmd = [sys.executable, str(BENCH / f"{name}.py"), "--out", str(out)] + (["--quick"] if quick else [])
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=common.ROOT)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0 or not out.exists():
        return {"name": name, "error": f"exit status {proc.returncode}", "metrics": [],
                "wall_s": time.perf_counter() - t0}
    result = json.loads(out.read_text())
    out.unlink()
    result["peak_rss_mb"] = result.pop("self_peak_rss_mb")
    result["wait4_maxrss_mb"] = usage.ru_maxrss / 1024
    result["date"] = common.machine_info()["date"]
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a short smoke run (few rounds)")
    parser.add_argument("--only", action="append", choices=BENCHMARKS, metavar="NAME",
                        help=f"run only this benchmark (repeatable): {', '.join(BENCHMARKS)}")
    parser.add_argument("--out", type=Path, help="output JSON (default: bench/results/"
                        "latest.json, or quick.json with --quick)")
    args = parser.parse_args(argv)
    RESULTS.mkdir(exist_ok=True)
    path = args.out or RESULTS / ("quick.json" if args.quick else "latest.json")
    names = args.only or list(BENCHMARKS)

    machine = common.machine_info()
    blas = machine["numpy_blas"]
    print(f"{machine['cpu_model']}, {machine['usable_cpus']} usable CPUs, load {machine['load_average_1_5_15']}")
    print(f"NumPy {machine['numpy']} BLAS: {blas.get('internal_api')} {blas.get('version')} "
          f"kernel {blas.get('architecture')}; PyTorch {machine['torch']}")
    print("env: " + ", ".join(f"{k}={v}" for k, v in machine["env"].items() if v is not None)
          + "  (OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE, when set, choose OpenBLAS's kernel)")

    previous = json.loads(path.read_text()) if args.only and path.exists() else {}
    benchmarks = previous.get("benchmarks", {})
    for name in names:
        print(f"\n== {name}", flush=True)
        result = run_one(name, args.quick)
        benchmarks[name] = result
        for m in result["metrics"]:
            print(common.format_metric(m))
        print(f"   ({result['wall_s']:.0f} s, peak RSS {result.get('peak_rss_mb', float('nan')):.0f} MB)"
              + (f"  ERROR: {result['error']}" if "error" in result else ""), flush=True)

    report = {"machine": machine, "quick": args.quick,
              "method": "interleaved rounds in one process, one thread; median and range "
                        "(min-max) of per-round values; peak RSS per benchmark process "
                        "(its VmHWM from /proc/self/status)",
              "benchmarks": {n: benchmarks[n] for n in BENCHMARKS if n in benchmarks}}
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(report, indent=1) + "\n")
    tmp.replace(path)

    metrics = [m for b in report["benchmarks"].values() for m in b["metrics"]]
    failed = [m["label"] for m in metrics if m.get("passed") is False]
    errors = [n for n, b in report["benchmarks"].items() if "error" in b]
    print(f"\nwrote {path.relative_to(common.ROOT) if path.is_relative_to(common.ROOT) else path}: "
          f"{sum(m.get('passed') is True for m in metrics)} targets met, {len(failed)} missed"
          + (f", errors in {errors}" if errors else ""))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
