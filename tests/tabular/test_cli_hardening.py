"""Issue 9's command-line cases: each used to end in a traceback."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import handgrad as hg
from handgrad.tabular import DataError, Predictor


@pytest.fixture(scope="module")
def blobs_csv(tmp_path_factory):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 2))
    frame = pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "y": np.where(x.sum(axis=1) > 0, 1, 0)})
    folder = tmp_path_factory.mktemp("blobs")
    frame.to_csv(folder / "unit.csv", index=False)
    huge = frame.assign(a=frame.a * 1e307, b=frame.b * 1e307)  # near the float64 limit
    huge.to_csv(folder / "huge.csv", index=False)
    return folder


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--seed", "-1"], "argument --seed: expected an integer >= 0, got '-1'"),
        (["--hidden", "100000,100000"], "makes a network of at least 10,000,400,001 parameters"),
        (
            ["--optimizer", "sgd", "--lr", "1e300"],
            "argument --lr: expected a finite number in (0, 1000], got '1e300'",
        ),
        (["--lr", "nan"], "argument --lr: expected a finite number in (0, 1000], got 'nan'"),
    ],
)
def test_refused_in_one_line(blobs_csv, cli_here, user_error, tmp_path, args, fragment):
    out = tmp_path / "never"
    user_error(
        cli_here("train", "--data", blobs_csv / "unit.csv", "--target", "y", *args, "--out", out),
        fragment,
    )
    assert not out.exists()


@pytest.mark.slow
def test_no_validation_part_and_features_near_the_float_limit(blobs_csv, cli_here, tmp_path):
    scores = {}
    for name in ("unit", "huge"):
        out = tmp_path / name
        proc = cli_here(
            "train", "--data", blobs_csv / f"{name}.csv", "--target", "y", "--val-fraction", "0",
            "--hidden", "8", "--epochs", "40", "--out", out, "--quiet",
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        metrics = json.loads((out / "metrics.json").read_text())
        assert "val" not in metrics and metrics["epochs_run"] == 40
        scores[name] = metrics["test"]["accuracy"]
    assert scores["unit"] > 0.9
    assert abs(scores["huge"] - scores["unit"]) <= 0.025


def test_a_model_from_before_categorical_support_still_predicts(tmp_path):
    """model.npz files whose metadata holds only a standardizer (numeric columns)."""
    model = hg.mlp([2, 3, 1], seed=0)
    meta = {
        "kind": "handgrad-train",
        "task": "classification",
        "feature_names": ["a", "b"],
        "target": "y",
        "standardizer": {"mean": [1.0, 2.0], "scale": [2.0, 4.0]},
        "classes": ["no", "yes"],
        "output": "sigmoid",
    }
    hg.save(model, tmp_path / "old.npz", metadata=meta)
    predictor = Predictor.load(tmp_path / "old.npz")
    rows = pd.DataFrame({"b": [2.0, 6.0], "a": [1.0, 5.0]})
    labels, probs, _ = predictor.predict_frame(rows)
    z = model.forward(np.array([[0.0, 0.0], [2.0, 1.0]]))[:, 0]
    np.testing.assert_allclose(probs[:, 1], 1 / (1 + np.exp(-z)), rtol=1e-12)
    assert labels == [("yes" if v > 0 else "no") for v in z]
    with pytest.raises(DataError, match="column 'a' has 1 missing value"):
        predictor.predict_frame(pd.DataFrame({"a": [np.nan], "b": [1.0]}))


def test_damaged_preprocessing_is_refused(tmp_path):
    model = hg.mlp([2, 3, 1], seed=0)
    for bad in ({"format": 1, "columns": "x"}, {"format": 7, "columns": []}):
        meta = {
            "kind": "handgrad-train",
            "task": "regression",
            "preprocessing": bad,
            "feature_names": ["a"],
            "target_standardizer": {"mean": [0.0], "scale": [1.0]},
        }
        hg.save(model, tmp_path / "bad.npz", metadata=meta)
        with pytest.raises(DataError, match="damaged preprocessing metadata"):
            Predictor.load(tmp_path / "bad.npz")


@pytest.mark.parametrize(
    "classes, width",
    [
        ("yes", 1),  # a string, not a list: iterating it would make three one-letter classes
        (["only"], 1),  # one class
        (["a", "a"], 1),  # not distinct
        (["a", ["b"]], 1),  # not a name
        (["a", "b", "c"], 1),  # three classes on one logit: labels out of range
        (["a", "b"], 3),  # two classes on three logits: short rows of probabilities
    ],
)
def test_crafted_classes_are_refused_when_loaded(tmp_path, classes, width):
    model = hg.mlp([2, 3, width], seed=0)
    meta = {
        "kind": "handgrad-train",
        "task": "classification",
        "feature_names": ["a", "b"],
        "target": "y",
        "standardizer": {"mean": [0.0, 0.0], "scale": [1.0, 1.0]},
        "classes": classes,
    }
    hg.save(model, tmp_path / "crafted.npz", metadata=meta)
    with pytest.raises(DataError, match="damaged preprocessing metadata.*classes"):
        Predictor.load(tmp_path / "crafted.npz")
