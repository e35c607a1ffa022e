"""The training state, kept in memory (the divergence guard's snapshot) or on disk (resume).

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
import math
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .io import json_ready
from .nn.layers import Module, Parameter
from .nn.optim import SGD, Adam, Optimizer, RMSProp
from .nn.serialization import atomic_write, load_with_metadata, save

__all__ = [
    "DivergenceGuard",
    "Snapshot",
    "TrainingState",
    "save_checkpoint",
    "read_checkpoint",
]

FORMAT = "handgrad-checkpoint"
FORMAT_VERSION = 1
_KEY = "__checkpoint__"
_OPT_PREFIX = "optimizer."
_CB_PREFIX = "callback."


# --- in memory ------------------------------------------------------------------------------


class Snapshot:
    """The parameters' values and the optimizer's state at one moment, restorable in place.

    The optimizer's state is every attribute but ``params`` (for the built-in optimizers:
    ``state``, ``t`` and the hyperparameters, so a learning rate changed by a callback comes
    back too); parameters it refers to are kept by reference, never copied. For the built-in
    types (which never rebind their state arrays) the arrays are copied into buffers kept
    from one snapshot to the next, and the other attributes, numbers, by a shallow copy;
    anything else is deep-copied.
    """

    def __init__(self, params: list[Parameter], optimizer: Any):
        self.params, self.optimizer = params, optimizer
        self.values = [p.value.copy() for p in params]
        self.builtin = type(optimizer) in (SGD, Adam, RMSProp)
        if self.builtin:
            self.arrays = [(a, a.copy()) for s in optimizer.state for a in s.values()]
        self.opt = self._optimizer_state()

    def _optimizer_state(self) -> dict:
        if self.builtin:
            return {k: v for k, v in vars(self.optimizer).items() if k not in ("params", "state")}
        memo: dict[int, Any] = {id(p): p for p in self.params}
        state = {k: v for k, v in vars(self.optimizer).items() if k != "params"}
        return copy.deepcopy(state, memo)

    def take(self) -> None:
        """Record the current state (reusing the arrays of the last one)."""
        for keep, p in zip(self.values, self.params):
            np.copyto(keep, p.value)
        if self.builtin:
            for a, keep in self.arrays:
                np.copyto(keep, a)
        self.opt = self._optimizer_state()

    def restore(self) -> None:
        """Write the recorded state back into the same arrays and attributes."""
        for p, keep in zip(self.params, self.values):
            np.copyto(p.value, keep)
        if self.builtin:
            for a, keep in self.arrays:
                np.copyto(a, keep)
        for name, saved in self.opt.items():
            setattr(self.optimizer, name, _put_back(getattr(self.optimizer, name, None), saved))


def _put_back(current: Any, saved: Any, seen: set[int] | None = None) -> Any:
    """``saved`` written into ``current``'s arrays, containers and objects where they match
    (so that every reference to them stays valid); a fresh copy of it where they do not."""
    seen = set() if seen is None else seen
    if current is saved or id(current) in seen:
        return current
    if isinstance(current, np.ndarray) and isinstance(saved, np.ndarray):
        if current.shape == saved.shape and current.dtype == saved.dtype:
            np.copyto(current, saved)
            return current
        return saved.copy()
    seen.add(id(current))
    if isinstance(current, dict) and isinstance(saved, dict) and current.keys() == saved.keys():
        for k in saved:
            current[k] = _put_back(current[k], saved[k], seen)
        return current
    if isinstance(current, list) and isinstance(saved, list) and len(current) == len(saved):
        for i, s in enumerate(saved):
            current[i] = _put_back(current[i], s, seen)
        return current
    if type(current) is type(saved) and hasattr(saved, "__dict__") and not isinstance(saved, type):
        for k, v in vars(saved).items():
            setattr(current, k, _put_back(getattr(current, k, None), v, seen))
        return current
    return copy.deepcopy(saved)


# --- on disk --------------------------------------------------------------------------------


@dataclass
class TrainingState:
    """A checkpoint's contents. ``epoch`` is the epoch in progress (0-based) and ``step`` the
    steps done in it; ``rng_state`` is the Generator's state at the start of that epoch;
    ``progress`` the epoch's partial sums (``loss_sum``, ``seen``, ``metric_sums``)."""

    path: Path
    model: Module
    optimizer: dict  # as Optimizer.state_dict() returns it
    rng_state: dict
    epoch: int
    step: int
    progress: dict
    history: dict
    callbacks: list  # one state dict (or None) per callback of the run, in order

    def check_fits(
        self, model: Module, optimizer: Any, rng: np.random.Generator, loop: dict, epochs: int
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
        if not isinstance(self.progress.get("sums"), dict) or self.epoch > epochs:
            raise ValueError(f"{where} stands at epoch {self.epoch + 1}, beyond epochs={epochs}")
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
        except (TypeError, ValueError, KeyError) as exc:
            raise ValueError(f"{where}: {exc}") from None
        try:
            probe = type(rng.bit_generator)()
            probe.state = self.rng_state
        except (TypeError, ValueError, KeyError) as exc:
            raise ValueError(f"{where}: its Generator state does not fit: {exc}") from None

    def restore(self, model: Module, optimizer: Optimizer, rng: np.random.Generator) -> None:
        """Put the weights, the optimizer state and the Generator state back (after
        ``check_fits``)."""
        rng.bit_generator.state = self.rng_state  # checked by NumPy first: nothing changed yet
        for p, q in zip(model.parameters(), self.model.parameters()):
            np.copyto(p.value, q.value)
        optimizer.load_state_dict(self.optimizer)


def save_checkpoint(
    path: str | os.PathLike,
    model: Module,
    optimizer: Optimizer,
    *,
    rng_state: dict,
    epoch: int,
    step: int,
    progress: dict,
    history: dict,
    callbacks: list | None = None,
) -> Path:
    """Write the training state to ``path`` atomically (one .npz; see the module docstring).

    ``callbacks``: one ``state_dict`` (or None) per callback, arrays stored as arrays."""
    path = Path(path)
    state = optimizer.state_dict()
    callback_json: list = []
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

        def write(fh) -> None:
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


def read_checkpoint(path: str | os.PathLike) -> TrainingState:
    """Read and check a file ``save_checkpoint`` wrote; ValueError naming the problem."""
    path = Path(path)
    model, _ = load_with_metadata(path)  # FileNotFoundError / ValueError for a bad file
    try:
        with np.load(path, allow_pickle=False) as npz:
            if _KEY not in npz.files:
                raise ValueError("it is a model file without training state (not a checkpoint)")
            meta = json.loads(str(npz[_KEY][()]))
            if not isinstance(meta, dict) or meta.get("format") != FORMAT:
                raise ValueError("its metadata does not describe a handgrad checkpoint")
            if meta.get("format_version") != FORMAT_VERSION:
                raise ValueError(f"unsupported checkpoint version {meta.get('format_version')!r}")
            per_param: list[dict[str, np.ndarray]] = [{} for _ in model.parameters()]
            for name in npz.files:
                if name.startswith(_OPT_PREFIX):
                    index, key = name[len(_OPT_PREFIX) :].split(".", 1)
                    if not index.isdigit() or int(index) >= len(per_param):
                        raise ValueError(f"the optimizer array {name!r} names no parameter")
                    per_param[int(index)][key] = npz[name]
            callbacks = meta.get("callbacks", [])
            if not isinstance(callbacks, list) or not all(
                c is None or isinstance(c, dict) for c in callbacks
            ):
                raise ValueError("its callback states are not a list of JSON objects")
            callbacks = [None if c is None else dict(c) for c in callbacks]
            for name in npz.files:
                if name.startswith(_CB_PREFIX):
                    index, key = name[len(_CB_PREFIX) :].split(".", 1)
                    if not index.isdigit() or int(index) >= len(callbacks):
                        raise ValueError(f"the callback array {name!r} names no callback")
                    if callbacks[int(index)] is None:
                        raise ValueError(f"the callback array {name!r} belongs to no state")
                    callbacks[int(index)][key] = npz[name]
        optimizer = {**meta["optimizer"], "state": per_param}
        epoch, step = meta["epoch"], meta["step"]
        if not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in (epoch, step)
        ):
            raise ValueError(f"epoch and step must be non-negative integers, got {epoch}, {step}")
        progress, rng_state = meta["progress"], meta["rng_state"]
        if not isinstance(progress, dict) or not isinstance(rng_state, dict):
            raise ValueError("progress and rng_state must be JSON objects")
        return TrainingState(
            path, model, optimizer, rng_state, epoch, step, progress, meta["history"], callbacks
        )
    except ValueError as exc:
        raise ValueError(f"cannot resume from {path}: {exc}") from None
    except (KeyError, TypeError, AttributeError, OSError, zipfile.BadZipFile) as exc:
        raise ValueError(
            f"cannot resume from {path}: damaged checkpoint ({type(exc).__name__}: {exc})"
        ) from None


# --- the divergence guard -------------------------------------------------------------------


class DivergenceGuard:
    """Puts back the last weights whose loss and outputs were finite, and the optimizer
    state that goes with them, when training diverges.

    Why this shape: a step's update is only known to be bad at the next forward (the loss
    there is NaN or inf) or later (a weight became inf where a ReLU hides it; validation;
    the end of training), and an update cannot be undone exactly in floating point
    (W - lr g + lr g is not always W). Copying every parameter and every optimizer array
    at every step would cost the fast path several NumPy calls per parameter per step. So:

    - ``replay`` (the fast path, when no callback acts between steps): a snapshot once per
      epoch, at its first step, plus the list of the batches trained since. Rolling back
      restores the snapshot and trains those batches again but the last: the same kernels
      on the same buffers give the same bits. Per step this costs one list append; the
      price is paid only when training diverges (at most one epoch of steps, replayed
      with a weight check after each update, so an earlier update that made a weight
      non-finite is found and undone too).
    - otherwise (a module, optimizer or callback of your own, which replay could not
      reproduce exactly): a snapshot before every update, and the weights checked after it.

    ``check_weights`` is off when a weight was not finite before training (a -inf bias that
    switches a class off is an exact limit, and training keeps it).
    """

    def __init__(self, path: Any, params: list[Parameter], optimizer: Any, replay: bool):
        self.path, self.params, self.optimizer, self.replay = path, params, optimizer, replay
        self._flat = [  # a flat view of each value, where there is one, and zeros to dot it with
            (p.value, p.value.reshape(-1) if p.value.flags.c_contiguous else None) for p in params
        ]
        self._zeros = [np.zeros(p.value.size, p.value.dtype) for p in params]
        with np.errstate(invalid="ignore"):
            self.check_weights = self.weights_finite()
        self.snapshot: Snapshot | None = None
        self.since: list[np.ndarray] = []  # the batches whose updates followed the snapshot
        self.renew = True

    def weights_finite(self) -> bool:
        """One dot product per parameter: 0 * w is 0 for finite w, NaN for NaN or inf.
        (Called where NumPy's "invalid" warning is off: fit's loop.)"""
        for (w, flat), zeros in zip(self._flat, self._zeros):
            if not np.isfinite(w).all() if flat is None else math.isnan(np.dot(flat, zeros)):
                return False
        return True

    def before_step(self, idx: np.ndarray) -> None:
        """Called with the batch whose update is about to be applied (its loss was finite)."""
        if self.renew or not self.replay:
            if self.snapshot is None:
                self.snapshot = Snapshot(self.params, self.optimizer)
            else:
                self.snapshot.take()
            self.since = []
            self.renew = False
        self.since.append(idx)

    def rollback(self) -> int | None:
        """Undo the last update (and, found by replay, an earlier one that made a weight
        non-finite). Returns how many of the latest step losses belong to undone steps, or
        None when no update has been applied (the weights are those training started with)."""
        if self.snapshot is None or not self.since:
            return None
        self.snapshot.restore()
        again = self.since[:-1]
        self.since, self.renew = [], True
        path = self.path
        for k, idx in enumerate(again):
            xb, tb, _ = path.batch(idx)
            path.loss(path.forward(xb), tb)
            path.backward()
            before = Snapshot(self.params, self.optimizer) if self.check_weights else None
            path.step()
            if before is not None and not self.weights_finite():
                before.restore()
                return len(again) - k
        return 0
