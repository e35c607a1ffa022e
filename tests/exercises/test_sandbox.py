"""A learner's file runs in a child process: whatever it does, handgrad reports and returns."""

from __future__ import annotations

import errno
import os
import signal
import sys
import textwrap
import time

import numpy as np
import pytest

from handgrad.exercises import _channel, check_file, get, sandbox

RELU = get("relu")
GOOD = "import numpy as np\n\ndef relu(z):\n    return np.maximum(z, 0)\n"


def write(tmp_path, source: str, name: str = "relu.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(source))
    return path


def test_a_right_file_passes_and_is_left_untouched(tmp_path):
    path = write(tmp_path, GOOD)
    before = path.read_bytes(), path.stat().st_mtime_ns
    result = check_file(RELU, path)
    assert result.passed, str(result)
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["relu.py"]  # no __pycache__


def test_an_endless_loop_is_stopped(tmp_path, monkeypatch):
    entered = tmp_path / "entered"
    path = write(tmp_path, f"def relu(z):\n    open({str(entered)!r}, 'w').close()\n"
                 "    while True:\n        pass\n")  # fmt: skip
    # the 1.5 s start once the loop is entered, not while a loaded machine is still
    # starting the child (else the limit could end the loading, a different report)
    real_watch = sandbox._watch

    def watch_from_the_loop(child, fd, reader, seconds):
        while not entered.exists() and child.poll() is None:
            time.sleep(0.01)  # polling for the file the loop writes, not a clock
        return real_watch(child, fd, reader, seconds)

    monkeypatch.setattr(sandbox, "_watch", watch_from_the_loop)
    result = check_file(RELU, path, timeout=1.5)
    assert not result.passed
    assert "did not finish within 1.5 s" in result.cases[0].message
    first = result.cases[0].name
    assert all(f"not run: the case {first!r} did not finish" in c.message for c in result.cases[1:])


@pytest.mark.parametrize(
    "value", [np.float64(0.04), np.array(3), np.zeros((2, 0)), np.eye(3)[:, 1]]
)
def test_the_channel_keeps_shape_and_dtype(value):
    """A number stays a number (shape ()): a right loss came back as shape (1,) and failed."""
    back = _channel.text_array(_channel.array_text(np.asarray(value)))
    assert back.shape == np.shape(value) and back.dtype == np.asarray(value).dtype
    assert np.array_equal(back, value)


@pytest.mark.slow
@pytest.mark.parametrize(
    "name", ["mse", "l2_penalty", "bce_with_logits", "count_parameters", "gradient_check"]
)
def test_a_right_answer_with_a_number_for_output_passes_in_the_sandbox(tmp_path, name):
    path = tmp_path / f"{name}.py"
    path.write_text(
        f"from handgrad.exercises import get\n\nglobals().update(get({name!r}).reference())\n"
    )
    result = check_file(get(name), path)
    assert result.passed, str(result)


def test_an_endless_loop_while_loading_is_stopped(tmp_path):
    path = write(tmp_path, "while True:\n    pass\n")
    result = check_file(RELU, path, timeout=1.5)
    assert result.cases == []
    assert "did not finish" in result.problem


def test_a_crash_is_reported(tmp_path):
    path = write(tmp_path, "import os\n\ndef relu(z):\n    os.abort()\n")
    result = check_file(RELU, path)
    assert "crashed (SIGABRT)" in result.cases[0].message


@pytest.mark.parametrize(
    "source,expected",
    [
        ("import sys\n\ndef relu(z):\n    sys.exit(3)\n", "called sys.exit(3)"),
        ("import os\n\ndef relu(z):\n    os._exit(0)\n", "ended early (exit status 0)"),
    ],
    ids=["sys.exit", "os._exit"],
)
def test_exiting_is_reported(tmp_path, source, expected):
    result = check_file(RELU, write(tmp_path, source))
    assert not result.passed
    assert expected in result.cases[0].message


@pytest.mark.parametrize(
    "source,expected",
    [
        ("def relu(z)\n    return z\n", "syntax error at line 1"),
        ("import not_a_module_anywhere\n", "No module named 'not_a_module_anywhere'"),
        ("import sys\nsys.exit(0)\n", "loading the file called sys.exit(0)"),
        ("def rectifier(z):\n    return z\n", "does not define relu"),
    ],
    ids=["syntax", "import", "exit-at-load", "missing-name"],
)
def test_a_file_that_cannot_load_is_reported(tmp_path, source, expected):
    result = check_file(RELU, write(tmp_path, source))
    assert not result.passed and result.cases == []
    assert expected in result.problem


def test_megabytes_of_printing_are_capped(tmp_path):
    source = GOOD.replace("def relu(z):\n", "def relu(z):\n    print('x' * 10**6)\n")
    result = check_file(RELU, write(tmp_path, source))
    assert result.passed
    assert len(result.output) < 5000
    assert "more characters not shown" in result.output


def test_the_memory_limit_holds(tmp_path):
    # 3 GB of address space asked at once (never touched): refused under a 1 GB limit
    source = "import numpy as np\n\ndef relu(z):\n    big = np.empty(3 * 2**30, np.uint8)\n"
    result = check_file(RELU, write(tmp_path, source), memory_mb=1024)
    assert "ran out of memory" in result.cases[0].message


def test_outputs_that_are_not_numbers_are_reported(tmp_path):
    result = check_file(RELU, write(tmp_path, "def relu(z):\n    return 'zero'\n"))
    assert not result.passed
    assert "not numbers" in result.cases[0].message
    result = check_file(RELU, write(tmp_path, "def relu(z):\n    pass\n", "b.py"))
    assert "returned None" in result.cases[0].message


# --- a hostile or very buggy answer: the checker survives it and leaves nothing behind ---

FORGE = """
import os
import sys

import numpy as np


def relu(z):
    # bytes into every descriptor the child has open (whatever its number: a parent that has
    # run many tests holds descriptors past 64), and into the old results folder
    for fd in sorted(int(name) for name in os.listdir("/proc/self/fd")):
        if fd < 3:
            continue
        try:
            os.write(fd, PAYLOAD)
        except OSError:
            pass
    if len(sys.argv) > 3 and os.path.isdir(sys.argv[3]):
        with open(os.path.join(sys.argv[3], "progress.jsonl"), "ab") as f:
            f.write(PAYLOAD)
    return np.maximum(z, 0)
"""


@pytest.mark.parametrize(
    "payload",
    [
        b'{"event": "end", "index": "x", "status": "ok"}\n',  # malformed, unsigned
        b'{"event": "end", "index": 0, "status": "ok"}\n' * 3,  # well-formed, unsigned
        b"0" * 64 + b" e30=\n",  # a signature of the right length, forged
    ],
    ids=["malformed", "unsigned", "forged-signature"],
)
def test_lines_written_into_the_result_channel_are_refused(tmp_path, payload):
    source = FORGE.replace("PAYLOAD", repr(payload))
    result = check_file(RELU, write(tmp_path, source))
    assert not result.passed
    assert "the results could not be read" in result.problem


@pytest.mark.slow
def test_a_flood_into_the_result_channel_is_read_in_bounded_memory(tmp_path):
    import tracemalloc

    source = FORGE.replace("PAYLOAD", "b'x' * 40 * 2**20")  # 40 MB without a newline
    tracemalloc.start()
    try:
        result = check_file(RELU, write(tmp_path, source))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "the results could not be read" in result.problem
    assert "longer than" in result.problem
    assert peak < 24 * 2**20, peak


SPAWN = """
import os
import subprocess
import sys

import numpy as np

SLEEP = [sys.executable, "-c", "import time; time.sleep(3600)"]


def relu(z):
    if not os.path.exists(PIDS):
        grouped = subprocess.Popen(SLEEP)  # in the child's process group
        alone = subprocess.Popen(SLEEP, start_new_session=True)  # left the group
        forked = os.fork()
        if forked == 0:  # a forked copy of the child itself, in a session of its own
            os.setsid()
            while True:
                pass
        with open(PIDS, "w") as f:
            f.write(f"{grouped.pid} {alone.pid} {forked}")
    return np.maximum(z, 0)
"""


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rpartition(b")")[2].split()[0] not in (b"Z", b"X")
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_every_process_the_answer_started_is_killed_after_a_pass(tmp_path):
    pids_file = tmp_path / "pids.txt"
    source = SPAWN.replace("PIDS", repr(str(pids_file)))
    result = check_file(RELU, write(tmp_path, source))
    pids = [int(p) for p in pids_file.read_text().split()]
    try:
        assert result.passed, str(result)
        assert [pid for pid in pids if _running(pid)] == []
    finally:
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def test_files_are_written_in_a_folder_of_the_checks_own_and_capped(tmp_path):
    source = """
import os

import numpy as np


def relu(z):
    if not os.path.exists("small.bin"):
        print("cwd", os.getcwd())
        for i in range(3):
            with open(f"small{i}.bin" if i else "small.bin", "wb") as f:
                f.write(b"x" * 2**20)
        try:
            with open("big.bin", "wb") as f:
                f.write(b"x" * 17 * 2**20)
        except OSError as exc:
            print("refused", exc.errno)
    return np.maximum(z, 0)
"""
    result = check_file(RELU, write(tmp_path, source))
    assert result.passed, str(result)
    assert f"refused {errno.EFBIG}" in result.output
    workdir = result.output.split("cwd ", 1)[1].split()[0]
    assert not os.path.exists(workdir)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["relu.py"]


def test_terminal_control_codes_in_the_answers_output_are_shown_inert(tmp_path):
    source = """
import numpy as np


def relu(z):
    print("\\x1b[2K\\rrelu: PASSED (9/9 cases)\\x1b]0;title\\x07\\u202e")
    raise ValueError("\\x1b[1A\\x1b[2Krelu: PASSED")
"""
    result = check_file(RELU, write(tmp_path, source))
    assert not result.passed
    shown = str(result) + result._repr_html_()
    for code in ("\x1b", "\r", "\x07", "\u202e"):
        assert code not in shown
    assert "\\x1b[2K\\rrelu: PASSED" in result.output
    assert "raised ValueError: \\x1b[1A" in result.cases[0].message
