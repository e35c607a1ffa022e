"""benchmarks/sklearn_mlp.py and estimators_predict_large.py run and print their Markdown
tables (timings are not tested)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

import estimators_predict_large  # noqa: E402
import sklearn_mlp  # noqa: E402


def test_benchmark_prints_one_markdown_row_per_data_set_and_solver(capsys):
    sklearn_mlp.main(["--quick", "--datasets", "wine,diabetes", "--solvers", "lbfgs,adam"])
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("| ") and "---" not in line]
    header, body = rows[0], rows[1:]
    assert header.count("|") == 10 and "time ratio" in header
    assert [tuple(r.split(" | ")[:2]) for r in body] == [
        ("| wine", "lbfgs"),
        ("| wine", "adam"),
        ("| diabetes", "lbfgs"),
        ("| diabetes", "adam"),
    ]
    for row in body:
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert len(cells) == 9
        ratio = float(cells[4].split()[0])
        assert ratio > 0
        hg_mean, _, hg_sd = cells[5].split()
        assert float(hg_sd) >= 0 and -10 < float(hg_mean) <= 1
        assert cells[8].count("/") == 1
    assert "load average" in out


def test_same_start_gives_lbfgs_scikit_learns_scores(capsys):
    """From scikit-learn's initial weights, L-BFGS (no other randomness) reaches the same
    test accuracy round by round: the score difference is 0."""
    sklearn_mlp.main(
        ["--quick", "--same-start", "--datasets", "breast_cancer", "--solvers", "lbfgs"]
    )
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("| breast_cancer"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[7] == "+0.0000 ± 0.0000"
    assert cells[5] == cells[6]


def test_benchmark_refuses_a_single_round():
    with pytest.raises(SystemExit):
        sklearn_mlp.main(["--rounds", "1"])


def test_large_batch_benchmark_prints_one_row_per_case(capsys):
    estimators_predict_large.main(["--rounds", "2", "--calls", "1", "--rows", "500"])
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("| ") and "---" not in line]
    assert [r.split(" | ")[0] for r in rows[1:]] == [
        "| classifier predict_proba",
        "| classifier predict",
        "| regressor predict",
    ]
    for row in rows[1:]:
        ratio = float(row.split(" | ")[3].split()[0])
        assert ratio > 0
    assert out.startswith("load before:") and "load after:" in out
