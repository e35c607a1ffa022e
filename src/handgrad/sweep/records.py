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

__all__ = ["DONE", "check_folder", "prepare_folder", "read_records", "write_record", "record_path"]

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
        except (OSError, ValueError) as exc:
            raise GridError(f"{meta} is unreadable ({exc}); use another --out") from None
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
    """The records already in the folder for these trials, by trial key (unreadable: none)."""
    found = {}
    for trial in trials:
        path = record_path(out, trial)
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # missing, or cut short by a crash before atomic writes: run it again
        if record.get("key") == trial.key:
            found[trial.key] = record
    return found


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
    write_json(record_path(out, trial), record)
    return record
