"""The playground: a local web page where a learner builds a network and trains it live.

The page (``static/``) draws; the server (``app``, Starlette + uvicorn) trains on handgrad's
engine and sends what each step did. ``serve`` starts it on 127.0.0.1. The web stack is the
optional extra ``playground`` (``install_command()`` says how to install it here).
"""

from __future__ import annotations

__all__ = ["serve", "create_app", "missing_dependencies", "install_command"]


def install_command() -> str:
    """The command that installs the playground's packages, fitted to this installation."""
    from ..install import install_hint

    return install_hint("playground")


def missing_dependencies() -> list[str]:
    """The packages of the ``playground`` extra that cannot be imported here."""
    import importlib.util

    names = ("starlette", "uvicorn", "websockets")
    return [name for name in names if importlib.util.find_spec(name) is None]


def create_app(**settings):
    """The ASGI application behind its guard (see ``handgrad.playground.app.create_app``)."""
    from .app import create_app as _create

    return _create(**settings)


def serve(port: int = 0, open_browser: bool = True) -> None:
    """Run the playground on 127.0.0.1 until Ctrl-C (see ``handgrad.playground.server``)."""
    from .server import serve as _serve

    _serve(port=port, open_browser=open_browser)
