"""``handgrad playground``: the local web page where a network trains live."""

from __future__ import annotations

import argparse

from ._common import PORT, DefaultsShown, UsageError


def register(sub) -> None:
    p = sub.add_parser(
        "playground",
        help="a local web page: build a network, train it live, see inside every step",
        description="Start the playground on 127.0.0.1 (a free port unless --port is given), "
        "print its URL and open it in the browser. Ctrl-C stops it.",
        formatter_class=DefaultsShown,
    )
    p.add_argument("--port", type=PORT, default=0, help="port (default: a free one)")
    p.add_argument(
        "--no-browser", action="store_true", help="print the URL only (default: open a browser)"
    )
    p.set_defaults(func=cmd_playground)


def cmd_playground(args: argparse.Namespace) -> int:
    from ..playground import install_command, missing_dependencies, serve

    missing = missing_dependencies()
    if missing:
        raise UsageError(
            f"the playground needs {', '.join(missing)}; install them with: {install_command()}"
        )
    try:
        serve(port=args.port, open_browser=not args.no_browser)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return 0
