"""Fingerprints of ``fit``: histories and final weights of many configurations, hashed bit for bit.

Run it on two checkouts and compare the output files; a refactor of the training loop must
leave every line equal:

    PYTHONPATH=src python benchmarks/fit_bits.py > after.txt
    PYTHONPATH=/path/to/main/src python benchmarks/fit_bits.py > before.txt
    diff before.txt after.txt

Each configuration runs twice: with the built-in types (the fast path) and with the optimizer's
``step`` replaced on the instance, which sends ``fit`` down the reference path on every version.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import warnings

import numpy as np

import handgrad as hg

OPTIMIZERS = {
    "sgd": lambda p: hg.SGD(p, lr=0.1),
    "momentum": lambda p: hg.SGD(p, lr=0.05, momentum=0.9, weight_decay=1e-3),
    "nesterov": lambda p: hg.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
    "adam": lambda p: hg.Adam(p, lr=0.01, weight_decay=1e-3),
    "rmsprop": lambda p: hg.RMSProp(p, lr=0.01),
}
LOSSES = ("bce", "softmax_ce", "mse")
EXTRAS = ("plain", "validation", "early_stopping")


def data(loss: str, dtype):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 4)).astype(dtype)
    score = X[:, 0] - X[:, 1] ** 2 + 0.3 * rng.normal(size=150)
    if loss == "bce":
        return X, (score > 0).astype(dtype), 1, ["accuracy"]
    if loss == "softmax_ce":
        return X, np.digitize(score, [-1.0, 0.0]), 3, ["accuracy"]
    return X, np.stack([score, X[:, 2]], axis=1).astype(dtype), 2, ["mae"]


def run(opt_name: str, loss_name: str, dtype, extra: str, reference: bool) -> str:
    X, y, k, metrics = data(loss_name, dtype)
    model = hg.Sequential(
        hg.Linear(4, 8, rng=np.random.default_rng(1), dtype=dtype),
        hg.Tanh(),
        hg.Linear(8, k, rng=np.random.default_rng(2), dtype=dtype),
    )
    loss = {
        "bce": hg.BCEWithLogitsLoss,
        "softmax_ce": hg.SoftmaxCrossEntropyLoss,
        "mse": hg.MSELoss,
    }[loss_name]()
    opt = OPTIMIZERS[opt_name](model.parameters())
    if reference:  # a method replaced on the instance: the reference path, on any version
        opt.step = opt.step
    kwargs: dict = {"epochs": 6, "batch_size": 16, "seed": 3, "metrics": metrics}
    if extra != "plain":
        kwargs["validation_fraction"] = 0.2
    if extra == "early_stopping":
        kwargs["callbacks"] = [hg.EarlyStopping(patience=1, min_delta=0.02)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        history = hg.fit(model, loss, opt, X, y, **kwargs)
    digest = hashlib.sha256()
    record = history.as_dict()
    record.pop("epoch_seconds", None)
    digest.update(json.dumps(record, sort_keys=True, default=repr).encode())
    for p in model.parameters():
        digest.update(p.value.tobytes())
    return digest.hexdigest()[:16]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--threads",
        type=int,
        help="the fast step's threads, with even small arrays split (64 elements a thread): "
        "the fingerprints must not change",
    )
    args = parser.parse_args(argv)
    if args.threads is not None:  # (only on a handgrad that has handgrad.train.threads)
        from handgrad.train import threads

        threads.set_threads(args.threads)
        threads.MIN_PER_THREAD = 64
    for opt_name, loss_name, dtype, extra, reference in itertools.product(
        OPTIMIZERS, LOSSES, (np.float32, np.float64), EXTRAS, (False, True)
    ):
        path = "reference" if reference else "fast"
        key = f"{opt_name} {loss_name} {np.dtype(dtype).name} {extra} {path}"
        print(key, run(opt_name, loss_name, dtype, extra, reference), flush=True)


if __name__ == "__main__":
    main()
