"""The ``handgrad`` command line. Thin: parse arguments, call the library, say where results are."""

from __future__ import annotations

import argparse
import sys

import numpy as np


def demo(args: argparse.Namespace) -> int:
    """Seed 000 end to end: a one-hidden-layer binary classifier on a 2-D toy set."""
    import handgrad as hg

    rng = np.random.default_rng(args.seed)
    n = 400
    X = rng.normal(size=(n, 2))
    y = (X[:, 0] ** 2 + X[:, 1] ** 2 < 1.2).astype(float)  # a disc: not linearly separable
    split = int(0.8 * n)

    model = hg.mlp([2, 16, 1], "tanh", seed=args.seed)
    loss = hg.BCEWithLogitsLoss()
    print(model.summary(), "\n")
    print("Gradient check (fourth-order central differences, float64):")
    print(hg.gradcheck(model, loss, X[:16], y[:16]), "\n")

    opt = hg.SGD(model.parameters(), lr=0.5)
    history = hg.fit(
        model,
        loss,
        opt,
        X[:split],
        y[:split],
        epochs=300,
        batch_size=32,
        seed=args.seed,
        validation_data=(X[split:], y[split:]),
        metrics=["accuracy"],
    )
    for epoch in (0, 9, 49, 99, 299):
        print(
            f"epoch {epoch + 1:>3}: train loss {history.epoch_loss[epoch]:.4f}  "
            f"held-out accuracy {history.val_metrics['accuracy'][epoch]:.3f}"
        )
    print(
        f"\nfinal held-out accuracy: {history.val_metrics['accuracy'][-1]:.1%} "
        f"on {n - split} points"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="handgrad", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("demo", help="train seed 000's binary classifier on a toy set")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=demo)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
