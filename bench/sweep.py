"""Benchmark 3: ``sweep`` of K = 16 and 64 learning rates against one run and against K runs.

The digits MLP 64-128-10 at batch 32 (45 steps per epoch), plain SGD, ``EPOCHS`` epochs, with
learning rates log-spaced over [1e-3, 0.3] (none diverges, so every member does all the work;
the benchmark checks this). Compared in interleaved rounds:

* ``one``: ``train`` with one learning rate (the geometric middle of the range); a run takes
  ~10 ms, so a timed call makes ``ONE_REPS`` = 4 of them and its time is divided by 4;
* ``sweep1``: ``sweep`` of that one learning rate, ``ONE_REPS`` times like ``one``: the same
  run on the stacked engine (``lrcore.stacked``, written for speed) instead of ``train``'s
  readable loop, so ``sweep1 / one`` is what the readable loop costs;
* ``sweepK``: ``sweep(model, data, lrs=K rates)``;
* ``seqK``: K calls of ``train(model.copy(), ...)`` one after the other -- what a sweep replaces.
  Measured directly for K = 16; for K = 64 measured directly too in the full run, and
  extrapolated as 4 x seq16 (same round) in ``--quick`` (the metric says which).

Memory: a 64-LR sweep runs alone in a fresh process (``--memory-probe``) importing only NumPy
and lrcore; its peak RSS (``VmHWM``, see ``common.peak_rss_mb``) is the metric, with the peak
before the sweep (the interpreter, NumPy, lrcore and the data) and, in a second fresh process, the peak of NumPy's
own allocations during the sweep as ``tracemalloc`` sees them (tracemalloc's bookkeeping would
inflate RSS, hence the separate process).

``LRCORE_BACKEND=cupy`` runs it on the GPU (timed calls end with a device synchronize; the
memory probe then reports host RSS only).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np

import common

SIZES, BATCH, EPOCHS = [64, 128, 10], 32, 2
ONE_REPS = 4   # one run lasts ~10 ms: a timed call makes 4 of them (time / 4), for a steadier ratio
LR_RANGE = (1e-3, 0.3)


def lrs_for(K: int) -> list[float]:
    return [float(x) for x in np.geomspace(*LR_RANGE, K)]


def memory_probe(K: int, use_tracemalloc: bool) -> dict:
    """Run one K-LR sweep in this (fresh) process; report its memory."""
    import tracemalloc

    from lrcore import MLP, load_digits, sweep
    data = load_digits(seed=0)
    model = MLP(SIZES, seed=0, dtype=np.float32)  # as PyTorch computes
    before = common.peak_rss_mb()
    if use_tracemalloc:
        tracemalloc.start()
    hs = sweep(model, data, lrs=lrs_for(K), epochs=EPOCHS, batch_size=BATCH)
    out = {"K": K, "rss_before_mb": before,
           "peak_rss_mb": common.peak_rss_mb(),
           "diverged": sum(h.diverged for h in hs)}
    if use_tracemalloc:
        out["tracemalloc_peak_mb"] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return out


def _probe(K: int, use_tracemalloc: bool) -> dict:
    cmd = [sys.executable, __file__, "--memory-probe", str(K)]
    if use_tracemalloc:
        cmd.append("--tracemalloc")
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, env=env)
    return json.loads(out.stdout)


def run(*, quick: bool) -> dict:
    from lrcore import MLP, load_digits, sweep, train
    xp, sync = common.array_backend()
    data = load_digits(seed=0)
    rounds = 3 if quick else 11
    model = MLP(SIZES, seed=0, dtype=np.float32)  # as PyTorch computes
    mid = float(np.sqrt(LR_RANGE[0] * LR_RANGE[1]))
    kw = dict(epochs=EPOCHS, batch_size=BATCH)

    def sequential(K):
        return lambda: [train(model.copy(), data, lr=lr, **kw) for lr in lrs_for(K)]

    fns = {"one": lambda: [train(model.copy(), data, lr=mid, **kw) for _ in range(ONE_REPS)],
           "sweep1": lambda: [sweep(model, data, lrs=[mid], **kw) for _ in range(ONE_REPS)],
           "sweep16": lambda: sweep(model, data, lrs=lrs_for(16), **kw),
           "sweep64": lambda: sweep(model, data, lrs=lrs_for(64), **kw),
           "seq16": sequential(16)}
    if not quick:
        fns["seq64"] = sequential(64)
    diverged = {K: sum(h.diverged for h in sweep(model, data, lrs=lrs_for(K), **kw))
                for K in (16, 64)}
    if any(diverged.values()):
        raise RuntimeError(f"members diverged ({diverged}): the comparison needs LR_RANGE lower")
    t = common.interleave(fns, rounds=rounds, warmup=1, sync=sync)
    t["one"] = [s / ONE_REPS for s in t["one"]]
    t["sweep1"] = [s / ONE_REPS for s in t["sweep1"]]
    seq64 = t["seq64"] if "seq64" in t else [4 * s for s in t["seq16"]]
    how64 = "measured" if "seq64" in t else "extrapolated as 4 x seq16 (same round)"
    r = common.ratios
    metrics = [
        common.metric("sweep.k16_vs_one", "sweep of 16 LRs / one train run (batch 32)",
                      r(t["sweep16"], t["one"]), unit="x"),
        common.metric("sweep.k64_vs_one", "sweep of 64 LRs / one train run (batch 32)",
                      r(t["sweep64"], t["one"]), unit="x", target=("<=", 26.0)),
        common.metric("sweep.k16_vs_seq", "sweep of 16 LRs / 16 runs one after the other",
                      r(t["sweep16"], t["seq16"]), unit="x"),
        common.metric("sweep.k64_vs_seq", "sweep of 64 LRs / 64 runs one after the other",
                      r(t["sweep64"], seq64), unit="x", note=f"64 sequential runs {how64}"),
        common.metric("sweep.one_ms", "  one train run (2 epochs)",
                      [1e3 * s for s in t["one"]], unit="ms"),
        common.metric("sweep.k1_vs_one", "sweep of 1 LR (stacked engine) / one train run "
                      "(readable loop)", r(t["sweep1"], t["one"]), unit="x"),
    ]
    mem = _probe(64, False)
    traced = _probe(64, True)
    metrics.append(common.metric(
        "sweep.k64_peak_rss_mb", "peak RSS, process running a 64-LR sweep on the digits",
        [mem["peak_rss_mb"]], unit="MB", target=("<", 200.0),
        note=f"fresh process, NumPy + lrcore only; RSS before the sweep "
             f"{mem['rss_before_mb']:.0f} MB; tracemalloc peak of the sweep's allocations "
             f"{traced['tracemalloc_peak_mb']:.1f} MB"))
    info = {"sizes": SIZES, "batch_size": BATCH, "epochs": EPOCHS, "lr_range": LR_RANGE,
            "rounds": rounds, "backend": xp.__name__, "seq64": how64,
            "memory_probe": mem, "memory_probe_tracemalloc": traced}
    return {"metrics": metrics, "info": info}


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--memory-probe":
        print(json.dumps(memory_probe(int(sys.argv[2]), "--tracemalloc" in sys.argv)))
    else:
        common.main("sweep", run)
