"""What TensorFlow Playground lets a learner do, in handgrad's page: hover a unit to see its
output in the big picture, hover a line to read its weight, Regenerate the data while the
network trains on, and step through configurations with Back and Forward."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest

import handgrad as hg
from handgrad.playground.data import DATASETS

from .test_browser import open_tab
from .test_browser_live import STEP, ready
from .test_browser_view import REGION, session_of

pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.slow  # a browser, a server and training: several seconds each

LEGEND = "document.getElementById('region-legend').textContent"
PAUSED = "document.getElementById('play').textContent.includes('Play') && !state.playing"

# The big picture against a hovered unit's own picture (unit_grid x unit_grid cells), cell by
# cell at the cell's centre, away from the drawn points and the axis names.
UNIT_IN_REGION = """([l, u, tolerance]) => {
  const f = state.frame, d = state.dataset, canvas = document.getElementById('region');
  const w = canvas.clientWidth, h = canvas.clientHeight, ratio = canvas.width / w, g = f.unit_grid;
  const shown = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  const expected = unitImage(f, l, u).data;
  const [x0, x1, y0, y1] = d.bounds;
  const points = d.points.map(([x, y]) =>
    [(x - x0) / (x1 - x0) * w, (1 - (y - y0) / (y1 - y0)) * h]);
  let checked = 0, same = 0;
  for (let r = 0; r < g; r++) for (let c = 0; c < g; c++) {
    const X = (c + 0.5) * w / g, Y = (r + 0.5) * h / g;
    if (X < 24 || Y > h - 18 || points.some(([px, py]) => Math.hypot(px - X, py - Y) < 9)) continue;
    const k = (Math.floor(Y * ratio) * canvas.width + Math.floor(X * ratio)) * 4;
    const e = (r * g + c) * 4;
    checked += 1;
    if ([0, 1, 2].every((j) => Math.abs(shown[k + j] - expected[e + j]) <= tolerance)) same += 1;
  }
  return { checked, same };
}"""


# each data button: its set, label, how many pixels of its preview are inked, whether class 0's
# orange is among them, and the preview's width
PREVIEWS = """() => [...document.querySelectorAll('#datasets button')].map((b) => {
  const c = b.querySelector('canvas.preview');
  const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let inked = 0, orange = false;
  for (let k = 0; k < px.length; k += 4) {
    if (px[k] + px[k + 1] + px[k + 2] < 700) inked += 1;
    if (px[k] === 0xe8 && px[k + 1] === 0x74) orange = true;
  }
  return [b.dataset.name, b.textContent, inked, orange, c.clientWidth];
})"""


def pause(page) -> None:
    page.evaluate("document.getElementById('play').click()")  # no pointer move: keep the hover
    page.wait_for_function(PAUSED)


def test_hovering_a_unit_puts_its_output_in_the_big_picture_and_leaving_restores_it(
    browser, live_server
):
    context, page, errors = open_tab(browser, live_server.url + "#data=circles&noise=0.1&speed=20")
    try:
        ready(page)
        page.evaluate("document.getElementById('play').click()")
        page.wait_for_function(f"{STEP} >= 100")
        pause(page)
        regions = page.evaluate(REGION, [False, 24])
        assert regions["same"] >= 0.95 * regions["checked"] > 100  # the network's output
        page.hover("canvas.unit[data-layer='1'][data-unit='2']")
        page.wait_for_function(f"{LEGEND}.startsWith('layer 1, unit 3')")
        unit = page.evaluate(UNIT_IN_REGION, [1, 2, 24])
        assert unit["same"] >= 0.95 * unit["checked"] > 100, unit
        assert page.evaluate(REGION, [False, 24])["same"] < 0.5 * regions["checked"]
        # it stays the unit's picture while training goes on under the pointer
        step = int(page.text_content("#step-count"))
        page.evaluate("document.getElementById('play').click()")
        page.wait_for_function(f"{STEP} >= {step + 40}")
        pause(page)
        assert page.evaluate("state.hovered[0] === 1 && state.hovered[1] === 2")
        unit = page.evaluate(UNIT_IN_REGION, [1, 2, 24])
        assert unit["same"] >= 0.95 * unit["checked"] > 100, unit
        page.mouse.move(3, 3)  # off the unit: the network's output again, same frame
        page.wait_for_function(f"!{LEGEND}.startsWith('layer')")
        back = page.evaluate(REGION, [False, 24])
        assert back["same"] >= 0.95 * back["checked"] > 100
        assert page.is_hidden("#unit-detail")
    finally:
        context.close()
    assert errors == []


def test_hovering_a_line_shows_its_weight_and_a_click_edits_that_weight(browser, live_server):
    context, page, errors = open_tab(browser, live_server.url + "#data=moons&speed=10")
    try:
        ready(page)
        page.evaluate("document.getElementById('play').click()")
        page.wait_for_function(f"{STEP} >= 50")
        pause(page)
        session = session_of(page, live_server)
        page.wait_for_function(f"{STEP} === {session.trainer.steps}")
        page.locator("#netdraw").scroll_into_view_if_needed()
        # a point on the line from unit 1 of layer 1 to unit 4 of layer 2, 40% of the way
        x, y = page.evaluate("""() => {
          const {node, cols} = layout(), a = cols[1][0], b = cols[2][3];
          const r = document.getElementById('netdraw').getBoundingClientRect();
          return [r.left + a.x + node + 0.4 * (b.x - a.x - node),
                  r.top + a.y + node / 2 + 0.4 * (b.y - a.y)]; }""")
        x, y = round(x), round(y)  # the event's clientX, clientY are whole pixels
        page.mouse.move(x, y, steps=4)
        page.wait_for_selector("#weight-hover:not([hidden])")
        hit = page.evaluate(
            f"(() => {{ const r = document.getElementById('netdraw').getBoundingClientRect();"
            f" return weightAt({x} - r.left, {y} - r.top); }})()"
        )
        text = page.text_content("#weight-hover")
        linears = [m for m in session.trainer.model if isinstance(m, hg.Linear)]
        value = linears[hit["layer"]].weight.value[hit["i"], hit["j"]]
        source = ["x₁", "x₂"][hit["i"]] if hit["layer"] == 0 else f"unit {hit['i'] + 1} of layer 1"
        assert text.startswith(f"weight {source} → unit {hit['j'] + 1} of layer 2: "), text
        shown = float(re.search(r": (\S+) · click to edit$", text).group(1))
        assert shown == pytest.approx(value, rel=5e-3, abs=1e-4), (text, value)
        page.mouse.click(x, y)  # the weight under the pointer opens for editing
        page.wait_for_selector("#weight-detail:not([hidden])")
        assert page.evaluate("[state.weight.layer, state.weight.i, state.weight.j]") == [
            hit["layer"], hit["i"], hit["j"]]  # fmt: skip
        page.mouse.move(3, 3)
        page.wait_for_selector("#weight-hover", state="hidden")
    finally:
        context.close()
    assert errors == []


def test_regenerate_while_playing_draws_new_points_and_the_run_goes_on(browser, live_server):
    context, page, errors = open_tab(browser, live_server.url + "#data=moons&speed=10")
    try:
        ready(page)
        session = session_of(page, live_server)
        model, before = session.trainer.model, page.evaluate("state.dataset.points")
        page.click("#play")
        page.wait_for_function(f"{STEP} >= 60")
        page.click("#regenerate")
        page.wait_for_function(
            "document.getElementById('changes').textContent.includes('new points: draw → 1')"
        )
        at = int(re.search(r"step (\d+): new points", page.text_content("#changes")).group(1))
        page.wait_for_function(f"{STEP} >= {at + 60}")
        assert page.evaluate("state.history.step[0] < 20 && state.playing")  # no restart
        after = page.evaluate("state.dataset.points")
        assert len(after) == len(before) == 500
        assert not np.isclose(np.array(after), np.array(before)).all(axis=1).any()
        assert session.trainer.model is model and session.data_spec.draw == 1
        assert "draw=1" in page.url and page.text_content("#draw-note").startswith("draw 1")
        link = page.url
        other, again, more = open_tab(browser, link)
        try:
            ready(again)
            # the link keeps the draw: the tab's first points are the server's default draw
            # until the link's settings are applied, so wait for the kept ones
            again.wait_for_function(
                "kept => JSON.stringify(state.dataset.points) === JSON.stringify(kept)",
                arg=after,
            )
        finally:
            other.close()
        assert more == []
        page.click("#data-spirals")  # another set: its seed's own points again
        page.wait_for_function(f"!location.hash.includes('draw=') && {PAUSED}")
        page.click("#step")
        page.wait_for_function(
            "document.getElementById('inspect-summary').textContent.startsWith('Step 1:')"
        )
        assert (session.data_spec.name, session.data_spec.draw) == ("spirals", 0)
    finally:
        context.close()
    assert errors == []


def settle(page) -> None:
    """Wait until the server has handled everything sent so far: a Step after it is shown."""
    page.evaluate("document.getElementById('inspect-summary').textContent = ''")
    page.click("#step")
    page.wait_for_function("document.getElementById('inspect-summary').textContent !== ''")


def test_back_and_forward_step_through_configurations_and_the_server_follows(browser, live_server):
    context, page, errors = open_tab(browser, live_server.url + "#data=moons&lr=0.03&speed=5")
    try:
        ready(page)
        session = session_of(page, live_server)
        page.select_option("#lr", "0.1")  # a tweak
        page.click("#data-spirals")  # a restart
        page.locator("#layers button[aria-label='more units']").first.click()  # 9 units
        settle(page)
        assert (session.data_spec.name, session.net_spec.hidden, session.net_spec.lr) == (
            "spirals", [9, 8], 0.1)  # fmt: skip
        expected = [("spirals", [8, 8], 0.1), ("moons", [8, 8], 0.1), ("moons", [8, 8], 0.03)]
        for name, hidden, lr in expected:
            page.go_back()
            settle(page)
            assert (session.data_spec.name, session.net_spec.hidden, session.net_spec.lr) == (
                name, hidden, lr)  # fmt: skip
            assert page.input_value("#lr") == str(lr)
            assert page.evaluate("state.data") == name
            assert page.locator("#layers .width").all_text_contents() == [str(w) for w in hidden]
        for name, hidden, lr in [*expected[::-1][1:], ("spirals", [9, 8], 0.1)]:
            page.go_forward()
            settle(page)
            assert (session.data_spec.name, session.net_spec.hidden, session.net_spec.lr) == (
                name, hidden, lr)  # fmt: skip
            assert page.evaluate("state.data") == name
    finally:
        context.close()
    assert errors == []


def test_each_data_button_shows_its_set(browser, live_server):
    context, page, errors = open_tab(browser, live_server.url)
    try:
        ready(page)
        drawn = page.evaluate(PREVIEWS)
        names = {name for name, *_ in drawn}
        assert names == set(DATASETS)
        for name, _, inked, orange, width in drawn:
            assert inked > 300 and width == 40, (name, inked, width)
            if name in ("moons", "xor", "circles", "spirals", "linear", "blobs"):
                assert orange, name  # class 0's colour among the points
        assert dict((n, t) for n, t, *_ in drawn)["gaussians"] == "bumps"
    finally:
        context.close()
    assert errors == []


def test_a_lesson_link_hides_the_controls_it_names_and_its_settings_still_apply(
    browser, live_server
):
    link = f"{live_server.url}#data=xor&lr=0.1&hide=noise%2Clr%2Cinside%2Cnot-a-group"
    context, page, errors = open_tab(browser, link)
    try:
        ready(page)
        session = session_of(page, live_server)
        settle(page)
        assert session.net_spec.lr == 0.1 and session.data_spec.name == "xor"
        for hidden in ("#noise", "#lr", "section.inside"):
            assert page.is_hidden(hidden), hidden
        for shown in ("#n", "#batch-size", "#reg", "#play", "#regenerate", "#datasets"):
            assert page.is_visible(shown), shown
        page.click("#lesson summary")
        checked = page.eval_on_selector_all(
            "#lesson-boxes input:checked", "bs => bs.map(b => b.value)"
        )
        assert checked == ["noise", "lr", "inside"]  # an unknown group is dropped
        page.uncheck("#hide-lr")  # the teacher shows it again
        page.wait_for_selector("#lr", state="visible")
        assert parse_qs(urlsplit(page.url).fragment)["hide"] == ["noise,inside"]
        page.go_back()  # Back: hidden again
        page.wait_for_selector("#lr", state="hidden")
        page.check("#hide-export")
        page.wait_for_selector("#export-model", state="hidden")
        page.click("#copy-link")
        shared = parse_qs(urlsplit(page.input_value("#share-link")).fragment)["hide"]
        assert shared == ["noise,lr,inside,export"]
    finally:
        context.close()
    assert errors == []
