"""Resume: a run stopped (by a callback or Ctrl-C) and continued from its checkpoint ends
with the same bits as a run that never stopped, for every optimizer; a checkpoint that does
not fit the model, the optimizer or the call is refused before anything changes."""

import os
import signal

import numpy as np
import pytest

import handgrad as hg
from handgrad.train import Callback, read_checkpoint

OPTIMIZERS = {
    "sgd": lambda ps: hg.SGD(ps, lr=0.05),
    "momentum": lambda ps: hg.SGD(ps, lr=0.05, momentum=0.9, nesterov=True),
    "adam": lambda ps: hg.Adam(ps, lr=0.01, weight_decay=1e-3),
    "rmsprop": lambda ps: hg.RMSProp(ps, lr=0.005),
}
EPOCHS = 5


def data():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((90, 4))
    return X, (X[:, 0] - X[:, 1] * X[:, 2] > 0).astype(np.int64)


def run(name, callbacks=(), resume_from=None, **kwargs):
    X, y = data()
    model = hg.mlp([4, 16, 2], "relu", seed=0)
    opt = OPTIMIZERS[name](model.parameters())
    kwargs = {
        "epochs": EPOCHS,
        "batch_size": 16,
        "seed": 7,
        "metrics": ["accuracy"],
        "validation_fraction": 0.2,
        **kwargs,
    }
    h = hg.fit(
        model,
        hg.SoftmaxCrossEntropyLoss(),
        opt,
        X,
        y,
        callbacks=list(callbacks),
        resume_from=resume_from,
        **kwargs,
    )
    return model, opt, h


class StopAfter(Callback):
    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, ctx):
        if ctx.epoch == self.epoch:
            ctx.stop_training, ctx.stop_reason = True, "enough"


class CtrlC(Callback):
    def __init__(self, epoch, step):
        self.epoch, self.step = epoch, step

    def on_batch_end(self, ctx):
        if ctx.epoch == self.epoch and ctx.step == self.step:
            if hasattr(signal, "raise_signal"):
                signal.raise_signal(signal.SIGINT)
            else:  # pragma: no cover
                os.kill(os.getpid(), signal.SIGINT)


def assert_same_run(a, b):
    (model_a, opt_a, h_a), (model_b, opt_b, h_b) = a, b
    for p, q in zip(model_a.parameters(), model_b.parameters()):
        assert np.array_equal(p.value, q.value)
    assert opt_a.t == opt_b.t
    for s, r in zip(opt_a.state, opt_b.state):
        assert s.keys() == r.keys() and all(np.array_equal(s[k], r[k]) for k in s)
    assert h_a.step_loss == h_b.step_loss
    assert h_a.epoch_loss == h_b.epoch_loss
    assert h_a.metrics == h_b.metrics and h_a.val_loss == h_b.val_loss
    assert h_a.val_metrics == h_b.val_metrics
    assert h_b.stop_reason is None and h_b.epochs == EPOCHS


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_stopped_at_an_epoch_end_and_resumed_is_bit_identical(name, tmp_path):
    whole = run(name)
    ckpt = hg.ModelCheckpoint(tmp_path / "ckpt.npz")
    _, _, h = run(name, callbacks=[StopAfter(1), ckpt])
    assert h.epochs == 2 and h.stop_reason == "enough"
    resumed = run(name, resume_from=tmp_path / "ckpt.npz")
    assert_same_run(whole, resumed)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_ctrl_c_mid_epoch_and_resumed_is_bit_identical(name, tmp_path):
    whole = run(name)
    ckpt = hg.ModelCheckpoint(tmp_path / "ckpt-{epoch}.npz", latest_only=True)
    _, _, h = run(name, callbacks=[CtrlC(epoch=2, step=2), ckpt])
    assert h.stop_reason == "interrupted"
    # the checkpoint of the interrupted epoch replaced the one of the epoch before
    assert [p.name for p in tmp_path.iterdir()] == ["ckpt-3.npz"] == [p.name for p in ckpt.saved]
    state = read_checkpoint(tmp_path / "ckpt-3.npz")
    assert (state.epoch, state.step) == (2, 2)
    resumed = run(name, resume_from=tmp_path / "ckpt-3.npz")
    assert_same_run(whole, resumed)


def test_a_checkpoint_holds_a_loadable_model_and_resumes_a_resumed_run(tmp_path):
    """Resume twice: each checkpoint continues the same run."""
    whole = run("adam")
    run("adam", callbacks=[StopAfter(0), hg.ModelCheckpoint(tmp_path / "a.npz")])
    run(
        "adam",
        callbacks=[StopAfter(2), hg.ModelCheckpoint(tmp_path / "b.npz")],
        resume_from=tmp_path / "a.npz",
    )
    model, meta = hg.nn.load_with_metadata(tmp_path / "b.npz")
    assert meta == {"epoch": 3}
    resumed = run("adam", resume_from=tmp_path / "b.npz")
    assert_same_run(whole, resumed)
    assert model.config() == resumed[0].config()


def test_model_checkpoint_keeps_every_file_unless_latest_only(tmp_path):
    ckpt = hg.ModelCheckpoint(tmp_path / "all-{epoch}.npz")
    latest = hg.ModelCheckpoint(tmp_path / "one-{epoch}.npz", latest_only=True)
    run("sgd", callbacks=[ckpt, latest])
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [f"all-{e}.npz" for e in range(1, EPOCHS + 1)] + [f"one-{EPOCHS}.npz"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary left


def weights_and_draw(model):
    return [p.value.copy() for p in model.parameters()]


@pytest.fixture
def checkpoint(tmp_path):
    run("adam", callbacks=[StopAfter(1), hg.ModelCheckpoint(tmp_path / "c.npz")])
    return tmp_path / "c.npz"


@pytest.mark.parametrize(
    "change, match",
    [
        ({"model": lambda: hg.mlp([4, 8, 2], "relu", seed=0)}, "different model"),
        ({"model": lambda: hg.mlp([4, 16, 2], "tanh", seed=0)}, "different model"),
        ({"opt": lambda ps: hg.SGD(ps, lr=0.1)}, "belongs to 'Adam'"),
        ({"batch_size": 8}, "resume with the call the run started with"),
        ({"epochs": 1}, "beyond epochs=1"),
        ({"metrics": []}, "with metrics \\['accuracy'\\]"),
    ],
)
def test_a_checkpoint_that_does_not_fit_is_refused_before_anything_changes(
    checkpoint, change, match
):
    X, y = data()
    model = change.get("model", lambda: hg.mlp([4, 16, 2], "relu", seed=0))()
    opt = change.get("opt", OPTIMIZERS["adam"])(model.parameters())
    before = weights_and_draw(model)
    rng = np.random.default_rng(7)
    with pytest.raises(ValueError, match=match):
        hg.fit(
            model,
            hg.SoftmaxCrossEntropyLoss(),
            opt,
            X,
            y,
            epochs=change.get("epochs", EPOCHS),
            batch_size=change.get("batch_size", 16),
            rng=rng,
            validation_fraction=0.2,
            metrics=change.get("metrics", ["accuracy"]),
            resume_from=checkpoint,
        )
    assert all(np.array_equal(p.value, b) for p, b in zip(model.parameters(), before))
    assert opt.t == 0
    assert rng.random() == np.random.default_rng(7).random()  # nothing drawn


def test_damaged_or_model_only_files_are_refused(checkpoint, tmp_path):
    X, y = data()
    model = hg.mlp([4, 16, 2], "relu", seed=0)
    hg.save(model, tmp_path / "model.npz")
    damaged = tmp_path / "damaged.npz"
    damaged.write_bytes(checkpoint.read_bytes()[:-200])
    for path, match in [
        (tmp_path / "model.npz", "not a checkpoint"),
        (damaged, "cannot"),
    ]:
        with pytest.raises(ValueError, match=match):
            hg.fit(
                model,
                hg.SoftmaxCrossEntropyLoss(),
                hg.Adam(model.parameters()),
                X,
                y,
                epochs=EPOCHS,
                batch_size=16,
                seed=7,
                validation_fraction=0.2,
                resume_from=path,
            )
    with pytest.raises(FileNotFoundError):
        read_checkpoint(tmp_path / "missing.npz")


@pytest.mark.parametrize("name", ["momentum", "adam"])
def test_resume_on_the_protocol_path_is_bit_identical(name, tmp_path):
    """The same with the fast path switched off: the modules' own forward/backward/step."""
    whole = run(name, fast=False)
    stop = [CtrlC(epoch=1, step=3), hg.ModelCheckpoint(tmp_path / "c.npz")]
    run(name, callbacks=stop, fast=False)
    resumed = run(name, resume_from=tmp_path / "c.npz", fast=False)
    assert_same_run(whole, resumed)


def test_early_stopping_state_travels_with_the_checkpoint(tmp_path):
    """The best epoch, the wait and the best weights come back, so the resumed run stops
    and restores exactly as the run that never stopped."""

    def stopper():
        return hg.EarlyStopping("val_loss", patience=2)

    whole = run("adam", callbacks=[stopper()], epochs=12)
    ckpt = hg.ModelCheckpoint(tmp_path / "ckpt.npz", latest_only=True)
    run("adam", callbacks=[stopper(), CtrlC(epoch=3, step=1), ckpt], epochs=12)
    state = read_checkpoint(tmp_path / "ckpt.npz")
    saved = [s for s in state.callbacks if s is not None]
    assert saved[0]["type"] == "EarlyStopping" and "weight.0" in saved[0]
    resumed = run("adam", callbacks=[stopper()], resume_from=tmp_path / "ckpt.npz", epochs=12)
    for p, q in zip(whole[0].parameters(), resumed[0].parameters()):
        assert np.array_equal(p.value, q.value)
    assert whole[2].val_loss == resumed[2].val_loss
    assert whole[2].stop_reason == resumed[2].stop_reason


def test_resume_refuses_other_stateful_callbacks(tmp_path):
    ckpt = hg.ModelCheckpoint(tmp_path / "ckpt.npz")
    run("sgd", callbacks=[hg.EarlyStopping("val_loss", patience=5), StopAfter(0), ckpt])
    with pytest.raises(ValueError, match="EarlyStopping"):
        run("sgd", resume_from=tmp_path / "ckpt.npz")
