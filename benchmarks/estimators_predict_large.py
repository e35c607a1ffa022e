"""Large-batch prediction, handgrad's estimators against scikit-learn's MLPs, in CPU time.

Both libraries fit the same settings on digits (1,797 x 64, scaled; 64 hidden units), then
predict the same 20,000 rows (the table's rows drawn with noise), alternating which library
goes first round by round, in one process at one BLAS thread. Each round times ``k`` calls
with ``time.process_time`` (CPU time: less sensitive than the wall clock to other work on a
shared machine). Prints per case the medians of the per-call times and the median of the
per-round ratios handgrad / scikit-learn with their range (< 1: handgrad faster), and the
load average before and after.

    PYTHONPATH=src python benchmarks/estimators_predict_large.py --rounds 15
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.neural_network import MLPClassifier as SkClassifier
from sklearn.neural_network import MLPRegressor as SkRegressor
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from handgrad.estimators import MLPClassifier, MLPRegressor

PARAMS = dict(hidden_layer_sizes=(64,), max_iter=30, random_state=0)


def cpu_per_call(f, X, k: int) -> float:
    f(X)  # warm
    start = time.process_time()
    for _ in range(k):
        f(X)
    return (time.process_time() - start) / k


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--calls", type=int, default=10, help="calls timed together per round")
    parser.add_argument("--rows", type=int, default=20_000)
    args = parser.parse_args(argv)
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    rng = np.random.default_rng(0)
    big = X[rng.integers(0, len(X), args.rows)] + rng.normal(scale=0.1, size=(args.rows, 64))
    big = np.ascontiguousarray(big)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs_c, ours_c = SkClassifier(**PARAMS).fit(X, y), MLPClassifier(**PARAMS).fit(X, y)
        theirs_r, ours_r = (
            SkRegressor(**PARAMS).fit(X, y / 10),
            MLPRegressor(**PARAMS).fit(X, y / 10),
        )
    cases = {
        "classifier predict_proba": (theirs_c.predict_proba, ours_c.predict_proba),
        "classifier predict": (theirs_c.predict, ours_c.predict),
        "regressor predict": (theirs_r.predict, ours_r.predict),
    }
    print(f"load before: {os.getloadavg()[0]:.1f}; {args.rows:,} rows, one BLAS thread")
    print(
        "| case | handgrad | scikit-learn | ratio median [min, max] |\n| --- | ---: | ---: | --- |"
    )
    with threadpool_limits(1):
        for name, (theirs, ours) in cases.items():
            t_ours, t_theirs, ratios = [], [], []
            for r in range(args.rounds):
                first, second = (theirs, ours) if r % 2 == 0 else (ours, theirs)
                a = cpu_per_call(first, big, args.calls)
                b = cpu_per_call(second, big, args.calls)
                theirs_t, ours_t = (a, b) if first is theirs else (b, a)
                t_ours.append(ours_t)
                t_theirs.append(theirs_t)
                ratios.append(ours_t / theirs_t)
            print(
                f"| {name} | {statistics.median(t_ours) * 1e3:.2f} ms | "
                f"{statistics.median(t_theirs) * 1e3:.2f} ms | {statistics.median(ratios):.3f} "
                f"[{min(ratios):.3f}, {max(ratios):.3f}] |",
                flush=True,
            )
    print(f"load after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
