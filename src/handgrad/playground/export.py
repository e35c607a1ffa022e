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
from .network import ACTIVATION_NAMES, ADAM_BETA2, DECAY_ATTRIBUTE, INITS, small_normal
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
    """The trained network with the preprocessing that takes raw feature rows to its inputs:
    a CSV's own encoding (as ``handgrad train`` stores it), else the identity on the
    network's input columns (named as the page names them: x1, x1sq, ...)."""
    d = session.data
    preprocessor = d.preprocessor
    if preprocessor is None:
        names = list(d.inputs) if d.inputs else list(d.feature_names)
        preprocessor = _numeric_columns(names, _identity_scaler(d.X.shape[1]))
    target_scaler = None
    if d.task == "regression":
        target_scaler = _identity_scaler(1)  # the network was trained on the raw target
    return Predictor(
        session.trainer.model, d.task, preprocessor, d.classes, d.target_name, target_scaler
    )


def model_bytes(session: Session) -> bytes:
    """The .npz a ``handgrad train`` run would write for this network (caller holds the lock)."""
    with tempfile.TemporaryDirectory(prefix="handgrad-export-") as tmp:
        path = predictor_for(session).save(Path(tmp) / "model.npz")
        return path.read_bytes()


def final_loss(session: Session) -> float:
    """The training loss (no penalty term) of the current network on the whole training part."""
    t = session.trainer
    return t.data_loss(t.X_train, t.Y_train)


def _generated_call(spec) -> str:
    return (
        f"make_dataset({spec.name!r}, n={spec.n!r}, noise=noise, "
        f"classes={spec.classes!r}, seed={spec.seed!r}, draw=draw)"
    )


def _data_lines(session: Session) -> list[str]:
    """Code that builds X (the network's inputs), y, train and test. Every name from the
    page or a file is written as a Python literal (``repr``), never as code or a comment."""
    spec, d = session.data_spec, session.data
    if spec.name != "csv":
        lines = [
            "from handgrad.playground.data import feature_matrix, make_dataset, split",
            "",
            f"FEATURES = {list(d.inputs or [])!r}  # the network's inputs, from the plane's x1, x2",
            "",
            "",
            "def data(noise, draw):  # draw: how many times Regenerate was pressed",
            f"    points, y = {_generated_call(spec)}",
            "    return (feature_matrix(points, FEATURES) if FEATURES else points), y",
            "",
            "",
            f"noise, draw = {session.start_data.noise!r}, {session.start_data.draw!r}",
            "X, y = data(noise, draw)",
            f"train, test = split(len(y), {spec.test_fraction!r}, seed={spec.seed!r})",
        ]
        return lines
    # an uploaded table: the network's inputs (already encoded) and the target, verbatim
    source = session.upload.filename if session.upload else "CSV"
    return [
        f"SOURCE = {source!r}",
        f"INPUTS = {list(d.feature_names)!r}  # encoded as handgrad train does",
        f"TARGET = {d.target_name!r}",
        f"X = np.array(json.loads({json.dumps(json.dumps(d.X.tolist()))}))",
        f"y = np.array(json.loads({json.dumps(json.dumps(d.y.tolist()))}))",
        f"train = np.array({d.train.tolist()!r})",
        f"test = np.array({d.test.tolist()!r})",
    ]


def _target_lines(session: Session) -> list[str]:
    d = session.data
    if d.task == "classification" and d.n_classes > 2:
        code = "y.astype(np.int64)  # class codes for softmax cross-entropy"
    else:
        code = "y.astype(np.float64).reshape(-1, 1)  # one output column"
    return [
        "",
        "",
        "def target(y):",
        f"    return {code}",
        "",
        "",
        "Y = target(y)",
    ]


def _model_lines(session: Session) -> list[str]:
    spec, d = session.start_net, session.data
    init = INITS[spec.init]
    init_code = repr(init) if isinstance(init, str) else init.__name__
    lines = [f"rng = np.random.default_rng({spec.seed!r})  # every layer draws from it, in order"]
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
    lines += [
        "",
        "",
        "def make_optimizer(kind, lr, decay):",
        '    if kind == "sgd":',
        "        return hg.SGD(model.parameters(), lr=lr)",
        '    if kind == "momentum":',
        "        return hg.SGD(model.parameters(), lr=lr, momentum=decay)",
        '    if kind == "adam":',
        f"        return hg.Adam(model.parameters(), lr=lr, betas=(decay, {ADAM_BETA2!r}))",
        "    return hg.RMSProp(model.parameters(), lr=lr, rho=decay)",
        "",
        "",
        f"DECAY_ATTRIBUTE = {DECAY_ATTRIBUTE!r}  # momentum, beta1 or rho",
        f"optimizer = make_optimizer({spec.optimizer!r}, {spec.lr!r}, {spec.decay!r})",
        "",
        "",
        "def make_penalty(kind, rate):",
        '    """The regularization term: L1 (rate * sum |W|), L2 (rate / 2 * sum W**2) or none."""',
        '    if kind == "none" or rate == 0:',
        "        return None",
        '    return hg.L1Penalty(rate) if kind == "l1" else hg.L2Penalty(rate)',
        "",
        "",
        f"penalty = make_penalty({spec.regularization!r}, {spec.reg_rate!r})",
    ]
    return lines


# What the script does with each logged change, in the order the session applies them.
_REPLAY = [
    "def apply(change):",
    '    """A setting changed (or a weight or bias edited) on the page at this step."""',
    "    global X, y, Y, X_train, Y_train, optimizer, penalty, BATCH_SIZE, order, lr, kind, decay",
    "    global reg, reg_rate, noise, draw",
    '    if "noise" in change or "draw" in change:  # new noise, or Regenerate: new points',
    '        noise, draw = change.get("noise", noise), change.get("draw", draw)',
    "        X, y = data(noise, draw)",
    "        Y = target(y)",
    "        X_train, Y_train = X[train], Y[train]",
    '    if "lr" in change:  # the optimizer keeps its state (momentum, moments)',
    '        lr = optimizer.lr = change["lr"]',
    '    if "decay" in change:  # its averaging rate, state kept',
    '        decay = change["decay"]',
    "        if kind in DECAY_ATTRIBUTE:",
    "            setattr(optimizer, DECAY_ATTRIBUTE[kind], decay)",
    '    if "optimizer" in change:  # a new optimizer on the same weights, fresh state',
    '        kind = change["optimizer"]',
    "        optimizer = make_optimizer(kind, lr, decay)",
    '    if "regularization" in change or "reg_rate" in change:  # a new penalty term',
    '        reg = change.get("regularization", reg)',
    '        reg_rate = change.get("reg_rate", reg_rate)',
    "        penalty = make_penalty(reg, reg_rate)",
    '    if "batch_size" in change:  # a new shuffled epoch starts',
    '        BATCH_SIZE = min(change["batch_size"], len(X_train))',
    "        order = iter(())",
    '    if "weight" in change:  # W[layer][i, j] set by hand',
    '        layer, i, j, value = change["weight"]',
    "        model.layers[2 * layer].weight.value[i, j] = value",
    '    if "bias" in change:  # b[layer][j] set by hand',
    '        layer, j, value = change["bias"]',
    "        model.layers[2 * layer].bias.value[j] = value",
]


def script_text(session: Session) -> str:
    """A standalone Python script (handgrad's API only) that reproduces the run so far,
    with every setting changed and weight edited mid-run at the step it happened."""
    t, spec = session.trainer, session.start_net
    helper = inspect.getsource(small_normal) if spec.init == "small" else ""
    changes = [{k: v for k, v in record.items()} for record in session.log]
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
        f"STEPS, BATCH_SIZE = {t.steps!r}, {min(spec.batch_size, len(t.X_train))!r}",
        f"lr, kind, decay = {spec.lr!r}, {spec.optimizer!r}, {spec.decay!r}",
        f"reg, reg_rate = {spec.regularization!r}, {spec.reg_rate!r}",
        "# what changed on the page while it trained: {'step': s, setting: new value, ...}",
        f"CHANGES = {changes!r}",
        "",
        "",
        *_REPLAY,
        "",
        "",
        f"batch_rng = np.random.default_rng({spec.seed + 2!r})  # the minibatch order",
        "order = iter(())",
        "step = 0",
        "while step < STEPS:",
        "    while CHANGES and CHANGES[0]['step'] == step:",
        "        apply(CHANGES.pop(0))",
        "    idx = next(order, None)",
        "    if idx is None:  # a new epoch: a new shuffled order",
        "        order = hg.batches(len(X_train), BATCH_SIZE, rng=batch_rng)",
        "        idx = next(order)",
        "    outputs = model.forward(X_train[idx])",
        "    loss.forward(outputs, Y_train[idx])",
        "    model.backward(loss.backward())",
        "    if penalty is not None:",
        "        penalty.add_gradient(model.parameters())",
        "    optimizer.step()",
        "    step += 1",
        "for change in CHANGES:  # changes after the last step",
        "    apply(change)",
        "",
        "final = loss.forward(model.forward(X_train), Y_train)",
        'print(f"steps: {step}")',
        f'print(f"final training loss: {{final:{LOSS_FORMAT[2:-1]}}}")',
        "",
    ]
    return "\n".join(lines)


def format_loss(value: float) -> str:
    return LOSS_FORMAT.format(value) if np.isfinite(value) else str(value)
