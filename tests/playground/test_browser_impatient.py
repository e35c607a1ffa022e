"""An impatient person on the largest network TensorFlow Playground offers (6 layers of 8, all
seven inputs): a hidden (frozen) tab, double clicks on everything, Reset during a Step, the
largest rates, Back and Forward pressed in a burst, controls used before the page connects.
Each ends in a page that answers and agrees with the server. Waits are for events."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import pytest

from .test_browser import open_tab
from .test_browser_live import STEP, ready
from .test_browser_view import session_of

pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.slow  # a browser, a server and training: several seconds each

ALL_INPUTS = "inputs=x1%2Cx2%2Cx1sq%2Cx2sq%2Cx1x2%2Csinx1%2Csinx2"
SIX_BY_EIGHT = (
    "#data=spirals&n=500&noise=0.2&test=0.3&init=xavier&opt=adam&lr=0.03&batch=16&reg=none"
    "&rate=0.001&speed={speed}&seed=0&layers=" + "%2C".join(["8tanh"] * 6) + "&" + ALL_INPUTS
)
PAUSED = "document.getElementById('play').textContent.includes('Play') && !state.playing"
STEP_THEN_RESET = (
    "document.getElementById('step').click(); document.getElementById('reset').click()"
)
SUMMARY = "document.getElementById('inspect-summary').textContent"
UNITS = "document.querySelectorAll('canvas.unit').length === 48"
NO_STEP_DUE = "!state.stepping && state.moreSteps === 0"


def settle(page) -> None:
    """Wait until the server has handled everything sent so far: a Step after it is shown."""
    page.evaluate("document.getElementById('inspect-summary').textContent = ''")
    page.click("#step")
    page.wait_for_function("document.getElementById('inspect-summary').textContent !== ''")


def pause_if_playing(page) -> None:
    """Press Pause if the page shows the run playing, tested and clicked in one turn of the
    page's own thread: from Python the two are two round trips, and a ``status`` arriving
    between them (the server's answer to a Reset, a new data set) turned a Pause into a Play
    (fresh-clone CI under load: the page played on and never showed Play within 120 s)."""
    page.evaluate("if (state.playing) document.getElementById('play').click()")


def agrees(page, session) -> None:
    """The page shows what the server holds: paused, the same step, the same configuration
    (after a Step: the server has handled everything sent before it, the Pause included)."""
    page.wait_for_function(PAUSED)
    settle(page)
    page.wait_for_function(f"{STEP} === {session.trainer.steps}")
    assert not session.playing
    assert page.evaluate("state.hidden") == session.net_spec.hidden
    assert page.evaluate("state.data") == session.data_spec.name
    assert page.evaluate("state.draw") == session.data_spec.draw
    assert float(page.input_value("#lr")) == session.net_spec.lr
    assert page.text_content("#connection") == "connected"


@pytest.fixture
def big(browser, live_server):
    context, page, errors = open_tab(browser, live_server.url + SIX_BY_EIGHT.format(speed=20))
    yield context, page
    context.close()
    assert errors == [], f"console errors: {errors}"


def test_a_frozen_tab_is_sent_one_frame_then_answers_at_once_when_back(big, live_server):
    """Chrome may freeze a hidden tab: its JavaScript stops (here: paused in the debugger, as
    headless Chromium does not freeze tabs). A frozen page draws nothing, so the server trains
    at most the frame in flight and the next one, then waits; another tab is served as usual;
    back, the page draws, trains on and answers Pause."""
    context, page = big
    page.wait_for_function(UNITS)
    session = session_of(page, live_server)
    page.click("#play")
    page.wait_for_function(f"{STEP} >= 100")
    cdp = context.new_cdp_session(page)
    cdp.send("Debugger.enable")
    cdp.send("Debugger.pause")  # stops at the page's next statement: its next message
    at_freeze = session.trainer.steps
    other, second, errors = open_tab(context.browser, live_server.url)
    try:  # meanwhile another tab works normally
        ready(second)
        for step in (1, 2, 3, 4, 5):
            second.click("#step")
            second.wait_for_function(f"{STEP} === {step}")
    finally:
        other.close()
    assert errors == []
    assert session.trainer.steps <= at_freeze + 3 * 20, (session.trainer.steps, at_freeze)
    cdp.send("Debugger.resume")
    page.wait_for_function(f"{STEP} > {at_freeze}")  # it draws again and training goes on
    page.click("#play")
    agrees(page, session)


def test_double_clicks_on_every_control_while_it_trains(big, live_server):
    _, page = big
    page.wait_for_function(UNITS)
    session = session_of(page, live_server)
    page.click("#play")
    page.wait_for_function(f"{STEP} >= 60")
    for selector in ["#play", "#step", "#regenerate", "#gradcheck", "#remove-layer",
                     "#layers button[aria-label='more units']", "#add-layer", "#data-xor",
                     "#reset", "#play", "#step", "#copy-link", "#export-script",
                     "canvas.input[data-feature='x1x2']", "canvas.unit"]:  # fmt: skip
        page.locator(selector).first.dblclick()
    page.wait_for_function("!document.getElementById('gradcheck').disabled")
    pause_if_playing(page)
    agrees(page, session)
    assert session.data_spec.name == "xor" and page.locator("canvas.unit").count() == sum(
        session.net_spec.hidden
    )
    fragment = parse_qs(urlsplit(page.url).fragment)
    assert fragment["layers"] == [",".join(f"{w}tanh" for w in session.net_spec.hidden)]
    assert (
        page.evaluate("state.inputs")
        == session.data_spec.inputs
        == fragment["inputs"][0].split(",")
    )


def test_reset_during_a_step_and_a_step_during_a_reset(big, live_server):
    _, page = big
    page.wait_for_function(UNITS)
    session = session_of(page, live_server)
    for _ in range(3):
        page.evaluate(STEP_THEN_RESET)
    page.click("#step")  # after the last Reset: the run's first step again
    # (an answer to a Step sent before the last Reset also reads "Step 1": wait until no Step
    # is on its way or held, so the one shown is this click's)
    page.wait_for_function(f"{SUMMARY}.startsWith('Step 1:') && {STEP} === 1 && {NO_STEP_DUE}")
    assert session.trainer.steps == 1
    page.evaluate(f"{SUMMARY} = ''")
    page.evaluate(
        "document.getElementById('reset').click(); document.getElementById('step').click()"
    )
    page.wait_for_function(f"{SUMMARY}.startsWith('Step 1:') && {STEP} === 1")
    page.click("#play")
    page.wait_for_function(f"{STEP} >= 100")
    page.evaluate(STEP_THEN_RESET)
    page.wait_for_function(f"{STEP} === 0 && {PAUSED}")
    assert session.trainer.steps == 0 and not session.playing


def test_the_largest_rates_on_six_by_eight_then_every_control_still_works(browser, live_server):
    link = live_server.url + SIX_BY_EIGHT.format(speed=20)
    link = link.replace("opt=adam&lr=0.03", "opt=sgd&lr=10").replace(
        "reg=none&rate=0.001", "reg=l2&rate=10"
    )
    context, page, errors = open_tab(browser, link)
    try:
        page.wait_for_function(UNITS)
        session = session_of(page, live_server)
        page.click("#play")
        page.wait_for_function("state.frame && state.frame.diverged")
        page.wait_for_function(PAUSED)
        assert "diverged" in page.text_content("#message")
        page.click("#regenerate")  # new points: the diverged run stays diverged
        page.select_option("#lr", "0.03")
        page.select_option("#reg-rate", "0.001")
        page.go_back()  # Back: the rate λ 10 again
        page.wait_for_function("document.getElementById('reg-rate').value === '10'")
        page.click("#gradcheck")
        page.wait_for_function("!document.getElementById('gradcheck').disabled")
        page.select_option("#reg-rate", "0")
        page.click("#reset")
        page.wait_for_function(f"{STEP} === 0 && !state.frame.diverged")
        page.click("#play")
        page.wait_for_function(f"{STEP} >= 100")
        page.click("#play")
        agrees(page, session)
        assert session.data_spec.draw == 1 and session.net_spec.reg_rate == 0.0
        assert not session.trainer.diverged
    finally:
        context.close()
    assert errors == []


def test_back_and_forward_in_a_burst_while_it_trains_end_where_the_url_says(big, live_server):
    _, page = big
    page.click("#regenerate")  # before the page is connected: queued, then sent
    page.wait_for_function(UNITS)
    session = session_of(page, live_server)
    page.click("#play")
    for lr in ("0.1", "0.001", "0.3"):
        page.select_option("#lr", lr)
    page.click("#data-moons")
    # a new data set resets, which stops the player: Play means play only once the page
    # shows that (clicked before, it is the Pause of the run still shown as playing)
    page.wait_for_function("!state.playing")
    page.click("#play")
    page.wait_for_function(f"{STEP} >= 40")
    for press in ("back", "back", "forward", "back"):  # each the moment the last one landed
        before = page.evaluate("location.hash")
        page.evaluate(f"history.{press}()")
        page.wait_for_function(f"location.hash !== {before!r}")
    page.wait_for_function("location.hash.includes('lr=0.001')")
    page.wait_for_function("document.getElementById('lr').value === '0.001'")
    pause_if_playing(page)
    agrees(page, session)
    fragment = parse_qs(urlsplit(page.url).fragment)
    assert (fragment["data"], fragment["lr"], fragment["draw"]) == (["spirals"], ["0.001"], ["1"])
    assert session.net_spec.lr == 0.001 and session.data_spec.draw == 1


def test_a_hand_edited_link_is_held_to_the_page_s_limits(browser, live_server):
    layers = "%2C".join(["999relu", "3foo", "0tanh", *["8relu"] * 6])
    context, page, errors = open_tab(browser, f"{live_server.url}#data=xor&layers={layers}")
    try:
        page.wait_for_function("document.querySelectorAll('canvas.unit').length === 65")
        session = session_of(page, live_server)
        settle(page)
        assert session.net_spec.hidden == [32, 1, 8, 8, 8, 8]
        assert session.net_spec.activations == ["relu", "tanh", "relu", "relu", "relu", "relu"]
        assert page.is_hidden("#message")  # nothing refused: the link was read within limits
        agrees(page, session)
    finally:
        context.close()
    assert errors == []


def test_thirty_clicks_on_regenerate_cost_the_server_two_configurations(big, live_server):
    """Settings changed before the server answered the last ones go as one: the first click's
    draw, then the thirtieth's (before, all thirty were worked through in turn, each
    stopping and restarting the player: on the largest network a Pause pressed after them
    was answered after 19 s at load 12)."""
    _, page = big
    page.wait_for_function(UNITS)
    session = session_of(page, live_server)
    page.click("#play")
    page.wait_for_function(f"{STEP} >= 40")
    page.evaluate("for (let i = 0; i < 30; i++) document.getElementById('regenerate').click()")
    page.click("#play")
    agrees(page, session)
    assert [change["draw"] for change in session.log if "draw" in change] == [1, 30]
    assert "draw=30" in page.url and page.evaluate("state.draw") == 30


def test_an_action_right_after_a_burst_of_settings_runs_with_the_last_of_them(big, live_server):
    """Settings held back while the server answers the first ones go out before the next
    action: a Step clicked right after batch size 4 then 32 is a step of 32 rows."""
    _, page = big
    page.wait_for_function(UNITS)
    session = session_of(page, live_server)
    page.evaluate("""() => {
      const choose = (id, v) => { const s = document.getElementById(id); s.value = v;
                                  s.dispatchEvent(new Event('change')); };
      document.getElementById('inspect-summary').textContent = '';
      choose('batch-size', '4'); choose('lr', '0.3'); choose('batch-size', '32');
      document.getElementById('step').click();
    }""")
    page.wait_for_function(f"{SUMMARY}.startsWith('Step 1: a minibatch of 32 rows')")
    assert (session.net_spec.batch_size, session.net_spec.lr) == (32, 0.3)
    assert session.trainer.steps == 1


# The page fits the window: no sideways scroll, every node inside the drawing, the weights'
# canvas as wide as the drawing.
FITS = """() => {
  const box = document.getElementById('netdraw'), W = box.clientWidth;
  const nodes = [...box.querySelectorAll('canvas.unit, canvas.input')];
  return document.documentElement.scrollWidth <= window.innerWidth
    && nodes.every((c) => c.offsetLeft >= 0 && c.offsetLeft + c.offsetWidth <= W)
    && document.getElementById('net-canvas').clientWidth === W;
}"""


def test_resized_to_phone_width_and_back_while_it_trains(big, live_server):
    _, page = big
    page.wait_for_function(UNITS)
    session = session_of(page, live_server)
    page.click("#play")
    page.wait_for_function(f"{STEP} >= 40")
    for width in (400, 1400, 400, 360):
        page.set_viewport_size({"width": width, "height": 900})
        step = page.evaluate("state.frame.step")
        page.wait_for_function(f"state.frame.step > {step}")  # it trains and draws on
        assert page.evaluate(FITS), width
        assert page.locator("canvas.unit").count() == 48
    page.click("#play")
    agrees(page, session)


def test_four_tabs_train_at_once_and_each_answers(browser, live_server):
    link = live_server.url + SIX_BY_EIGHT.format(speed=5)
    opened = [open_tab(browser, link) for _ in range(4)]
    try:
        for _, page, _ in opened:
            page.wait_for_function(UNITS)
            page.click("#play")
        for _, page, _ in opened:
            page.wait_for_function(f"{STEP} >= 40")
        for _, page, _ in opened:
            page.click("#play")
            agrees(page, session_of(page, live_server))
    finally:
        for context, _, _ in opened:
            context.close()
    assert [errors for _, _, errors in opened] == [[]] * 4


def test_a_tab_beyond_the_last_session_slot_says_so_at_once(browser, monkeypatch):
    """Every session slot taken: the next tab says why and stops trying (it used to retry for
    half a minute, then blame a stopped server), and the open tabs work on."""
    import handgrad.playground.app as app_module
    from handgrad.playground import create_app

    from .conftest import LiveServer

    monkeypatch.setattr(app_module, "MAX_SESSIONS", 2)
    server = LiveServer(create_app())
    contexts = []
    try:
        for _ in range(2):
            context, page, errors = open_tab(browser, server.url)
            contexts.append(context)
            ready(page)
        context, extra, _ = open_tab(browser, server.url)
        contexts.append(context)
        extra.wait_for_function(
            "document.getElementById('connection').textContent === 'too many tabs'"
        )
        assert "close one" in extra.text_content("#message") and extra.is_visible("#message")
        page.click("#step")
        page.wait_for_function(f"{STEP} === 1")
        assert len(server.app.registry.sessions) == 2 and errors == []
    finally:
        for context in contexts:
            context.close()
        server.stop()


def test_controls_used_before_the_session_exists_wait_for_it(browser, tmp_path):
    """The server is slow to make the tab's session (held here until the test lets it go):
    Play, a layer more, an export and a CSV chosen meanwhile are not lost and do not fail
    with a "reload the page" error; once the session exists they happen in order."""
    import threading

    from handgrad.playground import create_app

    from .conftest import CAP, LiveServer

    server = LiveServer(create_app())
    gate, real = threading.Event(), server.app.registry.create
    server.app.registry.create = lambda: gate.wait(CAP) and real()
    table = tmp_path / "early.csv"
    table.write_text("a,b,y\n" + "\n".join(f"{i % 7},{i % 5},{i % 2}" for i in range(60)) + "\n")
    context, page, errors = open_tab(browser, server.url + "#data=xor&layers=4tanh")
    try:
        page.wait_for_function("typeof state === 'object' && !state.session")  # scripts ran
        page.click("#add-layer")
        page.click("#play")
        page.click("#export-script")
        assert "still connecting" in page.text_content("#message")
        page.set_input_files("#csv-file", str(table))
        assert "waiting for the connection" in page.text_content("#csv-status")
        assert page.text_content("#connection") == "connecting…"
        gate.set()
        page.wait_for_function(
            "document.getElementById('csv-status').textContent.includes('60 rows')"
        )
        page.wait_for_function(f"{STEP} >= 20")  # the Play pressed early trains
        session = session_of(page, server)
        assert session.net_spec.hidden == [4, 4] and session.data_spec.name == "xor"
        page.click("#play")
        agrees(page, session)
    finally:
        context.close()
        gate.set()
        server.stop()
    assert errors == []


def test_twenty_clicks_on_step_are_twenty_steps_in_two_round_trips(big, live_server):
    """Step clicks made while a step is answered go as one message of that many steps: each
    click is still one training step and the last is shown inside (before, each click was a
    round trip with every tensor of the largest network: 20 clicks took 9 s at load 15)."""
    _, page = big
    page.wait_for_function(UNITS)
    session = session_of(page, live_server)
    asked, real = [], session.step
    session.step = lambda count=1: asked.append(count) or real(count)
    page.evaluate("for (let i = 0; i < 20; i++) document.getElementById('step').click()")
    page.wait_for_function(f"{SUMMARY}.startsWith('Step 20:') && {STEP} === 20")
    assert asked == [1, 19] and session.trainer.steps == 20
    page.evaluate("for (let i = 0; i < 3; i++) document.getElementById('step').click()")
    page.click("#play")  # held steps go before the Play
    page.wait_for_function(f"{STEP} > 23")
    assert asked[2:] == [1, 2]
    page.click("#play")
    agrees(page, session)


def test_a_weight_box_open_when_the_network_changes_closes_instead_of_naming_a_gone_weight(
    big, live_server
):
    """A weight of the last layer is open for editing; the learner removes every hidden
    layer: that weight no longer exists, so its box closes (before, it stayed, and *set*
    answered with an error about a layer index the learner never typed)."""
    _, page = big
    page.wait_for_function(UNITS)
    page.evaluate("send({type: 'weight', layer: 6, i: 7, j: 0})")
    page.wait_for_selector("#weight-detail:not([hidden])")
    page.evaluate("for (let k = 0; k < 6; k++) document.getElementById('remove-layer').click()")
    page.wait_for_function("document.getElementById('sizes').textContent === '7 – 1'")
    assert page.is_hidden("#weight-detail") and page.evaluate("state.weight") is None
    session = session_of(page, live_server)
    agrees(page, session)
    assert session.net_spec.hidden == []


def test_a_reloaded_then_closed_tab_gives_its_sessions_back_at_once(browser, live_server):
    """Reload and close say ``bye`` as the page goes (pagehide): the server drops those runs
    at once instead of keeping them for a page that cannot come back."""
    context, page, errors = open_tab(browser, live_server.url)
    sessions = live_server.app.registry.sessions
    try:
        ready(page)
        first = page.evaluate("state.session")
        page.click("#play")
        page.wait_for_function(f"{STEP} >= 10")
        page.reload()
        ready(page)
        second = page.evaluate("state.session")
        assert second != first
        gone(sessions, first)
        page.close()
        gone(sessions, second)
    finally:
        context.close()
    assert errors == []


def gone(sessions: dict, session: str) -> None:
    """Wait until the server has dropped ``session`` (it does when the socket closes)."""
    deadline = time.monotonic() + 120  # a cap for a loaded machine; the loop ends on the event
    while session in sessions and time.monotonic() < deadline:
        time.sleep(0.02)
    assert session not in sessions
