"""The playground's "Check gradients": gradcheck's own verdict, and one sentence that names
the parameter to look at (a verdict is a claim: tested on correct and wrong networks)."""

from __future__ import annotations

import numpy as np
import pytest

import handgrad as hg
from handgrad.playground.data import DataSpec, generated
from handgrad.playground.inspector import check_gradients, explain
from handgrad.playground.network import NetSpec, Trainer


@pytest.mark.parametrize(
    "data, net",
    [
        (DataSpec(name="moons"), NetSpec()),
        (DataSpec(name="blobs", classes=4), NetSpec(activations=["sigmoid", "sigmoid"])),
        (DataSpec(name="bump"), NetSpec(hidden=[6], activations=["relu"], init="he")),
        (DataSpec(name="sine"), NetSpec(hidden=[5, 3], activations=["leaky_relu", "tanh"])),
        (DataSpec(name="xor", inputs=["x1", "x2", "x1x2", "sinx1"]), NetSpec(hidden=[])),
    ],
)
def test_a_correct_network_passes_and_the_run_is_not_disturbed(data, net):
    trainer = Trainer(net, generated(data))
    trainer.run(3)
    before = [p.value.copy() for p in trainer.model.parameters()]
    grads = [p.grad.copy() for p in trainer.model.parameters()]
    result = check_gradients(trainer)
    assert result["passed"] is True, result["table"]
    assert result["explanation"].startswith("Backprop is right here: each of the ")
    assert [r["name"] for r in result["rows"]] == [n for n, _ in trainer.model.named_parameters()]
    assert all(type(r["passed"]) is bool for r in result["rows"])
    for p, v, g in zip(trainer.model.parameters(), before, grads):
        np.testing.assert_array_equal(p.value, v)
        np.testing.assert_array_equal(p.grad, g)


class WrongBias(hg.Linear):
    """A Linear layer whose bias gradient forgets to sum over the batch (takes row 0)."""

    def backward(self, grad_y):
        grad_x = super().backward(grad_y)
        self.bias.grad[...] = grad_y[0]
        return grad_x


def test_a_wrong_backward_fails_and_the_sentence_names_its_parameter():
    trainer = Trainer(NetSpec(), generated(DataSpec(name="moons")))
    layers = trainer.model.layers
    wrong = WrongBias(8, 8, rng=np.random.default_rng(0))
    wrong.weight.value[...] = layers[2].weight.value
    wrong.bias.value[...] = layers[2].bias.value
    layers[2] = wrong
    result = check_gradients(trainer)
    assert result["passed"] is False
    failing = [r["name"] for r in result["rows"] if not r["passed"]]
    assert "2.bias" in failing
    assert result["explanation"].startswith("The analytic gradient")
    assert "2.bias" in result["explanation"] or "every parameter" in result["explanation"]


def test_the_sentence_for_every_verdict():
    ok = {"name": "0.weight", "checked": 5, "kinks": 2, "max_abs_error": 1e-12, "passed": True}
    bad = {**ok, "name": "2.bias", "max_abs_error": 0.3, "passed": np.bool_(False)}
    assert explain(True, [ok]) == (
        "Backprop is right here: each of the 5 entries checked agrees with finite differences "
        "as closely as they can tell (2 skipped where a ReLU kink makes them meaningless)."
    )
    one = explain(False, [ok, bad])
    assert "(max abs error 3.0e-01) at 2.bias, so look at the backward of the layer" in one
    every = explain(False, [bad, {**bad, "name": "0.weight"}])
    assert every.endswith("at every parameter, so look first at the loss's gradient dL/dz.")
