"""Exercises on ``backprop`` of a one-hidden-layer sigmoid network (loss summed) and on a
Linear layer with W laid out (out, in).

The bug models compose the engine's functions in deliberately wrong ways so that a wrong
answer can be named; the references are ``handgrad.reference`` and ``handgrad.nn``.
"""

from __future__ import annotations

import numpy as np

from .. import reference as R
from ..nn import functional as F
from ..nn.layers import Linear
from ..nn.losses import BCEWithLogitsLoss
from ._common import item, ns, rng
from .catalogue import BugModel, Case, Exercise, register

# --- backprop(X, Y, input_size, hidden_size, W1, b1, W2, b2) -------------------------


def _backprop_case(name: str, X, seed: int, h: int, dtype=np.float64, tags=()) -> Case:
    g = rng(seed)
    m, d = X.shape
    Y = g.integers(0, 2, (m, 1)).astype(dtype)
    inputs = {
        "X": np.asarray(X, dtype),
        "Y": Y,
        "input_size": d,
        "hidden_size": h,
        "W1": g.uniform(-1, 1, (d, h)).astype(dtype),
        "b1": g.normal(0, 0.1, (1, h)).astype(dtype),
        "W2": g.uniform(-1, 1, (h, 1)).astype(dtype),
        "b2": g.normal(0, 0.1, (1, 1)).astype(dtype),
    }
    return Case(name, inputs, frozenset(tags), bias_outputs=("db1", "db2"), batch=m)


def _backprop_cases() -> list[Case]:
    return [
        _backprop_case("one sample X = [[0, 0]], H = 4", np.array([[0.0, 0.0]]), 130, 4),
        _backprop_case("two samples, H = 3", np.array([[0.0, 1], [1, 0]]), 131, 3),
        _backprop_case("one input feature, one sample, H = 2", np.array([[1.0]]), 132, 2),
        _backprop_case("m = 100, D = 10, H = 20", rng(133).normal(size=(100, 10)), 134, 20),
        _backprop_case(
            "float32, m = 7", rng(135).normal(size=(7, 3)), 136, 5, np.float32, {"float32"}
        ),
        _saturated_backprop_case(),
    ]


def _saturated_backprop_case() -> Case:
    """Output logits z2 from -790 to +410 (|z2| >= 38) with most labels wrong: A rounds to
    exactly 0 or 1, where a chain through dL/dA = -Y/A + (1 - Y)/(1 - A) meets 0/0 (the stable
    dz2 = A - Y does not). The hidden units saturate at chosen levels so that z2 spans the range."""
    levels = np.array([1e-6, 0.325, 0.69, 1 - 1e-6]).repeat(3)  # a1 for each sample
    g = rng(137)
    X = np.column_stack([np.log(levels / (1 - levels)) / 8, g.normal(size=(12, 2))])
    h = 4
    inputs = {
        "X": X,
        "Y": (np.arange(12) % 3 != 0).reshape(-1, 1).astype(float),
        "input_size": 3,
        "hidden_size": h,
        "W1": np.vstack([np.full((1, h), 8.0), g.normal(0, 1e-3, (2, h))]),
        "b1": np.zeros((1, h)),
        "W2": np.full((h, 1), 300.0),
        "b2": np.array([[-790.0]]),
    }
    name = "saturated outputs, |z2| from 38 to 790, m = 12"
    return Case(name, inputs, frozenset({"extreme"}), bias_outputs=("db1", "db2"), batch=12)


BACKPROP_ARGS = ("X", "Y", "input_size", "hidden_size", "W1", "b1", "W2", "b2")


def _backprop_probe(namespace, inputs):
    grads = namespace["backprop"](*(inputs[a] for a in BACKPROP_ARGS))
    return {k: item(grads, k, "backprop's result") for k in ("dW1", "db1", "dW2", "db2")}


def _sigmoid_net(case: Case) -> dict[str, np.ndarray]:
    """The sigmoid network's forward pass and output delta, for the mistake models."""
    i = case.inputs
    z1 = i["X"] @ i["W1"] + i["b1"]
    a1 = F.sigmoid(z1)
    z2 = a1 @ i["W2"] + i["b2"]
    loss = BCEWithLogitsLoss(reduction="sum")
    loss.forward(z2, i["Y"])
    return {"z1": z1, "a1": a1, "dz2": loss.backward(), "da1": loss.backward() @ i["W2"].T}


def _backprop_from_hidden_delta(case: Case, dz1: np.ndarray) -> dict[str, np.ndarray]:
    i, net = case.inputs, _sigmoid_net(case)
    return {
        "dW1": i["X"].T @ dz1,
        "db1": dz1.sum(axis=0, keepdims=True),
        "dW2": net["a1"].T @ net["dz2"],
        "db2": net["dz2"].sum(axis=0, keepdims=True),
    }


def _wrong_derivative(case: Case, at: str) -> dict[str, np.ndarray]:
    net = _sigmoid_net(case)
    if at == "A":  # the output's A (N, 1), broadcast over the H hidden units
        A = F.sigmoid(net["a1"] @ case.inputs["W2"] + case.inputs["b2"])
        return _backprop_from_hidden_delta(case, net["da1"] * A * (1 - A))
    point = net["z1"] if at == "z1" else F.sigmoid(net["a1"])
    return _backprop_from_hidden_delta(case, F.sigmoid_backward(net["da1"], point))


def _order_backprop(case: Case) -> dict[str, np.ndarray]:
    net = _sigmoid_net(case)
    dz1 = F.sigmoid_backward(net["da1"], net["a1"])
    return {
        "dW2": net["a1"].T @ dz1,
        "db2": dz1.sum(axis=0, keepdims=True),
        "dW1": case.inputs["X"].T @ net["dz2"],
        "db1": net["dz2"].sum(axis=0, keepdims=True),
    }


def _backprop_without_hidden_derivative(case: Case) -> dict[str, np.ndarray]:
    """dz1 = dz2 W2^T: the hidden sigmoid's derivative a1 (1 - a1) left out."""
    return _backprop_from_hidden_delta(case, _sigmoid_net(case)["da1"])


def _backprop_output_derivative(case: Case) -> dict[str, np.ndarray]:
    """dz2 = (A - Y) A (1 - A): the output sigmoid's derivative multiplied in again, as for a
    squared error (with cross-entropy, A - Y already is dL/dz2)."""
    i, net = case.inputs, _sigmoid_net(case)
    A = F.sigmoid(net["a1"] @ i["W2"] + i["b2"])
    dz2 = net["dz2"] * A * (1 - A)
    dz1 = F.sigmoid_backward(dz2 @ i["W2"].T, net["a1"])
    return {
        "dW1": i["X"].T @ dz1,
        "db1": dz1.sum(axis=0, keepdims=True),
        "dW2": net["a1"].T @ dz2,
        "db2": dz2.sum(axis=0, keepdims=True),
    }


BACKPROP_BUGS = (
    BugModel("derivative-forgotten", "dz1 = dz2 W2^T", _backprop_without_hidden_derivative),
    BugModel("output-derivative", "dz2 = (A - Y) A (1 - A)", _backprop_output_derivative),
    BugModel("activation-derivative", "z1 * (1 - z1)", lambda c: _wrong_derivative(c, "z1")),
    BugModel("activation-derivative", "sigmoid'(a1)", lambda c: _wrong_derivative(c, "sigmoid")),
    BugModel(
        "activation-derivative", "A (1 - A), the output's", lambda c: _wrong_derivative(c, "A")
    ),
    BugModel("order", "a layer's gradient from the other layer's delta", _order_backprop),
)

register(
    Exercise(
        name="backprop",
        chapter=4,
        title="backprop() of a sigmoid network, loss summed",
        entries=("backprop",),
        contract=(
            "backprop(X, Y, input_size, hidden_size, W1, b1, W2, b2): gradients of the binary\n"
            "cross-entropy SUMMED over the m samples (not the mean), for\n"
            "  z1 = X W1 + b1, a1 = sigmoid(z1), z2 = a1 W2 + b2, A = sigmoid(z2).\n"
            "X (m, input_size), Y (m, 1); W1 (input_size, hidden_size), b1 (1, hidden_size),\n"
            "W2 (hidden_size, 1), b2 (1, 1). Returns {'dW1', 'db1', 'dW2', 'db2'}, each shaped\n"
            "like its parameter (db1 (1, hidden_size), db2 (1, 1)). Keep float32 as float32."
        ),
        stub=(
            "def backprop(X, Y, input_size, hidden_size, W1, b1, W2, b2):\n"
            "    raise NotImplementedError\n"
        ),
        cases=_backprop_cases,
        probe=_backprop_probe,
        reference=ns(backprop=R.backprop),
        bug_models=BACKPROP_BUGS,
        doc="backprop-of-a-sigmoid-network",
    )
)

# --- a Linear layer with W of shape (out_dim, in_dim) ------------------------


class _LinearOnEngine:
    """The exercise's Linear contract on the engine's Linear (whose weight is (in, out): W.T)."""

    def __init__(self, in_dim: int, out_dim: int):
        self.W = np.zeros((out_dim, in_dim))
        self.b = np.zeros(out_dim)

    def forward(self, x):
        out_dim, in_dim = self.W.shape
        self._layer = Linear(in_dim, out_dim, dtype=self.W.dtype)
        self._layer.weight.value = self.W.T.copy()
        self._bias().value = self.b.copy()
        return self._layer.forward(x)

    def backward(self, dout):
        dx = self._layer.backward(dout)
        self.dW = self._layer.weight.grad.T.copy()
        self.db = self._bias().grad.copy()
        return dx

    def _bias(self):
        bias = self._layer.bias
        assert bias is not None  # Linear(..., bias=True), the default
        return bias


def _linear_probe(namespace, inputs):
    W = inputs["W"]
    layer = namespace["Linear"](W.shape[1], W.shape[0])
    layer.W, layer.b = W.copy(), inputs["b"].copy()
    y = layer.forward(inputs["x"])
    dx = layer.backward(inputs["dout"])
    return {"y": y, "dx": dx, "dW": layer.dW, "db": layer.db}


def _linear_cases() -> list[Case]:
    cases = []
    for i, (n, d, k, dtype) in enumerate(
        (
            (1, 3, 2, np.float64),
            (10, 4, 3, np.float64),
            (6, 5, 2, np.float32),
            (5, 3, 3, np.float64),
        )
    ):
        g = rng(140 + i)
        inputs = {
            "x": g.normal(size=(n, d)).astype(dtype),
            "W": g.normal(size=(k, d)).astype(dtype),
            "b": g.normal(size=k).astype(dtype),
            "dout": g.normal(size=(n, k)).astype(dtype),
        }
        kind = "float32 " if dtype == np.float32 else ""
        tags = frozenset({"float32"}) if dtype == np.float32 else frozenset()
        cases.append(
            Case(f"{kind}batch {n}, {d} -> {k}", inputs, tags, bias_outputs=("db",), batch=n)
        )
    return cases


register(
    Exercise(
        name="linear",
        chapter=2,
        title="A Linear layer (forward and backward)",
        entries=("Linear",),
        contract=(
            "class Linear(in_dim, out_dim) with W laid out (out, in): self.W (out_dim, in_dim),\n"
            "self.b (out_dim,). forward(x): x (B, in_dim) -> x @ W.T + b (B, out_dim), keeping x.\n"
            "backward(dout): dout (B, out_dim) -> dx (B, in_dim); sets self.dW (out_dim, in_dim)\n"
            "and self.db (out_dim,), the gradients summed over the batch. Keep the dtype of\n"
            "x and W (float32 stays float32)."
        ),
        stub=(
            "class Linear:\n"
            "    def __init__(self, in_dim, out_dim):\n"
            "        raise NotImplementedError\n\n"
            "    def forward(self, x):\n"
            "        raise NotImplementedError\n\n"
            "    def backward(self, dout):\n"
            "        raise NotImplementedError\n"
        ),
        cases=_linear_cases,
        probe=_linear_probe,
        reference=ns(Linear=_LinearOnEngine),
        doc="a-linear-layer",
    )
)
