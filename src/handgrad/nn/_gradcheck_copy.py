"""gradcheck's float64 twin of a model: finite differences need float64, models may be float32.

A float32 model (or batch) is deep-copied and every floating array, dtype and Parameter in
the copy becomes float64; the caller's model is never touched. Any module following the
protocol copies this way; one that cannot (a deepcopy that fails, an output that stays
float32) gets an error naming it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
from numpy.typing import ArrayLike

from .layers import Identity, LeakyReLU, Linear, Module, Parameter, ReLU, Sequential, Sigmoid, Tanh

__all__ = [
    "check_backward",
    "check_function",
    "check_loss",
    "float64_problem",
    "layer_outputs",
    "learner_outputs",
    "named_parameters",
    "nudged",
]
# built-in layers that never bend unseen: affine or smooth, or probed through ``kink``
SEEN = (Linear, Identity, Tanh, Sigmoid, ReLU, LeakyReLU)
T = TypeVar("T")

NOTE = "the {dtype} model was checked on a float64 copy of it and of the batch (itself untouched)"


def float64_problem(
    model: Module, X: ArrayLike, y: ArrayLike
) -> tuple[Module, np.ndarray, np.ndarray, str]:
    """(model, X, y) ready for finite differences, and a note when the model was copied.

    The batch always becomes a float64 array (a float64 model computes in float64 anyway);
    the model is copied only when a parameter is not float64."""
    X = np.asarray(X)
    low = sorted({str(p.value.dtype) for p in model.parameters()} - {"float64"})
    y = np.asarray(y)
    if y.dtype.kind == "f":
        y = y.astype(np.float64)
    if X.dtype.kind in "fiub":
        X = X.astype(np.float64)
    if not low:
        _check_outputs(model, X, "on float64 input")
        _check_precision(model, X)
        return model, X, y, ""
    twin = _copy(model)
    _check_twin(twin, X)
    _check_precision(twin, X)
    return twin, X, y, NOTE.format(dtype="/".join(low))


def _leaves(model: Module, prefix: str = "") -> list[tuple[str, Module]]:
    """("0", Linear), ("1.2", ReLU), ...: every module that is not a Sequential, with its
    path (each Sequential, nested ones included, adds its index); ("", model) for a bare one."""
    if isinstance(model, Sequential):
        return [
            leaf for i, layer in enumerate(model.layers) for leaf in _leaves(layer, f"{prefix}{i}.")
        ]
    return [(prefix.rstrip("."), model)]


def named_parameters(model: Module) -> list[tuple[str, Parameter]]:
    """("0.weight", p), ... as ``Sequential.named_parameters`` names them; a Sequential nested
    in another adds its index ("0.2.weight"), and parameters without a name, or sharing one
    inside their module, are named by position ("3.0", "3.1"): each name is unique."""
    named = []
    for path, module in _leaves(model):
        params = module.parameters()
        names = [p.name for p in params]
        if "" in names or len(set(names)) < len(names):
            names = [str(k) for k in range(len(params))]
        named += [(f"{path}.{name}" if path else name, p) for name, p in zip(names, params)]
    return named


def layer_outputs(model: Module, X: np.ndarray) -> list[np.ndarray]:
    """The output of every layer on X, in order (``model.forward(X)`` is the last one)."""
    outputs = []
    for _, layer in _leaves(model):
        X = layer.forward(X)
        outputs.append(X)
    return outputs


def learner_outputs(model: Module, X: np.ndarray) -> list[np.ndarray]:
    """The outputs of the layers whose kinks only their outputs can show: every layer but the
    built-in ones (``SEEN``; a subclass counts as the learner's). A built-in Linear's output
    never bends, yet computed with cancellation (terms ~1e8, output ~1e5) its rounding
    passed for a bend, and a weight-gradient entry of 41,394 zeroed was excused as a kink."""
    outputs = []
    for _, layer in _leaves(model):
        X = layer.forward(X)
        if type(layer) not in SEEN:
            outputs.append(X)
    return outputs


def _layers(model: Module) -> list[tuple[str, Module]]:
    """("layer 1.2 (ReLU)", module), ...: each module as an error message names it."""
    return [
        (f"layer {path} ({type(m).__name__})" if path else type(m).__name__, m)
        for path, m in _leaves(model)
    ]


def _copy(model: Module) -> Module:
    try:
        twin = copy.deepcopy(model)
    except Exception as exc:
        culprit = "the model"
        for label, layer in _layers(model):
            try:
                copy.deepcopy(layer)
            except Exception:
                culprit = label
                break
        raise TypeError(
            f"gradcheck: {culprit} cannot be copied to float64 for the check "
            f"(copy.deepcopy raised {type(exc).__name__}: {exc}); finite differences need "
            "float64: make it copyable, or build it in float64 and check that"
        ) from exc
    _to_float64(twin, {})
    return twin


def _to_float64(obj: Any, seen: dict[int, Any]) -> Any:
    """``obj`` with every floating array / dtype inside it made float64 (in place where it can)."""
    if id(obj) in seen:
        return seen[id(obj)]
    out: Any
    if isinstance(obj, np.ndarray):
        out = obj.astype(np.float64) if obj.dtype.kind == "f" else obj
    elif isinstance(obj, np.dtype):
        out = np.dtype(np.float64) if obj.kind == "f" else obj
    elif isinstance(obj, type) and issubclass(obj, np.floating):
        out = np.float64
    elif isinstance(obj, Parameter):
        seen[id(obj)] = obj
        obj.value = _to_float64(obj.value, seen)
        obj.grad = _to_float64(obj.grad, seen)
        return obj
    elif isinstance(obj, Module):
        seen[id(obj)] = obj
        for key, value in vars(obj).items():
            setattr(obj, key, _to_float64(value, seen))
        return obj
    elif isinstance(obj, list):
        seen[id(obj)] = obj
        obj[:] = [_to_float64(v, seen) for v in obj]
        return obj
    elif isinstance(obj, dict):
        seen[id(obj)] = obj
        for key in list(obj):
            obj[key] = _to_float64(obj[key], seen)
        return obj
    elif isinstance(obj, tuple):
        out = tuple(_to_float64(v, seen) for v in obj)
    else:
        out = obj
    seen[id(obj)] = out
    return out


def _check_twin(twin: Module, X: np.ndarray) -> None:
    """Every parameter, and every layer's output on the batch, is float64 in the copy."""
    for name, p in named_parameters(twin):
        if p.value.dtype != np.float64 or p.grad.dtype != np.float64:
            raise TypeError(
                f"gradcheck: parameter {name} stays {p.value.dtype} after the float64 copy "
                "(its module fixes the dtype somewhere the copy cannot change); finite "
                "differences need float64"
            )
    _check_outputs(twin, X, "on the float64 copy")


def nudged(arrays: list[np.ndarray], look: Callable[[], T], size: float = 1e-2) -> T | None:
    """``look()`` with every array moved by ~``size`` of itself (plus size / 100) along a
    random direction, the arrays restored after; None if it raised on an overflow there
    (weights ~1e150)."""
    originals = [x.copy() for x in arrays]
    rng = np.random.default_rng(0)
    try:
        for x, x0 in zip(arrays, originals):
            x[...] = x0 + size * (np.abs(x0) + 1e-2) * rng.uniform(-1.0, 1.0, x0.shape)
        with np.errstate(all="ignore"):
            return look()
    except (ValueError, ArithmeticError):
        return None
    finally:
        for x, x0 in zip(arrays, originals):
            x[...] = x0


def _check_precision(model: Module, X: np.ndarray) -> None:
    """No layer rounds inside: a layer whose float64 output is made of float16 or float32
    numbers (it casts down inside, ``x.astype(np.float32)``, and back up) turns the loss into
    a staircase whose steps look like kinks everywhere, so a wrong backward is excused as
    one. Seen by moving every parameter by ~1 % along a random direction: the output values
    that change are all float16 (float32) numbers, and not all integers (a step function)."""
    before = layer_outputs(model, X)
    after = nudged([p.value for p in model.parameters()], lambda: layer_outputs(model, X))
    if after is None:
        return
    for (label, _), old, new in zip(_layers(model), before, after):
        old, new = np.asarray(old), np.asarray(new)
        if new.shape != old.shape or new.size == 0:
            continue
        moved = new[old != new]
        moved = moved[~_short(moved) & (np.abs(moved) > 1e-8 * np.abs(new).max())]
        if moved.size == 0:  # nothing moved, or integers (a step), or residues of 0 sums,
            continue  # or a constant a saturated unit reaches (-0.5 for an ELU with α = 0.5)
        for low in (np.float16, np.float32):
            with np.errstate(all="ignore"):
                exact = np.all(moved.astype(low).astype(np.float64) == moved)
            if exact:
                raise TypeError(
                    f"gradcheck: {label} rounds its output to {np.dtype(low).name} (it returns "
                    f"float64 arrays, but every value it computes is a {np.dtype(low).name} "
                    "number: a cast inside it); the rounding makes the loss a staircase "
                    "whose steps finite differences take for kinks: make it compute in its "
                    "input's dtype (x.dtype)"
                )


def _short(values: np.ndarray) -> np.ndarray:
    """Which values have at most 4 significant bits (integers below 16, ±0.5, 0.75, 2^k...):
    the constants a saturated smooth unit reaches exactly in float64 (α (e^x - 1) -> -α),
    which a float16 or float32 number also is. A layer that casts down inside gives values
    with 11 or 24 random significant bits, almost never this few."""
    mantissa, _ = np.frexp(values)
    return np.asarray((mantissa * 16 == np.round(mantissa * 16)) | (values == np.round(values)))


def check_backward(model: Module, X: np.ndarray) -> None:
    """Backward computes in float64: each layer, given a random dL/dy (full 53-bit numbers)
    after a forward on X, returns a float64 dL/dx and writes float64 .grad values that are
    not all float32 numbers. A backward that returns or computes in float32 is right math
    rounded to 1e-7; in sums that cancel the rounding grows, and the check FAILED it (17 of
    20 correct networks with a tanh whose backward returned float32). The upstream gradient
    is random, not the loss's, whose saturated or fitted terms (p - y ~ 1e-16) carry only a
    few bits, as float32 numbers do. The parameters' .grad are restored."""
    layers = _layers(model)
    params = [p for _, layer in layers for p in layer.parameters()]
    kept = [(p.grad, p.grad.copy()) for p in params]
    names = {id(p): name for name, p in named_parameters(model)}
    rng = np.random.default_rng(0)
    try:
        for (label, layer), y in zip(layers, layer_outputs(model, X)):
            dx = layer.backward(rng.standard_normal(np.shape(y)))
            _full_precision_array(dx, f"{label}'s backward returns")
            for p in layer.parameters():
                if p.value.dtype == np.float64:  # else gradcheck names the parameter itself
                    _full_precision_array(
                        p.grad, f"{label}'s backward computes {names[id(p)]}.grad in"
                    )
    finally:
        for p, (grad, values) in zip(params, kept):
            p.grad = grad
            grad[...] = values


def check_loss(loss: Any, prediction: np.ndarray, y: np.ndarray) -> float:
    """The loss computes in float64: at three predictions of the model's shape (the model's
    own with every entry moved by ~1 %, the model's plus standard normal noise, and that
    noise alone) its value and dL/d(prediction) are float64, and its values are not all
    float32 numbers. A learner's Loss that rounds to float32 inside
    (``prediction.astype(np.float32)``) makes every loss value carry ~1e-7 of rounding:
    the noise measure widens every tolerance to match, and a weight gradient 1 % off
    PASSED. At moved predictions a float64 loss is a full 53-bit number (at the model's
    own predictions a fitted loss is a sum of few-bit residues, and a saturated one a
    difference from 1, so those are not used); a value that is an integer (0 for a loss
    saturated everywhere), not finite, or raises says nothing. The loss keeps the state of
    the last call: gradcheck calls forward again before any backward.

    Returns the loss's scale: the largest finite |value| at those predictions (its size
    where it is not saturated; ``flat_allowed``)."""
    rng = np.random.default_rng(0)
    noise = rng.standard_normal(prediction.shape)
    nudge = 1e-2 * (np.abs(prediction) + 1e-2) * rng.uniform(-1.0, 1.0, prediction.shape)
    values, scale = [], 0.0
    for moved in (prediction + nudge, prediction + noise, noise):
        try:
            with np.errstate(all="ignore"):
                value, grad = loss.forward(moved, y), loss.backward()
        except (ValueError, ArithmeticError):
            continue
        for what, a in ((" returns a {} value", value), ("'s backward returns {}", grad)):
            low = getattr(a, "dtype", np.dtype(np.float64))
            if low.kind == "f" and low != np.float64:
                _loss_in(loss, what.format(low))
        if np.isfinite(value):
            scale = max(scale, abs(float(value)))
        if np.isfinite(value) and float(value) != round(float(value)):
            values.append(float(value))
    if len(values) > 1 and all(float(np.float32(v)) == v for v in values):
        _loss_in(loss, " rounds to float32 inside (each value it returns is a float32 number)")
    return scale


MOVES = (1e-2, 1e-1, 1.0, 10.0)  # check_function's moves of the parameters, relative


def check_function(f: Callable[[], Any], arrays: list[np.ndarray]) -> float:
    """The callable form's ``check_loss``: f() computes in float64. Refused: a value with a
    float16/float32 dtype at θ, or values at the parameters moved by 1 %, 10 %, 100 % and
    1000 % of themselves (both ways along a random direction) that are all float32
    numbers, at least two of them and none of 4 significant bits or fewer (constants a
    saturated loss reaches exactly). A float64 function of moved parameters is a full
    53-bit number; f at θ itself is not used (a fitted loss is a few-bit residue there).
    Returns f's scale: the largest finite |f| at θ and at the moved parameters (its size
    where it is not saturated; ``flat_allowed``)."""
    value = f()
    low = getattr(value, "dtype", np.dtype(np.float64))
    if low.kind == "f" and low != np.float64:
        _function_in(f"returns a {low} value")
    at_theta = float(value)
    values = [at_theta]
    for size in (c * sign for c in MOVES for sign in (1.0, -1.0)):
        v = nudged(arrays, f, size)
        values.append(np.nan if v is None else float(v))
    moved = np.array([v for v in values[1:] if np.isfinite(v) and v != at_theta])
    moved = moved[~_short(moved)]
    if moved.size > 1 and np.all(moved.astype(np.float32).astype(np.float64) == moved):
        _function_in(
            "rounds to float32 inside (its value at parameters moved by 1 % to 1000 % is a "
            "float32 number each time)"
        )
    return max((abs(v) for v in values if np.isfinite(v)), default=0.0)


def _function_in(what: str) -> None:
    raise TypeError(
        f"gradcheck: f {what}; each loss value then carries that rounding, which the check "
        "takes for noise and widens every tolerance to match, so a wrong gradient could PASS: "
        "compute f from the float64 arrays in float64"
    )


def _loss_in(loss: Any, what: str) -> None:
    why = (
        "finite differences resolve a float64 gradient to far more digits than that "
        "rounding keeps, so right math FAILS"
        if what.startswith("'s backward")
        else "each loss value then carries that rounding, which the check takes for noise "
        "and widens every tolerance to match, so a wrong backward could PASS"
    )
    raise TypeError(
        f"gradcheck: the loss ({type(loss).__name__}){what} on float64 predictions; {why}: "
        "make it compute in "
        "its prediction's dtype (prediction.dtype)"
    )


def _full_precision_array(a: Any, what: str) -> None:
    """``a`` (if a float array) is float64, and its non-integer values above 1e-8 of its
    largest are not all float32 numbers (smaller ones may be residues of sums that are 0)."""
    if not isinstance(a, np.ndarray) or a.dtype.kind != "f" or a.size == 0:
        return
    low = None if a.dtype == np.float64 else a.dtype
    if low is None:
        sizable = a[(a != np.round(a)) & (np.abs(a) > 1e-8 * np.nanmax(np.abs(a)))]
        if sizable.size and np.all(sizable.astype(np.float32) == sizable):
            low = np.dtype(np.float32)
    if low is not None:
        raise TypeError(
            f"gradcheck: {what} {low} on float64 input; finite differences resolve a float64 "
            "gradient to far more digits than that rounding keeps: make it compute in its "
            "gradient's dtype (grad.dtype)"
        )


def _check_outputs(model: Module, X: np.ndarray, where: str) -> None:
    """Every layer's output on the batch is float64: a layer that rounds to float32 (or
    float16) makes each loss value carry ~1e-7 (1e-3) of rounding, which no step of a
    finite difference resolves to a float64 gradient's digits."""
    x = X
    for label, layer in _layers(model):  # a nested Sequential runs its layers in this order
        x = layer.forward(x)
        dtype = getattr(x, "dtype", None)
        if dtype != np.float64:
            raise TypeError(
                f"gradcheck: {label} returns {dtype} {where} (it fixes its dtype somewhere "
                "gradcheck cannot change); finite differences need float64 throughout: "
                "make it compute in its input's dtype (x.dtype), or check it alone in float64"
            )
