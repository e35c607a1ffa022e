"""The fast step on several threads gives the bits of one thread; fit reuses its fast step
across calls, and only while the pieces it was built for stay the same."""

from __future__ import annotations

import gc
import multiprocessing
import os
import weakref

import numpy as np
import pytest

import handgrad as hg
from handgrad.train import fast, threads


@pytest.fixture
def tiny_parts(monkeypatch):
    """Split even small arrays (64 elements a thread), so tests see several parts."""
    monkeypatch.setattr(threads, "MIN_PER_THREAD", 64)
    yield
    threads.set_threads(None)


def test_run_parts_runs_every_part_and_raises_a_workers_error():
    done: list[int] = []
    threads.run_parts(done.append, [1, 2, 3])
    assert sorted(done) == [1, 2, 3]

    def fail(part):
        if part == 2:
            raise ValueError("part 2")

    with pytest.raises(ValueError, match="part 2"):
        threads.run_parts(fail, [1, 2])


def _split_in_child() -> None:
    done: list[int] = []
    threads.run_parts(done.append, [1, 2, 3])
    assert sorted(done) == [1, 2, 3]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX only")
def test_a_forked_child_gets_its_own_workers():
    """The parent's pool threads do not exist in a forked child: it must not wait for them."""
    threads.run_parts(lambda part: None, [1, 2, 3])  # the parent's pool exists
    child = multiprocessing.get_context("fork").Process(target=_split_in_child)
    child.start()
    child.join(120)  # a child waiting for the parent's threads would never end
    assert child.exitcode == 0


def test_set_threads_checks_its_argument():
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="positive integer"):
            threads.set_threads(bad)
    threads.set_threads(3)
    assert threads.thread_count() == 3
    threads.set_threads(None)
    assert threads.thread_count() >= 1


def test_thread_count_follows_the_blas_limit():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    with threadpoolctl.threadpool_limits(1):
        assert threads.thread_count() == 1


def _train(dtype, loss_name: str, count: int, epochs: int = 2) -> tuple:
    threads.set_threads(count)
    rng = np.random.default_rng(1)
    X = rng.standard_normal((150, 30)).astype(dtype)
    if loss_name == "ce":
        y, loss, sizes = rng.integers(0, 4, 150), hg.SoftmaxCrossEntropyLoss(), [30, 40, 4]
    else:
        y, loss, sizes = (rng.random(150) < 0.5).astype(dtype), hg.BCEWithLogitsLoss(), [30, 40, 1]
    model = hg.mlp(sizes, "relu", seed=0, dtype=dtype)
    opt = hg.Adam(model.parameters(), lr=0.01)
    history = hg.fit(model, loss, opt, X, y, epochs=epochs, batch_size=64, seed=2)
    assert len(fast._CACHE[model].batch._rows[64]) == count  # the gather was split
    return history.step_loss, [p.value.copy() for p in model.parameters()]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("loss_name", ["ce", "bce"])
def test_fit_on_several_threads_gives_the_bits_of_one(tiny_parts, dtype, loss_name):
    losses1, weights1 = _train(dtype, loss_name, 1)
    for count in (2, 3):
        losses, weights = _train(dtype, loss_name, count)
        assert losses == losses1
        assert all(np.array_equal(a, b) for a, b in zip(weights, weights1))


def test_the_gather_on_several_threads_copies_the_same_rows(tiny_parts):
    X = np.random.default_rng(0).standard_normal((500, 7))
    y = np.arange(500)
    idx = np.random.default_rng(1).permutation(500)[:130]
    one = fast.BatchGather(X, y, None, thread_count=1)(idx)
    gather = fast.BatchGather(X, y, None, thread_count=3)
    assert len(gather._row_parts(130)) == 3
    three = gather(idx)
    assert np.array_equal(one[0], X[idx]) and np.array_equal(three[0], X[idx])
    assert np.array_equal(three[1], idx) and three[2] is None


# --- the cached fast step --------------------------------------------------------------------


def _setup(rows: int = 100):
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((rows, 6)), rng.integers(0, 3, rows)
    model = hg.mlp([6, 8, 3], "relu", seed=0)
    return model, hg.SoftmaxCrossEntropyLoss(), hg.SGD(model.parameters(), lr=0.1), X, y


def test_a_second_call_takes_the_step_the_first_left():
    model, loss, opt, X, y = _setup()
    hg.fit(model, loss, opt, X, y, epochs=1, seed=0)
    first = fast._CACHE[model]
    hg.fit(model, loss, opt, X, y, epochs=1, seed=1)
    assert fast._CACHE[model] is first
    hg.fit(model, loss, hg.SGD(model.parameters(), lr=0.1), X, y, epochs=1, seed=1)
    assert fast._CACHE[model] is not first  # another optimizer: a new step


def test_a_new_step_when_a_gradient_array_or_the_dtype_changes():
    model, loss, opt, X, y = _setup()
    hg.fit(model, loss, opt, X, y, epochs=1, seed=0)
    first = fast._CACHE[model]
    model.parameters()[0].grad = np.zeros_like(model.parameters()[0].grad)
    hg.fit(model, loss, opt, X, y, epochs=1, seed=0)
    second = fast._CACHE[model]
    assert second is not first
    assert second._checks[0][0].base is model.parameters()[0].grad


def test_calls_through_the_cached_step_train_as_fresh_ones():
    """fit(epochs=1) twice with one Generator equals the same on a new model with the cache
    emptied before each call."""
    results = []
    for clear in (False, True):
        model, loss, opt, X, y = _setup(rows=70)
        rng = np.random.default_rng(5)
        for _ in range(3):
            if clear:
                fast._CACHE.clear()
            hg.fit(model, loss, opt, X, y, epochs=1, batch_size=16, rng=rng)
        results.append([p.value.copy() for p in model.parameters()])
    assert all(np.array_equal(a, b) for a, b in zip(*results))


def test_the_cache_keeps_neither_the_data_nor_the_model_alive():
    model, loss, opt, X, y = _setup()
    hg.fit(model, loss, opt, X, y, epochs=1, seed=0)
    data, owner = weakref.ref(X), weakref.ref(model)
    del X, y
    gc.collect()
    assert data() is None
    del model, opt
    gc.collect()
    assert owner() is None


def _fake_proc(root, runnable: int, states: str):
    """A /proc with the system's runnable count and this process's threads in ``states``."""
    root.mkdir()
    (root / "loadavg").write_text(f"2.10 1.50 0.90 {runnable}/140 4242\n")
    for tid, state in enumerate(states, start=100):
        task = root / "self" / "task" / str(tid)
        task.mkdir(parents=True)
        (task / "stat").write_text(f"{tid} (python (x)) {state} 1 2 3 4 5\n")
    return str(root)


def test_busy_elsewhere_does_not_count_this_process_s_own_threads(tmp_path):
    # alone on the machine, this thread and two BLAS threads spinning: the load is all ours
    assert threads.busy_elsewhere(_fake_proc(tmp_path / "a", 3, "RRRS")) == 0
    # one runnable thread of another process
    assert threads.busy_elsewhere(_fake_proc(tmp_path / "b", 2, "RSS")) == 1
    assert threads.busy_elsewhere(str(tmp_path / "missing")) == 0


def test_available_uses_the_cores_other_processes_leave(monkeypatch):
    monkeypatch.setattr(threads, "thread_count", lambda: 2)
    monkeypatch.setattr(threads, "_static", 2)
    big = 4 * threads.MIN_PER_THREAD
    assert threads.available(threads.MIN_PER_THREAD) == 1  # too little work: no system call
    for busy, expected in ((0, 2), (1, 1), (5, 1)):
        monkeypatch.setattr(threads, "busy_elsewhere", lambda busy=busy: busy)
        assert threads.available(big) == expected


def test_fit_in_another_thread_trains_and_leaves_the_ctrl_c_handler_alone():
    """Only the main thread gets signals: fit elsewhere installs no handler (and can't)."""
    import signal
    import threading

    before = signal.getsignal(signal.SIGINT)
    seen: list = []
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((40, 3)), rng.integers(0, 2, 40)
    model = hg.mlp([3, 4, 2], "relu", seed=0)
    start = model.parameters()[0].value.copy()

    def train() -> None:
        h = hg.fit(model, hg.SoftmaxCrossEntropyLoss(), hg.SGD(model.parameters(), lr=0.1),
                   X, y, epochs=2, batch_size=8, seed=0)  # fmt: skip
        seen.append((h.epochs, signal.getsignal(signal.SIGINT)))

    worker = threading.Thread(target=train)
    worker.start()
    worker.join(120)
    assert seen == [(2, before)]
    assert not np.array_equal(start, model.parameters()[0].value)
    assert signal.getsignal(signal.SIGINT) is before
