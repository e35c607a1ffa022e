"""Fixtures for the playground tests: a real uvicorn server on a free 127.0.0.1 port, and a
Starlette TestClient that talks to the app as the page does (loopback Host, same Origin,
this launch's token)."""

from __future__ import annotations

import threading
import time
import warnings

import pytest

pytest.importorskip("starlette", reason="the playground extra is not installed")
uvicorn = pytest.importorskip("uvicorn", reason="the playground extra is not installed")
warnings.filterwarnings("ignore", message=".*httpx.*")

from starlette.testclient import TestClient  # noqa: E402

ORIGIN = "http://127.0.0.1:8765"  # the address TestClient pretends to serve
CAP = 120  # seconds: a cap on a wait for an event on a loaded machine, never a timing tested


class LiveServer:
    """uvicorn serving ``app`` in a thread; ``url`` is the page's address (with the token);
    ``stop()`` ends it."""

    def __init__(self, app):
        from handgrad.playground.server import HOST, listening_socket

        self.app = app
        self.socket = listening_socket()  # bound now: no other process can take the port
        self.port = self.socket.getsockname()[1]
        self.origin = f"http://{HOST}:{self.port}"
        self.url = f"{self.origin}/?token={app.token}"
        config = uvicorn.Config(app, host=HOST, port=self.port, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.socket]}, daemon=True
        )
        self.thread.start()
        deadline = time.monotonic() + 120  # a cap for a loaded machine
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the playground server did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.app.registry.stopping.set()
        self.server.should_exit = True
        self.thread.join(timeout=60)
        self.socket.close()


@pytest.fixture(scope="module")
def live_server():
    from handgrad.playground import create_app

    server = LiveServer(create_app())
    yield server
    server.stop()


class PageClient(TestClient):
    """A TestClient that sends what the page sends: loopback Host, Origin and token (a
    relative WebSocket path goes to the same loopback address)."""

    def websocket_connect(self, url: str, *args, **kwargs):
        if url.startswith("/"):
            url = "ws://127.0.0.1:8765" + url
        return super().websocket_connect(url, *args, **kwargs)


@pytest.fixture
def gated_check(monkeypatch):
    """Check gradients waits for the test's ``gate`` (``started`` says it began)."""
    import handgrad.playground.session as session_module

    gate, started = threading.Event(), threading.Event()
    real = session_module.check_gradients

    def check(trainer):
        started.set()
        gate.wait(timeout=CAP)
        return real(trainer)

    monkeypatch.setattr(session_module, "check_gradients", check)
    yield gate, started
    gate.set()


def page_client(app) -> TestClient:
    return PageClient(
        app, base_url=ORIGIN, headers={"origin": ORIGIN, "x-handgrad-token": app.token}
    )


@pytest.fixture
def client():
    from handgrad.playground import create_app

    with page_client(create_app()) as c:
        yield c


def answer(ws, frame: dict) -> None:
    """Say ``drawn`` for a player's frame, naming its number, as the page does once it drew it
    (a playing session sends its next frame only then; other frames have no number)."""
    if "seq" in frame:
        ws.send_json({"type": "drawn", "seq": frame["seq"]})


def read(ws) -> dict:
    """The next message; a frame is answered with ``drawn``, as the page does."""
    message = ws.receive_json()
    if message["type"] == "frame":
        answer(ws, message)
    return message


def receive(ws, kind: str, limit: int = 400) -> dict:
    """The next message of type ``kind`` (frames of a playing session may come between)."""
    for _ in range(limit):
        message = read(ws)
        if message["type"] == kind:
            return message
    raise AssertionError(f"no {kind!r} message in {limit}")


def opened(ws) -> tuple[str, dict, dict]:
    """A new tab's first messages: hello, dataset, frame, status -> (session, dataset, frame)."""
    hello = receive(ws, "hello")
    dataset, frame = receive(ws, "dataset"), receive(ws, "frame")
    assert receive(ws, "status")["playing"] is False
    return hello["session"], dataset, frame


def configure(ws, data=None, network=None, speed=5) -> dict:
    """Send settings; -> the new ``dataset`` (a reset) or the ``changed`` reply (a tweak)."""
    message = {"type": "configure", "steps_per_frame": speed}
    if data is not None:
        message["data"] = data
    if network is not None:
        message["network"] = network
    ws.send_json(message)
    for _ in range(400):
        reply = read(ws)
        if reply["type"] in ("dataset", "changed"):
            return reply
        assert reply["type"] != "error", reply
    raise AssertionError("no reply to configure")
