"""How long the course's tour takes: `handgrad tour` (full and --quick) in fresh processes.

    python benchmarks/tour_time.py [--repeats R] [--modes full,quick] [--stages]

The budget: the full tour under 3 minutes, the quick tour under 15 seconds, on a quiet
2-core machine. Each run is a fresh `handgrad tour` process (so import time counts, as it
does for a user) writing into a temporary folder; the wall time of the whole command and
each chapter's own seconds (from its metrics.json) are reported, with the load average.

Wall time depends on what else the machine runs. ``--stages`` also measures each chapter's
CPU time (user + system, its child processes included: the Keras half runs in one), full
and --quick, each in a fresh process with the chapter's imports done before the clock
starts: a figure that moves far less with the machine's load than wall time.
Results are printed and saved to benchmarks/results/tour_time.json.
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

HERE = Path(__file__).resolve().parent
BUDGET_SECONDS = {"full": 180.0, "quick": 15.0}


def handgrad_command() -> list[str]:
    exe = Path(sys.executable).parent / "handgrad"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "handgrad"]


def time_tour(mode: str) -> dict:
    """One fresh `handgrad tour` run; wall seconds and per-experiment seconds."""
    out = Path(tempfile.mkdtemp(prefix=f"tour-{mode}-"))
    cmd = [*handgrad_command(), "tour", "--out", str(out), "--quiet"]
    if mode == "quick":
        cmd.append("--quick")
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - started
    per_experiment = {}
    for metrics in sorted(out.glob("*/metrics.json")):
        data = json.loads(metrics.read_text())
        per_experiment[data["name"]] = round(float(data["seconds"]), 2)
    shutil.rmtree(out, ignore_errors=True)
    if proc.returncode != 0:
        raise SystemExit(f"`{' '.join(cmd)}` failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return {
        "mode": mode,
        "wall_seconds": round(wall, 2),
        "load_before": load_before,
        "experiments": per_experiment,
    }


# one chapter in a fresh process: its module and the figure code imported first, then the
# CPU time of the run itself, its child processes (the Keras half) included
STAGE_CODE = """
import json, resource, sys, time
from handgrad.experiments import load_experiment, run_experiment
import handgrad.plots, handgrad.report
name, mode, out = sys.argv[1:4]
load_experiment(name)
def cpu():
    me, kids = time.process_time(), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me + kids.ru_utime + kids.ru_stime
start = cpu()
run_experiment(name, out_dir=out, quick=(mode == "quick"))
print(json.dumps(cpu() - start))
"""


def stage_cpu(names: list[str]) -> dict:
    """Per chapter: CPU seconds of one run, full and --quick, each in a fresh process."""
    rows = {}
    for name in names:
        row = {}
        for mode in ("quick", "full"):
            out = tempfile.mkdtemp(prefix=f"stage-{name}-")
            cmd = [sys.executable, "-c", STAGE_CODE, name, mode, out]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            shutil.rmtree(out, ignore_errors=True)
            if proc.returncode != 0:
                raise SystemExit(f"{name} ({mode}) failed:\n{proc.stderr[-2000:]}")
            row[mode] = round(float(proc.stdout.strip().splitlines()[-1]), 2)
        row["quick_share"] = round(row["quick"] / max(row["full"], 1e-9), 3)
        rows[name] = row
        print(
            f"{name:>18}: quick {row['quick']:6.2f} s CPU, full {row['full']:7.2f} s CPU "
            f"(quick = {row['quick_share']:.0%} of full)",
            flush=True,
        )
    total = {m: round(sum(r[m] for r in rows.values()), 2) for m in ("quick", "full")}
    print(
        f"{'all chapters':>18}: quick {total['quick']:6.2f} s CPU, full {total['full']:7.2f} s CPU"
    )
    return {"chapters": rows, "total": total}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--modes", default="quick,full", help="empty: no whole-tour runs")
    parser.add_argument(
        "--stages", action="store_true", help="also each chapter's CPU time, full and quick"
    )
    parser.add_argument("--only", help="--stages: these chapters only (comma-separated)")
    args = parser.parse_args(argv)
    modes = [m for m in args.modes.split(",") if m]
    if args.stages:
        print(f"load before: {os.getloadavg()[0]:.2f}", flush=True)
    runs = []
    for r in range(args.repeats):
        for mode in modes if r % 2 == 0 else modes[::-1]:  # alternate, as the speed benchmark
            run = time_tour(mode)
            runs.append(run)
            print(
                f"{mode:>5}: {run['wall_seconds']:6.1f} s (load {run['load_before']:.2f})",
                flush=True,
            )
    summary = {}
    for mode in modes:
        walls = [r["wall_seconds"] for r in runs if r["mode"] == mode]
        median = statistics.median(walls)
        summary[mode] = {
            "median": median,
            "min": min(walls),
            "max": max(walls),
            "budget": BUDGET_SECONDS[mode],
            "within_budget": median < BUDGET_SECONDS[mode],
        }
        verdict = "within" if median < BUDGET_SECONDS[mode] else "OVER"
        print(
            f"{mode} tour: median {median:.1f} s (min {min(walls):.1f}, max {max(walls):.1f}) "
            f"over {len(walls)} runs; budget {BUDGET_SECONDS[mode]:.0f} s: {verdict}"
        )
    result = {
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "summary": summary,
        "runs": runs,
    }
    if args.stages:
        from handgrad.experiments import EXPERIMENTS

        names = args.only.split(",") if args.only else list(EXPERIMENTS)
        result["stages"] = stage_cpu(names)
        result["load_after"] = os.getloadavg()[0]
    (HERE / "results").mkdir(exist_ok=True)
    (HERE / "results" / "tour_time.json").write_text(json.dumps(result, indent=2))
    return 0 if all(s["within_budget"] for s in summary.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
