"""One rule for every JSON handgrad writes (handgrad.io, docs/formats.md): strict JSON whose
numbers are finite; a NaN, inf or -inf is written null. Each kind of file is written here
with non-finite numbers in it and parsed by a strict parser; readers of files written before
the rule (the strings "nan", "inf", "-inf") still load them."""

from __future__ import annotations

import json
import math
import zipfile

import numpy as np
import pandas as pd
import pytest

import handgrad as hg
from handgrad.io import json_ready, number_from_json, write_json
from handgrad.train import History, read_checkpoint, save_checkpoint


def _refuse(token: str):
    raise ValueError(f"not strict JSON: {token}")


def strict_loads(text: str | bytes):
    """json.loads that refuses NaN, Infinity and -Infinity, as strict parsers do."""
    return json.loads(text, parse_constant=_refuse)


def test_the_strict_parser_refuses_what_python_writes_by_default():
    with pytest.raises(ValueError, match="not strict JSON: NaN"):
        strict_loads(json.dumps({"x": math.nan}))


NON_FINITE = [math.nan, math.inf, -math.inf, np.float32("nan"), np.float64("-inf")]


def test_json_ready_writes_every_non_finite_number_as_null():
    payload = {"values": NON_FINITE, "nested": {"a": (1.5, math.inf)}, "array": np.array([2.0])}
    assert json_ready(payload) == {
        "values": [None] * 5,
        "nested": {"a": [1.5, None]},
        "array": [2.0],
    }


def test_write_json_files_parse_strictly(tmp_path):
    path = write_json(tmp_path / "m.json", {"loss": math.nan, "curve": [0.5, math.inf]})
    assert strict_loads(path.read_text()) == {"loss": None, "curve": [0.5, None]}


@pytest.mark.parametrize(
    ("written", "read"),
    [(None, math.nan), ("nan", math.nan), ("inf", math.inf), ("-inf", -math.inf), (2, 2.0)],
)
def test_number_from_json_reads_null_and_the_strings_of_older_files(written, read):
    got = number_from_json(written)
    assert (math.isnan(got) and math.isnan(read)) or got == read
    assert type(got) is float


@pytest.mark.parametrize("bad", [True, "1.5", "NaN", [1.0]])
def test_number_from_json_refuses_what_is_not_a_number(bad):
    with pytest.raises(TypeError, match="is not a number"):
        number_from_json(bad)


def _tiny_model():
    return hg.Sequential(hg.Linear(2, 1, rng=np.random.default_rng(0)))


def test_a_checkpoint_with_non_finite_sums_is_strict_json_and_reads_back(tmp_path):
    model = _tiny_model()
    optimizer = hg.SGD(model.parameters(), lr=0.1)
    history = History(epoch_loss=[0.5, math.inf], step_loss=[math.nan])
    path = save_checkpoint(
        tmp_path / "c.npz",
        model,
        optimizer,
        rng_state=np.random.default_rng(0).bit_generator.state,
        epoch=1,
        step=2,
        progress={"loop": {"rows": 4}, "sums": {"loss": math.inf, "seen": 2, "acc": math.nan}},
        history=history.as_dict(),
    )
    with zipfile.ZipFile(path) as zf:
        for name in zf.namelist():
            if name.startswith("__"):  # the two JSON members: the model's and the state's
                text = str(np.load(zf.open(name), allow_pickle=False)[()])
                meta = strict_loads(text)
    assert meta["progress"]["sums"] == {"loss": None, "seen": 2, "acc": None}
    assert meta["history"]["epoch_loss"] == [0.5, None]
    state = read_checkpoint(path)
    sums = state.progress["sums"]
    assert sums["seen"] == 2 and math.isnan(sums["loss"]) and math.isnan(sums["acc"])
    restored = History.from_dict(state.history)
    assert restored.epoch_loss[0] == 0.5 and math.isnan(restored.epoch_loss[1])


def test_history_from_an_older_file_with_nan_strings():
    d = History().as_dict() | {"epoch_loss": [1.0, "nan", "inf"], "val_loss": [None]}
    h = History.from_dict(d)
    assert h.epoch_loss[0] == 1.0 and math.isnan(h.epoch_loss[1]) and h.epoch_loss[2] == math.inf
    assert math.isnan(h.val_loss[0])


def test_a_model_file_refuses_non_finite_metadata_by_name(tmp_path):
    with pytest.raises(TypeError, match="metadata must be JSON-serializable.*not JSON compliant"):
        hg.save(_tiny_model(), tmp_path / "m.npz", metadata={"score": math.nan})
    assert not (tmp_path / "m.npz").exists()


def _model_metadata(path) -> dict:
    with zipfile.ZipFile(path) as zf:
        return strict_loads(str(np.load(zf.open("__handgrad__.npy"), allow_pickle=False)[()]))


def test_an_estimator_with_an_infinite_setting_and_a_nan_score(tmp_path):
    from handgrad.estimators import MLPRegressor

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 2))
    y = X @ np.array([1.0, -2.0])
    est = MLPRegressor(hidden_layer_sizes=(3,), max_iter=3, n_iter_no_change=math.inf)
    with pytest.warns(Warning):  # stopped by max_iter: scikit-learn's ConvergenceWarning
        est.fit(X, y)
    est.validation_scores_ = [0.5, math.nan]  # as a diverged validation would leave it
    path = est.save(tmp_path / "e.npz")
    meta = _model_metadata(path)["metadata"]
    assert meta["params"]["n_iter_no_change"] is None
    assert meta["validation_scores_"] == [0.5, None]
    loaded = MLPRegressor.load(path)
    assert loaded.n_iter_no_change == math.inf
    assert loaded.validation_scores_[0] == 0.5 and math.isnan(loaded.validation_scores_[1])
    np.testing.assert_array_equal(loaded.predict(X), est.predict(X))


def test_a_tabular_run_folder_with_non_finite_scores_is_strict_json(tmp_path):
    from handgrad.tabular import TrainConfig, train_model
    from handgrad.tabular.dataset import dataset_from_frame
    from handgrad.tabular.run_folder import write_run_files

    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"a": rng.normal(size=60), "b": rng.normal(size=60)})
    frame["y"] = 2 * frame["a"] - frame["b"]
    dataset = dataset_from_frame(frame, "y", None, [], "t.csv")
    run = train_model(dataset, TrainConfig(hidden=(4,), epochs=2), None)
    run.metrics["test"]["mse"] = math.inf  # as an overflowing score would be
    run.history.epoch_loss.append(math.nan)
    write_run_files(run, dataset, tmp_path)
    metrics = strict_loads((tmp_path / "metrics.json").read_text())
    assert metrics["test"]["mse"] is None and metrics["history"]["epoch_loss"][-1] is None
    strict_loads((tmp_path / "config.json").read_text())


def test_a_sweep_record_with_a_nan_score_is_strict_json_and_still_a_record(tmp_path):
    from handgrad.sweep.records import record_problem

    record = {
        "key": "k",
        "status": "ok",
        "settings": {"lr": 0.1},
        "seed": 0,
        "reason": "",
        "task": "regression",
        "scores": {"train": 0.1, "val": math.nan, "test": math.inf},
        "seconds": 1.0,
        "best_val_epoch": None,
        "history": {"val_loss": [0.3, math.nan], "val_metrics": {"mse": [math.inf]}},
    }
    path = write_json(tmp_path / "r.json", record)
    read = strict_loads(path.read_text())
    assert read["scores"] == {"train": 0.1, "val": None, "test": None}
    assert record_problem(read) == ""


def test_experiment_metrics_are_strict_json(tmp_path):
    from handgrad.experiments.base import ExperimentResult

    result = ExperimentResult("x", "X", "a stage", {"naive": math.inf, "rows": [math.nan, 1.0]}, "")
    result.write(tmp_path)
    metrics = strict_loads((tmp_path / "metrics.json").read_text())["metrics"]
    assert metrics == {"naive": None, "rows": [None, 1.0]}
