"""The fitted preprocessing: equal to scikit-learn's transformers, stored and applied as JSON."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from handgrad.data.preprocessing import Standardizer
from handgrad.tabular import DataError, TablePreprocessor

KINDS = {"age": "numeric", "fare": "numeric", "port": "categorical", "vip": "boolean"}


def table(seed: int = 0, n: int = 120) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.normal(35, 12, n)
    age[rng.random(n) < 0.2] = np.nan
    port = rng.choice(["S", "C", "Q", "X"], size=n, p=[0.6, 0.25, 0.12, 0.03]).astype(object)
    port[rng.random(n) < 0.1] = None
    return pd.DataFrame(
        {
            "age": age,
            "fare": np.exp(rng.normal(3, 1, n)),
            "port": port,
            "vip": rng.random(n) < 0.3,
            "unused": np.arange(n),
        }
    )


def sklearn_reference(train: pd.DataFrame, other: pd.DataFrame, rare_min: int) -> np.ndarray:
    """The same preprocessing written as a scikit-learn ColumnTransformer."""
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    def texts(frame):
        return (
            frame[["port", "vip"]]
            .astype(object)
            .where(frame[["port", "vip"]].notna(), "(missing)")
            .astype(str)
        )

    numeric = make_pipeline(SimpleImputer(strategy="median", add_indicator=True), StandardScaler())
    ct = ColumnTransformer([("num", numeric, ["age", "fare"])])
    onehot = OneHotEncoder(handle_unknown="ignore", min_frequency=rare_min, sparse_output=False)
    onehot.fit(texts(train))
    ct.fit(train)
    num = ct.transform(other)
    # scikit-learn standardizes its indicator column too; ours stays 0/1: undo that
    indicator = other["age"].isna().to_numpy(float)
    return np.column_stack([num[:, 0], indicator, num[:, 1], onehot.transform(texts(other))]), num


def test_matches_scikit_learn_and_survives_json(tmp_path):
    train, other = table(0), table(1)
    other.loc[3, "port"] = "Z"  # never seen in training
    pre = TablePreprocessor.fit(train, KINDS, missing_indicator=True, rare_min=7)
    payload = json.loads(json.dumps(pre.to_dict()))  # through JSON text, as in model.npz
    restored = TablePreprocessor.from_dict(payload)
    expected, _ = sklearn_reference(train, other, rare_min=7)
    for p in (pre, restored):
        X, notes = p.transform(other.iloc[:, ::-1])  # any column order
        np.testing.assert_allclose(X, expected, rtol=1e-12, atol=1e-12)
        assert notes.unseen == {"port": ["Z"]}
        assert notes.extra_columns == ["unused"]
    assert pre.output_names == [
        "age", "age (was missing)", "fare", "port=(missing)", "port=C", "port=Q", "port=S",
        "port=(rare)", "vip=False", "vip=True",
    ]  # fmt: skip
    port = pre.columns[2]
    assert port["rare"] == ["X"]  # 6 of 120 training rows: fewer than 7
    X, _ = pre.transform(other)
    assert X[3, 3:8].tolist() == [0, 0, 0, 0, 0]  # the unseen 'Z': all zeros


def test_unseen_category_note_and_missing_columns_named():
    pre = TablePreprocessor.fit(table(0), KINDS)
    with pytest.raises(
        DataError, match=r"new.csv lacks 2 of the model's feature column\(s\): 'fare', 'vip'"
    ):
        pre.transform(table(1)[["age", "port"]], "new.csv")
    lines = pre.transform(table(1).assign(port="Atlantis"))[1].lines()
    assert lines[1].startswith("warning: column 'port' has value(s) never seen in training")
    assert "'Atlantis'" in lines[1]


def test_every_bad_numeric_column_is_named_at_once():
    pre = TablePreprocessor.fit(table(0), KINDS)
    bad = table(1).astype({"age": object, "fare": object})
    bad.loc[4, "age"] = "forty"
    bad.loc[7, "fare"] = "free"
    with pytest.raises(DataError) as err:
        pre.transform(bad, "rows.csv")
    message = str(err.value)
    assert "numeric column 'age' holds text in 1 row(s) (first at row 4: 'forty')" in message
    assert "numeric column 'fare' holds text in 1 row(s) (first at row 7: 'free')" in message


def test_fit_names_every_infinite_column():
    frame = table(0)
    frame.loc[2, "age"] = np.inf
    frame.loc[5, "fare"] = -np.inf
    with pytest.raises(DataError) as err:
        TablePreprocessor.fit(frame, KINDS)
    assert "column 'age' holds 1 infinite value(s) (first at row 2)" in str(err.value)
    assert "column 'fare' holds 1 infinite value(s) (first at row 5)" in str(err.value)


def test_mean_imputation_and_damaged_json():
    frame = table(0)
    pre = TablePreprocessor.fit(frame, {"age": "numeric"}, impute="mean")
    assert pre.columns[0]["fill"] == pytest.approx(np.nanmean(frame["age"]), rel=1e-12)
    for bad in (
        {"format": 99, "columns": []},
        {"format": 1, "columns": []},
        {"format": 1, "columns": [{"name": "a", "kind": "numeric", "mean": 0.0, "scale": 0.0}]},
        {"format": 1, "columns": [{"name": "a", "kind": "vector"}]},
        {"format": 1, "columns": [{"name": "a", "kind": "categorical", "categories": [1]}]},
    ):
        with pytest.raises(ValueError):
            TablePreprocessor.from_dict(bad)


@pytest.mark.parametrize("scale", [1.0, 1e160, 1e-300, 1e300])
def test_standardizer_keeps_features_at_any_finite_scale(scale):
    """Scale before squaring: z-scores do not depend on the unit (issue 9)."""
    X = np.random.default_rng(3).normal(2.0, 0.5, size=(200, 3))
    reference = (X - X.mean(axis=0)) / X.std(axis=0)
    Z = Standardizer().fit_transform(X * scale)
    np.testing.assert_allclose(Z, reference, rtol=1e-9, atol=1e-9)


def test_standardizer_near_the_float_limit():
    X = np.array([[1.7e308], [-1.7e308], [1.0e308], [0.0]])
    s = Standardizer().fit(X)
    Z = s.transform(X)
    assert np.isfinite(Z).all()
    reference = (X / 1e300 - (X / 1e300).mean()) / (X / 1e300).std()
    np.testing.assert_allclose(Z, reference, rtol=1e-12)
