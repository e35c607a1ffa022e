"""What every command module shares: the error types, the parser class, argument types."""

from __future__ import annotations

import argparse
import difflib
from collections.abc import Callable, Iterable
from typing import Any

from ..data.tabular import DataError
from ..nn.constraints import Integer, Real, argument_type
from ..tabular.config import CONSTRAINTS, ConfigError


class UsageError(ValueError):
    """A command line that cannot work (an option that does not apply, a bad value)."""


# errors caused by the user's input: reported in one line, exit status 2
USER_ERRORS: tuple[type[Exception], ...] = (UsageError, DataError, ConfigError)


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """'; did you mean 'backprop'?' for a near miss among ``choices``, else ''."""
    close = difflib.get_close_matches(word, [str(c) for c in choices], n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


class _Parser(argparse.ArgumentParser):
    """argparse with the house error format (one line on stderr, exit status 2) and a
    "did you mean" for a misspelt command or choice."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"handgrad: error: {message} (see `{self.prog} --help`)\n")

    def _check_value(self, action: argparse.Action, value) -> None:
        choices = action.choices
        if choices is None or value in choices:
            return
        names = list(choices)
        raise argparse.ArgumentError(
            action,
            f"invalid choice: {value!r} (choose from {', '.join(map(str, names))})"
            + did_you_mean(str(value), names),
        )


# argparse types from the engine's constraints: "expected an integer >= 1, got '0'"
POSITIVE_INT = argument_type(Integer(1))
NON_NEGATIVE_INT = argument_type(Integer(0))
FRACTION = argument_type(Real(0.0, 1.0, high_open=True))
PORT = argument_type(Integer(1, 65535))


def train_option(field: str) -> Callable[[str], Any]:
    """The argparse type of a ``handgrad train`` option: TrainConfig's own constraint."""
    return argument_type(CONSTRAINTS[field][1])


class DefaultsShown(argparse.HelpFormatter):
    """Help that ends with "(default: X)" for options whose default means something."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        meaningless = action.default is None or action.default is False
        shown = not meaningless and action.default != argparse.SUPPRESS and not action.required
        if shown and "default" not in text and action.option_strings:
            text += " (default: %(default)s)"
        return text


class RawDefaultsShown(DefaultsShown, argparse.RawDescriptionHelpFormatter):
    """DefaultsShown, with the description's line breaks kept (for lists of chapters)."""
