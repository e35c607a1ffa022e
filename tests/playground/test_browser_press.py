"""Play/Pause, pressed the impatient way: twice in a row, while the server's answers to a
Reset or a Step are on their way, or held down while one arrives. The button does what its
label said when it was pressed, and its label changes only with the presses. Every wait is
for an event (a label, an answer counted by the page, a step shown)."""

from __future__ import annotations

import pytest

from .test_browser import open_tab
from .test_browser_live import STEP, ready
from .test_browser_view import session_of

pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.slow  # a browser, a server and training: several seconds each

PLAY, PAUSE = "▶ Play", "❚❚ Pause"
ANSWERED = "state.answered === state.pressed"  # the last press's answer has arrived
# every label the button shows from now on, in order (a repeat of the same label is no change);
# each mutation record holds the text node set then, even when a burst sets several at once
RECORD_LABELS = """() => {
  const button = document.getElementById('play');
  let last = button.textContent;
  window.labels = [];
  new MutationObserver((records) => {
    for (const r of records) for (const node of r.addedNodes) {
      if (node.textContent !== last) window.labels.push(last = node.textContent);
    }
  }).observe(button, { childList: true });
}"""


@pytest.fixture
def tab(browser, live_server):
    context, page, errors = open_tab(browser, live_server.url)
    ready(page)
    yield page
    context.close()
    assert errors == [], f"console errors: {errors}"


def agrees(page, session, playing: bool) -> None:
    """The page's last press is answered, its label and the server say ``playing``; paused,
    a Step then shows the server's own step count (everything before it was handled)."""
    page.wait_for_function(ANSWERED)
    assert page.text_content("#play") == (PAUSE if playing else PLAY)
    assert session.playing is playing
    if not playing:
        page.evaluate("document.getElementById('inspect-summary').textContent = ''")
        page.click("#step")  # shown once the server answered it
        page.wait_for_function("document.getElementById('inspect-summary').textContent !== ''")
        page.wait_for_function(f"{STEP} === {session.trainer.steps}")
        assert session.trainer.steps > 0
        assert not session.playing


def test_pause_held_down_while_a_reset_s_answer_arrives_pauses(tab, live_server):
    """The person sees Pause and presses it; before they let go, the answer to their Reset
    arrives and the label turns to Play. Their click pauses (it used to toggle, and play)."""
    session = session_of(tab, live_server)
    tab.click("#play")
    tab.wait_for_function(f"{STEP} >= 10")
    box = tab.locator("#play").bounding_box()
    assert box is not None
    tab.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    tab.mouse.down()  # pressed while the button says Pause
    assert tab.text_content("#play") == PAUSE
    tab.evaluate("document.getElementById('reset').click()")
    tab.wait_for_function(f"document.getElementById('play').textContent === {PLAY!r}")
    tab.mouse.up()  # released once the Reset's answer said "paused": still a Pause
    agrees(tab, session, playing=False)


def test_play_pressed_twice_at_once_and_double_clicked_ends_paused(tab, live_server):
    session = session_of(tab, live_server)
    tab.evaluate(RECORD_LABELS)
    tab.evaluate("const b = document.getElementById('play'); b.click(); b.click()")
    agrees(tab, session, playing=False)
    tab.dblclick("#play")  # two presses by the pointer: Play, then Pause
    agrees(tab, session, playing=False)
    assert tab.evaluate("window.labels") == [PAUSE, PLAY, PAUSE, PLAY]  # only the presses
    assert tab.evaluate("state.pressed") == 4


def test_presses_between_resets_and_steps_do_what_each_label_said(tab, live_server):
    """Resets and Steps answer "paused" while the presses after them are on their way: the
    label shows only the presses, and the server ends where the last one said."""
    session = session_of(tab, live_server)
    tab.click("#play")
    tab.wait_for_function(f"{STEP} >= 5")
    tab.evaluate(RECORD_LABELS)
    tab.evaluate("""() => {
      const click = (id) => document.getElementById(id).click();
      for (let i = 0; i < 3; i++) { click('reset'); click('play'); click('step'); click('play'); }
      click('reset'); click('play');
    }""")
    # from playing, each press does what the label then said: pause, play, pause, ... (a
    # Step pauses the server, but the label keeps the last press until its answer came)
    agrees(tab, session, playing=False)
    assert tab.evaluate("window.labels") == [PLAY, PAUSE] * 3 + [PLAY]
    assert tab.evaluate("state.pressed") == 8  # with the first Play
