"""``handgrad course --out DIR`` copies the notebooks and never overwrites the learner's edits."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from handgrad import cli, course
from handgrad.chapters import CHAPTERS


def test_course_copies_every_chapter_and_keeps_an_edited_one(tmp_path, capsys):
    out = tmp_path / "my-course"
    assert cli.main(["course", "--out", str(out)]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(course.notebook_name(c) for c in CHAPTERS)
    first = out / names[0]
    assert json.loads(first.read_text())["cells"][0]["cell_type"] == "markdown"
    assert f"jupyter lab {out}" in capsys.readouterr().out

    first.write_text("my edits")
    (out / names[1]).unlink()
    assert cli.main(["course", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert first.read_text() == "my edits"
    assert f"kept   {first}" in printed and f"copied {out / names[1]}" in printed


def test_copied_notebooks_get_the_usual_mode_not_the_temporary_files(tmp_path, capsys):
    """The copy is written through a temporary file (0600 by mkstemp): the notebook itself gets
    what the umask gives any new file, so the learner's group can read it when the umask says so."""
    previous = os.umask(0o022)
    try:
        assert cli.main(["course", "--out", str(tmp_path / "c")]) == 0
        os.umask(0o077)
        assert cli.main(["course", "--out", str(tmp_path / "private")]) == 0
    finally:
        os.umask(previous)
    assert {p.stat().st_mode & 0o777 for p in (tmp_path / "c").iterdir()} == {0o644}
    assert {p.stat().st_mode & 0o777 for p in (tmp_path / "private").iterdir()} == {0o600}


def test_course_into_a_file_is_a_clear_error(tmp_path, capsys):
    target = tmp_path / "a-file"
    target.write_text("")
    assert cli.main(["course", "--out", str(target)]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_the_solutions_switch_is_off_unless_asked(monkeypatch):
    monkeypatch.delenv(course.SOLUTIONS_ENV, raising=False)
    namespace: dict = {"mse": None}
    course.reference_if_asked("mse", namespace)
    assert namespace == {"mse": None}
    monkeypatch.setenv(course.SOLUTIONS_ENV, "0")
    course.reference_if_asked("mse", namespace)
    assert namespace == {"mse": None}
    monkeypatch.setenv(course.SOLUTIONS_ENV, "1")
    # None, so the exercise cell it ends shows no "False" that reads like a verdict
    assert course.reference_if_asked("mse", namespace) is None
    assert namespace["mse"](pytest.importorskip("numpy").array([1.0, 3.0]), [1.0, 1.0]) == 2.0


def test_course_never_writes_through_a_symlink_and_leaves_no_partial_file(tmp_path, capsys):
    out = tmp_path / "course"
    out.mkdir()
    first = course.notebook_name(CHAPTERS[0])
    elsewhere = tmp_path / "elsewhere.ipynb"  # a broken link: the learner's file moved away
    (out / first).symlink_to(elsewhere)
    copied, kept = course.copy_course(out)
    assert kept == [out / first] and not elsewhere.exists()
    assert len(copied) == len(CHAPTERS) - 1
    assert sorted(p.name for p in out.iterdir()) == sorted(
        course.notebook_name(c) for c in CHAPTERS
    ), "no temporary file is left beside the notebooks"
    for path in copied:
        assert path.read_bytes() == (course.HERE / path.name).read_bytes()


def test_course_run_twice_keeps_every_saved_notebook_byte_for_byte(tmp_path, capsys):
    out = tmp_path / "course"
    assert cli.main(["course", "--out", str(out)]) == 0
    saved = {}
    for i, path in enumerate(sorted(out.iterdir())):
        nb = json.loads(path.read_text())
        nb["cells"][0]["source"] = [f"my notes {i}\n"]
        path.write_text(json.dumps(nb))
        saved[path] = path.read_bytes()
    capsys.readouterr()
    assert cli.main(["course", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "copied" not in printed and printed.count("kept   ") == len(CHAPTERS)
    assert "rename it for a fresh copy" in printed
    assert {p: p.read_bytes() for p in out.iterdir()} == saved


@pytest.mark.parametrize(("uid", "root"), [(0, True), (1000, False)])
def test_the_open_command_says_what_root_needs(tmp_path, monkeypatch, uid, root):
    from handgrad.cli.course import open_command

    monkeypatch.setattr("os.geteuid", lambda: uid, raising=False)
    command = open_command(tmp_path / "my course")
    assert command.startswith(f"jupyter lab '{tmp_path / 'my course'}'")  # quoted: a space
    assert ("--allow-root" in command) == root


def test_without_jupyterlab_the_course_says_how_to_install_it_with_pip(
    tmp_path, monkeypatch, capsys
):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "jupyterlab" else real(name, *a),
    )
    assert cli.main(["course", "--out", str(tmp_path / "c")]) == 0
    assert "pip install 'handgrad[notebook]'" in capsys.readouterr().out


@pytest.mark.slow
def test_measure_leaves_no_temporary_folder_once_the_kernel_exits(tmp_path):
    # a notebook's kernel is a Python process: its figures live as long as it does
    script = (
        "from handgrad import course\n"
        "result = course.measure('linear-fit')\n"
        "figure = result.figures[0]\n"
        "assert len(figure._repr_png_()) > 1000\n"
        "print(figure.path)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(Path(course.__file__).resolve().parents[2])}
    env["TMPDIR"] = str(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    figure = Path(done.stdout.strip())
    assert figure.relative_to(tmp_path).parts[0].startswith("handgrad-linear-fit-")
    assert not figure.exists() and list(tmp_path.iterdir()) == []
