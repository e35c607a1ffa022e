"""Regularization on the page: none, L1 or L2 with a rate, changed while training as Python
would (a new penalty term at that step), logged for the exported script, refused when bad."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the playground extra is not installed")

import handgrad as hg  # noqa: E402
from handgrad.playground.data import DataSpec, generated  # noqa: E402
from handgrad.playground.network import NetSpec, Trainer, make_penalty  # noqa: E402

from .conftest import configure, opened, receive  # noqa: E402


def steps(ws, n: int) -> dict:
    for _ in range(n):
        ws.send_json({"type": "step"})
        inspected = receive(ws, "inspect")
    return inspected


def weight_sizes(trainer: Trainer) -> float:
    return sum(
        float(np.abs(m.weight.value).sum()) for m in trainer.model if isinstance(m, hg.Linear)
    )


def test_make_penalty_builds_the_engines_terms():
    assert make_penalty("none", 0.1) is None
    assert make_penalty("l1", 0.0) is None and make_penalty("l2", 0.0) is None
    l1, l2 = make_penalty("l1", 0.01), make_penalty("l2", 0.02)
    assert type(l1) is hg.L1Penalty and l1.lam == 0.01
    assert type(l2) is hg.L2Penalty and l2.lam == 0.02 and l2.convention == "half"


def test_l1_from_the_page_is_the_engines_l1_step_for_step(client):
    """A session trained with L1 0.01 for 30 steps holds the weights a Trainer built in
    Python with hg.L1Penalty(0.01) holds (to the 4 decimals a frame carries)."""
    with client.websocket_connect("/ws") as ws:
        session, _, _ = opened(ws)
        configure(ws, network={"regularization": "l1", "reg_rate": 0.01})
        steps(ws, 30)
        ws.send_json({"type": "frame"})
        shown = receive(ws, "frame")
        trainer = client.app.registry.sessions[session].trainer
        assert type(trainer.penalty) is hg.L1Penalty and trainer.penalty.lam == 0.01
    by_hand = Trainer(NetSpec(), generated(DataSpec()))
    by_hand.penalty = hg.L1Penalty(0.01)
    by_hand.run(30)
    for k, layer in enumerate(m for m in by_hand.model if isinstance(m, hg.Linear)):
        np.testing.assert_array_equal(np.round(layer.weight.value, 4), shown["weights"][k])
    plain = Trainer(NetSpec(), generated(DataSpec()))
    plain.run(30)
    assert weight_sizes(by_hand) < weight_sizes(plain)  # L1 pulls every weight toward 0


def test_changing_the_regularization_while_playing_keeps_training_and_is_logged(client):
    with client.websocket_connect("/ws") as ws:
        session, _, _ = opened(ws)
        s = client.app.registry.sessions[session]
        ws.send_json({"type": "play"})
        frame = receive(ws, "frame")
        while frame["step"] < 20:
            frame = receive(ws, "frame")
        model = s.trainer.model
        to_l1 = configure(ws, network={"regularization": "l1", "reg_rate": 0.003})
        assert to_l1["changes"] == {"regularization": "l1", "reg_rate": 0.003}
        assert to_l1["step"] >= 20 and type(s.trainer.penalty) is hg.L1Penalty
        rate = configure(ws, network={"regularization": "l1", "reg_rate": 0.03})
        assert rate["changes"] == {"reg_rate": 0.03} and s.trainer.penalty.lam == 0.03
        to_l2 = configure(ws, network={"regularization": "l2", "reg_rate": 0.03})
        assert to_l2["changes"] == {"regularization": "l2"}
        assert type(s.trainer.penalty) is hg.L2Penalty and s.trainer.penalty.lam == 0.03
        off = configure(ws, network={"regularization": "none", "reg_rate": 0.03})
        assert off["changes"] == {"regularization": "none"} and s.trainer.penalty is None
        frame = receive(ws, "frame")
        while frame["step"] <= off["step"]:
            frame = receive(ws, "frame")  # still playing, on the same weights
        assert s.trainer.model is model
        ws.send_json({"type": "pause"})
        assert receive(ws, "status")["playing"] is False
    logged = [{k: v for k, v in r.items() if k != "step"} for r in s.log]
    assert logged == [
        {"regularization": "l1", "reg_rate": 0.003},
        {"reg_rate": 0.03},
        {"regularization": "l2"},
        {"regularization": "none"},
    ]
    assert [r["step"] for r in s.log] == [to_l1["step"], rate["step"], to_l2["step"], off["step"]]


def test_regularization_before_the_first_step_is_the_start_not_a_change(client):
    with client.websocket_connect("/ws") as ws:
        session, _, _ = opened(ws)
        configure(ws, network={"regularization": "l2", "reg_rate": 0.01})
        s = client.app.registry.sessions[session]
        assert s.log == [] and s.start_net.regularization == "l2"
        assert steps(ws, 1)["regularization"] == "l2"


@pytest.mark.parametrize(
    ("network", "message"),
    [
        ({"regularization": "l3"}, "regularization must be one of 'none', 'l1', 'l2', got 'l3'"),
        ({"reg_rate": -0.1}, "regularization rate must be a finite number in [0, 10], got -0.1"),
        ({"reg_rate": 20.0}, "regularization rate must be a finite number in [0, 10], got 20.0"),
        ({"reg_rate": "0.1"}, "network setting 'reg_rate' has the wrong type: '0.1'"),
        ({"l2": 0.001}, "unknown network setting(s): l2"),
    ],
)
def test_a_bad_regularization_is_refused_and_changes_nothing(client, network, message):
    with client.websocket_connect("/ws") as ws:
        session, _, _ = opened(ws)
        s = client.app.registry.sessions[session]
        trainer, penalty = s.trainer, s.trainer.penalty
        ws.send_json({"type": "configure", "network": network})
        error = receive(ws, "error")
        assert error["message"] == f"configure: {message}"
        assert s.trainer is trainer and s.trainer.penalty is penalty and s.log == []
