"""The page never hangs, used as an impatient person uses it: the largest network on a slow
(CPU-throttled) page, every control pressed in one burst while it trains, Check gradients
pressed twice and then Pause, a run that diverges at the largest rates, a tab closed while
it trains. Every wait is for an event on the page or the server."""

from __future__ import annotations

import time

import pytest

from .conftest import CAP
from .test_browser import open_tab
from .test_browser_live import STEP, ready

pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.slow  # a browser, a server and training: several seconds each

BIG = "layers=" + "%2C".join(["32relu"] * 6)
LARGEST = (
    "#data=spirals&n=2000&noise=0.2&test=0.3&init=he&opt=adam&lr=0.003&decay=0.9&batch=512"
    f"&reg=l2&rate=0.001&speed=50&seed=0&{BIG}&inputs=x1%2Cx2%2Cx1sq%2Cx2sq%2Cx1x2%2Csinx1%2Csinx2"
)
PAUSED = "document.getElementById('play').textContent.includes('Play') && !state.playing"
# the step of the last Step shown in "Inside one step" (0 before any)
INSPECTED = (
    "Number((/^Step (\\d+):/.exec(document.getElementById('inspect-summary').textContent)"
    " || [0, 0])[1])"
)


def session_of(page, live_server):
    return live_server.app.registry.sessions[page.evaluate("state.session")]


@pytest.fixture
def tab(browser, live_server):
    context, page, errors = open_tab(browser, live_server.url + LARGEST)
    yield page
    context.close()
    assert errors == [], f"console errors: {errors}"


def test_a_slow_page_never_falls_behind_the_server(browser, live_server):
    """A page six times slower than this machine, the largest network: the server is never
    more than the frame in flight and the next one ahead of what the page shows, and Step
    is answered (before, the page fell further behind every second)."""
    context, page, errors = open_tab(browser, live_server.url + LARGEST)
    try:
        page.wait_for_function("document.querySelectorAll('canvas.unit').length === 192")
        context.new_cdp_session(page).send("Emulation.setCPUThrottlingRate", {"rate": 6})
        session = session_of(page, live_server)
        page.click("#play")
        for at_least in (100, 200, 300, 400):
            page.wait_for_function(f"{STEP} >= {at_least}")
            trained = session.trainer.steps  # read first: the page can only have caught up
            shown = int(page.text_content("#step-count"))
            assert trained <= shown + 2 * 50, (trained, shown)
        page.click("#step")
        page.wait_for_function(f"{PAUSED} && document.querySelector(\".tensor[data-name='x']\")")
        page.wait_for_function(f"{STEP} === {session.trainer.steps}")
    finally:
        context.close()
    assert errors == []


def test_every_control_at_once_while_the_largest_network_trains(tab, live_server):
    ready(tab)
    tab.click("#play")
    tab.wait_for_function(f"{STEP} >= 100")
    tab.evaluate("""() => {
      const click = (id) => document.getElementById(id).click();
      const choose = (id, v) => { const s = document.getElementById(id); s.value = v;
                                  s.dispatchEvent(new Event('change')); };
      click('play'); click('play'); click('step'); click('gradcheck'); click('play');
      choose('lr', '10'); choose('optimizer', 'sgd'); choose('batch-size', '1');
      choose('reg', 'l1'); choose('reg-rate', '10'); choose('speed', '1'); choose('lr', '0.001');
      choose('optimizer', 'momentum'); choose('decay', '0.99'); choose('batch-size', '512');
      choose('speed', '50'); choose('reg', 'l2'); choose('reg-rate', '0.0001');
      click('export-script'); click('reset'); click('step'); click('play');
    }""")
    # the burst ends with Reset, Step, Play: one step of the new run, then training from it
    tab.wait_for_function(
        "document.getElementById('inspect-summary').textContent.startsWith('Step 1:')"
    )
    tab.wait_for_function(f"state.playing && {STEP} >= 100")
    tab.click("#play")
    tab.click("#step")  # paused, then one more step: the page ends where the server is
    tab.wait_for_function(f"{INSPECTED} > 100 && {INSPECTED} === {STEP}")
    tab.wait_for_function(
        "document.getElementById('gradcheck-verdict').textContent !== 'checking …'"
    )
    assert not tab.is_disabled("#gradcheck")
    s = session_of(tab, live_server)
    assert not s.playing and s.trainer.steps == int(tab.text_content("#step-count"))
    spec = s.net_spec
    assert (spec.lr, spec.optimizer, spec.decay, spec.batch_size) == (0.001, "momentum", 0.99, 512)
    assert (spec.regularization, spec.reg_rate, s.steps_per_frame) == ("l2", 0.0001, 50)
    assert tab.text_content("#connection") == "connected"


def test_check_gradients_twice_then_pause_while_it_runs(tab, live_server, gated_check):
    gate, started = gated_check
    ready(tab)
    tab.click("#play")
    tab.wait_for_function(f"{STEP} >= 50")
    tab.click("#gradcheck")
    assert tab.is_disabled("#gradcheck")  # one check at a time: the button waits
    assert started.wait(timeout=CAP)
    tab.click("#play")  # pause while the check runs, then a step
    tab.click("#step")
    tab.wait_for_function(f"{INSPECTED} > 50 && {INSPECTED} === {STEP}")
    s = session_of(tab, live_server)
    assert not s.playing and s.trainer.steps == int(tab.text_content("#step-count"))
    assert not gate.is_set()  # answered while the check still runs
    assert tab.text_content("#gradcheck-verdict") == "checking …"
    gate.set()
    tab.wait_for_function("document.getElementById('gradcheck-verdict').textContent === 'PASSED'")
    assert not tab.is_disabled("#gradcheck")
    assert " at step " in tab.text_content("#gradcheck-summary")


def test_a_run_that_diverges_at_the_largest_rates_leaves_every_control_working(
    browser, live_server
):
    context, page, errors = open_tab(
        browser, f"{live_server.url}#data=moons&opt=sgd&lr=10&reg=l2&rate=10&speed=5"
    )
    try:
        ready(page)
        assert page.input_value("#lr") == "10" and page.input_value("#reg-rate") == "10"
        page.click("#play")
        page.wait_for_function("state.frame && state.frame.diverged")
        page.wait_for_function(PAUSED)  # the server stopped the player and said so
        assert "diverged" in page.text_content("#message")
        page.click("#gradcheck")
        page.wait_for_function("!document.getElementById('gradcheck').disabled")
        assert "diverged" in page.text_content("#message")
        page.click("#export-script")
        page.wait_for_function(
            "document.getElementById('message').textContent.includes('press Reset first')"
        )
        page.select_option("#lr", "0.1")  # a tweak does not undo a divergence: Reset does
        page.click("#reset")
        page.wait_for_function(f"{STEP} === 0 && !state.frame.diverged")
        page.click("#play")
        page.wait_for_function(f"{STEP} >= 100")
        page.click("#play")
        page.wait_for_function(PAUSED)
    finally:
        context.close()
    assert errors == []


def test_a_tab_closed_while_it_trains_stops_its_training_and_others_go_on(browser, live_server):
    closing, page, _ = open_tab(browser, live_server.url + LARGEST)
    other, second, errors = open_tab(browser, live_server.url)
    try:
        page.wait_for_function("document.querySelectorAll('canvas.unit').length === 192")
        session = session_of(page, live_server)
        page.click("#play")
        page.wait_for_function(f"{STEP} >= 100")
        closing.close()  # mid-frame: the largest network trains 50 steps a frame
        ready(second)
        for step in (1, 2, 3):
            second.click("#step")
            second.wait_for_function(f"{STEP} === {step}")
        exported = "fetch(`/api/${state.session}/export/script`, {headers: HEADERS})"
        headers = "const HEADERS = {'X-Handgrad-Token': TOKEN}; "
        assert second.evaluate(f"() => {{ {headers} return {exported}.then(r => r.ok); }}")
        registry = live_server.app.registry

        def let_go() -> bool:  # dropped (the page said bye as it closed) or kept, detached
            return session.id not in registry.sessions or session.id in registry.detached

        deadline = time.monotonic() + CAP  # a cap; the loop ends when the server notices
        while not let_go() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert let_go()
        assert not session.playing  # its training stopped with the socket
    finally:
        other.close()
    assert errors == []
