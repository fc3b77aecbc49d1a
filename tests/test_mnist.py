"""Tests of lrcore.mnist: the IDX reader and the MNIST/Fashion-MNIST loader (on tiny files)."""
import gzip
import hashlib
import struct

import numpy as np
import pytest

import lrcore
from lrcore import checks, data, mnist
from lrcore.mnist import load_mnist, read_idx

_CODES = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C, np.float32: 0x0D, np.float64: 0x0E}


def _idx_bytes(a):
    a = np.asarray(a)
    head = bytes([0, 0, _CODES[a.dtype.type], a.ndim]) + struct.pack(f">{a.ndim}I", *a.shape)
    return head + a.astype(a.dtype.newbyteorder(">")).tobytes()


@pytest.mark.parametrize("dtype", list(_CODES))
@pytest.mark.parametrize("compress", [False, True])
def test_idx_round_trip(tmp_path, dtype, compress):
    a = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    if dtype == np.uint8:
        a = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    raw = _idx_bytes(a)
    path = tmp_path / "a.idx"
    path.write_bytes(gzip.compress(raw) if compress else raw)
    b = read_idx(path)
    assert b.shape == a.shape and b.dtype == a.dtype and b.dtype.isnative and np.array_equal(a, b)
    b[0] = 0  # a writable copy


_GZIP_HEADER = gzip.compress(b"", mtime=0)[:10]
_LABELS = bytes([0, 0, 0x08, 1, 0, 0, 0, 3, 7, 2, 1])  # a valid IDX file: labels 7, 2, 1


@pytest.mark.parametrize("raw, match", [
    (b"\x00\x00", "truncated IDX header"),
    (b"\x01\x00\x08\x01\x00\x00\x00\x01\x05", "bad IDX magic number 0x01000801"),
    (b"\x00\x00\x07\x01\x00\x00\x00\x01\x05", "bad IDX magic number 0x00000701"),
    (b"\x00\x00\x08\x00", "bad IDX magic number"),
    (b"\x00\x00\x08\x02\x00\x00\x00\x01", "truncated IDX header: 2 dimensions need 12 bytes"),
    (b"\x00\x00\x08\x01\x00\x00\x00\x03\x01\x02", "truncated IDX payload: .*needs 3 bytes, found 2"),
    (b"\x00\x00\x0c\x01\x00\x00\x00\x01\x01\x02", "truncated IDX payload: .*int32 needs 4 bytes"),
    (b"\x00\x00\x08\x01\x00\x00\x00\x01\x01\x02", "oversized IDX payload: .*1 trailing bytes"),
    (b"\x1f\x8b\x08\x00garbage", "corrupt gzip stream"),
    # a valid gzip header, then a deflate block of the reserved type 3: zlib.error before
    (_GZIP_HEADER + b"\x07" + bytes(8), r"corrupt gzip stream \(Error -3 .*invalid block type"),
    (_GZIP_HEADER + b"\xff" * 20, "corrupt gzip stream"),
    (gzip.compress(_LABELS, mtime=0)[:-8] + bytes(8), r"corrupt gzip stream \(CRC check failed"),
    (gzip.compress(_LABELS, mtime=0) + b"junk", "corrupt gzip stream"),
    (b"\x00\x00\x08\x00", "bad IDX magic number 0x00000800: 0 dimensions"),
    (b"\x00\x00\x07\x01", "bad IDX magic number 0x00000701: unknown type code 0x07"),
    (b"\x00\x01\x08\x01", "bad IDX magic number 0x00010801: it does not start with two zero bytes"),
    # more dimensions than NumPy allows: a NumPy "maximum supported dimension" error before
    (b"\x00\x00\x08\x41" + struct.pack(">65I", *[1] * 65) + b"\x05",
     r"bad IDX magic number 0x00000841: 65 dimensions, more than the \d+ a NumPy array"),
    (b"\x00\x00\x08\xff" + struct.pack(">255I", *[1] * 255) + b"\x05", "255 dimensions, more than"),
    # sizes whose product is astronomically larger than the file (a Python int: no overflow)
    (b"\x00\x00\x0e\x04" + struct.pack(">4I", *[2**32 - 1] * 4),
     "truncated IDX payload: shape .4294967295, .* of float64 needs 2722258932832206508135981771861358805000 bytes, found 0"),
    # an empty array (one size 0) whose other sizes overflow NumPy's byte count: "array is too big" before
    (b"\x00\x00\x0e\x03" + struct.pack(">3I", 0, 2**31, 2**31),
     r"IDX sizes \(0, 2147483648, 2147483648\) describe an empty array whose other sizes exceed"),
])
def test_idx_errors(tmp_path, raw, match):
    path = tmp_path / "bad.idx"
    path.write_bytes(raw)
    with pytest.raises(ValueError, match=match) as info:
        read_idx(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("path, exc, match", [
    (None, TypeError, "path must be a str or os.PathLike path; got None"),
    (3, TypeError, "path must be a str or os.PathLike path; got 3"),
    (b"labels.idx", TypeError, "path must be a str or os.PathLike path; got b'labels.idx'"),
    ("no/such/file.idx", FileNotFoundError, "no/such/file.idx"),
])
def test_idx_path_errors(path, exc, match):
    with pytest.raises(exc, match=match):
        read_idx(path)


def test_idx_dimension_limits(tmp_path):
    path = tmp_path / "many.idx"
    path.write_bytes(_idx_bytes(np.ones((1,) * mnist._MAX_NDIM, dtype=np.uint8)))
    assert read_idx(path).shape == (1,) * mnist._MAX_NDIM
    path.write_bytes(_idx_bytes(np.ones((0, 5), dtype=np.uint8)))  # an empty array is valid IDX
    assert read_idx(path).shape == (0, 5)


def test_idx_truncated_gzip(tmp_path):
    path = tmp_path / "cut.gz"
    path.write_bytes(gzip.compress(_idx_bytes(np.arange(100, dtype=np.uint8)))[:-12])
    with pytest.raises(ValueError, match="cut.gz: corrupt gzip stream"):
        read_idx(path)


def _write_mnist(folder, n_train=40, n_test=20, seed=0, gz=True, labels_train=None):
    """Tiny MNIST-shaped IDX files; returns their sha256 table."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": (np.arange(n_train) % 10).astype(np.uint8) if labels_train is None
        else labels_train.astype(np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": (np.arange(n_test) % 10).astype(np.uint8),
    }
    table = {}
    for name, a in arrays.items():
        raw = _idx_bytes(a)
        fname = name + ".gz" if gz else name
        blob = gzip.compress(raw, mtime=0) if gz else raw
        (folder / fname).write_bytes(blob)
        table[fname] = hashlib.sha256(blob).hexdigest()
    return table, arrays


def test_load_mnist_official_split(tmp_path):
    table, arrays = _write_mnist(tmp_path)
    ds = load_mnist(tmp_path, checksums=table)
    assert repr(ds) == "Dataset('mnist', train=40x784, val=20x784, classes=10)"
    assert ds.info["image_shape"] == (28, 28) and ds.info["verified"]
    x = arrays["train-images-idx3-ubyte"].reshape(40, -1) / 255
    assert np.isclose(ds.info["mean"], x.mean()) and np.isclose(ds.info["std"], x.std())
    assert np.allclose(ds.X_train, (x - x.mean()) / x.std(), atol=1e-5)
    assert abs(float(ds.X_train.mean())) < 1e-5 and np.isclose(ds.X_train.std(), 1, atol=1e-4)
    assert np.array_equal(ds.y_val, arrays["t10k-labels-idx1-ubyte"])


def test_load_mnist_val_fraction_limit_and_plain_files(tmp_path):
    table, _ = _write_mnist(tmp_path, n_train=100, gz=False)
    ds = load_mnist(tmp_path, checksums=table, val_fraction=0.2, limit=50, kind="fashion-mnist")
    assert (ds.n_train, ds.n_val, ds.name) == (40, 10, "fashion-mnist")
    assert np.bincount(ds.y_val).tolist() == [1] * 10
    with pytest.raises(ValueError, match="no known sha256 for .*train-images-idx3-ubyte; pass verify=False"):
        load_mnist(tmp_path)
    assert load_mnist(tmp_path, verify=False).n_train == 100


def test_load_mnist_checksum_mismatch_names_file_and_hashes(tmp_path):
    table, _ = _write_mnist(tmp_path)
    wrong = dict(table, **{"t10k-labels-idx1-ubyte.gz": "0" * 64})
    with pytest.raises(ValueError, match=r"t10k-labels-idx1-ubyte.gz: sha256 mismatch: expected 0{64}, found "
                                         + table["t10k-labels-idx1-ubyte.gz"]):
        load_mnist(tmp_path, checksums=wrong)
    # the default table holds the official hashes, which tiny test files cannot match
    with pytest.raises(ValueError, match="expected 440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"):
        load_mnist(tmp_path)
    assert load_mnist(tmp_path, val_fraction=0.5, checksums={k: v for k, v in table.items()
                                                             if k.startswith("train")}).n_val == 20


def test_load_mnist_count_mismatch_and_missing(tmp_path):
    table, _ = _write_mnist(tmp_path, n_train=30, labels_train=np.arange(31) % 10)
    with pytest.raises(ValueError, match="train split: train-images-idx3-ubyte.gz has 30 images but "
                                         "train-labels-idx1-ubyte.gz has 31 labels"):
        load_mnist(tmp_path, checksums=table)
    with pytest.raises(FileNotFoundError, match="train-images-idx3-ubyte.gz .*not found.*download=True"):
        load_mnist(tmp_path / "empty")


def _put(name, raw):
    """A setup for the table below: write ``raw`` (bytes, or an array in IDX) as ``name.gz``."""
    def setup(folder):
        blob = raw if isinstance(raw, bytes) else gzip.compress(_idx_bytes(raw))
        (folder / f"{name}.gz").write_bytes(blob)
    return setup


@pytest.mark.parametrize("setup, kwargs, exc, match", [
    # labels beyond 9: the error blamed y_train, not the file
    (_put("train-labels-idx1-ubyte", (np.arange(40) % 10 + 3).astype(np.uint8)), {}, ValueError,
     r"train-labels-idx1-ubyte.gz: expected class labels in \[0, 10\); got labels from 3 to 12"),
    # a limit that drops classes: the error blamed y_train
    (lambda folder: None, dict(limit=5), ValueError,
     r"the first limit=5 labels of .*train-labels-idx1-ubyte.gz miss classes \[5, 6, 7, 8, 9\]"),
    # empty files: "cannot reshape array of size 0" before
    (lambda folder: (_put("train-images-idx3-ubyte", np.zeros((0, 28, 28), np.uint8))(folder),
                     _put("train-labels-idx1-ubyte", np.zeros(0, np.uint8))(folder)), {}, ValueError,
     r"train-images-idx3-ubyte.gz: no images \(shape \(0, 28, 28\)\)"),
    (_put("t10k-images-idx3-ubyte", np.zeros((20, 28, 27), np.uint8)), {}, ValueError,
     r"t10k-images-idx3-ubyte.gz has images of shape \(28, 27\) but train-images-idx3-ubyte.gz has \(28, 28\)"),
    (_put("t10k-labels-idx1-ubyte", _GZIP_HEADER + b"\x07" + bytes(8)), {}, ValueError,
     "t10k-labels-idx1-ubyte.gz: corrupt gzip stream"),  # a raw zlib.error before
    (_put("train-images-idx3-ubyte", gzip.compress(b"\x00\x00\x08\x41" + struct.pack(">65I", *[1] * 65) + b"\x05")),
     {}, ValueError, "train-images-idx3-ubyte.gz: bad IDX magic number 0x00000841: 65 dimensions"),
])
def test_load_mnist_malformed_files_are_named(tmp_path, setup, kwargs, exc, match):
    _write_mnist(tmp_path)
    setup(tmp_path)
    with pytest.raises(exc, match=match):
        load_mnist(tmp_path, verify=False, **kwargs)


def test_load_mnist_download_from_file_mirror(tmp_path):
    table, arrays = _write_mnist(tmp_path / "mirror")
    dest = tmp_path / "dest"
    missing = (tmp_path / "nowhere").as_uri() + "/"
    ds = load_mnist(dest, download=True, checksums=table,
                    mirrors=[missing, (tmp_path / "mirror").as_uri() + "/"])
    assert ds.n_train == 40 and sorted(p.name for p in dest.iterdir()) == sorted(table)
    with pytest.raises(OSError, match="could not download train-images-idx3-ubyte.gz"):
        load_mnist(tmp_path / "dest2", download=True, checksums=table, mirrors=[missing])


_KINDS = "'fashion-mnist', 'mnist'"


@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(kind="emnist"), ValueError, f"kind must be one of {_KINDS}; got 'emnist'"),
    (dict(kind="MNIST"), ValueError, f"kind must be one of {_KINDS}; got 'MNIST'"),
    (dict(kind=["mnist"]), TypeError, rf"kind must be one of {_KINDS}; got \['mnist'\]"),  # unhashable before
    (dict(kind=None), TypeError, f"kind must be one of {_KINDS}; got None"),
    (dict(folder=None), TypeError, "folder must be a str or os.PathLike path; got None"),
    (dict(download=1), TypeError, "download must be True or False; got 1"),
    (dict(verify="no"), TypeError, "verify must be True or False; got 'no'"),
    (dict(val_fraction=1.0), ValueError, "val_fraction"),
    (dict(limit=0), ValueError, "limit"),
    (dict(checksums=[("a", "b")]), TypeError, "checksums must be a dict"),
    (dict(checksums={"t10k-labels-idx1-ubyte.gz": 3}), TypeError, "checksums must map file names .*got 't10k"),
    (dict(checksums={"t10k-labels-idx1-ubyte.gz": "abc"}), ValueError,
     r"checksums\['t10k-labels-idx1-ubyte.gz'\] must be a sha256 digest of 64 hex digits; got 'abc'"),
    # a str was iterated character by character: "unknown url type: 'htrain-images...'"
    (dict(mirrors="https://example.org/mnist/"), TypeError, "mirrors must be a list or tuple of base URLs"),
    (dict(mirrors=3), TypeError, "mirrors must be a list or tuple"),  # "'int' object is not iterable"
    (dict(mirrors=[]), ValueError, "mirrors must hold at least one base URL"),
    (dict(mirrors=[None]), TypeError, "mirrors must hold base URLs .str.; got None"),
    (dict(mirrors=["https://example.org/mnist"]), ValueError, "base URL ending in '/'.*got 'https://example.org/mnist'"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_load_mnist_argument_validation(tmp_path, kwargs, exc, match):
    kwargs = {"folder": tmp_path, **kwargs}
    with pytest.raises(exc, match=match):
        load_mnist(kwargs.pop("folder"), **kwargs)  # the arguments are checked before any file


def test_official_checksum_table_shape():
    for kind, table in mnist.MNIST_CHECKSUMS.items():
        assert sorted(table) == sorted(n + ".gz" for n in mnist._MNIST_NAMES)
        assert all(len(h) == 64 and int(h, 16) >= 0 for h in table.values())
    assert len({h for t in mnist.MNIST_CHECKSUMS.values() for h in t.values()}) == 8


def test_the_mnist_names_are_still_importable_from_data_and_the_package():
    from lrcore.data import MNIST_CHECKSUMS, MNIST_MIRRORS, load_mnist as from_data, read_idx as idx

    assert from_data is load_mnist is lrcore.load_mnist and idx is read_idx is lrcore.read_idx
    assert MNIST_CHECKSUMS is mnist.MNIST_CHECKSUMS and MNIST_MIRRORS is mnist.MNIST_MIRRORS
    assert set(data._MOVED_TO_MNIST) == set(mnist.__all__)
    assert not set(mnist.__all__) & set(data.__all__)  # documented once, in lrcore.mnist
    with pytest.raises(AttributeError, match="module 'lrcore.data' has no attribute 'nope'"):
        data.nope  # noqa: B018


def test_mnist_builds_on_the_data_modules_helpers():
    """One Dataset, one stratified split: imported from lrcore.data, not copied; the argument
    checks are lrcore.checks."""
    for name in ("Dataset", "_sha256", "_stratified_split"):
        assert getattr(mnist, name) is getattr(data, name), name
    assert mnist.checks is data.checks is checks
