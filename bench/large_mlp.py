r"""Benchmark 4: how close ``lrcore.train`` gets to the machine's matmul peak on a large MLP.

MLP 784-512-512-10 on MNIST-shaped random data (8192 training images, 1024 validation images,
labels uniform over 10 classes), batch 256 (32 steps per epoch), plain SGD, float32. A timed call
is ``train(..., epochs=1)``: 32 steps and one validation pass.

**The work counted** is the matrix products ``train`` computes (``lrcore.models.DenseModel``,
which keeps each layer as one matrix :math:`Θ_l = [W_l\ b_l]` of shape ``(out, in + 1)`` and
appends a row of ones to every layer input, the "bias trick"). For a batch of ``m`` with widths
``d=784, h1=512, h2=512, c=10``, and ``F = h1(d+1) + h2(h1+1) + c(h2+1)``:

* forward :math:`Θ_l \tilde A_{l-1}`: ``2mF``;
* backward, gradients :math:`dZ_l \tilde A_{l-1}^\top` (bias column included): ``2mF``;
* backward, :math:`W_l^\top dZ_l` for layers 3 and 2 only (lrcore does not compute the
  gradient with respect to the input images): ``2m(h2·c + h1·h2)``;
* per epoch, the validation pass: ``2 n_val F``.

(The loss is a sum over the softmax terms, element-wise work.)

Element-wise work (ReLU, softmax, the update) is not counted: the GFLOP/s are matmul GFLOP/s,
comparable with a GEMM's. :func:`check_layout` stops the benchmark if the model's layout is not
the one this count assumes.

**The peak**, measured in the same rounds with ``xp.matmul`` into preallocated outputs:
``square``, a 1024x1024x1024 float32 GEMM; ``matching``, the GEMMs of one training step with
exactly the shapes above (contiguous operands), back to back. The target is against ``square``.

``LRCORE_BACKEND=cupy`` runs it on the GPU (timed calls end with a device synchronize).
"""
from __future__ import annotations

import numpy as np

import common

SIZES, BATCH, N_TRAIN, N_VAL = [784, 512, 512, 10], 256, 8192, 1024


def flops_per_epoch(n_train: int, n_val: int, batch: int, sizes=SIZES) -> dict:
    """Exact matmul flop counts of one ``train`` epoch (see the module docstring)."""
    d, h1, h2, c = sizes
    F = h1 * (d + 1) + h2 * (h1 + 1) + c * (h2 + 1)
    per_sample = 2 * F + 2 * F + 2 * (h2 * c + h1 * h2)
    batches = [min(batch, n_train - s) for s in range(0, n_train, batch)]
    train = sum(m * per_sample for m in batches)
    val = n_val * 2 * F
    return {"train": train, "val": val, "total": train + val,
            "formula": "per sample of a step: 2F forward + 2F gradients (bias column included) "
                       "+ 2(h2*c + h1*h2) back-propagated; validation 2F per sample; "
                       "F = h1(d+1) + h2(h1+1) + c(h2+1)"}


def step_gemms(m: int, sizes=SIZES) -> list[tuple[int, int, int]]:
    """(M, K, N) of the GEMMs of one step, as lrcore computes them (activations (features, m))."""
    d, h1, h2, c = sizes
    return [(h1, d + 1, m), (h2, h1 + 1, m), (c, h2 + 1, m),   # forward Θ_l Ã_{l-1}
            (c, m, h2 + 1), (h2, m, h1 + 1), (h1, m, d + 1),   # gradients dZ_l Ã_{l-1}ᵀ
            (h2, c, m), (h1, h2, m)]                           # W_lᵀ dZ_l (layers 3, 2)


def check_layout(model, sizes=SIZES) -> None:
    """Stop if lrcore's parameter layout is not the one the flop count assumes."""
    want = [(b, a + 1) for a, b in zip(sizes[:-1], sizes[1:])]
    got = [tuple(t.shape) for t in getattr(model, "theta", [])]
    if got != want:
        raise RuntimeError(f"lrcore's layer layout changed (theta shapes {got}, expected {want}): "
                           f"update flops_per_epoch and step_gemms in bench/large_mlp.py")


def random_dataset(n_train: int, n_val: int, seed: int = 0):
    from lrcore import Dataset
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_train + n_val, SIZES[0]), dtype=np.float32)
    y = rng.permutation(np.arange(n_train + n_val) % SIZES[-1])
    return Dataset(X[:n_train], y[:n_train], X[n_train:], y[n_train:], name="mnist-shaped")


def run(*, quick: bool) -> dict:
    from lrcore import MLP, train
    xp, sync = common.array_backend()
    n_train, n_val = (2048, 256) if quick else (N_TRAIN, N_VAL)
    rounds = 3 if quick else 7
    data = random_dataset(n_train, n_val)
    model = MLP(SIZES, seed=0, dtype=np.float32)  # as PyTorch computes
    check_layout(model)
    flops = flops_per_epoch(n_train, n_val, BATCH)

    rng = np.random.default_rng(1)
    def operands(M, K, N):
        a = xp.asarray(rng.standard_normal((M, K), dtype=np.float32))
        b = xp.asarray(rng.standard_normal((K, N), dtype=np.float32))
        return a, b, xp.empty((M, N), dtype=np.float32)
    gemms = [operands(*s) for s in step_gemms(BATCH)]
    gemm_flops = sum(2 * M * K * N for M, K, N in step_gemms(BATCH))
    sq = operands(1024, 1024, 1024)
    reps_match, reps_sq = (8, 3) if quick else (32, 8)

    def matching():
        for _ in range(reps_match):
            for a, b, out in gemms:
                xp.matmul(a, b, out=out)

    def square():
        for _ in range(reps_sq):
            xp.matmul(sq[0], sq[1], out=sq[2])

    fns = {"train": lambda: train(model, data, lr=0.01, epochs=1, batch_size=BATCH),
           "matching": matching, "square": square}
    t = common.interleave(fns, rounds=rounds, warmup=1, sync=sync)
    achieved = [flops["total"] / s / 1e9 for s in t["train"]]
    peak_sq = [reps_sq * 2 * 1024**3 / s / 1e9 for s in t["square"]]
    peak_match = [reps_match * gemm_flops / s / 1e9 for s in t["matching"]]
    metrics = [
        common.metric("large_mlp.eff_vs_square", "MLP 784-512-512-10 b256: GFLOP/s / 1024³ GEMM",
                      common.ratios(achieved, peak_sq), unit="x", target=(">=", 0.75)),
        common.metric("large_mlp.eff_vs_matching", "  GFLOP/s / same-shape GEMMs",
                      common.ratios(achieved, peak_match), unit="x"),
        common.metric("large_mlp.gflops", "  lrcore.train achieved", achieved, unit="GFLOP/s"),
        common.metric("large_mlp.peak_square", "  float32 GEMM 1024³", peak_sq, unit="GFLOP/s"),
        common.metric("large_mlp.peak_matching", "  float32 GEMMs of one step's shapes",
                      peak_match, unit="GFLOP/s"),
    ]
    info = {"sizes": SIZES, "batch_size": BATCH, "n_train": n_train, "n_val": n_val,
            "rounds": rounds, "backend": xp.__name__, "flops": flops,
            "step_gemms_MKN": step_gemms(BATCH)}
    return {"metrics": metrics, "info": info}


if __name__ == "__main__":
    common.main("large_mlp", run)
