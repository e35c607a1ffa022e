"""The callable form with a penalty term: a learner checks loss + R(W) against backward's
gradients plus dR/dW. L1's |W| has a kink at 0, and a network trained with it holds weights
hopping across 0 by about lr * lam per step (within every step's reach) or sitting exactly
on 0, where ``add_gradient`` takes the subgradient 0: the correct gradients PASS there, and
a penalty gradient forgotten or added twice FAILS. Random cases, wider:
``PYTHONPATH=src python tests/nn/test_gradcheck_penalty.py 0 200`` prints the counts; a
correct network that FAILS only at a hidden unit collapsed onto its kink (strong L2 after
3000 steps) is counted apart, as the callable form's known limit (docs/gradcheck.md).
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

import handgrad as hg
from handgrad.nn.losses import L1Penalty, L2Penalty

PENALTIES = {
    "l1": lambda lam: L1Penalty(lam),
    "l2 half": lambda lam: L2Penalty(lam, "half"),
    "l2 full": lambda lam: L2Penalty(lam, "full"),
}


def trained(seed: int, penalty: str, activation: str, steps: int):
    """A 3-6-2 MLP with MSE trained by Adam with the penalty (lam 0.03 to 0.3); for L1 one
    weight row set to exactly 0 (on the kink)."""
    rng = np.random.default_rng([seed, 5])
    X, y = rng.normal(size=(16, 3)), rng.normal(size=(16, 2))
    model, loss = hg.mlp([3, 6, 2], activation, seed=seed), hg.MSELoss()
    term = PENALTIES[penalty](float(10 ** rng.uniform(-1.5, -0.5)))
    opt = hg.Adam(model.parameters(), lr=0.01)
    for _ in range(steps):
        loss.forward(model.forward(X), y)
        model.backward(loss.backward())
        term.add_gradient(model.parameters())
        opt.step()
    if penalty == "l1":
        model[0].weight.value[0] = 0.0
    return model, loss, term, X, y


def gradients(model, loss, term, X, y, times: int = 1) -> list[np.ndarray]:
    """backward's gradients plus ``times`` the penalty's (1: right; 0 or 2: wrong)."""
    loss.forward(model.forward(X), y)
    model.backward(loss.backward())
    for _ in range(times):
        term.add_gradient(model.parameters())
    return [p.grad.copy() for p in model.parameters()]


def check(model, loss, term, X, y, times: int = 1) -> hg.GradcheckReport:
    params = [p.value for p in model.parameters()]

    def f() -> float:
        return loss.forward(model.forward(X), y) + term.value(model.parameters())

    return hg.gradcheck(f, params, gradients(model, loss, term, X, y, times))


@pytest.mark.parametrize("penalty", list(PENALTIES))
@pytest.mark.parametrize(("activation", "steps"), [("relu", 1000), ("tanh", 1000)])
def test_a_penalized_network_passes_and_a_wrong_penalty_gradient_fails(penalty, activation, steps):
    model, loss, term, X, y = trained(3, penalty, activation, steps)
    if penalty == "l1":  # weights within a step's reach of the kink, and on it
        w = np.concatenate([np.abs(m.weight.value).ravel() for m in model[::2]])
        assert np.any(w == 0.0) and np.any((w > 0) & (w < 3e-3)), w
    report = check(model, loss, term, X, y)
    assert report.passed, report.table()
    for times in (0, 2):
        wrong = check(model, loss, term, X, y, times)
        assert not wrong.passed, (times, wrong.table())


def visible(model, loss, term, X, y, times: int) -> bool:
    """The wrong penalty gradient changes some entry by more than 1e-6 of the largest and
    by more than finite differences resolve at h = 1e-3 (100 times 1e2 ulp of the loss,
    over the step): strong L2 can decay weights to 1e-16, and a penalty gradient of 1e-17
    forgotten is no bug any check can see."""
    right = gradients(model, loss, term, X, y)
    wrong = gradients(model, loss, term, X, y, times)
    value = loss.forward(model.forward(X), y) + term.value(model.parameters())
    floor = max(1e-6 * max(float(np.max(np.abs(g))) for g in right), 1e4 * 2.2e-16 * value / 1e-3)
    return any(float(np.max(np.abs(a - b))) > floor for a, b in zip(wrong, right))


# a unit is collapsed onto its kink when every row's input is within COLLAPSED times the
# rows' size of it: the steps 1e-3 to 1e-5, whose tolerance would judge so small a unit's
# gradients, move its rows across; 1e-6 and 1e-7 may not, and their rounding hides them
COLLAPSED = 1e-5


def without_collapsed(model, loss, term, X, y):
    """The check of every entry except those of hidden units collapsed onto their kink
    (every row's input within ``COLLAPSED`` of 0, ReLU and leaky ReLU only), on
    views of the other units' first-layer columns; None if no unit is. Such a unit's
    backward is right yet unobservable from the loss: the callable form's known limit
    (docs/gradcheck.md, tests/nn/test_gradcheck_callable.py)."""
    if not isinstance(model[1], hg.ReLU | hg.LeakyReLU):
        return None
    z = model[0].forward(X)
    collapsed = np.all(np.abs(z) <= COLLAPSED * max(1.0, float(np.max(np.abs(X)))), axis=0)
    if not np.any(collapsed):
        return None
    W, b = model[0].weight.value, model[0].bias.value
    keep = [u for u in range(len(b)) if not collapsed[u]]
    grads = gradients(model, loss, term, X, y)
    params = [W[:, u : u + 1] for u in keep] + [b[u : u + 1] for u in keep]
    values = [grads[0][:, u : u + 1] for u in keep] + [grads[1][u : u + 1] for u in keep]
    rest = [p.value for p in model.parameters()][2:]

    def f() -> float:
        return loss.forward(model.forward(X), y) + term.value(model.parameters())

    return hg.gradcheck(f, params + rest, values + grads[2:])


if __name__ == "__main__":
    counts = {"correct": 0, "false FAIL": 0, "collapsed unit": 0, "wrong": 0, "invisible": 0,
              "miss": 0}  # fmt: skip
    for seed in range(int(sys.argv[1]), int(sys.argv[2])):
        rng = np.random.default_rng([seed, 6])
        case = (str(rng.choice(list(PENALTIES))), str(rng.choice(["relu", "tanh", "sigmoid",
                "leaky_relu"])), int(rng.choice([0, 100, 3000])))  # fmt: skip
        model, loss, term, X, y = trained(seed, *case)
        counts["correct"] += 1
        if not check(model, loss, term, X, y).passed:
            rest = without_collapsed(model, loss, term, X, y)
            label = "false FAIL" if rest is None or not rest.passed else "collapsed unit"
            counts[label] += 1
            print(label.upper(), seed, case)
        for times in (0, 2):
            if not visible(model, loss, term, X, y, times):
                counts["invisible"] += 1
                continue
            counts["wrong"] += 1
            if check(model, loss, term, X, y, times).passed:
                counts["miss"] += 1
                print("MISS", seed, case, times)
    print(counts)
