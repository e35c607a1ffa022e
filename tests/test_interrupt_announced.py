"""Ctrl-C as soon as training is announced: a callback's on_train_begin may tell the user
"Ctrl-C stops after the current step and keeps that model" (``handgrad train`` does), so
from that moment on a Ctrl-C is kept for the loop, never raised."""

from __future__ import annotations

import signal

import numpy as np
import pytest

import handgrad as hg
from handgrad.train import Callback


class CtrlCAtTrainBegin(Callback):
    def on_train_begin(self, ctx):
        signal.raise_signal(signal.SIGINT)


def test_ctrl_c_in_on_train_begin_stops_after_the_first_step():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(64, 3)), rng.normal(size=64)
    model = hg.mlp([3, 8, 1], "tanh", seed=0)
    handler_before = signal.getsignal(signal.SIGINT)
    try:
        history = hg.fit(
            model,
            hg.MSELoss(),
            hg.SGD(model.parameters(), lr=0.01),
            X,
            y,
            epochs=20,
            batch_size=8,
            seed=0,
            validation_fraction=0.25,  # the split is drawn between on_train_begin and the loop
            callbacks=[CtrlCAtTrainBegin()],
        )
    except KeyboardInterrupt:
        pytest.fail("a Ctrl-C in on_train_begin was raised instead of kept for the loop")
    assert history.stop_reason == "interrupted"
    assert "interrupted at epoch 1, step 1" in history.message
    assert len(history.step_loss) == 1
    assert signal.getsignal(signal.SIGINT) is handler_before
