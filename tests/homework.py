"""The seed problem's homework worked by hand in plain Python, for the classroom's tests: the correct
numbers, and a student's with three mistakes (an arithmetic slip, a sign error, and numbers carried
from them), each written as a person writes it (4 decimals, half away from zero, from the student's
own earlier rounded numbers). Nothing here calls tracegrad."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

X, Y, LR = (1.0, 2.0), 0.5, 0.1
W1, B1 = ((0.5, 0.6), (0.7, 0.8)), (0.1, 0.2)
W2, B2 = (0.9, 0.1), 0.3
KEYS = ("z1[0]", "z1[1]", "a1[0]", "a1[1]", "z2", "y_hat", "loss", "dL/dy_hat", "da2/dz2", "delta2", "dL/dW2[0]",
        "dL/dW2[1]", "dL/db2", "dL/da1[0]", "dL/da1[1]", "da1/dz1[0]", "da1/dz1[1]", "delta1[0]", "delta1[1]",
        "dL/dW1[0][0]", "dL/dW1[0][1]", "dL/dW1[1][0]", "dL/dW1[1][1]", "dL/db1[0]", "dL/db1[1]", "W2_new[0]",
        "W2_new[1]", "b2_new", "W1_new[0][0]", "W1_new[0][1]", "W1_new[1][0]", "W1_new[1][1]", "b1_new[0]",
        "b1_new[1]")
"""Every number of the seed's layer view, in derivation order, by its answers-file name (the
assignment's boxes when nothing else is asked)."""


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def written(x: float, decimals: int = 4) -> str:
    """``x`` as a person writes it: from its 15 significant digits, half away from zero."""
    d = Decimal(f"{x:.15g}").quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return str(abs(d) if d == 0 else d)


def work(slip=None, sign=False, rounded=True) -> dict:
    """Every box worked by hand: ``slip`` is a wrong a₁[1] written instead of σ(z₁[1]), ``sign`` takes
    ∂L/∂ŷ as y − ŷ; each number is computed from the earlier ones as written (``rounded``) or exact."""
    r = (lambda x: float(written(x))) if rounded else (lambda x: x)
    z1 = [X[0] * W1[0][j] + X[1] * W1[1][j] + B1[j] for j in range(2)]
    a1 = [r(sigmoid(z1[0])), slip if slip is not None else r(sigmoid(z1[1]))]
    z2 = r(a1[0] * W2[0] + a1[1] * W2[1] + B2)
    y_hat = r(sigmoid(z2))
    loss = r(0.5 * (y_hat - Y) ** 2)
    dy = r((Y - y_hat) if sign else (y_hat - Y))
    dz2 = r(y_hat * (1 - y_hat))
    delta2 = r(dy * dz2)
    dW2 = [r(a1[j] * delta2) for j in range(2)]
    da1 = [r(delta2 * W2[j]) for j in range(2)]
    dz1 = [r(a1[j] * (1 - a1[j])) for j in range(2)]
    delta1 = [r(da1[j] * dz1[j]) for j in range(2)]
    dW1 = [[r(X[i] * delta1[j]) for j in range(2)] for i in range(2)]
    values = {"z1[0]": z1[0], "z1[1]": z1[1], "a1[0]": a1[0], "a1[1]": a1[1], "z2": z2, "y_hat": y_hat,
              "loss": loss, "dL/dy_hat": dy, "da2/dz2": dz2, "delta2": delta2, "dL/dW2[0]": dW2[0],
              "dL/dW2[1]": dW2[1], "dL/db2": delta2, "dL/da1[0]": da1[0], "dL/da1[1]": da1[1],
              "da1/dz1[0]": dz1[0], "da1/dz1[1]": dz1[1], "delta1[0]": delta1[0], "delta1[1]": delta1[1],
              "W2_new[0]": r(W2[0] - LR * dW2[0]), "W2_new[1]": r(W2[1] - LR * dW2[1]), "b2_new": r(B2 - LR * delta2)}
    for i in range(2):
        for j in range(2):
            values[f"dL/dW1[{i}][{j}]"] = dW1[i][j]
            values[f"W1_new[{i}][{j}]"] = r(W1[i][j] - LR * dW1[i][j])
        values[f"dL/db1[{i}]"] = delta1[i]
        values[f"b1_new[{i}]"] = r(B1[i] - LR * delta1[i])
    return values


CORRECT = work(rounded=False)
"""The exact values of every box."""


def answers(values: dict) -> dict:
    """The boxes as a student types them (4 decimals)."""
    return {key: written(values[key]) for key in KEYS}


SLIP = 0.9084
"""a₁[1] as the source document prints it: σ(2.4) is 0.9168."""
THREE_MISTAKES = answers(work(slip=SLIP, sign=True))
"""The student of the end-to-end tests: an arithmetic slip (a₁[1]), a sign error (∂L/∂ŷ = y − ŷ),
and every later number carried from them."""
