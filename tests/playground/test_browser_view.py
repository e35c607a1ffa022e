"""Regularization, "show test data" and "discretize output" in a real browser, used the way an
impatient person uses them: while training, twice in a row, before the page is connected, and
from a link written before L1 existed. The pictures are checked pixel by pixel on the canvas.
"""

from __future__ import annotations

import pytest

import handgrad as hg

from .test_browser import open_tab
from .test_browser_live import STEP, playing, ready

pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.slow  # a browser, a server and training: several seconds each

# The region canvas, cell by cell (the centre of each of the grid's cells, away from every
# drawn point and the axis names): how many cells match the picture regionImage() makes for
# the current frame in the given mode, and how many colours the cells show. Discretized, the
# cells are copied without smoothing (a match to 0 or 1 of 255: rounding); shaded, the
# smoothing blends a cell's centre a little with its neighbours.
REGION = """([discrete, tolerance]) => {
  const f = state.frame, d = state.dataset, canvas = document.getElementById('region');
  const w = canvas.clientWidth, h = canvas.clientHeight, ratio = canvas.width / w, g = f.grid;
  const shown = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  const expected = regionImage(f, d, discrete).data;
  const [x0, x1, y0, y1] = d.bounds;
  const points = d.points.map(([x, y]) =>
    [(x - x0) / (x1 - x0) * w, (1 - (y - y0) / (y1 - y0)) * h]);
  // regression: each point's residual tick runs from it to y - r (see drawResiduals)
  const span = f.value_range ? (f.value_range[1] - f.value_range[0]) || 1 : 0;
  const ticks = f.fitted ? points.map(([px, py], i) =>
    [px, py, py - (d.values[i] - f.fitted[i]) / span * h * 0.25]) : [];
  const nearTick = (X, Y) => ticks.some(([px, a, b]) =>
    Math.abs(px - X) < 9 && Y > Math.min(a, b) - 9 && Y < Math.max(a, b) + 9);
  const nearPoint = (X, Y) => points.some(([px, py]) => Math.hypot(px - X, py - Y) < 9);
  let checked = 0, same = 0;
  const colours = new Set();
  for (let r = 0; r < g; r++) for (let c = 0; c < g; c++) {
    const X = (c + 0.5) * w / g, Y = (r + 0.5) * h / g;
    if (X < 24 || Y > h - 18 || nearPoint(X, Y) || nearTick(X, Y)) continue;
    const k = (Math.floor(Y * ratio) * canvas.width + Math.floor(X * ratio)) * 4;
    const e = (r * g + c) * 4;
    checked += 1;
    if ([0, 1, 2].every((j) => Math.abs(shown[k + j] - expected[e + j]) <= tolerance)) same += 1;
    colours.add(`${shown[k]},${shown[k + 1]},${shown[k + 2]}`);
  }
  return { checked, same, colours: colours.size, step: f.step };
}"""

# The centre pixel of every test (or training) point that no other point comes near.
POINT_CENTRES = """(test) => {
  const d = state.dataset, canvas = document.getElementById('region');
  const w = canvas.clientWidth, h = canvas.clientHeight, ratio = canvas.width / w;
  const shown = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  const [x0, x1, y0, y1] = d.bounds;
  const at = d.points.map(([x, y]) => [(x - x0) / (x1 - x0) * w, (1 - (y - y0) / (y1 - y0)) * h]);
  const out = [];
  at.forEach(([X, Y], i) => {
    if ((d.test[i] === 1) !== test || X < 24 || Y > h - 18 || X > w - 4 || Y < 4) return;
    if (at.some(([x, y], j) => j !== i && Math.hypot(x - X, y - Y) < 10)) return;
    const k = (Math.floor(Y * ratio) * canvas.width + Math.floor(X * ratio)) * 4;
    out.push({ label: d.labels[i], rgb: [shown[k], shown[k + 1], shown[k + 2]] });
  });
  return out;
}"""

WHITE = [255, 255, 255]
BINARY = {0: [0xE8, 0x74, 0x3B], 1: [0x1F, 0x77, 0xB4]}  # the page's two class colours


def region(page, discrete: bool) -> dict:
    return page.evaluate(REGION, [discrete, 1 if discrete else 24])


def session_of(page, live_server):
    return live_server.app.registry.sessions[page.evaluate("state.session")]


def drawn_after(page, step: int) -> None:
    """Wait until the page has drawn a frame of a later step."""
    page.wait_for_function(f"state.frame && state.frame.step > {step}")


@pytest.fixture
def tab(browser, live_server):
    context, page, errors = open_tab(browser, live_server.url)
    yield page
    context.close()
    assert errors == [], f"console errors: {errors}"


def test_discretize_while_training_draws_hard_class_regions_and_trains_on(tab, live_server):
    ready(tab)
    tab.select_option("#speed", "10")
    tab.click("#play")
    tab.wait_for_function(f"{STEP} >= 50")
    shaded = region(tab, False)
    assert shaded["same"] == shaded["checked"] > 1000 and shaded["colours"] > 20
    tab.check("#discretize")
    hard = region(tab, True)  # redrawn at once from the last frame
    assert hard["same"] == hard["checked"] > 1000 and hard["colours"] == 2
    drawn_after(tab, hard["step"])  # the next frames are drawn the same way
    later = region(tab, True)
    assert later["step"] > hard["step"] and later["same"] == later["checked"]
    assert later["colours"] == 2
    assert playing(tab) and "regions: the predicted class" in tab.text_content("#region-legend")
    assert "discretize=1" in tab.evaluate("location.hash")
    s = session_of(tab, live_server)
    assert s.log == [] and s.trainer.steps >= later["step"]  # the server heard nothing of it
    tab.click("#play")


def test_toggled_twice_quickly_ends_where_it_started(tab):
    ready(tab)
    tab.select_option("#speed", "5")
    tab.click("#play")
    tab.wait_for_function(f"{STEP} >= 20")
    tab.evaluate("""() => { for (const id of ['discretize', 'show-test', 'discretize', 'show-test'])
                              document.getElementById(id).click(); }""")
    assert tab.evaluate("[state.view.discrete, state.view.showTest]") == [False, True]
    assert tab.is_checked("#show-test") and not tab.is_checked("#discretize")
    step = region(tab, False)["step"]
    drawn_after(tab, step)
    after = region(tab, False)
    assert after["same"] == after["checked"] and after["colours"] > 20
    assert any(c["rgb"] == WHITE for c in tab.evaluate(POINT_CENTRES, True))  # rings are back
    assert "showtest=1" in tab.evaluate("location.hash")
    assert "discretize=0" in tab.evaluate("location.hash")
    tab.click("#play")


def test_show_test_data_hides_and_shows_the_test_points_only(tab):
    ready(tab)
    tab.check("#discretize")  # known region colours, never white
    tab.click("#step")
    tab.wait_for_function("state.frame && state.frame.step === 1")
    test_points = tab.evaluate(POINT_CENTRES, True)
    train_points = tab.evaluate(POINT_CENTRES, False)
    assert len(test_points) >= 5 and len(train_points) >= 20  # points with no neighbour near
    assert all(p["rgb"] == WHITE for p in test_points)  # a test point: a white disc, ringed
    assert all(p["rgb"] == BINARY[p["label"]] for p in train_points)
    tab.uncheck("#show-test")
    hidden = tab.evaluate(POINT_CENTRES, True)
    regions = [[round(255 + (c - 255) * 0.5) for c in rgb] for rgb in BINARY.values()]
    assert all(p["rgb"] in regions for p in hidden)  # only the region's colour there
    assert tab.evaluate(POINT_CENTRES, False) == train_points  # the training points stay
    assert "training points only" in tab.text_content("#region-legend")
    assert tab.text_content("#step-count") == "1"  # nothing trained
    tab.check("#show-test")
    assert tab.evaluate(POINT_CENTRES, True) == test_points


def test_discretized_multiclass_and_regression(tab):
    ready(tab)
    tab.check("#discretize")
    tab.click("#data-blobs")
    tab.wait_for_function("state.dataset.classes && state.dataset.classes.length === 3")
    tab.click("#step")
    tab.wait_for_function("state.frame && state.frame.step === 1 && state.frame.region_class")
    blobs = region(tab, True)
    classes = tab.evaluate("new Set(Array.from(Charts.decode(state.frame.region_class))).size")
    assert blobs["same"] == blobs["checked"] and 2 <= blobs["colours"] <= classes <= 3
    tab.click("#data-bump")
    tab.wait_for_function("state.dataset.task === 'regression'")
    tab.select_option("#speed", "20")
    tab.click("#play")
    tab.wait_for_function(f"{STEP} >= 300 && state.frame.region_value")
    tab.click("#play")
    bump = region(tab, True)
    assert bump["same"] == bump["checked"] and 3 <= bump["colours"] <= 8
    assert "8 bands" in tab.text_content("#region-legend")
    tab.click("#data-sine")  # a curve: nothing to discretize
    tab.wait_for_function("state.dataset.curve === true")
    assert tab.is_hidden("#discretize-box") and tab.is_visible("#show-test")


def test_regularization_changed_while_running_is_marked_and_trains_on(tab, live_server):
    ready(tab)
    tab.select_option("#speed", "10")
    tab.click("#play")
    tab.wait_for_function(f"{STEP} >= 40")
    tab.select_option("#reg", "l1")
    tab.select_option("#reg-rate", "0.03")
    tab.wait_for_function("state.marks.length === 2")
    tab.select_option("#reg", "l2")
    tab.wait_for_function("state.marks.length === 3")
    marks = tab.evaluate("state.marks")
    assert [m["label"] for m in marks] == [
        "regularization → L1",
        "regularization rate → 0.03",
        "regularization → L2",
    ]
    assert 40 <= marks[0]["step"] <= marks[1]["step"] <= marks[2]["step"]
    tab.wait_for_function(f"{STEP} > {marks[2]['step'] + 20}")  # the run goes on
    assert playing(tab)
    tab.click("#play")
    s = session_of(tab, live_server)
    assert type(s.trainer.penalty) is hg.L2Penalty and s.trainer.penalty.lam == 0.03
    assert [r["step"] for r in s.log] == [m["step"] for m in marks]
    link = tab.evaluate("location.hash")
    assert "reg=l2" in link and "rate=0.03" in link
    tab.click("#step")
    tab.wait_for_selector(".tensor[data-name='dW1']")
    assert "db (plus L2 0.03·W)." in tab.text_content("#inspect-summary")


def test_settings_chosen_before_the_page_is_connected_are_the_ones_used(tab, live_server):
    tab.select_option("#reg", "l1")  # the page has loaded; its socket may not be open yet
    tab.select_option("#reg-rate", "0.1")
    tab.check("#discretize")
    tab.uncheck("#show-test")
    tab.click("#play")
    tab.wait_for_function(f"{STEP} >= 10")
    tab.click("#play")
    s = session_of(tab, live_server)
    assert type(s.trainer.penalty) is hg.L1Penalty and s.trainer.penalty.lam == 0.1
    hard = region(tab, True)  # early on, one class may cover the whole plane
    assert hard["same"] == hard["checked"] > 1000 and hard["colours"] in (1, 2)
    assert not any(p["rgb"] == WHITE for p in tab.evaluate(POINT_CENTRES, True))
    tab.click("#step")
    tab.wait_for_selector(".tensor[data-name='dW1']")
    assert "db (plus L1 0.1·sign(W))." in tab.text_content("#inspect-summary")


@pytest.mark.parametrize(
    ("old", "kind", "rate"),
    [("l2=0.01", "l2", "0.01"), ("l2=0.0001", "l2", "0.0001"), ("l2=0", "none", "0.001")],
)
def test_a_link_from_before_l1_opens_as_l2(browser, live_server, old, kind, rate):
    link = (
        f"{live_server.url}#data=moons&n=500&noise=0.2&classes=3&test=0.3&init=xavier&opt=adam"
        f"&lr=0.03&decay=0.9&batch=16&{old}&speed=5&seed=0&layers=8tanh%2C8tanh&inputs=x1%2Cx2"
    )
    context, page, errors = open_tab(browser, link)
    try:
        ready(page)
        assert page.input_value("#reg") == kind and page.input_value("#reg-rate") == rate
        assert page.is_checked("#show-test") and not page.is_checked("#discretize")
        page.click("#step")
        page.wait_for_function("state.frame && state.frame.step === 1")
        penalty = session_of(page, live_server).trainer.penalty
        if kind == "none":
            assert penalty is None
        else:
            assert type(penalty) is hg.L2Penalty and penalty.lam == float(rate)
        page.click("#copy-link")
        link = page.input_value("#share-link")
        assert f"reg={kind}&rate={rate}" in link and "l2=" not in link
    finally:
        context.close()
    assert errors == []


def test_a_link_keeps_the_view(browser, live_server):
    link = f"{live_server.url}#data=circles&reg=l1&rate=0.003&showtest=0&discretize=1"
    context, page, errors = open_tab(browser, link)
    try:
        ready(page)
        assert page.input_value("#reg") == "l1" and page.input_value("#reg-rate") == "0.003"
        assert page.is_checked("#discretize") and not page.is_checked("#show-test")
        page.wait_for_function("state.frame && state.dataset && state.frame.region_class")
        hard = region(page, True)
        assert hard["same"] == hard["checked"] and hard["colours"] <= 2
    finally:
        context.close()
    assert errors == []


# A unit's (or an input's) square, cell by cell: 1 where it is the full blue of "on", 0 where
# the full orange of "off", -1 for any other colour; and the RGB of every cell.
SQUARE = """(selector) => {
  const c = document.querySelector(selector), n = c.width * c.height;
  const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  const rgb = Array.from({ length: n }, (_, i) => [px[i * 4], px[i * 4 + 1], px[i * 4 + 2]]);
  const key = (c) => c.join();
  const cells = rgb.map((c) => key(c) === '31,119,180' ? 1 : key(c) === '232,116,59' ? 0 : -1);
  return { cells, rgb };
}"""

# The large picture of the hovered unit at the centre of each of its cells.
LARGE = """(g) => {
  const c = document.getElementById('unit-large'), s = c.width / g, cells = [];
  const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  for (let r = 0; r < g; r++) for (let q = 0; q < g; q++) {
    const k = (Math.floor((r + 0.5) * s) * c.width + Math.floor((q + 0.5) * s)) * 4;
    cells.push(px[k] === 31 && px[k + 1] === 119 && px[k + 2] === 180 ? 1
      : px[k] === 232 && px[k + 1] === 116 && px[k + 2] === 59 ? 0 : -1);
  }
  return cells;
}"""


def test_discretized_units_show_where_each_is_switched_on(browser, live_server):
    """Discretize output draws every hidden unit (and the hovered one, large) in two colours:
    blue where its z = x W + b is above 0, for ReLU, tanh and sigmoid alike (a sigmoid's output
    is never negative: its sign would paint the whole square blue)."""
    from handgrad.playground.pictures import COARSE, activations

    link = (f"{live_server.url}#data=circles&noise=0.1&layers=4relu%2C3sigmoid%2C2tanh"
            "&inputs=x1%2Cx2%2Cx1sq%2Cx2sq&speed=20&discretize=1")  # fmt: skip
    context, page, errors = open_tab(browser, link)
    try:
        ready(page)
        page.click("#play")
        page.wait_for_function(f"{STEP} >= 200")
        page.click("#play")
        page.click("#step")  # paused on a known step: the page shows the server's weights
        page.wait_for_selector(".tensor[data-name='x']")
        session = session_of(page, live_server)
        page.wait_for_function(f"{STEP} === {session.trainer.steps}")
        _, _, pre = activations(session.trainer.model, session.grid[COARSE])
        for layer, z in enumerate(pre, start=1):
            for unit in range(z.shape[1]):
                shown = page.evaluate(
                    SQUARE, f"canvas.unit[data-layer='{layer}'][data-unit='{unit}']"
                )
                assert shown["cells"] == (z[:, unit] > 0).astype(int).tolist(), (layer, unit)
        page.hover("canvas.unit[data-layer='2'][data-unit='1']")  # a sigmoid unit, large
        page.wait_for_selector("#unit-detail:not([hidden])")
        assert page.evaluate(LARGE, 30) == (pre[1][:, 1] > 0).astype(int).tolist()
        assert "switched on (z > 0)" in page.text_content("#unit-text")
        page.uncheck("#discretize")  # back to the outputs, shaded
        shaded = page.evaluate(SQUARE, "canvas.unit[data-layer='2'][data-unit='1']")
        assert len({tuple(c) for c in shaded["rgb"]}) > 20
    finally:
        context.close()
    assert errors == []


def test_each_input_is_drawn_over_the_plane(browser, live_server):
    link = f"{live_server.url}#data=circles&noise=0.1&inputs=x1%2Cx2%2Cx1sq"
    context, page, errors = open_tab(browser, link)
    try:
        ready(page)
        page.wait_for_function("document.querySelectorAll('canvas.input:not(.off)').length === 3")
        assert page.locator("canvas.input.off").count() == 4  # the others, greyed
        x1, x2, x1sq = (page.evaluate(SQUARE, f"canvas.input[data-input='{k}']") for k in (0, 1, 2))
        g = 30
        at = lambda square, r, c: square["rgb"][r * g + c]  # noqa: E731
        assert at(x1, 15, 0)[0] > at(x1, 15, 0)[2] and at(x1, 15, g - 1)[2] > at(x1, 15, g - 1)[0]
        assert at(x2, 0, 15)[2] > at(x2, 0, 15)[0] and at(x2, g - 1, 15)[0] > at(x2, g - 1, 15)[2]
        assert min(at(x1sq, 15, 15)) > 235  # x1² is 0 in the middle: white
        assert at(x1sq, 15, 0)[2] > at(x1sq, 15, 0)[0]  # and large (blue) on both sides
        assert at(x1sq, 15, g - 1)[2] > at(x1sq, 15, g - 1)[0]
    finally:
        context.close()
    assert errors == []
