"""``handgrad course --html``: a notebook as a page whose formulas read offline (MathML, not
``$...$`` left for MathJax from a CDN), its outputs included, the notebook left as it was."""

from __future__ import annotations

import re

import pytest

from handgrad import cli
from handgrad.course.html import export_html

nbformat = pytest.importorskip("nbformat", reason="the test extra installs nbformat")
pytest.importorskip("nbconvert", reason="the test extra installs nbconvert")


def _notebook(path, formula="$$L = \\frac{1}{N} \\sum_n r_n^2$$"):
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("print(6 * 7)")
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text="forty-two: 42\n")]
    nb.cells = [
        nbformat.v4.new_markdown_cell(f"# A chapter\n\nThe weight $w$ and the loss:\n\n{formula}"),
        code,
    ]
    nbformat.write(nb, path)
    return path


def _visible_text(page: str) -> str:
    """The page without its scripts and styles (MathJax's configuration holds '$')."""
    return re.sub(r"<(script|style)\b.*?</\1>", "", page, flags=re.S)


def test_the_formulas_become_mathml_and_the_outputs_stay(tmp_path):
    notebook = _notebook(tmp_path / "03-mine.ipynb")
    before = notebook.read_bytes()
    page = export_html(notebook)
    assert page == tmp_path / "03-mine.html"
    text = _visible_text(page.read_text(encoding="utf-8"))
    assert text.count("<math") == 2 and 'display="block"' in text
    assert "<mfrac>" in text and "$" not in text  # no LaTeX left for a typesetter
    assert "forty-two: 42" in text and "print" in text
    assert notebook.read_bytes() == before


def test_the_cli_exports_every_notebook_of_the_folder(tmp_path, capsys):
    for name in ("01-a.ipynb", "02-b.ipynb"):
        _notebook(tmp_path / name)
    (tmp_path / "02-b.html").write_text("an older export")
    assert cli.main(["course", "--html", "--out", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert printed.splitlines() == [
        f"wrote {tmp_path / '01-a.html'}",
        f"wrote {tmp_path / '02-b.html'}",
    ]
    assert "<math" in (tmp_path / "02-b.html").read_text(encoding="utf-8")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "01-a.html", "01-a.ipynb", "02-b.html", "02-b.ipynb"
    ]  # fmt: skip


def test_a_folder_without_notebooks_is_a_clear_error(tmp_path, capsys):
    assert cli.main(["course", "--html", "--out", str(tmp_path)]) == 2
    assert f"no notebook (*.ipynb) in {tmp_path}" in capsys.readouterr().err
    assert cli.main(["course", "--html", "--out", str(tmp_path / "missing")]) == 2
    assert "is not a folder of notebooks" in capsys.readouterr().err
