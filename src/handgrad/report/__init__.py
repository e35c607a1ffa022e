"""Reports: the tour's report.md and its self-contained report.html.

``write_tour_report`` gathers each experiment's folder (section.md, metrics.json with its
figures and captions, or the error that stopped it) into one document that also states the
seed, the package versions and the machine; ``write_experiment_report`` does the same for
one experiment (``handgrad run NAME``). Figures are numbered per section ("Figure 3.2"), and
a section that names a figure by its file name links to it by number instead. The Markdown
keeps formulas as LaTeX; the HTML (see ``report.markdown``) renders them as MathML and inlines
every figure: no script, no external resource, one file to mail or archive.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import platform
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..io import write_text
from .markdown import markdown_to_html, markdown_to_html_document, slugify

__all__ = [
    "SectionEntry",
    "environment",
    "markdown_to_html",
    "markdown_to_html_document",
    "slugify",
    "tour_markdown",
    "write_experiment_report",
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
    skipped: list[str] = field(default_factory=list)  # parts that did not run, and why

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
    """The BLAS libraries loaded, NumPy's first (the one training runs on), each named by the
    package that ships it: threadpoolctl's view (if installed), else NumPy's build config."""
    try:
        from threadpoolctl import threadpool_info

        pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
        if pools:
            pools.sort(key=lambda p: (_shipped_by(p) != "numpy", _shipped_by(p), p["filepath"]))
            return "; ".join(_describe_pool(p) for p in pools)
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


def _shipped_by(pool: dict[str, Any]) -> str:
    """The package whose wheel holds the library ("numpy" for .../numpy.libs/...), or ""."""
    folder = Path(pool.get("filepath", "")).parent.name
    return folder.removesuffix(".libs") if folder.endswith(".libs") else ""


def _describe_pool(pool: dict[str, Any]) -> str:
    """e.g. "numpy: openblas 0.3.30 (2 threads, SkylakeX)"."""
    owner = _shipped_by(pool)
    name = f"{pool.get('internal_api')} {pool.get('version') or ''}".strip()
    details = f"{pool.get('num_threads')} threads"
    if pool.get("architecture"):
        details += f", {pool['architecture']}"
    return f"{owner + ': ' if owner else ''}{name} ({details})"


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


def _status(entry: SectionEntry) -> str:
    """The contents table's status cell: ok, failed, or what was skipped and how to enable it."""
    if not entry.ok:
        return "**failed**"
    if entry.skipped:
        return "ok; skipped " + "; ".join(entry.skipped)
    return "ok"


def _figure_references(body: str, figures: list[tuple[str, str]]) -> str:
    """Mentions of a figure's file name (``loss.png`` or `` `loss.png` ``) -> a link by number.

    ``figures`` holds (file name, "N.M"); image links (``](x/loss.png)``) are left alone.
    """
    for name, number in figures:
        # "the figure `loss.png`" -> "the Figure 1.2", not "the figure Figure 1.2"
        file = re.escape(name)
        pattern = re.compile(rf"(?:\b[Ff]igure )?(?:`{file}`|(?<![(/\w.-]){file}(?![\w-]))")
        link = f"[Figure {number}](#figure-{number.replace('.', '-')})"
        body = pattern.sub(link, body)
    return body


def _section_markdown(entry: SectionEntry, number: int, root: Path) -> str:
    """The section's Markdown, its heading numbered, its figures and captions after it."""
    rel = Path(os.path.relpath(entry.folder, root)).as_posix()
    heading = f"## {_heading_title(entry, number)}"
    if not entry.ok:
        stage = f"*{entry.stage}*\n\n" if entry.stage.strip() else ""
        return (
            f"{heading}\n\n{stage}"
            f"**This experiment failed** and has no results:\n\n```\n{entry.error}\n```\n\n"
            f"The traceback is in `{rel}/error.txt`; run it alone with "
            f"`handgrad run {entry.name}`.\n"
        )
    section_file = entry.folder / "section.md"
    body = section_file.read_text(encoding="utf-8") if section_file.exists() else ""
    lines = body.strip().splitlines()
    if lines and lines[0].startswith("## "):  # ExperimentResult.write puts the title there
        lines = lines[1:]
    body = _rebase_images("\n".join(lines).strip(), rel)
    figures = _figures(entry.folder)
    numbered = [(path.name, f"{number}.{k}") for k, (path, _) in enumerate(figures, 1)]
    body = _figure_references(body, numbered)
    parts = [heading, "", body, ""]
    if entry.skipped:
        parts += ["**Skipped here:** " + "; ".join(entry.skipped) + ".", ""]
    for (path, caption), (_, label) in zip(figures, numbered):
        link = f"{rel}/{path.name}"
        if f"]({link})" in body:  # the section placed this figure itself: caption it there
            parts[2] = _caption_placed_figure(parts[2], link, f"*Figure {label}: {caption}*")
            continue
        parts += [f"![{caption}]({link})", "", f"*Figure {label}: {caption}*", ""]
    return "\n".join(parts)


def _caption_placed_figure(body: str, link: str, caption: str) -> str:
    """Put ``caption`` after the image line that shows ``link`` (unless one is there)."""
    lines = body.split("\n")
    for i, line in enumerate(lines):
        if re.fullmatch(r"!\[[^\]]*\]\(" + re.escape(link) + r"\)", line.strip()):
            following = next((x.strip() for x in lines[i + 1 :] if x.strip()), "")
            if not following.lstrip("*_").startswith("Figure"):
                lines[i : i + 1] = [line, "", caption, ""]
            break
    return "\n".join(lines)


def _figures(folder: Path) -> list[tuple[Path, str]]:
    try:
        payload = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [(folder / f["path"], str(f.get("caption", ""))) for f in payload.get("figures", [])]


def skipped_parts(folder: Path) -> list[str]:
    """What an experiment's metrics.json says was skipped (empty when nothing was)."""
    try:
        payload = json.loads((folder / "metrics.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [str(s) for s in payload.get("skipped", [])]


def _heading_title(entry: SectionEntry, number: int) -> str:
    """A chapter's title already carries its number ('3 · Nonlinearity: ...'); others get one."""
    if entry.title.split(" · ")[0].isdigit():
        return entry.title
    return f"{number}. {entry.title}"


TOUR_TITLE = "handgrad: the curriculum, measured"


def tour_markdown(
    entries: list[SectionEntry],
    root: Path,
    *,
    seed: int,
    quick: bool,
    command: str = "",
    env: dict[str, str] | None = None,
    title: str = TOUR_TITLE,
) -> str:
    """The whole report in Markdown (figure links relative to ``root``)."""
    env = env or environment()
    failed = [e for e in entries if not e.ok]
    when = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    count = f"{len(entries)} experiment{'s' if len(entries) != 1 else ''}"
    lines = [
        f"# {title}",
        "",
        f"{count}, seed **{seed}**, "
        f"{'quick mode (small sizes, few epochs)' if quick else 'full mode'}; "
        f"{len(entries) - len(failed)} succeeded, {len(failed)} failed. Written {when}"
        + (f" by `{command}`." if command else "."),
        "",
        "Each section opens with the question it answers, then the numbers this run "
        "measured; figures are numbered per section (Figure 3.2 is the second figure of "
        "section 3). Full-precision values are in each experiment's `metrics.json`.",
        "",
        "## Contents",
        "",
        "| # | experiment | answers | status | seconds |",
        "| ---: | --- | --- | --- | ---: |",
    ]
    for i, e in enumerate(entries, 1):
        anchor = slugify(_heading_title(e, i))
        lines.append(
            f"| {i} | [{_cell(e.title)}](#{anchor}) | {_cell(e.stage)} | {_cell(_status(e))} | "
            f"{e.seconds:.1f} |"
        )
    lines += [
        "",
        "## Run environment",
        "",
        "| | value |",
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
    title: str = TOUR_TITLE,
) -> tuple[Path, Path]:
    """Write ``root/report.md`` and the self-contained ``root/report.html``; return both."""
    root = Path(root)
    md = tour_markdown(entries, root, seed=seed, quick=quick, command=command, title=title)
    md_path = write_text(root / "report.md", md)
    page = markdown_to_html_document(md, title=title, base_dir=root)
    html_path = write_text(root / "report.html", page)
    return md_path, html_path


def write_experiment_report(
    entry: SectionEntry, *, seed: int, quick: bool, command: str = ""
) -> tuple[Path, Path]:
    """One experiment's report.md and self-contained report.html, in its own folder."""
    return write_tour_report(
        [entry],
        entry.folder,
        seed=seed,
        quick=quick,
        command=command,
        title=f"handgrad: {entry.title}",
    )
