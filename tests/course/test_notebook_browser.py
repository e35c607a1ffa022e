"""The notebooks as ``handgrad course --html`` pages in Chromium: no sideways scroll, every
displayed formula and table fits a phone, and formulas written one per line stay apart.

Screenshots at both widths go to the test's folder for a person to look at. Skips with a
reason when no Chromium is installed (see tests/conftest.py).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import handgrad
from handgrad import course
from handgrad.course.html import export_html

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
    # the learner's export: formulas as MathML (nbconvert's own page fetches MathJax from a CDN)
    nbformat.write(nb, folder / "01-linear-fit.ipynb")
    return export_html(folder / "01-linear-fit.ipynb")


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
    """The notebook as it is shipped (no outputs), exported as ``handgrad course --html`` does."""
    copy = folder / path.name
    copy.write_bytes(path.read_bytes())
    return export_html(copy)


# each display formula's box, and the vertical gap to the next one in the same Markdown cell
_GAPS = """() => [...document.querySelectorAll('.jp-MarkdownCell')].flatMap(cell => {
    const boxes = [...cell.querySelectorAll('math[display=block]')]
        .map(m => [m.getBoundingClientRect(), m.textContent]);
    return boxes.slice(1).map(([box, text], i) =>
        [box.top - boxes[i][0].bottom, boxes[i][1], text]);
})"""


def test_every_displayed_formula_and_table_fits_a_phone_screen(browser, tmp_path):
    """A display formula or a Markdown table wider than the text column is cut at the screen's
    edge: long chains of formulas are written one per line, tables keep to two columns."""
    page = browser.new_page(viewport={"width": 360, "height": 900})
    too_wide, chains = {}, 0
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
        gaps = page.evaluate(_GAPS)
        # a chain of formulas one per line (chapter 4's backward pass: seven in a row) is
        # read as separate lines: without the page's math rules they touched, bar on bar
        crowded = [(round(gap, 1), above, below) for gap, above, below in gaps if gap < 8]
        assert crowded == [], (path.name, crowded)
        chains += len(gaps)
    page.close()
    assert too_wide == {}
    assert chains >= 20  # the course has such chains (chapters 3, 4, 7, 8, 10, ...)
