"""Multi-panel figures cut into their panels for narrow screens (handgrad.report.panels)."""

from __future__ import annotations

import base64
import io
import re

import numpy as np
import pytest
from PIL import Image

from handgrad import plots
from handgrad.report import markdown_to_html, markdown_to_html_document
from handgrad.report.panels import PANELS_KEY, headline_rows, panel_bounds, panel_row, png_panels

WHITE = 255


def image(width: int, height: int, inked: list[tuple[int, int]]) -> np.ndarray:
    """A white RGB image with the column ranges ``inked`` drawn dark (full height)."""
    pixels = np.full((height, width, 3), WHITE, dtype=np.uint8)
    for x0, x1 in inked:
        pixels[:, x0:x1] = 30
    return pixels


def test_the_cut_goes_through_the_middle_of_the_gap():
    # two panels whose gap is not at the middle: 0-570 drawn, 570-610 blank, 610-1200 drawn
    pixels = image(1200, 400, [(5, 570), (610, 1195)])
    assert panel_bounds(pixels, 2) == [(0, 589), (589, 1200)]


def test_three_panels_and_a_title_across_the_gaps():
    pixels = image(1800, 300, [(10, 590), (610, 1190), (1210, 1790)])
    pixels[:20, 100:1700] = 0  # a suptitle over every gap, in the title band
    bounds = panel_bounds(pixels, 3)
    assert [b[0] for b in bounds] == [0, 599, 1199] and bounds[-1][1] == 1800
    # the pieces meet: nothing lost, nothing twice
    assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:]))


def test_no_blank_column_near_the_middle_cuts_at_the_middle():
    pixels = image(1000, 200, [(1, 1000)])  # drawn everywhere but the first column
    assert panel_bounds(pixels, 2) == [(0, 500), (500, 1000)]
    pixels = image(1000, 200, [(1, 1000)])[:, :, 0]  # grey levels work as well
    assert panel_bounds(pixels, 2) == [(0, 500), (500, 1000)]


def png_uri(pixels: np.ndarray) -> str:
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def decode(uri: str) -> np.ndarray:
    data = base64.b64decode(uri.split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


def test_the_panels_put_side_by_side_are_the_figure():
    fig, axes = plots.new_figure(ncols=2)
    for k, ax in enumerate(axes):
        ax.plot([0, 1, 2], [k, 2 - k, k], label=f"curve {k}")
        ax.set_title(f"panel {k}")
        ax.legend()
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=110)
    uri = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    whole = decode(uri)
    html = panel_row(uri, 2, "Two panels")
    assert html is not None and html.startswith('<span class="panel-row" style="max-width: ')
    srcs = re.findall(r'src="(data:image/png;base64,[^"]+)"', html)
    shares = [float(s) for s in re.findall(r"--share: ([0-9.]+)%", html)]
    assert len(srcs) == 2 and sum(shares) == pytest.approx(100, abs=0.01)
    pieces = [decode(s) for s in srcs]
    np.testing.assert_array_equal(np.concatenate(pieces, axis=1), whole)
    assert 'alt="Two panels (panel 1 of 2)"' in html and 'alt="Two panels (panel 2 of 2)"' in html


def test_the_report_cuts_the_figures_that_say_how_many_panels(tmp_path):
    from PIL.PngImagePlugin import PngInfo

    two = PngInfo()
    two.add_text(PANELS_KEY, "2")
    pixels = image(1300, 400, [(10, 640), (660, 1290)])
    Image.fromarray(pixels).save(tmp_path / "two.png", pnginfo=two)
    Image.fromarray(pixels).save(tmp_path / "unsaid.png")  # the same picture, no count
    page = markdown_to_html_document(
        "![two](two.png)\n\n![one](unsaid.png)\n", title="t", base_dir=tmp_path
    )
    assert page.count('<span class="panel-row"') == 1 and page.count('class="panel"') == 2
    assert page.count('<img src="data:image/png;base64,') == 1  # the unsaid one, whole


def test_a_long_inline_formula_gets_its_own_box():
    page = markdown_to_html(
        "Short $x^2$ and long $\\hat y = (x W_1 + b_1) W_2 + b_2 = x (W_1 W_2) + (b_1 W_2 + b_2)$."
    )
    assert page.count('<span class="math-wide">') == 1
    short = page.split("Short ", 1)[1].split(" and long", 1)[0]
    assert "<math" in short and "math-wide" not in short


def _two_panels_png(suptitle: str = "") -> str:
    fig, axes = plots.new_figure(ncols=2)
    for k, ax in enumerate(axes):
        ax.plot([0, 1, 2], [k, 2 - k, k])
        ax.set_title(f"panel {k}")
    if suptitle:
        fig.suptitle(suptitle)
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=110)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def test_a_headline_across_the_cut_comes_whole_above_the_panels():
    # on a phone the panels stack: a suptitle cut with them read "Predictions against the gro"
    uri = _two_panels_png("Predictions against the ground truth after 2,000 epochs")
    whole = decode(uri)
    top = headline_rows(whole, panel_bounds(whole, 2))
    assert 0 < top < 0.12 * whole.shape[0]
    html = panel_row(uri, 2, "Fits")
    assert html.startswith('<span class="panel-headline"') and 'alt="Fits (title)"' in html
    head, *pieces = [decode(s) for s in re.findall(r'src="(data:image/png;base64,[^"]+)"', html)]
    assert head.shape[0] == top and head.shape[1] < 0.6 * whole.shape[1]  # cropped to its ink
    np.testing.assert_array_equal(np.concatenate(pieces, axis=1), whole[top:])
    ink = ~np.all(whole[:top] == whole[0, 0], axis=2)
    assert ink.sum() == (~np.all(head == head[0, 0], axis=2)).sum()  # no ink of it lost


def test_panel_titles_stay_with_their_panels():
    whole = decode(_two_panels_png())
    assert headline_rows(whole, panel_bounds(whole, 2)) == 0
    assert not panel_row(_two_panels_png(), 2, "Fits").startswith('<span class="panel-headline"')


def saved_uri(fig, tmp_path, **kwargs) -> str:
    path = plots.save_figure(fig, tmp_path / "figure.png", **kwargs)
    return "data:image/png;base64," + base64.b64encode(path.read_bytes()).decode()


def test_the_panel_count_is_the_figures_grid(tmp_path):
    assert plots.PANELS_KEY == PANELS_KEY  # the writer and the reader name one chunk
    fig, axes = plots.new_figure(ncols=3, nrows=2, size=(4.2, 3.2))
    assert png_panels(saved_uri(fig, tmp_path)) == 3
    fig, ax = plots.new_figure(size=(12.0, 4.0))  # one panel, however wide
    assert png_panels(saved_uri(fig, tmp_path)) == 1
    fig, axes = plots.new_figure(ncols=2)
    image = axes[0].imshow(np.eye(3))
    fig.colorbar(image, ax=axes[0])  # a colorbar stays in its panel's column
    assert plots.panel_count(fig) == 2 and png_panels(saved_uri(fig, tmp_path)) == 2
    grid = plots.plot_images(np.zeros((8, 4, 4)), [str(k) for k in range(8)], title="t")
    assert plots.panel_count(grid) == 1  # images only: one picture unless told
    assert png_panels(saved_uri(grid, tmp_path, panels=2)) == 2
    with pytest.raises(ValueError, match="panels must be a positive int"):
        plots.save_figure(grid, tmp_path / "bad.png", panels=0)


def test_an_image_without_the_count_is_one_panel():
    assert png_panels(png_uri(image(1400, 300, [(10, 690), (710, 1390)]))) == 1
    assert png_panels("data:image/png;base64,not base64!") == 1
    assert png_panels("data:image/jpeg;base64,AAAA") == 1
    assert png_panels("data:image/png;base64," + base64.b64encode(b"GIF89a").decode()) == 1
