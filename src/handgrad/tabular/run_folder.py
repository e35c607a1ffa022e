"""Run folders that are whole or absent.

A run is written into a hidden staging folder beside the target (``.NAME.partial-PID-XXXX``)
and moved into place at the end with one rename (an atomic exchange with the previous run
where the system offers it), while Ctrl-C is held back. So an interrupt, a full disk or a
crash at any point leaves the previous folder untouched or the complete new run. Staging
folders of runs that were killed are removed by the next run into the same place.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import json
import os
import secrets
import shutil
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..io import write_json, write_text
from .config import ConfigError

__all__ = [
    "InterruptedAfterWriting",
    "RunFolderError",
    "RUN_KIND",
    "check_target",
    "staged_folder",
    "write_run",
]

RUN_KIND = "handgrad-train-run"  # written in config.json: this folder is a run folder


class InterruptedAfterWriting(KeyboardInterrupt):
    """Ctrl-C came while the finished run was moved into place: the run is complete."""


class RunFolderError(OSError):
    """The run folder could not be written (disk full, permissions); nothing was changed."""


def is_run_folder(path: Path) -> bool:
    """True for a folder written by ``handgrad train`` (this version or an older one)."""
    try:
        config = json.loads((path / "config.json").read_text())
    except (OSError, ValueError):
        return False
    return isinstance(config, dict) and (
        config.get("kind") == RUN_KIND
        or ("layer_sizes" in config and (path / "model.npz").exists())
    )


def check_target(path: Path) -> None:
    """Refuse an ``--out`` that is a file, or a non-empty folder that is not a run folder."""
    if path.exists() and not path.is_dir():
        raise ConfigError(f"--out {path} is a file; give a folder for the run")
    if path.is_dir() and any(path.iterdir()) and not is_run_folder(path):
        raise ConfigError(
            f"--out {path} is a folder that holds other files; a run replaces its folder "
            "whole, so give a new or empty folder, or an earlier run folder"
        )


def _staging_prefix(target: Path) -> str:
    return f".{target.name}.partial-"


def clean_stale(target: Path) -> list[Path]:
    """Remove staging folders beside ``target`` left by runs whose process is gone."""
    removed: list[Path] = []
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        return removed
    prefix = _staging_prefix(target)
    for entry in parent.iterdir():
        if not entry.name.startswith(prefix):
            continue
        pid_text = entry.name[len(prefix) :].split("-", 1)[0]
        if not pid_text.isdigit() or _alive(int(pid_text)):
            continue
        if entry.name.endswith(".old") and not target.exists():
            os.rename(entry, target)  # killed between the two renames: put the old run back
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
    return removed


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def staged_folder(target: Path) -> Iterator[Path]:
    """Yield an empty staging folder; on normal exit it becomes ``target`` (replacing an
    earlier run), on any exception (Ctrl-C included) it is removed and ``target`` is as before.
    """
    check_target(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(target)
    staging = target.parent / f"{_staging_prefix(target)}{os.getpid()}-{secrets.token_hex(4)}"
    try:  # mkdir inside: a Ctrl-C just after it must still remove the folder
        staging.mkdir()
        yield staging
        with _interrupts_held() as caught:
            _move_into_place(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if caught:
        raise InterruptedAfterWriting(f"{target} holds the complete run")


def _move_into_place(staging: Path, target: Path) -> None:
    if not target.exists():
        os.rename(staging, target)
    elif _exchange(staging, target):
        shutil.rmtree(staging, ignore_errors=True)  # it now holds the previous run
    else:  # no atomic exchange here: two renames, a window of microseconds
        old = staging.with_name(staging.name + ".old")
        os.rename(target, old)
        os.rename(staging, target)
        shutil.rmtree(old, ignore_errors=True)
    _fsync_dir(target.parent)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False if unsupported."""
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return False
    libc = ctypes.CDLL(libc_name, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    result = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    if result == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def _interrupts_held() -> Iterator[list[int]]:
    """Hold Ctrl-C back for the few system calls that move the run into place; the list
    yielded records the signals that came meanwhile."""
    caught: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield caught
        return
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield caught
    finally:
        signal.signal(signal.SIGINT, previous)


def write_run(run, dataset) -> None:
    """Write ``run`` (a TrainRun) to ``run.out_dir`` whole; RunFolderError if the system
    refuses (full disk, permissions), with the target left as it was."""
    from .report import write_report_files

    target = Path(run.out_dir)
    try:
        with staged_folder(target) as staging:
            run.files = write_run_files(run, dataset, staging)
            run.files += write_report_files(run, dataset, staging)
    except OSError as exc:
        what = exc.strerror or str(exc)
        raise RunFolderError(
            exc.errno, f"could not write the run folder {target}: {what}; it was left as it was"
        ) from None


def write_run_files(run, dataset, folder: Path) -> list[str]:
    """config.json, metrics.json, model.npz, splits.csv and test_predictions.csv."""
    from dataclasses import asdict

    config = {
        "kind": RUN_KIND,
        **asdict(run.config),
        "learning_rate": run.config.learning_rate,
        "data": dataset.source,
        "data_file": dataset.file,
        "target": dataset.target_name,
        "features": dataset.feature_names,
        "columns": [c.as_dict() for c in dataset.columns],
        "encoded_features": run.input_names,
        "task": run.task,
        "task_reason": run.task_reason,
        "layer_sizes": run.sizes,
        "n_parameters": run.n_parameters,
        "split": run.split,
        "classes": run.classes,
        "notes": run.notes,
    }
    write_json(folder / "config.json", config)
    write_json(folder / "metrics.json", {**run.metrics, "history": run.history.as_dict()})
    run.predictor.save(folder / "model.npz")
    write_text(folder / "splits.csv", _splits_csv(run))
    write_text(folder / "test_predictions.csv", _test_predictions_csv(run))
    files = ["config.json", "metrics.json", "model.npz", "splits.csv", "test_predictions.csv"]
    if run.interrupted and run.checkpoint is not None:  # what `--resume` continues from
        shutil.copyfile(run.checkpoint, folder / CHECKPOINT)
        files.append(CHECKPOINT)
    return files


CHECKPOINT = "checkpoint.npz"

# the settings a resumed run must share with the interrupted one (the rest may differ)
_RESUME_SETTINGS = (
    "hidden", "activation", "optimizer", "lr", "momentum", "epochs", "batch_size", "l2",
    "patience", "seed", "val_fraction", "test_fraction", "impute",
    "missing_indicator", "rare_min", "drop_missing",
)  # fmt: skip


def checkpoint_to_resume(target: Path, config) -> Path:
    """The checkpoint of the interrupted run in ``target``; ConfigError when there is none
    or when its settings differ from ``config`` (naming each one)."""
    from dataclasses import asdict

    from ..io import json_ready
    from .config import ConfigError

    checkpoint = target / CHECKPOINT
    if not checkpoint.is_file():
        raise ConfigError(
            f"nothing to resume: {target} holds no {CHECKPOINT} (only a run stopped with "
            "Ctrl-C leaves one)"
        )
    try:
        saved = json.loads((target / "config.json").read_text())
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot resume: {target}/config.json is unreadable ({exc})") from None
    now = json_ready(asdict(config))
    differ = [k for k in _RESUME_SETTINGS if saved.get(k) != now.get(k)]
    if differ:
        pairs = ", ".join(f"{k} {saved.get(k)!r} -> {now.get(k)!r}" for k in differ)
        raise ConfigError(f"cannot resume {target}: the settings differ ({pairs})")
    return checkpoint


def _splits_csv(run) -> str:
    """row,part for every row used: row = position among the file's data rows, from 0."""
    pairs = sorted((int(r), part) for part, rows in run.rows.items() for r in rows)
    return "row,part\n" + "".join(f"{r},{p}\n" for r, p in pairs)


def _test_predictions_csv(run) -> str:
    """The test part: row, true target, prediction (+ one probability column per class)."""
    import csv
    import io

    from ..metrics import probabilities

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    predictor, outputs, y = run.predictor, run.test_outputs, run.test_targets
    rows = run.rows["test"]
    order = sorted(range(len(rows)), key=lambda i: rows[i])
    if run.task == "classification":
        writer.writerow(["row", "true", "prediction", *(f"p_{c}" for c in run.classes)])
        finite = bool(len(outputs) == 0 or np.isfinite(outputs).all())
        codes = predictor.codes_from_outputs(outputs)
        probs = probabilities(outputs) if finite else None
        for i in order:
            p = [repr(float(v)) for v in probs[i]] if probs is not None else [""] * len(run.classes)
            pred = run.classes[codes[i]] if finite else ""
            writer.writerow([int(rows[i]), run.classes[y[i]], pred, *p])
    else:
        writer.writerow(["row", "true", "prediction"])
        values = predictor.values_from_outputs(outputs)
        for i in order:
            writer.writerow([int(rows[i]), repr(float(y[i])), repr(float(values[i]))])
    return buf.getvalue()
