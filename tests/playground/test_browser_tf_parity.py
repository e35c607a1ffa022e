"""What TensorFlow Playground does that handgrad's page now does too: the weights' lines flow
while the network trains, a click on an input's node switches it on or off, a link opened
shows the link's run from its very first picture, and a hidden tab trains on without drawing.
Every wait is for an event the page or the server shows, never for time."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from .test_browser import open_tab
from .test_browser_live import STEP, ready
from .test_browser_view import session_of

pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.slow  # a browser, a server and training: several seconds each

PAUSED = "document.getElementById('play').textContent.includes('Play') && !state.playing"

# The line from the only hidden unit to the logit (1 unit, 1 input: nothing crosses it),
# sampled pixel by pixel along its middle: 1 where it is inked, 0 in a gap between dashes.
LINE_PIXELS = """() => {
  const { node, cols } = layout(), a = cols[1][0], b = cols[2][0];
  const canvas = document.getElementById('net-canvas'), ratio = canvas.width / canvas.clientWidth;
  const y = Math.round((a.y + node / 2) * ratio), x0 = Math.ceil((a.x + node + 4) * ratio);
  const x1 = Math.floor((b.x - 4) * ratio);
  const row = canvas.getContext('2d').getImageData(x0, y, x1 - x0, 1).data, out = [];
  for (let k = 3; k < row.length; k += 4) out.push(row[k] > 127 ? 1 : 0);
  return out;
}"""


# How thick (in device pixels) the line from the only hidden unit to the logit is drawn: the
# most inked pixels in a column across it, over ten columns (a dash is 7 pixels on, 3 off).
LINE_THICKNESS = """() => {
  const { node, cols } = layout(), a = cols[1][0], b = cols[2][0];
  const canvas = document.getElementById('net-canvas'), ratio = canvas.width / canvas.clientWidth;
  const x = Math.round(((a.x + node + b.x) / 2) * ratio), y = Math.round((a.y + node / 2) * ratio);
  const block = canvas.getContext('2d').getImageData(x, y - 12, 10, 25).data;
  let most = 0;
  for (let c = 0; c < 10; c++) {
    let inked = 0;
    for (let r = 0; r < 25; r++) inked += block[(r * 10 + c) * 4 + 3] > 127 ? 1 : 0;
    most = Math.max(most, inked);
  }
  return most;
}"""


def agreement(first: list[int], second: list[int], shift: int) -> float:
    """The share of pixels where ``second`` equals ``first`` moved ``shift`` pixels on."""
    pairs = list(zip(first, second[shift:]))
    return sum(p == q for p, q in pairs) / len(pairs)


def test_the_weights_dashes_move_one_pixel_a_frame_of_training_and_stand_still_paused(
    browser, live_server
):
    link = f"{live_server.url}#data=moons&layers=1tanh&inputs=x1&opt=sgd&lr=0.1"
    context, page, errors = open_tab(browser, link)
    try:
        ready(page)
        page.wait_for_function("state.frame && state.frame.weights.length === 2")
        before, flow = page.evaluate(LINE_PIXELS), page.evaluate("state.flow")
        assert 0.5 < sum(before) / len(before) < 0.85, before  # dashes 7 on, 3 off
        page.click("#step")
        page.wait_for_function(f"{STEP} === 1")
        page.wait_for_function(f"state.flow === {(flow + 1) % 10}")
        after = page.evaluate(LINE_PIXELS)
        # the pattern moved one pixel towards the output (not the weight: its dashes)
        assert agreement(before, after, 1) >= 0.9 > agreement(before, after, 0), (before, after)
        page.click("#play")
        page.wait_for_function(f"{STEP} >= 40")
        page.click("#play")
        page.wait_for_function(PAUSED)
        page.click("#step")  # handled after the Pause: its frame is the run's last
        page.wait_for_function("document.getElementById('inspect-summary').textContent !== ''")
        session = session_of(page, live_server)
        page.wait_for_function(f"state.frame.step === {session.trainer.steps}")
        still, flow = page.evaluate(LINE_PIXELS), page.evaluate("state.flow")
        page.evaluate("redrawNetwork()")  # redrawn (as on a resize), not trained
        assert page.evaluate("state.flow") == flow
        assert page.evaluate(LINE_PIXELS) == still
        assert page.get_attribute("#net-canvas", "data-flow") == str(flow)
    finally:
        context.close()
    assert errors == []


def test_a_click_on_an_input_s_node_switches_it_on_or_off(browser, live_server):
    context, page, errors = open_tab(browser, f"{live_server.url}#data=circles&noise=0.1")
    try:
        ready(page)
        page.wait_for_function("document.querySelectorAll('canvas.input').length === 7")
        assert page.locator("canvas.input.off").count() == 5  # x₁² ... sin x₂ greyed
        session = session_of(page, live_server)
        page.click("canvas.input[data-feature='x1sq']")
        page.wait_for_function("state.dataset.inputs.join() === 'x1,x2,x1sq'")
        assert session.data_spec.inputs == ["x1", "x2", "x1sq"]
        assert page.is_checked("#input-x1sq") and page.text_content("#sizes").startswith("3 –")
        page.click("canvas.input[data-feature='x1']")  # off again
        page.wait_for_function("state.dataset.inputs.join() === 'x2,x1sq'")
        assert not page.is_checked("#input-x1")
        assert parse_qs(urlsplit(page.url).fragment)["inputs"] == ["x2,x1sq"]
        assert page.locator("canvas.input.off[data-feature='x1']").count() == 1
        page.click("canvas.input[data-feature='x2']")
        page.wait_for_function("state.dataset.inputs.join() === 'x1sq'")
        page.click("canvas.input[data-feature='x1sq']")  # the last one stays on
        page.wait_for_selector("#message:has-text('at least one input')")
        assert page.evaluate("state.inputs") == ["x1sq"] and session.data_spec.inputs == ["x1sq"]
        page.click("#step")  # the server has everything sent before it
        page.wait_for_function(f"{STEP} === 1")
        assert session.data_spec.inputs == ["x1sq"] and session.trainer.steps == 1
        page.go_back()  # Back: x2 was on
        page.wait_for_function("state.dataset.inputs.join() === 'x2,x1sq'")
        page.click("#lesson summary")
        page.check("#hide-inputs")  # a lesson fixes the inputs: the nodes take no clicks
        assert page.locator("canvas.input.locked").count() == 7
        assert page.evaluate("toggleInput('x1'), state.inputs") == ["x2", "x1sq"]
        page.uncheck("#hide-inputs")
        assert page.locator("canvas.input.locked").count() == 0
    finally:
        context.close()
    assert errors == []


# Records, from before the page's scripts run, every network size, unit count and legend the
# page ever shows, so a moment of the server's default run cannot go unseen.
RECORD_SHOWN = """
window.shown = { sizes: [], units: [], legend: [] };
const note = (list, value) => { if (value && list[list.length - 1] !== value) list.push(value); };
new MutationObserver(() => {
  const text = (id) => document.getElementById(id) && document.getElementById(id).textContent;
  note(shown.sizes, text('sizes'));
  note(shown.units, document.querySelectorAll('canvas.unit').length);
  note(shown.legend, text('region-legend'));
}).observe(document, { subtree: true, childList: true, characterData: true });
// what the page heard and said, in order: a failure shows the exchange that led to it
window.exchange = [];
const Native = window.WebSocket;
window.WebSocket = class extends Native {
  constructor(...args) {
    super(...args);
    exchange.push("open " + String(args[0]).replace(/token=[^&]*/, ""));
    this.addEventListener("message", (e) => {
      const m = JSON.parse(e.data);
      const extra = (m.restored ? " restored" : "") + (m.message ? ": " + m.message : "");
      exchange.push("in " + m.type + extra);
    });
    this.addEventListener("close", (e) => exchange.push("close " + e.code));
  }
  send(data) { exchange.push("out " + JSON.parse(data).type); super.send(data); }
};
"""


@pytest.mark.parametrize(
    "fragment, sizes, units, legend",
    [
        ("#data=bump&layers=3relu&inputs=x1%2Cx2%2Cx1x2", "3 – 3 – 1", 3, "colour:"),
        ("#data=moons&lr=0.3", "2 – 8 – 8 – 1", 16, "label 0"),  # the default run, tweaked
    ],
)
def test_a_link_opened_shows_the_link_s_run_from_the_first_picture(
    browser, live_server, fragment, sizes, units, legend
):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, bypass_csp=True)
    context.set_default_timeout(120_000)
    context.add_init_script(RECORD_SHOWN)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(live_server.url + fragment)
        ready(page)
        page.wait_for_function("document.getElementById('train-loss').textContent !== '–'")
        shown = page.evaluate("shown")
        said = page.evaluate("exchange")
        heard = " | ".join(said)
        assert shown["sizes"] == [sizes] and shown["units"] == [units], f"{shown}; {heard}"
        assert shown["legend"] and all(text.startswith(legend) for text in shown["legend"]), shown
    finally:
        context.close()
    assert errors == []


HIDE = """(hidden) => {
  Object.defineProperty(document, 'hidden', { value: hidden, configurable: true });
  const visibility = hidden ? 'hidden' : 'visible';
  Object.defineProperty(document, 'visibilityState', { value: visibility, configurable: true });
  document.dispatchEvent(new Event('visibilitychange'));
}"""
PICTURE = "document.getElementById('region').toDataURL()"
CHART = "document.getElementById('loss-chart').toDataURL()"


def test_a_hidden_tab_trains_on_draws_nothing_and_draws_the_last_frame_when_shown(
    browser, live_server
):
    """Switched to another tab, the page keeps training (the curves get every frame) but draws
    nothing, and the server sends no pictures; shown again it draws at once. Paused while
    hidden, it asks for the pictures it was not sent."""
    context, page, errors = open_tab(browser, live_server.url + "#data=spirals&speed=10")
    try:
        ready(page)
        session = session_of(page, live_server)
        page.click("#play")
        page.wait_for_function(f"{STEP} >= 30")
        page.evaluate(HIDE, True)
        step = page.evaluate("state.frame.step")
        page.wait_for_function(f"state.frame.step > {step} && !state.frame.weights")  # no pictures
        picture, chart, points = (
            page.evaluate(PICTURE),
            page.evaluate(CHART),
            page.evaluate("state.history.step.length"),
        )
        step = page.evaluate("state.frame.step")
        page.wait_for_function(f"state.history.step.length >= {points + 3} && {STEP} > {step}")
        assert page.evaluate(PICTURE) == picture and page.evaluate(CHART) == chart  # not drawn
        assert session.playing
        page.evaluate(HIDE, False)
        page.wait_for_function("state.frame.weights !== undefined")
        page.wait_for_function(f"{PICTURE} !== {picture!r}")  # drawn again at once
        page.evaluate(HIDE, True)
        page.wait_for_function("!state.frame.weights")  # the server knows: from now on none
        page.click("#play")  # paused while hidden: the last frame it has carries no pictures
        page.wait_for_function(PAUSED)
        assert page.evaluate("state.frame.weights") is None
        page.evaluate(HIDE, False)
        page.wait_for_function("state.frame.weights !== undefined")  # asked for, sent, drawn
        assert page.evaluate("state.frame.step") == session.trainer.steps
        assert not session.playing
    finally:
        context.close()
    assert errors == []


ANSWERED = "state.answered === state.pressed"  # the page's last Play/Pause was answered


def test_pause_while_hidden_ticked_pauses_a_hidden_tab_and_plays_on_when_shown(
    browser, live_server
):
    """TensorFlow Playground's way, chosen by a box kept in the link: hidden, the run pauses
    (the server trains nothing for it); shown again, it plays on from where it stopped. A
    run paused by hand stays paused; unticked, a hidden tab trains on (the default)."""
    context, page, errors = open_tab(browser, live_server.url + "#data=moons&hiddentab=pause")
    try:
        ready(page)
        assert page.is_checked("#pause-hidden")
        session = session_of(page, live_server)
        page.click("#play")
        page.wait_for_function(f"{STEP} >= 20")
        page.evaluate(HIDE, True)
        page.wait_for_function(f"{ANSWERED} && !state.playing")
        assert not session.playing
        stopped = session.trainer.steps
        page.evaluate(HIDE, False)
        page.wait_for_function(f"{ANSWERED} && state.playing && {STEP} > {stopped}")
        assert session.playing
        page.click("#play")
        page.wait_for_function(f"{ANSWERED} && {PAUSED}")
        presses = page.evaluate("state.pressed")
        page.evaluate(HIDE, True)
        page.evaluate(HIDE, False)
        assert page.evaluate("state.pressed") == presses  # paused by hand: nothing pressed
        page.click("#pause-hidden")
        assert "hiddentab" not in page.evaluate("location.hash")
        page.click("#play")
        page.wait_for_function(f"{ANSWERED} && state.playing")
        page.evaluate(HIDE, True)
        assert page.evaluate("state.pressed") == presses + 1  # unticked: hidden, it trains on
        step = session.trainer.steps
        page.wait_for_function(f"state.frame.step > {step}")
        assert session.playing
        page.evaluate(HIDE, False)
        page.click("#play")
        page.wait_for_function(f"{ANSWERED} && {PAUSED}")
    finally:
        context.close()
    assert errors == []


def test_lines_on_a_fixed_scale_grow_with_the_weights_and_relative_ones_do_not(
    browser, live_server
):
    """TensorFlow Playground draws a link's width on a fixed scale of |w| (growth shows);
    handgrad's default is relative to the largest weight (the structure shows at any size).
    The box switches: the same weights doubled draw a thicker line on the fixed scale only."""
    link = f"{live_server.url}#data=moons&layers=1tanh&inputs=x1&opt=sgd&lr=0.1"
    context, page, errors = open_tab(browser, link)
    try:
        ready(page)
        page.wait_for_function("state.frame && state.frame.weights.length === 2")
        thickness = {}
        for scale in (1.0, 2.0):  # x1 -> unit, unit -> logit: the second is the largest
            for layer, value in ((0, 0.75 * scale), (1, 1.5 * scale)):
                page.evaluate(
                    f"send({{type: 'set_weight', layer: {layer}, i: 0, j: 0, value: {value}}})"
                )
                page.wait_for_function(f"state.frame.weights[{layer}][0][0] === {value}")
            for fixed in (False, True):
                if page.is_checked("#fixed-lines") != fixed:
                    page.click("#fixed-lines")
                thickness[scale, fixed] = page.evaluate(LINE_THICKNESS)
        assert thickness[1.0, False] == thickness[2.0, False] >= 3  # relative: always the thickest
        assert 1 <= thickness[1.0, True] < thickness[2.0, True]  # fixed: |w| 1.5 -> 3 grows
        assert thickness[2.0, True] == thickness[2.0, False]  # |w| = 3 is the fixed scale's top
        assert page.text_content("#weight-scale").startswith(
            "Fixed scale: a line is thickest at |w| ≥ 3"
        )
        assert parse_qs(urlsplit(page.url).fragment)["lines"] == ["fixed"]  # kept in the link
        page.reload()
        ready(page)
        assert page.is_checked("#fixed-lines")
    finally:
        context.close()
    assert errors == []


def test_the_drawing_fills_the_network_panel_and_the_data_sets_are_grouped_by_task(
    browser, live_server
):
    context, page, errors = open_tab(browser, live_server.url)
    try:
        ready(page)
        gap = page.evaluate(
            """() => {
          const panel = document.querySelector('section.network').getBoundingClientRect();
          const out = document.querySelector('section.output').getBoundingClientRect();
          const last = document.querySelector('section.network > :last-child')
            .getBoundingClientRect();
          const draw = document.getElementById('netdraw');
          return [panel.height - out.height, panel.bottom - last.bottom, draw.clientHeight];
        }"""
        )
        assert gap[0] == 0 and gap[1] < 60 and gap[2] >= 600, gap  # padding, no empty space
        node = page.evaluate("layout().node")
        assert page.locator("canvas.unit").first.bounding_box()["width"] == node > 40
        names = page.eval_on_selector_all(
            "#datasets > *", "es => es.map((e) => e.dataset.name || e.textContent)"
        )
        grouped = "classification xor moons circles spirals blobs linear regression sine plane"
        assert names == [*grouped.split(), "bump", "gaussians"]
    finally:
        context.close()
    assert errors == []
