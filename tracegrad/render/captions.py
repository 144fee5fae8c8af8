"""The caption of each quantity's line, as a message-catalog key and its placeholders:
one place for the layer view, the question banks and anything else that titles a step."""

from __future__ import annotations

from ..problem.formulas import parameter_symbol


def caption(worked, q) -> tuple:
    """``(catalog key, {placeholder: value})`` for quantity ``q`` of a worked problem."""
    k, kind = q.layer, q.kind
    if kind == "z":
        return "caption.z", {"k": k}
    if kind == "a":
        return ("caption.y_hat", {}) if k == worked.depth else ("caption.a", {"k": k})
    if kind == "dL/da":
        return "caption.dL/da", {"k": k}
    if kind == "dL/da_via":
        return "caption.dL/da_via", {"k": k, "next": k + 1}
    if kind == "act_grad":
        layer = worked.layers[k - 1]
        return "caption.act_grad", {"f": layer.spec.symbol(layer.alpha).text}
    if kind == "delta":
        return ("caption.delta_output", {}) if k == worked.depth else ("caption.delta_hidden", {"k": k})
    if kind in ("new", "grad", "step", "clipped"):
        return f"caption.{kind}", {"p": parameter_symbol(q.parameter, k).text}
    if kind == "state":
        state = next(s for s in worked.optimizer.state_names if s.key == q.state)
        return f"caption.state_{state.caption}", {"p": parameter_symbol(q.parameter, k).text}
    return f"caption.{kind}", {} if k is None else {"k": k}
