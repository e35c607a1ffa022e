"""Optimizers: ``step()`` updates every parameter's ``.value`` in place from its ``.grad``.

State is kept per parameter, as PyTorch's ``state[p]``: ``self.state[i]`` is a dict of
arrays (velocity, moments) for ``self.params[i]``. Lists aligned by position survive a
deep copy or a pickle of (model, optimizer) together, and an optimizer never rebinds a
parameter's ``.value`` or ``.grad``: it only writes into ``.value``.

Weight decay is the gradient of (wd / 2) * ||W||^2 added to dW (coupled), for parameters
with ``regularize=True`` only (weights, not biases). Adam's ``decoupled=True`` is AdamW:
the weights shrink by lr * wd * W separately from the adaptive step. Hyperparameters are
stored as Python floats, so float32 parameters stay float32.

``fit`` runs these same updates through ``handgrad.train.fast`` (reused buffers, no
temporaries); the tests keep the two equal.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

from .layers import Parameter

# One parameter's state: named arrays (Adam's m and v, RMSProp's s, momentum's velocity).
State = dict[str, np.ndarray]
# The constructor's arguments as JSON numbers (Adam's betas are a list of two).
Hyperparameters = dict[str, float | bool | list[float]]

__all__ = ["Optimizer", "SGD", "Adam", "RMSProp", "MAX_LR", "MAX_WEIGHT_DECAY"]

# Beyond these a single step is no longer a step: lr 1e308 turns every weight to inf at once.
MAX_LR = 1e6
MAX_WEIGHT_DECAY = 1e6


def _number(
    who: str,
    name: str,
    value: object,
    low: float,
    high: float = math.inf,
    *,
    open_low: bool = False,
) -> float:
    """``value`` as a float, if it is a real finite number in [low, high) (or (low, high))."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{who}: {name} must be a real number, got {value!r}")
    try:
        number = float(value)
    except OverflowError:  # an integer beyond the float range
        number = -math.inf if value < 0 else math.inf
    below = number <= low if open_low else number < low
    if not math.isfinite(number) or below or number >= high:
        interval = f"{'(' if open_low else '['}{low:g}, {high:g})"
        raise ValueError(f"{who}: {name} must be a finite number in {interval}, got {number!r}")
    return number


# Squares of gradients beyond 2^512 (~1.3e154; float32: 2^64, ~1.8e19) overflow. Adam's v and
# RMSProp's s are then kept divided by 4^e (state "<name>_exponent", a 0-d int64 array),
# with e chosen so that the scaled gradient stays below 2^(maxexp/2 - 12): then g^2 and the
# running mean stay finite for any finite g, and the step, a ratio, is computed with g, the
# root mean square and eps all scaled alike. e is 0 (the textbook formulas, bit for bit)
# until a gradient that large comes, and it never goes back down.


def _scaled(g: np.ndarray, state: State, name: str) -> tuple[int, np.ndarray]:
    """(e, g / 2^e) for the running mean of squares ``state[name]`` (= true value / 4^e),
    raising e first (and rescaling the mean) if g / 2^e would square to an overflow."""
    e = int(state[f"{name}_exponent"])
    g_s = g if e == 0 else np.ldexp(g, -e)
    largest = float(np.max(np.abs(g_s))) if g_s.size else 0.0
    bits = np.finfo(g_s.dtype).maxexp // 2 - 12  # float64: 500
    # (a NaN or inf gradient has nothing to scale: fit stops before such a step)
    if largest >= 2.0**bits and math.isfinite(largest):
        k = math.frexp(largest)[1] - bits
        mean = state[name]
        mean[...] = np.ldexp(mean, -2 * k)
        e += k
        state[f"{name}_exponent"][...] = e
        g_s = np.ldexp(g, -e)
    return e, g_s


class Optimizer:
    """Base class: the parameters, the learning rate, per-parameter state, and the step count."""

    def __init__(self, params: Iterable[Parameter], lr: float, weight_decay: float = 0.0):
        who = type(self).__name__
        self.params: list[Parameter] = list(params)
        if not self.params:
            raise ValueError(f"{who}: got an empty parameter list")
        for p in self.params:
            if not isinstance(p, Parameter):
                raise TypeError(f"{who}: expected Parameters, got {type(p).__name__}")
        if len({id(p) for p in self.params}) != len(self.params):
            raise ValueError(f"{who}: a parameter appears more than once")
        self.lr = _number(who, "lr", lr, 0.0, MAX_LR, open_low=True)
        self.weight_decay = _number(who, "weight_decay", weight_decay, 0.0, MAX_WEIGHT_DECAY)
        self.t = 0  # steps taken
        self.state: list[State] = [{} for _ in self.params]

    def step(self) -> None:
        raise NotImplementedError

    def zero_grad(self) -> None:
        """Not needed by handgrad's backward (it overwrites), provided for familiarity."""
        for p in self.params:
            p.grad.fill(0)

    def _grad_with_decay(self, p: Parameter, wd: float) -> np.ndarray:
        """g + wd * W for weights (coupled weight decay), g itself otherwise."""
        return p.grad + wd * p.value if wd and p.regularize else p.grad

    def hyperparameters(self) -> Hyperparameters:
        """The constructor's arguments besides ``params``, as JSON-ready numbers."""
        raise NotImplementedError

    def state_dict(self) -> dict[str, Any]:
        """{"type", "hyperparameters", "t", "state": [{name: array}, ...]}: arrays and JSON
        scalars, the per-parameter state in ``params`` order (copies)."""
        return {
            "type": type(self).__name__,
            "hyperparameters": self.hyperparameters(),
            "t": self.t,
            "state": [{k: a.copy() for k, a in s.items()} for s in self.state],
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what ``state_dict`` returned, checked entirely before anything changes.

        Arrays are copied into the existing state arrays; hyperparameters are restored.
        """
        who = type(self).__name__
        if not isinstance(state, dict) or state.get("type") != who:
            got = state.get("type") if isinstance(state, dict) else type(state).__name__
            raise ValueError(f"{who}.load_state_dict: this state belongs to {got!r}")
        t = state.get("t")
        if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or t < 0:
            raise ValueError(f"{who}.load_state_dict: t must be a non-negative integer, got {t!r}")
        saved = state.get("state")
        if not isinstance(saved, list) or len(saved) != len(self.state):
            raise ValueError(
                f"{who}.load_state_dict: expected state for {len(self.state)} parameters"
            )
        for i, (mine, theirs) in enumerate(zip(self.state, saved)):
            if not isinstance(theirs, dict) or set(theirs) != set(mine):
                raise ValueError(f"{who}.load_state_dict: parameter {i} needs {sorted(mine)}")
            for k, a in theirs.items():
                a = np.asarray(a)
                if a.shape != mine[k].shape or a.dtype != mine[k].dtype:
                    raise ValueError(
                        f"{who}.load_state_dict: {k} of parameter {i} is {a.dtype} {a.shape}, "
                        f"expected {mine[k].dtype} {mine[k].shape}"
                    )
                if not np.all(np.isfinite(a)):
                    raise ValueError(f"{who}.load_state_dict: {k} of parameter {i} is not finite")
                largest = np.finfo(self.params[i].value.dtype).maxexp  # see _scaled
                if k.endswith("_exponent") and not 0 <= int(a) <= largest:
                    raise ValueError(
                        f"{who}.load_state_dict: {k} of parameter {i} is {int(a)}, "
                        f"not in [0, {largest}]"
                    )
        restored = type(self)(self.params, **state.get("hyperparameters", {}))  # validates
        for mine, theirs in zip(self.state, saved):
            for k, a in theirs.items():
                mine[k][...] = a
        vars(self).update({k: v for k, v in vars(restored).items() if k not in ("params", "state")})
        self.t = int(t)


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum.

        v <- mu * v + g                     (g includes weight decay)
        W <- W - lr * v                     (classical)
        W <- W - lr * (g + mu * v)          (Nesterov)
    With mu = 0 this is plain gradient descent, theta <- theta - eta * g.
    """

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ):
        super().__init__(params, lr, weight_decay)
        self.momentum = _number("SGD", "momentum", momentum, 0.0, 1.0)
        if nesterov and self.momentum == 0:
            raise ValueError("SGD: nesterov=True needs momentum > 0")
        self.nesterov = bool(nesterov)
        if self.momentum:
            for p, state in zip(self.params, self.state):
                state["velocity"] = np.zeros_like(p.value)

    def step(self) -> None:
        lr, mu = self.lr, self.momentum
        for p, state in zip(self.params, self.state):
            g = self._grad_with_decay(p, self.weight_decay)
            if mu:
                v = state["velocity"]
                v *= mu
                v += g
                g = g + mu * v if self.nesterov else v
            p.value -= lr * g
        self.t += 1

    def hyperparameters(self) -> Hyperparameters:
        return {
            "lr": self.lr,
            "momentum": self.momentum,
            "nesterov": self.nesterov,
            "weight_decay": self.weight_decay,
        }


class Adam(Optimizer):
    """Adam with bias correction (Kingma & Ba), and AdamW with ``decoupled=True``.

    m <- b1 m + (1 - b1) g;   v <- b2 v + (1 - b2) g^2
    W <- W - lr * m_hat / (sqrt(v_hat) + eps),  m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t)
    """

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float = 0.001,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        decoupled: bool = False,
    ):
        super().__init__(params, lr, weight_decay)
        if isinstance(betas, (str, bytes)) or np.ndim(betas) != 1 or len(betas) != 2:
            raise ValueError(f"Adam: betas must be a pair (beta1, beta2), got {betas!r}")
        self.beta1 = _number("Adam", "beta1", betas[0], 0.0, 1.0)
        self.beta2 = _number("Adam", "beta2", betas[1], 0.0, 1.0)
        self.eps = _number("Adam", "eps", eps, 0.0, open_low=True)
        self.decoupled = bool(decoupled)
        for p, state in zip(self.params, self.state):
            state["m"] = np.zeros_like(p.value)
            state["v"] = np.zeros_like(p.value)
            state["v_exponent"] = np.zeros((), np.int64)

    def step(self) -> None:
        self.t += 1
        coupled_wd = 0.0 if self.decoupled else self.weight_decay
        for p, state in zip(self.params, self.state):
            self.update(p, state, self._grad_with_decay(p, coupled_wd))

    def update(self, p: Parameter, state: State, g: np.ndarray) -> None:
        """One parameter's step with gradient g (weight decay included), t already counted."""
        b1, b2, lr, eps = self.beta1, self.beta2, self.lr, self.eps
        c1, c2 = 1.0 - b1**self.t, 1.0 - b2**self.t  # the bias corrections
        m, v = state["m"], state["v"]
        m *= b1
        m += (1.0 - b1) * g
        e, g_s = _scaled(g, state, "v")  # v is kept as v / 4^e; e = 0 unless g^2 overflows
        v *= b2
        v += (1.0 - b2) * (g_s * g_s)
        if self.decoupled and self.weight_decay and p.regularize:
            p.value *= 1.0 - lr * self.weight_decay
        if e == 0:
            p.value -= lr * (m / c1) / (np.sqrt(v / c2) + eps)
        else:  # the same step with m, sqrt(v) and eps all divided by 2^e
            p.value -= lr * (np.ldexp(m, -e) / c1) / (np.sqrt(v / c2) + np.ldexp(eps, -e))

    def hyperparameters(self) -> Hyperparameters:
        return {
            "lr": self.lr,
            "betas": [self.beta1, self.beta2],
            "eps": self.eps,
            "weight_decay": self.weight_decay,
            "decoupled": self.decoupled,
        }


class RMSProp(Optimizer):
    """RMSProp: s <- rho s + (1 - rho) g^2;  W <- W - lr * g / (sqrt(s) + eps)."""

    def __init__(
        self,
        params: Iterable[Parameter],
        lr: float = 0.001,
        rho: float = 0.9,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ):
        super().__init__(params, lr, weight_decay)
        self.rho = _number("RMSProp", "rho", rho, 0.0, 1.0)
        self.eps = _number("RMSProp", "eps", eps, 0.0, open_low=True)
        for p, state in zip(self.params, self.state):
            state["s"] = np.zeros_like(p.value)
            state["s_exponent"] = np.zeros((), np.int64)

    def step(self) -> None:
        for p, state in zip(self.params, self.state):
            self.update(p, state, self._grad_with_decay(p, self.weight_decay))
        self.t += 1

    def update(self, p: Parameter, state: State, g: np.ndarray) -> None:
        """One parameter's step with gradient g (weight decay included)."""
        rho, lr, eps = self.rho, self.lr, self.eps
        s = state["s"]
        e, g_s = _scaled(g, state, "s")  # s is kept as s / 4^e; e = 0 unless g^2 overflows
        s *= rho
        s += (1.0 - rho) * (g_s * g_s)
        if e == 0:
            p.value -= lr * g / (np.sqrt(s) + eps)
        else:  # the same step with g, sqrt(s) and eps all divided by 2^e
            p.value -= lr * g_s / (np.sqrt(s) + np.ldexp(eps, -e))

    def hyperparameters(self) -> Hyperparameters:
        return {"lr": self.lr, "rho": self.rho, "eps": self.eps, "weight_decay": self.weight_decay}
