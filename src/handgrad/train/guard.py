"""The divergence guard: the training state in memory, put back when training diverges.

``DivergenceGuard`` decides when to take a snapshot and how to roll back (below);
``Snapshot`` records the parameters' values and the optimizer's state and writes them back
in place. The functions between say why weights are bad (a reason to show), or None.
"""

from __future__ import annotations

import copy
import functools
import itertools
import math
import operator
from typing import TYPE_CHECKING, Any

import numpy as np

from ..nn._checks import DOT_CHECK_MAX, NonFiniteError, check_finite
from ..nn.layers import Module, Parameter
from ..nn.losses import Loss, SoftmaxCrossEntropyLoss
from ..nn.optim import SGD, Adam, RMSProp
from . import blas
from .batching import evaluate
from .inputs import Metric

if TYPE_CHECKING:
    from .steps import Step

__all__ = ["DivergenceGuard", "Snapshot", "WeightChecks"]

WEIGHT_NOT_FINITE = "an update made a weight NaN or inf"


class DivergenceGuard:
    """Puts back the last weights whose loss and outputs were finite, and the optimizer
    state that goes with them, when training diverges.

    Why this shape: a step's update is only known to be bad at the next forward (the loss
    there is NaN or inf) or later (a weight became inf where a ReLU hides it; validation;
    the end of training), and an update cannot be undone exactly in floating point
    (W - lr g + lr g is not always W). Copying every parameter and every optimizer array
    at every step would cost the fast path several NumPy calls per parameter per step. So:

    - ``replay`` (the fast path, when no callback acts between steps): a snapshot once per
      epoch, at its first step, plus the list of the batches trained since. Rolling back
      restores the snapshot and trains those batches again but the last: the same kernels
      on the same buffers give the same bits. Per step this costs one list append; the
      price is paid only when training diverges (at most one epoch of steps, replayed
      with a weight check after each update, so an earlier update that made a weight
      non-finite is found and undone too).
    - otherwise (a module, optimizer or callback of your own, which replay could not
      reproduce exactly): a snapshot before every update, and the weights checked after it.

    ``check_weights`` is off when a weight was not finite before training (a -inf bias that
    switches a class off is an exact limit, and training keeps it). It is asked only where
    a check found a weight that is not finite (finite weights are fine either way), so
    the weights training began with are scanned only then: from the weights themselves
    while no update has been applied, else from the call's first snapshot (which holds
    them), and before that snapshot is first taken again.
    """

    def __init__(self, step: Any, params: list[Parameter], optimizer: Any, replay: bool):
        self.step, self.params, self.optimizer, self.replay = step, params, optimizer, replay
        kept = getattr(step, "weight_checks", None)  # (a fast step keeps them from call to call)
        self._checks = WeightChecks([p.value for p in params]) if kept is None else kept
        # a fast step keeps its last call's snapshot too: the first one re-takes it in place
        self._keeps = hasattr(step, "snapshot")
        self._began_finite: bool | None = None  # every weight finite as training began
        self.snapshot: Snapshot | None = None
        self.since: list[np.ndarray] = []  # the batches whose updates followed the snapshot
        self.renew = True

    @property
    def check_weights(self) -> bool:
        """True if every weight was finite when training began (then updates are checked).
        (Asked where NumPy's "invalid" warning is off: fit's loop.)"""
        if self._began_finite is None:
            snapshot = self.snapshot  # (None: no update yet, the weights are those)
            began = self._checks if snapshot is None else snapshot.weight_checks()
            self._began_finite = began.all_finite()
        return self._began_finite

    def weights_wrong(self) -> bool:
        """True if a weight is not finite while every weight was finite when training
        began: what every weight check asks (the first scan only when this one fails)."""
        if self._began_finite is False:  # (known: nothing to check)
            return False
        return not self._checks.all_finite() and self.check_weights

    def weights_finite(self) -> bool:
        """True if every weight is finite (``WeightChecks``).
        (Called where NumPy's "invalid" warning is off: fit's loop.)"""
        return self._checks.all_finite()

    def before_step(self, idx: np.ndarray) -> None:
        """Called with the batch whose update is about to be applied (its loss was finite)."""
        if self.renew or not self.replay:
            if self.snapshot is None:
                self.snapshot = self._first_snapshot()
            else:
                if self._began_finite is None:  # (the first snapshot: the weights began so)
                    self._began_finite = self.snapshot.weight_checks().all_finite()
                self.snapshot.take()
            self.since = []
            self.renew = False
        self.since.append(idx)

    def _first_snapshot(self) -> Snapshot:
        """The call's first snapshot: the step's kept one re-taken in place when it still
        records these parameters and optimizer arrays, else a new one (kept by a fast step
        for its next call)."""
        step = self.step
        kept: Snapshot | None = step.snapshot if self._keeps else None
        if kept is not None and kept.records(self.params, self.optimizer):
            kept.take()
            return kept
        snapshot = Snapshot(self.params, self.optimizer)
        if self._keeps:
            step.snapshot = snapshot
        return snapshot

    def rollback(self) -> int | None:
        """Undo the last update (and, found by replay, an earlier one that made a weight
        non-finite). Returns how many of the latest step losses belong to undone steps, or
        None when no update has been applied (the weights are those training started with)."""
        if self.snapshot is None or not self.since:
            return None
        self.snapshot.restore()
        again = self.since[:-1]
        self.since, self.renew = [], True
        step = self.step
        for k, idx in enumerate(again):
            xb, tb, _ = step.batch(idx)
            step.loss(step.forward(xb), tb)
            step.backward()
            before = Snapshot(self.params, self.optimizer) if self.check_weights else None
            step.step()
            if before is not None and not self.weights_finite():
                before.restore()
                return len(again) - k
        return 0


class WeightChecks:
    """Whether weights are finite, in one pass each: a small contiguous value is dotted
    flat with zeros (0 * w is 0 for finite w, NaN for NaN or inf), any other goes to
    ``blas.all_finite`` (a large one: the BLAS's sum of |w|, one pass on its threads).
    Valid while the values are those arrays: ``fast.FastStep`` keeps its checks for every
    call it serves (it serves only the very values it was built for)."""

    def __init__(self, values: list[np.ndarray]):
        small = [v.size <= DOT_CHECK_MAX and v.flags.c_contiguous for v in values]
        self.flats = [*map(_FLAT, itertools.compress(values, small))]
        self.zeros = [_shared_zeros(v.size, v.dtype) for v, s in zip(values, small) if s]
        self.others = [*itertools.compress(values, map(operator.not_, small))]

    def all_finite(self) -> bool:
        # (C-level maps: no Python line per weight)
        return not any(map(math.isnan, map(_DOT, self.flats, self.zeros))) and all(
            map(blas.all_finite, self.others)
        )


_FLAT = operator.methodcaller("reshape", -1)
_FIRST = operator.itemgetter(0)
_STATE_ARRAYS = itertools.chain.from_iterable
_DOT = np.ndarray.dot  # (np.dot's dispatch costs 0.15 us a call)


@functools.lru_cache(maxsize=64)
def _shared_zeros(size: int, dtype: np.dtype) -> np.ndarray:
    """Zeros to dot a flat array with, shared by every guard: one read-only array per
    size (up to ``DOT_CHECK_MAX``) and dtype."""
    zeros = np.zeros(size, dtype)
    zeros.flags.writeable = False
    return zeros


# --- why weights are bad -------------------------------------------------------------------


def end_of_epoch_problem(
    guard: DivergenceGuard,
    model: Module,
    loss: Loss,
    validation_data: tuple[np.ndarray, np.ndarray] | None,
    metric_fns: dict[str, Metric],
) -> str | dict[str, float] | None:
    """Why the weights at the end of an epoch are bad (a reason), else the validation scores
    (or None without validation data)."""
    if guard.weights_wrong():
        return WEIGHT_NOT_FINITE
    if validation_data is None:
        return None
    try:
        X_val, y_val = validation_data
        val = evaluate(model, loss, X_val, y_val, metric_fns)
    except NonFiniteError as exc:
        return f"on the validation data, {exc}"
    if not math.isfinite(val["loss"]):
        return f"the validation loss is {val['loss']}"
    return val


def final_problem(
    step: Step,
    guard: DivergenceGuard,
    outputs_name: str,
    weights_checked: bool = False,
    loss: Loss | None = None,
) -> str | None:
    """Why the final weights are bad, tried on the last batch trained: a non-finite weight,
    output or loss; None if they are fine. ``weights_checked``: the weights were found
    finite since the last update (at the end of its epoch), so only the batch is tried.
    ``loss``: the loss the step computes when its verdict may be had without its value
    (``surely_finite_loss``; the fast step's kernels, no L2 term)."""
    if not weights_checked and guard.weights_wrong():
        return WEIGHT_NOT_FINITE
    xb, tb, _ = step.batch(guard.since[-1])
    try:
        outputs = step.forward(xb)
        if loss is not None and surely_finite_loss(loss, outputs, tb):  # (no value needed)
            return None
        value = step.loss(outputs, tb)
    except NonFiniteError as exc:
        return str(exc)
    return None if math.isfinite(value) else why_not_finite(outputs, outputs_name, value)


def surely_finite_loss(loss: Loss, outputs: np.ndarray, target: Any) -> bool:
    """True when the fast step's loss of ``outputs`` (N, C) is finite for sure, without
    computing it (the final check needs the verdict only): the built-in softmax
    cross-entropy on labels (N,), and every |z| <= max / (4 N). Then each row's loss,
    (m - z_k) + log1p(s) with s < C (``fast_losses.SoftmaxCEKernel``), is at most
    max / (2 N) + log C, and their sum at most max / 2 + N log C: finite, with no NaN on
    the way. False means "compute it": another loss or target (soft, weighted), a NaN or
    inf in z, or a larger |z|."""
    largest = _LARGEST.get(outputs.dtype)
    if not (
        type(loss) is SoftmaxCrossEntropyLoss
        and type(target) is np.ndarray
        and target.ndim == 1
        and outputs.ndim == 2
        and largest is not None
    ):
        return False
    bound = largest / (4 * len(outputs))
    # (a NaN fails both comparisons; the two reductions are C calls, ~1 us together)
    low, high = np.minimum.reduce(outputs, None), np.maximum.reduce(outputs, None)
    return bool(-bound <= low and high <= bound)


_LARGEST = {np.dtype(t): float(np.finfo(t).max) for t in (np.float32, np.float64)}


def record_divergence(ctx: Any, where: str, reason: str, undone: int | None) -> None:
    """Record divergence in ``ctx.history`` (``fit`` warns with the message). ``undone``: what
    ``DivergenceGuard.rollback`` returned."""
    history = ctx.history
    if undone is None:
        kept = "the weights it had before (no update had been applied)"
    else:
        if undone:
            del history.step_loss[-undone:]
        kept = (
            f"the weights of step {len(history.step_loss)}, the last whose loss and outputs "
            "were finite (the optimizer state goes with them)"
        )
    lr = getattr(ctx.optimizer, "lr", None)
    hint = f" (now {lr:g})" if isinstance(lr, (int, float)) else ""
    history.stop_reason = "diverged"
    history.message = (
        f"training diverged at epoch {ctx.epoch + 1}, {where}: {reason}. "
        f"Stopped; the model keeps {kept}. Try a smaller learning rate{hint}."
    )


def why_not_finite(outputs: np.ndarray, name: str, value: float) -> str:
    """The reason a step's loss is not finite: the outputs' first NaN/inf, or the loss itself."""
    try:
        check_finite(outputs, name)
    except NonFiniteError as exc:
        return str(exc)
    return f"the loss is {value}"


# --- the snapshot --------------------------------------------------------------------------


class Snapshot:
    """The parameters' values and the optimizer's state at one moment, restorable in place.

    The optimizer's state is every attribute but ``params`` (for the built-in optimizers:
    ``state``, ``t`` and the hyperparameters, so a learning rate changed by a callback comes
    back too); parameters it refers to are kept by reference, never copied. For the built-in
    types (which never rebind their state arrays) the arrays are copied into buffers kept
    from one snapshot to the next, and the other attributes, numbers, by a shallow copy;
    anything else is deep-copied.
    """

    def __init__(self, params: list[Parameter], optimizer: Any):
        self.params, self.optimizer = params, optimizer
        self.values = [p.value.copy() for p in params]
        self.builtin = type(optimizer) in (SGD, Adam, RMSProp)
        if self.builtin:
            self.arrays = [(a, a.copy()) for s in optimizer.state for a in s.values()]
        self.opt = self._optimizer_state()
        self._checks: WeightChecks | None = None

    def records(self, params: list[Parameter], optimizer: Any) -> bool:
        """True if ``take`` records these parameters and this built-in optimizer with the
        same state arrays (a state rebound since needs a snapshot of its own). The values
        are the caller's to vouch for: a fast step keeps a snapshot for the very values,
        shapes and dtypes it serves (``fast_pieces.KeptPieces.serves``)."""
        if not (self.builtin and optimizer is self.optimizer and params == self.params):
            return False
        arrays = [*_STATE_ARRAYS(map(dict.values, optimizer.state))]
        kept = self.arrays
        return len(arrays) == len(kept) and all(map(operator.is_, arrays, map(_FIRST, kept)))

    def weight_checks(self) -> WeightChecks:
        """``WeightChecks`` of the recorded values (made once)."""
        if self._checks is None:
            self._checks = WeightChecks(self.values)
        return self._checks

    def _optimizer_state(self) -> dict[str, Any]:
        state = dict(vars(self.optimizer))  # (a copy, then two keys out: no Python loop)
        state.pop("params", None)
        if self.builtin:
            state.pop("state", None)
            return state
        memo: dict[int, Any] = {id(p): p for p in self.params}
        return copy.deepcopy(state, memo)

    def take(self) -> None:
        """Record the current state (reusing the arrays of the last one; ``keep[...] = a``
        copies as ``np.copyto`` does, without its Python-level dispatch)."""
        for keep, p in zip(self.values, self.params):
            keep[...] = p.value
        if self.builtin:
            for a, keep in self.arrays:
                keep[...] = a
        self.opt = self._optimizer_state()

    def restore(self) -> None:
        """Write the recorded state back into the same arrays and attributes."""
        for p, keep in zip(self.params, self.values):
            np.copyto(p.value, keep)
        if self.builtin:
            for a, keep in self.arrays:
                np.copyto(a, keep)
        for name, saved in self.opt.items():
            setattr(self.optimizer, name, _put_back(getattr(self.optimizer, name, None), saved))


def _put_back(current: Any, saved: Any, seen: set[int] | None = None) -> Any:
    """``saved`` written into ``current``'s arrays, containers and objects where they match
    (so that every reference to them stays valid); a fresh copy of it where they do not."""
    seen = set() if seen is None else seen
    if current is saved or id(current) in seen:
        return current
    if isinstance(current, np.ndarray) and isinstance(saved, np.ndarray):
        if current.shape == saved.shape and current.dtype == saved.dtype:
            np.copyto(current, saved)
            return current
        return saved.copy()
    seen.add(id(current))
    if isinstance(current, dict) and isinstance(saved, dict) and current.keys() == saved.keys():
        for k in saved:
            current[k] = _put_back(current[k], saved[k], seen)
        return current
    if isinstance(current, list) and isinstance(saved, list) and len(current) == len(saved):
        for i, s in enumerate(saved):
            current[i] = _put_back(current[i], s, seen)
        return current
    if type(current) is type(saved) and hasattr(saved, "__dict__") and not isinstance(saved, type):
        for k, v in vars(saved).items():
            setattr(current, k, _put_back(getattr(current, k, None), v, seen))
        return current
    return copy.deepcopy(saved)
