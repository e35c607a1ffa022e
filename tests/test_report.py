"""Reports: the Markdown converter, and the tour's report.md / report.html.

The tour tests run ``handgrad tour`` in-process on small fake experiments (modules made
here and registered under ``handgrad.experiments``), so they are fast and independent of
the real curriculum; ``test_cli.py`` runs the real experiments in quick mode.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import sys
import types
from pathlib import Path

import numpy as np
import pytest

import handgrad.experiments as experiments
from handgrad import cli, plots
from handgrad.experiments.base import ExperimentResult, Figure
from handgrad.report import environment, markdown_to_html, markdown_to_html_document, slugify

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


# --- the Markdown converter -----------------------------------------------------------------


def test_headings_get_github_style_unique_ids():
    out = markdown_to_html("# Title\n\n## 2. Sine: a **nonlinear** fit\n\n## Title\n")
    assert '<h1 id="title">Title</h1>' in out
    assert '<h2 id="2-sine-a-nonlinear-fit">2. Sine: a <strong>nonlinear</strong> fit</h2>' in out
    assert '<h2 id="title-1">Title</h2>' in out
    assert slugify("3. Sine: a **nonlinear** fit") == "3-sine-a-nonlinear-fit"


def test_raw_html_is_escaped_and_snake_case_is_not_emphasis():
    md = "First *line*\ncontinues with `a < b && c` and <script>x</script>.\n\nSecond."
    out = markdown_to_html(md)
    assert out.count("<p>") == 2 and "<em>line</em>" in out
    assert "<code>a &lt; b &amp;&amp; c</code>" in out
    assert "<script>" not in out and "&lt;script&gt;" in out
    out = markdown_to_html("use max_abs_error and 2 * 3 * 4")
    assert "<em>" not in out and "max_abs_error" in out


def test_latex_becomes_mathml_inline_and_display():
    md = (
        r"The loss $L = -\sum_i y_i \log p_i$ is small."
        + "\n\n$$\\sigma(z) = \\frac{1}{1 + e^{-z}}$$\n"
    )
    out = markdown_to_html(md)
    inline, display = re.findall(r'<math [^>]*display="(\w+)"', out)
    assert (inline, display) == ("inline", "block")
    assert "<mfrac>" in out and "<msub><mi>y</mi><mi>i</mi></msub>" in out
    assert "&#x02211;" in out  # the summation sign
    assert "$" not in out and "\\frac" not in out  # no LaTeX source left in the page
    # dollar amounts are not math; a formula latex2mathml cannot read shows its source
    assert "costs $5 and $6" in markdown_to_html("costs $5 and $6")
    bad = markdown_to_html(r"broken $\frac{1}{$ formula")
    assert "<math" not in bad or 'class="math-source"' in bad


def test_tables_scroll_in_their_own_box():
    md = "| name | value |\n| :--- | ---: |\n| a \\| b | **1.5** |\n| c | 2 |\n"
    out = markdown_to_html(md)
    assert out.startswith('<div class="table-wrap">\n<table>') and out.endswith("</table>\n</div>")
    assert '<td style="text-align:right"><strong>1.5</strong></td>' in out
    assert '<td style="text-align:left">a | b</td>' in out
    assert out.count("<tr>") == 3


def test_images_become_numbered_figures_with_captions():
    srcs = []

    def resolve(src):
        srcs.append(src)
        return None if src == "missing.png" else f"data:image/png;base64,{src}"

    md = (
        "![alt text](fig.png)\n\n*Figure 3.2: the caption*\n\n"
        "![plain](other.png)\n\n*not a caption*\n\n![gone](missing.png)\n"
    )
    out = markdown_to_html(md, image_src=resolve)
    assert srcs == ["fig.png", "other.png", "missing.png"]
    assert (
        '<figure id="figure-3-2"><img src="data:image/png;base64,fig.png" alt="alt text">'
        "<figcaption>Figure 3.2: the caption</figcaption>\n</figure>"
    ) in out
    # an emphasized line that is not a "Figure ..." caption stays a paragraph of its own
    assert '<figure><img src="data:image/png;base64,other.png" alt="plain"></figure>' in out
    assert "<p><em>not a caption</em></p>" in out
    assert "[missing figure: missing.png]" in out


def test_multi_panel_figures_are_cut_by_their_grid_not_their_width(tmp_path):
    # three narrow panels (1,386 px: two by the old 640-px-a-panel guess), one wide panel
    # (990 px: two by that guess), and a two-panel figure saved by hand without the count
    fig, axes = plots.new_figure(ncols=3, size=(4.2, 3.2))
    for ax in axes:
        ax.plot([0, 1], [0, 1])
    plots.save_figure(fig, tmp_path / "three.png")
    fig, ax = plots.new_figure(size=(9.0, 4.2))
    ax.plot([0, 1], [0, 1])
    plots.save_figure(fig, tmp_path / "one.png")
    fig, axes = plots.new_figure(ncols=2)
    fig.savefig(tmp_path / "plain.png", dpi=110)
    page = markdown_to_html_document(
        "![three](three.png)\n\n![one](one.png)\n\n![plain](plain.png)\n",
        title="t",
        base_dir=tmp_path,
    )
    # three panels: one row of three images (stacked on a phone); the others: one image each
    row = re.search(r'<span class="panel-row"[^>]*>(.*?)</span>', page, re.S)
    assert row is not None and row.group(1).count('<img class="panel"') == 3
    assert page.count('<span class="panel-row"') == 1
    assert page.count('<img src="data:image/png;base64,') == 2


def test_document_has_side_navigation_and_no_script():
    md = "# Report\n\n## 1. First\n\n### Part a\n\ntext\n\n## 2. Second\n\ntext\n"
    page = markdown_to_html_document(md, title="A <report>")
    assert "<title>A &lt;report&gt;</title>" in page
    nav = re.search(r'<nav class="side"[^>]*>(.*?)</nav>', page, re.S).group(1)
    assert re.findall(r'href="#([^"]+)"', nav) == ["1-first", "part-a", "2-second"]
    assert '<ul><li><a href="#1-first">1. First</a><ul>' in nav  # subsections nest
    assert page.count('href="#1-first"') == 2  # side navigation and the phone menu
    assert "<script" not in page and "@media print" in page and "@media (max-width" in page


def test_figures_named_by_file_become_links_by_number():
    from handgrad.report import _figure_references

    body = "as (`loss.png`) shows; the figure `loss.png`, loss.png. ![a](x/loss.png) `myloss.png`"
    out = _figure_references(body, [("loss.png", "3.2")])
    link = "[Figure 3.2](#figure-3-2)"
    assert out == f"as ({link}) shows; the {link}, {link}. ![a](x/loss.png) `myloss.png`"


def test_environment_names_versions_and_machine():
    env = environment()
    assert env["numpy"] == np.__version__
    for key in ("python", "matplotlib", "scikit-learn", "handgrad", "platform", "cpu count"):
        assert env[key] and env[key] != "not installed", key
    assert env["BLAS"] != ""


# --- the tour, on fake experiments ----------------------------------------------------------


def _fake_ok_run(seed: int = 0, out_dir: Path = Path("."), quick: bool = False):
    rng = np.random.default_rng(seed)
    values = np.cumsum(rng.normal(size=20))
    figures = []
    for name, title in (("curve.png", "A random walk"), ("other.png", "Its square")):
        fig, ax = plots.new_figure()
        data = values if name == "curve.png" else values**2
        plots.plot_curves(ax, {"walk": data}, title=title, xlabel="step", ylabel="value")
        figures.append(Figure(plots.save_figure(fig, out_dir / name), f"{title} (seed {seed})"))
    markdown = (
        f"The walk ends at {values[-1]:.3f}.\n\n"
        "| quantity | value |\n| --- | ---: |\n"
        f"| last | {values[-1]:.3f} |\n\n"
        "- the update is $x_{t+1} = x_t + \\epsilon_t$\n- see `curve.png`\n\n"
        "![A random walk](curve.png)\n"
    )
    return ExperimentResult(
        name="fake-ok",
        title="A fake experiment",
        stage="test stage 1",
        metrics={"last": float(values[-1])},
        markdown=markdown,
        figures=figures,
    )


def _fake_fail_run(seed: int = 0, out_dir: Path = Path("."), quick: bool = False):
    raise ValueError("the fake experiment broke\non purpose")


def _fake_interrupted_run(seed: int = 0, out_dir: Path = Path("."), quick: bool = False):
    raise KeyboardInterrupt


def _module(name: str, title: str, run) -> types.ModuleType:
    mod = types.ModuleType(f"handgrad.experiments.{name}")
    mod.NAME, mod.TITLE, mod.STAGE, mod.run = name, title, f"stage of {title}", run
    return mod


@pytest.fixture
def fake_experiments(monkeypatch):
    """Replace the registry by fakes; returns a function choosing which ones run."""

    def install(names: list[str], cores: int = 1) -> None:
        # one core: the tour runs one chapter at a time (the two-worker tour has its own test)
        monkeypatch.setattr(os, "cpu_count", lambda: cores)
        registry = {}
        for name in names:
            module = f"_test_{name.replace('-', '_')}"
            run = _fake_fail_run if name.startswith("fail") else _fake_ok_run
            run = _fake_interrupted_run if name.startswith("ctrl-c") else run
            title = "A failing experiment" if name.startswith("fail") else "A fake experiment"
            monkeypatch.setitem(
                sys.modules, f"handgrad.experiments.{module}", _module(module, title, run)
            )
            registry[name] = module
        monkeypatch.setattr(experiments, "EXPERIMENTS", registry)

    return install


def _figure_links(md: str) -> list[str]:
    return re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md)


def test_tour_writes_every_section_and_figure(tmp_path, fake_experiments, capsys):
    fake_experiments(["ok-one", "ok-two"])
    code = cli.main(["tour", "--out", str(tmp_path), "--seed", "7", "--quiet"])
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "report.md" in out.out and "report.html" in out.out
    assert out.err == ""  # --quiet: no progress lines
    md = (tmp_path / "report.md").read_text()
    # contents, run facts, one numbered section per experiment
    assert "## Contents" in md and "## Run environment" in md
    assert "| seed | 7 |" in md and f"| numpy | {np.__version__} |" in md
    assert "## 1. A fake experiment" in md and "## 2. A fake experiment" in md
    assert "[A fake experiment](#1-a-fake-experiment)" in md
    for name in ("ok-one", "ok-two"):
        section = (tmp_path / name / "section.md").read_text()
        body_line = section.splitlines()[4]  # after the title and stage lines
        assert body_line in md
        assert "*Its square (seed 7)*" in md.replace("Figure 1.2: ", "").replace("Figure 2.2: ", "")
    # every figure linked exists; the one a section placed itself is not repeated
    links = _figure_links(md)
    assert sorted(links) == sorted(
        f"{n}/{f}" for n in ("ok-one", "ok-two") for f in ("curve.png", "other.png")
    )
    for link in links:
        assert (tmp_path / link).read_bytes().startswith(PNG_MAGIC)
    # the HTML: self-contained, every figure inlined as a PNG data URI
    page = (tmp_path / "report.html").read_text()
    srcs = re.findall(r'<img src="([^"]+)"', page)
    assert len(srcs) == len(links) == 4
    for src in srcs:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]).startswith(PNG_MAGIC)
    assert 'src="http' not in page and "<link" not in page and "<script" not in page
    assert '<h2 id="1-a-fake-experiment">' in page and 'href="#1-a-fake-experiment"' in page
    assert "<figcaption>Figure 1.1: A random walk (seed 7)</figcaption>" in page
    assert page.count('<math xmlns="http://www.w3.org/1998/Math/MathML"') == 2  # one per section
    # the section names a figure by its file: the report links it by number instead
    assert "- see [Figure 1.1](#figure-1-1)" in md and "curve.png`" not in md
    assert 'href="#figure-1-1"' in page and 'id="figure-1-1"' in page


def test_failed_experiment_is_reported_and_tour_exits_nonzero(tmp_path, fake_experiments, capsys):
    fake_experiments(["ok-one", "fail-one", "ok-two"])
    code = cli.main(["tour", "--out", str(tmp_path), "--quiet"])
    out = capsys.readouterr()
    assert code == 1
    assert "1 of 3 experiments failed: fail-one" in out.err
    md = (tmp_path / "report.md").read_text()
    assert "## 2. A failing experiment" in md  # title read from the module
    assert "**This experiment failed**" in md
    assert "ValueError: the fake experiment broke" in md
    assert "## 3. A fake experiment" in md  # the tour went on after the failure
    trace = (tmp_path / "fail-one" / "error.txt").read_text()
    assert "Traceback" in trace and "on purpose" in trace
    assert (
        "| 2 | [A failing experiment](#2-a-failing-experiment) | stage of A failing experiment"
        in md
    )
    page = (tmp_path / "report.html").read_text()
    assert "ValueError: the fake experiment broke" in page


def test_experiment_that_cannot_be_imported(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(experiments, "EXPERIMENTS", {"ghost": "_no_such_module_here"})
    assert cli.main(["tour", "--out", str(tmp_path), "--quiet"]) == 1
    md = (tmp_path / "report.md").read_text()
    assert "## 1. ghost\n\n**This experiment failed**" in md  # no empty stage line
    assert "ModuleNotFoundError: No module named 'handgrad.experiments._no_such_module_here'" in md
    assert "<p>**</p>" not in (tmp_path / "report.html").read_text()


class _FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_terminal_and_in_a_pipe(tmp_path, fake_experiments, monkeypatch, capsys):
    fake_experiments(["ok-one", "fail-two"])
    terminal = _FakeTerminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert cli.main(["tour", "--out", str(tmp_path / "a")]) == 1
    lines = terminal.getvalue().split("\n")
    assert len(lines) == 4 and lines[3] == ""  # two progress lines, the summary, the end
    # on a terminal each line is drawn when the experiment starts, then redrawn in place
    assert lines[0].startswith("[1/2] ok-one ...\r\x1b[K[1/2] ok-one: ok, ")
    assert lines[1].startswith("[2/2] fail-two ...\r\x1b[K[2/2] fail-two: FAILED (ValueError: ")
    assert lines[2].startswith("handgrad: 1 of 2 experiments failed: fail-two")
    # piped (CI, | tee): plain lines, no control characters, one when each stage starts
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert cli.main(["tour", "--out", str(tmp_path / "b")]) == 1
    lines = sys.stderr.getvalue().splitlines()
    assert lines[:2] == ["[1/2] ok-one ...", lines[1]] and lines[1].startswith("[1/2] ok-one: ok, ")
    assert lines[2] == "[2/2] fail-two ..." and lines[3].startswith("[2/2] fail-two: FAILED (")
    assert lines[4].startswith("handgrad: 1 of 2 experiments failed")
    assert "\r" not in sys.stderr.getvalue() and "\x1b" not in sys.stderr.getvalue()
    # --quiet on a terminal
    monkeypatch.setattr(sys, "stderr", _FakeTerminal())
    assert cli.main(["tour", "--out", str(tmp_path / "c"), "--quiet"]) == 1
    assert "[1/2]" not in sys.stderr.getvalue()


def test_two_chapters_at_a_time_on_two_cores(tmp_path, fake_experiments, monkeypatch):
    fake_experiments(["ok-one", "fail-two", "ok-three", "ok-four"], cores=2)
    monkeypatch.setattr(sys, "stderr", _FakeTerminal())
    assert cli.main(["tour", "--out", str(tmp_path), "--seed", "3"]) == 1
    err = sys.stderr.getvalue()
    # two writers: plain lines, none rewritten in place, one start and one end per chapter
    assert "\r" not in err and "\x1b" not in err
    lines = err.splitlines()
    names = ["ok-one", "fail-two", "ok-three", "ok-four"]
    for k, name in enumerate(names, 1):
        assert lines.count(f"[{k}/4] {name} ...") == 1
        ends = [ln for ln in lines if ln.startswith(f"[{k}/4] {name}: ")]
        assert len(ends) == 1 and ("FAILED (ValueError" in ends[0]) == (name == "fail-two")
        assert lines.index(f"[{k}/4] {name} ...") < lines.index(ends[0])
    # the report: every chapter in the course's order, as a one-at-a-time tour writes it
    md = (tmp_path / "report.md").read_text()
    headings = [ln for ln in md.splitlines() if re.match(r"## \d+\. ", ln)]
    assert headings == [
        "## 1. A fake experiment",
        "## 2. A failing experiment",
        "## 3. A fake experiment",
        "## 4. A fake experiment",
    ]
    assert "Traceback" in (tmp_path / "fail-two" / "error.txt").read_text()
    for name in ("ok-one", "ok-three", "ok-four"):  # the same numbers from either worker
        payload = json.loads((tmp_path / name / "metrics.json").read_text())
        assert payload["seed"] == 3
        assert "The walk ends at" in (tmp_path / name / "section.md").read_text()
    walks = {
        json.loads((tmp_path / n / "metrics.json").read_text())["metrics"]["last"]
        for n in ("ok-one", "ok-three", "ok-four")
    }
    assert len(walks) == 1  # same seed, same walk, whichever process ran it


def test_steps_inside_a_long_experiment():
    from handgrad.experiments.tour import TourProgress

    piped, terminal = io.StringIO(), _FakeTerminal()
    for stream in (piped, terminal):
        progress = TourProgress(11, stream)
        progress.start(11, "discussion")
        progress.step(0, 4, "stability")
        progress.step(2, 4, "initialization")
        progress.done(50.04, skipped=["the Keras half: Keras is not installed"])
    assert piped.getvalue().splitlines() == [
        "[11/11] discussion ...",
        "        0/4 stability",
        "        2/4 initialization",
        "[11/11] discussion: ok; skipped the Keras half: Keras is not installed, 50.0 s",
    ]
    bar = "[11/11] discussion [##########..........] 2/4 initialization"
    assert f"\r\x1b[K{bar}\r\x1b[K[11/11] discussion: ok; skipped" in terminal.getvalue()


def test_tour_only_runs_a_subset(tmp_path, fake_experiments, capsys):
    fake_experiments(["ok-one", "ok-two", "fail-three"])
    assert cli.main(["tour", "--out", str(tmp_path), "--only", "ok-two", "--quiet"]) == 0
    md = (tmp_path / "report.md").read_text()
    assert "## 1. A fake experiment" in md and "## 2." not in md
    assert not (tmp_path / "ok-one").exists()
    assert cli.main(["tour", "--out", str(tmp_path), "--only", "nope", "--quiet"]) == 2
    assert "handgrad: error: no chapter 'nope'" in capsys.readouterr().err


def test_ctrl_c_stops_the_tour_but_writes_the_report(tmp_path, fake_experiments, capsys):
    fake_experiments(["ok-one", "ctrl-c", "ok-two"])
    assert cli.main(["tour", "--out", str(tmp_path), "--quiet"]) == 130
    assert "handgrad: tour interrupted at ctrl-c" in capsys.readouterr().err
    md = (tmp_path / "report.md").read_text()
    assert "## 1. A fake experiment" in md and "interrupted (Ctrl-C)" in md
    assert "## 3." not in md and not (tmp_path / "ok-two").exists()


def test_blas_line_lists_numpys_library_first_in_a_fixed_order(monkeypatch):
    """threadpoolctl lists libraries in load order, which varies; the report names each by
    the wheel that ships it, NumPy's (the one training runs on) first."""
    import threadpoolctl

    from handgrad.report import _blas

    pools = [
        {"user_api": "blas", "internal_api": "openblas", "version": "0.3.30",
         "num_threads": 2, "architecture": "Haswell",
         "filepath": "/venv/site-packages/scipy.libs/libscipy_openblas-1.so"},
        {"user_api": "openmp", "internal_api": "openmp", "version": None, "num_threads": 2,
         "filepath": "/usr/lib/libgomp.so.1"},
        {"user_api": "blas", "internal_api": "openblas", "version": "0.3.31",
         "num_threads": 2, "architecture": "Haswell",
         "filepath": "/venv/site-packages/numpy.libs/libscipy_openblas64_-2.so"},
    ]  # fmt: skip
    monkeypatch.setattr(threadpoolctl, "threadpool_info", lambda: pools)
    expected = (
        "numpy: openblas 0.3.31 (2 threads, Haswell); scipy: openblas 0.3.30 (2 threads, Haswell)"
    )
    assert _blas() == expected
    monkeypatch.setattr(threadpoolctl, "threadpool_info", lambda: pools[::-1])
    assert _blas() == expected
