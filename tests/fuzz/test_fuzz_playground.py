"""Fuzzing the playground's WebSocket messages (issue 25): any text a page may send.

Contract: every message gets its replies or an ``error`` naming the problem, never the
catch-all "the server could not do this" (an exception nobody foresaw), and the connection
and the session go on serving (the last message's reply always arrives).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

pytest.importorskip("starlette", reason="the playground extra is not installed")

from handgrad.playground import create_app  # noqa: E402
from handgrad.playground.protocol import decode  # noqa: E402

_spec = importlib.util.spec_from_file_location("fuzzing", Path(__file__).with_name("fuzzing.py"))
fuzzing = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(fuzzing)


budget = fuzzing.budget


TYPES = ["configure", "play", "pause", "step", "reset", "gradcheck", "frame", "weight", "bias",
         "set_weight", "set_bias", "drawn", "view", "launch"]  # fmt: skip
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 40),
    st.sampled_from([0, 1, 2, 10**9, -(2**63), 2**64]),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.sampled_from(["moons", "csv", "relu", "adam", "x1sq", "", "x" * 300]),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=6), inner, max_size=4)
    ),
    max_leaves=12,
)
settings_keys = {
    "data": st.fixed_dictionaries(
        {},
        optional={
            "name": st.sampled_from(["moons", "xor", "bump", "sine", "csv", "nope"]),
            "n": st.integers(-5, 600),
            "noise": st.floats(-1, 3),
            "inputs": st.lists(st.sampled_from(["x1", "x2", "x1sq", "sinx2", "z"]), max_size=4),
            "target": values,
        },
    ),
    "network": st.fixed_dictionaries(
        {},
        optional={
            "hidden": st.lists(st.integers(-1, 40), max_size=3),
            "activations": st.lists(st.sampled_from(["relu", "tanh", "bad"]), max_size=3),
            "lr": st.one_of(st.floats(-1, 20), st.text(max_size=3)),
            "optimizer": st.sampled_from(["sgd", "adam", "momentum", "lbfgs"]),
            "batch_size": st.integers(-1, 600),
        },
    ),
}
messages = st.one_of(
    st.text(max_size=40),
    values.map(json.dumps),
    st.builds(
        lambda kind, extra, speed: json.dumps({"type": kind, **extra, "steps_per_frame": speed}),
        st.sampled_from(TYPES),
        st.dictionaries(st.sampled_from(["data", "network", "layer", "i", "j", "value"]), values),
        st.integers(-2, 300),
    ),
    st.builds(
        lambda data, net: json.dumps({"type": "configure", "data": data, "network": net}),
        settings_keys["data"],
        settings_keys["network"],
    ),
)


@budget(40)
@given(st.text(max_size=200))
def test_decode_accepts_or_names_the_problem(text):
    try:
        message = decode(text)
    except ValueError as exc:
        assert str(exc)
    else:
        assert isinstance(message, dict) and isinstance(message["type"], str)


@budget(25)
@given(st.lists(messages, min_size=1, max_size=6))
def test_any_messages_get_replies_and_the_session_goes_on(sequence):
    from tests.playground.conftest import opened, page_client  # the page's own client

    app = create_app()
    with page_client(app) as c, c.websocket_connect("/ws") as ws:
        opened(ws)
        for text in sequence:
            ws.send_text(text)
        ws.send_json({"type": "pause"})
        ws.send_json({"type": "weight", "layer": 0, "i": 0, "j": 0, "marker": True})
        seen = []
        while True:
            reply = ws.receive_json()
            seen.append(reply)
            if reply["type"] == "weight" and reply.get("edited") is False:
                break
        errors = [r["message"] for r in seen if r["type"] == "error"]
        assert not [e for e in errors if "could not do this" in e], errors
