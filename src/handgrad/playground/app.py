"""The playground's ASGI application (Starlette): the page, one WebSocket per tab, uploads, exports.

Protocol (JSON text messages over ``/ws``). The server opens with
``{"type": "hello", "session": ID, ...}`` and the dataset; the page then sends

    {"type": "configure", "data": {...}, "network": {...}, "steps_per_frame": k}
    {"type": "play"} | {"type": "pause"} | {"type": "step"} | {"type": "reset"}
    {"type": "gradcheck"} | {"type": "frame"}

and receives ``dataset``, ``frame``, ``inspect``, ``gradcheck``, ``status`` and ``error``
messages. Training runs in a worker thread (``asyncio.to_thread``), so a busy tab never
blocks the event loop that serves the others. A tab that sends nothing for
``idle_timeout`` seconds is told so and closed; its session is dropped with the socket.

HTTP: ``POST /api/{session}/upload`` (the CSV as the raw request body, at most
``MAX_UPLOAD_BYTES``), ``GET /api/{session}/export/model`` and ``.../export/script``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
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
from .network import ACTIVATION_NAMES, INITS, MAX_LAYERS, MAX_UNITS, OPTIMIZERS
from .session import MAX_STEPS_PER_FRAME, ConfigError, Session

__all__ = ["create_app", "MAX_MESSAGE_BYTES", "MAX_SESSIONS"]

MAX_MESSAGE_BYTES = 64_000  # a settings message is a few hundred bytes
MAX_SESSIONS = 32
MAX_FPS = 30  # frames a second at most: more than the eye needs, less than the page can draw


def _static_dir() -> str:
    return str(resources.files("handgrad.playground") / "static")


class Registry:
    """The live sessions, by id (an unguessable token: a tab can only reach its own)."""

    def __init__(self) -> None:
        self.sessions: dict[str, Session] = {}

    def create(self) -> Session:
        session = Session(secrets.token_urlsafe(16))
        self.sessions[session.id] = session
        return session

    def drop(self, session_id: str) -> None:
        self.sessions.pop(session_id, None)

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
        "datasets": {k: v[1] for k, v in pdata.DATASETS.items()},
    }


class Connection:
    """One tab's WebSocket: reads messages, runs the player, sends replies one at a time."""

    def __init__(self, websocket: WebSocket, session: Session, idle_timeout: float, max_fps: float):
        self.ws, self.session, self.idle_timeout = websocket, session, idle_timeout
        self.frame_interval = 1.0 / max_fps
        self.send_lock = asyncio.Lock()
        self.player: asyncio.Task | None = None

    async def send(self, message: dict) -> None:
        async with self.send_lock:
            await self.ws.send_text(json.dumps(message, allow_nan=False, default=_json_default))

    async def error(self, text: str) -> None:
        await self.send({"type": "error", "message": text})

    async def run(self) -> None:
        await self.send({"type": "hello", "session": self.session.id, "limits": _limits()})
        await self.send(self.session.dataset_payload())
        await self.send(await asyncio.to_thread(self.session.frame))
        while True:
            try:
                message = await asyncio.wait_for(self.ws.receive(), timeout=self.idle_timeout)
            except asyncio.TimeoutError:
                minutes = self.idle_timeout / 60
                await self.send(
                    {
                        "type": "closed",
                        "message": f"session closed after "
                        f"{minutes:.3g} minutes without activity; reload the page",
                    }
                )
                await self.ws.close(code=4000)
                return
            if message["type"] == "websocket.disconnect":
                return
            self.session.touch()
            text = message.get("text")
            if text is None:
                await self.error("binary messages are not understood; send JSON text")
                continue
            await self.handle(text)

    async def handle(self, text: str) -> None:
        """One message from the page; every failure becomes an ``error`` reply."""
        if len(text) > MAX_MESSAGE_BYTES:
            await self.error(f"message of {len(text)} bytes refused (limit {MAX_MESSAGE_BYTES})")
            return
        try:
            message = json.loads(text)
        except json.JSONDecodeError as exc:
            await self.error(f"malformed message (not JSON: {exc.msg})")
            return
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            await self.error('malformed message: expected a JSON object with a "type"')
            return
        kind = message["type"]
        try:
            await self.dispatch(kind, message)
        except (ConfigError, DataError, TypeError, ValueError) as exc:
            await self.error(f"{kind}: {exc}")
        except Exception as exc:  # a bug or an input nobody foresaw: report it, keep serving
            await self.error(f"{kind}: the server could not do this ({type(exc).__name__}: {exc})")

    async def dispatch(self, kind: str, message: dict) -> None:
        session = self.session
        if kind == "configure":
            self.stop()
            await asyncio.to_thread(session.configure, message)
            await self.send(session.dataset_payload())
            await self.send(await asyncio.to_thread(session.frame))
        elif kind == "play":
            if self.player is None or self.player.done():
                session.playing = True
                self.player = asyncio.create_task(self.play())
            await self.send({"type": "status", "playing": True})
        elif kind == "pause":
            self.stop()
            await self.send({"type": "status", "playing": False})
        elif kind == "step":
            self.stop()
            result = await asyncio.to_thread(session.step)
            await self.send({"type": "inspect", **result["inspect"]})
            await self.send(result["frame"])
        elif kind == "reset":
            self.stop()
            await asyncio.to_thread(session.reset)
            await self.send({"type": "reset", "seed": session.net_spec.seed})
            await self.send(await asyncio.to_thread(session.frame))
        elif kind == "gradcheck":
            result = await asyncio.to_thread(session.check_gradients)
            await self.send({"type": "gradcheck", **result})
        elif kind == "frame":
            await self.send(await asyncio.to_thread(session.frame))
        else:
            await self.error(f"unknown message type {kind!r}")

    def stop(self) -> None:
        self.session.playing = False
        if self.player is not None:
            self.player.cancel()
            self.player = None

    async def play(self) -> None:
        """Train and send frames until paused (or the run diverges)."""
        loop = asyncio.get_running_loop()
        try:
            while self.session.playing:
                started = loop.time()
                frame = await asyncio.to_thread(self.session.advance)
                await self.send(frame)
                if frame.get("diverged"):
                    self.session.playing = False
                    await self.send({"type": "status", "playing": False})
                    return
                # wait out the frame's share of a second (and always yield to the others)
                await asyncio.sleep(max(0.0, self.frame_interval - (loop.time() - started)))
        except (WebSocketDisconnect, RuntimeError):  # the tab went away mid-frame
            self.session.playing = False
        except Exception as exc:  # never let a playing tab die silently
            self.session.playing = False
            with contextlib.suppress(Exception):
                await self.error(f"training stopped: {type(exc).__name__}: {exc}")
                await self.send({"type": "status", "playing": False})


def _json_default(value):
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot send {type(value).__name__} as JSON")


def create_app(idle_timeout: float = 30 * 60, max_fps: float = MAX_FPS) -> Starlette:
    """The ASGI app; ``idle_timeout``: seconds without a message before a tab is closed;
    ``max_fps``: the most frames a second a playing tab is sent."""
    registry = Registry()

    async def index(request: Request) -> Response:
        return FileResponse(f"{_static_dir()}/index.html", headers={"Cache-Control": "no-store"})

    async def socket(websocket: WebSocket) -> None:
        await websocket.accept()
        if len(registry.sessions) >= MAX_SESSIONS:
            text = f"too many open playground tabs ({MAX_SESSIONS}); close one and reload"
            await websocket.send_text(json.dumps({"type": "error", "message": text}))
            await websocket.close(code=4001)
            return
        session = registry.create()
        connection = Connection(websocket, session, idle_timeout, max_fps)
        try:
            await connection.run()
        except WebSocketDisconnect:
            pass
        finally:
            connection.stop()
            registry.drop(session.id)

    def session_of(request: Request) -> Session | None:
        return registry.get(request.path_params["session"])

    def cannot_export(session: Session | None) -> Response | None:
        if session is None:
            return JSONResponse({"error": "unknown or expired session; reload the page"}, 404)
        if session.trainer.diverged:
            return JSONResponse({"error": "the run has diverged; press Reset first"}, 409)
        return None

    async def upload(request: Request) -> Response:
        session = session_of(request)
        if session is None:
            return JSONResponse({"error": "unknown or expired session; reload the page"}, 404)
        limit = pdata.MAX_UPLOAD_BYTES
        declared = request.headers.get("content-length")
        too_big = {"error": f"the file is larger than the {limit // 1000} kB upload limit"}
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return JSONResponse(too_big, 413)
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                return JSONResponse(too_big, 413)
        filename = request.query_params.get("filename", "upload.csv")
        try:
            table = await asyncio.to_thread(pdata.parse_csv, bytes(body), filename)
        except DataError as exc:  # the file arrived; its content is the learner's to fix
            return JSONResponse({"error": str(exc)})  # 200: the page shows it (no console noise)
        session.set_upload(table)
        session.touch()
        return JSONResponse(table.summary())

    async def export_model(request: Request) -> Response:
        session = session_of(request)
        refusal = cannot_export(session)
        if refusal is not None or session is None:
            return refusal or Response(status_code=404)

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

    async def export_script(request: Request) -> Response:
        session = session_of(request)
        refusal = cannot_export(session)
        if refusal is not None or session is None:
            return refusal or Response(status_code=404)

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

    routes = [
        Route("/", index),
        WebSocketRoute("/ws", socket),
        Route("/api/{session}/upload", upload, methods=["POST"]),
        Route("/api/{session}/export/model", export_model),
        Route("/api/{session}/export/script", export_script),
        Mount("/static", StaticFiles(directory=_static_dir()), name="static"),
    ]
    app = Starlette(routes=routes)
    app.state.registry = registry
    return app
