"""A learner in the notebooks: the switch off, cells skipped, answers typed, cells rerun.

Each notebook with exercises runs in a real kernel, as a learner would meet it:

1. every exercise cell skipped: every check must fail (a library function of the same name,
   imported by the chapter's own cells, must never pass as the learner's answer);
2. the starter as shipped: the exercise cell shows no output, the check fails with
   "not written yet";
3. right answers in several styles pass with no diagnosis, and the usual slips fail with the
   diagnosis that names them (``answers.py``), in the notebook's own namespace;
4. then the chapter's cells whose output the prose relies on (``expect:`` tags) are run again,
   after the learner's definitions: they must print what they printed the first time (no
   training cell silently continues from the last run, no learner function stands in for
   the library's).
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import warnings
from pathlib import Path

import pytest

import handgrad
from handgrad import course
from handgrad.exercises import check, get

nbformat = pytest.importorskip("nbformat", reason="the test extra installs nbformat")
nbclient = pytest.importorskip("nbclient", reason="the test extra installs nbclient")

_spec = importlib.util.spec_from_file_location("answers", Path(__file__).with_name("answers.py"))
answers = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(answers)
ANSWERS = answers.ANSWERS

MARK = "@@verdict "


def _tags(cell, prefix: str) -> list[str]:
    return [t[len(prefix) :] for t in cell.metadata.get("tags", []) if t.startswith(prefix)]


def _exercises(nb) -> list[str]:
    return [t for c in nb.cells for t in _tags(c, "exercise:")]


NOTEBOOKS = {p.name: p for p in course.notebooks() if _exercises(nbformat.read(p, as_version=4))}


def _verdict_cell(label: str, exercise: str):
    return nbformat.v4.new_code_cell(
        "import json as _json\n"
        f"_r = ex.check({exercise!r}, globals())\n"
        f"print({MARK!r} + _json.dumps({{'label': {label!r}, 'passed': _r.passed, "
        "'diagnoses': _r.diagnoses, 'problem': _r.problem, "
        "'messages': [c.message for c in _r.cases if not c.passed], 'text': str(_r)}))"
    )


def _text(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream" and out.get("name") == "stdout":
            parts.append(out["text"])
        elif "data" in out:
            parts.append(out["data"].get("text/plain", ""))
    return "".join(parts)


def test_every_exercise_has_right_and_wrong_answers_in_the_catalogue():
    exercises = {
        e for path in NOTEBOOKS.values() for e in _exercises(nbformat.read(path, as_version=4))
    }
    right = {e for _, e, _, verdict in ANSWERS if verdict is None}
    wrong = {e for _, e, _, verdict in ANSWERS if verdict is not None}
    # every exercise of every notebook has a right answer that passes and a slip that fails
    assert right == exercises and wrong == exercises, (exercises - right, exercises - wrong)
    assert len({ident for ident, *_ in ANSWERS}) == len(ANSWERS)


@pytest.mark.parametrize(
    "exercise,source,expected", [a[1:] for a in ANSWERS], ids=[a[0] for a in ANSWERS]
)
def test_each_typed_answer_gets_its_verdict(exercise, source, expected):
    """The same answers in a fresh namespace (fast; the slow test below runs them in the
    notebooks' own kernels)."""
    namespace: dict = {}
    exec(compile(source, f"<{exercise}>", "exec"), namespace)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # the textbook formulas overflow
        result = check(exercise, namespace)
    if expected is None:
        assert result.passed and result.diagnoses == [], str(result)
    else:
        assert not result.passed, str(result)
        failed = [c.message for c in result.cases if not c.passed]
        assert failed and all(failed), str(result)
        if expected:
            assert set(result.diagnoses) == expected, str(result)
        else:
            assert result.diagnoses == [], str(result)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(NOTEBOOKS))
def test_a_learner_gets_the_right_verdict_in_the_notebook(
    name, tmp_path, monkeypatch, kernel_config
):
    monkeypatch.delenv(course.SOLUTIONS_ENV, raising=False)
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    source = str(Path(handgrad.__file__).resolve().parents[1])
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([source, os.environ.get("PYTHONPATH", "")]))

    shipped = nbformat.read(NOTEBOOKS[name], as_version=4)
    exercises = _exercises(shipped)
    starters = {t: c.source for c in shipped.cells for t in _tags(c, "exercise:")}
    reruns = [
        c
        for c in shipped.cells
        if _tags(c, "expect:") and "course.measure" not in c.source  # measure: slow, tested
    ]
    cells = [c for c in shipped.cells if not _tags(c, "exercise:")]  # 1. skipped
    first_run = len(cells)
    for exercise in exercises:  # 2. the starter as shipped
        cells += [nbformat.v4.new_code_cell(starters[exercise])]
        cells += [_verdict_cell(f"starter:{exercise}", exercise)]
    mine = [a for a in ANSWERS if a[1] in exercises]  # 3. typed answers
    for ident, exercise, answer, _ in mine:
        cells += [nbformat.v4.new_code_cell(answer), _verdict_cell(ident, exercise)]
    cells += [nbformat.v4.new_code_cell(c.source, metadata=c.metadata) for c in reruns]  # 4.
    nb = nbformat.v4.new_notebook(cells=cells, metadata=shipped.metadata)
    client = nbclient.NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
        config=kernel_config(),
    )
    client.execute(env=dict(os.environ))  # a cell that raises fails the test here

    # 1. no learner code: no check passes
    for cell in nb.cells[:first_run]:
        for exercise in _tags(cell, "check:"):
            html = cell.outputs[0]["data"]["text/html"]
            assert f"{exercise}: failed" in html, (name, exercise, _text(cell))
    verdicts = {}
    for cell in nb.cells[first_run:]:
        for line in _text(cell).splitlines():
            if line.startswith(MARK):
                v = json.loads(line[len(MARK) :])
                verdicts[v["label"]] = v
    # 2. the starter: no output under the learner's cell, a failed check that says why
    for i, exercise in enumerate(exercises):
        assert nb.cells[first_run + 2 * i].outputs == [], "the exercise cell shows nothing"
        v = verdicts[f"starter:{exercise}"]
        assert not v["passed"] and v["messages"], v["text"]
        assert all("not written yet" in m for m in v["messages"]), v["text"]
    # 3. each typed answer
    for ident, exercise, _, expected in mine:
        v = verdicts[ident]
        if expected is None:
            assert v["passed"] and v["diagnoses"] == [], (ident, v["text"])
            continue
        assert not v["passed"], (ident, v["text"])
        assert v["messages"] and all(v["messages"]), (ident, v["text"])
        if expected:
            assert set(v["diagnoses"]) == expected, (ident, expected, v["text"])
        else:  # no code fits: then none is named, and the message says what was expected
            assert v["diagnoses"] == [], (ident, v["text"])
        assert f"{exercise}: FAILED" in v["text"], v["text"]
    # 4. the prose's cells, rerun after the learner's definitions, print the same
    first = {
        tuple(_tags(c, "expect:")): _text(c)
        for c in nb.cells[:first_run]
        if _tags(c, "expect:") and "course.measure" not in c.source
    }
    again = {tuple(_tags(c, "expect:")): _text(c) for c in nb.cells[-len(reruns) :]}
    assert again.keys() == first.keys()
    for tag, text in first.items():
        assert _stable(again[tag]) == _stable(text), (name, tag, text, again[tag])


def _stable(text: str) -> str:
    """Output without what may differ between two runs of the same cell (timings)."""
    return re.sub(r"\d+(\.\d+)? ?(s|ms|seconds)\b", "<time>", text)


def test_the_exercises_named_in_the_catalogue_exist():
    for _, exercise, _, _ in ANSWERS:
        assert get(exercise).entries
