"""The measurement that chose the testbed of the schedule chapters (``lrcore.protocol``).

Requirement: with the protocol's budget, SGD noise (not fitting the training set) limits the
final validation loss, so that a decay beats the *tuned* constant rate by more than 3 standard
errors of the paired difference, and one protocol run (tune a peak on the grid x tuning seeds,
then evaluate on the fresh seeds) takes a few seconds.

Each candidate dataset goes through the same protocol (``PROTOCOL.replace(data=...)``: same
MLP with 64 hidden units, budget, batch size, seeds and grid) for two schedules: the constant
rate and cosine decay to 0, each with its peak tuned. Printed per candidate: the final training
loss of the tuned constant (mean minibatch loss of its last epoch, first evaluation seed), the
tuned peaks, the mean final validation losses on the evaluation seeds, the paired difference
cosine - constant with its standard error, t and verdict (:func:`lrcore.stats.paired`), and the
seconds one protocol run of one schedule took.

Run: ``OPENBLAS_NUM_THREADS=1 PYTHONPATH=. python bench/testbed_selection.py`` (about a minute).
"""
from __future__ import annotations

import time

import numpy as np

from lrcore.data import Dataset, load_digits, make_teacher_student
from lrcore.protocol import PROTOCOL, evaluate, tune
from lrcore.schedules import constant, cosine_decay
from lrcore.stats import paired

SCHEDULES = {
    "constant": lambda peak, total: constant(peak),
    "cosine": lambda peak, total: cosine_decay(peak, until=total),
}


def digits_augmented(*, label_noise: float = 0.2, seed: int = 0) -> Dataset:
    """The digits' training images and their four one-pixel shifts (5x the training set, a
    fixed augmentation), a fraction ``label_noise`` of all labels replaced by random classes."""
    ds = load_digits(seed=seed)
    rng = np.random.default_rng(seed)
    mean, std = ds.info["mean"], ds.info["std"]
    images = (ds.X_train * std + mean).reshape(-1, 8, 8)
    shifted = [images]
    for axis, step in ((1, 1), (1, -1), (2, 1), (2, -1)):
        moved = np.roll(images, step, axis=axis)
        edge = [slice(None)] * 3
        edge[axis] = 0 if step == 1 else -1
        moved[tuple(edge)] = 0.0                    # no wrap-around: the new border is blank
        shifted.append(moved)
    X = (np.concatenate(shifted).reshape(-1, 64) - mean) / std
    y = np.tile(ds.y_train, len(shifted))

    def noisy(labels):
        flip = rng.random(len(labels)) < label_noise
        return np.where(flip, rng.integers(0, 10, len(labels)), labels)

    order = rng.permutation(len(X))
    return Dataset(X[order], noisy(y[order]), ds.X_val, noisy(ds.y_val), name="digits-aug",
                   n_classes=10)


def teacher_sampled(*, n_train=8000, n_val=4000, n_features=20, n_classes=5, condition=100.0,
                    temperature=3.0, seed=0) -> Dataset:
    """Like ``make_teacher_student`` without flips: labels drawn from the softmax of the teacher's
    logits (scaled by ``temperature``), a floor reachable by the student."""
    rng = np.random.default_rng(seed)
    scales = np.geomspace(1.0, 1.0 / np.sqrt(condition), n_features)
    W = rng.standard_normal((n_features, n_classes)) / (scales[:, None] * np.sqrt(n_features))
    X = rng.standard_normal((n_train + n_val, n_features)) * scales
    Z = temperature * X @ W
    P = np.exp(Z - Z.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    y = (P.cumsum(axis=1) > rng.random((len(X), 1))).argmax(axis=1)
    floor = float(-(P[n_train:] * np.log(P[n_train:])).sum(axis=1).mean())
    return Dataset(X[:n_train], y[:n_train], X[n_train:], y[n_train:], name="teacher-sampled",
                   n_classes=n_classes, info={"bayes_loss": floor})


CANDIDATES = {
    "digits (ch. 1-2)": lambda: load_digits(seed=0),
    "digits x5 shifts, 20% noise": digits_augmented,
    "teacher, sampled labels": teacher_sampled,
    "teacher, 30% flipped (chosen)": lambda: make_teacher_student(seed=0),
}


def measure(name: str, data: Dataset) -> dict:
    protocol = PROTOCOL.replace(data=data)
    row, losses, seconds, peaks = {"candidate": name}, {}, [], {}
    for schedule, make in SCHEDULES.items():
        start = time.perf_counter()
        tuned = tune(make, protocol=protocol)
        losses[schedule] = evaluate(make, tuned.best_peak, protocol=protocol)
        seconds.append(time.perf_counter() - start)
        row[f"{schedule} peak"] = f"{tuned.best_peak:g}" + ("*" if tuned.at_edge else "")
        peaks[schedule] = tuned.best_peak
    h = protocol.run([SCHEDULES["constant"](peaks["constant"], protocol.steps)],
                     protocol.eval_seeds[0])[0]
    row["train loss (const)"] = float(h.loss[-protocol.steps_per_epoch:].mean())
    row["floor"] = data.info.get("bayes_loss", 0.0 if name.startswith("digits (") else np.nan)
    for schedule in SCHEDULES:
        row[f"val {schedule}"] = float(losses[schedule].mean())
    result = paired(losses["cosine"], losses["constant"], names=("cosine", "constant"))
    row.update(diff=result.mean, se=result.se, t=result.t, verdict=result.verdict,
               seconds=float(np.mean(seconds)))
    return row


def main():
    print(f"protocol: MLP hidden {PROTOCOL.hidden}, {PROTOCOL.epochs} epochs, batch "
          f"{PROTOCOL.batch_size}, momentum {PROTOCOL.momentum}, tune seeds "
          f"{PROTOCOL.tune_seeds}, {len(PROTOCOL.eval_seeds)} eval seeds, grid "
          f"{PROTOCOL.lr_grid[0]:g}..{PROTOCOL.lr_grid[-1]:g} (x2); *: at the grid edge")
    head = (f"{'candidate':30s} {'train':>6s} {'floor':>6s} {'pk c':>6s} {'pk cos':>6s} "
            f"{'val c':>7s} {'val cos':>7s} {'diff':>8s} {'se':>7s} {'t':>6s} {'s/run':>6s}  "
            f"verdict")
    print(head)
    for name, make in CANDIDATES.items():
        r = measure(name, make())
        print(f"{name:30s} {r['train loss (const)']:6.3f} {r['floor']:6.3f} "
              f"{r['constant peak']:>6s} {r['cosine peak']:>6s} {r['val constant']:7.4f} "
              f"{r['val cosine']:7.4f} {r['diff']:+8.4f} {r['se']:7.4f} {r['t']:+6.1f} "
              f"{r['seconds']:6.1f}  {r['verdict']}", flush=True)


if __name__ == "__main__":
    main()
