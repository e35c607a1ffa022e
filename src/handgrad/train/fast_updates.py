"""The fast step's optimizer updates: SGD (momentum, Nesterov, weight decay), Adam and
RMSProp, in place, the math of ``handgrad.nn.optim`` element by element.

SGD goes through ``blas``: ``y += a * x`` in one pass, on the threads of NumPy's own BLAS
for large parameters (the NumPy expression, two passes, for small ones). Its fused
multiply-add rounds once where the reference rounds twice, so a large parameter's SGD
step may differ from the reference by an ulp of the operands; each element is computed
alone, so the bits never depend on the thread count. Adam and RMSProp keep the NumPy
expressions of the reference, through two scratch arrays per parameter.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ..nn._checks import DOT_CHECK_MAX
from ..nn.optim import SGD, Adam, Optimizer, RMSProp
from . import blas
from .blas import axpy, scal

if TYPE_CHECKING:
    from .fast_fold import FoldedUpdate

__all__ = ["Update"]

_STEPS = {SGD: "_sgd", Adam: "_adam", RMSProp: "_rmsprop"}
# the step count is set as ``object`` sets attributes: it is no change of the optimizer
# (``nn._changes``), and so it costs no Python frame of ``Counted.__setattr__`` a step
_set = object.__setattr__


class Update:
    """The optimizer's step, in place, through two scratch arrays per parameter."""

    def __init__(self, optimizer: Optimizer):
        self.opt: Any = optimizer  # SGD, Adam or RMSProp
        params = optimizer.params
        self.scratch = [(np.empty_like(p.value), np.empty_like(p.value)) for p in params]
        # zeros to dot a small g^2 with (0 * inf is NaN); a large one gets ``blas.all_finite``
        self.zeros = [
            np.zeros(p.value.size, p.value.dtype) if p.value.size <= DOT_CHECK_MAX else None
            for p in params
        ]
        # which parameters may take the BLAS (the shapes are part of the cached step's key)
        self.large = [p.value.size >= blas.MIN_SIZE for p in params]
        dtypes = {p.value.dtype for p in params}
        self.dtype = dtypes.pop() if len(dtypes) == 1 else None  # (None: ``_factor`` keeps lr)
        self._lr, self._lr_array = math.nan, np.array(math.nan, self.dtype)
        self.scaled = False  # lr * g is in the first scratch arrays (``scaled_finite``)
        # a small network's first scratch arrays: views of one flat array, whose dot product
        # with zeros checks plain SGD's lr * g of every parameter at once (``scaled_finite``)
        sizes = [p.value.size for p in params]
        small = self.dtype is not None and 0 < sum(sizes) <= DOT_CHECK_MAX
        self.flat = np.empty(sum(sizes), self.dtype) if small else None
        if self.flat is not None:
            views = np.split(self.flat, np.cumsum(sizes)[:-1])
            self.scratch = [
                (v.reshape(p.value.shape), t) for v, p, (_, t) in zip(views, params, self.scratch)
            ]
            self.flat_zeros = np.zeros(len(self.flat), self.dtype)
        # plain SGD's loop: (parameter, scratch arrays, large) each; without the first when
        # its update was folded into its gradient's product (``fold``, set by ``FastStep``)
        self._plain = [*zip(params, self.scratch, self.large)]
        self.fold: FoldedUpdate | None = None

    @property
    def step(self) -> Callable[[], None]:
        """The optimizer's update, a bound method made on each access (kept on the object,
        it would make a reference cycle, left to the cycle collector when the step dies)."""
        step: Callable[[], None] = getattr(self, _STEPS[type(self.opt)])
        return step

    # --- SGD ---------------------------------------------------------------------------------

    def _sgd(self) -> None:
        opt = self.opt
        if opt.momentum or opt.weight_decay:
            self._sgd_general()
        elif self.scaled:  # lr * g is in the scratch arrays already (``scaled_finite``)
            subtract = np.subtract
            for p, (buf, _) in zip(opt.params, self.scratch):
                w = p.value
                subtract(w, buf, w)
        else:  # W -= lr g, the common case: nothing else to pay for on small parameters
            lr = opt.lr
            factor = self._factor(lr)
            multiply, subtract = np.multiply, np.subtract
            fold, plain = self.fold, self._plain
            if fold is not None and fold.due and fold.apply(lr):
                plain = plain[1:]  # (the first weights' update is done: W - lr X^T G)
            for p, (buf, _), large in plain:
                if large:
                    axpy(-lr, p.grad, p.value, buf)
                else:
                    w = p.value
                    multiply(p.grad, factor, buf)
                    subtract(w, buf, w)
        self.scaled = False
        _set(opt, "t", opt.t + 1)

    def plain_sgd(self) -> bool:
        """SGD without momentum or weight decay, its lr a Python number: the update a
        ``FoldedUpdate`` may do (asked at every backward: a callback may change them)."""
        opt = self.opt
        return not (opt.momentum or opt.weight_decay) and type(opt.lr) in (float, int)

    def scaled_finite(self) -> bool:
        """Plain SGD on a small network (at most ``DOT_CHECK_MAX`` numbers in all): the
        update's first half, lr * g of every parameter into its scratch array (a view of one
        flat array), and True if all of them are finite (one dot product with zeros: 0 * x
        is NaN for NaN or inf x). lr * g is finite only where g is, so True means every
        gradient is finite; False (some lr * g is not, or this is another update) says
        nothing, and the gradients need their own test. The next ``step`` subtracts."""
        opt = self.opt
        if self.flat is None or type(opt) is not SGD or opt.momentum or opt.weight_decay:
            return False
        factor, multiply = self._factor(opt.lr), np.multiply
        for p, (buf, _) in zip(opt.params, self.scratch):
            multiply(p.grad, factor, buf)
        self.scaled = True
        return not math.isnan(self.flat.dot(self.flat_zeros))

    def _factor(self, lr: Any) -> Any:
        """lr as the operand ``np.multiply(g, lr)`` sees: a Python float becomes a 0-d array
        of the parameters' dtype (the value NumPy would convert it to on every call, kept
        while lr stays the same); anything else is passed as it is."""
        if type(lr) is not float or self.dtype is None:
            return lr
        if lr != self._lr:
            self._lr, self._lr_array = lr, np.array(lr, self.dtype)
        return self._lr_array

    def _sgd_general(self) -> None:
        """v <- mu v + g;  W <- W - lr v (classical) or W - lr (g + mu v) (Nesterov), with
        g + wd W for g under weight decay: each a scaling and y += a x."""
        opt = self.opt
        lr, mu, wd, nesterov = opt.lr, opt.momentum, opt.weight_decay, opt.nesterov
        for p, state, (buf, tmp) in zip(opt.params, opt.state, self.scratch):
            w, g = p.value, p.grad
            if wd and p.regularize:  # g + wd * W
                np.copyto(buf, g)
                axpy(wd, w, buf, tmp)
                g = buf
            if mu:
                v = state["velocity"]
                scal(mu, v)
                axpy(1.0, g, v, tmp)  # exactly v + g: the reference's bits
                if nesterov:  # g + mu * v
                    if g is not buf:
                        np.copyto(buf, g)
                    axpy(mu, v, buf, tmp)
                    g = buf
                else:
                    g = v
            axpy(-lr, g, w, tmp if g is buf else buf)

    # --- Adam and RMSProp: g^2 first (to find an overflow), then the update -------------------

    def _squares(self, i: int, decay: float) -> bool:
        """Parameter i's (decayed) gradient into its first scratch array, its square into the
        second; False if the square overflowed (0 * inf is NaN)."""
        p, (buf, tmp) = self.opt.params[i], self.scratch[i]
        g = p.grad
        if decay and p.regularize:
            np.multiply(p.value, decay, out=buf)
            buf += g
            g = buf
        np.multiply(g, g, out=tmp)
        zeros = self.zeros[i]
        return (
            blas.all_finite(tmp)
            if zeros is None
            else not math.isnan(np.dot(tmp.reshape(-1), zeros))
        )

    def _gradient(self, i: int, decay: float) -> np.ndarray:
        p = self.opt.params[i]
        return self.scratch[i][0] if decay and p.regularize else p.grad

    def _squares_or_fallback(self, exponent: str, decay: float) -> list[int]:
        """g^2 of every parameter; the parameters whose g^2 overflows (now or before) get the
        reference update, which keeps the running mean scaled (rare). Returns the others."""
        opt, rest = self.opt, []
        for i, state in enumerate(opt.state):
            if self._squares(i, decay) and not state[exponent]:
                rest.append(i)
            else:
                opt.update(opt.params[i], state, self._gradient(i, decay))
        return rest

    def _adam(self) -> None:
        opt = self.opt
        _set(opt, "t", opt.t + 1)
        decay = 0.0 if opt.decoupled else opt.weight_decay
        b1, b2, lr, eps = opt.beta1, opt.beta2, opt.lr, opt.eps
        c1, c2 = 1.0 - b1**opt.t, 1.0 - b2**opt.t
        shrink = 1.0 - lr * opt.weight_decay if opt.decoupled and opt.weight_decay else None
        for i in self._squares_or_fallback("v_exponent", decay):
            p, state, (buf, tmp) = opt.params[i], opt.state[i], self.scratch[i]
            w, m, v = p.value, state["m"], state["v"]
            g = buf if decay and p.regularize else p.grad
            v *= b2
            tmp *= 1.0 - b2
            v += tmp
            m *= b1
            np.multiply(g, 1.0 - b1, out=tmp)
            m += tmp
            if shrink is not None and p.regularize:
                w *= shrink
            np.divide(v, c2, out=tmp)  # sqrt(v_hat) + eps
            np.sqrt(tmp, out=tmp)
            tmp += eps
            np.divide(m, c1, out=buf)  # lr * m_hat / (...)
            buf *= lr
            buf /= tmp
            np.subtract(w, buf, out=w)

    def _rmsprop(self) -> None:
        opt = self.opt
        decay = opt.weight_decay
        rho, lr, eps = opt.rho, opt.lr, opt.eps
        for i in self._squares_or_fallback("s_exponent", decay):
            p, s, (buf, tmp) = opt.params[i], opt.state[i]["s"], self.scratch[i]
            w = p.value
            g = buf if decay and p.regularize else p.grad
            s *= rho
            tmp *= 1.0 - rho
            s += tmp
            np.sqrt(s, out=tmp)
            tmp += eps
            np.multiply(g, lr, out=buf)
            buf /= tmp
            np.subtract(w, buf, out=w)
        _set(opt, "t", opt.t + 1)
