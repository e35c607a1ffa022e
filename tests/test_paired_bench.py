"""benchmarks/paired.py: every rival runs once per handgrad epoch and trains the same thing.

Only the harness is tested; its timings are printed by ``make bench-paired``, never asserted.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

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


def test_the_floor_rival_is_timed_and_compared_with_the_plain_loop():
    result = paired.paired(WORKLOADS["W3"], "float64", rounds=3, with_torch=False, with_floor=True)
    assert set(result["ratios"]) == {"plain NumPy", "matmul bound", "NumPy floor"}
    for key in ("floor_over_plain", "floor_over_bound"):
        q = result[key]
        assert 0 < q["q25"] <= q["median"] <= q["q75"]
    # the floor is the bound's products and more: never faster than the bound alone
    assert result["floor_over_bound"]["median"] > 1
    table = paired._table([result])
    assert "NumPy floor ÷ plain NumPy | NumPy floor ÷ matmul bound" in table.splitlines()[0]
    assert len(table.splitlines()[2].split("|")) == len(table.splitlines()[0].split("|"))


def test_the_floor_rival_really_trains_from_the_initial_weights():
    w = WORKLOADS["W3"]
    X, y = paired.make_data(w, "float64")
    rivals = paired.Rivals(w, X, y, with_torch=False, with_floor=True)
    rivals.floor_epoch()
    after_one = [W.copy() for W in rivals.minimal.W]
    assert not any(np.array_equal(a, b) for a, b in zip(after_one, rivals.minimal.W0))
    rivals.floor_epoch()  # reset first: the same start, a new shuffle
    assert not any(np.array_equal(a, b) for a, b in zip(after_one, rivals.minimal.W))


def test_fit_overhead_reports_both_shares_with_quartiles():
    out = paired.fit_overhead(WORKLOADS["W3"], epochs=3, repeats=3)
    for key in ("per_epoch", "per_call"):
        q25, q75 = out[f"{key}_q25_q75"]
        assert q25 <= out[f"{key}_share"] <= q75
    assert out["repeats"] == 3 and out["epochs"] == 3


def _result(workload, dtype, **medians):
    ratios = {name: {"median": m, "q25": m - 0.01, "q75": m + 0.01} for name, m in medians.items()}
    return {
        "workload": workload,
        "dtype": dtype,
        "rounds": 3,
        "handgrad_s_per_epoch": 1.0,
        "ratios": ratios,
    }


def test_targets_table_says_which_targets_are_met():
    results = [
        _result(
            "W1",
            "float32",
            **{"plain NumPy": 0.95, "PyTorch": 0.5, "handgrad float64": 0.6, "matmul bound": 1.6},
        ),
        _result("W3", "float64", **{"plain NumPy": 0.85, "PyTorch": 0.26, "matmul bound": 3.5}),
    ]
    overhead = {
        "per_call_share": 0.04,
        "per_call_q25_q75": [0.03, 0.05],
        "per_epoch_share": 0.06,
        "per_epoch_q25_q75": [0.05, 0.07],
    }
    rows = {
        line.split("|")[1].strip(): line.split("|")[3].strip()
        for line in paired.targets_table(results, overhead).splitlines()[2:]
    }
    assert rows == {
        "W1 float32: handgrad ÷ plain NumPy <= 0.9": "**no**",
        "W3 float64: handgrad ÷ plain NumPy <= 0.9": "yes",
        "W1 float32: handgrad ÷ PyTorch <= 0.85": "yes",
        "W3 float64: handgrad ÷ PyTorch <= 0.25": "**no**",
        "W1 float32: handgrad ÷ matmul bound <= 1.5": "**no**",
        "W1 float32: handgrad ÷ handgrad float64 <= 0.625": "yes",
        "W3: fit's own work per call <= 5% of an epoch": "yes",
        "W3: fit's own work per epoch <= 5% of an epoch": "**no**",
    }


def test_report_reprints_a_saved_run(tmp_path, capsys):
    import json

    saved = tmp_path / "run.json"
    result = _result("W4", "float64", **{"plain NumPy": 0.7, "PyTorch": 0.2})
    saved.write_text(json.dumps({"paired": [result], "fit_overhead": None}))
    assert paired.main(["--report", str(saved)]) == 0
    out = capsys.readouterr().out
    assert "| W4 | float64 | 3 | 1.0000 | 0.70 (0.69–0.71) | 0.20 (0.19–0.21) |" in out
    assert "| W4 float64: handgrad ÷ PyTorch <= 0.25 | 0.20 (0.21) | yes |" in out


def test_the_fit_floor_really_trains_and_checks_its_data():
    import fit_overhead

    setup = fit_overhead._setup()
    floor = fit_overhead.FloorFit(setup)
    weight = setup[2].parameters()[0].value
    before = weight.copy()
    floor(1, 0)
    assert not np.array_equal(before, weight)
    floor.X = floor.X.copy()
    floor.X[5, 3] = np.nan
    with pytest.raises(ValueError, match="bad data"):
        floor(1, 0)


def test_the_quiet_run_s_summary_says_whether_the_machine_was_quiet(tmp_path):
    import quiet

    (tmp_path / "paired.txt").write_text("| W1 | float32 | 0.5 |\n")
    step = {"step": "paired", "command": "python benchmarks/paired.py", "seconds": 9.0}
    log = [{**step, "load_before": "0.31, 0.40, 0.52", "load_after": "0.90, 0.5, 0.5"}]
    text = quiet.summary(tmp_path, [{**log[0], "returncode": 0}], quick=False)
    assert text.startswith("Quiet machine") and "| W1 | float32 | 0.5 |" in text
    loaded = [{**log[0], "load_before": "1.20, 0.40, 0.52", "returncode": 1}]
    text = quiet.summary(tmp_path, loaded, quick=True)
    assert text.startswith("**Not a quiet machine** (1-minute load average up to 1.20")
    assert "(failed)" in text and "--quick" in text
