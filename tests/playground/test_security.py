"""The playground as a local server should be: only this launch's page may talk to it, and
nothing a shared file holds ever runs as code (issue 25's findings, one test each)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest

pytest.importorskip("starlette", reason="the playground extra is not installed")

from starlette.websockets import WebSocketDisconnect  # noqa: E402

from handgrad.playground import create_app  # noqa: E402
from handgrad.playground.data import MAX_CSV_ROWS, safe_filename  # noqa: E402

from .conftest import ORIGIN, configure, opened, page_client, receive  # noqa: E402


@pytest.fixture
def app():
    return create_app(token="launch-secret")


def test_a_foreign_host_gets_nothing(app):
    with page_client(app) as c:
        assert c.get("/?token=launch-secret").status_code == 200
        for host in ("localhost:8765", "[::1]:8765"):
            assert c.get("/?token=launch-secret", headers={"host": host}).status_code == 200
        for host in ("evil.example", "evil.example:8765", "127.0.0.1:9999", "127.0.0.1"):
            reply = c.get("/?token=launch-secret", headers={"host": host})
            assert reply.status_code == 403, host
            assert "not this playground's address" in reply.json()["error"]
        with pytest.raises(WebSocketDisconnect) as refused:
            with c.websocket_connect("/ws", headers={"host": "evil.example"}):
                pass
        assert refused.value.code == 4003


@pytest.mark.parametrize("origin", ["http://evil.example", "null", "http://127.0.0.1:1234", None])
def test_a_foreign_origin_gets_no_session_and_cannot_post(app, origin):
    with page_client(app) as c:
        headers = {"origin": origin} if origin else {}
        with pytest.raises(WebSocketDisconnect) as refused:
            with c.websocket_connect("/ws", headers=headers or {"origin": ""}):
                pass
        assert refused.value.code == 4003
        assert app.registry.sessions == {}  # no slot taken
        reply = c.post("/api/x/upload", content=b"a,b\n", headers=headers or {"origin": ""})
        assert reply.status_code == 403 and "origin check" in reply.json()["error"]


def test_the_token_is_required_except_for_the_static_assets(app):
    with page_client(app) as c:
        bare = {"x-handgrad-token": ""}
        assert c.get("/", headers=bare).status_code == 403
        assert "token" in c.get("/?token=wrong", headers=bare).json()["error"]
        assert c.get("/?token=launch-secret", headers=bare).status_code == 200
        assert c.get("/static/app.js", headers=bare).status_code == 200
        assert c.get("/api/x/export/script", headers=bare).status_code == 403
        with pytest.raises(WebSocketDisconnect):
            with c.websocket_connect("/ws?token=wrong", headers=bare):
                pass
        with c.websocket_connect("/ws?token=launch-secret", headers=bare) as ws:
            assert receive(ws, "hello")["session"]


def test_each_launch_has_its_own_token():
    assert create_app().token != create_app().token


def test_the_page_forbids_inline_script_and_sets_text_only():
    from importlib import resources

    app = create_app(token="t")
    with page_client(app) as c:
        policy = c.get("/?token=t").headers["content-security-policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
    static = resources.files("handgrad.playground") / "static"
    for name in ("app.js", "draw.js", "inside.js", "charts.js", "link.js"):
        source = (static / name).read_text()
        assert "innerHTML" not in source and "insertAdjacentHTML" not in source, name
    assert "<script>" not in (static / "index.html").read_text()  # no inline script


HOSTILE = 'x1");import pathlib;pathlib.Path("PWNED").touch();("'


def test_the_export_of_a_hostile_table_is_inert(tmp_path):
    app = create_app()
    rows = "".join(f"{i % 7},{(i * 3) % 5},{'yes' if i % 2 else 'no'}\n" for i in range(40))
    header = io.StringIO()
    csv.writer(header, lineterminator="\n").writerow([HOSTILE, "b", "t'\" #"])
    text = header.getvalue() + rows
    with page_client(app) as c, c.websocket_connect("/ws") as ws:
        session, _, _ = opened(ws)
        name = "evil\nimport os;os.system('touch PWNED').csv"
        reply = c.post(f"/api/{session}/upload", params={"filename": name}, content=text.encode())
        table = reply.json()
        assert table["columns"] == [HOSTILE, "b", "t'\" #"]
        assert "\n" not in table["filename"] and "'" not in table["filename"]
        data = {"name": "csv", "target": "t'\" #", "features": [HOSTILE, "b"]}
        configure(ws, data=data)
        ws.send_json({"type": "step"})
        receive(ws, "inspect")
        script = c.get(f"/api/{session}/export/script").text
    assert f"INPUTS = [{HOSTILE!r}, 'b']" in script
    assert "TARGET = 't\\'\" #'" in script
    path = tmp_path / "run.py"
    path.write_text(script)
    done = subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "PWNED").exists()


@pytest.mark.parametrize(
    "content, problem",
    [
        (b'"a\nimport os",b\n' + b"1,2\n" * 12, "name of column 1 holds a control character"),
        (b'a,"b\x1b[31m"\n' + b"1,2\n" * 12, "name of column 2 holds a control character"),
        (b"a,b\n" + b"1,2\n" * 5 + b'3,"x\ny"\n' + b"1,2\n" * 5, "line 7, column 'b' holds"),
        (b"a,b,c\n" + b"1,2,3\n" * 3 + b"4,5\n", "line 5 has 2 fields but the header has 3"),
        (b"a,b\n" + b"1,2\n" * (MAX_CSV_ROWS + 1), f"more than {MAX_CSV_ROWS} data rows"),
        (",".join(f"c{i}" for i in range(60)).encode() + b"\n", "60 columns; at most 50"),
        (b"PAR1\x00\x00\x15\x04binary", "not a text table"),
    ],
)
def test_bad_uploads_are_refused_before_they_cost_memory(content, problem):
    app = create_app()
    with page_client(app) as c, c.websocket_connect("/ws") as ws:
        session, _, _ = opened(ws)
        reply = c.post(f"/api/{session}/upload?filename=t.parquet", content=content)
        assert reply.status_code == 200
        assert problem in reply.json()["error"]
        ws.send_json({"type": "frame"})
        assert receive(ws, "frame")["step"] == 0  # the session carries on


@pytest.mark.parametrize(
    "name, safe",
    [
        ("..", "upload.csv"),
        ("a\x00b.csv", "a_b.csv"),
        ("x" * 300 + ".csv", "x" * 80),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\data.csv", "data.csv"),
        ("<img src=x onerror=alert(1)>.csv", "_img src_x onerror_alert_1__.csv"),
        ("", "upload.csv"),
    ],
)
def test_upload_names_are_sanitised(name, safe):
    assert safe_filename(name) == safe
    app = create_app()
    with page_client(app) as c, c.websocket_connect("/ws") as ws:
        session, _, _ = opened(ws)
        body = b"a,b\n" + b"1,2\n3,4\n" * 6
        reply = c.post(f"/api/{session}/upload", params={"filename": name}, content=body)
        assert reply.status_code == 200 and reply.json()["filename"] == safe


def test_malformed_and_deeply_nested_messages_keep_the_connection(client):
    with client.websocket_connect("/ws") as ws:
        opened(ws)
        ws.send_text("[" * 1000 + "]" * 1000)
        assert "nested more than" in receive(ws, "error")["message"]
        ws.send_text(json.dumps({"type": "configure", "data": {"a": {"b": {"c": {"d": {}}}}}}))
        assert "unknown data setting(s): a" in receive(ws, "error")["message"]
        ws.send_text('{"type": "step", "x": ' + "[" * 5 + "]" * 5 + "}")
        assert receive(ws, "inspect")["step"] == 1
        ws.send_json({"type": "set_weight", "layer": 0, "i": 0, "j": 0, "value": "1e400"})
        message = receive(ws, "error")["message"]
        assert "a weight's value must be a finite number in [-100, 100], got '1e400'" in message
        ws.send_json({"type": "weight", "layer": 9, "i": 0, "j": 0})
        assert "layer must be 0 to 2" in receive(ws, "error")["message"]
        ws.send_json({"type": "frame"})
        assert receive(ws, "frame")["step"] == 1


def test_a_stopping_server_ends_training_within_a_step(client):
    """The server's Ctrl-C sets ``stopping``; a playing tab's frame then ends at once."""
    with client.websocket_connect("/ws") as ws:
        opened(ws)
        big = {"hidden": [32] * 6, "activations": ["relu"] * 6}
        configure(ws, data={"name": "spirals", "n": 5000}, network=big, speed=200)
        ws.send_json({"type": "play"})
        first = receive(ws, "frame")
        client.app.registry.stopping.set()
        frame = receive(ws, "frame")
        steps = [frame["step"]]
        for _ in range(3):
            frame = receive(ws, "frame")
            steps.append(frame["step"])
        assert steps[-1] == steps[-2] >= first["step"]  # no step is taken any more
        ws.send_json({"type": "pause"})


assert ORIGIN.startswith("http://127.0.0.1:")


def test_an_upload_that_takes_too_long_to_read_is_refused(monkeypatch):
    import handgrad.playground.app as app_module

    monkeypatch.setattr(app_module, "UPLOAD_SECONDS", 0.0)
    app = create_app()
    with page_client(app) as c, c.websocket_connect("/ws") as ws:
        session, _, _ = opened(ws)
        body = b"a,b\n" + b"1,2\n3,4\n" * 6
        reply = c.post(f"/api/{session}/upload?filename=slow.csv", content=body)
        assert reply.json() == {"error": "slow.csv took over 0 s to read"}
        ws.send_json({"type": "frame"})
        assert receive(ws, "frame")["step"] == 0
