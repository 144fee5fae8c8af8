"""Simulated students: problems drawn over the whole problem space, and students who work them
by hand, rounding every number they write and carrying their own numbers forward, with 0–2
slips from the checker's list at random steps.

Everything a student computes is written here in plain numpy, independent of the engine and of
the checker: the forward pass, the loss, the backward pass by the textbook matrix formulas and
each optimizer's update, every quantity computed from the student's *own rounded* earlier
numbers, and each slip applied by this code at its step. The checker then judges the numbers;
:func:`measure` counts how often it is right:

* ``unslipped_wrong``: numbers computed without a slip (from the student's own numbers) judged
  wrong — must be none;
* ``slipped_missed``: slipped numbers that differ from every right value (the exact one, the
  carry-rounded one, the student's own correct continuation) but are not judged wrong — none;
* ``named``: slips whose first wrong number has the slip as its likely mistake — at least 95 %;
* ``lenient``: answers judged correct though farther than the tolerance from the exact value, the
  carry-rounded value (one unit more where that path went through a decimal tie, which rounds either
  way) and the value the student's own earlier numbers give — none;
* ``degenerate``: carried answers (error carried forward from the student's own honest numbers)
  marked as following from a degenerate answer, so earning only the degenerate share, with why:
  ``zero`` (a 0 or ±1 that is one only at the student's digits: written with fewer than asked, or
  a slip seen only as numbers rounded to 0), ``given`` (a given number taken for copied) or
  ``effect`` (an answer taken for chosen to make the rest trivial) — none of the last two: a
  simulated student never copies a given number or chooses one.

The problem space is read from the spec tables (activations, losses, optimizers); the hand
computation covers each entry, and :func:`covered` says which entries it does not.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

import numpy as np

from tracegrad.core.nested import flatten
from tracegrad.nn.activations import ACTIVATIONS
from tracegrad.nn.losses import LOSSES
from tracegrad.nn.optim import OPTIMIZERS

HIDDEN = ("sigmoid", "tanh", "relu", "leaky_relu", "identity")
OUTPUT = {"half_se": ("sigmoid", "tanh", "identity", "relu", "leaky_relu"), "mse": ("sigmoid", "tanh", "identity"),
          "mae": ("sigmoid", "identity"), "bce": ("sigmoid",), "bce_logits": ("identity", "sigmoid"),
          "cce": ("softmax",), "cce_logits": ("identity",), "hinge": ("identity", "tanh")}
"""Output activations a problem pairs with each loss (probabilities need σ or softmax)."""


def covered() -> set:
    """Spec-table entries the hand computation does not cover (empty when it covers all)."""
    acts = set(HIDDEN) | {a for v in OUTPUT.values() for a in v}
    return ({n for n in ACTIVATIONS if n != "linear"} - acts) | (set(LOSSES) - set(OUTPUT)) | \
        (set(OPTIMIZERS) - {"sgd", "momentum", "rmsprop", "adam", "adamw"})


# --- rounding by hand -------------------------------------------------------------------

def by_hand(x: float, decimals: int) -> Decimal:
    """``x`` rounded half away from zero as a person writes it: from the decimal they compute,
    its 15 significant digits (0.5 × 0.25 = 0.125 → 0.13, where the float may read 0.12499…)."""
    if not math.isfinite(x):
        return Decimal(repr(float(x)))
    d = Decimal(f"{float(x):.15g}").quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return abs(d) if d == 0 else d


def written(values, decimals: int):
    """An array (or number) as the nested lists of Decimals a student writes."""
    if isinstance(values, np.ndarray):
        return [written(v, decimals) for v in values] if values.ndim else by_hand(float(values), decimals)
    if isinstance(values, (list, tuple)):
        return [written(v, decimals) for v in values]
    return by_hand(values, decimals)


# --- problems ---------------------------------------------------------------------------

def _numbers(rng, shape, low=-1.0, high=1.0, places=2):
    return [[round(rng.uniform(low, high), places) for _ in range(shape[1])] for _ in range(shape[0])]


def draw_problem(rng: random.Random) -> dict:
    """A problem table over the problem space: layout, depth 1–3, widths 1–3, every loss with an
    output activation that fits it, hidden activations, one sample or a batch of 2–3, every
    optimizer with settings drawn so that each of its slips can show."""
    loss = rng.choice(sorted(LOSSES))
    layout = rng.choice(("in_out", "out_in"))
    n_in = rng.randint(1, 3)
    outputs = rng.randint(2, 3) if loss in ("cce", "cce_logits") else rng.randint(1, 2)
    hidden = [rng.randint(1, 3) for _ in range(rng.randint(0, 2))]
    sizes = [n_in, *hidden, outputs]
    layers = []
    for k in range(1, len(sizes)):
        shape = (sizes[k - 1], sizes[k]) if layout == "in_out" else (sizes[k], sizes[k - 1])
        last = k == len(sizes) - 1
        activation = rng.choice(OUTPUT[loss] if last else HIDDEN)
        bias = round(rng.uniform(-0.5, 0.5), 2) if rng.random() < 0.2 else \
            [round(rng.uniform(-0.5, 0.5), 2) for _ in range(sizes[k])]
        layer = {"weights": _numbers(rng, shape), "bias": bias, "activation": activation}
        if activation == "leaky_relu":
            layer["alpha"] = rng.choice((0.01, 0.1, 0.2))
        layers.append(layer)
    n = rng.choice((1, 1, 2, 3))
    xs = [[round(rng.uniform(-2, 2), 1) for _ in range(n_in)] for _ in range(n)]
    ys = [_target(rng, loss, outputs) for _ in range(n)]
    table = {"layout": layout, "layers": layers, "data": {"x": xs if n > 1 else xs[0], "y": ys if n > 1 else ys[0]},
             "loss": loss, "optimizer": _optimizer(rng)}
    return table


def _target(rng, loss, outputs):
    if loss in ("cce", "cce_logits"):
        y = [0.0] * outputs
        y[rng.randrange(outputs)] = 1.0
        return y
    if loss == "hinge":
        return [rng.choice((-1.0, 1.0)) for _ in range(outputs)]
    if loss in ("bce", "bce_logits"):
        return [rng.choice((0.0, 1.0, round(rng.uniform(0, 1), 1))) for _ in range(outputs)]
    return [round(rng.uniform(-1, 1), 1) for _ in range(outputs)]


def _optimizer(rng) -> dict:
    name = rng.choice(sorted(OPTIMIZERS))
    opt = {"name": name, "lr": rng.choice((0.1, 0.5, 0.05, 0.3))}
    if name in ("sgd", "momentum"):
        if name == "momentum" or rng.random() < 0.3:
            opt["momentum"] = rng.choice((0.9, 0.5))
            opt["nesterov"] = rng.random() < 0.5
    if name in ("rmsprop", "adam", "adamw"):
        opt["eps"] = rng.choice((1e-8, 0.01, 0.1))  # a large ε makes ε inside the root visible
    if name == "rmsprop":
        opt["alpha"] = rng.choice((0.9, 0.99))
    if name in ("adam", "adamw"):
        opt["betas"] = rng.choice(([0.9, 0.999], [0.8, 0.99]))
    if name == "adamw":
        opt["weight_decay"] = rng.choice((0.01, 0.1))
    elif rng.random() < 0.2:
        opt["weight_decay"] = 0.1
        opt["decoupled"] = rng.random() < 0.5
    return opt


# --- the student --------------------------------------------------------------------------

SLIPS = ("sign_slip", "decimal_moved", "loss_grad_doubled", "loss_grad_two_over_n_dropped", "act_grad_at_z",
         "act_grad_of_a", "act_grad_forgotten", "act_grad_as_f", "bias_left_out", "batch_summed",
         "loss_batch_summed", "lr_twice", "lr_missing", "update_sign", "momentum_omitted",
         "adam_no_bias_correction", "eps_inside_sqrt", "betas_swapped", "step_count_ahead")
"""The slips a simulated student makes, by the key of the checker's message that names each."""


@dataclass
class Slip:
    """One slip: ``key``, the quantity it is made in (``site``: a name, or a layer number for the
    slips of a layer), and for a moved decimal point its factor."""

    key: str
    site: object = None
    factor: float = 1.0
    quantities: set = field(default_factory=set)  # the quantities it changes (filled while working)


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _act(name, z, alpha):
    if name == "sigmoid":
        return _sigmoid(z)
    if name == "tanh":
        return np.tanh(z)
    if name == "relu":
        return np.where(z > 0, z, 0.0)
    if name == "leaky_relu":
        return np.where(z > 0, z, alpha * z)
    if name == "softmax":
        e = np.exp(z - z.max())
        return e / e.sum()
    return z


def _act_grad(name, z, a, alpha):
    """f′ as the textbook writes it: from a for σ and tanh, from z for the piecewise ones."""
    if name == "sigmoid":
        return a * (1 - a)
    if name == "tanh":
        return 1 - a * a
    if name == "relu":
        return np.where(z > 0, 1.0, 0.0)
    return np.where(z > 0, 1.0, alpha)


class Student:
    """Works one problem by hand at ``decimals`` decimals with ``slips``; :attr:`answers` holds
    every number written (name → nested Decimals), :attr:`clean` the number each slipped answer
    would have had without its slip (from the same earlier numbers), :attr:`slipped` the names of
    the quantities a slip changed."""

    def __init__(self, table: dict, names, decimals: int, slips=(), rounding=True):
        self.t, self.names, self.d, self.slips = table, set(names), decimals, list(slips)
        self.rounding = rounding
        self.answers: dict = {}
        self.values: dict = {}  # name -> the rounded array the student carries on with
        self.raw: dict = {}  # name -> the array before rounding
        self.tied = False  # some number was a decimal tie (0.045 at two decimals): rounded up, as by hand
        self.clean: dict = {}
        self.raw_clean: dict = {}  # the same before rounding
        self.slipped: dict = {}  # quantity name -> the Slip that changed it
        self._work()

    # each number goes through here: the slip of this quantity (if any) applied, then rounded
    def write(self, name, value, correct=None, slip=None):
        """``slip``: the slip (or slips) in this number's own formula; ``correct``: the number without it."""
        value = np.asarray(value, dtype=float)
        made = [x for x in (slip if isinstance(slip, (list, tuple)) else [slip]) if x is not None]
        for s in self.slips:
            if s.key in ("sign_slip", "decimal_moved") and s.site == name:
                correct = value if correct is None or slip is None else correct
                value = value * (-1.0 if s.key == "sign_slip" else s.factor)
                made.append(s)
        out = self._round(value) if name in self.names or not self.names else value  # a number not written
        self.values[name], self.raw[name] = out, value  # is carried into the next line unrounded
        if made and correct is not None:
            self.raw_clean[name] = np.asarray(correct, dtype=float)
            self.clean[name] = self._round(np.asarray(correct, dtype=float))
            if not np.array_equal(self.clean[name], out):
                self.slipped[name] = made[-1]
                for s in made:
                    s.quantities.add(name)
        if name in self.names:
            self.answers[name] = written(out, self.d)
        return out

    def _round(self, value):
        if not self.rounding:
            return value
        scaled = np.abs(np.asarray(value, dtype=float)) * 10.0 ** self.d
        self.tied = self.tied or bool(np.any(np.abs(scaled - np.floor(scaled) - 0.5) < 1e-6))
        return np.vectorize(lambda x: float(by_hand(x, self.d)), otypes=[float])(value) if value.ndim else \
            np.array(float(by_hand(float(value), self.d)))

    def slip(self, key, site=None):
        return next((s for s in self.slips if s.key == key and (site is None or s.site == site)), None)

    # --- the derivation -------------------------------------------------------------------
    def _work(self):
        t = self.t
        in_out = t["layout"] == "in_out"
        layers = t["layers"]
        data = t["data"]
        batch = isinstance(data["x"][0], list)
        X = np.array(data["x"] if batch else [data["x"]], dtype=float)
        Y = np.array(data["y"] if batch else [data["y"]], dtype=float).reshape(len(X), -1)  # y = 0.5: one output
        N, K = Y.shape
        loss = t["loss"]["name"] if isinstance(t["loss"], dict) else t["loss"]
        spec = LOSSES[loss]
        # weights as n_in × n_out (in_out orientation) for the arithmetic
        Ws = [np.array(layer["weights"], dtype=float) if in_out else np.array(layer["weights"], dtype=float).T
              for layer in layers]
        shared = [not isinstance(layer["bias"], list) for layer in layers]
        bs = [np.full(W.shape[1], float(layer["bias"])) if sh else np.array(layer["bias"], dtype=float)
              for W, layer, sh in zip(Ws, layers, shared)]
        acts = [layer["activation"] for layer in layers]
        alphas = [layer.get("alpha", 0.01) for layer in layers]
        L = len(layers)

        def per_sample(rows):  # a per-sample quantity as written: a row per sample for a batch
            return np.array(rows) if batch else np.array(rows[0])

        def rows(value):
            return [value[s] for s in range(N)] if batch else [value]

        # forward
        h = [X[s] for s in range(N)]
        zs, As = [], []
        for k in range(1, L + 1):
            W, b = Ws[k - 1], bs[k - 1]
            left_out = self.slip("bias_left_out", k)
            correct = per_sample([hs @ W + b for hs in h])
            z = per_sample([hs @ W for hs in h]) if left_out else correct
            z = rows(self.write(f"z{k}", z, correct, left_out))
            zs.append(z)
            if acts[k - 1] == "identity":
                a = z
            else:
                a = rows(self.write(f"a{k}", per_sample([_act(acts[k - 1], zz, alphas[k - 1]) for zz in z])))
            As.append(a)
            h = a
        y_hat = As[-1]
        self.alias("y_hat", per_sample(y_hat))
        pred = zs[-1] if spec.from_logits else y_hat
        per = np.array([_loss(loss, pred[s], Y[s]) for s in range(N)])
        summed = self.slip("loss_batch_summed")
        total = per.sum() if summed and N > 1 else per.sum() / N
        self.write("loss", total, per.sum() / N, summed)

        # backward
        deltas = [None] * L
        up = None  # ∂L/∂a of the current layer, per sample
        mean_left_out = self.slip("batch_summed") if N > 1 else None
        scale = 1.0 if mean_left_out else 1.0 / N
        for k in range(L, 0, -1):
            name, a, z, alpha = acts[k - 1], As[k - 1], zs[k - 1], alphas[k - 1]
            if k == L and spec.from_logits:
                d = per_sample([_dloss(loss, z[s], Y[s]) * scale for s in range(N)])
                correct = per_sample([_dloss(loss, z[s], Y[s]) / N for s in range(N)])
                deltas[k - 1] = rows(self.write(f"delta{k}", d, correct, mean_left_out))
            else:
                if k == L:
                    factor_slip = self.slip("loss_grad_doubled") or self.slip("loss_grad_two_over_n_dropped")
                    factor = 1.0
                    if factor_slip is not None:
                        factor = 2.0 if factor_slip.key == "loss_grad_doubled" else K / 2.0
                    d = per_sample([_dloss(loss, y_hat[s], Y[s]) * scale * factor for s in range(N)])
                    correct = per_sample([_dloss(loss, y_hat[s], Y[s]) / N for s in range(N)])
                    made = [factor_slip if factor != 1.0 else None, mean_left_out]
                    up = rows(self.write("dL/dy_hat", d, correct, made))
                    # δ = ŷ − y written at once (a loss's simplification): ∂L/∂ŷ's slips are δ's own
                    inherited = [m for m in made if m is not None] if "dL/dy_hat" not in self.names else []
                    up_clean = rows(correct) if inherited else up
                else:
                    inherited, up_clean = [], up
                if name == "identity":
                    deltas[k - 1] = up
                    self.alias(f"delta{k}", per_sample(up))
                elif name == "softmax":  # δ = a ⊙ (g − Σ g·a), from the student's own a and ∂L/∂a
                    d = per_sample([a[s] * (up[s] - up[s] @ a[s]) for s in range(N)])
                    correct = per_sample([a[s] * (up_clean[s] - up_clean[s] @ a[s]) for s in range(N)])
                    deltas[k - 1] = rows(self.write(f"delta{k}", d, correct if inherited else None, inherited))
                else:
                    g = rows(self._act_grad(k, name, z, a, alpha, per_sample))
                    forgot = self.slip("act_grad_forgotten", k)
                    correct = per_sample([up_clean[s] * g[s] for s in range(N)])
                    d = per_sample([up[s] if forgot else up[s] * g[s] for s in range(N)])
                    deltas[k - 1] = rows(self.write(f"delta{k}", d, correct, [forgot] + inherited))
            inputs = [X[s] for s in range(N)] if k == 1 else As[k - 2]
            dW = sum(np.outer(inputs[s], deltas[k - 1][s]) for s in range(N))
            self.write(f"dL/dW{k}", dW if in_out else dW.T)
            db = sum(deltas[k - 1][s] for s in range(N))
            self.write(f"dL/db{k}", db.sum() if shared[k - 1] else db)
            if k > 1:
                up = rows(self.write(f"dL/da{k - 1}", per_sample([deltas[k - 1][s] @ Ws[k - 1].T for s in range(N)])))
        # the update, from the student's own gradients
        self._update(Ws, bs, shared, in_out)

    def alias(self, name, value):
        """A quantity under a second name (ŷ for a_L, δ of a layer without activation): the same
        number copied, carried from the first even where that one is slipped."""
        self.raw[name] = np.asarray(value, dtype=float)
        self.values[name] = self._round(self.raw[name])
        if name in self.names:
            self.answers[name] = written(self.values[name], self.d)

    def _act_grad(self, k, name, z, a, alpha, per_sample):
        N = len(z)
        correct = per_sample([_act_grad(name, z[s], a[s], alpha) for s in range(N)])
        s_z, s_a, s_f = self.slip("act_grad_at_z", k), self.slip("act_grad_of_a", k), self.slip("act_grad_as_f", k)
        value, slip = correct, None
        if s_z and name in ("sigmoid", "tanh"):
            value, slip = per_sample([_act_grad(name, None, z[s], alpha) for s in range(N)]), s_z
        elif s_a and name in ("sigmoid", "tanh"):
            value, slip = per_sample([_act_grad(name, a[s], _act(name, a[s], alpha), alpha) for s in range(N)]), s_a
        elif s_f:
            value, slip = per_sample([a[s] for s in range(N)]), s_f
        return self.write(f"da{k}/dz{k}", value, correct, slip)

    def _update(self, Ws, bs, shared, in_out):
        opt = dict(self.t.get("optimizer", {"name": "sgd", "lr": 0.1}))
        name = opt["name"]
        lr = opt.get("lr", 0.1)
        wd = opt.get("weight_decay", 0.01 if name == "adamw" else 0.0)
        decoupled = name == "adamw" or opt.get("decoupled", False)
        mu = opt.get("momentum", 0.9 if name == "momentum" else 0.0)
        nesterov = opt.get("nesterov", False)
        eps = opt.get("eps", 1e-8)
        alpha = opt.get("alpha", 0.99)
        b1, b2 = opt.get("betas", (0.9, 0.999))
        for k in range(1, len(Ws) + 1):
            for p in ("W", "b"):
                g = self.values[f"dL/d{p}{k}"]
                if p == "W":
                    param = Ws[k - 1] if in_out else Ws[k - 1].T
                else:
                    param = np.array(bs[k - 1][0]) if shared[k - 1] else bs[k - 1]
                self._update_one(f"{p}{k}", p, k, param, g, name, lr, wd, decoupled, mu, nesterov, eps, alpha, b1, b2)

    def _update_one(self, label, p, k, param, g, name, lr, wd, decoupled, mu, nesterov, eps, alpha, b1, b2):
        suffix = f"_{p}{k}"
        lr_slip = self.slip("lr_twice") or self.slip("lr_missing")
        eta = lr * lr if lr_slip and lr_slip.key == "lr_twice" else (1.0 if lr_slip else lr)
        if wd and not decoupled:
            g = self.write("g" + suffix, g + wd * param)
        has_step = not (wd and decoupled)
        sign = self.slip("update_sign") if has_step else None

        def finish(direction_correct, direction, slip):
            """step = η·direction (slips: η², 1; the direction's own slip), then p − step."""
            slips = [lr_slip if eta != lr else None, slip]
            if has_step and "step" + suffix in self.names:
                step = self.write("step" + suffix, eta * direction, lr * direction_correct, slips)
                new = param + step if sign else param - step
                self.write(f"{label}_new", new, param - step, sign)
            elif has_step:  # the step is not a number of its own: p − η·direction in one line
                step = eta * direction
                new = param + step if sign else param - step
                self.write(f"{label}_new", new, param - lr * direction_correct, slips + [sign])
            else:
                new = param - eta * direction - eta * wd * param
                self.write(f"{label}_new", new, param - lr * direction_correct - lr * wd * param, slips)

        if name in ("sgd", "momentum"):
            if not mu:
                return finish(g, g, None)
            omitted = self.slip("momentum_omitted")
            v = self.write("v" + suffix, mu * 0.0 + g)
            m = 1.0 if omitted else mu
            correct = g + mu * v if nesterov else v
            direction = g + m * v if nesterov else v
            return finish(correct, direction, omitted if nesterov else None)
        if name == "rmsprop":
            s = self.write("s" + suffix, alpha * 0.0 + (1 - alpha) * g * g)
            inside = self.slip("eps_inside_sqrt")
            correct = g / (np.sqrt(s) + eps)
            return finish(correct, g / np.sqrt(s + eps) if inside else correct, inside)
        # adam, adamw
        swapped = self.slip("betas_swapped")
        c1, c2 = (b2, b1) if swapped else (b1, b2)
        m = self.write("m" + suffix, c1 * 0.0 + (1 - c1) * g, (1 - b1) * g, swapped)
        v = self.write("v" + suffix, c2 * 0.0 + (1 - c2) * g * g, (1 - b2) * g * g, swapped)
        t = 2 if self.slip("step_count_ahead") else 1
        plain = self.slip("adam_no_bias_correction")
        ahead = self.slip("step_count_ahead")
        m_hat = self.write("m_hat" + suffix, m if plain else m / (1 - c1 ** t), m / (1 - b1), [plain, ahead, swapped])
        v_hat = self.write("v_hat" + suffix, v if plain else v / (1 - c2 ** t), v / (1 - b2), [plain, ahead, swapped])
        inside = self.slip("eps_inside_sqrt")
        correct = m_hat / (np.sqrt(v_hat) + eps)
        return finish(correct, m_hat / np.sqrt(v_hat + eps) if inside else correct, inside)


def _loss(name, p, y):
    K = len(y)
    if name == "half_se":
        return float(np.sum(0.5 * (p - y) ** 2))
    if name == "mse":
        return float(np.mean((p - y) ** 2))
    if name == "mae":
        return float(np.mean(np.abs(p - y)))
    if name == "bce":
        return float(np.mean(-(y * np.log(p) + (1 - y) * np.log(1 - p))))
    if name == "bce_logits":
        return float(np.mean(np.maximum(p, 0) - p * y + np.log1p(np.exp(-np.abs(p)))))
    if name == "cce":
        return float(-sum(t * np.log(q) for q, t in zip(p, y) if t != 0))
    if name == "cce_logits":
        m = p.max()
        lse = m + math.log(np.exp(p - m).sum())
        return float(np.sum(y * (lse - p)))
    if name == "hinge":
        return float(np.mean(np.maximum(0, 1 - y * p)))
    raise KeyError(name)  # a loss the hand computation does not know: covered() lists it


def _dloss(name, p, y):
    """∂Lₛ/∂prediction for one sample (before the batch's 1/N)."""
    K = len(y)
    if name == "half_se":
        return p - y
    if name == "mse":
        return 2 * (p - y) / K
    if name == "mae":
        return np.sign(p - y) / K
    if name == "bce":
        return (p - y) / (p * (1 - p)) / K
    if name == "bce_logits":
        return (_sigmoid(p) - y) / K
    if name == "cce":
        return np.array([-t / q if t != 0 else 0.0 for q, t in zip(p, y)])
    if name == "cce_logits":
        e = np.exp(p - p.max())
        return e / e.sum() * y.sum() - y
    if name == "hinge":
        return np.where(1 - y * p > 0, -y, 0.0) / K
    raise KeyError(name)


# --- drawing students and judging them ---------------------------------------------------

def candidates(table: dict, names: list, aliases: set) -> list:
    """Every slip that can happen in this problem: ``(key, site)``."""
    layers, opt = table["layers"], table.get("optimizer", {"name": "sgd", "lr": 0.1})
    loss = table["loss"]["name"] if isinstance(table["loss"], dict) else table["loss"]
    batch = isinstance(table["data"]["x"][0], list)
    y = table["data"]["y"]
    K = len(y[0] if batch else y) if isinstance(y, list) else 1
    out = []
    for name in names:
        if name not in aliases:
            out.append(("sign_slip", name))
            out.append(("decimal_moved", name))
    if loss == "half_se":
        out.append(("loss_grad_doubled", None))
    if loss == "mse" and K != 2:
        out.append(("loss_grad_two_over_n_dropped", None))
    for k, layer in enumerate(layers, start=1):
        out.append(("bias_left_out", k))
        if f"da{k}/dz{k}" in names:
            out += [("act_grad_forgotten", k), ("act_grad_as_f", k)]
            if layer["activation"] in ("sigmoid", "tanh"):
                out += [("act_grad_at_z", k), ("act_grad_of_a", k)]
    if batch:
        out += [("batch_summed", None), ("loss_batch_summed", None)]
    name = opt["name"]
    out += [("lr_twice", None)] + ([("lr_missing", None)] if opt.get("lr", 0.1) != 1 else [])
    decoupled = name == "adamw" or opt.get("decoupled", False)
    if not (opt.get("weight_decay", 0.01 if name == "adamw" else 0) and decoupled):
        out.append(("update_sign", None))
    if name in ("sgd", "momentum") and opt.get("momentum") and opt.get("nesterov"):
        out.append(("momentum_omitted", None))
    if name in ("adam", "adamw"):
        out += [("adam_no_bias_correction", None), ("betas_swapped", None), ("step_count_ahead", None)]
    if name in ("rmsprop", "adam", "adamw"):
        out.append(("eps_inside_sqrt", None))
    return out


def _family(key: str) -> str:
    """Slips of one family change the same numbers; a student makes at most one of each."""
    if key in ("lr_twice", "lr_missing", "update_sign"):
        return "update"
    if key in ("loss_grad_doubled", "loss_grad_two_over_n_dropped", "batch_summed"):
        return "loss_grad"
    if key in ("adam_no_bias_correction", "step_count_ahead"):
        return "bias_correction"
    return key


@dataclass
class Judged:
    """The counts of one student (see the module docstring)."""

    answers: int = 0
    unslipped: int = 0
    unslipped_wrong: list = field(default_factory=list)
    slipped: int = 0  # slipped numbers that differ from every right value
    slipped_missed: list = field(default_factory=list)
    slips: int = 0  # slips with a wrong number
    named: int = 0
    unnamed: list = field(default_factory=list)
    correct: int = 0
    lenient: list = field(default_factory=list)
    carried: int = 0
    degenerate: list = field(default_factory=list)  # carried answers marked degenerate
    by_key: dict = field(default_factory=dict)  # slip key -> [slips, named]


def _within(written_value: Decimal, value: float, last_digit: bool) -> bool:
    """``written_value`` within half a unit of its last place of ``value`` (one and a half with the
    last digit accepted), by exact decimal arithmetic."""
    if not math.isfinite(value):
        return False
    unit = Decimal(1).scaleb(written_value.as_tuple().exponent)
    bound = unit * (Decimal("1.5") if last_digit else Decimal("0.5")) * (1 + Decimal("1e-9"))
    return abs(written_value - Decimal(repr(value))) <= bound


def aliases_of(subject, names) -> set:
    """Second names of the same numbers (ŷ of a₂, ∂L/∂b₂ of δ₂): a student copies them, no slip of
    their own."""
    seen, aliases = set(), set()
    for n in names:
        nodes = tuple(flatten(subject.quantities[n]))
        if nodes in seen:
            aliases.add(n)
        seen.add(nodes)
    return aliases


def _finite(values: dict) -> bool:
    return all(np.all(np.isfinite(v)) for v in values.values())


def _at(nested, position):
    for i in position:
        nested = nested[i]
    return nested


def judge_student(rng: random.Random, tables=None) -> Judged:
    """Draw a problem and a student, work it by hand, judge it with the checker, count."""
    from tracegrad.checker import network_subject, parse_answers
    from tracegrad.core.notation import sub
    from tracegrad.problem.schema import parse_problem
    from tracegrad.workflows.check import check

    while True:  # a problem the student can work at their precision (no log of a probability rounded to 0)
        table = draw_problem(rng)
        decimals = rng.randint(2, 5)
        table["render"] = {"decimals": rng.randint(2, 5)}
        with np.errstate(all="ignore"):
            if _finite(Student(table, (), decimals).values):
                break
    problem = parse_problem(table, "<simulated>")
    subject = network_subject(problem)
    names = [n for n in subject.quantities if n not in subject.unprinted]
    aliases = aliases_of(subject, names)
    options = candidates(table, names, aliases)
    for _ in range(20):  # slips leaving an op's domain (√ of a negative) or made in one number are drawn again
        slips, families = [], set()
        for _ in range(rng.choice((0, 1, 1, 2))):
            key = rng.choice(sorted({key for key, _ in options}))  # every kind of slip alike, then a step
            site = rng.choice([site for k, site in options if k == key])
            if _family(key) in families or any(s.site == site and site is not None for s in slips):
                continue
            families.add(_family(key))
            factor = 10.0 ** rng.choice((1, -1, 2, -2)) if key == "decimal_moved" else 1.0
            slips.append(Slip(key, site, factor))
        with np.errstate(all="ignore"):
            student = Student(table, names, decimals, slips)
        changed = [q for s in slips for q in s.quantities]
        if len(changed) == len(set(changed)) and _finite(student.values):
            break  # finite numbers, and no number changed by two slips at once
    else:
        slips = []
        student = Student(table, names, decimals)
    exact = Student(table, names, decimals, rounding=False).values
    carrier = Student(table, names, decimals)
    carry = carrier.raw
    report = check(subject, parse_answers({"answers": student.answers}, "<student>"))
    out = Judged()
    first_backward = "dL/dy_hat" if "dL/dy_hat" in subject.quantities else \
        f"delta{len(table['layers'])}"
    by_quantity, by_key = {}, {}
    for v in report:
        by_quantity.setdefault(v.answer.name, []).append(v)
        by_key[v.answer.key] = v
    for v in report:
        out.answers += 1
        a = v.answer
        w = a.written
        last = report.policy.last_digit_accepted(w)
        ex, ca = float(_at(exact[a.name], a.position)), float(_at(carry[a.name], a.position))
        slip = student.slipped.get(a.name)
        clean = float(_at(student.raw_clean[a.name], a.position)) if slip else None
        own = clean if slip else float(_at(student.raw[a.name], a.position))  # from the student's own numbers
        if v.verdict == "carried":
            out.carried += 1
            if v.degenerate:
                kinds = tuple(_why(by_key[k].source) for k in v.degenerate)
                out.degenerate.append((a.key, str(w), v.degenerate, kinds, [(s.key, s.site) for s in slips]))
        if v.verdict == "correct":
            out.correct += 1
            # a carry-rounded path through a decimal tie may round either way: one unit more
            if not (_within(w, ex, last) or _within(w, ca, last or carrier.tied) or _within(w, own, last)):
                out.lenient.append((a.key, str(w), ex, ca))
        if slip is None or by_hand(clean, decimals) == w or _within(w, clean, False):
            out.unslipped += 1
            if v.verdict == "wrong":
                out.unslipped_wrong.append((a.key, str(w), v.expected, v.carried, [s.key for s in slips]))
        elif not any(_within(w, ref, last) for ref in (ex, ca, clean)):
            out.slipped += 1
            if v.verdict != "wrong":
                out.slipped_missed.append((a.key, str(w), v.verdict, slip.key))
    for s in slips:
        first = next((v for n in subject.quantities if n in s.quantities for v in by_quantity.get(n, ())
                      if v.verdict == "wrong"), None)
        if first is None:
            continue
        out.slips += 1
        likely = first.mistakes[:first.equivalent]
        want = {s.key}
        if s.key == "sign_slip" and s.site == first_backward:
            want.add("loss_grad_sign")
        if s.key == "sign_slip" and s.site == "loss":
            want.add("loss_sign_dropped")  # −L: the minus sign of a cross-entropy left out, the same computation
        ok = False
        for m in likely:
            args = dict(m.args)
            if m.key not in want:
                continue
            if s.key in ("sign_slip", "decimal_moved") and m.key not in ("loss_grad_sign", "loss_sign_dropped"):
                if args.get("q") != subject.symbols[s.site].text:
                    continue
                if s.key == "decimal_moved" and args.get("factor") != f"{s.factor:g}":
                    continue
            if isinstance(s.site, int) and args.get("k") != sub(s.site):
                continue
            ok = True
        stats = out.by_key.setdefault(s.key, [0, 0])
        stats[0] += 1
        if ok:
            out.named += 1
            stats[1] += 1
        else:
            out.unnamed.append((s.key, s.site, first.answer.key, [m.key for m in first.mistakes], first.equivalent))
    return out


def _why(source) -> str:
    """``zero``, ``given`` or ``effect``: why an answer is degenerate (see the module docstring)."""
    if source.kind == "effect":
        return "effect"
    return "zero" if source.value in (0.0, 1.0, -1.0) else "given"


def measure(count: int, seed: int = 0) -> dict:
    """``count`` simulated students (problem and student drawn from ``random.Random(seed)``): the
    totals of :class:`Judged` and the failures, for the tests and ``bench/run``."""
    rng = random.Random(seed)
    total = Judged()
    for _ in range(count):
        j = judge_student(rng)
        for name in ("answers", "unslipped", "slipped", "slips", "named", "correct", "carried"):
            setattr(total, name, getattr(total, name) + getattr(j, name))
        for name in ("unslipped_wrong", "slipped_missed", "unnamed", "lenient", "degenerate"):
            getattr(total, name).extend(getattr(j, name))
        for key, (n, named) in j.by_key.items():
            stats = total.by_key.setdefault(key, [0, 0])
            stats[0] += n
            stats[1] += named
    return {"students": count, "seed": seed, "totals": total}
