"""Run the task suite of lrcore.rangesuite and store its table (lrcore/data/range_suite.json.gz).

    PYTHONPATH=$PWD python bench/suggestion_suite.py --store

1. every task: its grid of constant LRs (one stacked sweep) and its range tests;
2. the leave-one-task-out cross-validation of the default rule (lrcore.rangetest.MEASURED):
   every task is trained at the rule's out-of-sample suggestions, so that the loss ratio the
   cross-validation reads from the grid can be checked against real training ("check").

Each task's results are cached, one JSON file per task, in --cache (default
/tmp/lrcore_suite_cache), so an interrupted run resumes. Single-threaded BLAS. About 90 s on
one core.
"""
import argparse
import json
import os
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from lrcore import rangesuite  # noqa: E402
from lrcore.rangetest import MEASURED  # noqa: E402


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
    for row in rows:
        row.pop("check", None)
    cv = rangesuite.loo(rangesuite.Suite(rows), **rangesuite.DEFAULT_RULE)
    print(f"{MEASURED}: out of sample, {int(np.sum(cv['score'] <= 1))} of {len(rows)} tasks "
          f"meet both targets; constant on all tasks {cv['c_all']:+.2f} decades")
    for task, row, lrs in zip(rangesuite.TASKS, rows, cv["lrs"]):
        t = time.perf_counter()
        row["check"] = {"lrs": lrs.tolist(), "loss": rangesuite.train_at(task, lrs)}
        print(f"check {task.name:<34} {time.perf_counter() - t:6.1f} s", flush=True)
    if args.store:
        rangesuite.save_table(rows)
        print(f"stored {len(rows)} tasks in {rangesuite.TABLE}")


if __name__ == "__main__":
    main()
