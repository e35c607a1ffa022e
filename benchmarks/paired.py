"""Paired, in-process timings: handgrad against its rivals, epoch by epoch, in one process.

    python benchmarks/paired.py [--workloads W1,W3] [--dtypes float32,float64] [--rounds N]

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

Limits. Rounds are not independent (caches, the allocator and BLAS threads are shared), and
the first round is dropped as a warm-up. A ratio below 1 means handgrad is faster. The
fresh-process table of ``run.py`` stays the record for memory and start-up.

The W3 overhead row: one ``fit(epochs=E)`` against the sum of its epochs' step loops
(``History.epoch_seconds``): what ``fit`` does per call and per epoch around the steps
(validation of the inputs, shuffling bookkeeping, history), as a share of an epoch.
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

import handgrad as hg  # noqa: E402
import matmul_bound  # noqa: E402
import plain_numpy  # noqa: E402
from workloads import LEARNING_RATE, MODEL_SEED, WORKLOADS, Workload, make_data  # noqa: E402

DEFAULT_ROUNDS = {"W1": 12, "W2": 10, "W3": 40, "W4": 30}


def _loss(w: Workload):
    return hg.SoftmaxCrossEntropyLoss() if w.loss == "softmax_ce" else hg.BCEWithLogitsLoss()


class Rivals:
    """One epoch of each rival, with its own model state kept across rounds."""

    def __init__(self, w: Workload, X: np.ndarray, y: np.ndarray, with_torch: bool):
        self.w, self.X, self.y = w, X, y
        self.plain_params = plain_numpy.init_params(w.sizes, X.dtype, MODEL_SEED)
        self.plain_rng = np.random.default_rng(MODEL_SEED)
        self.bound = matmul_bound.make_buffers(w.sizes, w.batch_size, X.dtype)
        self.runs: dict[str, object] = {"plain NumPy": self.plain, "matmul bound": self.bound_epoch}
        if with_torch:
            self.torch_epoch = _torch_epoch(w, X, y)
            self.runs["PyTorch"] = self.torch_epoch
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


class PairedTimer(hg.train.Callback):
    """After each handgrad epoch, one timed epoch of every rival, in a rotating order."""

    def __init__(self, rivals: Rivals):
        self.rivals = rivals
        self.times: dict[str, list[float]] = {name: [] for name in rivals.runs}

    def on_epoch_end(self, ctx) -> None:
        names = list(self.rivals.runs)
        shift = ctx.epoch % len(names)
        for name in names[shift:] + names[:shift]:
            started = time.perf_counter()
            self.rivals.runs[name]()  # type: ignore[operator]
            self.times[name].append(time.perf_counter() - started)


def paired(w: Workload, dtype: str, rounds: int, with_torch: bool) -> dict:
    """Per-round ratios handgrad / rival for one workload and dtype."""
    X, y = make_data(w, dtype)
    rivals = Rivals(w, X, y, with_torch)
    timer = PairedTimer(rivals)
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
    ours = np.array(history.epoch_seconds[1:])  # the first round is a warm-up
    out: dict = {
        "workload": w.name,
        "dtype": dtype,
        "rounds": rounds,
        "handgrad_s_per_epoch": float(np.median(ours)),
        "ratios": {},
    }
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


def fit_overhead(w: Workload, epochs: int = 40, repeats: int = 5) -> dict:
    """fit's own work around the steps, two ways, alternated over a few repeats.

    per epoch: one fit(epochs=E), wall time against the sum of its epochs' step loops;
    per call: E calls of fit(epochs=1) against one fit(epochs=E) (the issue's measure).
    """
    X, y = make_data(w, "float64")

    def train(n_epochs: int, calls: int) -> tuple[float, float]:
        model = hg.mlp(list(w.sizes), "relu", seed=MODEL_SEED)
        opt = hg.SGD(model.parameters(), lr=LEARNING_RATE)
        rng = np.random.default_rng(0)
        steps = 0.0
        started = time.perf_counter()
        for _ in range(calls):
            h = hg.fit(
                model, _loss(w), opt, X, y, epochs=n_epochs, batch_size=w.batch_size, rng=rng
            )
            steps += float(np.sum(h.epoch_seconds))
        return time.perf_counter() - started, steps

    per_epoch, per_call = [], []
    for _ in range(repeats):
        wall, steps = train(epochs, 1)
        singles, _ = train(1, epochs)
        per_epoch.append((wall - steps) / steps)
        per_call.append((singles - wall) / wall)
    return {
        "workload": w.name,
        "epochs": epochs,
        "per_epoch_share": float(np.median(per_epoch)),
        "per_call_share": float(np.median(per_call)),
    }


def _table(results: list[dict]) -> str:
    names = ["plain NumPy", "PyTorch", "matmul bound", "handgrad float64"]
    lines = [
        "| workload | dtype | rounds | handgrad s/epoch | "
        + " | ".join(f"÷ {n}" for n in names)
        + " |",
        "|---|---|---|---|" + "---|" * len(names),
    ]
    for r in results:
        cells = []
        for n in names:
            q = r["ratios"].get(n)
            cells.append("—" if q is None else f"{q['median']:.2f} ({q['q25']:.2f}–{q['q75']:.2f})")
        lines.append(
            f"| {r['workload']} | {r['dtype']} | {r['rounds']} | "
            f"{r['handgrad_s_per_epoch']:.4f} | " + " | ".join(cells) + " |"
        )
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", default="W1,W2,W3,W4")
    parser.add_argument("--dtypes", default="float32,float64")
    parser.add_argument("--rounds", type=int, help="rounds per workload (default: per workload)")
    parser.add_argument("--no-torch", action="store_true", help="leave PyTorch out")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    try:
        import torch  # noqa: F401

        with_torch = not args.no_torch
    except ImportError:
        print("PyTorch not installed: its column is left empty", file=sys.stderr)
        with_torch = False
    results = []
    for name in args.workloads.split(","):
        w = WORKLOADS[name]
        for dtype in args.dtypes.split(","):
            if dtype not in w.dtypes:
                continue
            rounds = args.rounds or DEFAULT_ROUNDS[name]
            r = paired(w, dtype, rounds, with_torch)
            results.append(r)
            print(_table([r]).splitlines()[-1], flush=True)
    overhead = fit_overhead(WORKLOADS["W3"]) if "W3" in args.workloads else None
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else []
    print()
    print(
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.machine()}, "
        f"Python {platform.python_version()}, NumPy {np.__version__}, load {' '.join(load)}"
    )
    print(_table(results))
    if overhead:
        e = overhead["epochs"]
        print(
            f"\nW3, fit's own work (median of 5): around the steps of one fit(epochs={e}): "
            f"{overhead['per_epoch_share']:.1%} of the step time; {e} x fit(epochs=1) "
            f"against one fit(epochs={e}): {overhead['per_call_share']:+.1%}"
        )
    if args.json:
        args.json.write_text(json.dumps({"paired": results, "fit_overhead": overhead}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
