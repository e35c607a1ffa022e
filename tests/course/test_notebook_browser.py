"""One chapter notebook, run and rendered to HTML by nbconvert, has no sideways scroll in Chromium.

Screenshots at both widths go to the test's folder for a person to look at. Skips with a
reason when no Chromium is installed (see tests/conftest.py).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import handgrad
from handgrad import course
from handgrad.report.markdown import markdown_to_html

pytestmark = pytest.mark.slow

nbformat = pytest.importorskip("nbformat", reason="the test extra installs nbformat")
nbclient = pytest.importorskip("nbclient", reason="the test extra installs nbclient")
nbconvert = pytest.importorskip("nbconvert", reason="the test extra installs nbconvert")


@pytest.fixture(scope="module")
def rendered_notebook(tmp_path_factory, kernel_config) -> Path:
    folder = tmp_path_factory.mktemp("notebook-html")
    source = str(Path(handgrad.__file__).resolve().parents[1])
    env = {
        **os.environ,
        course.SOLUTIONS_ENV: "1",
        "PYTHONPATH": os.pathsep.join([source, os.environ.get("PYTHONPATH", "")]),
    }
    path = next(p for p in course.notebooks() if p.name == "01-linear-fit.ipynb")
    nb = nbformat.read(path, as_version=4)
    nbclient.NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(folder)}},
        config=kernel_config(),
    ).execute(env=env)
    # nbconvert's page typesets LaTeX with MathJax from a CDN, which a test cannot reach: the
    # Markdown cells go through the report's own converter instead (LaTeX -> MathML)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = markdown_to_html(cell.source)
    body, _ = nbconvert.HTMLExporter(template_name="lab").from_notebook_node(nb)
    page = folder / "01-linear-fit.html"
    page.write_text(body)
    return page


@pytest.mark.parametrize("width", (1400, 360))
def test_the_notebook_page_fits_the_screen(browser, rendered_notebook, width):
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(rendered_notebook.as_uri())
    page.wait_for_load_state("load")
    facts = page.evaluate(
        """() => ({
          scrollWidth: document.documentElement.scrollWidth,
          innerWidth: window.innerWidth,
          images: document.images.length,
          heading: document.querySelector('h1') ? document.querySelector('h1').textContent : '',
          maths: document.querySelectorAll('math').length,
        })"""
    )
    page.screenshot(path=str(rendered_notebook.parent / f"notebook-{width}.png"), full_page=True)
    page.close()
    assert "1 · A line by gradient descent" in facts["heading"]
    assert facts["images"] >= 3
    assert facts["maths"] >= 10  # the chapter's formulas, typeset
    assert facts["scrollWidth"] <= facts["innerWidth"], facts


def _page_of(path: Path, folder: Path) -> Path:
    """The notebook as it is shipped (no outputs), its Markdown through the report's converter."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = markdown_to_html(cell.source)
    body, _ = nbconvert.HTMLExporter(template_name="lab").from_notebook_node(nb)
    page = folder / f"{path.stem}.html"
    page.write_text(body)
    return page


def test_every_displayed_formula_and_table_fits_a_phone_screen(browser, tmp_path):
    """A display formula or a Markdown table wider than the text column is cut at the screen's
    edge: long chains of formulas are written one per line, tables keep to two columns."""
    page = browser.new_page(viewport={"width": 360, "height": 900})
    too_wide = {}
    for path in course.notebooks():
        page.goto(_page_of(path, tmp_path).as_uri())
        page.wait_for_load_state("load")
        wide = page.evaluate(
            """() => [...document.querySelectorAll('math[display=block]')]
                 .filter(m => m.scrollWidth > m.clientWidth + 1).map(m => m.textContent)
               .concat([...document.querySelectorAll('.jp-MarkdownCell table')]
                 .filter(t => t.scrollWidth > t.parentElement.clientWidth + 1)
                 .map(t => 'table: ' + t.textContent.slice(0, 60)))"""
        )
        if wide:
            too_wide[path.name] = wide
        assert page.evaluate("document.querySelectorAll('math').length") > 0, path.name
    page.close()
    assert too_wide == {}
