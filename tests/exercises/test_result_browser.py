"""A check's HTML result in a real browser (headless Chromium) at 360 and 1400 px: it fits.

The result is what a notebook shows under a cell; here it sits in a plain page whose body
is the notebook's output area. Long messages must wrap inside their cell and the table
must scroll inside its own box, never widen the page. Screenshots go to the test's
temporary folder for a person to look at.
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


@pytest.mark.parametrize("width", [360, 1400])
def test_the_result_fits_its_container(browser, tmp_path, width):
    result = ex.check("backprop", backprop_with_two_bugs)
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
    facts = page.evaluate(
        """() => {
        const box = document.querySelector('.handgrad-check');
        const pres = [...box.querySelectorAll('pre')];
        return {
            page: document.documentElement.scrollWidth,
            viewport: window.innerWidth,
            box: box.getBoundingClientRect().right,
            preOverflow: pres.filter(p => p.scrollWidth > p.clientWidth + 1).length,
            links: [...box.querySelectorAll('ul a')].map(a => a.getAttribute('href')),
        };
    }"""
    )
    page.screenshot(path=str(tmp_path / f"result-{width}.png"), full_page=True)
    page.close()
    assert facts["page"] <= facts["viewport"], facts  # the page never scrolls sideways
    assert facts["box"] <= facts["viewport"], facts
    assert facts["preOverflow"] == 0, facts  # messages wrap inside their cells
    assert "docs/exercises.md#transpose" in facts["links"]
    assert "docs/exercises.md#bias-not-summed" in facts["links"]
