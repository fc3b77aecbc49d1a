"""Run the task suite of lrcore.rangesuite and store its table (lrcore/data/range_suite.json.gz).

    PYTHONPATH=$PWD python bench/suggestion_suite.py            # every task not yet cached
    PYTHONPATH=$PWD python bench/suggestion_suite.py --store    # then write the stored table

Each task's grid (one stacked sweep) and range tests are cached, one JSON file per task, in
--cache (default /tmp/lrcore_suite_cache), so an interrupted run resumes. Single-threaded BLAS.
"""
import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from lrcore import rangesuite  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cache", default="/tmp/lrcore_suite_cache")
    ap.add_argument("--store", action="store_true", help="write lrcore/data/range_suite.json.gz")
    args = ap.parse_args()
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    rows = []
    for i, task in enumerate(rangesuite.TASKS):
        f = cache / f"task{i:02d}.json"
        if f.exists() and json.loads(f.read_text())["name"] == task.name:
            rows.append(json.loads(f.read_text()))
            continue
        t = time.perf_counter()
        row = rangesuite.run_task(task)
        f.write_text(json.dumps(row))
        rows.append(row)
        print(f"{task.name:<40} {time.perf_counter() - t:6.1f} s", flush=True)
    if args.store:
        rangesuite.save_table(rows)
        print(f"stored {len(rows)} tasks in {rangesuite.TABLE}")


if __name__ == "__main__":
    main()
