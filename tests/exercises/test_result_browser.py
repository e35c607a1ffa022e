"""A check's HTML result in a real browser (headless Chromium) at 360, 400 and 1400 px: it fits.

The result is what a notebook shows under a cell; here it sits in a plain page whose body
is the notebook's output area. Every column must be visible without scrolling sideways
(a message wraps in a row of its own under its case), never widen the page, and each hint
opens on its explanation. Screenshots go to the test's temporary folder for a person to
look at.
"""

from __future__ import annotations

import numpy as np
import pytest

import handgrad.exercises as ex

pytestmark = pytest.mark.slow


def backprop_with_two_bugs(X, Y, input_size, hidden_size, W1, b1, W2, b2):
    """Transposed dW1, the bias gradient left per sample, the mean: long messages."""
    a1 = 1 / (1 + np.exp(-(X @ W1 + b1)))
    A = 1 / (1 + np.exp(-(a1 @ W2 + b2)))
    dz2 = (A - Y) / len(X)
    dz1 = (dz2 @ W2.T) * a1 * (1 - a1)
    return {"dW1": dz1.T @ X, "db1": dz1, "dW2": a1.T @ dz2, "db2": dz2.sum(0, keepdims=True)}


def relu_backward(dz, z):
    """The starter as shipped: every case says "raises NotImplementedError", one long word."""
    raise NotImplementedError


MEASURE = """() => {
    const box = document.querySelector('.handgrad-check');
    const pres = [...box.querySelectorAll('pre')];
    const scrollers = [...box.querySelectorAll('div')];
    const right = box.getBoundingClientRect().right;
    const cells = [...box.querySelectorAll('td, th')];
    return {
        page: document.documentElement.scrollWidth,
        viewport: window.innerWidth,
        box: right,
        preOverflow: pres.filter(p => p.scrollWidth > p.clientWidth + 1).length,
        scrolled: scrollers.filter(d => d.scrollWidth > d.clientWidth + 1).length,
        cellsPastTheBox: cells.filter(c => c.getBoundingClientRect().right > right + 1).length,
        summaries: [...box.querySelectorAll('details summary')].map(s => s.textContent),
    };
}"""


@pytest.mark.parametrize("width", [360, 400, 1400])
@pytest.mark.parametrize("answer", ["backprop", "relu_backward"])
def test_the_result_fits_its_container(browser, tmp_path, width, answer):
    function = {"backprop": backprop_with_two_bugs, "relu_backward": relu_backward}[answer]
    result = ex.check(answer, function)
    assert not result.passed
    page_file = tmp_path / "result.html"
    page_file.write_text(
        "<!doctype html><html><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width'></head>"
        f"<body style='margin:8px'>{result._repr_html_()}</body></html>",
        encoding="utf-8",
    )
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(page_file.as_uri())
    page.wait_for_load_state("load")
    facts = page.evaluate(MEASURE)
    page.screenshot(path=str(tmp_path / f"{answer}-{width}.png"), full_page=True)
    if answer == "backprop":  # a hint opens on its explanation, shipped with the package
        page.click("details summary >> text=transpose")
        opened = page.evaluate("() => document.querySelector('details[open]').innerText")
        page.screenshot(path=str(tmp_path / f"{answer}-{width}-open.png"), full_page=True)
        assert "Write each factor's shape" in opened
    page.close()
    assert facts["page"] <= facts["viewport"], facts  # the page never scrolls sideways
    assert facts["box"] <= facts["viewport"], facts
    assert facts["preOverflow"] == 0, facts  # messages wrap inside their cells
    assert facts["scrolled"] == 0 and facts["cellsPastTheBox"] == 0, facts  # no column cut
    if answer == "backprop":
        assert any(s.startswith("transpose: ") for s in facts["summaries"]), facts
        assert any(s.startswith("bias-not-summed: ") for s in facts["summaries"]), facts


SPLIT_WORDS = """() => {
    const split = [];
    for (const pre of document.querySelectorAll('.handgrad-check pre')) {
        for (const node of pre.childNodes) {
            const text = node.textContent;
            for (const m of text.matchAll(/\\S+/g)) {
                if (m[0].length > 20) continue;  // a word wider than a phone may break
                const range = document.createRange();
                range.setStart(node, m.index);
                range.setEnd(node, m.index + m[0].length);
                if (range.getClientRects().length > 1) split.push(m[0]);
            }
        }
    }
    return split;
}"""

# JupyterLab's and nbconvert's rule for a pre in an output area: it breaks words anywhere
NOTEBOOK_OUTPUT_CSS = (
    ".jp-OutputArea-output pre { word-break: break-all; word-wrap: break-word;"
    " white-space: pre-wrap; }"
)


@pytest.mark.parametrize("width", [360, 400])
def test_a_message_wraps_between_words_in_a_notebooks_output_area(browser, tmp_path, width):
    """Inside a notebook's output area (word-break: break-all on every pre) a message
    still wraps at spaces: "a sum wher / e the mean" is hard to read."""

    def mse(y_pred, y_true):
        return np.sum((y_pred - y_true) ** 2)

    result = ex.check("mse", mse)
    page_file = tmp_path / "result.html"
    page_file.write_text(
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width'><style>{NOTEBOOK_OUTPUT_CSS}"
        "</style></head><body style='margin:8px'><div class='jp-OutputArea-output'>"
        f"{result._repr_html_()}</div></body></html>",
        encoding="utf-8",
    )
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.goto(page_file.as_uri())
    page.wait_for_load_state("load")
    split = page.evaluate(SPLIT_WORDS)
    page.screenshot(path=str(tmp_path / f"mse-{width}.png"), full_page=True)
    page.close()
    assert split == [], split
