"""The way back from a saved model: raw table rows -> labels (with probabilities) or values.

A model written by ``handgrad train`` is ``model.npz``: the network's arrays plus JSON
metadata holding the fitted preprocessing (``TablePreprocessor.to_dict``), the classes or
the target's standardizer. Nothing in it is pickled; applying it needs NumPy and pandas only.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from ..data.preprocessing import Standardizer
from ..data.tabular import DataError
from ..metrics import probabilities
from ..nn._checks import NonFiniteError
from ..nn.layers import Linear, Sequential
from ..nn.serialization import load_with_metadata, save
from ..train import predict_outputs
from .encode import EncodeNotes, TablePreprocessor

__all__ = ["Predictor", "MODEL_KIND"]

MODEL_KIND = "handgrad-train"  # metadata marker: a model written by ``handgrad train``


class Predictor:
    """A trained network with its preprocessing.

    model: outputs logits (N, C), one logit (N, 1) for two classes, or (N, 1) standardized
    values for regression; preprocessor: raw feature columns -> the network's input (N, D).
    """

    def __init__(
        self,
        model: Sequential,
        task: str,
        preprocessor: TablePreprocessor,
        classes: list[str] | None = None,
        target_name: str = "target",
        target_scaler: Standardizer | None = None,
    ):
        self.model, self.task, self.preprocessor = model, task, preprocessor
        self.classes, self.target_name, self.target_scaler = classes, target_name, target_scaler

    @property
    def feature_names(self) -> list[str]:
        return self.preprocessor.feature_names

    # --- file ---------------------------------------------------------------------------------

    def metadata(self) -> dict:
        """The JSON-ready preprocessing stored beside the weights in model.npz."""
        meta: dict = {
            "kind": MODEL_KIND,
            "task": self.task,
            "feature_names": self.feature_names,
            "target": self.target_name,
            "preprocessing": self.preprocessor.to_dict(),
        }
        if self.task == "classification":
            assert self.classes is not None
            meta["classes"] = self.classes
            meta["output"] = "sigmoid" if len(self.classes) == 2 else "softmax"
        else:
            assert self.target_scaler is not None
            meta["target_standardizer"] = self.target_scaler.to_dict()
            meta["output"] = "identity"
        return meta

    def save(self, path: str | Path) -> Path:
        return save(self.model, path, metadata=self.metadata())

    @classmethod
    def load(cls, path: str | Path) -> Predictor:
        """Read a model.npz written by ``handgrad train``; DataError for anything else."""
        path = Path(path)
        if not path.exists():
            raise DataError(f"model file not found: {path}")
        if path.is_dir():
            raise DataError(f"{path} is a directory, not a model file")
        try:
            model, meta = load_with_metadata(path)
        except ValueError as exc:
            raise DataError(f"{exc}") from None
        if not isinstance(meta, dict) or meta.get("kind") != MODEL_KIND:
            raise DataError(
                f"{path} is a handgrad model without preprocessing metadata "
                "(it was not written by `handgrad train`)"
            )
        try:
            task = meta["task"]
            if task not in ("classification", "regression"):
                raise ValueError(f"unknown task {task!r}")
            preprocessor = _preprocessor_from(meta)
            target_scaler = None
            classes = None
            if task == "regression":
                target_scaler = Standardizer.from_dict(meta["target_standardizer"])
            else:
                classes = _classes_from(meta["classes"], _output_width(model))
            predictor = cls(
                model,
                task,
                preprocessor,
                classes,
                str(meta.get("target", "target")),
                target_scaler,
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise DataError(f"{path}: damaged preprocessing metadata ({exc!r})") from None
        if model.in_features != len(preprocessor.output_names):
            raise DataError(f"{path}: the model and its preprocessing disagree in width")
        return predictor

    # --- predicting ---------------------------------------------------------------------------

    def encode(
        self, frame: pd.DataFrame, source: str = "the table"
    ) -> tuple[np.ndarray, EncodeNotes]:
        """Raw rows (any column order; extra columns ignored) -> (network input (N, D), notes)."""
        return self.preprocessor.transform(frame, source)

    def outputs(self, X: np.ndarray) -> np.ndarray:
        """Network outputs for encoded rows X (N, D); NaN rows where the network overflows."""
        with np.errstate(over="ignore", invalid="ignore"):
            try:
                return predict_outputs(self.model, X)
            except NonFiniteError:  # a diverged network: inf inside a hidden layer
                width = 1 if self.classes is None or len(self.classes) == 2 else len(self.classes)
                return np.full((X.shape[0], width), np.nan)

    def codes_from_outputs(self, outputs: np.ndarray) -> np.ndarray:
        if outputs.shape[1] == 1:
            return (outputs[:, 0] > 0).astype(np.int64)  # sigmoid(z) > 1/2
        return np.argmax(outputs, axis=1)

    def values_from_outputs(self, outputs: np.ndarray) -> np.ndarray:
        assert self.target_scaler is not None
        with np.errstate(over="ignore", invalid="ignore"):
            return self.target_scaler.inverse_transform(outputs).ravel()

    def predict(self, X: np.ndarray) -> tuple[list[str] | np.ndarray, np.ndarray | None]:
        """Encoded rows -> (labels as text, probabilities (N, C)) or (values (N,), None)."""
        outputs = self.outputs(X)
        if not np.isfinite(outputs).all():
            raise DataError(
                "the model gives non-finite outputs for these rows (did its training diverge?)"
            )
        if self.task == "classification":
            assert self.classes is not None
            codes = self.codes_from_outputs(outputs)
            return [self.classes[c] for c in codes], probabilities(outputs)
        return self.values_from_outputs(outputs), None

    def predict_frame(self, frame: pd.DataFrame, source: str = "the table"):
        """Raw rows -> (labels or values, probabilities or None, notes)."""
        X, notes = self.encode(frame, source)
        labels, probs = self.predict(X)
        return labels, probs, notes


def _preprocessor_from(meta: dict) -> TablePreprocessor:
    """The stored preprocessing; a model from before categorical support had a standardizer
    over numeric columns only (and refused missing values): read it as that."""
    if "preprocessing" in meta:
        return TablePreprocessor.from_dict(meta["preprocessing"])
    names = [str(n) for n in meta["feature_names"]]
    old = Standardizer.from_dict(meta["standardizer"])
    assert old.mean_ is not None and old.scale_ is not None
    if len(names) != len(old.mean_):
        raise ValueError("feature names and standardizer disagree in length")
    columns = [
        {"name": n, "kind": "numeric", "fill": None, "indicator": False, "mean": m, "scale": s}
        for n, m, s in zip(names, old.mean_.tolist(), old.scale_.tolist())
    ]
    return TablePreprocessor.from_dict({"format": 1, "columns": columns})


def _output_width(model) -> int | None:
    """The width of the last Linear layer (the network's output), None if there is none."""
    linears = [m for m in getattr(model, "layers", []) if isinstance(m, Linear)]
    return linears[-1].out_features if linears else None


def _classes_from(saved, width: int | None) -> list[str]:
    """The stored class names, checked against the network they label: a list of two or more
    distinct names, as many as the outputs (one logit for two classes)."""
    if not isinstance(saved, list) or len(saved) < 2:
        raise ValueError("classes must be a list of at least two names")
    if not all(isinstance(c, (str, int, float)) and not isinstance(c, bool) for c in saved):
        raise ValueError("classes must be names (text or numbers)")
    classes = [str(c) for c in saved]
    if len(set(classes)) != len(classes):
        raise ValueError("classes must be distinct")
    expected = 1 if len(classes) == 2 else len(classes)
    if width != expected:
        raise ValueError(f"{len(classes)} classes need {expected} outputs; the network has {width}")
    return classes
