"""``handgrad course --out DIR`` copies the notebooks and never overwrites the learner's edits."""

from __future__ import annotations

import json

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
