"""The diagnosis codes: one hint per code, and their order from the most specific (a named
mistake) to the most generic (a shape, a dtype). Each code has a section of docs/exercises.md
with its name (result.py links the hint to it)."""

from __future__ import annotations

__all__ = ["HINTS", "SPECIFICITY"]

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
    "(on z where the formula takes the output a, or the reverse, or another layer's output)",
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
    "axis": "a sum or max (softmax, log-sum-exp) runs over the wrong axis: rows are samples, so "
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
    "relu-capped": "a ReLU has no ceiling: np.clip(z, 0, 1) (or 6) cuts the large inputs "
    "down, max(z, 0) keeps them",
    "units-counted": "count the parameters, not the units: each layer has n_in * n_out "
    "weights and n_out biases; sum(layer_sizes) counts the neurons",
    "sigmoid-prime": "sigmoid' = a * (1 - a), the output times one minus the output: not "
    "a * (1 + a), not 1 - a",
    "label-term": "the BCE from logits is softplus(z) - y z: the label's term y z is "
    "subtracted (softplus(z) alone is the loss of labels all 0)",
    "precedence": "/ binds tighter than -: p - y / N divides y alone; write (p - y) / N",
    "one-entry-at-a-time": "move one entry of x at a time (x[i] += eps, then restore it): "
    "moving all of x at once gives every entry the same number",
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
    "relu-capped",
    "units-counted",
    "sigmoid-prime",
    "tanh-prime",
    "label-term",
    "signed-error",
    "precedence",
    "one-entry-at-a-time",
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
