"""The fast step's optimizer updates: SGD (momentum, Nesterov, weight decay), Adam and
RMSProp, in place, the same expressions as ``handgrad.nn.optim`` element by element.

Large parameters are updated by several threads at once (``threads``): the elements of
all parameters are cut into one part per thread at fixed boundaries, and each thread runs
the same expressions on its slices. Every element gets the same operations in the same
order whatever the cut, so the bits do not depend on the thread count. With one part
(one thread, or parameters too small to gain) each piece is a whole array and the update
is the one-thread update exactly.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..nn.optim import SGD, Adam, Optimizer, RMSProp
from . import threads

__all__ = ["Update"]

# a piece of work: (parameter index, first element, end)
Piece = tuple[int, int, int]


class Update:
    """The optimizer's step through two scratch arrays per parameter, split across threads
    when the parameters are large (``threads.split``)."""

    def __init__(self, optimizer: Optimizer, thread_count: int = 1):
        self.opt: Any = optimizer  # SGD, Adam or RMSProp
        params = optimizer.params
        self.scratch = [(np.empty_like(p.value), np.empty_like(p.value)) for p in params]
        self.sizes = [p.value.size for p in params]
        self.zeros = [np.zeros(n, p.value.dtype) for n, p in zip(self.sizes, params)]
        self.parts = threads.split(self.sizes, thread_count)
        # Adam/RMSProp: which parameters' g^2 overflowed this step (written by every part)
        self.overflow = [False] * len(params)
        self.step = {SGD: self._sgd, Adam: self._adam, RMSProp: self._rmsprop}[type(optimizer)]

    def _arrays(self, piece: Piece, *names: str) -> list[np.ndarray]:
        """Parameter i's value, grad, the two scratch arrays, zeros and the named state
        arrays: whole, or flat slices [a, b) of them."""
        i, a, b = piece
        p, state = self.opt.params[i], self.opt.state[i]
        arrays = [p.value, p.grad, *self.scratch[i], *(state[n] for n in names)]
        if a == 0 and b == self.sizes[i]:
            return [*arrays[:4], self.zeros[i], *arrays[4:]]
        flat = [x.reshape(-1)[a:b] for x in arrays]
        return [*flat[:4], self.zeros[i][a:b], *flat[4:]]

    def _run(self, work: Callable[[list[Piece]], None]) -> None:
        if len(self.parts) == 1:
            work(self.parts[0])
        else:
            threads.run_parts(work, self.parts)

    # --- SGD ---------------------------------------------------------------------------------

    def _sgd(self) -> None:
        opt = self.opt
        if len(self.parts) == 1 and not (opt.momentum or opt.weight_decay):
            lr = opt.lr  # W -= lr * g, the common case, on whole arrays with nothing else
            for p, (buf, _) in zip(opt.params, self.scratch):
                np.multiply(p.grad, lr, out=buf)
                value = p.value
                np.subtract(value, buf, out=value)
        else:
            self._run(self._sgd_part)
        opt.t += 1

    def _sgd_part(self, part: list[Piece]) -> None:
        opt = self.opt
        lr, mu, wd = opt.lr, opt.momentum, opt.weight_decay
        names = ("velocity",) if mu else ()
        for piece in part:
            w, g, buf, tmp, _, *v = self._arrays(piece, *names)
            if wd and opt.params[piece[0]].regularize:  # g + wd * W
                np.multiply(w, wd, out=buf)
                buf += g
                g = buf
            if mu:
                velocity = v[0]
                velocity *= mu
                velocity += g
                if opt.nesterov:
                    np.multiply(velocity, mu, out=tmp)
                    g = np.add(g, tmp, out=buf)
                else:
                    g = velocity
            np.multiply(g, lr, out=buf)
            np.subtract(w, buf, out=w)

    # --- Adam and RMSProp: g^2 first (to find an overflow), then the update -------------------

    def _squares_part(self, part: list[Piece], decay: float) -> None:
        """The (decayed) gradient into the first scratch array, its square into the second;
        flags a parameter whose square overflowed (0 * inf is NaN)."""
        opt = self.opt
        for piece in part:
            w, g, buf, tmp, zeros = self._arrays(piece)
            if decay and opt.params[piece[0]].regularize:
                np.multiply(w, decay, out=buf)
                buf += g
                g = buf
            np.multiply(g, g, out=tmp)
            if math.isnan(np.dot(tmp.reshape(-1), zeros)):
                self.overflow[piece[0]] = True

    def _gradient(self, i: int, decay: float) -> np.ndarray:
        p = self.opt.params[i]
        return self.scratch[i][0] if decay and p.regularize else p.grad

    def _fallback(self, exponent: str, decay: float) -> set[int]:
        """The parameters whose g^2 overflows (now or before) get the reference update,
        which keeps the running mean scaled (rare); returns their indices."""
        opt, flags = self.opt, self.overflow
        rare = {i for i, s in enumerate(opt.state) if flags[i] or s[exponent]}
        for i in sorted(rare):
            opt.update(opt.params[i], opt.state[i], self._gradient(i, decay))
            flags[i] = False
        return rare

    def _adam(self) -> None:
        opt = self.opt
        opt.t += 1
        decay = 0.0 if opt.decoupled else opt.weight_decay
        self._run(lambda part: self._squares_part(part, decay))
        rare = self._fallback("v_exponent", decay)
        self._run(lambda part: self._adam_part(part, decay, rare))

    def _adam_part(self, part: list[Piece], decay: float, rare: set[int]) -> None:
        opt = self.opt
        b1, b2, lr, eps = opt.beta1, opt.beta2, opt.lr, opt.eps
        c1, c2 = 1.0 - b1**opt.t, 1.0 - b2**opt.t
        shrink = 1.0 - lr * opt.weight_decay if opt.decoupled and opt.weight_decay else None
        for piece in part:
            i = piece[0]
            if i in rare:
                continue
            w, g, buf, tmp, _, m, v = self._arrays(piece, "m", "v")
            if decay and opt.params[i].regularize:
                g = buf
            v *= b2
            tmp *= 1.0 - b2
            v += tmp
            m *= b1
            np.multiply(g, 1.0 - b1, out=tmp)
            m += tmp
            if shrink is not None and opt.params[i].regularize:
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
        self._run(lambda part: self._squares_part(part, decay))
        rare = self._fallback("s_exponent", decay)
        self._run(lambda part: self._rmsprop_part(part, decay, rare))
        opt.t += 1

    def _rmsprop_part(self, part: list[Piece], decay: float, rare: set[int]) -> None:
        opt = self.opt
        rho, lr, eps = opt.rho, opt.lr, opt.eps
        for piece in part:
            i = piece[0]
            if i in rare:
                continue
            w, g, buf, tmp, _, s = self._arrays(piece, "s")
            if decay and opt.params[i].regularize:
                g = buf
            s *= rho
            tmp *= 1.0 - rho
            s += tmp
            np.sqrt(s, out=tmp)
            tmp += eps
            np.multiply(g, lr, out=buf)
            buf /= tmp
            np.subtract(w, buf, out=w)
