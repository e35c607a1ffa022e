"""gradcheck's callable form attacked on a learner's own network: plain NumPy forward and
backward (no module, so no probe sees a kink), a hidden activation with a kink (ReLU,
leaky ReLU, abs, clip to [-1, 1]), MSE plus an optional L2 penalty, trained by Adam until
strong L2 decays whole units onto their kinks (the callable form's known limit, see
docs/gradcheck.md), or with zero biases on integer inputs (XOR's corners).

    PYTHONPATH=src python tests/nn/gradcheck_callable.py 0 100

prints each false FAIL and miss, then the counts. Wrong backwards: the penalty gradient
forgotten or doubled, MSE's factor 2 forgotten, the bias gradient averaged over the rows,
and the activation's derivative wrong on one side (leaky's slope 0, abs's sign dropped,
clip's derivative 1 outside [-1, 1], ReLU's 1 below 0).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

import handgrad as hg
from handgrad.nn._gradcheck_noise import loss_noise

ULP = float(np.finfo(np.float64).eps)
ALPHA = 0.01  # leaky ReLU's slope below 0

# activation: (value, derivative, a wrong derivative); each derivative takes one side's
# value exactly at the kink, and the wrong one is right there (either side's slope is)
ACTIVATIONS: dict[str, tuple[Callable, Callable, Callable]] = {
    "relu": (lambda z: np.maximum(z, 0.0), lambda z: (z > 0) * 1.0, lambda z: (z != 0) * 1.0),
    "leaky": (
        lambda z: np.where(z > 0, z, ALPHA * z),
        lambda z: np.where(z > 0, 1.0, ALPHA),
        lambda z: (z >= 0) * 1.0,
    ),
    "abs": (np.abs, np.sign, lambda z: (z != 0) * 1.0),
    "clip": (
        lambda z: np.clip(z, -1.0, 1.0),
        lambda z: (np.abs(z) < 1) * 1.0,
        lambda z: (np.abs(z) != 1) * 1.0,
    ),
}
WRONGS = ("no penalty", "penalty twice", "no factor 2", "bias mean", "activation")


@dataclass(frozen=True)
class Case:
    seed: int
    activation: str
    rows: int
    lam: float  # 0: no penalty
    steps: int
    corners: bool  # integer inputs and zero biases: units exactly on their kinks

    def __str__(self) -> str:
        return (f"callable seed={self.seed} {self.activation} rows={self.rows} "
                f"lam={self.lam:.3g} steps={self.steps} corners={self.corners}")  # fmt: skip


def draw(seed: int) -> Case:
    rng = np.random.default_rng([seed, 61])
    return Case(
        seed,
        str(rng.choice(list(ACTIVATIONS))),
        int(rng.choice([1, 4, 16])),
        float(rng.choice([0.0, 10 ** rng.uniform(-1.5, -0.5)])),
        int(rng.choice([0, 100, 3000])),
        bool(rng.random() < 0.25),
    )


class Net:
    """x -> act(x W1 + b1) W2 + b2, MSE (mean over every entry) plus lam sum of W1² and W2²."""

    def __init__(self, case: Case):
        rng = np.random.default_rng([case.seed, 62])
        self.case = case
        if case.corners:
            self.X = rng.integers(-1, 2, size=(case.rows, 3)).astype(np.float64)
        else:
            self.X = rng.normal(size=(case.rows, 3))
        self.y = rng.normal(size=(case.rows, 2))
        self.params = [rng.normal(size=(3, 6)) / np.sqrt(3), np.zeros(6),
                       rng.normal(size=(6, 2)) / np.sqrt(6), np.zeros(2)]  # fmt: skip

    def loss(self) -> float:
        W1, b1, W2, b2 = self.params
        act = ACTIVATIONS[self.case.activation][0]
        out = act(self.X @ W1 + b1) @ W2 + b2
        penalty = self.case.lam * (np.sum(W1 * W1) + np.sum(W2 * W2))
        return float(np.mean((out - self.y) ** 2) + penalty)

    def gradients(self, wrong: str | None = None) -> list[np.ndarray]:
        W1, b1, W2, b2 = self.params
        act, slope, bad_slope = ACTIVATIONS[self.case.activation]
        z = self.X @ W1 + b1
        a = act(z)
        factor = 1.0 if wrong == "no factor 2" else 2.0
        d_out = factor * (a @ W2 + b2 - self.y) / self.y.size
        d_z = (d_out @ W2.T) * (bad_slope(z) if wrong == "activation" else slope(z))
        grads = [self.X.T @ d_z, d_z.sum(axis=0), a.T @ d_out, d_out.sum(axis=0)]
        if wrong == "bias mean":
            grads[1] = grads[1] / len(z)
        times = {"no penalty": 0, "penalty twice": 2}.get(wrong or "", 1)
        grads[0] = grads[0] + times * 2 * self.case.lam * W1
        grads[2] = grads[2] + times * 2 * self.case.lam * W2
        return grads


def trained(case: Case, lr: float = 0.01) -> Net:
    """The net after ``case.steps`` Adam steps (in place; the corners keep zero biases)."""
    net = Net(case)
    m = [np.zeros_like(p) for p in net.params]
    v = [np.zeros_like(p) for p in net.params]
    for t in range(1, case.steps + 1):
        for p, g, mk, vk in zip(net.params, net.gradients(), m, v):
            mk[...] = 0.9 * mk + 0.1 * g
            vk[...] = 0.999 * vk + 0.001 * g * g
            p -= lr * (mk / (1 - 0.9**t)) / (np.sqrt(vk / (1 - 0.999**t)) + 1e-8)
    if case.corners:
        net.params[1][...] = 0.0
    return net


def near_kinks(net: Net, reach: float) -> np.ndarray:
    """Which hidden units have some row's input within ``reach`` times the rows' size
    (max(1, max |x|)) of a kink of the activation (0, or -1 and 1 for clip)."""
    W1, b1, _, _ = net.params
    z = net.X @ W1 + b1
    kinks = (-1.0, 1.0) if net.case.activation == "clip" else (0.0,)
    distance = np.min([np.abs(z - k) for k in kinks], axis=0)
    return np.any(distance <= reach * max(1.0, float(np.max(np.abs(net.X)))), axis=0)


def off_kinks(net: Net, grads: list[np.ndarray], units: np.ndarray) -> list[np.ndarray]:
    """``grads`` with the entries of ``units`` (their W1 columns and b1 entries) zeroed."""
    W1, b1, W2, b2 = (g.copy() for g in grads)
    W1[:, units], b1[units] = 0.0, 0.0
    return [W1, b1, W2, b2]


def visible(net: Net, wrong: list[np.ndarray], right: list[np.ndarray]) -> bool:
    """As the attack counts it (gradcheck_visible._resolution, MSE has no quantum): some
    entry differs by more than 1e-4 of its right value and by more than finite differences
    can resolve at h = 1e-3 at all, 100 times the larger of 1e2 ulp of the loss and its
    measured rounding noise within 3e-3, over the step (a fitted regression's loss of 1e-32
    carries noise of 1e-22 where the steps reach: a gradient of 1e-16 is no bug any check
    sees). Entries of units within the largest step's reach (3e-3) of a kink aside, as the
    attack leaves out entries at built-in kinks: there either side's slope is right."""
    sigma = loss_noise(net.loss, net.params, np.random.default_rng(net.case.seed), 3e-3)
    floor = 100 * max(1e2 * ULP * abs(net.loss()), sigma) / 1e-3
    units = near_kinks(net, 3e-3)
    wrong, right = off_kinks(net, wrong, units), off_kinks(net, right, units)
    return any(np.any((np.abs(w - r) > 1e-4 * np.abs(r)) & (np.abs(w - r) > floor))
               for w, r in zip(wrong, right))  # fmt: skip


# a unit is collapsed onto its kink when every row's input is within COLLAPSED times the
# rows' size of it: the steps 1e-3 to 1e-5, whose tolerance would judge so small a unit's
# gradients, move its rows across; 1e-6 and 1e-7 may not, and their rounding hides them
COLLAPSED = 1e-5


def without_collapsed(net: Net, grads: list[np.ndarray]) -> hg.GradcheckReport | None:
    """The check of every entry except those of units collapsed onto a kink (every row's
    input within ``COLLAPSED`` of one), None if no unit is: the callable form's
    known limit (docs/gradcheck.md). Such a unit's entries are checked on views of their
    own columns, so the entries left are exactly the other units' and the second layer's."""
    collapsed = _all_near(net)
    if not np.any(collapsed):
        return None
    W1, b1, W2, b2 = net.params
    keep = [u for u in range(len(b1)) if not collapsed[u]]
    params = [W1[:, u : u + 1] for u in keep] + [b1[u : u + 1] for u in keep] + [W2, b2]
    values = [grads[0][:, u : u + 1] for u in keep] + [grads[1][u : u + 1] for u in keep]
    return hg.gradcheck(net.loss, params, [*values, grads[2], grads[3]])


def _all_near(net: Net) -> np.ndarray:
    """Which units have every row's input within ``COLLAPSED`` of a kink."""
    W1, b1, _, _ = net.params
    z = net.X @ W1 + b1
    kinks = (-1.0, 1.0) if net.case.activation == "clip" else (0.0,)
    distance = np.min([np.abs(z - k) for k in kinks], axis=0)
    return np.all(distance <= COLLAPSED * max(1.0, float(np.max(np.abs(net.X)))), axis=0)


def judge(case: Case, counts: dict[str, int]) -> None:
    net = trained(case)
    if not np.isfinite(net.loss()):
        counts["diverged"] += 1
        return
    right = net.gradients()
    report = hg.gradcheck(net.loss, net.params, right)
    counts["correct"] += 1
    if not report.passed:
        rest = without_collapsed(net, right)
        label = "false FAIL" if rest is None or not rest.passed else "collapsed unit"
        counts[label] += 1
        print(label.upper(), case, report.explanation(), sep="\n", flush=True)
    for name in WRONGS:
        if name.startswith(("no penalty", "penalty")) and case.lam == 0.0:
            continue
        wrong = net.gradients(name)
        if not visible(net, wrong, right):
            counts["invisible"] += 1
            continue
        counts["wrong"] += 1
        if hg.gradcheck(net.loss, net.params, wrong).passed:
            counts["miss"] += 1
            print("MISS", case, name, flush=True)


if __name__ == "__main__":
    counts = dict.fromkeys(
        ("correct", "false FAIL", "collapsed unit", "wrong", "invisible", "miss", "diverged"), 0
    )
    for seed in range(int(sys.argv[1]), int(sys.argv[2])):
        judge(draw(seed), counts)
    print(counts)
    sys.exit(1 if counts["false FAIL"] or counts["miss"] else 0)
