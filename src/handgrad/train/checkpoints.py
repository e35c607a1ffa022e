"""The training state on disk: checkpoints, and resuming from one bit for bit.

A checkpoint file is one ``.npz``, arrays and JSON, never pickle, written atomically:

    __handgrad__, 0.weight, ...   the model, exactly as ``handgrad.nn.save`` writes it
                                  (so ``handgrad.load(checkpoint)`` reads the model)
    optimizer.<i>.<name>          the optimizer's state arrays, parameter i, in ``params`` order
    callback.<i>.<name>           the array parts of callback i's ``state_dict`` (best weights)
    __checkpoint__                JSON: the optimizer's type, hyperparameters and step count t,
                                  the Generator's state, where the run stands (epoch, step)
                                  and the partial sums of the epoch in progress, the history,
                                  the callbacks' states (their JSON parts)

``save_checkpoint`` writes it; ``read_checkpoint`` reads and checks it into a
``TrainingState`` (nothing changes yet); ``TrainingState.check_fits`` refuses a state that does
not match a model/optimizer/Generator with a ValueError, before ``restore`` writes anything.
"""

from __future__ import annotations

import copy
import json
import os
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from ..io import json_ready, number_from_json
from ..nn._members import CORRUPT, members_by_name, read_json_member, read_number_array
from ..nn.layers import Module, Sequential
from ..nn.optim import Optimizer
from ..nn.serialization import atomic_write, load_with_metadata, save
from .callbacks import History

__all__ = [
    "TrainingState",
    "save_checkpoint",
    "read_checkpoint",
]

FORMAT = "handgrad-checkpoint"
FORMAT_VERSION = 1
_KEY = "__checkpoint__"

# a zip's members by name
Members = dict[str, zipfile.ZipInfo]
_OPT_PREFIX = "optimizer."
_CB_PREFIX = "callback."


# --- on disk --------------------------------------------------------------------------------


@dataclass
class TrainingState:
    """A checkpoint's contents. ``epoch`` is the epoch in progress (0-based) and ``step`` the
    steps done in it; ``rng_state`` is the Generator's state at the start of that epoch;
    ``progress`` the epoch's partial sums (``loss_sum``, ``seen``, ``metric_sums``)."""

    path: Path
    model: Module
    optimizer: dict[str, Any]  # as Optimizer.state_dict() returns it
    rng_state: dict[str, Any]
    epoch: int
    step: int
    progress: dict[str, Any]
    history: dict[str, Any]
    # one state dict (or None) per callback of the run, in order
    callbacks: list[dict[str, Any] | None]

    def check_fits(
        self,
        model: Module,
        optimizer: Any,
        rng: np.random.Generator,
        loop: dict[str, int | bool],
        epochs: int,
    ) -> None:
        """Raise ValueError naming the first thing that does not match the model, optimizer,
        Generator, the loop's shape (rows, batch size, shuffle, drop_last) or the number of
        epochs; changes nothing."""
        where = f"checkpoint {self.path}"
        if self.progress.get("loop") != loop:
            raise ValueError(
                f"{where} was written by a run over {self.progress.get('loop')}, not {loop}: "
                "resume with the call the run started with"
            )
        if self.epoch > epochs or (self.epoch == epochs and self.step > 0):
            raise ValueError(
                f"{where} stands at epoch {self.epoch + 1} (step {self.step}), beyond "
                f"epochs={epochs}"
            )
        rows, batch_size = loop["rows"], loop["batch_size"]
        steps = rows // batch_size if loop["drop_last"] else -(-rows // batch_size)
        if self.step > steps:
            raise ValueError(
                f"{where} stands at step {self.step} of an epoch, which has {steps} steps"
            )
        if self.progress["sums"]["seen"] > rows:
            raise ValueError(
                f"{where} counts {self.progress['sums']['seen']} rows seen in an epoch of {rows}"
            )
        config = getattr(model, "config", None)
        if not callable(config) or config() != self.model.config():
            raise ValueError(f"{where} holds a different model: {self.model.config()}")
        dtype, saved_dtype = getattr(model, "dtype", None), getattr(self.model, "dtype", None)
        if dtype != saved_dtype:
            raise ValueError(f"{where} holds a {saved_dtype} model, not {dtype}")
        if not isinstance(optimizer, Optimizer):
            raise ValueError(
                f"{where}: resuming needs a handgrad optimizer (with state_dict), "
                f"got {type(optimizer).__name__}"
            )
        try:  # the optimizer's own checks, on a copy
            copy.deepcopy(optimizer).load_state_dict(self.optimizer)
        except (TypeError, ValueError, KeyError, OverflowError) as exc:
            raise ValueError(f"{where}: {exc}") from None
        try:
            probe = type(rng.bit_generator)()
            probe.state = self.rng_state
        except (TypeError, ValueError, KeyError, OverflowError) as exc:
            raise ValueError(f"{where}: its Generator state does not fit: {exc}") from None

    def check_metrics(self, names: Iterable[str]) -> None:
        """Raise ValueError unless the run logged exactly the metrics ``names``."""
        saved = set(self.progress["sums"])
        if saved != {"loss", "seen", *names}:
            raise ValueError(
                f"checkpoint {self.path} was written by a run with metrics "
                f"{sorted(saved - {'loss', 'seen'})}: resume with those"
            )

    def restore(self, model: Module, optimizer: Optimizer, rng: np.random.Generator) -> None:
        """Put the weights, the optimizer state and the Generator state back (after
        ``check_fits``)."""
        rng.bit_generator.state = self.rng_state  # checked by NumPy first: nothing changed yet
        for p, q in zip(model.parameters(), self.model.parameters()):
            np.copyto(p.value, q.value)
        optimizer.load_state_dict(self.optimizer)


def save_checkpoint(
    path: str | os.PathLike[str],
    model: Module,
    optimizer: Optimizer,
    *,
    rng_state: dict[str, Any],
    epoch: int,
    step: int,
    progress: dict[str, Any],
    history: dict[str, Any],
    callbacks: Sequence[dict[str, Any] | None] | None = None,
) -> Path:
    """Write the training state to ``path`` atomically (one .npz; see the module docstring).

    ``callbacks``: one ``state_dict`` (or None) per callback, arrays stored as arrays."""
    path = Path(path)
    state = optimizer.state_dict()
    callback_json: list[dict[str, Any] | None] = []
    callback_arrays: dict[str, np.ndarray] = {}
    for i, cb in enumerate(callbacks or []):
        if cb is None:
            callback_json.append(None)
            continue
        callback_json.append({k: v for k, v in cb.items() if not isinstance(v, np.ndarray)})
        for k, v in cb.items():
            if isinstance(v, np.ndarray):
                callback_arrays[f"{_CB_PREFIX}{i}.{k}"] = v
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "optimizer": {k: state[k] for k in ("type", "hyperparameters", "t")},
        "rng_state": rng_state,
        "epoch": int(epoch),
        "step": int(step),
        "progress": progress,
        "history": history,
        "callbacks": callback_json,
    }
    try:
        meta_json = json.dumps(json_ready(meta), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"save_checkpoint: the state is not JSON-able: {exc}") from None
    arrays = {
        f"{_OPT_PREFIX}{i}.{name}": a for i, s in enumerate(state["state"]) for name, a in s.items()
    }
    arrays.update(callback_arrays)
    arrays[_KEY] = np.array(meta_json)

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, model_tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".model.tmp", dir=path.parent)
    os.close(fd)
    try:
        # the model part through the model writer itself, then its entries copied over
        # the model's metadata: the epochs done (and the steps into the next, if any)
        done = {"epoch": int(epoch), **({"step": int(step)} if step else {})}
        save(model, model_tmp, done)

        def write(fh: IO[bytes]) -> None:
            with zipfile.ZipFile(model_tmp) as src, zipfile.ZipFile(fh, "w") as out:
                for info in src.infolist():
                    out.writestr(info, src.read(info))
                for name, a in arrays.items():
                    with out.open(f"{name}.npy", "w", force_zip64=True) as entry:
                        np.lib.format.write_array(entry, np.asarray(a), allow_pickle=False)

        return atomic_write(path, write)
    finally:
        if os.path.exists(model_tmp):
            os.unlink(model_tmp)


def read_checkpoint(path: str | os.PathLike[str]) -> TrainingState:
    """Read and check a file ``save_checkpoint`` wrote; ValueError naming the file and the
    problem for anything else (FileNotFoundError when there is no file).

    Every member is read as the model reader reads its own: listed once, stored
    uncompressed (memory bounded by the file's size), .npy headers checked before the data,
    JSON of bounded depth; the epoch's partial sums are checked and converted here, so
    nothing in the file can fail once ``restore`` has begun."""
    path = Path(path)
    model, _ = load_with_metadata(path)  # FileNotFoundError / ValueError for a bad file
    try:
        with zipfile.ZipFile(path) as zf:
            members = members_by_name(zf)
            _check_member_names(members, model)
            meta = _checkpoint_meta(zf, members)
            per_param = _optimizer_arrays(zf, members, len(model.parameters()))
            callbacks = _callback_states(zf, members, meta.get("callbacks", []))
        optimizer = meta["optimizer"]
        if not isinstance(optimizer, dict):
            raise ValueError("its optimizer state is not a JSON object")
        epoch, step = meta["epoch"], meta["step"]
        if not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in (epoch, step)
        ):
            raise ValueError(f"epoch and step must be non-negative integers, got {epoch}, {step}")
        rng_state, history = meta["rng_state"], meta["history"]
        if not isinstance(rng_state, dict) or not isinstance(history, dict):
            raise ValueError("rng_state and history must be JSON objects")
        try:  # what fit will make of it, tried now
            History.from_dict(history)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"its history: {exc}") from None
        return TrainingState(
            path,
            model,
            {**optimizer, "state": per_param},
            rng_state,
            epoch,
            step,
            _progress(meta["progress"]),
            history,
            callbacks,
        )
    except ValueError as exc:
        raise ValueError(f"cannot resume from {path}: {exc}") from None
    except (*CORRUPT, AttributeError) as exc:
        raise ValueError(
            f"cannot resume from {path}: damaged checkpoint ({type(exc).__name__}: {exc})"
        ) from None


def _check_member_names(members: Members, model: Sequential) -> None:
    """Every member is one a checkpoint holds: the model's, the state's, an optimizer's or a
    callback's array (a name damaged in the zip's directory would otherwise go unread)."""
    known = {"__handgrad__.npy", _KEY + ".npy", *(f"{n}.npy" for n, _ in model.named_parameters())}
    for name in members:
        if name not in known and not name.startswith((_OPT_PREFIX, _CB_PREFIX)):
            raise ValueError(f"the member {name!r} is not part of a handgrad checkpoint")


def _checkpoint_meta(zf: zipfile.ZipFile, members: Members) -> dict[str, Any]:
    """The checkpoint's JSON part, its format and version checked."""
    info = members.get(_KEY + ".npy")
    if info is None:
        raise ValueError("it is a model file without training state (not a checkpoint)")
    meta = read_json_member(zf, info, "its training state", info.file_size)
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError("its metadata does not describe a handgrad checkpoint")
    if meta.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"unsupported checkpoint version {meta.get('format_version')!r}")
    return meta


def _progress(progress: Any) -> dict[str, Any]:
    """The run's shape and the epoch's partial sums, checked: ``seen`` a count, the other
    sums numbers (null for one that is not finite, or "nan"/"inf" in older files), returned as
    int and floats."""
    if not isinstance(progress, dict) or not isinstance(progress.get("loop"), dict):
        raise ValueError("its progress is not a JSON object with the loop's shape")
    sums = progress.get("sums")
    if not isinstance(sums, dict) or "loss" not in sums or "seen" not in sums:
        raise ValueError("its progress has no partial sums (loss, seen)")
    seen = sums["seen"]
    if isinstance(seen, bool) or not isinstance(seen, int) or seen < 0:
        raise ValueError(f"its progress counts {seen!r} rows seen, not a count")
    checked: dict[str, int | float] = {"seen": seen}
    for name, value in sums.items():
        if name == "seen":
            continue
        try:
            checked[name] = number_from_json(value)
        except TypeError:
            raise ValueError(f"its partial sum {name!r} is {value!r}, not a number") from None
    return {**progress, "sums": checked}


def _indexed_members(members: Members, prefix: str) -> list[tuple[int, str, str]]:
    """(index, key, member name) of the members named ``<prefix><index>.<key>.npy``."""
    found = []
    for name in members:
        if name.startswith(prefix):
            index, _, key = name[len(prefix) : -len(".npy")].partition(".")
            if not name.endswith(".npy") or not index.isdigit() or not key:
                raise ValueError(f"the member {name!r} is not an array of the training state")
            found.append((int(index), key, name))
    return found


def _optimizer_arrays(
    zf: zipfile.ZipFile, members: Members, n_params: int
) -> list[dict[str, np.ndarray]]:
    """The optimizer's state arrays, one dict per parameter."""
    per_param: list[dict[str, np.ndarray]] = [{} for _ in range(n_params)]
    for index, key, name in _indexed_members(members, _OPT_PREFIX):
        if index >= n_params:
            raise ValueError(f"the optimizer array {name[:-4]!r} names no parameter")
        per_param[index][key] = read_number_array(zf, members[name], f"the array {name[:-4]!r}")
    return per_param


def _callback_states(
    zf: zipfile.ZipFile, members: Members, callbacks: object
) -> list[dict[str, Any] | None]:
    """The callbacks' states: their JSON parts with their arrays put back in."""
    if not isinstance(callbacks, list) or not all(
        c is None or isinstance(c, dict) for c in callbacks
    ):
        raise ValueError("its callback states are not a list of JSON objects")
    states: list[dict[str, Any] | None] = [None if c is None else dict(c) for c in callbacks]
    for index, key, name in _indexed_members(members, _CB_PREFIX):
        if index >= len(states):
            raise ValueError(f"the callback array {name[:-4]!r} names no callback")
        state = states[index]
        if state is None:
            raise ValueError(f"the callback array {name[:-4]!r} belongs to no state")
        state[key] = read_number_array(zf, members[name], f"the array {name[:-4]!r}")
    return states


# --- the callbacks' part --------------------------------------------------------------------


def callback_state(cb: Any) -> dict[str, Any] | None:
    """A callback's state for a checkpoint, with its type to match it on resume."""
    state_dict = getattr(cb, "state_dict", None)
    return None if state_dict is None else {"type": type(cb).__name__, **state_dict()}


def resume_callbacks(
    callbacks: Sequence[Any], saved: Sequence[dict[str, Any] | None], where: str
) -> None:
    """Give each callback that has a state (EarlyStopping, ...) its state from the
    checkpoint, in order; ValueError, before any change, if they do not match."""
    stateful = [cb for cb in callbacks if hasattr(cb, "state_dict")]
    states = [s for s in saved if s is not None]
    if [type(cb).__name__ for cb in stateful] != [s.get("type") for s in states]:
        raise ValueError(
            f"checkpoint {where} was written with the callbacks {[s.get('type') for s in states]} "
            f"holding state, not {[type(cb).__name__ for cb in stateful]}: resume with the same"
        )
    for cb, state in zip(stateful, states):
        cb.load_state_dict({k: v for k, v in state.items() if k != "type"})
