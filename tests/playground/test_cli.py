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
    assert "pip install 'handgrad[playground]'" in err


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
        with urllib.request.urlopen(url, timeout=60) as reply:
            assert b"handgrad playground" in reply.read()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=120) == 0
        assert "stopped" in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
