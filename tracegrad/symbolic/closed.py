"""Closed forms: each backward quantity's general formula, written by SymPy.

Nothing here is written per network, loss or activation:

* ∂L/∂ŷ (and δ_L when there is no separate activation) is SymPy's derivative
  of the loss expression at the first output, renamed to vector symbols
  (``a2[0]`` → ŷ, ``y[0]`` → y), kept only when it involves that one
  element alone (an elementwise formula);
* ∂a/∂z is the op table's declared rule over (z, a) once SymPy has confirmed
  it equals ``sympy.diff`` of the op's form (σ reads a(1 − a), tanh 1 − a²,
  ReLU [z > 0]); otherwise ``sympy.diff`` itself; δ_L = ∂L/∂ŷ · ∂ŷ/∂z_L
  (factored when that is clearly shorter: σ with BCE gives ŷ − y);
* ∂L/∂W, ∂L/∂b and ∂L/∂a_{k−1} are SymPy's matrix derivatives of
  ``tr(z δᵀ)`` with ``z = a·W + b`` (layout ``in_out``) or ``z = W·a + b``
  (``out_in``); for a one-unit output layer δ is replaced by its formula;
* a hidden δ_k is ∂L/∂a_k ⊙ ∂a_k/∂z_k.

Every value is the right-hand side only, as LaTeX.
"""

from __future__ import annotations

import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import PRECEDENCE

from ..core.ops import OPS
from .convert import SymbolicGraph, as_expr, derivative, readable
from .confirm import zero_almost_everywhere


def activation_derivative(op: str, params: tuple, z, a):
    """d a / d z for ``a = op(z)``, over the symbols ``z`` and ``a`` (see the module docstring)."""
    spec = OPS[op]
    form = spec.sympy(sp, (z,), params)
    declared = as_expr(spec.partials((z,), a, params)[0])
    if zero_almost_everywhere(declared.xreplace({a: form}) - sp.diff(form, z)) == 0:
        return readable(declared)
    return derivative(form, z)


def _shorter(expr):
    """``expr`` or its factored form, whichever is clearly shorter (by at least two operations)."""
    factored = sp.factor(expr)
    return factored if sp.count_ops(factored) <= sp.count_ops(expr) - 2 else expr


def _first_sample(nodes) -> tuple:
    """The node indices of one sample's vector (the first sample of a batch)."""
    while isinstance(nodes[0], tuple):
        nodes = nodes[0]
    return nodes


class _ElementwisePrinter(LatexPrinter):
    """Products of vectors with ⊙; a number coefficient stays in front, without one."""

    def _print_Mul(self, expr):
        coeff, rest = expr.as_coeff_Mul()
        if coeff not in (1, -1) and rest != 1:
            return self._print(coeff) + " " + self.parenthesize(rest, PRECEDENCE["Mul"])
        return super()._print_Mul(expr)


class _Symbols:
    """The vector and matrix symbols of the formulas, with their LaTeX."""

    def __init__(self):
        self.names: dict = {}

    def scalar(self, name: str, latex: str):
        s = sp.Symbol(name, real=True)
        self.names[s] = latex
        return s

    def matrix(self, name: str, latex: str, shape: tuple):
        m = sp.MatrixSymbol(name, *shape)
        self.names[m] = latex
        return m

    def latex(self, expr, elementwise: bool = False) -> str:
        if elementwise:
            return _ElementwisePrinter({"symbol_names": self.names, "mul_symbol": r" \odot "}).doprint(expr)
        return sp.latex(expr, symbol_names=self.names)


def closed_form_exprs(worked) -> tuple:
    """``({quantity name: (SymPy expression, elementwise?)}, symbols)``: the formulas of
    :func:`closed_forms` before printing (``symbols.names`` maps each symbol to its LaTeX)."""
    from ..nn.losses import LOSSES

    t, q, depth = worked.trace, worked.quantities, worked.depth
    graph = SymbolicGraph(t, q["loss"].nodes)
    adjoint = graph.adjoints()
    from_logits = LOSSES[worked.problem.loss].from_logits
    v = _Symbols()
    y_hat = v.scalar("hat_y", r"\hat{y}")  # named to print before y: \hat{y} - y
    outputs = set() if from_logits else set(_first_sample(q["y_hat"].nodes))

    def renaming(unit: int) -> dict:
        """Element symbols of unit ``unit`` (first sample) → vector symbols."""
        rename = {}
        for i, s in graph.symbol.items():
            role = t.nodes[i].role
            if role is None or not role.index or role.index[-1] != unit or role.sample not in (None, 0):
                continue
            if i in outputs:
                rename[s] = y_hat
            elif role.quantity in ("z", "a") and role.layer is not None:
                rename[s] = v.scalar(f"{role.quantity}{role.layer}", f"{role.quantity}_{{{role.layer}}}")
            elif role.quantity in ("x", "y"):
                rename[s] = v.scalar(role.quantity, role.quantity)
        return rename

    def elementwise(nodes):
        """The derivative of the loss with respect to the first unit that has a nonzero one,
        as a formula over vector symbols, when it involves that unit alone."""
        for unit, i in enumerate(_first_sample(nodes)):
            e = adjoint.get(i, sp.S.Zero)
            if e != 0:
                rename = renaming(unit)
                return _shorter(sp.factor_terms(e.xreplace(rename))) if e.free_symbols <= set(rename) else None
        return None

    def activation(k):
        return y_hat if k == depth and not from_logits else v.scalar(f"a{k}", f"a_{{{k}}}")

    forms: dict = {}
    if "dL/dy_hat" in q:
        forms["dL/dy_hat"] = elementwise(q["y_hat"].nodes)
    for k in range(1, depth + 1):
        if f"da{k}/dz{k}" in q:
            rec = t.nodes[_first_sample(q[f"a{k}"].nodes)[0]]
            forms[f"da{k}/dz{k}"] = activation_derivative(rec.op, rec.params, v.scalar(f"z{k}", f"z_{{{k}}}"),
                                                          activation(k))
    last = f"da{depth}/dz{depth}"
    if forms.get("dL/dy_hat") is not None and last in forms:
        forms[f"delta{depth}"] = _shorter(forms["dL/dy_hat"] * forms[last])  # σ + BCE: ŷ − y
    else:
        forms[f"delta{depth}"] = elementwise(q[f"z{depth}"].nodes)
    width = {name: worked.layers[depth - 1].n_out for name in ("dL/dy_hat", f"delta{depth}")}
    width.update({f"da{k}/dz{k}": worked.layers[k - 1].n_out for k in range(1, depth + 1)})
    out = {name: (e, width[name] > 1) for name, e in forms.items() if e is not None}

    for k in range(depth, 0, -1):
        layer = worked.layers[k - 1]
        n, m, in_out = layer.n_in, layer.n_out, layer.layout == "in_out"
        row = (lambda size: (1, size)) if in_out else (lambda size: (size, 1))
        prev = v.matrix("x", "x", row(n)) if k == 1 else v.matrix(f"a{k - 1}", f"a_{{{k - 1}}}", row(n))
        weights = v.matrix(f"W{k}", f"W_{{{k}}}", (n, m) if in_out else (m, n))
        bias = v.matrix(f"b{k}", f"b_{{{k}}}", row(m))
        z = prev * weights + bias if in_out else weights * prev + bias
        delta = v.matrix(f"delta{k}", rf"\delta_{{{k}}}", row(m))
        f = sp.Trace(z * delta.T) if in_out else sp.Trace(delta.T * z)
        known = out.get(f"delta{k}") if k == depth and m == 1 else None
        # a one-unit output layer: its parameters' gradients with δ written out (z is 1 × 1)
        f_params = f if known is None else sp.Trace(z * known[0])
        wanted = {f"dL/dW{k}": (f_params, weights), f"dL/da{k - 1}": (f, prev)}
        if not layer.shared_bias:
            wanted[f"dL/db{k}"] = (f_params, bias)
        for name, (form, var) in wanted.items():
            if name in q:
                d = sp.diff(form, var)
                out[name] = (d.as_explicit()[0, 0] if d.shape == (1, 1) and not d.atoms(sp.MatrixSymbol) else d,
                             False)
    return {name: out[name] for name in q if name in out}, v


def closed_forms(worked) -> dict:
    """``{quantity name: LaTeX}`` for the backward quantities of a worked problem
    (``dL/dy_hat``, ``da{k}/dz{k}``, ``delta{k}``, ``dL/dW{k}``, ``dL/db{k}``, ``dL/da{k}``):
    general formulas, right-hand sides only, e.g. ``delta2`` →
    ``\\hat{y} \\left(1 - \\hat{y}\\right) \\left(\\hat{y} - y\\right)`` for the seed example.
    Over a batch, ∂L/∂W and ∂L/∂b sum the per-sample formula over the samples."""
    exprs, symbols = closed_form_exprs(worked)
    samples = len(worked.problem.x)
    latex = {}
    for name, (expr, elementwise) in exprs.items():
        text = symbols.latex(expr, elementwise)
        if worked.problem.batch and name.startswith(("dL/dW", "dL/db")):
            text = rf"\sum_{{s=1}}^{{{samples}}} {text}"
        latex[name] = text
    for k in range(1, worked.depth):  # hidden error terms: ∂L/∂a_k ⊙ ∂a_k/∂z_k
        if f"delta{k}" in worked.quantities and f"dL/da{k}" in latex and f"da{k}/dz{k}" in latex:
            factor = latex[f"da{k}/dz{k}"]
            if isinstance(exprs[f"da{k}/dz{k}"][0], (sp.Add, sp.Mul)):
                factor = rf"\left({factor}\right)"
            latex[f"delta{k}"] = rf"\left({latex[f'dL/da{k}']}\right) \odot {factor}"
    return {name: latex[name] for name in worked.quantities if name in latex}
