"""fit's Generators kept per integer seed: reset to the seed's first state they give the
draws a fresh ``default_rng(seed)`` gives, and a Generator taken is never handed out twice."""

from __future__ import annotations

import numpy as np

import handgrad as hg
from handgrad.train import generators


def test_a_kept_generator_draws_what_a_fresh_one_draws():
    for seed in (0, 7, 2**40):
        first = generators.seeded(seed, None)
        first.permutation(50)
        first.random(3)  # leaves it mid-stream
        generators.give_back(seed, None, first)
        again = generators.seeded(seed, None)
        assert again is first
        np.testing.assert_array_equal(
            again.permutation(50), np.random.default_rng(seed).permutation(50)
        )
        generators.give_back(seed, None, again)


def test_a_generator_taken_is_not_handed_out_again_until_given_back():
    one = generators.seeded(5, None)
    generators.give_back(5, None, one)
    taken = generators.seeded(5, None)
    other = generators.seeded(5, None)  # a second call at once: a Generator of its own
    assert taken is one and other is not one
    np.testing.assert_array_equal(other.random(4), np.random.default_rng(5).random(4))


def test_other_seeds_and_given_generators_are_not_kept():
    rng = np.random.default_rng(1)
    assert generators.seeded(None, rng) is rng
    generators.give_back(None, rng, rng)
    assert generators.seeded(None, None) is not rng
    for seed in (np.int64(3), [1, 2]):  # equal streams, built anew each time
        a = generators.seeded(seed, None)
        generators.give_back(seed, None, a)
        assert generators.seeded(seed, None) is not a
        np.testing.assert_array_equal(a.random(2), np.random.default_rng(seed).random(2))


def test_only_the_last_seeds_are_remembered():
    for seed in range(1000, 1000 + 3 * generators._KEPT):
        generators.give_back(seed, None, generators.seeded(seed, None))
    assert len(generators._FIRST) <= generators._KEPT
    assert set(generators._STORE) <= set(generators._FIRST)


def test_fit_with_one_seed_again_and_again_trains_the_same():
    X = np.random.default_rng(0).normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(np.intp)

    def weights_after_fit() -> list[np.ndarray]:
        model = hg.mlp([3, 4, 2], "relu", seed=1)
        opt = hg.SGD(model.parameters(), lr=0.1)
        hg.fit(model, hg.SoftmaxCrossEntropyLoss(), opt, X, y, epochs=3, batch_size=8, seed=11,
               validation_fraction=0.25)  # fmt: skip
        return [p.value.copy() for p in model.parameters()]

    first = weights_after_fit()
    for _ in range(3):
        for a, b in zip(first, weights_after_fit()):
            np.testing.assert_array_equal(a, b)
