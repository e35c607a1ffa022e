"""Short trainings batched several to a Dask task: the plan, and the same records as unbatched."""

from __future__ import annotations

import io
import re

import pytest

from handgrad.sweep import GridError, make_grid, run_sweep
from handgrad.sweep.batches import MAX_PER_TASK, TASK_SECONDS, Batcher, estimated_cost

from .test_sweep import measured


def trials(settings, seeds="0-3"):
    return make_grid("iris", settings, seeds=seeds).trials()


def hand_out(plan):
    """Every batch the plan gives, until it has none."""
    batches = []
    while batch := plan.next_batch():
        batches.append(batch)
    return batches


def test_the_cost_grows_with_epochs_width_and_steps():
    base = {"hidden": (8,), "epochs": 10, "batch_size": 32}
    cost = estimated_cost(base, rows=150, features=4)
    assert estimated_cost({**base, "epochs": 20}, 150, 4) > cost
    assert estimated_cost({**base, "hidden": (64,)}, 150, 4) > cost
    assert estimated_cost({**base, "batch_size": 8}, 150, 4) > cost  # more steps
    assert estimated_cost(base, rows=1500, features=4) > cost
    # settings left out take TrainConfig's defaults (hidden 64,32 and 100 epochs)
    assert estimated_cost({}, 150, 4) == estimated_cost(
        {"hidden": (64, 32), "epochs": 100, "batch_size": 32}, 150, 4
    )


def test_one_training_per_task_until_a_training_has_been_timed():
    plan = Batcher(trials({"hidden": [8], "epochs": 2}, seeds="0-39"), 150, 4, slots=2)
    assert [len(plan.next_batch()) for _ in range(4)] == [1, 1, 1, 1]


def test_short_trainings_are_batched_up_to_the_target_and_the_batches_shrink_at_the_end():
    all_trials = trials({"hidden": [8], "epochs": 2}, seeds="0-199")
    plan = Batcher(all_trials, 150, 4, slots=2)
    first = plan.next_batch()
    plan.learn(first[0], 0.001)  # a millisecond each: far shorter than a task's overhead
    batches = [first, *hand_out(plan)]
    sizes = [len(b) for b in batches]
    assert max(sizes) == MAX_PER_TASK
    assert sizes[1:] == sorted(sizes[1:], reverse=True)  # they shrink as the trials run out
    assert sizes[-1] == 1  # the last tasks are single trainings
    handed = [t.key for b in batches for t in b]
    assert sorted(handed) == sorted(t.key for t in all_trials)  # each trial exactly once


def test_a_batch_stops_at_the_target_seconds():
    all_trials = trials({"hidden": [8], "epochs": 2}, seeds="0-199")
    plan = Batcher(all_trials, 150, 4, slots=2)
    plan.learn(plan.next_batch()[0], TASK_SECONDS / 5)
    assert len(plan.next_batch()) == 5


def test_long_trainings_go_one_to_a_task():
    plan = Batcher(trials({"hidden": [8], "epochs": 200}, seeds="0-99"), 150, 4, slots=2)
    plan.learn(plan.next_batch()[0], TASK_SECONDS * 2)
    assert {len(b) for b in hand_out(plan)} == {1}


def test_the_costliest_trainings_are_handed_out_first():
    grid = trials({"hidden": [8, 64], "epochs": [2, 50]}, seeds="0-1")
    plan = Batcher(grid, 150, 4, slots=2, per_task=1)
    order = [b[0] for b in hand_out(plan)]
    costs = [plan.cost[t.key] for t in order]
    assert costs == sorted(costs, reverse=True)
    assert dict(order[0].settings) == {"epochs": 50, "hidden": [64]}


def test_a_fixed_number_per_task():
    plan = Batcher(trials({"hidden": [8]}, seeds="0-9"), 150, 4, slots=2, per_task=4)
    assert [len(b) for b in hand_out(plan)] == [4, 4, 2]
    with pytest.raises(ValueError, match="per_task must be an integer >= 1"):
        Batcher([], 150, 4, slots=2, per_task=0)


def test_a_bad_per_task_is_refused_before_anything_is_written(tmp_path, small_grid):
    for bad in (0, -1, 2.5, True):
        with pytest.raises(GridError, match="per_task must be an integer >= 1"):
            run_sweep(small_grid, out=tmp_path / "s", scheduler="serial", per_task=bad)
    assert not (tmp_path / "s").exists()


@pytest.mark.slow
def test_batched_tasks_give_the_unbatched_records_and_a_per_trial_progress(
    tmp_path, small_grid, dask_client, serial_reference
):
    shown = io.StringIO()
    before = _train_task_keys(dask_client)
    batched = run_sweep(
        small_grid, out=tmp_path / "b", scheduler=dask_client, per_task=3, progress=shown
    )
    tasks = _train_task_keys(dask_client) - before
    assert batched.ran == 8
    assert measured(batched) == measured(serial_reference)  # the same bits
    assert batched.table() == serial_reference.table()
    files = sorted(p.name for p in (tmp_path / "b" / "records").iterdir())
    assert files == sorted(f"{t.key}.json" for t in small_grid.trials())  # one file each
    # the progress line counts trainings, not tasks: 1/8 ... 8/8
    counts = [int(n) for n in re.findall(r"(\d+)/8 done", shown.getvalue())]
    assert sorted(set(counts)) == list(range(9))
    # the workers ran three tasks, of 3, 3 and 2 trainings, each key naming its trainings
    batches = [key.removeprefix("train-").rsplit("-", 1)[0].split("+") for key in tasks]
    assert sorted(map(len, batches)) == [2, 3, 3]
    assert sorted(k for b in batches for k in b) == sorted(t.key for t in small_grid.trials())


def _train_task_keys(client) -> set[str]:
    """The keys of the sweep tasks every worker has run so far (from the workers' logs)."""

    def keys(dask_worker):
        return [e[0] for e in dask_worker.state.log if str(e[0]).startswith("train-")]

    return {k for found in client.run(keys).values() for k in found}


def test_a_workers_slow_first_training_does_not_stop_the_batching():
    """Each worker's first training also imports what training needs (~0.6 s): two such
    trainings and two ordinary ones of 10 ms give batches, not single trainings."""
    all_trials = trials({"hidden": [8], "epochs": 3}, seeds="0-199")
    plan = Batcher(all_trials, 150, 4, slots=2)
    first = [plan.next_batch()[0] for _ in range(4)]
    for trial, seconds in zip(first, (0.6, 0.6, 0.01, 0.01)):
        plan.learn(trial, seconds)
    assert len(plan.next_batch()) == round(TASK_SECONDS / 0.01)  # 25
