"""CPU time of gradcheck on a small trained network: a correct check and two that FAIL.

    PYTHONPATH=src python benchmarks/gradcheck_cost.py

A 2-8-8-1 ReLU net trained 300 Adam steps (lr 0.01) on 32 normal rows, labels x0 * x1 > 0;
min of 5 ``time.process_time()`` of ``gradcheck(model, BCEWithLogitsLoss(), X, y)``: the
correct model, a weight gradient 1 % too large in layer 2, and a learner's own ReLU (no
``kink`` attribute) whose backward forgets its mask. To compare two versions, run it under
each one's ``src`` (``git archive <commit> src | tar -x -C /tmp/old``), alternated.
"""

from __future__ import annotations

import copy
import time
import types

import numpy as np

import handgrad as hg


class LearnerReLU(hg.Module):
    def forward(self, x):
        self.on = x > 0
        return x * self.on

    def backward(self, grad):
        return grad * self.on


class NoMask(LearnerReLU):
    def backward(self, grad):
        return grad


def trained():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(32, 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(float)[:, None]
    model, loss = hg.mlp([2, 8, 8, 1], "relu", seed=0), hg.BCEWithLogitsLoss()
    opt = hg.Adam(model.parameters(), lr=0.01)
    for _ in range(300):
        loss.forward(model.forward(X), y)
        model.backward(loss.backward())
        opt.step()
    return model, loss, X, y


def one_percent_too_large(model):
    layer = copy.copy(model.layers[2])

    def backward(self, grad):
        dx = hg.Linear.backward(self, grad)
        self.weight.grad *= 1.01
        return dx

    layer.backward = types.MethodType(backward, layer)
    return hg.Sequential(*[layer if i == 2 else m for i, m in enumerate(model.layers)])


def main() -> None:
    model, loss, X, y = trained()
    cases = {
        "correct": model,
        "weight grad x1.01": one_percent_too_large(model),
        "learner ReLU, no mask": hg.Sequential(
            *[NoMask() if isinstance(m, hg.ReLU) else m for m in model.layers]
        ),
    }
    for name, candidate in cases.items():
        times = []
        for _ in range(5):
            start = time.process_time()
            report = hg.gradcheck(candidate, loss, X, y)
            times.append(time.process_time() - start)
        print(f"{name:24s} {min(times):.3f} s CPU  passed={report.passed}")


if __name__ == "__main__":
    main()
