"""What a fit call costs after other work: the same call, warm and cold.

    python benchmarks/fit_cold.py [--rounds 400]

``fit_overhead.py`` reads fit's fixed cost per call on W3 from a series of long calls
(``calls`` x fit(epochs=1) against one fit(epochs=calls)): each call's set-up then runs
after ~2 ms of training steps. Its one-batch call (fit(epochs=1) on one batch of 32 rows)
runs right after another one-batch call. The same code costs more in the first setting:
its Python and NumPy code and data, and the processor's branch history, are no longer in
the caches, having been replaced by the steps' own (callgrind counts the same instructions
either way: see docs/performance.md, "fit's fixed cost, warm and cold").

This times one one-batch ``fit(epochs=1)`` call on W3 (CPU time, one call at a time) in
three settings, alternated round by round:

- ``back to back``: right after the previous round's call (as ``fit_overhead.py``'s
  one-batch figure);
- ``after an epoch``: right after an epoch of W3's fast step (57 steps) on another model,
  driven directly (no ``fit`` code runs in between): as in a series of long calls;
- ``after NumPy work``: right after ~2 ms of unrelated matrix products.

Each cold figure is also given as the median of the per-round differences from the warm
call of the same round (a change of the machine's load falls on both).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import handgrad as hg  # noqa: E402
from fit_overhead import W3, _setup  # noqa: E402


def settings(setup=None) -> dict[str, Callable[[], None]]:
    """What runs just before the timed call, by setting's name (the epoch trains the model
    of ``setup``, a second W3 model by default)."""
    from handgrad.train import fast

    X, y, model, loss, opt = setup or _setup()
    step = fast.fast_step(model, loss, opt, None, X, y.astype(np.intp), None)
    order = np.random.default_rng(0).permutation(len(X))
    size = W3.batch_size

    def an_epoch() -> None:  # the steps of a long call, without fit around them
        for start in range(0, len(X), size):
            xb, tb, _ = step.batch(order[start : start + size])
            step.loss(step.forward(xb), tb)
            step.backward()
            step.gradients_finite()
            step.step()

    A = np.random.default_rng(1).standard_normal((200, 200))

    def numpy_work() -> None:
        for _ in range(40):
            A.dot(A)

    return {
        "back to back": lambda: None,
        "after an epoch": an_epoch,
        "after NumPy work": numpy_work,
    }


def rounds(n: int, warm_up: int = 20) -> dict[str, list[float]]:
    """CPU microseconds of one one-batch fit(epochs=1) call in each setting, ``n`` rounds
    (after ``warm_up`` rounds)."""
    X, y, model, loss, opt = _setup()
    X, y = X[: W3.batch_size], y[: W3.batch_size]
    clock = time.process_time_ns
    before = settings()
    times: dict[str, list[float]] = {name: [] for name in before}
    for r in range(n + warm_up):
        for name, work in before.items():
            work()
            t0 = clock()
            hg.fit(model, loss, opt, X, y, epochs=1, batch_size=W3.batch_size, seed=0)
            if r >= warm_up:
                times[name].append((clock() - t0) / 1e3)
    return times


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=400)
    args = parser.parse_args(argv)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:
        pass
    print(f"load average {os.getloadavg()[0]:.1f}")
    times = rounds(args.rounds)
    warm = np.array(times["back to back"])
    print(f"W3 fit(epochs=1) on one batch of {W3.batch_size} rows, us CPU per call:")
    for name, values in times.items():
        q25, med, q75 = np.percentile(values, [25, 50, 75])
        line = f"  {name:18s} {med:6.1f} (25th-75th {q25:.1f}-{q75:.1f})"
        if name != "back to back":
            d25, dmed, d75 = np.percentile(np.subtract(values, warm), [25, 50, 75])
            line += f"   cold - warm per round {dmed:+.1f} ({d25:+.1f} to {d75:+.1f})"
        print(line)
    print(f"load average {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
