"""What a parameter may be, written once as a constraint, and checked alike everywhere.

A constraint describes the values a parameter accepts; ``check`` converts a value or
raises one message, the same for every layer, loss, optimizer, estimator and option:

    >>> check(0.5, Real(0, 1, high_open=True), "momentum", "SGD")
    0.5
    >>> check(1.5, Real(0, 1, high_open=True), "momentum", "SGD")
    Traceback (most recent call last):
    ...
    ValueError: SGD: momentum must be a finite number in [0, 1), got 1.5

The error is a TypeError when the value is not of the constraint's kind (a string for a
number, a float for an integer) and a ValueError when it is but lies outside. A tuple of
constraints accepts a value any one of them accepts (``(Options("auto"), Integer(1))``).
``argument_type`` turns a constraint into an argparse ``type=``, so that a command-line
option and the function it calls say the same thing. (scikit-learn's
``_param_validation`` is the model: a table of constraints per parameter, checked at fit.)
"""

from __future__ import annotations

import argparse
import math
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = [
    "Constraint",
    "Real",
    "Integer",
    "Options",
    "Boolean",
    "check",
    "problem",
    "describe",
    "argument_type",
]


def _show(x: float) -> str:
    """A bound as a reader writes it: 1, 0.5, 1e+06, 4294967296."""
    if isinstance(x, numbers.Integral):
        return str(int(x))
    return f"{x:g}"


class Constraint:
    """A set of values: ``convert`` raises TypeError for a value of the wrong kind and
    returns it in its canonical type otherwise; ``contains`` tells whether the converted
    value is inside; ``str()`` describes the set ("an integer >= 1")."""

    def convert(self, value: Any) -> Any:
        return value

    def contains(self, value: Any) -> bool:
        raise NotImplementedError

    def parse(self, text: str) -> Any:
        """The value a command-line word stands for (ValueError if it cannot be read)."""
        return text


# exact types that are real numbers for certain (not bool: its type is bool, not int)
_PLAIN_NUMBERS = (float, int)


class Real(Constraint):
    """A finite real number in an interval; a missing bound is no bound.

    ``Real(0, low_open=True)`` is (0, inf), ``Real(0, 1, high_open=True)`` is [0, 1).
    NaN and inf are never inside. The value comes back as a Python float.
    """

    def __init__(
        self,
        low: float | None = None,
        high: float | None = None,
        *,
        low_open: bool = False,
        high_open: bool = False,
    ):
        self.low, self.high = low, high
        self.low_open, self.high_open = low_open, high_open

    def convert(self, value: Any) -> float:
        if type(value) not in _PLAIN_NUMBERS and (
            isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real)
        ):  # (a Python float or int needs no ABC check, which is slow)
            raise TypeError
        try:
            return float(value)
        except OverflowError:  # an integer beyond the float range
            return -math.inf if value < 0 else math.inf

    def contains(self, value: float) -> bool:
        if not math.isfinite(value):
            return False
        if self.low is not None and (value <= self.low if self.low_open else value < self.low):
            return False
        return self.high is None or (value < self.high if self.high_open else value <= self.high)

    def parse(self, text: str) -> float:
        return float(text)

    def __str__(self) -> str:
        return f"a finite number{_range(self.low, self.high, self.low_open, self.high_open)}"


class Integer(Constraint):
    """An integer (Python or NumPy, never a bool or a float) in [low, high]."""

    def __init__(self, low: int | None = None, high: int | None = None):
        self.low, self.high = low, high

    def convert(self, value: Any) -> int:
        if type(value) is int:  # (no ABC check, which is slow; a bool's type is bool)
            return value
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
            raise TypeError
        return int(value)

    def contains(self, value: int) -> bool:
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)

    def parse(self, text: str) -> int:
        return int(text)

    def __str__(self) -> str:
        return f"an integer{_range(self.low, self.high, False, False)}"


class Options(Constraint):
    """One of a few values, compared by equality (a bool never stands for 1 or 0)."""

    def __init__(self, *options: Any):
        self.options = options

    def contains(self, value: Any) -> bool:
        if isinstance(value, np.ndarray):  # (an array of one 'mean' would compare equal)
            return False
        for option in self.options:
            if isinstance(value, (bool, np.bool_)) != isinstance(option, bool):
                continue
            try:
                if bool(value == option):
                    return True
            except (TypeError, ValueError):  # an array compared with a string, ...
                continue
        return False

    def __str__(self) -> str:
        names = [repr(o) for o in self.options]
        if len(names) <= 2:
            return " or ".join(names)
        return "one of " + ", ".join(names)


class Boolean(Constraint):
    """True or False (Python's or NumPy's); 0, 1 and "yes" are refused."""

    def convert(self, value: Any) -> bool:
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError
        return bool(value)

    def contains(self, value: bool) -> bool:
        return True

    def __str__(self) -> str:
        return "True or False"


def _range(low: float | None, high: float | None, low_open: bool, high_open: bool) -> str:
    if low is None and high is None:
        return ""
    if high is None:
        return f" {'>' if low_open else '>='} {_show(low)}"  # type: ignore[arg-type]
    if low is None:
        return f" {'<' if high_open else '<='} {_show(high)}"
    left, right = "(" if low_open else "[", ")" if high_open else "]"
    return f" in {left}{_show(low)}, {_show(high)}{right}"


Constraints = Constraint | tuple[Constraint, ...]


def describe(constraint: Constraints) -> str:
    """The set in words: "a finite number > 0", "'auto' or an integer >= 1"."""
    parts = [str(c) for c in _each(constraint)]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]


def _each(constraint: Constraints) -> tuple[Constraint, ...]:
    return constraint if isinstance(constraint, tuple) else (constraint,)


def _message(value: Any, constraint: Constraints, name: str, who: str) -> str:
    prefix = f"{who}: " if who else ""
    return f"{prefix}{name} must be {describe(constraint)}, got {_shown(value)}"


def _shown(value: Any) -> str:
    """repr(value), but short: a 400-digit integer is named by its length."""
    if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
        bits = int(value).bit_length()
        if bits > 64:  # (str() of more than 4300 digits raises)
            size = f"{len(str(abs(int(value))))} digits" if bits < 14000 else f"{bits} bits"
            return f"{'a negative' if value < 0 else 'an'} integer of {size}"
    shown = repr(value)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def check(
    value: Any,
    constraint: Constraints,
    name: str,
    who: str = "",
    *,
    error: type[Exception] | None = None,
) -> Any:
    """``value`` converted by the first constraint that holds it, else an error naming
    ``who`` (the caller: "Adam", "MLPClassifier"), the parameter, the set and the value.

    TypeError if no constraint takes a value of its kind, ValueError otherwise; a caller
    whose failures are all of one kind (a malformed file, a grid) passes ``error``.
    """
    right_kind = False
    for c in _each(constraint):
        try:
            converted = c.convert(value)
        except TypeError:
            continue
        right_kind = True
        if c.contains(converted):
            return converted
    if error is None:
        error = ValueError if right_kind or _has_options(constraint) else TypeError
    raise error(_message(value, constraint, name, who))


def _has_options(constraint: Constraints) -> bool:
    # a value outside a set of named options is a wrong value, never a wrong type
    return any(isinstance(c, Options) for c in _each(constraint))


def problem(value: Any, constraint: Constraints, name: str, who: str = "") -> str | None:
    """The message ``check`` would raise, or None if the value is fine (for callers that
    report every problem at once)."""
    try:
        check(value, constraint, name, who)
    except (TypeError, ValueError) as exc:
        return str(exc)
    return None


def argument_type(constraint: Constraints) -> Callable[[str], Any]:
    """An argparse ``type=``: the word read by the constraint(s), checked by them.

    argparse prints "argument --epochs: expected an integer >= 1, got '0'".
    """

    def parse(text: str) -> Any:
        for c in _each(constraint):
            try:
                value = c.parse(text)
            except ValueError:
                continue
            try:
                return check(value, c, "")
            except (TypeError, ValueError):
                continue
        raise argparse.ArgumentTypeError(f"expected {describe(constraint)}, got {text!r}")

    return parse
