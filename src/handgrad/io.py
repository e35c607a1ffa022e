"""Files handgrad writes: atomic writes and JSON with one rule for numbers that are not finite.

Every file a user may keep (models, run folders, reports, metrics) is written through
``atomic_write``: a temporary file beside the target, flushed, then renamed over it, so a
crash or Ctrl-C leaves the old file or the new one, never half of one. The function itself
lives in the engine (``nn.serialization`` needs it and imports nothing above ``nn``); this
module is where the rest of handgrad takes it from.

JSON rule: output is strict JSON (no ``NaN``/``Infinity`` tokens). NumPy numbers and arrays
become Python numbers and lists; a float that is not finite becomes the string ``"nan"``,
``"inf"`` or ``"-inf"``, so the information is kept and every JSON reader accepts the file.
A value that was never computed (a diverged model's scores in a run folder) is ``None``,
written ``null``: "no value", which readers test with ``is None``.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import numpy as np

from .nn.serialization import atomic_write

__all__ = ["atomic_write", "json_ready", "write_json", "write_text"]


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
        return x if math.isfinite(x) else str(x)  # "nan", "inf", "-inf"
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    return obj


def write_json(path: str | os.PathLike, payload: Any, indent: int | None = 2) -> Path:
    """Write ``payload`` as strict JSON (see the rule above), atomically."""
    text = json.dumps(json_ready(payload), indent=indent, allow_nan=False)
    return write_text(path, text + "\n")


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write UTF-8 text atomically."""
    data = text.encode("utf-8")
    return atomic_write(path, lambda fh: fh.write(data))
