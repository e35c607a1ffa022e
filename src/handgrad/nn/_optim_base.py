"""What every optimizer in ``optim.py`` shares: its parameters, the learning rate and weight
decay (checked), per-parameter state, the step count, and ``state_dict`` / ``load_state_dict``.

State is kept per parameter, as PyTorch's ``state[p]``: ``self.state[i]`` is a dict of
arrays (velocity, moments) for ``self.params[i]``. Lists aligned by position survive a
deep copy or a pickle of (model, optimizer) together.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from ._changes import Counted
from .constraints import Integer, Real, check
from .layers import Parameter

# One parameter's state: named arrays (Adam's m and v, RMSProp's s, momentum's velocity).
State = dict[str, np.ndarray]
# The constructor's arguments as JSON numbers (Adam's betas are a list of two).
Hyperparameters = dict[str, float | bool | list[float]]

# Beyond these a single step is no longer a step: lr 1e308 turns every weight to inf at once.
MAX_LR = 1e6
MAX_WEIGHT_DECAY = 1e6
LEARNING_RATE = Real(0.0, MAX_LR, low_open=True, high_open=True)
WEIGHT_DECAY = Real(0.0, MAX_WEIGHT_DECAY, high_open=True)
# a running average's decay (momentum, Adam's betas, RMSProp's rho) and a denominator's eps
DECAY = Real(0.0, 1.0, high_open=True)
EPS = Real(0.0, low_open=True)


class Optimizer(Counted):
    """Base class: the parameters, the learning rate, per-parameter state, and the step count.

    Setting an attribute counts as a change (``_changes``), but the step count ``t``."""

    uncounted = frozenset({"t"})

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
        self.lr: float = check(lr, LEARNING_RATE, "lr", who)
        self.weight_decay: float = check(weight_decay, WEIGHT_DECAY, "weight_decay", who)
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
        # a malformed state is a ValueError, whatever the kind of t
        t: int = check(state.get("t"), Integer(0), "t", f"{who}.load_state_dict", error=ValueError)
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
                largest = np.finfo(self.params[i].value.dtype).maxexp  # see optim.py
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
        self.t = t
