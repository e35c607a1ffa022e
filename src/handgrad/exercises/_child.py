"""The sandbox's child process: load a learner's file, run every case, write the outcomes.

    python -m handgrad.exercises._child NAME FILE OUTDIR MEMORY_MB SECONDS

Writes into OUTDIR only: ``progress.jsonl`` (one JSON line when a case starts and when it
ends), ``case_<i>.npz`` (the outputs, plain number arrays), ``output.txt`` (what the
learner's code printed, capped), ``problem.json`` (when the file cannot be loaded).
"""

from __future__ import annotations

import io
import json
import os
import sys

OUTPUT_CAP = 4000  # characters of the learner's printing that are kept


class _CappedText(io.TextIOBase):
    """A text stream that keeps the first OUTPUT_CAP characters and counts the rest."""

    def __init__(self) -> None:
        self.kept: list[str] = []
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        room = OUTPUT_CAP - self.size
        if room > 0:
            self.kept.append(text[:room])
        self.size += len(text)
        return len(text)

    def text(self) -> str:
        out = "".join(self.kept)
        if self.size > OUTPUT_CAP:
            out += f"\n... ({self.size - OUTPUT_CAP} more characters not shown)"
        return out


def _limit_resources(memory_mb: int, seconds: float) -> None:
    try:
        import resource
    except ImportError:  # not POSIX: the parent's wall clock still applies
        return
    limits = [
        (resource.RLIMIT_AS, memory_mb * 2**20),
        (resource.RLIMIT_CPU, int(seconds) + 2),
        (resource.RLIMIT_FSIZE, 64 * 2**20),
        (resource.RLIMIT_CORE, 0),
    ]
    for what, value in limits:
        soft, hard = resource.getrlimit(what)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        try:
            resource.setrlimit(what, (value, hard))
        except (ValueError, OSError):
            pass


def _write_json(path: str, payload: dict) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(payload, f)


def main(argv: list[str]) -> int:
    name, path, outdir, memory_mb, seconds = argv
    _limit_resources(int(memory_mb), float(seconds))
    import numpy as np

    from .catalogue import get
    from .running import describe_error, run_case

    exercise = get(name)
    printed = _CappedText()
    sys.stdout = sys.stderr = printed  # the learner's printing goes to the cap, not a pipe
    progress = open(os.path.join(outdir, "progress.jsonl"), "a", encoding="utf-8")

    def log(payload: dict) -> None:
        progress.write(json.dumps(payload) + "\n")
        progress.flush()

    try:
        sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
        import runpy

        try:
            namespace = runpy.run_path(path, run_name="__handgrad_exercise__")
        except SyntaxError as exc:
            problem = f"syntax error at line {exc.lineno}: {exc.msg}"
            _write_json(os.path.join(outdir, "problem.json"), {"problem": problem})
            return 0
        except BaseException as exc:  # an import that fails, sys.exit at load, ...
            problem = f"loading the file {describe_error(exc, path)}"
            _write_json(os.path.join(outdir, "problem.json"), {"problem": problem})
            return 0
        missing = [e for e in exercise.entries if e not in namespace]
        if missing:
            problem = f"the file does not define {', '.join(missing)}"
            _write_json(os.path.join(outdir, "problem.json"), {"problem": problem})
            return 0
        for index, case in enumerate(exercise.cases()):
            log({"index": index, "event": "start"})
            outcome = run_case(exercise, namespace, case, None, filename=path)
            arrays = {f"out_{k}": v for k, v in outcome.outputs.items()}
            # number arrays only (run_case checked their dtype), so nothing here needs pickle
            np.savez(os.path.join(outdir, f"case_{index}.npz"), **arrays)  # type: ignore[arg-type]
            log(
                {
                    "index": index,
                    "event": "end",
                    "status": outcome.status,
                    "error": outcome.error,
                    "bad_outputs": outcome.bad_outputs,
                    "mutated": outcome.mutated,
                    "warnings": outcome.warnings,
                }
            )
    finally:
        with open(os.path.join(outdir, "output.txt"), "w", encoding="utf-8") as f:
            f.write(printed.text())
        progress.close()
    return 0


if __name__ == "__main__":
    code = main(sys.argv[1:])
    os._exit(code)  # skip interpreter teardown: the learner's objects may misbehave in it
