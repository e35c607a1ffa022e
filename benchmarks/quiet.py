"""Every performance figure the targets need, in one run of under 10 minutes, for a quiet machine.

    make bench-quiet                      # or: python benchmarks/quiet.py [--out DIR]
    python benchmarks/quiet.py --quick    # a smoke run of a few minutes, not a record

Runs, one after the other, each in a fresh process:

1. ``paired.py`` at the machine's default threads (what users get; wall clock): W1 and W2
   in float32 and float64, W3, W4, with the NumPy floor (``--floor``): each workload's
   ratios ÷ plain NumPy, ÷ PyTorch, ÷ the matrix-multiply bound, ÷ the fastest loop we
   could write with the same tools, and float32 ÷ float64 (the "÷ handgrad float64" column);
2. the same with one thread everywhere (``--threads 1 --clock cpu``);
3. ``fit_overhead.py``: fit's fixed cost per call on W3 (CPU time), item by item, and its
   floor (the least a call must do, written with the same tools);
4. ``profile_step.py W2 float64`` at 2 threads and at 1: where a step's time goes;
5. ``thread_threshold.py``: where splitting the element-wise work across threads pays.

Everything is written to ``benchmarks/results/quiet-<UTC time>/`` (``--out`` to choose):
each step's output (``*.txt``), the paired runs' raw numbers (``paired-*.json``), and
``summary.md``, the tables to paste into docs/performance.md with the load average
before and after every step. The load is read before each step: a 1-minute load average
of 1 or more means another job shares the cores and the summary says so in its first
line (the figures are then not a record of the targets).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent

# rounds per workload: about 6-8 minutes in all on a quiet 2-core machine, estimated from
# the epoch times of earlier runs (see docs/performance.md for the time a run took)
ROUNDS = {"W1": 6, "W2": 5, "W3": 120, "W4": 30}
QUICK_ROUNDS = {"W1": 2, "W2": 2, "W3": 30, "W4": 8}
QUIET_LOAD = 1.0


def load() -> str:
    """The three load averages, as ``uptime`` prints them."""
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def run_step(name: str, args: list[str], out: Path, log: list[dict]) -> str:
    """Run ``benchmarks/<args[0]>`` with the rest of ``args``; its output goes to
    ``out/<name>.txt`` and to the terminal; returns the output."""
    before, started = load(), time.time()
    print(f"\n== {name}: python benchmarks/{' '.join(args)}  (load {before})", flush=True)
    lines = []
    with subprocess.Popen(
        [sys.executable, str(HERE / args[0]), *args[1:]],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:  # as it comes: a long step shows its progress
            print(line, end="", flush=True)
            lines.append(line)
    output = "".join(lines)
    (out / f"{name}.txt").write_text(output)
    after = load()
    log.append(
        {
            "step": name,
            "command": "python benchmarks/" + " ".join(args),
            "load_before": before,
            "load_after": after,
            "seconds": round(time.time() - started, 1),
            "returncode": proc.returncode,
        }
    )
    if proc.returncode:
        print(f"!! {name} failed (exit {proc.returncode}); the summary says so", flush=True)
    return output


def paired_args(
    threads: int | None, rounds: dict[str, int], out: Path, name: str, workloads: str
) -> list[str]:
    """The paired.py command line: its own rounds for each workload."""
    args = ["paired.py", "--floor", "--workloads", workloads, "--json", str(out / f"{name}.json")]
    if threads is not None:
        args += ["--threads", str(threads), "--clock", "cpu"]
    return args + ["--rounds-per-workload", json.dumps(rounds)]


def summary(out: Path, log: list[dict], quick: bool) -> str:
    """summary.md: the load of every step, then each step's tables."""
    loads = [float(s["load_before"].split(",")[0]) for s in log]
    quiet = max(loads) < QUIET_LOAD
    lines = [
        (
            f"Quiet machine: the 1-minute load average was below {QUIET_LOAD:g} before every step."
            if quiet
            else f"**Not a quiet machine** (1-minute load average up to {max(loads):.2f} before "
            "a step): read these figures as loaded ones; they are not a record of the targets."
        ),
        "",
        f"`make bench-quiet` run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}"
        f"{' (--quick: too few rounds for a record)' if quick else ''}; "
        f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}.",
        "",
        "| step | command | load before | load after | seconds |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {s['step']} | `{s['command']}` | {s['load_before']} | {s['load_after']} | "
        f"{s['seconds']}{'' if not s['returncode'] else ' (failed)'} |"
        for s in log
    ]
    for s in log:
        text = (out / f"{s['step']}.txt").read_text()
        lines += ["", f"### {s['step']}", "", "```", text.rstrip(), "```"]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="folder for the results")
    parser.add_argument("--quick", action="store_true", help="few rounds: a smoke run")
    parser.add_argument("--workloads", default="W1,W2,W3,W4", help="of the paired runs")
    args = parser.parse_args(argv)
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    out = args.out or HERE / "results" / f"quiet-{stamp}"
    out.mkdir(parents=True, exist_ok=True)
    first = os.getloadavg()[0]
    print(f"load average {load()} at the start; results in {out}", flush=True)
    if first >= QUIET_LOAD:
        print(
            f"!! the 1-minute load average is {first:.2f}: another job shares the cores; "
            "the figures will not be a record of the targets",
            flush=True,
        )
    rounds = QUICK_ROUNDS if args.quick else ROUNDS
    log: list[dict] = []
    for name, threads in (("paired-default-threads", None), ("paired-one-thread", 1)):
        run_step(name, paired_args(threads, rounds, out, name, args.workloads), out, log)
    run_step("fit-overhead", ["fit_overhead.py", "--repeats", "5" if args.quick else "9"], out, log)
    for threads in (2, 1):  # where a W2 step's time goes, beside the plain loop's
        profile = ["profile_step.py", "W2", "float64", "--epochs", "2", "--steps", "100"]
        run_step(f"profile-W2-{threads}-threads", [*profile, "--threads", str(threads)], out, log)
    run_step("thread-threshold", ["thread_threshold.py", "--repeats", "5"], out, log)
    total = sum(s["seconds"] for s in log)
    print(f"\nall steps: {total / 60:.1f} min; load average {load()} at the end", flush=True)
    text = summary(out, log, args.quick)
    (out / "summary.md").write_text(text)
    print(f"\n{text.splitlines()[0]}\nsummary: {out / 'summary.md'}", flush=True)
    return max(s["returncode"] for s in log)


if __name__ == "__main__":
    sys.exit(main())
