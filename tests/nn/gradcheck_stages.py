"""gradcheck attacked at the far stages of training and in every dtype: built-in networks
trained 10^4-3·10^4 steps (Adam or SGD), fitted exactly to a teacher's targets, with a layer
of dead ReLUs or saturated sigmoids, with weights and inputs rescaled so the gradients run
from ~1e-12 to ~1e8, as float64, float32, float16 or mixed (a float64 model fed float32 or
integer inputs; a float32 model fed float64), checked with their correct backward and with
gradcheck_attack's wrong ones.

    draw(seed)              a random StageCase
    build(case)             (model, loss, X, y) at the case's stage and dtype
    attack(seeds, tally, attack_module)   as gradcheck_learner.attack

    PYTHONPATH=src python tests/nn/gradcheck_attack.py 0 300 --stages
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

import handgrad as hg
from handgrad.nn.losses import PoissonLoss

STAGES = ("long", "fit", "sgd", "dead", "rescaled")
EXTRAS = ("none", "none", "batchnorm-train", "batchnorm-eval", "dropout")


class BatchNorm(hg.Module):
    """A learner's batch norm over the batch axis. Training mode normalizes with the batch's
    statistics (every sample's output depends on every sample) and updates the running ones
    (state that does not change the output); evaluation mode uses the running ones.
    ``constant_stats`` is the classic mistake: the statistics' dependence on x left out."""

    def __init__(self, width, training=True, constant_stats=False, eps=1e-5):
        self.gamma = hg.Parameter(np.linspace(0.5, 1.5, width), "gamma", regularize=False)
        self.beta = hg.Parameter(np.linspace(-0.2, 0.2, width), "beta", regularize=False)
        self.mean, self.var = np.full(width, 0.1), np.full(width, 2.0)
        self.training, self.constant_stats, self.eps = training, constant_stats, eps

    def forward(self, x):
        if self.training:
            mu, var = x.mean(axis=0), x.var(axis=0)
            self.mean = 0.9 * self.mean + 0.1 * mu
            self.var = 0.9 * self.var + 0.1 * var
        else:
            mu, var = self.mean, self.var
        self.inv = 1 / np.sqrt(var + self.eps)
        self.xhat = (x - mu) * self.inv
        return (self.gamma.value * self.xhat + self.beta.value).astype(x.dtype)

    def backward(self, grad):
        self.gamma.grad[...] = (grad * self.xhat).sum(axis=0)
        self.beta.grad[...] = grad.sum(axis=0)
        d = grad * self.gamma.value
        if not self.training or self.constant_stats:  # the statistics taken as constants
            return (d * self.inv).astype(grad.dtype)
        n = d.shape[0]
        dx = self.inv / n * (n * d - d.sum(axis=0) - self.xhat * (d * self.xhat).sum(axis=0))
        return dx.astype(grad.dtype)

    def parameters(self):
        return [self.gamma, self.beta]


class Dropout(hg.Module):
    """A learner's inverted dropout. ``fresh``: a new mask at every forward (training mode,
    which gradcheck refuses); else the first mask is kept. ``forget_mask``: the mistake."""

    def __init__(self, p=0.5, fresh=False, forget_mask=False, seed=0):
        self.p, self.fresh, self.forget_mask = p, fresh, forget_mask
        self.rng = np.random.default_rng(seed)
        self.mask = None

    def forward(self, x):
        if self.fresh or self.mask is None or self.mask.shape != x.shape:
            self.mask = (self.rng.random(x.shape) >= self.p) / (1 - self.p)
        return (x * self.mask).astype(x.dtype)

    def backward(self, grad):
        return grad if self.forget_mask else (grad * self.mask).astype(grad.dtype)


DTYPES = ("float64", "float32", "float16", "f64-model-f32-input", "f64-model-int-input",
          "f32-model-f64-input")  # fmt: skip


@dataclass(frozen=True)
class StageCase:
    seed: int
    activation: str
    loss: str
    reduction: str
    dtype: str
    stage: str
    sizes: tuple[int, ...]
    batch: int
    steps: int
    lr: float
    scale: float  # "rescaled": weights multiplied by it after training
    x_scale: float
    extra: str  # a learner's layer after the first Linear: batch norm (either mode), dropout

    def __str__(self) -> str:
        return (
            f"seed={self.seed} {self.stage} {self.activation}-{self.loss}({self.reduction})-"
            f"{self.dtype} sizes={list(self.sizes)} N={self.batch} steps={self.steps} "
            f"lr={self.lr:g} scale={self.scale:g} x*{self.x_scale:g} extra={self.extra}"
        )


def draw(seed: int) -> StageCase:
    rng = np.random.default_rng([seed, 29])
    loss = str(rng.choice(["mse", "bce", "softmax_ce", "poisson"]))
    outputs = {"mse": int(rng.integers(1, 3)), "bce": 1, "softmax_ce": int(rng.integers(2, 4)),
               "poisson": 1}[loss]  # fmt: skip
    depth = int(rng.integers(1, 3))
    stage = str(rng.choice(STAGES))
    steps = {"long": int(rng.choice([10_000, 30_000])), "fit": 10_000, "sgd": 20_000,
             "dead": 100, "rescaled": 1000}[stage]  # fmt: skip
    return StageCase(
        seed=seed,
        activation=str(rng.choice(["relu", "leaky_relu", "tanh", "sigmoid", "identity"])),
        loss=loss,
        reduction=str(rng.choice(["mean", "sum"])),
        dtype=str(rng.choice(DTYPES)),
        stage=stage,
        sizes=(int(rng.integers(1, 4)), *(int(rng.integers(2, 9)) for _ in range(depth)), outputs),
        batch=int(rng.choice([1, 4, 16, 64])),
        steps=steps,
        lr=float(10 ** rng.uniform(-3, -1)),
        scale=float(10 ** rng.choice([-4.0, -2.0, 2.0, 4.0])),
        x_scale=float(10 ** rng.choice([-3.0, 0.0, 0.0, 3.0])),
        extra=str(rng.choice(EXTRAS)),
    )


def _targets(case: StageCase, X: np.ndarray, rng: np.random.Generator):
    """(loss, y): a teacher network's outputs for "fit" (an exact fit exists), else noise."""
    n, k = case.batch, case.sizes[-1]
    if case.stage == "fit":
        z = hg.mlp(list(case.sizes), case.activation, seed=case.seed + 1).forward(X)
    else:
        z = rng.normal(size=(n, k)) * 3
    if case.loss == "mse":
        return hg.MSELoss(case.reduction), z
    if case.loss == "bce":
        return hg.BCEWithLogitsLoss(case.reduction), (z > 0).astype(float)
    if case.loss == "poisson":
        return PoissonLoss(case.reduction), np.round(np.exp(np.clip(z, -5, 5)))
    return hg.SoftmaxCrossEntropyLoss(case.reduction), np.argmax(z, axis=1)


def _train_dtype(case: StageCase) -> np.dtype:
    return np.dtype(np.float32 if case.dtype in ("float32", "float16", "f32-model-f64-input")
                    else np.float64)  # fmt: skip


def _with_extra(case: StageCase, model: hg.Sequential) -> hg.Sequential:
    """The model with the case's learner layer after its first Linear (eval-mode batch norm
    is trained in training mode, then switched)."""
    width = case.sizes[1]
    extra = {"none": None, "dropout": Dropout(0.3, seed=case.seed),
             "batchnorm-train": BatchNorm(width),
             "batchnorm-eval": BatchNorm(width)}[case.extra]  # fmt: skip
    if extra is None:
        return model
    return hg.Sequential(model.layers[0], extra, *model.layers[1:])


def build(case: StageCase):
    """(model, loss, X, y) at the case's stage, in the case's dtypes."""
    rng = np.random.default_rng([case.seed, 31])
    dtype = _train_dtype(case)
    X = rng.normal(size=(case.batch, case.sizes[0])) * case.x_scale
    if case.dtype == "f64-model-int-input":
        X = np.round(X * 3).astype(np.int64)
    loss, y = _targets(case, X.astype(float), rng)
    model = _with_extra(
        case, hg.mlp(list(case.sizes), case.activation, seed=case.seed, dtype=dtype)
    )
    if case.stage == "dead":  # the first hidden layer's units all off (or saturated)
        first = model.layers[0]
        first.bias.value[:] = -(np.abs(X) @ np.abs(first.weight.value)).max() - 1.0
    Xt = X.astype(dtype)
    yt = y.astype(dtype) if y.dtype.kind == "f" else y
    opt = (hg.SGD if case.stage == "sgd" else hg.Adam)(model.parameters(), lr=case.lr)
    with np.errstate(all="ignore"):
        for _ in range(case.steps):
            try:  # a diverging run stops where it diverged (attack skips it)
                loss.forward(model.forward(Xt), yt)
            except ValueError:
                break
            model.backward(loss.backward())
            opt.step()
    if case.extra == "batchnorm-eval":
        model.layers[1].training = False
    if case.stage == "rescaled":
        for p in model.parameters():
            p.value *= dtype.type(case.scale)
    if case.dtype == "float16":  # the trained float32 model, its Linear layers in float16
        for layer in model.layers:
            if isinstance(layer, hg.Linear):
                layer.dtype = np.dtype(np.float16)
                for p in layer.parameters():
                    p.value, p.grad = p.value.astype(np.float16), p.grad.astype(np.float16)
        return model, loss, X.astype(np.float16), yt
    if case.dtype == "f64-model-f32-input":
        return model, loss, X.astype(np.float32), y.astype(np.float32) if y.dtype.kind == "f" else y
    if case.dtype == "f32-model-f64-input":
        return model, loss, X.astype(np.float64), y
    return model, loss, X if case.dtype == "f64-model-int-input" else Xt, yt


def _extra_mutant(cls, **wrong):
    """The model with its learner layer of class ``cls`` made wrong (None without one)."""

    def make(model, rng):
        if not isinstance(model.layers[1], cls) or not getattr(model.layers[1], "training", 1):
            return None
        layer = copy.copy(model.layers[1])
        layer.__dict__.update(wrong)
        return hg.Sequential(model.layers[0], layer, *model.layers[2:])

    return make


EXTRA_MUTANTS = {
    "batch norm: statistics taken as constants": _extra_mutant(BatchNorm, constant_stats=True),
    "dropout: mask forgotten in backward": _extra_mutant(Dropout, forget_mask=True),
}


def attack(seeds, tally, attack_module):
    """Adds the cases of ``seeds`` to ``tally`` (a gradcheck_attack.Tally): each case's
    correct backward (a FAIL is a false alarm) and gradcheck_attack's wrong ones (a PASS of a
    visible one is a miss). A case whose float64 loss is not finite is skipped."""
    mutants = {**attack_module.MUTANTS, **EXTRA_MUTANTS}
    for seed in seeds:
        case = draw(seed)
        with np.errstate(all="ignore"):
            model, loss, X, y = build(case)
            try:
                m, X64, y64, _ = attack_module.float64_problem(model, X, y)
                finite = np.isfinite(loss.forward(m.forward(X64), y64))
            except ValueError:  # a layer's input not finite
                finite = False
            if not finite:
                tally.skipped += 1
                continue
        rng = np.random.default_rng([seed, 37])
        made = ((name, make(model, rng)) for name, make in mutants.items())
        wrongs = ((name, wrong, loss) for name, wrong in made if wrong is not None)
        attack_module.judge_case(tally, case, model, loss, X, y, seed, wrongs)
    return tally
