"""benchmarks/paired.py: every rival runs once per handgrad epoch and trains the same thing.

Only the harness is tested; its timings are printed by ``make bench-paired``, never asserted.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import paired  # noqa: E402
from workloads import WORKLOADS  # noqa: E402


def test_each_rival_is_timed_once_per_round_and_ratios_are_positive():
    result = paired.paired(WORKLOADS["W3"], "float64", rounds=3, with_torch=False)
    assert set(result["ratios"]) == {"plain NumPy", "matmul bound"}
    for q in result["ratios"].values():
        assert 0 < q["q25"] <= q["median"] <= q["q75"]
        assert q["rival_s_per_epoch"] > 0


def test_the_plain_rival_really_trains():
    w = WORKLOADS["W3"]
    X, y = paired.make_data(w, "float64")
    rivals = paired.Rivals(w, X, y, with_torch=False)
    before = [W.copy() for W in rivals.plain_params[0]]
    rivals.plain()
    assert not any(np.array_equal(a, b) for a, b in zip(before, rivals.plain_params[0]))
