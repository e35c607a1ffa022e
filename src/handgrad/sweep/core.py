"""``run_sweep``: check the grid, run what is not done yet, write the records and the report."""

from __future__ import annotations

import contextlib
import importlib.metadata
import platform
import shutil
import statistics
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..io import atomic_write, write_text
from . import summary
from ._pipeline import load_dataset, retrain, score_name
from .execute import Finished, Progress, dask_client, default_stream, run_dask, run_serial
from .grid import SETTINGS, DataSpec, Grid, GridError, Trial, make_grid
from .records import DONE, check_folder, prepare_folder, read_records, write_record

__all__ = ["SweepResult", "run_sweep"]

SERIAL = "serial"
WRITERS = 4  # threads writing one task's records at once (fsyncs overlap: ~8x the throughput)


@dataclass
class SweepResult:
    """What ``run_sweep`` left in ``out``: every record of the grid and the ranked table."""

    out: Path
    grid: Grid
    records: dict[str, dict]  # trial key -> record, for every trial of the grid with one
    ran: int  # trainings run by this call
    skipped: int  # trainings found finished in the folder
    rows: list[summary.Row] = field(default_factory=list)  # ranked, best first
    report: Path | None = None
    model: Path | None = None
    seconds: float = 0.0

    @property
    def best(self) -> summary.Row | None:
        return self.rows[0] if self.rows and self.rows[0].val else None

    def table(self) -> list[tuple]:
        """The ranked table as plain tuples (settings, seeds, mean, std, min, max)."""
        return [
            (
                tuple(sorted(r.settings.items(), key=lambda kv: kv[0])),
                tuple(r.seeds_ok),
                r.mean,
                r.std,
                min(r.val, default=None),
                max(r.val, default=None),
            )
            for r in self.rows
        ]


def run_sweep(
    grid: Grid | Mapping[str, Any],
    data: str | DataSpec | None = None,
    *,
    out: str | Path,
    seeds: Any = 0,
    scheduler: Any = None,
    n_workers: int | None = None,
    max_retries: int = 2,
    report: bool = True,
    heatmap: tuple[str, str] | None = None,
    best_curves: int = 3,
    progress: Any = "auto",
    echo: Callable[[str], None] | None = None,
    on_record: Callable[[dict], None] | None = None,
    per_task: int | None = None,
) -> SweepResult:
    """Run every training of ``grid`` not yet recorded in ``out``; write records and report.

    grid: a Grid (``load_grid``) or a mapping of settings to value lists (then ``data`` and
    ``seeds`` say what to train on), e.g. ``{"hidden": [32, 64], "lr": [0.01, 0.1]}``.
    scheduler: None starts a LocalCluster (one single-threaded worker per core); a
    ``"tcp://HOST:PORT"`` address or a ``distributed.Client`` uses that cluster; ``"serial"``
    trains in this process, one after another (no Dask needed). The results are the same bits.
    on_record: called with each record as soon as it is written (e.g. to show progress).
    per_task: trainings per Dask task; None chooses (several when they are short, see
    ``handgrad.sweep.batches``). The records are the same bits whatever it is.
    Raises GridError (a ValueError) for a bad grid or folder before anything runs.
    """
    start = time.perf_counter()
    if not isinstance(grid, Grid):
        if data is None:
            raise GridError("run_sweep needs data= (a built-in name or a CSV path) with a mapping")
        grid = make_grid(data, grid, seeds=seeds)
    if per_task is not None and (
        not isinstance(per_task, int) or isinstance(per_task, bool) or per_task < 1
    ):
        raise GridError(f"per_task must be an integer >= 1 or None (got {per_task!r})")
    if heatmap is not None:
        for name in heatmap:
            if name not in grid.swept:
                raise GridError(f"heat map: {name!r} is not a swept setting ({grid.swept})")
    out = Path(out)
    spec = grid.data
    dataset = load_dataset(
        spec.source, spec.target, None if spec.features is None else list(spec.features)
    )
    check_folder(out, grid)
    trials = grid.trials()
    records = read_records(out, trials)
    todo = [t for t in trials if records.get(t.key, {}).get("status") not in DONE]
    say = echo or (lambda text: None)
    say(
        f"sweep: {len(trials)} trainings ({len(grid.settings())} settings x {len(grid.seeds)} "
        f"seeds); {len(trials) - len(todo)} already done, {len(todo)} to run -> {out}/"
    )
    stream = default_stream() if progress == "auto" else progress or None
    bar = Progress(len(todo), stream)

    writers = ThreadPoolExecutor(WRITERS, thread_name_prefix="sweep-records")

    def on_done(finished: list[Finished]) -> None:
        """One task's trainings: their records written (in parallel: each waits mostly on
        its fsync), then announced one by one."""
        if len(finished) == 1:
            written = [write_record(out, *finished[0])]
        else:
            written = list(writers.map(lambda done: write_record(out, *done), finished))
        for record in written:
            records[record["key"]] = record
            bar.update(record["status"])
            if on_record is not None:
                on_record(record)

    with writers:
        if todo and scheduler != SERIAL:  # connect first: an unreachable cluster writes nothing
            with dask_client(
                scheduler, n_workers=n_workers, max_retries=max_retries, echo=say
            ) as client:
                prepare_folder(out, grid)
                with contextlib.closing(bar):
                    run_dask(
                        client,
                        dataset,
                        todo,
                        on_done,
                        max_retries=max_retries,
                        progress=bar,
                        per_task=per_task,
                    )
        else:
            prepare_folder(out, grid)
            bar.show()
            with contextlib.closing(bar):
                run_serial(dataset, todo, on_done, max_retries=max_retries)
    result = SweepResult(out, grid, records, ran=len(todo), skipped=len(trials) - len(todo))
    task = next((r["task"] for r in records.values() if r.get("task")), None)
    result.rows = summary.rank(grid, records)
    if task is not None:
        summary.write_table_csv(out / "table.csv", grid, result.rows)
    if report and task is not None:
        result.model = _retrain_best(result, dataset)
        result.report = _write_report(result, task, heatmap, best_curves)
    result.seconds = time.perf_counter() - start
    return result


def best_config(result: SweepResult, full: bool = True) -> dict[str, Any]:
    """The best setting, to retrain on the training and validation rows together.

    With early stopping in the sweep, the retraining runs the median epoch its seeds
    stopped at (there is no validation part left to stop on). ``full=False``: the sweep's
    own configuration of the first seed (training rows only).
    """
    row = result.best
    assert row is not None
    config = Trial(tuple(sorted(row.settings.items())), result.grid.seeds[0]).config
    if not full:
        return config
    stopped = [r["best_val_epoch"] for r in row.records if r.get("best_val_epoch")]
    if config.get("patience") is not None and stopped:
        config["epochs"] = int(statistics.median_low(stopped))
    config["patience"] = None
    config["val_fraction"] = 0.0
    return config


def _retrain_best(result: SweepResult, dataset: Any) -> Path | None:
    """The best setting retrained into ``out/best/``; its model copied to ``out/model.npz``.

    Ctrl-C during the retraining (``fit`` stops early and says so) publishes nothing: the
    half-trained ``best/`` is removed, ``model.npz`` is left as it was, and the
    KeyboardInterrupt goes on (the command exits 130; running it again retrains).
    """
    if result.best is None:
        return None
    config = best_config(result)
    best_dir = result.out / "best"
    try:
        try:
            run = retrain(dataset, config, best_dir)
        except ValueError as exc:
            # the train pipeline of this version cannot train without a validation part
            # (--val-fraction 0 stops on an empty array): retrain that seed's sweep split
            if "empty" not in str(exc):
                raise
            run = retrain(dataset, best_config(result, full=False), best_dir)
        if run.history.stop_reason == "interrupted":
            raise KeyboardInterrupt
    except KeyboardInterrupt:
        shutil.rmtree(best_dir, ignore_errors=True)
        raise
    model_bytes = (best_dir / "model.npz").read_bytes()
    return atomic_write(result.out / "model.npz", lambda fh: fh.write(model_bytes))


def _versions() -> str:
    def version(name: str) -> str:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"

    names = ("handgrad", "numpy", "dask", "distributed")
    return ", ".join(f"{n} {version(n)}" for n in names) + f", Python {platform.python_version()}"


def _write_report(
    result: SweepResult, task: str, heatmap: tuple[str, str] | None, best_curves: int
) -> Path:
    grid, out, rows = result.grid, result.out, result.rows
    score = {"r2": "R²"}.get(score_name(task), score_name(task))
    trials = grid.trials()
    recs = [result.records[t.key] for t in trials if t.key in result.records]
    failed = [r for r in recs if r["status"] != "ok"]
    hosts = sorted({r.get("host", "?") for r in recs if r["status"] == "ok"})
    lines = [
        f"# Sweep on {grid.data.source}",
        "",
        f"{len(trials)} trainings: {len(grid.settings())} settings × {len(grid.seeds)} seeds "
        f"({', '.join(map(str, grid.seeds))}); {len(recs) - len(failed)} finished, "
        f"{len(failed)} failed, {len(trials) - len(recs)} not run. Ranked by the mean "
        f"validation {score} over the seeds (higher is better); ± is the standard deviation "
        "over seeds (n − 1); *test mean* is the mean test score of the same trainings and "
        "*s each* the mean seconds of one training. Each seed also changes the train / "
        "validation / test split.",
        "",
        "Swept: "
        + (", ".join(f"`{k}` ∈ {{{_values(grid, k)}}}" for k in grid.swept) or "nothing")
        + ". Held fixed: "
        + (
            ", ".join(
                f"`{k}` = {_values(grid, k)}"
                for k in SETTINGS
                if k in grid.values and k not in grid.swept
            )
            or "the defaults of `handgrad train`"
        )
        + ".",
        "",
        "## Ranked settings",
        "",
        *summary.table_markdown(grid, rows, score),
        "",
    ]
    if failed:
        lines += ["## Failed trainings", "", "| setting | seed | reason |", "| --- | ---: | --- |"]
        for r in failed:
            shown = ", ".join(f"{k} {summary.format_value(k, v)}" for k, v in r["settings"].items())
            lines.append(f"| {shown} | {r['seed']} | {r['reason'].replace('|', '/')} |")
        lines.append("")
    axes = heatmap or ((grid.swept[0], grid.swept[1]) if len(grid.swept) >= 2 else None)
    if axes is not None:
        summary.plot_heatmap(out / "heatmap.png", grid, rows, axes, score)
        lines += [
            "## Heat map",
            "",
            f"![validation {score} over {axes[0]} and {axes[1]}](heatmap.png)",
            "",
            f"*Mean validation {score} over seeds for each pair of `{axes[0]}` and `{axes[1]}`"
            + (", the best over the other swept settings" if len(grid.swept) > 2 else "")
            + ".*",
            "",
        ]
    top = [r for r in rows if r.val][:best_curves]
    if top:
        summary.plot_curves(out / "curves.png", grid, top, task)
        lines += [
            "## Learning curves of the best settings",
            "",
            "![validation curves of the best settings](curves.png)",
            "",
            f"*The {len(top)} best settings: validation loss and "
            f"{'accuracy' if task == 'classification' else 'MSE'} per epoch, mean over seeds.*",
            "",
        ]
    if result.model is not None:
        lines += _best_section(result, score)
    lines += [
        "## Where it ran",
        "",
        f"Hosts: {', '.join(hosts) or 'none'}. {_versions()}. Each training used one BLAS "
        "thread; the same setting and seed give the same numbers serially and on a cluster.",
        "",
    ]
    text = "\n".join(lines)
    write_text(out / "report.md", text)
    return summary.to_html(text, out, title=f"handgrad sweep on {grid.data.source}")


def _number(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.4f}"


def _values(grid: Grid, key: str) -> str:
    return ", ".join(summary.format_value(key, v) for v in grid.values[key])


def _best_section(result: SweepResult, score: str) -> list[str]:
    import json

    best_dir = result.out / "best"
    used = json.loads((best_dir / "config.json").read_text())
    metrics = json.loads((best_dir / "metrics.json").read_text())
    test = metrics["test"].get({"R²": "r2"}.get(score, score))
    row = result.best
    assert row is not None
    shown = ", ".join(f"`{k}` {summary.format_value(k, v)}" for k, v in row.settings.items())
    if used["val_fraction"] == 0:
        how = (
            f"on the training and validation rows together for {used['epochs']} epochs "
            "(early stopping off: no validation part is left)"
        )
    else:
        how = (
            "on the training rows of the sweep's split (this version of the train pipeline "
            "cannot train without a validation part)"
        )
    return [
        "## The best setting, retrained",
        "",
        f"{shown}; retrained with seed {used['seed']} {how}. Test {score} {_number(test)} "
        "on the held-out test rows (the same rows as that seed's test part in the sweep). "
        "The model is `model.npz` (its run folder, with a report, is `best/`):",
        "",
        "```",
        f"handgrad predict --model {result.out / 'model.npz'} --data NEW_ROWS.csv",
        "```",
        "",
    ]
