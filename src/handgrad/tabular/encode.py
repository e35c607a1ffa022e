"""Preprocessing of a table's feature columns, fitted on training rows and stored as JSON.

    numeric      fill missing cells with the training median (or mean), optionally add a 0/1
                 "was missing" column, then standardize: (x - mean) / scale
    categorical  one-hot over the categories seen in training; a missing cell is the category
    boolean      "(missing)"; categories seen in fewer than ``rare_min`` training rows share
                 one "(rare)" column; a category never seen in training maps to all zeros

Fill values are computed with NumPy (the same bits as scikit-learn's ``SimpleImputer``);
scikit-learn's ``OneHotEncoder`` fits the categories. What they learned (fill values,
categories, rare categories) plus the standardizer's mean and scale is kept as
plain JSON (``TablePreprocessor.to_dict``) in the model file. ``transform`` applies it with
NumPy and pandas alone, so ``handgrad predict`` needs neither scikit-learn nor pickle.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..data.preprocessing import Standardizer
from ..data.tabular import DataError, format_number
from .read import listing

__all__ = ["TablePreprocessor", "EncodeNotes", "MISSING_CATEGORY", "RARE_CATEGORY"]

FORMAT = 1  # version of the JSON layout below
MISSING_CATEGORY = "(missing)"
RARE_CATEGORY = "(rare)"


@dataclass
class EncodeNotes:
    """What ``transform`` noticed but did not refuse: unseen categories, extra columns."""

    unseen: dict[str, list[str]] = field(default_factory=dict)  # column -> unseen values
    extra_columns: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = []
        if self.extra_columns:
            out.append(
                f"note: ignored column(s) the model does not use: {listing(self.extra_columns)}"
            )
        for name, values in self.unseen.items():
            out.append(
                f"warning: column {name!r} has value(s) never seen in training, encoded as "
                f"all-zero (no category): {listing(values, 5)}"
            )
        return out


class TablePreprocessor:
    """Raw feature columns (a DataFrame) -> the network's input matrix (N, D) float64.

    ``columns``: one JSON-ready dict per feature column, in input order (see the module
    docstring); ``output_names``: the D names of the encoded columns.
    """

    def __init__(self, columns: list[dict]):
        self.columns = columns

    # --- fitting -------------------------------------------------------------------------

    @classmethod
    def fit(
        cls,
        frame: pd.DataFrame,
        kinds: dict[str, str],
        *,
        impute: str = "median",
        missing_indicator: bool = False,
        rare_min: int = 5,
    ) -> TablePreprocessor:
        """Learn the preprocessing of the columns ``kinds`` (name -> kind) from training rows.

        DataError naming every numeric column with text, infinite values, or no value at all.
        """
        numeric = [name for name, kind in kinds.items() if kind == "numeric"]
        categorical = [name for name in kinds if name not in numeric]
        values, problems = [], []
        for name in numeric:
            v, problem = _numeric_values(frame[name], name)
            if problem is None and np.isnan(v).all():
                problem = f"column {name!r} has no values in the training rows"
            if problem:  # collect them all: one message names every column
                problems.append(problem)
            values.append(v)
        if problems:
            raise DataError("; ".join(problems))
        fitted: dict[str, dict] = {}
        if numeric:
            V = np.column_stack(values)
            fitted.update(_fit_numeric(V, numeric, impute, missing_indicator))
        if categorical:
            fitted.update(_fit_categorical(frame, categorical, kinds, rare_min))
        return cls([fitted[name] for name in kinds])

    # --- JSON ------------------------------------------------------------------------------

    def to_dict(self) -> dict:
        return {"format": FORMAT, "columns": self.columns}

    @classmethod
    def from_dict(cls, payload: dict) -> TablePreprocessor:
        """Rebuild from ``to_dict``'s output; ValueError naming what is wrong."""
        if not isinstance(payload, dict) or payload.get("format") != FORMAT:
            raise ValueError(f"unknown preprocessing format {payload.get('format')!r}")
        columns = payload["columns"]
        if not isinstance(columns, list) or not columns:
            raise ValueError("the preprocessing lists no columns")
        for c in columns:
            _check_column_entry(c)
        return cls(columns)

    # --- applying ---------------------------------------------------------------------------

    @property
    def feature_names(self) -> list[str]:
        return [c["name"] for c in self.columns]

    @property
    def output_names(self) -> list[str]:
        names = []
        for c in self.columns:
            if c["kind"] == "numeric":
                names.append(c["name"])
                if c["indicator"]:
                    names.append(f"{c['name']} (was missing)")
            else:
                names += [f"{c['name']}={v}" for v in _one_hot_values(c)]
        return names

    def transform(
        self, frame: pd.DataFrame, source: str = "the table"
    ) -> tuple[np.ndarray, EncodeNotes]:
        """Encode ``frame`` (any column order, extra columns ignored) -> (X (N, D), notes).

        DataError naming every missing column, and every numeric column with text in it.
        """
        missing = [n for n in self.feature_names if n not in frame.columns]
        if missing:
            n = len(missing)
            raise DataError(
                f"{source} lacks {n} of the model's feature column(s): {listing(missing)}"
            )
        notes = EncodeNotes(extra_columns=[c for c in frame.columns if c not in self.feature_names])
        blocks, problems = [], []
        for c in self.columns:
            col = frame[c["name"]]
            if c["kind"] == "numeric":
                block, problem = _apply_numeric(c, col)
                if problem:
                    problems.append(problem)
            else:
                block, unseen = _apply_categorical(c, col)
                if unseen:
                    notes.unseen[c["name"]] = unseen
            blocks.append(block)
        if problems:
            raise DataError(f"{source}: {'; '.join(problems)}")
        X = np.concatenate(blocks, axis=1) if blocks else np.empty((len(frame), 0))
        return X, notes


# --- numeric columns -------------------------------------------------------------------------


def _numeric_values(col: pd.Series, name: str) -> tuple[np.ndarray, str | None]:
    """float64 values (NaN where missing) and a problem sentence for text or inf cells."""
    if pd.api.types.is_bool_dtype(col):
        return col.to_numpy(dtype=np.float64), None
    values = pd.to_numeric(col, errors="coerce").to_numpy(dtype=np.float64)
    bad_text = np.flatnonzero(np.isnan(values) & col.notna().to_numpy())
    if bad_text.size:
        shown = listing([col.iloc[i] for i in bad_text[:3]], 3)
        return values, (
            f"numeric column {name!r} holds text in {bad_text.size} row(s) "
            f"(first at row {bad_text[0]}: {shown})"
        )
    infinite = np.flatnonzero(np.isinf(values))
    if infinite.size:
        return values, (
            f"column {name!r} holds {infinite.size} infinite value(s) (first at row {infinite[0]})"
        )
    return values, None


def fill_values(V: np.ndarray, strategy: str) -> np.ndarray:
    """Each column's fill value (k,) from training columns V (N, k) float64, NaN where missing:
    the mean or the median of the values present, NaN for a column with none.

    The same bits as scikit-learn's ``SimpleImputer(strategy=...).fit(V).statistics_`` on the
    same array (tested on many tables, in both memory layouts), computed the same way: the
    mean is the column sum with missing cells as 0, divided by the count (NaN where that
    overflows); the median is half the sum of the two middle values of the column sorted with
    missing cells last (the middle value twice for an odd count), which can overflow to +-inf.
    NumPy only: importing scikit-learn costs a fresh process ~0.6 s of CPU (every worker of a
    sweep, at its first training).
    """
    if strategy not in ("mean", "median"):
        raise ValueError(f"unknown impute strategy {strategy!r}: expected 'mean' or 'median'")
    absent = np.isnan(V)
    count = V.shape[0] - absent.sum(axis=0)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        if strategy == "mean":
            mean = np.where(absent, 0.0, V).sum(axis=0) / count
            return np.where(np.isfinite(mean), mean, np.nan)
        ranked = np.take_along_axis(V, np.where(absent, np.inf, V).argsort(axis=0), axis=0)
        high = np.minimum(count // 2, max(V.shape[0] - 1, 0))
        low = np.where(count % 2 == 1, high, high - 1)
        middle = np.take_along_axis(ranked, np.stack([low, high]), axis=0)
        return np.where(count > 0, middle.sum(axis=0) / 2.0, np.nan)


def _fit_numeric(V: np.ndarray, names: list[str], impute: str, indicator: bool) -> dict:
    """Fill values (``fill_values``), then mean and scale (Standardizer) of the numeric training
    columns V (N, k), NaN where missing -> {name: column entry}."""
    fills = fill_values(V, impute)
    overflowed = ~np.isfinite(fills)  # the mean of values near 1e308 can overflow
    fills[overflowed] = np.nanmedian(V[:, overflowed], axis=0)
    absent = np.isnan(V)
    scaler = Standardizer().fit(np.where(absent, fills, V))
    assert scaler.mean_ is not None and scaler.scale_ is not None
    return {
        name: {
            "name": name,
            "kind": "numeric",
            "fill": float(fills[j]),
            "impute": impute,
            "indicator": bool(indicator and absent[:, j].any()),
            "mean": float(scaler.mean_[j]),
            "scale": float(scaler.scale_[j]),
        }
        for j, name in enumerate(names)
    }


def _apply_numeric(c: dict, col: pd.Series) -> tuple[np.ndarray, str | None]:
    values, problem = _numeric_values(col, c["name"])
    absent = np.isnan(values)
    if c["fill"] is None and absent.any():  # a model from before imputation existed
        problem = problem or f"column {c['name']!r} has {int(absent.sum())} missing value(s)"
    filled = np.where(absent, c["fill"] if c["fill"] is not None else 0.0, values)
    scaler = Standardizer.from_dict({"mean": [c["mean"]], "scale": [c["scale"]]})
    z = scaler.transform(filled.reshape(-1, 1))
    if c["indicator"]:
        z = np.column_stack([z, absent.astype(np.float64)])
    return z, problem


# --- categorical and boolean columns -----------------------------------------------------------


def category_text(col: pd.Series) -> np.ndarray:
    """Cells as category names (object array): numbers without a trailing '.0', missing ->
    MISSING_CATEGORY, so '1' read as an integer and as a float are one category."""

    def text(v) -> str:
        if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
            return MISSING_CATEGORY
        if isinstance(v, (bool, np.bool_)):
            return str(bool(v))
        if isinstance(v, (int, float, np.integer, np.floating)):
            return format_number(float(v))
        return str(v).strip()

    return np.array([text(v) for v in col.tolist()], dtype=object)


def _fit_categorical(frame: pd.DataFrame, names: list[str], kinds: dict, rare_min: int) -> dict:
    """Categories and rare categories (OneHotEncoder) of the training columns -> {name: entry}."""
    from sklearn.preprocessing import OneHotEncoder

    cells = np.column_stack([category_text(frame[name]) for name in names])
    encoder = OneHotEncoder(handle_unknown="ignore", min_frequency=rare_min).fit(cells)
    fitted = {}
    for j, name in enumerate(names):
        infrequent = encoder.infrequent_categories_[j]
        rare = sorted(str(v) for v in infrequent) if infrequent is not None else []
        fitted[name] = {
            "name": name,
            "kind": kinds[name],
            "categories": [str(v) for v in encoder.categories_[j] if str(v) not in rare],
            "rare": rare,
        }
    return fitted


def _one_hot_values(c: dict) -> list[str]:
    return list(c["categories"]) + ([RARE_CATEGORY] if c["rare"] else [])


def _apply_categorical(c: dict, col: pd.Series) -> tuple[np.ndarray, list[str]]:
    """One-hot block (N, K) and the distinct values never seen in training."""
    cells = category_text(col)
    slot = {v: i for i, v in enumerate(c["categories"])}
    slot.update({v: len(c["categories"]) for v in c["rare"]})  # the "(rare)" column
    codes = pd.Series(cells, dtype=object).map(slot)
    known = codes.notna().to_numpy()
    block = np.zeros((len(cells), len(_one_hot_values(c))), dtype=np.float64)
    block[np.flatnonzero(known), codes[known].to_numpy(dtype=np.int64)] = 1.0
    unseen = [str(v) for v in dict.fromkeys(cells[~known].tolist())]
    return block, unseen


def _check_column_entry(c: dict) -> None:
    if not isinstance(c, dict) or not isinstance(c.get("name"), str):
        raise ValueError(f"bad column entry {c!r}")
    if c.get("kind") == "numeric":
        for key in ("mean", "scale"):
            if not isinstance(c.get(key), (int, float)) or not math.isfinite(c[key]):
                raise ValueError(f"column {c['name']!r}: {key} must be a finite number")
        if c["scale"] <= 0:
            raise ValueError(f"column {c['name']!r}: scale must be positive")
        if c.get("fill") is not None and not isinstance(c["fill"], (int, float)):
            raise ValueError(f"column {c['name']!r}: fill must be a number")
        c.setdefault("indicator", False)
        c.setdefault("fill", None)
    elif c.get("kind") in ("categorical", "boolean"):
        if not all(isinstance(v, str) for v in [*c.get("categories", [None]), *c.get("rare", [])]):
            raise ValueError(f"column {c['name']!r}: categories must be text")
        c.setdefault("rare", [])
    else:
        raise ValueError(f"column {c.get('name')!r}: unknown kind {c.get('kind')!r}")
