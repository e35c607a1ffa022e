"""Every control at any moment, in any order: races end in a consistent state; settings that
do not invalidate the weights change the running training; a lost tab reconnects."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the playground extra is not installed")

from handgrad.playground import create_app  # noqa: E402

from .conftest import configure, opened, page_client, read, receive  # noqa: E402


def frames_until(ws, step: int) -> dict:
    frame = receive(ws, "frame")
    while frame["step"] < step:
        frame = receive(ws, "frame")
    return frame


def settled(ws) -> list[dict]:
    """Ask for a frame and return every message up to it (a playing tab would add frames)."""
    ws.send_json({"type": "frame"})
    seen = [read(ws)]
    while seen[-1]["type"] != "frame":
        seen.append(read(ws))
    return seen


def test_play_twice_is_one_player_and_pause_stops_it(client):
    with client.websocket_connect("/ws") as ws:
        opened(ws)
        ws.send_json({"type": "play"})
        ws.send_json({"type": "play"})
        assert receive(ws, "status")["playing"] is True
        assert receive(ws, "status")["playing"] is True
        frames_until(ws, 20)
        ws.send_json({"type": "pause"})
        assert receive(ws, "status")["playing"] is False
        last = settled(ws)[-1]["step"]
        assert settled(ws)[-1]["step"] == last  # nothing trains any more
        assert last % 5 == 0 or last > 0  # the pause landed on a step boundary


def test_reset_while_playing_stops_and_starts_from_step_0(client):
    with client.websocket_connect("/ws") as ws:
        opened(ws)
        ws.send_json({"type": "play"})
        frames_until(ws, 30)
        ws.send_json({"type": "reset"})
        assert receive(ws, "status")["playing"] is False
        receive(ws, "reset")
        assert receive(ws, "frame")["step"] == 0
        assert [m["step"] for m in settled(ws) if m["type"] == "frame"] == [0]


def test_step_while_playing_pauses_then_takes_exactly_one_step(client):
    with client.websocket_connect("/ws") as ws:
        opened(ws)
        ws.send_json({"type": "play"})
        frames_until(ws, 10)
        ws.send_json({"type": "step"})
        assert receive(ws, "status")["playing"] is False
        messages = []
        while not messages or messages[-1]["type"] != "inspect":
            messages.append(read(ws))
        before = (
            max(m["step"] for m in messages if m["type"] == "frame")
            if any(m["type"] == "frame" for m in messages)
            else None
        )
        inspected = messages[-1]
        assert before is None or inspected["step"] == before + 1
        assert receive(ws, "frame")["step"] == inspected["step"]
        assert settled(ws)[-1]["step"] == inspected["step"]


def test_configure_while_playing_tweaks_or_resets(client):
    with client.websocket_connect("/ws") as ws:
        session, _, _ = opened(ws)
        trainer = client.app.registry.sessions[session].trainer
        ws.send_json({"type": "play"})
        frames_until(ws, 50)
        adam = trainer.optimizer
        changed = configure(ws, network={"lr": 0.003})
        assert changed["type"] == "changed" and changed["changes"] == {"lr": 0.003}
        assert changed["step"] >= 50  # the step count goes on
        after = frames_until(ws, changed["step"] + 20)
        assert after["step"] > changed["step"]  # still playing
        assert trainer.optimizer is adam and adam.lr == 0.003  # same state, new rate
        reset = configure(ws, network={"lr": 0.003, "hidden": [4], "activations": ["relu"]})
        assert reset["type"] == "dataset" and reset["sizes"] == [2, 4, 1]
        frame = receive(ws, "frame")
        assert frame["step"] == 0
        assert receive(ws, "status")["playing"] is False
        assert settled(ws)[-1]["step"] == 0


def test_a_learning_rate_change_is_what_optimizer_lr_does_in_python(client):
    """Two sessions: one changes lr at step 40 mid-run, one does it by hand in Python."""
    import handgrad as hg
    from handgrad.playground.data import DataSpec, generated
    from handgrad.playground.network import NetSpec, Trainer

    with client.websocket_connect("/ws") as ws:
        session, _, _ = opened(ws)
        for _ in range(8):
            ws.send_json({"type": "step"})
            receive(ws, "inspect")
        configure(ws, network={"lr": 0.3, "optimizer": "momentum"})
        for _ in range(4):
            ws.send_json({"type": "step"})
            receive(ws, "inspect")
        ws.send_json({"type": "frame"})
        shown = receive(ws, "frame")
    spec = NetSpec()
    trainer = Trainer(spec, generated(DataSpec()))
    trainer.run(8)
    trainer.optimizer = hg.SGD(trainer.model.parameters(), lr=0.03, momentum=0.9)
    trainer.optimizer.lr = 0.3
    trainer.run(4)
    np.testing.assert_array_equal(
        np.round(trainer.model.layers[0].weight.value, 4), np.array(shown["weights"][0])
    )


def test_momentum_beta1_and_rho_change_in_place_keeping_the_state(client):
    with client.websocket_connect("/ws") as ws:
        session, _, _ = opened(ws)
        trainer = client.app.registry.sessions[session].trainer
        for kind, attribute in (("adam", "beta1"), ("momentum", "momentum"), ("rmsprop", "rho")):
            configure(ws, network={"optimizer": kind, "decay": 0.9})
            for _ in range(3):
                ws.send_json({"type": "step"})
                receive(ws, "inspect")
            optimizer, state = trainer.optimizer, [dict(s) for s in trainer.optimizer.state]
            changed = configure(ws, network={"optimizer": kind, "decay": 0.5})
            assert changed["changes"] == {"decay": 0.5}
            assert trainer.optimizer is optimizer and getattr(optimizer, attribute) == 0.5
            for before, after in zip(state, optimizer.state):
                assert all(before[k] is after[k] for k in before)  # the same arrays


def test_an_edited_weight_is_where_the_next_step_starts(client):
    with client.websocket_connect("/ws") as ws:
        opened(ws)
        configure(ws, network={"optimizer": "sgd", "lr": 0.1})
        ws.send_json({"type": "step"})
        receive(ws, "inspect")
        ws.send_json({"type": "set_weight", "layer": 0, "i": 1, "j": 2, "value": 0.5})
        edited = receive(ws, "weight")
        assert edited["value"] == 0.5 and edited["edited"] is True
        assert receive(ws, "frame")["weights"][0][1][2] == 0.5
        ws.send_json({"type": "step"})
        receive(ws, "inspect")
        ws.send_json({"type": "weight", "layer": 0, "i": 1, "j": 2})
        read = receive(ws, "weight")
        assert read["value"] == pytest.approx(0.5 - 0.1 * read["grad"], abs=1e-15)
        assert read["grad"] != 0.0


@pytest.mark.parametrize("layer, j", [(0, 3), (2, 0)])  # a hidden unit's bias, the output's
def test_an_edited_bias_is_where_the_next_step_starts(client, layer, j):
    with client.websocket_connect("/ws") as ws:
        session, _, _ = opened(ws)
        configure(ws, network={"optimizer": "sgd", "lr": 0.1})
        ws.send_json({"type": "step"})
        receive(ws, "inspect")
        ws.send_json({"type": "set_bias", "layer": layer, "j": j, "value": -0.75})
        edited = receive(ws, "weight")
        assert edited["i"] is None and edited["value"] == -0.75 and edited["edited"] is True
        assert receive(ws, "frame")["biases"][layer][j] == -0.75
        assert client.app.registry.sessions[session].log == [{"step": 1, "bias": [layer, j, -0.75]}]
        ws.send_json({"type": "step"})
        receive(ws, "inspect")
        ws.send_json({"type": "bias", "layer": layer, "j": j})
        read = receive(ws, "weight")
        assert read["value"] == pytest.approx(-0.75 - 0.1 * read["grad"], abs=1e-15)
        assert read["grad"] != 0.0


@pytest.mark.parametrize(
    "message, error",
    [
        ({"type": "bias", "layer": 0, "j": 8}, "b1 has shape (8,); no entry (8,)"),
        ({"type": "bias", "layer": 3, "j": 0}, "layer must be 0 to 2, got 3"),
        ({"type": "bias", "layer": 0, "j": "1"}, "a bias is named by two integers: layer, unit"),
        ({"type": "set_bias", "layer": 0, "j": 1}, "set_bias needs a value"),
        ({"type": "set_bias", "layer": 0, "j": 1, "value": 1e9}, "a weight's value must be"),
    ],
)
def test_a_bad_bias_is_refused_and_changes_nothing(client, message, error):
    with client.websocket_connect("/ws") as ws:
        session, _, _ = opened(ws)
        before = client.app.registry.sessions[session].trainer.model.parameters()[1].value.copy()
        ws.send_json(message)
        assert error in receive(ws, "error")["message"]
        after = client.app.registry.sessions[session].trainer.model.parameters()[1].value
        np.testing.assert_array_equal(after, before)
        assert client.app.registry.sessions[session].log == []


def test_a_lost_tab_reconnects_to_its_session_or_is_told_it_ended():
    app = create_app()
    with page_client(app) as c:
        with c.websocket_connect("/ws") as ws:
            session, _, _ = opened(ws)
            for _ in range(3):
                ws.send_json({"type": "step"})
                receive(ws, "inspect")
        with c.websocket_connect(f"/ws?session={session}") as ws:
            hello = receive(ws, "hello")
            assert hello["session"] == session and hello["restored"] is True
            assert receive(ws, "frame")["step"] == 3
        with c.websocket_connect("/ws?session=gone") as ws:
            hello = receive(ws, "hello")
            assert hello["restored"] is False and hello["ended"] is True
            assert hello["session"] != session


def test_a_detached_session_ends_after_the_grace_period():
    app = create_app(grace=0.0)
    with page_client(app) as c:
        with c.websocket_connect("/ws") as ws:
            session, _, _ = opened(ws)
        with c.websocket_connect(f"/ws?session={session}") as ws:
            hello = receive(ws, "hello")
            assert hello["ended"] is True and session not in app.registry.sessions


@pytest.mark.parametrize(
    "inputs, width", [(["x1", "x2", "x1sq", "x2sq"], 4), (["x1x2"], 1), (list("12"), None)]
)
def test_feature_inputs_make_the_first_layer(client, inputs, width):
    inputs = [f"x{i}" for i in inputs] if width is None else inputs
    with client.websocket_connect("/ws") as ws:
        opened(ws)
        dataset = configure(ws, data={"name": "circles", "inputs": inputs})
        assert dataset["sizes"][0] == len(inputs)
        frame = receive(ws, "frame")
        assert np.shape(frame["weights"][0]) == (len(inputs), 8)
        assert len(dataset["points"][0]) == 2  # still drawn on the plane


def test_circles_from_squared_inputs_need_no_hidden_layer(client):
    with client.websocket_connect("/ws") as ws:
        opened(ws)
        data = {"name": "circles", "inputs": ["x1sq", "x2sq"], "noise": 0.0}
        configure(ws, data=data, network={"hidden": [], "activations": [], "lr": 0.1}, speed=50)
        ws.send_json({"type": "play"})
        frame = frames_until(ws, 600)
        ws.send_json({"type": "pause"})
        assert frame["test_acc"] > 0.95  # a linear model of x1², x2² separates a ring


@pytest.mark.parametrize("name", ["plane", "bump"])
def test_regression_sets_train_and_send_residuals(client, name):
    with client.websocket_connect("/ws") as ws:
        opened(ws)
        dataset = configure(ws, data={"name": name, "noise": 0.1}, speed=50)
        assert dataset["task"] == "regression" and len(dataset["values"]) == 500
        first = receive(ws, "frame")
        ws.send_json({"type": "play"})
        frame = frames_until(ws, 800)
        ws.send_json({"type": "pause"})
        assert frame["test_r2"] > 0.8 > first["test_r2"]
        assert len(frame["fitted"]) == 500 and "region_value" in frame


def test_noise_changes_the_points_not_the_run(client):
    with client.websocket_connect("/ws") as ws:
        opened(ws)
        for _ in range(5):
            ws.send_json({"type": "step"})
            receive(ws, "inspect")
        ws.send_json({"type": "configure", "data": {"name": "moons", "noise": 0.4}})
        moved = receive(ws, "dataset")
        assert moved["keep_history"] is True
        assert receive(ws, "changed")["changes"] == {"noise": 0.4}
        assert receive(ws, "frame")["step"] == 5


CSV_TEXT = "size,colour,ok,label\n" + "".join(
    f"{i % 9},{['red', 'green', 'blue'][i % 3] if i != 7 else ''},{i % 2 == 0},"
    f"{'big' if i % 9 > 4 else 'small'}\n"
    for i in range(60)
)


def test_a_table_with_text_and_a_missing_cell_trains_as_handgrad_train_encodes_it(client):
    with client.websocket_connect("/ws") as ws:
        session, _, _ = opened(ws)
        reply = client.post(f"/api/{session}/upload?filename=t.csv", content=CSV_TEXT.encode())
        assert reply.json()["columns"] == ["size", "colour", "ok", "label"]
        data = {"name": "csv", "target": "label", "features": ["size", "colour", "ok"]}
        dataset = configure(ws, data=data, speed=50)
        names = dataset["features"]
        assert names[0] == "size" and "colour=red" in names
        assert "colour=(rare)" in names  # one missing cell: a category too rare to get its own
        assert any(n.startswith("ok=") for n in names)
        ws.send_json({"type": "play"})
        frame = frames_until(ws, 300)
        ws.send_json({"type": "pause"})
        assert frame["train_acc"] == 1.0  # size alone decides the label


def test_the_exported_script_replays_mid_run_changes(client, tmp_path):
    with client.websocket_connect("/ws") as ws:
        session, _, _ = opened(ws)
        configure(ws, data={"name": "xor", "inputs": ["x1", "x2", "x1x2"]}, speed=7)
        ws.send_json({"type": "play"})
        frames_until(ws, 40)
        l1 = {"lr": 0.01, "batch_size": 32, "decay": 0.8, "regularization": "l1", "reg_rate": 0.01}
        changed = configure(ws, data={"name": "xor", "inputs": ["x1", "x2", "x1x2"]},
                            network=l1, speed=7)  # fmt: skip
        assert changed["changes"]["regularization"] == "l1"  # L1 from here on, while playing
        frames_until(ws, 90)
        ws.send_json({"type": "pause"})
        receive(ws, "status")
        ws.send_json({"type": "set_weight", "layer": 1, "i": 0, "j": 3, "value": -1.25})
        receive(ws, "weight")
        ws.send_json({"type": "set_bias", "layer": 2, "j": 0, "value": 0.375})
        receive(ws, "weight")
        net = {"lr": 0.01, "batch_size": 32, "optimizer": "rmsprop", "regularization": "l2",
               "reg_rate": 0.001, "decay": 0.95}  # fmt: skip
        ws.send_json({"type": "configure", "data": {"name": "xor", "noise": 0.5,
                      "inputs": ["x1", "x2", "x1x2"]}, "network": net,
                      "steps_per_frame": 7})  # fmt: skip
        receive(ws, "changed")
        for _ in range(6):
            ws.send_json({"type": "step"})
            receive(ws, "inspect")
        ws.send_json({"type": "configure", "data": {"name": "xor", "noise": 0.5, "draw": 2,
                      "inputs": ["x1", "x2", "x1x2"]}, "network": net,
                      "steps_per_frame": 7})  # fmt: skip
        assert receive(ws, "dataset")["keep_history"] is True  # Regenerate: new points
        assert receive(ws, "changed")["changes"] == {"draw": 2}
        for _ in range(5):
            ws.send_json({"type": "step"})
            receive(ws, "inspect")
        reply = client.get(f"/api/{session}/export/script")
    assert "CHANGES = [{'step': " in reply.text
    assert "'regularization': 'l1', 'reg_rate': 0.01" in reply.text
    assert "'regularization': 'l2', 'reg_rate': 0.001" in reply.text
    assert "'bias': [2, 0, 0.375]" in reply.text
    assert "'draw': 2}" in reply.text
    script = tmp_path / "run.py"
    script.write_text(reply.text)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert f"steps: {reply.headers['x-steps']}" in done.stdout
    assert f"final training loss: {reply.headers['x-final-loss']}" in done.stdout


def test_the_model_of_a_table_predicts_raw_rows_like_handgrad_train(client, tmp_path):
    from handgrad.cli import main

    with client.websocket_connect("/ws") as ws:
        session, _, _ = opened(ws)
        client.post(f"/api/{session}/upload?filename=t.csv", content=CSV_TEXT.encode())
        data = {"name": "csv", "target": "label", "features": ["size", "colour", "ok"]}
        configure(ws, data=data, speed=50)
        ws.send_json({"type": "play"})
        frames_until(ws, 300)
        ws.send_json({"type": "pause"})
        receive(ws, "status")
        model = client.get(f"/api/{session}/export/model")
    (tmp_path / "m.npz").write_bytes(model.content)
    (tmp_path / "rows.csv").write_text("size,colour,ok\n1,red,True\n7,blue,False\n3,,True\n")
    out = tmp_path / "p.csv"
    args = ["predict", "--model", str(tmp_path / "m.npz"), "--data", str(tmp_path / "rows.csv")]
    assert main([*args, "--out", str(out)]) == 0
    predicted = [line.split(",")[0] for line in out.read_text().splitlines()[1:]]
    assert predicted == ["small", "big", "small"]  # size > 4 is big, whatever the colour


def test_a_step_message_may_ask_for_several_steps_and_shows_the_last(client):
    with client.websocket_connect(f"/ws?token={client.app.token}") as ws:
        opened(ws)
        configure(ws, {"name": "moons", "n": 200, "seed": 0})
        ws.send_json({"type": "step", "steps": 5})
        inspected = receive(ws, "inspect")
        assert inspected["step"] == 5 and receive(ws, "frame")["step"] == 5
        for bad in (0, 201, "3", 2.5, None):
            ws.send_json({"type": "step", "steps": bad})
            assert receive(ws, "error")["message"].startswith("step: steps"), bad
        ws.send_json({"type": "step"})
        assert receive(ws, "inspect")["step"] == 6  # nothing changed meanwhile
