"""The playground's ASGI application (Starlette): the page, one WebSocket per tab, uploads, exports.

Every request passes ``security.Guard`` first (loopback Host, same Origin, this launch's
token). The WebSocket protocol is ``protocol.Connection``'s. A tab that loses its socket
keeps its session for ``RECONNECT_GRACE`` seconds (no limit by default: until a new tab
needs its slot or the server stops): the page reconnects with ``/ws?session=ID`` and
carries on where it was; once it is gone, or after a server restart, the page is told the
session ended. A page closed or reloaded says ``bye`` first: its session goes at once.

HTTP: ``POST /api/{session}/upload`` (the CSV as the raw request body, at most
``MAX_UPLOAD_BYTES``, parsed within ``UPLOAD_SECONDS``), ``GET /api/{session}/export/model``
and ``.../export/script``.
"""

from __future__ import annotations

import asyncio
import json
import math
import secrets
import threading
import time
from collections.abc import Callable
from importlib import resources

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from ..data.tabular import DataError
from . import data as pdata
from . import export
from .network import ACTIVATION_NAMES, INITS, MAX_LAYERS, MAX_UNITS, OPTIMIZERS, TWEAKS
from .protocol import MAX_MESSAGE_BYTES, Connection
from .security import Guard, new_token
from .session import MAX_STEPS_PER_FRAME, Session

__all__ = ["create_app", "MAX_MESSAGE_BYTES", "MAX_SESSIONS", "RECONNECT_GRACE"]

MAX_SESSIONS = 32
MAX_FPS = 30  # frames a second at most: more than the eye needs, less than the page can draw
# seconds a closed tab's session waits for its page: no limit, so a laptop closed for a night
# or a week (its page's socket dropped, the server running on) comes back to its run, as
# TensorFlow Playground's page does. It costs no more than the tabs open at once would: a
# detached session does not train, and at most MAX_SESSIONS are kept (a new tab takes the
# place of the session gone longest).
RECONNECT_GRACE = math.inf
UPLOAD_SECONDS = 20.0  # an upload that takes longer to parse is refused


def _static_dir() -> str:
    return str(resources.files("handgrad.playground") / "static")


class Registry:
    """The live sessions, by id (an unguessable token: a tab can only reach its own).

    A session whose page is connected is kept however long nobody clicks (its tab may be
    hidden, training or paused: the run is the learner's while the tab is open). A session
    whose socket closed is *detached*: kept ``grace`` seconds for a reconnect, then reclaimed.
    ``clock``: seconds, monotonic (a test passes its own)."""

    def __init__(
        self, grace: float = RECONNECT_GRACE, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.sessions: dict[str, Session] = {}
        self.detached: dict[str, float] = {}
        self.grace, self.clock = grace, clock
        self.stopping = threading.Event()  # set at shutdown: every training stops

    def purge(self) -> None:
        """Drop the detached sessions whose grace is over (never a connected one)."""
        now = self.clock()
        for sid, since in list(self.detached.items()):
            if now - since > self.grace:
                self.drop(sid)

    def create(self) -> Session:
        session = Session(secrets.token_urlsafe(16), self.stopping)
        self.sessions[session.id] = session
        return session

    def attach(self, session_id: str | None) -> Session | None:
        """The detached session ``session_id``, now attached again (None: gone)."""
        if session_id is None or session_id not in self.detached:
            return None
        del self.detached[session_id]
        return self.sessions.get(session_id)

    def detach(self, session_id: str) -> None:
        if session_id in self.sessions:
            self.detached[session_id] = self.clock()

    def drop_oldest_detached(self) -> None:
        if self.detached:
            self.drop(min(self.detached, key=self.detached.__getitem__))

    def drop(self, session_id: str) -> None:
        self.sessions.pop(session_id, None)
        self.detached.pop(session_id, None)

    def get(self, session_id: str) -> Session | None:
        return self.sessions.get(session_id)


def _limits() -> dict:
    return {
        "max_layers": MAX_LAYERS,
        "max_units": MAX_UNITS,
        "max_points": pdata.MAX_POINTS,
        "max_upload_bytes": pdata.MAX_UPLOAD_BYTES,
        "max_steps_per_frame": MAX_STEPS_PER_FRAME,
        "activations": list(ACTIVATION_NAMES),
        "inits": list(INITS),
        "optimizers": list(OPTIMIZERS),
        "tweaks": [*TWEAKS, "steps_per_frame", "noise", "draw"],
        "datasets": {k: v[1] for k, v in pdata.DATASETS.items()},
        "previews": pdata.previews(),  # each set drawn small on its button
        "regression": [k for k, v in pdata.DATASETS.items() if v[0] == "regression"],
        "features": {k: v[0] for k, v in pdata.FEATURES.items()},
    }


_GONE = {"error": "unknown or expired session; reload the page"}


class _Handlers:
    """The page's routes over one ``Registry`` of sessions."""

    def __init__(self, registry: Registry, max_fps: float) -> None:
        self.registry, self.max_fps = registry, max_fps

    async def index(self, request: Request) -> Response:
        return FileResponse(f"{_static_dir()}/index.html", headers={"Cache-Control": "no-store"})

    async def socket(self, websocket: WebSocket) -> None:
        registry = self.registry
        registry.purge()
        await websocket.accept()
        wanted = websocket.query_params.get("session")
        session = registry.attach(wanted)
        restored = session is not None
        if session is None:
            session = await self._new_session(websocket)
            if session is None:
                return
        hello = {
            "type": "hello",
            "session": session.id,
            "restored": restored,
            "ended": wanted is not None and not restored,  # the page asked for one now gone
            "limits": _limits(),
        }
        connection = Connection(websocket, session, self.max_fps, hello)
        try:
            await connection.run()
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            connection.abandon()
            if registry.stopping.is_set() or connection.leaving:  # no page will come back
                registry.drop(session.id)
            else:  # the page is gone: reclaimed after the grace unless it comes back
                registry.detach(session.id)
                if math.isfinite(registry.grace):
                    asyncio.get_running_loop().call_later(registry.grace + 1, registry.purge)

    async def _new_session(self, websocket: WebSocket) -> Session | None:
        """A fresh session, or None (the socket closed) when every slot is taken."""
        registry = self.registry
        if len(registry.sessions) >= MAX_SESSIONS:
            registry.drop_oldest_detached()  # a reloaded tab's old session gives way
        if len(registry.sessions) >= MAX_SESSIONS:
            text = f"too many open playground tabs ({MAX_SESSIONS}); close one and reload"
            await websocket.send_text(json.dumps({"type": "error", "message": text}))
            await websocket.close(code=4001)
            return None
        return await asyncio.to_thread(registry.create)

    async def upload(self, request: Request) -> Response:
        session = self.registry.get(request.path_params["session"])
        if session is None:
            return JSONResponse(_GONE, 404)
        body = await _read_body(request, pdata.MAX_UPLOAD_BYTES)
        if body is None:
            limit = pdata.MAX_UPLOAD_BYTES
            return JSONResponse(
                {"error": f"the file is larger than the {limit // 1000} kB upload limit"}, 413
            )
        filename = pdata.safe_filename(request.query_params.get("filename", "upload.csv"))
        try:
            table = await asyncio.wait_for(
                asyncio.to_thread(pdata.parse_csv, body, filename), UPLOAD_SECONDS
            )
        except DataError as exc:  # the file arrived; its content is the learner's to fix
            return JSONResponse({"error": str(exc)})  # 200: the page shows it (no console noise)
        except asyncio.TimeoutError:
            return JSONResponse({"error": f"{filename} took over {UPLOAD_SECONDS:.0f} s to read"})
        session.set_upload(table)
        return JSONResponse(table.summary())

    def _exportable(self, request: Request) -> Session | Response:
        """The request's session, or the response refusing the export."""
        session = self.registry.get(request.path_params["session"])
        if session is None:
            return JSONResponse(_GONE, 404)
        if session.trainer.diverged:
            return JSONResponse({"error": "the run has diverged; press Reset first"}, 409)
        return session

    async def export_model(self, request: Request) -> Response:
        session = self._exportable(request)
        if isinstance(session, Response):
            return session

        def write() -> tuple[bytes, float]:
            with session.lock:
                return export.model_bytes(session), export.final_loss(session)

        content, loss = await asyncio.to_thread(write)
        return Response(
            content,
            media_type="application/octet-stream",
            headers={
                "Content-Disposition": 'attachment; filename="playground-model.npz"',
                "X-Final-Loss": export.format_loss(loss),
            },
        )

    async def export_script(self, request: Request) -> Response:
        session = self._exportable(request)
        if isinstance(session, Response):
            return session

        def write() -> tuple[str, float, int]:
            with session.lock:
                text = export.script_text(session)
                return text, export.final_loss(session), session.trainer.steps

        text, loss, steps = await asyncio.to_thread(write)
        return Response(
            text,
            media_type="text/x-python",
            headers={
                "Content-Disposition": 'attachment; filename="playground_run.py"',
                "X-Final-Loss": export.format_loss(loss),
                "X-Steps": str(steps),
            },
        )


async def _read_body(request: Request, limit: int) -> bytes | None:
    """The request's body, or None when it is (or declares itself) over ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def create_app(
    max_fps: float = MAX_FPS,
    token: str | None = None,
    grace: float = RECONNECT_GRACE,
    clock: Callable[[], float] = time.monotonic,
) -> Guard:
    """The ASGI app behind its guard. ``max_fps``: the most frames a second a playing tab is
    sent; ``token``: this launch's secret (a fresh one when None; read it back as
    ``app.token``); ``grace``: seconds a closed tab's session waits for a reconnect before it
    is reclaimed (on ``clock``). ``app.registry.stopping.set()`` stops every training within
    one step (the server does it on Ctrl-C)."""
    registry = Registry(grace, clock)
    h = _Handlers(registry, max_fps)
    routes = [
        Route("/", h.index),
        WebSocketRoute("/ws", h.socket),
        Route("/api/{session}/upload", h.upload, methods=["POST"]),
        Route("/api/{session}/export/model", h.export_model),
        Route("/api/{session}/export/script", h.export_script),
        Mount("/static", StaticFiles(directory=_static_dir()), name="static"),
    ]
    app = Starlette(routes=routes)
    guard = Guard(app, token or new_token())
    guard.registry = registry
    return guard
