"""Fingerprints of ``fit`` on W1/W2-sized layers, the paths ``fit_bits.py``'s 4 x 8 models
never reach (the BLAS's SGD update and gradient check, in-place ReLUs), hashed bit for bit.

    OPENBLAS_NUM_THREADS=1 PYTHONPATH=src python benchmarks/fit_bits_large.py > after.txt
    OPENBLAS_NUM_THREADS=1 PYTHONPATH=MAIN/src python benchmarks/fit_bits_large.py > before.txt
    diff before.txt after.txt

Compare runs at the same BLAS thread count: OpenBLAS's own products of some of these shapes
(128 x 784 by 784 x 256, say) give other bits at 2 threads than at 1, on any version.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import warnings

import numpy as np

import handgrad as hg


def data(n: int, d: int, k: int, dtype: str, seed: int = 0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)).astype(dtype)
    y = np.argmax(X @ rng.standard_normal((d, k)), axis=1)
    return X, y


OPTS = {
    "sgd": lambda p: hg.SGD(p, lr=0.05),
    "momentum": lambda p: hg.SGD(p, lr=0.02, momentum=0.9, weight_decay=1e-3),
    "nesterov": lambda p: hg.SGD(p, lr=0.02, momentum=0.9, nesterov=True),
    "adam": lambda p: hg.Adam(p, lr=1e-3),
}
CASES = [  # sizes, activation, loss, extra
    ((784, 128, 10), "relu", "softmax_ce", {}),
    ((784, 256, 128, 10), "relu", "softmax_ce", {}),
    ((784, 256, 128, 10), "relu", "softmax_ce", {"shuffle": False, "drop_last": True}),
    ((300, 200, 1), "relu", "bce", {"l2": 1e-3}),
    ((300, 200, 150, 3), "tanh", "mse", {}),
    ((300, 200, 150, 3), "leaky_relu", "softmax_ce", {"metrics": ["accuracy"]}),
]


def run(case, opt, dtype):
    sizes, act, lossname, extra = case
    X, y = data(1000, sizes[0], max(sizes[-1], 2), dtype)
    if lossname == "bce":
        y = (y == 0).astype(dtype)
    if lossname == "mse":
        y = np.stack([X[:, 0], X[:, 1] - X[:, 2], X[:, 3] * 0.5], axis=1).astype(dtype)
    model = hg.mlp(list(sizes), act, seed=1, dtype=dtype)
    loss = {
        "bce": hg.BCEWithLogitsLoss,
        "softmax_ce": hg.SoftmaxCrossEntropyLoss,
        "mse": hg.MSELoss,
    }[lossname]()
    o = OPTS[opt](model.parameters())
    kw = dict(extra)
    if "l2" in kw:
        kw["l2"] = hg.L2Penalty(kw["l2"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        h = hg.fit(model, loss, o, X, y, epochs=3, batch_size=100, seed=5, **kw)
    dg = hashlib.sha256()
    rec = h.as_dict()
    rec.pop("epoch_seconds", None)
    dg.update(json.dumps(rec, sort_keys=True, default=repr).encode())
    for p in model.parameters():
        dg.update(p.value.tobytes())
    return dg.hexdigest()[:16]


def main() -> None:
    for case, opt, dtype in itertools.product(CASES, OPTS, ("float32", "float64")):
        print(*case[:3], sorted(case[3]), opt, dtype, run(case, opt, dtype), flush=True)


if __name__ == "__main__":
    main()
