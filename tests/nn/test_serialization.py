"""Model files: arrays + JSON, no pickle, exact round trips, corrupt files named, atomic writes."""

from __future__ import annotations

import io
import json
import os
import zipfile

import numpy as np
import pytest

import handgrad as hg
from handgrad.nn import load_with_metadata
from handgrad.nn.serialization import atomic_write, build, remove_stale_temporaries


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


# --- hardening: crafted and damaged files ---------------------------------------------------


def _with_meta(src, dst, change_meta, change_arrays=None):
    """Rewrite ``src`` to ``dst`` with its JSON metadata (a dict) changed by ``change_meta``."""

    def change(arrays):
        meta = json.loads(str(arrays["__handgrad__"][()]))
        new = change_meta(meta)
        text = new if isinstance(new, str) else json.dumps(meta if new is None else new)
        arrays["__handgrad__"] = np.array(text)
        if change_arrays is not None:
            change_arrays(arrays)

    _rewrite(src, dst, change)


def _arch(**layer0):
    return lambda m: m["architecture"]["layers"][0].update(layer0)


@pytest.mark.parametrize(
    "change, match",
    [
        (lambda m: m.update(architecture=[]), "architecture must be a dict"),
        (lambda m: m.update(architecture={"type": "Sequential"}), "list of layers"),
        (lambda m: m.update(architecture=None), "architecture must be a dict"),
        (lambda m: m["architecture"]["layers"].insert(0, 7), "layer 0 .* not a dict"),
        (lambda m: m["architecture"]["layers"].insert(0, {}), "not a dict with a 'type'"),
        (_arch(type="Conv2d"), "unknown layer type 'Conv2d'"),
        (_arch(in_features="3"), "in_features must be an integer >= 1, got '3'"),
        (_arch(in_features=True), "in_features must be an integer >= 1, got True"),
        (_arch(out_features=-7), "out_features must be an integer >= 1, got -7"),
        (_arch(out_features=7.0), "out_features must be an integer >= 1, got 7.0"),
        (_arch(bias="yes"), "bias must be True or False, got 'yes'"),
        (lambda m: m["architecture"]["layers"][1].update(negative_slope="x"), "negative_slope"),
        (lambda m: m.update(dtype="object"), "dtype must be 'float64' or 'float32', got 'object'"),
        (
            lambda m: m.update(dtype=["float64"]),
            r"dtype must be 'float64' or 'float32', got \['float64'\]",
        ),
        (lambda m: m.update(format_version=True), "unsupported format version"),
        (lambda m: m.update(format_version=2), "unsupported format version 2"),
        (lambda m: m.update(metadata=[1, 2]), "user metadata is not a JSON object"),
        (lambda m: [1, 2], "does not describe a handgrad model"),
        (lambda m: "[" * 100_000 + "]" * 100_000, "nested too deeply"),
        (lambda m: m.update(metadata={"a": json.loads("[" * 100 + "]" * 100)}), "deeper than"),
    ],
)
def test_crafted_metadata_is_refused_with_a_value_error(saved, tmp_path, change, match):
    bad = tmp_path / "crafted.npz"
    _with_meta(saved, bad, change)
    with pytest.raises(ValueError, match=f"crafted.npz.*{match}"):
        hg.load(bad)


def test_build_refuses_malformed_architectures():
    with pytest.raises(ValueError, match="architecture must be a dict"):
        build([])  # was an AttributeError
    with pytest.raises(ValueError, match="out_features must be an integer >= 1, got None"):
        build({"type": "Sequential", "layers": [{"type": "Linear", "in_features": 2}]})


def test_an_array_header_claiming_80_gb_is_refused_without_allocating(saved, tmp_path):
    import tracemalloc

    huge = {"type": "Linear", "in_features": 100_000, "out_features": 100_000, "bias": False}
    cases = {
        # the architecture claims 80 GB: refused from the member sizes, before reading
        "arch.npz": lambda m: m["architecture"]["layers"].__setitem__(0, huge),
    }
    for name, change in cases.items():
        _with_meta(saved, tmp_path / name, change)
    # an .npy header claiming 80 GB for a small layer: refused from the header alone
    header_lie = tmp_path / "header.npz"
    _with_member(saved, header_lie, "2.weight.npy", _npy_header((100_000, 100_000)) + bytes(280))
    tracemalloc.start()
    try:
        for name, match in [("arch.npz", r"needs 800000\d{5} bytes"), ("header.npz", "shape")]:
            with pytest.raises(ValueError, match=f"{name}.*{match}"):
                hg.load(tmp_path / name)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5 * 2**20, f"loading used {peak} bytes"


def _with_member(src, dst, name: str, content: bytes) -> None:
    """Copy the zip ``src`` to ``dst`` with member ``name`` replaced by ``content`` (a valid
    zip entry, CRC and all: only what it says is a lie)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, content if info.filename == name else zin.read(info))


def _npy_header(shape, descr="<f8") -> bytes:
    from numpy.lib import format as npy_format

    buf = io.BytesIO()
    header = {"descr": descr, "fortran_order": False, "shape": shape}
    npy_format.write_array_header_1_0(buf, header)
    return buf.getvalue()


def test_compressed_members_and_zip_bombs_are_refused_in_bounded_memory(saved, tmp_path):
    import tracemalloc

    deflated = tmp_path / "deflated.npz"
    with zipfile.ZipFile(saved) as src, zipfile.ZipFile(deflated, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info))
    bomb = tmp_path / "bomb.npz"  # ~50 KB on disk, 64 MB of metadata once inflated
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("__handgrad__.npy", b"\x93NUMPY" + b" " * (64 * 2**20))
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="deflated.npz.*compressed"):
            hg.load(deflated)
        with pytest.raises(ValueError, match="bomb.npz.*above the limit"):
            hg.load(bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5 * 2**20, f"loading used {peak} bytes"


def test_a_pickled_metadata_object_is_refused_never_unpickled(saved, tmp_path):
    marker = tmp_path / "executed"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    bad = tmp_path / "pickled.npz"
    obj = np.empty((), dtype=object)
    obj[()] = Payload()
    _rewrite(saved, bad, lambda a: a.update({"__handgrad__": obj}))
    with pytest.raises(ValueError, match="pickled.npz.*not a JSON string"):
        hg.load(bad)
    obj_weight = np.empty((7, 5), dtype=object)
    obj_weight[...] = Payload()
    bad2 = tmp_path / "pickled-weight.npz"
    _rewrite(saved, bad2, lambda a: a.update({"2.weight": obj_weight}))
    with pytest.raises(ValueError, match="pickled-weight.npz.*dtype object"):
        hg.load(bad2)
    assert not marker.exists()


def test_encrypted_flag_and_unknown_compression_give_value_errors(saved, tmp_path):
    data = saved.read_bytes()
    # general-purpose flag bit 0 (encrypted) in every local and central header
    flagged = bytearray(data)
    for sig, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        start = 0
        while (start := data.find(sig, start)) != -1:
            flagged[start + offset] |= 1
            start += 4
    (tmp_path / "encrypted.npz").write_bytes(bytes(flagged))
    with pytest.raises(ValueError, match="encrypted.npz"):
        hg.load(tmp_path / "encrypted.npz")
    method = bytearray(data)
    for sig, offset in ((b"PK\x03\x04", 8), (b"PK\x01\x02", 10)):
        start = 0
        while (start := data.find(sig, start)) != -1:
            method[start + offset] = 99  # no such compression method
            start += 4
    (tmp_path / "method.npz").write_bytes(bytes(method))
    with pytest.raises(ValueError, match="method.npz"):
        hg.load(tmp_path / "method.npz")


def test_trailing_bytes_fortran_order_and_folders(saved, tmp_path):
    original = hg.load(saved)
    fortran = tmp_path / "fortran.npz"
    _rewrite(saved, fortran, lambda a: a.update({"2.weight": np.asfortranarray(a["2.weight"])}))
    loaded = hg.load(fortran)
    assert np.array_equal(loaded[2].weight.value, original[2].weight.value)
    with pytest.raises(ValueError, match="not a regular file"):
        hg.load(tmp_path)
    members = {
        "extra.npz": ("2.weight.npy", _npy_header((7, 5)) + bytes(280 + 5), "header announces"),
        "short.npz": ("2.weight.npy", _npy_header((7, 5)) + bytes(200), "header announces"),
        "v3.npz": ("2.weight.npy", b"\x93NUMPY\x03\x00" + bytes(300), "npy version"),
        "junk.npz": ("2.weight.npy", b"not an npy member at all", "corrupt|magic"),
        "meta2d.npz": ("__handgrad__.npy", _npy_header((2,), "<U4") + bytes(32), "JSON string"),
    }
    for name, (member, content, match) in members.items():
        _with_member(saved, tmp_path / name, member, content)
        with pytest.raises(ValueError, match=f"{name}.*({match})"):
            hg.load(tmp_path / name)


def test_non_finite_weights_are_refused_on_load_and_on_save(saved, tmp_path):
    for value, name in ((np.nan, "nan.npz"), (np.inf, "inf.npz")):

        def poison(arrays, value=value):
            arrays["2.weight"] = arrays["2.weight"].copy()
            arrays["2.weight"][1, 1] = value

        _rewrite(saved, tmp_path / name, poison)
        with pytest.raises(ValueError, match=f"{name}.*'2.weight' holds NaN or inf"):
            hg.load(tmp_path / name)
    model = hg.load(saved)
    model[0].bias.value[0] = np.nan
    target = tmp_path / "never.npz"
    with pytest.raises(ValueError, match="'0.bias' holds NaN or inf"):
        hg.save(model, target)
    assert not target.exists() and not list(tmp_path.glob(".never*"))


def test_user_defined_layers_are_refused_by_name_before_writing(tmp_path):
    class Square(hg.Module):
        def forward(self, x):
            return x * x

        def backward(self, grad_y, input_grad=True):
            return grad_y

    class MyLinear(hg.Linear):
        pass

    for layer, name in ((Square(), "Square"), (MyLinear(2, 2, seed=0), "MyLinear")):
        model = hg.Sequential(hg.Linear(2, 2, seed=0), layer)
        with pytest.raises(TypeError, match=f"layer 1 is a .*{name}.*built-in layers"):
            hg.save(model, tmp_path / "custom.npz")
    nested = hg.Sequential(hg.Sequential(hg.Linear(2, 2, seed=0)))
    with pytest.raises(TypeError, match="layer 0 is a .*Sequential"):
        hg.save(nested, tmp_path / "custom.npz")
    assert list(tmp_path.iterdir()) == []


def test_metadata_limits_are_checked_on_save(tmp_path):
    model = hg.mlp([2, 2], seed=0)
    with pytest.raises(ValueError, match="deeper than"):
        hg.save(model, tmp_path / "m.npz", metadata={"a": json.loads("[" * 80 + "]" * 80)})
    with pytest.raises(TypeError, match="metadata must be a dict"):
        hg.save(model, tmp_path / "m.npz", metadata=[1])  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_stale_temporaries_of_killed_saves_are_removed_by_the_next_save(tmp_path):
    path = tmp_path / "model.npz"
    old = tmp_path / ".model.npz.k1ll3d.tmp"
    fresh = tmp_path / ".model.npz.st1ll.tmp"  # maybe a save running in another process
    other = tmp_path / ".other.npz.k1ll3d.tmp"
    for f in (old, fresh, other):
        f.write_bytes(b"half a model")
    an_hour_ago = os.path.getmtime(old) - 3600
    os.utime(old, (an_hour_ago, an_hour_ago))
    os.utime(other, (an_hour_ago, an_hour_ago))
    hg.save(hg.mlp([2, 2], seed=0), path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["model.npz", fresh.name, other.name]
    )
    assert remove_stale_temporaries(tmp_path / "other.npz") == [other]


def test_bit_flip_and_truncation_sweep_gives_value_error_or_the_exact_model(tmp_path):
    """One flipped bit in each byte (rotating through the 8 positions) and every 3rd
    truncation of a small model file: each load either refuses with a ValueError naming
    the file or returns the model bit for bit (flips in zip fields nobody reads)."""
    model = hg.Sequential(hg.Linear(2, 3, seed=0), hg.LeakyReLU(0.2), hg.Linear(3, 1, seed=1))
    good = tmp_path / "small.npz"
    hg.save(model, good, metadata={"classes": [0, 1]})
    data = good.read_bytes()
    expected = [p.value.tobytes() for p in model.parameters()]
    bad = tmp_path / "damaged.npz"
    outcomes = {"refused": 0, "identical": 0}

    def attempt(content: bytes) -> None:
        # a new file each time: rewriting one in place makes ext4 write its data to the disk
        # at each close (its safeguard for truncate-then-write), 2-4 ms of waiting per case
        bad.unlink(missing_ok=True)
        bad.write_bytes(content)
        try:
            loaded, meta = load_with_metadata(bad)
        except ValueError as exc:
            assert "damaged.npz" in str(exc)
            outcomes["refused"] += 1
            return
        assert [p.value.tobytes() for p in loaded.parameters()] == expected
        assert loaded.config() == model.config() and meta == {"classes": [0, 1]}
        outcomes["identical"] += 1

    for i in range(len(data)):
        flipped = bytearray(data)
        flipped[i] ^= 1 << (i % 8)
        attempt(bytes(flipped))
    for cut in range(0, len(data), 3):
        attempt(data[:cut])
    assert sum(outcomes.values()) == len(data) + len(range(0, len(data), 3))
    assert outcomes["refused"] > 0.8 * len(data)  # the CRC and the checks catch nearly all


class Scale(hg.Module):
    """y = x * s, one learned scale per feature (a user-defined module with a parameter)."""

    def __init__(self, width, dtype=np.float64):
        self.width = width
        self.s = hg.Parameter(np.linspace(0.5, 2.0, width).astype(dtype), "s")

    @classmethod
    def from_config(cls, config, dtype=np.float64):
        if not isinstance(config.get("width"), int) or config["width"] < 1:
            raise ValueError(f"width must be a positive int, got {config.get('width')!r}")
        return cls(config["width"], dtype)

    def config(self):
        return {"type": "Scale", "width": self.width}

    def forward(self, x):
        self.x = x
        return x * self.s.value

    def backward(self, grad_y):
        self.s.grad[...] = (grad_y * self.x).sum(axis=0)
        return grad_y * self.s.value

    def parameters(self):
        return [self.s]


@pytest.fixture
def registered_scale():
    from handgrad.nn.layers import MODULE_TYPES, register_module

    register_module(Scale)
    yield Scale
    MODULE_TYPES.pop("Scale", None)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_registered_module_round_trips(registered_scale, tmp_path, dtype):
    model = hg.Sequential(hg.Linear(2, 3, seed=0, dtype=dtype), Scale(3, dtype), hg.ReLU())
    model[1].s.value[...] = np.array([0.25, -1.5, 3.0], dtype)
    path = tmp_path / "custom.npz"
    hg.save(model, path)
    loaded = hg.load(path)
    assert type(loaded[1]) is Scale and loaded.config() == model.config()
    assert loaded[1].s.value.dtype == dtype
    assert np.array_equal(loaded[1].s.value, model[1].s.value)
    X = np.array([[1.0, -2.0], [0.5, 0.25]], dtype)
    assert np.array_equal(loaded.forward(X), model.forward(X))


def test_registered_module_files_are_checked_like_any_other(registered_scale, tmp_path):
    from handgrad.nn.layers import MODULE_TYPES

    model = hg.Sequential(hg.Linear(2, 3, seed=0), Scale(3))
    path = tmp_path / "custom.npz"
    hg.save(model, path)
    bad = tmp_path / "width.npz"
    _with_meta(path, bad, lambda m: m["architecture"]["layers"][1].update(width="3"))
    with pytest.raises(ValueError, match=r"width.npz.*layer 1 \(Scale\) cannot be rebuilt"):
        hg.load(bad)
    wide = tmp_path / "wide.npz"  # the rebuilt parameter's shape disagrees with the array's
    _with_meta(path, wide, lambda m: m["architecture"]["layers"][1].update(width=4))
    with pytest.raises(ValueError, match=r"wide.npz.*'1.s' has shape \(3,\)"):
        hg.load(wide)
    model[1].s.value[0] = np.inf
    with pytest.raises(ValueError, match="'1.s' holds NaN or inf"):
        hg.save(model, tmp_path / "never.npz")
    MODULE_TYPES.pop("Scale")
    with pytest.raises(ValueError, match="custom.npz.*'Scale'.*register_module"):
        hg.load(path)
