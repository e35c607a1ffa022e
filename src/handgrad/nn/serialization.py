"""Saving and loading models: an .npz of arrays plus JSON metadata. Never pickle.

Layout of the file (a zip written by ``numpy.savez``):
    __handgrad__      0-d unicode array holding JSON: format, handgrad version, dtype,
                      the architecture (``Sequential.config()``) and user metadata
    0.weight, 0.bias, ... one array per parameter, named as ``named_parameters`` names them

Writes go to a temporary file in the target folder, are flushed to disk, then renamed over
the destination: a crash leaves either the old file or the new one, never half of one.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from .layers import ACTIVATIONS, Linear, Module, Sequential

__all__ = ["save", "load", "load_with_metadata", "build", "atomic_write"]

FORMAT = "handgrad-model"
FORMAT_VERSION = 1
_META_KEY = "__handgrad__"
_LAYER_TYPES = {cls.__name__: cls for cls in ACTIVATIONS.values()}


def atomic_write(path: str | os.PathLike, write) -> Path:
    """Call ``write(file)`` on a temporary file beside ``path``, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
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


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def save(model: Module, path: str | os.PathLike, metadata: dict | None = None) -> Path:
    """Write ``model`` (a Sequential) to ``path`` atomically; ``metadata`` must be JSON-able."""
    if not isinstance(model, Sequential):
        raise TypeError(f"save: expected a Sequential model, got {type(model).__name__}")
    meta = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "handgrad_version": _handgrad_version(),
        "dtype": str(model.dtype),
        "architecture": model.config(),
        "metadata": metadata or {},
    }
    try:
        meta_json = json.dumps(meta)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"save: metadata must be JSON-serializable: {exc}") from None
    arrays = {name: p.value for name, p in model.named_parameters()}
    arrays[_META_KEY] = np.array(meta_json)
    return atomic_write(path, lambda fh: np.savez(fh, **arrays))


def _handgrad_version() -> str:
    from ._version import __version__  # written once; the package and pyproject read it too

    return __version__


def build(architecture: dict, dtype=np.float64) -> Sequential:
    """Rebuild an (uninitialized-weights) model from ``Sequential.config()``."""
    if architecture.get("type") != "Sequential" or not isinstance(architecture.get("layers"), list):
        raise ValueError("architecture must describe a Sequential with a list of layers")
    layers = []
    for cfg in architecture["layers"]:
        kind = cfg.get("type")
        if kind == "Linear":
            layers.append(
                Linear(
                    int(cfg["in_features"]),
                    int(cfg["out_features"]),
                    bias=bool(cfg.get("bias", True)),
                    init="zeros",
                    dtype=dtype,
                )
            )
        elif kind == "LeakyReLU":
            layers.append(_LAYER_TYPES[kind](float(cfg["negative_slope"])))
        elif kind in _LAYER_TYPES:
            layers.append(_LAYER_TYPES[kind]())
        else:
            raise ValueError(f"unknown layer type {kind!r}")
    return Sequential(*layers)


def load_with_metadata(path: str | os.PathLike) -> tuple[Sequential, dict]:
    """Read a model file written by ``save``; returns (model, the user metadata)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"model file not found: {path}")
    if not zipfile.is_zipfile(path):
        # otherwise np.load guesses an object file and its error invites unsafe loading
        raise ValueError(
            f"cannot load model from {path}: corrupt or truncated file (not an .npz archive)"
        )
    try:
        with np.load(path, allow_pickle=False) as npz:
            if _META_KEY not in npz.files:
                raise ValueError("it has no handgrad metadata (not a handgrad model file)")
            meta = json.loads(str(npz[_META_KEY][()]))
            if not isinstance(meta, dict) or meta.get("format") != FORMAT:
                raise ValueError("its metadata does not describe a handgrad model")
            if meta.get("format_version") != FORMAT_VERSION:
                raise ValueError(f"unsupported format version {meta.get('format_version')!r}")
            dtype = np.dtype(meta["dtype"])
            model = build(meta["architecture"], dtype)
            for name, p in model.named_parameters():
                if name not in npz.files:
                    raise ValueError(f"the array {name!r} is missing")
                value = npz[name]
                if value.shape != p.value.shape or value.dtype != dtype:
                    raise ValueError(
                        f"the array {name!r} has shape {value.shape} and dtype "
                        f"{value.dtype}; expected {p.value.shape} {dtype}"
                    )
                p.value[...] = value
    except ValueError as exc:
        raise ValueError(f"cannot load model from {path}: {exc}") from None
    except (
        OSError,
        EOFError,
        KeyError,
        TypeError,
        zipfile.BadZipFile,
        json.JSONDecodeError,
    ) as exc:
        raise ValueError(
            f"cannot load model from {path}: corrupt or truncated file "
            f"({type(exc).__name__}: {exc})"
        ) from None
    return model, meta.get("metadata", {})


def load(path: str | os.PathLike) -> Sequential:
    """Read a model file written by ``save``."""
    return load_with_metadata(path)[0]
