"""Benchmark 5: what a range test costs beyond the training steps it takes.

``range_test`` on the digits MLP 64-128-10, batch 32, 180 steps (4 epochs of 45), LR from 1e-4
to 1.0 (it completes: the benchmark checks that all 180 steps were taken), against ``train`` of
the same model for the same 180 steps at a fixed LR. The range test takes the same steps, plus
its own bookkeeping (the LR table, the stopping rule every 8 steps, a copy of the parameters,
the smoothers and the suggestions), and it skips the validation passes; so that ``train``'s
four validation passes do not pad the reference, both run on the digits training split with a
10-image validation split (one per class). The range test runs on the sweep's stacked engine
(``lrcore.stacked``, K = 1), ``train`` is the readable loop: the ratio also holds what the
readable loop costs.
"""
from __future__ import annotations

import common

SIZES, BATCH, STEPS, LR_START, LR_END = [64, 128, 10], 32, 180, 1e-4, 1.0


def run(*, quick: bool) -> dict:
    import numpy as np

    from lrcore import MLP, Dataset, load_digits, range_test, train
    d = load_digits(seed=0)
    first = [int(np.flatnonzero(d.y_val == c)[0]) for c in range(10)]
    data = Dataset(d.X_train, d.y_train, d.X_val[first], d.y_val[first], name="digits, 10 val")
    rounds = 3 if quick else 15
    model = MLP(SIZES, seed=0, dtype=np.float32)  # as PyTorch computes
    spe = -(-data.n_train // BATCH)
    assert STEPS % spe == 0, "train must take exactly STEPS steps"
    rt = range_test(model, data, lr_start=LR_START, lr_end=LR_END, steps=STEPS, batch_size=BATCH)
    if rt.stop_reason != "completed" or len(rt.lrs) != STEPS:
        raise RuntimeError(f"the range test stopped early ({rt!r}): lower LR_END")
    fns = {"range_test": lambda: range_test(model, data, lr_start=LR_START, lr_end=LR_END,
                                            steps=STEPS, batch_size=BATCH),
           "train": lambda: train(model.copy(), data, lr=0.05, epochs=STEPS // spe,
                                  batch_size=BATCH)}
    t = common.interleave(fns, rounds=rounds, warmup=1)
    metrics = [
        common.metric("range_test.ratio", "range_test / train, same model, batch, 180 steps",
                      common.ratios(t["range_test"], t["train"]), unit="x", target=("<=", 1.2)),
        common.metric("range_test.ms", "  range_test (180 steps)",
                      [1e3 * s for s in t["range_test"]], unit="ms"),
        common.metric("range_test.train_ms", "  train (180 steps, 4 tiny validation passes)",
                      [1e3 * s for s in t["train"]], unit="ms"),
    ]
    info = {"sizes": SIZES, "batch_size": BATCH, "steps": STEPS, "lr_start": LR_START,
            "lr_end": LR_END, "rounds": rounds, "n_train": data.n_train, "n_val": data.n_val,
            "stop_reason": rt.stop_reason}
    return {"metrics": metrics, "info": info}


if __name__ == "__main__":
    common.main("range_test", run)
