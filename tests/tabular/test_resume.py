"""`handgrad train --resume`: a run stopped with Ctrl-C continues from the checkpoint in its
folder and ends with the same model, bit for bit, as a run that never stopped."""

from __future__ import annotations

import signal

import numpy as np
import pandas as pd
import pytest

import handgrad as hg
from handgrad.tabular import ConfigError, TrainConfig, load_dataset, train_model
from handgrad.train import Callback

# early stopping on (its best weights travel in the checkpoint), Adam (state to restore)
CONFIG = TrainConfig(hidden=(8,), optimizer="adam", epochs=12, batch_size=16, patience=4)


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(150, 3))
    frame = pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "c": rng.choice(["p", "q", "r"], 150)})
    frame["y"] = np.where(x[:, 0] - 0.5 * x[:, 1] > 0, "yes", "no")
    path = tmp_path_factory.mktemp("data") / "table.csv"
    frame.to_csv(path, index=False)
    return path


class CtrlC(Callback):
    """Ctrl-C at a given epoch and step, as a user would press it."""

    def __init__(self, epoch: int, step: int):
        self.epoch, self.step = epoch, step

    def on_batch_end(self, ctx) -> None:
        if (ctx.epoch, ctx.step) == (self.epoch, self.step):
            signal.raise_signal(signal.SIGINT)


def weights(path) -> list[np.ndarray]:
    return [p.value for p in hg.load(path).parameters()]


def interrupted_run(table, out):
    run = train_model(load_dataset(table, "y"), CONFIG, out, callbacks=[CtrlC(2, 3)])
    assert run.interrupted and (out / "checkpoint.npz").exists()
    assert not list(out.parent.glob(f".{out.name}.checkpoint*"))  # moved into the run only
    return run


def test_resume_in_python_is_bit_identical(table, tmp_path):
    whole = train_model(load_dataset(table, "y"), CONFIG, tmp_path / "whole")
    out = tmp_path / "run"
    interrupted_run(table, out)
    resumed = train_model(load_dataset(table, "y"), CONFIG, out, resume=True)
    assert not resumed.interrupted
    for a, b in zip(weights(tmp_path / "whole" / "model.npz"), weights(out / "model.npz")):
        assert np.array_equal(a, b)
    assert resumed.history.val_loss == whole.history.val_loss
    assert not (out / "checkpoint.npz").exists()  # a finished run holds no checkpoint


@pytest.mark.slow
def test_resume_from_the_command_line_is_bit_identical(table, tmp_path, cli):
    args = ["train", "--data", table, "--target", "y", "--hidden", "8", "--optimizer", "adam",
            "--epochs", "12", "--batch-size", "16", "--patience", "4", "--quiet"]  # fmt: skip
    assert cli(*args, "--out", tmp_path / "whole").returncode == 0
    out = tmp_path / "run"
    interrupted_run(table, out)
    proc = cli(*args, "--out", out, "--resume")
    assert proc.returncode == 0, proc.stderr
    for a, b in zip(weights(tmp_path / "whole" / "model.npz"), weights(out / "model.npz")):
        assert np.array_equal(a, b)


def test_resume_refuses_other_settings_and_a_finished_run(table, tmp_path):
    out = tmp_path / "run"
    interrupted_run(table, out)
    other = TrainConfig(**{**CONFIG.__dict__, "lr": 0.05})
    with pytest.raises(ConfigError, match="settings differ.*lr"):
        train_model(load_dataset(table, "y"), other, out, resume=True)
    assert (out / "checkpoint.npz").exists()  # refused: nothing changed
    train_model(load_dataset(table, "y"), CONFIG, out, resume=True)
    with pytest.raises(ConfigError, match="nothing to resume"):
        train_model(load_dataset(table, "y"), CONFIG, out, resume=True)
