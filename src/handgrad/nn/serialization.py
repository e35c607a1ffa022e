"""Saving and loading models: an .npz of arrays plus JSON metadata. Never pickle.

Layout of the file (an uncompressed zip, as ``numpy.savez`` writes it):
    __handgrad__      0-d unicode array holding JSON: format, handgrad version, dtype,
                      the architecture (``Sequential.config()``) and user metadata
    0.weight, 0.bias, ... one array per parameter, named as ``named_parameters`` names them

Writes go to a temporary file in the target folder, are flushed to disk, then renamed over
the destination: a crash leaves either the old file or the new one, never half of one. A
save that was killed leaves its temporary ``.<name>.<random>.tmp`` behind; the next save to
the same path deletes those older than ``STALE_TEMPORARY_SECONDS``.

Loading trusts nothing in the file. Every damaged, truncated or crafted file is refused
with a ValueError naming the file and the problem, and memory stays bounded by the file's
size: the metadata member is capped (``MAX_METADATA_BYTES``, JSON nesting
``MAX_JSON_DEPTH``), the architecture is checked before any layer is built, and each
array's .npy header (shape, dtype) is checked against it before a byte of data is read.
Only uncompressed members are accepted, so no member can expand beyond the file itself.
Weights that are not finite are refused, on load and on save. Besides the built-in
layers, a file may hold modules added with ``layers.register_module``: those are rebuilt by
their ``from_config`` (the registering user's code) before their arrays are checked.
"""

from __future__ import annotations

import glob
import json
import math
import os
import re
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any

import numpy as np
from numpy.typing import DTypeLike

from ._members import (
    CORRUPT,
    check_json_depth,
    members_by_name,
    read_exact,
    read_json_member,
    read_npy_header,
    stored_size,
)
from .constraints import Boolean, Constraint, Integer, Options, Real, check
from .layers import ACTIVATIONS, MODULE_TYPES, Config, LeakyReLU, Linear, Module, Sequential

__all__ = ["save", "load", "load_with_metadata", "build", "atomic_write"]

FORMAT = "handgrad-model"
FORMAT_VERSION = 1
_META_KEY = "__handgrad__"
_LAYER_TYPES: dict[str, type[Module]] = {cls.__name__: cls for cls in ACTIVATIONS.values()}
_BUILTIN = {"Linear", *_LAYER_TYPES}
_DTYPES = ("float64", "float32")

MAX_METADATA_BYTES = 16 * 2**20  # the JSON member as stored (4 bytes per character)
STALE_TEMPORARY_SECONDS = 60.0


# --- atomic writes --------------------------------------------------------------------------


def atomic_write(path: str | os.PathLike[str], write: Callable[[IO[bytes]], object]) -> Path:
    """Call ``write(file)`` on a temporary file beside ``path``, then rename it into place.

    Before writing, temporaries of earlier saves to the same path that were interrupted
    (killed) more than ``STALE_TEMPORARY_SECONDS`` ago are deleted.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual mode
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def remove_stale_temporaries(
    path: str | os.PathLike[str], older_than: float = STALE_TEMPORARY_SECONDS
) -> list[Path]:
    """Delete ``.<name>.*.tmp`` files beside ``path`` last modified over ``older_than`` s ago.

    They are what ``atomic_write`` leaves when its process is killed mid-write. Younger ones
    may belong to a save still running in another process and are kept. Returns the paths
    deleted.
    """
    path = Path(path)
    now = time.time()
    removed = []
    for tmp in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        try:
            info = tmp.lstat()
            if tmp.is_file() and not tmp.is_symlink() and now - info.st_mtime > older_than:
                tmp.unlink()
                removed.append(tmp)
        except OSError:  # gone already, or not ours to delete
            continue
    return removed


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# --- the architecture, checked before anything is allocated ---------------------------------


def _layer_specs(architecture: Any) -> list[tuple[str, Config]]:
    """``Sequential.config()`` -> [(layer type, checked arguments)]; ValueError if malformed.

    Built-in layers are checked field by field; a module added with ``register_module``
    keeps its config as is (its ``from_config`` checks it when the model is built).
    """
    if not isinstance(architecture, dict) or architecture.get("type") != "Sequential":
        raise ValueError("architecture must be a dict describing a Sequential")
    layers = architecture.get("layers")
    if not isinstance(layers, list):
        raise ValueError("architecture must describe a Sequential with a list of layers")
    specs = []
    for i, cfg in enumerate(layers):
        if not isinstance(cfg, dict) or not isinstance(cfg.get("type"), str):
            raise ValueError(f"layer {i} of the architecture is not a dict with a 'type'")
        kind = cfg["type"]
        if kind == "Linear":
            args = {
                "in_features": _field(cfg, "in_features", Integer(1), i, kind),
                "out_features": _field(cfg, "out_features", Integer(1), i, kind),
                "bias": _field({"bias": True, **cfg}, "bias", Boolean(), i, kind),
            }
        elif kind == "LeakyReLU":
            args = {"negative_slope": _field(cfg, "negative_slope", Real(), i, kind)}
        elif kind in _LAYER_TYPES:
            args = {}
        elif kind in MODULE_TYPES:  # registered by the user's code: its config, unchanged
            args = cfg
        else:
            raise ValueError(
                f"unknown layer type {kind!r} (layer {i}); a custom module must be registered "
                "with handgrad.register_module before loading"
            )
        specs.append((kind, args))
    return specs


def _field(cfg: Config, key: str, constraint: Constraint, i: int, kind: str) -> Any:
    """``cfg[key]`` checked by ``constraint``; a ValueError (a malformed file) if it fails."""
    return check(cfg.get(key), constraint, key, f"layer {i} ({kind})", error=ValueError)


def _builtin_shapes(specs: list[tuple[str, Config]]) -> dict[str, tuple[int, ...]]:
    """{name: shape} of the built-in layers' parameters, known without allocating."""
    shapes: dict[str, tuple[int, ...]] = {}
    for i, (kind, args) in enumerate(specs):
        if kind == "Linear":
            shapes[f"{i}.weight"] = (args["in_features"], args["out_features"])
            if args["bias"]:
                shapes[f"{i}.bias"] = (args["out_features"],)
    return shapes


def _build(specs: list[tuple[str, Config]], dtype: DTypeLike) -> Sequential:
    layers: list[Module] = []
    for i, (kind, args) in enumerate(specs):
        if kind == "Linear":
            layers.append(Linear(**args, init="zeros", dtype=dtype))
        elif kind == "LeakyReLU":
            layers.append(LeakyReLU(args["negative_slope"]))
        elif kind in _LAYER_TYPES:
            layers.append(_LAYER_TYPES[kind]())
        else:
            layers.append(_build_registered(MODULE_TYPES[kind], args, dtype, i))
    return Sequential(*layers)


def _build_registered(cls: type[Module], config: Config, dtype: DTypeLike, i: int) -> Module:
    """A registered module from its config; whatever its from_config raises -> ValueError."""
    try:
        layer = cls.from_config(config, dtype)
    except Exception as exc:  # the user's constructor, fed with the file's values
        raise ValueError(
            f"layer {i} ({cls.__name__}) cannot be rebuilt from its config "
            f"({type(exc).__name__}: {exc})"
        ) from None
    if type(layer) is not cls:
        raise ValueError(f"layer {i}: {cls.__name__}.from_config returned a {type(layer)}")
    return layer


def build(architecture: Config, dtype: DTypeLike = np.float64) -> Sequential:
    """Rebuild an (uninitialized-weights) model from ``Sequential.config()``.

    A malformed architecture (wrong types, unknown layers) raises ValueError.
    """
    return _build(_layer_specs(architecture), dtype)


# --- saving ---------------------------------------------------------------------------------


def save(
    model: Module, path: str | os.PathLike[str], metadata: dict[str, Any] | None = None
) -> Path:
    """Write ``model`` (a Sequential) to ``path`` atomically; ``metadata`` must be JSON-able.

    Everything is checked before a byte is written: only handgrad's built-in layers and
    modules added with ``register_module`` can be stored (any other layer raises TypeError
    naming its type), every parameter must have the dtype, shape and finiteness a load
    would accept, and the metadata must be JSON within the limits a load accepts.
    """
    if not isinstance(model, Sequential):
        raise TypeError(f"save: expected a Sequential model, got {type(model).__name__}")
    for i, layer in enumerate(model.layers):
        cls = type(layer)
        if MODULE_TYPES.get(cls.__name__) is not cls or cls is Sequential:
            raise TypeError(
                f"save: layer {i} is a {cls.__module__}.{cls.__qualname__}, which a model file "
                f"cannot describe: the built-in layers ({', '.join(sorted(_BUILTIN))}) and "
                "modules added with handgrad.register_module can be saved"
            )
    dtype = str(model.dtype)
    if dtype not in _DTYPES:
        raise TypeError(f"save: model dtype must be float64 or float32, got {dtype}")
    meta: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "handgrad_version": _handgrad_version(),
        "dtype": dtype,
        "architecture": model.config(),
        "metadata": {} if metadata is None else metadata,
    }
    if not isinstance(meta["metadata"], dict):
        raise TypeError(f"save: metadata must be a dict, got {type(metadata).__name__}")
    for i, cfg in enumerate(meta["architecture"]["layers"]):
        if not isinstance(cfg, dict) or cfg.get("type") != type(model.layers[i]).__name__:
            raise TypeError(
                f"save: layer {i}'s config() must be a dict whose 'type' is its class name"
            )
    try:
        meta_json = json.dumps(meta, allow_nan=False)  # strict JSON: no NaN or inf
    except (TypeError, ValueError, RecursionError) as exc:
        raise TypeError(f"save: metadata must be JSON-serializable: {exc}") from None
    check_json_depth(json.loads(meta_json), "save: metadata")
    if 4 * len(meta_json) > MAX_METADATA_BYTES - 1024:  # the .npy header takes the rest
        raise ValueError(
            f"save: metadata is {len(meta_json)} characters of JSON; a model file holds at "
            f"most about {MAX_METADATA_BYTES // 4} (store large data in a separate file)"
        )
    arrays = _checked_arrays(model, _builtin_shapes(_layer_specs(meta["architecture"])))
    arrays[_META_KEY] = np.array(meta_json)
    return atomic_write(path, lambda fh: np.savez(fh, **arrays))  # type: ignore[arg-type]


def _checked_arrays(
    model: Sequential, builtin: dict[str, tuple[int, ...]]
) -> dict[str, np.ndarray]:
    """{name: value} of every parameter after checking it is what a load will expect."""
    named = model.named_parameters()
    names = [name for name, _ in named]
    if len(set(names)) != len(names) or _META_KEY in names:
        raise ValueError(f"save: parameter names must be unique, got {names}")
    dtype = model.dtype
    for name, p in named:
        value = p.value
        shape = builtin.get(name, getattr(value, "shape", None))
        if not isinstance(value, np.ndarray) or value.shape != shape or value.dtype != dtype:
            raise ValueError(
                f"save: parameter {name!r} should be a {dtype} array of shape {shape}, "
                f"got {getattr(value, 'dtype', type(value).__name__)} "
                f"{getattr(value, 'shape', '')}"
            )
        if not np.all(np.isfinite(value)):
            raise ValueError(
                f"save: parameter {name!r} holds NaN or inf; a model file stores finite "
                "weights only"
            )
    return {name: p.value for name, p in named}


def _handgrad_version() -> str:
    from ._version import __version__  # written once; the package and pyproject read it too

    return __version__


# --- loading --------------------------------------------------------------------------------


def load_with_metadata(path: str | os.PathLike[str]) -> tuple[Sequential, dict[str, Any]]:
    """Read a model file written by ``save``; returns (model, the user metadata).

    Raises FileNotFoundError if there is no such file and ValueError, naming the file and
    the problem, for anything that is not an intact handgrad model file.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"model file not found: {path}")
    if not path.is_file():
        raise ValueError(f"cannot load model from {path}: not a regular file")
    try:
        size = path.stat().st_size
        with zipfile.ZipFile(path) as zf:
            return _read_model(zf, size)
    except ValueError as exc:
        raise ValueError(f"cannot load model from {path}: {exc}") from None
    except zipfile.BadZipFile as exc:
        raise ValueError(
            f"cannot load model from {path}: corrupt or truncated file (not an intact .npz "
            f"archive: {exc})"
        ) from None
    except RecursionError:
        raise ValueError(
            f"cannot load model from {path}: its metadata is nested too deeply"
        ) from None
    except CORRUPT as exc:
        raise ValueError(
            f"cannot load model from {path}: corrupt or truncated file "
            f"({type(exc).__name__}: {exc})"
        ) from None


def load(path: str | os.PathLike[str]) -> Sequential:
    """Read a model file written by ``save``."""
    return load_with_metadata(path)[0]


def _read_model(zf: zipfile.ZipFile, file_size: int) -> tuple[Sequential, dict[str, Any]]:
    members = members_by_name(zf)
    meta_info = members.get(_META_KEY + ".npy")
    if meta_info is None:
        raise ValueError("it has no handgrad metadata (not a handgrad model file)")
    meta = read_json_member(zf, meta_info, "the metadata", MAX_METADATA_BYTES)
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise ValueError("its metadata does not describe a handgrad model")
    version = meta.get("format_version")
    if version != FORMAT_VERSION or isinstance(version, bool):
        raise ValueError(f"unsupported format version {version!r}")
    dtype = np.dtype(check(meta.get("dtype"), Options(*_DTYPES), "dtype", error=ValueError))
    user_metadata = meta.get("metadata", {})
    if not isinstance(user_metadata, dict):
        raise ValueError("its user metadata is not a JSON object")
    specs = _layer_specs(meta.get("architecture"))
    if not specs:
        raise ValueError("its architecture has no layers")
    _check_needed(_builtin_shapes(specs).values(), dtype, file_size)  # before any allocation
    model = _build(specs, dtype)
    named = model.named_parameters()
    _check_needed([p.value.shape for _, p in named], dtype, file_size)  # registered modules too
    for name, p in named:
        if p.value.dtype != dtype:
            raise ValueError(f"parameter {name!r} was rebuilt as {p.value.dtype}, not {dtype}")

    # Every member to read must exist, be stored uncompressed and, all together, fit in
    # the file: memory is bounded by the file's size. No array may name a parameter the
    # architecture does not have (a bias beside a layer saved with bias false).
    for member in members:
        if re.fullmatch(r"\d+\.\w+\.npy", member) and member[:-4] not in dict(named):
            raise ValueError(f"the array {member[:-4]!r} is no parameter of its architecture")
    infos = {}
    for name, _ in named:
        info = members.get(name + ".npy")
        if info is None:
            raise ValueError(f"the array {name!r} is missing")
        infos[name] = info
    declared = meta_info.file_size + sum(stored_size(info) for info in infos.values())
    if declared > file_size:
        raise ValueError(
            f"its members claim {declared} bytes but the file has {file_size}: truncated or crafted"
        )
    for name, p in named:
        p.value[...] = _read_array(zf, infos[name], name, p.value.shape, dtype)
    return model, user_metadata


def _check_needed(shapes: Iterable[tuple[int, ...]], dtype: np.dtype, file_size: int) -> None:
    """The weights of these shapes must fit in the file (it stores them uncompressed)."""
    needed = sum(math.prod(shape) for shape in shapes) * dtype.itemsize
    if needed > file_size:
        raise ValueError(
            f"its architecture needs {needed} bytes of weights but the file has {file_size}: "
            "truncated or crafted"
        )


def _read_array(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, shape: tuple[int, ...], dtype: np.dtype
) -> np.ndarray:
    """One parameter: header checked against (shape, dtype) first, then data, then finiteness."""
    what = f"the array {name!r}"
    with zf.open(info) as fh:
        got_shape, fortran, got_dtype = read_npy_header(fh, what)
        if got_shape != shape or got_dtype != dtype:
            raise ValueError(
                f"{what} has shape {got_shape} and dtype {got_dtype}; expected {shape} {dtype}"
            )
        data = read_exact(fh, info, math.prod(shape) * dtype.itemsize, what)
    value = np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran else "C")
    if not np.all(np.isfinite(value)):
        raise ValueError(f"{what} holds NaN or inf; model weights must be finite")
    return value
