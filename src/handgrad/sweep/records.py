"""The sweep folder: what it holds, one record file per finished training, and resuming.

    OUT/sweep.json            the grid and the data (written before anything runs)
    OUT/records/KEY.json      one per training, written atomically the moment it finishes
    OUT/table.csv             the ranked table
    OUT/report.md, report.html, heatmap.png, curves.png
    OUT/best/                 the best setting retrained (a ``handgrad train`` run folder)
    OUT/model.npz             its model, for ``handgrad predict``

A record's status is "ok", "failed" (the training itself went wrong, e.g. it diverged: the
same seed would fail the same way, so it counts as done) or "error" (the task never
finished: an exception, a lost worker; a re-run tries it again).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..io import write_json
from .grid import Grid, GridError, Trial

__all__ = [
    "DONE",
    "check_folder",
    "prepare_folder",
    "read_records",
    "record_path",
    "record_problem",
    "write_record",
]

DONE = ("ok", "failed")  # statuses a re-run skips
FORMAT = "handgrad-sweep/1"


def record_path(out: Path, trial: Trial) -> Path:
    return out / "records" / f"{trial.key}.json"


def check_folder(out: Path, grid: Grid) -> list[dict]:
    """Raise GridError unless ``out`` is new, empty or a sweep on the same data; the grids
    it ran before."""
    meta = out / "sweep.json"
    if meta.exists():
        try:
            old = json.loads(meta.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError) as exc:
            raise GridError(f"{meta} is unreadable ({exc}); use another --out") from None
        if not isinstance(old, dict) or not isinstance(old.get("grids", []), list):
            raise GridError(f"{meta} is not a sweep's description; use another --out")
        if old.get("format") != FORMAT or old.get("data") != grid.data.as_dict():
            raise GridError(
                f"{out} holds a sweep on other data ({old.get('data')}); "
                "use another --out to start a new sweep"
            )
        history = old.get("grids", [])
    elif out.exists() and any(out.iterdir()):
        raise GridError(f"{out} exists and is not a sweep folder; use another --out")
    else:
        history = []
    return history


def prepare_folder(out: Path, grid: Grid) -> None:
    """Create the folder (or reuse one that ``check_folder`` accepts); record the grid."""
    history = check_folder(out, grid)
    (out / "records").mkdir(parents=True, exist_ok=True)
    meta = out / "sweep.json"
    current = grid.as_dict()
    grids = history if current in history else [*history, current]
    write_json(meta, {"format": FORMAT, "data": grid.data.as_dict(), "grids": grids})


def read_records(out: Path, trials: list[Trial]) -> dict[str, dict[str, Any]]:
    """The records already in the folder for these trials, by trial key.

    A missing record, or one cut short (not JSON), is no record: that training runs again.
    A record that is JSON but not a sweep record (a list, a field missing or of the wrong
    type) raises GridError naming the file: it was edited or written by something else,
    and guessing what it meant could rank a setting on numbers nobody measured."""
    found = {}
    for trial in trials:
        path = record_path(out, trial)
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError):
            continue  # missing, or cut short by a crash before atomic writes: run it again
        problem = record_problem(record)
        if problem:
            raise GridError(
                f"{path}: not a sweep record ({problem}); delete it and the same command "
                "runs that training again"
            )
        if record["key"] == trial.key:
            found[trial.key] = record
    return found


def _is_number(value: Any, none: bool = False) -> bool:
    if value is None:
        return none
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _numbers(value: Any) -> bool:
    return isinstance(value, list) and all(_is_number(v, none=True) for v in value)


def record_problem(record: Any) -> str:
    """What makes ``record`` unusable as a sweep record, or "" when it is one."""
    if not isinstance(record, dict):
        return f"a JSON {type(record).__name__}, not an object"
    if not isinstance(record.get("key"), str):
        return "no key"
    status = record.get("status")
    if status not in ("ok", "failed", "error"):
        return f"status {status!r} is not ok, failed or error"
    if not isinstance(record.get("settings"), dict):
        return "no settings"
    if not isinstance(record.get("seed"), int) or isinstance(record.get("seed"), bool):
        return "no seed"
    if not isinstance(record.get("reason"), str):
        return "no reason"
    if status == "error":
        return ""  # run again: nothing else is read
    if record.get("task") not in ("classification", "regression"):
        return f"task {record.get('task')!r} is not classification or regression"
    if status == "failed":
        return ""
    scores = record.get("scores")
    if not isinstance(scores, dict) or not all(
        _is_number(scores.get(part), none=True) for part in ("train", "val", "test")
    ):
        return "no scores (train, val, test)"
    if not _is_number(record.get("seconds")):
        return "no seconds"
    if not _is_number(record.get("best_val_epoch"), none=True):
        return "best_val_epoch is not a number"
    history = record.get("history")
    if not isinstance(history, dict) or not _numbers(history.get("val_loss")):
        return "no history of validation losses"
    curves = history.get("val_metrics")
    metric = "accuracy" if record["task"] == "classification" else "mse"
    if not isinstance(curves, dict) or not _numbers(curves.get(metric)):
        return f"no history of the validation {metric}"
    return ""


def write_record(out: Path, trial: Trial, measured: dict[str, Any], attempts: int) -> dict:
    """The full record (the trial's identity + what was measured), written atomically."""
    record = {
        "key": trial.key,
        "setting_key": trial.setting_key,
        "settings": dict(trial.settings),
        "seed": trial.seed,
        "attempts": attempts,
        **measured,
    }
    # one line: JSON's indented form is encoded in Python, ten times slower (0.24 -> 0.02 ms
    # CPU for a short training's record), and the client writes one per training
    write_json(record_path(out, trial), record, indent=None)
    return record
