"""Reports: the tour's report.md and a self-contained report.html, plus the Markdown converter.

``write_tour_report`` gathers each experiment's folder (section.md, metrics.json with its
figures and captions, or the error that stopped it) into one document that also states the
seed, the package versions and the machine. The HTML has every figure inlined as a base64
PNG and its stylesheet inline: no external resource, one file to mail or archive.

``markdown_to_html`` converts the subset of Markdown the sections use -- ATX headings,
paragraphs, bullet and numbered lists (nested by indentation), pipe tables, fenced and
indented code blocks, block quotes, rules, inline code, bold, italics, links and images.
Math (``$...$``, ``$$...$$``, ``\\(...\\)``) is left as text, protected from the emphasis
rules. Raw HTML in the input is escaped, never passed through.
"""

from __future__ import annotations

import base64
import html
import importlib.metadata
import json
import os
import platform
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from .io import atomic_write

__all__ = [
    "SectionEntry",
    "environment",
    "markdown_to_html",
    "markdown_to_html_document",
    "slugify",
    "write_tour_report",
]


# --- what ran, and where --------------------------------------------------------------------


@dataclass
class SectionEntry:
    """One experiment of the tour: its folder, and the error if it failed."""

    name: str
    title: str
    stage: str
    folder: Path
    error: str | None = None  # "ExceptionType: message"
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.error is None


def _version(dist: str, module: str | None = None) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        pass
    try:
        mod = __import__(module or dist)
        return str(getattr(mod, "__version__", "unknown"))
    except ImportError:
        return "not installed"


def _blas() -> str:
    """The BLAS numpy runs on: threadpoolctl's view (if installed), else numpy's build config."""
    try:
        from threadpoolctl import threadpool_info

        pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
        if pools:
            return "; ".join(
                f"{p.get('internal_api')} {p.get('version') or ''}".strip()
                + f" ({p.get('num_threads')} threads"
                + (f", {p['architecture']}" if p.get("architecture") else "")
                + ")"
                for p in pools
            )
    except Exception:  # noqa: BLE001 - a report must not fail over a diagnostics probe
        pass
    try:
        import numpy as np

        config = np.show_config(mode="dicts")
        blas = config.get("Build Dependencies", {}).get("blas", {})
        if blas:
            return f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:  # noqa: BLE001
        pass
    return "unknown"


def environment() -> dict[str, str]:
    """Versions and machine facts for the report header."""
    return {
        "python": platform.python_version(),
        "numpy": _version("numpy"),
        "matplotlib": _version("matplotlib"),
        "scikit-learn": _version("scikit-learn", "sklearn"),
        "handgrad": _version("handgrad"),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu count": str(os.cpu_count()),
        "BLAS": _blas(),
    }


# --- the tour report ------------------------------------------------------------------------


_IMAGE_LINK = re.compile(r"(!\[[^\]]*\]\()([^)\s]+)(\))")


def _rebase_images(markdown: str, prefix: str) -> str:
    """Point relative image links of a section at its folder (``prefix/``) in the report."""

    def fix(m: re.Match) -> str:
        target = m.group(2)
        if re.match(r"^[a-z]+:", target) or target.startswith("/"):
            return m.group(0)
        return f"{m.group(1)}{prefix}/{target}{m.group(3)}"

    return _IMAGE_LINK.sub(fix, markdown)


def _section_markdown(entry: SectionEntry, number: int, root: Path) -> str:
    """The section's Markdown, its heading numbered, its figures and captions after it."""
    rel = Path(os.path.relpath(entry.folder, root)).as_posix()
    heading = f"## {number}. {entry.title}"
    if not entry.ok:
        stage = f"*{entry.stage}*\n\n" if entry.stage.strip() else ""
        text = (
            f"{heading}\n\n{stage}"
            f"**This experiment failed** and has no results:\n\n```\n{entry.error}\n```\n\n"
            f"The traceback is in `{rel}/error.txt`; run it alone with "
            f"`handgrad run {entry.name}`.\n"
        )
        return text
    section_file = entry.folder / "section.md"
    body = section_file.read_text(encoding="utf-8") if section_file.exists() else ""
    lines = body.strip().splitlines()
    if lines and lines[0].startswith("## "):  # ExperimentResult.write puts the title there
        lines = lines[1:]
    body = _rebase_images("\n".join(lines).strip(), rel)
    figures = _figures(entry.folder)
    parts = [heading, "", body, ""]
    for k, (path, caption) in enumerate(figures, 1):
        link = f"{rel}/{path.name}"
        if f"]({link})" in body:  # the section already placed this figure itself
            continue
        parts += [f"![{caption}]({link})", "", f"*Figure {number}.{k}: {caption}*", ""]
    return "\n".join(parts)


def _figures(folder: Path) -> list[tuple[Path, str]]:
    try:
        payload = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [(folder / f["path"], str(f.get("caption", ""))) for f in payload.get("figures", [])]


def _heading_title(entry: SectionEntry, number: int) -> str:
    return f"{number}. {entry.title}"


def tour_markdown(
    entries: list[SectionEntry],
    root: Path,
    *,
    seed: int,
    quick: bool,
    command: str = "",
    env: dict[str, str] | None = None,
) -> str:
    """The whole report in Markdown (figure links relative to ``root``)."""
    env = env or environment()
    failed = [e for e in entries if not e.ok]
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        "# handgrad: the curriculum, measured",
        "",
        f"{len(entries)} experiments, seed **{seed}**, "
        f"{'quick mode (small sizes, few epochs)' if quick else 'full mode'}; "
        f"{len(entries) - len(failed)} succeeded, {len(failed)} failed. Written {when}"
        + (f" by `{command}`." if command else "."),
        "",
        "## Contents",
        "",
        "| # | experiment | answers | status | seconds |",
        "| ---: | --- | --- | --- | ---: |",
    ]
    for i, e in enumerate(entries, 1):
        anchor = slugify(_heading_title(e, i))
        status = "ok" if e.ok else "**failed**"
        lines.append(
            f"| {i} | [{_cell(e.title)}](#{anchor}) | {_cell(e.stage)} | {status} | "
            f"{e.seconds:.1f} |"
        )
    lines += [
        "",
        "- [Run environment](#run-environment)",
        "",
        "## Run environment",
        "",
        "| | |",
        "| --- | --- |",
        f"| seed | {seed} |",
        f"| mode | {'quick' if quick else 'full'} |",
    ]
    lines += [f"| {k} | {_cell(v)} |" for k, v in env.items()]
    lines.append("")
    for i, e in enumerate(entries, 1):
        lines += [_section_markdown(e, i, root).rstrip(), ""]
    return "\n".join(lines)


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def write_tour_report(
    entries: list[SectionEntry],
    root: str | Path,
    *,
    seed: int,
    quick: bool,
    command: str = "",
) -> tuple[Path, Path]:
    """Write ``root/report.md`` and the self-contained ``root/report.html``; return both."""
    root = Path(root)
    md = tour_markdown(entries, root, seed=seed, quick=quick, command=command)
    md_path = atomic_write(root / "report.md", lambda fh: fh.write(md.encode()))
    page = markdown_to_html_document(md, title="handgrad: the curriculum, measured", base_dir=root)
    html_path = atomic_write(root / "report.html", lambda fh: fh.write(page.encode()))
    return md_path, html_path


# --- Markdown -> HTML -----------------------------------------------------------------------

_CSS = """
body { font: 16px/1.55 system-ui, -apple-system, "Segoe UI", sans-serif; color: #1d1d1f;
       max-width: 60rem; margin: 2rem auto; padding: 0 1.2rem; }
h1, h2, h3, h4 { line-height: 1.25; margin-top: 1.8em; }
h2 { border-bottom: 1px solid #ddd; padding-bottom: .2em; }
code { font: .92em/1.4 ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace;
       background: #f3f3f5; padding: .1em .3em; border-radius: 3px; }
pre { background: #f6f6f8; padding: .8em 1em; overflow-x: auto; border-radius: 4px; }
pre code { background: none; padding: 0; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #d6d6da; padding: .3em .7em; vertical-align: top; }
th { background: #f3f3f5; }
figure { margin: 1.2em 0; }
figure img, p img { max-width: 100%; height: auto; }
figcaption { color: #555; font-size: .92em; }
blockquote { margin: 1em 0; padding: 0 1em; color: #555; border-left: 4px solid #ddd; }
"""


def markdown_to_html_document(
    markdown: str,
    *,
    title: str,
    base_dir: str | Path | None = None,
) -> str:
    """A complete HTML page; images (relative to ``base_dir``) are inlined as data: URIs."""
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    body = markdown_to_html(markdown, image_src=lambda src: _inline_image(base, src))
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n"
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<style>{_CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
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


def slugify(text: str) -> str:
    """GitHub-style heading anchor: lower case, punctuation dropped, spaces -> hyphens."""
    text = re.sub(r"[`*_]", "", text.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


@dataclass
class _Block:
    kind: str
    lines: list[str] = field(default_factory=list)
    extra: str = ""


_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(`{3,}|~{3,})\s*([\w+-]*)\s*$")
_BULLET = re.compile(r"^(\s*)([-*+]|\d{1,9}[.)])\s+(.*)$")
_RULE = re.compile(r"^\s*([-*_])(\s*\1){2,}\s*$")
_CAPTION = re.compile(r"\*(?=[^*\s])[^*]*(?<=\S)\*|_(?=[^_\s])[^_]*(?<=\S)_")
_TABLE_SEP = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")


def markdown_to_html(markdown: str, image_src: Callable[[str], str | None] | None = None) -> str:
    """Convert the Markdown subset of the module docstring to an HTML fragment.

    ``image_src`` maps each image link to the ``src`` to emit (None drops the image and
    keeps its alt text); by default links are kept as written.
    """
    converter = _Converter(image_src or (lambda s: s))
    return converter.blocks(markdown.replace("\r\n", "\n").split("\n"))


class _Converter:
    def __init__(self, image_src: Callable[[str], str | None]):
        self.image_src = image_src
        self.slugs: dict[str, int] = {}

    # block level

    def blocks(self, lines: list[str]) -> str:
        out: list[str] = []
        i = 0
        while i < len(lines):
            line = lines[i]
            if not line.strip():
                i += 1
                continue
            fence = _FENCE.match(line)
            if fence:
                i = self._code(lines, i, fence, out)
                continue
            heading = _HEADING.match(line)
            if heading:
                out.append(self._heading(len(heading.group(1)), heading.group(2)))
                i += 1
                continue
            if _RULE.match(line):
                out.append("<hr>")
                i += 1
                continue
            if line.lstrip().startswith(">"):
                j = i
                while j < len(lines) and lines[j].lstrip().startswith(">"):
                    j += 1
                inner = [re.sub(r"^\s*> ?", "", x) for x in lines[i:j]]
                out.append(f"<blockquote>\n{self.blocks(inner)}\n</blockquote>")
                i = j
                continue
            if "|" in line and i + 1 < len(lines) and _TABLE_SEP.match(lines[i + 1]):
                i = self._table(lines, i, out)
                continue
            if _BULLET.match(line):
                i = self._list(lines, i, out)
                continue
            if line.startswith(("    ", "\t")):
                i = self._indented_code(lines, i, out)
                continue
            i = self._paragraph(lines, i, out)
        return "\n".join(out)

    def _heading(self, level: int, text: str) -> str:
        slug = slugify(text)
        n = self.slugs.get(slug, 0)
        self.slugs[slug] = n + 1
        anchor = slug if n == 0 else f"{slug}-{n}"
        return f'<h{level} id="{html.escape(anchor)}">{self.inline(text)}</h{level}>'

    def _code(self, lines: list[str], i: int, fence: re.Match, out: list[str]) -> int:
        marker, lang = fence.group(1), fence.group(2)
        body = []
        j = i + 1
        while j < len(lines) and not lines[j].strip().startswith(marker):
            body.append(lines[j])
            j += 1
        cls = f' class="language-{html.escape(lang)}"' if lang else ""
        out.append(f"<pre><code{cls}>{html.escape(chr(10).join(body))}</code></pre>")
        return j + 1

    def _indented_code(self, lines: list[str], i: int, out: list[str]) -> int:
        """Lines indented by four spaces (or a tab), blank lines inside kept: a code block."""
        body = []
        j = i
        while j < len(lines) and (lines[j].startswith(("    ", "\t")) or not lines[j].strip()):
            body.append(lines[j][4:] if lines[j].startswith("    ") else lines[j][1:])
            j += 1
        while body and not body[-1].strip():  # trailing blank lines belong to the gap
            body.pop()
        out.append(f"<pre><code>{html.escape(chr(10).join(body))}</code></pre>")
        return j

    def _table(self, lines: list[str], i: int, out: list[str]) -> int:
        head = _cells(lines[i])
        aligns = []
        for spec in _cells(lines[i + 1]):
            left, right = spec.startswith(":"), spec.endswith(":")
            aligns.append(
                "center" if left and right else "right" if right else "left" if left else ""
            )
        j = i + 2
        rows = []
        while j < len(lines) and lines[j].strip() and "|" in lines[j]:
            rows.append(_cells(lines[j]))
            j += 1

        def row_html(cells: list[str], tag: str) -> str:
            tds = []
            for k in range(len(head)):
                text = cells[k] if k < len(cells) else ""
                align = aligns[k] if k < len(aligns) and aligns[k] else ""
                style = f' style="text-align: {align}"' if align else ""
                tds.append(f"<{tag}{style}>{self.inline(text)}</{tag}>")
            return "<tr>" + "".join(tds) + "</tr>"

        parts = ["<table>", "<thead>", row_html(head, "th"), "</thead>", "<tbody>"]
        parts += [row_html(r, "td") for r in rows]
        parts += ["</tbody>", "</table>"]
        out.append("\n".join(parts))
        return j

    def _list(self, lines: list[str], i: int, out: list[str]) -> int:
        """A list and its nested lists: items start with a marker; deeper indents nest."""
        first = _BULLET.match(lines[i])
        indent = len(first.group(1))
        ordered = first.group(2)[0].isdigit()
        items: list[list[str]] = []
        loose = False  # items separated by blank lines: each item's text is a paragraph
        j = i
        while j < len(lines):
            line = lines[j]
            if not line.strip():
                # a blank line ends the list unless the next line continues it: an item of
                # the same list (then the list is loose) or content indented under an item
                nxt = lines[j + 1] if j + 1 < len(lines) else ""
                m = _BULLET.match(nxt)
                lead = len(nxt) - len(nxt.lstrip())
                same_list = bool(m) and lead == indent and m.group(2)[0].isdigit() == ordered
                deeper = bool(nxt.strip()) and lead > indent
                if not (same_list or deeper):
                    break
                loose = loose or same_list or not m
                items[-1].append("")
                j += 1
                continue
            m = _BULLET.match(line)
            lead = len(line) - len(line.lstrip())
            if m and lead == indent:
                if m.group(2)[0].isdigit() != ordered:
                    break
                items.append([m.group(3)])
            elif lead > indent and items:
                items[-1].append(line[min(lead, indent + 2) :] if m else line.strip())
            elif items and not m and not _starts_block(line):
                items[-1].append(line.strip())  # lazy continuation of the item's paragraph
            else:
                break
            j += 1
        tag = "ol" if ordered else "ul"
        start = ""
        if ordered:
            n = int(re.match(r"\d+", first.group(2)).group(0))
            start = f' start="{n}"' if n != 1 else ""
        html_items = []
        for item in items:
            if loose:
                html_items.append(f"<li>\n{self.blocks(item)}\n</li>")
                continue
            text, nested = _split_item(item)
            inner = self.inline(" ".join(text))
            if nested:
                inner += "\n" + self.blocks(nested)
            html_items.append(f"<li>{inner}</li>")
        out.append(f"<{tag}{start}>\n" + "\n".join(html_items) + f"\n</{tag}>")
        return j

    def _paragraph(self, lines: list[str], i: int, out: list[str]) -> int:
        j = i
        para = []
        while j < len(lines) and lines[j].strip():
            if j > i and (_starts_block(lines[j])):
                break
            para.append(lines[j].strip())
            j += 1
        text = " ".join(para)
        single_image = re.fullmatch(r"!\[([^\]]*)\]\(([^)\s]+)\)", text)
        if not single_image:
            out.append(f"<p>{self.inline(text)}</p>")
            return j
        # an image alone in its paragraph is a figure; a following paragraph that is one
        # emphasized line ("*Figure 2: ...*") is its caption
        caption = None
        k = j
        while k < len(lines) and not lines[k].strip():
            k += 1
        if (
            k < len(lines)
            and _CAPTION.fullmatch(lines[k].strip())
            and (k + 1 == len(lines) or not lines[k + 1].strip())
        ):
            caption, j = lines[k].strip()[1:-1], k + 1
        out.append(self._figure(single_image.group(1), single_image.group(2), caption))
        return j

    def _figure(self, alt: str, src: str, caption: str | None = None) -> str:
        resolved = self.image_src(src)
        if resolved is None:
            return f"<p><em>[missing figure: {html.escape(src)}]</em></p>"
        cap = f"<figcaption>{self.inline(caption)}</figcaption>" if caption else ""
        return (
            f'<figure><img src="{html.escape(resolved, quote=True)}" '
            f'alt="{html.escape(alt, quote=True)}">{cap}</figure>'
        )

    # inline level

    def inline(self, text: str) -> str:
        """Escape, then apply inline rules; code and math spans are kept verbatim."""
        stash: list[str] = []

        def keep(fragment: str) -> str:
            stash.append(fragment)
            return f"\x00{len(stash) - 1}\x00"

        text = re.sub(r"`([^`]+)`", lambda m: keep(f"<code>{html.escape(m.group(1))}</code>"), text)
        text = re.sub(
            r"\$\$(.+?)\$\$|\$(?=\S)([^$\n]*?\S)\$(?!\d)|\\\((.+?)\\\)",
            lambda m: keep(html.escape(m.group(0))),
            text,
        )
        text = re.sub(
            r"!\[([^\]]*)\]\(([^)\s]+)\)", lambda m: keep(self._inline_img(*m.groups())), text
        )
        text = re.sub(r"\\([\\`*_{}\[\]()#+\-.!|$])", lambda m: keep(html.escape(m.group(1))), text)
        text = html.escape(text, quote=False)
        text = re.sub(
            r"\[([^\]]+)\]\(([^)\s]+)\)",
            lambda m: f'<a href="{html.escape(html.unescape(m.group(2)))}">{m.group(1)}</a>',
            text,
        )
        text = re.sub(r"\*\*(?=\S)(.+?)(?<=\S)\*\*", r"<strong>\1</strong>", text)
        text = re.sub(r"(?<![\w*])__(?=\S)(.+?)(?<=\S)__(?![\w*])", r"<strong>\1</strong>", text)
        text = re.sub(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])", r"<em>\1</em>", text)
        text = re.sub(r"(?<![\w_])_(?=\S)(.+?)(?<=\S)_(?![\w_])", r"<em>\1</em>", text)
        return re.sub(r"\x00(\d+)\x00", lambda m: stash[int(m.group(1))], text)

    def _inline_img(self, alt: str, src: str) -> str:
        resolved = self.image_src(src)
        if resolved is None:
            return f"<em>[missing figure: {html.escape(src)}]</em>"
        return (
            f'<img src="{html.escape(resolved, quote=True)}" alt="{html.escape(alt, quote=True)}">'
        )


def _cells(line: str) -> list[str]:
    """The cells of a pipe-table row (outer pipes optional, ``\\|`` is a literal pipe)."""
    s = line.strip()
    if s.startswith("|"):
        s = s[1:]
    if s.endswith("|") and not s.endswith("\\|"):
        s = s[:-1]
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", s)]


def _starts_block(line: str) -> bool:
    return bool(
        _HEADING.match(line)
        or _FENCE.match(line)
        or _BULLET.match(line)
        or line.lstrip().startswith(">")
        or _RULE.match(line)
    )


def _split_item(item: list[str]) -> tuple[list[str], list[str]]:
    """An item's own text lines, and the nested block (from its first nested marker on)."""
    for k, line in enumerate(item[1:], 1):
        if _BULLET.match(line) or _FENCE.match(line):
            return [x for x in item[:k] if x], item[k:]
    return [x for x in item if x], []
