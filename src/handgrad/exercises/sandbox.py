"""Running a learner's file safely: a child process with a wall clock and a memory limit.

The child (``handgrad.exercises._child``) loads the file, runs every case and writes the
outputs as ``.npz`` number arrays and JSON; this process reads them with
``allow_pickle=False`` and judges them against the references it computes itself. An
endless loop, a crash, ``sys.exit``, megabytes of printing, a syntax error or a missing
import each end as a clear report; the learner's file is only read.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from .catalogue import Exercise
from .checking import judge
from .result import CaseResult, CheckResult
from .running import Outcome

__all__ = ["check_file", "MEMORY_MB"]

MEMORY_MB = 2048  # address space for the child: NumPy and BLAS need a few hundred MB of it


def _read_progress(outdir: Path) -> tuple[dict[int, dict], int | None]:
    """Finished cases by index, and the index of a case that started but did not end."""
    ended: dict[int, dict] = {}
    started: int | None = None
    path = outdir / "progress.jsonl"
    if not path.exists():
        return ended, None
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            event = json.loads(line)
        except json.JSONDecodeError:  # a line cut short when the child was stopped
            continue
        if event.get("event") == "start":
            started = int(event["index"])
        elif event.get("event") == "end":
            ended[int(event["index"])] = event
    unfinished = started if started is not None and started not in ended else None
    return ended, unfinished


def _load_outcome(outdir: Path, index: int, event: dict) -> Outcome:
    outcome = Outcome(
        str(event["status"]),
        str(event.get("error", "")),
        bad_outputs={str(k): str(v) for k, v in dict(event.get("bad_outputs", {})).items()},
        mutated=[str(m) for m in event.get("mutated", [])],
        warnings=[str(w) for w in event.get("warnings", [])],
    )
    path = outdir / f"case_{index}.npz"
    if path.exists():
        with np.load(path, allow_pickle=False) as data:
            outcome.outputs = {k[len("out_") :]: data[k] for k in data.files}
    return outcome


def _stopped_message(returncode: int | None, timed_out: bool, seconds: float) -> str:
    if timed_out:
        return f"did not finish within {seconds:g} s (an endless loop?); it was stopped"
    if returncode is not None and returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = f"signal {-returncode}"
        why = {"SIGXCPU": "used too much CPU time", "SIGXFSZ": "wrote too large a file"}.get(
            name, "crashed"
        )
        return f"the process {why} ({name})"
    return f"the process ended early (exit status {returncode}), e.g. through os._exit"


def check_file(
    exercise: Exercise,
    path: str | os.PathLike,
    *,
    timeout: float | None = None,
    memory_mb: int = MEMORY_MB,
) -> CheckResult:
    """Check the answer in the Python file ``path`` in a sandboxed child process."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    seconds = float(timeout if timeout is not None else exercise.timeout)
    outdir = Path(tempfile.mkdtemp(prefix="handgrad-exercise-"))
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    env["PYTHONDONTWRITEBYTECODE"] = "1"  # no __pycache__ next to the learner's files
    command = [
        sys.executable,
        "-m",
        "handgrad.exercises._child",
        exercise.name,
        str(path.resolve()),
        str(outdir),
        str(memory_mb),
        str(seconds),
    ]
    timed_out = False
    try:
        with open(outdir / "stderr.txt", "wb") as err:
            child = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=err,
                env=env,
                cwd=str(path.resolve().parent),
                start_new_session=True,  # its own process group, stopped as a whole
            )
            try:
                child.wait(timeout=seconds)
            except subprocess.TimeoutExpired:
                timed_out = True
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
        return _collect(exercise, outdir, child.returncode, timed_out, seconds)
    finally:
        shutil.rmtree(outdir, ignore_errors=True)


def _collect(
    exercise: Exercise, outdir: Path, returncode: int | None, timed_out: bool, seconds: float
) -> CheckResult:
    result = CheckResult(exercise.name, [], doc=exercise.doc)
    output = outdir / "output.txt"
    result.output = output.read_text(encoding="utf-8", errors="replace") if output.exists() else ""
    problem = outdir / "problem.json"
    if problem.exists():
        result.problem = str(json.loads(problem.read_text(encoding="utf-8"))["problem"])
        return result
    ended, unfinished = _read_progress(outdir)
    stopped = _stopped_message(returncode, timed_out, seconds)
    if not ended and unfinished is None and (timed_out or returncode != 0):
        result.problem = f"loading the file: {stopped}"
        return result
    for index, case in enumerate(exercise.cases()):
        if index in ended:
            result.cases.append(judge(exercise, case, _load_outcome(outdir, index, ended[index])))
        elif index == unfinished:
            result.cases.append(CaseResult(case.name, False, [], stopped))
        else:
            result.cases.append(
                CaseResult(case.name, False, [], "not run: the process had stopped")
            )
    return result
