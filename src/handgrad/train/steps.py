"""One training step, in the pieces ``fit`` calls in order, behind one small protocol.

    xb, tb, yb = step.batch(idx)      # the batch's inputs, loss targets, metric targets
    outputs    = step.forward(xb)
    value      = step.loss(outputs, tb)   # keeps dL/d(outputs) for backward
    step.backward()                   # every parameter's .grad
    step.gradients_finite()
    step.step()                       # the optimizer's update, in place

Two implementations: ``ReferenceStep`` goes through the module protocol only (the textbook
step, for any module, loss and optimizer); ``fast.FastStep`` runs the built-in types with
fused kernels and reused buffers. ``choose_step`` picks one.

``fit`` keeps its fast step for the model's next call; this module is the one owner of that
cache on ``fit``'s side: ``look_up`` (before the data are checked: what the last call
learned), ``step_for`` (the step for the call) and ``release`` (the step back).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from ..nn._checks import all_finite
from ..nn.layers import Module, Parameter
from ..nn.losses import L2Penalty, Loss
from ..nn.optim import Optimizer
from . import fast
from .fast import FastStep, serving, take
from .fast_pieces import Pieces, pieces_of
from .inputs import loss_target

if TYPE_CHECKING:
    from .state import Run

__all__ = [
    "Step",
    "ReferenceStep",
    "choose_step",
    "look_up",
    "step_for",
    "release",
    "gradients_finite",
]


class Step(Protocol):
    """What ``fit`` needs of a training step (see the module docstring for the order)."""

    replays_exactly: bool  # the same batches again give the same bits (the guard may replay)
    params: list[Parameter]  # the model's parameters (``model.parameters()``)

    def batch(self, idx: np.ndarray) -> Sequence[Any]: ...  # (xb, tb, yb or None)
    def forward(self, xb: np.ndarray) -> np.ndarray: ...
    def loss(self, outputs: np.ndarray, tb: np.ndarray) -> float: ...
    def backward(self) -> None: ...
    def gradients_finite(self) -> bool: ...
    def step(self) -> None: ...
    # allowed: nothing reads .grad until the next call (a step may leave one unwritten);
    # False: every .grad as the last step's backward writes it
    def fold_updates(self, allowed: bool) -> None: ...


def gradients_finite(params: Sequence[Parameter]) -> bool:
    """True if every gradient entry is finite."""
    return all(all_finite(p.grad) for p in params)


class ReferenceStep:
    """One training step through the public protocol only: ``model.forward``, the loss's
    ``forward``/``backward``, ``model.backward(grad)``, ``optimizer.step()``. Batches are
    fresh arrays (``X[idx]``), as a module that keeps its input may expect."""

    replays_exactly = False  # a module, loss or optimizer of your own may keep any state

    def __init__(
        self,
        model: Module,
        loss: Loss,
        optimizer: Optimizer,
        l2: L2Penalty | None,
        X: np.ndarray,
        y: np.ndarray,
    ):
        self.model, self.loss_fn, self.optimizer, self.l2 = model, loss, optimizer, l2
        self.X, self.y = X, y
        self.params = model.parameters()

    def batch(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, None]:
        return self.X[idx], self.y[idx], None

    def forward(self, xb: np.ndarray) -> np.ndarray:
        return self.model.forward(xb)

    def loss(self, outputs: np.ndarray, tb: np.ndarray) -> float:
        value = self.loss_fn.forward(outputs, tb)
        if self.l2 is not None:
            value += self.l2.value(self.params)
        return value

    def backward(self) -> None:
        self.model.backward(self.loss_fn.backward())
        if self.l2 is not None:
            self.l2.add_gradient(self.params)

    def gradients_finite(self) -> bool:
        return gradients_finite(self.params)

    def step(self) -> None:
        self.optimizer.step()

    def fold_updates(self, allowed: bool) -> None:
        """Nothing to do: every backward writes every gradient."""


def choose_step(
    model: Module,
    loss: Loss,
    optimizer: Optimizer,
    l2: L2Penalty | None,
    X: np.ndarray,
    y: np.ndarray,
    *,
    target: np.ndarray | None = None,
    outputs_shape: tuple[int, ...],
    with_metrics: bool,
    fast_allowed: bool,
    pieces: Pieces | None = None,
) -> Step:
    """The fast step when allowed and every piece is a built-in type (``fast.supports``),
    else the reference step. X (N, D) and y are the training rows, already checked; the
    fast step keeps the target in the loss's own form (and y beside it for the metrics
    when that form differs). ``target``: that form when the caller has it already (from
    ``inputs.prepare_target_and_form``), so that y is not checked twice. ``pieces``:
    ``fast.pieces_of(model, loss, optimizer)`` when the caller has it, still true."""
    if fast_allowed and target is not None:  # the model's last step, when it fits again
        y_metrics = y if with_metrics and target is not y else None
        cached = fast.cached_step(model, loss, optimizer, l2, X, target, y_metrics, pieces)
        if cached is not None:
            return cached
    if not (fast_allowed and fast.supports(model, loss, optimizer, X.dtype)):
        return ReferenceStep(model, loss, optimizer, l2, X, y)
    if target is None:
        target = loss_target(loss, y, (X.shape[0], *outputs_shape), X.dtype)
    y_metrics = y if with_metrics and target is not y else None
    return fast.fast_step(model, loss, optimizer, l2, X, target, y_metrics, pieces)


def release(model: Module, step: Step) -> None:
    """At the end of ``fit``: a fast step goes back to its cache (``fast.release``), for the
    model's next call; any other step is simply dropped."""
    if isinstance(step, fast.FastStep):
        fast.release(model, step)


def look_up(
    model: Module, loss: Loss, optimizer: Optimizer, fast_allowed: bool
) -> tuple[tuple[Any, ...] | None, Any]:
    """What the model's last ``fit`` call left for these very pieces, before anything else
    is checked: (what that call learned from the layers, X's dtype, X's width and one
    output row's shape, or None; a hint for ``step_for``, opaque to the caller). The hint
    is the cached fast step when it still serves these pieces (``fast.serving``; it stays
    in the cache), else ``fast.pieces_of`` them; None when the fast step is not allowed."""
    if not fast_allowed:
        return None, None
    cached = serving(model, loss, optimizer)
    if cached is not None:
        return cached.shapes, cached
    return None, pieces_of(model, loss, optimizer)


def step_for(run: Run, fast_allowed: bool) -> Step:
    """The step for this call (``choose_step``): the cached one ``look_up`` found, when it
    was built for these rows and nothing could have changed the pieces since (no callback
    ran, no checkpoint was restored); else a step from the cache or a new one, which keeps
    what the call learned from the layers for the model's next calls (``keep_shapes``).
    ``run.hint``: ``look_up``'s hint, or None when the run's arrays are not those it saw."""
    pieces = run.hint
    # the pieces still as ``look_up`` found them, unless a callback or a checkpoint could
    # have changed them since
    same = not run.callbacks and run.resume is None
    if type(pieces) is FastStep:  # the model's cached step, serving these pieces
        if same:  # (no metrics: y_metrics None)
            taken = take(run.model, pieces, run.l2, run.X, run.target, None)
            if taken is not None:
                return taken
        pieces = None
    step = choose_step(
        run.model,
        run.loss,
        run.optimizer,
        run.l2,
        run.X,
        run.y,
        target=run.target,
        outputs_shape=run.outputs_shape,
        with_metrics=bool(run.metric_fns),
        fast_allowed=fast_allowed,
        pieces=pieces if same else None,
    )
    if pieces is not None and type(step) is FastStep:  # (it keeps what the call learned)
        width = getattr(run.model, "in_features", None)
        step.keep_shapes(pieces, (run.X.dtype, width, run.outputs_shape))
    return step
