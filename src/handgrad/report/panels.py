"""Multi-panel figures on a phone: the panels of a wide figure, one under the other.

A figure of N panels side by side (``plots.new_figure(ncols=N)``) is unreadable at a phone's
width. ``plots.save_figure`` writes N into the PNG (text chunk ``PANELS_KEY``), and the report
cuts the figure into its panels: side by side on a wide screen they look like the
whole figure, and on a narrow one the stylesheet stacks them, one panel per row. No pixel is
stored twice. The cuts go through the blank columns between panels: in each stretch around
k/N of the width, the middle of the widest run of columns that are background from below
the title band to the bottom. A headline over the whole figure (a suptitle) would be cut
with it, a few words on each panel: it comes apart from the panels, as its own image above
them.
"""

from __future__ import annotations

import base64
import html
import io
import struct

import numpy as np

__all__ = ["PANELS_KEY", "headline_rows", "panel_bounds", "panel_row", "png_panels"]

# The PNG text chunk that says how many panels a figure has (``plots.save_figure`` writes it,
# with the same key: the two parts of the house may not import each other).
PANELS_KEY = "handgrad panels"
PREFIX = "data:image/png;base64,"
TITLE_BAND = 0.12  # a suptitle may cross the gaps: only rows below this share are looked at
HEADLINE_REACH = 20  # pixels: ink this close to a cut belongs to a text across it
HEADLINE_PAD = 12  # pixels of background kept around a headline's ink


def png_panels(data_uri: str) -> int:
    """How many panels sit side by side in a base64 PNG data URI: the count ``save_figure``
    wrote into its text chunk ``PANELS_KEY``; 1 (shown whole) for any other image."""
    if not data_uri.startswith(PREFIX):
        return 1
    try:
        data = base64.b64decode(data_uri[len(PREFIX) :], validate=True)
    except ValueError:  # not base64 after all (binascii.Error is a ValueError)
        return 1
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return 1
    at = 8
    while at + 8 <= len(data):  # chunks: length, type, data, CRC; text comes before IDAT
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        if kind in (b"IDAT", b"IEND"):
            break
        key, _, value = body.partition(b"\0")
        if kind == b"tEXt" and key == PANELS_KEY.encode("latin-1"):
            return int(value) if value.isdigit() and int(value) >= 1 else 1
        at += 12 + length
    return 1


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


def headline_rows(pixels: np.ndarray, bounds: list[tuple[int, int]]) -> int:
    """The rows [0, end) of a headline that runs across a cut between the panels ``bounds``;
    0 when there is none.

    The headline is the first band of rows with ink, from the top, when it ends within the
    title band and has ink within ``HEADLINE_REACH`` pixels of a cut. Panel titles are
    centred over their own panels, far from the cuts, and stay with their panels.
    """
    if pixels.ndim == 2:
        pixels = pixels[:, :, None]
    inked = ~np.all(pixels == pixels[0, 0], axis=2)  # (H, W)
    rows = np.flatnonzero(inked.any(axis=1))
    if rows.size == 0:
        return 0
    blank_after = np.flatnonzero(~inked[rows[0] :].any(axis=1))
    end = rows[0] + (int(blank_after[0]) if blank_after.size else inked.shape[0])
    if end > TITLE_BAND * inked.shape[0]:
        return 0
    band = inked[:end].any(axis=0)  # (W,)
    for _, cut in bounds[:-1]:
        if band[max(cut - HEADLINE_REACH, 0) : cut + HEADLINE_REACH].any():
            return int(end)
    return 0


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
    bounds = panel_bounds(pixels, panels)
    top = headline_rows(pixels, bounds)
    headline = _headline(pixels[:top], alt) if top else ""
    images = []
    for k, (x0, x1) in enumerate(bounds, 1):
        label = html.escape(f"{alt} (panel {k} of {panels})", quote=True)
        src = html.escape(_encode(np.ascontiguousarray(pixels[top:, x0:x1])), quote=True)
        share = f"{100 * (x1 - x0) / width:.3f}%"
        images.append(f'<img class="panel" src="{src}" alt="{label}" style="--share: {share}">')
    row = f'<span class="panel-row" style="max-width: {width}px">' + "".join(images) + "</span>"
    return headline + row


def _headline(band: np.ndarray, alt: str) -> str:
    """HTML: the headline rows ``band`` (H, W, C), cropped to their ink, as an image that
    keeps its share of the figure's width above the panels (and its own size on a phone)."""
    width = band.shape[1]
    ink = np.flatnonzero(np.any(band != band[0, 0], axis=(0, 2)))
    x0, x1 = max(int(ink[0]) - HEADLINE_PAD, 0), min(int(ink[-1]) + 1 + HEADLINE_PAD, width)
    src = html.escape(_encode(np.ascontiguousarray(band[:, x0:x1])), quote=True)
    label = html.escape(f"{alt} (title)", quote=True)
    share = f"{100 * (x1 - x0) / width:.3f}%"
    return (
        f'<span class="panel-headline" style="max-width: {width}px">'
        f'<img class="headline" src="{src}" alt="{label}" style="--share: {share}"></span>'
    )
