"""Fixtures for the playground tests: a real uvicorn server on a free 127.0.0.1 port."""

from __future__ import annotations

import threading
import time

import pytest

pytest.importorskip("starlette", reason="the playground extra is not installed")
uvicorn = pytest.importorskip("uvicorn", reason="the playground extra is not installed")


class LiveServer:
    """uvicorn serving ``app`` in a thread; ``url`` is its address; ``stop()`` ends it."""

    def __init__(self, app):
        from handgrad.playground.server import HOST, free_port

        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        config = uvicorn.Config(app, host=HOST, port=self.port, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 120  # a cap for a loaded machine
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the playground server did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=60)


@pytest.fixture(scope="module")
def live_server():
    from handgrad.playground import create_app

    server = LiveServer(create_app())
    yield server
    server.stop()
