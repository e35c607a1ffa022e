"""How to install an optional extra, said the way handgrad itself was installed.

A clone installed in editable mode (the README's ``.venv/bin/pip install -e .``) gets
``.venv/bin/pip install -e '.[playground]'``; a package installed from an index gets
``pip install 'handgrad[playground]'``. The hint names the pip of the running Python, so
the extra lands in the environment that runs handgrad.
"""

from __future__ import annotations

import json
import os
import sys
from importlib import metadata
from pathlib import Path
from urllib.parse import unquote, urlparse

__all__ = ["install_hint", "source_checkout"]


def _editable_source() -> Path | None:
    """The project folder of an editable install of handgrad, else None (PEP 610)."""
    try:
        text = metadata.distribution("handgrad").read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        return None
    if not text:
        return None
    info = json.loads(text)
    if not info.get("dir_info", {}).get("editable"):
        return None
    url = urlparse(info.get("url", ""))
    return Path(unquote(url.path)) if url.scheme == "file" else None


def source_checkout() -> Path | None:
    """The clone this handgrad runs from (an editable install or ``src`` on the path), or None."""
    here = Path(__file__).resolve().parent  # .../src/handgrad
    project = here.parent.parent
    if here.parent.name == "src" and (project / "pyproject.toml").is_file():
        return project
    return _editable_source()


def _shown(path: Path, cwd: Path) -> str:
    """``path`` relative to ``cwd`` when it lies inside it, else absolute."""
    try:
        relative = path.resolve().relative_to(cwd.resolve())
    except ValueError:
        return str(path)
    return str(relative) if str(relative) != "." else "."


def _pip(cwd: Path) -> str:
    """The pip of the running Python: ``.venv/bin/pip`` style when that is where it is."""
    candidate = Path(sys.executable).parent / ("pip.exe" if os.name == "nt" else "pip")
    if sys.prefix == sys.base_prefix or not candidate.exists():
        return "pip"  # no virtual environment: the plain command
    return _shown(candidate, cwd)


def install_hint(extra: str, cwd: str | os.PathLike | None = None) -> str:
    """The command that installs handgrad's optional ``extra`` here.

    >>> install_hint("sweep")  # doctest: +SKIP
    ".venv/bin/pip install -e '.[sweep]'"
    """
    here = Path(cwd) if cwd is not None else Path.cwd()
    checkout = source_checkout()
    if checkout is not None:
        return f"{_pip(here)} install -e '{_shown(checkout, here)}[{extra}]'"
    return f"{_pip(here)} install 'handgrad[{extra}]'"
