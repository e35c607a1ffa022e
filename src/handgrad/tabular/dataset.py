"""A loaded table ready for training: the raw feature columns, the target, and the column plan."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.tabular import DataError, format_number
from .config import ConfigError
from .read import ColumnProfile, closest_names, file_summary, listing, profile_columns, read_table

__all__ = ["Dataset", "load_dataset"]


@dataclass
class Dataset:
    """A table split into raw features and target, with where every row came from.

    frame: the feature columns in use, raw (N, D) as read (text, numbers, missing cells);
    target: the target cells as text (N,); rows: each row's position among the file's data
    rows, counting from 0 (pandas' default index), so any tool can find it again;
    columns: the kind and planned action of every column of the file (``profile_columns``).
    """

    frame: pd.DataFrame
    target: list[str]
    feature_names: list[str]
    target_name: str
    source: str
    task_hint: str | None = None  # a built-in set knows its task
    rows: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    columns: list[ColumnProfile] = field(default_factory=list)
    file: dict | None = None  # path, bytes, sha256 of a data file
    notes: list[str] = field(default_factory=list)

    @property
    def n_rows(self) -> int:
        return len(self.target)

    @property
    def kinds(self) -> dict[str, str]:
        """Feature name -> kind (numeric, categorical, boolean) for the columns in use."""
        by_name = {c.name: c.kind for c in self.columns}
        return {name: by_name.get(name, "numeric") for name in self.feature_names}

    def column_table(self) -> list[str]:
        """The column plan as aligned text lines (what ``handgrad train`` prints first)."""
        head = ("column", "kind", "missing", "what is done")
        rows = [(c.name, c.kind, str(c.missing), c.action) for c in self.columns]
        widths = [max(len(r[i]) for r in [head, *rows]) for i in range(3)]
        return [
            f"{r[0]:<{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:>{widths[2]}}  {r[3]}"
            for r in [head, *rows]
        ]


def load_dataset(
    data: str,
    target: str | None = None,
    features: list[str] | None = None,
    *,
    ignore: list[str] | None = None,
) -> Dataset:
    """A table file (``target`` names its target column) or a built-in set by name.

    ``features``: the feature columns to use (default: every usable column but the target);
    ``ignore``: columns to leave out. Identifier-like and constant columns are left out with
    a note. A name that is not an existing file but is a built-in set (digits,
    breast_cancer, diabetes, iris, wine) loads that set. Rows whose target is missing are
    dropped (counted in ``notes``).
    """
    from ..data.datasets import BUILTIN, builtin_class_names, load_builtin

    path = Path(data)
    if not path.exists() and data in BUILTIN:
        if target is not None or features is not None or ignore:
            raise ConfigError(
                f"--target, --columns and --ignore are for table files; the built-in {data!r} "
                "has its own target and features"
            )
        X, y, names, task = load_builtin(data)
        frame = pd.DataFrame(X, columns=list(names))
        classes = builtin_class_names(data)  # iris: setosa, versicolor, virginica
        cells = [classes[v] for v in y] if classes else [format_number(v) for v in y]
        profiles = [ColumnProfile(n, "numeric", 0, 0, True, "standardize") for n in names]
        return Dataset(
            frame,
            cells,
            list(names),
            "target",
            f"built-in data set {data!r}",
            task,
            np.arange(len(y)),
            profiles,
        )
    if not path.exists():
        hint = "" if path.suffix else f" (built-in sets: {', '.join(BUILTIN)})"
        raise DataError(f"data file not found: {data}{hint}")
    if target is None:
        raise ConfigError("--target COLUMN is required with a table file")
    table = read_table(path)
    return dataset_from_frame(table, target, features, ignore or [], str(path), file_summary(path))


def dataset_from_frame(
    table: pd.DataFrame,
    target: str,
    features: list[str] | None,
    ignore: list[str],
    source: str,
    file: dict | None = None,
) -> Dataset:
    """The ``Dataset`` of an already-read table (see ``load_dataset``)."""
    columns = list(table.columns)
    _check_names(source, columns, target, features, ignore)
    profiles = profile_columns(table, target, features, ignore)
    used = [p.name for p in profiles if p.use]
    if not used:
        why = "; ".join(f"{p.name!r}: {p.action}" for p in profiles if p.name != target)
        raise DataError(f"{source}: no usable feature column is left ({why})")
    labels = table[target]
    keep = labels.notna().to_numpy()
    notes = []
    if not keep.all():
        notes.append(f"{int((~keep).sum())} row(s) with no {target!r} value were left out")
    if not keep.any():
        raise DataError(f"{source}: the target column {target!r} has no values")
    rows = np.flatnonzero(keep)
    cells = [_label_text(v) for v in labels[keep].tolist()]
    frame = table.loc[keep, used].reset_index(drop=True)
    return Dataset(frame, cells, used, target, source, None, rows, profiles, file, notes)


def _label_text(v) -> str:
    if isinstance(v, (bool, np.bool_)):
        return str(bool(v))
    if isinstance(v, (int, float, np.integer, np.floating)):
        return format_number(float(v))
    return str(v).strip()


def _check_names(source, columns, target, features, ignore) -> None:
    """Every unknown column name at once, each with the closest existing names."""
    problems = []
    asked = [("target", target)] + [("--columns", f) for f in features or []]
    asked += [("--ignore", f) for f in ignore]
    for option, name in asked:
        if name not in columns:
            near = closest_names(name, columns)
            hint = f" (did you mean {listing(near)}?)" if near else ""
            problems.append(f"{option} column {name!r} does not exist{hint}")
    if problems:
        raise DataError(f"{source}: {'; '.join(problems)}; the columns are: {listing(columns, 20)}")
    if features is not None and target in features:
        raise ConfigError(f"the target column {target!r} cannot also be a feature")
    if target in ignore:
        raise ConfigError(f"the target column {target!r} cannot be ignored")
