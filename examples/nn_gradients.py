"""Vanishing and exploding gradients (the document's section), measured.

Part 1: the gradient norm per layer of a 10-hidden-layer network at initialisation, on one
batch of two-moons data: sigmoid (vanishes towards the input), ReLU, sigmoid with residual
connections and sigmoid with BatchNorm. Part 2: a ReLU network initialised three times too
large explodes; gradient clipping keeps training finite and a smaller initialisation fixes it.

    python examples/nn_gradients.py [--out examples/out] [--no-plot]
"""

import argparse
from pathlib import Path

from tracegrad.core.errors import TraceGradError
from tracegrad.nn import MLP, data, fit, gradient_norms
from tracegrad.nn.diagnostics import format_norms
from tracegrad.nn.losses import LOSSES

DEPTH, WIDTH = 10, 10
SIZES = [2] + [WIDTH] * DEPTH + [1]


def vanishing(X, y) -> dict:
    nets = {
        "sigmoid (Xavier)": MLP.stack(SIZES, "sigmoid", init="xavier", seed=0),
        "ReLU (He)": MLP.stack(SIZES, "relu", init="he", seed=0),
        "sigmoid + residual": MLP.stack(SIZES, "sigmoid", init="xavier", seed=0, residual=True),
        "sigmoid + BatchNorm": MLP.stack(SIZES, "sigmoid", init="xavier", seed=0, batchnorm=True),
    }
    rows = {}
    for name, net in nets.items():
        LOSSES["bce_logits"](net.batch(X), y).backward()
        rows[name] = gradient_norms(net)
    return rows


def exploding(X, y) -> list:
    rows = []
    for name, gain, clip in [("He × 3", 3.0, None), ("He × 3, clip ‖g‖ ≤ 1", 3.0, 1.0), ("He × 1", 1.0, None)]:
        net = MLP.stack(SIZES, "relu", init="he", gain=gain, seed=0)
        LOSSES["bce_logits"](net.batch(X), y).backward()
        first = gradient_norms(net)[1]
        net.zero_grad()
        try:
            h = fit(net, (X, y), "bce_logits", "sgd", epochs=20, lr=0.01, clip_norm=clip)
            result = f"{h.epoch_loss[0]:.4g} → {h.epoch_loss[-1]:.4g}"
        except TraceGradError as err:
            result = f"diverged: {err}"
        rows.append((name, first, result))
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).parent / "out"), help="directory for the plot")
    parser.add_argument("--no-plot", action="store_true", help="skip the gradient-norm plot")
    args = parser.parse_args(argv)

    X, y = data.moons(64, noise=0.1, seed=0)
    rows = vanishing(X, y)
    print(f"Gradient norm ‖∂L/∂θ‖ per layer at initialisation ({DEPTH} hidden layers of {WIDTH}, "
          f"layer 1 nearest the input):\n")
    print(format_norms(rows))
    print("\nExploding: ReLU network, SGD lr 0.01, 20 epochs of full-batch descent:\n")
    print("| initialisation | ‖∂L/∂θ‖ of layer 1 at start | loss, first → last epoch |\n| --- | ---: | --- |")
    for name, first, result in exploding(X, y):
        print(f"| {name} | {first:.3e} | {result} |")
    if not args.no_plot:
        from tracegrad.nn import plot

        Path(args.out).mkdir(parents=True, exist_ok=True)
        plot.gradient_norms(rows, Path(args.out) / "gradient_norms.png")
        print(f"\nwrote {Path(args.out) / 'gradient_norms.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
