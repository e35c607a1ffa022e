"""Files handgrad writes: atomic writes and JSON with one rule for numbers that are not finite.

Every file a user may keep (models, run folders, reports, metrics) is written through
``atomic_write``: a temporary file beside the target, flushed, then renamed over it, so a
crash or Ctrl-C leaves the old file or the new one, never half of one. The function itself
lives in the engine (``nn.serialization`` needs it and imports nothing above ``nn``); this
module is where the rest of handgrad takes it from.

The JSON rule (docs/formats.md): every JSON handgrad writes is strict JSON, and a number in
it is finite. A float that is NaN, inf or -inf is written ``null``, as is a value that was
never computed: ``null`` means "no finite number here". JavaScript's ``JSON.stringify`` and
pandas' ``to_json`` write the same, and every reader (``json.loads`` with a strict
``parse_constant``, jq, a browser, pandas, which reads null as NaN) takes it. Where the
kind of non-finite value matters, the writer records it in a field of its own (a count of
infinities, a reason). NumPy numbers and arrays become Python numbers and lists.

Readers take a number back with ``number_from_json``: null is NaN; the strings ``"nan"``,
``"inf"`` and ``"-inf"`` that files written before this rule hold are read as those floats.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from .nn.serialization import atomic_write

__all__ = ["atomic_write", "json_ready", "number_from_json", "write_json", "write_text"]

# what files written before the rule hold for a non-finite number
_OLD_NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def json_ready(obj: Any) -> Any:
    """Nested dicts / lists / tuples with NumPy values -> plain JSON values (see the rule above)."""
    if isinstance(obj, dict):
        return {str(k): json_ready(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, np.ndarray)):
        return [json_ready(v) for v in obj]
    if isinstance(obj, (bool, np.bool_)):
        return bool(obj)
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        x = float(obj)
        return x if math.isfinite(x) else None
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    return obj


def number_from_json(value: Any) -> float:
    """A number as ``json_ready`` wrote it, as a float: null -> NaN; also the strings "nan",
    "inf", "-inf" of older files. TypeError for anything else (a bool, another string)."""
    if value is None:
        return math.nan
    if isinstance(value, str) and value in _OLD_NON_FINITE:
        return _OLD_NON_FINITE[value]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{value!r} is not a number")
    return float(value)


def write_json(path: str | os.PathLike, payload: Any, indent: int | None = 2) -> Path:
    """Write ``payload`` as strict JSON (see the rule above), atomically."""
    text = json.dumps(json_ready(payload), indent=indent, allow_nan=False)
    return write_text(path, text + "\n")


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write UTF-8 text atomically."""
    data = text.encode("utf-8")
    return atomic_write(path, lambda fh: fh.write(data))
