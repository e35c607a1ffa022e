"""handgrad's MLPClassifier / MLPRegressor against scikit-learn's, per solver, on real data.

    python benchmarks/sklearn_mlp.py [--rounds 5] [--solvers lbfgs,sgd,adam] [--quick]

Four data sets that ship with scikit-learn (no download): digits (1797 x 64, 10 classes),
breast cancer (569 x 30, 2 classes), wine (178 x 13, 3 classes), diabetes (442 x 10,
regression, y standardized). Each: a stratified (classifiers) 75/25 split, StandardScaler
fitted on the training part. Both libraries get the same parameters (scikit-learn's
defaults except those in ``SETTINGS``), so both run scikit-learn's stopping rule.

The machine is shared: for each (data set, solver), the two libraries are timed
alternately, round after round, with the seed of the round (handgrad first in odd rounds,
scikit-learn first in even ones), and the figure is the median over rounds of the ratio
handgrad time / scikit-learn time of that round; below 1 means handgrad is faster. The test
score (accuracy or R^2) is the mean over rounds. ``OPENBLAS_NUM_THREADS=1`` is advised.
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


def timed_fit(est, X, y) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        started = time.perf_counter()
        est.fit(X, y)
        return time.perf_counter() - started


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--solvers", default="lbfgs,sgd,adam")
    parser.add_argument("--datasets", default="digits,breast_cancer,wine,diabetes")
    parser.add_argument("--quick", action="store_true", help="2 rounds, max_iter 20 (a smoke run)")
    args = parser.parse_args(argv)
    rounds = 2 if args.quick else args.rounds
    print(
        f"python {platform.python_version()}, numpy {np.__version__}, scikit-learn "
        f"{sklearn.__version__}, {platform.machine()}, OPENBLAS_NUM_THREADS="
        f"{os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}, load {os.getloadavg()}"
    )
    print(
        f"{'data set':<14} {'solver':<6} {'hg s':>7} {'sk s':>7} {'ratio':>6} "
        f"{'[min, max]':>14} {'hg score':>9} {'sk score':>9} {'hg it':>6} {'sk it':>6} "
        f"{'score diff':>10} {'(sd)':>8}"
    )
    for name, (X_tr, X_te, y_tr, y_te, classify) in datasets().items():
        if name not in args.datasets.split(","):
            continue
        hg_cls, sk_cls = (HgClassifier, SkClassifier) if classify else (HgRegressor, SkRegressor)
        for solver in args.solvers.split(","):
            params = dict(SETTINGS[solver], solver=solver)
            if args.quick:
                params["max_iter"] = 20
            rows: dict[str, list] = {"hg": [], "sk": []}
            for r in range(rounds):
                order = ("hg", "sk") if r % 2 == 0 else ("sk", "hg")
                for who in order:
                    est = (hg_cls if who == "hg" else sk_cls)(**params, random_state=r)
                    seconds = timed_fit(est, X_tr, y_tr)
                    rows[who].append((seconds, est.score(X_te, y_te), est.n_iter_))
            hg_t, sk_t = (np.array([row[0] for row in rows[k]]) for k in ("hg", "sk"))
            ratios = hg_t / sk_t
            # per round: handgrad's score minus scikit-learn's (same seed, same split)
            diff = np.array([a[1] - b[1] for a, b in zip(rows["hg"], rows["sk"])])
            print(
                f"{name:<14} {solver:<6} {np.median(hg_t):7.3f} {np.median(sk_t):7.3f} "
                f"{np.median(ratios):6.2f} [{ratios.min():5.2f}, {ratios.max():5.2f}] "
                f"{np.mean([row[1] for row in rows['hg']]):9.4f} "
                f"{np.mean([row[1] for row in rows['sk']]):9.4f} "
                f"{np.median([row[2] for row in rows['hg']]):6.0f} "
                f"{np.median([row[2] for row in rows['sk']]):6.0f} "
                f"{np.mean(diff):10.4f} {np.std(diff):8.4f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
