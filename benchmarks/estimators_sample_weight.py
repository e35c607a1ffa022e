"""How much slower the estimators train with ``sample_weight`` than without.

Both take the fused kernels of ``handgrad.train.fast``; a weighted batch has the loss kernel's
weighted sum (``fast_losses.RowWeighted``) and the gather of its rows' weights. (Before that,
it took the engine's textbook forward/backward: run with PYTHONPATH on an older copy to
compare.) Weights of all ones give the same objective, so the two fits do the same work. Each
round fits both, alternated (which goes first alternates too), and the CPU time (this
thread's) of each fit is taken; the table gives the median ratio weighted / unweighted with its
range, per solver.

    OPENBLAS_NUM_THREADS=1 PYTHONPATH=src python benchmarks/estimators_sample_weight.py [--rounds 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.preprocessing import StandardScaler

from handgrad.estimators import MLPClassifier

SETTINGS = {  # solver: (the estimator's parameters, what it trains)
    "adam": dict(solver="adam", hidden_layer_sizes=(64,), max_iter=20, batch_size=64),
    "sgd": dict(solver="sgd", hidden_layer_sizes=(64,), max_iter=20, batch_size=64),
    "lbfgs": dict(solver="lbfgs", hidden_layer_sizes=(64,), max_iter=50, tol=0.0),
}


def cpu_of_fit(params: dict, X, y, weights) -> float:
    model = MLPClassifier(random_state=0, **params)
    start = time.thread_time()
    model.fit(X, y, sample_weight=weights)
    return time.thread_time() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    ones = np.ones(len(y))
    warnings.simplefilter("ignore", ConvergenceWarning)
    print(f"digits {X.shape}, {args.rounds} rounds, load {os.getloadavg()[0]:.1f}")
    print("| solver | unweighted CPU (median) | weighted CPU (median) | ratio median [min, max] |")
    print("| --- | ---: | ---: | --- |")
    for name, params in SETTINGS.items():
        cpu_of_fit(params, X, y, None)  # warm-up: imports, caches
        plain, weighted = [], []
        for r in range(args.rounds):
            order = [None, ones] if r % 2 == 0 else [ones, None]
            for w in order:
                (plain if w is None else weighted).append(cpu_of_fit(params, X, y, w))
        ratios = [b / a for a, b in zip(plain, weighted)]
        print(
            f"| {name} | {1e3 * statistics.median(plain):.0f} ms "
            f"| {1e3 * statistics.median(weighted):.0f} ms "
            f"| {statistics.median(ratios):.2f} [{min(ratios):.2f}, {max(ratios):.2f}] |"
        )
    print(f"load at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
