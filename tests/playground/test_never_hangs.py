"""The playground never hangs, whatever a client does: a page slower than the server, a
client that reads nothing, Check gradients pressed while training (twice), Ctrl-C while a
check runs. Every wait here is for a message or a line, capped only for a loaded machine."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading

import pytest

pytest.importorskip("starlette", reason="the playground extra is not installed")

from handgrad.playground import create_app  # noqa: E402
from handgrad.playground.protocol import Connection  # noqa: E402
from handgrad.playground.session import Session  # noqa: E402

from .conftest import CAP, LiveServer, answer, configure, opened, receive  # noqa: E402


def _connect(server: LiveServer):
    from websockets.sync.client import connect

    address = f"ws://127.0.0.1:{server.port}/ws?token={server.app.token}"
    return connect(address, origin=server.origin, max_size=2**24, open_timeout=CAP)


def _next(ws, kind: str) -> dict:
    """The next message of type ``kind`` on a websockets client (frames not answered)."""
    while (message := json.loads(ws.recv(timeout=CAP)))["type"] != kind:
        pass
    return message


def test_a_client_that_has_not_drawn_is_sent_no_more_frames_and_others_are_answered():
    """A page that never says ``drawn`` (a slow page, a client that reads nothing) is sent
    at most the frame in flight and the last one: the server does not queue frames to it,
    its training waits, and another tab on the same server is answered meanwhile."""
    server = LiveServer(create_app(max_fps=10_000))  # no frame-rate cap: only the page limits
    try:
        with _connect(server) as silent, _connect(server) as other:
            silent.send(json.dumps({"type": "configure", "steps_per_frame": 1}))
            silent.send(json.dumps({"type": "play"}))  # then reads nothing for a while
            _next(other, "status")
            for step in range(1, 31):  # 30 round trips on the other tab
                other.send(json.dumps({"type": "step"}))
                assert _next(other, "inspect")["step"] == step
            silent.send(json.dumps({"type": "pause"}))
            _next(silent, "hello")
            while not (m := json.loads(silent.recv(timeout=CAP)))["type"] == "status":
                pass  # the first status: the initial one, playing False
            assert _next(silent, "status")["playing"] is True  # the play
            frames = 0
            while (m := json.loads(silent.recv(timeout=CAP)))["type"] != "status":
                frames += m["type"] == "frame"
            assert m["playing"] is False
            assert 1 <= frames <= 2, f"{frames} frames were sent to a page that drew none"
    finally:
        server.stop()


class _Socket:
    """A page's socket for a ``Connection`` driven in the test's own event loop: what the
    page sends waits in ``inbox`` (None closes it); what the server sends lands in ``outbox``
    the moment it is sent (``send_text`` never suspends)."""

    def __init__(self) -> None:
        self.inbox: asyncio.Queue = asyncio.Queue()
        self.outbox: asyncio.Queue = asyncio.Queue()

    async def send_text(self, text: str) -> None:
        self.outbox.put_nowait(json.loads(text))

    async def receive(self) -> dict:
        message = await self.inbox.get()
        if message is None:
            return {"type": "websocket.disconnect"}
        return {"type": "websocket.receive", "text": json.dumps(message)}

    async def until(self, kind: str) -> list[dict]:
        """Every message up to and including the next of type ``kind``."""
        seen = [await asyncio.wait_for(self.outbox.get(), CAP)]
        while seen[-1]["type"] != kind:
            seen.append(await asyncio.wait_for(self.outbox.get(), CAP))
        return seen


def test_a_late_answer_to_another_frame_never_lets_the_player_run_ahead():
    """The page answers each frame it drew with ``drawn``. Before frames were numbered, the
    answer to the opening frame arriving after Play (a loaded page) counted for the player's
    first frame, and the player sent its second one to a page that had drawn neither. Now
    only the answer naming the player's last frame counts."""
    failures: list[BaseException] = []

    def run() -> None:  # a loop of its own: a browser test's may be running in this thread
        try:
            asyncio.run(_late_answers())
        except BaseException as exc:
            failures.append(exc)

    apart = threading.Thread(target=run)
    apart.start()
    apart.join()
    if failures:
        raise failures[0]


async def _late_answers() -> None:
    socket = _Socket()
    session = Session("late", threading.Event())
    connection = Connection(socket, session, max_fps=10_000, hello={"type": "hello"})  # type: ignore[arg-type]
    served = asyncio.create_task(connection.run())
    opening = (await socket.until("frame"))[-1]
    assert "seq" not in opening  # not the player's: nothing waits for its answer
    assert (await socket.until("status"))[-1]["playing"] is False
    socket.inbox.put_nowait({"type": "play"})
    assert (await socket.until("status"))[-1]["playing"] is True
    first = (await socket.until("frame"))[-1]
    assert first["seq"] == 1 and first["step"] == 5
    # late or wrong answers: the opening frame's (it had no number), other numbers
    for late in ({}, {"seq": None}, {"seq": 0}, {"seq": 2}, {"seq": "1"}):
        socket.inbox.put_nowait({"type": "drawn", **late})
    socket.inbox.put_nowait({"type": "are you there"})  # answered after those five, in order
    answered = await socket.until("error")
    # the player may go on only when one of these let it: then either its event is set or
    # (it went on at once) its second frame is already out; neither happened
    assert [m["type"] for m in answered] == ["error"] and socket.outbox.empty()
    assert not connection.drawn.is_set()
    assert session.trainer.steps <= 10  # at most the frame that waits has trained
    socket.inbox.put_nowait({"type": "drawn", "seq": 1})  # the page drew the player's frame
    second = (await socket.until("frame"))[-1]
    assert second["seq"] == 2 and second["step"] == 10
    socket.inbox.put_nowait({"type": "pause"})
    paused = await socket.until("status")
    assert paused[-1]["playing"] is False
    frames = [m for m in paused if m["type"] == "frame"]
    assert [m["seq"] for m in frames] in ([], [3])  # the one in flight, let go by the pause
    assert session.trainer.steps == (frames[-1] if frames else second)["step"]
    socket.inbox.put_nowait(None)
    await asyncio.wait_for(served, CAP)


def _next_not_frame(ws) -> dict:
    """The next message that is not a frame (frames are answered, as the page does)."""
    message = ws.receive_json()
    while message["type"] == "frame":
        answer(ws, message)
        message = ws.receive_json()
    return message


def test_pause_step_and_training_go_on_while_the_gradients_are_checked(client, gated_check):
    gate, started = gated_check
    with client.websocket_connect("/ws") as ws:
        session, _, _ = opened(ws)
        ws.send_json({"type": "play"})
        assert _next_not_frame(ws) == {"type": "status", "playing": True}
        checked_at = receive(ws, "frame")["step"]
        ws.send_json({"type": "gradcheck"})
        assert started.wait(timeout=CAP)
        ws.send_json({"type": "gradcheck"})  # pressed again while the first one runs
        refused = _next_not_frame(ws)
        assert refused["type"] == "error" and "already running" in refused["message"], refused
        assert _next_not_frame(ws) == {"type": "status", "playing": True}  # still playing
        later = receive(ws, "frame")["step"]
        while later <= checked_at + 10:  # the run trains on while the check waits
            later = receive(ws, "frame")["step"]
        ws.send_json({"type": "pause"})
        assert _next_not_frame(ws) == {"type": "status", "playing": False}
        ws.send_json({"type": "step"})
        assert _next_not_frame(ws) == {"type": "status", "playing": False}
        assert _next_not_frame(ws)["type"] == "inspect"
        gate.set()
        verdict = receive(ws, "gradcheck")
        assert verdict["passed"] is True, verdict["table"]
        assert verdict["step"] >= checked_at  # the network as it was when pressed


@pytest.mark.slow  # a server process, two clients, a signal
def test_ctrl_c_stops_the_server_while_a_check_runs_and_a_client_reads_nothing():
    pytest.importorskip("uvicorn", reason="the playground extra is not installed")
    from urllib.parse import parse_qs, urlparse

    from websockets.sync.client import connect

    code = (
        "import sys, threading\n"
        "import handgrad.playground.session as s\n"
        "def stuck(trainer):\n"
        "    print('checking', flush=True)\n"
        "    threading.Event().wait()  # a check that never ends\n"
        "s.check_gradients = stuck\n"
        "from handgrad.cli import main\n"
        "sys.exit(main(['playground', '--no-browser']))\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        url = urlparse(proc.stdout.readline().split()[2])
        token = parse_qs(url.query)["token"][0]
        address = f"ws://{url.netloc}/ws?token={token}"
        origin = f"http://{url.netloc}"
        options = {"origin": origin, "max_size": 2**24, "open_timeout": CAP}
        with connect(address, **options) as checker, connect(address, **options) as silent:
            big = {"hidden": [32] * 6, "activations": ["relu"] * 6}
            silent.send(json.dumps({"type": "configure", "data": {"name": "spirals", "n": 5000},
                                    "network": big, "steps_per_frame": 200}))  # fmt: skip
            silent.send(json.dumps({"type": "play"}))  # and never reads
            checker.send(json.dumps({"type": "gradcheck"}))
            assert proc.stdout.readline().strip() == "checking"
            proc.send_signal(signal.SIGINT)
            assert proc.wait(timeout=CAP) == 0
        assert "stopped" in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_gradients_that_overflow_before_the_loss_end_the_run_as_diverged(client):
    """SGD at learning rate 10 with L2 at 10 multiplies every weight by -99 a step: the
    gradient norms overflow float64 while the loss is still finite (about 1e159). The run is
    diverged (before: the frame could not be sent as JSON and the player died)."""
    with client.websocket_connect("/ws") as ws:
        opened(ws)
        net = {"optimizer": "sgd", "lr": 10.0, "regularization": "l2", "reg_rate": 10.0}
        configure(ws, network=net, speed=5)
        ws.send_json({"type": "play"})
        assert _next_not_frame(ws) == {"type": "status", "playing": True}
        frame = receive(ws, "frame")
        while not frame["diverged"]:
            assert all(abs(v) < 1e308 for v in frame["grad_norms"])
            frame = receive(ws, "frame")
        assert "grad_norms" not in frame
        assert _next_not_frame(ws) == {"type": "status", "playing": False}


def test_a_hidden_tab_is_sent_frames_without_pictures_until_it_is_shown(client):
    """``view`` hidden: the frames carry the scores and norms the curves need, no regions,
    unit pictures or weights (nothing to draw in a hidden tab); shown again, the next frame
    has them all. A view that is not a true/false answer is refused and changes nothing."""
    pictures = {"units", "units_on", "weights", "biases", "region_class"}
    with client.websocket_connect(f"/ws?token={client.app.token}") as ws:
        opened(ws)
        configure(ws, {"name": "moons", "n": 200, "seed": 0}, speed=2)
        ws.send_json({"type": "view", "hidden": "yes"})
        assert receive(ws, "error")["message"] == "view: view needs hidden: true or false"
        assert receive(ws, "status")["playing"] is False
        ws.send_json({"type": "view", "hidden": True})
        ws.send_json({"type": "play"})
        assert receive(ws, "status")["playing"] is True
        hidden = [receive(ws, "frame") for _ in range(3)]
        assert all(not pictures & frame.keys() for frame in hidden), hidden[0].keys()
        assert all({"train_loss", "test_acc", "grad_norms", "dead"} <= f.keys() for f in hidden)
        assert [f["step"] for f in hidden] == sorted({f["step"] for f in hidden})  # it trains
        ws.send_json({"type": "view", "hidden": False})
        for _ in range(3):  # the frame sent and the one in the making may be hidden ones
            if "weights" in (message := receive(ws, "frame")):
                break
        assert pictures <= message.keys()
        ws.send_json({"type": "pause"})
        assert receive(ws, "status")["playing"] is False
        ws.send_json({"type": "frame"})  # a paused tab asks for its pictures
        assert pictures <= receive(ws, "frame").keys()
