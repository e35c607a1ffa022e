"""Chapter 8's measurements: the splits, the sweep, the chosen net, the gradient check."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import handgrad as hg

from ...data import load_builtin, train_test_split
from ...nn import functional as F
from ...train import History, predict_outputs

HIDDEN = (16, 64, 256)
LEARNING_RATES = (0.01, 0.1, 0.5)
BATCH_SIZE = 32
TARGET_ACCURACY = 0.97


@dataclass
class Splits:
    """Pixels / 16; the training part, its fit/validation split, the held-out test set."""

    X: np.ndarray
    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray
    X_fit: np.ndarray
    X_val: np.ndarray
    y_fit: np.ndarray
    y_val: np.ndarray


@dataclass
class Measured:
    """Everything the figures and the section need."""

    seed: int
    data: Splits
    sweep_epochs: int
    final_epochs: int
    runs: dict[tuple[int, float], History]  # (H, lr) -> the sweep's training history
    sweep: dict[tuple[int, float], dict]  # (H, lr) -> its curve summary
    best: tuple[int, float]
    history: History  # the chosen net retrained on the whole training part
    final: dict  # its loss and accuracy on the held-out test set
    train_eval: dict  # ... and on the training part
    check: dict  # the fused gradient, checked


def _split_seeds(seed: int) -> dict[str, int]:
    """Independent integer seeds for each random step, all derived from ``seed``."""
    names = ("test_split", "val_split", "init", "shuffle", "gradcheck")
    states = np.random.SeedSequence(seed).generate_state(len(names))
    return dict(zip(names, (int(s) for s in states)))


def _splits(seeds: dict) -> Splits:
    X, y, _, _ = load_builtin("digits")
    X = X / 16.0
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, 0.2, seed=seeds["test_split"], stratify=True
    )
    X_fit, X_val, y_fit, y_val = train_test_split(
        X_train, y_train, 0.25, seed=seeds["val_split"], stratify=True
    )
    return Splits(X, X_train, X_test, y_train, y_test, X_fit, X_val, y_fit, y_val)


def _train(X, y, H, lr, epochs, seeds, validation):
    """One 64-H-10 ReLU net with SGD -> (model, History)."""
    model = hg.mlp([X.shape[1], H, 10], "relu", seed=seeds["init"])
    history = hg.fit(
        model,
        hg.SoftmaxCrossEntropyLoss(),
        hg.SGD(model.parameters(), lr=lr),
        X,
        y,
        epochs=epochs,
        batch_size=BATCH_SIZE,
        seed=seeds["shuffle"],
        validation_data=validation,
        metrics=["accuracy"],
    )
    return model, history


def _first_epoch_reaching(values, level: float) -> int | None:
    hits = [i + 1 for i, v in enumerate(values) if v >= level]
    return hits[0] if hits else None


def _curve_summary(history) -> dict:
    loss = np.asarray(history.epoch_loss)
    return {
        "epochs_run": history.epochs,
        "diverged": history.stop_reason == "diverged",
        "first_epoch_loss": float(loss[0]) if loss.size else float("nan"),
        "final_train_loss": float(loss[-1]) if loss.size else float("nan"),
        "final_train_accuracy": history.metrics["accuracy"][-1] if loss.size else float("nan"),
        "final_val_loss": history.val_loss[-1] if history.val_loss else float("nan"),
        "final_val_accuracy": history.val_metrics["accuracy"][-1] if loss.size else float("nan"),
        "best_val_accuracy": max(history.val_metrics["accuracy"], default=float("nan")),
        "epochs_to_95_val": _first_epoch_reaching(history.val_metrics.get("accuracy", []), 0.95),
        # epochs whose mean training loss went up: a sign of a step size that overshoots
        "loss_increases": int(np.sum(np.diff(loss) > 0)),
    }


def _check_fused_gradient(H: int, X, y, seeds: dict) -> dict:
    """dL/dZ of mean softmax cross-entropy: engine vs the formula vs finite differences.

    Checked at the chosen net's initial weights (same init seed), where no class
    probability is vanishingly small yet, so relative errors compare gradients of a
    meaningful size; then the same through every parameter of that net.
    """
    model = hg.mlp([X.shape[1], H, 10], "relu", seed=seeds["init"])
    loss = hg.SoftmaxCrossEntropyLoss()
    Z = predict_outputs(model, X).copy()
    loss.forward(Z, y)
    engine = loss.backward().copy()
    formula = (F.softmax(Z) - F.one_hot(y, Z.shape[1])) / Z.shape[0]
    report = hg.gradcheck(lambda: loss.forward(Z, y), {"logits": Z}, {"logits": engine})
    whole = hg.gradcheck(
        model, hg.SoftmaxCrossEntropyLoss(), X, y, max_entries=40, seed=seeds["gradcheck"]
    )
    return {
        "batch": int(Z.shape[0]),
        "classes": int(Z.shape[1]),
        "engine_vs_formula_max_abs": float(np.max(np.abs(engine - formula))),
        "finite_diff_max_abs": report.rows[0].max_abs_error,
        "finite_diff_max_rel": report.max_rel_error,
        "finite_diff_passed": report.passed,
        "model_gradcheck_max_rel": whole.max_rel_error,
        "model_gradcheck_passed": whole.passed,
        "model_gradcheck_kinks": int(sum(r.kinks for r in whole.rows)),
        "tolerance": report.rtol,
    }


def _sweep_one(shared: tuple, setting: tuple[int, float]):
    """One training of the sweep -> its History (a Dask task when a scheduler is given)."""
    X_fit, y_fit, X_val, y_val, epochs, seeds = shared
    H, lr = setting
    return _train(X_fit, y_fit, H, lr, epochs, seeds, (X_val, y_val))[1]


def sweep(d: Splits, epochs: int, seeds: dict, scheduler) -> dict[tuple[int, float], History]:
    """One net per (H, lr) on the fit rows, scored on the validation rows."""
    settings = [(H, lr) for H in HIDDEN for lr in LEARNING_RATES]
    shared = (d.X_fit, d.y_fit, d.X_val, d.y_val, epochs, seeds)
    if scheduler is None:
        histories = [_sweep_one(shared, setting) for setting in settings]
    else:
        from ...sweep import parallel_map

        where = None if scheduler == "local" else scheduler
        histories = parallel_map(_sweep_one, settings, shared=shared, scheduler=where)
    return dict(zip(settings, histories))


def measure(seed: int, quick: bool, scheduler=None) -> Measured:
    seeds = _split_seeds(seed)
    sweep_epochs, final_epochs = (4, 10) if quick else (40, 60)
    d = _splits(seeds)
    runs = sweep(d, sweep_epochs, seeds, scheduler)
    summary = {key: _curve_summary(h) for key, h in runs.items()}
    best = max(
        summary, key=lambda k: (summary[k]["final_val_accuracy"], -summary[k]["final_val_loss"])
    )
    H, lr = best
    validation = (d.X_test, d.y_test)
    model, history = _train(d.X_train, d.y_train, H, lr, final_epochs, seeds, validation)
    loss = hg.SoftmaxCrossEntropyLoss
    final = hg.evaluate(model, loss(), d.X_test, d.y_test, ["accuracy"])
    train_eval = hg.evaluate(model, loss(), d.X_train, d.y_train, ["accuracy"])
    check = _check_fused_gradient(H, d.X_train[:16], d.y_train[:16], seeds)
    return Measured(
        seed, d, sweep_epochs, final_epochs, runs, summary, best, history, final, train_eval, check
    )


def metrics(m: Measured) -> dict:
    """The JSON-ready numbers; the sweep keyed "H=64,lr=0.1" (JSON keys are strings)."""
    d, (H, lr) = m.data, m.best
    return {
        "seed": m.seed,
        "n_samples": int(d.X.shape[0]),
        "n_train": int(d.X_train.shape[0]),
        "n_fit": int(d.X_fit.shape[0]),
        "n_val": int(d.X_val.shape[0]),
        "n_test": int(d.X_test.shape[0]),
        "scaling": "pixels / 16",
        "batch_size": BATCH_SIZE,
        "sweep_epochs": m.sweep_epochs,
        "final_epochs": m.final_epochs,
        "sweep": {f"H={k[0]},lr={k[1]:g}": v for k, v in m.sweep.items()},
        "chosen": {"H": H, "lr": lr, "val_accuracy": m.sweep[m.best]["final_val_accuracy"]},
        "test_accuracy": m.final["accuracy"],
        "test_loss": m.final["loss"],
        "train_accuracy": m.train_eval["accuracy"],
        "curves": {
            "train_loss": m.history.epoch_loss,
            "test_loss": m.history.val_loss,
            "train_accuracy": m.history.metrics["accuracy"],
            "test_accuracy": m.history.val_metrics["accuracy"],
        },
        "gradient_check": m.check,
    }
