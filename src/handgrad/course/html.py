"""A notebook as one HTML page that reads offline: ``handgrad course --html``.

nbconvert's own HTML export leaves the formulas as ``$...$`` for MathJax to typeset in the
browser, and MathJax comes from a CDN: offline, a learner reads raw LaTeX. Here each
Markdown cell goes through the report's converter first (LaTeX -> MathML, which browsers
draw themselves), then nbconvert lays out the page with the cells' outputs (figures are
embedded in it). The page is written beside the notebook, NAME.html, replacing an older
export of it; the notebook itself is only read.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["export_html", "export_folder"]

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
