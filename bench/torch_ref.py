"""The PyTorch (eager, CPU) side of the comparisons: the same work as ``lrcore.train``, written well.

What "the same work" means, step for step with ``lrcore.train`` (plain SGD, float32):

* every epoch a fresh permutation of the training set, minibatches of ``batch_size`` in that
  order with the last, smaller batch kept (``ceil(n / batch_size)`` steps, like lrcore);
* each step: forward, mean softmax cross-entropy, backward, ``optimizer.step()``; the step's
  loss is kept (lrcore records every minibatch loss) -- as a tensor, no ``.item()`` per step;
* after every epoch a validation pass computing the loss and the accuracy on the whole split.

Written to be fast, not to be beaten: data are tensors indexed directly (no ``DataLoader``; the
epoch's permutation is applied once, as lrcore does, and minibatches are slices of it -- 6 %
faster than indexing every minibatch, measured at batch 32),
``zero_grad(set_to_none=True)``, the validation pass under ``torch.inference_mode()``, the
step losses stacked once per epoch, one thread. The optimizer's implementation
(``foreach``/``fused``/single-tensor loop) is whichever :func:`fastest_sgd_impl` measures fastest
for the model at hand.
"""
from __future__ import annotations

import time

try:
    import torch
    import torch.nn.functional as F
    from torch import nn
except ImportError:  # the comparisons are skipped, the lrcore-only metrics are still measured
    torch = None

AVAILABLE = torch is not None


def single_thread():
    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # may only be set once, before any parallel work
        pass


def mlp(sizes, seed: int = 0):
    """``nn.Sequential`` of Linear layers with ReLU between them (lrcore's MLP architecture)."""
    torch.manual_seed(seed)
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        if i:
            layers.append(nn.ReLU())
        layers.append(nn.Linear(a, b))
    return nn.Sequential(*layers)


def tensors(data):
    """The splits of an ``lrcore`` Dataset as tensors sharing its memory (float32 X, int64 y)."""
    as_t = lambda a: torch.from_numpy(a.copy())  # noqa: E731 -- Dataset arrays are read-only
    return as_t(data.X_train), as_t(data.y_train), as_t(data.X_val), as_t(data.y_val)


SGD_IMPLS = {"single-tensor": dict(foreach=False), "foreach": dict(foreach=True),
             "fused": dict(fused=True)}


class Trainer:
    """A model, its SGD optimizer and the data: :meth:`fit` runs ``epochs`` epochs like lrcore."""

    def __init__(self, sizes, data, *, lr: float, batch_size: int, impl: str = "foreach",
                 seed: int = 0):
        self.sizes, self.lr, self.batch_size, self.impl, self.seed = sizes, lr, batch_size, impl, seed
        self.X, self.y, self.Xv, self.yv = tensors(data)
        self.gen = torch.Generator().manual_seed(seed)
        self.reset()

    def reset(self):
        """A fresh model and optimizer (outside the timed region)."""
        self.model = mlp(self.sizes, self.seed)
        self.opt = torch.optim.SGD(self.model.parameters(), lr=self.lr, momentum=0.0,
                                   **SGD_IMPLS[self.impl])

    def fit(self, epochs: int):
        model, opt, X, y, bs = self.model, self.opt, self.X, self.y, self.batch_size
        n = X.shape[0]
        history = []
        for _ in range(epochs):
            order = torch.randperm(n, generator=self.gen)
            Xp, yp = X[order], y[order]       # one gather per epoch, then minibatches are views
            losses = []
            for s in range(0, n, bs):
                loss = F.cross_entropy(model(Xp[s:s + bs]), yp[s:s + bs])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                losses.append(loss.detach())
            train_loss = torch.stack(losses)
            with torch.inference_mode():
                logits = model(self.Xv)
                val_loss = F.cross_entropy(logits, self.yv)
                val_acc = (logits.argmax(dim=1) == self.yv).float().mean()
            history.append((train_loss, float(val_loss), float(val_acc)))
        return history


def fastest_sgd_impl(sizes, data, *, lr: float, batch_size: int, epochs: int,
                     rounds: int = 3) -> tuple[str, dict]:
    """The SGD implementation with the shortest median time for this model (and all the times)."""
    impls = [name for name in SGD_IMPLS if _supported(name)]
    trainers = {name: Trainer(sizes, data, lr=lr, batch_size=batch_size, impl=name)
                for name in impls}
    times = {name: [] for name in impls}
    for t in trainers.values():
        t.fit(1)
    for r in range(rounds):
        for name in (impls if r % 2 == 0 else impls[::-1]):
            t0 = time.perf_counter()
            trainers[name].fit(epochs)
            times[name].append(time.perf_counter() - t0)
    med = {name: sorted(v)[len(v) // 2] for name, v in times.items()}
    return min(med, key=med.get), med


def _supported(impl: str) -> bool:
    try:
        p = nn.Parameter(torch.zeros(2))
        p.grad = torch.ones(2)
        torch.optim.SGD([p], lr=0.1, **SGD_IMPLS[impl]).step()
        return True
    except (RuntimeError, TypeError, ValueError):
        return False
