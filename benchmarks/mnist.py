"""Epochs to accuracy on real MNIST, one framework per fresh process; prints JSON.

    python benchmarks/mnist.py FRAMEWORK [--epochs E] [--path ../shared/data/mnist.npz]

The W1 network (784-128-10 ReLU, softmax cross-entropy, batch 128, plain SGD) in float32
on the standard split, pixels scaled to [0, 1]. After every epoch the test accuracy is
measured (outside the timed training). A higher learning rate than the timing workloads
(0.1, not 0.01) so that a few epochs reach the interesting accuracies.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PATH = ROOT.parent / "shared" / "data" / "mnist.npz"
SIZES = (784, 128, 10)
BATCH = 128
LR = 0.1
SEED = 0


def load(path: Path):
    with np.load(path) as d:
        scale = np.float32(1 / 255)
        X_train = d["x_train"].reshape(len(d["x_train"]), -1).astype(np.float32) * scale
        X_test = d["x_test"].reshape(len(d["x_test"]), -1).astype(np.float32) * scale
        return X_train, d["y_train"].astype(np.int64), X_test, d["y_test"].astype(np.int64)


def run_handgrad(data, epochs: int):
    import handgrad as hg

    X, y, Xt, yt = data
    model = hg.mlp(list(SIZES), "relu", seed=SEED, dtype=np.float32)
    results = []

    class PerEpoch(hg.train.Callback):  # times each epoch, then tests outside the clock
        def on_train_begin(self, ctx):
            self.mark = time.perf_counter()

        def on_epoch_end(self, ctx):
            seconds = time.perf_counter() - self.mark
            logits = hg.train.predict_outputs(model, Xt)
            results.append((seconds, float(np.mean(np.argmax(logits, axis=1) == yt))))
            self.mark = time.perf_counter()

    opt = hg.SGD(model.parameters(), lr=LR)
    loss = hg.SoftmaxCrossEntropyLoss()
    hg.fit(
        model, loss, opt, X, y, epochs=epochs, batch_size=BATCH, seed=SEED, callbacks=[PerEpoch()]
    )
    yield from results


def run_numpy(data, epochs: int):
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import plain_numpy

    X, y, Xt, yt = data
    weights, biases = plain_numpy.init_params(SIZES, X.dtype, SEED)
    rng = np.random.default_rng(SEED)
    for _ in range(epochs):
        start = time.perf_counter()
        plain_numpy.train_epoch(X, y, weights, biases, "softmax_ce", BATCH, LR, rng)
        seconds = time.perf_counter() - start
        a = Xt
        for i, (W, b) in enumerate(zip(weights, biases)):
            a = a @ W + b
            a = np.maximum(a, 0) if i < len(weights) - 1 else a
        yield seconds, float(np.mean(np.argmax(a, axis=1) == yt))


def run_torch(data, epochs: int):
    import torch

    X, y, Xt, yt = data
    torch.manual_seed(SEED)
    model = torch.nn.Sequential(
        torch.nn.Linear(SIZES[0], SIZES[1]), torch.nn.ReLU(), torch.nn.Linear(SIZES[1], SIZES[2])
    )
    loss_fn = torch.nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    Xt_, yt_ = torch.from_numpy(X), torch.from_numpy(y)
    gen = torch.Generator().manual_seed(SEED)
    for _ in range(epochs):
        start = time.perf_counter()
        order = torch.randperm(len(X), generator=gen)
        for s in range(0, len(X), BATCH):
            idx = order[s : s + BATCH]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(Xt_[idx]), yt_[idx])
            loss.backward()
            opt.step()
            loss.item()
        seconds = time.perf_counter() - start
        with torch.no_grad():
            pred = model(torch.from_numpy(Xt)).argmax(dim=1).numpy()
        yield seconds, float(np.mean(pred == yt))


def run_sklearn(data, epochs: int):
    import warnings

    from sklearn.neural_network import MLPClassifier

    X, y, Xt, yt = data
    clf = MLPClassifier(
        hidden_layer_sizes=SIZES[1:-1],
        solver="sgd",
        learning_rate_init=LR,
        momentum=0.0,
        nesterovs_momentum=False,
        alpha=0.0,
        batch_size=BATCH,
        random_state=SEED,
    )
    classes = np.arange(SIZES[-1])
    for _ in range(epochs):
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf.partial_fit(X, y, classes=classes)
        seconds = time.perf_counter() - start
        yield seconds, float(np.mean(clf.predict(Xt) == yt))


RUNNERS = {"handgrad": run_handgrad, "numpy": run_numpy, "torch": run_torch, "sklearn": run_sklearn}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("framework", choices=sorted(RUNNERS))
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--path", type=Path, default=DEFAULT_PATH)
    args = parser.parse_args(argv)
    data = load(args.path)
    seconds, accuracy = [], []
    for s, a in RUNNERS[args.framework](data, args.epochs):
        seconds.append(s)
        accuracy.append(a)
    print(json.dumps({"framework": args.framework, "seconds": seconds, "accuracy": accuracy}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
