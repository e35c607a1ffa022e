"""The impatient first second: buttons pressed before the page's scripts have loaded count.
The scripts are held by the test (a Playwright route) until the clicks were made; the page's
head script keeps them and the page presses them once it is wired. Waits are for events."""

from __future__ import annotations

import pytest

from .test_browser_live import STEP
from .test_browser_view import session_of

pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.slow  # a browser, a server and training: several seconds each

LOADED = "typeof state !== 'undefined'"  # the page's scripts have run
SCRIPTS = ("charts.js", "draw.js", "inside.js", "link.js", "app.js")  # the body's, not early.js


class HeldScripts:
    """Holds every request for the page's body scripts until ``release()``."""

    def __init__(self, context) -> None:
        self.held: list = []
        self.released = False
        context.route("**/static/*.js", self.route)

    def route(self, route) -> None:
        if self.released or not route.request.url.endswith(SCRIPTS):
            route.continue_()
        else:
            self.held.append(route)

    def release(self) -> None:
        self.released = True
        held, self.held = self.held, []
        for route in held:
            route.continue_()


@pytest.fixture
def early_tab(browser, live_server):
    """(page, held scripts, console errors): the page's HTML shown, its scripts held."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, bypass_csp=True)
    context.set_default_timeout(120_000)  # waits are for events; this caps them on a loaded CI
    held = HeldScripts(context)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    with page.expect_request(lambda r: r.url.endswith("/static/app.js")):
        page.goto(live_server.url, wait_until="commit")
    page.wait_for_selector("#play")
    yield page, held, errors
    held.release()
    context.close()
    assert errors == [], f"console errors: {errors}"


def not_loaded(page) -> bool:
    return page.evaluate("typeof state === 'undefined' && typeof connect === 'undefined'")


def test_step_pressed_three_times_before_the_scripts_load_is_three_steps(early_tab, live_server):
    page, held, _ = early_tab
    for _ in range(3):
        page.click("#step")
    assert not_loaded(page)  # the clicks were made on the bare HTML
    assert page.evaluate("window.earlyClicks") == ["step", "step", "step"]
    held.release()
    page.wait_for_function(f"{LOADED} && {STEP} === 3 && !state.stepping && !state.moreSteps")
    page.wait_for_function("document.getElementById('inspect-summary').textContent !== ''")
    session = session_of(page, live_server)
    assert session.trainer.steps == 3 and not session.playing
    assert page.evaluate("window.earlyClicks") == []  # pressed once each, then let go


def test_play_pressed_before_the_scripts_load_trains_and_pause_then_answers(early_tab, live_server):
    page, held, _ = early_tab
    page.click("#play")
    page.click("#add-layer")  # a setting too: the run trains on the network asked for
    assert not_loaded(page)
    held.release()
    page.wait_for_function(f"{LOADED} && state.playing && {STEP} >= 20")
    session = session_of(page, live_server)
    assert session.playing and session.net_spec.hidden == [8, 8, 4]
    page.click("#play")
    page.wait_for_function(
        "!state.playing && document.getElementById('play').textContent.includes('Play')"
    )
    page.click("#step")  # answered after the pause: the server has handled everything before
    page.wait_for_function(f"{STEP} === {session.trainer.steps} && !state.stepping")
    assert not session.playing
