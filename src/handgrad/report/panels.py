"""Multi-panel figures on a phone: the panels of a wide figure, one under the other.

A figure of N panels side by side (``plots.new_figure(ncols=N)``) is unreadable at a phone's
width. The report cuts it into its panels: side by side on a wide screen they look like the
whole figure, and on a narrow one the stylesheet stacks them, one panel per row. No pixel is
stored twice. The cuts go through the blank columns between panels: in each stretch around
k/N of the width, the middle of the widest run of columns that are background from below
the title band to the bottom.
"""

from __future__ import annotations

import base64
import html
import io

import numpy as np

__all__ = ["panel_bounds", "panel_row"]

PREFIX = "data:image/png;base64,"
TITLE_BAND = 0.12  # a suptitle may cross the gaps: only rows below this share are looked at


def panel_bounds(pixels: np.ndarray, panels: int) -> list[tuple[int, int]]:
    """[(x0, x1), ...]: the column ranges of ``panels`` panels of an image (H, W[, C]).

    Each cut is the middle of the widest run of blank columns (every pixel equal to the
    top-left one, below the title band) within a third of a panel's width of k W / N; with
    no blank column there, the cut is at k W / N itself.
    """
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    height, width = pixels.shape[:2]
    body = pixels[int(height * TITLE_BAND) :: 2]  # every other row: fast, and enough
    blank = np.all(body == pixels[0, 0], axis=(0, 2))  # (W,)
    cuts = [0]
    for k in range(1, panels):
        target = k * width / panels
        lo = max(cuts[-1] + 1, int(target - width / panels / 3))
        hi = min(width - 1, int(target + width / panels / 3))
        cuts.append(_widest_blank_run_middle(blank, lo, hi) or int(round(target)))
    cuts.append(width)
    return [(cuts[i], cuts[i + 1]) for i in range(panels)]


def _widest_blank_run_middle(blank: np.ndarray, lo: int, hi: int) -> int | None:
    best, best_len, start = None, 0, None
    for x in range(lo, hi + 1):
        if blank[x] and start is None:
            start = x
        if start is not None and (not blank[x] or x == hi):
            end = x if blank[x] else x - 1
            if end - start + 1 > best_len:
                best, best_len = (start + end) // 2, end - start + 1
            start = None
    return best


def _decode(data_uri: str) -> np.ndarray | None:
    from PIL import Image  # matplotlib's own dependency

    try:
        with Image.open(io.BytesIO(base64.b64decode(data_uri[len(PREFIX) :]))) as image:
            return np.asarray(image.convert("RGB"))
    except Exception:  # noqa: BLE001 - an unreadable image keeps its wide form only
        return None


def _encode(pixels: np.ndarray) -> str:
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG", compress_level=3)
    return PREFIX + base64.b64encode(buffer.getvalue()).decode("ascii")


def panel_row(data_uri: str, panels: int, alt: str) -> str | None:
    """HTML: the figure as its ``panels`` panels, cut apart, in a ``<span class="panel-row">``.

    Side by side they look like the whole figure (the cuts meet, each panel keeps its
    share of the width); the stylesheet stacks them one per row on a narrow screen. None
    when the image cannot be read (then the figure is shown whole).
    """
    if not data_uri.startswith(PREFIX):
        return None
    pixels = _decode(data_uri)
    if pixels is None:
        return None
    width = pixels.shape[1]
    images = []
    for k, (x0, x1) in enumerate(panel_bounds(pixels, panels), 1):
        label = html.escape(f"{alt} (panel {k} of {panels})", quote=True)
        src = html.escape(_encode(np.ascontiguousarray(pixels[:, x0:x1])), quote=True)
        share = f"{100 * (x1 - x0) / width:.3f}%"
        images.append(f'<img class="panel" src="{src}" alt="{label}" style="--share: {share}">')
    return f'<span class="panel-row" style="max-width: {width}px">' + "".join(images) + "</span>"
