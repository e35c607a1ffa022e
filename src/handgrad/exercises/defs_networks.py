"""Exercises on a whole network: the binary classifier's forward / backward / step
(``backprop`` of a sigmoid network and a Linear layer are in defs_layers.py, the gradient
checker in defs_gradcheck.py).

The bug models below compose the engine's functions in deliberately wrong ways (the
hidden delta used for the output layer, a derivative taken at the wrong point) so that
a wrong answer can be named; the references themselves are ``handgrad.reference`` and
``handgrad.nn``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from .. import reference as R
from ..nn import functional as F
from ..nn.losses import BCEWithLogitsLoss
from ._common import item, ns, rng
from .catalogue import BugModel, Case, Exercise, register
from .defs_basic import leaky_models, leaky_relu

GRAD_KEYS = ("W1", "b1", "W2", "b2")

# --- a tiny binary classifier -----------------------------------------------------------------


def _classifier_case(name: str, n: int, d: int, h: int, act: str, seed: int, kink: bool = False):
    g = rng(seed)
    X = g.normal(size=(n, d))
    params = {
        "W1": g.normal(0, 0.8, (d, h)),
        "b1": np.zeros(h) if kink else g.normal(0, 0.1, h),
        "W2": g.normal(0, 0.8, (h, 1)),
        "b2": g.normal(0, 0.1, 1),
    }
    if kink:
        X[0] = 0.0  # with b1 = 0 the first row's hidden pre-activations are exactly 0
    y = g.integers(0, 2, (n, 1)).astype(float)
    y[0] = 1.0 - y[-1] if n > 1 else y[0]
    inputs = {"X": X, "y": y, "params": params, "activation": act}
    tags = frozenset({"kink"}) if kink else frozenset()
    return Case(name, inputs, tags, bias_outputs=("b1", "b2"), batch=n)


def _saturated(case: Case) -> Case:
    """``case`` with W2 scaled so the output logits z2 reach |z2| of 40 to 800, and labels
    that make most samples confidently wrong: p rounds to exactly 0 or 1 there, so a
    backward that goes through dL/dp = -y/p + (1 - y)/(1 - p) meets 0/0."""
    i = case.inputs
    z2 = R.forward(i["X"], i["params"], i["activation"])["z2"]
    # the largest logit +800, where exp(z2) overflows (exp(-z2) at -800 gives 1 / inf = 0)
    scale = 800.0 / float(z2.ravel()[np.argmax(np.abs(z2))])
    params = {**i["params"], "W2": i["params"]["W2"] * scale, "b2": i["params"]["b2"] * scale}
    z2 = z2 * scale
    y = (z2 < 0).astype(float)
    y[np.argmax(z2)] = 1.0  # one confidently right sample too
    inputs = {**i, "params": params, "y": y}
    name = f"{case.name}, saturated outputs (|z2| up to 800)"
    return Case(
        name, inputs, case.tags | {"extreme"}, bias_outputs=case.bias_outputs, batch=case.batch
    )


def _classifier_cases() -> list[Case]:
    return [
        _classifier_case("relu, one sample", 1, 3, 4, "relu", 100),
        _classifier_case("relu, a batch of 16", 16, 3, 5, "relu", 101),
        _classifier_case("tanh, a batch of 16", 16, 4, 6, "tanh", 102),
        _classifier_case("relu, hidden inputs exactly 0", 8, 3, 4, "relu", 103, kink=True),
        _saturated(_classifier_case("tanh, a batch of 12", 12, 3, 5, "tanh", 104)),
    ]


def _forward_probe(namespace, inputs):
    cache = namespace["forward"](inputs["X"], inputs["params"], inputs["activation"])
    return {k: item(cache, k, "forward's result") for k in ("z1", "a1", "z2", "p")}


def _identity(z: np.ndarray) -> np.ndarray:
    return z


def _sigmoid_of_minus(z: np.ndarray) -> np.ndarray:
    return F.sigmoid(-z)


def _forward_with(
    case: Case,
    hidden: str | None = None,
    output_too: bool = False,
    drop: tuple[str, ...] = (),
    p_of: Callable[[np.ndarray], np.ndarray] = F.sigmoid,
    leaky: float | None = None,
) -> dict[str, np.ndarray]:
    """The forward pass with a mistake: another hidden activation ("identity" for none), the
    hidden activation on the output layer too, the biases left out, another p of z2, a
    leaky ReLU of slope ``leaky`` where ReLU is asked."""
    i = case.inputs
    f: Callable[[np.ndarray], np.ndarray] = (
        F.relu if (hidden or i["activation"]) == "relu" else F.tanh
    )
    if hidden == "identity":
        f = _identity
    if leaky is not None:
        if i["activation"] != "relu":
            raise ValueError("a leaky ReLU stands only where ReLU is asked")
        f = partial(leaky_relu, slope=leaky)
    b1, b2 = (0.0 if b in drop else i["params"][b] for b in ("b1", "b2"))
    z1 = i["X"] @ i["params"]["W1"] + b1
    a1 = f(z1)
    z2 = a1 @ i["params"]["W2"] + b2
    z2 = f(z2) if output_too else z2
    return {"z1": z1, "a1": a1, "z2": z2, "p": p_of(z2)}


def _forward_without(drop: tuple[str, ...]) -> BugModel:
    return BugModel("bias-forgotten", f"no {' '.join(drop)}", lambda c: _forward_with(c, drop=drop))


FORWARD_BUGS = (
    BugModel("activation-forgotten", "a1 = z1", lambda c: _forward_with(c, hidden="identity")),
    BugModel("activation-forgotten", "p = z2", lambda c: _forward_with(c, p_of=_identity)),
    BugModel(
        "output-activation", "z2 = f(a1 W2 + b2)", lambda c: _forward_with(c, output_too=True)
    ),
    *(_forward_without(drop) for drop in (("b1",), ("b2",), ("b1", "b2"))),
    BugModel("exp-sign", "p = sigmoid(-z2)", lambda c: _forward_with(c, p_of=_sigmoid_of_minus)),
    BugModel("activation-argument", "always ReLU", lambda c: _forward_with(c, hidden="relu")),
    BugModel("activation-argument", "always tanh", lambda c: _forward_with(c, hidden="tanh")),
    *leaky_models(lambda c, slope: _forward_with(c, leaky=slope)),
)

register(
    Exercise(
        name="forward",
        chapter=4,
        title="The binary classifier's forward pass",
        entries=("forward",),
        contract=(
            "forward(X, params, activation): the forward pass of a binary classifier.\n"
            "X (N, D); params: W1 (D, H), b1 (H,), W2 (H, 1), b2 (1,);\n"
            "activation 'relu' or 'tanh'.\n"
            "z1 = X W1 + b1 (N, H), a1 = f(z1), z2 = a1 W2 + b2 (N, 1), p = sigmoid(z2).\n"
            "Returns a dict {'z1', 'a1', 'z2', 'p'}."
        ),
        stub="def forward(X, params, activation='relu'):\n    raise NotImplementedError\n",
        cases=_classifier_cases,
        probe=_forward_probe,
        reference=ns(forward=R.forward),
        bug_models=FORWARD_BUGS,
        doc="the-binary-classifier-forward-and-backward",
    )
)


def _reference_cache(case: Case) -> dict[str, np.ndarray]:
    i = case.inputs
    return R.forward(i["X"], i["params"], i["activation"])


def _backward_probe(namespace, inputs):
    i = inputs
    cache = R.forward(i["X"], i["params"], i["activation"])  # the backward gets a right cache
    grads = namespace["backward"](i["X"], i["y"], i["params"], cache, i["activation"])
    return {k: item(grads, k, "backward's result") for k in GRAD_KEYS}


def _backward_with_cache(case: Case, **changes: Any) -> dict[str, np.ndarray]:
    """The reference backward, fed a cache with some entries replaced (a mistake's view)."""
    i = case.inputs
    cache = {**_reference_cache(case), **changes}
    return R.backward(i["X"], i["y"], i["params"], cache, i["activation"])


def _classifier_deltas(case: Case) -> tuple[np.ndarray, np.ndarray, dict]:
    """dz2 (N, 1) and dz1 (N, H) of the mean BCE, and the cache: what the order models reuse."""
    i, cache = case.inputs, _reference_cache(case)
    loss = BCEWithLogitsLoss()
    loss.forward(cache["z2"], i["y"])
    dz2 = loss.backward()
    f = R.binary_classifier.ACTIVATIONS[i["activation"]]
    return dz2, f.backward(dz2 @ i["params"]["W2"].T, cache[f.saved]), cache


def _order_classifier(case: Case) -> dict[str, np.ndarray]:
    dz2, dz1, cache = _classifier_deltas(case)
    return {"W2": cache["a1"].T @ dz1, "b2": dz1.sum(axis=0), "W1": case.inputs["X"].T @ dz2}


def _tanh_derivative_at_a1(case: Case) -> dict[str, np.ndarray]:
    """1 - tanh(a1)^2: tanh's derivative formula applied to the output a1 as if it were z1."""
    if case.inputs["activation"] != "tanh":
        raise ValueError("not a tanh case")
    i = case.inputs
    dz2, _, cache = _classifier_deltas(case)
    dz1 = F.tanh_backward(dz2 @ i["params"]["W2"].T, F.tanh(cache["a1"]))
    right = R.backward(i["X"], i["y"], i["params"], cache, "tanh")
    return {**right, "W1": i["X"].T @ dz1, "b1": dz1.sum(axis=0)}


def _tanh_derivative_from_z(case: Case) -> dict[str, np.ndarray]:
    """1 - z1^2: the derivative written for the output a1, fed the pre-activation z1."""
    if case.inputs["activation"] != "tanh":
        raise ValueError("not a tanh case")
    dz2, _, cache = _classifier_deltas(case)
    dz1 = (dz2 @ case.inputs["params"]["W2"].T) * (1.0 - cache["z1"] ** 2)
    return {"W1": case.inputs["X"].T @ dz1, "b1": dz1.sum(axis=0)}


def _relu_kink_at_zero(case: Case) -> dict[str, np.ndarray]:
    """1[z >= 0]: the derivative at the kink taken as 1 (z = 0 nudged to a tiny positive)."""
    if case.inputs["activation"] != "relu":
        raise ValueError("not a ReLU case")
    z1 = _reference_cache(case)["z1"]
    return _backward_with_cache(case, z1=np.where(z1 == 0, 1e-300, z1))


def _relu_derivative_from_output(case: Case) -> dict[str, np.ndarray]:
    """1[a1 >= 0]: always true, so the ReLU is skipped in the backward pass."""
    if case.inputs["activation"] != "relu":
        raise ValueError("not a ReLU case")
    return _backward_with_cache(case, z1=np.abs(_reference_cache(case)["z1"]) + 1e-300)


def _hidden_derivative_forgotten(case: Case) -> dict[str, np.ndarray]:
    """dz1 = da1: the hidden activation's derivative left out (for ReLU, a mask never 0)."""
    i = case.inputs
    dz2, _, cache = _classifier_deltas(case)
    dz1 = dz2 @ i["params"]["W2"].T
    right = R.backward(i["X"], i["y"], i["params"], cache, i["activation"])
    return {**right, "W1": i["X"].T @ dz1, "b1": dz1.sum(axis=0)}


def _output_derivative_again(case: Case) -> dict[str, np.ndarray]:
    """dz2 = (p - y) p (1 - p) / N: the sigmoid's derivative multiplied in again."""
    i = case.inputs
    dz2, _, cache = _classifier_deltas(case)
    p = cache["p"]
    dz2 = dz2 * p * (1 - p)
    f = R.binary_classifier.ACTIVATIONS[i["activation"]]
    dz1 = f.backward(dz2 @ i["params"]["W2"].T, cache[f.saved])
    return {
        "W1": i["X"].T @ dz1,
        "b1": dz1.sum(axis=0),
        "W2": cache["a1"].T @ dz2,
        "b2": dz2.sum(axis=0),
    }


def _activation_for_derivative(case: Case) -> dict[str, np.ndarray]:
    """dz1 = da1 * a1: the activation itself multiplied in where its derivative belongs."""
    i = case.inputs
    dz2, _, cache = _classifier_deltas(case)
    dz1 = (dz2 @ i["params"]["W2"].T) * cache["a1"]
    return {"W1": i["X"].T @ dz1, "b1": dz1.sum(axis=0)}


def _labels_divided(case: Case) -> dict[str, np.ndarray]:
    """dz2 = p - y / N: the 1/N of the mean applied to y alone."""
    i = case.inputs
    cache = _reference_cache(case)
    dz2 = cache["p"] - i["y"] / len(i["X"])
    f = R.binary_classifier.ACTIVATIONS[i["activation"]]
    dz1 = f.backward(dz2 @ i["params"]["W2"].T, cache[f.saved])
    return {
        "W1": i["X"].T @ dz1,
        "b1": dz1.sum(axis=0),
        "W2": cache["a1"].T @ dz2,
        "b2": dz2.sum(axis=0),
    }


def _w2_from_z1(case: Case) -> dict[str, np.ndarray]:
    """dW2 = z1.T @ dz2: the output layer's input taken before the hidden activation."""
    dz2, _, cache = _classifier_deltas(case)
    return {"W2": cache["z1"].T @ dz2}


BINARY_CLASSIFIER_BUGS = (
    BugModel("relu-kink", "derivative 1 at z = 0", _relu_kink_at_zero),
    BugModel("derivative-forgotten", "dz1 = da1 (no f'(z1))", _hidden_derivative_forgotten),
    BugModel("output-derivative", "dz2 = (p - y) p (1 - p) / N", _output_derivative_again),
    BugModel(
        "activation-derivative", "tanh' evaluated at a1 instead of z1", _tanh_derivative_at_a1
    ),
    BugModel("activation-derivative", "1 - z1^2", _tanh_derivative_from_z),
    BugModel("order", "output-layer gradients from the hidden delta", _order_classifier),
    BugModel("layer-input", "dW2 = z1.T @ dz2", _w2_from_z1),
    BugModel("function-for-derivative", "dz1 = da1 * a1", _activation_for_derivative),
    BugModel("precedence", "dz2 = p - y / N", _labels_divided),
)

register(
    Exercise(
        name="backward",
        chapter=4,
        title="The binary classifier's backward pass",
        entries=("backward",),
        contract=(
            "backward(X, y, params, cache, activation): gradients of the MEAN binary\n"
            "cross-entropy of the classifier. cache is forward's {'z1', 'a1', 'z2', 'p'};\n"
            "y (N, 1) of 0/1.\n"
            "Returns {'W1', 'b1', 'W2', 'b2'}, each shaped like its parameter:\n"
            "W1 (D, H), b1 (H,), W2 (H, 1), b2 (1,). ReLU's derivative at exactly 0 is 0."
        ),
        stub=(
            "def backward(X, y, params, cache, activation='relu'):\n    raise NotImplementedError\n"
        ),
        cases=_classifier_cases,
        probe=_backward_probe,
        reference=ns(backward=R.backward),
        expected=lambda c: _backward_probe({"backward": R.backward}, c.inputs),
        bug_models=BINARY_CLASSIFIER_BUGS,
        doc="the-binary-classifier-forward-and-backward",
    )
)


def _gd_probe(namespace, inputs):
    """The step each parameter took (new - old): a sign or a factor shows in it directly."""
    before = {k: np.array(inputs["params"][k]) for k in GRAD_KEYS}
    new = namespace["gd_step"](inputs["params"], inputs["grads"], inputs["lr"])
    return {
        f"step {k}": np.asarray(item(new, k, "gd_step's result")) - before[k] for k in GRAD_KEYS
    }


def _gd_cases() -> list[Case]:
    cases = []
    for seed, lr in ((110, 0.1), (111, 0.5)):
        base = _classifier_case("", 4, 3, 4, "relu", seed).inputs["params"]
        grads = {k: rng(seed + 5).normal(size=v.shape) for k, v in base.items()}
        cases.append(Case(f"lr = {lr}", {"params": base, "grads": grads, "lr": lr}))
    return cases


register(
    Exercise(
        name="gd_step",
        chapter=4,
        title="A gradient-descent step",
        entries=("gd_step",),
        contract=(
            "gd_step(params, grads, lr): theta <- theta - lr * g for W1, b1, W2, b2.\n"
            "Returns a NEW dict; the caller's params and grads are left unchanged."
        ),
        stub="def gd_step(params, grads, lr):\n    raise NotImplementedError\n",
        cases=_gd_cases,
        probe=_gd_probe,
        reference=ns(gd_step=R.gd_step),
        doc="gradient-descent",
    )
)
