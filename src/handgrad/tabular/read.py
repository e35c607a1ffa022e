"""Reading a table the way the ecosystem does (pandas) and typing its columns.

``read_table`` reads CSV (delimiter sniffed, quoting, byte-order mark, the usual missing-value
markers), Parquet and Excel into a DataFrame with stripped column names. ``profile_columns``
gives each column a kind -- numeric, categorical, boolean, identifier-like, constant -- its
missing count and what training will do with it; the user sees that table before training.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import os
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.tabular import DataError
from ..install import install_hint

__all__ = [
    "ColumnProfile",
    "read_table",
    "file_summary",
    "profile_columns",
    "closest_names",
    "MISSING_MARKERS",
    "KINDS",
]

# Text that means "no value", on top of pandas' defaults ("", "NA", "N/A", "NaN", "null", ...).
MISSING_MARKERS = ["?", "-", "na", "none", "missing", "None", "NONE"]

KINDS = ("numeric", "categorical", "boolean", "identifier", "constant")
TRUTH_WORDS = {"true", "false", "yes", "no", "t", "f", "y", "n"}
EXCEL_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
PARQUET_SUFFIXES = (".parquet", ".pq")
# With more categories than this the column table says rare ones will be grouped.
MANY_CATEGORIES = 10
# Below this many rows "every value distinct" says little about a column being an identifier.
MIN_ROWS_FOR_IDENTIFIER = 20


@dataclass
class ColumnProfile:
    """One column: its kind, how many cells are missing, and what training does with it."""

    name: str
    kind: str
    missing: int
    distinct: int
    use: bool
    action: str

    def as_dict(self) -> dict:
        return asdict(self)


def read_table(path: str | os.PathLike) -> pd.DataFrame:
    """A CSV, Parquet or Excel file -> DataFrame (column names and text cells stripped).

    Raises DataError for a missing, binary, empty or malformed file, blank or repeated column
    names, or a file with no data rows.
    """
    path = Path(path)
    if not path.exists():
        raise DataError(f"data file not found: {path}")
    if path.is_dir():
        raise DataError(f"{path} is a directory, not a table")
    suffix = path.suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        frame = _read_optional(path, "Parquet", "pyarrow", pd.read_parquet)
    elif suffix in EXCEL_SUFFIXES:
        frame = _read_optional(path, "Excel", "openpyxl", pd.read_excel)
    else:
        frame = _read_csv(path)
    frame.columns = [str(c).strip() for c in frame.columns]
    _check_columns(path, list(frame.columns))
    if len(frame) == 0:
        raise DataError(f"{path} has a header but no data rows")
    for name in frame.columns:  # strip text cells; an all-blank cell becomes missing
        col = frame[name]
        if col.dtype == object:
            frame[name] = col.map(lambda v: v.strip() or np.nan if isinstance(v, str) else v)
    return frame.reset_index(drop=True)


def _read_optional(path: Path, kind: str, module: str, reader) -> pd.DataFrame:
    try:
        return reader(path)
    except ImportError:
        raise DataError(
            f"reading {kind} files needs the optional package {module}: {install_hint('formats')}"
        ) from None
    except Exception as exc:  # the readers raise many types for a damaged file
        raise DataError(f"{path} is not a readable {kind} file ({_short(exc)})") from None


def _read_csv(path: Path) -> pd.DataFrame:
    head = _head_bytes(path)
    if b"\x00" in head:
        raise DataError(f"{path} is not a text table (it holds binary data)")
    if not head.strip():
        raise DataError(f"{path} is empty (expected a header row and data rows)")
    encoding = "utf-8-sig"
    try:
        head.decode(encoding)
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the sample's end
            encoding = "cp1252"
    text = head.decode(encoding, errors="ignore")
    sep = _sniff_delimiter(text)
    try:
        with warnings.catch_warnings():
            # a row longer than the header must not silently become an index or be cut
            warnings.simplefilter("error", pd.errors.ParserWarning)
            return pd.read_csv(
                path,
                sep=sep,
                encoding=encoding,
                na_values=MISSING_MARKERS,
                skipinitialspace=True,
                skip_blank_lines=True,
                encoding_errors="replace",
                index_col=False,
            )
    except pd.errors.ParserWarning:
        raise DataError(
            f"{path} is not a well-formed CSV table (the first data row has more fields "
            "than the header)"
        ) from None
    except pd.errors.EmptyDataError:
        raise DataError(f"{path} is empty (expected a header row and data rows)") from None
    except (pd.errors.ParserError, ValueError, UnicodeError) as exc:
        raise DataError(f"{path} is not a well-formed CSV table ({_short(exc)})") from None
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None


def _head_bytes(path: Path, size: int = 65536) -> bytes:
    try:
        with path.open("rb") as fh:
            return fh.read(size)
    except OSError as exc:
        raise DataError(f"cannot read {path}: {exc.strerror or exc}") from None


def _sniff_delimiter(text: str) -> str:
    """The field separator among , ; tab | (comma when the sample is ambiguous)."""
    lines = [ln for ln in text.splitlines() if ln.strip()][:50]
    if len(lines) > 1 and lines[-1] and not text.endswith(("\n", "\r")):
        lines = lines[:-1]  # the last line of the sample may be cut
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _short(exc: Exception) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__


def _check_columns(path: Path, columns: list[str]) -> None:
    unnamed = [i + 1 for i, c in enumerate(columns) if not c or c.startswith("Unnamed: ")]
    if unnamed and len(unnamed) == len(columns):
        raise DataError(f"{path} has no header row with column names")
    mangled = [c for c in columns if _is_mangled_duplicate(c, columns)]
    if mangled:
        originals = sorted({c.rsplit(".", 1)[0] for c in mangled})
        raise DataError(f"{path}: the header repeats the column name(s) {listing(originals)}")


def _is_mangled_duplicate(name: str, columns: list[str]) -> bool:
    """pandas renames a repeated 'a' to 'a.1', 'a.2', ..."""
    base, dot, number = name.rpartition(".")
    return bool(dot) and number.isdigit() and base in columns


def listing(names, limit: int = 12) -> str:
    """'a', 'b', ... (n in all): a readable list of names for messages."""
    names = list(names)
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f", ... ({len(names)} in all)" if len(names) > limit else "")


def closest_names(name: str, candidates: list[str], n: int = 3) -> list[str]:
    """The candidates that look most like ``name`` (case-insensitive), best first."""
    lowered = {c.lower(): c for c in candidates}
    hits = difflib.get_close_matches(name.lower(), list(lowered), n=n, cutoff=0.5)
    return [lowered[h] for h in hits]


def file_summary(path: str | os.PathLike) -> dict:
    """Name, size in bytes and SHA-256 of a data file: what a report needs to name it."""
    path = Path(path)
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return {"path": str(path), "bytes": path.stat().st_size, "sha256": digest.hexdigest()}


# --- column typing --------------------------------------------------------------------------


def profile_columns(
    frame: pd.DataFrame, target: str, chosen: list[str] | None, ignored: list[str]
) -> list[ColumnProfile]:
    """Kind, missing count and the planned action of every column of ``frame``.

    ``chosen``: the feature columns the user asked for (None: every column but the target);
    ``ignored``: columns the user left out.
    """
    profiles = []
    for name in frame.columns:
        col = frame[name]
        kind = column_kind(col)
        missing, distinct = int(col.isna().sum()), int(col.nunique(dropna=True))
        if name == target:
            profiles.append(ColumnProfile(name, kind, missing, distinct, False, "target"))
            continue
        use, action = _plan(kind, col, missing, distinct)
        if name in ignored or (chosen is not None and name not in chosen):
            use, action = False, "left out (--ignore / --columns)"
        elif chosen is not None and not use:
            action += " (asked for with --columns, left out all the same)"
        profiles.append(ColumnProfile(name, kind, missing, distinct, use, action))
    return profiles


def column_kind(col: pd.Series) -> str:
    """numeric, categorical, boolean, identifier or constant (see the module docstring)."""
    values = col.dropna()
    distinct = values.nunique()
    if distinct <= 1:
        return "constant"
    if pd.api.types.is_bool_dtype(values) or (
        distinct == 2 and {str(v).strip().lower() for v in values.unique()} <= TRUTH_WORDS
    ):
        return "boolean"
    numbers = as_numbers(values)
    if numbers is not None:
        every_row_distinct = distinct == len(col) >= MIN_ROWS_FOR_IDENTIFIER
        integers = bool(np.all(numbers == np.round(numbers)))
        if every_row_distinct and integers and numbers.max() - numbers.min() == len(col) - 1:
            return "identifier"  # 0..N-1 or 1..N: a row number or a running id
        return "numeric"
    if distinct == len(col) >= MIN_ROWS_FOR_IDENTIFIER:
        return "identifier"  # every row has its own text: names, keys
    return "categorical"


def as_numbers(values: pd.Series) -> np.ndarray | None:
    """The non-missing cells as float64 if every one is a number, else None."""
    if pd.api.types.is_bool_dtype(values):
        return None
    if pd.api.types.is_numeric_dtype(values):
        return values.to_numpy(dtype=np.float64)
    converted = pd.to_numeric(values, errors="coerce")
    if converted.isna().any():
        return None
    return converted.to_numpy(dtype=np.float64)


def _plan(kind: str, col: pd.Series, missing: int, distinct: int) -> tuple[bool, str]:
    gap = f", fill {missing} missing" if missing else ""
    if kind == "numeric":
        return True, f"standardize{gap}"
    if kind in ("categorical", "boolean"):
        extra = f" (+ 'missing' as a category: {missing} rows)" if missing else ""
        if distinct > MANY_CATEGORIES:
            extra += "; rare ones share one column"
        return True, f"one-hot, {distinct} values{extra}"
    if kind == "identifier":
        return False, f"left out: identifier-like (all {distinct} values distinct)"
    if distinct == 0:
        return False, "left out: every cell is missing"
    return False, "left out: constant (a single value)"
