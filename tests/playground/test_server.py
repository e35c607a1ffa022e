"""The playground server: sessions, the protocol, robustness, uploads, exports (no browser)."""

from __future__ import annotations

import json
import subprocess
import sys
import time

import numpy as np
import pytest

import handgrad as hg

pytest.importorskip("starlette", reason="the playground extra is not installed")

from handgrad.playground import create_app  # noqa: E402
from handgrad.playground.data import MAX_UPLOAD_BYTES, make_dataset, split  # noqa: E402
from handgrad.playground.network import NetSpec, build_model  # noqa: E402
from handgrad.tabular import Predictor  # noqa: E402

from .conftest import configure, opened, page_client, receive  # noqa: E402

GOOD_CSV = "a,b,c,kind\n" + "".join(
    f"{x:.3f},{y:.3f},{x * y:.3f},{'yes' if x * y > 0 else 'no'}\n"
    for x, y in np.random.default_rng(5).normal(size=(80, 2))
)


def test_a_new_tab_gets_moons_and_a_2_8_8_1_network(client):
    with client.websocket_connect("/ws") as ws:
        _, dataset, frame = opened(ws)
        assert dataset["sizes"] == [2, 8, 8, 1]
        assert len(dataset["points"]) == 500 and dataset["n_train"] + dataset["n_test"] == 500
        assert dataset["classes"] == ["0", "1"] and set(dataset["labels"]) == {0, 1}
        assert frame["step"] == 0 and 0.0 <= frame["test_acc"] <= 1.0
        assert [len(layer) for layer in frame["units"]] == [8, 8]
        assert [np.shape(w) for w in frame["weights"]] == [(2, 8), (8, 8), (8, 1)]


def test_step_shows_every_tensor_in_backprop_order_and_is_a_real_step(client):
    with client.websocket_connect("/ws") as ws:
        opened(ws)
        ws.send_json({"type": "step"})
        inspected = receive(ws, "inspect")
        frame = receive(ws, "frame")
    names = [t["name"] for t in inspected["tensors"]]
    assert names[:7] == ["x", "z1", "a1", "z2", "a2", "z3 (logits)", "L"]
    assert names[7:] == [
        "dL/dz3", "dW3", "db3", "dL/da2", "δ2 = dL/dz2", "dW2", "db2", "dL/da1",
        "δ1 = dL/dz1", "dW1", "db1",
    ]  # fmt: skip
    shapes = {t["name"]: t["shape"] for t in inspected["tensors"]}
    assert shapes["x"] == [16, 2] and shapes["z1"] == [16, 8] and shapes["dW1"] == [2, 8]
    assert shapes["db3"] == [1] and shapes["L"] == []
    assert frame["step"] == 1
    # the loss shown is the loss of the first minibatch of a model built from the same seed
    X, y = make_dataset("moons", 500, 0.2, 3, 0)
    train, _ = split(500, 0.3, 0)
    first = np.random.default_rng(2).permutation(len(train))[:16]
    model = build_model(NetSpec(), 2, 1)
    expected = hg.BCEWithLogitsLoss().forward(model.forward(X[train][first]), y[train][first])
    assert inspected["loss"] == pytest.approx(expected, rel=1e-12)
    x_shown = np.array(inspected["tensors"][0]["values"])
    np.testing.assert_allclose(x_shown, np.round(X[train][first][:6], 6))


def test_gradcheck_passes_on_the_current_network(client):
    with client.websocket_connect("/ws") as ws:
        opened(ws)
        ws.send_json({"type": "gradcheck"})
        report = receive(ws, "gradcheck")
    assert report["passed"] is True
    assert [r["name"] for r in report["rows"]] == [
        f"{i}.{p}" for i in (0, 2, 4) for p in ("weight", "bias")
    ]
    assert "PASSED" in report["table"]


def test_zero_initialisation_keeps_hidden_units_identical(client):
    with client.websocket_connect("/ws") as ws:
        opened(ws)
        net = {"hidden": [6], "activations": ["sigmoid"], "init": "zeros", "lr": 0.3}
        configure(ws, network=net, speed=40)
        for _ in range(3):  # W2 starts at 0, so W1 moves from the second step on
            ws.send_json({"type": "step"})
            receive(ws, "inspect")
            frame = receive(ws, "frame")
        W1 = np.array(frame["weights"][0])
        assert np.abs(W1).max() > 0  # it learned something ...
        assert np.all(W1 == W1[:, :1])  # ... the same thing in every unit
        assert len(set(frame["units"][0])) == 1
        configure(ws, network={**net, "init": "xavier"})
        assert len(set(receive(ws, "frame")["units"][0])) == 6


def test_malformed_messages_get_an_error_and_the_session_goes_on(client):
    with client.websocket_connect("/ws") as ws:
        opened(ws)
        ws.send_text("{not json")
        assert "not JSON" in receive(ws, "error")["message"]
        ws.send_bytes(b"\x00\x01")
        assert "binary" in receive(ws, "error")["message"]
        ws.send_json({"type": "launch"})
        assert "unknown message type 'launch'" in receive(ws, "error")["message"]
        ws.send_json([1, 2])
        assert '"type"' in receive(ws, "error")["message"]
        ws.send_text(json.dumps({"type": "step", "pad": "x" * 70_000}))
        assert "refused" in receive(ws, "error")["message"]
        ws.send_json(
            {"type": "configure", "network": {"hidden": [10_000], "activations": ["relu"]}}
        )
        assert (
            "a hidden layer's units must be an integer in [1, 32], got 10000"
            in receive(ws, "error")["message"]
        )
        ws.send_json({"type": "configure", "data": {"name": "moons", "n": 10**9}})
        assert (
            "number of points must be an integer in [20, 5000], got 1000000000"
            in receive(ws, "error")["message"]
        )
        ws.send_json({"type": "configure", "network": {"lr": "fast"}})
        assert "'lr' has the wrong type" in receive(ws, "error")["message"]
        ws.send_json({"type": "configure", "data": "moons"})
        assert "data settings must be a JSON object" in receive(ws, "error")["message"]
        ws.send_json({"type": "configure", "data": {"name": "moons", "colour": "red"}})
        assert "unknown data setting(s): colour" in receive(ws, "error")["message"]
        ws.send_json({"type": "configure", "network": {"hidden": [4], "activations": "relu"}})
        assert "wrong type" in receive(ws, "error")["message"]
        ws.send_json({"type": "step"})  # nothing above changed the session
        assert [t["shape"] for t in receive(ws, "inspect")["tensors"][:2]] == [[16, 2], [16, 8]]


def test_tabs_are_independent_sessions(client):
    with client.websocket_connect("/ws") as one, client.websocket_connect("/ws") as two:
        id_one, _, _ = opened(one)
        id_two, _, _ = opened(two)
        assert id_one != id_two
        assert configure(one, data={"name": "circles"})["sizes"] == [2, 8, 8, 1]
        for _ in range(3):
            one.send_json({"type": "step"})
            receive(one, "inspect")
        two.send_json({"type": "frame"})
        assert receive(two, "frame")["step"] == 0
        one.send_json({"type": "frame"})
        assert receive(one, "frame")["step"] == 3
        registry = client.app.registry
        assert set(registry.sessions) == {id_one, id_two}
    deadline = time.monotonic() + 120  # a cap for a loaded machine
    while len(registry.detached) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)  # the server notices the closed sockets
    assert set(registry.detached) == {id_one, id_two}  # kept a while for a reconnect


def test_a_playing_tab_does_not_stall_another(client):
    with client.websocket_connect("/ws") as busy, client.websocket_connect("/ws") as other:
        opened(busy)
        opened(other)
        configure(busy, network={"hidden": [32] * 6, "activations": ["relu"] * 6}, speed=200)
        busy.send_json({"type": "play"})
        receive(busy, "status")
        other.send_json({"type": "step"})
        assert receive(other, "inspect")["step"] == 1
        busy.send_json({"type": "pause"})


class Clock:
    """A monotonic clock the test moves by hand (the server's reclaiming reads it)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def detached(app, session: str) -> None:
    """Wait until the server has noticed that the tab of ``session`` closed its socket."""
    deadline = time.monotonic() + 120  # a cap for a loaded machine; the loop ends on the event
    while session not in app.registry.detached and time.monotonic() < deadline:
        time.sleep(0.02)
    assert session in app.registry.detached


def test_a_connected_tab_is_kept_however_long_nobody_clicks_and_a_gone_one_is_reclaimed():
    """A tab left open (hidden, training, or paused with nobody at it) keeps its session for
    hours of the server's clock; a tab that closed is kept for the reconnect grace, then
    reclaimed. Ten hours pass in the test without waiting them: the clock is the test's."""
    clock = Clock()
    app = create_app(clock=clock, grace=120.0)
    with page_client(app) as c:
        with c.websocket_connect("/ws") as quiet, c.websocket_connect("/ws") as hidden:
            idle, _, _ = opened(quiet)
            busy, _, _ = opened(hidden)
            hidden.send_json({"type": "view", "hidden": True})
            hidden.send_json({"type": "play"})
            assert receive(hidden, "status")["playing"] is True
            clock.now += 10 * 3600  # ten hours without a click on either tab
            with c.websocket_connect("/ws") as other:  # a new tab: the server reclaims now
                opened(other)
            app.registry.purge()
            assert {idle, busy} <= set(app.registry.sessions)
            assert app.registry.sessions[busy].playing
            quiet.send_json({"type": "step"})  # the quiet tab answers as if it had just loaded
            assert receive(quiet, "inspect")["step"] == 1
            hidden.send_json({"type": "pause"})
            frame = receive(hidden, "frame")  # the player's last frame: the run went on
            assert frame["step"] > 0 and "weights" not in frame
        detached(app, idle)
        clock.now += 119  # within the grace: the page that comes back finds its run
        app.registry.purge()
        with c.websocket_connect(f"/ws?session={idle}") as back:
            hello = receive(back, "hello")
            assert hello["restored"] is True and receive(back, "frame")["step"] == 1
        detached(app, idle)
        clock.now += 121  # the page stayed away past the grace: its session is reclaimed
        app.registry.purge()
        assert idle not in app.registry.sessions and busy not in app.registry.sessions
        with c.websocket_connect(f"/ws?session={idle}") as late:
            hello = receive(late, "hello")
            assert hello["restored"] is False and hello["ended"] is True


def test_a_page_away_for_a_week_comes_back_to_its_run_unless_a_new_tab_needed_the_slot(
    monkeypatch,
):
    """A laptop closed for a week: its page's socket dropped while the server ran on. A week
    later (on the test's clock) the page reconnects to its own run, the weights and the step
    where they were. Keeping it costs no slot a new tab needs: with every slot taken, the
    session gone longest gives way."""
    import handgrad.playground.app as app_module

    monkeypatch.setattr(app_module, "MAX_SESSIONS", 2)
    clock = Clock()
    app = create_app(clock=clock)  # the default grace
    with page_client(app) as c:
        with c.websocket_connect("/ws") as first, c.websocket_connect("/ws") as second:
            gone_first, _, _ = opened(first)
            night, _, _ = opened(second)
            first.send_json({"type": "step", "steps": 3})
            assert receive(first, "inspect")["step"] == 3
            second.send_json({"type": "play"})
            playing_at = receive(second, "frame")["step"]
            assert playing_at > 0
        detached(app, gone_first)
        detached(app, night)
        clock.now += 60  # the first page's socket closed a minute before the other's
        app.registry.detached[night] = clock.now
        steps_then = app.registry.sessions[night].trainer.steps
        model = app.registry.sessions[night].trainer.model
        weights_then = [p.value.copy() for p in model.parameters()]
        clock.now += 7 * 24 * 3600
        with c.websocket_connect("/ws") as new_tab:  # every slot taken: the longest gone goes
            opened(new_tab)
            assert gone_first not in app.registry.sessions and night in app.registry.sessions
        detached(app, (set(app.registry.sessions) - {night}).pop())
        with c.websocket_connect(f"/ws?session={night}") as back:
            hello = receive(back, "hello")
            assert hello["restored"] is True and hello["ended"] is False
            frame = receive(back, "frame")
            assert frame["step"] == steps_then >= playing_at
            assert receive(back, "status")["playing"] is False  # back paused, where it was
            weights_now = [p.value for p in app.registry.sessions[night].trainer.model.parameters()]
            assert all((a == b).all() for a, b in zip(weights_then, weights_now, strict=True))


def test_a_tab_that_said_bye_is_dropped_with_its_socket_and_a_silent_one_is_kept():
    """A page closed or reloaded says ``bye`` (its run cannot come back: a reload starts a new
    one from the link), so its session goes at once; a page gone without a word (asleep)
    keeps its session for when it is back."""
    app = create_app()
    with page_client(app) as c:
        with c.websocket_connect("/ws") as closing, c.websocket_connect("/ws") as asleep:
            bye, _, _ = opened(closing)
            kept, _, _ = opened(asleep)
            closing.send_json({"type": "bye"})
            closing.send_json({"type": "frame"})  # answered: the bye was handled, no reply
            assert receive(closing, "frame")["step"] == 0 and bye in app.registry.sessions
        detached(app, kept)
        deadline = time.monotonic() + 120  # a cap for a loaded machine
        while bye in app.registry.sessions and time.monotonic() < deadline:
            time.sleep(0.02)  # the server notices the closed socket
        assert bye not in app.registry.sessions and kept in app.registry.sessions


def test_csv_upload_good_bad_and_too_big(client):
    with client.websocket_connect("/ws") as ws:
        session, _, _ = opened(ws)
        url = f"/api/{session}/upload?filename=mine.csv"
        reply = client.post(url, content=GOOD_CSV.encode())
        assert reply.status_code == 200
        assert reply.json() == {
            "filename": "mine.csv",
            "columns": ["a", "b", "c", "kind"],
            "rows": 80,
        }
        data = {"name": "csv", "target": "kind", "features": ["a", "b", "c"], "plane": ["a", "b"]}
        dataset = configure(ws, data=data)
        assert dataset["sizes"] == [3, 8, 8, 1] and dataset["classes"] == ["no", "yes"]
        assert dataset["plane"] == ["a", "b"]
        ragged = client.post(url, content=b"a,b\n1,2,3\n3,4\n")
        assert ragged.status_code == 200
        assert ragged.json()["error"] == (
            "mine.csv: line 2 has 3 fields but the header has 2 (1 field(s) after the last column)"
        )
        text = client.post(url, content=b"a,b\n" + b"1,x\n" * 20)
        assert text.status_code == 200  # readable; a constant column cannot be a feature
        ws.send_json({"type": "configure", "data": {**data, "target": "a", "features": ["b"]}})
        assert "no usable feature column" in receive(ws, "error")["message"]
        huge = client.post(url, content=b"a,b\n" + b"1,2\n" * (MAX_UPLOAD_BYTES // 4 + 1))
        assert huge.status_code == 413 and "upload limit" in huge.json()["error"]
        assert client.post("/api/nope/upload", content=b"a,b\n").status_code == 404
        ws.send_json({"type": "frame"})
        assert receive(ws, "frame")["step"] == 0  # the session still serves its table


def test_exported_model_loads_and_predicts_like_the_session(client, tmp_path):
    from handgrad.cli import main

    with client.websocket_connect("/ws") as ws:
        session, _, _ = opened(ws)
        configure(ws, data={"name": "blobs", "classes": 3}, speed=50)
        ws.send_json({"type": "step"})
        receive(ws, "inspect")
        reply = client.get(f"/api/{session}/export/model")
    path = tmp_path / "model.npz"
    path.write_bytes(reply.content)
    model = hg.load(path)
    assert [layer.config()["type"] for layer in model] == [
        "Linear",
        "Tanh",
        "Linear",
        "Tanh",
        "Linear",
    ]
    predictor = Predictor.load(path)
    assert predictor.classes == ["0", "1", "2"] and predictor.feature_names == ["x1", "x2"]
    X, _ = make_dataset("blobs", 500, 0.2, 3, 0)
    rows = tmp_path / "rows.csv"
    rows.write_text("x1,x2\n" + "".join(f"{a!r},{b!r}\n" for a, b in X[:20].tolist()))
    out = tmp_path / "pred.csv"
    assert main(["predict", "--model", str(path), "--data", str(rows), "--out", str(out)]) == 0
    lines = out.read_text().splitlines()
    expected = np.argmax(model.forward(X[:20]), axis=1)
    column = lines[0].split(",").index("prediction") if "prediction" in lines[0] else -1
    got = [int(float(line.split(",")[column])) for line in lines[1:]]
    assert got == expected.tolist()


@pytest.mark.parametrize(
    "data, network",
    [
        pytest.param(
            {"name": "moons"},
            {"optimizer": "momentum", "lr": 0.1, "regularization": "l2", "reg_rate": 0.001},
            marks=pytest.mark.slow,  # the script imports scikit-learn: ~3 s
        ),
        ({"name": "sine"}, {"hidden": [8], "activations": ["relu"], "init": "small"}),
        (
            {"name": "sine"},
            {"hidden": [8], "activations": ["tanh"], "regularization": "l1", "reg_rate": 0.003},
        ),
    ],
)
def test_exported_script_reproduces_the_final_loss(client, tmp_path, data, network):
    with client.websocket_connect("/ws") as ws:
        session, _, _ = opened(ws)
        configure(ws, data=data, network=network, speed=37)
        ws.send_json({"type": "play"})
        frame = receive(ws, "frame")
        while frame["step"] < 100:
            frame = receive(ws, "frame")
        ws.send_json({"type": "pause"})
        receive(ws, "status")
        reply = client.get(f"/api/{session}/export/script")
    script = tmp_path / "run.py"
    script.write_text(reply.text)
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    assert f"steps: {reply.headers['x-steps']}" in done.stdout
    assert f"final training loss: {reply.headers['x-final-loss']}" in done.stdout
    assert int(reply.headers["x-steps"]) >= 100


def test_exported_script_reproduces_a_run_on_an_uploaded_table(client, tmp_path):
    rng = np.random.default_rng(9)
    rows = rng.uniform(-2, 2, size=(60, 3))
    text = "u,v,w,out\n" + "".join(f"{a},{b},{c},{a * a - b + 0.1 * c}\n" for a, b, c in rows)
    with client.websocket_connect("/ws") as ws:
        session, _, _ = opened(ws)
        assert client.post(f"/api/{session}/upload?filename=t.csv", content=text.encode()).json()
        data = {"name": "csv", "target": "out", "features": ["u", "v", "w"], "plane": ["u", "w"]}
        dataset = configure(ws, data=data, speed=1)
        assert dataset["task"] == "regression" and dataset["plane"] == ["u", "w"]
        for _ in range(5):
            ws.send_json({"type": "step"})
            receive(ws, "inspect")
        reply = client.get(f"/api/{session}/export/script")
    script = tmp_path / "run.py"
    script.write_text(reply.text)
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    assert reply.headers["x-steps"] == "5"
    assert f"final training loss: {reply.headers['x-final-loss']}" in done.stdout


def test_reset_starts_again_from_the_same_bits(client):
    with client.websocket_connect("/ws") as ws:
        opened(ws)
        ws.send_json({"type": "frame"})
        first = receive(ws, "frame")
        for _ in range(3):
            ws.send_json({"type": "step"})
            receive(ws, "inspect")
            assert receive(ws, "frame") != first
        ws.send_json({"type": "reset"})
        receive(ws, "reset")
        assert receive(ws, "frame") == first


def test_the_page_and_its_assets_are_served_locally(client):
    page = client.get("/")
    assert page.status_code == 200 and "handgrad playground" in page.text
    assert '<body class="connecting">' in page.text  # until the session says hello
    assert '<span id="connection" class="connection" role="status">connecting…</span>' in page.text
    for asset in ("app.js", "charts.js", "draw.js", "inside.js", "link.js", "style.css"):
        assert client.get(f"/static/{asset}").status_code == 200
    assert "http" not in page.text.replace('href="/static', "").split("<body")[0]  # no CDN


def test_sessions_beyond_the_limit_are_refused_with_a_message(monkeypatch):
    import handgrad.playground.app as app_module

    monkeypatch.setattr(app_module, "MAX_SESSIONS", 1)
    with page_client(create_app()) as c, c.websocket_connect("/ws") as first:
        opened(first)
        with c.websocket_connect("/ws") as second:
            refused = second.receive_json()
            assert refused == {
                "type": "error",
                "message": "too many open playground tabs (1); close one and reload",
            }
        first.send_json({"type": "frame"})
        assert receive(first, "frame")["step"] == 0


def test_a_reloaded_tab_takes_the_place_of_its_detached_session(monkeypatch):
    import handgrad.playground.app as app_module

    monkeypatch.setattr(app_module, "MAX_SESSIONS", 1)
    app = create_app()
    with page_client(app) as c:
        with c.websocket_connect("/ws") as before_reload:
            old, _, _ = opened(before_reload)
        deadline = time.monotonic() + 120  # a cap for a loaded machine
        while old not in app.registry.detached and time.monotonic() < deadline:
            time.sleep(0.02)  # the server notices the closed socket
        with c.websocket_connect("/ws") as reloaded:  # the old session waits for a reconnect
            new, _, _ = opened(reloaded)
            assert new != old and set(app.registry.sessions) == {new}


def test_a_diverging_run_stops_and_says_so(client):
    with client.websocket_connect("/ws") as ws:
        session, _, _ = opened(ws)
        net = {"optimizer": "sgd", "lr": 10.0, "hidden": [32] * 3, "activations": ["relu"] * 3,
               "init": "he", "batch_size": 1}  # fmt: skip
        configure(ws, data={"name": "sine"}, network=net, speed=50)
        ws.send_json({"type": "play"})
        frame = receive(ws, "frame")
        while not frame["diverged"]:
            frame = receive(ws, "frame")
        assert frame["step"] < 50 and "train_loss" not in frame
        assert receive(ws, "status")["playing"] is False
        ws.send_json({"type": "step"})
        assert "diverged; press reset" in receive(ws, "error")["message"]
        refused = client.get(f"/api/{session}/export/model")
        assert refused.status_code == 409 and "diverged" in refused.json()["error"]
        ws.send_json({"type": "reset"})
        assert receive(ws, "frame")["diverged"] is False
