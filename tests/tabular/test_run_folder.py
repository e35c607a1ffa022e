"""Run folders are whole or absent: failures, Ctrl-C and killed runs never leave half a run."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from handgrad.tabular import (
    ConfigError,
    Predictor,
    RunFolderError,
    TrainConfig,
    load_dataset,
    train_model,
)

RUN_FILES = {
    "config.json", "metrics.json", "model.npz", "splits.csv", "test_predictions.csv",
    "loss.png", "metric.png", "confusion.png", "report.md", "report.html",
}  # fmt: skip
CONFIG = TrainConfig(hidden=(8,), epochs=3, batch_size=32)


@pytest.fixture(scope="module")
def small_csv(tmp_path_factory) -> Path:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(120, 2))
    frame = pd.DataFrame({"a": x[:, 0], "b": x[:, 1], "c": rng.choice(["p", "q"], 120)})
    frame["y"] = np.where(x[:, 0] > 0, "yes", "no")
    path = tmp_path_factory.mktemp("data") / "small.csv"
    frame.to_csv(path, index=False)
    return path


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())} if folder.exists() else {}


def assert_complete(folder: Path, extra: frozenset[str] = frozenset()) -> dict:
    assert {p.name for p in folder.iterdir()} == RUN_FILES | extra
    Predictor.load(folder / "model.npz")
    metrics = json.loads((folder / "metrics.json").read_text())
    assert "test" in metrics
    return metrics


def count_renames(monkeypatch) -> list[str]:
    calls: list[str] = []
    real = os.replace

    def counting(src, dst, *a, **kw):
        calls.append(str(dst))
        return real(src, dst, *a, **kw)

    monkeypatch.setattr(os, "replace", counting)
    return calls


@pytest.mark.slow
def test_a_run_folder_is_complete_and_replaced_whole(small_csv, tmp_path):
    out = tmp_path / "run"
    dataset = load_dataset(str(small_csv), "y")
    train_model(dataset, CONFIG, out)
    assert_complete(out)
    (out / "stale-from-an-older-version.txt").write_text("x")  # replaced whole
    train_model(dataset, TrainConfig(hidden=(8,), epochs=3, seed=5), out)
    assert_complete(out)
    assert json.loads((out / "config.json").read_text())["seed"] == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def failing_replace(at: int, failure: str):
    """os.replace that fails on its ``at``-th call (disk full, or Ctrl-C) -- every file of
    a run is written by renaming a finished temporary file into place."""
    calls = {"n": 0}
    real = os.replace

    def replace(src, dst, *a, **kw):
        calls["n"] += 1
        if calls["n"] == at:
            if failure == "Ctrl-C":
                raise KeyboardInterrupt
            raise OSError(errno.ENOSPC, "No space left on device", str(dst))
        return real(src, dst, *a, **kw)

    return replace


@pytest.mark.slow
@pytest.mark.parametrize("failure", ["disk full", "Ctrl-C"])
def test_failure_at_every_write_leaves_the_previous_run(small_csv, tmp_path, monkeypatch, failure):
    out = tmp_path / "run"
    dataset = load_dataset(str(small_csv), "y")
    train_model(dataset, CONFIG, out)
    before = snapshot(out)
    with monkeypatch.context() as m:
        writes = count_renames(m)
        train_model(dataset, CONFIG, tmp_path / "probe")
    n_writes = len(writes)
    assert n_writes == len(RUN_FILES)  # each file is written once, atomically
    for k in range(n_writes):
        with monkeypatch.context() as m:
            m.setattr(os, "replace", failing_replace(k + 1, failure))
            expected = KeyboardInterrupt if failure == "Ctrl-C" else RunFolderError
            with pytest.raises(expected) as err:
                train_model(dataset, TrainConfig(hidden=(8,), epochs=3, seed=9), out)
        if failure == "disk full":
            assert str(err.value.strerror).startswith(f"could not write the run folder {out}:")
            assert "No space left on device; it was left as it was" in err.value.strerror
        assert snapshot(out) == before, f"write {k + 1} of {n_writes}"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["probe", "run"]


def test_failure_with_no_previous_run_leaves_nothing(small_csv, tmp_path, monkeypatch):
    def full(src, dst, *a, **kw):
        raise OSError(errno.ENOSPC, "No space left on device", str(dst))

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(RunFolderError):
        train_model(load_dataset(str(small_csv), "y"), CONFIG, tmp_path / "new" / "run")
    assert list((tmp_path / "new").iterdir()) == []


def test_final_move_without_atomic_exchange(small_csv, tmp_path, monkeypatch):
    """Where renameat2 is missing the swap is two renames; both paths give a whole run."""
    from handgrad.tabular import run_folder

    out = tmp_path / "run"
    dataset = load_dataset(str(small_csv), "y")
    train_model(dataset, CONFIG, out)
    monkeypatch.setattr(run_folder, "_exchange", lambda a, b: False)
    train_model(dataset, TrainConfig(hidden=(8,), epochs=3, seed=3), out)
    assert_complete(out)
    assert json.loads((out / "config.json").read_text())["seed"] == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_an_unrelated_folder_is_never_replaced(small_csv, tmp_path):
    (tmp_path / "thesis.tex").write_text("years of work")
    with pytest.raises(ConfigError, match="holds other files; a run replaces its folder whole"):
        train_model(load_dataset(str(small_csv), "y"), CONFIG, tmp_path)
    assert (tmp_path / "thesis.tex").read_text() == "years of work"
    (tmp_path / "file").write_text("")
    with pytest.raises(ConfigError, match="is a file"):
        train_model(load_dataset(str(small_csv), "y"), CONFIG, tmp_path / "file")


def test_staging_folders_of_killed_runs_are_removed(small_csv, tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    # a live process (it runs until killed below, however slow the training is)
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
    try:
        stale = tmp_path / f".run.partial-{dead.pid}-0badc0de"
        busy = tmp_path / f".run.partial-{alive.pid}-0badc0de"
        for folder in (stale, busy):
            folder.mkdir()
            (folder / "model.npz").write_bytes(b"half")
        train_model(load_dataset(str(small_csv), "y"), CONFIG, tmp_path / "run")
        assert not stale.exists()  # its process is gone
        assert busy.exists()  # another run may still be writing it
    finally:
        alive.kill()
        alive.wait()


# --- Ctrl-C on the real command -------------------------------------------------------------


def start(handgrad_cmd, *args) -> subprocess.Popen:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "MPLBACKEND": "Agg", "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [*handgrad_cmd, *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        # Ctrl-C as in a terminal, even when the tests run as a background job (which
        # starts with SIGINT ignored, and a child inherits that)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def interrupt_at(proc: subprocess.Popen, event: str, staging_in: Path) -> tuple[int, str, str]:
    """SIGINT once ``event`` has happened (no sleeping: each is a line printed or a folder
    made), unless the command ended first -> (exit code, stdout, stderr).

    columns: the table is read (training about to start); training: the loop has begun;
    writing: the hidden staging folder of the new run exists; summary: the new run is in
    place and its summary is printed."""
    first = proc.stdout.readline()
    assert first.startswith("column"), first
    seen = [first]
    if event == "training":
        while (line := proc.stdout.readline()) and not line.startswith("training: at most"):
            seen.append(line)
        seen.append(line)
    elif event == "summary":
        while (line := proc.stdout.readline()) and not line.startswith("run folder:"):
            seen.append(line)
        seen.append(line)
    elif event == "writing":
        while proc.poll() is None and not any(staging_in.glob(".run.partial-*")):
            time.sleep(0.001)  # polling for the folder; the interrupt waits for it, not a clock
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=300)
    return proc.returncode, "".join(seen) + out, err


def promised_outcome(out: Path, before: dict[str, bytes], code: int, stderr: str) -> str:
    """Check the run folder and the exit against the three outcomes Ctrl-C may have ->
    "unchanged", "interrupted" (the model at Ctrl-C, resumable) or "finished"."""
    after = snapshot(out)
    if after == before:  # interrupted before or while writing: nothing changed
        assert code == 130 and stderr.strip().endswith(f"{out} was left as it was"), stderr
        return "unchanged"
    assert json.loads(after["config.json"])["seed"] == 4
    if json.loads(after["metrics.json"])["stop_reason"] == "interrupted":  # Ctrl-C in training
        assert_complete(out, frozenset({"checkpoint.npz"}))
        assert code == 130, (code, stderr)
        # after the progress lines of the epochs that ran (a line each: stderr is a pipe)
        progress, found, message = stderr.partition("handgrad: ")
        assert found and message.startswith("training interrupted at epoch "), stderr
        assert all(ln.startswith("epoch ") for ln in progress.splitlines()), stderr
        assert "--resume" in stderr
        return "interrupted"
    assert_complete(out)
    # 0: finished first; 130: interrupted while moving into place or after writing; -SIGINT:
    # the signal came as the interpreter was shutting down, after handgrad's own code ended
    assert code in (0, 130, -signal.SIGINT), (code, stderr)
    if code == 130:
        assert "interrupted" in stderr
    return "finished"


@pytest.mark.slow
def test_ctrl_c_during_training_writes_a_complete_run_and_exits_130(
    small_csv, handgrad_cmd, tmp_path
):
    out = tmp_path / "run"
    proc = start(handgrad_cmd, "train", "--data", small_csv, "--target", "y", "--epochs", "100000",
                 "--patience", "0", "--out", out)  # fmt: skip
    first = proc.stdout.readline()
    assert first.startswith("column"), first
    while not (line := proc.stdout.readline()).startswith("training: at most 100000 epochs"):
        assert line, "the command ended before training"
    proc.send_signal(signal.SIGINT)  # from the announcement on, Ctrl-C keeps the model
    stdout, stderr = proc.communicate(timeout=300)
    code = proc.returncode
    assert code == 130, (stdout, stderr)
    assert "Traceback" not in stderr
    # after the progress lines of the epochs that ran (a line each: stderr is a pipe)
    message = stderr[stderr.index("handgrad: ") :]
    assert message.startswith("handgrad: training interrupted at epoch "), stderr
    assert all(ln.startswith("epoch ") for ln in stderr[: stderr.index("handgrad: ")].splitlines())
    assert f"{out} holds that model and its report" in stderr
    assert "--resume" in stderr
    metrics = assert_complete(out, frozenset({"checkpoint.npz"}))
    assert metrics["stop_reason"] == "interrupted"
    assert "It was interrupted" in (out / "report.md").read_text()


# what Ctrl-C at each point may leave; the run has 30 epochs, so a signal sent as training
# begins may come after it ended
OUTCOMES = {
    "columns": {"unchanged", "interrupted", "finished"},
    "training": {"unchanged", "interrupted", "finished"},
    "writing": {"unchanged", "finished"},
    "summary": {"finished"},
}


@pytest.mark.slow
@pytest.mark.parametrize("event", list(OUTCOMES))
def test_ctrl_c_at_any_point_leaves_the_previous_run_or_a_complete_one(
    small_csv, handgrad_cmd, tmp_path, event
):
    out = tmp_path / "run"
    train_model(load_dataset(str(small_csv), "y"), CONFIG, out)
    before = snapshot(out)
    proc = start(handgrad_cmd, "train", "--data", small_csv, "--target", "y", "--epochs", "30",
                 "--seed", "4", "--out", out)  # fmt: skip
    code, stdout, stderr = interrupt_at(proc, event, tmp_path)
    outcome = promised_outcome(out, before, code, stderr)
    assert outcome in OUTCOMES[event], (code, stderr)
    # handgrad prints no traceback; Python may, for a SIGINT as its threads shut down
    # after handgrad's code has ended (the run then is complete)
    at_exit = outcome == "finished" and "Exception ignored in: <module 'threading'" in stderr
    assert "Traceback" not in stderr or at_exit, stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no staging folder left


def test_killed_between_the_two_renames_puts_the_old_run_back(small_csv, tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    old = tmp_path / f".run.partial-{dead.pid}-0badc0de.old"  # the previous run, moved aside
    train_model(load_dataset(str(small_csv), "y"), CONFIG, old)
    from handgrad.tabular.run_folder import clean_stale

    clean_stale(tmp_path / "run")
    assert_complete(tmp_path / "run")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_ctrl_c_while_moving_into_place_keeps_the_complete_run(small_csv, tmp_path, monkeypatch):
    from handgrad.tabular import run_folder

    real = run_folder._move_into_place

    def move_with_ctrl_c(staging, target):
        os.kill(os.getpid(), signal.SIGINT)  # held back until the move is done
        real(staging, target)

    monkeypatch.setattr(run_folder, "_move_into_place", move_with_ctrl_c)
    with pytest.raises(run_folder.InterruptedAfterWriting):
        train_model(load_dataset(str(small_csv), "y"), CONFIG, tmp_path / "run")
    assert_complete(tmp_path / "run")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
