"""fit's per-call shortcuts keep every promise.

- The model's cached fast step is taken again, without ``supports``, only for the very
  pieces it was built for: a method set on an instance, or a parameter's value rebound to
  an array the fast path refuses, sends the call down the reference path, with the same
  bits as if nothing had been cached, and the cache stays as it was.
- The divergence guard's weight check finds NaN and inf in small and large weights of
  both dtypes (large ones by the engine's one-pass sum) and accepts huge finite ones.
- The constraints' short cut for plain ``int``/``float`` accepts and refuses exactly what
  the general check does.
"""

from __future__ import annotations

import math
import numbers
from fractions import Fraction
from typing import Any

import numpy as np
import pytest

import handgrad as hg
from handgrad.nn.constraints import Integer, Real, check
from handgrad.nn.layers import Parameter
from handgrad.train import fast, steps
from handgrad.train.guard import DivergenceGuard


def _setup(rows: int = 60):
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((rows, 6)), rng.integers(0, 3, rows)
    model = hg.mlp([6, 8, 3], "relu", seed=0)
    return model, hg.SoftmaxCrossEntropyLoss(), hg.SGD(model.parameters(), lr=0.1), X, y


def _patch_forward(model, loss, opt, calls):
    layer = model.layers[0]
    original = layer.forward

    def forward(x):
        calls.append(len(x))
        return original(x)

    layer.forward = forward
    return lambda: delattr(layer, "forward")


def _patch_backward(model, loss, opt, calls):
    original = loss.backward

    def backward():
        calls.append(1)
        return original()

    loss.backward = backward
    return lambda: delattr(loss, "backward")


def _patch_step(model, loss, opt, calls):
    original = opt.step

    def step():
        calls.append(1)
        original()

    opt.step = step
    return lambda: delattr(opt, "step")


@pytest.mark.parametrize("patch", [_patch_forward, _patch_backward, _patch_step])
def test_a_method_set_on_an_instance_after_a_cached_call_is_called(patch):
    """The first call caches a fast step; a method set on an instance afterwards must be
    called (the reference path), the cached step must stay for the call after, and every
    result equals that of runs with the cache emptied before each call."""
    results = []
    for clear in (False, True):
        model, loss, opt, X, y = _setup()
        hg.fit(model, loss, opt, X, y, epochs=1, batch_size=16, seed=0)
        first = fast._CACHE.get(model)
        assert first is not None
        if clear:
            fast._CACHE.clear()
        calls: list[int] = []
        undo = patch(model, loss, opt, calls)
        history = hg.fit(model, loss, opt, X, y, epochs=1, batch_size=16, seed=1)
        assert len(calls) >= 4  # every step went through the patched method
        if not clear:
            assert fast._CACHE.get(model) is first  # untouched by the reference call
        undo()
        if clear:
            fast._CACHE.clear()
        again = hg.fit(model, loss, opt, X, y, epochs=1, batch_size=16, seed=2)
        if not clear:
            assert fast._CACHE.get(model) is first  # taken and given back
        results.append(
            (history.step_loss, again.step_loss, [p.value.copy() for p in model.parameters()])
        )
    (a_steps, a_again, a_weights), (b_steps, b_again, b_weights) = results
    assert a_steps == b_steps and a_again == b_again
    for a, b in zip(a_weights, b_weights):
        np.testing.assert_array_equal(a, b)


def _rebind(p: Parameter, how: str) -> None:
    if how == "fortran":
        p.value = np.asfortranarray(p.value)
    elif how == "strided":
        wide = np.zeros((p.value.shape[0], 2 * p.value.shape[1]))
        wide[:, ::2] = p.value
        p.value = wide[:, ::2]
    elif how == "float32":
        p.value = p.value.astype(np.float32)
    else:  # another plain array, equal
        p.value = p.value.copy()


@pytest.mark.parametrize("how", ["fortran", "strided", "float32", "plain copy"])
def test_a_value_rebound_between_calls_is_decided_afresh(how, monkeypatch):
    """A weight rebound to an F-ordered, strided or float32 array is refused by
    ``supports``: the call takes the reference path as it would without a cache (which
    stays as it was); a plain copy gets a fast step of its own (the cached one's weight
    checks look at the old array). The weights and losses equal those with the cache
    emptied."""
    references = []

    class Recorded(steps.ReferenceStep):
        def __init__(self, *args):
            references.append(self)
            super().__init__(*args)

    monkeypatch.setattr(steps, "ReferenceStep", Recorded)
    results = []
    for clear in (False, True):
        model, loss, opt, X, y = _setup()
        hg.fit(model, loss, opt, X, y, epochs=1, batch_size=16, seed=0)
        first = fast._CACHE.get(model)
        _rebind(model.parameters()[0], how)
        if clear:
            fast._CACHE.clear()
        references.clear()
        history = hg.fit(model, loss, opt, X, y, epochs=2, batch_size=16, seed=1)
        assert len(references) == (how != "plain copy")
        if not clear:
            assert (fast._CACHE.get(model) is first) == (how != "plain copy")
        if how == "plain copy":  # the new step's weight checks see the new array
            checked = fast._CACHE[model].weight_checks.flats[0]
            assert np.shares_memory(checked, model.parameters()[0].value)
        results.append((history.step_loss, [p.value.copy() for p in model.parameters()]))
    assert results[0][0] == results[1][0]
    for a, b in zip(results[0][1], results[1][1]):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_the_weight_checks_a_cached_step_keeps_see_values_written_in_place(bad):
    """The guard of a call served by the cached step checks the step's kept views of the
    values: a weight written in place between calls is seen, in any parameter."""
    model, loss, opt, X, y = _setup()
    hg.fit(model, loss, opt, X, y, epochs=1, batch_size=16, seed=0)
    step = fast._CACHE[model]
    for p in model.parameters():
        keep = p.value.flat[-1]
        p.value.flat[-1] = bad
        with np.errstate(invalid="ignore"):  # (as in fit)
            assert not DivergenceGuard(step, step.params, opt, True).check_weights
        p.value.flat[-1] = keep
        assert DivergenceGuard(step, step.params, opt, True).check_weights


def test_the_guard_is_given_the_steps_parameters():
    model, loss, opt, X, y = _setup()
    seen = {}

    class Look(hg.train.Callback):
        def on_train_begin(self, ctx):
            seen["params"] = ctx.model.parameters()

    hg.fit(model, loss, opt, X, y, epochs=1, seed=0, callbacks=[Look()])
    step = fast._CACHE[model]
    assert [id(p) for p in step.params] == [id(p) for p in seen["params"]]


class _Wrapped(hg.Module):
    """A model of your own around built-in layers (not a ``Sequential``)."""

    def __init__(self, inner):
        self.inner = inner

    def forward(self, x):
        return self.inner.forward(x)

    def backward(self, g):
        return self.inner.backward(g)

    def parameters(self):
        return self.inner.parameters()


class _LossOfMyOwn:
    """A loss with ``forward``/``backward`` only (no ``reduction``, not a ``Loss``)."""

    def forward(self, logits, y):
        self.shape, self.diff = logits.shape, logits[:, 0] - y
        return float(np.mean(self.diff**2))

    def backward(self):
        grad = np.zeros(self.shape)
        grad[:, 0] = 2 * self.diff / len(self.diff)
        return grad


class _StepOnly:
    """An optimizer that is a ``step`` and nothing else (no ``params``)."""

    def __init__(self, params):
        self._weights = params

    def step(self):
        for p in self._weights:
            p.value -= 0.05 * p.grad


@pytest.mark.parametrize("piece", ["module", "loss", "optimizer"])
def test_pieces_that_only_follow_the_protocol_train_after_a_cached_call(piece):
    """After a call that cached a fast step, a model, loss or optimizer of your own that
    has nothing but the protocol (a loss without ``reduction``, an optimizer without
    ``params``) trains on the reference path: the cache lookup asks nothing of pieces
    of other types."""
    model, loss, opt, X, y = _setup()
    hg.fit(model, loss, opt, X, y, epochs=1, batch_size=16, seed=0)
    assert fast._CACHE.get(model) is not None
    target = y
    if piece == "module":
        model = _Wrapped(model)
    elif piece == "loss":
        loss, target = _LossOfMyOwn(), y.astype(float)
    else:
        opt = _StepOnly(model.parameters())
    history = hg.fit(model, loss, opt, X, target, epochs=2, batch_size=16, seed=1)
    assert len(history.step_loss) == 8 and all(map(math.isfinite, history.step_loss))


# --- the guard's weight check ---------------------------------------------------------------


def _guard(*values: np.ndarray) -> Any:
    params = [Parameter(v) for v in values]
    return _Quiet(DivergenceGuard(None, params, hg.SGD(params, lr=0.1), True))


class _Quiet:
    """The guard, asked as inside fit (NumPy's "invalid" and "over" warnings off)."""

    def __init__(self, guard: DivergenceGuard):
        self.guard = guard

    def __getattr__(self, name: str) -> Any:
        with np.errstate(invalid="ignore", over="ignore"):
            return getattr(self.guard, name)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(7, 5), (100, 100), (300, 50)])  # small, and > 8192 elements
@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("where", [0, -1, 1234])
def test_the_guard_finds_any_non_finite_weight(dtype, shape, bad, where):
    w = np.ones(shape, dtype)
    w.reshape(-1)[where % w.size] = bad
    guard = _guard(np.zeros(3, dtype), w)
    assert guard.check_weights is False
    w.reshape(-1)[where % w.size] = 1.0
    with np.errstate(invalid="ignore", over="ignore"):
        assert guard.weights_finite() is True


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_guard_accepts_huge_finite_weights_whose_sum_overflows(dtype):
    huge = np.finfo(dtype).max / 2
    big = np.full((120, 100), huge, dtype)  # sums to inf: looked at closer, finite
    small = np.full(50, huge, dtype)
    guard = _guard(big, small)
    assert guard.check_weights is True
    big[5, 5] = -math.inf
    with np.errstate(invalid="ignore", over="ignore"):
        assert guard.weights_finite() is False


def test_the_guard_checks_strided_and_integer_weights():
    wide = np.ones((100, 200))
    strided = wide[:, ::2]  # 10,000 elements, not contiguous
    ints = np.arange(10_000).reshape(100, 100)
    guard = _guard(strided, ints)
    assert guard.check_weights is True
    wide[3, 4] = math.nan
    with np.errstate(invalid="ignore", over="ignore"):
        assert guard.weights_finite() is False


def test_fit_keeps_a_large_layer_with_a_minus_inf_weight_training_without_a_weight_check():
    """A weight that is not finite before training turns the weight check off (an exact
    limit the model keeps), for a layer beyond the dot-product size as for a small one."""
    rng = np.random.default_rng(3)
    X, y = np.abs(rng.standard_normal((40, 100))), rng.integers(0, 3, 40)
    model = hg.mlp([100, 100, 3], "relu", seed=0)
    model.layers[0].weight.value[:, 7] = -math.inf  # unit 7 is off for non-negative inputs
    model.layers[0].weight.value[0, 7] = -math.inf
    history = hg.fit(model, hg.SoftmaxCrossEntropyLoss(), hg.SGD(model.parameters(), lr=0.05),
                     X, y, epochs=2, batch_size=8, seed=0)  # fmt: skip
    assert history.stop_reason is None
    assert len(history.step_loss) == 10 and all(map(math.isfinite, history.step_loss))
    assert np.isneginf(model.layers[0].weight.value[:, 7]).all()


# --- constraints: the plain-number short cut --------------------------------------------------


def _integer_by_abc(value: Any) -> int:
    """What ``Integer.convert`` did before the short cut."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError
    return int(value)


def _real_by_abc(value: Any) -> float:
    """What ``Real.convert`` did before the short cut."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError
    try:
        return float(value)
    except OverflowError:
        return -math.inf if value < 0 else math.inf


class _MyInt(int):
    pass


class _MyFloat(float):
    pass


VALUES = [
    0, 1, -7, 2**70, -(2**1100), 2**1100, True, False, np.bool_(True), np.int64(3),
    np.int8(-2), np.uint64(2**63), np.intp(5), 0.5, -0.0, 1e308, math.nan, math.inf,
    -math.inf, np.float32(0.25), np.float64(2.0), np.float16(1.5), _MyInt(4), _MyFloat(2.5),
    Fraction(1, 3), 1j, "1", "0.5", None, [1], np.array(3), np.array([1.0]),
]  # fmt: skip


def _outcome(fn, value: Any) -> tuple[str, Any, type | None]:
    try:
        out = fn(value)
    except Exception as exc:  # noqa: BLE001  (the kind of failure is what is compared)
        return "raises", type(exc).__name__, None
    return "returns", repr(out), type(out)


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_integer_convert_is_the_abc_check(value):
    assert _outcome(Integer().convert, value) == _outcome(_integer_by_abc, value)


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_real_convert_is_the_abc_check(value):
    assert _outcome(Real().convert, value) == _outcome(_real_by_abc, value)


def test_the_short_cut_keeps_bools_out_numpy_integers_in_and_nan_refused():
    with pytest.raises(TypeError, match="epochs must be an integer >= 0, got True"):
        check(True, Integer(0), "epochs")
    assert check(np.int64(3), Integer(1), "epochs") == 3
    assert type(check(np.int64(3), Integer(1), "epochs")) is int
    assert check(7, Integer(1), "n") == 7
    with pytest.raises(ValueError, match="n must be an integer >= 1, got 0"):
        check(0, Integer(1), "n")
    with pytest.raises(ValueError, match="lr must be a finite number > 0, got nan"):
        check(math.nan, Real(0, low_open=True), "lr")
    with pytest.raises(ValueError, match="a finite number, got an integer of 332 digits"):
        check(2**1100, Real(), "x")  # beyond the float range
    assert type(check(3, Real(), "x")) is float
    with pytest.raises(TypeError, match="got False"):
        check(False, Real(), "x")


# --- the X check's large-array sum runs without np.errstate -----------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_einsum_sum_raises_no_warning_and_leaves_no_flag_behind(dtype):
    """surely_finite sums a large contiguous array by einsum without an errstate: inf - inf
    and an overflowing sum must raise nothing even where every warning raises, and leave
    nothing a later operation would report."""
    from handgrad.nn._checks import surely_finite

    opposite = np.full((100, 100), np.inf, dtype)
    opposite[::2] = -np.inf
    overflowing = np.full((100, 100), np.finfo(dtype).max, dtype)
    with np.errstate(all="raise"):
        assert surely_finite(opposite) is False
        assert surely_finite(overflowing) is False
        assert surely_finite(np.ones((100, 100), dtype)) is True
        np.testing.assert_array_equal(np.ones(4, dtype) + 1, np.full(4, 2, dtype))
        assert float(np.add.reduce(np.ones(9, dtype))) == 9.0


# --- as_float_array: a floating ndarray comes back as it is, at once --------------------------


def _as_float_array_before(x: Any, name: str, dtype: Any = None) -> np.ndarray:
    """``as_float_array`` as it was before the short cut for floating arrays."""
    if isinstance(x, np.ndarray) and x.dtype == dtype:
        return x
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be a numeric array: {exc}") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(f"{name} must be numeric, got an array of dtype {arr.dtype}")
    if np.issubdtype(arr.dtype, np.complexfloating):
        raise TypeError(f"{name} must be real, got complex dtype {arr.dtype}")
    if dtype is not None:
        return arr.astype(dtype, copy=False)
    if not np.issubdtype(arr.dtype, np.floating):
        return arr.astype(np.float64)
    return arr


class _Sub(np.ndarray):
    pass


ARRAYS = [
    np.ones(3, np.float16), np.ones((2, 3), np.float32), np.ones(3), np.ones(3, np.longdouble),
    np.ones((3, 2))[:, ::2], np.asfortranarray(np.ones((3, 2))), np.arange(4), np.ones(2, bool),
    np.ones(2, np.complex128), np.array(["a"]), np.array([1.0], dtype=object), np.float64(2.5),
    np.ma.masked_array([1.0, 2.0]), np.ones(2).view(_Sub), [1.0, 2.0], [[1, 2], [3]], 3.0,
    "text", None, np.ones(0),
]  # fmt: skip


@pytest.mark.parametrize("x", ARRAYS, ids=lambda x: type(x).__name__ + str(getattr(x, "dtype", "")))
@pytest.mark.parametrize("dtype", [None, np.float64, np.float32])
def test_as_float_array_returns_what_it_returned_before(x, dtype):
    from handgrad.nn._checks import as_float_array

    def outcome(fn):
        try:
            out = fn(x, "x", dtype)
        except Exception as exc:  # noqa: BLE001  (the failure itself is compared)
            return ("raises", type(exc).__name__, str(exc))
        return ("returns", type(out), out.dtype, out.shape, out is x, np.asarray(out).tolist())

    assert outcome(as_float_array) == outcome(_as_float_array_before)


# --- no reference cycle: a call's run is freed when it returns --------------------------------


# Measured in a process of its own: in the test process, threads that earlier tests left
# running (the session's Dask client, whose event loop makes garbage all the time) add their
# garbage to the collection that counts the call's (seen: 39 objects after tests/sweep).
_NO_GARBAGE = """
import gc, json
import numpy as np
import handgrad as hg

OPTIONS = {
    "plain": {},
    "metrics": {"metrics": ["accuracy"], "validation_fraction": 0.25},
    "callback": {"callbacks": [hg.train.EarlyStopping(patience=1)], "validation_fraction": 0.25},
    "reference": {"fast": False},
}
found = {}
for name, options in OPTIONS.items():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((60, 6)), rng.integers(0, 3, 60)
    model = hg.mlp([6, 8, 3], "relu", seed=0)
    loss, opt = hg.SoftmaxCrossEntropyLoss(), hg.SGD(model.parameters(), lr=0.1)
    hg.fit(model, loss, opt, X, y, epochs=2, batch_size=16, seed=0, **options)
    while gc.collect():  # until nothing is left: a collection can free what makes more
        pass
    gc.disable()
    try:
        history = hg.fit(model, loss, opt, X, y, epochs=2, batch_size=16, seed=0, **options)
        found[name] = [gc.collect(), len(history.step_loss)]
    finally:
        gc.enable()
print(json.dumps(found))
"""


@pytest.fixture(scope="module")
def garbage_of_a_call() -> dict[str, list[int]]:
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    source = str(Path(hg.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([source, os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-c", _NO_GARBAGE], capture_output=True, text=True, env=env, timeout=600
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("options", ["plain", "metrics", "callback", "reference"])
def test_a_fit_call_leaves_no_garbage_for_the_cycle_collector(garbage_of_a_call, options):
    """The callbacks' context refers to the run (its save_checkpoint), so fit drops the
    run's reference to the context at the end: nothing of a call (its snapshot of the
    weights, its batches) waits for the cycle collector, which would cost every later
    call its time."""
    found, steps_taken = garbage_of_a_call[options]
    assert found == 0
    assert steps_taken > 0


def test_the_context_a_callback_keeps_can_still_save_a_checkpoint(tmp_path):
    """A callback that kept the context can still write a checkpoint after fit returns
    (the context keeps the run alive; the run no longer keeps the context)."""
    kept = {}

    class Keep(hg.train.Callback):
        def on_train_begin(self, ctx):
            kept["ctx"] = ctx

    model, loss, opt, X, y = _setup()
    hg.fit(model, loss, opt, X, y, epochs=1, batch_size=16, seed=0, callbacks=[Keep()])
    path = kept["ctx"].save_checkpoint(tmp_path / "after.npz")
    assert path.exists()
    resumed = hg.mlp([6, 8, 3], "relu", seed=1)
    hg.fit(resumed, loss, hg.SGD(resumed.parameters(), lr=0.1), X, y, epochs=1, batch_size=16,
           seed=0, resume_from=path)  # fmt: skip
    for a, b in zip(resumed.parameters(), model.parameters()):
        np.testing.assert_array_equal(a.value, b.value)
