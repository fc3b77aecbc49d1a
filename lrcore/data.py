"""Datasets for the book: a validated container, the real UCI digits, synthetic tasks.

Every loader returns a :class:`Dataset`: NumPy arrays (float32 features, int64 class labels or
float32 regression targets) that cannot be written to, so a training run cannot modify them.
The training engine moves the arrays to the GPU itself when it uses CuPy.

* :func:`load_digits` -- the UCI 8x8 handwritten digits (1,797 images, 10 classes), shipped with
  the package in ``lrcore/data/digits.csv.gz`` (see ``lrcore/data/README.md``).
* :func:`make_least_squares` -- a linear regression whose Hessian is known exactly, so the
  largest stable learning rate ``2 / λ_max`` is known before training.
* :func:`make_spirals` -- interleaved 2-D spirals, a small non-linear classification task to draw.
* :func:`make_teacher_student` -- a random linear teacher labels Gaussian points, a fraction of
  the labels replaced by random ones: the testbed of the schedule chapters, where SGD noise, not
  fitting the training set, limits the final loss; its floor (the Bayes loss) is known.

MNIST and Fashion-MNIST (:func:`~lrcore.mnist.read_idx`, :func:`~lrcore.mnist.load_mnist`) are
read by :mod:`lrcore.mnist`; both names remain importable from here.

Randomness comes only from ``np.random.default_rng(seed)`` created inside each function.
"""
from __future__ import annotations

import gzip
import hashlib
import math
from dataclasses import KW_ONLY, dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from . import checks

__all__ = [
    "Dataset",
    "load_digits",
    "make_least_squares",
    "make_spirals",
    "make_teacher_student",
]

_MOVED_TO_MNIST = ("read_idx", "load_mnist", "MNIST_CHECKSUMS", "MNIST_MIRRORS")


def __getattr__(name):
    """The MNIST names moved to :mod:`lrcore.mnist`; they are still importable from here.

    Imported on first use: ``mnist`` builds its datasets with this module's :class:`Dataset`,
    so importing it at the top would make the two modules import each other.
    """
    if name in _MOVED_TO_MNIST:
        from . import mnist

        return getattr(mnist, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

_DATA_DIR = Path(__file__).with_name("data")


# --------------------------------------------------------------------------------------------
# Dataset
# --------------------------------------------------------------------------------------------

def _frozen(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


def _as_features(X, name: str) -> np.ndarray:
    """Validate ``X``: 2-D, real, finite; return a fresh float32 C-contiguous copy."""
    try:
        a = np.asarray(X)
    except (ValueError, TypeError) as exc:  # ragged nested lists
        raise TypeError(f"{name} must be a 2-D array of real numbers; {exc}") from None
    if a.dtype.kind not in "iuf":  # not bool, complex, object, str, or timedelta (a NumPy integer)
        raise TypeError(f"{name} must be a 2-D array of real numbers (integer or float dtype); "
                        f"got dtype {a.dtype}")
    if a.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_samples, n_features); got shape {a.shape}")
    if a.shape[0] < 1 or a.shape[1] < 1:
        raise ValueError(f"{name} must have at least one sample and one feature; got shape {a.shape}")
    with np.errstate(over="ignore"):  # a value beyond float32 becomes inf, reported below
        a = np.array(a, dtype=np.float32, order="C", copy=True)
    if not np.isfinite(a).all():
        raise ValueError(f"{name} contains NaN or inf (after conversion to float32)")
    return _frozen(a)


def _target_kind(y, name: str) -> tuple[np.ndarray, str]:
    try:
        a = np.asarray(y)
    except (ValueError, TypeError) as exc:
        raise TypeError(f"{name} must be a 1-D array of integer class labels or an array of "
                        f"float regression targets; {exc}") from None
    if a.dtype.kind in "iu":  # not bool, nor timedelta64 (which NumPy counts as an integer)
        return a, "classification"
    if a.dtype.kind == "f":
        return a, "regression"
    raise TypeError(f"{name} must hold integer class labels in [0, n_classes) or float regression "
                    f"targets; got dtype {a.dtype}")


def _class_labels(ytr: np.ndarray, yva: np.ndarray, n_classes):
    """Labels 1-D in [0, n_classes), every class in the training split: int64 copies, n_classes."""
    if ytr.ndim != 1 or yva.ndim != 1:
        bad, y = ("y_train", ytr) if ytr.ndim != 1 else ("y_val", yva)
        raise ValueError(f"{bad} must be 1-D integer class labels; got shape {y.shape}")
    lo = min(int(ytr.min()), int(yva.min()))  # Python ints: uint64 labels do not wrap
    if lo < 0:
        bad = "y_train" if ytr.min() < 0 else "y_val"
        raise ValueError(f"{bad} must hold integer class labels in [0, n_classes); "
                         f"got a negative label {lo}")
    top = max(int(ytr.max()), int(yva.max())) + 1
    if n_classes is None:
        n_classes = top
    else:
        n_classes = checks.integer("n_classes", n_classes, low=2, high=None)
        if top > n_classes:
            bad = "y_train" if ytr.max() >= n_classes else "y_val"
            raise ValueError(f"{bad} must hold integer class labels in [0, n_classes) "
                             f"= [0, {n_classes}); got label {top - 1}")
    if n_classes < 2:
        raise ValueError(f"classification needs at least 2 classes; the labels give "
                         f"n_classes = {n_classes}")
    if n_classes > len(ytr):  # checked before np.arange(n_classes), huge for a huge label
        raise ValueError(f"y_train must contain every class in [0, {n_classes}); its "
                         f"{len(ytr)} labels cannot (largest label {top - 1})")
    ytr = np.array(ytr, dtype=np.int64, copy=True)
    yva = np.array(yva, dtype=np.int64, copy=True)
    missing = np.setdiff1d(np.arange(n_classes), ytr)
    if missing.size:
        raise ValueError(f"y_train must contain every class in [0, {n_classes}); "
                         f"missing {missing.tolist()[:10]}")
    return ytr, yva, n_classes


def _regression_targets(ytr: np.ndarray, yva: np.ndarray, n_classes):
    """Targets 1-D or 2-D, alike in trailing shape, finite in float32: float32 copies, None."""
    if n_classes is not None:
        raise ValueError(f"n_classes must be None for regression (float targets); y_train "
                         f"has dtype {ytr.dtype}: pass integer labels for classification")
    if ytr.ndim not in (1, 2) or yva.ndim not in (1, 2):
        bad, y = ("y_train", ytr) if ytr.ndim not in (1, 2) else ("y_val", yva)
        raise ValueError(f"{bad} must be 1-D (n,) or 2-D (n, n_outputs) float targets; "
                         f"got shape {y.shape}")
    if ytr.shape[1:] != yva.shape[1:]:
        raise ValueError(f"y_val has shape {yva.shape} but y_train has {ytr.shape}; the "
                         f"targets must have the same trailing shape")
    with np.errstate(over="ignore"):  # beyond float32 -> inf, reported below
        ytr = np.array(ytr, dtype=np.float32, order="C", copy=True)
        yva = np.array(yva, dtype=np.float32, order="C", copy=True)
    for yname, y in (("y_train", ytr), ("y_val", yva)):
        if not np.isfinite(y).all():
            raise ValueError(f"{yname} contains NaN or inf (after conversion to float32)")
    return ytr, yva, None


@dataclass(frozen=True, eq=False, repr=False)
class Dataset:
    """A train/validation split, validated once and then read-only.

    ``Dataset(X_train, y_train, X_val, y_val, *, name="", info=None, n_classes=None)``

    Features ``X``: 2-D ``(n_samples, n_features)``, real and finite; stored as float32,
    C-contiguous. Train and validation must have the same number of features, and
    ``len(X) == len(y)`` for each.

    The task is decided by the dtype of the targets (both splits must agree):

    * **classification** when ``y`` is an integer array: 1-D, stored as int64. Labels must lie in
      ``[0, n_classes)``, where ``n_classes`` is the keyword if given, else ``max label + 1`` over
      train and validation; and **every class must occur in the training split** (a class that is
      never trained on is almost always a bug, e.g. an unshuffled split).
    * **regression** when ``y`` is a float array: 1-D ``(n,)`` or 2-D ``(n, n_outputs)``, finite,
      stored as float32. Integer-valued targets meant for regression must be passed as floats.

    Attributes: ``X_train, y_train, X_val, y_val, task, n_classes`` (``None`` for regression),
    ``n_features, n_train, n_val, name, info`` (a dict of metadata: source, normalisation
    statistics, exact Hessian eigenvalues...). The arrays are copies with ``writeable=False``,
    and the dataset is a frozen dataclass: its attributes cannot be rebound
    (``dataclasses.FrozenInstanceError``, an ``AttributeError``); ``dataclasses.replace(ds,
    name="other")`` builds a new, validated one. A dataset equals only itself (``==`` is ``is``:
    the arrays are not compared), and it can be a dict key.

    >>> import numpy as np
    >>> ds = Dataset(np.zeros((4, 3)), np.array([0, 1, 2, 1]),
    ...              np.ones((2, 3)), np.array([2, 0]), name="toy")
    >>> ds
    Dataset('toy', train=4x3, val=2x3, classes=3)
    >>> ds.task, ds.n_classes, ds.X_train.dtype, ds.y_train.dtype
    ('classification', 3, dtype('float32'), dtype('int64'))
    >>> ds.X_train.flags.writeable
    False
    >>> Dataset(np.zeros((4, 3)), np.zeros(4), np.zeros((2, 2)), np.zeros(2))
    Traceback (most recent call last):
    ...
    ValueError: X_val has 2 features but X_train has 3
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    _: KW_ONLY
    name: str = ""
    info: dict | None = None  # a dict once built
    n_classes: int | None = None  # an int once built, for classification
    task: str = field(init=False)  # "classification" or "regression"
    n_features: int = field(init=False)
    n_train: int = field(init=False)
    n_val: int = field(init=False)

    def __post_init__(self):
        """Check and convert the arguments; store the read-only copies in place of them."""
        if not isinstance(self.name, str):
            raise TypeError(f"name must be a str; got {type(self.name).__name__}")
        if self.info is not None and not isinstance(self.info, dict):
            raise TypeError(f"info must be a dict or None; got {type(self.info).__name__}")
        Xtr = _as_features(self.X_train, "X_train")
        Xva = _as_features(self.X_val, "X_val")
        if Xva.shape[1] != Xtr.shape[1]:
            raise ValueError(f"X_val has {Xva.shape[1]} features but X_train has {Xtr.shape[1]}")

        ytr, task = _target_kind(self.y_train, "y_train")
        yva, task_val = _target_kind(self.y_val, "y_val")
        if task_val != task:
            raise TypeError(f"y_train and y_val must both be integer labels or both float targets; "
                            f"got dtypes {ytr.dtype} and {yva.dtype}")
        for yname, y, X in (("y_train", ytr, Xtr), ("y_val", yva, Xva)):
            if y.ndim == 0 or len(y) != len(X):
                raise ValueError(f"{yname} has shape {y.shape} but X{yname[1:]} has {len(X)} "
                                 f"samples; they must have the same length")
        if task == "classification":
            ytr, yva, n_classes = _class_labels(ytr, yva, self.n_classes)
        else:
            ytr, yva, n_classes = _regression_targets(ytr, yva, self.n_classes)

        # array metadata is frozen too (a fresh copy, not the caller's)
        info = {key: _frozen(value.copy()) if isinstance(value, np.ndarray) else value
                for key, value in (self.info or {}).items()}
        checked = dict(X_train=Xtr, y_train=_frozen(ytr), X_val=Xva, y_val=_frozen(yva), info=info,
                       n_classes=n_classes, task=task, n_features=int(Xtr.shape[1]),
                       n_train=int(Xtr.shape[0]), n_val=int(Xva.shape[0]))
        for attribute, value in checked.items():
            object.__setattr__(self, attribute, value)  # how a frozen dataclass sets its own fields

    def __repr__(self) -> str:
        if self.task == "classification":
            kind = f"classes={self.n_classes}"
        elif self.y_train.ndim == 2:
            kind = f"regression, outputs={self.y_train.shape[1]}"
        else:
            kind = "regression"
        return (f"Dataset({self.name!r}, train={self.n_train}x{self.n_features}, "
                f"val={self.n_val}x{self.n_features}, {kind})")

    def __reduce__(self):  # copy and pickle through the constructor: checked, read-only copies
        keywords = dict(name=self.name, info=self.info, n_classes=self.n_classes)
        return _rebuild, (self.X_train, self.y_train, self.X_val, self.y_val, keywords)


def _rebuild(X_train, y_train, X_val, y_val, keywords) -> Dataset:
    """``Dataset(X_train, y_train, X_val, y_val, **keywords)``: what a pickled Dataset calls."""
    return Dataset(X_train, y_train, X_val, y_val, **keywords)


# --------------------------------------------------------------------------------------------
# helpers shared by the loaders
# --------------------------------------------------------------------------------------------

def _stratified_split(y: np.ndarray, val_fraction: float, rng: np.random.Generator):
    """Indices ``(train, val)``: each class split in proportion, both splits shuffled.

    The validation split has ``ceil(val_fraction * n)`` samples (as scikit-learn's
    ``train_test_split``); they are shared among the classes in proportion to the class sizes by
    the largest-remainder method, and every class keeps at least one training sample.
    """
    n = len(y)
    classes, counts = np.unique(y, return_counts=True)
    n_val = math.ceil(round(val_fraction * n, 9))
    n_val = min(max(n_val, 1), n - len(classes))
    if n_val < 1:
        raise ValueError(f"cannot split {n} samples of {len(classes)} classes: every class needs "
                         f"one training sample and the validation split one sample")
    exact = n_val * counts / n
    quota = np.floor(exact).astype(np.int64)
    order = np.argsort(-(exact - quota), kind="stable")
    quota[order[: n_val - quota.sum()]] += 1
    quota = np.minimum(quota, counts - 1)
    train, val = [], []
    for c, q in zip(classes, quota):
        idx = rng.permutation(np.flatnonzero(y == c))
        val.append(idx[:q])
        train.append(idx[q:])
    train = rng.permutation(np.concatenate(train))
    val = rng.permutation(np.concatenate(val))
    return train, val


def _standardize(X_train: np.ndarray, X_val: np.ndarray, *, min_std: float = 0.0):
    """``(X - μ) / max(σ, min_std)`` with μ, σ over the *training* rows (σ = 0 -> 1);
    returns X's, μ, σ (float64)."""
    mean = X_train.mean(axis=0, dtype=np.float64)
    std = np.maximum(X_train.std(axis=0, dtype=np.float64), min_std)
    std = np.where(std > 0, std, 1.0)
    return (X_train - mean) / std, (X_val - mean) / std, mean, std


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# --------------------------------------------------------------------------------------------
# UCI digits
# --------------------------------------------------------------------------------------------

DIGITS_FILE = _DATA_DIR / "digits.csv.gz"
DIGITS_SHA256 = "09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22"


@lru_cache(maxsize=4)
def _read_digits(path: str, sha256: str):
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"digits data file not found: {p} (is the package installed with "
                                f"its data files?)")
    found = _sha256(p)
    if found != sha256:
        raise ValueError(f"digits data file {p} is corrupt: sha256 expected {sha256}, found {found}")
    with gzip.open(p, "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.int64)
    if table.shape != (1797, 65):
        raise ValueError(f"digits data file {p} has shape {table.shape}; expected (1797, 65)")
    return _frozen(table[:, :64].copy()), _frozen(table[:, 64].copy())


def load_digits(*, val_fraction: float = 0.2, seed: int = 0) -> Dataset:
    """The UCI 8x8 handwritten digits: 1,797 images, 64 pixel features (0..16), 10 classes.

    The real data (E. Alpaydin and C. Kaynak, 1998; CC BY 4.0), shipped in
    ``lrcore/data/digits.csv.gz`` and checked against its sha256 before use.

    Split: stratified with ``np.random.default_rng(seed)``; ``ceil(val_fraction * 1797)`` images
    go to validation, each class in proportion. Features are standardized with *training*
    statistics, ``x ← (x - μ_train) / max(σ_train, 1)`` in grey levels (0..16), so the training
    mean of every feature is 0. The floor of one grey level matters for the nearly always blank
    border pixels: their σ can be as small as 0.03, and dividing by it would turn one stray pixel
    into a feature hundreds of standard units large that dominates a validation loss. ``info`` holds ``mean``, ``std``
    (float64, for un-standardizing a picture), ``image_shape``, ``source``, ``licence``,
    ``sha256``, ``seed`` and ``val_fraction``.

    >>> ds = load_digits(seed=0)
    >>> ds
    Dataset('digits', train=1437x64, val=360x64, classes=10)
    >>> print(f"{abs(ds.X_train.mean(axis=0)).max():.4f}")
    0.0000
    >>> np.bincount(ds.y_val).tolist()
    [36, 37, 35, 37, 36, 36, 36, 36, 35, 36]
    """
    val_fraction = checks.fraction("val_fraction", val_fraction)
    seed = checks.seed("seed", seed)
    X, y = _read_digits(str(DIGITS_FILE), DIGITS_SHA256)
    rng = np.random.default_rng(seed)
    tr, va = _stratified_split(y, val_fraction, rng)
    X_train, X_val, mean, std = _standardize(X[tr].astype(np.float64), X[va].astype(np.float64),
                                             min_std=1.0)
    info = {
        "source": "UCI ML Optical Recognition of Handwritten Digits (E. Alpaydin, C. Kaynak, 1998), "
                  "via scikit-learn's digits.csv.gz",
        "licence": "CC BY 4.0",
        "sha256": DIGITS_SHA256,
        "image_shape": (8, 8),
        "mean": mean,
        "std": std,
        "seed": seed,
        "val_fraction": val_fraction,
    }
    return Dataset(X_train, y[tr], X_val, y[va], name="digits", info=info, n_classes=10)


# --------------------------------------------------------------------------------------------
# synthetic tasks
# --------------------------------------------------------------------------------------------

def make_least_squares(*, n_train: int = 512, n_val: int = 128, n_features: int = 20,
                       lambda_max: float = 10.0, lambda_min: float = 0.1, noise: float = 0.5,
                       seed: int = 0) -> Dataset:
    r"""Linear regression whose loss has a Hessian known exactly: the stability limit of GD is known.

    The loss the engine's ``LinearRegression`` minimises on the training set is

    .. math:: L(w, b) = \frac{1}{2n} \sum_{i=1}^{n} (x_i \cdot w + b - y_i)^2 ,

    a quadratic with Hessian :math:`H = \frac{1}{n} \begin{pmatrix} X^\top X & X^\top 1 \\
    1^\top X & n \end{pmatrix}`. ``X_train`` is built exactly centred (:math:`X^\top 1 = 0`) with
    orthogonal columns scaled so that :math:`X^\top X / n = \mathrm{diag}(λ_1, …, λ_d)`, the
    :math:`λ_j` log-spaced from ``lambda_max`` down to ``lambda_min``; hence
    :math:`H = \mathrm{diag}(λ_1, …, λ_d, 1)` (the 1 belongs to the bias ``b``).
    Gradient descent :math:`θ_{k+1} = θ_k - ε ∇L(θ_k)` on a quadratic converges for every start
    iff :math:`0 < ε < 2 / λ_{max}(H)`.

    Targets: ``y = X w_true + b_true + noise · ξ``, with ``w_true, b_true, ξ ~ N(0, 1)``.
    Validation features are drawn from the same distribution, ``N(0, diag(λ))``.

    The data are stored in float32, which perturbs the construction by ~1e-7 relative; ``info``
    therefore reports the Hessian **of the stored data**, computed in float64:
    ``hessian_eigenvalues`` (descending, ``n_features + 1`` values), ``lambda_max``,
    ``lambda_min``, ``lr_stability_limit = 2 / lambda_max``, the float64 least-squares optimum
    on the stored training data ``w_star``, ``b_star`` (and ``loss_star``, the loss there), and
    the generating ``w_true``, ``b_true``, ``noise``, ``seed``. The largest eigenvalue is
    ``max(lambda_max, 1)``: with ``lambda_max < 1`` the bias direction is the stiffest one.

    Requires ``n_train >= n_features + 1`` (centred orthogonal columns need that many rows) and
    ``0 < lambda_min <= lambda_max``; with ``n_features == 1`` the single eigenvalue is
    ``lambda_max``. The data must fit in float32 (features of scale ``sqrt(lambda_max)``, targets
    of scale ``noise``, all below 3.4e38), else ``ValueError``.

    >>> ds = make_least_squares(n_features=5, lambda_max=4.0, lambda_min=0.25)
    >>> ds
    Dataset('least-squares', train=512x5, val=128x5, regression)
    >>> print(ds.info["hessian_eigenvalues"].round(4))
    [4.   2.   1.   1.   0.5  0.25]
    >>> print(f"{ds.info['lr_stability_limit']:.4f}")
    0.5000
    """
    n_features = checks.integer("n_features", n_features, low=1)
    n_train = checks.integer("n_train", n_train, low=n_features + 1, why="n_features + 1")
    n_val = checks.integer("n_val", n_val, low=1)
    lambda_max = checks.real("lambda_max", lambda_max, low=0, low_open=True)
    lambda_min = checks.real("lambda_min", lambda_min, low=0, low_open=True)
    if lambda_min > lambda_max:
        raise ValueError(f"lambda_min must be <= lambda_max; got lambda_min={lambda_min}, "
                         f"lambda_max={lambda_max}")
    noise = checks.real("noise", noise, low=0)
    seed = checks.seed("seed", seed)
    rng = np.random.default_rng(seed)

    eig = np.geomspace(lambda_max, lambda_min, n_features)           # λ_1 ≥ … ≥ λ_d
    A = rng.standard_normal((n_train, n_features))
    A -= A.mean(axis=0)                                              # columns ⟂ 1
    Q, R = np.linalg.qr(A)                                           # orthonormal, still ⟂ 1
    Q *= np.sign(np.diag(R))                                         # make the factorisation unique
    with np.errstate(over="ignore", invalid="ignore"):  # data beyond float32: reported below
        X_train = Q * np.sqrt(n_train * eig)                             # XᵀX / n = diag(λ)
        X_val = rng.standard_normal((n_val, n_features)) * np.sqrt(eig)  # N(0, diag(λ))
        w_true = rng.standard_normal(n_features)
        b_true = float(rng.standard_normal())
        y_train = X_train @ w_true + b_true + noise * rng.standard_normal(n_train)
        y_val = X_val @ w_true + b_true + noise * rng.standard_normal(n_val)
        stored = [a.astype(np.float32) for a in (X_train, y_train, X_val, y_val)]
    if not all(np.isfinite(a).all() for a in stored):
        raise ValueError(f"lambda_max and noise must keep the data within float32, in which it is "
                         f"stored (|value| < 3.4e38); got lambda_max={lambda_max}, noise={noise}")

    # the Hessian and the optimum of the data as stored (float32), computed in float64
    Xs, ys = stored[0].astype(np.float64), stored[1].astype(np.float64)
    X1 = np.hstack([Xs, np.ones((n_train, 1))])
    hessian = X1.T @ X1 / n_train
    h_eig = np.linalg.eigvalsh(hessian)[::-1].copy()
    theta, *_ = np.linalg.lstsq(X1, ys, rcond=None)
    loss_star = float(0.5 * np.mean((X1 @ theta - ys) ** 2))
    info = {
        "hessian_eigenvalues": h_eig,
        "lambda_max": float(h_eig[0]),
        "lambda_min": float(h_eig[-1]),
        "lr_stability_limit": 2.0 / float(h_eig[0]),
        "w_star": theta[:-1],
        "b_star": float(theta[-1]),
        "loss_star": loss_star,
        "w_true": w_true,
        "b_true": b_true,
        "noise": noise,
        "seed": seed,
    }
    return Dataset(X_train, y_train, X_val, y_val, name="least-squares", info=info)


def make_spirals(*, n_train: int = 600, n_val: int = 300, n_classes: int = 3, turns: float = 1.0,
                 noise: float = 0.05, seed: int = 0) -> Dataset:
    r"""Interleaved 2-D spirals: a small classification task that a linear model cannot solve.

    Sample ``i`` gets class ``c`` (classes balanced: ``i mod n_classes``, then shuffled), a radius
    ``r ~ U(0, 1)`` and the angle ``φ = 2π c / K + 2π · turns · r``; its point is
    ``r (cos φ, sin φ) + noise · ξ`` with ``ξ ~ N(0, I)``. Train and validation come from the
    same generator; both are then standardized with the training mean and standard deviation
    (stored in ``info["mean"]``, ``info["std"]`` to map points back for pictures). ``turns`` or
    ``noise`` so large (beyond about 1e150) that the standardization overflows float64 raise
    ``ValueError``.

    >>> ds = make_spirals(n_train=300, n_val=90, seed=1)
    >>> ds
    Dataset('spirals', train=300x2, val=90x2, classes=3)
    >>> np.bincount(ds.y_train).tolist()
    [100, 100, 100]
    """
    n_classes = checks.integer("n_classes", n_classes, low=2)
    n_train = checks.integer("n_train", n_train, low=n_classes, why="n_classes")
    n_val = checks.integer("n_val", n_val, low=1)
    turns = checks.real("turns", turns, low=0, low_open=True)
    noise = checks.real("noise", noise, low=0)
    seed = checks.seed("seed", seed)
    rng = np.random.default_rng(seed)

    def draw(n):
        c = rng.permutation(np.arange(n) % n_classes)
        r = rng.uniform(0.0, 1.0, n)
        phi = 2 * np.pi * c / n_classes + 2 * np.pi * turns * r
        X = r[:, None] * np.stack([np.cos(phi), np.sin(phi)], axis=1)
        return X + noise * rng.standard_normal((n, 2)), c

    with np.errstate(over="ignore", invalid="ignore"):  # overflow: reported below
        X_train, y_train = draw(n_train)
        X_val, y_val = draw(n_val)
        X_train, X_val, mean, std = _standardize(X_train, X_val)
    if not all(np.isfinite(a).all() for a in (X_train, X_val, std)):
        raise ValueError(f"turns and noise must be small enough for the points to be standardized in "
                         f"float64; got turns={turns}, noise={noise}")
    info = {"mean": mean, "std": std, "turns": turns, "noise": noise, "seed": seed}
    return Dataset(X_train, y_train, X_val, y_val, name="spirals", info=info, n_classes=n_classes)


def make_teacher_student(*, n_train: int = 8000, n_val: int = 4000, n_features: int = 20,
                         n_classes: int = 5, condition: float = 100.0, label_noise: float = 0.3,
                         seed: int = 0) -> Dataset:
    r"""A random linear teacher labels Gaussian points; a fraction of its labels is noise.

    **What.** Features :math:`x \sim N(0, \mathrm{diag}(s_1^2, …, s_d^2))`, the scales
    :math:`s_j` log-spaced from 1 down to :math:`1/\sqrt{\text{condition}}` (so the input
    covariance has condition number ``condition``: a student has slow directions to learn). A
    fixed teacher :math:`W \in \mathbb{R}^{d \times C}`, :math:`W_{jc} \sim N(0, 1/(d s_j^2))`
    (every feature matters about equally to the teacher, however small its scale), gives the
    clean label :math:`c^*(x) = \arg\max_c (xW)_c`. Each label is then, with probability
    ``label_noise`` :math:`= p`, replaced by a class drawn uniformly from all ``n_classes``
    :math:`= C` (possibly the clean one). Train and validation come from the same generator.

    **Why.** It is the testbed of the schedule chapters, chosen by measurement
    (``bench/testbed_selection.py``): the noisy labels make the per-example gradients large even
    at the best parameters, so minibatch SGD with a constant rate ε keeps bouncing around them
    (a noise ball that grows with ε), and within a few epochs it is that noise, not the model's
    capacity or the size of the training set, that limits the final validation loss. Decaying
    the rate shrinks the ball: here a decay beats the best constant rate clearly, which the digits
    (fitted to a training loss near 0) could not show.

    **The floor.** The best any model can do is to predict the teacher's noisy-label posterior:
    probability :math:`q = 1 - p + p/C` on :math:`c^*(x)` and :math:`p/C` on each other class.
    Its cross-entropy, the Bayes loss :math:`-q \ln q - (1 - q) \ln(p / C)`, and accuracy
    :math:`q` are in ``info["bayes_loss"]``, ``info["bayes_accuracy"]`` (0 and 1 without noise).

    Classes are not exactly balanced (each is a cone of the teacher); with a tiny ``n_train`` a
    class may be missing and :class:`Dataset` refuses the split. ``info`` also holds
    ``teacher`` (W), ``scales``, ``condition``, ``label_noise`` and ``seed``. Features are not
    standardized: their unequal scales are the point.

    >>> ds = make_teacher_student(n_train=2000, n_val=500, seed=0)
    >>> ds
    Dataset('teacher-student', train=2000x20, val=500x20, classes=5)
    >>> print(f"{ds.info['bayes_loss']:.4f} {ds.info['bayes_accuracy']:.2f}")
    0.8838 0.76
    """
    n_train = checks.integer("n_train", n_train, low=1)
    n_val = checks.integer("n_val", n_val, low=1)
    n_features = checks.integer("n_features", n_features, low=1)
    n_classes = checks.integer("n_classes", n_classes, low=2)
    condition = checks.real("condition", condition, low=1)
    label_noise = checks.real("label_noise", label_noise, low=0, high=1, high_open=True)
    seed = checks.seed("seed", seed)
    rng = np.random.default_rng(seed)

    scales = np.geomspace(1.0, 1.0 / math.sqrt(condition), n_features)   # s_j
    teacher = rng.standard_normal((n_features, n_classes)) / (scales[:, None]
                                                               * math.sqrt(n_features))
    n = n_train + n_val
    X = rng.standard_normal((n, n_features)) * scales                  # x ~ N(0, diag(s²))
    clean = np.argmax(X @ teacher, axis=1)                             # c*(x)
    noisy = rng.random(n) < label_noise                                # replaced w.p. p
    y = np.where(noisy, rng.integers(0, n_classes, n), clean)

    q = 1.0 - label_noise + label_noise / n_classes                    # P(y = c*(x))
    rest = label_noise / n_classes                                     # P(y = c) otherwise
    bayes_loss = -q * math.log(q) - ((1.0 - q) * math.log(rest) if rest > 0 else 0.0)
    info = {
        "bayes_loss": bayes_loss,
        "bayes_accuracy": q,
        "teacher": teacher,
        "scales": scales,
        "condition": condition,
        "label_noise": label_noise,
        "seed": seed,
    }
    return Dataset(X[:n_train], y[:n_train], X[n_train:], y[n_train:], name="teacher-student",
                   info=info, n_classes=n_classes)
