"""Prediction speed of handgrad's MLPClassifier / MLPRegressor against scikit-learn's.

Both libraries fit the same settings on the same table (digits, 1,797 x 64, scaled; 64 hidden
units), then, round by round in one process, each predicts the same X (``k`` calls timed
together, wall clock); which library goes first alternates. The table gives the medians of
the per-call times and the median of the per-round ratios handgrad / scikit-learn with
their range (< 1: handgrad faster), and the load average at the start and the end of each
setting. Cases: one row, 100 rows, the whole table, 20,000 rows (the table's rows drawn with
noise); float64 and float32; classifier
(``predict_proba``, ``predict``, ``decision_function`` against scikit-learn's
``predict_proba``, which it has instead, ``score``) and regressor (``predict``, ``score``);
a ``Pipeline`` (StandardScaler + classifier) and a pandas ``DataFrame``.

    PYTHONPATH=src python benchmarks/estimators_predict.py                 # default threads, then 1
    PYTHONPATH=src python benchmarks/estimators_predict.py --threads 1 --rounds 21

The BLAS's thread count is set with threadpoolctl around each setting (both libraries use
NumPy's BLAS, so both get the same count).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import warnings
from collections.abc import Callable

import numpy as np
import pandas as pd
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier as SkClassifier
from sklearn.neural_network import MLPRegressor as SkRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from handgrad.estimators import MLPClassifier, MLPRegressor

SIZES = {"1 row": 1, "100 rows": 100, "1,797 rows": 1797, "20,000 rows": 20_000}
PARAMS = dict(hidden_layer_sizes=(64,), max_iter=30, random_state=0)


def data(dtype) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Scaled digits X (1797, 64), its labels, and 20,000 rows like them (for large batches)."""
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X).astype(dtype)
    rng = np.random.default_rng(0)
    big = X[rng.integers(0, len(X), 20_000)] + rng.normal(scale=0.1, size=(20_000, 64))
    return X, y, np.ascontiguousarray(big, dtype=dtype)


def per_call(f: Callable[[], object], k: int) -> float:
    start = time.perf_counter()
    for _ in range(k):
        f()
    return (time.perf_counter() - start) / k


def compare(ours: Callable[[], object], theirs: Callable[[], object], rounds: int):
    """Per-call times (ours, theirs) of each round, the order alternating; each time is of
    ``k`` calls together, k chosen for about 30 ms a measurement (from 3 warm-up calls)."""
    slowest = max(statistics.median(per_call(f, 1) for _ in range(3)) for f in (ours, theirs))
    k = max(1, min(300, round(0.03 / slowest)))
    a, b = [], []
    for r in range(rounds):
        if r % 2:
            b.append(per_call(theirs, k))
            a.append(per_call(ours, k))
        else:
            a.append(per_call(ours, k))
            b.append(per_call(theirs, k))
    return a, b


def cases(dtype):
    """(case, method, rows, ours, theirs) for one dtype."""
    X, y, big = data(dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = MLPClassifier(**PARAMS).fit(X, y)
        theirs = SkClassifier(**PARAMS).fit(X, y)
        ours_reg = MLPRegressor(**PARAMS).fit(X, y.astype(dtype))
        theirs_reg = SkRegressor(**PARAMS).fit(X, y.astype(dtype))
    name = np.dtype(dtype).name
    for label, n in SIZES.items():
        Xn = X[:n] if n <= len(X) else big[:n]
        yn = y[np.arange(n) % len(y)]
        yield (
            f"classifier {name}",
            "predict_proba",
            label,
            (
                lambda Xn=Xn: ours.predict_proba(Xn),
                lambda Xn=Xn: theirs.predict_proba(Xn),
            ),
        )
        yield (
            f"classifier {name}",
            "predict",
            label,
            (
                lambda Xn=Xn: ours.predict(Xn),
                lambda Xn=Xn: theirs.predict(Xn),
            ),
        )
        yield (
            f"classifier {name}",
            "decision_function (theirs: predict_proba)",
            label,
            (
                lambda Xn=Xn: ours.decision_function(Xn),
                lambda Xn=Xn: theirs.predict_proba(Xn),
            ),
        )
        if n in (100, 1797):
            yield (
                f"classifier {name}",
                "score",
                label,
                (
                    lambda Xn=Xn, yn=yn: ours.score(Xn, yn),
                    lambda Xn=Xn, yn=yn: theirs.score(Xn, yn),
                ),
            )
        yield (
            f"regressor {name}",
            "predict",
            label,
            (
                lambda Xn=Xn: ours_reg.predict(Xn),
                lambda Xn=Xn: theirs_reg.predict(Xn),
            ),
        )
        if n in (100, 1797):
            yield (
                f"regressor {name}",
                "score",
                label,
                (
                    lambda Xn=Xn, yn=yn: ours_reg.score(Xn, yn.astype(dtype)),
                    lambda Xn=Xn, yn=yn: theirs_reg.score(Xn, yn.astype(dtype)),
                ),
            )


def wrapped_cases():
    """A Pipeline on the raw table, and a classifier fitted and asked on a DataFrame."""
    X, y = load_digits(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = make_pipeline(StandardScaler(), MLPClassifier(**PARAMS)).fit(X, y)
        theirs = make_pipeline(StandardScaler(), SkClassifier(**PARAMS)).fit(X, y)
        frame = pd.DataFrame(StandardScaler().fit_transform(X)).add_prefix("pixel_")
        ours_df = MLPClassifier(**PARAMS).fit(frame, y)
        theirs_df = SkClassifier(**PARAMS).fit(frame, y)
    for label, n in (("1 row", 1), ("1,797 rows", 1797)):
        yield (
            "Pipeline(StandardScaler, classifier)",
            "predict_proba",
            label,
            (
                lambda n=n: ours.predict_proba(X[:n]),
                lambda n=n: theirs.predict_proba(X[:n]),
            ),
        )
        yield (
            "classifier on a DataFrame",
            "predict_proba",
            label,
            (
                lambda n=n: ours_df.predict_proba(frame[:n]),
                lambda n=n: theirs_df.predict_proba(frame[:n]),
            ),
        )


def run(threads: int | None, rounds: int) -> None:
    setting = "default threads" if threads is None else f"{threads} BLAS thread(s)"
    print(f"\n### {setting}, {rounds} rounds, load at start {os.getloadavg()[0]:.1f}\n")
    print("| case | method | rows | handgrad | scikit-learn | ratio median [min, max] |")
    print("| --- | --- | ---: | ---: | ---: | --- |")
    with threadpool_limits(limits=threads, user_api="blas"):
        all_cases = [*cases(np.float64), *cases(np.float32), *wrapped_cases()]
        for case, method, label, (ours, theirs) in all_cases:
            a, b = compare(ours, theirs, rounds)
            ratios = [x / y for x, y in zip(a, b)]
            print(
                f"| {case} | {method} | {label} | {_us(statistics.median(a))} "
                f"| {_us(statistics.median(b))} | {statistics.median(ratios):.2f} "
                f"[{min(ratios):.2f}, {max(ratios):.2f}] |",
                flush=True,
            )
    print(f"\nload at the end {os.getloadavg()[0]:.1f}")


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:,.0f} us" if seconds < 1e-3 else f"{seconds * 1e3:,.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument(
        "--threads", type=int, default=None, help="one BLAS thread count (default: both)"
    )
    args = parser.parse_args()
    settings = [None, 1] if args.threads is None else [args.threads]
    for threads in settings:
        run(threads, args.rounds)


if __name__ == "__main__":
    main()
