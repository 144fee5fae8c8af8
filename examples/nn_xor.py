"""XOR learned to near-zero loss by a 2-8-1 tanh/sigmoid network with Adam.

    python examples/nn_xor.py [--out examples/out] [--no-plot]
"""

import argparse
from pathlib import Path

from tracegrad.nn import MLP, data, fit, predict


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).parent / "out"), help="directory for the plot")
    parser.add_argument("--no-plot", action="store_true", help="skip the loss-curve plot")
    args = parser.parse_args(argv)

    X, y = data.xor()
    net = MLP.stack([2, 8, 1], "tanh", "sigmoid", init="xavier", seed=1)
    history = fit(net, (X, y), "bce", "adam", epochs=300, lr=0.05)
    print("| epoch | loss (BCE) |\n| ---: | ---: |")
    for epoch in (1, 10, 50, 100, 200, 300):
        print(f"| {epoch} | {history.epoch_loss[epoch - 1]:.6f} |")
    print("\n| x | y | prediction |\n| --- | ---: | ---: |")
    for x, t, p in zip(X, y, predict(net, X)):
        print(f"| {x} | {t:g} | {p[0]:.4f} |")
    if not args.no_plot:
        from tracegrad.nn import plot

        Path(args.out).mkdir(parents=True, exist_ok=True)
        plot.loss_curves({"XOR 2-8-1": history}, Path(args.out) / "xor_loss.png", title="XOR: BCE per epoch")
        print(f"\nwrote {Path(args.out) / 'xor_loss.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
