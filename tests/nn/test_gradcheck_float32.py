"""float32 models: gradcheck checks a float64 copy of the model and the batch, says so, and
leaves the model as it was; a layer that cannot become float64 is named in the error."""

from __future__ import annotations

import threading
import types

import numpy as np
import pytest

import handgrad as hg


class PReLU(hg.Module):
    """A learner's layer: one learned negative slope per feature, float32 if asked."""

    kink = 0.0

    def __init__(self, width, dtype=np.float32):
        self.alpha = hg.Parameter(np.full(width, 0.25, dtype), "alpha", regularize=False)

    def forward(self, x):
        self.x = x
        return np.where(x > 0, x, self.alpha.value * x)

    def backward(self, grad):
        self.alpha.grad[...] = np.sum(np.where(self.x > 0, 0, grad * self.x), axis=0)
        return np.where(self.x > 0, grad, self.alpha.value * grad)

    def parameters(self):
        return [self.alpha]


class Locked(hg.Module):
    """Holds a lock: copy.deepcopy cannot copy it."""

    def __init__(self):
        self.lock = threading.Lock()

    def forward(self, x):
        return x

    def backward(self, grad):
        return grad


class StubbornFloat32(hg.Module):
    """Casts to float32 whatever comes in: its copy cannot compute in float64."""

    def forward(self, x):
        return np.asarray(x, dtype=np.float32)

    def backward(self, grad):
        return grad


def batch(rng, n=12, d=3):
    return rng.normal(size=(n, d)).astype(np.float32), rng.integers(0, 3, n)


def test_a_float32_model_is_checked_on_a_float64_copy_and_left_untouched(rng):
    model = hg.mlp([3, 6, 3], "tanh", seed=0, dtype=np.float32)
    X, y = batch(rng)
    loss = hg.SoftmaxCrossEntropyLoss()
    loss.forward(model.forward(X), y)
    model.backward(loss.backward())
    values = [p.value.copy() for p in model.parameters()]
    grads = [p.grad.copy() for p in model.parameters()]
    report = hg.gradcheck(model, loss, X, y)
    assert report.passed, report.table()
    assert report.note.startswith("the float32 model was checked on a float64 copy")
    assert report.note in report.summary()
    assert report.max_rel_error < 1e-7  # float64 precision, not float32's
    for p, v, g in zip(model.parameters(), values, grads):
        assert p.value.dtype == np.float32 and p.grad.dtype == np.float32
        assert np.array_equal(p.value, v) and np.array_equal(p.grad, g)
    assert X.dtype == np.float32


def test_a_float32_custom_layer_is_copied_too(rng):
    model = hg.Sequential(
        hg.Linear(3, 5, seed=1, dtype=np.float32),
        PReLU(5),
        hg.Linear(5, 3, seed=2, dtype=np.float32),
    )
    X, y = batch(rng)
    report = hg.gradcheck(model, hg.SoftmaxCrossEntropyLoss(), X, y)
    assert report.passed, report.table()
    assert [r.name for r in report.rows] == ["0.weight", "0.bias", "1.alpha", "2.weight", "2.bias"]
    assert "float64 copy" in report.summary()
    assert model[1].alpha.value.dtype == np.float32


def test_a_wrong_float32_backward_still_fails(rng):
    model = hg.mlp([3, 6, 3], "relu", seed=0, dtype=np.float32)
    X, y = batch(rng)

    def backward(self, grad_y):  # bound to the layer, so the float64 copy gets its own
        dx = hg.Linear.backward(self, grad_y)
        self.bias.grad *= -1.0
        return dx

    model[0].backward = types.MethodType(backward, model[0])
    report = hg.gradcheck(model, hg.SoftmaxCrossEntropyLoss(), X, y)
    assert not report.passed
    assert [r.name for r in report.rows if not r.passed] == ["0.bias"]


def test_a_layer_that_cannot_be_copied_is_named(rng):
    model = hg.Sequential(hg.Linear(3, 3, seed=0, dtype=np.float32), Locked())
    X, y = batch(rng)
    with pytest.raises(TypeError, match=r"layer 1 \(Locked\) cannot be copied to float64"):
        hg.gradcheck(model, hg.SoftmaxCrossEntropyLoss(), X, y)


def test_a_layer_stuck_in_float32_is_named(rng):
    model = hg.Sequential(hg.Linear(3, 3, seed=0, dtype=np.float32), StubbornFloat32())
    X, y = batch(rng)
    with pytest.raises(TypeError, match=r"layer 1 \(StubbornFloat32\) returns float32"):
        hg.gradcheck(model, hg.SoftmaxCrossEntropyLoss(), X, y)


def test_a_float64_model_with_a_float32_batch_is_not_copied(rng):
    model = hg.mlp([3, 4, 3], "tanh", seed=0)
    X, y = batch(rng)
    report = hg.gradcheck(model, hg.SoftmaxCrossEntropyLoss(), X, y)
    assert report.passed and report.note == ""  # nothing to copy: the model computes in float64
    assert X.dtype == np.float32


def test_a_layer_inside_a_nested_sequential_is_named_by_its_path(rng):
    """Named as the report names parameters ("1.0.weight"): before, the error named the
    top-level Sequential ("layer 1 (Sequential)"), not the layer at fault."""
    X, y = batch(rng)
    inner = hg.Sequential(hg.Linear(3, 3, seed=1, dtype=np.float32), Locked())
    model = hg.Sequential(hg.Linear(3, 3, seed=0, dtype=np.float32), inner)
    with pytest.raises(TypeError, match=r"layer 1\.1 \(Locked\) cannot be copied to float64"):
        hg.gradcheck(model, hg.SoftmaxCrossEntropyLoss(), X, y)
    deeper = hg.Sequential(
        hg.Linear(3, 3, seed=0, dtype=np.float32),
        hg.Sequential(hg.Tanh(), hg.Sequential(hg.Linear(3, 3, seed=1), StubbornFloat32())),
    )
    with pytest.raises(TypeError, match=r"layer 1\.1\.1 \(StubbornFloat32\) returns float32"):
        hg.gradcheck(deeper, hg.SoftmaxCrossEntropyLoss(), X, y)


class FixedFloat32(hg.Module):
    """A learner's scale whose parameter is rebuilt in float32 at every forward."""

    def __init__(self):
        self.scale = hg.Parameter(np.ones(3, np.float32), "scale")

    def forward(self, x):
        self.scale.value = self.scale.value.astype(np.float32)
        self.x = x
        return x * self.scale.value

    def backward(self, grad):
        self.scale.grad = (grad * self.x).sum(axis=0).astype(np.float32)
        return grad * self.scale.value

    def parameters(self):
        return [self.scale]


def test_a_parameter_stuck_in_float32_is_named_as_the_report_names_it(rng):
    X, y = batch(rng)
    model = hg.Sequential(hg.Linear(3, 3, seed=0, dtype=np.float32),
                          hg.Sequential(hg.Tanh(), FixedFloat32()))  # fmt: skip
    with pytest.raises(TypeError, match=r"gradcheck: 1\.1\.scale is float32"):
        hg.gradcheck(model, hg.SoftmaxCrossEntropyLoss(), X, y)
