"""One tab's WebSocket: the messages it may send, and the replies, in a consistent order.

The page sends JSON text messages

    {"type": "configure", "data": {...}, "network": {...}, "steps_per_frame": k}
    {"type": "play", "id": n} | {"type": "pause", "id": n} | {"type": "reset"}
    {"type": "step", "steps": k}      k minibatch steps (default 1), the last one inspected
    {"type": "gradcheck"} | {"type": "frame"} | {"type": "drawn", "seq": n}
    {"type": "view", "hidden": true | false}          the tab was hidden or shown again
    {"type": "bye"}                 the page is closed or reloaded: drop its session at once
    {"type": "weight", "layer": l, "i": i, "j": j}            read W[l][i, j] and its gradient
    {"type": "set_weight", "layer": l, "i": i, "j": j, "value": v}   edit it
    {"type": "bias", "layer": l, "j": j} | {"type": "set_bias", ..., "value": v}   b[l][j]

and receives ``hello``, ``dataset``, ``frame``, ``inspect``, ``gradcheck``, ``weight``,
``changed``, ``reset``, ``status`` and ``error`` messages.

A playing session sends its next frame only after the page answered the last one with
``drawn`` (the page draws a frame, then says so; the next frame trains meanwhile). The
player numbers its frames (``seq``: 1, 2, ... over the connection's life) and the page
echoes the number it drew; only the answer to the frame the player waits for counts, so a
late answer to another frame (the opening one, a Step's, the last of a paused player) never
lets the player run one frame further ahead. A page slower than the server (a loaded
machine, a throttled tab) so never falls behind: at most one frame waits in it, and its
clicks are answered at once instead of after a backlog of frames.
A hidden tab (``view`` with ``hidden: true``) trains on but is sent frames without pictures
(no regions, unit pictures or weights: only what the curves need), until it is shown again.

Every message works at any moment, in any order. ``status`` always tells the page whether
the session is playing after a message that may change it. ``play`` and ``pause`` say what
the person asked for, never "toggle": ``play`` when playing and ``pause`` when paused change
nothing (the page sends what its button said when pressed, which a status arriving just
then cannot turn into the opposite); their ``status`` echoes the press's ``id`` (an integer)
so the page can tell the answer to its last press from older statuses. ``pause``, ``step``,
``reset`` and a ``configure`` that resets first stop the player and wait for its last
frame, so no frame of the old run arrives after them. A ``configure`` that only tweaks
(learning rate, optimizer, L1/L2, batch size, steps per frame, noise, a new draw of the
data) keeps playing and answers ``changed`` with the step it took effect at (the player is
paused while the settings change, so a reset is never trained on before the page hears of
it). Training runs in a worker thread (``asyncio.to_thread``), one frame at a time, and
checks before every step whether it should stop, so a pause or the server's shutdown takes
effect within one step. Check gradients runs beside the messages, on a copy of the network,
in a daemon thread: the tab stays answered (and may go on training) while it runs, and
Ctrl-C does not wait for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import Awaitable, Callable
from typing import ClassVar

from starlette.websockets import WebSocket, WebSocketDisconnect

from ..data.tabular import DataError
from ..nn.constraints import Integer, check
from .session import MAX_STEPS_PER_FRAME, ConfigError, Session

__all__ = ["Connection", "MAX_MESSAGE_BYTES", "MAX_DEPTH", "decode", "in_daemon_thread"]

MAX_MESSAGE_BYTES = 64_000  # a settings message is a few hundred bytes
MAX_DEPTH = 8  # the page's messages nest 3 deep; deeper ones are refused before parsing


def _depth(text: str) -> int:
    """How deep brackets nest in ``text`` (strings included: an over-estimate is safe)."""
    depth = deepest = 0
    for char in text:
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def decode(text: str) -> dict:
    """A message's JSON -> dict with a "type"; ValueError naming what is wrong."""
    if len(text) > MAX_MESSAGE_BYTES:
        raise ValueError(f"message of {len(text)} bytes refused (limit {MAX_MESSAGE_BYTES})")
    if _depth(text) > MAX_DEPTH:
        raise ValueError(f"malformed message: nested more than {MAX_DEPTH} levels deep")
    try:
        message = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ValueError(f"malformed message (not JSON: {getattr(exc, 'msg', exc)})") from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise ValueError('malformed message: expected a JSON object with a "type"')
    return message


def _json_default(value):
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot send {type(value).__name__} as JSON")


def in_daemon_thread(work: Callable[[], dict]) -> asyncio.Future:
    """``work()`` in a daemon thread; -> a future of its result. Unlike ``asyncio.to_thread``
    the server's shutdown does not wait for it (a long gradient check must not delay Ctrl-C)."""
    loop = asyncio.get_running_loop()
    future = loop.create_future()

    def settle(outcome, failed: bool) -> None:
        if not future.done():
            (future.set_exception if failed else future.set_result)(outcome)

    def run() -> None:
        outcome: dict | Exception
        try:
            outcome, failed = work(), False
        except Exception as exc:
            outcome, failed = exc, True
        with contextlib.suppress(RuntimeError):  # the loop closed: nobody waits any more
            loop.call_soon_threadsafe(settle, outcome, failed)

    threading.Thread(target=run, daemon=True, name="handgrad-gradcheck").start()
    return future


class Connection:
    """One tab's WebSocket: reads messages, runs the player, sends replies one at a time."""

    def __init__(
        self,
        websocket: WebSocket,
        session: Session,
        max_fps: float,
        hello: dict,
    ):
        self.ws, self.session = websocket, session
        self.frame_interval = 1.0 / max_fps
        self.hello = hello
        self.send_lock = asyncio.Lock()
        self.player: asyncio.Task | None = None
        self.checking: asyncio.Task | None = None  # a gradient check under way
        self.drawn = asyncio.Event()  # the page has drawn the last frame the player sent
        self.drawn.set()
        self.seq = 0  # the number of the last frame the player sent (its ``drawn`` awaited)
        self.hidden = False  # the tab is hidden: its frames carry no pictures
        self.leaving = False  # the page said bye: its session goes with its socket

    async def send(self, message: dict) -> None:
        async with self.send_lock:
            await self.ws.send_text(json.dumps(message, allow_nan=False, default=_json_default))

    async def error(self, text: str) -> None:
        await self.send({"type": "error", "message": text})

    async def status(self, press: dict | None = None) -> None:
        """Whether the session plays; the answer to a play or pause ``press`` echoes its id."""
        reply: dict = {"type": "status", "playing": self.session.playing}
        pressed = None if press is None else press.get("id")
        if isinstance(pressed, int) and not isinstance(pressed, bool):
            reply["id"] = pressed
        await self.send(reply)

    async def run(self) -> None:
        """Serve the tab until its socket closes. A connected page is never closed for want
        of clicks (a tab left open keeps its run, as TensorFlow Playground's does); a page
        that is gone is disconnected by the server's pings and its session reclaimed later."""
        await self.send(self.hello)
        await self.send(self.session.dataset_payload())
        await self.send(await asyncio.to_thread(self.session.frame))
        await self.status()
        if self.session.playing:  # a restored session that was playing goes on
            self.player = asyncio.create_task(self.play())
        while True:
            message = await self.ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            text: str | None = message.get("text")
            if text is None:
                await self.error("binary messages are not understood; send JSON text")
            else:
                await self.handle(text)

    async def handle(self, text: str) -> None:
        """One message from the page; every failure becomes an ``error`` reply."""
        try:
            message = decode(text)
        except ValueError as exc:
            await self.error(str(exc))
            return
        kind = message["type"]
        try:
            await self.dispatch(kind, message)
        except (ConfigError, DataError, TypeError, ValueError) as exc:
            await self.error(f"{kind}: {exc}")
            await self.status()
        except (WebSocketDisconnect, RuntimeError):
            raise
        except Exception as exc:  # a bug or an input nobody foresaw: report it, keep serving
            await self.error(f"{kind}: the server could not do this ({type(exc).__name__}: {exc})")

    async def dispatch(self, kind: str, message: dict) -> None:
        handler = self.HANDLERS.get(kind)
        if handler is None:
            await self.error(f"unknown message type {kind!r}")
            return
        await handler(self, message)

    async def on_configure(self, message: dict) -> None:
        session = self.session
        # stop the player first: a reset must not be trained on before the page hears of it
        was_playing = session.playing
        await self.halt()
        try:
            outcome = await asyncio.to_thread(session.configure, message)
        except Exception:
            if was_playing:
                self.start()
            raise
        if outcome["reset"]:
            await self.send({"type": "reset", "seed": session.net_spec.seed})
            await self.send(session.dataset_payload())
            await self.send(await asyncio.to_thread(session.frame))
            await self.status()
            return
        changes = outcome["changes"]
        if "noise" in changes or "draw" in changes:
            await self.send({**session.dataset_payload(), "keep_history": True})
        await self.send({"type": "changed", "step": session.trainer.steps, "changes": changes})
        if was_playing:
            self.start()
        else:
            await self.send(await asyncio.to_thread(session.frame))

    async def on_play(self, message: dict) -> None:
        if self.player is None or self.player.done():  # playing already: nothing to do
            self.start()
        await self.status(message)

    async def on_pause(self, message: dict) -> None:
        await self.halt()  # paused already: nothing to do
        await self.status(message)

    async def on_step(self, message: dict) -> None:
        count = message.get("steps", 1)  # Step clicked k times while the last was answered
        check(count, Integer(1, MAX_STEPS_PER_FRAME), "steps", error=ConfigError)
        await self.halt()
        await self.status()
        result = await asyncio.to_thread(self.session.step, count)
        if result["inspect"] is not None:
            await self.send({"type": "inspect", **result["inspect"]})
        await self.send(result["frame"])
        if result["inspect"] is None:
            raise ConfigError("the run diverged before the last of these steps")

    async def on_reset(self, message: dict) -> None:
        session = self.session
        await self.halt()
        await self.status()
        await asyncio.to_thread(session.reset)
        await self.send({"type": "reset", "seed": session.net_spec.seed})
        await self.send(await asyncio.to_thread(session.frame))

    async def on_gradcheck(self, message: dict) -> None:
        """Start a check of the network as it is now; its verdict is sent when it is done."""
        if self.checking is not None and not self.checking.done():
            raise ConfigError("a check is already running; its verdict comes next")
        check = await asyncio.to_thread(self.session.gradient_check)  # copies, under the lock
        self.checking = asyncio.create_task(self._report(check))

    async def _report(self, check: Callable[[], dict]) -> None:
        try:
            result = await in_daemon_thread(check)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            with contextlib.suppress(Exception):
                await self.error(f"gradcheck: {type(exc).__name__}: {exc}")
            return
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            await self.send({"type": "gradcheck", **result})

    async def on_drawn(self, message: dict) -> None:
        """The page drew frame ``seq``: counted only when it is the player's last frame."""
        if message.get("seq") == self.seq and self.seq > 0:
            self.drawn.set()

    async def on_bye(self, message: dict) -> None:
        self.leaving = True

    async def on_frame(self, message: dict) -> None:
        await self.send(await asyncio.to_thread(self.session.frame))

    async def on_view(self, message: dict) -> None:
        hidden = message.get("hidden")
        if not isinstance(hidden, bool):
            raise ConfigError("view needs hidden: true or false")
        self.hidden = hidden

    async def on_weight(self, message: dict, edit: bool = False, bias: bool = False) -> None:
        session = self.session
        layer, i, j = (message.get(k) for k in ("layer", "i", "j"))
        if bias:
            i = None  # b[layer][j]
        value = message.get("value") if edit else None
        if edit and value is None:
            raise ConfigError(f"{message['type']} needs a value")
        reply = await asyncio.to_thread(session.weight, layer, i, j, value)
        await self.send({"type": "weight", "edited": edit, **reply})
        if edit and not session.playing:
            await self.send(await asyncio.to_thread(session.frame))

    async def on_set_weight(self, message: dict) -> None:
        await self.on_weight(message, edit=True)

    async def on_bias(self, message: dict) -> None:
        await self.on_weight(message, bias=True)

    async def on_set_bias(self, message: dict) -> None:
        await self.on_weight(message, edit=True, bias=True)

    # message type -> handler; anything else is answered with an error
    HANDLERS: ClassVar[dict[str, Callable[..., Awaitable[None]]]] = {
        "configure": on_configure,
        "play": on_play,
        "pause": on_pause,
        "step": on_step,
        "reset": on_reset,
        "gradcheck": on_gradcheck,
        "frame": on_frame,
        "weight": on_weight,
        "set_weight": on_set_weight,
        "bias": on_bias,
        "set_bias": on_set_bias,
        "drawn": on_drawn,
        "view": on_view,
        "bye": on_bye,
    }

    def start(self) -> None:
        """Start the player (the caller made sure none runs)."""
        self.session.playing = True
        self.player = asyncio.create_task(self.play())

    async def halt(self) -> None:
        """Stop the player and wait for its last frame (it stops within one step)."""
        self.session.playing = False
        self.drawn.set()  # the last frame goes out without waiting for the page
        player, self.player = self.player, None
        if player is not None and not player.done():
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await player

    def abandon(self) -> None:
        """The socket is gone: stop training (without waiting)."""
        self.session.playing = False
        for task in (self.player, self.checking):
            if task is not None:
                task.cancel()
        self.player = self.checking = None

    async def play(self) -> None:
        """Train and send frames until paused (or the run diverges). The next frame trains
        while the page draws the last; it is sent once the page said ``drawn``."""
        loop = asyncio.get_running_loop()
        try:
            while self.session.playing:
                started = loop.time()
                frame = await asyncio.to_thread(self.session.advance, not self.hidden)
                await self.drawn.wait()  # the page is not behind (halt() sets it too)
                self.drawn.clear()
                self.seq += 1
                await self.send({**frame, "seq": self.seq})
                if frame.get("diverged"):
                    self.session.playing = False
                    await self.status()
                    return
                # wait out the frame's share of a second (and always yield to the others)
                await asyncio.sleep(max(0.0, self.frame_interval - (loop.time() - started)))
        except (WebSocketDisconnect, RuntimeError):  # the tab went away mid-frame
            self.session.playing = False
        except Exception as exc:  # never let a playing tab die silently
            self.session.playing = False
            with contextlib.suppress(Exception):
                await self.error(f"training stopped: {type(exc).__name__}: {exc}")
                await self.status()
