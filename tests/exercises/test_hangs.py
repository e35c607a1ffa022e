"""An answer that loops, recurses or allocates without end stops within one time limit, with
a message that says what happened, in a notebook (in-process) as in the sandbox."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

import handgrad.exercises as ex
from handgrad.exercises import check_file, get

RELU = get("relu")

SWALLOWING = {
    "except Exception": "except Exception:\n            pass",
    "bare except": "except:\n            pass",
    "except BaseException": "except BaseException:\n            continue",
}


def _answer(source: str):
    namespace: dict = {"np": np}
    exec(compile(source, "<learner>", "exec"), namespace)
    return namespace["relu"]


@pytest.mark.parametrize("handler", sorted(SWALLOWING))
def test_an_endless_loop_that_swallows_the_stop_is_stopped(handler):
    """The stop is raised again at the answer's next line: the handler's own line raises it
    outside the try, so even a bare except lets go (it used to hang the check for good)."""
    relu = _answer(
        "calls = []\n"
        "def relu(z):\n"
        "    calls.append(1)\n"
        "    while True:\n"
        "        try:\n"
        "            sum(range(1000))\n"
        f"        {SWALLOWING[handler]}\n"
    )
    trace_before = sys.gettrace()
    result = ex.check("relu", relu, timeout=0.2)
    assert not result.passed
    assert "did not finish within 0.2 s" in result.cases[0].message
    assert relu.__globals__["calls"] == [1]  # the other cases were not run
    assert sys.gettrace() is trace_before  # the line tracer is gone again
    assert sys._getframe().f_trace is None


def test_after_a_stopped_loop_a_right_answer_runs_untouched():
    ex.check("relu", _answer("def relu(z):\n    while True:\n        pass\n"), timeout=0.2)
    assert ex.check("relu", lambda z: np.maximum(z, 0)).passed


def test_endless_recursion_names_the_line_and_the_cause():
    result = ex.check("relu", _answer("def relu(z):\n    return relu(z)\n"))
    message = result.cases[0].message
    assert message.startswith("raised RecursionError")
    assert "calls itself with nothing to stop it" in message


def test_a_memory_bomb_says_how_much_it_asked_for():
    result = ex.check("relu", _answer("def relu(z):\n    return np.ones((10**6, 10**6))\n"))
    message = result.cases[0].message
    assert message.startswith("ran out of memory: Unable to allocate 7.28 TiB"), message
    assert "(1000000, 1000000)" in message


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS and /proc: Linux")
@pytest.mark.parametrize(
    "body",
    [
        "return np.ones((20000, 20000))",  # 2.98 GiB: would fit this machine, and be made
        "kept = []\n    while True:\n        kept.append(np.empty(10**8))",  # 800 MB at a time
    ],
    ids=["one 3 GiB array", "a growing list"],
)
def test_in_a_notebook_an_allocation_past_the_headroom_is_refused_at_once(body):
    """In-process (a notebook), the answer may add 2048 MB to the process's address space:
    past that NumPy refuses at once and says what was asked for, rather than the machine
    swapping or the kernel being killed; the limit is put back afterwards."""
    import resource

    before = resource.getrlimit(resource.RLIMIT_AS)
    result = ex.check("relu", _answer(f"def relu(z):\n    {body}\n"), timeout=30)
    message = result.cases[0].message
    assert message.startswith("ran out of memory: Unable to allocate"), message
    assert "(the check allows 2048 MB more than the notebook already uses)" in message
    assert resource.getrlimit(resource.RLIMIT_AS) == before
    assert ex.check("relu", lambda z: np.maximum(z, 0)).passed


@pytest.mark.slow
@pytest.mark.parametrize(
    "source,expected",
    [
        (
            "import numpy as np\ndef relu(z):\n    return np.ones((10**6, 10**6))\n",
            "ran out of memory: Unable to allocate 7.28 TiB",
        ),
        (  # grows until the address-space limit: NumPy's words then name a smaller array
            "import numpy as np\nkept = []\ndef relu(z):\n    while True:\n"
            "        kept.append(np.ones(10**7))\n",
            "ran out of memory",
        ),
        ("def relu(z):\n    return relu(z)\n", "calls itself with nothing to stop it"),
    ],
    ids=["one huge array", "a growing list", "recursion"],
)
def test_the_sandbox_reports_memory_and_recursion(tmp_path, source, expected):
    path = tmp_path / "relu.py"
    path.write_text(source)
    result = check_file(RELU, path, timeout=60)
    assert not result.passed
    message = result.cases[0].message
    assert expected in message, str(result)
    if "memory" in expected:
        assert "(the check allows 2048 MB)" in message
    else:
        assert "(line 2: return relu(z))" in message


def test_the_alarm_the_handler_and_the_tracer_are_put_back_however_the_case_ends():
    """Answers that end just before, at or after their limit (the alarm repeating meanwhile):
    whichever way each case ends, nothing of the time limit is left behind."""
    import signal

    handler_before = signal.getsignal(signal.SIGALRM)
    trace_before = sys.gettrace()
    relu = _answer(
        "import time\n"
        "def relu(z):\n"
        "    end = time.monotonic() + 0.01 * (len(z.ravel()) % 7)\n"
        "    while time.monotonic() < end:\n"
        "        try:\n"
        "            pass\n"
        "        except BaseException:\n"
        "            pass\n"
        "    return np.maximum(z, 0)\n"
    )
    for limit in (0.005, 0.01, 0.02, 0.03, 0.05):
        ex.check("relu", relu, timeout=limit)  # passed or not, depending on the machine
        assert signal.getsignal(signal.SIGALRM) is handler_before
        assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
        assert sys.gettrace() is trace_before
        assert sys._getframe().f_trace is None
    assert ex.check("relu", lambda z: np.maximum(z, 0)).passed


def test_the_stop_is_raised_in_the_answers_frames_only():
    """Not in an installed package's frame: a gc callback (hypothesis registers one) can run
    in the middle of the answer, and a stop raised there is only "ignored" by the gc."""
    import sysconfig

    from handgrad.exercises.running import _Deadline

    def frame_of(filename: str):
        namespace: dict = {}
        exec(compile("import sys\nframe = sys._getframe()\n", filename, "exec"), namespace)
        return namespace["frame"]

    deadline = _Deadline(1.0)
    installed = os.path.join(sysconfig.get_paths()["purelib"], "somepackage", "callbacks.py")
    assert not deadline._answers(frame_of(installed))
    assert deadline._answers(frame_of("<learner>"))
    assert deadline._answers(frame_of("/home/learner/course/relu.py"))


def _function_in(filename: str, source: str, name: str):
    namespace: dict = {}
    exec(compile(source, filename, "exec"), namespace)
    return namespace[name]


ALARM_NOW = (
    "import signal, sys\n"
    "def alarm_here(seen):\n"
    "    handler = signal.getsignal(signal.SIGALRM)\n"
    "    handler(signal.SIGALRM, sys._getframe())\n"
    "    seen.append('went on')\n"
)


def test_the_alarm_raises_in_the_answers_frames_only_inside_the_call():
    """The alarm landing in an installed package's frame (a gc callback), in the checker's
    own code or after the call (its clean-up, a finalizer) raises nothing there: the stop
    can only come out of the answer's frames, so no clean-up step can ever be skipped (an
    alarm during contextlib's __exit__ once left the timer running and the process died of
    SIGALRM)."""
    import signal
    import sysconfig

    from handgrad.exercises.running import CaseTimeout, call_with_time_limit

    installed = os.path.join(sysconfig.get_paths()["purelib"], "somepackage", "callbacks.py")
    in_a_package = _function_in(installed, ALARM_NOW, "alarm_here")
    in_the_answer = _function_in("<learner>", ALARM_NOW, "alarm_here")
    trace_before = sys.gettrace()
    seen: list[str] = []
    call_with_time_limit(lambda: in_a_package(seen), 60)
    assert seen == ["went on"]
    with pytest.raises(CaseTimeout):
        call_with_time_limit(lambda: in_the_answer(seen), 60)
    assert seen == ["went on"]
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert sys.gettrace() is trace_before


def test_an_alarm_outside_the_limited_call_raises_nothing():
    from handgrad.exercises.running import _Deadline

    deadline = _Deadline(1.0)
    trace_before = sys.gettrace()
    deadline.on_alarm(14, sys._getframe())  # as if it landed after the call returned
    assert sys.gettrace() is trace_before and sys._getframe().f_trace is None


@pytest.mark.slow
def test_many_stops_at_random_moments_leave_nothing_behind():
    """Endless loops (some swallowing the stop, some making garbage for the gc and its
    callbacks) stopped at limits of 3-50 ms, 300 times: the handler, the timer and the
    tracer are put back each time and a right answer passes after each (the old clean-up
    died of SIGALRM within ~700 such checks)."""
    import random
    import signal

    import hypothesis.internal.conjecture.junkdrawer  # noqa: F401  (its gc callback)

    sources = [
        "def relu(z):\n    while True:\n        pass\n",
        "def relu(z):\n    while True:\n        try:\n            sum(range(1000))\n"
        "        except:\n            pass\n",
        "def relu(z):\n    junk = []\n    while True:\n"
        "        junk.append([object() for _ in range(100)])\n"
        "        if len(junk) > 2000:\n            junk.clear()\n",
    ]
    choose = random.Random(1)
    handler_before = signal.getsignal(signal.SIGALRM)
    for _ in range(300):
        relu = _answer(choose.choice(sources))
        result = ex.check("relu", relu, timeout=choose.choice([0.003, 0.005, 0.01, 0.05]))
        assert not result.passed
        assert signal.getsignal(signal.SIGALRM) is handler_before
        assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
        assert sys.gettrace() is None
    assert ex.check("relu", lambda z: np.maximum(z, 0)).passed
