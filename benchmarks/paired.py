"""Paired, in-process timings: handgrad against its rivals, epoch by epoch, in one process.

    python benchmarks/paired.py [--workloads W1,W3] [--dtypes float32,float64] [--rounds N]
                                [--threads 1] [--floor]

Why paired. This host runs the same process at t or about 1.7t from minute to minute, so
two fresh processes can disagree by more than the differences we look for. Here handgrad
trains as a user runs it (one ``fit`` call for all epochs), and at the end of each of its
epochs a callback runs one epoch of every rival in the same process, in an order that
rotates from round to round: the plain NumPy loop (``plain_numpy.py``), the matrix-multiply
bound (``matmul_bound.py``), PyTorch (when installed) and, for float32, handgrad itself in
float64 (one ``fit(epochs=1)`` call on a float64 copy of the model). A change of the
machine's speed then falls on a whole round, and the ratio of one round is handgrad's epoch
over the rival's epoch measured seconds apart. The figure is the median of the per-round
ratios, with the 25th and 75th percentiles.

Threads. ``--threads N`` sets NumPy's BLAS (through threadpoolctl), PyTorch's intra-op
pool and handgrad's own threads (``handgrad.train.threads``) to N for the whole run;
without it (the default: what users get) all keep what the machine gives them, and the
header prints what that was. On a 2-core host with other jobs running, two thread
pools in one process (OpenBLAS for NumPy, OpenMP for PyTorch) oversubscribe the cores and
spin while the other works: one thread each is the setting that compares like with like.

``--floor`` adds the fastest complete step we could write in NumPy (``floor.py``'s
minimal step: preallocated arrays, no checks, no exact tail) as a rival, and a column
with its own ratio to the plain loop: if even that step is above a target ratio, no NumPy
loop meets the target on this machine.

Clock. ``--clock cpu`` times everything (handgrad's epochs too, from one callback to the
next) with the process's CPU time instead of the wall clock. On a shared host an epoch of
a few milliseconds is either descheduled for a time slice or not, and its wall time
scatters by 2-3x; CPU time counts only the work done. It is meaningful with
``--threads 1`` (with more threads, a BLAS thread spinning while it waits counts too).

Limits. Rounds are not independent (caches, the allocator and BLAS threads are shared), and
the first round is dropped as a warm-up. A ratio below 1 means handgrad is faster. The
fresh-process table of ``run.py`` stays the record for memory and start-up.

The W3 overhead row: one ``fit(epochs=E)`` against the sum of its epochs' step loops
(``History.epoch_seconds``): what ``fit`` does per epoch around the steps, as a share of
the step time; and E calls of ``fit(epochs=1)`` against one ``fit(epochs=E)``: what it does
per call (validation of the inputs, building the fast path), as a share of an epoch. Both
alternate over several repeats; medians with 25th-75th percentiles.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import floor  # noqa: E402
import handgrad as hg  # noqa: E402
import matmul_bound  # noqa: E402
import plain_numpy  # noqa: E402
from handgrad.train import threads as hg_threads  # noqa: E402
from workloads import LEARNING_RATE, MODEL_SEED, WORKLOADS, Workload, make_data  # noqa: E402

DEFAULT_ROUNDS = {"W1": 10, "W2": 8, "W3": 200, "W4": 60}


def _loss(w: Workload):
    return hg.SoftmaxCrossEntropyLoss() if w.loss == "softmax_ce" else hg.BCEWithLogitsLoss()


class Rivals:
    """One epoch of each rival, with its own model state kept across rounds."""

    def __init__(
        self, w: Workload, X: np.ndarray, y: np.ndarray, with_torch: bool, with_floor=False
    ):
        self.w, self.X, self.y = w, X, y
        self.plain_params = plain_numpy.init_params(w.sizes, X.dtype, MODEL_SEED)
        self.plain_rng = np.random.default_rng(MODEL_SEED)
        self.bound = matmul_bound.make_buffers(w.sizes, w.batch_size, X.dtype)
        self.runs: dict[str, object] = {"plain NumPy": self.plain, "matmul bound": self.bound_epoch}
        if with_torch:
            self.torch_epoch = _torch_epoch(w, X, y)
            self.runs["PyTorch"] = self.torch_epoch
        if with_floor:
            self.minimal = floor.MinimalLoop(w, X, y)
            self.runs["NumPy floor"] = self.floor_epoch
        if X.dtype == np.float32 and w.name in ("W1", "W2"):
            self.X64 = X.astype(np.float64)
            self.y64 = y if w.loss == "softmax_ce" else y.astype(np.float64)
            self.model64 = hg.mlp(list(w.sizes), "relu", seed=MODEL_SEED)
            self.opt64 = hg.SGD(self.model64.parameters(), lr=LEARNING_RATE)
            self.rng64 = np.random.default_rng(0)
            self.runs["handgrad float64"] = self.handgrad64

    def plain(self) -> None:
        weights, biases = self.plain_params
        w = self.w
        plain_numpy.train_epoch(
            self.X, self.y, weights, biases, w.loss, w.batch_size, LEARNING_RATE, self.plain_rng
        )

    def bound_epoch(self) -> None:
        matmul_bound.one_epoch(self.w.batch_sizes(), *self.bound)

    def floor_epoch(self) -> None:
        """floor.py's minimal step over the full batches, from the initial weights (plain
        SGD with lr 0.01 drifts far off over many epochs); ``paired`` scales the time to
        the epoch's batch count."""
        self.minimal.reset()
        self.minimal.epoch("minimal step")

    def handgrad64(self) -> None:
        hg.fit(
            self.model64,
            _loss(self.w),
            self.opt64,
            self.X64,
            self.y64,
            epochs=1,
            batch_size=self.w.batch_size,
            rng=self.rng64,
        )


def _torch_epoch(w: Workload, X: np.ndarray, y: np.ndarray):
    import torch

    torch.manual_seed(MODEL_SEED)
    dtype = torch.float32 if X.dtype == np.float32 else torch.float64
    layers: list = []
    for i, (fan_in, fan_out) in enumerate(zip(w.sizes[:-1], w.sizes[1:])):
        layers.append(torch.nn.Linear(fan_in, fan_out, dtype=dtype))
        if i < len(w.sizes) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    Xt = torch.from_numpy(X)
    if w.loss == "softmax_ce":
        loss_fn, yt = torch.nn.CrossEntropyLoss(), torch.from_numpy(y)
    else:
        loss_fn, yt = torch.nn.BCEWithLogitsLoss(), torch.from_numpy(y).reshape(-1, 1)
    opt = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    gen = torch.Generator().manual_seed(0)
    n, bs = X.shape[0], w.batch_size

    def epoch() -> None:
        order = torch.randperm(n, generator=gen)
        for start in range(0, n, bs):
            idx = order[start : start + bs]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(Xt[idx]), yt[idx])
            loss.backward()
            opt.step()
            loss.item()

    return epoch


CLOCKS = {"wall": time.perf_counter, "cpu": time.process_time}


class PairedTimer(hg.train.Callback):
    """After each handgrad epoch, one timed epoch of every rival, in a rotating order.

    With the CPU clock it also times handgrad's epochs, from the end of one callback to
    the start of the next (the epoch plus fit's work between epochs); with the wall clock
    handgrad's time is fit's own ``History.epoch_seconds``.
    """

    def __init__(self, rivals: Rivals, clock: str = "wall"):
        self.rivals, self.clock = rivals, CLOCKS[clock]
        self.times: dict[str, list[float]] = {name: [] for name in rivals.runs}
        self.handgrad: list[float] = []
        self._resumed = 0.0

    def on_train_begin(self, ctx) -> None:
        self._resumed = self.clock()

    def on_epoch_end(self, ctx) -> None:
        self.handgrad.append(self.clock() - self._resumed)
        names = list(self.rivals.runs)
        shift = ctx.epoch % len(names)
        for name in names[shift:] + names[:shift]:
            started = self.clock()
            self.rivals.runs[name]()  # type: ignore[operator]
            self.times[name].append(self.clock() - started)
        self._resumed = self.clock()


def paired(
    w: Workload, dtype: str, rounds: int, with_torch: bool, with_floor=False, clock="wall"
) -> dict:
    """Per-round ratios handgrad / rival for one workload and dtype."""
    X, y = make_data(w, dtype)
    rivals = Rivals(w, X, y, with_torch, with_floor)
    timer = PairedTimer(rivals, clock)
    model = hg.mlp(list(w.sizes), "relu", seed=MODEL_SEED, dtype=X.dtype)
    opt = hg.SGD(model.parameters(), lr=LEARNING_RATE)
    history = hg.fit(
        model,
        _loss(w),
        opt,
        X,
        y,
        epochs=rounds + 1,
        batch_size=w.batch_size,
        seed=0,
        callbacks=[timer],
    )
    ours = np.array((history.epoch_seconds if clock == "wall" else timer.handgrad)[1:])
    # (the first round is a warm-up)
    out: dict = {
        "workload": w.name,
        "dtype": dtype,
        "rounds": rounds,
        "clock": clock,
        "handgrad_s_per_epoch": float(np.median(ours)),
        "ratios": {},
    }
    if "NumPy floor" in timer.times:  # it skips the short last batch
        full = w.n_samples // w.batch_size
        timer.times["NumPy floor"] = [
            t * w.steps_per_epoch / full for t in timer.times["NumPy floor"]
        ]
        floor = np.array(timer.times["NumPy floor"][1:])
        for key, rival in (
            ("floor_over_plain", "plain NumPy"),
            ("floor_over_bound", "matmul bound"),
        ):
            q25, q50, q75 = np.percentile(floor / np.array(timer.times[rival][1:]), [25, 50, 75])
            out[key] = {"median": float(q50), "q25": float(q25), "q75": float(q75)}
    for name, times in timer.times.items():
        ratio = ours / np.array(times[1:])
        q25, q50, q75 = np.percentile(ratio, [25, 50, 75])
        out["ratios"][name] = {
            "median": float(q50),
            "q25": float(q25),
            "q75": float(q75),
            "rival_s_per_epoch": float(np.median(times[1:])),
        }
    return out


def fit_overhead(w: Workload, epochs: int = 40, repeats: int = 9, clock: str = "wall") -> dict:
    """fit's own work around the steps, two ways, alternated over a few repeats.

    per epoch: one fit(epochs=E), wall time against the sum of its epochs' step loops;
    per call: E calls of fit(epochs=1) against one fit(epochs=E) (the issue's measure),
    on ``clock`` (the per-epoch share compares wall times: ``epoch_seconds`` are wall).
    """
    now = CLOCKS[clock]
    X, y = make_data(w, "float64")

    def train(n_epochs: int, calls: int) -> tuple[float, float]:
        model = hg.mlp(list(w.sizes), "relu", seed=MODEL_SEED)
        opt = hg.SGD(model.parameters(), lr=LEARNING_RATE)
        rng = np.random.default_rng(0)
        steps, started, started_clock = 0.0, time.perf_counter(), now()
        for _ in range(calls):
            h = hg.fit(
                model, _loss(w), opt, X, y, epochs=n_epochs, batch_size=w.batch_size, rng=rng
            )
            steps += float(np.sum(h.epoch_seconds))
        return time.perf_counter() - started, steps, now() - started_clock

    per_epoch, per_call = [], []
    train(1, 2)  # warm-up
    for r in range(repeats):
        if r % 2:
            _, _, singles = train(1, epochs)
            wall, steps, one = train(epochs, 1)
        else:
            wall, steps, one = train(epochs, 1)
            _, _, singles = train(1, epochs)
        per_epoch.append((wall - steps) / steps)
        per_call.append((singles - one) / one)
    q = {k: np.percentile(v, [25, 50, 75]) for k, v in (("e", per_epoch), ("c", per_call))}
    return {
        "workload": w.name,
        "epochs": epochs,
        "repeats": repeats,
        "per_epoch_share": float(q["e"][1]),
        "per_epoch_q25_q75": [float(q["e"][0]), float(q["e"][2])],
        "per_call_share": float(q["c"][1]),
        "per_call_q25_q75": [float(q["c"][0]), float(q["c"][2])],
    }


def _cell(q: dict | None) -> str:
    return "—" if q is None else f"{q['median']:.2f} ({q['q25']:.2f}–{q['q75']:.2f})"


def _table(results: list[dict]) -> str:
    names = ["plain NumPy", "PyTorch", "matmul bound", "handgrad float64"]
    with_floor = any("floor_over_plain" in r for r in results)
    if with_floor:
        names.append("NumPy floor")
    lines = [
        "| workload | dtype | rounds | handgrad s/epoch | "
        + " | ".join(f"÷ {n}" for n in names)
        + (" | NumPy floor ÷ plain NumPy | NumPy floor ÷ matmul bound" if with_floor else "")
        + " |",
        "|---|---|---|---|" + "---|" * (len(names) + 2 * with_floor),
    ]
    for r in results:
        cells = [_cell(r["ratios"].get(n)) for n in names]
        if with_floor:
            cells += [_cell(r.get("floor_over_plain")), _cell(r.get("floor_over_bound"))]
        lines.append(
            f"| {r['workload']} | {r['dtype']} | {r['rounds']} | "
            f"{r['handgrad_s_per_epoch']:.4f} | " + " | ".join(cells) + " |"
        )
    return "\n".join(lines)


# the targets (issue 16's, with issue 24's for W3/W4 and the bound): (rival column,
# workloads, dtypes or None for all, the largest ratio)
TARGETS = [
    ("plain NumPy", ("W1", "W2", "W3", "W4"), None, 0.90),
    ("PyTorch", ("W1", "W2"), None, 0.85),
    ("PyTorch", ("W3", "W4"), None, 0.25),
    ("matmul bound", ("W1", "W2"), None, 1.5),  # (--floor shows the NumPy floor's own ratio)
    ("handgrad float64", ("W1", "W2"), ("float32",), 1 / 1.6),  # float32 1.6x faster
]
FIT_OVERHEAD_TARGET = 0.05


def targets_table(results: list[dict], overhead: dict | None) -> str:
    """Each target against the median that measured it (and the 75th percentile)."""
    lines = ["| target | measured: median (75th percentile) | met |", "|---|---|---|"]
    for rival, workloads, dtypes, limit in TARGETS:
        for r in results:
            q = r["ratios"].get(rival)
            if r["workload"] not in workloads or (dtypes and r["dtype"] not in dtypes) or not q:
                continue
            met = "yes" if q["median"] <= limit else "**no**"
            lines.append(
                f"| {r['workload']} {r['dtype']}: handgrad ÷ {rival} <= {limit:.3g} | "
                f"{q['median']:.2f} ({q['q75']:.2f}) | {met} |"
            )
    if overhead:
        for key, what in (("per_call_share", "per call"), ("per_epoch_share", "per epoch")):
            share = overhead[key]
            met = "yes" if share <= FIT_OVERHEAD_TARGET else "**no**"
            lines.append(
                f"| W3: fit's own work {what} <= 5% of an epoch | {share:.1%} "
                f"({overhead[key.replace('share', 'q25_q75')][1]:.1%}) | {met} |"
            )
    return "\n".join(lines)


def _load() -> str:
    path = Path("/proc/loadavg")
    return " ".join(path.read_text().split()[:3]) if path.exists() else "?"


def set_threads(n: int | None, with_torch: bool) -> str:
    """Limit NumPy's BLAS and PyTorch to ``n`` threads (None: leave them); -> what they use."""
    parts = []
    try:
        from threadpoolctl import threadpool_info, threadpool_limits

        if n is not None:
            threadpool_limits(n)  # process-wide, for the rest of the run
        for pool in threadpool_info():
            parts.append(f"{pool['internal_api']} {pool.get('version', '')} {pool['num_threads']}")
    except ImportError:
        parts.append("threadpoolctl not installed: BLAS threads unknown")
    if with_torch:
        import torch

        if n is not None:
            torch.set_num_threads(n)
        parts.append(f"PyTorch {torch.__version__} intra-op {torch.get_num_threads()}")
    hg_threads.set_threads(n)
    parts.append(
        f"handgrad's element-wise work up to {hg_threads.thread_count()} "
        "(1 while other processes leave no idle core)"
    )
    return "threads: " + ", ".join(parts)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", default="W1,W2,W3,W4")
    parser.add_argument("--dtypes", default="float32,float64")
    parser.add_argument("--rounds", type=int, help="rounds per workload (default: per workload)")
    parser.add_argument(
        "--rounds-per-workload",
        type=json.loads,
        default={},
        metavar="JSON",
        help='rounds of each workload, e.g. \'{"W1": 6, "W3": 120}\' (others: the default)',
    )
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    parser.add_argument("--threads", type=int, help="BLAS and PyTorch threads (default: as set)")
    parser.add_argument("--floor", action="store_true", help="add floor.py's minimal step")
    parser.add_argument(
        "--clock",
        choices=sorted(CLOCKS),
        default="wall",
        help="wall time, or the process's CPU time (with --threads 1: time not spent "
        "descheduled by other jobs)",
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--report", type=Path, help="print the tables of a run saved with --json, and stop"
    )
    args = parser.parse_args(argv)
    if args.report:
        saved = json.loads(args.report.read_text())
        print(_table(saved["paired"]))
        print()
        print(targets_table(saved["paired"], saved.get("fit_overhead")))
        return 0
    with_torch = not args.no_torch
    if with_torch:
        try:
            import torch  # noqa: F401
        except ImportError:
            print("PyTorch not installed: its column is left empty", file=sys.stderr)
            with_torch = False
    threads = set_threads(args.threads, with_torch)
    started = f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load {_load()}"
    print(threads, flush=True)
    results = []
    for name in args.workloads.split(","):
        w = WORKLOADS[name]
        for dtype in args.dtypes.split(","):
            if dtype not in w.dtypes:
                continue
            rounds = args.rounds or args.rounds_per_workload.get(name, DEFAULT_ROUNDS[name])
            r = paired(w, dtype, rounds, with_torch, args.floor, args.clock)
            results.append(r)
            print(_table([r]).splitlines()[-1], flush=True)
    overhead = fit_overhead(WORKLOADS["W3"], clock=args.clock) if "W3" in args.workloads else None
    print()
    print(
        f"from {started} to {time.strftime('%H:%M UTC', time.gmtime())}, load {_load()}; "
        f"{platform.machine()}, Python {platform.python_version()}, NumPy {np.__version__}"
    )
    print(f"{threads}; clock: {args.clock}")
    print(_table(results))
    if overhead:
        e, pe, pc = overhead["epochs"], overhead["per_epoch_q25_q75"], overhead["per_call_q25_q75"]
        print(
            f"\nW3, fit's own work (median of {overhead['repeats']}, 25th-75th): around the "
            f"steps of one fit(epochs={e}): {overhead['per_epoch_share']:.1%} "
            f"({pe[0]:.1%} to {pe[1]:.1%}) of the step time; {e} x fit(epochs=1) against one "
            f"fit(epochs={e}): {overhead['per_call_share']:+.1%} ({pc[0]:+.1%} to {pc[1]:+.1%})"
        )
    print()
    print(targets_table(results, overhead))
    if args.json:
        record = {"started": started, "threads": threads, "clock": args.clock, "paired": results}
        args.json.write_text(json.dumps({**record, "fit_overhead": overhead}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
