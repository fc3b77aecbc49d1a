"""Benchmark 2: the fixed cost of a step -- a model so small that the arithmetic is nothing.

SoftmaxRegression 8 -> 2 at batch 8 on a synthetic linearly separable Dataset (4096 training
samples, so 512 steps per epoch; 64 validation samples). A timed call is ``train`` for 4
epochs (2048 steps, 4 tiny validation passes); microseconds per step = call time / steps, so
the per-call set-up and the per-epoch work are included, spread over the steps. PyTorch eager
doing the same (``torch_ref.Trainer`` with one ``nn.Linear``, ``foreach`` SGD) is measured
alongside for reference.
"""
from __future__ import annotations

import numpy as np

import common
import torch_ref

N_IN, N_CLASSES, BATCH, N_TRAIN, N_VAL, EPOCHS = 8, 2, 8, 4096, 64, 4


def tiny_dataset(seed: int = 0):
    from lrcore import Dataset
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(N_IN)
    X = rng.standard_normal((N_TRAIN + N_VAL, N_IN)).astype(np.float32)
    y = (X @ w > 0).astype(np.int64)
    return Dataset(X[:N_TRAIN], y[:N_TRAIN], X[N_TRAIN:], y[N_TRAIN:], name="tiny")


def run(*, quick: bool) -> dict:
    from lrcore import SoftmaxRegression, train
    data = tiny_dataset()
    rounds = 3 if quick else 15
    epochs = 1 if quick else EPOCHS
    model = SoftmaxRegression(N_IN, N_CLASSES, seed=0, dtype=np.float32)
    steps = train(model.copy(), data, lr=0.1, epochs=epochs, batch_size=BATCH).steps
    fns = {"lrcore": lambda: train(model, data, lr=0.1, epochs=epochs, batch_size=BATCH)}
    if torch_ref.AVAILABLE:
        torch_ref.single_thread()
        t = torch_ref.Trainer([N_IN, N_CLASSES], data, lr=0.1, batch_size=BATCH)
        fns["torch"] = lambda: t.fit(epochs)
    times = common.interleave(fns, rounds=rounds, warmup=1)
    us = {k: [1e6 * s / steps for s in v] for k, v in times.items()}
    metrics = [common.metric("fixed_cost.lrcore_us", "fixed cost per step, lrcore (8->2, batch 8)",
                             us["lrcore"], unit="µs/step", target=("<=", 20.0))]
    if torch_ref.AVAILABLE:
        metrics += [
            common.metric("fixed_cost.torch_us", "  PyTorch eager, same loop (reference)",
                          us["torch"], unit="µs/step"),
            common.metric("fixed_cost.ratio", "  lrcore / PyTorch",
                          common.ratios(times["lrcore"], times["torch"]), unit="x"),
        ]
    info = {"model": f"SoftmaxRegression({N_IN}, {N_CLASSES})", "batch_size": BATCH,
            "n_train": N_TRAIN, "n_val": N_VAL, "epochs_per_call": epochs,
            "steps_per_call": steps, "rounds": rounds}
    return {"metrics": metrics, "info": info}


if __name__ == "__main__":
    common.main("fixed_cost", run)
