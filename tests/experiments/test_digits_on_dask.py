"""The curriculum's loops as Dask tasks (`--scheduler`): the same numbers as the plain loop."""

from __future__ import annotations

import json

import pytest

from handgrad import cli
from handgrad.experiments import digits
from handgrad.experiments.discussion import _shared, batch_size


@pytest.mark.slow
def test_the_sweep_on_a_local_cluster_equals_the_plain_loop(tmp_path, dask_client):
    plain = digits.run(seed=3, out_dir=tmp_path / "plain", quick=True)
    on_dask = digits.run(seed=3, out_dir=tmp_path / "dask", quick=True, scheduler=dask_client)
    serial = digits.run(seed=3, out_dir=tmp_path / "serial", quick=True, scheduler="serial")
    assert plain.metrics["sweep"] == on_dask.metrics["sweep"] == serial.metrics["sweep"]
    assert plain.metrics["chosen"] == on_dask.metrics["chosen"]
    assert plain.metrics["test_accuracy"] == on_dask.metrics["test_accuracy"]
    assert plain.markdown == on_dask.markdown


@pytest.mark.slow
def test_the_discussions_seed_study_on_a_local_cluster_equals_the_plain_loop(dask_client):
    cfg = _shared.QUICK
    plain = batch_size.lr_scaling(cfg, seed=2)
    on_dask = batch_size.lr_scaling(cfg, seed=2, scheduler=dask_client)
    assert json.dumps(plain, sort_keys=True) == json.dumps(on_dask, sort_keys=True)
    assert len(plain["runs"]) == 5


@pytest.mark.slow
def test_scheduler_passes_through_run_and_is_refused_where_it_does_not_apply(tmp_path, capsys):
    code = cli.main(["run", "digits", "--quick", "--quiet", "--scheduler", "serial",
                     "--out", str(tmp_path)])  # fmt: skip
    assert code == 0
    metrics = json.loads((tmp_path / "digits" / "metrics.json").read_text())
    assert len(metrics["metrics"]["sweep"]) == 9
    assert cli.main(["run", "xor", "--scheduler", "serial", "--out", str(tmp_path)]) == 2
    assert "--scheduler applies to digits, discussion only" in capsys.readouterr().err
