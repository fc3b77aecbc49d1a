r"""What a training run records, and the rules both training loops apply while recording.

:func:`lrcore.training.train` (one run, the loop the book shows) and
:class:`lrcore.stacked.StackedRuns` (K runs at once, behind :func:`~lrcore.training.sweep` and
:func:`~lrcore.rangetest.range_test`) write down the same things and stop by the same rule,
with these helpers:

* :class:`History` -- the record of a run, and :meth:`History.of_run`, which builds it with the
  conventions after a divergence;
* :func:`epoch_batch_sizes` -- the sizes of an epoch's minibatches;
* :func:`divergence_limit` -- the loss above which a step counts as diverged;
* :func:`plateau_step` -- a ``ReduceLROnPlateau`` lowering the learning rates of the steps left;
* :func:`progress_bar` -- a tqdm bar over the epochs, when asked for.
"""
from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass

import numpy as np

__all__ = ["History", "epoch_batch_sizes", "divergence_limit", "plateau_step", "progress_bar"]


@dataclass(repr=False, eq=False)
class History:
    """What a training run recorded (NumPy arrays, float64).

    Per step ``k`` (``epochs * steps_per_epoch`` entries):

    * ``lr[k]``, ``momentum[k]`` -- the :math:`ε_k`, :math:`μ_k` used for update ``k``
      (including a plateau's reductions);
    * ``loss[k]`` -- the minibatch loss measured *before* update ``k``.

    Per epoch: ``train_loss`` (the mean over the epoch of the minibatch losses, weighted by
    batch size: the average loss per example during the epoch, as Keras reports it, not a fresh
    pass over the training set), ``val_loss`` and ``val_accuracy`` on the validation split
    after the epoch (``val_accuracy`` is NaN for regression).

    ``diverged`` / ``diverged_at``: the first step whose loss was non-finite or too large (see
    :func:`lrcore.training.train`). The run counts as stopped there: ``loss[diverged_at]`` is
    that loss, every later loss is NaN, so are ``lr`` and ``momentum`` from ``diverged_at`` on
    and the per-epoch entries from the epoch containing it.
    """

    lr: np.ndarray
    momentum: np.ndarray
    loss: np.ndarray
    train_loss: np.ndarray
    val_loss: np.ndarray
    val_accuracy: np.ndarray
    diverged: bool
    diverged_at: int | None
    epochs: int
    steps_per_epoch: int

    @classmethod
    def of_run(cls, *, lr, momentum, loss, val_loss, val_accuracy, diverged_at: int | None,
               batch_sizes) -> History:
        """The History of a run from its records (copied): the per-step ``lr``, ``momentum``
        (``None``: plain SGD, zeros) and ``loss``, the per-epoch ``val_loss`` and
        ``val_accuracy``, the step it diverged at (or ``None``) and ``batch_sizes``, the sizes
        of an epoch's minibatches. Entries after a divergence become NaN (see the class)."""
        epochs, steps_per_epoch = len(val_loss), len(batch_sizes)
        lr, loss = np.array(lr, dtype=np.float64), np.array(loss, dtype=np.float64)
        momentum = (np.zeros(len(lr)) if momentum is None
                    else np.array(momentum, dtype=np.float64))
        per_epoch = [np.array(a, dtype=np.float64) for a in (val_loss, val_accuracy)]
        weights = np.asarray(batch_sizes) / np.sum(batch_sizes)
        train_loss = loss.reshape(epochs, steps_per_epoch) @ weights   # the mean loss per example
        if diverged_at is not None:
            loss[diverged_at + 1:] = np.nan
            lr[diverged_at:] = momentum[diverged_at:] = np.nan
            for a in (train_loss, *per_epoch):
                a[diverged_at // steps_per_epoch:] = np.nan
        return cls(lr=lr, momentum=momentum, loss=loss, train_loss=train_loss,
                   val_loss=per_epoch[0], val_accuracy=per_epoch[1],
                   diverged=diverged_at is not None, diverged_at=diverged_at, epochs=epochs,
                   steps_per_epoch=steps_per_epoch)

    @property
    def steps(self) -> int:
        """Number of steps planned: ``epochs * steps_per_epoch``."""
        return self.epochs * self.steps_per_epoch

    @property
    def final_val_loss(self) -> float:
        """Validation loss after the last epoch (NaN if the run diverged)."""
        return float(self.val_loss[-1])

    @property
    def final_val_accuracy(self) -> float:
        """Validation accuracy after the last epoch (NaN if the run diverged or for regression)."""
        return float(self.val_accuracy[-1])

    @property
    def best_val_loss(self) -> float:
        """Lowest validation loss over the completed epochs (NaN if none completed)."""
        done = self.val_loss[~np.isnan(self.val_loss)]
        return float(done.min()) if done.size else math.nan

    def __repr__(self) -> str:
        head = f"History(epochs={self.epochs}, steps_per_epoch={self.steps_per_epoch}, "
        if self.diverged:
            return head + f"diverged at step {self.diverged_at})"
        acc = ("" if np.isnan(self.final_val_accuracy)
               else f", final_val_accuracy={self.final_val_accuracy:.4f}")
        return (head + f"final_val_loss={self.final_val_loss:.4g}, "
                f"best_val_loss={self.best_val_loss:.4g}{acc})")


def epoch_batch_sizes(n: int, batch_size: int) -> np.ndarray:
    """The sizes :math:`m'` of an epoch's minibatches: ``batch_size``, the last one smaller when
    ``batch_size`` does not divide the ``n`` examples (it is kept, as PyTorch's
    ``drop_last=False``)."""
    return np.array([min(batch_size, n - start) for start in range(0, n, batch_size)])


def divergence_limit(first_loss, factor: float, dtype):
    """The largest loss a step may have without counting as diverged: ``factor`` × the loss of
    step 0, at most the largest number of ``dtype``. A first loss <= 0 has no meaningful
    multiple: then only NaN/inf count. ``first_loss`` may be an array (one per run).

    A step diverged when ``not loss <= limit`` (NaN compares False).
    """
    fmax = float(np.finfo(dtype).max)
    first = np.asarray(first_loss, dtype=np.float64)
    return np.where(first > 0, np.minimum(factor * first, fmax), fmax)


def plateau_step(plateau, val_loss: float, lr, lr_base, lr0: float, k: int) -> bool:
    """Feed ``plateau`` the validation loss after step ``k``; if its rate changed, the rates
    ``lr`` of the steps after ``k`` become ``lr_base · plateau.lr / lr0`` (``lr0``: ``plateau.lr``
    when the run started), in place. True if they changed.

    Written ``plateau.lr · (lr_base / lr0)``, so that a constant rate equal to ``lr0`` gives
    exactly the plateau's rates.
    """
    before = plateau.lr
    after = plateau.step(float(val_loss))
    if after == before:
        return False
    lr[k + 1:] = after * (lr_base[k + 1:] / lr0)
    return True


def progress_bar(progress: bool, epochs: int):
    """A tqdm bar over the epochs (a context manager), or ``nullcontext()`` without ``progress``."""
    if not progress:
        return contextlib.nullcontext()
    try:  # the plain text bar: tqdm.auto would warn in a notebook without ipywidgets
        from tqdm import tqdm
    except ImportError:
        raise ImportError("progress=True needs tqdm, which is not a core dependency of lrcore: "
                          "pip install tqdm (or pass progress=False)") from None
    return tqdm(total=epochs, unit="epoch")
