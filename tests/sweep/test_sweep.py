"""Running sweeps: records and report, resume, failures, a killed worker, serial == Dask."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time

import pytest

from handgrad.sweep import make_grid, run_sweep

MEASURED = ("status", "reason", "scores", "metrics", "history", "epochs_run", "settings", "seed")


def measured(result):
    """Each trial's measured numbers (not its time, host or process), by trial key."""
    return {k: {f: r[f] for f in MEASURED} for k, r in result.records.items()}


def test_records_and_report(tmp_path, small_grid):
    out = tmp_path / "sweep"
    result = run_sweep(small_grid, out=out, scheduler="serial")
    trials = small_grid.trials()
    files = sorted(p.name for p in (out / "records").iterdir())
    assert files == sorted(f"{t.key}.json" for t in trials)
    record = json.loads((out / "records" / f"{trials[0].key}.json").read_text())
    assert record["settings"] == {"epochs": 8, "hidden": [8], "lr": 0.003}
    assert record["seed"] == 0 and record["status"] == "ok" and record["score"] == "accuracy"
    assert len(record["history"]["val_loss"]) == record["epochs_run"] == 8
    assert record["scores"]["val"] == record["metrics"]["val"]["accuracy"]
    assert record["seconds"] > 0 and record["host"]

    # the table: one row per setting, ranked by the mean validation accuracy over the seeds
    rows = result.rows
    assert len(rows) == 4
    means = [r.mean for r in rows]
    assert means == sorted(means, reverse=True)
    for row in rows:
        vals = [result.records[f"{row.setting_key}-s{s}"]["scores"]["val"] for s in (0, 1)]
        assert row.val == vals
        assert row.mean == pytest.approx(sum(vals) / 2)
        assert row.std == pytest.approx(abs(vals[0] - vals[1]) / 2**0.5)
    csv_lines = (out / "table.csv").read_text().splitlines()
    assert len(csv_lines) == 5 and csv_lines[0].startswith("rank,hidden,lr,")

    html = (out / "report.html").read_text()
    md = (out / "report.md").read_text()
    assert "<table" in html and "data:image/png;base64," in html
    assert 'src="heatmap.png"' not in html  # figures are inlined: one self-contained file
    best = rows[0]
    assert f"{best.mean:.4f} ± {best.std:.4f}" in md
    assert f"{min(best.val):.4f} – {max(best.val):.4f}" in md
    assert (out / "heatmap.png").stat().st_size > 1000
    assert (out / "curves.png").stat().st_size > 1000

    # the best setting retrained and saved for `handgrad predict`
    from handgrad.tabular import Predictor

    predictor = Predictor.load(out / "model.npz")
    assert predictor.classes == ["setosa", "versicolor", "virginica"]
    config = json.loads((out / "best" / "config.json").read_text())
    assert list(config["hidden"]) == best.settings["hidden"] and config["lr"] == best.settings["lr"]


def test_resume_after_an_interruption_runs_only_the_rest(tmp_path, small_grid, serial_reference):
    reference = serial_reference

    out = tmp_path / "interrupted"
    seen = []

    def stop_after_three(record):
        seen.append(record["key"])
        if len(seen) == 3:
            raise KeyboardInterrupt  # what Ctrl-C does between two trainings

    with pytest.raises(KeyboardInterrupt):
        run_sweep(small_grid, out=out, scheduler="serial", on_record=stop_after_three)
    kept = {p.name: p.read_bytes() for p in (out / "records").iterdir()}
    assert sorted(kept) == sorted(f"{k}.json" for k in seen)

    rerun = []
    result = run_sweep(
        small_grid, out=out, scheduler="serial", report=False, on_record=lambda r: rerun.append(r)
    )
    assert (result.skipped, result.ran) == (3, 5)
    assert not set(seen) & {r["key"] for r in rerun}  # nothing finished ran twice
    for name, content in kept.items():
        assert (out / "records" / name).read_bytes() == content
    assert result.table() == reference.table()
    assert measured(result) == measured(reference)

    again = run_sweep(small_grid, out=out, scheduler="serial", report=False)
    assert (again.skipped, again.ran) == (8, 0)


def test_a_diverging_setting_is_recorded_as_failed_with_its_reason(tmp_path):
    grid = make_grid(
        "iris", {"optimizer": "sgd", "lr": [0.05, 1000.0], "hidden": [16], "epochs": 20}, seeds=[0]
    )
    result = run_sweep(grid, out=tmp_path / "s", scheduler="serial")
    by_lr = {r["settings"]["lr"]: r for r in result.records.values()}
    assert by_lr[0.05]["status"] == "ok"
    bad = by_lr[1000.0]
    assert bad["status"] == "failed"
    assert "training diverged at epoch" in bad["reason"]
    assert "Try a smaller learning rate" in bad["reason"]
    assert [r.settings["lr"] for r in result.rows] == [0.05, 1000.0]  # failed ranks last
    assert result.rows[1].val == [] and result.rows[1].seeds_failed == [0]
    md = (tmp_path / "s" / "report.md").read_text()
    assert "## Failed trainings" in md and "training diverged at epoch" in md
    # a failure is a result: a re-run does not train it again
    assert run_sweep(grid, out=tmp_path / "s", scheduler="serial", report=False).ran == 0


@pytest.mark.slow
def test_serial_and_distributed_results_are_bit_identical(
    tmp_path, small_grid, dask_client, serial_reference
):
    serial = serial_reference
    distributed = run_sweep(small_grid, out=tmp_path / "dask", scheduler=dask_client, report=False)
    assert distributed.ran == 8
    worker_pids = set(dask_client.run(os.getpid).values())
    assert {r["pid"] for r in distributed.records.values()} <= worker_pids
    assert os.getpid() not in worker_pids
    assert measured(distributed) == measured(serial)  # == on floats: the same bits
    assert distributed.table() == serial.table()


def test_workers_run_blas_on_one_thread(dask_client):
    from threadpoolctl import threadpool_info

    def blas_threads():
        from handgrad.sweep._pipeline import _one_blas_thread

        with _one_blas_thread():
            return [p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"]

    for threads in dask_client.run(blas_threads).values():
        assert threads and set(threads) == {1}


@pytest.mark.slow
def test_our_workers_keep_mallocs_own_thresholds(monkeypatch):
    """Dask's default MALLOC_TRIM_THRESHOLD_ also fixes malloc's mmap threshold: every array
    over 128 KiB a fresh mmap, 4-5 % more CPU per training. The sweep's cluster leaves it
    unset (a cluster started earlier in this process may have put it in os.environ)."""
    from handgrad.sweep.execute import dask_client

    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)

    def trim_threshold():
        return os.environ.get("MALLOC_TRIM_THRESHOLD_")

    with dask_client(None, n_workers=1) as client:
        assert list(client.run(trim_threshold).values()) == [None]


def _register_exit_marker(path: str, dask_worker=None):
    import atexit
    from pathlib import Path

    atexit.register(Path(path).write_text, "torn down")  # runs only in the normal teardown
    return os.getpid(), list(dask_worker.plugins), dask_worker.local_directory


@pytest.mark.slow
def test_our_workers_exit_without_the_interpreters_teardown(tmp_path):
    """Closing the sweep's cluster waits on its workers' exit: a closed worker skips tearing
    the interpreter down (exit hooks registered before it closed never run), having removed
    its scratch folder and exited with status 0 first."""
    import psutil

    from handgrad.sweep.execute import dask_client

    marker = tmp_path / "marker"
    with dask_client(None, n_workers=1) as client:
        [nanny] = client.cluster.workers.values()
        process = nanny.process.process  # the worker's process, a child of this one
        [(pid, plugins, folder)] = client.run(_register_exit_marker, str(marker)).values()
        assert "handgrad-exit-at-once" in plugins and psutil.pid_exists(pid)
    assert process.exitcode == 0
    assert not psutil.pid_exists(pid) and not os.path.exists(folder)
    assert not marker.exists()


@pytest.mark.slow
def test_distributed_resume_after_an_interruption(tmp_path, small_grid, dask_client):
    out = tmp_path / "s"
    seen = []

    def stop_after_two(record):
        seen.append(record["key"])
        if len(seen) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_sweep(small_grid, out=out, scheduler=dask_client, on_record=stop_after_two)
    done = {p.stem for p in (out / "records").iterdir()}
    assert done == set(seen)
    result = run_sweep(small_grid, out=out, scheduler=dask_client, report=False)
    assert result.skipped == 2 and result.ran == 6
    assert all(r["status"] == "ok" for r in result.records.values())


@pytest.mark.slow
@pytest.mark.parametrize("per_task", [None, 2], ids=["chosen", "two-per-task"])
def test_a_worker_killed_mid_sweep_loses_nothing(tmp_path, own_dask_client, per_task):
    """One task per training or two (then the killed task's two trainings run elsewhere)."""
    client = own_dask_client
    grid = make_grid("iris", {"hidden": [8, 16, 32], "lr": [0.01, 0.03], "epochs": 20}, seeds="0-1")
    killed = {}
    note = tmp_path / "killed.json"

    async def kill_me_mid_training(dask_worker, note=str(note)):
        """On the worker's event loop: wait until a training is executing there, then write
        its pid and task keys and SIGKILL the worker. The check and the kill run between two
        awaits, so no result of those tasks can have been reported. None if nothing is left."""
        state = dask_worker.state
        while True:
            training = [str(ts.key) for ts in state.executing if str(ts.key).startswith("train-")]
            if training:
                with open(note, "w") as f:
                    json.dump({"pid": os.getpid(), "keys": training}, f)
                os.kill(os.getpid(), signal.SIGKILL)
            if not state.ready and not state.executing and not state.constrained:
                return None
            await asyncio.sleep(0.01)

    def kill_a_busy_worker(record):
        if killed:
            return
        busy = [addr for addr, keys in client.processing().items() if keys]
        if busy:
            client.run(kill_me_mid_training, workers=busy[:1], on_error="ignore")
        if note.exists():
            killed.update(json.loads(note.read_text()))

    result = run_sweep(
        grid, out=tmp_path / "s", scheduler=client, on_record=kill_a_busy_worker, per_task=per_task
    )
    assert killed, "no worker was ever seen training"
    assert result.ran == 12
    assert sorted(result.records) == sorted(t.key for t in grid.trials())
    failed = {k: r.get("reason") for k, r in result.records.items() if r["status"] != "ok"}
    assert failed == {}
    # the trainings that were on the killed worker finished elsewhere, in another process
    lost = [k for k in result.records if any(k in key for key in killed["keys"])]
    assert len(lost) >= (per_task or 1)  # a task's key names its trainings
    assert all(result.records[k]["pid"] != killed["pid"] for k in lost)
    serial = run_sweep(grid, out=tmp_path / "serial", scheduler="serial", report=False)
    assert measured(result) == measured(serial)


@pytest.mark.slow
def test_a_data_set_lost_with_its_only_worker_is_sent_again(tmp_path, own_dask_client):
    """``scatter`` copies the data set only to the workers running at that moment; when that
    copy dies, the scheduler cancels every task that needs it ("lost dependencies"). The sweep
    scatters it again and sends the tasks again instead of recording them as failed."""
    client = own_dask_client
    grid = make_grid("iris", {"hidden": [8], "lr": [0.01, 0.03], "epochs": 5}, seeds="0-1")
    scatter = client.scatter
    holders = []

    def kill_this_process():  # runs on the worker
        os.kill(os.getpid(), signal.SIGKILL)

    def scatter_to_one_worker_then_kill_it(data, **options):
        if holders:  # the sweep scattering again: as it would
            return scatter(data, **options)
        holders.append(sorted(client.scheduler_info(n_workers=-1)["workers"])[0])
        futures = scatter(data, workers=holders, hash=False)
        client.run(kill_this_process, workers=holders, on_error="ignore")
        deadline = time.monotonic() + 120  # a cap; the loop ends when the scheduler notices
        while futures[0].status == "finished" and time.monotonic() < deadline:
            time.sleep(0.02)
        assert futures[0].status != "finished"  # the only copy is gone
        return futures

    client.scatter = scatter_to_one_worker_then_kill_it
    try:
        result = run_sweep(grid, out=tmp_path / "s", scheduler=client)
    finally:
        del client.scatter
    assert len(holders) == 1
    failed = {k: r.get("reason") for k, r in result.records.items() if r["status"] != "ok"}
    assert failed == {}
    assert result.ran == 4
    serial = run_sweep(grid, out=tmp_path / "serial", scheduler="serial", report=False)
    assert measured(result) == measured(serial)


def test_a_regression_sweep_ranks_by_validation_r2(tmp_path):
    grid = make_grid("diabetes", {"hidden": [8], "lr": [0.0001, 0.03], "epochs": 5}, seeds=[0])
    result = run_sweep(grid, out=tmp_path / "s", scheduler="serial")
    for record in result.records.values():
        assert record["task"] == "regression" and record["score"] == "r2"
        assert record["scores"]["val"] == record["metrics"]["val"]["r2"]
    assert result.rows[0].mean > result.rows[1].mean  # ranked best first
    assert result.rows[0].settings["lr"] == 0.03  # 5 epochs at 1e-4 barely move
    assert "validation R² over the seeds" in (tmp_path / "s" / "report.md").read_text()


def _seed_study(data, seed):
    """One seed of a small experiment of one's own: a fit on fixed data, its final loss."""
    import handgrad as hg

    X, y = data
    model = hg.mlp([4, 8, 3], "tanh", seed=seed)
    opt = hg.SGD(model.parameters(), lr=0.1)
    history = hg.fit(model, hg.SoftmaxCrossEntropyLoss(), opt, X, y, epochs=5, seed=seed)
    return history.epoch_loss


def test_parallel_map_runs_a_seed_study_with_the_serial_bits(dask_client):
    from sklearn.datasets import load_iris

    from handgrad.sweep import parallel_map

    data = load_iris(return_X_y=True)
    serial = parallel_map(_seed_study, range(4), shared=data, scheduler="serial")
    on_dask = parallel_map(_seed_study, range(4), shared=data, scheduler=dask_client)
    assert on_dask == serial  # the same floats, in the items' order
    assert len({tuple(losses) for losses in serial}) == 4  # the seeds differ


class _InterruptAtEpoch:
    """A training callback that sends this process SIGINT (Ctrl-C) at the end of an epoch."""

    def __init__(self, epoch: int):
        self.epoch = epoch

    def on_train_begin(self, ctx): ...
    def on_batch_end(self, ctx): ...
    def on_interrupt(self, ctx): ...
    def on_train_end(self, ctx): ...

    def on_epoch_end(self, ctx):
        if ctx.epoch + 1 == self.epoch:
            os.kill(os.getpid(), signal.SIGINT)


def test_ctrl_c_during_the_final_retraining_exits_130_and_publishes_nothing(
    tmp_path, monkeypatch, capsys
):
    from handgrad.cli import main
    from handgrad.sweep import _pipeline

    real = _pipeline.train_model

    def interrupted_retraining(dataset, config, out_dir, **kwargs):
        if out_dir is not None:  # the retraining of the best setting (trials have no folder)
            kwargs["callbacks"] = [*kwargs.get("callbacks", ()), _InterruptAtEpoch(3)]
        return real(dataset, config, out_dir, **kwargs)

    out = tmp_path / "sweep"
    argv = ["sweep", "--data", "iris", "--hidden", "4", "8", "--epochs", "6", "--serial",
            "--quiet", "--out", str(out)]  # fmt: skip
    monkeypatch.setattr(_pipeline, "train_model", interrupted_retraining)
    assert main(argv) == 130
    assert "sweep interrupted" in capsys.readouterr().err
    assert not (out / "model.npz").exists()
    assert not (out / "best").exists()
    assert len(list((out / "records").glob("*.json"))) == 2  # the trainings are kept

    monkeypatch.setattr(_pipeline, "train_model", real)
    assert main(argv) == 0  # the same command finishes it
    assert (out / "model.npz").is_file()
    used = json.loads((out / "best" / "config.json").read_text())
    metrics = json.loads((out / "best" / "metrics.json").read_text())
    assert used["epochs"] == 6
    assert metrics["epochs_run"] == 6
