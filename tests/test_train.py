"""The training loop: batches, History, validation, metrics, callbacks, divergence, Ctrl-C,
bad input (rejected before any parameter changes), determinism and float32."""

from __future__ import annotations

import os
import signal
import warnings

import numpy as np
import pytest

import handgrad as hg
from handgrad.train import Callback, predict_outputs


def regression_data(rng, n=64, d=3):
    X = rng.normal(size=(n, d))
    y = X @ np.array([1.5, -2.0, 0.5])[:d] + 0.3
    return X, y


def classification_data(rng, n=60):
    X = rng.normal(size=(n, 2))
    y = (X[:, 0] + X[:, 1] > 0).astype(float)
    return X, y


def same_params(a, b) -> bool:
    return all(np.array_equal(p.value, q.value) for p, q in zip(a.parameters(), b.parameters()))


class Recorder(Callback):
    """Copies of the parameters at the end of every epoch, and the steps seen."""

    def __init__(self):
        self.weights: list[list[np.ndarray]] = []
        self.steps = 0

    def on_batch_end(self, ctx):
        self.steps += 1

    def on_epoch_end(self, ctx):
        self.weights.append([p.value.copy() for p in ctx.model.parameters()])


# --- batches --------------------------------------------------------------------------------


def test_batches_cover_every_index_once_per_epoch():
    gen = np.random.default_rng(0)
    for n, size in [(10, 3), (12, 4), (5, 8), (1, 1)]:
        chunks = list(hg.batches(n, size, rng=gen))
        assert np.array_equal(np.sort(np.concatenate(chunks)), np.arange(n))
        assert [len(c) for c in chunks[:-1]] == [size] * (len(chunks) - 1)
        assert len(chunks) == -(-n // size)


def test_batches_drop_last_shuffle_and_determinism():
    gen = np.random.default_rng(1)
    chunks = list(hg.batches(10, 3, rng=gen, drop_last=True))
    assert [len(c) for c in chunks] == [3, 3, 3]
    assert len(set(np.concatenate(chunks))) == 9
    assert list(hg.batches(7, 3, rng=gen, drop_last=True, shuffle=False))[1].tolist() == [3, 4, 5]
    ordered = np.concatenate(list(hg.batches(7, 3, shuffle=False)))
    assert np.array_equal(ordered, np.arange(7))
    a = np.concatenate(list(hg.batches(50, 7, rng=np.random.default_rng(5))))
    b = np.concatenate(list(hg.batches(50, 7, rng=np.random.default_rng(5))))
    c = np.concatenate(list(hg.batches(50, 7, rng=np.random.default_rng(6))))
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert not np.array_equal(a, np.arange(50))  # actually shuffled
    with pytest.raises(ValueError, match="rng"):
        list(hg.batches(5, 2))
    with pytest.raises(ValueError, match="batch_size"):
        list(hg.batches(5, 0, shuffle=False))


def test_each_epoch_visits_every_sample_once(rng):
    """Count how often fit feeds each row to the model: once per epoch."""
    X = np.arange(10.0)[:, None] * np.ones((1, 2))
    model = hg.mlp([2, 1], seed=0)
    seen = []
    original = model.forward

    def spy(x):
        seen.extend(x[:, 0].astype(int).tolist())
        return original(x)

    model.forward = spy
    hg.fit(
        model,
        hg.MSELoss(),
        hg.SGD(model.parameters(), lr=1e-3),
        X,
        np.zeros(10),
        epochs=3,
        batch_size=4,
        seed=0,
    )
    # once per epoch, plus the first row once before training: fit learns the width of
    # the outputs from a forward pass; and the last batch once more after the last update,
    # which tries the final weights (the divergence guard)
    assert seen[-2:] == seen[-4:-2]
    assert sorted(seen[:-2]) == sorted([0] + list(range(10)) * 3)
    assert sorted(seen[1:11]) == list(range(10))  # the first epoch


# --- fit: History, validation, metrics ------------------------------------------------------


def test_fit_history_fields(rng):
    X, y = regression_data(rng, n=50)
    model = hg.mlp([3, 8, 1], "tanh", seed=0)
    h = hg.fit(
        model,
        hg.MSELoss(),
        hg.SGD(model.parameters(), lr=0.05),
        X,
        y,
        epochs=4,
        batch_size=16,
        seed=0,
        metrics=["mse", "mae"],
    )
    assert isinstance(h, hg.History)
    assert h.epochs == 4 and len(h.epoch_loss) == 4
    assert len(h.step_loss) == 4 * 4  # ceil(50 / 16) = 4 steps per epoch
    assert len(h.epoch_seconds) == 4
    # epoch loss = mean of that epoch's step losses, weighted by batch size (16, 16, 16, 2)
    w = np.array([16, 16, 16, 2])
    for e in range(4):
        steps = np.array(h.step_loss[4 * e : 4 * e + 4])
        assert h.epoch_loss[e] == pytest.approx(np.sum(steps * w) / 50, rel=1e-12)
    assert set(h.metrics) == {"mse", "mae"} and len(h.metrics["mse"]) == 4
    assert h.metrics["mse"] == pytest.approx(h.epoch_loss, rel=1e-12)  # MSE loss == mse metric
    assert h.val_loss == [] and h.val_metrics == {}
    assert h.stop_reason is None
    assert h.epoch_loss[-1] < h.epoch_loss[0]
    d = h.as_dict()
    assert d["epoch_loss"] == h.epoch_loss and d["stop_reason"] is None


def test_fit_with_validation_data_matches_evaluate(rng):
    X, y = classification_data(rng, 80)
    Xv, yv = classification_data(rng, 30)
    model = hg.mlp([2, 6, 1], "relu", seed=1)
    loss = hg.BCEWithLogitsLoss()
    h = hg.fit(
        model,
        loss,
        hg.Adam(model.parameters(), lr=0.01),
        X,
        y,
        epochs=3,
        batch_size=20,
        seed=0,
        validation_data=(Xv, yv),
        metrics=["accuracy"],
    )
    assert len(h.val_loss) == 3 and len(h.val_metrics["accuracy"]) == 3
    final = hg.evaluate(model, loss, Xv, yv, metrics=["accuracy"])
    assert h.val_loss[-1] == final["loss"]
    assert h.val_metrics["accuracy"][-1] == final["accuracy"]
    logits = predict_outputs(model, Xv)
    assert final["accuracy"] == np.mean((logits[:, 0] > 0) == yv)


def test_fit_with_validation_fraction(rng):
    X, y = regression_data(rng, n=100)
    model = hg.mlp([3, 1], seed=0)
    rec = Recorder()
    h = hg.fit(
        model,
        hg.MSELoss(),
        hg.SGD(model.parameters(), lr=0.01),
        X,
        y,
        epochs=2,
        batch_size=10,
        seed=0,
        validation_fraction=0.2,
        callbacks=[rec],
    )
    assert rec.steps == 2 * 8  # 80 training rows in batches of 10
    assert len(h.val_loss) == 2
    with pytest.raises(ValueError, match="validation_fraction"):
        hg.fit(
            model, hg.MSELoss(), hg.SGD(model.parameters(), lr=0.01), X, y, validation_fraction=1.5
        )
    with pytest.raises(ValueError, match="not both"):
        hg.fit(
            model,
            hg.MSELoss(),
            hg.SGD(model.parameters(), lr=0.01),
            X,
            y,
            validation_fraction=0.2,
            validation_data=(X, y),
        )


def test_metrics_accuracy_for_each_loss_and_callables(rng, blobs):
    X, y = blobs
    model = hg.mlp([2, 3], seed=0)
    loss = hg.SoftmaxCrossEntropyLoss()
    logits = predict_outputs(model, X)
    expected = np.mean(np.argmax(logits, axis=1) == y)

    def top_logit(outputs, target):
        return float(outputs.max())

    result = hg.evaluate(model, loss, X, y, metrics=["accuracy", top_logit])
    assert result["accuracy"] == expected
    assert result["top_logit"] == logits.max()
    assert result["loss"] == pytest.approx(loss(logits, y), rel=1e-15)
    with pytest.raises(ValueError, match="unknown metric 'f1'"):
        hg.evaluate(model, loss, X, y, metrics=["f1"])
    with pytest.raises(TypeError, match="metric"):
        hg.evaluate(model, loss, X, y, metrics=[3])


def test_zero_epochs_changes_nothing(rng, unchanged):
    X, y = regression_data(rng)
    model = hg.mlp([3, 4, 1], seed=0)
    with unchanged(model):
        h = hg.fit(model, hg.MSELoss(), hg.SGD(model.parameters(), lr=0.1), X, y, epochs=0)
    assert h.epochs == 0 and h.step_loss == []


# --- callbacks ------------------------------------------------------------------------------


def test_early_stopping_stops_and_restores_the_best_weights(rng):
    # validation labels are the opposite of the training labels: the better the fit, the
    # worse the validation loss, so the best validation epoch comes early
    X, y = classification_data(rng, 80)
    model = hg.mlp([2, 8, 1], "tanh", seed=0)
    rec = Recorder()
    stop = hg.EarlyStopping(monitor="val_loss", patience=3)
    h = hg.fit(
        model,
        hg.BCEWithLogitsLoss(),
        hg.SGD(model.parameters(), lr=0.5),
        X,
        y,
        epochs=100,
        batch_size=16,
        seed=0,
        validation_data=(X, 1 - y),
        callbacks=[rec, stop],
    )
    assert h.stop_reason == "early_stopping"
    best = int(np.argmin(h.val_loss))
    assert stop.best_epoch == best and stop.best == h.val_loss[best]
    assert h.epochs == best + 1 + 3  # patience epochs without improvement, then stop
    assert h.epochs < 100
    for p, w in zip(model.parameters(), rec.weights[best]):
        assert np.array_equal(p.value, w)
    assert not all(np.array_equal(p.value, w) for p, w in zip(model.parameters(), rec.weights[-1]))


def test_early_stopping_on_a_score_and_on_a_missing_key(rng):
    X, y = classification_data(rng, 40)
    model = hg.mlp([2, 4, 1], seed=0)
    stop = hg.EarlyStopping(monitor="accuracy", patience=2, restore_best_weights=False)
    assert stop.mode == "max" and hg.EarlyStopping(monitor="val_loss").mode == "min"
    rec = Recorder()
    h = hg.fit(
        model,
        hg.BCEWithLogitsLoss(),
        hg.SGD(model.parameters(), lr=0.1),
        X,
        y,
        epochs=6,
        seed=0,
        metrics=["accuracy"],
        callbacks=[rec, stop],
    )
    acc = h.metrics["accuracy"]
    assert stop.best == max(acc) and stop.best_epoch == acc.index(max(acc))
    # without restore_best_weights the model keeps its last weights
    assert all(np.array_equal(p.value, w) for p, w in zip(model.parameters(), rec.weights[-1]))
    # a monitor that will never be logged is refused before any weight changes
    before = [p.value.copy() for p in model.parameters()]
    with pytest.raises(ValueError, match="'val_loss' is not logged"):
        hg.fit(
            model,
            hg.BCEWithLogitsLoss(),
            hg.SGD(model.parameters(), lr=0.1),
            X,
            y,
            epochs=1,
            seed=0,
            callbacks=[hg.EarlyStopping()],
        )
    assert all(np.array_equal(p.value, w) for p, w in zip(model.parameters(), before))


def test_model_checkpoint_writes_loadable_files(rng, tmp_path):
    X, y = regression_data(rng)
    model = hg.mlp([3, 5, 1], "tanh", seed=0)
    rec = Recorder()
    ckpt = hg.ModelCheckpoint(tmp_path / "ckpt-{epoch}.npz", every=2)
    hg.fit(
        model,
        hg.MSELoss(),
        hg.SGD(model.parameters(), lr=0.05),
        X,
        y,
        epochs=5,
        batch_size=16,
        seed=0,
        callbacks=[rec, ckpt],
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt-2.npz", "ckpt-4.npz"]
    assert ckpt.saved == [tmp_path / "ckpt-2.npz", tmp_path / "ckpt-4.npz"]
    for epoch in (2, 4):
        loaded, meta = hg.nn.load_with_metadata(tmp_path / f"ckpt-{epoch}.npz")
        assert meta == {"epoch": epoch}
        for p, w in zip(loaded.parameters(), rec.weights[epoch - 1]):
            assert np.array_equal(p.value, w)
    with pytest.raises(ValueError, match="every"):
        hg.ModelCheckpoint(tmp_path / "x.npz", every=0)


def test_callback_can_stop_training(rng):
    class StopAfterTwo(Callback):
        def on_epoch_end(self, ctx):
            if ctx.epoch == 1:
                ctx.stop_training, ctx.stop_reason = True, "enough"

    X, y = regression_data(rng)
    model = hg.mlp([3, 1], seed=0)
    h = hg.fit(
        model,
        hg.MSELoss(),
        hg.SGD(model.parameters(), lr=0.01),
        X,
        y,
        epochs=10,
        seed=0,
        callbacks=[StopAfterTwo()],
    )
    assert h.epochs == 2 and h.stop_reason == "enough"


# --- divergence and Ctrl-C ------------------------------------------------------------------


def test_divergence_stops_with_a_warning_and_finite_weights(rng):
    X, y = regression_data(rng, n=64)
    X = X * 10
    model = hg.mlp([3, 16, 1], "relu", seed=0)

    class AfterEachStep(Callback):
        def __init__(self):
            self.weights = []

        def on_batch_end(self, ctx):
            self.weights.append([p.value.copy() for p in ctx.model.parameters()])

    spy = AfterEachStep()
    with pytest.warns(RuntimeWarning) as record:
        h = hg.fit(
            model,
            hg.MSELoss(),
            hg.SGD(model.parameters(), lr=1e3),
            X,
            y,
            epochs=50,
            batch_size=8,
            seed=0,
            callbacks=[spy],
        )
    ours = [str(w.message) for w in record if "diverged" in str(w.message)]
    assert len(ours) == 1, [str(w.message) for w in record]
    step = len(h.step_loss) + 1  # the step that blew up (steps are 1-based in the message)
    assert f"epoch 1, step {step}" in ours[0]
    assert "smaller learning rate" in ours[0] and "1000" in ours[0]
    assert h.stop_reason == "diverged" and h.message == ours[0]
    assert all(np.isfinite(v) for v in h.step_loss)
    assert all(np.all(np.isfinite(p.value)) for p in model.parameters())
    # the weights after the last update gave a non-finite loss: the model keeps the ones
    # before it, at which the last recorded loss was computed (after the step before)
    assert len(spy.weights) == len(h.step_loss) >= 2
    assert all(np.array_equal(p.value, w) for p, w in zip(model.parameters(), spy.weights[-2]))
    assert h.epochs == 0  # it diverged within the first epoch


def _send_sigint():
    if hasattr(signal, "raise_signal"):
        signal.raise_signal(signal.SIGINT)
    else:  # pragma: no cover
        os.kill(os.getpid(), signal.SIGINT)


class CtrlC(Callback):
    """Press Ctrl-C (once or twice) at a given step of a given epoch."""

    def __init__(self, epoch, step, times=1):
        self.epoch, self.step, self.times = epoch, step, times

    def on_batch_end(self, ctx):
        if ctx.epoch == self.epoch and ctx.step == self.step:
            for _ in range(self.times):
                _send_sigint()


def test_ctrl_c_stops_cleanly_and_keeps_finite_weights(rng):
    X, y = regression_data(rng, n=64)
    model = hg.mlp([3, 8, 1], "tanh", seed=0)
    handler_before = signal.getsignal(signal.SIGINT)
    h = hg.fit(
        model,
        hg.MSELoss(),
        hg.SGD(model.parameters(), lr=0.01),
        X,
        y,
        epochs=20,
        batch_size=8,
        seed=0,
        callbacks=[CtrlC(epoch=1, step=3)],
    )
    assert h.stop_reason == "interrupted"
    assert "interrupted at epoch 2, step 3" in h.message
    assert len(h.step_loss) == 8 + 3  # a full first epoch, then three steps
    assert h.epochs <= 2
    assert all(np.all(np.isfinite(p.value)) for p in model.parameters())
    assert signal.getsignal(signal.SIGINT) is handler_before  # handler restored


def test_second_ctrl_c_interrupts_at_once(rng):
    X, y = regression_data(rng, n=32)
    model = hg.mlp([3, 1], seed=0)
    handler_before = signal.getsignal(signal.SIGINT)
    with pytest.raises(KeyboardInterrupt):
        hg.fit(
            model,
            hg.MSELoss(),
            hg.SGD(model.parameters(), lr=0.01),
            X,
            y,
            epochs=5,
            batch_size=8,
            seed=0,
            callbacks=[CtrlC(epoch=0, step=2, times=2)],
        )
    assert signal.getsignal(signal.SIGINT) is handler_before


# --- bad input: rejected before any parameter changes ---------------------------------------


def _bad_fit_cases(rng):
    X, y = classification_data(rng, 20)
    Xn = X.copy()
    Xn[3, 1] = np.nan
    return {
        "length": (X, y[:-1], "bce", "19 rows but the inputs have 20"),
        "nan_X": (Xn, y, "bce", "X contains NaN"),
        "inf_X": (np.where(Xn != Xn, np.inf, Xn), y, "bce", "X contains inf"),
        "features": (np.hstack([X, X]), y, "bce", "4 features per row, expected 2"),
        "1d_X": (X[:, 0], y, "bce", "2-D"),
        "empty": (X[:0], y[:0], "bce", "empty"),
        "strings": (X.astype(str), y, "bce", "numeric"),
        "bce_label_2": (X, np.where(y == 1, 2.0, 0.0), "bce", "only 0 and 1"),
        "nan_y": (X, np.where(np.arange(20) == 5, np.nan, y), "bce", "NaN"),
        "ce_label_range": (X, np.arange(20) % 4, "ce", "label 3 is out of range"),
        "ce_label_negative": (X, -(np.arange(20) % 2), "ce", "out of range"),
        "ce_label_fraction": (X, y * 0.5, "ce", "integer"),
        "scalar_y": (X, 1.0, "bce", "scalar"),
    }


@pytest.mark.parametrize(
    "case",
    [
        "length",
        "nan_X",
        "inf_X",
        "features",
        "1d_X",
        "empty",
        "strings",
        "bce_label_2",
        "nan_y",
        "ce_label_range",
        "ce_label_negative",
        "ce_label_fraction",
        "scalar_y",
    ],
)
def test_fit_rejects_bad_input_before_touching_parameters(case, rng, unchanged):
    X, y, kind, match = _bad_fit_cases(rng)[case]
    if kind == "bce":
        model, loss = hg.mlp([2, 4, 1], seed=0), hg.BCEWithLogitsLoss()
    else:
        model, loss = hg.mlp([2, 4, 3], seed=0), hg.SoftmaxCrossEntropyLoss()
    opt = hg.Adam(model.parameters(), lr=0.1)
    with unchanged(model), pytest.raises((ValueError, TypeError), match=match):
        hg.fit(model, loss, opt, X, y, epochs=2, batch_size=4, seed=0)
    assert opt.t == 0  # the optimizer never stepped


def test_fit_rejects_bad_validation_data_and_arguments(rng, unchanged):
    X, y = classification_data(rng, 20)
    model = hg.mlp([2, 4, 1], seed=0)
    opt = hg.SGD(model.parameters(), lr=0.1)
    loss = hg.BCEWithLogitsLoss()
    bad = [
        ({"validation_data": (X[:, :1], y)}, "validation X has 1 features per row"),
        ({"validation_data": (X, y[:5])}, "validation y has 5 rows"),
        ({"epochs": -1}, "epochs"),
        ({"batch_size": 0}, "batch_size"),
        ({"metrics": ["precision"]}, "unknown metric"),
    ]
    for kwargs, match in bad:
        with unchanged(model), pytest.raises(ValueError, match=match):
            hg.fit(model, loss, opt, X, y, seed=0, **kwargs)


# --- determinism and dtype ------------------------------------------------------------------


def test_same_seed_gives_bit_identical_training(blobs):
    X, y = blobs
    runs = []
    for _ in range(2):
        model = hg.mlp([2, 16, 3], "relu", seed=3)
        h = hg.fit(
            model,
            hg.SoftmaxCrossEntropyLoss(),
            hg.Adam(model.parameters(), lr=0.01),
            X,
            y,
            epochs=3,
            batch_size=16,
            seed=11,
            validation_fraction=0.2,
        )
        runs.append((model, h))
    (m1, h1), (m2, h2) = runs
    assert same_params(m1, m2)
    assert h1.step_loss == h2.step_loss and h1.val_loss == h2.val_loss
    m3 = hg.mlp([2, 16, 3], "relu", seed=3)
    hg.fit(
        m3,
        hg.SoftmaxCrossEntropyLoss(),
        hg.Adam(m3.parameters(), lr=0.01),
        X,
        y,
        epochs=3,
        batch_size=16,
        seed=12,
        validation_fraction=0.2,
    )
    assert not same_params(m1, m3)  # a different shuffle seed gives a different run


def test_float32_end_to_end(blobs):
    X, y = blobs
    model = hg.mlp([2, 16, 3], "tanh", seed=0, dtype=np.float32)
    opt = hg.Adam(model.parameters(), lr=0.01)
    seen = []

    class DtypeSpy(Callback):
        def on_batch_end(self, ctx):
            seen.extend(p.grad.dtype for p in ctx.model.parameters())

    h = hg.fit(
        model,
        hg.SoftmaxCrossEntropyLoss(),
        opt,
        X,
        y,  # float64 X is cast once
        epochs=5,
        batch_size=32,
        seed=0,
        metrics=["accuracy"],
        callbacks=[DtypeSpy()],
    )
    assert h.epoch_loss[-1] < h.epoch_loss[0]
    assert all(np.isfinite(h.epoch_loss))
    assert set(seen) == {np.dtype(np.float32)}
    for p in model.parameters():
        assert p.value.dtype == np.float32 and p.grad.dtype == np.float32
    # (besides the int64 exponents that scale Adam's v and RMSProp's s)
    state = [a for st in opt.state for k, a in st.items() if not k.endswith("_exponent")]
    assert state and all(a.dtype == np.float32 for a in state)
    assert predict_outputs(model, X).dtype == np.float32
    assert model.forward(X.astype(np.float32)).dtype == np.float32


def test_l2_in_fit_adds_the_penalty_and_shrinks_weights(rng):
    X, y = regression_data(rng)
    l2 = hg.L2Penalty(0.5)
    # one full-batch step: the logged loss is the MSE plus the penalty at the initial weights
    model = hg.mlp([3, 8, 1], "tanh", seed=0)
    expected = hg.MSELoss()(model.forward(X), y) + l2.value(model.parameters())
    h = hg.fit(
        model,
        hg.MSELoss(),
        hg.SGD(model.parameters(), lr=0.02),
        X,
        y,
        epochs=1,
        batch_size=len(X),
        seed=0,
        l2=l2,
    )
    assert h.step_loss[0] == pytest.approx(expected, rel=1e-14)
    # and over a few epochs the penalized weights end up smaller
    plain = hg.mlp([3, 8, 1], "tanh", seed=0)
    reg = hg.mlp([3, 8, 1], "tanh", seed=0)
    for model, penalty in ((plain, None), (reg, l2)):
        hg.fit(
            model,
            hg.MSELoss(),
            hg.SGD(model.parameters(), lr=0.02),
            X,
            y,
            epochs=20,
            batch_size=16,
            seed=0,
            l2=penalty,
        )
    norms = [l2.value(m.parameters()) for m in (plain, reg)]
    assert norms[1] < 0.7 * norms[0]


def test_no_warnings_in_a_normal_run(rng):
    X, y = classification_data(rng)
    model = hg.mlp([2, 8, 1], "sigmoid", seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        h = hg.fit(
            model,
            hg.BCEWithLogitsLoss(),
            hg.SGD(model.parameters(), lr=0.5),
            X,
            y,
            epochs=5,
            seed=0,
        )
    assert h.stop_reason is None


# --- everything is checked before anything changes (issue 9) ---------------------------------


def _classification(rng, n=40):
    X = rng.standard_normal((n, 3))
    return X, (X[:, 0] > 0).astype(np.int64)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"metrics": ["mse"]}, ValueError, "'mse' compares outputs"),
        ({"metrics": ["mae"]}, ValueError, "'mae' compares outputs"),
        ({"metrics": [lambda o, t: o.reshape(t.shape)]}, ValueError, "metric '<lambda>'"),
        ({"callbacks": [hg.EarlyStopping(monitor="val_f1")]}, ValueError, "val_f1"),
        ({"validation_data": "X"}, ValueError, "a pair"),
        ({"epochs": True}, TypeError, "epochs must be an integer >= 0, got True"),
        ({"epochs": 2.0}, TypeError, "epochs must be an integer >= 0, got 2.0"),
        ({"batch_size": 0}, ValueError, "batch_size must be an integer >= 1, got 0"),
        ({"validation_fraction": float("nan")}, ValueError, "validation_fraction"),
        ({"validation_fraction": np.inf}, ValueError, "validation_fraction"),
        ({"validation_fraction": "0.2"}, TypeError, "validation_fraction"),
    ],
)
def test_a_refused_fit_changes_neither_weights_nor_the_generator(rng, kwargs, error, match):
    """Before: metrics=["mse"] with softmax cross-entropy failed with a reshape error after
    the first update; the validation split had already drawn from the caller's Generator."""
    X, y = _classification(rng)
    model = hg.mlp([3, 4, 2], seed=0)
    before = [p.value.copy() for p in model.parameters()]
    gen = np.random.default_rng(5)
    kwargs = {"validation_fraction": 0.25, **kwargs}
    if "validation_data" in kwargs:
        del kwargs["validation_fraction"]
    with pytest.raises(error, match=match):
        hg.fit(
            model,
            hg.SoftmaxCrossEntropyLoss(),
            hg.SGD(model.parameters(), lr=0.1),
            X,
            y,
            rng=gen,
            **kwargs,
        )
    assert all(np.array_equal(p.value, b) for p, b in zip(model.parameters(), before))
    assert gen.random() == np.random.default_rng(5).random()


def test_validation_data_of_one_element_is_a_clear_error(rng):
    X, y = _classification(rng)
    model = hg.mlp([3, 2], seed=0)
    with pytest.raises(ValueError, match=r"validation_data must be a pair \(X_val, y_val\), got 1"):
        hg.fit(
            model,
            hg.SoftmaxCrossEntropyLoss(),
            hg.SGD(model.parameters()),
            X,
            y,
            validation_data=(X,),
        )


def test_numpy_numbers_are_numbers(rng):
    X, y = _classification(rng)
    runs = []
    for epochs, batch_size, fraction, lr in [
        (3, 8, 0.25, 0.1),
        (np.int64(3), np.int32(8), np.float32(0.25), np.float64(0.1)),
    ]:
        model = hg.mlp([3, 4, 2], seed=0)
        h = hg.fit(
            model,
            hg.SoftmaxCrossEntropyLoss(),
            hg.SGD(model.parameters(), lr=lr),
            X,
            y,
            epochs=epochs,
            batch_size=batch_size,
            validation_fraction=fraction,
            seed=0,
            callbacks=[hg.EarlyStopping(patience=np.int64(5), min_delta=np.float32(0.0))],
        )
        runs.append((h.step_loss, [p.value.copy() for p in model.parameters()]))
    assert runs[0][0] == runs[1][0] and len(runs[0][0]) == 3 * 4
    assert hg.Adam(model.parameters(), lr=np.float32(0.1)).lr == pytest.approx(0.1)
    for bad in (np.nan, -1.0, True):
        with pytest.raises((ValueError, TypeError)):
            hg.EarlyStopping(min_delta=bad)
        with pytest.raises((ValueError, TypeError)):
            hg.L2Penalty(bad if bad is not True else True)
    with pytest.raises(ValueError, match="finite"):
        hg.L2Penalty(np.inf)


def test_predict_logits_is_a_deprecated_alias_of_predict_outputs(rng):
    """It returns regression outputs too: the new name says so; the old one warns."""
    from handgrad.train import predict_logits

    model = hg.mlp([3, 4, 1], seed=0)
    X = rng.standard_normal((5, 3))
    with pytest.warns(DeprecationWarning, match="predict_outputs"):
        old = predict_logits(model, X)
    assert np.array_equal(old, predict_outputs(model, X))
    np.testing.assert_allclose(
        predict_outputs(model, X, batch_size=2), model.forward(X), rtol=1e-12
    )
