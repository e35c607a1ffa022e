"""The playground's guard: only this machine's browser, on this launch's page, may talk to it.

A local server is reachable from any web page the learner visits (a page can point a
WebSocket or a form at 127.0.0.1), and a DNS-rebinding page can even make its own name
resolve to 127.0.0.1. So every request must pass three checks, as Jupyter's server does:

- **Host**: the ``Host`` header names the loopback (127.0.0.1, localhost or [::1]) with
  this server's port. A rebinding page sends its own name and gets 403.
- **Origin**: a WebSocket and every POST carry an ``Origin``; it must be this very server
  (``http://`` + the Host). A foreign page's Origin (or ``null``) gets 403.
- **Token**: a per-launch secret, printed in the URL the command shows. The page and the
  API require it (``?token=`` or the ``X-Handgrad-Token`` header); the static assets
  (style and scripts, the same for everyone) do not.

Every HTML reply also carries a Content-Security-Policy that forbids inline script, so a
name from an uploaded table can never run as code even if it reached the page as markup.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs

__all__ = ["Guard", "new_token", "LOOPBACK_NAMES", "TOKEN_HEADER", "content_security_policy"]

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
TOKEN_HEADER = "x-handgrad-token"

Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable, Callable], Awaitable[None]]


def new_token() -> str:
    """A fresh per-launch secret (URL-safe, 192 bits)."""
    return secrets.token_urlsafe(24)


def content_security_policy(host: str) -> str:
    """Scripts and styles from this server only (no inline script); sockets to this host."""
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        f"connect-src 'self' ws://{host}; base-uri 'none'; form-action 'none'; "
        "frame-ancestors 'none'"
    )


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


class Guard:
    """ASGI middleware applying the three checks above before ``app`` sees a request."""

    def __init__(self, app: ASGIApp, token: str, public_prefixes: tuple[str, ...] = ("/static/",)):
        self.app, self.token, self.public = app, token, public_prefixes
        self.registry: Any = None  # the app's sessions (set by create_app)

    def allowed_hosts(self, scope: Scope) -> set[str]:
        server = scope.get("server") or ("127.0.0.1", 0)
        port = server[1]
        return {f"{name}:{port}" for name in LOOPBACK_NAMES}

    def refusal(self, scope: Scope) -> str | None:
        """Why this request is refused, or None when it passes."""
        headers = _headers(scope)
        host = headers.get("host", "")
        if host not in self.allowed_hosts(scope):
            return f"host {host[:60]!r} is not this playground's address"
        method = scope.get("method", "GET")
        if scope["type"] == "websocket" or method not in ("GET", "HEAD"):
            origin = headers.get("origin")
            if origin != f"http://{host}":
                return "requests from another web page are refused (origin check)"
        path = scope.get("path", "")
        if any(path.startswith(p) for p in self.public):
            return None
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        given = headers.get(TOKEN_HEADER) or (query.get("token") or [""])[0]
        if not secrets.compare_digest(given.encode(), self.token.encode()):
            return (
                "this page needs the token of this playground launch: open the exact URL "
                "that `handgrad playground` printed (it ends with ?token=...)"
            )
        return None

    async def __call__(self, scope: Scope, receive: Callable, send: Callable) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        why = self.refusal(scope)
        if why is not None:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 4003, "reason": why[:120]})
                return
            body = json.dumps({"error": why}).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 403,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        host = _headers(scope).get("host", "")

        async def send_with_policy(message: dict) -> None:
            if message["type"] == "http.response.start":
                extra = [
                    (b"content-security-policy", content_security_policy(host).encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                ]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_policy)
