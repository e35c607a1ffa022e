"""What a wrong backward must change for a float64 gradient check to see it at all (the
attack's "visible"), and the gradients gradcheck judges. Loaded by gradcheck_attack.py.
"""

from __future__ import annotations

import numpy as np

from handgrad.nn._gradcheck_copy import float64_problem
from handgrad.nn._gradcheck_kinks import kink_probe
from handgrad.nn._gradcheck_noise import loss_noise

ULP = float(np.finfo(np.float64).eps)


def _analytic(model, loss, X, y):
    """Each parameter's float64 gradient from the model's backward (as gradcheck sees it)."""
    m, X64, y64, _ = float64_problem(model, X, y)
    loss.forward(m.forward(X64), y64)
    m.backward(loss.backward())
    return [p.grad.astype(np.float64).copy() for p in m.parameters()]


def _resolution(model, loss, X, y, seed) -> float:
    """What finite differences in float64 can resolve at all, at h = 1e-3: 100 times the
    largest of 1e2 ulp of the loss, its measured rounding noise and its quantum, over the
    step. Below that no checker sees a bug: a gradient of 1e-34 halved (a saturated
    sigmoid's first layer), or 1e-18 (a fitted regression, whose loss of 1e-20 carries noise
    of 1e-30). The quantum: a loss through a rounded quantity (-log p, p near 1) moves in
    steps of ~1e-16 (the smallest change seen over 12 moves of 1e-4 along a random direction,
    some of which leave it unchanged); exactly 0 there too, 1e2 ulp of its size at
    predictions moved by N(0, 1)."""
    m, X64, y64, _ = float64_problem(model, X, y)

    def f():
        return loss.forward(m.forward(X64), y64)

    arrays = [p.value for p in m.parameters()]
    sigma = loss_noise(f, arrays, np.random.default_rng(seed), 3e-3)
    value = f()
    jumps = np.abs(np.diff(_along(f, arrays, np.random.default_rng(seed), 1e-4 * np.arange(13))))
    quantum = float(np.min(jumps[jumps > 0])) if np.any(jumps == 0) and np.any(jumps) else 0.0
    if value == 0.0 and not np.any(jumps):  # saturated: 0 wherever it is evaluated
        z = np.random.default_rng(seed).standard_normal(np.shape(m.forward(X64)))  # its size
        value = max(abs(loss.forward(z, y64)), abs(loss.forward(m.forward(X64) + z, y64)))
    return 100 * max(1e2 * ULP * abs(value), sigma, quantum) / 1e-3


def _along(f, arrays, rng, steps):
    """f at the arrays moved by t u, u uniform in [-1, 1], for each t in ``steps`` (restored)."""
    originals, u = [x.copy() for x in arrays], [rng.uniform(-1, 1, x.shape) for x in arrays]
    values = []
    for t in steps:
        for x, x0, d in zip(arrays, originals, u):
            x[...] = x0 + t * d
        values.append(f())
    for x, x0 in zip(arrays, originals):
        x[...] = x0
    return values


def _on_kinks(model, loss, X, y):
    """Per parameter, which entries sit exactly on a built-in unit's kink: some ReLU-like
    input equals its kink at θ and moving the entry by ±3e-7 moves it off. There either
    one-sided slope is a right derivative (``x > 0`` or ``x >= 0``), so a "wrong" backward
    that takes the other one is not wrong there (stages seed 317: inputs all 0, biases 0)."""
    m, X64, y64, _ = float64_problem(model, X, y)
    probe = kink_probe(m)
    params = [p.value for p in m.parameters()]
    masks = [np.zeros(v.shape, bool) for v in params]
    if probe is None:
        return masks
    m.forward(X64)
    at_theta = probe()
    if not any(np.any(state == 0) for state in at_theta):
        return masks
    for value, mask in zip(params, masks):
        for idx in np.ndindex(value.shape):
            original = value[idx]
            for t in (3e-7, -3e-7):
                value[idx] = original + t
                m.forward(X64)
                moved = [(a == 0) & (b != 0) for a, b in zip(at_theta, probe())]
                mask[idx] |= any(np.any(k) for k in moved)
            value[idx] = original
    return masks


def _visible(mutant_grads, correct_grads, resolution, report, on_kinks=None) -> bool:
    """The mutant changes some entry gradcheck looked at by more than 1e-4 of its correct
    value and by more than ``resolution`` (entries ``on_kinks`` aside)."""
    on_kinks = on_kinks or [False] * len(correct_grads)
    for row, g, c, kink in zip(report.rows, mutant_grads, correct_grads, on_kinks):
        if row.checked == 0:
            continue
        diff = np.abs(g - c)
        if np.any((diff > 1e-4 * np.abs(c)) & (diff > resolution) & ~np.asarray(kink)):
            return True
    return False
