"""Chapter 9's exercise: the confusion matrix a classifier's mistakes are read from."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..metrics import confusion_matrix
from ._common import call_probe, ns, rng
from .catalogue import BugModel, Case, Exercise, register


def _labels(case: Case) -> tuple[np.ndarray, np.ndarray, int]:
    return case.inputs["y_true"], case.inputs["y_pred"], case.inputs["n_classes"]


def _transposed_counts(case: Case) -> dict[str, Any]:
    """Rows the predicted class, columns the true one (the matrix turned over)."""
    y_true, y_pred, n = _labels(case)
    return {"counts": confusion_matrix(y_pred, y_true, n)}


def _size_from_labels(distinct: bool):
    """The size taken from the labels this batch holds: the largest label + 1, or (with
    ``distinct``) the number of distinct labels, each mapped to its rank among them."""

    def outputs(case: Case) -> dict[str, Any]:
        y_true, y_pred, _ = _labels(case)
        seen = np.concatenate([y_true, y_pred])
        if not distinct:
            return {"counts": confusion_matrix(y_true, y_pred, int(seen.max()) + 1)}
        labels = np.unique(seen)
        rank = {int(c): i for i, c in enumerate(labels)}
        t = np.array([rank[int(c)] for c in y_true])
        p = np.array([rank[int(c)] for c in y_pred])
        return {"counts": confusion_matrix(t, p, len(labels))}

    return outputs


def _normalized(axis: int | None, empty: float):
    """Fractions where counts are asked: each row (axis 1), each column (axis 0) or the whole
    matrix (None) divided by its sum; ``empty`` is what a row with no sample gets (0 / 0)."""

    def outputs(case: Case) -> dict[str, Any]:
        counts = confusion_matrix(*_labels(case)).astype(np.float64)
        total = counts.sum() if axis is None else counts.sum(axis=axis, keepdims=True)
        with np.errstate(invalid="ignore", divide="ignore"):
            fractions = counts / total
        return {"counts": np.where(np.isnan(fractions), empty, fractions)}

    return outputs


def _each_pair_once(case: Case) -> dict[str, Any]:
    """counts[y_true, y_pred] += 1: NumPy adds 1 once per distinct pair, however often it
    repeats."""
    y_true, y_pred, n = _labels(case)
    counts = np.zeros((n, n), dtype=np.int64)
    counts[y_true, y_pred] += 1
    return {"counts": counts}


def _confusion_cases() -> list[Case]:
    cases = [
        Case(
            "worked example: 6 samples, 3 classes",
            {
                "y_true": np.array([0, 0, 1, 2, 2, 2]),
                "y_pred": np.array([0, 1, 1, 2, 0, 2]),
                "n_classes": 3,
            },
            frozenset({"worked"}),
            batch=6,
        ),
        Case(
            "class 3 of 4 absent from this batch",
            {
                "y_true": np.array([0, 1, 2, 1, 0, 2, 2, 1]),
                "y_pred": np.array([0, 1, 1, 1, 2, 2, 2, 0]),
                "n_classes": 4,
            },
            batch=8,
        ),
        Case(
            "class 2 of 5 never true and never predicted",
            {
                "y_true": np.array([0, 1, 3, 4, 4, 3, 1, 0, 4]),
                "y_pred": np.array([0, 3, 3, 4, 1, 3, 1, 4, 4]),
                "n_classes": 5,
            },
            batch=9,
        ),
    ]
    # ten digits, 300 samples, about 80 % right and the mistakes not symmetric
    y_true = rng(91).integers(0, 10, 300)
    wrong = rng(92).random(300) < 0.2
    y_pred = np.where(wrong, (y_true + rng(93).integers(1, 4, 300)) % 10, y_true)
    cases.append(
        Case(
            "ten classes, 300 samples",
            {"y_true": y_true, "y_pred": y_pred, "n_classes": 10},
            batch=300,
        )
    )
    return cases


register(
    Exercise(
        name="confusion_matrix",
        chapter=9,
        title="The confusion matrix",
        entries=("confusion_matrix",),
        contract=(
            "confusion_matrix(y_true, y_pred, n_classes): counts C of shape\n"
            "(n_classes, n_classes), an integer array: C[i, j] is the number of samples of\n"
            "true class i that were predicted as class j (rows: the truth, columns: the\n"
            "prediction). y_true and y_pred are integer labels (N,) in 0 .. n_classes - 1;\n"
            "a class may be missing from both."
        ),
        stub="def confusion_matrix(y_true, y_pred, n_classes):\n    raise NotImplementedError\n",
        cases=_confusion_cases,
        probe=call_probe("confusion_matrix", ("y_true", "y_pred", "n_classes"), "counts"),
        reference=ns(confusion_matrix=confusion_matrix),
        bug_models=(
            BugModel("transpose", "rows the prediction, columns the truth", _transposed_counts),
            BugModel(
                "labels-seen", "the size from the largest label seen", _size_from_labels(False)
            ),
            BugModel(
                "labels-seen", "the size from the distinct labels seen", _size_from_labels(True)
            ),
            BugModel(
                "normalized", "each row divided by its sum, 0 / 0 = NaN", _normalized(1, np.nan)
            ),
            BugModel("normalized", "each row divided by its sum, 0 / 0 = 0", _normalized(1, 0.0)),
            BugModel("normalized", "each column divided by its sum", _normalized(0, np.nan)),
            BugModel(
                "normalized", "each column divided by its sum, 0 for none", _normalized(0, 0.0)
            ),
            BugModel("normalized", "the whole matrix divided by N", _normalized(None, np.nan)),
            BugModel("repeated-index", "counts[y_true, y_pred] += 1", _each_pair_once),
        ),
        doc="confusion-matrix",
    )
)
