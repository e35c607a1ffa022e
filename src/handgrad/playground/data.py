"""The playground's data sets: seeded generators, an uploaded CSV, and the train/test split.

Every set is ``X`` (N, D) float64 with a target: class codes (N,) int64 for classification,
values (N,) float64 for regression. Two-feature sets are drawn in the plane; the sine set is
1-D regression. All randomness comes from an explicit ``numpy.random.Generator`` built from
the seed, so the exported script regenerates the very same points with ``make_dataset``.
"""

from __future__ import annotations

import csv
import functools
import io
import re
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..data.tabular import DataError, encode_labels, infer_task
from ..nn.constraints import Constraint, Integer, Options, Real, check
from ..splits import held_out_count, split_rows
from ..tabular.dataset import dataset_from_frame
from ..tabular.encode import TablePreprocessor
from ..tabular.read import _sniff_delimiter, read_table

__all__ = [
    "DATASETS",
    "MAX_POINTS",
    "MAX_UPLOAD_BYTES",
    "DataSpec",
    "Dataset",
    "make_dataset",
    "draw_seed",
    "previews",
    "parse_csv",
    "dataset_from_table",
    "FEATURES",
    "feature_matrix",
    "safe_filename",
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
    "plane": ("regression", "a tilted plane: y = 0.8 x1 - 0.5 x2 plus noise"),
    "bump": ("regression", "a Gaussian bump in the middle of the plane, plus noise"),
    "gaussians": ("regression", "six Gaussian bumps, up and down in turn, plus noise"),
}
ONE_D = ("sine",)  # sets with one input (the page draws a curve)

# Feature inputs computed from the plane's two coordinates (as TensorFlow Playground offers):
# id -> (label, function of x1 and x2). The network's first layer takes the chosen ones.
FEATURES = {
    "x1": ("x₁", lambda x1, x2: x1),
    "x2": ("x₂", lambda x1, x2: x2),
    "x1sq": ("x₁²", lambda x1, x2: x1 * x1),
    "x2sq": ("x₂²", lambda x1, x2: x2 * x2),
    "x1x2": ("x₁x₂", lambda x1, x2: x1 * x2),
    "sinx1": ("sin x₁", lambda x1, x2: np.sin(x1)),
    "sinx2": ("sin x₂", lambda x1, x2: np.sin(x2)),
}


def feature_matrix(points: np.ndarray, names: list[str]) -> np.ndarray:
    """Plane points (N, 2) -> the chosen feature inputs (N, len(names)), in FEATURES order."""
    x1, x2 = points[:, 0], points[:, 1]
    return np.column_stack([FEATURES[name][1](x1, x2) for name in names])


# each number of a DataSpec: the name the page shows, what it may be
SETTINGS: dict[str, tuple[str, Constraint]] = {
    "n": ("number of points", Integer(20, MAX_POINTS)),
    "noise": ("noise", Real(0.0, 2.0)),
    "classes": ("number of classes (blobs)", Integer(2, 5)),
    "test_fraction": ("test fraction", Real(0.05, 0.9)),
    "seed": ("seed", Integer(0, 2**32 - 1)),
    "draw": ("draw of the data", Integer(0, 2**31 - 1)),
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
    draw: int = 0  # Regenerate: a new draw of the same set (0: the seed's own points)
    inputs: list[str] = field(default_factory=lambda: ["x1", "x2"])  # FEATURES ids

    def validate(self) -> None:
        """Raise ValueError naming the first impossible value."""
        check(self.name, Options(*DATASETS, "csv"), "data set", error=ValueError)
        for key, (label, constraint) in SETTINGS.items():
            check(getattr(self, key), constraint, label, error=ValueError)
        if not self.inputs or any(f not in FEATURES for f in self.inputs):
            raise ValueError(f"inputs must be a non-empty list from {', '.join(FEATURES)}")
        if len(set(self.inputs)) != len(self.inputs):
            raise ValueError("each feature input may be chosen once")
        self.inputs = [f for f in FEATURES if f in self.inputs]  # one canonical order


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
    preprocessor: TablePreprocessor | None = None  # a CSV's encoding (None: raw features)
    plane: tuple[int, int] = (0, 1)  # the two columns of ``points`` drawn on the plane
    points: np.ndarray | None = None  # generated sets: the plane coordinates (N, 2)
    inputs: list[str] | None = None  # generated plane sets: the FEATURES ids X is made of

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


def _plane(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    X = rng.uniform(-1.5, 1.5, size=(n, 2))
    return X, X @ np.array([0.8, -0.5]) + rng.normal(0.0, noise * 0.5, size=n)


def _bump(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    X = rng.uniform(-1.5, 1.5, size=(n, 2))
    y = 2.0 * np.exp(-(X * X).sum(axis=1) / 0.6) - 0.5
    return X, y + rng.normal(0.0, noise * 0.5, size=n)


# six bump centres on a 3 x 2 grid, the heights alternating in sign like a chequerboard
_GAUSSIAN_CENTRES = np.array([[x, y] for y in (-0.75, 0.75) for x in (-1.0, 0.0, 1.0)])
_GAUSSIAN_SIGNS = np.array([1.0, -1.0, 1.0, -1.0, 1.0, -1.0])


def _gaussians(n: int, noise: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    X = rng.uniform(-1.5, 1.5, size=(n, 2))
    d2 = ((X[:, None, :] - _GAUSSIAN_CENTRES[None, :, :]) ** 2).sum(axis=2)  # (n, 6)
    y = np.exp(-d2 / (2 * 0.3**2)) @ _GAUSSIAN_SIGNS
    return X, y + rng.normal(0.0, noise * 0.5, size=n)


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


def draw_seed(seed: int, draw: int) -> int:
    """The generator's seed for ``draw`` of a set: ``seed`` itself for draw 0, else a number
    mixed from both (``numpy.random.SeedSequence``), so each Regenerate gives new points."""
    if draw == 0:
        return seed
    return int(np.random.SeedSequence([seed, draw]).generate_state(1)[0])


def make_dataset(name: str, n: int, noise: float, classes: int, seed: int, draw: int = 0):
    """(X (n, D), y (n,)) for a built-in set; the same arguments give the same bits."""
    seed = draw_seed(seed, draw)
    if name in ("moons", "circles", "blobs"):
        X, y = _sklearn(name, n, noise, classes, seed)
    else:
        generator = {
            "xor": _xor,
            "spirals": _spirals,
            "linear": _linear,
            "sine": _sine,
            "plane": _plane,
            "bump": _bump,
            "gaussians": _gaussians,
        }[name]
        X, y = generator(n, noise, np.random.default_rng(seed))
    return np.asarray(X, np.float64), np.asarray(y)


@functools.lru_cache(maxsize=1)
def previews(n: int = 150) -> dict:
    """Each built-in set drawn small, for the page's data buttons (seed 0, noise 0.1):
    {name: {"points": [[u, v], ...] scaled into [-1, 1], "labels": class codes or None,
    "values": the regression target mapped onto [-1, 1] or None}}; sine as (x, y) points."""
    out = {}
    for name, (task, _) in DATASETS.items():
        X, y = make_dataset(name, n, 0.1, 3, 0)
        if name in ONE_D:
            X = np.column_stack([X[:, 0], y])
        X = X / np.abs(X).max(axis=0)
        regression = task == "regression" and name not in ONE_D
        values = 2 * (y - y.min()) / (np.ptp(y) or 1.0) - 1 if regression else None
        out[name] = {
            "points": np.round(X, 3).tolist(),
            "labels": y.astype(int).tolist() if task == "classification" else None,
            "values": None if values is None else np.round(values, 3).tolist(),
        }
    return out


def split(n: int, test_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Row indices (train, test), each in increasing order: ceil(test_fraction * n) test rows
    (``handgrad.splits``), drawn from a Generator seeded with seed + 1 (not the data's)."""
    n_test = held_out_count(n, test_fraction)
    return split_rows(n, n_test, np.random.default_rng(seed + 1), shuffle=False)


def generated(spec: DataSpec) -> Dataset:
    """The Dataset for a built-in name, split by ``spec``."""
    spec.validate()
    X, y = make_dataset(spec.name, spec.n, spec.noise, spec.classes, spec.seed, spec.draw)
    task = DATASETS[spec.name][0]
    if spec.name in ONE_D:
        data = Dataset(X, y.astype(np.float64), task, ["x"], "y")
    else:
        inputs = feature_matrix(X, spec.inputs)
        names = [FEATURES[f][0] for f in spec.inputs]
        if task == "regression":
            data = Dataset(inputs, y.astype(np.float64), task, names, "y")
        else:
            k = int(y.max()) + 1
            data = Dataset(
                inputs, y.astype(np.int64), task, names, "label", [str(c) for c in range(k)]
            )
        data.points, data.inputs = X, list(spec.inputs)
    data.train, data.test = split(len(y), spec.test_fraction, spec.seed)
    return data


# --- a CSV of the learner's own ---------------------------------------------------------------


@dataclass
class UploadedTable:
    """A parsed CSV: its (sanitised) name, header and cells (to build Datasets from columns)."""

    filename: str
    columns: list[str]
    frame: pd.DataFrame

    @property
    def n_rows(self) -> int:
        return len(self.frame)

    def summary(self) -> dict:
        return {"filename": self.filename, "columns": self.columns, "rows": self.n_rows}


def safe_filename(name: str) -> str:
    """The last path part of ``name`` with only letters, digits, ``._-`` and spaces kept
    (others become ``_``), at most 80 characters; ``upload.csv`` when nothing is left."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = _UNSAFE.sub("_", base).strip(" .")[:80].strip(" .")
    return base if base and set(base) != {"_"} else "upload.csv"


_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]")


def _has_control(text: str) -> bool:
    return any(unicodedata.category(c) == "Cc" for c in text)


def check_rows(text: str, name: str) -> None:
    """Every row has the header's number of fields, no control characters in any cell, and the
    table is within the row and column limits. DataError naming the line and column."""
    lines = text.splitlines()
    sample = "\n".join(lines[:50]) + "\n"
    reader = csv.reader(io.StringIO(text), delimiter=_sniff_delimiter(sample))
    header: list[str] | None = None
    rows = 0
    while True:
        line = reader.line_num + 1  # where the next row starts (a quoted cell may span lines)
        try:
            row = next(reader, None)
        except csv.Error as exc:
            raise DataError(f"{name}: line {line} is not well-formed CSV ({exc})") from None
        if row is None:
            return
        if not any(cell.strip() for cell in row):
            continue  # blank lines are skipped, as the reader does
        if header is None:
            header = row
            if len(header) > MAX_CSV_COLUMNS:
                raise DataError(f"{name} has {len(header)} columns; at most {MAX_CSV_COLUMNS}")
            for k, cell in enumerate(header):
                if _has_control(cell):
                    raise DataError(
                        f"{name}: the name of column {k + 1} holds a control character (a line "
                        "break, tab or escape); rename the column"
                    )
            continue
        rows += 1
        if rows > MAX_CSV_ROWS:
            raise DataError(f"{name} has more than {MAX_CSV_ROWS} data rows; the playground "
                            f"takes {MAX_CSV_ROWS}")  # fmt: skip
        if len(row) != len(header):
            what = (
                f"column {header[len(row)].strip()!r} and after are missing"
                if len(row) < len(header)
                else f"{len(row) - len(header)} field(s) after the last column"
            )
            raise DataError(
                f"{name}: line {line} has {len(row)} fields but the header has "
                f"{len(header)} ({what})"
            )
        for k, cell in enumerate(row):
            if _has_control(cell.replace("\t", " ")):
                raise DataError(
                    f"{name}: line {line}, column {header[k].strip()!r} holds a control "
                    "character (a line break or escape inside a quoted cell)"
                )


def parse_csv(content: bytes, filename: str = "upload.csv") -> UploadedTable:
    """Read uploaded CSV bytes with handgrad's CSV reader; DataError for anything unusable.

    The bytes are always read as CSV text (whatever the name says: no Parquet, Excel or
    compressed file can be decoded into more than the limits allow).
    """
    name = safe_filename(filename)
    if len(content) > MAX_UPLOAD_BYTES:
        raise DataError(f"the file is larger than the {MAX_UPLOAD_BYTES // 1000} kB upload limit")
    if b"\x00" in content:
        raise DataError(f"{name} is not a text table (it holds binary data)")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = content.decode("cp1252", errors="replace")
    check_rows(text, name)
    with tempfile.TemporaryDirectory(prefix="handgrad-upload-") as tmp:
        path = Path(tmp) / "upload.csv"
        path.write_bytes(content)
        try:
            frame = read_table(path)
        except DataError as exc:
            raise DataError(str(exc).replace(str(path), name)) from None
    table = UploadedTable(name, [str(c) for c in frame.columns], frame)
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
    """Features encoded as ``handgrad train`` encodes them, and the target.

    The columns go through ``handgrad.tabular``: rows with no target are left out; numeric
    columns get their missing cells filled with the training median and are standardized;
    text and true/false columns are one-hot encoded (a missing cell is its own category).
    ``plane``: the two feature columns drawn on the plane when both are numeric (otherwise
    the first two encoded inputs); None when there is one encoded input (a curve is drawn).
    """
    if target in features:
        raise DataError(f"the target column {target!r} cannot also be a feature")
    if not features:
        raise DataError("choose at least one feature column")
    table = dataset_from_frame(upload.frame, target, features, [], upload.filename)
    task, _ = infer_task(table.target)
    if task == "classification":
        y, classes = encode_labels(table.target, target)
        if len(classes) > 10:
            raise DataError(f"target {target!r} has {len(classes)} classes; at most 10 here")
    else:
        y, classes = np.array([float(c) for c in table.target]), None
    train, test = split(len(y), test_fraction, seed)
    preprocessor = TablePreprocessor.fit(table.frame.iloc[train], table.kinds)
    X, _ = preprocessor.transform(table.frame, upload.filename)
    names = preprocessor.output_names
    data = Dataset(X, y, task, names, target, classes, train, test)
    data.preprocessor = preprocessor
    if plane is not None and all(p in names for p in plane):
        data.plane = (names.index(plane[0]), names.index(plane[1]))
    return data
