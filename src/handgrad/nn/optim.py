"""Optimizers. ``step()`` updates every parameter's ``.value`` in place from its ``.grad``.

State (velocities, moments) is allocated once, with the parameter's shape and dtype, and
updated in place; one scratch buffer per parameter holds the step, so a step allocates
nothing. Hyperparameters stay Python floats so float32 parameters stay float32.

Weight decay here is the gradient of (wd / 2) * ||W||^2 added to dW (coupled), applied to
parameters with ``regularize=True`` only (weights, not biases). Adam's ``decoupled=True``
is AdamW: the weights shrink by lr * wd * W separately from the adaptive step.
"""

from __future__ import annotations

import math

import numpy as np

from .layers import Parameter

__all__ = ["Optimizer", "SGD", "Adam", "RMSProp"]


class Optimizer:
    def __init__(self, params, lr: float):
        self.params: list[Parameter] = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        for p in self.params:
            if not isinstance(p, Parameter):
                raise TypeError(
                    f"{type(self).__name__}: expected Parameters, got {type(p).__name__}"
                )
        if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
            raise ValueError(f"{type(self).__name__}: lr must be a positive number, got {lr!r}")
        self.lr = float(lr)
        self._scratch = [np.empty_like(p.value) for p in self.params]

    def step(self) -> None:
        raise NotImplementedError

    def zero_grad(self) -> None:
        """Not needed by handgrad's backward (it overwrites), provided for familiarity."""
        for p in self.params:
            p.grad.fill(0)

    def _decayed_grad(self, p: Parameter, wd: float, buf: np.ndarray) -> np.ndarray:
        """g + wd * W into ``buf`` (or g itself when there is no decay)."""
        if wd == 0.0 or not p.regularize:
            return p.grad
        np.multiply(p.value, wd, out=buf)
        buf += p.grad
        return buf


def _check_unit(name: str, value: float, who: str) -> float:
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{who}: {name} must be in [0, 1), got {value!r}")
    return float(value)


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum.

        v <- mu * v + g                     (g includes weight decay)
        W <- W - lr * v                     (classical)
        W <- W - lr * (g + mu * v)          (Nesterov)
    With mu = 0 this is W <- W - lr * g, seed 000's theta <- theta - eta * g.
    """

    def __init__(
        self,
        params,
        lr: float = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ):
        super().__init__(params, lr)
        self.momentum = _check_unit("momentum", momentum, "SGD")
        if nesterov and self.momentum == 0:
            raise ValueError("SGD: nesterov=True needs momentum > 0")
        self.nesterov = bool(nesterov)
        self.weight_decay = float(weight_decay)
        self._velocity = [np.zeros_like(p.value) for p in self.params] if self.momentum else None

    def step(self) -> None:
        lr, mu, wd = self.lr, self.momentum, self.weight_decay
        for i, p in enumerate(self.params):
            buf = self._scratch[i]
            g = self._decayed_grad(p, wd, buf) if wd else p.grad
            if mu:
                v = self._velocity[i]
                v *= mu
                v += g
                if self.nesterov:  # look ahead along the velocity
                    g = g + mu * v
                else:
                    g = v
            np.multiply(g, lr, out=buf)
            p.value -= buf


class Adam(Optimizer):
    """Adam with bias correction (Kingma & Ba), and AdamW with ``decoupled=True``.

    m <- b1 m + (1 - b1) g;   v <- b2 v + (1 - b2) g^2
    W <- W - lr * m_hat / (sqrt(v_hat) + eps),  m_hat = m / (1 - b1^t), v_hat = v / (1 - b2^t)
    """

    def __init__(
        self,
        params,
        lr: float = 0.001,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        decoupled: bool = False,
    ):
        super().__init__(params, lr)
        self.beta1 = _check_unit("beta1", betas[0], "Adam")
        self.beta2 = _check_unit("beta2", betas[1], "Adam")
        if not eps > 0:
            raise ValueError(f"Adam: eps must be > 0, got {eps!r}")
        self.eps = float(eps)
        self.weight_decay = float(weight_decay)
        self.decoupled = bool(decoupled)
        self.t = 0
        self._m = [np.zeros_like(p.value) for p in self.params]
        self._v = [np.zeros_like(p.value) for p in self.params]

    def step(self) -> None:
        self.t += 1
        b1, b2, eps = self.beta1, self.beta2, self.eps
        # fold both bias corrections into the step size and eps (exactly equivalent)
        c1 = 1.0 - b1**self.t
        c2 = math.sqrt(1.0 - b2**self.t)
        step_size = self.lr * c2 / c1
        eps_hat = eps * c2
        coupled_wd = 0.0 if self.decoupled else self.weight_decay
        for i, p in enumerate(self.params):
            buf, m, v = self._scratch[i], self._m[i], self._v[i]
            g = self._decayed_grad(p, coupled_wd, buf)
            m *= b1
            m += (1.0 - b1) * g
            v *= b2
            np.multiply(g, g, out=buf)
            buf *= 1.0 - b2
            v += buf
            np.sqrt(v, out=buf)
            buf += eps_hat
            np.divide(m, buf, out=buf)
            buf *= step_size
            if self.decoupled and self.weight_decay and p.regularize:
                p.value *= 1.0 - self.lr * self.weight_decay
            p.value -= buf


class RMSProp(Optimizer):
    """RMSProp: s <- rho s + (1 - rho) g^2;  W <- W - lr * g / (sqrt(s) + eps)."""

    def __init__(
        self,
        params,
        lr: float = 0.001,
        rho: float = 0.9,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ):
        super().__init__(params, lr)
        self.rho = _check_unit("rho", rho, "RMSProp")
        self.eps = float(eps)
        self.weight_decay = float(weight_decay)
        self._s = [np.zeros_like(p.value) for p in self.params]

    def step(self) -> None:
        rho, eps, lr = self.rho, self.eps, self.lr
        for i, p in enumerate(self.params):
            buf, s = self._scratch[i], self._s[i]
            g = self._decayed_grad(p, self.weight_decay, buf)
            s *= rho
            s += (1.0 - rho) * (g * g)
            # g may *be* buf (with weight decay), so the denominator needs its own array
            denom = np.sqrt(s)
            denom += eps
            np.divide(g, denom, out=buf)
            buf *= lr
            p.value -= buf
