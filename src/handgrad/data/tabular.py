"""CSV tables for ``handgrad train`` and ``handgrad predict``: read, check, convert.

The standard library's ``csv`` module reads the file (comma-separated, first row = header,
UTF-8 with or without a byte-order mark); NumPy converts columns to numbers. Every problem a
user can cause -- a missing or empty file, an unknown column, a value that is not a number,
a missing value, a target with one class -- raises ``DataError`` with a one-line message
naming the file, the column and the line, before any training starts.

Class labels may be any text ("cat", "yes", "3"). ``encode_labels`` maps them to 0..C-1 and
keeps the original values (as strings) so predictions can be written back in the user's
vocabulary.
"""

from __future__ import annotations

import csv
import math
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "DataError",
    "Table",
    "read_csv",
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


@dataclass
class Table:
    """A CSV file as text: ``columns`` (the header) and ``rows`` (lists of stripped cells).

    ``lines[i]`` is the line number in the file where data row ``i`` ends (for messages).
    """

    path: Path
    columns: list[str]
    rows: list[list[str]]
    lines: list[int]

    @property
    def n_rows(self) -> int:
        return len(self.rows)

    def index(self, column: str) -> int:
        """Position of ``column`` in the header; DataError naming the columns if absent."""
        try:
            return self.columns.index(column)
        except ValueError:
            raise DataError(
                f"{self.path}: no column {column!r}; the columns are: {_listing(self.columns)}"
            ) from None

    def text(self, column: str) -> list[str]:
        """The cells of ``column`` as strings, in row order."""
        j = self.index(column)
        return [row[j] for row in self.rows]

    def numbers(self, columns: list[str]) -> np.ndarray:
        """The named columns as a float64 matrix (N, len(columns)).

        Raises DataError at the first missing or non-numeric or non-finite cell, naming the
        column, the line and the value.
        """
        out = np.empty((self.n_rows, len(columns)), dtype=np.float64)
        for k, name in enumerate(columns):
            out[:, k] = self._column_numbers(name)
        return out

    def _column_numbers(self, column: str) -> np.ndarray:
        cells = self.text(column)
        try:
            values = np.asarray(cells, dtype=np.float64)  # fast path: every cell parses
        except ValueError:
            values = None
        if values is not None and np.isfinite(values).all():
            return values
        for i, cell in enumerate(cells):  # slow path, only to explain the failure
            number = _parse_number(cell)
            if number is None or not math.isfinite(number):
                raise DataError(f"{self.path}: {_describe_bad_cell(column, cell, self.lines[i])}")
        raise AssertionError("unreachable: a column failed to convert but every cell parses")


def read_csv(path: str | os.PathLike) -> Table:
    """Read a comma-separated file with a header row into a ``Table`` (cells stripped).

    Blank lines are skipped. Raises DataError for a missing, unreadable, empty or ragged
    file, a header with blank or repeated names, or a file with no data rows.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"data file not found: {path}")
    if path.is_dir():
        raise DataError(f"{path} is a directory, not a CSV file")
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.reader(fh)
            records = [(reader.line_num, row) for row in reader if any(c.strip() for c in row)]
    except UnicodeDecodeError as exc:
        raise DataError(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except csv.Error as exc:
        raise DataError(f"{path}: malformed CSV ({exc})") from None
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not records:
        raise DataError(f"{path} is empty (expected a header row and data rows)")
    header = [c.strip() for c in records[0][1]]
    _check_header(path, header)
    rows, lines = [], []
    for line, row in records[1:]:
        if len(row) != len(header):
            raise DataError(
                f"{path}: line {line} has {len(row)} fields but the header has {len(header)}"
            )
        rows.append([c.strip() for c in row])
        lines.append(line)
    if not rows:
        raise DataError(f"{path} has a header but no data rows")
    return Table(path, header, rows, lines)


def _check_header(path: Path, header: list[str]) -> None:
    for j, name in enumerate(header):
        if not name:
            raise DataError(f"{path}: column {j + 1} of the header has no name")
    repeated = [name for name, n in Counter(header).items() if n > 1]
    if repeated:
        raise DataError(f"{path}: the header repeats the column name(s) {_listing(repeated)}")


def _parse_number(cell: str) -> float | None:
    if cell.strip().lower() in MISSING_MARKERS:
        return None
    try:
        return float(cell)
    except ValueError:
        return None


def _describe_bad_cell(column: str, cell: str, line: int) -> str:
    if cell.strip().lower() in MISSING_MARKERS:
        shown = "an empty cell" if not cell.strip() else f"{cell!r}"
        return f"column {column!r} has a missing value on line {line} ({shown})"
    number = _parse_number(cell)
    if number is not None:  # inf (nan is a missing marker)
        return f"column {column!r} has a non-finite value on line {line} ({cell!r})"
    return f"column {column!r} has a non-numeric value on line {line}: {cell!r}"


def _listing(names: list[str], limit: int = 12) -> str:
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")


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
