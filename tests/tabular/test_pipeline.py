"""train_model on loaded tables: the checks before training, the scores, and hard numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from handgrad.tabular import ConfigError, DataError, TrainConfig, load_dataset, train_model
from handgrad.tabular.dataset import dataset_from_frame

FAST = {"hidden": (16,), "epochs": 30, "batch_size": 32}


def frame_dataset(frame: pd.DataFrame, target: str, **kw):
    return dataset_from_frame(frame, target, kw.get("features"), kw.get("ignore", []), "t.csv")


def blobs(n: int = 300, seed: int = 0, scale: float = 1.0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 2))
    y = np.where(X[:, 0] + 0.5 * X[:, 1] > 0, "yes", "no")
    return pd.DataFrame({"a": X[:, 0] * scale, "b": X[:, 1] * scale, "y": y})


def test_train_without_a_run_folder(tmp_path, monkeypatch):
    """The interface ``handgrad sweep`` builds on: out_dir=None writes nothing."""
    monkeypatch.chdir(tmp_path)
    run = train_model(frame_dataset(blobs(), "y"), TrainConfig(**FAST), None)
    assert run.out_dir is None and run.files == []
    assert list(tmp_path.iterdir()) == []
    assert run.metrics["test"]["accuracy"] > 0.9
    assert run.history.epochs == 30 and len(run.history.epoch_loss) == 30
    assert run.split == {"train": 180, "val": 60, "test": 60}
    rows = np.sort(np.concatenate(list(run.rows.values())))
    np.testing.assert_array_equal(rows, np.arange(300))  # every row in exactly one part


def test_titanic_style_table_trains_and_beats_the_baseline(titanic_csv):
    dataset = load_dataset(str(titanic_csv), "Survived")
    kinds = {c.name: (c.kind, c.use) for c in dataset.columns}
    assert kinds["PassengerId"] == ("identifier", False)
    assert kinds["Name"] == ("identifier", False)
    assert kinds["Age"] == ("numeric", True)
    assert kinds["Sex"] == ("categorical", True)
    assert kinds["Cabin"] == ("categorical", True)  # mostly missing, many rare values
    run = train_model(dataset, TrainConfig(hidden=(16,), epochs=60, seed=1), None)
    test = run.metrics["test"]["accuracy"]
    assert test > run.metrics["baseline"]["accuracy"] + 0.1
    assert abs(test - run.metrics["linear_model"]["accuracy"]) < 0.08
    assert "Cabin=(rare)" in run.input_names and "Cabin=(missing)" in run.input_names


def test_rows_with_a_missing_target_are_left_out_with_a_note():
    frame = blobs(60)
    frame.loc[[3, 10], "y"] = None
    dataset = frame_dataset(frame, "y")
    assert dataset.notes == ["2 row(s) with no 'y' value were left out"]
    assert 3 not in dataset.rows and 10 not in dataset.rows and len(dataset.rows) == 58


def test_drop_missing_drops_rows_instead_of_filling():
    frame = blobs(100)
    frame.loc[[1, 2, 3], "a"] = np.nan
    run = train_model(frame_dataset(frame, "y"), TrainConfig(drop_missing=True, **FAST), None)
    assert sum(run.split.values()) == 97
    assert run.notes == ["--drop-missing left out 3 row(s) with a missing value"]
    assert not set(np.concatenate(list(run.rows.values()))) & {1, 2, 3}


@pytest.mark.parametrize(
    "frame, target, config, message",
    [
        (blobs(), "label", {}, "target column 'label' does not exist"),
        (blobs().assign(y="same"), "y", {}, "single class ('same')"),
        (blobs(3), "y", {}, "3 usable row(s) are too few"),
        (
            pd.DataFrame(
                {"id": range(200), "name": [f"n{i}" for i in range(200)], "k": 1, "y": [0, 1] * 100}
            ),
            "y", {}, "no usable feature column is left ('id': left out: identifier-like",
        ),
        (
            blobs(400).assign(y=[f"class {i % 210}" for i in range(400)]),
            "y", {}, "has 210 distinct values for 400 rows, too many to be classes; pass --task "
            "regression",
        ),
        (
            blobs().assign(y=[0.5, "x"] * 150), "y", {"task": "regression"},
            "needs numbers for regression",
        ),
    ],
)  # fmt: skip
def test_bad_tables_are_refused_before_training(frame, target, config, message):
    with pytest.raises((DataError, ConfigError)) as err:
        train_model(frame_dataset(frame, target), TrainConfig(**{**FAST, **config}), None)
    assert message in str(err.value)


def test_every_unknown_column_is_named_with_suggestions():
    with pytest.raises(DataError) as err:
        frame_dataset(blobs(), "Y", features=["A", "zzz"], ignore=["bb"])
    message = str(err.value)
    assert "target column 'Y' does not exist (did you mean 'y'?)" in message
    assert "--columns column 'A' does not exist (did you mean 'a'?)" in message
    assert "--columns column 'zzz' does not exist; " in message
    assert "--ignore column 'bb' does not exist (did you mean 'b'?)" in message


def test_many_classes_are_accepted_when_confirmed():
    frame = blobs(400).assign(y=[f"c{i % 150}" for i in range(400)])
    run = train_model(
        frame_dataset(frame, "y"),
        TrainConfig(task="classification", hidden=(4,), epochs=1, val_fraction=0.0),
        None,
    )
    assert len(run.classes) == 150


@pytest.mark.parametrize(
    "config, message",
    [
        ({"seed": -1}, "--seed must be an integer >= 0, got -1"),
        ({"hidden": (100000, 100000)}, "makes a network of at least 10,000,"),
        (
            {"optimizer": "sgd", "lr": 1e300},
            "--lr must be a finite number in (0, 1000], got 1e+300",
        ),
        ({"lr": float("nan")}, "--lr must be a finite number in (0, 1000], got nan"),
        ({"val_fraction": 0.5, "test_fraction": 0.5}, "leave no rows for training"),
        ({"rare_min": 0}, "--rare must be an integer >= 1"),
    ],
)
def test_impossible_configurations(config, message):
    with pytest.raises(ConfigError) as err:
        train_model(frame_dataset(blobs(), "y"), TrainConfig(**config), None)
    assert message in str(err.value)


def test_width_limit_counts_the_real_input_width():
    wide = pd.DataFrame(np.random.default_rng(0).normal(size=(40, 300)))
    wide.columns = [f"f{i}" for i in range(300)]
    wide["y"] = ["a", "b"] * 20
    TrainConfig(hidden=(70000,)).validate()  # fine for one input, too big for 300
    with pytest.raises(ConfigError, match="a 300-70000-1 network has 21,140,001 parameters"):
        train_model(frame_dataset(wide, "y"), TrainConfig(hidden=(70000,)), None)


def test_no_validation_split_works():
    run = train_model(frame_dataset(blobs(), "y"), TrainConfig(val_fraction=0.0, **FAST), None)
    assert run.split["val"] == 0 and "val" not in run.metrics
    assert run.history.val_loss == []
    assert run.metrics["test"]["accuracy"] > 0.9


def test_divergence_is_reported_not_raised():
    frame = blobs()
    frame["y"] = 3 * frame["a"] + frame["b"]
    config = TrainConfig(optimizer="sgd", lr=100.0, hidden=(32, 32), epochs=5)
    run = train_model(frame_dataset(frame, "y"), config, None)
    assert run.diverged and run.history.message.startswith("training diverged at epoch 1")
    # the model keeps the last weights whose loss and outputs were finite: scored, if badly
    test = run.metrics["test"]
    assert test["n"] == 60 and all(np.isfinite(test[k]) for k in ("loss", "mse", "mae", "r2"))
    assert test["r2"] < 0
    assert run.metrics["baseline"]["mse"] > 0  # the references are still scored


@pytest.mark.parametrize("scale", [1e160, 1e-300, 1e307])
def test_features_at_extreme_scales_train_like_scale_one(scale):
    """Issue 9: at 1e160 the old Standardizer mapped everything to 0 (baseline accuracy)."""
    config = TrainConfig(**FAST, seed=2)
    ref = train_model(frame_dataset(blobs(), "y"), config, None).metrics["test"]["accuracy"]
    got = train_model(frame_dataset(blobs(scale=scale), "y"), config, None).metrics["test"][
        "accuracy"
    ]
    assert ref > 0.9
    assert abs(got - ref) <= 0.02


def test_regression_target_and_linear_reference():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(300, 2))
    frame = pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "color": rng.choice(["r", "g"], 300)})
    frame["y"] = (
        3 * X[:, 0] - X[:, 1] ** 2 + 2.0 * (frame["color"] == "r") + 0.1 * rng.normal(size=300)
    )
    run = train_model(frame_dataset(frame, "y"), TrainConfig(hidden=(32,), epochs=80), None)
    assert run.task == "regression"
    assert run.metrics["test"]["r2"] > 0.9
    assert run.metrics["test"]["r2"] > run.metrics["linear_model"]["r2"]  # the x² term
    assert run.metrics["baseline"]["r2"] < 0.05
