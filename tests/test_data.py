"""Tests of lrcore.data: Dataset validation, the digits file, synthetic tasks (MNIST: test_mnist.py)."""
import copy
import dataclasses
import hashlib
import inspect
import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrcore import data
from lrcore.data import (Dataset, load_digits, make_least_squares, make_spirals,
                         make_teacher_student)
from lrcore.mnist import load_mnist


# ------------------------------------------------------------------------------------------
# Dataset
# ------------------------------------------------------------------------------------------

def _cls(**over):
    args = dict(X_train=np.zeros((6, 3)), y_train=np.array([0, 1, 2, 0, 1, 2]),
                X_val=np.zeros((2, 3)), y_val=np.array([1, 2]))
    args.update(over)
    return args


def test_dataset_classification_attributes_and_repr():
    ds = Dataset(**_cls(), name="toy", info={"a": np.arange(3)})
    assert ds.task == "classification" and ds.n_classes == 3
    assert (ds.n_train, ds.n_val, ds.n_features) == (6, 2, 3)
    assert ds.X_train.dtype == np.float32 and ds.X_train.flags.c_contiguous
    assert ds.y_train.dtype == np.int64
    assert repr(ds) == "Dataset('toy', train=6x3, val=2x3, classes=3)"


def test_dataset_regression_1d_and_2d():
    ds = Dataset(np.ones((4, 2)), np.arange(4.0), np.ones((1, 2)), np.zeros(1), name="r")
    assert ds.task == "regression" and ds.n_classes is None and ds.y_train.dtype == np.float32
    assert repr(ds) == "Dataset('r', train=4x2, val=1x2, regression)"
    ds2 = Dataset(np.ones((4, 2)), np.zeros((4, 3)), np.ones((1, 2)), np.zeros((1, 3)))
    assert ds2.y_val.shape == (1, 3) and "outputs=3" in repr(ds2)


def test_dataset_is_read_only_and_copies_inputs():
    X = np.zeros((6, 3), dtype=np.float32)
    info = {"v": np.zeros(2)}
    ds = Dataset(**_cls(X_train=X), info=info)
    assert X.flags.writeable and info["v"].flags.writeable  # the caller's arrays are untouched
    for a in (ds.X_train, ds.y_train, ds.X_val, ds.y_val, ds.info["v"]):
        with pytest.raises(ValueError):
            a[0] = 1
    with pytest.raises(AttributeError):
        ds.X_train = X
    with pytest.raises(AttributeError):
        del ds.name
    X[0, 0] = 5
    assert ds.X_train[0, 0] == 0


def test_dataset_is_a_frozen_dataclass_with_the_documented_constructor():
    params = inspect.signature(Dataset).parameters
    assert [(n, p.kind.name) for n, p in params.items()] == (
        [(n, "POSITIONAL_OR_KEYWORD") for n in ("X_train", "y_train", "X_val", "y_val")]
        + [(n, "KEYWORD_ONLY") for n in ("name", "info", "n_classes")])
    assert [params[n].default for n in ("name", "info", "n_classes")] == ["", None, None]
    ds = Dataset(**_cls(), name="toy")
    for statement in ("ds.name = 'x'", "ds.n_train = 1", "ds.extra = 1", "del ds.X_val", "del ds.extra"):
        with pytest.raises(dataclasses.FrozenInstanceError):  # an AttributeError
            exec(statement)
    other = dataclasses.replace(ds, name="other")  # a new dataset, checked again
    assert other.name == "other" and np.array_equal(other.X_train, ds.X_train)
    with pytest.raises(TypeError, match="name must be a str; got int"):
        dataclasses.replace(ds, name=3)


def test_dataset_equals_only_itself_and_copies_stay_read_only():
    ds = Dataset(**_cls(), name="toy", info={"a": np.arange(3)})
    twin = Dataset(**_cls(), name="toy", info={"a": np.arange(3)})
    assert ds == ds and ds != twin and len({ds, twin, ds}) == 2  # identity: arrays not compared
    for copied in (copy.copy(ds), copy.deepcopy(ds), pickle.loads(pickle.dumps(ds))):
        assert copied is not ds and repr(copied) == repr(ds) and copied.info.keys() == ds.info.keys()
        for name in ("X_train", "y_train", "X_val", "y_val"):
            a, b = getattr(copied, name), getattr(ds, name)
            assert a.dtype == b.dtype and np.array_equal(a, b) and not a.flags.writeable
        assert np.array_equal(copied.info["a"], ds.info["a"]) and not copied.info["a"].flags.writeable


@pytest.mark.parametrize("over, exc, match", [
    (dict(X_train=np.zeros(6)), ValueError, "X_train must be 2-D"),
    (dict(X_val=np.zeros((2, 3, 1))), ValueError, "X_val must be 2-D"),
    (dict(X_train=np.zeros((0, 3)), y_train=np.zeros(0, int)), ValueError, "X_train must have at least"),
    (dict(X_train=np.array([["a"] * 3] * 6)), TypeError, "X_train must be a 2-D array of real"),
    (dict(X_val=np.ones((2, 3), dtype=complex)), TypeError, "X_val .*got dtype complex128"),
    (dict(X_train=np.ones((6, 3), dtype=bool)), TypeError, "X_train .*got dtype bool"),
    (dict(X_train=[[1, 2], [3]]), TypeError, "X_train must be a 2-D array"),
    (dict(X_val=np.zeros((2, 2))), ValueError, "X_val has 2 features but X_train has 3"),
    (dict(X_train=np.full((6, 3), np.nan)), ValueError, "X_train contains NaN or inf"),
    (dict(X_val=np.array([[np.inf, 0, 0], [0, 0, 0]])), ValueError, "X_val contains NaN or inf"),
    (dict(X_train=np.full((6, 3), 1e39)), ValueError, "X_train contains NaN or inf"),  # float32 overflow
    (dict(y_train=np.array(["a"] * 6, dtype=object)), TypeError,
     r"y_train must hold integer class labels in \[0, n_classes\) or float regression targets; got dtype object"),
    (dict(y_val=np.array([True, False])), TypeError, "y_val must hold integer.*got dtype bool"),
    (dict(y_val=np.array([0.5, 1.0])), TypeError, "y_train and y_val must both"),
    (dict(y_train=np.array([0, 1, 2, 0, 1])), ValueError, "y_train has shape .5,. but X_train has 6"),
    (dict(y_val=np.array(1)), ValueError, "y_val has shape"),
    (dict(y_train=np.zeros((6, 1), int)), ValueError, "y_train must be 1-D integer class labels"),
    (dict(y_train=np.array([0, 1, 2, 0, 1, -1])), ValueError, "y_train .*negative label -1"),
    (dict(y_val=np.array([1, 5])), ValueError, r"y_train must contain every class in \[0, 6\); missing \[3, 4, 5\]"),
    (dict(y_train=np.zeros(6, int), y_val=np.zeros(2, int)), ValueError, "at least 2 classes"),
    # timedelta64 is an integer to NumPy: accepted as features and labels before
    (dict(X_train=np.zeros((6, 3), "m8[s]")), TypeError, r"X_train .*got dtype timedelta64\[s\]"),
    (dict(y_train=np.arange(6).astype("m8[s]"), y_val=np.arange(2).astype("m8[s]")), TypeError,
     r"y_train must hold integer class labels .*got dtype timedelta64\[s\]"),
    # a label too large for the labels to hold every class: MemoryError (7 TiB), "array is too
    # big", or (uint64 cast to int64) "a negative label -1" before
    (dict(y_val=np.array([1, 10**12])), ValueError,
     r"y_train must contain every class in \[0, 1000000000001\); its 6 labels cannot \(largest label 1000000000000\)"),
    (dict(y_train=np.array([0, 1, 2, 0, 1, 2**62])), ValueError, "its 6 labels cannot .largest label 4611686018427387904"),
    (dict(y_train=np.array([0, 1, 2, 0, 1, 2**64 - 1], np.uint64), y_val=np.array([1, 2], np.uint64)),
     ValueError, "its 6 labels cannot .largest label 18446744073709551615"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_dataset_validation_errors(over, exc, match):
    with pytest.raises(exc, match=match):
        Dataset(**_cls(**over))


def test_dataset_n_classes_keyword():
    assert Dataset(**_cls(), n_classes=3).n_classes == 3
    with pytest.raises(ValueError, match=r"y_val must hold integer class labels in \[0, n_classes\) = \[0, 3\)"):
        Dataset(**_cls(y_val=np.array([0, 3])), n_classes=3)
    with pytest.raises(ValueError, match=r"missing \[3\]"):
        Dataset(**_cls(), n_classes=4)
    with pytest.raises(TypeError, match="n_classes must be an int"):
        Dataset(**_cls(), n_classes=3.0)
    with pytest.raises(ValueError, match="n_classes must be an int >= 2"):
        Dataset(**_cls(), n_classes=1)
    with pytest.raises(ValueError, match="n_classes must be None for regression .float targets.; "
                                         "y_train has dtype float64: pass integer labels"):
        Dataset(np.ones((2, 1)), np.zeros(2), np.ones((1, 1)), np.zeros(1), n_classes=2)
    with pytest.raises(ValueError, match=r"every class in \[0, 10{30}\); its 6 labels cannot"):
        Dataset(**_cls(), n_classes=10**30)  # "Maximum allowed size exceeded" before
    # uint64 labels in range are fine, and stored as int64
    ds = Dataset(**_cls(y_train=np.array([0, 1, 2, 0, 1, 2], np.uint64), y_val=np.array([1, 2], np.uint64)))
    assert ds.y_train.dtype == np.int64 and ds.n_classes == 3


def test_dataset_regression_errors():
    ok = dict(X_train=np.ones((3, 2)), y_train=np.zeros(3), X_val=np.ones((1, 2)), y_val=np.zeros(1))
    with pytest.raises(ValueError, match="y_val has shape .1, 2. but y_train has .3,."):
        Dataset(**{**ok, "y_val": np.zeros((1, 2))})
    with pytest.raises(ValueError, match="y_train must be 1-D .* or 2-D"):
        Dataset(**{**ok, "y_train": np.zeros((3, 1, 1))})
    with pytest.raises(ValueError, match="y_val contains NaN or inf"):
        Dataset(**{**ok, "y_val": np.array([np.nan])})
    with pytest.raises(ValueError, match="y_train contains NaN or inf"):  # float32 overflow
        Dataset(**{**ok, "y_train": np.full(3, 1e39)})
    with pytest.raises(TypeError, match="name must be a str"):
        Dataset(**ok, name=3)
    with pytest.raises(TypeError, match="info must be a dict"):
        Dataset(**ok, info=[1])


# ------------------------------------------------------------------------------------------
# digits
# ------------------------------------------------------------------------------------------

def test_digits_file_matches_readme_sha256():
    digest = hashlib.sha256(data.DIGITS_FILE.read_bytes()).hexdigest()
    assert digest == data.DIGITS_SHA256
    readme = (data.DIGITS_FILE.parent / "README.md").read_text()
    assert digest in readme and "CC BY 4.0" in readme


def test_digits_shape_classes_and_standardization():
    ds = load_digits()
    assert (ds.n_train, ds.n_val, ds.n_features, ds.n_classes) == (1437, 360, 64, 10)
    assert ds.name == "digits" and ds.task == "classification"
    X_raw, y_raw = data._read_digits(str(data.DIGITS_FILE), data.DIGITS_SHA256)
    assert X_raw.min() == 0 and X_raw.max() == 16
    assert np.bincount(y_raw).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    # standardized with training statistics: mean 0, std 1 except nearly blank pixels, whose
    # std is floored at one grey level (so no feature is blown up to hundreds of units)
    mean, std = ds.X_train.mean(axis=0), ds.X_train.std(axis=0)
    assert np.abs(mean).max() < 1e-5
    floored = ds.info["std"] == 1.0
    assert floored.sum() >= 1 and np.allclose(std[~floored], 1, atol=1e-4)
    assert np.all(std[floored] <= 1 + 1e-6) and np.all(ds.info["std"] >= 1.0)
    assert np.abs(ds.X_train).max() <= 16 and np.abs(ds.X_val).max() <= 16
    # un-standardizing gives back the original integer pixels
    back = ds.X_val * ds.info["std"] + ds.info["mean"]
    assert np.allclose(back, np.round(back), atol=1e-4) and back.min() > -1e-4 and back.max() < 16 + 1e-4


def test_digits_split_is_stratified_and_disjoint():
    ds = load_digits(val_fraction=0.25, seed=3)
    X_raw, y_raw = data._read_digits(str(data.DIGITS_FILE), data.DIGITS_SHA256)
    counts = np.bincount(y_raw)
    val_counts = np.bincount(ds.y_val, minlength=10)
    assert ds.n_val == int(np.ceil(0.25 * 1797)) and ds.n_train + ds.n_val == 1797
    assert np.all(np.abs(val_counts - 0.25 * counts) <= 1)
    # train and val together are exactly the original rows (as multisets)
    back = lambda X: np.round(X * ds.info["std"] + ds.info["mean"]).astype(int)  # noqa: E731
    rows = np.vstack([np.column_stack([back(ds.X_train), ds.y_train]),
                      np.column_stack([back(ds.X_val), ds.y_val])])
    original = np.column_stack([X_raw, y_raw])
    assert np.array_equal(np.unique(rows, axis=0, return_counts=True)[1],
                          np.unique(original, axis=0, return_counts=True)[1])
    # not in class blocks: the labels are shuffled
    assert np.count_nonzero(np.diff(ds.y_train)) > 1000


def test_digits_deterministic_per_seed():
    a, b, c = load_digits(seed=5), load_digits(seed=5), load_digits(seed=6)
    assert np.array_equal(a.X_train, b.X_train) and np.array_equal(a.y_val, b.y_val)
    assert not np.array_equal(a.y_train, c.y_train)


@pytest.mark.parametrize("bad, exc", [(0, ValueError), (1, ValueError), (1.5, ValueError),
                                      (-0.1, ValueError), ("0.2", TypeError), (True, TypeError)])
def test_digits_val_fraction_validated(bad, exc):
    with pytest.raises(exc, match="val_fraction"):
        load_digits(val_fraction=bad)


@pytest.mark.parametrize("make", [load_digits, make_spirals, make_least_squares,
                                  make_teacher_student,
                                  lambda seed: load_mnist("unused", seed=seed)],
                         ids=["load_digits", "make_spirals", "make_least_squares",
                              "make_teacher_student", "load_mnist"])
@pytest.mark.parametrize("seed, exc, match", [
    (-1, ValueError, "seed must be an int >= 0; got -1"),  # a wrong value (was TypeError)
    (np.int64(-3), ValueError, "seed must be an int >= 0; got -3"),
    (1.0, TypeError, "seed must be an int >= 0; got 1.0"),
    (True, TypeError, "seed must be an int >= 0; got True"),
    ("0", TypeError, "seed must be an int >= 0; got '0'"),
    (None, TypeError, "seed must be an int >= 0; got None"),
])
def test_seed_validated(make, seed, exc, match):
    with pytest.raises(exc, match=match):
        make(seed=seed)


def test_digits_corrupt_file_is_detected(tmp_path):
    bad = tmp_path / "digits.csv.gz"
    raw = bytearray(data.DIGITS_FILE.read_bytes())
    raw[100] ^= 0xFF
    bad.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="corrupt: sha256 expected 09f66e6d.*, found"):
        data._read_digits(str(bad), data.DIGITS_SHA256)
    with pytest.raises(FileNotFoundError, match="digits data file not found"):
        data._read_digits(str(tmp_path / "missing.gz"), data.DIGITS_SHA256)


def test_package_data_declared():
    from pathlib import Path
    try:
        import tomllib
    except ImportError:  # Python 3.10
        tomllib = pytest.importorskip("tomli")
    pyproject = tomllib.loads((Path(data.__file__).parents[1] / "pyproject.toml").read_text())
    assert "data/*" in pyproject["tool"]["setuptools"]["package-data"]["lrcore"]


# ------------------------------------------------------------------------------------------
# least squares with a known Hessian
# ------------------------------------------------------------------------------------------

def _hessian(X):
    X1 = np.hstack([X.astype(np.float64), np.ones((len(X), 1))])
    return X1.T @ X1 / len(X)


def test_least_squares_hessian_is_exact():
    ds = make_least_squares(n_train=64, n_val=16, n_features=6, lambda_max=9.0, lambda_min=0.09)
    H = _hessian(ds.X_train)
    target = np.append(np.geomspace(9.0, 0.09, 6), 1.0)
    assert np.allclose(H, np.diag(target), atol=1e-5)  # exactly diagonal up to float32 rounding
    eig = np.linalg.eigvalsh(H)[::-1]
    assert np.allclose(eig, ds.info["hessian_eigenvalues"], rtol=0, atol=1e-12)
    assert np.allclose(np.sort(target)[::-1], eig, rtol=1e-5)
    assert ds.info["lambda_max"] == eig[0] and ds.info["lr_stability_limit"] == 2 / eig[0]
    assert np.abs(ds.X_train.astype(np.float64).mean(axis=0)).max() < 1e-6  # centred


def test_least_squares_optimum_has_zero_gradient():
    ds = make_least_squares(n_train=100, n_features=4, noise=0.3, seed=2)
    X, y = ds.X_train.astype(np.float64), ds.y_train.astype(np.float64)
    r = X @ ds.info["w_star"] + ds.info["b_star"] - y
    assert np.abs(X.T @ r / len(y)).max() < 1e-10 and abs(r.mean()) < 1e-10
    assert np.isclose(0.5 * np.mean(r ** 2), ds.info["loss_star"])
    assert 0.3 ** 2 / 2 * 0.7 < ds.info["loss_star"] < 0.3 ** 2 / 2 * 1.3  # noise level, 4 of 100 dof fit


def _gd_distance(ds, lr, steps):
    """Full-batch gradient descent on L(w, b) = mean((Xw + b - y)^2) / 2; final distance to θ*."""
    X, y = ds.X_train.astype(np.float64), ds.y_train.astype(np.float64)
    w, b = np.zeros(ds.n_features), 0.0
    for _ in range(steps):
        r = X @ w + b - y
        w, b = w - lr * X.T @ r / len(y), b - lr * r.mean()
    return np.hypot(np.linalg.norm(w - ds.info["w_star"]), b - ds.info["b_star"])


@pytest.mark.parametrize("lambda_max", [10.0, 0.5])  # 0.5 < 1: the bias sets the limit
def test_least_squares_stability_limit_is_sharp(lambda_max):
    ds = make_least_squares(n_train=128, n_features=8, lambda_max=lambda_max, lambda_min=0.3 * lambda_max)
    limit = ds.info["lr_stability_limit"]
    assert np.isclose(limit, 2 / max(lambda_max, 1.0))
    start = _gd_distance(ds, 0.0, 0)
    assert _gd_distance(ds, 0.9 * limit, 400) < 1e-6 * start
    assert _gd_distance(ds, 1.1 * limit, 400) > 1e6 * start


def test_least_squares_deterministic_and_validated():
    a, b = make_least_squares(seed=4), make_least_squares(seed=4)
    assert np.array_equal(a.X_train, b.X_train) and np.array_equal(a.y_val, b.y_val)
    assert not np.array_equal(a.y_train, make_least_squares(seed=5).y_train)
    for kwargs, exc, match in [
        (dict(n_train=20, n_features=20), ValueError, "n_train must be an int >= 21"),
        (dict(n_features=0), ValueError, "n_features"),
        (dict(n_val=0), ValueError, "n_val"),
        (dict(n_train=10.0), TypeError, "n_train"),
        (dict(lambda_max=0.0), ValueError, "lambda_max"),
        (dict(lambda_min=float("nan")), ValueError, "lambda_min"),
        (dict(lambda_min=2.0, lambda_max=1.0), ValueError, "lambda_min must be <= lambda_max"),
        (dict(noise=-1.0), ValueError, "noise"),
        (dict(noise="x"), TypeError, "noise"),
    ]:
        with pytest.raises(exc, match=match):
            make_least_squares(**kwargs)


@settings(max_examples=15, deadline=None)
@given(n_features=st.integers(1, 6), extra=st.integers(1, 40),
       lam=st.floats(0.01, 100.0), ratio=st.floats(1.0, 1e3), seed=st.integers(0, 2**32 - 1))
def test_least_squares_spectrum_property(n_features, extra, lam, ratio, seed):
    ds = make_least_squares(n_train=n_features + extra, n_val=3, n_features=n_features,
                            lambda_max=lam, lambda_min=lam / ratio, seed=seed)
    expected = np.sort(np.append(np.geomspace(lam, lam / ratio, n_features), 1.0))[::-1]
    assert np.allclose(ds.info["hessian_eigenvalues"], expected, rtol=1e-5)


# ------------------------------------------------------------------------------------------
# spirals
# ------------------------------------------------------------------------------------------

def test_spirals():
    ds = make_spirals(n_train=301, n_val=40, n_classes=4, seed=2)
    assert (ds.n_train, ds.n_val, ds.n_features, ds.n_classes) == (301, 40, 2, 4)
    assert np.bincount(ds.y_train).tolist() == [76, 75, 75, 75]
    assert np.allclose(ds.X_train.mean(axis=0), 0, atol=1e-6)
    assert np.allclose(ds.X_train.std(axis=0), 1, atol=1e-5)
    # noise-free points lie on their arm: angle - 2π c / K = 2π turns r (mod 2π)
    clean = make_spirals(n_train=60, n_val=3, noise=0.0, turns=0.5, seed=1)
    P = clean.X_train * clean.info["std"] + clean.info["mean"]
    r, phi = np.hypot(*P.T), np.arctan2(P[:, 1], P[:, 0])
    d = np.angle(np.exp(1j * (phi - 2 * np.pi * clean.y_train / 3 - np.pi * r)))
    assert np.abs(d).max() < 1e-4
    assert np.array_equal(make_spirals(seed=3).X_val, make_spirals(seed=3).X_val)
    with pytest.raises(ValueError, match="n_train must be an int >= 3"):
        make_spirals(n_train=2)
    with pytest.raises(ValueError, match="n_classes"):
        make_spirals(n_classes=1)


# ------------------------------------------------------------------------------------------
# errors of the makers name what the caller passed
# ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("call, exc, match", [
    # a bound set by another argument says so (blamed n_train, which the caller never passed)
    (lambda: make_spirals(n_classes=10**6), ValueError, r"n_train must be an int >= 1000000 \(n_classes\); got 600"),
    (lambda: make_least_squares(n_features=600), ValueError,
     r"n_train must be an int >= 601 \(n_features \+ 1\); got 512"),
    # an int beyond the float range: OverflowError before
    (lambda: make_spirals(turns=10**400), ValueError, "turns must be a real number > 0; got an int beyond the float range"),
    (lambda: make_least_squares(noise=-10**400), ValueError, "noise must be a real number >= 0; got an int beyond"),
    (lambda: load_digits(val_fraction=10**400), ValueError, r"val_fraction must be a real number in \(0, 1\); got an int beyond"),
    # points beyond float64: RuntimeWarnings, then all-zero features (noise=1e155, silently) or
    # an error blaming X_train
    (lambda: make_spirals(noise=1e155), ValueError, "turns and noise must be small enough .* noise=1e.155"),
    (lambda: make_spirals(noise=1e308), ValueError, "turns and noise must be small enough"),
    (lambda: make_spirals(turns=1e308), ValueError, "turns and noise must be small enough .* turns=1e.308"),
    # data beyond float32: RuntimeWarnings, then LinAlgError or an error blaming y_train
    (lambda: make_least_squares(lambda_max=1e80, lambda_min=1.0), ValueError,
     r"lambda_max and noise must keep the data within float32.*got lambda_max=1e\+80, noise=0.5"),
    (lambda: make_least_squares(lambda_max=1e308, lambda_min=1.0), ValueError, "lambda_max and noise must keep"),
    (lambda: make_least_squares(noise=1e39), ValueError, "lambda_max and noise must keep .* noise=1e.39"),
])
def test_maker_errors_name_the_argument(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_teacher_student_labels_noise_and_floor():
    ds = make_teacher_student(n_train=20_000, n_val=5_000, n_features=8, n_classes=4,
                              condition=16.0, label_noise=0.3, seed=3)
    assert repr(ds) == "Dataset('teacher-student', train=20000x8, val=5000x8, classes=4)"
    scales = ds.info["scales"]
    assert scales[0] == 1.0 and scales[-1] == pytest.approx(0.25)     # 1 / sqrt(condition)
    np.testing.assert_allclose(ds.X_train.std(axis=0), scales, rtol=0.05)
    clean = np.argmax(ds.X_train.astype(np.float64) @ ds.info["teacher"], axis=1)
    kept = (ds.y_train == clean).mean()                # 1 - p + p/C = 0.775, the Bayes accuracy
    assert ds.info["bayes_accuracy"] == pytest.approx(0.775)
    assert kept == pytest.approx(0.775, abs=0.01)
    q, rest = 0.775, 0.075                             # P(clean), P(each other class)
    floor = -q * np.log(q) - 3 * rest * np.log(rest)
    assert ds.info["bayes_loss"] == pytest.approx(floor)
    # the Bayes predictor's empirical cross-entropy on the validation labels is the floor
    clean_val = np.argmax(ds.X_val.astype(np.float64) @ ds.info["teacher"], axis=1)
    nll = -np.where(ds.y_val == clean_val, np.log(q), np.log(rest)).mean()
    assert nll == pytest.approx(floor, abs=0.03)
    assert np.bincount(ds.y_train).min() > 0.1 * ds.n_train          # no class starved
    noiseless = make_teacher_student(n_train=500, n_val=100, label_noise=0.0, seed=3)
    assert noiseless.info["bayes_loss"] == 0.0 and noiseless.info["bayes_accuracy"] == 1.0


def test_teacher_student_deterministic_and_validated():
    a, b = make_teacher_student(seed=4), make_teacher_student(seed=4)
    assert all(np.array_equal(getattr(a, k), getattr(b, k))
               for k in ("X_train", "y_train", "X_val", "y_val"))
    assert not np.array_equal(a.y_train, make_teacher_student(seed=5).y_train)
    for kwargs, exc, match in [
            (dict(label_noise=1.0), ValueError, r"label_noise must be a real number in \[0, 1\)"),
            (dict(label_noise=-0.1), ValueError, "label_noise must be a real number in"),
            (dict(condition=0.5), ValueError, "condition must be a real number >= 1; got 0.5"),
            (dict(n_classes=1), ValueError, "n_classes must be an int >= 2; got 1"),
            (dict(n_train=100.0), TypeError, "n_train must be an int >= 1; got 100.0"),
            (dict(n_val=0), ValueError, "n_val must be an int >= 1; got 0"),
            (dict(n_features="20"), TypeError, "n_features must be an int >= 1")]:
        with pytest.raises(exc, match=match):
            make_teacher_student(**kwargs)


def test_makers_accept_extreme_but_representable_arguments():
    assert np.isfinite(make_spirals(noise=1e150, n_train=30, n_val=3).X_train).all()
    assert make_least_squares(lambda_max=1e70, lambda_min=1.0, n_features=3).info["lambda_max"] > 1e69


# ------------------------------------------------------------------------------------------
# the book's datasets are bit-for-bit what they were
# ------------------------------------------------------------------------------------------

def _sha256_of_arrays(ds):
    h = hashlib.sha256()
    for a in (ds.X_train, ds.y_train, ds.X_val, ds.y_val):
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


@pytest.mark.parametrize("make, digest", [
    (lambda: load_digits(seed=0), "dee5529cfda9cbbafd089dbbf794a02fc5408e9b32c506e6aa75aa4f9eb652ba"),
    (lambda: make_spirals(seed=0), "aeb797959cbd58b055e9fce503ee9acc92d49485498ad77be925bbae03a02088"),
    (lambda: make_teacher_student(seed=0),
     "226a6ab588ac0f1dcb1c037fbf3b25bc33549d6cf07907ecc335a58d23c3bab8"),
], ids=["digits", "spirals", "teacher-student"])
def test_datasets_are_unchanged_bit_for_bit(make, digest):
    """The notebooks' stored outputs depend on these exact arrays: argument checks must not change them.

    Portable: the digits are integers standardized by exact IEEE operations and NumPy's fixed
    pairwise sums; the spirals' float64 sin/cos may differ in the last bit on another CPU (or with
    NumPy's SIMD at its baseline, where this digest was checked too), but the arrays are stored as
    float32, which absorbs them (a flip needs a value within ~1e-16 of a float32 rounding boundary).
    """
    assert _sha256_of_arrays(make()) == digest
