"""Exports of a playground run: the model file and a Python script that reproduces the run.

The model is written by ``handgrad.tabular.Predictor`` with the preprocessing metadata
``handgrad predict`` reads: the feature names, the standardization the network's inputs
went through (the identity for generated sets, the training rows' mean and spread for a
CSV), the classes, and for regression the target's scaling. ``handgrad.load`` reads it too.

The script rebuilds the same data, the same seeded layers, loss and optimizer, and runs the
same number of minibatch steps with ``hg.batches``; it prints the final training loss,
which equals the playground's (the same calls in the same order give the same bits).
"""

from __future__ import annotations

import inspect
import json
import tempfile
from pathlib import Path

import numpy as np

from ..data.preprocessing import Standardizer
from ..tabular import Predictor, TablePreprocessor
from .network import ACTIVATION_NAMES, INITS, MOMENTUM, small_normal
from .session import Session

__all__ = ["model_bytes", "script_text", "final_loss", "LOSS_FORMAT"]

LOSS_FORMAT = "{:.6f}"


def _identity_scaler(width: int) -> Standardizer:
    return Standardizer.from_dict({"mean": [0.0] * width, "scale": [1.0] * width})


def _numeric_columns(names: list[str], scaler: Standardizer) -> TablePreprocessor:
    """The stored form of "standardize each numeric column" (a missing value -> its mean)."""
    assert scaler.mean_ is not None and scaler.scale_ is not None
    columns = [
        {"name": name, "kind": "numeric", "fill": float(m), "impute": "mean",
         "indicator": False, "mean": float(m), "scale": float(s)}
        for name, m, s in zip(names, scaler.mean_, scaler.scale_)
    ]  # fmt: skip
    return TablePreprocessor.from_dict({"format": TablePreprocessor(columns).to_dict()["format"],
                                        "columns": columns})  # fmt: skip


def predictor_for(session: Session) -> Predictor:
    """The trained network with the preprocessing that takes raw feature rows to its inputs."""
    d = session.data
    scaler = d.scaler or _identity_scaler(d.X.shape[1])
    target_scaler = None
    if d.task == "regression":
        target_scaler = _identity_scaler(1)  # the network was trained on the raw target
    preprocessor = _numeric_columns(list(d.feature_names), scaler)
    return Predictor(
        session.trainer.model, d.task, preprocessor, d.classes, d.target_name, target_scaler
    )


def model_bytes(session: Session) -> bytes:
    """The .npz a ``handgrad train`` run would write for this network (caller holds the lock)."""
    with tempfile.TemporaryDirectory(prefix="handgrad-export-") as tmp:
        path = predictor_for(session).save(Path(tmp) / "model.npz")
        return path.read_bytes()


def final_loss(session: Session) -> float:
    """The training loss (no L2 term) of the current network on the whole training part."""
    t = session.trainer
    return t.data_loss(t.X_train, t.Y_train)


def _data_lines(session: Session) -> list[str]:
    spec, d = session.data_spec, session.data
    if spec.name != "csv":
        return [
            "from handgrad.playground.data import make_dataset, split",
            "",
            f"X, y = make_dataset({spec.name!r}, n={spec.n}, noise={spec.noise!r}, "
            f"classes={spec.classes}, seed={spec.seed})",
            f"train, test = split(len(y), {spec.test_fraction!r}, seed={spec.seed})",
        ]
    # an uploaded table: the network's inputs (already standardized) and the target, verbatim
    return [
        f"# {session.upload.filename if session.upload else 'CSV'}: features "
        f"{', '.join(d.feature_names)} (standardized with the training rows), "
        f"target {d.target_name}",
        f"X = np.array(json.loads({json.dumps(json.dumps(d.X.tolist()))}))",
        f"y = np.array(json.loads({json.dumps(json.dumps(d.y.tolist()))}))",
        f"train = np.array({d.train.tolist()})",
        f"test = np.array({d.test.tolist()})",
    ]


def _target_lines(session: Session) -> list[str]:
    d = session.data
    if d.task == "classification" and d.n_classes > 2:
        return ["Y = y.astype(np.int64)  # class codes for softmax cross-entropy"]
    return ["Y = y.astype(np.float64).reshape(-1, 1)  # one output column"]


def _model_lines(session: Session) -> list[str]:
    spec, d = session.net_spec, session.data
    init = INITS[spec.init]
    init_code = repr(init) if isinstance(init, str) else init.__name__
    lines = [f"rng = np.random.default_rng({spec.seed})  # every layer draws from it, in order"]
    lines.append("model = hg.Sequential(")
    fan_in = d.X.shape[1]
    for width, act in zip(spec.hidden, spec.activations):
        lines.append(f"    hg.Linear({fan_in}, {width}, init={init_code}, rng=rng),")
        lines.append(f"    hg.{ACTIVATION_NAMES[act]}(),")
        fan_in = width
    lines.append(f"    hg.Linear({fan_in}, {d.n_outputs}, init={init_code}, rng=rng),")
    lines.append(")")
    if d.task == "regression":
        lines.append("loss = hg.MSELoss()")
    elif d.n_classes == 2:
        lines.append("loss = hg.BCEWithLogitsLoss()")
    else:
        lines.append("loss = hg.SoftmaxCrossEntropyLoss()")
    opt = {
        "sgd": f"hg.SGD(model.parameters(), lr={spec.lr!r})",
        "momentum": f"hg.SGD(model.parameters(), lr={spec.lr!r}, momentum={MOMENTUM})",
        "adam": f"hg.Adam(model.parameters(), lr={spec.lr!r})",
        "rmsprop": f"hg.RMSProp(model.parameters(), lr={spec.lr!r})",
    }[spec.optimizer]
    lines.append(f"optimizer = {opt}")
    lines.append(f"penalty = hg.L2Penalty({spec.l2!r}) if {spec.l2!r} > 0 else None")
    return lines


def script_text(session: Session) -> str:
    """A standalone Python script (handgrad's API only) that reproduces the run so far."""
    t, spec = session.trainer, session.net_spec
    helper = inspect.getsource(small_normal) if spec.init == "small" else ""
    lines = [
        '"""Reproduces a handgrad playground run: same data, seed, network and settings.',
        "",
        f"Run it with `python {{this file}}`; it prints the final training loss after {t.steps}",
        "minibatch steps, the number the playground showed when it exported this script.",
        '"""',
        "",
        "import json  # noqa: F401  (used when the data are written out below)",
        "",
        "import numpy as np",
        "",
        "import handgrad as hg",
        "",
        *_data_lines(session),
        *_target_lines(session),
        "X_train, Y_train = X[train], Y[train]",
        "",
    ]
    if helper:
        lines += [helper.rstrip(), "", ""]
    lines += [
        *_model_lines(session),
        "",
        f"STEPS, BATCH_SIZE = {t.steps}, {t.batch_size}",
        f"batch_rng = np.random.default_rng({spec.seed + 2})  # the minibatch order",
        "step = 0",
        "while step < STEPS:",
        "    for idx in hg.batches(len(X_train), BATCH_SIZE, rng=batch_rng):  # one epoch",
        "        if step == STEPS:",
        "            break",
        "        outputs = model.forward(X_train[idx])",
        "        loss.forward(outputs, Y_train[idx])",
        "        model.backward(loss.backward())",
        "        if penalty is not None:",
        "            penalty.add_gradient(model.parameters())",
        "        optimizer.step()",
        "        step += 1",
        "",
        "final = loss.forward(model.forward(X_train), Y_train)",
        'print(f"steps: {step}")',
        f'print(f"final training loss: {{final:{LOSS_FORMAT[2:-1]}}}")',
        "",
    ]
    return "\n".join(lines)


def format_loss(value: float) -> str:
    return LOSS_FORMAT.format(value) if np.isfinite(value) else str(value)
