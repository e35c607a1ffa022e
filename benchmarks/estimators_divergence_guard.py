"""The minibatch loop's divergence guard, per update, in CPU time: a copy of every weight
before every update (the old guard) against ``Rewind.before_update`` (a snapshot of the
weights and the optimizer's state every ``STEPS_PER_SNAPSHOT`` updates, replayed on
divergence), on the parameters of two fitted estimators: digits with 64 hidden units, and a
4,000 x 30,000 sparse table (density 0.002) with 32. One BLAS thread; prints the load.

    PYTHONPATH=src OPENBLAS_NUM_THREADS=1 python benchmarks/estimators_divergence_guard.py
"""

from __future__ import annotations

import os
import statistics
import time
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.datasets import load_digits
from threadpoolctl import threadpool_limits

from handgrad.estimators import MLPClassifier
from handgrad.estimators._rewind import Rewind


def per_update(f, n: int) -> float:
    start = time.process_time()
    for _ in range(n):
        f()
    return (time.process_time() - start) / n


def measure(name: str, est: MLPClassifier, n: int) -> None:
    """Per-update CPU of both guards on ``est``'s parameters, 5 alternated rounds."""
    params = est._network().parameters()
    backup = [p.value.copy() for p in params]
    rewind = Rewind(params, est._optimizer, lambda idx: None)
    batch = np.arange(200)

    def copy_all() -> None:
        for keep, p in zip(backup, params):
            np.copyto(keep, p.value)

    ratios, old, new = [], [], []
    for _ in range(5):
        old.append(per_update(copy_all, n))
        new.append(per_update(lambda: rewind.before_update(batch), n))
        ratios.append(new[-1] / old[-1])
    print(
        f"{name}: per update, copy {statistics.median(old) * 1e6:.2f} us, "
        f"snapshots + replay list {statistics.median(new) * 1e6:.2f} us; "
        f"ratio {statistics.median(ratios):.3f} [{min(ratios):.3f}, {max(ratios):.3f}]"
    )


def main() -> None:
    X, y = load_digits(return_X_y=True)
    wide = sp.random(4000, 30000, density=0.002, format="csr", random_state=0)
    labels = np.random.default_rng(0).integers(0, 2, 4000)
    cases = {
        "digits, 64 hidden": (X / 16, y, (64,), 20000),
        "sparse 30000 x 32": (wide, labels, (32,), 640),
    }
    print("load:", os.getloadavg())
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, (A, b, hidden, n) in cases.items():
            est = MLPClassifier(hidden_layer_sizes=hidden, max_iter=2, random_state=0).fit(A, b)
            measure(name, est, n)
    print("load:", os.getloadavg())


if __name__ == "__main__":
    main()
