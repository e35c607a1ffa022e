"""The HTML reports in a real browser (headless Chromium): what a reader sees at 1400, 400
and 360 px.

The whole quick tour (every chapter: formulas, tables, multi-panel figures) and a `train`
run on a built-in table are opened at a desktop and two phone widths. Screenshots go to
``screenshots/`` in each run folder for a person to look at. Skips with a reason when no
Chromium is installed (see tests/conftest.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin

from handgrad import cli

pytestmark = pytest.mark.slow

WIDTHS = (1400, 400, 360)


@pytest.fixture(scope="module")
def tour_report(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("tour")
    code = cli.main(["tour", "--quick", "--out", str(out), "--quiet"])
    assert code == 0
    return out / "report.html"


@pytest.fixture(scope="module")
def train_report(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("train") / "iris"
    code = cli.main(["train", "--data", "iris", "--epochs", "20", "--out", str(out)])
    assert code == 0
    return out / "report.html"


def _formulas(markdown: str) -> int:
    """How many $...$ and $$...$$ formulas the Markdown holds (parsed as the report does)."""
    md = MarkdownIt("commonmark").enable("table")
    md.use(dollarmath_plugin, allow_digits=False, allow_space=False)
    count = 0
    for token in md.parse(markdown):
        count += token.type == "math_block"
        count += sum(c.type == "math_inline" for c in token.children or [])
    return count


def _inspect(browser, page_path: Path, width: int) -> dict:
    """Open the page at ``width`` px; return what the checks need; save a screenshot."""
    page = browser.new_page(viewport={"width": width, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(page_path.resolve().as_uri())
    page.wait_for_load_state("load")
    facts = page.evaluate(
        """() => {
        const visible = (el) => el && getComputedStyle(el).display !== 'none';
        const links = [...document.querySelectorAll('a[href^="#"]')]
            .map(a => a.getAttribute('href'));
        return {
          scrollWidth: document.documentElement.scrollWidth,
          innerWidth: window.innerWidth,
          images: document.images.length,
          broken: [...document.images].filter(i => !i.complete || i.naturalWidth === 0).length,
          links: links.length,
          dangling: links.filter(h => !document.getElementById(decodeURIComponent(h.slice(1)))),
          maths: document.querySelectorAll('math').length,
          flatMaths: [...document.querySelectorAll('math')]
              .filter(m => m.getBoundingClientRect().width === 0 && visible(m.closest('main')))
              .length,
          sideNav: visible(document.querySelector('nav.side')),
          // where each multi-panel figure's panels are: [[left, top, width], ...] per figure
          panelRows: [...document.querySelectorAll('.panel-row')].map(row =>
              [...row.querySelectorAll('img.panel')].map(i => {
                  const r = i.getBoundingClientRect();
                  return [r.left, r.top, r.width];
              })),
          // a suptitle taken off its panels: [left, right, bottom, top of its panels]
          headlines: [...document.querySelectorAll('img.headline')].map(i => {
              const r = i.getBoundingClientRect();
              const row = i.closest('.panel-headline').nextElementSibling;
              return [r.left, r.right, r.bottom, row.getBoundingClientRect().top];
          }),
          // long inline formulas (outside tables, which scroll in their own box): their box
          // never reaches past the right edge of the text
          wideMaths: [...document.querySelectorAll('.math-wide')]
              .filter(m => !m.closest('.table-wrap'))
              .map(m => m.getBoundingClientRect().right),
          mainRight: document.querySelector('main').getBoundingClientRect().right,
          topMenu: visible(document.querySelector('details.top-menu')),
          external: [...document.querySelectorAll('[src],[href]')]
              .map(e => e.getAttribute('src') || e.getAttribute('href'))
              .filter(u => /^(https?:)?\\/\\//.test(u)).length,
        };
    }"""
    )
    shots = page_path.parent / "screenshots"
    shots.mkdir(exist_ok=True)
    page.screenshot(path=str(shots / f"{page_path.stem}-{width}.png"))
    page.close()
    facts["errors"] = errors
    return facts


def _check(facts: dict, width: int) -> None:
    assert facts["errors"] == []
    assert facts["images"] > 0 and facts["broken"] == 0
    assert facts["links"] > 0 and facts["dangling"] == []
    assert facts["external"] == 0  # nothing fetched from the network
    assert facts["scrollWidth"] <= facts["innerWidth"] == width  # no sideways page scroll
    assert facts["flatMaths"] == 0  # every formula is laid out (MathML rendered)
    # wide screens: side navigation; narrow ones: the menu at the top
    assert (facts["sideNav"], facts["topMenu"]) == ((True, False) if width > 900 else (False, True))
    assert all(right <= facts["mainRight"] + 0.5 for right in facts["wideMaths"])
    for left, right, bottom, panels_top in facts["headlines"]:  # whole, on screen, above
        assert 0 <= left < right <= width and bottom <= panels_top + 0.5
    for panels in facts["panelRows"]:
        lefts, tops, widths = zip(*panels)
        if width > 900:  # side by side, as the figure was drawn
            assert max(tops) - min(tops) < 1 and list(lefts) == sorted(lefts)
        else:  # one panel per row, each nearly as wide as the screen
            assert list(tops) == sorted(tops) and len(set(tops)) == len(tops)
            assert (
                min(widths) > 0.8 * (width - 40)
                and max(l + w for l, w in zip(lefts, widths)) <= width
            )


@pytest.mark.parametrize("width", WIDTHS)
def test_tour_report_in_the_browser(browser, tour_report, width):
    facts = _inspect(browser, tour_report, width)
    _check(facts, width)
    formulas = _formulas((tour_report.parent / "report.md").read_text(encoding="utf-8"))
    assert formulas > 5 and facts["maths"] == formulas  # every formula became MathML
    assert len(facts["panelRows"]) >= 5 and facts["wideMaths"]  # the cases that widened pages
    assert len(facts["headlines"]) >= 3  # linear-fit, binary, sine: suptitles over two panels
    assert (tour_report.parent / "screenshots" / f"report-{width}.png").stat().st_size > 10_000


@pytest.mark.parametrize("width", WIDTHS)
def test_train_report_in_the_browser(browser, train_report, width):
    facts = _inspect(browser, train_report, width)
    _check(facts, width)
    assert (train_report.parent / "screenshots" / f"report-{width}.png").exists()
