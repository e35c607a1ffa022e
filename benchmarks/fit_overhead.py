"""fit's fixed cost per call on W3, in CPU microseconds, and each item of it.

    python benchmarks/fit_overhead.py [--calls 40] [--repeats 9]

The per-call cost: ``calls`` calls of ``fit(epochs=1)`` against one ``fit(epochs=calls)``
on the same model, alternated over ``repeats``; the difference over ``calls - 1`` is what
one more call costs beyond its epoch (CPU time of the process, one BLAS thread). Each
item is then timed alone, many times in a row, with the arguments ``fit`` gives it (the
median of batches of calls): checking X, learning the output width, checking the target,
the Ctrl-C handler, ``np.errstate``, building the fast step, the guard, and the first step
of a call against a later one.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import handgrad as hg  # noqa: E402
from handgrad.train import inputs, steps  # noqa: E402
from handgrad.train.guard import DivergenceGuard  # noqa: E402
from handgrad.train.interrupt import deferred_interrupt  # noqa: E402
from workloads import LEARNING_RATE, MODEL_SEED, WORKLOADS, make_data  # noqa: E402

W3 = WORKLOADS["W3"]


def _setup():
    X, y = make_data(W3, "float64")
    model = hg.mlp(list(W3.sizes), "relu", seed=MODEL_SEED)
    loss = hg.SoftmaxCrossEntropyLoss()
    opt = hg.SGD(model.parameters(), lr=LEARNING_RATE)
    return X, y, model, loss, opt


def per_call(calls: int, repeats: int) -> list[float]:
    """Microseconds one more fit call costs beyond its epoch, once per repeat."""
    X, y, model, loss, opt = _setup()
    clock = time.process_time
    out = []
    for r in range(repeats + 1):
        t0 = clock()
        for _ in range(calls):
            hg.fit(model, loss, opt, X, y, epochs=1, batch_size=W3.batch_size, seed=r)
        t1 = clock()
        hg.fit(model, loss, opt, X, y, epochs=calls, batch_size=W3.batch_size, seed=r)
        t2 = clock()
        if r:  # the first repeat warms up
            out.append(((t1 - t0) - (t2 - t1)) / (calls - 1) * 1e6)
    return out


def _us(fn, n: int = 400, batches: int = 7) -> float:
    """Median CPU microseconds of one fn() over ``batches`` batches of n calls."""
    clock = time.process_time
    fn()
    times = []
    for _ in range(batches):
        t0 = clock()
        for _ in range(n):
            fn()
        times.append((clock() - t0) / n * 1e6)
    return float(np.median(times))


def items() -> dict[str, float]:
    """Each piece of a fit call's fixed work, timed alone (CPU microseconds)."""
    X, y, model, loss, opt = _setup()
    shape = inputs.output_shape(model, X)
    target = inputs.prepare_target(loss, y, X, shape)

    def handler() -> None:
        with deferred_interrupt():
            pass

    def errstate() -> None:
        with np.errstate(over="ignore", invalid="ignore"):
            pass

    def build():
        return steps.choose_step(
            model, loss, opt, None, X, target,
            outputs_shape=shape, with_metrics=False, fast_allowed=True,
        )  # fmt: skip

    step = build()
    rng = np.random.default_rng(0)
    idx = next(hg.train.batches(len(X), W3.batch_size, rng=rng))

    def one_step(s) -> None:
        xb, tb, _ = s.batch(idx)
        s.loss(s.forward(xb), tb)
        s.backward()
        s.gradients_finite()
        s.step()

    def first_step() -> None:
        one_step(build())

    later = _us(lambda: one_step(step))
    return {
        "X check (prepare_inputs)": _us(lambda: inputs.prepare_inputs(model, X)),
        "output width (output_shape)": _us(lambda: inputs.output_shape(model, X)),
        "target check (prepare_target)": _us(lambda: inputs.prepare_target(loss, y, X, shape)),
        "loss form again (loss_target)": _us(
            lambda: inputs.loss_target(loss, target, (len(X), *shape), X.dtype)
        ),
        "Ctrl-C handler (main thread)": _us(handler),
        "np.errstate": _us(errstate),
        "fast step setup (choose_step)": _us(build),
        "divergence guard": _us(lambda: DivergenceGuard(step, model.parameters(), opt, True)),
        "first step beyond a later one": _us(first_step) - _us(build) - later,
        "a later step": later,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=9)
    args = parser.parse_args(argv)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:
        pass
    hg.train.set_threads(1) if hasattr(hg.train, "set_threads") else None
    costs = per_call(args.calls, args.repeats)
    q25, med, q75 = np.percentile(costs, [25, 50, 75])
    print(
        f"W3 fit's fixed cost per call: {med:.0f} us CPU (25th-75th {q25:.0f}-{q75:.0f}), "
        f"{args.calls} x fit(epochs=1) against fit(epochs={args.calls}), {args.repeats} repeats"
    )
    print("items, each timed alone (median us CPU):")
    for name, us in items().items():
        print(f"  {name:32s} {us:8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
