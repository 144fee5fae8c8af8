"""Linear regression on features of very different scales, with and without z-score inputs.

The data: y = 2·x₁ − 3·x₂/100 + 0.5 + noise, x₁ of scale 1 and x₂ of scale 100. The same
learning rate that trains a linear unit on z-scored inputs makes it diverge on the raw ones,
and a rate small enough for the raw inputs barely moves the small-scale weight. The
z-scored model's weights are mapped back to the original units at the end.

    python examples/nn_regression.py [--out examples/out] [--no-plot]
"""

import argparse
from pathlib import Path

from tracegrad.core.errors import TraceGradError
from tracegrad.nn import MLP, SGD, Dense, data, evaluate, fit


def train(X, y, Xt, yt, lr):
    model = MLP.from_layers([Dense([0.0, 0.0], 0.0, "identity")])
    try:
        h = fit(model, (X, y), "mse", SGD(model.parameters(), lr=lr), epochs=30, batch_size=16,
                test=(Xt, yt), seed=0)
    except TraceGradError as err:
        return model, None, f"diverged: {err}"
    return model, h, f"{h.epoch_loss[-1]:.4g} | {evaluate(model, (Xt, yt), 'mse'):.4g}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).parent / "out"), help="directory for the plot")
    parser.add_argument("--no-plot", action="store_true", help="skip the loss-curve plot")
    args = parser.parse_args(argv)

    X, y = data.linear(400, weights=(2.0, -3.0), bias=0.5, scales=(1.0, 100.0), noise=0.1, seed=0)
    X_train, X_test, y_train, y_test = data.train_test_split(X, y, test_size=0.25, seed=0)
    scaler = data.StandardScaler().fit(X_train)  # fitted on the training data only
    Z_train, Z_test = scaler.transform(X_train), scaler.transform(X_test)

    runs = [("raw inputs, lr 0.05", X_train, X_test, 0.05), ("raw inputs, lr 1e-5", X_train, X_test, 1e-5),
            ("z-score inputs, lr 0.05", Z_train, Z_test, 0.05)]
    print("| inputs | train MSE | test MSE |\n| --- | ---: | ---: |")
    histories = {}
    for name, A, B, lr in runs:
        model, h, result = train(A, y_train, B, y_test, lr)
        print(f"| {name} | {result} |")
        if h is not None:
            histories[name] = h
    w1, w2, b = (p.data for p in model.parameters())  # the z-scored model (last run)
    (mu1, mu2), (s1, s2) = scaler.shift, scaler.scale
    print("\nz-scored weights mapped back to the original units (true: 2, -0.03, 0.5):")
    print(f"w₁ = {w1 / s1:.4f}, w₂ = {w2 / s2:.5f}, b = {b - w1 * mu1 / s1 - w2 * mu2 / s2:.4f}")
    if not args.no_plot:
        from tracegrad.nn import plot

        Path(args.out).mkdir(parents=True, exist_ok=True)
        plot.loss_curves(histories, Path(args.out) / "regression_loss.png", title="regression: MSE per epoch")
        print(f"\nwrote {Path(args.out) / 'regression_loss.png'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
