"""The playground in a real browser (Playwright + the system Chromium; skipped without one).

Each test opens its own tab (its own session) on one live server. Screenshots at 1400 px and
400 px go to $HANDGRAD_SCREENSHOTS (default: the test's temporary folder).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import handgrad as hg
from handgrad.tabular import Predictor

pytestmark = pytest.mark.slow  # a browser, a server and training: several seconds each


def open_tab(browser, url: str, width: int = 1400, csp: bool = False):
    """(context, tab, console errors) on ``url``. ``bypass_csp`` unless ``csp``: Playwright's
    wait_for_function evaluates its predicate with eval, which the page's policy forbids."""
    context = browser.new_context(
        viewport={"width": width, "height": 1000}, accept_downloads=True, bypass_csp=not csp
    )
    context.set_default_timeout(120_000)  # waits are for events; this caps them on a loaded CI
    tab = context.new_page()
    errors: list[str] = []
    tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: errors.append(str(e)))
    tab.goto(url)
    return context, tab, errors


@pytest.fixture
def page(browser, live_server):
    """A fresh tab on the playground (viewport 1400 px); fails the test on console errors."""
    context, tab, errors = open_tab(browser, live_server.url)
    tab.wait_for_selector("#data-moons")
    tab.wait_for_function("document.querySelectorAll('canvas.unit').length === 16")
    yield tab
    context.close()
    assert errors == [], f"console errors: {errors}"


def number(page, selector: str) -> float:
    return float(page.text_content(selector))


def test_moons_reach_90_percent_test_accuracy_and_screenshots(page, tmp_path):
    page.click("#data-moons")
    page.select_option("#speed", "20")
    page.click("#play")
    page.wait_for_function(
        "Number(document.getElementById('test-acc').textContent) > 0.9", timeout=180_000
    )
    page.click("#play")  # pause
    assert number(page, "#test-acc") > 0.9
    assert int(page.text_content("#step-count")) > 0
    shots = Path(os.environ.get("HANDGRAD_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "playground-1400.png"))
    page.set_viewport_size({"width": 400, "height": 900})
    page.wait_for_function("document.documentElement.scrollWidth <= 400")  # relaid out
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(shots / "playground-400.png"))
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 400, f"the page is {width} px wide at a 400 px viewport"
    for name in ("playground-1400.png", "playground-400.png"):
        assert (shots / name).stat().st_size > 10_000


def test_step_panel_shapes_and_gradient_check(page):
    page.click("#step")
    page.wait_for_selector(".tensor[data-name='dW1']")
    shapes = {
        el.get_attribute("data-name"): el.query_selector(".shape").text_content()
        for el in page.query_selector_all(".tensor")
    }
    assert shapes["x"] == "(16 × 2)" and shapes["z1"] == "(16 × 8)" and shapes["a2"] == "(16 × 8)"
    assert shapes["z3 (logits)"] == "(16 × 1)" and shapes["L"] == "(scalar)"
    assert shapes["dW2"] == "(8 × 8)" and shapes["db1"] == "(8)" and shapes["dW1"] == "(2 × 8)"
    assert page.text_content("#step-count") == "1"
    page.click("#gradcheck")
    page.wait_for_function(
        "document.getElementById('gradcheck-verdict').textContent !== 'checking …'"
    )
    assert page.text_content("#gradcheck-verdict") == "PASSED"
    assert "0.weight" in page.text_content("#gradcheck-rows")


def unit_pictures(page, layer: int) -> list[str]:
    return page.eval_on_selector_all(
        f"canvas.unit[data-layer='{layer}']", "cs => cs.map(c => c.toDataURL())"
    )


def test_zero_initialisation_keeps_hidden_units_identical(page):
    for select in page.query_selector_all("#layers select"):
        select.select_option("sigmoid")
    page.select_option("#init", "zeros")
    page.select_option("#lr", "0.3")
    for _ in range(4):
        page.click("#step")
    page.wait_for_function("document.getElementById('step-count').textContent === '4'")
    first = unit_pictures(page, 1)
    assert len(first) == 8 and len(set(first)) == 1
    assert len(set(unit_pictures(page, 2))) == 1
    page.select_option("#init", "he")  # the contrast: random weights, different units
    page.wait_for_function("document.getElementById('step-count').textContent === '0'")
    page.wait_for_function(  # redrawn: eight different pictures
        "new Set([...document.querySelectorAll(\"canvas.unit[data-layer='1']\")]"
        ".map(c => c.toDataURL())).size === 8"
    )
    assert len(set(unit_pictures(page, 1))) == 8


def test_csv_upload_good_and_bad(page, tmp_path):
    good = tmp_path / "mine.csv"
    rows = [f"{i % 7},{(i * 3) % 5},{i % 2}" for i in range(60)]
    good.write_text("height,weight,label\n" + "\n".join(rows) + "\n")
    page.set_input_files("#csv-file", str(good))
    page.wait_for_function("document.getElementById('csv-status').textContent.includes('60 rows')")
    page.click("#csv-use")
    page.wait_for_function("document.getElementById('sizes').textContent.startsWith('2')")
    assert page.text_content("#data-note") == "your table: mine.csv"
    assert "label 0" in page.text_content("#region-legend")
    bad = tmp_path / "broken.csv"
    bad.write_text("a,b,c\n1,2,3,4\n4,5,6\n")
    page.set_input_files("#csv-file", str(bad))
    page.wait_for_function("document.getElementById('csv-status').classList.contains('bad')")
    status = page.text_content("#csv-status")
    assert status == (
        "broken.csv: line 2 has 4 fields but the header has 3 (1 field(s) after the last column)"
    ), status
    page.click("#step")  # the server still serves this tab
    page.wait_for_selector(".tensor[data-name='x']")


def test_export_model_and_script_reproduce_the_run(page, tmp_path):
    page.select_option("#speed", "10")
    page.click("#play")
    page.wait_for_function("Number(document.getElementById('step-count').textContent) >= 30")
    page.select_option("#reg", "l1")  # L1 from here on: the script replays it at that step
    page.select_option("#reg-rate", "0.01")
    page.wait_for_function("document.getElementById('changes').textContent.includes('rate → 0.01')")
    page.wait_for_function("Number(document.getElementById('step-count').textContent) >= 60")
    page.click("#play")
    page.wait_for_function("document.getElementById('play').textContent.includes('Play')")
    with page.expect_download() as info:
        page.click("#export-model")
    model_path = tmp_path / "model.npz"
    info.value.save_as(model_path)
    model = hg.load(model_path)
    assert model.in_features == 2 and len(model.parameters()) == 6
    assert Predictor.load(model_path).classes == ["0", "1"]
    with page.expect_download() as info:
        page.click("#export-script")
    script = tmp_path / "run.py"
    info.value.save_as(script)
    shown_loss = page.text_content("#export-loss")
    shown_steps = page.text_content("#export-steps")
    assert re.fullmatch(r"\d+\.\d{6}", shown_loss)
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    assert f"steps: {shown_steps}" in done.stdout
    assert f"final training loss: {shown_loss}" in done.stdout
    with page.expect_download() as info:
        page.click("#export-png")
    png = tmp_path / "figures.png"
    info.value.save_as(png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
