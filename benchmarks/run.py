"""handgrad vs PyTorch (CPU) vs scikit-learn vs plain NumPy vs the matrix-multiply bound.

    python benchmarks/run.py [--repeats R] [--workloads W1,W3] [--quick] [--no-mnist]

Every measurement is a fresh process (benchmarks/measure.py) that builds the data, trains
one framework for a few epochs and prints JSON. The frameworks are alternated (their order
rotates every repeat) so that a change in the machine's load hits them all alike, and the
load average is recorded with every measurement. BLAS threads are left at the machine's
default. Results: printed, saved as JSON (benchmarks/results/latest.json) and as Markdown
between the result markers of docs/performance.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import floor  # noqa: E402
from workloads import WORKLOADS  # noqa: E402

FRAMEWORKS = ("handgrad", "numpy", "torch", "sklearn", "bound")
LABELS = {
    "handgrad": "handgrad",
    "numpy": "plain NumPy loop",
    "torch": "PyTorch (CPU)",
    "sklearn": "scikit-learn MLPClassifier",
    "bound": "matrix-multiply bound",
}
BOUND_TARGET = {"W1": 1.25, "W2": 1.25, "W3": 1.8, "W4": 1.8}
FLOAT32_SPEEDUP_TARGET = 1.4
BEGIN, END = "<!-- results: begin (written by benchmarks/run.py) -->", "<!-- results: end -->"
ENV_VARS = (
    "OPENBLAS_CORETYPE",
    "OPENBLAS_L2_SIZE",
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
)


# --- running -------------------------------------------------------------------------------


CHILD_ENV: dict[str, str] = {}  # set by --threads


def run_json(args: list[str], timeout: float) -> dict:
    """Run a Python script in a fresh process; return the JSON on its last stdout line."""
    env = {**os.environ, **CHILD_ENV}
    proc = subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, timeout=timeout, cwd=ROOT, env=env
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{proc.stderr.strip()[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def plan(workloads: list[str], frameworks: list[str], repeats: int):
    """(repeat, workload, dtype, framework) in run order: frameworks rotate every repeat."""
    jobs = []
    for r in range(repeats):
        for name in workloads:
            for dtype in WORKLOADS[name].dtypes:
                k = (r + len(jobs)) % len(frameworks)
                for fw in frameworks[k:] + frameworks[:k]:
                    jobs.append((r, name, dtype, fw))
    return jobs


def measure_all(jobs, epochs_scale: float, timeout: float) -> list[dict]:
    results = []
    started = time.perf_counter()
    for i, (r, name, dtype, fw) in enumerate(jobs, 1):
        epochs = max(1, round(WORKLOADS[name].epochs * epochs_scale))
        args = ["benchmarks/measure.py", fw, name, dtype, "--epochs", str(epochs)]
        try:
            res = run_json(args, timeout)
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            print(f"  [{i}/{len(jobs)}] {name} {dtype} {fw}: FAILED ({exc})", flush=True)
            continue
        res["repeat"] = r
        results.append(res)
        elapsed = time.perf_counter() - started
        print(
            f"  [{i}/{len(jobs)}] {name} {dtype:7s} {fw:8s} "
            f"{res['seconds_per_epoch']:.4f} s/epoch  (load {res['load_before']:.2f}, "
            f"{elapsed:.0f} s so far)",
            flush=True,
        )
    return results


def mnist_all(frameworks: list[str], epochs: int, timeout: float) -> dict:
    path = ROOT.parent / "shared" / "data" / "mnist.npz"
    if not path.exists():
        print(f"MNIST: {path} not found, skipping the epochs-to-accuracy table")
        return {}
    out = {}
    for fw in frameworks:
        if fw == "bound":
            continue
        try:
            out[fw] = run_json(["benchmarks/mnist.py", fw, "--epochs", str(epochs)], timeout)
        except (RuntimeError, subprocess.TimeoutExpired) as exc:
            print(f"  MNIST {fw}: FAILED ({exc})")
            continue
        acc = out[fw]["accuracy"]
        print(f"  MNIST {fw:8s} test accuracy by epoch: {[round(a, 4) for a in acc]}")
    return out


def floor_all(workloads: list[str], repeats: int, timeout: float) -> dict:
    """benchmarks/floor.py in one fresh process: what unavoidable work adds to the bound."""
    args = ["benchmarks/floor.py", "--json", "--workloads", ",".join(workloads)]
    try:
        times = run_json([*args, "--repeats", str(repeats)], timeout * len(workloads))
    except (RuntimeError, subprocess.TimeoutExpired) as exc:
        print(f"  floor: FAILED ({exc})")
        return {}
    for key, rows in times.items():
        bound = statistics.median(rows["bound"])
        ratios = ", ".join(f"{row} {statistics.median(t) / bound:.2f}" for row, t in rows.items())
        print(f"  floor {key}: {ratios} (x bound)")
    return times


# --- summarizing ---------------------------------------------------------------------------


def summarize(results: list[dict]) -> dict:
    """(workload, dtype) -> framework -> statistics over the processes."""
    table: dict = {}
    for res in results:
        key = f"{res['workload']} {res['dtype']}"
        table.setdefault(key, {}).setdefault(res["framework"], []).append(res)
    summary = {}
    for key, by_fw in table.items():
        rows = {}
        for fw, runs in by_fw.items():
            times = [r["seconds_per_epoch"] for r in runs]
            peaks = [r["peak_rss_mib"] - r["rss_before_mib"] for r in runs if r["peak_rss_mib"]]
            rows[fw] = {
                "median": statistics.median(times),
                "min": min(times),
                "max": max(times),
                "runs": len(times),
                "epochs_per_run": runs[0]["epochs"],
                "data_mib": runs[0]["data_mib"],
                "rss_before_mib": statistics.median(r["rss_before_mib"] for r in runs),
                "fit_rss_growth_mib": statistics.median(peaks) if peaks else None,
                "last_loss": runs[0]["last_loss"],
            }
        for row in rows.values():
            for ref in ("torch", "bound", "numpy", "sklearn"):
                if ref in rows:
                    row[f"vs_{ref}"] = row["median"] / rows[ref]["median"]
        summary[key] = rows
    return summary


def check_targets(summary: dict) -> list[dict]:
    """The issue's targets, each with the measured ratio and whether it is met."""
    checks = []

    def add(what: str, ratio: float | None, limit: float, below: bool = True):
        if ratio is None:
            checks.append({"target": what, "ratio": None, "limit": limit, "met": None})
            return
        met = ratio < limit if below else ratio >= limit
        checks.append({"target": what, "ratio": ratio, "limit": limit, "met": met})

    for key, rows in summary.items():
        hg = rows.get("handgrad")
        if hg is None:
            continue
        name = key.split()[0]
        add(f"{key}: handgrad / PyTorch < 1", hg.get("vs_torch"), 1.0)
        add(f"{key}: handgrad / scikit-learn < 1", hg.get("vs_sklearn"), 1.0)
        add(f"{key}: handgrad / plain NumPy <= 1", hg.get("vs_numpy"), 1.0 + 1e-9)
        add(f"{key}: handgrad / bound <= {BOUND_TARGET[name]}", hg.get("vs_bound"),
            BOUND_TARGET[name] + 1e-9)  # fmt: skip
    for name in ("W1", "W2"):
        f32, f64 = summary.get(f"{name} float32", {}), summary.get(f"{name} float64", {})
        if "handgrad" in f32 and "handgrad" in f64:
            speedup = f64["handgrad"]["median"] / f32["handgrad"]["median"]
            add(
                f"{name}: handgrad float64 / float32 >= 1.4", speedup, FLOAT32_SPEEDUP_TARGET, False
            )
    return checks


# --- the machine ---------------------------------------------------------------------------


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def memory_gib() -> float | None:
    try:
        import psutil

        return psutil.virtual_memory().total / 2**30
    except ImportError:
        return None


def git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        return out.stdout.strip() + (" (modified)" if dirty.stdout.strip() else "")
    except OSError:
        return None


def machine(results: list[dict]) -> dict:
    versions: dict = {}
    blas = []
    for res in results:
        versions.update(res["versions"])
        if res["framework"] == "handgrad" and not blas:
            blas = res["blas"]
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": memory_gib(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "versions": versions,
        "blas": blas,
        "env": {k: {**os.environ, **CHILD_ENV}.get(k) for k in ENV_VARS},
        "commit": git_commit(),
    }


# --- writing -------------------------------------------------------------------------------


def fmt_s(x: float) -> str:
    return f"{x:.4f}" if x < 1 else f"{x:.3f}"


def fmt_ratio(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f}"


def markdown(report: dict) -> str:
    m, lines = report["machine"], []
    loads = [r["load_before"] for r in report["results"]]
    lines.append(
        f"Measured {report['date']} on {m['cpu']}, {m['cores']} cores"
        + (f", {m['memory_gib']:.0f} GiB" if m["memory_gib"] else "")
        + f"; {m['os']}; commit {m['commit']}. "
        f"{report['repeats']} fresh processes per row, frameworks alternated; load average "
        f"before each measurement: median {statistics.median(loads):.2f}, "
        f"max {max(loads):.2f}. Total time {report['total_seconds'] / 60:.1f} min."
    )
    lines.append("")
    blas = [b for b in m["blas"] if b.get("user_api") == "blas"]
    blas_s = "; ".join(
        f"{b['internal_api']} {b['version']} ({b.get('architecture')}), {b['num_threads']} threads"
        for b in blas
    )
    env = ", ".join(f"{k}={v}" for k, v in m["env"].items() if v is not None) or "none set"
    vers = ", ".join(f"{k} {v}" for k, v in sorted(m["versions"].items()))
    lines.append(f"- BLAS (threadpoolctl, in the handgrad process): {blas_s or 'unknown'}")
    lines.append(f"- BLAS/OpenMP environment variables: {env}")
    lines.append(f"- Versions: {vers}")
    if report.get("skipped"):
        lines.append(f"- Skipped: {report['skipped']}")
    lines.append("")
    lines.append(
        "Seconds per epoch (wall time of the whole training call divided by its epochs), "
        "ratios of medians; *growth* is the peak resident memory during training minus "
        "the resident memory before it (the data set is already in memory)."
    )
    lines.append("")
    head = (
        "| workload | framework | median s/epoch | min | max | vs PyTorch | vs bound "
        "| peak RSS growth (MiB) | data (MiB) |"
    )
    lines += [head, "|" + "---|" * 9]
    for key, rows in report["summary"].items():
        w = WORKLOADS[key.split()[0]]
        label = f"{key} ({w.network}, {w.loss_name}, batch {w.batch_size})"
        for fw in FRAMEWORKS:
            if fw not in rows:
                continue
            r = rows[fw]
            growth = r["fit_rss_growth_mib"]
            lines.append(
                f"| {label} | {LABELS[fw]} | {fmt_s(r['median'])} | {fmt_s(r['min'])} "
                f"| {fmt_s(r['max'])} | {fmt_ratio(r.get('vs_torch'))} "
                f"| {fmt_ratio(r.get('vs_bound'))} "
                f"| {'—' if growth is None else f'{growth:.1f}'} | {r['data_mib']:.1f} |"
            )
            label = ""
    lines.append("")
    lines.append("Targets (from the performance issue), as measured in this run:")
    lines.append("")
    lines += ["| target | measured | met |", "|---|---|---|"]
    for c in report["targets"]:
        met = {True: "yes", False: "**no**", None: "not measured"}[c["met"]]
        lines.append(f"| {c['target']} | {fmt_ratio(c['ratio'])} | {met} |")
    mnist = report.get("mnist") or {}
    if mnist:
        lines.append("")
        lines.append(
            "Real MNIST (784-128-10 ReLU, float32, batch 128, SGD lr 0.1): test accuracy "
            "after each epoch, and the training seconds to reach it."
        )
        lines.append("")
        n = max(len(v["accuracy"]) for v in mnist.values())
        lines.append("| framework | " + " | ".join(f"epoch {i + 1}" for i in range(n)) + " |")
        lines.append("|---|" + "---|" * n)
        for fw, v in mnist.items():
            cells, total = [], 0.0
            for s, a in zip(v["seconds"], v["accuracy"]):
                total += s
                cells.append(f"{a:.4f} ({total:.1f} s)")
            lines.append(f"| {LABELS[fw]} | " + " | ".join(cells) + " |")
        for goal in (0.95, 0.97):
            reached = []
            for fw, v in mnist.items():
                acc = v["accuracy"]
                first = next((i + 1 for i, a in enumerate(acc) if a >= goal), None)
                reached.append(f"{LABELS[fw]} {first or f'> {len(acc)}'}")
            lines.append("")
            lines.append(f"Epochs to {goal:.0%} test accuracy: " + "; ".join(reached) + ".")
    if report.get("floor"):
        lines.append("")
        lines.append(
            "What no NumPy loop avoids (benchmarks/floor.py, one process, epochs of each row "
            "alternated, weights reset before each): the bound's products plus the batch "
            "gather, plus the in-place SGD update, and the fastest complete step we could "
            "write (buffers, `out=`, plain softmax, no checks)."
        )
        lines.append("")
        lines.append(floor.markdown(report["floor"]).rstrip("\n"))
    return "\n".join(lines) + "\n"


def write_docs(path: Path, table: str) -> None:
    text = path.read_text() if path.exists() else f"# Performance\n\n{BEGIN}\n{END}\n"
    if BEGIN not in text or END not in text:
        text = text.rstrip("\n") + f"\n\n{BEGIN}\n{END}\n"
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(f"{head}{BEGIN}\n\n{table}\n{END}{tail}")
    tmp.replace(path)


def write_json(path: Path, report: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(report, indent=1) + "\n")
    tmp.replace(path)


# --- main ----------------------------------------------------------------------------------


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="processes per row (default 7)")
    parser.add_argument("--workloads", default=",".join(WORKLOADS), help="e.g. W1,W3")
    parser.add_argument("--frameworks", default=",".join(FRAMEWORKS))
    parser.add_argument("--quick", action="store_true", help="2 repeats, fewer epochs: a smoke run")
    parser.add_argument("--mnist-epochs", type=int, default=5)
    parser.add_argument("--no-mnist", action="store_true")
    parser.add_argument("--no-floor", action="store_true", help="skip benchmarks/floor.py")
    parser.add_argument("--json", type=Path, default=HERE / "results" / "latest.json")
    parser.add_argument("--docs", type=Path, default=ROOT / "docs" / "performance.md")
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite the docs table")
    parser.add_argument("--timeout", type=float, default=300, help="seconds per process")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="BLAS/OpenMP threads for every framework (default: the machine's default)",
    )
    args = parser.parse_args(argv)
    if args.threads is not None:
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            CHILD_ENV[var] = str(args.threads)

    workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
    frameworks = [f.strip() for f in args.frameworks.split(",") if f.strip()]
    for name in workloads:
        if name not in WORKLOADS:
            parser.error(f"unknown workload {name!r}; choose from {sorted(WORKLOADS)}")
    for fw in frameworks:
        if fw not in FRAMEWORKS:
            parser.error(f"unknown framework {fw!r}; choose from {FRAMEWORKS}")
    skipped = ""
    if "torch" in frameworks and importlib.util.find_spec("torch") is None:
        frameworks.remove("torch")
        skipped = "PyTorch is not installed (pip install torch==2.13.0): its rows are skipped"
        print(f"NOTE: {skipped}.")
    repeats = 2 if args.quick else args.repeats
    scale = 0.5 if args.quick else 1.0
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        if os.environ.get(var):
            print(
                f"NOTE: {var}={os.environ[var]} is set; it can slow NumPy's OpenBLAS (not "
                "PyTorch's BLAS). Recorded in the report."
            )

    load = os.getloadavg()[0]
    if load > 0.5:
        print(
            f"NOTE: load average {load:.2f} before starting: other work competes for the "
            "cores, which slows multi-threaded BLAS and PyTorch far more than single-threaded "
            "code. Prefer a quiet machine, or compare with --threads 1."
        )
    jobs = plan(workloads, frameworks, repeats)
    print(f"{len(jobs)} measurements ({repeats} per row), frameworks: {', '.join(frameworks)}")
    started = time.perf_counter()
    load_start = os.getloadavg()
    results = measure_all(jobs, scale, args.timeout)
    mnist = {} if args.no_mnist else mnist_all(frameworks, args.mnist_epochs, args.timeout)
    floor_repeats = 2 if args.quick else 7
    floor_times = {} if args.no_floor else floor_all(workloads, floor_repeats, args.timeout)
    summary = summarize(results)
    report = {
        "date": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "repeats": repeats,
        "quick": args.quick,
        "workloads": {name: WORKLOADS[name].__dict__ for name in workloads},
        "machine": machine(results),
        "load_average_start": load_start,
        "load_average_end": os.getloadavg(),
        "skipped": skipped,
        "summary": summary,
        "targets": check_targets(summary),
        "mnist": mnist,
        "floor": floor_times,
        "results": results,
        "total_seconds": time.perf_counter() - started,
    }
    table = markdown(report)
    print()
    print(table)
    write_json(args.json, report)
    print(f"saved {args.json.relative_to(ROOT) if args.json.is_relative_to(ROOT) else args.json}")
    if not args.no_docs:
        write_docs(args.docs, table)
        print(f"updated {args.docs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
