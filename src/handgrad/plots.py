"""Figures for experiments and reports: matplotlib's object API, never pyplot.

Every figure is a ``matplotlib.figure.Figure`` made here and saved with ``fig.savefig``:
handgrad never switches matplotlib's backend nor touches pyplot's state or ``rcParams``, so a
learner's own ``plt.plot(...); plt.show()`` works as before after any handgrad import, and a
``Figure`` handgrad returns shows inline in a notebook. Every helper takes the data and the
labels a reader needs (title, axis labels with units, legend); experiment-specific figures
build on ``new_figure`` and ``save_figure``.
"""

from __future__ import annotations

import io
import textwrap
import warnings
import weakref
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib import ticker, transforms
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure

from .io import atomic_write

# Text sizes (points) for figures read in a report column about 900 px wide: a one-panel figure
# is shown near its natural size, so 11-12 pt at 110 dpi is at least the page's 16 px body text;
# in two-panel figures the text is scaled down by about a third, still far above the 6-7 px of
# matplotlib's defaults there. Applied to each figure when it is saved (``house_style``), never
# through the global rcParams a learner's own plots read.
TEXT_SIZES = {"title": 12.5, "label": 12.0, "tick": 11.0, "legend": 11.0, "suptitle": 13.0}

# The PNG text chunk in which ``save_figure`` records how many panels sit side by side: the
# report cuts a figure into exactly that many (and stacks them on a phone), never by guessing
# from its width. report.panels reads the same key.
PANELS_KEY = "handgrad panels"

__all__ = [
    "PANELS_KEY",
    "new_figure",
    "panel_count",
    "save_figure",
    "house_style",
    "fit_titles",
    "plot_curves",
    "plot_learning_curves",
    "plot_decision_boundary",
    "plot_fit",
    "plot_bars",
    "legend_below",
    "plot_confusion",
    "plot_images",
]


def new_figure(ncols: int = 1, nrows: int = 1, size: tuple[float, float] = (6.0, 4.0)):
    """A ``Figure`` with ``nrows`` x ``ncols`` axes; ``size`` is per panel, in inches.

    Returns ``(fig, ax)`` for one panel, else ``(fig, axes)`` with the axes in a flat array.
    """
    fig = Figure(figsize=(size[0] * ncols, size[1] * nrows))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    return fig, axes.ravel() if axes.size > 1 else axes[0, 0]


def house_style(fig: Figure) -> Figure:
    """Set the report's text sizes on ``fig`` (titles, axis labels, ticks, legends)."""
    for ax in fig.axes:
        if not ax.axison:  # an image grid's panel keeps its small caption
            continue
        _integer_epochs(ax)
        ax.title.set_fontsize(TEXT_SIZES["title"])
        ax.xaxis.label.set_fontsize(TEXT_SIZES["label"])
        ax.yaxis.label.set_fontsize(TEXT_SIZES["label"])
        ax.tick_params(labelsize=TEXT_SIZES["tick"])
        legend = ax.get_legend()
        if legend is not None:
            for text in legend.get_texts():
                text.set_fontsize(TEXT_SIZES["legend"])
    suptitle = getattr(fig, "_suptitle", None)
    if suptitle is not None:
        suptitle.set_fontsize(TEXT_SIZES["suptitle"])
    return fig


def fit_titles(fig: Figure) -> Figure:
    """Lay ``fig`` out (``tight_layout``) with every title and axis label inside its panel.

    A panel title wider than its axes is wrapped onto more lines: centred over the axes it
    would otherwise run into the next panel's title, or off the figure's edge, where the PNG
    cuts it. An x label wider than its axes is wrapped the same way, a y label longer than
    its axes by more than 15 % (or running off the figure), and the suptitle to the figure's
    width; a legend that runs off the figure (or far past its axes) gets fewer columns.
    Lengths are measured at the figure's own dpi: the ratio of a text's length to a panel's
    does not depend on it.
    """
    for _ in range(3):  # wrapping changes the layout, the layout changes the room
        fig.tight_layout()
        wrapped = [_wrap_to(*fitted) for fitted in _texts_and_room(fig)]
        if not any(wrapped) and not _narrow_legends(fig):
            return fig
    fig.tight_layout()
    return fig


def _texts_and_room(fig: Figure) -> list:
    """(text, room in pixels, the text's length in pixels) for each title and axis label."""
    renderer = _renderer(fig)

    def width(text) -> float:
        return text.get_window_extent(renderer).width

    def height(text) -> float:  # a y label is drawn turned by 90 degrees
        return text.get_window_extent(renderer).height

    fitted = []
    for ax in fig.axes:
        box = ax.get_window_extent(renderer)
        fitted += [(ax.title, box.width, width), (ax.xaxis.label, box.width, width)]
        # a y label may run a little past its axes, never off the figure
        middle = (box.y0 + box.y1) / 2
        off_figure = 2 * min(middle, fig.bbox.height - middle)
        fitted.append((ax.yaxis.label, min(1.15 * box.height, off_figure), height))
    suptitle = getattr(fig, "_suptitle", None)
    if suptitle is not None:
        fitted.append((suptitle, fig.bbox.width, width))
    return fitted


def _narrow_legends(fig: Figure) -> bool:
    """Give a legend under its axes (``legend_below``) fewer columns while it runs off the
    figure or is much wider than its axes (into the next panel); return whether one
    changed."""
    renderer = _renderer(fig)
    changed = False
    for ax in fig.axes:
        legend = ax.get_legend()
        if legend is None or legend not in _BELOW:
            continue
        room = 1.15 * ax.get_window_extent(renderer).width
        columns, tick_lines = _BELOW[legend]
        while columns > 1:
            box = legend.get_window_extent(renderer)
            if box.x0 >= 2 and box.x1 <= fig.bbox.width - 2 and box.width <= room:
                break
            columns -= 1
            # set_ncols does not lay an existing legend out again: make it anew
            legend = legend_below(ax, ncol=columns, tick_lines=tick_lines)
            for text in legend.get_texts():
                text.set_fontsize(TEXT_SIZES["legend"])
            changed = True
    return changed


def _renderer(fig: Figure):
    """A renderer that measures ``fig``'s text (an Agg canvas: savefig draws with Agg too)."""
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    return canvas.get_renderer()


def _wrap_to(text, room: float, length: Callable) -> bool:
    """Wrap a Text artist onto more lines until ``length(text)`` is at most ``room`` pixels;
    return whether it changed. A single word longer than the room stays whole."""
    changed = False
    while text.get_text() and length(text) > room:
        lines = text.get_text().split("\n")
        longest = max(len(line) for line in lines)
        chars = min(longest - 1, int(longest * room / length(text)))
        wrapped = "\n".join(textwrap.fill(line, max(chars, 1)) for line in lines)
        if chars < 1 or wrapped == text.get_text():
            break
        text.set_text(wrapped)
        changed = True
    return changed


def panel_count(fig: Figure) -> int:
    """How many panels sit side by side in ``fig``: the columns of the subplot grid its
    visible axes are laid out on (a colorbar belongs to its panel's column); 1 when it has
    no visible axes (a grid of images is one picture unless its maker says otherwise)."""
    grids = {
        spec.get_topmost_subplotspec().get_gridspec()
        for ax in fig.axes
        if ax.axison and (spec := ax.get_subplotspec()) is not None
    }
    return grids.pop().ncols if len(grids) == 1 else 1


SLOW_LEGEND_WARNING = 'Creating legend with loc="best" can be slow'


def save_figure(fig: Figure, path: str | Path, dpi: int = 110, panels: int | None = None) -> Path:
    """Save ``fig`` as PNG at ``path`` (atomically), in the house style, every title inside
    its panel (``fit_titles``); return the path.

    The PNG records how many panels sit side by side (``PANELS_KEY``): ``panels`` when given,
    else ``panel_count(fig)``. The report cuts the figure into them for a narrow screen.
    """
    if panels is not None and (not isinstance(panels, int) or panels < 1):
        raise ValueError(f"panels must be a positive int, got {panels!r}")
    house_style(fig)
    buf = io.BytesIO()
    with warnings.catch_warnings():
        # matplotlib warns when placing a legend at loc="best" took over a second of wall
        # time: on a loaded machine a command would print it (and a test reading stderr fail)
        # by chance; the legend lands in the same place either way
        warnings.filterwarnings("ignore", message=SLOW_LEGEND_WARNING)
        fit_titles(fig)
        metadata = {PANELS_KEY: str(panels or panel_count(fig))}
        fig.savefig(buf, format="png", dpi=dpi, metadata=metadata)
    return atomic_write(path, lambda fh: fh.write(buf.getvalue()))


def _integer_epochs(ax) -> None:
    """Whole-number ticks on an axis that counts epochs (no "epoch 2.5")."""
    for axis, label in ((ax.xaxis, ax.get_xlabel()), (ax.yaxis, ax.get_ylabel())):
        if "epoch" in label.lower() and axis.get_scale() == "linear":
            axis.set_major_locator(ticker.MaxNLocator(integer=True))


def plot_curves(
    ax,
    series: Mapping[str, Sequence[float] | np.ndarray],
    *,
    title: str,
    xlabel: str,
    ylabel: str,
    logy: bool = False,
    x: Mapping[str, Sequence[float] | np.ndarray] | None = None,
):
    """Line plot of named series (e.g. training curves); one legend entry per series."""
    for label, values in series.items():
        xs = x[label] if x and label in x else np.arange(1, len(values) + 1)
        ax.plot(xs, values, label=label, linewidth=1.4)
    if logy:
        ax.set_yscale("log")
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    ax.legend()
    return ax


def plot_learning_curves(history, path: str | Path, *, held_out: str, title: str = "") -> Path:
    """Loss (log scale) and accuracy per epoch, training beside held-out, from a ``History``."""
    fig, (ax_loss, ax_acc) = new_figure(ncols=2)
    training = "training (mean over the epoch)"
    plot_curves(
        ax_loss,
        {training: history.epoch_loss, held_out: history.val_loss},
        title=f"Cross-entropy per epoch{title}",
        xlabel="epoch",
        ylabel="mean cross-entropy (nats)",
        logy=True,
    )
    plot_curves(
        ax_acc,
        {training: history.metrics["accuracy"], held_out: history.val_metrics["accuracy"]},
        title="Accuracy per epoch",
        xlabel="epoch",
        ylabel="accuracy (fraction correct)",
    )
    return save_figure(fig, path)


def plot_decision_boundary(
    ax,
    predict_proba: Callable[[np.ndarray], np.ndarray],
    X: np.ndarray,
    y: np.ndarray,
    *,
    title: str,
    xlabel: str = "x1",
    ylabel: str = "x2",
    resolution: int = 200,
):
    """Filled contour of P(y = 1 | x) over the plane of 2-D inputs X, with the points on top.

    ``predict_proba`` maps (M, 2) points to (M,) probabilities (or (M, C) for C classes,
    shown as the predicted class's region, in the colour of that class's points).
    """
    pad = 0.5
    x0 = np.linspace(X[:, 0].min() - pad, X[:, 0].max() + pad, resolution)
    x1 = np.linspace(X[:, 1].min() - pad, X[:, 1].max() + pad, resolution)
    g0, g1 = np.meshgrid(x0, x1)
    grid = np.column_stack([g0.ravel(), g1.ravel()])
    p = np.asarray(predict_proba(grid))
    classes = np.unique(y)
    if p.ndim == 2 and p.shape[1] > 1:
        # regions and points share one palette: class k is colour k in both
        k = p.shape[1]
        colours = [matplotlib.colormaps["tab10"](i % 10) for i in range(k)]
        region = ListedColormap([(*c[:3], 0.25) for c in colours])
        z = p.argmax(axis=1).reshape(g0.shape)
        ax.contourf(g0, g1, z, levels=np.arange(k + 1) - 0.5, cmap=region)
        point_colour = {cls: colours[int(cls) % k] for cls in classes}
    else:
        z = p.reshape(g0.shape)
        cs = ax.contourf(g0, g1, z, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.6)
        ax.contour(g0, g1, z, levels=[0.5], colors="k", linewidths=1.2)
        ax.figure.colorbar(cs, ax=ax, label="P(y = 1 | x)")
        point_colour = {cls: ("tab:blue" if cls == 0 else "tab:red") for cls in classes}
    for cls in classes:
        pts = X[y == cls]
        ax.scatter(
            pts[:, 0],
            pts[:, 1],
            s=14,
            color=point_colour[cls],
            edgecolors="k",
            linewidths=0.4,
            label=f"class {int(cls)}",
        )
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(loc="upper right", framealpha=0.8)
    return ax


def plot_fit(
    ax,
    x: np.ndarray,
    y: np.ndarray,
    predictions: Mapping[str, np.ndarray],
    *,
    title: str,
    xlabel: str = "x",
    ylabel: str = "y",
    truth: np.ndarray | None = None,
):
    """Data points, optional noise-free truth, and one line per model's predictions (1-D x)."""
    order = np.argsort(x)
    ax.scatter(x, y, s=6, alpha=0.4, color="gray", label="data")
    if truth is not None:
        ax.plot(x[order], truth[order], "k--", linewidth=1.2, label="ground truth")
    for label, pred in predictions.items():
        ax.plot(x[order], np.asarray(pred).ravel()[order], linewidth=1.6, label=label)
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    ax.legend()
    return ax


def plot_bars(
    ax,
    groups: Mapping[str, Sequence[float]],
    categories: Sequence[str],
    *,
    title: str,
    ylabel: str,
    xlabel: str = "",
):
    """Grouped bars: one group per category, one bar per series in ``groups``."""
    n = len(groups)
    width = 0.8 / max(n, 1)
    pos = np.arange(len(categories))
    for i, (label, values) in enumerate(groups.items()):
        ax.bar(pos + (i - (n - 1) / 2) * width, values, width, label=label)
    ax.set_xticks(pos, categories)
    ax.axhline(0, color="k", linewidth=0.6)
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    if xlabel:
        ax.set_xlabel(xlabel)
    # bars of either sign leave no corner free for a legend
    legend_below(ax, ncol=n, tick_lines=max(str(c).count("\n") + 1 for c in categories))
    return ax


def legend_below(ax, *, ncol: int = 2, tick_lines: int = 1):
    """Put ``ax``'s legend under the axes, below its tick labels (``tick_lines`` lines each)
    and its x label, where it hides no data. The gap is in points at the house text sizes,
    so it holds at any figure size."""
    below = 8 + 1.3 * TEXT_SIZES["tick"] * tick_lines
    if ax.get_xlabel():
        below += 1.3 * TEXT_SIZES["label"] * (ax.get_xlabel().count("\n") + 1) + 4
    under = transforms.offset_copy(ax.transAxes, fig=ax.figure, y=-below, units="points")
    legend = ax.legend(
        loc="upper center", bbox_to_anchor=(0.5, 0.0), bbox_transform=under, ncol=ncol
    )
    _BELOW[legend] = (ncol, tick_lines)
    return legend


# legends under their axes -> (columns, tick_lines), so fit_titles can make one narrower
_BELOW: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def plot_confusion(ax, matrix: np.ndarray, *, title: str, labels: Sequence[str] | None = None):
    """Confusion matrix with counts in the cells (rows: true class, columns: predicted)."""
    matrix = np.asarray(matrix)
    im = ax.imshow(matrix, cmap="Blues")
    ax.figure.colorbar(im, ax=ax, label="count")
    k = matrix.shape[0]
    labels = labels or [str(i) for i in range(k)]
    ax.set_xticks(range(k), labels)
    ax.set_yticks(range(k), labels)
    threshold = matrix.max() / 2 if matrix.size else 0
    for i in range(k):
        for j in range(k):
            ax.text(
                j,
                i,
                str(matrix[i, j]),
                ha="center",
                va="center",
                fontsize=10,
                color="white" if matrix[i, j] > threshold else "black",
            )
    ax.set_title(title)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    return ax


def plot_images(
    images: np.ndarray,
    captions: Sequence[str],
    *,
    title: str,
    ncols: int = 8,
    shape: tuple[int, int] | None = None,
):
    """A grid of grayscale images (N, H, W) or (N, H*W) with a caption each; returns the figure."""
    images = np.asarray(images)
    if images.ndim == 2:
        side = int(round(np.sqrt(images.shape[1])))
        images = images.reshape(-1, *(shape or (side, side)))
    n = len(images)
    nrows = max(1, int(np.ceil(n / ncols)))
    fig = Figure(figsize=(1.4 * ncols, 1.6 * nrows + 0.4))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for ax, img, cap in zip(axes.ravel(), images, captions):
        ax.imshow(img, cmap="gray_r")
        ax.set_title(cap, fontsize=10)
    fig.suptitle(title)
    return fig
