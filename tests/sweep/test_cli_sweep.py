"""`handgrad sweep` from the command line: the issue's command, re-run, and Dask missing."""

from __future__ import annotations

import json
import sys

import pytest

from handgrad.cli import main


@pytest.mark.slow
def test_the_command_runs_on_a_local_cluster_and_a_rerun_skips_what_is_done(tmp_path, capsys):
    pytest.importorskip("distributed", reason="the sweep extra is not installed")
    out = tmp_path / "sweep"
    argv = ["sweep", "--data", "iris", "--hidden", "4", "8,4", "--lr", "0.01", "0.1",
            "--epochs", "3", "--seeds", "0-1", "--workers", "2", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "running on a local cluster: 2 workers, 2 threads" in text
    assert "8 run now, 0 done before" in text
    assert f"best model: {out / 'model.npz'}" in text
    assert len(list((out / "records").glob("*.json"))) == 8
    table = (out / "table.csv").read_text()

    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "0 run now, 8 done before" in text
    assert "running on" not in text  # nothing to run: no cluster started
    assert (out / "table.csv").read_text() == table

    # the model predicts from a CSV of the feature columns
    names = json.loads((out / "best" / "config.json").read_text())["features"]
    rows = tmp_path / "rows.csv"
    rows.write_text(",".join(names) + "\n5.1,3.5,1.4,0.2\n6.7,3.0,5.2,2.3\n")
    assert main(["predict", "--model", str(out / "model.npz"), "--data", str(rows)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("prediction,p_setosa,p_versicolor,p_virginica")
    assert len(lines) == 3


def test_without_dask_the_command_says_how_to_install_it(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    out = tmp_path / "sweep"
    code = main(["sweep", "--data", "iris", "--hidden", "4", "--epochs", "1", "--out", str(out)])
    assert code == 2
    from handgrad.install import install_hint

    assert install_hint("sweep") in capsys.readouterr().err
    assert not out.exists()
    # the serial mode needs no Dask
    assert main(["sweep", "--data", "iris", "--hidden", "4", "--epochs", "1", "--serial",
                 "--out", str(out), "--quiet"]) == 0  # fmt: skip
    assert len(list((out / "records").glob("*.json"))) == 1
