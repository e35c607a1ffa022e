"""Fuzzing the checkpoint reader: damaged bytes, crafted JSON state and crafted arrays.

Whatever the file holds, ``read_checkpoint`` returns the very state that was saved or raises
a ValueError naming the file; and ``fit(resume_from=...)`` either resumes or refuses before
anything changes (weights, optimizer state, the caller's Generator)."""

from __future__ import annotations

import importlib.util
import io
import json
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import handgrad as hg
from handgrad.train import Callback, read_checkpoint

_spec = importlib.util.spec_from_file_location("fuzzing", Path(__file__).with_name("fuzzing.py"))
fuzzing = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fuzzing)


def budget(n: int):
    return fuzzing.budget(n, suppress_health_check=[HealthCheck.too_slow], deadline=None)


class _StopAfterFirstEpoch(Callback):
    def on_epoch_end(self, ctx):
        ctx.stop_training, ctx.stop_reason = True, "enough"


def _data():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((24, 3))
    return X, (X[:, 0] > 0).astype(np.int64)


_FOLDER = Path(tempfile.mkdtemp(prefix="handgrad-fuzz-ckpt-"))
_GOOD = _FOLDER / "good.npz"
_model = hg.mlp([3, 4, 2], "tanh", seed=0)
hg.fit(_model, hg.SoftmaxCrossEntropyLoss(), hg.Adam(_model.parameters(), lr=0.01), *_data(),
       epochs=3, batch_size=8, seed=1, metrics=["accuracy"],
       callbacks=[_StopAfterFirstEpoch(), hg.ModelCheckpoint(_GOOD)])  # fmt: skip
_BYTES = _GOOD.read_bytes()
_STATE = read_checkpoint(_GOOD)


def _same_state(a, b) -> bool:
    arrays = all(
        s.keys() == r.keys() and all(np.array_equal(s[k], r[k]) for k in s)
        for s, r in zip(a.optimizer["state"], b.optimizer["state"])
    )
    weights = all(
        np.array_equal(p.value, q.value) for p, q in zip(a.model.parameters(), b.model.parameters())
    )
    fields = ("epoch", "step", "progress", "history", "rng_state")
    return arrays and weights and all(getattr(a, f) == getattr(b, f) for f in fields)


@budget(60)
@given(content=fuzzing.damaged(_BYTES))
def test_damaged_checkpoints_are_refused_by_name_or_read_identically(content):
    state = fuzzing.read_damaged(_FOLDER, content, read_checkpoint)
    assert state is None or _same_state(state, _STATE)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(["nan", "inf", "-inf", "", "Adam", "PCG64"])
    | st.text(max_size=6),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


def _members() -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(_BYTES)) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


def _npy(array) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.asarray(array), allow_pickle=False)
    return buffer.getvalue()


def _write(entries: dict[str, bytes]) -> Path:
    path = _FOLDER / "crafted.npz"
    with zipfile.ZipFile(path, "w") as zf:
        for name, raw in entries.items():
            zf.writestr(zipfile.ZipInfo(name), raw)
    return path


def _meta() -> dict:
    raw = _members()["__checkpoint__.npy"]
    return json.loads(str(np.load(io.BytesIO(raw), allow_pickle=False)[()]))


def _paths(value, prefix=()):
    """Every key path into the JSON state (dict keys and list indices)."""
    yield prefix
    items = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, child in items:
        yield from _paths(child, (*prefix, key))


_PATHS = [p for p in _paths(_meta()) if p]


def _resume_changes_nothing_or_runs(path) -> None:
    model = hg.mlp([3, 4, 2], "tanh", seed=0)
    opt = hg.Adam(model.parameters(), lr=0.01)
    before = [p.value.copy() for p in model.parameters()]
    rng = np.random.default_rng(1)
    try:
        hg.fit(model, hg.SoftmaxCrossEntropyLoss(), opt, *_data(), epochs=3, batch_size=8,
               rng=rng, metrics=["accuracy"], resume_from=path)  # fmt: skip
    except ValueError as exc:
        assert str(path) in str(exc), str(exc)
        assert all(np.array_equal(p.value, b) for p, b in zip(model.parameters(), before))
        assert opt.t == 0 and rng.random() == np.random.default_rng(1).random()
        return
    assert all(np.all(np.isfinite(p.value)) for p in model.parameters())


@budget(60)
@given(where=st.sampled_from(_PATHS), value=json_values)
def test_a_crafted_training_state_resumes_or_is_refused_before_anything_changes(where, value):
    meta = _meta()
    target = meta
    for key in where[:-1]:
        target = target[key]
    target[where[-1]] = value
    entries = _members()
    entries["__checkpoint__.npy"] = _npy(np.array(json.dumps(meta)))
    _resume_changes_nothing_or_runs(_write(entries))


_OPTIMIZER_MEMBERS = sorted(n for n in _members() if n.startswith("optimizer."))


@budget(60)
@given(
    name=st.sampled_from(_OPTIMIZER_MEMBERS),
    array=hnp.arrays(
        st.sampled_from([np.float64, np.float32, np.int64, np.bool_, np.complex128, "U3"]),
        hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5),
    ),
)
def test_a_crafted_optimizer_array_resumes_or_is_refused_before_anything_changes(name, array):
    entries = _members()
    entries[name] = _npy(array)
    _resume_changes_nothing_or_runs(_write(entries))


@pytest.mark.parametrize("name", _OPTIMIZER_MEMBERS[:1])
def test_the_fuzzed_members_exist(name):
    assert name.endswith(".npy") and _STATE.optimizer["state"]
