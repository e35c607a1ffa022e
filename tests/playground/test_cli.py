"""``handgrad playground``: the command starts, prints its URL, serves, and stops on Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request

import pytest

from handgrad.cli import main


def test_without_the_extra_it_says_how_to_install(monkeypatch, capsys):
    import handgrad.playground as playground

    monkeypatch.setattr(playground, "missing_dependencies", lambda: ["starlette", "uvicorn"])
    assert main(["playground", "--no-browser"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("handgrad: error: the playground needs starlette, uvicorn")
    from handgrad.install import install_hint

    assert install_hint("playground") in err


def test_a_port_in_use_is_a_one_line_error(capsys):
    pytest.importorskip("uvicorn", reason="the playground extra is not installed")
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["playground", "--no-browser", "--port", str(port)]) == 2
    assert f"port {port} on 127.0.0.1 is in use" in capsys.readouterr().err


def test_the_command_serves_the_page_and_stops_cleanly_on_ctrl_c():
    pytest.importorskip("uvicorn", reason="the playground extra is not installed")
    code = "import sys; from handgrad.cli import main; sys.exit(main())"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "playground", "--no-browser"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        line = proc.stdout.readline()
        assert line.startswith("handgrad playground: http://127.0.0.1:"), line
        url = line.split()[2]
        assert "/?token=" in url  # this launch's secret, as Jupyter prints it
        with urllib.request.urlopen(url, timeout=60) as reply:
            assert b"handgrad playground" in reply.read()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=120) == 0
        assert "stopped" in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.slow
def test_ctrl_c_stops_the_server_while_every_tab_trains_the_largest_network():
    """Training runs one step at a time and checks for the stop: Ctrl-C never waits for a tab
    (the time it takes is measured by benchmarks/playground_rate.py)."""
    pytest.importorskip("uvicorn", reason="the playground extra is not installed")
    import contextlib
    import json
    from urllib.parse import parse_qs, urlparse

    from websockets.sync.client import connect

    code = "import sys; from handgrad.cli import main; sys.exit(main())"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "playground", "--no-browser"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    stack = contextlib.ExitStack()
    try:
        url = urlparse(proc.stdout.readline().split()[2])
        token = parse_qs(url.query)["token"][0]
        big = {"hidden": [32] * 6, "activations": ["relu"] * 6}
        tabs = []
        for _ in range(3):
            address = f"ws://{url.netloc}/ws?token={token}"
            ws = stack.enter_context(
                connect(address, origin=f"http://{url.netloc}", max_size=2**24)
            )
            ws.send(json.dumps({"type": "configure", "data": {"name": "spirals", "n": 5000},
                                "network": big, "steps_per_frame": 200}))  # fmt: skip
            ws.send(json.dumps({"type": "play"}))
            tabs.append(ws)
        for ws in tabs:  # each tab has trained a frame and goes on
            while not ((m := json.loads(ws.recv()))["type"] == "frame" and m["step"] > 0):
                pass
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=120) == 0  # a cap for a loaded machine, not a timing
        assert "stopped" in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        stack.close()
