"""Install hints say what fits how handgrad was installed: a clone or a package."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from handgrad import install


class FakeDistribution:
    def __init__(self, direct_url: dict | None):
        self.direct_url = direct_url

    def read_text(self, name: str) -> str | None:
        assert name == "direct_url.json"
        return None if self.direct_url is None else json.dumps(self.direct_url)


def installed_as(monkeypatch, direct_url: dict | None, *, in_clone: bool = False) -> None:
    """Pretend handgrad was installed with this PEP 610 record, and not run from ``src``."""
    monkeypatch.setattr(install.metadata, "distribution", lambda name: FakeDistribution(direct_url))
    if not in_clone:
        monkeypatch.setattr(install, "__file__", "/site-packages/handgrad/install.py")


def in_venv(monkeypatch, tmp_path: Path) -> Path:
    """A virtual environment at tmp_path/clone/.venv running this Python."""
    bin_dir = tmp_path / "clone" / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "pip").write_text("")
    monkeypatch.setattr(sys, "executable", str(bin_dir / "python"))
    monkeypatch.setattr(sys, "prefix", str(bin_dir.parent))
    monkeypatch.setattr(sys, "base_prefix", "/usr")
    return tmp_path / "clone"


def test_an_editable_install_from_a_clone_gets_the_readmes_command(monkeypatch, tmp_path):
    clone = in_venv(monkeypatch, tmp_path)
    installed_as(monkeypatch, {"url": clone.as_uri(), "dir_info": {"editable": True}})
    assert (
        install.install_hint("playground", cwd=clone) == ".venv/bin/pip install -e '.[playground]'"
    )
    # from elsewhere, the paths are spelled out
    elsewhere = tmp_path / "work"
    elsewhere.mkdir()
    assert install.install_hint("sweep", cwd=elsewhere) == (
        f"{clone}/.venv/bin/pip install -e '{clone}[sweep]'"
    )


@pytest.mark.parametrize(
    "direct_url",
    [None, {"url": "file:///tmp/handgrad-1.0.whl", "archive_info": {}}],
    ids=["from an index", "from a wheel file"],
)
def test_a_package_install_gets_the_package_name(monkeypatch, tmp_path, direct_url):
    clone = in_venv(monkeypatch, tmp_path)
    installed_as(monkeypatch, direct_url)
    assert install.install_hint("formats", cwd=clone) == ".venv/bin/pip install 'handgrad[formats]'"
    # outside a virtual environment: plain pip
    monkeypatch.setattr(sys, "prefix", "/usr")
    assert install.install_hint("formats", cwd=clone) == "pip install 'handgrad[formats]'"


def test_run_from_a_source_tree_is_a_clone(monkeypatch, tmp_path):
    clone = in_venv(monkeypatch, tmp_path)
    (clone / "pyproject.toml").write_text("[project]\nname = 'handgrad'\n")
    (clone / "src" / "handgrad").mkdir(parents=True)
    installed_as(monkeypatch, None)  # not installed at all: PYTHONPATH=src
    monkeypatch.setattr(install, "__file__", str(clone / "src" / "handgrad" / "install.py"))
    assert install.install_hint("framework", cwd=clone) == (
        ".venv/bin/pip install -e '.[framework]'"
    )
