"""Inside one step: every tensor of a minibatch's forward and backward pass, in order.

The step is the trainer's own step, taken apart: each layer's ``forward`` is called in turn
(the same calls ``Sequential.forward`` makes), then the loss, then each layer's ``backward``
in reverse order, then the optimizer. Nothing here recomputes the math; it reads the inputs,
outputs and gradients the engine produced, and names them as the textbook does:

    x -> z1 = x W1 + b1 -> a1 = f(z1) -> ... -> logits zL -> L
    dL/dzL -> dW_L, db_L, dL/da_{L-1} -> delta_{L-1} = dL/dz_{L-1} -> ...

The page shows the first rows of each tensor and its full shape. The gradient check runs
``hg.gradcheck`` on the same minibatch.
"""

from __future__ import annotations

import numpy as np

import handgrad as hg

from .network import Trainer

__all__ = ["inspect_step", "check_gradients", "SHOWN_ROWS", "SHOWN_COLUMNS"]

SHOWN_ROWS = 6
SHOWN_COLUMNS = 8
GRADCHECK_ROWS = 64  # the gradient check uses at most this many rows of the batch
GRADCHECK_ENTRIES = 64  # and samples at most this many entries per parameter

_ACTIVATION_FORMULA = {
    "ReLU": ("max(0, z)", "1[z > 0]"),
    "LeakyReLU": ("max(0.01 z, z)", "1 if z > 0 else 0.01"),
    "Tanh": ("tanh(z)", "1 − tanh(z)²"),
    "Sigmoid": ("σ(z) = 1 / (1 + e^(−z))", "σ(z) (1 − σ(z))"),
    "Identity": ("z", "1"),
}


def _tensor(name: str, formula: str, value, phase: str) -> dict:
    """A JSON-ready record: the name, formula, full shape, the first rows and a summary."""
    array = np.asarray(value, dtype=np.float64)
    shown = array if array.ndim == 0 else array[:SHOWN_ROWS]
    if shown.ndim == 2:
        shown = shown[:, :SHOWN_COLUMNS]
    finite = array[np.isfinite(array)]
    return {
        "name": name,
        "formula": formula,
        "phase": phase,
        "shape": list(array.shape),
        "values": np.round(shown, 6).tolist() if np.isfinite(shown).all() else str(shown),
        "norm": float(np.linalg.norm(finite)) if finite.size else None,
        "mean": float(finite.mean()) if finite.size else None,
    }


def _loss_gradient_formula(loss, z: str) -> str:
    """dL/dz for the loss on logits named ``z`` (mean over the N rows of the batch)."""
    if isinstance(loss, hg.BCEWithLogitsLoss):
        return f"(σ({z}) − y) / N"
    if isinstance(loss, hg.SoftmaxCrossEntropyLoss):
        return f"(softmax({z}) − onehot(y)) / N"
    return f"2 ({z} − y) / N"


def _loss_formula(loss) -> str:
    if isinstance(loss, hg.BCEWithLogitsLoss):
        return "mean over the batch of y·softplus(−z) + (1 − y)·softplus(z)"
    if isinstance(loss, hg.SoftmaxCrossEntropyLoss):
        return "mean over the batch of −log softmax(z)_y"
    return "mean of (ŷ − y)²"


def inspect_step(trainer: Trainer) -> dict:
    """Take one training step on the next minibatch and record every tensor (forward order,
    then backprop order). Returns {"tensors": [...], "batch": rows, "loss": L, "step": n}."""
    idx = trainer.next_batch()
    x, y = trainer.X_train[idx], trainer.Y_train[idx]
    layers = list(trainer.model)
    n_linear = sum(isinstance(layer, hg.Linear) for layer in layers)
    records = [_tensor("x", "the minibatch's inputs", x, "forward")]
    a, l, names = x, 0, []
    for layer in layers:
        out = layer.forward(a)
        if isinstance(layer, hg.Linear):
            l += 1
            prev = "x" if l == 1 else f"a{l - 1}"
            label = f"z{l}" + (" (logits)" if l == n_linear else "")
            records.append(_tensor(label, f"z{l} = {prev} W{l} + b{l}", out, "forward"))
        else:
            f = _ACTIVATION_FORMULA.get(type(layer).__name__, ("f(z)", "f′(z)"))[0]
            records.append(_tensor(f"a{l}", f"a{l} = {f.replace('z', f'z{l}')}", out, "forward"))
        names.append(l)
        a = out
    value = trainer.loss.forward(a, y)
    records.append(_tensor("L", _loss_formula(trainer.loss), value, "loss"))
    grad = trainer.loss.backward()
    records.append(
        _tensor(f"dL/dz{l}", _loss_gradient_formula(trainer.loss, f"z{l}"), grad, "backward")
    )
    for layer, l in zip(reversed(layers), reversed(names)):
        if isinstance(layer, hg.Linear):
            prev = "x" if l == 1 else f"a{l - 1}"
            delta = f"dL/dz{l}"
            grad = layer.backward(grad)
            records.append(_tensor(f"dW{l}", f"{prev}ᵀ · {delta}", layer.weight.grad, "backward"))
            if layer.bias is not None:  # hg.Linear(bias=False) has none
                sum_rows = f"Σ over rows of {delta}"
                records.append(_tensor(f"db{l}", sum_rows, layer.bias.grad, "backward"))
            if l > 1:
                records.append(_tensor(f"dL/da{l - 1}", f"{delta} · W{l}ᵀ", grad, "backward"))
        else:
            derivative = _ACTIVATION_FORMULA.get(type(layer).__name__, ("f(z)", "f′(z)"))[1]
            grad = layer.backward(grad)
            formula = f"δ{l} = dL/da{l} ⊙ f′(z{l}),  f′(z) = {derivative}"
            records.append(_tensor(f"δ{l} = dL/dz{l}", formula, grad, "backward"))
    trainer._finish(value)
    return {
        "tensors": records,
        "batch": len(idx),
        "loss": float(value),
        "step": trainer.steps,
        "optimizer": trainer.spec.optimizer,
        "regularization": trainer.spec.regularization,
        "reg_rate": trainer.spec.reg_rate,
    }


def check_gradients(trainer: Trainer) -> dict:
    """``hg.gradcheck`` of the current network on the first ``GRADCHECK_ROWS`` training rows.

    No minibatch is drawn and the gradients are put back: the run continues as if no check
    had happened. Returns the report's rows as gradcheck gives them (one dict per
    parameter), its verdict, its one-line summary, its text table, and one sentence that
    says what the verdict means (for a FAIL: which parameter disagrees, and where to look).
    """
    rows = min(GRADCHECK_ROWS, len(trainer.X_train))
    x, y = trainer.X_train[:rows], trainer.Y_train[:rows]
    saved = [p.grad.copy() for p in trainer.model.parameters()]
    report = hg.gradcheck(trainer.model, trainer.loss, x, y, max_entries=GRADCHECK_ENTRIES)
    for p, g in zip(trainer.model.parameters(), saved):
        p.grad[...] = g  # the check's backward overwrote them
    table = [{k: _plain(v) for k, v in row.items()} for row in report.as_dicts()]
    return {
        "passed": bool(report.passed),
        "rows": table,
        "summary": report.summary(),
        "table": report.table(),
        "explanation": _engine_sentence(report) or explain(bool(report.passed), table),
        "batch": rows,
    }


def _engine_sentence(report) -> str:
    """gradcheck's own sentence about a FAIL, when its report writes one."""
    sentence = getattr(report, "explanation", None)
    return sentence() if callable(sentence) and not report.passed else ""


def _plain(value):
    """NumPy scalars as Python numbers and bools (the page gets JSON)."""
    return value.item() if isinstance(value, np.generic) else value


def _errors(row: dict) -> list[tuple[str, float]]:
    """The row's error figures, in gradcheck's order (every key that names an error)."""
    return [
        (key, float(value))
        for key, value in row.items()
        if "err" in key and isinstance(value, (int, float)) and not isinstance(value, bool)
    ]


def explain(passed: bool, rows: list[dict]) -> str:
    """One sentence for the learner: what PASSED or FAILED means for this network."""
    checked = sum(int(r.get("checked", 0)) for r in rows)
    skipped = sum(int(r.get("kinks", r.get("skipped", 0))) for r in rows)
    if passed:
        return (
            f"Backprop is right here: each of the {checked} entries checked agrees with "
            f"finite differences as closely as they can tell"
            + (
                f" ({skipped} skipped where a ReLU kink makes them meaningless)."
                if skipped
                else "."
            )
        )
    failing = [r for r in rows if "passed" in r and not r["passed"]] or rows
    worst = max(failing, key=lambda r: [v for _, v in _errors(r)][-1:] or [0.0])
    figures = ", ".join(f"{k.replace('_', ' ')} {v:.1e}" for k, v in _errors(worst))
    how = f" ({figures})" if figures else ""
    where = (
        "every parameter, so look first at the loss's gradient dL/dz"
        if len(failing) == len(rows) > 1
        else f"{worst.get('name', 'a parameter')}, so look at the backward of the layer it "
        "belongs to"
    )
    return f"The analytic gradient disagrees with finite differences{how} at {where}."
