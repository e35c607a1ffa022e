"""Tampered checkpoints and model files: every one is a ValueError naming the file, raised
before anything is restored (weights, optimizer state, the caller's Generator), in memory
bounded by the file's size; never a TokenError, RecursionError or MemoryError."""

from __future__ import annotations

import io
import json
import tracemalloc
import zipfile

import numpy as np
import pytest

import handgrad as hg
from handgrad.train import Callback, read_checkpoint

EPOCHS = 4


def data():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((40, 3))
    return X, (X[:, 0] - X[:, 1] > 0).astype(np.int64)


class StopAfter(Callback):
    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, ctx):
        if ctx.epoch == self.epoch:
            ctx.stop_training, ctx.stop_reason = True, "enough"


@pytest.fixture
def checkpoint(tmp_path):
    """A checkpoint at the end of epoch 2 of 4 (Adam, batch 8: 5 steps an epoch)."""
    X, y = data()
    model = hg.mlp([3, 6, 2], "tanh", seed=0)
    path = tmp_path / "c.npz"
    callbacks = [StopAfter(1), hg.ModelCheckpoint(path)]
    hg.fit(model, hg.SoftmaxCrossEntropyLoss(), hg.Adam(model.parameters(), lr=0.01), X, y,
           epochs=EPOCHS, batch_size=8, seed=7, callbacks=callbacks)  # fmt: skip
    return path


def members(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {info.filename: zf.read(info) for info in zf.infolist()}


def write_zip(path, entries, compress: dict | None = None):
    """``entries``: [(name, bytes)], stored uncompressed unless named in ``compress``."""
    with zipfile.ZipFile(path, "w") as zf:
        for name, raw in entries:
            how = (compress or {}).get(name, zipfile.ZIP_STORED)
            zf.writestr(zipfile.ZipInfo(name), raw, compress_type=how)
    return path


def npy(array) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.asarray(array), allow_pickle=False)
    return buffer.getvalue()


def with_state(path, edit):
    """The checkpoint with its JSON training state changed by ``edit(meta)``."""
    entries = members(path)
    raw = entries["__checkpoint__.npy"]
    meta = json.loads(str(np.load(io.BytesIO(raw), allow_pickle=False)[()]))
    edited = edit(meta)
    text = edited if isinstance(edited, str) else json.dumps(edited)
    entries["__checkpoint__.npy"] = npy(np.array(text))
    return write_zip(path.with_name("tampered.npz"), entries.items())


def with_member(path, name, raw, compress=None):
    entries = members(path)
    entries[name] = raw
    return write_zip(path.with_name("tampered.npz"), entries.items(), compress)


def resume(path, unchanged: list | None = None):
    """fit resumed from ``path``; appends to ``unchanged`` whether the model, the optimizer
    and the Generator are as they were (checked even when fit raises)."""
    X, y = data()
    model = hg.mlp([3, 6, 2], "tanh", seed=0)
    opt = hg.Adam(model.parameters(), lr=0.01)
    before = [p.value.copy() for p in model.parameters()]
    rng = np.random.default_rng(7)
    try:
        hg.fit(model, hg.SoftmaxCrossEntropyLoss(), opt, X, y, epochs=EPOCHS, batch_size=8,
               rng=rng, resume_from=path)  # fmt: skip
    finally:
        same = all(np.array_equal(p.value, b) for p, b in zip(model.parameters(), before))
        same = same and opt.t == 0 and rng.random() == np.random.default_rng(7).random()
        if unchanged is not None:
            unchanged.append(same)


def set_in(meta, keys, value):
    target = meta
    for key in keys[:-1]:
        target = target[key]
    target[keys[-1]] = value
    return meta


STATE_EDITS = {
    # the partial sums were once checked after the weights, optimizer and Generator were back
    "sums-text": (lambda m: set_in(m, ["progress", "sums", "loss"], "abc"), "partial sum 'loss'"),
    "sums-list": (lambda m: set_in(m, ["progress", "sums"], [1, 2]), "no partial sums"),
    "seen-float": (lambda m: set_in(m, ["progress", "sums", "seen"], 1.5), "rows seen"),
    "seen-too-many": (lambda m: set_in(m, ["progress", "sums", "seen"], 41), "41 rows seen"),
    # epoch and step against the run: the last epoch's end is the end, a step past it is not
    "epoch-off-by-one": (lambda m: {**m, "epoch": EPOCHS, "step": 1}, "beyond epochs=4"),
    "step-past-the-epoch": (lambda m: {**m, "step": 6}, "step 6 of an epoch, which has 5"),
    "history-list": (lambda m: {**m, "history": []}, "history must be JSON objects"),
    "optimizer-list": (lambda m: {**m, "optimizer": []}, "optimizer state is not a JSON"),
    "deep-json": (lambda m: "[" * 100_000 + "]" * 100_000, "nested too deeply"),
}


@pytest.mark.parametrize("name", STATE_EDITS)
def test_a_tampered_training_state_is_refused_before_anything_is_restored(checkpoint, name):
    edit, message = STATE_EDITS[name]
    path = with_state(checkpoint, edit)
    unchanged: list[bool] = []
    with pytest.raises(ValueError, match=str(path)) as caught:
        resume(path, unchanged)
    assert message in str(caught.value)
    assert unchanged == [True]


def test_a_checkpoint_at_the_very_end_still_resumes(checkpoint):
    path = with_state(checkpoint, lambda m: {**m, "epoch": EPOCHS, "step": 0})
    assert read_checkpoint(path).epoch == EPOCHS
    resume(path)  # nothing is left to train: fit returns


def header_of(raw: bytes) -> tuple[bytes, bytes]:
    """(magic + length, header text) of an .npy version 1.0 member."""
    length = int.from_bytes(raw[8:10], "little")
    return raw[:10], raw[10 : 10 + length]


def crafted_header(text: str, data: bytes = b"") -> bytes:
    body = text.encode("latin1")
    body += b" " * (63 - (len(body) + 10) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + len(body).to_bytes(2, "little") + body + data


MEMBER_EDITS = {
    # the .npy header's parser raised tokenize's TokenError on unbalanced brackets
    "token-error": crafted_header("{'descr': '<f8', 'fortran_order': False, 'shape': ((((("),
    # a header claiming 8 TB: refused from the header, not a MemoryError
    "huge-shape": crafted_header("{'descr': '<f8', 'fortran_order': False, 'shape': (10**12,), }"),
    "object-dtype": crafted_header("{'descr': '|O', 'fortran_order': False, 'shape': (3,), }"),
    "short-data": crafted_header(
        "{'descr': '<f8', 'fortran_order': False, 'shape': (18,), }", b"\0" * 8
    ),
}


@pytest.mark.parametrize("name", MEMBER_EDITS)
def test_a_crafted_optimizer_array_is_refused_naming_the_file(checkpoint, name):
    path = with_member(checkpoint, "optimizer.0.m.npy", MEMBER_EDITS[name])
    with pytest.raises(ValueError, match=f"cannot resume from {path}"):
        resume(path)


def test_a_compressed_optimizer_array_is_refused_in_bounded_memory(checkpoint):
    # 48 MB of zeros deflate to about 50 kB: refused from the member's header in the zip
    bomb = npy(np.zeros(6 * 2**20))
    path = with_member(checkpoint, "optimizer.0.m.npy", bomb, {"optimizer.0.m.npy": 8})
    assert path.stat().st_size < 200_000
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=f"{path}.*compressed"):
            read_checkpoint(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5 * 2**20, peak


def test_a_member_listed_twice_is_refused(checkpoint, tmp_path):
    entries = list(members(checkpoint).items())
    twice = next((n, b) for n, b in entries if n.startswith("optimizer."))
    with pytest.warns(UserWarning, match="Duplicate name"):
        path = write_zip(tmp_path / "twice.npz", [*entries, twice])
    with pytest.raises(ValueError, match=f"{path}.*appears twice"):
        read_checkpoint(path)


def model_file(tmp_path, model):
    path = tmp_path / "model.npz"
    hg.save(model, path)
    return path


def test_a_model_file_with_a_member_listed_twice_is_refused(tmp_path):
    path = model_file(tmp_path, hg.mlp([3, 4, 2], "relu", seed=0))
    entries = list(members(path).items())
    with pytest.warns(UserWarning, match="Duplicate name"):
        write_zip(path, [*entries, ("0.weight.npy", npy(np.ones((3, 4))))])
    with pytest.raises(ValueError, match=f"cannot load model from {path}: .*appears twice"):
        hg.load(path)


def with_architecture(path, edit):
    entries = members(path)
    meta = json.loads(str(np.load(io.BytesIO(entries["__handgrad__.npy"]))[()]))
    edit(meta["architecture"])
    entries["__handgrad__.npy"] = npy(np.array(json.dumps(meta)))
    return write_zip(path, entries.items())


def test_a_model_file_without_layers_is_refused(tmp_path):
    path = model_file(tmp_path, hg.mlp([3, 4, 2], "relu", seed=0))
    with_architecture(path, lambda a: a.update(layers=[]))
    with pytest.raises(ValueError, match=f"cannot load model from {path}: .*no layers"):
        hg.load(path)


def test_a_bias_array_beside_a_layer_without_bias_is_refused(tmp_path):
    path = model_file(tmp_path, hg.mlp([3, 4, 2], "relu", seed=0))
    with_architecture(path, lambda a: a["layers"][0].update(bias=False))
    with pytest.raises(ValueError, match=f"{path}: the array '0.bias' is no parameter"):
        hg.load(path)
    # a layer saved without a bias loads
    model = hg.Sequential(hg.Linear(3, 2, bias=False, seed=0))
    assert hg.load(model_file(tmp_path, model)).parameters()[0].value.shape == (3, 2)


def test_a_generator_state_out_of_range_is_refused_by_name(checkpoint):
    # found by fuzzing: NumPy's OverflowError escaped the Generator check
    path = with_state(checkpoint, lambda m: set_in(m, ["rng_state", "state", "inc"], -1))
    unchanged: list[bool] = []
    with pytest.raises(ValueError, match=f"{path}: its Generator state does not fit"):
        resume(path, unchanged)
    assert unchanged == [True]


def test_a_member_whose_name_was_damaged_is_refused(checkpoint, tmp_path):
    # found by fuzzing: one byte of a name in the zip's directory made an optimizer array
    # unread (the state then lacked it) instead of refusing the file; zipfile cuts a name
    # at its first NUL, so this one reads as the empty name
    entries = members(checkpoint)
    entries["\x00ptimizer.2.v.npy"] = entries.pop("optimizer.2.v.npy")
    path = write_zip(tmp_path / "renamed.npz", entries.items())
    with pytest.raises(ValueError, match=f"{path}: the member '' is not part of"):
        read_checkpoint(path)
