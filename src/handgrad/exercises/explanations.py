"""The explanations behind each hint, shipped with the package (a learner's course folder
has no docs/): ``explain("scale")``, ``explain("mse")``, ``handgrad exercise explain scale``.

``TEXT`` is the "Formulas" and "Diagnoses" sections of the project's docs/exercises.md, word
for word (a test keeps the two equal); a section is found by its heading's anchor, the name
a hint or a result shows (a diagnosis code, or an exercise's formula section).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

__all__ = ["Explanation", "explain", "sections", "TEXT"]


def anchor(heading: str) -> str:
    """The anchor of a Markdown heading, as GitHub makes it: "`n-minus-1`" -> "n-minus-1"."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def sections() -> dict[str, tuple[str, str]]:
    """anchor -> (heading, Markdown body) for every "###" section of TEXT."""
    found: dict[str, tuple[str, str]] = {}
    for chunk in re.split(r"^### ", TEXT, flags=re.M)[1:]:
        heading, _, body = chunk.partition("\n")
        body = re.split(r"^## ", body, flags=re.M)[0]
        found[anchor(heading)] = (heading.strip(), body.strip())
    return found


@dataclass(frozen=True)
class Explanation:
    """One section: prints as text, shows as HTML in a notebook."""

    name: str
    heading: str
    body: str

    def __str__(self) -> str:
        return f"{self.heading.replace('`', '')}\n\n{self.body}"

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        return f"<div>{markdown_html(f'#### {self.heading}')}{markdown_html(self.body)}</div>"


def markdown_html(text: str) -> str:
    """Our own Markdown (never a learner's) as HTML; escaped text if markdown-it is missing."""
    try:
        from markdown_it import MarkdownIt
    except ImportError:  # pragma: no cover - a core dependency
        return f'<pre style="white-space:pre-wrap">{html.escape(text)}</pre>'
    return MarkdownIt("commonmark", {"html": False}).enable("table").render(text)


def explain(name: str) -> Explanation:
    """The explanation of a diagnosis code ("scale") or of an exercise's formulas ("mse")."""
    known = sections()
    key = anchor(name)
    if key not in known:
        from .catalogue import all_exercises

        docs = {e.name: e.doc for e in all_exercises()}
        key = docs.get(name, key)
    if key not in known:
        raise ValueError(
            f"nothing to explain under {name!r}; choose a diagnosis or an exercise: "
            f"{', '.join(sorted(known))}"
        )
    heading, body = known[key]
    return Explanation(key, heading, body)


TEXT = """\
## Formulas

Rows are samples: X is (N, D), a layer computes z = X W + b with W (in, out) — except the
`linear` exercise's layer, whose W is (out, in) and which computes x Wᵀ + b.

### ReLU and its gradient
relu(z) = max(z, 0); dL/dz = dz · 1[z > 0]. The derivative at exactly 0 is taken as 0,
and it is read from the input z: a mask built from the output with `>= 0` is all ones.

### One-hot
Row n of the (N, C) result has a single 1, in column y[n]. C comes from the caller, not
from the labels seen (a batch may miss a class).

### Softmax
softmax(z)_j = exp(z_j − m) / Σ_k exp(z_k − m) with m = max_k z_k, per row. Subtracting
m changes nothing mathematically and keeps every exponential in (0, 1]. Each row needs its
own m (`z.max(axis=1, keepdims=True)`): one m for the whole batch leaves a row far below
it with every exponential 0.

### Sigmoid and tanh
σ(z) = 1 / (1 + e^{−z}); for z < 0 write it e^{z} / (1 + e^{z}) so nothing overflows.
Given the output a = σ(z): σ'(z) = a (1 − a). Given a = tanh(z): tanh'(z) = 1 − a².

### MSE
mean((ŷ − y)²) over all entries, no factor 1/2.

### L2 penalty
R = (λ/2) Σ w², ∂R/∂w = λ w (the convention with the 1/2).

### Binary cross-entropy from logits
l = softplus(z) − y z = max(z, 0) − y z + log1p(e^{−|z|}), mean over the N samples;
∂L/∂z = (σ(z) − y) / N.

### Softmax cross-entropy from logits
l_n = logsumexp(z_n) − z_n[y_n], mean over samples; ∂L/∂z = (softmax(z) − onehot(y)) / N.

### Counting parameters
Σ over layers of (n_in · n_out + n_out): [10, 64, 3] → 640 + 64 + 192 + 3 = 899.

### The binary classifier: forward and backward
z1 = X W1 + b1, a1 = f(z1), z2 = a1 W2 + b2, p = σ(z2); with the mean BCE:
dz2 = (p − y)/N (N, 1); dW2 = a1ᵀ dz2 (H, 1); db2 = Σ_n dz2 (1,);
da1 = dz2 W2ᵀ; dz1 = da1 ⊙ f'(z1) (N, H); dW1 = Xᵀ dz1 (D, H); db1 = Σ_n dz1 (H,).
Write dz2 = p − y directly: going through ∂L/∂p = −y/p + (1 − y)/(1 − p) and then
multiplying by p(1 − p) is the same in exact arithmetic and 0/0 when p rounds to 0 or 1.

### Gradient descent
θ ← θ − η g, as new arrays.

### Gradient checking
n_i = (f(x + ε e_i) − f(x − ε e_i)) / (2ε), restoring x_i after each probe; the relative
error |a_i − n_i| / max(|a_i|, |n_i|, 10⁻⁸), its maximum over i. A right gradient gives
about 10⁻⁸ or less in float64 on the check's smooth function; a wrong one, far more. The
check also asks your checker to reject a gradient 2× too large, one with its sign flipped,
one with a single wrong entry. (handgrad's own `gradcheck` decides differently, per entry
and scale-aware: `help(handgrad.gradcheck)`, and docs/gradcheck.md in the project.)

### backprop of a sigmoid network
As the binary classifier with a sigmoid hidden layer and the loss **summed** over the m
samples: dz2 = A − Y; dz1 = (dz2 W2ᵀ) ⊙ a1 (1 − a1); db1 is (1, H) and db2 (1, 1).

### A Linear layer
y = x Wᵀ + b; dW = doutᵀ x (out, in); db = Σ_n dout (out,); dx = dout W.

### SGD with momentum
The velocity is the step: v ← μ v − η g; w ← w + v.

### Adam
m ← β1 m + (1 − β1) g; v ← β2 v + (1 − β2) g²; m̂ = m / (1 − β1ᵗ); v̂ = v / (1 − β2ᵗ);
w ← w − η m̂ / (√v̂ + ε), with t = 1 at the first step. Return m and v (the running
averages), not m̂ and v̂.

### NeuralNetwork and MultiClassNN
ReLU hidden layers; a sigmoid output with the mean BCE (binary) or a softmax output with
the mean cross-entropy (multi-class). For both, the output delta is (output − target)/N,
and each layer's gradient uses the delta *of that layer*, going backwards; a layer is
updated only after its delta has been passed down through its current weights.

### Confusion matrix
C[i, j] = the number of samples of true class i predicted as class j: rows the truth,
columns the prediction, an (n_classes, n_classes) integer array whatever classes the batch
holds. Its diagonal holds the right answers (trace / N is the accuracy), row i sums to the
samples of class i. Count each pair, repeated pairs included: `np.add.at(C, (y_true,
y_pred), 1)`, a loop, or `np.bincount(n_classes * y_true + y_pred, minlength=n_classes**2)`.

### Ridge loss and its gradients
For z = X W + b and r = z − y (N, 1): L = (1/N) Σ r² + λ Σ W², the loss Keras minimizes with
`loss="mse"` and `kernel_regularizer=L2(λ)` (handgrad: `MSELoss` + `L2Penalty(λ, "full")`);
∂L/∂W = (2/N) Xᵀ r + 2 λ W, ∂L/∂b = (2/N) Σ r. No 1/2 in the MSE, none in the penalty, no
penalty on the bias. The λ/2 convention, (λ/2) Σ W² with gradient λ W, gives this model only
with its λ doubled.

## Diagnoses

Each failing case lists every code that fits (several may: a case can show two bugs),
most specific first — a named mistake before a structural one (`bias-not-summed`,
`transpose`), before a generic `sign` or `scale` — with the failing output's expected and
received values on its first entries (and, when those look right or the inputs are
extreme, the first wrong entry with the input there, or a loss's largest input), and a
hint whose explanation is the section of the same name here. A named mistake times a
factor (two mistakes) is named only when no single mistake or factor gives the numbers.
An answer that changes its inputs in place is reported as `mutates-input`, and what it
returned at each step is still judged as returned (never the arrays as they ended up).
No code means the numbers matched no known pattern; then the plain comparison is all
there is.

### `scale`
Right direction, wrong size: the answer is c times the right one for a single constant
c, reported with its value and named when it is N, 1/N, 2 or 1/2 — usually a mean where
the contract says sum (`backprop`) or the reverse, or a missing or extra 1/2. Also named
on top of another mistake when the answer is that mistake times N, 1/N, 2 or 1/2. On an
answer that is a single number, any two numbers have a ratio: a factor found there is
named only if the other cases, where the answer is wrong too, show a factor as well (else
the case says it is a coincidence).

### `n-minus-1`
A mean divided by N − 1 instead of N: the answer is N/(N − 1) times the right one (10/9 on
ten samples), and a single sample divides by zero (inf, or a ZeroDivisionError). Dividing
by N − 1 (Bessel's correction) makes the *sample variance* an unbiased estimate of a
population's variance; a mean loss and its gradient average over the N samples of the
batch and divide by N. The cases use batch sizes where N/(N − 1), N, 2 and 1/2 differ; on
two samples a sum and a division by N − 1 give the same factor 2, and the message says so.

### `transpose`
The answer's transpose is right (or right up to a factor, then with `scale`): a product
written in the wrong order, e.g. `dz1.T @ X` for `X.T @ dz1`. Write each factor's shape
down; rows are samples.

### `sign`
The answer is the right one negated: y − p for p − y, or θ + η g.

### `relu-kink`
Wrong only where the ReLU input is ≤ 0: `z >= 0` where `z > 0` is meant, or a mask
taken from the output a = relu(z) with `a >= 0` (always true). Cases put ReLU inputs at
exactly 0 to see this.

### `derivative-forgotten`
The hidden activation's derivative is left out of the backward pass: `dz1 = dz2 @ W2.T`
where `dz1 = (dz2 @ W2.T) * f'(z1)` is meant — ReLU's mask `z1 > 0`, tanh's `1 - a1**2`,
the sigmoid's `a1 * (1 - a1)`. (A ReLU mask that is never 0, `a1 >= 0`, gives the same
numbers.)

### `output-derivative`
The output sigmoid's derivative multiplied in again: `dz2 = (p - y) * p * (1 - p)`. With
cross-entropy on the logits, `dL/dz2 = p - y` already contains σ'(z2): the p(1 − p)
cancels against the loss's 1/(p(1 − p)). The extra factor belongs to a squared error; here
it shrinks every gradient, to nothing where the output saturates.

### `activation-derivative`
The activation's derivative evaluated at the wrong quantity: σ(a)(1 − σ(a)) or
1 − tanh(a)² on the output a (formulas for z), or a(1 − a) and 1 − z² on z (formulas
for the output).

### `bias-shape`
A bias gradient with the right numbers in the wrong shape — (H,) where (1, H) is asked,
or the reverse. Give each gradient its parameter's shape. Or a bias made a column
(H, 1) (`b.reshape(-1, 1)`, `b[:, None]`): added to the (N, H) pre-activations it cannot
broadcast ("could not be broadcast together with shapes (N,H) (H,1)"); a bias of shape
(H,) or (1, H) is added to every row.

### `bias-not-summed`
A bias gradient left per sample, (N, H): the bias is added to every row, so its gradient
is the sum of the rows (with the 1/N of a mean already in the delta).

### `order`
A layer's gradient computed from another layer's delta (the output layer's dW2 from the
hidden delta, or dW1 from the output delta), or a layer updated before its delta is
passed down, so the layers below see a delta propagated through the *new* weights (in
`fit` for both classes). Go backwards: output delta, its layer's gradients, propagate
through the current W and the activation, and update after.

### `adam-bias-correction`
One or both of Adam's bias corrections are missing. The numbers at step t = 1, with
β1 = 0.9, β2 = 0.999, and a step of η · sign(g) when both are there:

| corrections | first step |
| --- | --- |
| both (right) | η |
| neither | η · 0.1/√0.001 ≈ **3.16 η** (too large) |
| m only | η · 1/√0.001 ≈ 31.6 η (too large) |
| v only | η · 0.1 = η/10 (too small) |

It is often said that the first step without bias correction is "10× smaller"; that holds
only when v is corrected and m is not. With both corrections missing the two errors
partly cancel and the first step is about 3.16× too **large**; the check reports the
factor it measures. A correction written `1 - beta1 * t` for `1 - beta1 ** t` is right at
t = 1 only: at t = 2 it divides by 1 − 1.8 < 0 (and v's by 1 − 1.998, a NaN under the root).

### `adam-second-moment`
v is the running average of the **squared** gradient, `v <- beta2 * v + (1 - beta2) * grad**2`.
Averaging the gradient itself makes v a second copy of m, negative where the gradient is,
and √v̂ NaN there.

### `adam-step-count`
The corrections use the wrong step count: 1 − βᵗ⁺¹ (a counter incremented once too often,
or a 0-based loop index plus one too many) makes the first steps too small; 1 − βᵗ⁻¹ is
0 at the first step and the update is NaN. t is 1 at the first step.

### `adam-returns-corrected`
The function returned m̂ and v̂ as the new state. They are for this step's update only:
fed back, the next step corrects them again and the steps drift. The result shows the
expected and received m and v of every step (`m1`, `v1`, …).

### `adam-epsilon`
ε inside the square root, √(v̂ + ε): with ε = 10⁻⁸ that adds 10⁻⁴ to a denominator which
is itself about |g|, so it matters exactly when gradients are small (one case has
gradients of about 10⁻⁴). Write √v̂ + ε.

### `momentum-convention`
The velocity follows another convention than the contract's: v ← μ v + g with w ← w − η v
(PyTorch's; the weights agree, the velocity is −v/η), v ← μ v + η g with w ← w − v,
or a damped v ← μ v + (1 − μ) g, which changes the weights too.

### `zeros`
The answer is all zeros where the right one is not: a gradient left at `np.zeros(...)` and
never filled in (a forgotten bias gradient), or an integer division such as `1 // N`,
which is 0 for every N > 1 (write `1 / N`, or divide by N).

### `keepdims`
An array of shape (N, C) met one of shape (N,): NumPy raises "could not be broadcast", or
a column (N, 1) against a vector (N,) spreads into an (N, N) matrix. Most often an axis
was lost on the way: `e.sum(axis=1)` is (N,), and `keepdims=True` keeps it as (N, 1). Or
labels (N,) stand where one-hot rows (N, C) belong (`softmax(z) - y` needs `one_hot(y)`),
or where a column (N, 1) does: give labels and outputs the same shape before subtracting.

### `axis`
A softmax (or its log-sum-exp) taken over axis 0, the samples, instead of axis 1, each
row's C classes, or over every entry at once (`e / e.sum()` with no axis). Rows are
samples: each row's probabilities sum to 1.

### `bias-forgotten`
The biases are left out: a layer computes X W + b, not X W (the forward pass), and a
count of parameters has n_out biases per layer beside its n_in · n_out weights.

### `bias-count`
The biases are counted, but not as many as there are: one per unit a layer *outputs*
(n_out), none for the input layer. `a * b + a` counts one per input instead, and adding
`sum(sizes)` gives the inputs biases too.

### `off-by-one`
One too few or too many. Layers: n sizes make n − 1 layers, one between each pair of
neighbouring sizes (`zip(sizes[:-1], sizes[1:])`). Labels: the labels 0 … C − 1 are the
column indices themselves; `y - 1` (labels read as 1-based) puts each 1 a column to the
left, and label 0 in the last column (index −1).

### `row-index`
`out[:, y] = 1` sets the column of *every* label in *every* row. Index rows and columns
as pairs, `out[np.arange(N), y] = 1`, so row n gets a 1 in column y[n] only.

### `exp-sign`
The answer is σ(−z) = 1 − σ(z), the probability of the other class: right at z = 0 and
mirrored everywhere else. σ(z) = 1 / (1 + e^{−z}); the sign inside the exponential is
flipped in 1 / (1 + e^{z}), and e^{−z} / (1 + e^{−z}) puts the wrong term on top (the
stable form for z < 0 is e^{z} / (1 + e^{z})).

### `tanh-via-sigmoid`
tanh and the sigmoid differ by a factor 2 in the argument: tanh(z) = 2σ(2z) − 1 and
σ(z) = (1 + tanh(z/2)) / 2. For tanh, 2σ(z) − 1 is tanh(z/2), right in sign and at 0 but
too flat, and σ(2z) alone (the 2 (·) − 1 left out) is (1 + tanh(z)) / 2, between 0 and 1.
For the sigmoid, (1 + tanh(z)) / 2 is σ(2z), too steep.

### `batch-max`
The max subtracted before exp is the whole batch's, `z.max()`, where each row needs its
own, `z.max(axis=1, keepdims=True)`. It passes while the rows are close, but a row far
below the batch's max, [−800, −800, −800] beside [800, 0, 0], has every exponential
underflow to 0: its softmax is 0 / 0 = NaN and its log-sum-exp log(0) = −inf.

### `leaky-relu`
A leaky ReLU, z for z > 0 and a small slope a·z below (a = 0.01, 0.1, 0.2 …), where ReLU
is asked: max(z, 0) is exactly 0 for every z ≤ 0. Named for the usual slopes 0.01, 0.02,
0.05, 0.1, 0.2 and 0.3.

### `initialization`
A fresh `NeuralNetwork` or `MultiClassNN` not drawn as its contract says: the weights must
come from `np.random.default_rng(seed)` (two networks made with the same seed are the same;
`np.random.randn` or `default_rng()` without the seed are not), at He's scale, normal ·
√(2/n_in), the scale that keeps a ReLU layer's outputs about as large as its inputs. Unscaled
draws (std 1) make the logits grow with every layer's width; Xavier's √(1/n_in) is 0.71 of
He's. The check measures the first layer's std (known to 0.3 % from its 300 × 200 weights) and
allows 10 %.

### `l1-for-l2`
The L1 penalty, λ Σ |w| with gradient λ sign(w) (or either with the 1/2), where the
contract asks for L2: (λ/2) Σ w², whose gradient λ w shrinks each weight in proportion to
its size instead of by a constant.

### `other-derivative`
The derivative of the other activation, both given the output a: σ' = a (1 − a) for
the sigmoid, tanh' = 1 − a² for tanh.

### `activation-forgotten`
An activation is missing: the hidden layer's a1 = f(z1) (without it, two linear layers
are one linear layer), or the output's p = σ(z2) (then p is a logit, not a
probability).

### `output-activation`
The hidden activation is applied to the output layer too. z2 = a1 W2 + b2 is the logit
and stays linear; only p = σ(z2) follows it (a ReLU there turns every negative logit
into 0, and its p into 0.5).

### `activation-argument`
The `activation` argument is not followed: the same f is used for 'relu' and 'tanh'
(a hard-coded choice, or a test of the string that never matches).

### `labels-seen`
The matrix is sized by the labels the batch happens to hold (the largest one + 1, or the
number of distinct ones) instead of the n_classes given: a class missing from the batch
shrinks it, and with distinct labels renumbered, row 3 is no longer class 3.

### `normalized`
Fractions where counts are asked: each row (or column, or the whole matrix) divided by its
sum. A confusion matrix counts; the rate of each class recognized (its recall) is read from
it afterwards, C[i, i] / C[i].sum(), and a class with no sample has no rate (0 / 0).

### `repeated-index`
`C[y_true, y_pred] += 1` with arrays of indices adds 1 once per distinct (i, j) pair,
however often the pair occurs: NumPy evaluates `C[idx] + 1` first and then assigns it, so the
repeats write the same value. `np.add.at(C, (y_true, y_pred), 1)` adds once per occurrence,
and so does a loop over the samples.

### `l2-convention`
The other L2 convention: (λ/2) Σ W² with gradient λ W where the contract asks for Keras's
λ Σ W² with gradient 2 λ W (or the reverse). Both are right in their own convention; at the
same λ one penalizes twice as hard, so two frameworks disagree until λ is translated.

### `bias-penalized`
The bias is penalized with the weights: λ b² in the loss, 2 λ b in db. Keras's
kernel_regularizer, like handgrad's `L2Penalty`, reads the kernel W alone: shrinking the
bias would pull every prediction towards 0, not the model towards simplicity.

### `mse-half`
The MSE's gradient is half the right one: the derivative of r² is 2 r, so
∂/∂z mean(r²) = 2 r / N. Some books define the squared error with a 1/2 so that the 2
cancels; that is another loss, half of this one, and with it the same learning rate takes
steps half as long.

### `penalty-gradient`
The penalty is in the loss but its gradient is left out of dW: the model then trains
without regularization while the loss it reports includes the penalty.

### `product-shapes`
A matrix product whose inner sizes differ (NumPy: "mismatch in its core dimension", "not
aligned"). Rows are samples, so a layer is X @ W, (N, D) @ (D, H) → (N, H); W @ X is the
column convention of some textbooks. Write each factor's shape down and look for the
order, or a `.T` missing or extra.

### `one-sided-difference`
One-sided differences, (f(x + ε e_i) − f(x)) / ε or (f(x) − f(x − ε e_i)) / ε, where the
contract asks for central ones, (f(x + ε e_i) − f(x − ε e_i)) / (2ε). The one-sided
error grows like ε times the second derivative (about 10⁻⁵ here), the central one like
ε² times the third (about 10⁻¹⁰): a checker built on one-sided differences cannot tell
a right gradient from a slightly wrong one.

### `ignores-input`
A wrong output stays exactly the same when one of the inputs changes (the check calls
the answer again with that input changed twice, once scaled and once with its signs
flipped), while the right output changes with it: the answer does not read that
argument. Most often a global variable stands in its place — a notebook's `W1` or `lr`
from an earlier cell, where the function should use its parameter — or another
argument is used twice (`dz > 0` for the mask where `z > 0` is meant). Outputs that are
constant (all zeros), not finite, or explained by a named mistake are not judged this way.
A number between 0 and 1 (a momentum, a rate) is changed to others between 0 and 1, where
it is still valid. The classes are run again the same way on their ordinary cases: a
learning rate or a momentum fixed in the class (`self.lr = 0.01`) instead of the one given
to the constructor, weights kept under another name (`self.W`) so that the ones the check
sets in `self.weights` are never used, or `predict` thresholding at 0.5 whatever threshold
it is given. A fresh network with the same weights for seeds 0 and 1: the seed is not
passed to `np.random.default_rng(seed)`.

### `not-an-array`
A Python list (or tuple) where the contract asks for a NumPy array, e.g. from a list
comprehension. Its numbers are judged as `np.array` of it, but the code that calls it
cannot use it: a list has no `.shape` or `.dtype`, `+` joins two lists, and `*` repeats
one. Compute on the whole array with NumPy, or wrap the list in `np.array(...)`.

### `missing-return`
The function returned None: its last line computes the answer but does not `return` it
(or a branch ends without a `return`).

### `unstable`
NaN or inf where every true value is finite, or wrong only on extreme inputs (logits of
±800, outputs saturated at 0 or 1): exp overflowed, log met 0, or a gradient went through
∂L/∂p = −y/p + (1 − y)/(1 − p) and met 0/0. Shift by the max (softmax), compute the loss
from the logits (softplus, log-sum-exp) instead of log(p), and write the output delta as
p − y (or softmax − one-hot) directly. "Wrong only on extreme inputs" is claimed only when
the ordinary cases pass: an answer that is wrong everywhere (a stable formula with a wrong
factor) fails its extreme case too, without this code.

### `mutates-input`
The caller's arrays changed: an in-place `-=`, `*=` or masked assignment on an argument,
or a finite-difference probe not restored. Work on new arrays or copies. A probe restored
by stepping back (`x[i] += eps`, then `-= 2 * eps`, then `+= eps`) leaves some entries off
in their last digit, because x + eps − eps is not always x in floating point; the message
then says "only in its last digits". Keep the old value and assign it back.

### `shape`
The result's shape differs from the contract's — (N,) where (N, 1) is asked, a per-column
loss where a number is asked, a one-hot matrix sized by the labels seen, or `predict`
returning a column (N, 1) where (N,) is asked (compared with labels (N,) it broadcasts into
(N, N) and the accuracy is wrong).

### `dtype`
float32 in, float64 out: something (a `float` literal array, `astype(float)`, a
float64 mask) upcast the result. The contract keeps the input's dtype. Under NumPy 2 a
NumPy float64 *scalar* upcasts too: `w * np.power(beta1, t)`, `w / np.sqrt(2.0)` or
`np.float64(lr) * grad` give float64 for a float32 `w`, where the same constant as a
Python float (`beta1 ** t`, `math.sqrt(2.0)`, `lr`) keeps float32. Right numbers of the
wrong kind are `dtype` too: a one-hot of ints or booleans where the contract asks for a
float array, a parameter count as a float where it asks for an int, `predict` giving
booleans or floats where it asks for integer classes.

"""
