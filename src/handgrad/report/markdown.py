"""Markdown -> HTML: markdown-it-py with LaTeX formulas as MathML, in one self-contained page.

``markdown_to_html`` renders CommonMark plus pipe tables and ``$...$`` / ``$$...$$`` math
(LaTeX, converted to MathML by latex2mathml, which Chromium and Firefox draw natively). Raw
HTML in the input is escaped, never passed through. An image alone in its paragraph becomes
a ``<figure>``; an emphasized paragraph right after it that starts with "Figure" is its
caption, and "Figure 3.2: ..." gives the figure the anchor ``figure-3-2``.

``markdown_to_html_document`` wraps that in a complete page: inline stylesheet (a side
navigation on wide screens, a collapsible menu on narrow ones, tables that scroll in their
own box, a print style), every image inlined as a data: URI. No script, no network.
"""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from latex2mathml.converter import convert as latex_to_mathml
from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.anchors import anchors_plugin
from mdit_py_plugins.dollarmath import dollarmath_plugin

from .panels import panel_row, png_panels
from .style import CSS

__all__ = ["markdown_to_html", "markdown_to_html_document", "slugify"]

ImageSource = Callable[[str], "str | None"]


def slugify(text: str) -> str:
    """GitHub-style heading anchor: lower case, punctuation dropped, spaces -> hyphens."""
    text = re.sub(r"[`*_]", "", text.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


LONG_INLINE = 28  # LaTeX characters: an inline formula this long may be wider than a phone


def _math(latex: str, options: dict[str, Any]) -> str:
    """LaTeX -> MathML; a formula latex2mathml cannot read is shown as its source.

    A long inline formula is wrapped in ``<span class="math-wide">``, a box that scrolls
    sideways on a narrow screen instead of widening the page (MathML does not wrap).
    """
    display = "block" if options.get("display_mode") else "inline"
    try:
        mathml = latex_to_mathml(latex, display=display)
    except Exception:  # noqa: BLE001 - a report must not fail over one formula
        return f'<code class="math-source">{html.escape(latex)}</code>'
    if display == "inline" and len(latex) >= LONG_INLINE:
        return f'<span class="math-wide">{mathml}</span>'
    return mathml


_CAPTION_NUMBER = re.compile(r"^Figure\s+(\d+(?:\.\d+)*)\b")


def _is_single(token: Token, kind: str) -> bool:
    """An inline token whose only child is ``kind`` (an image, or an emphasis span)."""
    children = [c for c in token.children or [] if not (c.type == "text" and not c.content.strip())]
    if kind == "image":
        return len(children) == 1 and children[0].type == "image"
    return bool(children) and children[0].type == "em_open" and children[-1].type == "em_close"


def _figures(state) -> None:
    """Core rule: image-only paragraphs -> <figure>, an emphasized "Figure ..." line after
    one -> its <figcaption> (the emphasis dropped)."""
    tokens: list[Token] = state.tokens
    i = 0
    while i + 2 < len(tokens):
        t = tokens[i]
        if not (t.type == "paragraph_open" and _is_single(tokens[i + 1], "image")):
            i += 1
            continue
        t.tag = "figure"
        close = tokens[i + 2]
        close.tag = "figure"
        j = i + 3
        has_caption = (
            j + 2 < len(tokens)
            and tokens[j].type == "paragraph_open"
            and _is_single(tokens[j + 1], "em")
            and _CAPTION_NUMBER.match(tokens[j + 1].content.strip("*_ "))
        )
        if has_caption:
            caption = tokens[j + 1]
            number = _CAPTION_NUMBER.match(caption.content.strip("*_ "))
            assert number is not None
            t.attrSet("id", "figure-" + number.group(1).replace(".", "-"))
            caption.children = (caption.children or [])[1:-1]  # drop the emphasis
            tokens[j].tag = tokens[j + 2].tag = "figcaption"
            del tokens[i + 2]  # the figure now closes after its caption
            tokens.insert(j + 2, close)
            i = j + 3
        else:
            i += 3


def _parser(image_src: ImageSource) -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "typographer": False})
    md.enable("table")
    md.use(dollarmath_plugin, allow_digits=False, allow_space=False, renderer=_math)
    md.use(anchors_plugin, min_level=1, max_level=6, slug_func=slugify)
    md.core.ruler.push("figures", _figures)

    def image(self, tokens, idx, options, env) -> str:
        token = tokens[idx]
        src = str(token.attrGet("src") or "")
        alt = self.renderInlineAsText(token.children or [], options, env)
        resolved = image_src(src)
        if resolved is None:
            return f"<em>[missing figure: {html.escape(src)}]</em>"
        panels = png_panels(resolved)
        row = panel_row(resolved, panels, alt) if panels >= 2 else None
        if row is not None:  # several panels: cut apart, stacked on a narrow screen
            return row
        return f'<img src="{html.escape(resolved, quote=True)}" alt="{html.escape(alt)}">'

    def table_open(self, tokens, idx, options, env) -> str:
        return '<div class="table-wrap">\n' + self.renderToken(tokens, idx, options, env)

    def table_close(self, tokens, idx, options, env) -> str:
        return self.renderToken(tokens, idx, options, env) + "</div>\n"

    md.add_render_rule("image", image)
    md.add_render_rule("table_open", table_open)
    md.add_render_rule("table_close", table_close)
    return md


def _plain_text(inline: Token) -> str:
    """The text of an inline token without its markup (for navigation links)."""
    parts = []
    for child in inline.children or []:
        if child.type in ("text", "code_inline", "math_inline"):
            parts.append(child.content)
        elif child.children:
            parts.append(_plain_text(child))
    return "".join(parts)


def _render(markdown: str, image_src: ImageSource) -> tuple[str, list[tuple[int, str, str]]]:
    """The HTML fragment and its headings as (level, anchor, plain text)."""
    md = _parser(image_src)
    env: dict = {}
    tokens = md.parse(markdown, env)
    headings = []
    for k, t in enumerate(tokens):
        if t.type == "heading_open":
            text = _plain_text(tokens[k + 1])
            headings.append((int(t.tag[1]), str(t.attrGet("id")), text))
    return md.renderer.render(tokens, md.options, env), headings


def markdown_to_html(markdown: str, image_src: ImageSource | None = None) -> str:
    """Markdown -> an HTML fragment (see the module docstring for what it understands).

    ``image_src`` maps each image link to the ``src`` to emit (None drops the image and
    shows "[missing figure: ...]" instead); by default links are kept as written.
    """
    body, _ = _render(markdown, image_src or (lambda s: s))
    return body.rstrip("\n")


def _navigation(headings: list[tuple[int, str, str]]) -> str:
    """Nested list of links to the h2 and h3 headings."""
    items: list[str] = []
    open_sub = False
    for level, anchor, text in headings:
        if level not in (2, 3):
            continue
        link = f'<a href="#{html.escape(anchor, quote=True)}">{html.escape(text)}</a>'
        if level == 2:
            if open_sub:
                items.append("</ul></li>")
                open_sub = False
            elif items:
                items.append("</li>")
            items.append(f"<li>{link}")
        else:
            if not items:  # an h3 before any h2: list it at the top level
                items.append(f"<li>{link}</li>")
                continue
            if not open_sub:
                items.append("<ul>")
                open_sub = True
            items.append(f"<li>{link}</li>")
    if items:
        items.append("</ul></li>" if open_sub else "</li>")
    return "<ul>" + "".join(items) + "</ul>"


def markdown_to_html_document(
    markdown: str,
    *,
    title: str,
    base_dir: str | Path | None = None,
) -> str:
    """A complete page; images (relative to ``base_dir``) are inlined as data: URIs."""
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    body, headings = _render(markdown, lambda src: _inline_image(base, src))
    nav = _navigation(headings)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<style>{CSS}</style>\n</head>\n<body>\n"
        '<a class="skip" href="#main">Skip to the text</a>\n'
        f'<details class="top-menu"><summary>Contents</summary>'
        f'<nav aria-label="Contents">{nav}</nav></details>\n'
        '<div class="layout">\n'
        f'<nav class="side" aria-label="Sections">{nav}</nav>\n'
        f'<main id="main">\n{body}</main>\n</div>\n</body>\n</html>\n'
    )


_MIME = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".svg": "image/svg+xml"}


def _inline_image(base: Path, src: str) -> str | None:
    """``src`` relative to ``base`` -> a data: URI; None (image dropped) if it is missing."""
    if src.startswith("data:"):
        return src
    if re.match(r"^[a-z]+:", src):  # a remote image would make the page depend on the network
        return None
    path = base / src
    mime = _MIME.get(path.suffix.lower())
    if mime is None or not path.is_file():
        return None
    return f"data:{mime};base64," + base64.b64encode(path.read_bytes()).decode("ascii")
