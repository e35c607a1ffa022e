"""benchmarks/fit_cold.py: the work before each timed call really runs, each setting is
timed once per round. Only the harness is tested; its timings are never asserted."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import fit_cold  # noqa: E402
import fit_overhead  # noqa: E402


def test_the_epoch_before_a_call_trains_its_own_model_on_every_batch():
    setup = fit_overhead._setup()
    weights = [p.value for p in setup[2].parameters()]
    before = [w.copy() for w in weights]
    fit_cold.settings(setup)["after an epoch"]()
    assert all(not np.array_equal(b, w) for b, w in zip(before, weights))


def test_each_setting_is_timed_once_per_round(capsys):
    times = fit_cold.rounds(3, warm_up=1)
    assert list(times) == ["back to back", "after an epoch", "after NumPy work"]
    assert all(len(v) == 3 and min(v) > 0 for v in times.values())
    assert fit_cold.main(["--rounds", "2"]) == 0
    out = capsys.readouterr().out
    assert out.count("cold - warm per round") == 2
    assert "back to back" in out
