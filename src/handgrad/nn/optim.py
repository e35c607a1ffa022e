"""Optimizers: ``step()`` updates every parameter's ``.value`` in place from its ``.grad``.

The textbook updates come first: SGD (plain, momentum, Nesterov), Adam (and AdamW),
RMSProp. Each keeps its state per parameter (``self.state[i]`` for ``self.params[i]``,
see ``_optim_base.py``) and never rebinds a parameter's ``.value`` or ``.grad``: it only
writes into ``.value``. Below them, one helper keeps Adam's and RMSProp's mean of squared
gradients finite when a gradient is too large to square.

Weight decay is the gradient of (wd / 2) * ||W||^2 added to dW (coupled), for parameters
with ``regularize=True`` only (weights, not biases). Adam's ``decoupled=True`` is AdamW:
the weights shrink by lr * wd * W separately from the adaptive step. Hyperparameters are
stored as Python floats, so float32 parameters stay float32.

``fit`` runs these same updates through ``handgrad.train.fast`` (reused buffers, no
temporaries); the tests keep the two equal.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import cast

import numpy as np

from ._optim_base import (
    DECAY,
    EPS,
    MAX_LR,
    MAX_WEIGHT_DECAY,
    Hyperparameters,
    Optimizer,
    State,
)
from .constraints import check
from .layers import Parameter

__all__ = ["Optimizer", "SGD", "Adam", "RMSProp", "MAX_LR", "MAX_WEIGHT_DECAY"]


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
        self.momentum: float = check(momentum, DECAY, "momentum", "SGD")
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
        self.beta1: float = check(betas[0], DECAY, "beta1", "Adam")
        self.beta2: float = check(betas[1], DECAY, "beta2", "Adam")
        self.eps: float = check(eps, EPS, "eps", "Adam")
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
        m += (1.0 - b1) * g  # m <- b1 m + (1 - b1) g
        g, m_seen, eps = _scaled(state, "v", g, m, eps)  # themselves unless g^2 overflows
        v *= b2
        v += (1.0 - b2) * (g * g)  # v <- b2 v + (1 - b2) g^2
        if self.decoupled and self.weight_decay and p.regularize:
            p.value *= 1.0 - lr * self.weight_decay
        p.value -= lr * (m_seen / c1) / (np.sqrt(v / c2) + eps)

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
        self.rho: float = check(rho, DECAY, "rho", "RMSProp")
        self.eps: float = check(eps, EPS, "eps", "RMSProp")
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
        g, _, eps = _scaled(state, "s", g, g, eps)  # themselves unless g^2 overflows
        s *= rho
        s += (1.0 - rho) * (g * g)  # s <- rho s + (1 - rho) g^2
        p.value -= lr * g / (np.sqrt(s) + eps)

    def hyperparameters(self) -> Hyperparameters:
        return {"lr": self.lr, "rho": self.rho, "eps": self.eps, "weight_decay": self.weight_decay}


# --- keeping the mean of squares finite ---------------------------------------------------
# Squares of gradients beyond 2^512 (~1.3e154; float32: 2^64, ~1.8e19) overflow. Adam's v and
# RMSProp's s are then kept divided by 4^e (state "<name>_exponent", a 0-d int64 array),
# with e chosen so that the scaled gradient stays below 2^(maxexp/2 - 12): then g^2 and the
# running mean stay finite for any finite g, and the step, a ratio, is computed with g, the
# root mean square and eps (and Adam's m) all divided by 2^e alike. e is 0 (the textbook
# formulas, bit for bit: ``_scaled`` returns its arguments themselves) until a gradient that large
# comes, and it never goes back down.


def _scaled(
    state: State, name: str, g: np.ndarray, numerator: np.ndarray, eps: float
) -> tuple[np.ndarray, np.ndarray, float]:
    """(g, numerator, eps) / 2^e, where the running mean of squares ``state[name]`` is kept
    as the true one / 4^e; e is raised first (and the mean rescaled) if g / 2^e would
    square to an overflow. While e is 0 the three come back unchanged, the same objects."""
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
    if e == 0:
        return g, numerator, eps
    return np.ldexp(g, -e), np.ldexp(numerator, -e), cast(float, np.ldexp(eps, -e))
