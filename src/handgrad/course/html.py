"""A notebook as one HTML page that reads offline: ``handgrad course --html``.

nbconvert's own HTML export leaves the formulas as ``$...$`` for MathJax to typeset in the
browser, and MathJax comes from a CDN: offline, a learner reads raw LaTeX. Here each
Markdown cell goes through the report's converter first (LaTeX -> MathML, which browsers
draw themselves), then nbconvert lays out the page with the cells' outputs (figures are
embedded in it). nbconvert's page has no rules for MathML, so the page gets the report's:
display formulas spaced apart (without them a chain of derivatives, one per line, is drawn
touching, fraction bars on fraction bars) and a formula too wide for the screen scrolling in
its own box; a code block of the text gets a box like the code cells'. The page is written
beside the notebook, NAME.html, replacing an older export of it; the notebook itself is only
read.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["export_html", "export_folder"]

# the report's rules for formulas (report/style.py), for nbconvert's page; the formulas keep
# the text's size (the report's are 8 % larger), so chapter 6's widest one fits a 360 px phone
PAGE_CSS = """
.math-wide { display: inline-block; max-width: 100%; overflow-x: auto; overflow-y: hidden;
             vertical-align: middle; }
math[display="block"] { display: block math; overflow-x: auto; overflow-y: hidden;
                        margin: .9em 0; padding: .2em 0; }
.jp-RenderedMarkdown pre { background: var(--jp-cell-editor-background, #f5f5f5);
                           padding: .5em .8em; overflow-x: auto; }
"""

_MISSING = (
    "the HTML export needs nbconvert, which comes with the notebook extra: "
    "pip install 'handgrad[notebook]'"
)


def export_html(notebook: str | os.PathLike) -> Path:
    """Write ``notebook``'s page, formulas as MathML, to ``<same name>.html``; its path."""
    try:
        import nbconvert
        import nbformat
    except ImportError:
        raise ImportError(_MISSING) from None
    from ..io import write_text
    from ..report.markdown import markdown_to_html

    path = Path(notebook)
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = markdown_to_html(cell.source)
    exporter = nbconvert.HTMLExporter(template_name="lab")
    page, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": path.stem}})
    page = page.replace("</head>", f"<style>{PAGE_CSS}</style>\n</head>", 1)
    target = path.with_suffix(".html")
    write_text(target, page)
    return target


def export_folder(folder: str | os.PathLike) -> list[Path]:
    """Export every notebook in ``folder`` (not its subfolders), in name order."""
    root = Path(folder)
    if not root.is_dir():
        raise NotADirectoryError(f"{root} is not a folder of notebooks")
    found = sorted(p for p in root.glob("*.ipynb") if p.is_file())
    if not found:
        raise FileNotFoundError(f"no notebook (*.ipynb) in {root}")
    return [export_html(p) for p in found]
