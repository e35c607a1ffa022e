"""Real tables through the command line: penguins as shipped, a Titanic-style passenger list.

Train, compare with scikit-learn's MLPClassifier on the same split, predict the held-out rows
and recompute the reported test score from the files the run wrote.
"""

from __future__ import annotations

import hashlib
import json
import warnings

import numpy as np
import pandas as pd
import pytest


def sklearn_mlp_accuracy(csv_path, target: str, run_dir, features: list[str]) -> float:
    """scikit-learn's MLPClassifier with the same preprocessing, trained on the run's training
    rows (splits.csv) and scored on its test rows."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    table = pd.read_csv(csv_path)
    split = pd.read_csv(run_dir / "splits.csv")
    train = table.iloc[split.row[split.part == "train"]]
    test = table.iloc[split.row[split.part == "test"]]
    numeric = [c for c in features if pd.api.types.is_numeric_dtype(table[c])]
    text = [c for c in features if c not in numeric]
    prep = ColumnTransformer(
        [
            ("num", make_pipeline(SimpleImputer(strategy="median"), StandardScaler()), numeric),
            (
                "cat",
                make_pipeline(
                    SimpleImputer(strategy="constant", fill_value="(missing)"),
                    OneHotEncoder(handle_unknown="ignore", min_frequency=5),
                ),
                text,
            ),
        ]
    )
    model = make_pipeline(prep, MLPClassifier((64, 32), max_iter=300, random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.fit(train[features], train[target].astype(str))
    return float(np.mean(model.predict(test[features]) == test[target].astype(str)))


@pytest.mark.slow
def test_penguins_as_shipped(penguins_csv, cli, tmp_path):
    out = tmp_path / "penguins"
    proc = cli("train", "--data", penguins_csv, "--target", "species", "--out", out)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["column", "kind", "missing", "what", "is", "done"]
    assert lines[2].split()[:3] == ["island", "categorical", "0"]
    assert lines[7].split()[:4] == ["sex", "categorical", "11", "one-hot,"]
    metrics = json.loads((out / "metrics.json").read_text())
    config = json.loads((out / "config.json").read_text())
    assert config["features"] == [
        "island", "bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g", "sex",
        "year",
    ]  # fmt: skip
    handgrad_acc = metrics["test"]["accuracy"]
    sklearn_acc = sklearn_mlp_accuracy(penguins_csv, "species", out, config["features"])
    assert handgrad_acc >= 0.95 and sklearn_acc >= 0.95
    assert abs(handgrad_acc - sklearn_acc) <= 0.03, (handgrad_acc, sklearn_acc)
    assert metrics["baseline"]["accuracy"] < 0.5
    assert metrics["linear_model"]["accuracy"] >= 0.95

    # the report names the file, its size and hash, and shows the columns and the references
    report = (out / "report.md").read_text()
    data = penguins_csv.read_bytes()
    assert report.startswith("# penguins.csv: train your own network")
    assert f"{len(data):,} bytes, SHA-256 `{hashlib.sha256(data).hexdigest()}`" in report
    assert (
        "| `sex` | categorical | 11 | one-hot, 2 values (+ 'missing' as a category: 11 rows) |"
        in report
    )
    assert (
        f"| logistic regression on test | 69 | | {metrics['linear_model']['accuracy']:.4f} |"
        in report
    )
    assert (out / "report.html").read_text().count("<img") == 3

    # recompute the test score: predict the held-out rows from the original file
    split = pd.read_csv(out / "splits.csv")
    test_rows = split.row[split.part == "test"].to_numpy()
    assert len(test_rows) == metrics["test"]["n"] == 69
    table = pd.read_csv(penguins_csv)
    held_out = tmp_path / "held_out.csv"
    table.iloc[test_rows].to_csv(held_out, index=False)
    pred = cli("predict", "--model", out / "model.npz", "--data", held_out)
    assert pred.returncode == 0, pred.stderr
    assert pred.stderr.strip() == "note: ignored column(s) the model does not use: 'species'"
    predicted = pd.read_csv(pd.io.common.StringIO(pred.stdout))
    truth = table.species.iloc[test_rows].to_numpy()
    assert np.mean(predicted.prediction.to_numpy() == truth) == handgrad_acc
    written = pd.read_csv(out / "test_predictions.csv")
    np.testing.assert_array_equal(written.row, test_rows)
    np.testing.assert_array_equal(written.prediction, predicted.prediction)
    np.testing.assert_allclose(
        written[["p_Adelie", "p_Chinstrap", "p_Gentoo"]], predicted.iloc[:, 1:], rtol=1e-12
    )
    assert np.mean(written.true == written.prediction) == handgrad_acc


@pytest.mark.slow
def test_predict_with_reordered_extra_missing_columns_and_unseen_category(
    penguins_csv, cli, user_error, tmp_path
):
    out = tmp_path / "run"
    proc = cli(
        "train",
        "--data",
        penguins_csv,
        "--target",
        "species",
        "--hidden",
        "8",
        "--epochs",
        "20",
        "--out",
        out,
        "--quiet",
    )
    assert proc.returncode == 0, proc.stderr
    table = pd.read_csv(penguins_csv).head(6)
    shuffled = table[
        [
            "year",
            "sex",
            "body_mass_g",
            "island",
            "flipper_length_mm",
            "bill_depth_mm",
            "bill_length_mm",
        ]
    ].copy()
    shuffled["notes"] = "extra"
    shuffled.loc[0, "island"] = "Atlantis"
    path = tmp_path / "new.csv"
    shuffled.to_csv(path, index=False, sep=";")
    pred = cli("predict", "--model", out / "model.npz", "--data", path)
    assert pred.returncode == 0, pred.stderr
    notes = pred.stderr.strip().splitlines()
    assert notes[0] == "note: ignored column(s) the model does not use: 'notes'"
    assert notes[1].startswith("warning: column 'island' has value(s) never seen in training")
    assert "'Atlantis'" in notes[1]
    rows = pd.read_csv(pd.io.common.StringIO(pred.stdout))
    assert len(rows) == 6 and set(rows.prediction) <= {"Adelie", "Chinstrap", "Gentoo"}
    np.testing.assert_allclose(rows.iloc[:, 1:].sum(axis=1), 1.0)

    shuffled.drop(columns=["sex", "bill_depth_mm"]).to_csv(path, index=False)
    user_error(
        cli("predict", "--model", out / "model.npz", "--data", path),
        "lacks 2 of the model's feature column(s): 'bill_depth_mm', 'sex'",
    )


@pytest.mark.slow
def test_titanic_style_table(titanic_csv, cli, tmp_path):
    out = tmp_path / "titanic"
    proc = cli("train", "--data", titanic_csv, "--target", "Survived", "--out", out, "--seed", "1")
    assert proc.returncode == 0, proc.stderr
    table_lines = {line.split()[0]: line for line in proc.stdout.splitlines()[:13]}
    assert "identifier" in table_lines["PassengerId"] and "left out" in table_lines["PassengerId"]
    assert "identifier" in table_lines["Name"]
    assert "numeric" in table_lines["Age"] and "fill" in table_lines["Age"]
    metrics = json.loads((out / "metrics.json").read_text())
    config = json.loads((out / "config.json").read_text())
    acc = metrics["test"]["accuracy"]
    sk = sklearn_mlp_accuracy(titanic_csv, "Survived", out, config["features"])
    assert acc > metrics["baseline"]["accuracy"] + 0.1
    assert abs(acc - sk) <= 0.05, (acc, sk)
    written = pd.read_csv(out / "test_predictions.csv")
    assert np.mean(written.true == written.prediction) == acc


@pytest.mark.slow
def test_every_kind_of_column_with_missing_values(cli, tmp_path):
    rng = np.random.default_rng(0)
    n = 240
    x = rng.normal(size=n)
    frame = pd.DataFrame(
        {
            "row_id": np.arange(n),
            "x": x,
            "count": rng.integers(0, 5, n).astype(float),
            "color": rng.choice(["red", "green", "blue", "teal"], n, p=[0.4, 0.3, 0.28, 0.02]),
            "member": rng.choice([True, False], n).astype(object),
            "constant": "same",
            "y": np.where(x + 0.8 * (rng.random(n) > 0.5) > 0.4, "up", "down"),
        }
    )
    for column in ("x", "count", "color", "member"):
        frame.loc[rng.choice(n, 12, replace=False), column] = None
    path = tmp_path / "kinds.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "run"
    proc = cli(
        "train",
        "--data",
        path,
        "--target",
        "y",
        "--missing-indicator",
        "--epochs",
        "20",
        "--out",
        out,
    )
    assert proc.returncode == 0, proc.stderr
    kinds = {line.split()[0]: line.split()[1] for line in proc.stdout.splitlines()[1:8]}
    assert kinds == {
        "row_id": "identifier", "x": "numeric", "count": "numeric", "color": "categorical",
        "member": "boolean", "constant": "constant", "y": "categorical",
    }  # fmt: skip
    config = json.loads((out / "config.json").read_text())
    assert config["encoded_features"] == [
        "x", "x (was missing)", "count", "count (was missing)", "color=(missing)", "color=blue",
        "color=green", "color=red", "color=(rare)", "member=(missing)", "member=False",
        "member=True",
    ]  # fmt: skip
