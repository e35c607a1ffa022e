"""Figures keep every title, label and legend inside the picture and off each other.

A report or a notebook shows the PNG as saved: text cut at the figure's edge, or a title run
into the next panel's, is lost at every size it is shown.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from PIL import Image

from handgrad import plots

# the sine chapter's old left title, cut at the figure's left edge before titles were fitted
LONG_TITLE = "Predictions vs ground truth, the course's settings (lr 0.005), after 2,000 epochs"


def _saved(fig, tmp_path):
    """Save ``fig`` the house way; return (the PNG's pixels, a renderer of the saved layout)."""
    path = plots.save_figure(fig, tmp_path / "figure.png")
    pixels = np.asarray(Image.open(io.BytesIO(path.read_bytes())).convert("RGB"))
    canvas = fig.canvas if hasattr(fig.canvas, "get_renderer") else FigureCanvasAgg(fig)
    return pixels, canvas.get_renderer()


def _inside(inner, outer, slack: float = 1.0) -> bool:
    return (
        inner.x0 >= outer.x0 - slack
        and inner.x1 <= outer.x1 + slack
        and inner.y0 >= outer.y0 - slack
        and inner.y1 <= outer.y1 + slack
    )


def _blank_border(pixels: np.ndarray) -> bool:
    """Every pixel of the PNG's outermost rows and columns is the background's colour."""
    bg = pixels[0, 0]
    border = np.concatenate([pixels[0], pixels[-1], pixels[:, 0], pixels[:, -1]])
    return bool(np.all(border == bg))


def test_a_title_wider_than_its_panel_is_wrapped_inside_it(tmp_path):
    fig, axes = plots.new_figure(ncols=2, size=(6.0, 4.2))
    for ax in axes:
        ax.plot([0, 1], [0, 1])
        ax.set_title(LONG_TITLE)
    pixels, renderer = _saved(fig, tmp_path)
    for ax in axes:
        assert "\n" in ax.get_title()
        assert ax.get_title().replace("\n", " ") == LONG_TITLE  # wrapped, never cut
        title = ax.title.get_window_extent(renderer)
        box = ax.get_window_extent(renderer)
        assert box.x0 - 1 <= title.x0 and title.x1 <= box.x1 + 1
    left, right = (ax.title.get_window_extent(renderer) for ax in axes)
    assert left.x1 < right.x0
    assert _blank_border(pixels)


def test_a_title_that_fits_is_left_as_written(tmp_path):
    fig, ax = plots.new_figure()
    ax.plot([0, 1], [0, 1])
    ax.set_title("Training loss")
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    _saved(fig, tmp_path)
    assert (ax.get_title(), ax.get_xlabel(), ax.get_ylabel()) == ("Training loss", "epoch", "loss")


def test_a_y_label_longer_than_the_figure_is_wrapped_onto_it(tmp_path):
    fig, ax = plots.new_figure(size=(6.0, 3.0))
    ax.plot([1, 2], [1e-3, 1])
    label = "std of activations (solid) / of dL/d(activation) (dashed), log scale"
    ax.set_ylabel(label)
    pixels, renderer = _saved(fig, tmp_path)
    assert "\n" in ax.get_ylabel() and ax.get_ylabel().replace("\n", " ") == label
    assert _inside(ax.yaxis.label.get_window_extent(renderer), fig.bbox)
    assert _blank_border(pixels)


def test_the_suptitle_is_wrapped_to_the_figure(tmp_path):
    fig, ax = plots.new_figure(size=(4.0, 3.0))
    ax.plot([0, 1], [0, 1])
    fig.suptitle(LONG_TITLE + ", seen from a narrow figure")
    pixels, renderer = _saved(fig, tmp_path)
    assert _inside(fig._suptitle.get_window_extent(renderer), fig.bbox)
    assert _blank_border(pixels)


@pytest.mark.parametrize("xlabel", ["", "setting"])
def test_a_bar_legend_sits_below_category_names_of_two_lines(tmp_path, xlabel):
    fig, ax = plots.new_figure(size=(9.0, 4.2))
    plots.plot_bars(
        ax,
        {"at init": [0.6, 0.0, 0.1], "after training": [0.7, 0.3, 0.1]},
        ["ReLU, bias −3\nlr 0.5", "ReLU, bias 0\nlr 2.5", "ReLU, bias 0\nlr 0.5 (He default)"],
        title="Dead units",
        ylabel="fraction",
        xlabel=xlabel,
    )
    pixels, renderer = _saved(fig, tmp_path)
    legend = ax.get_legend().get_window_extent(renderer)
    names = [t.get_window_extent(renderer) for t in ax.get_xticklabels() if t.get_text()]
    assert legend.y1 < min(n.y0 for n in names)  # y grows upwards: the legend is lower
    if xlabel:
        assert legend.y1 < ax.xaxis.label.get_window_extent(renderer).y0
    assert _inside(legend, fig.bbox)
    assert _blank_border(pixels)


def test_a_legend_below_leaves_the_axes_and_the_x_label_free(tmp_path):
    fig, ax = plots.new_figure(size=(7.0, 5.0))
    for k in range(7):
        ax.plot(np.arange(10), np.arange(10) * k, label=f"series number {k}")
    ax.set_xlabel("epoch (full batch)")
    plots.legend_below(ax)
    pixels, renderer = _saved(fig, tmp_path)
    legend = ax.get_legend().get_window_extent(renderer)
    assert legend.y1 < ax.xaxis.label.get_window_extent(renderer).y0
    assert legend.y1 < ax.get_window_extent(renderer).y0
    assert _inside(legend, fig.bbox)
    assert _blank_border(pixels)


def test_a_legend_wider_than_the_figure_gets_fewer_columns(tmp_path):
    # the framework chapter's bar legend ran off the right edge once its y label wrapped
    fig, ax = plots.new_figure()
    plots.plot_bars(
        ax,
        {"handgrad": [1, 2], "Keras (jax)": [1, 2], "ridge optimum (closed form), long": [1, 2]},
        ["a", "b"],
        title="Learned weights",
        ylabel="score points per standard deviation of the feature",
        xlabel="feature",
    )
    pixels, renderer = _saved(fig, tmp_path)
    assert ax.get_legend()._ncols < 3
    assert _inside(ax.get_legend().get_window_extent(renderer), fig.bbox)
    assert _blank_border(pixels)
