"""A saved figure's output does not depend on the machine's load.

matplotlib warns ("Creating legend with loc="best" can be slow ...") when placing a legend
at its default place took over a second of wall time: on a loaded machine a command would
print that line by chance, and a test reading the command's stderr would fail by chance.
Here the clock matplotlib reads jumps two seconds per reading, as on a very loaded machine.
"""

from __future__ import annotations

import itertools
import types
import warnings

import matplotlib.legend
import numpy as np
import pytest
from matplotlib.figure import Figure

from handgrad.plots import save_figure


@pytest.fixture
def slow_clock(monkeypatch):
    ticks = itertools.count(0.0, 2.0)
    clock = types.SimpleNamespace(perf_counter=lambda: next(ticks))
    monkeypatch.setattr(matplotlib.legend, "time", clock)


def figure_with_a_legend() -> Figure:
    fig = Figure(figsize=(4, 3))
    ax = fig.add_subplot()
    x = np.linspace(0, 1, 200)
    ax.plot(x, x**2, label="train")
    ax.plot(x, 1 - x, label="validation")
    ax.legend()  # loc="best", the default
    return fig


def shown(call) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return [str(w.message) for w in caught]


def test_matplotlib_warns_on_a_slow_legend_placement(slow_clock, tmp_path):
    """The control: with this clock matplotlib's own savefig does warn."""
    fig = figure_with_a_legend()
    messages = shown(lambda: fig.savefig(tmp_path / "plain.png"))
    assert any("can be slow" in m for m in messages), messages


def test_save_figure_says_nothing_of_a_slow_legend_placement(slow_clock, tmp_path):
    messages = shown(lambda: save_figure(figure_with_a_legend(), tmp_path / "house.png"))
    assert messages == []
    assert (tmp_path / "house.png").read_bytes().startswith(b"\x89PNG")
