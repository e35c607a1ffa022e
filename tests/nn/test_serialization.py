"""Model files: arrays + JSON, no pickle, exact round trips, corrupt files named, atomic writes."""

from __future__ import annotations

import json
import os
import zipfile

import numpy as np
import pytest

import handgrad as hg
from handgrad.nn import load_with_metadata
from handgrad.nn.serialization import atomic_write


def trained_model(dtype=np.float64, activation="leaky_relu"):
    gen = np.random.default_rng(0)
    X = gen.normal(size=(40, 3))
    y = gen.integers(0, 3, size=40)
    model = hg.mlp([3, 7, 5, 3], activation, seed=1, dtype=dtype)
    hg.fit(
        model,
        hg.SoftmaxCrossEntropyLoss(),
        hg.Adam(model.parameters(), lr=0.01),
        X,
        y,
        epochs=3,
        batch_size=8,
        seed=0,
    )
    return model, X.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "tanh", "sigmoid"])
def test_round_trip_is_bit_identical(dtype, activation, tmp_path):
    model, X = trained_model(dtype, activation)
    path = tmp_path / "model.npz"
    assert hg.save(model, path, metadata={"note": "hello", "classes": [0, 1, 2]}) == path
    loaded, meta = load_with_metadata(path)
    assert meta == {"note": "hello", "classes": [0, 1, 2]}
    assert loaded.config() == model.config()
    assert loaded.dtype == np.dtype(dtype)
    for p, q in zip(model.parameters(), loaded.parameters()):
        assert q.value.dtype == np.dtype(dtype)
        assert p.value.tobytes() == q.value.tobytes()
    before, after = model.forward(X), loaded.forward(X)
    assert after.dtype == np.dtype(dtype)
    assert before.tobytes() == after.tobytes()
    assert isinstance(hg.load(path), hg.Sequential)


def test_leaky_relu_slope_and_bias_free_layers_survive(tmp_path):
    model = hg.Sequential(
        hg.Linear(2, 3, bias=False, seed=0),
        hg.LeakyReLU(0.3),
        hg.Linear(3, 1, seed=1),
        hg.Identity(),
    )
    hg.save(model, tmp_path / "m.npz")
    loaded = hg.load(tmp_path / "m.npz")
    assert loaded[1].negative_slope == 0.3
    assert loaded[0].bias is None and loaded[2].bias is not None
    X = np.array([[1.0, -2.0], [-3.0, 0.5]])
    assert np.array_equal(model.forward(X), loaded.forward(X))


def test_file_holds_arrays_and_json_only(tmp_path):
    model, _ = trained_model()
    path = tmp_path / "model.npz"
    hg.save(model, path, metadata={"epoch": 3})
    with np.load(path, allow_pickle=False) as npz:  # would raise if anything needed pickle
        names = set(npz.files)
        arrays = {name: npz[name] for name in names}
    assert names == {
        "__handgrad__",
        "0.weight",
        "0.bias",
        "2.weight",
        "2.bias",
        "4.weight",
        "4.bias",
    }
    assert all(a.dtype != object for a in arrays.values())
    meta = json.loads(str(arrays["__handgrad__"][()]))
    assert meta["format"] == "handgrad-model" and meta["dtype"] == "float64"
    assert meta["metadata"] == {"epoch": 3}
    assert meta["architecture"] == model.config()
    with zipfile.ZipFile(path) as zf:  # plain .npy members, no pickled objects
        assert all(name.endswith(".npy") for name in zf.namelist())


# --- corrupt files are named in the error ----------------------------------------------------


@pytest.fixture
def saved(tmp_path):
    model, _ = trained_model()
    path = tmp_path / "good.npz"
    hg.save(model, path)
    return path


def test_truncated_file(saved, tmp_path):
    data = saved.read_bytes()
    for cut in (10, len(data) // 2, len(data) - 30):
        bad = tmp_path / f"truncated-{cut}.npz"
        bad.write_bytes(data[:cut])
        with pytest.raises(ValueError, match=f"cannot load model from .*{bad.name}"):
            hg.load(bad)


def test_random_bytes_file(tmp_path):
    bad = tmp_path / "noise.npz"
    bad.write_bytes(np.random.default_rng(0).bytes(2048))
    with pytest.raises(ValueError, match=f"{bad.name}.*corrupt") as info:
        hg.load(bad)
    assert "pickle" not in str(info.value)  # never advise unpickling an unknown file


def test_npz_without_handgrad_metadata(tmp_path):
    bad = tmp_path / "plain.npz"
    np.savez(bad, weights=np.ones((2, 2)))
    with pytest.raises(ValueError, match=f"{bad.name}.*no handgrad metadata"):
        hg.load(bad)


def _rewrite(src, dst, change):
    with np.load(src, allow_pickle=False) as npz:
        arrays = {name: npz[name] for name in npz.files}
    change(arrays)
    np.savez(dst, **arrays)


def test_wrong_shaped_array(saved, tmp_path):
    bad = tmp_path / "wrong-shape.npz"
    _rewrite(saved, bad, lambda a: a.update({"2.weight": np.zeros((7, 4))}))
    with pytest.raises(ValueError, match=f"{bad.name}.*'2.weight' has shape \\(7, 4\\)"):
        hg.load(bad)


def test_missing_array_wrong_dtype_and_bad_metadata(saved, tmp_path):
    cases = {
        "missing.npz": (lambda a: a.pop("4.bias"), "'4.bias' is missing"),
        "dtype.npz": (
            lambda a: a.update({"0.bias": a["0.bias"].astype(np.float32)}),
            "dtype float32",
        ),
        "format.npz": (
            lambda a: a.update({"__handgrad__": np.array(json.dumps({"format": "other"}))}),
            "does not describe a handgrad model",
        ),
        "json.npz": (lambda a: a.update({"__handgrad__": np.array("{not json")}), "cannot load"),
    }
    for name, (change, match) in cases.items():
        bad = tmp_path / name
        _rewrite(saved, bad, change)
        with pytest.raises(ValueError, match=f"{name}.*{match}|{match}.*{name}"):
            hg.load(bad)


def test_missing_file_and_non_sequential(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.npz"):
        hg.load(tmp_path / "nope.npz")
    with pytest.raises(TypeError, match="Sequential"):
        hg.save(hg.Linear(2, 2), tmp_path / "linear.npz")


# --- atomic writes ----------------------------------------------------------------------------


def test_failed_save_leaves_the_existing_file_intact(saved):
    original = saved.read_bytes()
    other = hg.mlp([2, 2], seed=5)
    with pytest.raises(TypeError, match="JSON"):
        hg.save(other, saved, metadata={"bad": object()})
    assert saved.read_bytes() == original
    assert sorted(p.name for p in saved.parent.iterdir()) == ["good.npz"]  # no temp files
    hg.load(saved)


def test_atomic_write_failure_mid_write(tmp_path):
    target = tmp_path / "data.bin"
    target.write_bytes(b"old contents")

    def half_then_crash(fh):
        fh.write(b"new but incomplete")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(target, half_then_crash)
    assert target.read_bytes() == b"old contents"
    assert os.listdir(tmp_path) == ["data.bin"]
    atomic_write(target, lambda fh: fh.write(b"new"))
    assert target.read_bytes() == b"new"
    assert os.listdir(tmp_path) == ["data.bin"]


def test_save_creates_folders_and_overwrites(tmp_path):
    a, _ = trained_model()
    b = hg.mlp([3, 2], seed=9)
    path = tmp_path / "deep" / "er" / "model.npz"
    hg.save(a, path)
    hg.save(b, path)
    loaded = hg.load(path)
    assert loaded.config() == b.config()
    assert np.array_equal(loaded[0].weight.value, b[0].weight.value)
