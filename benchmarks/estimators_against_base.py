"""This checkout's estimators against another checkout's (e.g. main), in one process, CPU time.

The other checkout's ``src/handgrad`` is copied into a temporary directory as the package
``handgrad_base`` (handgrad's modules import each other relatively), so both load side by
side. For each case both fit or predict the same thing (the bits are compared first), then
alternate, round by round, which goes first; one BLAS thread. Prints the median of the
per-round ratios this / base (< 1: this checkout is faster) with their range, and the load.

    git worktree add /tmp/base main   # or any checkout
    PYTHONPATH=src OPENBLAS_NUM_THREADS=1 python benchmarks/estimators_against_base.py \\
        --base /tmp/base/src --rounds 15
"""

from __future__ import annotations

import argparse
import importlib
import os
import shutil
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.datasets import load_digits, load_iris
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

import handgrad.estimators as this


def load_base(src: Path):
    """The other checkout's ``handgrad.estimators``, imported as ``handgrad_base``."""
    where = Path(tempfile.mkdtemp())
    shutil.copytree(src / "handgrad", where / "handgrad_base")
    sys.path.insert(0, str(where))
    return importlib.import_module("handgrad_base.estimators")


def ratio(new: Callable[[], object], old: Callable[[], object], rounds: int, k: int) -> str:
    ratios, seconds = [], []
    for i in range(rounds):
        got = {}
        for tag, f in (("new", new), ("old", old)) if i % 2 else (("old", old), ("new", new)):
            f()
            start = time.process_time()
            for _ in range(k):
                f()
            got[tag] = (time.process_time() - start) / k
        ratios.append(got["new"] / got["old"])
        seconds.append(got["new"])
    return (
        f"{statistics.median(ratios):.3f} [{min(ratios):.3f}, {max(ratios):.3f}] "
        f"({statistics.median(seconds) * 1e3:.3f} ms)"
    )


def compare_predictions(base, X, y, big, rounds: int) -> None:
    for hidden in [(64,), (64, 64)]:
        params = dict(hidden_layer_sizes=hidden, max_iter=30, random_state=0)
        a, b = this.MLPClassifier(**params).fit(X, y), base.MLPClassifier(**params).fit(X, y)
        for rows in (big, big[:1]):
            assert np.array_equal(a.predict_proba(rows), b.predict_proba(rows))
            figure = ratio(
                lambda rows=rows, a=a: a.predict_proba(rows),
                lambda rows=rows, b=b: b.predict_proba(rows),
                rounds,
                10 if len(rows) > 1 else 2000,
            )
            print(f"predict_proba {hidden}, {len(rows)} rows: {figure}")


def compare_fits(base, name: str, A, labels, params: dict, rounds: int) -> None:
    def fit_this():
        return this.MLPClassifier(random_state=0, **params).fit(A, labels)

    def fit_base():
        return base.MLPClassifier(random_state=0, **params).fit(A, labels)

    assert all(np.array_equal(p, q) for p, q in zip(fit_this().coefs_, fit_base().coefs_))
    print(f"{name}: {ratio(fit_this, fit_base, rounds, 1)}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", type=Path, required=True, help="the other checkout's src")
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args(argv)
    base = load_base(args.base)
    X, y = load_digits(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    rng = np.random.default_rng(0)
    big = X[rng.integers(0, len(X), 20000)] + rng.normal(0, 0.1, (20000, 64))
    Xi, yi = load_iris(return_X_y=True)
    wide = sp.random(4000, 30000, density=0.002, format="csr", random_state=0)
    binary = rng.integers(0, 2, 4000)
    fit_rounds = max(3, args.rounds // 3)
    print("load:", os.getloadavg())
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare_predictions(base, X, y, np.ascontiguousarray(big), args.rounds)
        for name, A, labels, params in [
            ("fit digits adam (64,)", X, y, dict(hidden_layer_sizes=(64,), max_iter=30)),
            ("fit digits sgd (64,)", X, y, dict(hidden_layer_sizes=(64,), solver="sgd")),
            ("fit iris adam (10,)", Xi, yi, dict(hidden_layer_sizes=(10,), max_iter=200)),
            ("fit sparse 4000x30000 adam (32,)", wide, binary, dict(hidden_layer_sizes=(32,))),
        ]:
            params.setdefault("max_iter", 30 if A is X else 5)
            compare_fits(base, name, A, labels, params, fit_rounds)
    print("load:", os.getloadavg())


if __name__ == "__main__":
    main()
