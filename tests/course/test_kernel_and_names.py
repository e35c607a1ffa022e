"""handgrad leaves matplotlib alone in a kernel; no user-facing text names the source documents."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

import handgrad
from handgrad.experiments.tour import run_tour

ROOT = Path(__file__).resolve().parents[2]

# "seed 002", "Seed 000's", "seeds 003 and 004", "Stage 5", "003 K1", "004 Q2": names of the
# documents the course was written from, which a learner never sees ("seed" alone is fine: it
# means a random seed)
SOURCE_NAMES = re.compile(
    r"\bseeds? ?0\d\d\b|\bseed0\d\d\b|\bstages? \d\b|\b00\d ?[A-Z]\d\b|\b00\d (?:Part|stage)\b",
    re.IGNORECASE,
)


def source_names(text: str) -> list[str]:
    return [m.group(0) for m in SOURCE_NAMES.finditer(text)]


def test_the_pattern_finds_the_document_names_and_spares_random_seeds():
    found = source_names("seed 002's backprop; Seed 000, Stage 7; 003 K1; 004 Q2; seeds 003")
    assert found == ["seed 002", "Seed 000", "Stage 7", "003 K1", "004 Q2", "seeds 003"]
    assert source_names("--seed 0, seeds 0-2, random seed 1, 3 seeds, seed 42, seed=7") == []


def test_readme_and_docs_name_no_source_document():
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("**/*.md"))]
    found = {str(p.relative_to(ROOT)): source_names(p.read_text()) for p in pages}
    assert {k: v for k, v in found.items() if v} == {}


def test_the_notebooks_name_no_source_document():
    nbformat = pytest.importorskip("nbformat", reason="the test extra installs nbformat")
    from handgrad import course

    found = {
        path.name: source_names("\n".join(c.source for c in nbformat.read(path, 4).cells))
        for path in course.notebooks()
    }
    assert len(found) == 11 and {k: v for k, v in found.items() if v} == {}


@pytest.mark.slow
def test_the_rendered_report_names_no_source_document(tmp_path):
    run_tour(["linear-fit", "xor"], tmp_path, quick=True)
    for page in ("report.md", "report.html"):
        text = (tmp_path / page).read_text()
        assert "1 · A line by gradient descent" in text and "5 · XOR and symmetry" in text
        assert source_names(text) == [], page


@pytest.mark.slow
def test_plt_show_still_draws_inline_after_importing_handgrad_in_a_kernel(kernel_config):
    nbformat = pytest.importorskip("nbformat", reason="the test extra installs nbformat")
    nbclient = pytest.importorskip("nbclient", reason="the test extra installs nbclient")
    source = str(Path(handgrad.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([source, os.environ.get("PYTHONPATH", "")])}
    env.pop("MPLBACKEND", None)  # the kernel's own default, as a learner's Jupyter has it
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                "import handgrad.experiments, handgrad.plots\n"
                "from handgrad.experiments import linear_fit\n"
                "import matplotlib.pyplot as plt\n"
                "plt.plot([0, 1, 2], [0, 1, 4]); plt.show()"
            ),
            nbformat.v4.new_code_cell("import matplotlib; print(matplotlib.get_backend())"),
        ]
    )
    nbclient.NotebookClient(nb, timeout=120, kernel_name="python3", config=kernel_config()).execute(
        env=env
    )
    shown = [o for o in nb.cells[0].outputs if o["output_type"] == "display_data"]
    assert shown and "image/png" in shown[0]["data"]
    assert "inline" in nb.cells[1].outputs[0]["text"]


def test_readme_and_the_course_page_list_every_chapter_by_its_heading():
    from handgrad.chapters import CHAPTERS, OWN_DATA

    readme = (ROOT / "README.md").read_text()
    page = (ROOT / "docs" / "course.md").read_text()
    for chapter in CHAPTERS:
        assert f"| {chapter.heading} | `{chapter.key}` |" in readme
        assert f"| {chapter.heading} | `{chapter.number:02d}-{chapter.key}.ipynb` |" in page
    assert OWN_DATA.heading in readme and OWN_DATA.heading in page
