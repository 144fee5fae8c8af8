"""The floor for scalar Python: the demo network's training step written by hand.

Plain lists of floats, no graph: forward per sample, backward per sample by the
chain rule written out (ReLU hidden layers, linear output), hinge loss plus an
L2 penalty on every parameter, SGD update. Whatever an engine does on top of
this is overhead; compiled replay should stay within a small factor of it.
"""

from __future__ import annotations


def step(W: list, B: list, X: list, Y: list, lr: float, alpha: float) -> float:
    """One full-batch step in place; returns the loss before the update.

    ``W[l][j]`` holds unit j's incoming weights in layer l, ``B[l][j]`` its bias;
    ``Y`` holds ±1 labels. Loss: mean of max(0, 1 − y·s) + alpha·Σ p².
    """
    n = len(X)
    last = len(W) - 1
    gW = [[[0.0] * len(w) for w in layer] for layer in W]
    gB = [[0.0] * len(layer) for layer in B]
    data_loss = 0.0
    for x, y in zip(X, Y):
        acts, zs = [x], []
        h = x
        for l, (layer, biases) in enumerate(zip(W, B)):
            z = []
            for w, b in zip(layer, biases):
                acc = b
                for wi, hi in zip(w, h):
                    acc += wi * hi
                z.append(acc)
            zs.append(z)
            h = z if l == last else [v if v > 0 else 0.0 for v in z]
            acts.append(h)
        margin = 1.0 - y * h[0]
        if margin <= 0:
            continue
        data_loss += margin
        delta = [-y / n]
        for l in range(last, -1, -1):
            h_in = acts[l]
            gw_layer, gb_layer, w_layer = gW[l], gB[l], W[l]
            back = [0.0] * len(h_in)
            for j, d in enumerate(delta):
                if d == 0.0:
                    continue
                gb_layer[j] += d
                gw, w = gw_layer[j], w_layer[j]
                for i, hi in enumerate(h_in):
                    gw[i] += d * hi
                    back[i] += d * w[i]
            if l:
                delta = [d if z > 0 else 0.0 for d, z in zip(back, zs[l - 1])]
    penalty = 0.0
    for layer, gw_layer, biases, gb_layer in zip(W, gW, B, gB):
        for w, gw in zip(layer, gw_layer):
            for i, wi in enumerate(w):
                penalty += wi * wi
                w[i] = wi - lr * (gw[i] + 2.0 * alpha * wi)
        for j, b in enumerate(biases):
            penalty += b * b
            biases[j] = b - lr * (gb_layer[j] + 2.0 * alpha * b)
    return data_loss / n + alpha * penalty
