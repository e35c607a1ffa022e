"""Targets of user tables: the task a target implies, class labels <-> codes, and DataError.

Reading and typing whole tables lives in ``handgrad.tabular``; this module holds the small,
table-free pieces it shares with the rest of handgrad. ``DataError`` is the one exception
type for bad user data: its message names the problem in one line.

Class labels may be any text ("cat", "yes", "3"). ``encode_labels`` maps them to 0..C-1 and
keeps the original values (as strings) so predictions can be written back in the user's
vocabulary.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = [
    "DataError",
    "infer_task",
    "encode_labels",
    "format_number",
    "MISSING_MARKERS",
]

# Cells that mean "no value" in exported spreadsheets; they are reported as missing values.
MISSING_MARKERS = frozenset({"", "na", "n/a", "nan", "null", "none", "?", "-"})

# An integer-valued target with at most this many distinct values is taken for class labels.
MAX_INFERRED_CLASSES = 20


class DataError(ValueError):
    """Bad user data (file, column, value); the message names the problem in one line."""


def _parse_number(cell: str) -> float | None:
    if cell.strip().lower() in MISSING_MARKERS:
        return None
    try:
        return float(cell)
    except ValueError:
        return None


# --- targets ----------------------------------------------------------------------------------


def format_number(x: float) -> str:
    """A label value as text: integers without a decimal point, others as the shortest repr."""
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def infer_task(cells: list[str]) -> tuple[str, str]:
    """Guess the task from the target's cells -> (task, the reason in words).

    Text labels -> classification. Numbers that are all integers with few distinct values
    (at most ``MAX_INFERRED_CLASSES`` and at most half the number of rows) -> classification.
    Any other numbers -> regression.
    """
    numbers = [_parse_number(c) for c in cells]
    distinct = len(set(cells))
    if any(v is None for v in numbers):
        return "classification", f"the target holds text ({distinct} distinct values)"
    values = np.asarray(numbers, dtype=np.float64)
    n_distinct = len(np.unique(values))
    integer_like = bool(np.all(np.isfinite(values)) and np.all(values == np.round(values)))
    if integer_like and n_distinct <= min(MAX_INFERRED_CLASSES, max(2, len(values) // 2)):
        return (
            "classification",
            f"the target holds integers with {n_distinct} distinct values",
        )
    kind = "integers" if integer_like else "numbers"
    return "regression", f"the target holds {kind} with {n_distinct} distinct values"


def encode_labels(
    cells: list[str], column: str = "target", lines: list[int] | None = None
) -> tuple[np.ndarray, list[str]]:
    """Class labels (any text) -> (codes (N,) int64 in 0..C-1, the C classes as text).

    Numeric labels are compared as numbers ("1" and "1.0" are one class) and sorted
    numerically; text labels are sorted as text. Missing labels and a single class are
    errors (DataError). ``lines``: the file's line number of each cell, for messages.
    """
    for i, cell in enumerate(cells):
        if cell.strip().lower() in MISSING_MARKERS:
            where = f"line {lines[i]}" if lines else f"data row {i + 1}"
            raise DataError(f"target column {column!r} has a missing label on {where}")
    numbers = [_parse_number(c) for c in cells]
    if all(v is not None and math.isfinite(v) for v in numbers):
        values = np.asarray(numbers, dtype=np.float64)
        uniq, codes = np.unique(values, return_inverse=True)
        classes = [format_number(v) for v in uniq]
    else:
        uniq, codes = np.unique(np.asarray(cells, dtype=str), return_inverse=True)
        classes = [str(v) for v in uniq]
    if len(classes) < 2:
        raise DataError(
            f"target column {column!r} has a single class ({classes[0]!r}); "
            "classification needs at least two"
        )
    return codes.astype(np.int64).ravel(), classes
