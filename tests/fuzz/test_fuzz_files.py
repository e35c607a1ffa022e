"""Fuzzing model files: random architectures and metadata round-trip bit for bit; random
damage (flipped bytes, truncation, spliced garbage) is refused with a ValueError naming the
file, or, when it hit bytes nobody reads, loads the very same model."""

from __future__ import annotations

import tempfile
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import handgrad as hg
from handgrad.nn import load_with_metadata


def budget(n: int):
    """n examples by default; proportionally more under the fuzz profile."""
    return settings(
        max_examples=max(n, n * settings.default.max_examples // 60),
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


ACTIVATIONS = ["relu", "tanh", "sigmoid", "leaky_relu", "identity"]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@st.composite
def models(draw):
    sizes = draw(st.lists(st.integers(1, 6), min_size=2, max_size=4))
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    if draw(st.booleans()):  # a bias-free layer and a drawn slope
        slope = draw(st.floats(-10, 10))
        return hg.Sequential(
            hg.Linear(sizes[0], 2, bias=False, seed=1, dtype=dtype),
            hg.LeakyReLU(slope),
            hg.Linear(2, 1, seed=2, dtype=dtype),
        )
    activation = draw(st.sampled_from(ACTIVATIONS))
    return hg.mlp(sizes, activation, seed=draw(st.integers(0, 99)), dtype=dtype)


_FOLDER = Path(tempfile.mkdtemp(prefix="handgrad-fuzz-"))  # one per session, small files


@pytest.mark.slow  # over 2 s: `make fuzz` and `make test` run it
@budget(15)
@given(model=models(), metadata=st.dictionaries(st.text(max_size=8), json_values, max_size=5))
def test_save_load_round_trip_is_bit_identical(model, metadata):
    path = _FOLDER / "round-trip.npz"
    with mock.patch("os.fsync"):  # durability is not the property here; fsync is slow
        hg.save(model, path, metadata=metadata)
    loaded, meta = load_with_metadata(path)
    assert meta == metadata
    assert loaded.config() == model.config()
    for p, q in zip(model.parameters(), loaded.parameters()):
        assert p.value.dtype == q.value.dtype and p.value.tobytes() == q.value.tobytes()


_MODEL = hg.Sequential(hg.Linear(3, 4, seed=0), hg.Tanh(), hg.Linear(4, 2, seed=1))
_GOOD = _FOLDER / "good.npz"
hg.save(_MODEL, _GOOD, metadata={"classes": ["a", "b"]})
_BYTES = _GOOD.read_bytes()
_EXPECTED = [p.value.tobytes() for p in _MODEL.parameters()]


@st.composite
def damaged(draw):
    data = bytearray(_BYTES)
    kind = draw(st.sampled_from(["flip", "bytes", "truncate", "splice", "zero-run"]))
    if kind == "flip":
        for _ in range(draw(st.integers(1, 4))):
            i = draw(st.integers(0, len(data) - 1))
            data[i] ^= 1 << draw(st.integers(0, 7))
    elif kind == "bytes":
        for _ in range(draw(st.integers(1, 8))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    elif kind == "truncate":
        data = data[: draw(st.integers(0, len(data) - 1))]
    elif kind == "splice":
        i = draw(st.integers(0, len(data)))
        data[i:i] = draw(st.binary(min_size=1, max_size=64))
    else:
        i = draw(st.integers(0, len(data) - 1))
        data[i : i + draw(st.integers(1, 200))] = bytes(min(200, len(data) - i))
    return bytes(data)


@budget(60)
@given(content=damaged())
def test_damaged_files_are_refused_by_name_or_load_identically(content):
    bad = _FOLDER / "damaged.npz"
    bad.write_bytes(content)
    try:
        loaded, meta = load_with_metadata(bad)
    except ValueError as exc:
        assert "damaged.npz" in str(exc)
        return
    assert [p.value.tobytes() for p in loaded.parameters()] == _EXPECTED
    assert meta == {"classes": ["a", "b"]}
