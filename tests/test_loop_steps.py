"""The loop's shape stays as it reads: its module docstring lists the steps ``fit`` calls, in
order; the long positional calls pass each argument to the parameter of its name."""

from __future__ import annotations

import ast
import dataclasses
import inspect
import re

from handgrad.train import loop, state

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


def calls_in(source: str, function: str) -> list[tuple[str, ast.Call]]:
    """(name, call) for each call of a plain name in ``function``'s body, in order."""
    tree = ast.parse(source)
    body = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == function)
    calls = [
        (n.func.id, n)
        for n in ast.walk(body)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
    ]
    return sorted(calls, key=lambda nc: (nc[1].lineno, nc[1].col_offset))


def calls_of_fit(source: str) -> list[str]:
    """The names fit's body calls, in the order they appear."""
    return [name for name, _ in calls_in(source, "fit")]


def the_call(source: str, function: str, callee: str) -> ast.Call:
    """``function``'s one call of ``callee``."""
    (call,) = [call for name, call in calls_in(source, function) if name == callee]
    return call


def argument_names(call: ast.Call) -> list[str]:
    """The name each positional argument of ``call`` passes (``bool(x)`` passes x)."""
    names = []
    for arg in call.args:
        if isinstance(arg, ast.Call) and isinstance(arg.func, ast.Name) and arg.func.id == "bool":
            arg = arg.args[0]
        names.append(arg.id if isinstance(arg, ast.Name) else ast.unparse(arg))
    return names


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


def test_fit_passes_each_argument_to_the_parameter_of_its_name():
    call = the_call(inspect.getsource(loop), "fit", "_prepare")
    assert not call.keywords
    assert argument_names(call) == list(inspect.signature(loop._prepare).parameters)


def test_prepare_builds_the_run_with_each_field_by_its_name():
    call = the_call(inspect.getsource(loop), "_prepare", "Run")
    fields = [f.name for f in dataclasses.fields(state.Run) if f.init]
    required = [
        f.name
        for f in dataclasses.fields(state.Run)
        if f.init and f.default_factory is dataclasses.MISSING and f.default is dataclasses.MISSING
    ]
    assert not call.keywords
    assert argument_names(call) == fields[: len(call.args)]
    assert len(call.args) >= len(required) == 17


def test_the_argument_check_sees_two_swapped_arguments():
    source = inspect.getsource(loop).replace(
        "        seed,\n        rng,\n", "        rng,\n        seed,\n"
    )
    call = the_call(source, "fit", "_prepare")
    assert argument_names(call) != list(inspect.signature(loop._prepare).parameters)
