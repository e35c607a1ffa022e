"""How close a sweep on a local Dask cluster comes to the most two cores can give.

    python benchmarks/sweep_speedup.py [--settings long small] [--repeats R] [--workers W]
    make bench-sweep                       # the whole measurement, ~5 minutes on a quiet machine

Two settings, each a sweep run serially in this process and on a fresh LocalCluster of W
single-threaded worker processes (default: one per core), in alternating order, R times:

- **long**: 48 trainings on digits (hidden 32 / 64 x lr 0.003 / 0.01 / 0.03 x batch 32 / 64
  x seeds 0-3), 200 epochs each (~0.8 s on an idle core);
- **small**: 1440 trainings on iris (hidden 4 / 8 / 16 / 32 x lr 0.01 / 0.03 / 0.1 x seeds
  0-119), 3 epochs each (a few milliseconds: shorter than a Dask task's own cost), run on the
  cluster twice: one training per task (``per_task=1``) and batched (the sweep's choice).

**The ceiling**, measured after each round of runs: the same setting's trainings (the
sweep's own ``train_trial``, no Dask, no records) in one plain process alone, then in two
processes side by side, then alone again. Two processes' throughput over one's (2.0 on two
idle cores; less when the cores share caches or other jobs take a share) is the most any
two-process runner can gain on this machine at that moment; each round's speed-up
(serial wall / cluster wall) is reported as a fraction of its own ceiling.

**The per-task overhead**, stated two ways: measured directly (a LocalCluster running
no-op tasks that return a record-sized result: scheduling, the task and the result's trip;
the client writing one record), and seen in the sweeps: (W x cluster wall - sum of the
trainings' seconds) / trainings, the worker-seconds a training costs beyond itself (tasks,
the idle tail, the workers' first imports).

A cluster's wall time runs from starting the cluster to having closed it (the command waits
on both); "without start" leaves out the start only, and the close is printed on its own.

Every run's records must be the same bits (checked). The trainings' own CPU time (the
records' ``cpu_seconds``) on the workers over the serial loop's says, whatever the load,
whether a training costs more in a worker than in a plain process. The load average is
printed with every figure; on a shared machine the figures are indicative only. Printed as
it goes, then as a Markdown table for docs/performance.md; saved to
benchmarks/results/sweep_speedup.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # serial: one BLAS thread, like the workers

from handgrad.sweep import make_grid, run_sweep  # noqa: E402
from handgrad.sweep._pipeline import BLAS_ENV, load_dataset  # noqa: E402
from handgrad.sweep.execute import dask_client  # noqa: E402

HERE = Path(__file__).resolve().parent
SETTINGS = {
    "long": (
        "digits",
        {"hidden": [32, 64], "lr": [0.003, 0.01, 0.03], "batch_size": [32, 64], "epochs": 200},
        "0-3",
    ),
    "small": ("iris", {"hidden": [4, 8, 16, 32], "lr": [0.01, 0.03, 0.1], "epochs": 3}, "0-119"),
}
MODES = {"long": ("serial", "cluster"), "small": ("serial", "one-per-task", "cluster")}
MEASURED = ("status", "scores", "metrics", "history", "epochs_run")


def load() -> float:
    return round(os.getloadavg()[0], 2)


def one_run(grid, mode: str, workers: int) -> dict:
    """One whole sweep into a fresh folder: wall seconds (with the cluster's start and close),
    the client's CPU seconds, and the records' training seconds."""
    out = Path(tempfile.mkdtemp(prefix=f"sweep-{mode}-"))
    before = load()
    cluster_seconds = 0.0
    started, cpu = time.perf_counter(), time.process_time()
    if mode == "serial":
        result = run_sweep(grid, out=out, scheduler="serial", report=False, progress=None)
        swept = time.perf_counter()
    else:  # the sweep's own LocalCluster, started and closed as `handgrad sweep` does
        with dask_client(None, n_workers=workers) as client:
            cluster_seconds = time.perf_counter() - started
            per_task = 1 if mode == "one-per-task" else None
            result = run_sweep(
                grid, out=out, scheduler=client, report=False, progress=None, per_task=per_task
            )
            swept = time.perf_counter()
    wall = time.perf_counter() - started  # the cluster's close included: the user waits on it
    records = {k: {f: r[f] for f in MEASURED} for k, r in result.records.items()}
    shutil.rmtree(out, ignore_errors=True)
    return {
        "mode": mode,
        "wall": wall,
        "cluster_start": cluster_seconds,
        "cluster_close": started + wall - swept,
        "sweep": wall - cluster_seconds,
        "client_cpu": time.process_time() - cpu,
        "train_seconds": sum(r["seconds"] for r in result.records.values()),
        "train_cpu": sum(r["cpu_seconds"] for r in result.records.values()),
        "load": [before, load()],
        "records": records,
    }


# the ceiling: the setting's own trainings in plain processes (no Dask, no records); each
# child times its work after its imports, its data and one warm-up training
PLAIN_CHILD = """
import json, sys, time
from handgrad.sweep._pipeline import load_dataset, train_trial
name, configs = json.loads(sys.argv[1])
data = load_dataset(name, None, None)
train_trial(data, configs[0])
t0 = time.perf_counter()
for config in configs:
    train_trial(data, config)
print(time.perf_counter() - t0)
"""


def plain_processes(count: int, name: str, configs: list[dict]) -> float:
    """``count`` processes started at once, each training ``configs`` (one BLAS thread);
    the slowest one's seconds of work."""
    env = {**os.environ, **BLAS_ENV}
    argv = [sys.executable, "-c", PLAIN_CHILD, json.dumps([name, configs])]
    children = [
        subprocess.Popen(argv, stdout=subprocess.PIPE, text=True, env=env) for _ in range(count)
    ]
    return max(float(child.communicate()[0]) for child in children)


def ceiling(name: str, configs: list[dict]) -> dict:
    """Two plain processes' throughput over one's: alone, two side by side, alone again (a
    change of load falls on both sides)."""
    before = plain_processes(1, name, configs)
    two = plain_processes(2, name, configs)
    after = plain_processes(1, name, configs)
    alone = (before + after) / 2
    return {"alone": [before, after], "two": two, "ceiling": 2 * alone / two, "load": load()}


def ceiling_configs(grid, seconds_each: float, target: float) -> list[dict]:
    """The grid's trainings in order (repeated if need be), about ``target`` seconds' worth."""
    trials = grid.trials()
    count = max(2, math.ceil(target / max(seconds_each, 1e-4)))
    return [trials[i % len(trials)].config for i in range(count)]


# --- the per-task overhead, measured directly ------------------------------------------------


def _noop(data, config):
    """A task doing nothing, returning a result the size of a 200-epoch record (~8 KB)."""
    return {"history": [0.5] * 800, "config": config}


def task_overhead(workers: int, tasks: int = 400) -> dict:
    """Worker-milliseconds per no-op task on a LocalCluster (the data scattered first, as in a
    sweep), and the client's milliseconds to write one record."""
    import distributed

    from handgrad.sweep.records import write_record

    data = load_dataset("digits", None, None)
    with dask_client(None, n_workers=workers) as client:
        [scattered] = client.scatter([data], broadcast=True, hash=False)
        client.gather([client.submit(_noop, scattered, {}, pure=False) for _ in range(workers)])
        started = time.perf_counter()
        futures = [client.submit(_noop, scattered, {"i": i}, pure=False) for i in range(tasks)]
        for future in distributed.as_completed(futures):
            future.result()
            future.release()
        wall = time.perf_counter() - started
    grid = make_grid("digits", {"hidden": [32], "epochs": 1}, seeds=[0])
    trial = grid.trials()[0]
    measured = {"status": "ok", "reason": "", "history": {"val_loss": [0.5] * 200}}
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "records").mkdir()
        t0 = time.perf_counter()
        for _ in range(50):
            write_record(Path(tmp), trial, {**measured, "metrics": [0.1] * 600}, 1)
        write = (time.perf_counter() - t0) / 50
    return {"task_ms": 1e3 * workers * wall / tasks, "record_ms": 1e3 * write, "load": load()}


# --- one setting, R rounds ------------------------------------------------------------------


def measure_setting(name: str, repeats: int, workers: int, ceiling_seconds: float) -> dict:
    data, values, seeds = SETTINGS[name]
    grid = make_grid(data, values, seeds=seeds)
    n = len(grid.trials())
    print(f"\n[{name}] {n} trainings on {data}, {values['epochs']} epochs each", flush=True)
    rounds = []
    for r in range(repeats):
        modes = MODES[name] if r % 2 == 0 else MODES[name][::-1]
        runs = {}
        for mode in modes:
            run = one_run(grid, mode, workers)
            runs[mode] = run
            print(
                f"  {mode:>12}: {run['wall']:6.2f} s wall (cluster start "
                f"{run['cluster_start']:.2f} s, close {run['cluster_close']:.2f} s), trainings "
                f"{run['train_seconds']:6.2f} s (CPU {run['train_cpu']:6.2f} s, "
                f"{1e3 * run['train_cpu'] / n:.1f} ms each), client CPU {run['client_cpu']:.2f} s, "
                f"load {run['load'][0]} -> {run['load'][1]}",
                flush=True,
            )
        each = runs["serial"]["train_seconds"] / n
        c = ceiling(data, ceiling_configs(grid, each, ceiling_seconds))
        print(
            f"  ceiling: alone {c['alone'][0]:.2f} / {c['alone'][1]:.2f} s, two side by side "
            f"{c['two']:.2f} s: {c['ceiling']:.2f}x (load {c['load']})",
            flush=True,
        )
        for mode in MODES[name][1:]:
            speedup = runs["serial"]["wall"] / runs[mode]["wall"]
            print(
                f"  round {r + 1}, {mode}: {speedup:.2f}x of a ceiling of {c['ceiling']:.2f}x: "
                f"{speedup / c['ceiling']:.2f} of it",
                flush=True,
            )
        rounds.append({"runs": runs, "ceiling": c})
    return summarize(name, n, workers, rounds)


def summarize(name: str, n: int, workers: int, rounds: list[dict]) -> dict:
    def median(values):
        return statistics.median(list(values))

    first = rounds[0]["runs"]["serial"]["records"]
    identical = all(run["records"] == first for rd in rounds for run in rd["runs"].values())
    rows = []
    for mode in MODES[name][1:]:
        speedups = [rd["runs"]["serial"]["wall"] / rd["runs"][mode]["wall"] for rd in rounds]
        no_start = [rd["runs"]["serial"]["wall"] / rd["runs"][mode]["sweep"] for rd in rounds]
        ceilings = [rd["ceiling"]["ceiling"] for rd in rounds]
        rows.append(
            {
                "mode": mode,
                "serial_wall": median(rd["runs"]["serial"]["wall"] for rd in rounds),
                "cluster_wall": median(rd["runs"][mode]["wall"] for rd in rounds),
                "cluster_start": median(rd["runs"][mode]["cluster_start"] for rd in rounds),
                "speedup": median(speedups),
                "speedup_without_start": median(no_start),
                "ceiling": median(ceilings),
                "fraction": median(s / c for s, c in zip(speedups, ceilings)),
                "fraction_without_start": median(s / c for s, c in zip(no_start, ceilings)),
                "overhead_per_training": median(
                    (workers * rd["runs"][mode]["sweep"] - rd["runs"][mode]["train_seconds"]) / n
                    for rd in rounds
                ),
                "client_cpu_per_training": median(
                    rd["runs"][mode]["client_cpu"] / n for rd in rounds
                ),
                "cpu_ratio": median(
                    rd["runs"][mode]["train_cpu"] / rd["runs"]["serial"]["train_cpu"]
                    for rd in rounds
                ),
                "serial_cpu_per_training": median(
                    rd["runs"]["serial"]["train_cpu"] / n for rd in rounds
                ),
                "cpu_per_training": median(rd["runs"][mode]["train_cpu"] / n for rd in rounds),
                "cluster_close": median(rd["runs"][mode]["cluster_close"] for rd in rounds),
                "loads": [x for rd in rounds for x in rd["runs"][mode]["load"]],
            }
        )
    saved = [
        {"ceiling": rd["ceiling"], "runs": {m: _without_records(r) for m, r in rd["runs"].items()}}
        for rd in rounds
    ]
    return {
        "setting": name,
        "trainings": n,
        "records_identical": identical,
        "rows": rows,
        "rounds": saved,
    }


def _without_records(run: dict) -> dict:
    return {k: v for k, v in run.items() if k != "records"}


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.0f} ms" if seconds >= 0.1 else f"{seconds * 1e3:.1f} ms"


def markdown(results: list[dict], overhead: dict | None) -> list[str]:
    lines = [
        "| setting | cluster | serial wall | cluster wall (start, close) "
        "| speed-up (without start) | ceiling | fraction of the ceiling (without start) "
        "| worker-s per training beyond it "
        "| CPU per training, serial → cluster | load |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
    ]
    for res in results:
        for row in res["rows"]:
            lines.append(
                f"| {res['setting']} ({res['trainings']}) | {row['mode']} "
                f"| {row['serial_wall']:.1f} s | {row['cluster_wall']:.1f} s "
                f"({row['cluster_start']:.1f} s, {row['cluster_close']:.1f} s) "
                f"| {row['speedup']:.2f}x "
                f"({row['speedup_without_start']:.2f}x) | {row['ceiling']:.2f}x "
                f"| **{row['fraction']:.2f}** ({row['fraction_without_start']:.2f}) "
                f"| {row['overhead_per_training'] * 1e3:.0f} ms "
                f"| {_ms(row['serial_cpu_per_training'])} → {_ms(row['cpu_per_training'])} "
                f"(×{row['cpu_ratio']:.3f}) "
                f"| {min(row['loads'])}-{max(row['loads'])} |"
            )
    if overhead is not None:
        lines += [
            "",
            f"Per-task overhead measured directly: {overhead['task_ms']:.1f} worker-ms per "
            f"no-op task (scheduling, the task and an 8 KB result), {overhead['record_ms']:.1f} "
            f"ms for the client to write one record (load {overhead['load']}).",
        ]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--settings", nargs="+", choices=list(SETTINGS), default=list(SETTINGS))
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--ceiling-seconds",
        type=float,
        default=5.0,
        help="seconds of training in each plain process of the ceiling (on an idle core)",
    )
    parser.add_argument(
        "--epochs", type=int, default=None, help="override the long setting's 200 epochs"
    )
    args = parser.parse_args()
    if args.epochs is not None:
        SETTINGS["long"][1]["epochs"] = args.epochs

    started = time.perf_counter()
    print(f"{dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC, {args.workers} workers, "
          f"load {os.getloadavg()}", flush=True)  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:  # imports and data loading, outside the clock
        for data in {SETTINGS[s][0] for s in args.settings}:
            warm = make_grid(data, {"hidden": [8], "epochs": 1}, seeds=[0])
            run_sweep(warm, out=Path(tmp) / data, scheduler="serial", report=False, progress=None)
    overhead = task_overhead(args.workers)
    print(
        f"per-task overhead: {overhead['task_ms']:.1f} worker-ms per no-op task, "
        f"{overhead['record_ms']:.1f} ms to write a record (load {overhead['load']})",
        flush=True,
    )
    results = [
        measure_setting(name, args.repeats, args.workers, args.ceiling_seconds)
        for name in args.settings
    ]
    print()
    for res in results:
        print(f"[{res['setting']}] records identical in every run: {res['records_identical']}")
    print("\n" + "\n".join(markdown(results, overhead)))
    print(f"\n{time.perf_counter() - started:.0f} s in all; load now {os.getloadavg()}")
    results_dir = HERE / "results"
    results_dir.mkdir(exist_ok=True)
    payload = {
        "when": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "overhead": overhead,
        "settings": results,
    }
    (results_dir / "sweep_speedup.json").write_text(json.dumps(payload, indent=2) + "\n")
    print(f"saved {results_dir / 'sweep_speedup.json'}")


if __name__ == "__main__":
    main()
