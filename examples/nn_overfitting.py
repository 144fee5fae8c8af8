"""Under- and overfitting (the document's section), measured on 20 noisy two-moons points.

A single linear unit underfits (high train and test loss). A 2-64-64-1 ReLU network overfits:
its train loss falls towards 0 while its test loss, after a minimum in the first epochs, rises.
An L2 penalty, dropout and data augmentation (the moons' point symmetry plus jitter) each
close part of the gap. All runs: Adam, lr 0.01, 100 epochs of full-batch descent, BCE from logits.
Takes a minute or two.

    python examples/nn_overfitting.py [--out examples/out] [--no-plot]
"""

import argparse
from pathlib import Path

from tracegrad.nn import MLP, data, evaluate, fit, predict

EPOCHS, LR, WIDTH = 100, 0.01, 64


def accuracy(model, X, y) -> float:
    return sum((p[0] > 0) == (t == 1) for p, t in zip(predict(model, X), y)) / len(y)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).parent / "out"), help="directory for the plot")
    parser.add_argument("--no-plot", action="store_true", help="skip the loss-curve plot")
    args = parser.parse_args(argv)

    X, y = data.moons(120, noise=0.3, seed=2)
    train, test = (X[:20], y[:20]), (X[20:], y[20:])
    # the two moons are symmetric through (0.5, 0.25) with the classes swapped
    mirrored = data.reflect(*train, axes=(0, 1), center=(0.5, 0.25), label_map={0: 1, 1: 0})
    augmented = data.jitter(*mirrored, sigma=0.2, copies=1, seed=0)
    large = [2, WIDTH, WIDTH, 1]
    runs = [
        ("too small: one linear unit", MLP.stack([2, 1], seed=0), train, {}),
        ("large", MLP.stack(large, "relu", seed=0), train, {}),
        ("large + L2 (λ = 0.01)", MLP.stack(large, "relu", seed=0), train, {"l2": 0.01}),
        ("large + dropout (p = 0.5)", MLP.stack(large, "relu", seed=0, dropout=0.5), train, {}),
        ("large + augmentation (×4)", MLP.stack(large, "relu", seed=0), augmented, {}),
    ]
    print("| model | train loss | test loss | gap | train acc. | test acc. | best test loss (epoch) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    histories = {}
    for name, model, data_, options in runs:
        h = fit(model, data_, "bce_logits", "adam", epochs=EPOCHS, lr=LR, test=test, **options)
        histories[name] = h
        tr, te = evaluate(model, train, "bce_logits"), evaluate(model, test, "bce_logits")
        best = min(range(EPOCHS), key=h.test_loss.__getitem__)
        print(f"| {name} | {tr:.3f} | {te:.3f} | {te - tr:.3f} | {accuracy(model, *train):.0%} | "
              f"{accuracy(model, *test):.0%} | {h.test_loss[best]:.3f} ({best + 1}) |")
    if not args.no_plot:
        from tracegrad.nn import plot

        Path(args.out).mkdir(parents=True, exist_ok=True)
        plot.loss_curves(histories, Path(args.out) / "overfitting_loss.png", title="train (solid) and test (dashed)")
        print(f"\nwrote {Path(args.out) / 'overfitting_loss.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
