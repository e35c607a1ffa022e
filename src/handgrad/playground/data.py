"""The playground's data sets: seeded generators, an uploaded CSV, and the train/test split.

Every set is ``X`` (N, D) float64 with a target: class codes (N,) int64 for classification,
values (N,) float64 for regression. Two-feature sets are drawn in the plane; the sine set is
1-D regression. All randomness comes from an explicit ``numpy.random.Generator`` built from
the seed, so the exported script regenerates the very same points with ``make_dataset``.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.preprocessing import Standardizer
from ..data.tabular import DataError, encode_labels, infer_task
from ..tabular.encode import MISSING_CATEGORY, category_text
from ..tabular.read import as_numbers, read_table

__all__ = [
    "DATASETS",
    "MAX_POINTS",
    "MAX_UPLOAD_BYTES",
    "DataSpec",
    "Dataset",
    "make_dataset",
    "parse_csv",
    "dataset_from_table",
]

MAX_POINTS = 5000  # generated sets: enough to see a boundary, small enough to stay live
MAX_UPLOAD_BYTES = 2_000_000  # an uploaded CSV larger than this is refused
MAX_CSV_ROWS = 20_000
MAX_CSV_COLUMNS = 50

# name -> (task, what it is)
DATASETS = {
    "xor": ("classification", "four Gaussian clusters, opposite corners share a class"),
    "moons": ("classification", "two interleaving half circles (scikit-learn make_moons)"),
    "circles": ("classification", "a ring around a disc (scikit-learn make_circles)"),
    "spirals": ("classification", "two interleaved spiral arms"),
    "blobs": ("classification", "Gaussian blobs, 2 to 5 classes (scikit-learn make_blobs)"),
    "linear": ("classification", "two classes split by a straight line"),
    "sine": ("regression", "y = sin(x) plus noise, x in [-3, 3]"),
}


@dataclass
class DataSpec:
    """What the page asks for: a generated set (name, size, noise, classes) and the split."""

    name: str = "moons"
    n: int = 500
    noise: float = 0.2
    classes: int = 3  # blobs only
    test_fraction: float = 0.3
    seed: int = 0

    def validate(self) -> None:
        """Raise ValueError naming the first impossible value."""
        if self.name not in DATASETS and self.name != "csv":
            raise ValueError(f"unknown data set {self.name!r}; choose from {', '.join(DATASETS)}")
        if not (isinstance(self.n, int) and 20 <= self.n <= MAX_POINTS):
            raise ValueError(f"number of points must be between 20 and {MAX_POINTS}, got {self.n}")
        if not (np.isfinite(self.noise) and 0.0 <= self.noise <= 2.0):
            raise ValueError(f"noise must be between 0 and 2, got {self.noise}")
        if not (isinstance(self.classes, int) and 2 <= self.classes <= 5):
            raise ValueError(f"blobs need 2 to 5 classes, got {self.classes}")
        if not 0.05 <= self.test_fraction <= 0.9:
            raise ValueError(f"test fraction must be in [0.05, 0.9], got {self.test_fraction}")
        if not (isinstance(self.seed, int) and 0 <= self.seed < 2**32):
            raise ValueError(f"seed must be an integer in [0, 2^32), got {self.seed}")


@dataclass
class Dataset:
    """Features (standardized if they came from a CSV), target, names, and the split."""

    X: np.ndarray  # (N, D) float64, what the network sees
    y: np.ndarray  # (N,) int64 class codes or float64 values
    task: str  # "classification" or "regression"
    feature_names: list[str]
    target_name: str = "label"
    classes: list[str] | None = None
    train: np.ndarray = field(default_factory=lambda: np.empty(0, np.intp))
    test: np.ndarray = field(default_factory=lambda: np.empty(0, np.intp))
    scaler: Standardizer | None = None  # the CSV's standardization (None: raw features)
    plane: tuple[int, int] = (0, 1)  # the two features drawn on the plane

    @property
    def n_classes(self) -> int:
        return len(self.classes) if self.classes else 0

    @property
    def n_outputs(self) -> int:
        """Width of the last layer: 1 for regression and two classes, else one per class."""
        return 1 if self.task == "regression" or self.n_classes == 2 else self.n_classes


# --- generators -----------------------------------------------------------------------------


def _xor(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    corners = np.array([[-1.0, -1.0], [1.0, 1.0], [-1.0, 1.0], [1.0, -1.0]])
    which = rng.integers(0, 4, size=n)
    X = corners[which] * 0.8 + rng.normal(0.0, 0.15 + noise, size=(n, 2)) * 0.6
    return X, (which >= 2).astype(np.int64)


def _spirals(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    y = np.arange(n) % 2
    t = rng.uniform(0.0, 1.0, size=n) ** 0.5 * 3.0 * np.pi  # denser toward the rim
    angle = t + np.pi * y
    r = t / (3.0 * np.pi) * 1.6
    X = np.column_stack([r * np.cos(angle), r * np.sin(angle)])
    X += rng.normal(0.0, noise * 0.15, size=X.shape)
    return X, y.astype(np.int64)


def _linear(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    X = rng.uniform(-1.5, 1.5, size=(n, 2))
    margin = X @ np.array([0.8, -0.6]) + 0.2 + rng.normal(0.0, noise * 0.5, size=n)
    return X, (margin > 0).astype(np.int64)


def _sine(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    x = rng.uniform(-3.0, 3.0, size=n)
    y = np.sin(x) + rng.normal(0.0, noise * 0.5, size=n)
    return x.reshape(-1, 1), y


def _sklearn(name: str, n: int, noise: float, classes: int, seed: int):
    from sklearn import datasets as sk

    if name == "moons":
        X, y = sk.make_moons(n_samples=n, noise=noise, random_state=seed)
        return (X - [0.5, 0.25]) / 1.2, y  # centred on the origin, roughly unit range
    if name == "circles":
        X, y = sk.make_circles(n_samples=n, noise=noise * 0.5, factor=0.5, random_state=seed)
        return X * 1.3, y
    angles = 2 * np.pi * np.arange(classes) / classes + np.pi / 4
    centers = 1.6 * np.column_stack([np.cos(angles), np.sin(angles)])  # evenly round a circle
    X, y = sk.make_blobs(
        n_samples=n, centers=centers, cluster_std=0.25 + 0.5 * noise, random_state=seed
    )
    return X, y


def make_dataset(name: str, n: int, noise: float, classes: int, seed: int):
    """(X (n, D), y (n,)) for a built-in set; the same arguments give the same bits."""
    if name in ("moons", "circles", "blobs"):
        X, y = _sklearn(name, n, noise, classes, seed)
    else:
        generator = {"xor": _xor, "spirals": _spirals, "linear": _linear, "sine": _sine}[name]
        X, y = generator(n, noise, np.random.default_rng(seed))
    return np.asarray(X, np.float64), np.asarray(y)


def split(n: int, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Row indices (train, test) from one seeded permutation (seed + 1: not the data's)."""
    order = np.random.default_rng(seed + 1).permutation(n)
    n_test = max(1, min(n - 1, round(n * test_fraction)))
    return np.sort(order[n_test:]), np.sort(order[:n_test])


def generated(spec: DataSpec) -> Dataset:
    """The Dataset for a built-in name, split by ``spec``."""
    spec.validate()
    X, y = make_dataset(spec.name, spec.n, spec.noise, spec.classes, spec.seed)
    task = DATASETS[spec.name][0]
    if task == "regression":
        data = Dataset(X, y.astype(np.float64), task, ["x"], "y")
    else:
        k = int(y.max()) + 1
        data = Dataset(
            X, y.astype(np.int64), task, ["x1", "x2"], "label", [str(c) for c in range(k)]
        )
    data.train, data.test = split(len(y), spec.test_fraction, spec.seed)
    return data


# --- a CSV of the learner's own ---------------------------------------------------------------


@dataclass
class UploadedTable:
    """A parsed CSV: its name, header and cells (kept to build Datasets from columns)."""

    filename: str
    columns: list[str]
    frame: pd.DataFrame

    @property
    def n_rows(self) -> int:
        return len(self.frame)

    def summary(self) -> dict:
        return {"filename": self.filename, "columns": self.columns, "rows": self.n_rows}

    def numbers(self, names: list[str]) -> np.ndarray:
        """The columns as float64 (N, k); DataError naming a column with text or gaps."""
        out = []
        for name in names:
            values = as_numbers(self.frame[name])
            if values is None or not np.isfinite(values).all():
                raise DataError(
                    f"column {name!r} must hold a finite number in every row to be used here"
                )
            out.append(values)
        return np.column_stack(out)

    def text(self, name: str) -> list[str]:
        """The column's cells as text (missing cells as an empty string)."""
        cells = category_text(self.frame[name]).tolist()
        return ["" if v == MISSING_CATEGORY else str(v) for v in cells]


def parse_csv(content: bytes, filename: str = "upload.csv") -> UploadedTable:
    """Read uploaded CSV bytes with handgrad's CSV reader; DataError for anything unusable."""
    if len(content) > MAX_UPLOAD_BYTES:
        raise DataError(f"the file is larger than the {MAX_UPLOAD_BYTES // 1000} kB upload limit")
    name = Path(filename).name or "upload.csv"
    with tempfile.TemporaryDirectory(prefix="handgrad-upload-") as tmp:
        path = Path(tmp) / name
        path.write_bytes(content)
        try:
            frame = read_table(path)
        except DataError as exc:
            raise DataError(str(exc).replace(str(path), name)) from None
    table = UploadedTable(name, [str(c) for c in frame.columns], frame)
    if table.n_rows > MAX_CSV_ROWS:
        raise DataError(f"{name} has {table.n_rows} rows; the playground takes {MAX_CSV_ROWS}")
    if len(table.columns) > MAX_CSV_COLUMNS:
        raise DataError(f"{name} has {len(table.columns)} columns; at most {MAX_CSV_COLUMNS}")
    if len(table.columns) < 2:
        raise DataError(f"{name} needs at least two columns (a feature and a target)")
    if table.n_rows < 10:
        raise DataError(f"{name} has {table.n_rows} data rows; at least 10 are needed")
    return table


def dataset_from_table(
    upload: UploadedTable,
    target: str,
    features: list[str],
    plane: tuple[str, str] | None,
    test_fraction: float,
    seed: int,
) -> Dataset:
    """Features (standardized with the training rows' mean and spread) and the target.

    ``plane``: the two features drawn on the plane (the others are held at their mean, 0
    after standardizing); None when only one feature is used (a curve is drawn).
    """
    table = upload
    if target in features:
        raise DataError(f"the target column {target!r} cannot also be a feature")
    if not features:
        raise DataError("choose at least one feature column")
    X_raw = table.numbers(features)  # DataError names a bad cell
    cells = table.text(target)
    task, _ = infer_task(cells)
    if task == "classification":
        y, classes = encode_labels(cells, target)
        if len(classes) > 10:
            raise DataError(f"target {target!r} has {len(classes)} classes; at most 10 here")
    else:
        y = table.numbers([target])[:, 0]
        classes = None
    train, test = split(len(y), test_fraction, seed)
    scaler = Standardizer().fit(X_raw[train])
    data = Dataset(
        scaler.transform(X_raw), y, task, list(features), target, classes, train, test, scaler
    )
    if plane is not None:
        for name in plane:
            if name not in features:
                raise DataError(f"the plane's column {name!r} is not one of the features")
        data.plane = (features.index(plane[0]), features.index(plane[1]))
    return data
