"""The network and training settings of a playground session, built on handgrad's public API.

``NetSpec`` is what the page sends (hidden widths, an activation per layer, the
initialization, the optimizer and its settings). ``build_model`` turns it into an
``hg.Sequential`` of ``hg.Linear`` and activation layers; ``make_loss`` and
``make_optimizer`` pick the loss for the task and the optimizer. ``Trainer`` runs one
minibatch at a time with ``hg.batches`` for the order, exactly as the exported script does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

import handgrad as hg
from handgrad.nn.constraints import Constraint, Integer, Options, Real, check
from handgrad.nn.registry import OPTIMIZERS as ENGINE_OPTIMIZERS

from .data import Dataset

__all__ = [
    "ACTIVATION_NAMES",
    "INITS",
    "OPTIMIZERS",
    "MAX_LAYERS",
    "MAX_UNITS",
    "NetSpec",
    "small_normal",
    "build_model",
    "make_loss",
    "make_optimizer",
    "make_penalty",
    "PENALTIES",
    "loss_target",
    "Trainer",
    "TWEAKS",
]

MAX_LAYERS = 6  # hidden layers
MAX_UNITS = 32  # units per hidden layer: pictures of every unit must stay readable and live

ACTIVATION_NAMES = {
    "relu": "ReLU",
    "leaky_relu": "LeakyReLU",
    "tanh": "Tanh",
    "sigmoid": "Sigmoid",
    "identity": "Identity",
}


def small_normal(fan_in: int, fan_out: int, rng: np.random.Generator, dtype=np.float64):
    """Weights from N(0, 0.01^2): small enough that deep signals fade (a lesson to see)."""
    return (rng.standard_normal((fan_in, fan_out)) * 0.01).astype(dtype, copy=False)


# page name -> the ``init=`` given to hg.Linear
INITS: dict[str, Any] = {  # a name hg.Linear knows, or an initializer function
    "he": "he_normal",
    "xavier": "xavier_uniform",
    "zeros": "zeros",
    "small": small_normal,
}
# the engine's optimizers by name, with "momentum" (SGD with momentum) right after "sgd"
OPTIMIZERS = ("sgd", "momentum", *(name for name in ENGINE_OPTIMIZERS if name != "sgd"))
ADAM_BETA2 = 0.999


@dataclass
class NetSpec:
    """Hidden layer widths with their activations, and every training setting."""

    hidden: list[int] = field(default_factory=lambda: [8, 8])
    activations: list[str] = field(default_factory=lambda: ["tanh", "tanh"])
    init: str = "xavier"
    optimizer: str = "adam"
    lr: float = 0.03
    batch_size: int = 16
    regularization: str = "none"  # "none", "l1" or "l2": the penalty on the weights
    reg_rate: float = 0.001  # its lam (unused while regularization is "none")
    seed: int = 0
    decay: float = (
        0.9  # the optimizer's averaging rate: SGD's momentum, Adam's beta1, RMSProp's rho
    )

    def validate(self) -> None:
        """Raise ValueError naming the first impossible value."""
        if len(self.hidden) > MAX_LAYERS:
            raise ValueError(f"at most {MAX_LAYERS} hidden layers, got {len(self.hidden)}")
        if len(self.activations) != len(self.hidden):
            raise ValueError("give one activation per hidden layer")
        for width in self.hidden:
            check(width, Integer(1, MAX_UNITS), "a hidden layer's units", error=ValueError)
        for name in self.activations:
            check(name, Options(*ACTIVATION_NAMES), "activation", error=ValueError)
        for key, (label, constraint) in SETTINGS.items():
            check(getattr(self, key), constraint, label, error=ValueError)


# each setting of a NetSpec: the name the page shows, what it may be
SETTINGS: dict[str, tuple[str, Constraint]] = {
    "init": ("initialization", Options(*INITS)),
    "optimizer": ("optimizer", Options(*OPTIMIZERS)),
    "lr": ("learning rate", Real(0.0, 10.0, low_open=True)),
    "batch_size": ("batch size", Integer(1, 5000)),
    "regularization": ("regularization", Options("none", "l1", "l2")),
    "reg_rate": ("regularization rate", Real(0.0, 10.0)),
    "seed": ("seed", Integer(0, 2**32 - 1)),
    "decay": ("momentum / beta1 / rho", Real(0.0, 1.0, low_open=True, high_open=True)),
}


def build_model(spec: NetSpec, n_inputs: int, n_outputs: int) -> hg.Sequential:
    """Linear, activation, ..., Linear (logits); every layer draws from one seeded Generator."""
    rng = np.random.default_rng(spec.seed)
    init = INITS[spec.init]
    layers: list[hg.Module] = []
    fan_in = n_inputs
    for width, activation in zip(spec.hidden, spec.activations):
        layers.append(hg.Linear(fan_in, width, init=init, rng=rng))
        layers.append(getattr(hg, ACTIVATION_NAMES[activation])())
        fan_in = width
    layers.append(hg.Linear(fan_in, n_outputs, init=init, rng=rng))
    return hg.Sequential(*layers)


def make_loss(data: Dataset):
    """The loss the task calls for: MSE, BCE on one logit, or softmax cross-entropy."""
    if data.task == "regression":
        return hg.MSELoss()
    return hg.BCEWithLogitsLoss() if data.n_classes == 2 else hg.SoftmaxCrossEntropyLoss()


def loss_target(data: Dataset) -> np.ndarray:
    """The target as the loss takes it: (N, 1) floats for MSE and BCE, (N,) codes for CE."""
    if data.task == "classification" and data.n_classes > 2:
        return data.y.astype(np.int64)
    return data.y.astype(np.float64).reshape(-1, 1)


def make_optimizer(spec: NetSpec, model: hg.Sequential):
    params = model.parameters()
    if spec.optimizer == "sgd":
        return hg.SGD(params, lr=spec.lr)
    if spec.optimizer == "momentum":
        return hg.SGD(params, lr=spec.lr, momentum=spec.decay)
    if spec.optimizer == "adam":
        return hg.Adam(params, lr=spec.lr, betas=(spec.decay, ADAM_BETA2))
    return hg.RMSProp(params, lr=spec.lr, rho=spec.decay)


# the penalty each regularization choice adds to the loss (its rate is lam)
PENALTIES = {"l1": hg.L1Penalty, "l2": hg.L2Penalty}


def make_penalty(kind: str, rate: float) -> hg.L1Penalty | hg.L2Penalty | None:
    """``hg.L1Penalty(rate)`` or ``hg.L2Penalty(rate)``; none for "none" or a rate of 0."""
    return PENALTIES[kind](rate) if kind in PENALTIES and rate > 0 else None


# the attribute each optimizer keeps its averaging rate in (plain SGD has none)
DECAY_ATTRIBUTE = {"momentum": "momentum", "adam": "beta1", "rmsprop": "rho"}


# Settings a running training takes as they are (no reset): what each does to the Trainer is
# ``Trainer.tweak``; the exported script does the same at the same step.
TWEAKS = ("lr", "decay", "optimizer", "regularization", "reg_rate", "batch_size")


class Trainer:
    """One minibatch step at a time on the training rows; the batch order from ``hg.batches``.

    Batch order Generator: seed + 2 (the data uses seed, the split seed + 1).
    """

    def __init__(self, spec: NetSpec, data: Dataset):
        self.spec, self.data = spec, data
        self.model = build_model(spec, data.X.shape[1], data.n_outputs)
        self.loss = make_loss(data)
        self.optimizer = make_optimizer(spec, self.model)
        self.penalty = make_penalty(spec.regularization, spec.reg_rate)
        self.set_data(data)
        self.batch_size = min(spec.batch_size, len(self.X_train))
        self._rng = np.random.default_rng(spec.seed + 2)
        self._order: Iterator[np.ndarray] = iter(())
        self.steps = 0
        self.epoch = 0
        self.last_loss: float | None = None
        self.diverged = False

    def set_data(self, data: Dataset) -> None:
        """The same rows with new values (a noise change or a new draw): training goes on."""
        self.data = data
        self.X_train, self.Y_train = data.X[data.train], loss_target(data)[data.train]
        self.X_test, self.Y_test = data.X[data.test], loss_target(data)[data.test]

    def tweak(self, name: str, value) -> None:
        """Change one setting of the running training (a name in TWEAKS), as Python would:

        lr -> ``optimizer.lr = value`` (the optimizer keeps its state: momentum, moments);
        decay -> ``optimizer.momentum`` / ``.beta1`` / ``.rho = value`` (state kept);
        optimizer -> a new optimizer of that kind on the same parameters (fresh state);
        regularization, reg_rate -> a new ``hg.L1Penalty`` / ``hg.L2Penalty`` (none for
        "none" or rate 0); batch_size -> a new shuffled epoch.
        """
        self.spec = replace(self.spec, **{name: value})
        if name == "lr":
            self.optimizer.lr = value
        elif name == "decay":
            if self.spec.optimizer in DECAY_ATTRIBUTE:
                setattr(self.optimizer, DECAY_ATTRIBUTE[self.spec.optimizer], value)
        elif name == "optimizer":
            self.optimizer = make_optimizer(self.spec, self.model)
        elif name in ("regularization", "reg_rate"):
            self.penalty = make_penalty(self.spec.regularization, self.spec.reg_rate)
        elif name == "batch_size":
            self.batch_size = min(value, len(self.X_train))
            self._order = iter(())
        else:
            raise ValueError(f"{name!r} cannot change while training")

    def next_batch(self) -> np.ndarray:
        """Row indices of the next minibatch; a new shuffled epoch when one ends."""
        idx: np.ndarray | None = next(self._order, None)
        if idx is None:
            self._order = hg.batches(len(self.X_train), self.batch_size, rng=self._rng)
            self.epoch += 1
            idx = next(self._order)
        return idx

    def step(self) -> float:
        """Forward, loss, backward, (penalty), optimizer step on one minibatch -> the batch loss."""
        idx = self.next_batch()
        outputs = self.model.forward(self.X_train[idx])
        value = self.loss.forward(outputs, self.Y_train[idx])
        self.model.backward(self.loss.backward())
        self._finish(value)
        return value

    def _finish(self, value: float) -> None:
        if self.penalty is not None:
            self.penalty.add_gradient(self.model.parameters())
        self.optimizer.step()
        self.steps += 1
        self.last_loss = float(value)

    def run(self, n_steps: int, stop: Callable[[], bool] = lambda: False) -> None:
        """``n_steps`` steps, stopping early once the loss is not finite (``diverged``) or as
        soon as ``stop()`` is true (checked before every step: the server's Ctrl-C)."""
        for _ in range(n_steps):
            if self.diverged or stop():
                return
            with np.errstate(over="ignore", invalid="ignore"):
                try:
                    value = self.step()
                except (ValueError, FloatingPointError):  # the engine refuses NaN / inf inputs
                    self.diverged = True
                    return
            if not np.isfinite(value):
                self.diverged = True

    def data_loss(self, X: np.ndarray, Y: np.ndarray) -> float:
        """The loss (no penalty term) of the current model on a whole part."""
        with np.errstate(over="ignore", invalid="ignore"):
            return float(self.loss.forward(self.model.forward(X), Y))
