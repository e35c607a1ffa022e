"""How long does one ``handgrad exercise check`` take? (A learner runs it after every edit.)

    python benchmarks/exercise_check_time.py [--repeats 5] [--exercises backprop,adam]

For each exercise, times (wall clock, median and min over the repeats):

- **sandbox**: ``check_file`` on an answer file, what ``handgrad exercise check FILE``
  does: a child process starts, imports NumPy and handgrad, loads the file, runs every
  case; this process judges the outputs against the references.
- **in-process**: ``handgrad.exercises.check(name, answer)`` on the same answer objects,
  as from a notebook.

The answer files hold the references themselves (the cases then run to the end), so the
time is that of a passing check; a failing one adds the diagnosis, a few milliseconds.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

import handgrad
import handgrad.exercises as ex
from handgrad.exercises import get


def answer_file(directory: Path, name: str) -> Path:
    path = directory / f"{name}.py"
    path.write_text(
        f"from handgrad.exercises import get\n\nglobals().update(get({name!r}).reference())\n"
    )
    return path


def timed(fn, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
        if not result.passed:
            raise SystemExit(f"the reference failed its own check:\n{result}")
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--exercises", help="comma-separated names (default: all)")
    args = parser.parse_args()
    names = args.exercises.split(",") if args.exercises else ex.names()
    print(
        f"handgrad {handgrad.__version__}, NumPy {np.__version__}, Python "
        f"{platform.python_version()}, {platform.machine()} ({platform.processor() or 'cpu'}); "
        f"{args.repeats} repeats, seconds per check"
    )
    print(
        f"{'exercise':<22} {'cases':>5} {'sandbox median':>15} {'min':>6} "
        f"{'in-process median':>18} {'min':>6}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for name in names:
            exercise = get(name)
            path = answer_file(Path(tmp), name)
            answer = dict(exercise.reference())
            sandbox = timed(lambda e=exercise, p=path: ex.check_file(e, p), args.repeats)
            inproc = timed(lambda n=name, a=answer: ex.check(n, a), args.repeats)
            print(
                f"{name:<22} {len(exercise.cases()):>5} {statistics.median(sandbox):>15.2f} "
                f"{min(sandbox):>6.2f} {statistics.median(inproc):>18.3f} {min(inproc):>6.3f}"
            )


if __name__ == "__main__":
    main()
