"""The loop's module docstring lists the steps ``fit`` calls, in order: it stays true."""

from __future__ import annotations

import ast
import inspect
import re

from handgrad.train import loop

# what fit's body calls besides its steps: the loop's frame, not a step
FRAME = {"deferred_interrupt", "range"}


def documented_steps(doc: str) -> list[tuple[str, str]]:
    """(group, function) for each line of the docstring's list of steps (a group's name in
    column 4, a function's in column 13); a line without a group's name is in the group of
    the line before."""
    block = doc.split("called in this order", 1)[1].split("\n\n", 2)[1]
    steps, group = [], ""
    for line in block.splitlines():
        match = re.match(r" {4}([a-z ]{9})(_[a-z_]+)\b", line)  # (the name in column 13)
        if match:
            group = match.group(1).strip() or group
            steps.append((group, match.group(2)))
    return steps


def calls_of_fit(source: str) -> list[str]:
    """The names fit's body calls, in the order they appear."""
    tree = ast.parse(source)
    fit = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "fit")
    calls = [n for n in ast.walk(fit) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)]
    return [c.func.id for c in sorted(calls, key=lambda c: (c.lineno, c.col_offset))]


def test_the_docstring_lists_the_functions_fit_calls_in_order():
    steps = [name for _, name in documented_steps(loop.__doc__)]
    called = calls_of_fit(inspect.getsource(loop))
    assert [name for name in called if name not in FRAME] == steps
    assert all(callable(getattr(loop, name)) for name in steps)


def test_the_steps_are_grouped_as_the_house_names_them():
    groups = [group for group, _ in documented_steps(loop.__doc__)]
    assert list(dict.fromkeys(groups)) == ["prepare", "step", "epoch", "finish"]


def test_the_checks_see_a_docstring_that_drifted():
    doc = loop.__doc__
    assert doc is not None
    swapped = doc.replace("_run_epoch ", "_RUN_EPOCH ").replace("_end_epoch ", "_run_epoch ")
    swapped = swapped.replace("_RUN_EPOCH ", "_end_epoch ")
    assert [n for _, n in documented_steps(swapped)] != [n for _, n in documented_steps(doc)]
    source = inspect.getsource(loop).replace(
        "        _check_final_weights(run)\n",
        "        _check_final_weights(run)\n        _extra(run)\n",
    )
    assert "_extra" in calls_of_fit(source)
    assert "_extra" not in [n for _, n in documented_steps(doc)]
