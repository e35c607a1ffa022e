"""``handgrad exercise``: list, start (never overwriting), check with exit status 0 / 1 / 2."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from handgrad.cli import main
from handgrad.exercises import names

RIGHT = """
def backprop(X, Y, input_size, hidden_size, W1, b1, W2, b2):
    a1 = 1 / (1 + np.exp(-(X @ W1 + b1)))
    A = 1 / (1 + np.exp(-(a1 @ W2 + b2)))
    dz2 = A - Y
    dz1 = (dz2 @ W2.T) * a1 * (1 - a1)
    return {"dW1": X.T @ dz1, "db1": dz1.sum(axis=0, keepdims=True),
            "dW2": a1.T @ dz2, "db2": dz2.sum(axis=0, keepdims=True)}
"""
STUB = (
    "def backprop(X, Y, input_size, hidden_size, W1, b1, W2, b2):\n    raise NotImplementedError\n"
)


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_names_every_exercise_with_its_chapter(capsys):
    code, out, _ = run(capsys, "exercise", "list")
    assert code == 0
    for name in names():
        assert f"\n{name} " in out
    adam = next(line for line in out.splitlines() if line.startswith("adam "))
    assert "5 · XOR and symmetry" in adam
    backprop = next(line for line in out.splitlines() if line.startswith("backprop "))
    assert "4 · Backprop by hand" in backprop
    assert "seed" not in out.lower()


def test_list_follows_the_course_chapter_by_chapter(capsys):
    """The list is read as the course's order: chapter 1's exercise first, chapters never
    going back (registration order had relu of chapter 3 first, one_hot of 7 before
    sigmoid of 4)."""
    code, out, _ = run(capsys, "exercise", "list")
    rows = out.splitlines()[1:]
    chapters = [int(row.split()[1]) for row in rows]
    assert code == 0 and len(rows) == len(names())
    assert chapters == sorted(chapters) and chapters[0] == 1 and chapters[-1] == 10
    assert [row.split()[0] for row in rows] == names()
    assert names()[:2] == ["mse", "linear"]
    within_4 = [row.split()[0] for row in rows if row.split()[1] == "4"]
    assert within_4.index("forward") < within_4.index("backward") < within_4.index("backprop")


def test_start_edit_check_through_the_command_line(tmp_path, capsys):
    code, out, _ = run(capsys, "exercise", "start", "backprop", "--dir", str(tmp_path / "ex"))
    assert code == 0
    path = tmp_path / "ex" / "backprop.py"
    starter = path.read_text()
    assert STUB in starter

    code, out, _ = run(capsys, "exercise", "check", str(path))
    assert code == 1 and "NotImplementedError" in out

    path.write_text(starter.replace(STUB, RIGHT.lstrip()))
    code, out, _ = run(capsys, "exercise", "check", str(path))
    assert code == 0, out
    assert "backprop: PASSED (6/6 cases)" in out

    wrong = RIGHT.replace("dz2 = A - Y", "dz2 = (A - Y) / len(X)")
    path.write_text(starter.replace(STUB, wrong.lstrip()))
    code, out, _ = run(capsys, "exercise", "check", str(path), "--json")
    assert code == 1
    report = json.loads(out)
    assert report["exercise"] == "backprop" and report["passed"] is False
    assert set(report["cases"][0]) == {"name", "passed", "diagnoses", "message"}
    failing = [c for c in report["cases"] if not c["passed"]]
    assert failing and all(c["diagnoses"] == ["scale"] for c in failing)
    assert "1/N" in failing[0]["message"]


def test_explain_prints_a_hint_or_an_exercises_formulas(tmp_path, capsys):
    code, out, _ = run(capsys, "exercise", "explain", "n-minus-1")
    assert code == 0 and out.startswith("n-minus-1\n\nA mean divided by N − 1 instead of N")
    code, out, _ = run(capsys, "exercise", "explain", "mse")
    assert code == 0 and "mean((ŷ − y)²) over all entries" in out
    code, _, err = run(capsys, "exercise", "explain", "scael")
    assert code == 2 and "nothing to explain under 'scael'" in err
    run(capsys, "exercise", "start", "mse", "--dir", str(tmp_path))
    assert "The formulas: handgrad exercise explain mse" in (tmp_path / "mse.py").read_text()


def test_start_never_overwrites(tmp_path, capsys):
    target = tmp_path / "relu.py"
    target.write_text("# mine\n")
    code, _, err = run(capsys, "exercise", "start", "relu", "--dir", str(tmp_path))
    assert code == 2 and "already exists" in err
    assert target.read_text() == "# mine\n"


@pytest.mark.parametrize(
    "argv,message",
    [
        (["exercise", "start", "no_such_exercise"], "no exercise named 'no_such_exercise'"),
        (["exercise", "check", "/nonexistent/backprop.py"], "no such file"),
        (["exercise", "check", "__FILE__"], "pass --name"),
        (["exercise", "check", "__FILE__", "--name", "nope"], "no exercise named 'nope'"),
    ],
)
def test_usage_errors_exit_2_with_one_line(tmp_path, capsys, argv, message):
    other = tmp_path / "my_answer.py"
    other.write_text("x = 1\n")
    argv = [str(other) if a == "__FILE__" else a for a in argv]
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert err.startswith("handgrad: error: ") and message in err
    assert len(err.strip().splitlines()) == 1


def test_check_with_name_for_a_file_named_otherwise(tmp_path, capsys):
    path = tmp_path / "attempt3.py"
    path.write_text("import numpy as np\n\ndef relu(z):\n    return np.maximum(z, 0)\n")
    code, out, _ = run(capsys, "exercise", "check", str(path), "--name", "relu")
    assert code == 0 and "relu: PASSED" in out


def test_the_installed_command_runs_a_check(tmp_path):
    path = tmp_path / "relu.py"
    path.write_text("import numpy as np\n\ndef relu(z):\n    return np.maximum(z, 0.0) * 2\n")
    done = subprocess.run(
        [sys.executable, "-m", "handgrad.cli", "exercise", "check", str(path), "--json"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert "scale" in {d for c in report["cases"] for d in c["diagnoses"]}
