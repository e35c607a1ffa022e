"""Every reference passes every case; the catalogue is complete and its starters are honest."""

from __future__ import annotations

import ast
import re

import numpy as np
import pytest

import handgrad.exercises as ex
from handgrad.exercises.catalogue import get

NAMES = ex.names()


def test_the_catalogue_has_every_exercise_the_issue_asks_for():
    asked = {
        "relu", "relu_backward", "one_hot", "softmax", "sigmoid", "sigmoid_derivative", "tanh",
        "tanh_derivative", "mse", "l2_penalty", "bce_with_logits", "softmax_cross_entropy",
        "forward", "backward", "gradient_check", "backprop", "sgd_momentum", "adam", "linear",
        "count_parameters", "neural_network", "multiclass_nn",
    }  # fmt: skip
    assert asked <= set(NAMES)
    for name in NAMES:
        exercise = get(name)
        assert exercise.chapter and exercise.contract and exercise.doc and exercise.entries
        assert len(exercise.cases()) >= 2


SPEC_WORDS = re.compile(
    r"(?i:\bseed \d|\bseeds'|\bstage \d|\bpart \d)|(?<![\d.])00\d\b|\b[KCDQR]\d\b"
)


@pytest.mark.parametrize("name", NAMES)
def test_what_a_learner_reads_uses_handgrads_own_words(name):
    """Titles, contracts, case names, starters: no specification document named."""
    exercise = get(name)
    texts = [exercise.title, exercise.contract, exercise.chapter_heading, ex.starter(name)]
    texts += [case.name for case in exercise.cases()]
    for text in texts:
        assert not SPEC_WORDS.search(text), text
    assert ex.listing().count("\n") == len(NAMES)
    assert not SPEC_WORDS.search(ex.listing())


@pytest.mark.parametrize("name", NAMES)
def test_reference_passes_every_case(name):
    exercise = get(name)
    result = ex.check(name, dict(exercise.reference()))
    assert result.passed, str(result)
    assert result.diagnoses == []
    assert len(result.cases) == len(exercise.cases())


@pytest.mark.parametrize("name", NAMES)
def test_starter_defines_the_entries_and_holds_no_solution(name):
    text = ex.starter(name)
    tree = ast.parse(text)
    defined = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    assert defined == set(get(name).entries)
    assert text.count("raise NotImplementedError") >= len(get(name).entries)
    assert not any(isinstance(n, ast.Return) for n in ast.walk(tree))  # no answer in it


def test_a_starter_checks_as_not_written_yet():
    namespace: dict = {}
    exec(ex.starter("softmax"), namespace)
    result = ex.check("softmax", namespace)
    assert not result.passed
    assert all("NotImplementedError" in c.message for c in result.cases)


def test_seed_worked_numbers_are_cases():
    softmax = get("softmax")
    worked = next(c for c in softmax.cases() if "worked" in c.tags)
    np.testing.assert_allclose(
        softmax.expected_outputs(worked)["out"], [[0.629, 0.231, 0.140]], atol=5e-4
    )
    l2 = get("l2_penalty")
    worked = next(c for c in l2.cases() if "worked" in c.tags)
    assert l2.expected_outputs(worked)["penalty"] == pytest.approx(0.02625)
    count = get("count_parameters")
    assert count.expected_outputs(count.cases()[0])["count"] == 899
    mse = get("mse")
    assert mse.expected_outputs(mse.cases()[0])["loss"] == pytest.approx(0.04)


def test_adam_first_step_without_corrections_is_3_16_times_too_large():
    """Often said to be 10x too small; with both corrections missing the numbers say otherwise."""
    source = """
import numpy as np
def adam_step(w, grad, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad ** 2
    return w - lr * m / (np.sqrt(v) + eps), m, v
"""
    namespace: dict = {}
    exec(source, namespace)
    result = ex.check("adam", namespace)
    assert result.diagnoses == ["adam-bias-correction"]
    assert "factor 3.16228" in result.cases[0].message


def _slug(heading: str) -> str:
    """GitHub's anchor for a Markdown heading: lower case, punctuation dropped, '-' for ' '."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def test_every_link_a_learner_gets_has_its_section():
    from pathlib import Path

    from handgrad.exercises.diagnose import HINTS, SPECIFICITY

    docs = Path(__file__).parents[2] / "docs" / "exercises.md"
    text = docs.read_text(encoding="utf-8")
    anchors = {_slug(line.lstrip("#")) for line in text.splitlines() if line.startswith("#")}
    assert {get(name).doc for name in NAMES} <= anchors
    assert set(HINTS) <= anchors
    assert set(SPECIFICITY) == set(HINTS)
    assert not SPEC_WORDS.search(text)


def test_the_docs_table_lists_the_exercises_as_the_list_command_does():
    from pathlib import Path

    docs = (Path(__file__).parents[2] / "docs" / "exercises.md").read_text(encoding="utf-8")
    start, end = docs.index("| name | chapter | you write |"), docs.index("### What the cases")
    table = docs[start:end]
    assert re.findall(r"^\| `(\w+)` \|", table, re.MULTILINE) == NAMES


def test_every_hint_is_explained_by_the_package_itself_as_in_the_docs():
    """A learner's course folder has no docs/: the explanations ship with the package, word
    for word the docs' "Formulas" and "Diagnoses" sections."""
    from pathlib import Path

    from handgrad.exercises import explain
    from handgrad.exercises.diagnose import HINTS
    from handgrad.exercises.explanations import TEXT, sections

    docs = (Path(__file__).parents[2] / "docs" / "exercises.md").read_text(encoding="utf-8")
    assert TEXT.startswith("## Formulas\n") and "\n## Diagnoses\n" in TEXT
    assert TEXT in docs  # when the docs change, copy the two sections into explanations.md
    assert set(HINTS) <= set(sections())
    for name in NAMES:
        assert explain(name).name == get(name).doc
        assert str(explain(name)).strip()
    assert "N/(N − 1) times the right one" in str(explain("n-minus-1"))
    assert "<table>" in explain("adam-bias-correction")._repr_html_()
    with pytest.raises(ValueError, match="nothing to explain under 'scael'"):
        explain("scael")


# the formula an exercise's fold must open with: its own function, never a neighbour's
OWN_FORMULA = {
    "sigmoid": "σ(z) = 1 / (1 + e^{−z})",
    "sigmoid_derivative": "σ'(z) = a (1 − a)",
    "tanh": "tanh(z) = (e^{z} − e^{−z})",
    "tanh_derivative": "tanh'(z) = 1 − a²",
}


@pytest.mark.parametrize("name", sorted(OWN_FORMULA))
def test_an_activations_formulas_are_its_own(name):
    from handgrad.exercises import explain

    text = explain(name).body
    assert OWN_FORMULA[name] in text
    neighbour = "tanh" if name.startswith("sigmoid") else "σ(z) = 1 / (1 + e^{−z})"
    assert neighbour not in text


def test_the_explanations_point_at_nothing_a_wheel_lacks():
    """A learner who installed the wheel has no docs/ folder: the text points at help() or
    says it in place."""
    from handgrad.exercises.explanations import TEXT

    assert not re.search(r"\bdocs/", TEXT), re.findall(r".*docs/.*", TEXT)
    assert "help(handgrad.nn.gradcheck)" in TEXT
