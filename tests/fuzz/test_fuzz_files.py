"""Fuzzing model files: random architectures and metadata round-trip bit for bit; random
damage (flipped bytes, truncation, spliced garbage) is refused with a ValueError naming the
file, or, when it hit bytes nobody reads, loads the very same model."""

from __future__ import annotations

import importlib.util
import tempfile
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given
from hypothesis import strategies as st

import handgrad as hg
from handgrad.nn import load_with_metadata

_spec = importlib.util.spec_from_file_location("fuzzing", Path(__file__).with_name("fuzzing.py"))
fuzzing = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fuzzing)


def budget(n: int):
    return fuzzing.budget(
        n, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
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


@budget(60)
@given(content=fuzzing.damaged(_BYTES))
def test_damaged_files_are_refused_by_name_or_load_identically(content):
    read = fuzzing.read_damaged(_FOLDER, content, load_with_metadata)
    if read is not None:
        loaded, meta = read
        assert [p.value.tobytes() for p in loaded.parameters()] == _EXPECTED
        assert meta == {"classes": ["a", "b"]}
