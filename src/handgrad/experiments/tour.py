"""The tour: every experiment in turn, with progress, then one report (report.md, report.html).

``run_tour`` never stops at a failed experiment: its traceback goes to ``NAME/error.txt``
and its section in the report says so. Ctrl-C stops the tour after writing the report of
what ran. ``run_one`` is ``handgrad run NAME``: one experiment and its own report.
``TourProgress`` prints a line per experiment on stderr, and inside long experiments (the
discussion) a bar on a terminal, or a plain line per part when the output is piped.
"""

from __future__ import annotations

import inspect
import sys
import time
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from .. import experiments as registry  # looked up at call time: tests swap the registry
from ..io import write_text
from ..report import SectionEntry, skipped_parts, write_experiment_report, write_tour_report
from .base import ExperimentResult

__all__ = ["TourProgress", "TourResult", "chapter_heading", "run_one", "run_tour", "USES_SCHEDULER"]

# experiments whose loops can run as Dask tasks (``--scheduler``, see handgrad.sweep)
USES_SCHEDULER = ("digits", "discussion")


class TourProgress:
    """Progress of a tour on ``stream``: a line per experiment, steps inside long ones.

    On a terminal each experiment's line is rewritten in place (with a bar for its steps);
    otherwise (CI, ``| tee``) every event is its own plain line, flushed at once.
    """

    BAR = 20

    def __init__(self, total: int, stream: TextIO | None = None, enabled: bool = True):
        self.total, self.enabled = total, enabled
        self.stream = stream if stream is not None else sys.stderr
        self.live = bool(getattr(self.stream, "isatty", lambda: False)())
        self._prefix = ""

    def _line_prefix(self, k: int, name: str) -> str:
        return f"[{k:>{len(str(self.total))}}/{self.total}] {name}"

    def start(self, k: int, name: str) -> None:
        self._prefix = self._line_prefix(k, name)
        self._write(f"{self._prefix} ..." + ("" if self.live else "\n"))

    def started(self, k: int, name: str) -> None:
        """A chapter started elsewhere (the tour's second worker): one plain line."""
        self._write(f"{self._line_prefix(k, name)} ...\n")

    def finished(
        self, k: int, name: str, seconds: float, error: str | None, skipped: Sequence[str]
    ) -> None:
        """A chapter ended elsewhere (the tour's second worker): one plain line."""
        status = self._status(error, skipped)
        self._write(f"{self._line_prefix(k, name)}: {status}, {seconds:.1f} s\n")

    def step(self, done: int, total: int, label: str) -> None:
        """Inside an experiment: ``done`` of ``total`` parts finished, ``label`` runs next."""
        if self.live:
            filled = round(self.BAR * done / max(total, 1))
            bar = "#" * filled + "." * (self.BAR - filled)
            self._write(f"\r\x1b[K{self._prefix} [{bar}] {done}/{total} {label}")
        else:
            pad = " " * (len(str(self.total)) * 2 + 3)
            self._write(f"{pad} {done}/{total} {label}\n")

    @staticmethod
    def _status(error: str | None, skipped: Sequence[str]) -> str:
        if error:
            return f"FAILED ({error})"
        if skipped:
            return "ok; skipped " + "; ".join(skipped)
        return "ok"

    def done(self, seconds: float, error: str | None = None, skipped: Sequence[str] = ()) -> None:
        clear = "\r\x1b[K" if self.live else ""
        self._write(f"{clear}{self._prefix}: {self._status(error, skipped)}, {seconds:.1f} s\n")

    def _write(self, text: str) -> None:
        if self.enabled:
            self.stream.write(text)
            self.stream.flush()


@dataclass
class TourResult:
    entries: list[SectionEntry]
    markdown: Path
    html: Path
    interrupted: bool = False

    @property
    def failed(self) -> list[str]:
        return [e.name for e in self.entries if not e.ok]


def chapter_heading(name: str) -> str:
    """The chapter's number and title for progress lines ('3 · Nonlinearity: fitting a sine')."""
    from ..chapters import chapter

    try:
        return chapter(name).heading
    except ValueError:  # an experiment that is not a chapter of the course
        return name


def _title_and_stage(name: str) -> tuple[str, str]:
    """The module's TITLE and STAGE, or the bare name when even the import fails."""
    try:
        module = registry.load_experiment(name)
        return str(getattr(module, "TITLE", name)), str(getattr(module, "STAGE", ""))
    except Exception:  # noqa: BLE001 - the failure itself is reported in the section
        return name, ""


def _run_with_progress(
    name: str, out: Path, *, seed: int, quick: bool, options: dict, progress: TourProgress | None
) -> ExperimentResult:
    """``run_experiment``, passing the progress callback to experiments that take one."""
    if progress is not None:
        run = registry.load_experiment(name).run
        if "progress" in inspect.signature(run).parameters:
            options = {**options, "progress": progress.step}
    return registry.run_experiment(name, seed=seed, out_dir=out, quick=quick, **options)


def _entry(name: str, result: ExperimentResult, folder: Path) -> SectionEntry:
    return SectionEntry(
        name, result.title, result.stage, folder, None, result.seconds, list(result.skipped)
    )


def run_tour(
    names: list[str],
    out: str | Path,
    *,
    seed: int = 0,
    quick: bool = False,
    mnist: str | None = None,
    scheduler=None,
    progress: TourProgress | None = None,
    command: str = "",
    workers: int = 1,
) -> TourResult:
    """Run the experiments ``names`` into ``out``, then write the report there.

    ``workers=2`` runs two chapters at a time (this process and one worker process, see
    ``tour_pool``); not with a Dask ``scheduler``, which has workers of its own.
    """
    from .tour_pool import Helper, Outcome, SharedQueue

    unknown = [n for n in names if n not in registry.EXPERIMENTS]
    if unknown:
        raise ValueError(f"unknown experiment(s) {', '.join(unknown)}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    done: dict[str, SectionEntry] = {}
    queue = SharedQueue(names)

    def options_for(name: str) -> dict:
        options = {"mnist": mnist} if name == "mnist" and mnist else {}
        if scheduler is not None and name in USES_SCHEDULER:
            options["scheduler"] = scheduler
        return options

    def failed(name: str, error: str, trace: str, seconds: float) -> SectionEntry:
        folder = out / name
        write_text(folder / "error.txt", trace)
        title, stage = _title_and_stage(name)
        return SectionEntry(name, title, stage, folder, error, seconds)

    def helper_done(k: int, o: Outcome) -> None:
        if o.error is not None:
            done[o.name] = failed(o.name, o.error, o.trace, o.seconds)
        else:
            (out / o.name / "error.txt").unlink(missing_ok=True)
            done[o.name] = SectionEntry(
                o.name, o.title, o.stage, out / o.name, None, o.seconds, o.skipped
            )
        if progress is not None:
            error = None if o.error is None else o.error.splitlines()[0][:120]
            progress.finished(k, chapter_heading(o.name), o.seconds, error, o.skipped)

    helper = None
    if workers > 1 and len(names) > 1 and scheduler is None:
        if progress is not None:
            progress.live = False  # two chapters at a time: plain lines, none rewritten

        def announce(k: int, name: str) -> None:
            if progress is not None:
                progress.started(k, chapter_heading(name))

        helper = Helper(queue, (out, seed, quick), options_for, helper_done, announce).start()
    interrupted = False
    try:
        interrupted = _run_here(queue, out, seed, quick, options_for, progress, done, failed)
    finally:
        if helper is not None:
            try:
                helper.finish(interrupted)
            except KeyboardInterrupt:
                interrupted = True
                helper.finish(True)
    entries = [done[n] for n in names if n in done]
    interrupted = interrupted or any(e.error == "interrupted (Ctrl-C)" for e in entries)
    md, page = write_tour_report(entries, out, seed=seed, quick=quick, command=command)
    return TourResult(entries, md, page, interrupted)


def _run_here(queue, out: Path, seed, quick, options_for, progress, done, failed) -> bool:
    """This process's share of the tour: chapters from ``queue`` until it is empty.

    -> True when Ctrl-C stopped it (the chapter running then is recorded as interrupted).
    """
    while (job := queue.take()) is not None:
        k, name = job
        if progress is not None:
            progress.start(k, chapter_heading(name))
        started = time.perf_counter()
        folder = out / name
        try:
            result = _run_with_progress(
                name, out, seed=seed, quick=quick, options=options_for(name), progress=progress
            )
        except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - reported in its section
            seconds = time.perf_counter() - started
            interrupted = isinstance(exc, KeyboardInterrupt)
            error = "interrupted (Ctrl-C)" if interrupted else f"{type(exc).__name__}: {exc}"
            done[name] = failed(name, error, traceback.format_exc(), seconds)
            if progress is not None:
                progress.done(seconds, error.splitlines()[0][:120])
            if interrupted:  # stop here, but still write the report of what ran
                queue.stop()
                return True
            continue
        (folder / "error.txt").unlink(missing_ok=True)  # left by an earlier failed run
        done[name] = _entry(name, result, folder)
        if progress is not None:
            progress.done(result.seconds, skipped=result.skipped)
    return False


def run_one(
    name: str,
    out: str | Path,
    *,
    seed: int = 0,
    quick: bool = False,
    mnist: str | None = None,
    scheduler=None,
    progress: TourProgress | None = None,
    command: str = "",
) -> tuple[ExperimentResult, Path, Path]:
    """One experiment into ``out/name``, with its own report.md and report.html there."""
    options: dict = {"mnist": mnist} if mnist else {}
    if scheduler is not None:
        if name not in USES_SCHEDULER:
            raise ValueError(f"--scheduler applies to {', '.join(USES_SCHEDULER)} only")
        options["scheduler"] = scheduler
    if progress is not None:
        progress.start(1, chapter_heading(name))
    result = _run_with_progress(
        name, Path(out), seed=seed, quick=quick, options=options, progress=progress
    )
    if progress is not None:
        progress.done(result.seconds, skipped=result.skipped)
    folder = Path(out) / name
    entry = _entry(name, result, folder)
    entry.skipped = entry.skipped or skipped_parts(folder)
    md, page = write_experiment_report(entry, seed=seed, quick=quick, command=command)
    return result, md, page
