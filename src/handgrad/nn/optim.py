"""Optimizers. ``step()`` updates every parameter's ``.value`` in place from its ``.grad``.

An optimizer keeps the gradients of its parameters in one flat vector per dtype (each
``p.grad`` is a view of its slice), and its state (velocities, moments, the step being
built) in flat vectors of the same layout. The arithmetic of a step then runs once over
all parameters, whatever their number; only the final ``W -= step`` and weight decay,
which need each parameter's ``.value``, go parameter by parameter. A ``p.grad`` that was
replaced by another array since is copied back into its slice first. Nothing is allocated
per step. Hyperparameters stay Python floats so float32 parameters stay float32.

Weight decay here is the gradient of (wd / 2) * ||W||^2 added to dW (coupled), applied to
parameters with ``regularize=True`` only (weights, not biases). Adam's ``decoupled=True``
is AdamW: the weights shrink by lr * wd * W separately from the adaptive step.
"""

from __future__ import annotations

import math

import numpy as np

from .layers import Parameter

__all__ = ["Optimizer", "SGD", "Adam", "RMSProp"]


class _Group:
    """Parameters of one dtype; their gradients as one flat vector ``grad`` (n,) and a flat
    scratch ``buf`` (n,) for the step being built, each with per-parameter views."""

    def __init__(self, params: list[Parameter]):
        self.params = params
        self.grad = np.concatenate([p.grad.ravel() for p in params])
        self.grads = self.views(self.grad)
        for p, view in zip(params, self.grads):
            p.grad = view
        self.buf = np.empty_like(self.grad)
        self.bufs = self.views(self.buf)
        self.zero = np.zeros_like(self.grad)  # for the finiteness check

    def views(self, flat: np.ndarray) -> list[np.ndarray]:
        """``flat`` (n,) cut into arrays shaped like the parameters (views, no copies)."""
        out, start = [], 0
        for p in self.params:
            out.append(flat[start : start + p.value.size].reshape(p.value.shape))
            start += p.value.size
        return out

    def zeros(self) -> np.ndarray:
        """A flat state vector (n,) of zeros, laid out like ``grad``."""
        return np.zeros_like(self.grad)

    def gather(self) -> None:
        """Copy back any ``p.grad`` that was replaced by a new array (and view it again)."""
        for p, view in zip(self.params, self.grads):
            if p.grad is not view:
                view[...] = p.grad
                p.grad = view


def _groups(params: list[Parameter]) -> list[_Group]:
    by_dtype: dict[np.dtype, list[Parameter]] = {}
    for p in params:
        by_dtype.setdefault(p.value.dtype, []).append(p)
    return [_Group(ps) for ps in by_dtype.values()]


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
        if len({id(p) for p in self.params}) != len(self.params):
            raise ValueError(f"{type(self).__name__}: a parameter appears more than once")
        if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
            raise ValueError(f"{type(self).__name__}: lr must be a positive number, got {lr!r}")
        self.lr = float(lr)
        self._groups = _groups(self.params)

    def step(self) -> None:
        for group in self._groups:
            group.gather()
        self._step()

    def _step(self) -> None:
        raise NotImplementedError

    def zero_grad(self) -> None:
        """Not needed by handgrad's backward (it overwrites), provided for familiarity."""
        for p in self.params:
            p.grad.fill(0)

    def gradients_finite(self) -> bool:
        """True if every gradient entry of these parameters is finite.

        One BLAS dot product per dtype, with a vector of zeros: 0 * x is 0 for every finite
        x and NaN for NaN or +-inf, so the product is NaN exactly when an entry is not
        finite, and nothing can overflow on the way. (Finding one, NumPy warns "invalid
        value" unless inside ``np.errstate(invalid="ignore")``, as ``fit`` runs it.)
        """
        for group in self._groups:
            group.gather()
            if math.isnan(np.dot(group.grad, group.zero)):
                return False
        return True

    @staticmethod
    def _decayed_grad(group: _Group, wd: float) -> np.ndarray:
        """g + wd * W (weights only) into ``group.buf`` (or g itself without decay), flat."""
        if wd == 0.0 or not any(p.regularize for p in group.params):
            return group.grad
        for p, b, g in zip(group.params, group.bufs, group.grads):
            if p.regularize:
                np.multiply(p.value, wd, out=b)
                b += g
            else:
                b[...] = g
        return group.buf

    @staticmethod
    def _subtract(group: _Group) -> None:
        """W -= the step in ``group.buf``, parameter by parameter (separate arrays)."""
        for p, step in zip(group.params, group.bufs):
            p.value -= step


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
        self._velocity = [g.zeros() for g in self._groups] if self.momentum else None

    def _step(self) -> None:
        lr, mu, wd = self.lr, self.momentum, self.weight_decay
        for i, group in enumerate(self._groups):
            buf = group.buf
            g = self._decayed_grad(group, wd)
            if mu:
                v = self._velocity[i]
                v *= mu
                v += g
                if self.nesterov:  # look ahead along the velocity
                    g = g + mu * v
                else:
                    g = v
            np.multiply(g, lr, out=buf)
            self._subtract(group)


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
        self._m = [g.zeros() for g in self._groups]
        self._v = [g.zeros() for g in self._groups]

    def _step(self) -> None:
        self.t += 1
        b1, b2, eps = self.beta1, self.beta2, self.eps
        # fold both bias corrections into the step size and eps (exactly equivalent)
        c1 = 1.0 - b1**self.t
        c2 = math.sqrt(1.0 - b2**self.t)
        step_size = self.lr * c2 / c1
        eps_hat = eps * c2
        coupled_wd = 0.0 if self.decoupled else self.weight_decay
        for i, group in enumerate(self._groups):
            buf, m, v = group.buf, self._m[i], self._v[i]
            g = self._decayed_grad(group, coupled_wd)
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
            if self.decoupled and self.weight_decay:
                shrink = 1.0 - self.lr * self.weight_decay
                for p in group.params:
                    if p.regularize:
                        p.value *= shrink
            self._subtract(group)


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
        self._s = [g.zeros() for g in self._groups]

    def _step(self) -> None:
        rho, eps, lr = self.rho, self.eps, self.lr
        for i, group in enumerate(self._groups):
            buf, s = group.buf, self._s[i]
            g = self._decayed_grad(group, self.weight_decay)
            s *= rho
            s += (1.0 - rho) * (g * g)
            # g may *be* buf (with weight decay), so the denominator needs its own array
            denom = np.sqrt(s)
            denom += eps
            np.divide(g, denom, out=buf)
            buf *= lr
            self._subtract(group)
