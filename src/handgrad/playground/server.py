"""Running the playground: uvicorn on 127.0.0.1, a free port unless one is asked for."""

from __future__ import annotations

import socket
import sys
import threading
import webbrowser

__all__ = ["serve", "free_port", "listening_socket", "HOST"]

HOST = "127.0.0.1"  # the loopback only: the page is for the person at this machine
PING_SECONDS = 20.0  # a connected page is pinged this often and must answer within as long


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (another process may take it
    before it is used: to serve on it, prefer :func:`listening_socket`)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def listening_socket(port: int = 0) -> socket.socket:
    """A TCP socket listening on 127.0.0.1:``port`` (0: a free port the system picks), handed
    to uvicorn as it is, so no other process can take the port between choosing and serving.
    Raises ValueError when the port is in use."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds its own
    try:
        sock.bind((HOST, port))
        sock.listen()
    except OSError:
        sock.close()
        raise ValueError(f"port {port} on {HOST} is in use; pick another or omit --port") from None
    return sock


def warm_up() -> None:
    """Import and run once what a tab's first session needs (the engine, the data sets and
    scikit-learn's generators, a frame, a step), so the first page is live at once."""
    from .session import Session

    session = Session("warm-up")
    session.step()
    session.frame()


def serve(port: int = 0, open_browser: bool = True) -> None:
    """Serve until Ctrl-C; prints the URL (with this launch's token), opens it in the browser
    unless told not to. Ctrl-C stops every training within one step and ends the server at
    once, whatever the tabs are doing.

    ``port`` 0 picks a free one. Raises ValueError when the port asked for is taken.
    """
    import uvicorn

    from .app import MAX_MESSAGE_BYTES, create_app

    sock = listening_socket(port)  # held from here on: the port printed is the port served
    warm_up()
    port = sock.getsockname()[1]
    app = create_app()
    url = f"http://{HOST}:{port}/?token={app.token}"
    config = uvicorn.Config(
        app,
        host=HOST,
        port=port,
        log_level="warning",
        ws_max_size=MAX_MESSAGE_BYTES * 4,
        # the browser answers these pings itself (a hidden or frozen tab too): a page that is
        # gone without closing its socket (a sleeping laptop) is disconnected within 40 s,
        # and its session is reclaimed after the reconnect grace
        ws_ping_interval=PING_SECONDS,
        ws_ping_timeout=PING_SECONDS,
        lifespan="off",
        timeout_graceful_shutdown=1,
    )

    class _Server(uvicorn.Server):
        async def startup(self, sockets=None) -> None:
            await super().startup(sockets=sockets)
            if self.started:  # listening now: the URL works when it is printed
                print(f"handgrad playground: {url}  (Ctrl-C stops it)", flush=True)
                if open_browser:
                    threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()

        def handle_exit(self, sig, frame) -> None:
            app.registry.stopping.set()  # every training stops before its next step
            self.force_exit = True  # do not wait for open tabs to close
            super().handle_exit(sig, frame)

    server = _Server(config)
    try:
        server.run(sockets=[sock])  # uvicorn catches SIGINT / SIGTERM, shuts down, re-raises
    except KeyboardInterrupt:
        pass  # Ctrl-C is how a person stops the playground: not an error
    finally:
        sock.close()
    print("handgrad playground: stopped", file=sys.stderr, flush=True)
