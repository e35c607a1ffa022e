"""fit's fixed cost per call on W3, in CPU microseconds, and each item of it.

    python benchmarks/fit_overhead.py [--calls 40] [--repeats 9]

The per-call cost: ``calls`` calls of ``fit(epochs=1)`` against one ``fit(epochs=calls)``
on the same model, alternated over ``repeats``; the difference over ``calls - 1`` is what
one more call costs beyond its epoch (CPU time of the process, one BLAS thread). That
difference is ~4% of either total, so a burst of another process in either swings it by
tens of us. ``--sets N`` adds a figure from single calls (``paired_rounds``: medians of
1-, 2- and 3-epoch calls, N of each a round), meant to ignore the calls a burst hit; at
load 10 it read higher and no steadier than the sums, so the sums stay the headline. The
one-batch call (below) is the steady figure: its quartiles span a few us at any load. Then a
whole ``fit(epochs=1)`` on one batch of rows (the fixed cost, one step, the final check),
and each item timed alone, many times in a row, with the arguments ``fit`` gives it (the
median of batches of calls): checking X, the output width, the target, the Ctrl-C
handler, ``np.errstate``, the Generator (kept for the seed, or built anew), the fast step
(cached or built anew), the guard, the final check, and the first step of a call against
a later one.

``--lines`` counts the Python lines and the bytecodes a call runs beyond its epoch
instead (traces of ``fit(epochs=1)``, ``fit(epochs=2)`` and ``fit(epochs=3)``: the first
less the third's epoch beyond the second's), by function, and the objects a call leaves
in reference cycles: counts that do not depend on the machine's load (inside a call each
line costs several times what it costs in a warm loop; garbage in cycles costs later calls
the cycle collector's runs).

``--inside`` times each piece inside real calls (``inside``), on this version or an older
one (``PYTHONPATH=/old/src``): where the per-call cost goes, as shares (the clocks add a
little, and under load every figure grows).

``--totals-only`` prints the two totals only, on this version or an older one
(``PYTHONPATH=/old/src``). ``--against /old/src`` loads that checkout too (as
``ab.py`` does) and alternates the two totals of both versions round by round in one
process, printing the per-round differences: a change of the machine's load falls on both.
Both versions then share one cyclic garbage collector, so a change in what a call leaves
to it shows only between separate processes (``--totals-only``, alternated).
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
from workloads import LEARNING_RATE, MODEL_SEED, WORKLOADS, make_data  # noqa: E402

W3 = WORKLOADS["W3"]


def _setup(package=hg):
    X, y = make_data(W3, "float64")
    model = package.mlp(list(W3.sizes), "relu", seed=MODEL_SEED)
    loss = package.SoftmaxCrossEntropyLoss()
    opt = package.SGD(model.parameters(), lr=LEARNING_RATE)
    return X, y, model, loss, opt


def per_call_round(calls: int, r: int, package=hg, setup=None) -> float:
    """Microseconds one more fit call costs beyond its epoch: ``calls`` x fit(epochs=1)
    against one fit(epochs=calls), CPU time."""
    X, y, model, loss, opt = setup or _setup(package)
    fit, clock = package.fit, time.process_time
    t0 = clock()
    for _ in range(calls):
        fit(model, loss, opt, X, y, epochs=1, batch_size=W3.batch_size, seed=r)
    t1 = clock()
    fit(model, loss, opt, X, y, epochs=calls, batch_size=W3.batch_size, seed=r)
    t2 = clock()
    return ((t1 - t0) - (t2 - t1)) / (calls - 1) * 1e6


def per_call(calls: int, repeats: int) -> tuple[list[float], list[float]]:
    """``per_call_round`` of fit and of ``FloorFit``, alternated, once per repeat (the first
    repeat warms up and is dropped)."""
    setup = _setup()
    floor = FloorFit(_setup())
    fits, floors = [], []
    for r in range(repeats + 1):
        fits.append(per_call_round(calls, r, hg, setup))
        floors.append(floor.per_call(calls, r))
    return fits[1:], floors[1:]


class FloorFit:
    """The least a fit call must do, written with the same tools: check X (finite, one
    pass of the BLAS's sum of |x|) and the labels (in range), a Generator for the seed
    (kept from call to call and reset to the seed's first state, as fit keeps it), a
    shuffle per epoch, the fast step's kernels (built once, kept: no cache lookup), the
    gradient check, and the final weights tried on the last batch (the loss computed
    only where the step cannot vouch for it, as fit's final check). No history,
    callbacks, guard, Ctrl-C, errstate or argument checks. Its per-call cost is the floor
    of fit's."""

    def __init__(self, setup) -> None:
        from handgrad.train import fast

        X, y, model, loss, opt = setup
        self.X, self.y, self.classes = X, y, W3.sizes[-1]
        self.step = fast.fast_step(model, loss, opt, None, X, y.astype(np.intp), None)
        self.rngs: dict[int, tuple[np.random.Generator, dict]] = {}
        from handgrad.train import guard

        # (a version without the short cut computes the loss)
        self.vouched = getattr(guard, "surely_finite_loss", lambda loss, outputs, tb: False)
        self.loss = loss

    def _rng(self, seed: int) -> np.random.Generator:
        if seed not in self.rngs:
            rng = np.random.default_rng(seed)
            self.rngs[seed] = (rng, rng.bit_generator.state)
        rng, first_state = self.rngs[seed]
        rng.bit_generator.state = first_state
        return rng

    def __call__(self, epochs: int, seed: int) -> None:
        from handgrad.train.blas import all_finite  # (the BLAS's sum of |x|, as fit checks X)

        X, y, step, size = self.X, self.y, self.step, W3.batch_size
        # (the labels in one pass, as fit checks them: the largest read as unsigned)
        if not all_finite(X) or np.maximum.reduce(y.view(np.uint64)) >= self.classes:
            raise ValueError("bad data")
        rng = self._rng(seed)
        for _ in range(epochs):
            order = rng.permutation(len(X))
            for start in range(0, len(X), size):
                xb, tb, _ = step.batch(order[start : start + size])
                step.loss(step.forward(xb), tb)
                step.backward()
                if not step.gradients_finite():
                    raise ValueError("diverged")
                step.step()
        outputs = step.forward(xb)  # the final weights tried; the loss when not vouched for
        if not self.vouched(self.loss, outputs, tb):
            step.loss(outputs, tb)

    def per_call(self, calls: int, r: int) -> float:
        """As ``per_call_round``: ``calls`` one-epoch calls against one of ``calls`` epochs."""
        clock = time.process_time
        t0 = clock()
        for _ in range(calls):
            self(1, r)
        t1 = clock()
        self(calls, r)
        t2 = clock()
        return ((t1 - t0) - (t2 - t1)) / (calls - 1) * 1e6


def paired_rounds(
    rounds: int, sets: int, calls: dict[str, Callable[[int, int], object]]
) -> dict[str, list[float]]:
    """One more call's cost beyond its epoch, from calls timed one at a time: in each round,
    ``sets`` sets of ``call(1)``, ``call(2)`` and ``call(3)`` (epochs; the order rotated;
    each kind in ``calls`` in turn, so that its calls follow each other as in a series of
    calls: interleaved with another kind's, each call would start with its data evicted),
    and the round's figure
    ``m1 - (m3 - m2)`` of their medians: a one-epoch call less an epoch past the second
    (where a call does nothing once any more). A median of single calls ignores the calls
    a preemption or another process's burst hit, which a sum of calls keeps. us CPU per
    round (the first round warms up and is dropped)."""
    clock = time.process_time_ns
    figures: dict[str, list[float]] = {name: [] for name in calls}
    orders = ((1, 2, 3), (3, 1, 2), (2, 3, 1))
    for r in range(rounds + 1):
        times: dict[str, dict[int, list[int]]] = {name: {1: [], 2: [], 3: []} for name in calls}
        for name, call in calls.items():  # (one kind at a time: each its own data warm)
            for i in range(sets):
                for epochs in orders[(i + r) % 3]:
                    t0 = clock()
                    call(epochs, r)
                    times[name][epochs].append(clock() - t0)
        if r:
            for name, by in times.items():
                m1, m2, m3 = (float(np.median(by[e])) for e in (1, 2, 3))
                figures[name].append((m1 - (m3 - m2)) / 1e3)
    return figures


def paired_call(rounds: int, sets: int) -> dict[str, list[float]]:
    """``paired_rounds`` of fit on W3 and of ``FloorFit``."""
    X, y, model, loss, opt = _setup()
    floor = FloorFit(_setup())

    def fit(epochs: int, seed: int) -> None:
        hg.fit(model, loss, opt, X, y, epochs=epochs, batch_size=W3.batch_size, seed=seed)

    return paired_rounds(rounds, sets, {"fit": fit, "floor": floor})


def single_calls(rounds: int, sets: int) -> None:
    """Print ``paired_call``'s figures (the per-call cost from single calls)."""
    sets_ = paired_call(rounds, sets)
    q25, med, q75 = np.percentile(sets_["fit"], [25, 50, 75])
    f25, fmed, f75 = np.percentile(sets_["floor"], [25, 50, 75])
    print(
        f"  the same cost from single calls ({sets} sets of 1-, 2- and 3-epoch calls a "
        f"round, m1 - (m3 - m2) of their medians): {med:.0f} us CPU (25th-75th "
        f"{q25:.0f}-{q75:.0f}, lowest round {min(sets_['fit']):.0f}); FloorFit {fmed:.0f} "
        f"({f25:.0f}-{f75:.0f})"
    )


def one_batch_round(n: int = 200, package=hg, setup=None) -> float:
    """CPU microseconds of a fit(epochs=1) call on one batch of rows (one step, the final
    weights tried on it): the fixed cost plus one step."""
    X, y, model, loss, opt = setup or _setup(package)
    X, y = X[: W3.batch_size], y[: W3.batch_size]
    fit, clock = package.fit, time.process_time
    t0 = clock()
    for i in range(n):
        fit(model, loss, opt, X, y, epochs=1, batch_size=W3.batch_size, seed=i)
    return (clock() - t0) / n * 1e6


def one_batch_call(repeats: int, n: int = 200) -> list[float]:
    """``one_batch_round`` once per repeat (the first dropped)."""
    setup = _setup()
    return [one_batch_round(n, hg, setup) for _ in range(repeats + 1)][1:]


def against(other_src: str, calls: int, repeats: int) -> None:
    """Both totals of this version and of the checkout at ``other_src``, alternated round
    by round in this process; prints medians and the median per-round difference."""
    from ab import load_other

    other = load_other(other_src)
    setups = {"this": _setup(hg), "other": _setup(other)}
    packages = {"this": hg, "other": other}
    rows: dict[str, dict[str, list[float]]] = {k: {"call": [], "batch": []} for k in packages}
    for r in range(repeats + 1):
        for key in ("this", "other") if r % 2 == 0 else ("other", "this"):
            call = per_call_round(calls, r, packages[key], setups[key])
            batch = one_batch_round(200, packages[key], setups[key])
            if r:
                rows[key]["call"].append(call)
                rows[key]["batch"].append(batch)
    for what, label in (("call", "per call"), ("batch", "one-batch fit(epochs=1)")):
        this, old = np.array(rows["this"][what]), np.array(rows["other"][what])
        q25, med, q75 = np.percentile(this - old, [25, 50, 75])
        print(
            f"{label}: this {np.median(this):.0f} us, other {np.median(old):.0f} us CPU; "
            f"this - other per round {med:+.0f} ({q25:+.0f} to {q75:+.0f})"
        )


def python_lines(call, top: int = 12) -> tuple[int, list[tuple[str, int]]]:
    """Python lines one more call runs beyond its epoch (``L(1) - (L(3) - L(2))``, L(e) the
    lines a traced ``call(epochs=e)`` runs: an epoch's lines counted past the second, where
    nothing happens once a call any more), and the ``top`` functions by their share."""
    import collections

    counts: collections.Counter[str] = collections.Counter()

    def tracer(frame, event, arg):
        if event == "line":
            code = frame.f_code
            where = code.co_filename.split("site-packages/")[-1].split("src/")[-1]
            counts[f"{where}:{code.co_name}"] += 1
        return tracer

    def lines(epochs: int) -> collections.Counter[str]:
        counts.clear()
        sys.settrace(tracer)
        try:
            call(epochs)
        finally:
            sys.settrace(None)
        return collections.Counter(counts)

    for _ in range(3):  # the cached step, the kept Generator: as in a long series of calls
        lines(1)
    one, two, three = lines(1), lines(2), lines(3)
    per_call = {k: one[k] - (three[k] - two[k]) for k in one.keys() | two.keys() | three.keys()}
    ranked = sorted(per_call.items(), key=lambda kv: -kv[1])[:top]
    return sum(per_call.values()), ranked


def bytecodes(call, top: int = 12) -> tuple[int, list[tuple[str, int]]]:
    """Bytecodes one more call runs beyond its epoch (``B(1) - (B(3) - B(2))``, as
    ``python_lines``), and the ``top`` functions by their share: finer than lines (a
    statement over several lines is not counted once a line)."""
    import collections

    counts: collections.Counter[str] = collections.Counter()

    def tracer(frame, event, arg):
        frame.f_trace_opcodes, frame.f_trace_lines = True, False
        if event == "opcode":
            code = frame.f_code
            where = code.co_filename.split("site-packages/")[-1].split("src/")[-1]
            counts[f"{where}:{code.co_name}"] += 1
        return tracer

    def ops(epochs: int) -> collections.Counter[str]:
        counts.clear()
        sys.settrace(tracer)
        try:
            call(epochs)
        finally:
            sys.settrace(None)
        return collections.Counter(counts)

    for _ in range(3):
        ops(1)
    one, two, three = ops(1), ops(2), ops(3)
    per_call = {k: one[k] - (three[k] - two[k]) for k in one.keys() | two.keys() | three.keys()}
    ranked = sorted(per_call.items(), key=lambda kv: -kv[1])[:top]
    return sum(per_call.values()), ranked


def garbage_left(package, setup) -> int:
    """Objects one ``fit`` call leaves in reference cycles: each waits for the cycle
    collector, whose runs then cost later calls their time."""
    import gc

    X, y, model, loss, opt = setup
    package.fit(model, loss, opt, X, y, epochs=1, batch_size=W3.batch_size, seed=0)
    gc.collect()
    gc.disable()
    try:
        package.fit(model, loss, opt, X, y, epochs=1, batch_size=W3.batch_size, seed=0)
        return gc.collect()
    finally:
        gc.enable()


INSIDE = (
    "prepare_inputs", "prepare_target_and_form", "seeded", "serving", "take", "choose_step",
    "output_shape", "DivergenceGuard", "release", "give_back", "_begin", "Run", "Position",
    "look_up", "step_for",
    "deferred_interrupt", "_check_final_weights", "_finish",
)  # fmt: skip


def inside(rounds: int, calls: int = 40) -> dict[str, list[float]]:
    """Each piece of real ``fit(epochs=1)`` calls (the loop module's names in ``INSIDE``
    that this version has), wrapped with a thread-CPU clock: us per call, one figure per
    round of ``calls`` calls. Inside a call a piece costs several times what it costs
    alone (an epoch has evicted the caches); the clocks add ~0.5 us a piece."""
    import collections
    import functools

    from handgrad.train import loop

    clock, spent = time.thread_time_ns, collections.Counter()

    def wrap(name):
        f = getattr(loop, name)

        @functools.wraps(f)
        def timed(*args, **kwargs):
            t = clock()
            try:
                return f(*args, **kwargs)
            finally:
                spent[name] += clock() - t

        return timed

    names = [name for name in INSIDE if hasattr(loop, name)]
    originals = {name: getattr(loop, name) for name in names}
    X, y, model, loss, opt = _setup()
    figures: dict[str, list[float]] = {name: [] for name in names}
    try:
        for name in names:
            setattr(loop, name, wrap(name))
        for r in range(rounds + 1):
            spent.clear()
            for _ in range(calls):
                hg.fit(model, loss, opt, X, y, epochs=1, batch_size=W3.batch_size, seed=r)
            if r:  # (the first round warms up)
                for name in names:
                    figures[name].append(spent[name] / calls / 1e3)
    finally:
        for name, f in originals.items():
            setattr(loop, name, f)
    return figures


class _NoHandler:
    """In place of ``deferred_interrupt``: no Ctrl-C handler, NumPy's error state as it is."""

    def __init__(self, quiet_overflow: bool = False) -> None:
        pass

    def __enter__(self) -> dict[str, bool]:
        return {"set": False}

    def __exit__(self, *exc: object) -> None:
        pass


def _without(promise: str) -> list[tuple[object, str, object]]:
    """(object, name, replacement) that make ``fit`` drop one promise (``PROMISES``)."""
    import weakref

    from handgrad.train import fast, guard, loop, steps

    def serving(model, loss, optimizer):  # the model's cached step, not asked whether it serves
        return fast._CACHE_DATA.get(weakref.ref(model))

    def before_step(self, idx):  # no snapshot: a divergence could not be rolled back
        self.since.append(idx)

    return {
        "cached step re-validated": [(steps, "serving", serving)],
        "Ctrl-C handler, NumPy error state": [(loop, "deferred_interrupt", _NoHandler)],
        "X checked": [(loop, "prepare_inputs", lambda model, X, name="X", known=None: X)],
        "labels checked": [
            (loop, "prepare_target_and_form", lambda loss, y, X, shape, name="y": (y, y))
        ],
        "rollback snapshot": [(guard.DivergenceGuard, "before_step", before_step)],
        "final weights tried": [(loop, "_check_final_weights", lambda run: None)],
    }[promise]


PROMISES = (
    "cached step re-validated", "Ctrl-C handler, NumPy error state", "X checked",
    "labels checked", "rollback snapshot", "final weights tried",
)  # fmt: skip


def price(rounds: int, calls: int) -> dict[str, tuple[list[float], int]]:
    """What each promise costs a W3 call: fit as it is against fit without that promise
    (``_without``; for measuring only: these calls would not be safe), alternated round by
    round in this process: us CPU per call (``per_call_round``) and bytecodes per call
    (``bytecodes``, load-independent), for fit as it is and for each promise dropped."""
    import contextlib

    @contextlib.contextmanager
    def dropped(promise):
        patches = [] if promise is None else _without(promise)
        saved = [(obj, name, getattr(obj, name)) for obj, name, _ in patches]
        try:
            for obj, name, new in patches:
                setattr(obj, name, new)
            yield
        finally:
            for obj, name, old in saved:
                setattr(obj, name, old)

    setup = _setup()
    X, y, model, loss, opt = setup
    kinds = [None, *PROMISES]
    times: dict[str | None, list[float]] = {k: [] for k in kinds}
    codes: dict[str | None, int] = {}
    for kind in kinds:
        with dropped(kind):
            codes[kind] = bytecodes(
                lambda e: hg.fit(model, loss, opt, X, y, epochs=e, batch_size=W3.batch_size, seed=0)
            )[0]
    for r in range(rounds + 1):
        for kind in kinds if r % 2 else kinds[::-1]:
            with dropped(kind):
                figure = per_call_round(calls, r, hg, setup)
            if r:
                times[kind].append(figure)
    return {("as it is" if k is None else k): (times[k], codes[k]) for k in kinds}


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
    """Each piece of a fit call's fixed work, timed alone (CPU microseconds), with the
    arguments fit gives it."""
    from handgrad.nn.init import make_rng
    from handgrad.train import fast, generators, inputs, steps
    from handgrad.train.guard import DivergenceGuard, final_problem
    from handgrad.train.interrupt import deferred_interrupt

    X, y, model, loss, opt = _setup()
    shape = inputs.output_shape(model, X)
    y_arr, target = inputs.prepare_target_and_form(loss, y, X, shape)

    def handler() -> None:
        with deferred_interrupt():
            pass

    def errstate() -> None:  # (as fit sets it, with the handler)
        with deferred_interrupt(quiet_overflow=True):
            pass

    def take_step():
        return steps.choose_step(
            model, loss, opt, None, X, y_arr, target=target,
            outputs_shape=shape, with_metrics=False, fast_allowed=True,
        )  # fmt: skip

    _, _, model2, loss2, opt2 = _setup()  # (a model of its own: ``step`` below is out)
    steps.release(model2, steps.choose_step(
        model2, loss2, opt2, None, X, y_arr, target=target,
        outputs_shape=shape, with_metrics=False, fast_allowed=True,
    ))  # fmt: skip

    def cached_step() -> None:  # as fit takes it: found before the data, taken after
        serving = fast.serving(model2, loss2, opt2)
        steps.release(model2, fast.take(model2, serving, None, X, target, None))

    def first_step() -> None:  # a step taken from the cache, one step, given back
        taken = fast.take(model2, fast.serving(model2, loss2, opt2), None, X, target, None)
        one_step(taken)
        steps.release(model2, taken)

    def new_step() -> None:
        fast._CACHE.pop(model, None)  # (model2's stays)
        take_step()

    step = take_step()
    idx = next(hg.train.batches(len(X), W3.batch_size, rng=np.random.default_rng(0)))

    def one_step(s) -> None:
        xb, tb, _ = s.batch(idx)
        s.loss(s.forward(xb), tb)
        s.backward()
        s.gradients_finite()
        s.step()

    def guard() -> DivergenceGuard:
        g = DivergenceGuard(step, step.params, opt, True)
        g.before_step(idx)
        return g

    tried = guard()

    later = _us(lambda: one_step(step))
    return {
        "X check (prepare_inputs)": _us(lambda: inputs.prepare_inputs(model, X)),
        "output width from the layers": _us(lambda: inputs.output_shape(model, X)),
        "  (a 1-row forward instead)": _us(lambda: model.forward(X[:1])),
        "target checked once": _us(lambda: inputs.prepare_target_and_form(loss, y, X, shape)),
        "Ctrl-C handler (main thread)": _us(handler),
        "  with NumPy's errors quiet": _us(errstate),
        "Generator kept for the seed": _us(
            lambda: generators.give_back(0, None, generators.seeded(0, None))
        ),
        "  (built anew from the seed)": _us(lambda: make_rng(0, None)),
        "fast.supports (a new step only)": _us(lambda: fast.supports(model, loss, opt, X.dtype)),
        "fast step, from the cache": _us(cached_step),
        "  (built anew)": _us(new_step, n=100),
        "guard and its first snapshot": _us(guard),
        "final weights tried (1 batch)": _us(
            lambda: final_problem(step, tried, "prediction"), n=200
        ),
        "first step of a call beyond a later one": _us(first_step) - _us(cached_step) - later,
        "a later step": later,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument(
        "--sets", type=int, default=0, help="also the cost from single calls, N sets a round"
    )
    parser.add_argument(
        "--totals-only", action="store_true", help="no items (runs on older versions too)"
    )
    parser.add_argument("--against", metavar="SRC", help="alternate with the checkout at SRC")
    parser.add_argument(
        "--lines", action="store_true", help="count the Python lines a call runs instead"
    )
    parser.add_argument(
        "--inside", action="store_true", help="time each piece inside real calls instead"
    )
    parser.add_argument(
        "--price", action="store_true", help="what each promise costs a call (dropped in turn)"
    )
    args = parser.parse_args(argv)
    if args.price:
        print(f"load average {os.getloadavg()[0]:.1f}")
        priced = price(args.repeats, args.calls)
        base_t, base_b = priced.pop("as it is")
        print(f"fit as it is: {np.median(base_t):.0f} us CPU per call, {base_b} bytecodes")
        print("dropping one promise saves (us per call: median of per-round differences, "
              "25th-75th; bytecodes):")  # fmt: skip
        for name, (t, b) in priced.items():
            q25, med, q75 = np.percentile(np.subtract(base_t, t), [25, 50, 75])
            print(f"  {name:36s} {med:6.1f} us ({q25:.1f} to {q75:.1f})  {base_b - b:5d} bytecodes")
        print(f"load average {os.getloadavg()[0]:.1f}")
        return 0
    if args.inside:
        print(f"load average {os.getloadavg()[0]:.1f}")
        print("inside real fit(epochs=1) calls, us CPU per call (median, 25th-75th):")
        for name, values in inside(args.repeats).items():
            q25, med, q75 = np.percentile(values, [25, 50, 75])
            print(f"  {name:26s} {med:7.1f}  ({q25:.1f}-{q75:.1f})")
        print(f"load average {os.getloadavg()[0]:.1f}")
        return 0
    if args.lines:
        X, y, model, loss, opt = _setup()
        floor = FloorFit(_setup())
        total, ranked = python_lines(
            lambda e: hg.fit(model, loss, opt, X, y, epochs=e, batch_size=W3.batch_size, seed=0)
        )
        print(f"W3: Python lines one more fit call runs beyond its epoch: {total}")
        for name, n in ranked:
            print(f"  {n:5d}  {name}")
        print(f"  its floor (FloorFit): {python_lines(lambda e: floor(e, 0))[0]}")
        total, ranked = bytecodes(
            lambda e: hg.fit(model, loss, opt, X, y, epochs=e, batch_size=W3.batch_size, seed=0)
        )
        print(f"W3: bytecodes one more fit call runs beyond its epoch: {total}")
        for name, n in ranked:
            print(f"  {n:5d}  {name}")
        print(f"  its floor (FloorFit): {bytecodes(lambda e: floor(e, 0))[0]}")
        print(f"objects a call leaves to the cycle collector: {garbage_left(hg, _setup())}")
        return 0
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:
        pass
    print(f"load average {os.getloadavg()[0]:.1f}")
    if args.against:
        against(args.against, args.calls, args.repeats)
        print(f"load average {os.getloadavg()[0]:.1f}")
        return 0
    costs, floors = per_call(args.calls, args.repeats)
    q25, med, q75 = np.percentile(costs, [25, 50, 75])
    print(
        f"W3 fit's fixed cost per call: {med:.0f} us CPU (25th-75th {q25:.0f}-{q75:.0f}), "
        f"{args.calls} x fit(epochs=1) against fit(epochs={args.calls}), {args.repeats} repeats"
    )
    q25, med, q75 = np.percentile(floors, [25, 50, 75])
    print(
        f"  its floor, the same measure on the least a call must do (FloorFit), alternated: "
        f"{med:.0f} us CPU (25th-75th {q25:.0f}-{q75:.0f})"
    )
    if args.sets:
        single_calls(args.repeats, args.sets)
    q25, med, q75 = np.percentile(one_batch_call(args.repeats), [25, 50, 75])
    print(
        f"W3 fit(epochs=1) on one batch of {W3.batch_size} rows: {med:.0f} us CPU "
        f"(25th-75th {q25:.0f}-{q75:.0f}): the fixed cost, one step and the final check"
    )
    if args.totals_only:
        return 0
    print("items, each timed alone (median us CPU):")
    for name, us in items().items():
        print(f"  {name:32s} {us:8.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
