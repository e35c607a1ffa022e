"""Running experiments for the tour and for ``handgrad run NAME``, and writing their report."""

from __future__ import annotations

import inspect
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from ... import experiments as registry  # looked up at call time: tests swap the registry
from ...io import write_text
from ...report import SectionEntry, skipped_parts, write_experiment_report, write_tour_report
from ..base import ExperimentResult, output_folder
from .pool import Helper, Outcome, SharedQueue
from .progress import TourProgress, chapter_heading

__all__ = ["TourResult", "run_one", "run_tour", "USES_SCHEDULER"]

# experiments whose loops can run as Dask tasks (``--scheduler``, see handgrad.sweep)
USES_SCHEDULER = ("digits", "discussion")


@dataclass
class TourResult:
    entries: list[SectionEntry]
    markdown: Path
    html: Path
    interrupted: bool = False

    @property
    def failed(self) -> list[str]:
        return [e.name for e in self.entries if not e.ok]


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


@dataclass
class _Tour:
    """One tour's settings and the sections finished so far (``done``, by name)."""

    out: Path
    seed: int
    quick: bool
    mnist: str | None
    scheduler: object
    progress: TourProgress | None
    done: dict[str, SectionEntry] = field(default_factory=dict)

    def options_for(self, name: str) -> dict:
        options: dict = {"mnist": self.mnist} if name == "mnist" and self.mnist else {}
        if self.scheduler is not None and name in USES_SCHEDULER:
            options["scheduler"] = self.scheduler
        return options

    def failed(self, name: str, error: str, trace: str, seconds: float) -> SectionEntry:
        """Record a failed chapter: its traceback in NAME/error.txt, its section says so."""
        folder = self.out / name
        write_text(folder / "error.txt", trace)
        title, stage = _title_and_stage(name)
        entry = SectionEntry(name, title, stage, folder, error, seconds)
        self.done[name] = entry
        return entry

    def succeeded(self, entry: SectionEntry) -> None:
        (entry.folder / "error.txt").unlink(missing_ok=True)  # left by an earlier failed run
        self.done[entry.name] = entry

    def helper_done(self, k: int, o: Outcome) -> None:
        """A chapter the worker process ran has ended."""
        if o.error is not None:
            self.failed(o.name, o.error, o.trace, o.seconds)
        else:
            folder = self.out / o.name
            self.succeeded(
                SectionEntry(o.name, o.title, o.stage, folder, None, o.seconds, o.skipped)
            )
        if self.progress is not None:
            error = None if o.error is None else o.error.splitlines()[0][:120]
            self.progress.finished(k, chapter_heading(o.name), o.seconds, error, o.skipped)

    def announce(self, k: int, name: str) -> None:
        if self.progress is not None:
            self.progress.started(k, chapter_heading(name))

    def run_here(self, queue: SharedQueue) -> bool:
        """This process's share of the tour: chapters from ``queue`` until it is empty.

        -> True when Ctrl-C stopped it (the chapter running then is recorded as interrupted).
        """
        while (job := queue.take()) is not None:
            k, name = job
            if self.progress is not None:
                self.progress.start(k, chapter_heading(name))
            if self._run_one_here(name):
                queue.stop()  # stop here, but still write the report of what ran
                return True
        return False

    def _run_one_here(self, name: str) -> bool:
        """One chapter in this process -> True when Ctrl-C interrupted it."""
        started = time.perf_counter()
        try:
            result = _run_with_progress(
                name,
                self.out,
                seed=self.seed,
                quick=self.quick,
                options=self.options_for(name),
                progress=self.progress,
            )
        except (Exception, KeyboardInterrupt) as exc:  # noqa: BLE001 - reported in its section
            seconds = time.perf_counter() - started
            interrupted = isinstance(exc, KeyboardInterrupt)
            error = "interrupted (Ctrl-C)" if interrupted else f"{type(exc).__name__}: {exc}"
            self.failed(name, error, traceback.format_exc(), seconds)
            if self.progress is not None:
                self.progress.done(seconds, error.splitlines()[0][:120])
            return interrupted
        self.succeeded(_entry(name, result, self.out / name))
        if self.progress is not None:
            self.progress.done(result.seconds, skipped=result.skipped)
        return False


def _start_helper(tour: _Tour, queue: SharedQueue, workers: int, n: int) -> Helper | None:
    """The second worker, when two chapters may run at a time (not with a Dask scheduler)."""
    if workers <= 1 or n <= 1 or tour.scheduler is not None:
        return None
    if tour.progress is not None:
        tour.progress.live = False  # two chapters at a time: plain lines, none rewritten
    job = (tour.out, tour.seed, tour.quick)
    return Helper(queue, job, tour.options_for, tour.helper_done, tour.announce).start()


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
    ``pool``); not with a Dask ``scheduler``, which has workers of its own.
    """
    unknown = [n for n in names if n not in registry.EXPERIMENTS]
    if unknown:
        raise ValueError(f"unknown experiment(s) {', '.join(unknown)}")
    out = output_folder(out)
    tour = _Tour(out, seed, quick, mnist, scheduler, progress)
    queue = SharedQueue(names)
    helper = _start_helper(tour, queue, workers, len(names))
    interrupted = False
    try:
        interrupted = tour.run_here(queue)
    finally:
        if helper is not None:
            try:
                helper.finish(interrupted)
            except KeyboardInterrupt:
                interrupted = True
                helper.finish(True)
    entries = [tour.done[n] for n in names if n in tour.done]
    interrupted = interrupted or any(e.error == "interrupted (Ctrl-C)" for e in entries)
    md, page = write_tour_report(entries, out, seed=seed, quick=quick, command=command)
    return TourResult(entries, md, page, interrupted)


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
