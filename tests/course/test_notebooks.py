"""Every chapter notebook runs top to bottom, exercises filled from the references.

``HANDGRAD_COURSE_SOLUTIONS=1`` (the switch ``handgrad.course.reference_if_asked`` reads) puts
each exercise's reference answer in place of the starter's ``raise NotImplementedError``. A
cell that raises fails the test, and so does a change in an output the notebook's text relies
on: cells tagged ``expect:NAME`` must print what ``EXPECTED`` says.
"""

from __future__ import annotations

import ast
import importlib.util
import os
import re
from pathlib import Path

import pytest

import handgrad
from handgrad import course
from handgrad.chapters import CHAPTERS
from handgrad.exercises import get, names

nbformat = pytest.importorskip("nbformat", reason="the test extra installs nbformat")
nbclient = pytest.importorskip("nbclient", reason="the test extra installs nbclient")

NOTEBOOKS = {p.name: p for p in course.notebooks()}

_spec = importlib.util.spec_from_file_location(
    "names", Path(__file__).with_name("test_kernel_and_names.py")
)
_names = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_names)

# notebook -> {tag: patterns its output must match} — the claims the Markdown around them makes
EXPECTED = {
    "01-linear-fit.ipynb": {
        "converged": [r"agree to 1e-6: True"],
        "limit": [r"2 / lambda_max = 0\.743"],
        # the prose reads the three against the limit: 0.5 below it but oscillating
        "measured": [
            r"lr 0\.05: monotone, converging",
            r"lr 0\.5: oscillating, converging",
            r"lr 1\.1: diverged",
        ],
    },
    "03-sine.ipynb": {
        "trained": [
            r"noise variance 0\.010",
            r"final MSE  ReLU 0\.15\d+   tanh 0\.(39|40)\d+",
            r"both below var\(y\) = 0\.51\d, the MSE of the best constant: True",
        ],
        "kinks": [r"the 32 ReLU kinks lie between x = -0\.[12]\d and x = 0\.[12]\d"],
        "measured": [
            r"relu: largest stable learning rate at the start ≈ 0\.098",
            r"tanh: largest stable learning rate at the start ≈ 0\.334",
            r"the best straight line's MSE: 0\.434",
            # lr x steps: 0.005 for 2,000 epochs lands where 0.05 for 200 does
            r"ReLU, lr 0\.005 +MSE after 200 epochs 0\.38\d, after 2,000 0\.169",
            r"tanh, lr 0\.005 +MSE after 200 epochs 0\.435, after 2,000 0\.435",
            r"ReLU, lr 0\.05 +MSE after 200 epochs 0\.169, after 2,000 0\.15\d",
            r"tanh, lr 0\.05 +MSE after 200 epochs 0\.435, after 2,000 0\.366",
            r"ReLU spread kinks, lr 0\.05 +MSE after 200 epochs 0\.1\d\d, after 2,000 0\.069",
        ],
    },
    "04-binary.ipynb": {
        "shapes": [r"W1: value \(2, 16\), gradient \(2, 16\)", r"b2: value \(1,?\), gradient"],
        "gradcheck": [
            r"PASSED: all 65 checked entries agree",
            r"worst at 0\.0034 of the allowed error",
            r"max relative error \d\.\de-09",
        ],
        "trained": [r"training accuracy 0\.9\d"],
        "measured": [
            r"gradient check passed: True",
            r"moons/relu: test accuracy 0\.94",
            r"moons/tanh: test accuracy 0\.88",
            r"breast cancer/relu: test accuracy 0\.99",
            r"breast cancer/tanh: test accuracy 0\.98",
        ],
    },
    "05-xor.ipynb": {
        "trained": [r"accuracy 1\.00"],
        "symmetric": [r"spread 0\.0e\+00", r"accuracy 0\.\d\d"],
        "measured": [r"starts solve XOR", r"all-zero start: accuracy 0\.50"],
        "adam-first-step": [
            r"corrections both     first step = 1 x lr",
            r"corrections neither  first step = 3\.16 x lr",
            r"corrections m only   first step = 31\.6 x lr",
            r"corrections v only   first step = 0\.1 x lr",
        ],
    },
    "08-digits.ipynb": {
        "trained": [r"above 0\.9: True"],
        "measured": [
            r"H=16,lr=0\.01 +validation accuracy after 4 epochs 0\.275",
            r"H=256,lr=0\.01 +validation accuracy after 4 epochs 0\.792",
            r"H=256,lr=0\.1 +validation accuracy after 4 epochs 0\.942",
            r"chosen: 256 hidden units, lr 0\.5",
            r"validation accuracy 0\.958 on 360 images",
            r"test accuracy after 10 epochs 0\.978 on 360 images",
        ],
    },
    "02-linear-two-layer.ipynb": {
        "collapse": [
            r"the stack is the line y = 2\.488 x -0\.696",
            r"least squares: +2\.488 x -0\.696",
        ],
        # the prose: every gradient agrees to 1e-10 or better
        "checks": [r"lin1 dW .* ok", r"lin2 dx .* ok"]
        + [
            rf"{layer} {grad} .*max rel error \d\.\de-1\d  ok"
            for layer in ("lin1", "lin2")
            for grad in ("dW", "db", "dx")
        ],
        "measured": [
            r"training MSE 8\.681 at the start, 0\.05754 after 200 epochs",
            r"the least-squares line's MSE: 0\.05754",
        ],
    },
    "06-credit.ipynb": {
        "conditioning": [
            r"raw Hessian eigenvalues: +\[2\.0+e-03 .* 2\.78\d+e\+03\]",
            r"standardized Hessian eigenvalues: \[0\.0102 0\.2145 5\.7753\]",
            r"late payments: 0\.992",
        ],
        # late payments' weight grows with lambda (-11.23, -15.62, -18.21): the prose says so
        "ridge": [
            # the prose: about 1e-6 without a penalty, rounding error with one
            r"lambda 0 .*-11\.23\]   gap to ridge \d\.\de-0[67]",
            r"lambda 0\.01 .*-15\.62\]   gap to ridge \d\.\de-1[4-6]",
            r"lambda 0\.1 .*-18\.21\]   gap to ridge \d\.\de-1[4-6]",
        ],
        # utilization is a fraction: its weight is read per 0.1 (-56.30 per 1.0 of it)
        "units": [
            r"utilization +-5\.63 points per 10 percentage points of utilization",
            r"age +\+2\.67 points per year of age",
        ],
        "measured": [
            r"lambda 0: largest stable learning rate 0\.346",
            r"lambda 0\.1: largest stable learning rate 0\.335",
        ],
    },
    "07-blobs.ipynb": {
        "shapes": [r"z1 +\(8, 32\)", r"dW1 +\(2, 32\)", r"z2 +\(8, 3\)"],
        "counts": [r"\[2, 32, 3\]: +195", r"\[10, 64, 3\]: 899"],
        # the prose: the network beats the nearest-center rule on its training points only
        "trained": [
            r"training accuracy 0\.96",
            r"each point given its nearest blob center: 0\.95",
        ],
        "measured": [r"held-out accuracy 0\.94", r"on the diagonal: 141 of 150"],
    },
    "09-mnist.ipynb": {
        "trained": [
            r"parameters: 235,146",  # as the prose and the measurement write it
            r"held-out accuracy after 2 epochs: 0\.(89|9\d)",
            r"weights still float32: True",
        ],
        "split": [r"held-out images per digit: \[100( 100){9}\]"],
        # the prose reads the sevens' row, the ninth row and the diagonal
        "counted": [
            r"\[ 0  1  2  7  2  0  0 67  1 20\]",
            r"\[ 0  0  0  0  1  0  0  0  3 96\]\]",
            r"right per digit: \[92 94 93 98 87 78 99 67 93 96\]",
            r"accuracy from the diagonal: 0\.897",
            r"most frequent mistake: 7 taken for 9, 20 times",
        ],
        "measured": [
            r"4,000 training and 1,000 held-out images, 235,146 parameters",
            r"held-out accuracy 0\.938",
            r"most confused: 9 taken for 7 \(6\), 5 taken for 3 \(6\), 3 taken for 5 \(6\)",
        ],
    },
    "10-framework.ipynb": {
        "conventions": [
            r"largest difference : 0\.768 score points",
            r"length \|\|W\|\| +: 37\.65 \(full\)   37\.93 \(half\)",
            r"\[-16\.806 +29\.776 -15\.769\]",  # late payments: larger under the full penalty
            r"\[-17\.148 +30\.328 -15\.001\]",
            # the prose: 1,000 steps stop 0.145 short of chapter 6's exact lambda = 0.01 weights
            r"chapter 6's minimum: \[-16\.929 +29\.8 +-15\.624\], 0\.145 from full",
        ],
        "measured": [
            r"handgrad's weights: \[-16\.806 +29\.776 -15\.769\]",  # the cell above's full
            r"Keras half not run: switched off",
        ],
    },
    "11-discussion.ipynb": {
        "bce": [r"z =   800, y = 0:  textbook +inf +from the logit +800"],
        "measured-bce": [r"first fails at z = 36\.7"],
        "init": [
            r"zeros init: every activation is 0",
            r"Xavier init: std of the last hidden layer / first = 0\.0[34]",
            r"He init: std of the last hidden layer / first = 0\.[67]",
        ],
        "measured": [r"8 figures"],
        "lr-scaling": [
            r"B=16, lr=0\.05 +32 steps per epoch, mean loss 0\.421 in the first epoch, 0\.254",
            r"B=32, lr +16 steps per epoch, mean loss 0\.518 in the first epoch",
            r"B=32, √2·lr +16 steps per epoch, mean loss 0\.470",
            r"B=32, 2·lr +16 steps per epoch, mean loss 0\.426",
            r"B=32, 128·lr +16 steps per epoch, mean loss 5\.7\d\d in the first epoch, 1\.59\d",
        ],
    },
}


def _output_text(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            parts.append(out["text"])
        elif "data" in out:
            parts.append(out["data"].get("text/plain", ""))
    return "".join(parts)


def _tags(cell, prefix: str) -> list[str]:
    return [t[len(prefix) :] for t in cell.metadata.get("tags", []) if t.startswith(prefix)]


def test_the_package_ships_a_notebook_for_every_chapter():
    assert set(NOTEBOOKS) == {course.notebook_name(c) for c in CHAPTERS} == set(EXPECTED)


def test_every_exercise_is_embedded_in_one_chapter():
    embedded = [
        tag
        for path in NOTEBOOKS.values()
        for cell in nbformat.read(path, as_version=4).cells
        for tag in _tags(cell, "exercise:")
    ]
    assert sorted(embedded) == sorted(names())


@pytest.mark.parametrize("name", sorted(NOTEBOOKS))
def test_each_notebook_opens_with_its_chapter_and_its_exercise_cells_define_the_entries(name):
    nb = nbformat.read(NOTEBOOKS[name], as_version=4)
    chapter = next(c for c in CHAPTERS if course.notebook_name(c) == name)
    assert nb.cells[0].source.startswith(f"# {chapter.heading}")
    assert "you will be able to" in nb.cells[0].source
    assert any("**Try it.**" in c.source for c in nb.cells if c.cell_type == "markdown")
    exercises = [t for c in nb.cells for t in _tags(c, "exercise:")]
    assert exercises, "every chapter's notebook embeds an exercise of its own"
    for cell in nb.cells:
        for exercise in _tags(cell, "exercise:"):
            defined = {
                n.name
                for n in ast.walk(ast.parse(cell.source))
                if isinstance(n, (ast.FunctionDef, ast.ClassDef))
            }
            assert set(get(exercise).entries) <= defined, (name, exercise)
        assert not cell.get("outputs"), f"{name} is stored with outputs; clear them"


@pytest.mark.parametrize("name", sorted(NOTEBOOKS))
def test_each_exercise_has_its_heading_and_the_chapter_ends_with_what_was_learned(name):
    nb = nbformat.read(NOTEBOOKS[name], as_version=4)
    heading = None
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            found = re.findall(r"^### Exercise: `(\w+)`", cell.source, flags=re.M)
            heading = found[-1] if found else heading
        for exercise in _tags(cell, "exercise:"):
            assert heading == exercise, f"{name}: no '### Exercise: `{exercise}`' above its cell"
    last = nb.cells[-1]
    assert last.cell_type == "markdown" and last.source.startswith("## What you can do now")


# a learner installs handgrad with pip (a wheel) and has no clone: no docs/ folder, no Makefile
CLONE_ONLY = re.compile(r"docs/|\bmake (course|demo|test|bench)\b|tests/|/work/|\.venv/")


@pytest.mark.parametrize("name", sorted(NOTEBOOKS))
def test_a_notebook_sends_the_learner_nowhere_only_a_clone_has(name):
    text = "\n".join(c.source for c in nbformat.read(NOTEBOOKS[name], as_version=4).cells)
    assert CLONE_ONLY.findall(text) == [], name
    for extra in re.findall(r"pip install -e '\.\[(\w+)\]'", text):
        assert f"pip install 'handgrad[{extra}]'" in text, f"{name}: the pip form of [{extra}]"


def _private_names(source: str) -> list[str]:
    """The private modules, names and attributes (a leading underscore) ``source`` uses."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            modules = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            dotted = modules + [alias.name for alias in node.names]
            found += [d for d in dotted if any(p.startswith("_") for p in d.split("."))]
        elif isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            found.append(node.attr)
    return found


def test_private_names_are_found():
    source = (
        "from handgrad.experiments.discussion import _reference\n"
        "from handgrad.experiments.discussion._shared import QUICK\n"
        "import handgrad._x as x\nr = stability._grid\n"
        "from handgrad.experiments.discussion import QUICK, Reference\nimport numpy as np\n"
    )
    assert _private_names(source) == [
        "_reference", "handgrad.experiments.discussion._shared", "handgrad._x", "_grid"
    ]  # fmt: skip


@pytest.mark.parametrize("name", sorted(NOTEBOOKS))
def test_a_notebook_uses_only_public_names(name):
    """What a learner reads and copies is the public API: no ``_module``, ``_name``, ``x._y``."""
    cells = nbformat.read(NOTEBOOKS[name], as_version=4).cells
    used = [n for c in cells if c.cell_type == "code" for n in _private_names(c.source)]
    assert used == [], name


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(NOTEBOOKS))
def test_notebook_runs_top_to_bottom_and_says_what_its_text_claims(
    name, tmp_path, monkeypatch, kernel_config
):
    monkeypatch.setenv(course.SOLUTIONS_ENV, "1")
    monkeypatch.setenv("OPENBLAS_NUM_THREADS", "1")
    # the kernel imports the handgrad under test, wherever the kernel's folder is
    source = str(Path(handgrad.__file__).resolve().parents[1])
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([source, os.environ.get("PYTHONPATH", "")]))
    nb = nbformat.read(NOTEBOOKS[name], as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
        config=kernel_config(),
    )
    client.execute(env=dict(os.environ))  # a cell that raises fails here (CellExecutionError)

    seen = {}
    for cell in nb.cells:
        for tag in _tags(cell, "expect:"):
            seen[tag] = _output_text(cell)
        for exercise in _tags(cell, "check:"):
            html = cell.outputs[0]["data"]["text/html"]
            assert f"{exercise}: passed" in html, (name, exercise)
    images = [
        out
        for cell in nb.cells
        for out in cell.get("outputs", [])
        if "image/png" in out.get("data", {})
    ]
    assert len(images) >= 2, "the notebook's figures show inline"
    outputs = "\n".join(_output_text(c) for c in nb.cells) + "\n".join(
        out["data"].get("text/html", "")
        for c in nb.cells
        for out in c.get("outputs", [])
        if "data" in out
    )
    assert _names.source_names(outputs) == [], "what the cells print names no source document"
    for tag, patterns in EXPECTED[name].items():
        assert tag in seen, f"{name}: no cell tagged expect:{tag}"
        for pattern in patterns:
            assert re.search(pattern, seen[tag]), (
                f"{name} expect:{tag}: {pattern!r} not in\n{seen[tag]}"
            )
