"""Two-moons classification as in micrograd's demo: MLP(2, [16, 16, 1]), hinge loss with an
L2 penalty, SGD with a decaying learning rate, 100 full-batch steps; accuracy reported.

    python examples/nn_moons.py [--out examples/out] [--no-plot]
"""

import argparse
import time
from pathlib import Path

from tracegrad.nn import MLP, SGD, data, l2_penalty
from tracegrad.nn.losses import LOSSES


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(Path(__file__).parent / "out"), help="directory for the plot")
    parser.add_argument("--no-plot", action="store_true", help="skip the decision-boundary plot")
    parser.add_argument("--steps", type=int, default=100, help="training steps (default 100)")
    args = parser.parse_args(argv)

    X, labels = data.moons(100, noise=0.1, seed=0)
    y = [2.0 * t - 1.0 for t in labels]  # micrograd's demo uses labels −1 and +1
    model = MLP(2, [16, 16, 1], seed=1337)
    params = model.parameters()
    opt = SGD(params, lr=1.0)
    hinge = LOSSES["hinge"]
    start = time.perf_counter()
    print("| step | loss | accuracy |\n| ---: | ---: | ---: |")
    for k in range(args.steps):
        scores = model.batch(X)
        # micrograd: alpha·Σp² with alpha = 1e-4 is ½·λ·Σp² with λ = 2e-4
        total = hinge(scores, y) + l2_penalty(params, 2e-4)
        accuracy = sum((s[0].data > 0) == (t > 0) for s, t in zip(scores, y)) / len(y)
        opt.zero_grad()
        total.backward()
        opt.lr = 1.0 - 0.9 * k / args.steps
        opt.step()
        if k % 10 == 0 or k == args.steps - 1:
            print(f"| {k} | {total.data:.6f} | {accuracy:.0%} |")
    print(f"\n{args.steps} steps in {time.perf_counter() - start:.2f} s")
    if not args.no_plot:
        from tracegrad.nn import plot

        Path(args.out).mkdir(parents=True, exist_ok=True)
        target = Path(args.out) / "moons_boundary.png"
        plot.decision_boundary(model, X, labels, target, title="two moons: MLP(2, [16, 16, 1])")
        print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
