"""Benchmark 1: an epoch of the digits MLP 64-128-10, ``lrcore.train`` against PyTorch eager.

The same work on both sides (see ``torch_ref.py``): plain SGD in float32, a fresh permutation
per epoch, ``ceil(1437 / batch_size)`` minibatches (the last one partial), every minibatch loss
kept, a validation pass (loss and accuracy on the 360 validation images) after every epoch. Each
call trains ``epochs`` epochs of the same model, which keeps training from round to round (the
work of a step does not depend on the values; lr = 0.05 does not diverge). Reported: the
per-round ratio of times lrcore / PyTorch, and each side's milliseconds per epoch.
"""
from __future__ import annotations

import common
import torch_ref

#: (batch size, epochs per timed call, target for lrcore / PyTorch); calls last ~20-100 ms
CASES = ((32, 6, 0.30), (128, 16, 0.40), (512, 30, None))
SIZES = [64, 128, 10]
LR = 0.05


def run(*, quick: bool) -> dict:
    import numpy as np
    from lrcore import MLP, load_digits, train
    data = load_digits(seed=0)
    rounds = 3 if quick else 15
    metrics, info = [], {"sizes": SIZES, "lr": LR, "n_train": data.n_train, "n_val": data.n_val,
                         "rounds": rounds, "torch": torch_ref.AVAILABLE}
    if torch_ref.AVAILABLE:
        torch_ref.single_thread()
        impl, impl_times = torch_ref.fastest_sgd_impl(SIZES, data, lr=LR, batch_size=32, epochs=2,
                                                      rounds=3 if quick else 5)
        info.update(torch_sgd_impl=impl, torch_sgd_impl_seconds=impl_times)
    for batch_size, epochs, target in CASES:
        if quick:
            epochs = max(1, epochs // 3)
        model = MLP(SIZES, seed=0, dtype=np.float32)  # as PyTorch computes
        fns = {"lrcore": lambda: train(model, data, lr=LR, epochs=epochs, batch_size=batch_size)}
        h = train(model.copy(), data, lr=LR, epochs=1, batch_size=batch_size)
        case = {"epochs_per_call": epochs, "steps_per_epoch": h.steps_per_epoch}
        if torch_ref.AVAILABLE:
            t = torch_ref.Trainer(SIZES, data, lr=LR, batch_size=batch_size, impl=impl)
            assert len(t.fit(1)[0][0]) == h.steps_per_epoch, "PyTorch must take as many steps"
            fns["torch"] = lambda: t.fit(epochs)
        times = common.interleave(fns, rounds=rounds, warmup=1)
        ms = {k: [1e3 * s / epochs for s in v] for k, v in times.items()}
        if torch_ref.AVAILABLE:
            metrics.append(common.metric(
                f"digits_epoch.b{batch_size}.ratio",
                f"digits MLP epoch, batch {batch_size}: lrcore / PyTorch",
                common.ratios(times["lrcore"], times["torch"]), unit="x",
                target=None if target is None else ("<=", target)))
        metrics.append(common.metric(f"digits_epoch.b{batch_size}.lrcore_ms",
                                     f"  lrcore, batch {batch_size}", ms["lrcore"],
                                     unit="ms/epoch"))
        if torch_ref.AVAILABLE:
            metrics.append(common.metric(f"digits_epoch.b{batch_size}.torch_ms",
                                         f"  PyTorch eager, batch {batch_size}", ms["torch"],
                                         unit="ms/epoch"))
        info[f"batch_{batch_size}"] = case
    return {"metrics": metrics, "info": info}


if __name__ == "__main__":
    common.main("digits_epoch", run)
