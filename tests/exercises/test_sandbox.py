"""A learner's file runs in a child process: whatever it does, handgrad reports and returns."""

from __future__ import annotations

import subprocess
import textwrap
import time

import pytest

from handgrad.exercises import check_file, get

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
    real_wait = subprocess.Popen.wait

    def wait_from_the_loop(self, timeout=None):
        while timeout is not None and not entered.exists() and self.poll() is None:
            time.sleep(0.01)  # polling for the file the loop writes, not a clock
        return real_wait(self, timeout)

    monkeypatch.setattr(subprocess.Popen, "wait", wait_from_the_loop)
    result = check_file(RELU, path, timeout=1.5)
    assert not result.passed
    assert "did not finish within 1.5 s" in result.cases[0].message
    assert all("not run" in c.message for c in result.cases[1:])


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
