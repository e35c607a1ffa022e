"""One count of the changes made to the engine's objects, so that something built from them
(``fit``'s fast step, kept between calls) can tell with one comparison that nothing changed.

Setting or deleting an attribute of a module, a parameter, a loss or an optimizer counts as
a change (``Counted``): a layer's weight Parameter replaced, a Parameter's array rebound, a
layer's width, a method set on an instance, a learning rate, a layer's class. What does not
count: names with one leading underscore (what forward keeps for backward, set on every
call), the names a class lists in ``uncounted`` (an optimizer's step count), and setting an
attribute to the very object it holds (``p.value -= g`` updates the array in place). Writing
into an array never counts: weights are data, read afresh by every step.

Not seen here, so whoever caches checks them itself: a change made around ``__setattr__``
(writing into ``vars(obj)``) and a change inside a list attribute (``model.layers.append``).
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

__all__ = ["Counted", "changed", "count"]

_TICKS = itertools.count(1)  # (``next`` on it is atomic: two threads never get one number)
count = 0  # the number of the latest change: read it before checking what it guards
_ABSENT = object()


def changed() -> None:
    """Count a change (after making it: a reader of ``count`` then sees the change)."""
    global count
    count = next(_TICKS)


class Counted:
    """A base class whose instances count every attribute set or deleted as a change."""

    __slots__ = ()
    uncounted: frozenset[str] = frozenset()  # attributes that change without counting

    if not TYPE_CHECKING:  # (hidden from type checkers, which would then allow any name)

        def __setattr__(self, name: str, value: Any) -> None:
            counts = (
                (name[0] != "_" or name.startswith("__"))
                and name not in self.uncounted
                and getattr(self, name, _ABSENT) is not value
            )
            object.__setattr__(self, name, value)
            if counts:
                changed()

        def __delattr__(self, name: str) -> None:
            object.__delattr__(self, name)
            changed()
