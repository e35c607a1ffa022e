"""Diagnosis from the numbers: compare an answer with the reference and name the kind of bug.

Each test looks at the arrays only (the answer's code is never read):

    shape / dtype          the array is not the one the contract asks for
    transpose              the answer's transpose is the right array
    sign                   the answer is the right array negated
    scale                  the answer is c times the right array for one constant c != 1
    bias-shape             a bias gradient with the right numbers in the wrong shape
    bias-not-summed        a bias gradient left per sample: summing its rows gives the answer
    relu-kink              wrong only where the ReLU input is <= 0
    unstable               NaN / inf, or wrong only at extreme inputs (logits of +-800)
    <bug models>           an exercise's known mistakes (activation-derivative, order,
                           adam-bias-correction, momentum-convention, ...), recognised by
                           reproducing the numbers the mistake gives
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ._showing import _first_wrong, _fmt
from .catalogue import BugModel, Case

__all__ = ["Comparison", "compare_output", "close", "HINTS", "most_specific_first"]

# the claim made about a wrong answer on a case of extreme inputs; ``checking.settle`` takes it
# back when the answer is wrong on ordinary inputs too (then it is not only an instability)
EXTREME_NOTE = "wrong on extreme inputs, where a naive formula loses its digits"
NOT_ONLY_EXTREME = "wrong here as on the ordinary cases, so not only where a formula overflows"

# one line per code, saying where to look; each code has a section of docs/exercises.md with
# the same name (result.py links the hint to it)
HINTS: dict[str, str] = {
    "scale": "right direction, wrong size: look for a missing or extra 1/N (mean vs sum) or 1/2",
    "n-minus-1": "a mean divides by N, not N - 1: dividing by N - 1 (Bessel's correction) "
    "belongs to the sample variance, not to a mean loss",
    "transpose": "the array is transposed: write the shapes of each product (rows are samples)",
    "sign": "the sign is flipped: gradient descent subtracts; dL/dz of the loss is p - y",
    "relu-kink": "wrong only where the ReLU input is <= 0: the derivative is 1 for z > 0 only, "
    "taken from the input z (z > 0, not >=)",
    "derivative-forgotten": "the hidden activation's derivative is left out of the backward "
    "pass: dz1 = (dz2 @ W2.T) * f'(z1), a ReLU's mask (z1 > 0) or tanh's 1 - a1**2",
    "output-derivative": "the output sigmoid's derivative is multiplied in again: with "
    "cross-entropy on logits, dL/dz2 = p - y already contains it (p (1 - p) belongs to a "
    "squared error)",
    "adam-second-moment": "v averages the SQUARED gradient: v <- beta2 v + (1 - beta2) "
    "grad**2 (grad alone can be negative, and its square root NaN)",
    "activation-derivative": "the activation's derivative is evaluated at the wrong quantity "
    "(on z where the formula takes the output a, or the reverse)",
    "bias-shape": "a bias gradient with the right numbers in the wrong shape (give it the "
    "bias's own shape), or a bias made a column (H, 1), which cannot be added to each row of "
    "(N, H): keep it (H,) or (1, H)",
    "bias-not-summed": "a bias is added to every row, so its gradient is the sum over the batch",
    "order": "a layer's gradient uses another layer's delta, or weights already updated: go "
    "backwards, output layer first, and propagate through the weights before updating them",
    "adam-bias-correction": "Adam's first steps need m_hat = m/(1-beta1^t) and "
    "v_hat = v/(1-beta2^t)",
    "adam-step-count": "the bias corrections use the wrong step count: t is 1 at the first "
    "step, so 1 - beta^t with that t (not t + 1, not t - 1)",
    "adam-returns-corrected": "return the running averages m and v, not m_hat and v_hat: the "
    "corrected ones are for this step's update only",
    "adam-epsilon": "eps goes outside the square root, after the bias correction: "
    "sqrt(v_hat) + eps, not sqrt(v_hat + eps), nor eps added to v",
    "adam-square-root": "the step divides by the square ROOT of v_hat: "
    "m_hat / (sqrt(v_hat) + eps), not m_hat / (v_hat + eps)",
    "momentum-convention": "the velocity follows another convention than the contract's",
    "zeros": "the answer is all zeros: a gradient left at np.zeros, never computed, or an "
    "integer division such as 1 // N (0 for N > 1)",
    "keepdims": "shapes (N, C) and (N,) met: a sum or max over axis 1 lost its axis "
    "(keepdims=True keeps it as (N, 1)), or labels (N,) stand where one-hot rows (N, C) or a "
    "column (N, 1) belong",
    "axis": "the sum (softmax, log-sum-exp) runs over the wrong axis: rows are samples, so "
    "each row is normalised over its C classes, axis=1",
    "bias-forgotten": "the biases are left out: each layer computes X W + b and has n_out "
    "biases beside its n_in * n_out weights",
    "off-by-one": "one too many or too few: n sizes make n - 1 layers, one between each pair "
    "of neighbours; labels 0..C-1 are the column indices themselves (no - 1)",
    "bias-count": "one bias per unit a layer outputs (n_out of them), none for the inputs",
    "row-index": "out[:, y] = 1 (or p[:, y] -= 1) changes every label's column in every row: "
    "index the pairs, out[np.arange(N), y]",
    "exp-sign": "the answer is sigmoid(-z) = 1 - sigmoid(z): sigmoid(z) = 1 / (1 + exp(-z)), "
    "while 1 / (1 + exp(z)) and exp(-z) / (1 + exp(-z)) are sigmoid(-z) (in a loss: y and "
    "1 - y swapped)",
    "tanh-via-sigmoid": "tanh and sigmoid differ by a factor 2 in the argument: "
    "tanh(z) = 2 sigmoid(2z) - 1 and sigmoid(z) = (1 + tanh(z / 2)) / 2; 2 sigmoid(z) - 1 is "
    "tanh(z / 2), and sigmoid(2z) = (1 + tanh(z)) / 2",
    "batch-max": "the max subtracted is the whole batch's: subtract each row's own max, "
    "z - z.max(axis=1, keepdims=True); a row far below the batch's max (one sample at +800, "
    "another at -800) otherwise underflows to 0 / 0",
    "leaky-relu": "this is a leaky ReLU (a small slope a z for z < 0): ReLU is max(z, 0), "
    "exactly 0 for every z <= 0",
    "initialization": "a fresh network is drawn as the contract says: every weight from "
    "np.random.default_rng(seed) (the same seed, the same network), at He's scale "
    "normal * sqrt(2 / n_in)",
    "l1-for-l2": "this is the L1 penalty, lam * sum(|w|) with gradient lam * sign(w): the L2 "
    "penalty squares the weights, (lam / 2) * sum(w**2), and its gradient is lam * w",
    "other-derivative": "this is the other activation's derivative: sigmoid' = a (1 - a), "
    "tanh' = 1 - a^2, both from the output a",
    "activation-forgotten": "an activation is missing: a1 = f(z1) on the hidden layer, "
    "p = sigmoid(z2) on the output",
    "output-activation": "the hidden activation is applied to the output layer too: "
    "z2 = a1 W2 + b2 stays linear, only p = sigmoid(z2) follows it",
    "activation-argument": "the activation argument is not followed: 'relu' and 'tanh' "
    "each need their own f",
    "product-shapes": "a matrix product's inner sizes differ: rows are samples, so a layer "
    "is X @ W, (N, D) @ (D, H), not W @ X; write each factor's shape (a .T missing or extra?)",
    "one-sided-difference": "one-sided differences, (f(x + eps) - f(x)) / eps or "
    "(f(x) - f(x - eps)) / eps: the contract asks for central ones, "
    "(f(x + eps) - f(x - eps)) / (2 eps), far more accurate",
    "function-for-derivative": "the gradient is multiplied by the activation itself where "
    "its derivative belongs: ReLU's is the mask, dz * (z > 0), not dz * relu(z); tanh's is "
    "1 - a**2, not a",
    "abs-for-relu": "|z| turns the negatives positive: ReLU sets them to 0, max(z, 0)",
    "sigmoid-prime": "sigmoid' = a * (1 - a), the output times one minus the output: not "
    "a * (1 + a), not 1 - a",
    "label-term": "the BCE from logits is softplus(z) - y z: the label's term y z is "
    "subtracted (softplus(z) alone is the loss of labels all 0)",
    "signed-error": "an entry's error is a size, |a - n| / max(|a|, |n|, 1e-8): without "
    "np.abs a gradient below the numerical one gives an error below 0, which passes as small",
    "tanh-prime": "tanh' = 1 - a**2, a squared first: not (1 - a)**2, not 1 - 2a (the "
    "derivative of a**2)",
    "square-each": "square each entry, then sum or average: mean(d**2), sum(w**2), not the "
    "square of the mean or of the sum (errors of both signs cancel there)",
    "root-taken": "no square root: the MSE is mean(d**2), not its root (RMSE); the L2 penalty "
    "uses the squared norm sum(w**2), not np.linalg.norm(w)",
    "mae-for-mse": "this is the mean ABSOLUTE error, mean(|d|): the MSE squares each error",
    "broadcast": "a column (N, 1) met a vector (N,): they broadcast into (N, N), every "
    "prediction against every target; give both the same shape before subtracting",
    "layer-input": "a weight gradient is the layer's input, transposed, times its delta: "
    "dW2 = a1.T @ dz2 with the activation a1, not the pre-activation z1",
    "old-velocity": "the new velocity already holds the old one (v = mu v_old - lr g): the "
    "step is w + v, with v_old not added again",
    "one-hot-labels": "labels are class numbers: the output delta is P - onehot(y), (N, C), "
    "not P minus the labels as a column",
    "largest-error": "the check's number is the LARGEST relative error over the entries, "
    "np.max(|a - n| / max(|a|, |n|, 1e-8)), not a mean or a ratio of norms",
    "swapped-outputs": "two outputs hold each other's values: return them in the contract's "
    "order and under its names (a tuple's order, a dict's keys)",
    "ignores-input": "a wrong output does not change when an input changes: is that "
    "argument read at all, or a global variable (a notebook's W1, lr) used in its place?",
    "not-an-array": "a list where an array is asked: compute with NumPy on the whole array, "
    "or wrap the list in np.array(...)",
    "missing-return": "the function returned None: is its `return` missing?",
    "unstable": "overflow or lost digits at large inputs: use the stable form (shift by the "
    "max; softplus / log-sum-exp on logits; dL/dz = p - y directly, never through dL/dp)",
    "labels-seen": "the size comes from the labels this batch holds: a class missing from it "
    "(or the largest one) shrinks the matrix; n_classes is given, use it",
    "normalized": "fractions where counts are asked: the matrix holds how many samples of "
    "class i were predicted j; divide by the row sums only to read rates, after counting",
    "repeated-index": "counts[y_true, y_pred] += 1 adds 1 once per distinct pair, however "
    "often the pair repeats: count with np.add.at(counts, (y_true, y_pred), 1) or a loop",
    "l2-convention": "the other L2 convention: (lam / 2) sum(W**2) has gradient lam W; "
    "lam sum(W**2), Keras's L2(lam), has gradient 2 lam W",
    "bias-penalized": "the bias is penalized too: the L2 penalty (a kernel regularizer) "
    "reads the weights W only, so db has no lam term",
    "mse-half": "the MSE's gradient lost the 2 of the square: d mean(r**2) / dz = 2 r / N "
    "(the 1/2 MSE of some books is another loss, half of this one)",
    "penalty-gradient": "the penalty is in the loss but not in its gradient: dW gets 2 lam W",
    "mutates-input": "the caller's arrays were changed: work on copies or new arrays",
    "shape": "the result's shape differs from the contract's",
    "dtype": "float32 in must give float32 out (no silent upcast to float64; a NumPy float64 "
    "scalar such as np.power(beta, t) or np.sqrt(2.0) upcasts a float32 array: keep such "
    "constants Python floats); floats where the contract asks for floats (a one-hot of "
    "0.0 / 1.0, not ints or booleans), an int where it asks for an int (a count)",
}

# codes from the most specific (a named mistake) to the most generic; a case lists its codes
# in this order
SPECIFICITY = (
    "exp-sign",
    "tanh-via-sigmoid",
    "batch-max",
    "leaky-relu",
    "l1-for-l2",
    "initialization",
    "other-derivative",
    "activation-forgotten",
    "output-activation",
    "activation-argument",
    "one-sided-difference",
    "repeated-index",
    "labels-seen",
    "normalized",
    "l2-convention",
    "bias-penalized",
    "mse-half",
    "penalty-gradient",
    "row-index",
    "bias-count",
    "product-shapes",
    "ignores-input",
    "adam-step-count",
    "adam-returns-corrected",
    "adam-epsilon",
    "adam-square-root",
    "adam-second-moment",
    "adam-bias-correction",
    "momentum-convention",
    "largest-error",
    "function-for-derivative",
    "abs-for-relu",
    "sigmoid-prime",
    "tanh-prime",
    "label-term",
    "signed-error",
    "mae-for-mse",
    "root-taken",
    "square-each",
    "broadcast",
    "layer-input",
    "old-velocity",
    "one-hot-labels",
    "swapped-outputs",
    "missing-return",
    "bias-forgotten",
    "off-by-one",
    "axis",
    "order",
    "derivative-forgotten",
    "output-derivative",
    "activation-derivative",
    "relu-kink",
    "bias-not-summed",
    "bias-shape",
    "transpose",
    "keepdims",
    "unstable",
    "zeros",
    "sign",
    "n-minus-1",
    "scale",
    "mutates-input",
    "shape",
    "dtype",
    "not-an-array",
)


def most_specific_first(codes: list[str]) -> list[str]:
    """``codes`` once each, ordered by SPECIFICITY (unknown codes last, in their order)."""
    unique = list(dict.fromkeys(codes))
    rank = {c: i for i, c in enumerate(SPECIFICITY)}
    return sorted(unique, key=lambda c: rank.get(c, len(rank)))


@dataclass
class Comparison:
    """The verdict on one output."""

    passed: bool
    codes: list[str] = field(default_factory=list)
    detail: str = ""
    factored: set[str] = field(default_factory=set)  # mistakes named with a factor on top


def close(got: np.ndarray, want: np.ndarray, case: Case) -> bool:
    if got.shape != want.shape:
        return False
    with np.errstate(all="ignore"):
        return bool(
            np.allclose(
                got.astype(np.float64),
                want.astype(np.float64),
                case.rtol,
                case.atol,
                equal_nan=True,  # a mistake's model may give NaN where the mistake does
            )
        )


def _telling(c: float, case: Case) -> bool:
    """c is a factor a mistake typically makes: 2, 1/2, -1, N, 1/N or N/(N - 1)."""
    telling = [2.0, 0.5, -1.0] + ([case.batch, 1.0 / case.batch] if case.batch else [])
    return any(_near(c, t, case) for t in telling) or _is_n_over_n_minus_1(c, case)


def _near(c: float, t: float, case: Case) -> bool:
    """c is t to the case's precision: 1e-6 relative, or the float32 cases' rtol (an answer in
    float32 beside a mistake's model, or a step taken as the difference of two float32
    positions, carries errors of 1e-6 and more into the ratio)."""
    return abs(c - t) <= max(1e-6, case.rtol) * abs(t)


def _is_n_over_n_minus_1(c: float, case: Case) -> bool:
    """c = N/(N - 1): a mean divided by N - 1 instead of N (told apart from N and 2 for N > 2)."""
    n = case.batch
    return bool(n and n > 2 and _near(c, n / (n - 1), case))


def _scale_factor(
    got: np.ndarray, want: np.ndarray, case: Case, telling_only: bool = False
) -> float | None:
    """c with got ~= c * want (c != 1), or None; only a telling c if ``telling_only``."""
    g, w = got.astype(np.float64).ravel(), want.astype(np.float64).ravel()
    denominator = float(w @ w)
    if not np.all(np.isfinite(g)) or denominator == 0.0:
        return None
    c = float(g @ w) / denominator
    if c == 0 or abs(c - 1) < 1e-3:
        return None
    # two numbers always differ by "a factor", and so do two arrays with one number that
    # is not 0 (a ReLU's gradient where one z > 0)
    if np.count_nonzero(np.abs(w) > case.atol) <= 1 or telling_only:
        return c if _telling(c, case) else None
    if np.count_nonzero(np.abs(g) > case.atol) <= 1:
        return None  # an answer within atol of 0 "fits" any small factor
    tol = 10 * case.rtol * np.sqrt(denominator) * abs(c) + case.atol * np.sqrt(g.size)
    return c if float(np.linalg.norm(g - c * w)) <= tol else None


def _describe_factor(c: float, case: Case) -> str:
    """'a factor c', saying when c is the batch size N or 1/N (a mean where a sum belongs)."""
    n = case.batch
    if _is_n_over_n_minus_1(c, case):
        return f"a factor {c:.6g} (= N/(N - 1), N = {n}: divided by N - 1 instead of N)"
    if n == 2 and _near(c, 2.0, case):  # N = 2 is also N/(N - 1): a sum and a division by N - 1
        return "a factor 2 (= N = N/(N - 1), N = 2: a sum, or a division by N - 1)"
    if n and n > 1:
        for value, words in ((n, "N"), (1.0 / n, "1/N")):
            if _near(c, value, case):
                return f"a factor {c:.6g} (= {words}, N = {n})"
    return f"a factor {c:.6g}"


def _value_codes(got: np.ndarray, want: np.ndarray, case: Case, name: str) -> tuple[list, str]:
    """Codes for an answer with the right shape but wrong values."""
    codes: list[str] = []
    note = ""
    if not np.all(np.isfinite(got)) and np.all(np.isfinite(want)):
        return ["unstable"], "the answer holds NaN or inf where every true value is finite"
    if got.ndim == 2 and got.shape[0] == got.shape[1]:
        if close(got.T, want, case):
            return ["transpose"], "the answer's transpose is right"
        c = _scale_factor(got.T, want, case)
        if c is not None and _scale_factor(got, want, case) is None:
            return ["transpose", "scale"], (
                f"the answer's transpose is {_describe_factor(c, case)} times the right one"
            )
    if not np.any(got) and np.any(np.abs(want) > case.atol) and want.dtype.kind == "f":
        return ["zeros"], "the answer is all zeros where the right one is not"
    c = _scale_factor(got, want, case)
    if c is not None and _near(c, -1.0, case):
        return ["sign"], "the answer is exactly the negated right one"
    if c is not None:
        size = "n-minus-1" if _is_n_over_n_minus_1(c, case) else "scale"
        codes = [size] + (["sign"] if c < 0 else [])
        return codes, f"the answer is {_describe_factor(c, case)} times the right one"
    if "extreme" in case.tags:
        return ["unstable"], EXTREME_NOTE
    mask = case.masks.get(name)
    if mask is not None and mask.shape == got.shape:
        wrong = ~np.isclose(got, want, case.rtol, case.atol)
        if wrong.any() and not (wrong & ~mask).any():
            return ["relu-kink"], "wrong only where the ReLU input is <= 0"
    return codes, note


def _shape_codes(got: np.ndarray, want: np.ndarray, case: Case, name: str) -> tuple[list, str]:
    """Codes for an answer of the wrong shape."""
    where = f"shape {got.shape} where {want.shape} is asked"
    is_bias = name in case.bias_outputs
    n = want.shape[0] if want.ndim == 2 and want.shape[1] == 1 else None
    if (
        n is not None and n == case.batch and n > 1 and got.shape == (n, n)
    ):  # (N, 1) against (N,): (N, N)
        return ["keepdims"], f"{where}: a column (N, 1) and a vector (N,) broadcast into (N, N)"
    if got.ndim == 2 and want.ndim == 2 and got.shape == want.shape[::-1]:
        if close(got.T, want, case):
            return ["transpose"], f"{where}; its transpose is right"
        more, note = _value_codes(got.T, want, case, name)
        if more:  # transposed, and wrong in a way named on the transpose as well
            return ["transpose", *more], f"{where}; transposed, {note}"
    if got.size == want.size:
        reshaped = got.reshape(want.shape)
        code = "bias-shape" if is_bias else "shape"
        if close(reshaped, want, case):
            return [code], f"{where}; the numbers themselves are right"
        more, note = _value_codes(reshaped, want, case, name)
        return [code, *more], f"{where}; {note}" if note else where
    if is_bias and got.ndim == 2 and got.shape[0] == case.batch and got.size > want.size:
        summed = got.sum(axis=0)
        if summed.size == want.size:
            summed = summed.reshape(want.shape)
            if close(summed, want, case):
                return ["bias-not-summed"], f"{where}; summing its rows gives the right answer"
            c = _scale_factor(summed, want, case)
            if c is not None:
                return ["bias-not-summed", "scale"], (
                    f"{where}; its rows summed are {_describe_factor(c, case)} times the answer"
                )
    return ["shape"], where


def compare_output(
    name: str,
    got: np.ndarray,
    want: np.ndarray,
    case: Case,
    bug_models: dict[str, list[dict[str, Any]]] | None = None,
) -> Comparison:
    """Judge one output; ``bug_models`` maps a code to the outputs that mistake would give."""
    want = np.asarray(want)
    if got.shape == want.shape and close(got, want, case):
        if want.dtype == np.float32 and got.dtype != np.float32:
            return Comparison(False, ["dtype"], f"{name}: dtype {got.dtype} where float32 is asked")
        kind = _kind_mismatch(got, want)
        if kind:
            return Comparison(False, ["dtype"], f"{name}: {kind}; the numbers themselves are right")
        return Comparison(True)
    exact: list[set[str]] = []  # the mistakes whose numbers this output shows exactly
    scaled: list[tuple[set[str], str, float]] = []  # ... times a telling factor
    for code, variants in (bug_models or {}).items():
        parts = set(code.split("+"))  # a model of two mistakes at once names both
        for outputs in variants:
            model = outputs.get(name)
            if model is None or np.shape(model) != got.shape:
                continue
            model = np.asarray(model)
            if not np.any(got) and np.any(model):
                continue  # exact zeros are `zeros`, not a mistake whose numbers are tiny
            if close(got, model, case):
                exact.append(parts)
            elif not close(model, want, case) and np.all(np.isfinite(model)):
                c = _scale_factor(got, model, case, telling_only=True)  # mistake and a factor
                if c is not None:
                    scaled.append((parts, code, c))
    # the fewest mistakes that explain the numbers: a pair is named only where no single
    # one of its mistakes explains them (at large gradients eps in or out looks the same)
    found = [p for p in exact if not any(q < p for q in exact)]
    codes: list[str] = [c for p in found for c in sorted(p)]
    notes: list[str] = []
    if got.shape != want.shape:
        more, note = _shape_codes(got, want, case, name)
    else:
        more, note = _value_codes(got, want, case, name)
    # a mistake times a factor is two mistakes: named only when no single mistake (a known
    # one, or a telling factor alone) gives the numbers; on one number any two counts have a
    # ratio. (1 - beta1 * t for 1 - beta1**t times m is the right step times -0.475: a known
    # mistake times 2 says more than that factor.) Fewest mistakes first, as for exact ones.
    one_factor = bool({"scale", "n-minus-1", "sign"} & set(more)) and _telling_factor(
        got, want, case
    )
    scaled = [t for t in scaled if not any(u[0] < t[0] for u in scaled)]
    factored: set[str] = set()
    for parts, code, c in scaled if not (exact or one_factor) else []:
        codes += [*sorted(parts), "sign" if _near(c, -1.0, case) else "scale"]
        factored |= parts
        notes.append(f"{code.replace('+', ' and ')} and {_describe_factor(c, case)} on top of it")
    if codes:  # a named mistake explains the numbers better than a factor does (an exact
        # negation stays named: a velocity of another convention, flipped by a sign slip)
        exact_sign = more == ["sign"]
        more = [c for c in more if c not in ("scale", "n-minus-1", "sign", "unstable", "zeros")]
        more += ["sign"] if exact_sign else []
        note = "; ".join([*notes, note] if note else notes)
    if got.dtype.kind in "biu" and want.dtype.kind == "f":
        more.append("dtype")
        note = f"{note}; " if note else ""
        note += f"integers ({got.dtype}) where floats are asked: astype(int), // or an int array"
    codes = most_specific_first(codes + more)  # each code once
    example = f"expected {_fmt(want)}, got {_fmt(got)}" + _first_wrong(got, want, case)
    detail = f"{name}: {note + '; ' if note else ''}{example}"
    return Comparison(False, codes, detail, factored)


def _telling_factor(got: np.ndarray, want: np.ndarray, case: Case) -> bool:
    """The answer is the right one times a factor a mistake typically makes (2, 1/N, -1)."""
    if got.shape != want.shape:
        return True
    c = _scale_factor(got, want, case)
    return c is None or _telling(c, case)


def _kind_mismatch(got: np.ndarray, want: np.ndarray) -> str:
    """Why the right numbers are of the wrong kind: integers or booleans where the contract
    asks for floats (a one-hot of ints), or floats where it asks for an int (a count)."""
    if want.dtype.kind == "f" and got.dtype.kind in "biu":
        what = "booleans" if got.dtype.kind == "b" else "integers"
        return f"{what} ({got.dtype}) where floats are asked"
    if want.dtype.kind in "iu" and got.dtype.kind == "f":
        return f"a float ({got.dtype}) where an integer is asked"
    return ""


def run_bug_models(models: tuple[BugModel, ...], case: Case) -> dict[str, list[dict[str, Any]]]:
    """The outputs each known mistake would give on this case (models that fail are skipped)."""
    out: dict[str, list[dict[str, Any]]] = {}
    for model in models:
        try:
            with np.errstate(all="ignore"):
                outputs = dict(model.outputs(case))
        except Exception:  # a mistake that cannot even run on this case explains nothing
            continue
        out.setdefault(model.code, []).append(outputs)
    return out
