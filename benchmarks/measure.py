"""One measurement in a fresh process: train one framework on one workload, print JSON.

    python benchmarks/measure.py FRAMEWORK WORKLOAD DTYPE [--epochs E]

FRAMEWORK is handgrad, numpy (the plain loop), torch, sklearn, or bound (the matrix
multiplies alone). After an untimed warm-up on two batches, the time reported is the wall
time of the whole training call, data already in memory, divided by the number of epochs:
it includes each framework's own input checks and setup, as a user would wait for them.
Peak memory is the peak resident set size during that call (Linux: VmHWM after resetting
it through /proc/self/clear_refs).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import matmul_bound  # noqa: E402
import plain_numpy  # noqa: E402
from workloads import LEARNING_RATE, MODEL_SEED, WORKLOADS, Workload, make_data  # noqa: E402

FRAMEWORKS = ("handgrad", "numpy", "torch", "sklearn", "bound")


# --- memory ---------------------------------------------------------------------------------


def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def reset_peak_rss() -> bool:
    """Make the kernel's peak-RSS counter start again from the current RSS (Linux >= 4.0)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def rss_mib() -> float | None:
    kib = _status_kib("VmRSS")
    return None if kib is None else kib / 1024


def peak_rss_mib() -> float | None:
    kib = _status_kib("VmHWM")
    return None if kib is None else kib / 1024


# --- runners: each returns the per-step losses (or None) after training ----------------------


def run_handgrad(w: Workload, X, y, epochs: int):
    import handgrad as hg

    model = hg.mlp(list(w.sizes), "relu", seed=MODEL_SEED, dtype=X.dtype)
    loss = hg.SoftmaxCrossEntropyLoss() if w.loss == "softmax_ce" else hg.BCEWithLogitsLoss()
    opt = hg.SGD(model.parameters(), lr=LEARNING_RATE)
    history = hg.fit(model, loss, opt, X, y, epochs=epochs, batch_size=w.batch_size, seed=0)
    return history.step_loss


def run_numpy(w: Workload, X, y, epochs: int):
    return plain_numpy.train(
        X, y, w.sizes, w.loss, w.batch_size, LEARNING_RATE, epochs, seed=MODEL_SEED
    )


def run_bound(w: Workload, X, y, epochs: int):
    buffers = matmul_bound.make_buffers(w.sizes, w.batch_size, X.dtype)
    sizes = w.batch_sizes()
    for _ in range(epochs):
        matmul_bound.one_epoch(sizes, *buffers)
    return None


def run_torch(w: Workload, X, y, epochs: int):
    import torch

    torch.manual_seed(MODEL_SEED)
    dtype = torch.float32 if X.dtype == np.float32 else torch.float64
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(w.sizes[:-1], w.sizes[1:])):
        layers.append(torch.nn.Linear(fan_in, fan_out, dtype=dtype))
        if i < len(w.sizes) - 2:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    if w.loss == "softmax_ce":
        loss_fn = torch.nn.CrossEntropyLoss()
        Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    else:
        loss_fn = torch.nn.BCEWithLogitsLoss()
        Xt, yt = torch.from_numpy(X), torch.from_numpy(y).reshape(-1, 1)
    opt = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    gen = torch.Generator().manual_seed(0)
    n, bs = X.shape[0], w.batch_size
    losses = []
    for _ in range(epochs):
        order = torch.randperm(n, generator=gen)
        for start in range(0, n, bs):
            idx = order[start : start + bs]
            xb, yb = Xt[idx], yt[idx]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            losses.append(loss.item())
    return losses


def run_sklearn(w: Workload, X, y, epochs: int):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(
        hidden_layer_sizes=w.sizes[1:-1],
        activation="relu",
        solver="sgd",
        learning_rate="constant",
        learning_rate_init=LEARNING_RATE,
        momentum=0.0,
        nesterovs_momentum=False,
        alpha=0.0,
        batch_size=w.batch_size,
        max_iter=epochs,
        shuffle=True,
        tol=0.0,
        n_iter_no_change=epochs + 1,
        random_state=MODEL_SEED,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    return clf.loss_curve_


RUNNERS = {
    "handgrad": run_handgrad,
    "numpy": run_numpy,
    "torch": run_torch,
    "sklearn": run_sklearn,
    "bound": run_bound,
}


def versions(framework: str) -> dict:
    out = {"python": sys.version.split()[0], "numpy": np.__version__}
    if framework == "torch":
        import torch

        out["torch"] = torch.__version__
        out["torch_threads"] = torch.get_num_threads()
    elif framework == "sklearn":
        import sklearn

        out["sklearn"] = sklearn.__version__
    elif framework == "handgrad":
        import handgrad

        out["handgrad"] = getattr(handgrad, "__version__", "?")
    return out


def blas_info() -> list[dict]:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    keys = ("user_api", "internal_api", "prefix", "version", "num_threads", "architecture")
    return [{k: d.get(k) for k in keys} for d in threadpool_info()]


def measure(framework: str, workload: str, dtype: str, epochs: int | None) -> dict:
    w = WORKLOADS[workload]
    epochs = epochs or w.epochs
    runner = RUNNERS[framework]
    if framework == "torch":
        import torch  # noqa: F401  (import before timing, like the other frameworks)
    elif framework == "sklearn":
        import sklearn.neural_network  # noqa: F401
    elif framework == "handgrad":
        import handgrad  # noqa: F401
    X, y = make_data(w, dtype)
    # Warm-up, untimed: every framework trains once on two batches, so that one-time
    # initialization (PyTorch's takes seconds on first use) is not counted as an epoch.
    runner(w, X[: 2 * w.batch_size], y[: 2 * w.batch_size], 1)
    rss_before = rss_mib()
    peak_reset = reset_peak_rss()
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    losses = runner(w, X, y, epochs)
    seconds = time.perf_counter() - start
    peak = peak_rss_mib() if peak_reset else None
    return {
        "framework": framework,
        "workload": workload,
        "dtype": dtype,
        "epochs": epochs,
        "seconds": seconds,
        "seconds_per_epoch": seconds / epochs,
        "first_loss": None if not losses else float(losses[0]),
        "last_loss": None if not losses else float(losses[-1]),
        "data_mib": (X.nbytes + y.nbytes) / 2**20,
        "rss_before_mib": rss_before,
        "peak_rss_mib": peak,
        "load_before": load_before,
        "versions": versions(framework),
        "blas": blas_info(),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("framework", choices=FRAMEWORKS)
    parser.add_argument("workload", choices=sorted(WORKLOADS))
    parser.add_argument("dtype", choices=("float32", "float64"))
    parser.add_argument("--epochs", type=int, default=None)
    args = parser.parse_args(argv)
    result = measure(args.framework, args.workload, args.dtype, args.epochs)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
