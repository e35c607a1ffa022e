"""The benchmark's rival loops train the same thing as handgrad (so their times compare).

Timings are not tested here (``make bench`` measures them); only that the plain NumPy loop
and the "minimal step" of benchmarks/floor.py take the same SGD steps as ``hg.fit``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import handgrad as hg

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import floor  # noqa: E402
import plain_numpy  # noqa: E402
import profile_step  # noqa: E402
from workloads import LEARNING_RATE, WORKLOADS, make_data  # noqa: E402


def _small(name: str, n: int):
    """The workload's network and loss on its first n rows."""
    w = WORKLOADS[name]
    X, y = make_data(w, "float64")
    return w, X[:n].copy(), y[:n].copy()


def _handgrad_step(w, X, y, weights, biases):
    """One full-batch handgrad SGD step from the given weights; returns the new ones."""
    model = hg.mlp(list(w.sizes), "relu", seed=0)
    for layer, W, b in zip(model.layers[::2], weights, biases):
        layer.weight.value[...] = W
        layer.bias.value[...] = b
    loss = hg.SoftmaxCrossEntropyLoss() if w.loss == "softmax_ce" else hg.BCEWithLogitsLoss()
    hg.fit(model, loss, hg.SGD(model.parameters(), lr=LEARNING_RATE), X, y,
           epochs=1, batch_size=len(X), shuffle=False)  # fmt: skip
    return [layer.weight.value for layer in model.layers[::2]], [
        layer.bias.value for layer in model.layers[::2]
    ]


@pytest.mark.parametrize("name", ["W3", "W4"])
def test_floor_minimal_step_is_an_sgd_step(name):
    w, X, y = _small(name, WORKLOADS[name].batch_size)
    loop = floor.MinimalLoop(w, X, y)
    expected_W, expected_b = _handgrad_step(w, X, y, loop.W, loop.b)
    X.take(np.arange(len(X)), axis=0, out=loop.xb)
    y.take(np.arange(len(X)), out=loop.yb)
    loop.step()
    for got, want in zip(loop.W + loop.b, expected_W + expected_b):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", ["W3", "W4"])
def test_plain_numpy_epoch_is_an_sgd_step(name):
    w, X, y = _small(name, WORKLOADS[name].batch_size)
    weights, biases = plain_numpy.init_params(w.sizes, X.dtype, seed=0)
    expected_W, expected_b = _handgrad_step(w, X, y, weights, biases)

    class NoShuffle:  # one batch, in order, as the handgrad step above
        def permutation(self, n):
            return np.arange(n)

    plain_numpy.train_epoch(X, y, weights, biases, w.loss, len(X), LEARNING_RATE, NoShuffle())
    for got, want in zip(weights + biases, expected_W + expected_b):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_profile_step_against_another_checkout_trains_both_alike():
    """``profile_step.py --against``: the other checkout's fast step (here this very source,
    loaded a second time under another name) runs the same batches from the same weights,
    so both end with the same weights; every phase and the whole step get a ratio."""
    w, X, y = _small("W3", 200)
    src = str(Path(hg.__file__).resolve().parents[1])
    other = profile_step.ab.load_other(src, "handgrad_profile_other")
    paths = [profile_step.build(hg, w, X, y), profile_step.build(other, w, X, y)]
    samples: list[dict[str, list[float]]] = [{p: [] for p in profile_step.PHASES} for _ in paths]
    for idx in (np.arange(32), np.arange(40, 72), np.arange(7)):
        for path, times in zip(paths, samples):
            profile_step.timed_step(path, idx, times)
    for a, b in zip(paths[0].params, paths[1].params):
        assert np.array_equal(a.value, b.value)
    table = profile_step.ratios(*samples)
    assert list(table) == [*profile_step.PHASES, "step"]
    for this_us, other_us, median, q25, q75 in table.values():
        assert this_us > 0 and other_us > 0 and q25 <= median <= q75


@pytest.mark.parametrize("name", ["W3", "W4"])
def test_profile_steps_plain_step_is_the_plain_loops_step(name):
    """profile_step.py times the plain loop's step in phases: the same step, cut up."""
    w, X, y = _small(name, WORKLOADS[name].batch_size)
    plain = profile_step.PlainStep(w.sizes, X, y, w.loss)
    weights, biases = plain_numpy.init_params(w.sizes, X.dtype, seed=0)
    expected_W, expected_b = _handgrad_step(w, X, y, weights, biases)
    plain(np.arange(len(X)))
    for got, want in zip(plain.weights + plain.biases, expected_W + expected_b):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    assert all(len(t) == 1 and t[0] > 0 for t in plain.times.values())


def test_floor_loop_parts_times_each_loop_once_a_round():
    times = floor.loop_parts("W3", rounds=2)
    assert set(times) == {"fit", "bare step loop", "minimal step", "plain NumPy"}
    assert all(len(v) == 2 and (v > 0).all() for v in times.values())
