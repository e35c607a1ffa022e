"""The course ships inside the wheel: a learner who installs handgrad with pip has no clone."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from handgrad import course
from handgrad.chapters import CHAPTERS

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_wheel_holds_every_notebook_byte_for_byte(tmp_path):
    # built from a copy, so the checkout gets no build/ or egg-info; --no-build-isolation:
    # with the setuptools of this environment (the test extra has it), no package index
    project = tmp_path / "project"
    project.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, project / name)
    shutil.copytree(ROOT / "src", project / "src", ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
        + ["--quiet", "-w", str(tmp_path / "dist"), str(project)],
        check=True,
        cwd=tmp_path,
    )
    (wheel,) = (tmp_path / "dist").glob("handgrad-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        shipped = {
            Path(name).name: archive.read(name)
            for name in archive.namelist()
            if name.startswith("handgrad/course/") and name.endswith(".ipynb")
        }
    sources = ROOT / "src" / "handgrad" / "course"
    assert sorted(shipped) == sorted(course.notebook_name(c) for c in CHAPTERS)
    for name, data in shipped.items():
        assert data == (sources / name).read_bytes(), name
