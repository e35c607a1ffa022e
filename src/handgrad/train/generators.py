"""The Generator ``fit`` draws from when given an integer ``seed``, built once per seed.

Building ``np.random.default_rng(seed)`` costs ~6 us in a warm loop and ~37 us inside a
``fit`` call (its seed hashing goes through an ``np.errstate``-decorated function); setting
a kept Generator back to the seed's first state costs under 1 us and gives the very same
draws, in the same order. ``fit`` takes one (``seeded``) and gives it back when it ends
(``give_back``); a Generator taken is out of the store until given back, so two calls at
once never share one. Only a non-negative Python int seed (no ``rng``) has its Generator
kept; any other ``seed``/``rng`` goes to ``make_rng`` unchanged.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..nn.init import make_rng

__all__ = ["seeded", "give_back"]

_KEPT = 16  # seeds remembered at most (the oldest is forgotten first)
_FIRST: dict[int, Mapping[str, Any]] = {}  # seed -> the state default_rng(seed) starts in
_STORE: dict[int, np.random.Generator] = {}  # seed -> a Generator given back, free
_LOCK = threading.Lock()


def seeded(seed: int | None, rng: np.random.Generator | None) -> np.random.Generator:
    """What ``make_rng(seed, rng)`` returns, in the same state: for an integer ``seed``, a
    Generator given back earlier and reset to the seed's first state when there is one."""
    if not (rng is None and type(seed) is int and seed >= 0):  # (only these are kept)
        return make_rng(seed, rng)
    with _LOCK:
        generator, first_state = _STORE.pop(seed, None), _FIRST.get(seed)
    if generator is not None and first_state is not None:
        generator.bit_generator.state = first_state
        return generator
    generator = make_rng(seed, None)
    with _LOCK:  # (the state: a new dict of Python ints, never changed)
        _FIRST[seed] = generator.bit_generator.state
        while len(_FIRST) > _KEPT:
            forgotten = next(iter(_FIRST))
            del _FIRST[forgotten]
            _STORE.pop(forgotten, None)
    return generator


def give_back(seed: int | None, rng: np.random.Generator | None, used: np.random.Generator) -> None:
    """Keep ``used`` (what ``seeded(seed, rng)`` returned; its call is over) for the next
    call with the same integer ``seed``."""
    if rng is None and type(seed) is int:  # (a kept seed, >= 0, is in _FIRST)
        with _LOCK:
            if seed in _FIRST:
                _STORE[seed] = used
