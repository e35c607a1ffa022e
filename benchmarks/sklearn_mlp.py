"""handgrad's MLPClassifier / MLPRegressor against scikit-learn's, per solver, on real data.

    python benchmarks/sklearn_mlp.py [--rounds 20] [--solvers lbfgs,sgd,adam] [--quick]

Four data sets that ship with scikit-learn (no download): digits (1797 x 64, 10 classes),
breast cancer (569 x 30, 2 classes), wine (178 x 13, 3 classes), diabetes (442 x 10,
regression, y standardized). Each: a stratified (classifiers) 75/25 split, StandardScaler
fitted on the training part. Both libraries get the same parameters (scikit-learn's
defaults except those in ``SETTINGS``), so both run scikit-learn's stopping rule.

For each (data set, solver), the two libraries are timed alternately, round after round,
with the seed of the round (``random_state=r``; handgrad first in even rounds,
scikit-learn first in odd ones), and the time figure is the median over rounds of the ratio
handgrad time / scikit-learn time of that round: below 1 means handgrad is faster. The test
score (accuracy, or R^2 for diabetes) is given as mean ± standard deviation over rounds;
"score diff" is the mean of the per-round differences (handgrad minus scikit-learn) ± its
standard error (sd / sqrt(rounds)). The
output is a Markdown table, ready for docs/performance.md. With ``--same-start``, handgrad
starts each round from the initial weights scikit-learn draws for that seed, so that only
the shuffling (sgd, adam) and rounding differ. Run it as

    OPENBLAS_NUM_THREADS=1 PYTHONPATH=src python benchmarks/sklearn_mlp.py
"""

from __future__ import annotations

import argparse
import os
import platform
import time
import warnings

import numpy as np
import sklearn
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SkClassifier
from sklearn.neural_network import MLPRegressor as SkRegressor
from sklearn.preprocessing import StandardScaler

from handgrad.estimators import MLPClassifier as HgClassifier
from handgrad.estimators import MLPRegressor as HgRegressor

SETTINGS = {  # per solver; everything else is scikit-learn's default
    "lbfgs": dict(hidden_layer_sizes=(64,), max_iter=200),
    "sgd": dict(hidden_layer_sizes=(64,), learning_rate_init=0.01, max_iter=200),
    "adam": dict(hidden_layer_sizes=(64,), max_iter=200),
}


def datasets():
    """name -> (X_train, X_test, y_train, y_test, is_classifier)."""
    out = {}
    for name, loader in (
        ("digits", load_digits),
        ("breast_cancer", load_breast_cancer),
        ("wine", load_wine),
        ("diabetes", load_diabetes),
    ):
        X, y = loader(return_X_y=True)
        classify = name != "diabetes"
        if not classify:
            y = (y - y.mean()) / y.std()
        parts = train_test_split(
            X, y, test_size=0.25, random_state=0, stratify=y if classify else None
        )
        scaler = StandardScaler().fit(parts[0])
        out[name] = (scaler.transform(parts[0]), scaler.transform(parts[1]), *parts[2:], classify)
    return out


def scikit_learns_start(est, X, y, seed: int) -> None:
    """Give handgrad's ``est`` the initial weights scikit-learn draws for ``random_state=seed``
    (its ``_init_coef``: W then b per layer, uniform from a RandomState); fit continues
    from them (warm_start)."""
    outputs = 1 if est._is_regressor or len(np.unique(y)) == 2 else len(np.unique(y))
    units = [X.shape[1], *est.hidden_layer_sizes, outputs]
    rs = np.random.RandomState(seed)
    factor = 2.0 if est.activation == "logistic" else 6.0
    est.coefs_, est.intercepts_ = [], []
    for fan_in, fan_out in zip(units[:-1], units[1:]):
        a = np.sqrt(factor / (fan_in + fan_out))
        est.coefs_.append(rs.uniform(-a, a, (fan_in, fan_out)))
        est.intercepts_.append(rs.uniform(-a, a, fan_out))
    est.set_params(warm_start=True)


def timed_fit(est, X, y) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        started = time.perf_counter()
        est.fit(X, y)
        return time.perf_counter() - started


def compare(hg_cls, sk_cls, params, data, rounds: int, same_start: bool) -> dict:
    """Fit both libraries ``rounds`` times, alternating which goes first; per library the
    (seconds, test score, iterations) of each round."""
    X_tr, X_te, y_tr, y_te = data
    rows: dict[str, list] = {"hg": [], "sk": []}
    for r in range(rounds):
        for who in ("hg", "sk") if r % 2 == 0 else ("sk", "hg"):
            est = (hg_cls if who == "hg" else sk_cls)(**params, random_state=r)
            if who == "hg" and same_start:
                scikit_learns_start(est, X_tr, y_tr, r)
            seconds = timed_fit(est, X_tr, y_tr)
            rows[who].append((seconds, est.score(X_te, y_te), est.n_iter_))
    return {k: np.array(v) for k, v in rows.items()}


def table_row(name: str, solver: str, rows: dict) -> str:
    hg, sk = rows["hg"], rows["sk"]
    ratios = hg[:, 0] / sk[:, 0]
    diff = hg[:, 1] - sk[:, 1]  # per round: same seed, same split
    return (
        f"| {name} | {solver} | {np.median(hg[:, 0]):.3f} | {np.median(sk[:, 0]):.3f} "
        f"| {np.median(ratios):.2f} [{ratios.min():.2f}, {ratios.max():.2f}] "
        f"| {hg[:, 1].mean():.4f} ± {hg[:, 1].std():.4f} "
        f"| {sk[:, 1].mean():.4f} ± {sk[:, 1].std():.4f} "
        f"| {diff.mean():+.4f} ± {diff.std(ddof=1) / np.sqrt(len(diff)):.4f} "
        f"| {np.median(hg[:, 2]):.0f} / {np.median(sk[:, 2]):.0f} |"
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--solvers", default="lbfgs,sgd,adam")
    parser.add_argument("--datasets", default="digits,breast_cancer,wine,diabetes")
    parser.add_argument("--quick", action="store_true", help="2 rounds, max_iter 20 (a smoke run)")
    parser.add_argument(
        "--same-start",
        action="store_true",
        help="handgrad starts from scikit-learn's initial weights of the round's seed",
    )
    args = parser.parse_args(argv)
    rounds = 2 if args.quick else args.rounds
    if rounds < 2:
        parser.error(f"--rounds must be at least 2 (a spread needs two), got {rounds}")
    started = time.perf_counter()
    load = os.getloadavg()
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, scikit-learn "
        f"{sklearn.__version__}, {platform.machine()}, {os.cpu_count()} cores, "
        f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}, "
        f"{rounds} rounds (random_state 0..{rounds - 1})"
        + (", handgrad from scikit-learn's initial weights" if args.same_start else "")
        + "\n"
    )
    print(
        "| data set | solver | handgrad s | scikit-learn s | time ratio, median [min, max] "
        "| handgrad score | scikit-learn score | score diff | iterations hg / sk |"
    )
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, (X_tr, X_te, y_tr, y_te, classify) in datasets().items():
        if name not in args.datasets.split(","):
            continue
        hg_cls, sk_cls = (HgClassifier, SkClassifier) if classify else (HgRegressor, SkRegressor)
        for solver in args.solvers.split(","):
            params = dict(SETTINGS[solver], solver=solver)
            if args.quick:
                params["max_iter"] = 20
            data = (X_tr, X_te, y_tr, y_te)
            rows = compare(hg_cls, sk_cls, params, data, rounds, args.same_start)
            print(table_row(name, solver, rows), flush=True)
    print(
        f"\nscores: test accuracy (R^2 for diabetes), mean ± sd over rounds; score diff: "
        f"handgrad's minus scikit-learn's per round, mean ± standard error. "
        f"{time.perf_counter() - started:.0f} s; "
        f"load average {load[0]:.2f} at the start, {os.getloadavg()[0]:.2f} at the end."
    )


if __name__ == "__main__":
    main()
