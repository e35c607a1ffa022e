"""How much faster a sweep runs on a local Dask cluster than one training after another.

    python benchmarks/sweep_speedup.py [--repeats R] [--epochs E] [--workers W]

One sweep of 48 trainings on digits (hidden 32 / 64 x lr 0.003 / 0.01 / 0.03 x batch size
32 / 64 x seeds 0-3) runs serially in this process and on a LocalCluster of W single-threaded
worker processes (default: one per core), alternately, R times each (the machine is shared:
alternating spreads the other jobs' load over both). For each run: the wall time, the load
average, and the sum of the trainings' own seconds (from the records). Reported:

- speed-up = serial wall / cluster wall, with and without starting the cluster;
- per-task overhead of the cluster = (W x cluster wall - sum of training seconds) / trainings:
  what one task costs beyond its training (scheduling, sending, the idle tail, the workers'
  first imports), in worker-seconds;
- how much of a training is the fit itself (the epochs) and how much the rest of the train
  pipeline (split, evaluation, and the run folder with its plots that it writes);
- whether the two runs' records are the same bits (they must be);
- the ceiling, measured after each serial/cluster pair: a plain NumPy training (the loop
  of ``plain_numpy.py`` on digits-sized data, one BLAS thread) in one process alone, then
  in two processes side by side, then alone again (the mean of the two alone runs); two
  processes' throughput over one's (2.0 on two idle cores; less when other jobs take a
  share) is the most a two-worker sweep can gain at that moment, and each pair's speed-up
  is reported as a fraction of its ceiling.

Printed, and saved to benchmarks/results/sweep_speedup.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
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

HERE = Path(__file__).resolve().parent
GRID = {"hidden": [32, 64], "lr": [0.003, 0.01, 0.03], "batch_size": [32, 64]}
SEEDS = "0-3"
MEASURED = ("status", "scores", "metrics", "history", "epochs_run")


def one_run(grid, mode: str, workers: int) -> dict:
    """One whole sweep into a fresh folder; wall seconds and the records' training seconds."""
    out = Path(tempfile.mkdtemp(prefix=f"sweep-{mode}-"))
    load = os.getloadavg()[0]
    cluster_seconds = 0.0
    started = time.perf_counter()
    if mode == "serial":
        result = run_sweep(grid, out=out, scheduler="serial", report=False, progress=None)
    else:
        import distributed

        from handgrad.sweep._pipeline import BLAS_ENV

        t0 = time.perf_counter()
        with (
            distributed.LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address="127.0.0.1:0",
                env=dict(BLAS_ENV),
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            cluster_seconds = time.perf_counter() - t0
            result = run_sweep(grid, out=out, scheduler=client, report=False, progress=None)
    wall = time.perf_counter() - started
    records = {k: {f: r[f] for f in MEASURED} for k, r in result.records.items()}
    train_seconds = sum(r["seconds"] for r in result.records.values())
    fit_seconds = sum(r["fit_seconds"] for r in result.records.values())
    shutil.rmtree(out, ignore_errors=True)
    return {
        "mode": mode,
        "wall": wall,
        "cluster_start": cluster_seconds,
        "sweep": wall - cluster_seconds,
        "train_seconds": train_seconds,
        "fit_seconds": fit_seconds,
        "load_before": load,
        "load_after": os.getloadavg()[0],
        "records": records,
    }


# the ceiling: a plain NumPy training (the loop of plain_numpy.py on digits-sized data),
# one process alone, then two side by side; each child times its own work after its imports
PLAIN_CHILD = """
import sys, time
sys.path.insert(0, {here!r})
import numpy as np
import plain_numpy
from workloads import WORKLOADS, make_data
w = WORKLOADS["W3"]
X, y = make_data(w, "float64")
plain_numpy.train(X, y, w.sizes, w.loss, w.batch_size, 0.01, 1, 0)  # warm-up
t0 = time.perf_counter()
plain_numpy.train(X, y, w.sizes, w.loss, w.batch_size, 0.01, {epochs}, 0)
print(time.perf_counter() - t0)
"""


def plain_processes(count: int, epochs: int) -> float:
    """``count`` plain trainings of ``epochs`` epochs started at once, one process each
    (one BLAS thread); the slowest one's seconds of work."""
    code = PLAIN_CHILD.format(here=str(HERE), epochs=epochs)
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    children = [
        subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, env=env)
        for _ in range(count)
    ]
    return max(float(child.communicate()[0]) for child in children)


def ceiling(epochs: int) -> dict:
    """The throughput of two plain processes side by side over one alone (2.0 on two idle
    cores): what a sweep on two workers can reach on this machine at this moment. One
    alone before and after the two, so that a change of load falls on both sides."""
    before = plain_processes(1, epochs)
    two = plain_processes(2, epochs)
    after = plain_processes(1, epochs)
    alone = (before + after) / 2
    return {"alone": alone, "alone_spread": [before, after], "two": two, "ceiling": 2 * alone / two}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--ceiling-epochs", type=int, default=150, help="epochs of each plain training (ceiling)"
    )
    args = parser.parse_args()

    grid = make_grid("digits", {**GRID, "epochs": args.epochs}, seeds=SEEDS)
    n = len(grid.trials())
    print(f"{n} trainings on digits, {args.epochs} epochs each; {args.workers} workers")
    warm = make_grid("digits", {"hidden": [8], "epochs": 1}, seeds=[0])
    with tempfile.TemporaryDirectory() as tmp:  # imports and data loading, outside the clock
        run_sweep(warm, out=Path(tmp) / "w", scheduler="serial", report=False, progress=None)

    runs: list[dict] = []
    ceilings: list[dict] = []
    for r in range(args.repeats):
        for mode in ("serial", "cluster") if r % 2 == 0 else ("cluster", "serial"):
            run = one_run(grid, mode, args.workers)
            runs.append(run)
            print(
                f"{mode:>7}: {run['wall']:6.1f} s wall (cluster start {run['cluster_start']:.1f} s)"
                f", trainings {run['train_seconds']:6.1f} s (fit {run['fit_seconds']:.1f} s)"
                f", load {run['load_before']:.2f} -> {run['load_after']:.2f}",
                flush=True,
            )
        ceilings.append(ceiling(args.ceiling_epochs))
        print(
            f"ceiling: one plain process {ceilings[-1]['alone']:.2f} s (before and after: "
            f"{ceilings[-1]['alone_spread'][0]:.2f}, {ceilings[-1]['alone_spread'][1]:.2f}), "
            "two side by side "
            f"{ceilings[-1]['two']:.2f} s: {ceilings[-1]['ceiling']:.2f}x",
            flush=True,
        )
    # adjacent serial / cluster runs saw about the same load from the machine's other jobs
    pairs = [runs[i : i + 2] for i in range(0, len(runs), 2)]
    pair_speedups = [
        {
            "speedup": next(r["wall"] for r in p if r["mode"] == "serial")
            / next(r["wall"] for r in p if r["mode"] == "cluster"),
            "load": [round(p[0]["load_before"], 2), round(p[1]["load_after"], 2)],
        }
        for p in pairs
    ]
    for pair, c in zip(pair_speedups, ceilings):  # each pair with the ceiling measured after it
        pair["ceiling"] = c["ceiling"]
        pair["fraction_of_ceiling"] = pair["speedup"] / c["ceiling"]
    for i, pair in enumerate(pair_speedups, 1):
        print(
            f"pair {i}: speed-up {pair['speedup']:.2f}x"
            f" (load {pair['load'][0]} -> {pair['load'][1]}), ceiling {pair['ceiling']:.2f}x:"
            f" {pair['fraction_of_ceiling']:.2f} of it"
        )
    serial = [r for r in runs if r["mode"] == "serial"]
    cluster = [r for r in runs if r["mode"] == "cluster"]
    identical = all(r["records"] == serial[0]["records"] for r in runs)
    s_wall = statistics.median(r["wall"] for r in serial)
    c_wall = statistics.median(r["wall"] for r in cluster)
    c_sweep = statistics.median(r["sweep"] for r in cluster)
    overhead = statistics.median(
        (args.workers * r["sweep"] - r["train_seconds"]) / n for r in cluster
    )
    serial_overhead = statistics.median((r["wall"] - r["train_seconds"]) / n for r in serial)
    summary = {
        "trainings": n,
        "epochs": args.epochs,
        "workers": args.workers,
        "serial_wall_median": s_wall,
        "cluster_wall_median": c_wall,
        "cluster_sweep_median": c_sweep,
        "speedup_with_cluster_start": s_wall / c_wall,
        "speedup_without_cluster_start": s_wall / c_sweep,
        "cluster_overhead_per_task_worker_seconds": overhead,
        "serial_overhead_per_task_seconds": serial_overhead,
        "mean_training_seconds_serial": statistics.median(r["train_seconds"] / n for r in serial),
        "mean_training_seconds_cluster": statistics.median(r["train_seconds"] / n for r in cluster),
        "mean_fit_seconds_serial": statistics.median(r["fit_seconds"] / n for r in serial),
        "ceiling_median": statistics.median(c["ceiling"] for c in ceilings),
        "fraction_of_ceiling_median": statistics.median(
            p["fraction_of_ceiling"] for p in pair_speedups
        ),
        "records_identical": identical,
        "pair_speedups": pair_speedups,
    }
    for key, value in summary.items():
        if key == "pair_speedups":
            continue
        print(f"{key}: {value:.3f}" if isinstance(value, float) else f"{key}: {value}")
    results = HERE / "results"
    results.mkdir(exist_ok=True)
    payload = {
        "when": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "summary": summary,
        "runs": [{k: v for k, v in r.items() if k != "records"} for r in runs],
    }
    (results / "sweep_speedup.json").write_text(json.dumps(payload, indent=2) + "\n")
    print(f"saved {results / 'sweep_speedup.json'}")


if __name__ == "__main__":
    main()
