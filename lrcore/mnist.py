"""MNIST and Fashion-MNIST: the IDX file format, the official files, a dataset of them.

* :func:`read_idx` -- one IDX file (plain or gzip-compressed) as a NumPy array; every way a file
  can be malformed is a ``ValueError`` naming the file.
* :func:`load_mnist` -- the four official files of MNIST or Fashion-MNIST from a folder,
  checked against their sha256 (:data:`MNIST_CHECKSUMS`), downloaded from :data:`MNIST_MIRRORS`
  only when asked to, as a standardized :class:`~lrcore.data.Dataset`.

The book's chapters train on the digits of :mod:`lrcore.data`; this module is for readers who
want to repeat an experiment on a larger task.  Both functions are also importable from
:mod:`lrcore.data` and from ``lrcore``, where they lived before.
"""
from __future__ import annotations

import gzip
import math
import os
import struct
import urllib.request
import zlib
from pathlib import Path

import numpy as np

from . import checks
from .data import Dataset, _sha256, _stratified_split

__all__ = ["read_idx", "load_mnist", "MNIST_CHECKSUMS", "MNIST_MIRRORS"]


_IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


#: The most dimensions a NumPy array can have (an IDX header may declare up to 255).
_MAX_NDIM = 64 if np.lib.NumpyVersion(np.__version__) >= "2.0.0" else 32


def read_idx(path) -> np.ndarray:
    """Read an IDX file (the format of MNIST), plain or gzip-compressed; no pickle involved.

    Layout (all integers big-endian): two zero bytes, a type code (``0x08`` uint8, ``0x09``
    int8, ``0x0B`` int16, ``0x0C`` int32, ``0x0D`` float32, ``0x0E`` float64), the number of
    dimensions ``ndim`` (1 byte), ``ndim`` uint32 sizes, then the values in C order. Gzip is
    recognised by its magic bytes, whatever the file name.

    Returns a new array in native byte order with shape ``(d_1, …, d_ndim)``. Raises
    ``ValueError`` naming the file and what is wrong for: a corrupt or truncated gzip/deflate
    stream; a bad magic number (not two zero bytes, an unknown type code, 0 dimensions, or more
    dimensions than a NumPy array can have); a truncated header or payload; trailing bytes
    after the payload; sizes whose array NumPy cannot address. A missing file raises
    ``FileNotFoundError`` (an ``OSError`` naming the path), a ``path`` that is not a str or
    ``os.PathLike`` ``TypeError``.

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "labels.idx")
    >>> with open(path, "wb") as f:
    ...     _ = f.write(bytes([0, 0, 0x08, 1, 0, 0, 0, 3, 7, 2, 1]))
    >>> read_idx(path)
    array([7, 2, 1], dtype=uint8)
    """
    p = checks.path("path", path)
    with open(p, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:  # BadGzipFile is an OSError
            raise ValueError(f"{p}: corrupt gzip stream ({exc})") from None
    if len(raw) < 4:
        raise ValueError(f"{p}: truncated IDX header ({len(raw)} bytes; the magic number needs 4)")
    zero, code, ndim = raw[:2], raw[2], raw[3]
    problem = ("it does not start with two zero bytes" if zero != b"\x00\x00"
               else f"unknown type code 0x{code:02X}" if code not in _IDX_DTYPES
               else "0 dimensions" if ndim == 0
               else f"{ndim} dimensions, more than the {_MAX_NDIM} a NumPy array can have"
               if ndim > _MAX_NDIM else None)
    if problem:
        raise ValueError(f"{p}: bad IDX magic number 0x{raw[:4].hex()}: {problem} (expected 0x0000TTNN "
                         f"with type code TT in {{08, 09, 0B, 0C, 0D, 0E}} and 1 <= NN <= {_MAX_NDIM})")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{p}: truncated IDX header: {ndim} dimensions need {header} bytes, "
                         f"the file has {len(raw)}")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = _IDX_DTYPES[code]
    expected = math.prod(shape) * dtype.itemsize  # a Python int: cannot overflow
    found = len(raw) - header
    if found < expected:
        raise ValueError(f"{p}: truncated IDX payload: shape {shape} of {dtype.name} needs "
                         f"{expected} bytes, found {found}")
    if found > expected:
        raise ValueError(f"{p}: oversized IDX payload: shape {shape} of {dtype.name} needs "
                         f"{expected} bytes, found {found} ({found - expected} trailing bytes)")
    if math.prod(d for d in shape if d) * dtype.itemsize > np.iinfo(np.intp).max:
        raise ValueError(f"{p}: IDX sizes {shape} describe an empty array whose other sizes "
                         f"exceed what NumPy can address")
    data = np.frombuffer(raw, dtype=dtype, count=math.prod(shape), offset=header)
    return data.astype(dtype.newbyteorder("="), copy=True).reshape(shape)


_MNIST_NAMES = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")

#: sha256 of the official ``.gz`` files, from tensorflow-datasets' ``url_checksums/mnist.txt``
#: and ``url_checksums/fashion_mnist.txt`` (the same values appear in many independent projects).
MNIST_CHECKSUMS = {
    "mnist": {
        "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    },
    "fashion-mnist": {
        "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
        "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
        "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
    },
}

#: Download mirrors tried in order (only with ``download=True``).
MNIST_MIRRORS = {
    "mnist": ("https://ossci-datasets.s3.amazonaws.com/mnist/",
              "https://storage.googleapis.com/cvdf-datasets/mnist/"),
    "fashion-mnist": ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
                      "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"),
}


def _download(filename: str, folder: Path, mirrors) -> Path:
    """Fetch ``filename`` from the first mirror that answers; write atomically into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / filename
    errors = []
    for base in mirrors:
        url = base + filename
        tmp = target.with_name(target.name + ".part")
        try:
            with urllib.request.urlopen(url, timeout=60) as response, open(tmp, "wb") as out:
                for block in iter(lambda: response.read(1 << 20), b""):
                    out.write(block)
        except OSError as exc:  # URLError, HTTPError, timeouts are OSErrors
            errors.append(f"{url}: {exc}")
            tmp.unlink(missing_ok=True)
            continue
        os.replace(tmp, target)
        return target
    raise OSError(f"could not download {filename}; tried:\n  " + "\n  ".join(errors))


def _mnist_file(folder: Path, name: str, *, kind: str, download: bool, verify: bool,
                checksums: dict, mirrors) -> Path:
    gz, plain = folder / f"{name}.gz", folder / name
    if gz.is_file():
        path = gz
    elif plain.is_file():
        path = plain
    elif download:
        path = _download(gz.name, folder, mirrors)
    else:
        raise FileNotFoundError(f"{kind} file {gz.name} (or {plain.name}) not found in {folder}; "
                                f"pass download=True to fetch it")
    if verify:
        expected = checksums.get(path.name)
        if expected is None:
            raise ValueError(f"no known sha256 for {path}; pass verify=False to load it unchecked, "
                             f"or checksums={{{path.name!r}: '<sha256>'}}")
        found = _sha256(path)
        if found != expected.lower():
            raise ValueError(f"{path}: sha256 mismatch: expected {expected.lower()}, found {found} "
                             f"(corrupt or not the official {kind} file; delete it and download again)")
    return path


def _check_checksums(checksums) -> dict:
    """``checksums``: a dict ``{file name: sha256 as 64 hex digits}``."""
    if not isinstance(checksums, dict):
        raise TypeError(f"checksums must be a dict {{filename: sha256}} or None; "
                        f"got {type(checksums).__name__}")
    for name, digest in checksums.items():
        if not isinstance(name, str) or not isinstance(digest, str):
            raise TypeError(f"checksums must map file names (str) to sha256 hex digests (str); "
                            f"got {name!r}: {digest!r}")
        if len(digest) != 64 or any(c not in "0123456789abcdefABCDEF" for c in digest):
            raise ValueError(f"checksums[{name!r}] must be a sha256 digest of 64 hex digits; "
                             f"got {digest!r}")
    return checksums


def _check_mirrors(mirrors) -> tuple:
    """``mirrors``: a non-empty sequence of base URLs ending in ``/`` (the file name is appended)."""
    if isinstance(mirrors, str) or not isinstance(mirrors, (list, tuple)):
        raise TypeError(f"mirrors must be a list or tuple of base URLs (str) or None; got {mirrors!r}")
    if not mirrors:
        raise ValueError("mirrors must hold at least one base URL; got an empty sequence")
    for url in mirrors:
        if not isinstance(url, str):
            raise TypeError(f"mirrors must hold base URLs (str); got {url!r}")
        if not url.endswith("/"):
            raise ValueError(f"each of mirrors must be a base URL ending in '/' (the file name is "
                             f"appended to it); got {url!r}")
    return tuple(mirrors)


def load_mnist(folder, *, kind: str = "mnist", download: bool = False, verify: bool = True,
               val_fraction: float | None = None, limit: int | None = None, seed: int = 0,
               checksums: dict | None = None, mirrors=None) -> Dataset:
    """MNIST or Fashion-MNIST from the four official IDX files in ``folder``.

    Files: ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``,
    ``t10k-labels-idx1-ubyte``, each as ``.gz`` (preferred) or uncompressed.

    * ``kind``: ``"mnist"`` or ``"fashion-mnist"``; chooses checksums and mirrors.
    * ``download``: fetch missing ``.gz`` files from ``mirrors`` (default
      :data:`MNIST_MIRRORS` ``[kind]``; a list of base URLs ending in ``/``, tried in order;
      urllib; nothing is fetched unless ``True``).
    * ``verify``: compare each file's sha256 with ``checksums`` (a dict ``{file name: 64 hex
      digits}``, default :data:`MNIST_CHECKSUMS` ``[kind]``, the official ``.gz`` files); a
      mismatch raises ``ValueError`` with the file and both hashes. An uncompressed file has no
      official hash: add it to ``checksums`` or pass ``verify=False``.
    * ``val_fraction``: ``None`` uses the official 10,000-image test split as validation; a float
      in (0, 1) instead splits the official training set (stratified, seeded by ``seed``) and the
      test split is not read.
    * ``limit``: keep only the first ``limit`` images of each file read (quick runs; every class
      must still occur in the training split).

    A malformed file (see :func:`read_idx`; also labels outside [0, 10), no images, image or label
    counts that disagree) raises ``ValueError`` naming the file.

    Images are flattened to 784 features (``info["image_shape"] == (28, 28)``), scaled to [0, 1]
    by ``/255`` and then standardized with the **scalar** mean and standard deviation of all
    training pixels (MNIST: 0.1307 and 0.3081). A scalar rather than per-pixel statistics: border
    pixels that are almost always 0 would otherwise be blown up by factors of hundreds, which
    would make the largest stable learning rate depend on a few stray pixels.
    """
    folder = checks.path("folder", folder)
    kind = checks.choice("kind", kind, sorted(MNIST_CHECKSUMS))
    download, verify = checks.flag("download", download), checks.flag("verify", verify)
    if val_fraction is not None:
        val_fraction = checks.fraction("val_fraction", val_fraction)
    if limit is not None:
        limit = checks.integer("limit", limit, low=1)
    seed = checks.seed("seed", seed)
    checksums = MNIST_CHECKSUMS[kind] if checksums is None else _check_checksums(checksums)
    mirrors = MNIST_MIRRORS[kind] if mirrors is None else _check_mirrors(mirrors)

    def read_split(images_name, labels_name, split):
        paths = [_mnist_file(folder, n, kind=kind, download=download, verify=verify,
                             checksums=checksums, mirrors=mirrors) for n in (images_name, labels_name)]
        images, labels = read_idx(paths[0]), read_idx(paths[1])
        if images.ndim != 3 or images.dtype != np.uint8:
            raise ValueError(f"{paths[0]}: expected uint8 images of shape (n, rows, cols); got "
                             f"{images.dtype} {images.shape}")
        if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"{paths[1]}: expected 1-D integer labels; got {labels.dtype} {labels.shape}")
        if len(images) != len(labels):
            raise ValueError(f"{split} split: {paths[0].name} has {len(images)} images but "
                             f"{paths[1].name} has {len(labels)} labels")
        if len(images) == 0:
            raise ValueError(f"{paths[0]}: no images (shape {images.shape})")
        if labels.min() < 0 or labels.max() > 9:
            raise ValueError(f"{paths[1]}: expected class labels in [0, 10); got labels from "
                             f"{labels.min()} to {labels.max()}")
        if limit is not None:
            images, labels = images[:limit], labels[:limit]
        return images, labels.astype(np.int64), paths

    X, y, train_paths = read_split(_MNIST_NAMES[0], _MNIST_NAMES[1], "train")
    missing = np.setdiff1d(np.arange(10), y)
    if missing.size:
        cause = f"the first limit={limit} labels of " if limit is not None else ""
        raise ValueError(f"{cause}{train_paths[1]} miss classes {missing.tolist()}; every class in "
                         f"[0, 10) must occur in the training split")
    image_shape = X.shape[1:]
    if val_fraction is None:
        X_val, y_val, test_paths = read_split(_MNIST_NAMES[2], _MNIST_NAMES[3], "test")
        if X_val.shape[1:] != image_shape:
            raise ValueError(f"{test_paths[0]} has images of shape {X_val.shape[1:]} but "
                             f"{train_paths[0].name} has {image_shape}")
        X_train, y_train = X, y
    else:
        tr, va = _stratified_split(y, val_fraction, np.random.default_rng(seed))
        X_train, y_train, X_val, y_val = X[tr], y[tr], X[va], y[va]

    X_train = X_train.reshape(len(X_train), -1).astype(np.float32) / 255
    X_val = X_val.reshape(len(X_val), -1).astype(np.float32) / 255
    mean = float(X_train.mean(dtype=np.float64))
    std = float(X_train.std(dtype=np.float64)) or 1.0
    X_train = (X_train - np.float32(mean)) / np.float32(std)
    X_val = (X_val - np.float32(mean)) / np.float32(std)
    info = {
        "source": {"mnist": "MNIST (Y. LeCun, C. Cortes, C. J. C. Burges)",
                   "fashion-mnist": "Fashion-MNIST (H. Xiao, K. Rasul, R. Vollgraf; Zalando Research, "
                                    "MIT licence)"}[kind],
        "image_shape": tuple(int(d) for d in image_shape),
        "mean": mean,
        "std": std,
        "validation": ("official test split" if val_fraction is None
                       else f"{val_fraction} of the training split"),
        "verified": verify,
        "seed": seed,
    }
    return Dataset(X_train, y_train, X_val, y_val, name=kind, info=info, n_classes=10)
