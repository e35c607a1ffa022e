"""A learner's slips in a notebook cell get an error that says what to type instead."""

from __future__ import annotations

import pytest

import handgrad.exercises as ex


@pytest.mark.parametrize("namespace", [globals, locals], ids=["globals", "locals"])
def test_passing_globals_without_calling_it_says_to_call_it(namespace):
    # before: each case "raised TypeError: globals() takes no arguments (2 given)"
    with pytest.raises(TypeError, match=rf"call it, check\('mse', {namespace.__name__}\(\)\)"):
        ex.check("mse", namespace)


def test_the_called_namespace_is_still_checked():
    def mse(y_pred, y_true):
        return float(((y_pred - y_true) ** 2).mean())

    assert ex.check("mse", {"mse": mse}).passed
    assert not ex.check("mse", {"mes": mse}).passed  # the entry's name is what counts
