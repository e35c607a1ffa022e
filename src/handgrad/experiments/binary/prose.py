"""Chapter 4's section: the network and its gradients, the check, the results."""

from __future__ import annotations

from ..base import fmt, lead, md_table, plural
from .measure import CHECK_ROWS, DISPLAY, HIDDEN, MOONS, TEST_FRACTION, Measured

LEAD = lead(
    "Can a network with one hidden layer, written with nothing but NumPy and "
    "gradients derived by hand, separate two classes that no straight line separates, "
    "and are those hand-derived gradients right?",
    "First the gradient-check table (every relative error should be tiny), then the "
    "decision boundaries in `binary_boundary.png`: ReLU builds its boundary from "
    "straight pieces, tanh draws a smooth curve.",
)


def _model() -> list[str]:
    """The forward pass with its shapes, the loss and the backward pass."""
    return [
        "The network, written as plain functions in `handgrad.reference.binary_classifier`:",
        r"$$z_1 = X W_1 + b_1,\qquad a_1 = f(z_1),$$",
        r"$$z_2 = a_1 W_2 + b_2,\qquad p = \sigma(z_2)$$",
        f"with $H = {HIDDEN}$ hidden units and $f$ = ReLU or tanh. Shapes for $N$ rows and "
        f"$D$ features: $X$ is $(N, D)$, $W_1$ is $(D, {HIDDEN})$, $b_1$ is $({HIDDEN},)$ "
        f"broadcast over the rows, $z_1$ and $a_1$ are $(N, {HIDDEN})$, $W_2$ is "
        f"$({HIDDEN}, 1)$, $b_2$ is $(1,)$, $z_2$ and $p$ are $(N, 1)$. The loss is the mean "
        "binary cross-entropy computed from the logit,",
        r"$$\ell = y \,\mathrm{softplus}(-z_2) + (1 - y)\,\mathrm{softplus}(z_2),$$",
        r"which never forms $\log p$ and so stays finite when $p$ rounds to 0 or 1; its "
        r"gradient with respect to $z_2$ is $(p - y)/N$. Backward follows the chain rule:",
        # two display lines, so each fits a phone's width
        r"$$\frac{\partial L}{\partial W_2} = a_1^\top \delta_2,\quad "
        r"\frac{\partial L}{\partial b_2} = \sum_n \delta_2,\quad "
        r"\delta_1 = (\delta_2 W_2^\top) \odot f'(z_1),$$",
        r"$$\frac{\partial L}{\partial W_1} = X^\top \delta_1,\quad "
        r"\frac{\partial L}{\partial b_1} = \sum_n \delta_1$$",
        r"with $\delta_2 = \partial L / \partial z_2$, $f'(z) = \mathbb{1}[z > 0]$ for ReLU "
        r"and $1 - \tanh^2 z$ for tanh. Training is full-batch gradient descent, "
        r"$\theta \leftarrow \theta - \eta\, g$, from He (ReLU) or Xavier (tanh) initial "
        "weights.",
    ]


def _data(m: Measured, quick: bool) -> str:
    bc = m.results["breast cancer/relu"]
    return (
        f"Data: two moons ({MOONS['n']} points, noise {MOONS['noise']}) and scikit-learn's "
        f"breast-cancer table ({bc['n_train'] + bc['n_test']} tumours, {bc['features']} "
        "features, label 1 = benign). Each is split with a seeded, stratified "
        f"{1 - TEST_FRACTION:.0%}/{TEST_FRACTION:.0%} split and standardized with the mean "
        "and standard deviation of its training part only, so nothing about the held-out "
        "rows leaks into training."
        + (" Quick mode: fewer epochs than the full run." if quick else "")
    )


def _gradient_check(m: Measured) -> list[str]:
    rows = [
        [
            c["dataset"],
            c["activation"],
            c["parameter"],
            "×".join(map(str, c["shape"])),
            c["checked"],
            f"{c['max_rel_error']:.1e}",
            "yes" if c["passed"] else "NO",
        ]
        for c in m.checks
    ]
    header = ["data", "activation", "parameter", "shape", "entries", "max rel error", "passed"]
    verdict = (
        "every hand-derived gradient agrees with the finite differences."
        if m.check_ok
        else "at least one gradient disagrees with the finite differences."
    )
    return [
        "### Gradient check (Part 5)",
        f"At the initial weights (with small random biases), on {CHECK_ROWS} training rows, "
        "each analytic gradient was compared with fourth-order central differences of the "
        "mean BCE (`handgrad.gradcheck` with a callable; for ReLU the step is chosen so no "
        "perturbation crosses a kink).",
        md_table(header, rows),
        f"Largest relative error over all {len(m.checks)} parameter arrays: "
        f"{m.check_max:.1e} — " + verdict,
    ]


def _results_table(m: Measured) -> str:
    header = ["data", "activation", "lr", "epochs", "loss: first → last", "train acc.",
              "held-out acc."]  # fmt: skip
    rows = [
        [
            r["dataset"],
            r["activation"],
            f"{r['lr']:g}",
            f"{r['epochs']:,}",
            f"{fmt(r['first_loss'])} → {fmt(r['final_loss'])}",
            f"{r['train_accuracy']:.1%}",
            f"{r['test_accuracy']:.1%} of {r['n_test']}",
        ]
        for r in m.results.values()
    ]
    return md_table(header, rows)


def _comparison(a: dict, b: dict, dname: str) -> str:
    """One sentence: ReLU (``a``) vs tanh (``b``) on one data set."""
    if a["test_accuracy"] == b["test_accuracy"]:
        cmp = f"ReLU and tanh tie on held-out accuracy ({a['test_accuracy']:.1%})"
    else:
        win, lose = (a, b) if a["test_accuracy"] > b["test_accuracy"] else (b, a)
        diff = round((win["test_accuracy"] - lose["test_accuracy"]) * win["n_test"])
        cmp = (
            f"{DISPLAY[win['activation']]} is ahead on held-out accuracy "
            f"({win['test_accuracy']:.1%} vs {lose['test_accuracy']:.1%}, "
            f"{diff} of {win['n_test']} points)"
        )
    lower = "ReLU" if a["final_loss"] < b["final_loss"] else "tanh"
    return (
        f"On {dname}, {cmp}; {lower} reached the lower training loss "
        f"({fmt(min(a['final_loss'], b['final_loss']))} vs "
        f"{fmt(max(a['final_loss'], b['final_loss']))})."
    )


def _breast_cancer_and_shapes(m: Measured) -> str:
    r = m.results
    accuracies = (
        r["breast cancer/relu"]["test_accuracy"],
        r["breast cancer/tanh"]["test_accuracy"],
    )
    bc_best, bc_worst = max(accuracies), min(accuracies)
    n_test = r["breast cancer/relu"]["n_test"]
    gap = round((bc_best - bc_worst) * n_test)
    return (
        f"On breast cancer both reach {bc_worst:.1%} or better on the {n_test} held-out "
        "tumours; "
        + (
            f"a gap of {plural(gap, 'tumour')} out of {n_test}, "
            "from one split and one initialization, is too small to rank the two "
            "activations on this table."
            if gap <= 2
            else "the gap is larger than a couple of tumours."
        )
        + (
            f" The ReLU networks ended with {r['moons/relu']['dead_units']} (moons) and "
            f"{r['breast cancer/relu']['dead_units']} (breast cancer) of {HIDDEN} "
            "hidden units inactive on every training row ('dead' units, which receive no "
            "gradient)."
        )
        + " The decision boundaries on the moons (`binary_boundary.png`) show the "
        "difference in shape: ReLU's boundary is built from straight pieces, tanh's is "
        "smooth; `binary_loss.png` shows the training curves."
    )


def section(m: Measured, quick: bool) -> str:
    comparisons = [
        _comparison(m.results[f"{d}/relu"], m.results[f"{d}/tanh"], d) for d in m.datasets
    ]
    md = [
        LEAD,
        *_model(),
        _data(m, quick),
        *_gradient_check(m),
        "### Results",
        _results_table(m),
        " ".join(comparisons),
        _breast_cancer_and_shapes(m),
    ]
    return "\n\n".join(md)
