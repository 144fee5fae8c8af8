"""The symbol and the formula of every quantity a worked problem names: z₁ = X·W₁ + b₁,
δ₂ = ∂L/∂ŷ ⊙ σ′(z₂), W₁ ← W₁ − η·∂L/∂W₁ …, written the way the document writes them.
The layer view prints them; the checker shows them beside a wrong answer."""

from __future__ import annotations

from ..core.notation import ETA, L, Math, Y_HAT, partial, sub, var
from ..core.numbers import exact_text
from ..nn.activations import activation_name
from ..nn.losses import LOSSES
from .solve import Worked

ODOT = Math(r" \odot ", " ⊙ ")
T = Math(r"^{\top}", "ᵀ")


def _prev_a(k: int) -> Math:
    return Math("X", "X") if k == 1 else var("a", k - 1)


def activation_symbol(worked: Worked, k: int) -> Math:
    """f of layer k: σ, tanh, ReLU …"""
    layer = worked.layers[k - 1]
    return activation_name(layer.activation, layer.alpha)


def loss_formula(name: str, batch: bool) -> Math:
    """L of a loss, per sample, averaged over a batch."""
    per = {
        "half_se": Math(r"\frac{1}{2}\left(\hat{y} - y\right)^{2}", "½(ŷ − y)²"),
        "mse": Math(r"\frac{1}{n}\sum_{i}\left(\hat{y}_{i} - y_{i}\right)^{2}", "(1/n)·Σᵢ(ŷᵢ − yᵢ)²"),
        "mae": Math(r"\frac{1}{n}\sum_{i}\left|\hat{y}_{i} - y_{i}\right|", "(1/n)·Σᵢ|ŷᵢ − yᵢ|"),
        "bce": Math(r"-\left[y \log \hat{y} + (1 - y) \log(1 - \hat{y})\right]", "−[y·log ŷ + (1 − y)·log(1 − ŷ)]"),
        "bce_logits": Math(r"-\left[y \log \sigma(z) + (1 - y) \log(1 - \sigma(z))\right]",
                           "−[y·log σ(z) + (1 − y)·log(1 − σ(z))]"),
        "cce": Math(r"-\sum_{i} y_{i} \log \hat{y}_{i}", "−Σᵢ yᵢ·log ŷᵢ"),
        "cce_logits": Math(r"-\sum_{i} y_{i} \log \operatorname{softmax}(z)_{i}", "−Σᵢ yᵢ·log softmax(z)ᵢ"),
        "hinge": Math(r"\max\left(0, 1 - y \cdot s\right)", "max(0, 1 − y·s)"),
    }[name]
    if batch:
        return Math(r"\frac{1}{N}\sum_{s=1}^{N} L_{s}, \quad L_{s} = " + per.latex, "(1/N)·Σₛ Lₛ,  Lₛ = " + per.text)
    return per


def _loss_derivative(name: str, batch: bool) -> Math | None:
    """∂L/∂ŷ for losses on activations; δ of the output layer for losses on logits."""
    per = {
        "half_se": Math(r"\hat{y} - y", "ŷ − y"),
        "mse": Math(r"\frac{2}{n}\left(\hat{y} - y\right)", "(2/n)·(ŷ − y)"),
        "mae": Math(r"\frac{1}{n}\operatorname{sgn}\left(\hat{y} - y\right)", "(1/n)·sgn(ŷ − y)"),
        "bce": Math(r"\frac{\hat{y} - y}{\hat{y}\left(1 - \hat{y}\right)}", "(ŷ − y) / (ŷ(1 − ŷ))"),
        "cce": Math(r"-\frac{y}{\hat{y}}", "−y / ŷ"),
        "bce_logits": Math(r"\sigma(z) - y", "σ(z) − y"),
        "cce_logits": Math(r"\operatorname{softmax}(z) - y", "softmax(z) − y"),
        "hinge": Math(r"-y \cdot \mathbb{1}\left[1 - y s > 0\right]", "−y·1[1 − y·s > 0]"),
    }.get(name)
    if per is not None and batch:
        per = Math(r"\frac{1}{N}\left(" + per.latex + r"\right)", "(1/N)·(" + per.text + ")")
    return per


def _act_derivative(worked: Worked, k: int) -> Math:
    layer = worked.layers[k - 1]
    a = Y_HAT if k == worked.depth else var("a", k)
    z = var("z", k)
    if layer.activation == "sigmoid":
        return Math(rf"{a.latex} \odot \left(1 - {a.latex}\right)", f"{a.text} ⊙ (1 − {a.text})")
    if layer.activation == "tanh":
        return Math(rf"1 - {a.latex}^{{2}}", f"1 − {a.text}²")
    if layer.activation == "relu":
        return Math(rf"\mathbb{{1}}\left[{z.latex} > 0\right]", f"1[{z.text} > 0]")
    alpha = exact_text(layer.alpha)
    return Math(rf"\begin{{cases}} 1 & {z.latex} > 0 \\ {alpha} & {z.latex} \le 0 \end{{cases}}",
                f"(1 if {z.text} > 0 else {alpha})")


def _delta(k) -> Math:
    return Math(rf"\delta_{{{k}}}", f"δ{sub(k)}")


def symbol(worked: Worked, name: str, q) -> Math:
    """The symbol of quantity ``name``: z₁, σ′(z₁), δ₂, ∂L/∂W₁ …"""
    k, kind = q.layer, q.kind
    if kind == "act_grad":
        f = activation_symbol(worked, k)
        return Math(rf"{f.latex}'\left(z_{{{k}}}\right)", f"{f.text}′(z{sub(k)})")
    if kind == "delta":
        return _delta(k)
    if kind == "step":
        return ETA + Math(r" \cdot ", "·") + partial(L, var(name[5], k))
    if kind == "new":
        return var(name[0], k)
    return {
        "z": var("z", k), "a": var("a", k), "y_hat": Y_HAT, "loss": L, "dL/dy_hat": partial(L, Y_HAT),
        "dL/dW": partial(L, var("W", k)), "dL/db": partial(L, var("b", k)), "dL/da": partial(L, var("a", k)),
    }[kind]


def formula(worked: Worked, name: str, q) -> Math | None:
    """The formula of quantity ``name`` in the problem's layout, or ``None`` for a value written as given."""
    p = worked.problem
    k = q.layer
    in_out = p.layout == "in_out"
    kind = q.kind
    if kind == "z":
        a, w, b = _prev_a(k), var("W", k), var("b", k)
        return (a + Math(" ", "·") + w if in_out else w + Math(" ", "·") + a) + Math(" + ", " + ") + b
    if kind == "a":
        f = activation_symbol(worked, k)
        return Math(rf"{f.latex}\left(z_{{{k}}}\right)", f"{f.text}(z{sub(k)})")
    if kind == "y_hat":
        return var("a", k)
    if kind == "loss":
        return loss_formula(p.loss, p.batch)
    if kind == "dL/dy_hat":
        return _loss_derivative(p.loss, p.batch)
    if kind == "act_grad":
        return _act_derivative(worked, k)
    if kind == "delta":
        activation, last = worked.layers[k - 1].activation, k == worked.depth
        if last and LOSSES[p.loss].from_logits:
            return _loss_derivative(p.loss, p.batch)
        if activation == "softmax":
            return partial(L, var("z", k))
        upstream = partial(L, Y_HAT if last else var("a", k))
        if activation in ("identity", "linear"):
            return upstream
        f = activation_symbol(worked, k)
        return upstream + ODOT + Math(rf"{f.latex}'\left(z_{{{k}}}\right)", f"{f.text}'(z{sub(k)})")
    if kind == "dL/dW":
        a, d = _prev_a(k), _delta(k)
        return a + T + Math(" ", "·") + d if in_out else d + T + Math(" ", "·") + a
    if kind == "dL/db":
        if worked.layers[k - 1].shared_bias:
            return Math(rf"\sum_{{j}} \delta_{{{k},j}}", f"Σⱼ δ{sub(k)},ⱼ")
        return _delta(k)
    if kind == "dL/da":
        d, w = _delta(k + 1), var("W", k + 1)
        return d + Math(" ", "·") + w + T if in_out else w + T + Math(" ", "·") + d
    if kind == "step":
        return ETA + Math(r" \cdot ", "·") + partial(L, var(name[5], k))
    if kind == "new":
        p_sym = var(name[0], k)
        if any(n == f"step_{name[0]}{k}" for n in worked.quantities):
            return p_sym + Math(" - ", " − ") + ETA + Math(r" \cdot ", "·") + partial(L, p_sym)
        return None
    return None
