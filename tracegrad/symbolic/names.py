"""Symbol names: one SymPy symbol per node, named from its label.

A symbol's *name* is the node's label as the user wrote it (``W1[0][1]``), so
plain-text output reads like the code; its *LaTeX* is derived from that name
the way the document writes it, with 1-based indices:

=================  ======================
label              LaTeX
=================  ======================
``W1[0][1]``       ``w^{(1)}_{12}``
``b2[0]``          ``b^{(2)}_{1}``
``x[0]``           ``x_{1}``
``x1``, ``b2``     ``x_{1}``, ``b_{2}``
``z1[0]@3``        ``z^{(1),[4]}_{1}`` (sample 4 of the batch)
``y_hat``          ``\\hat{y}``
``loss``           ``L``
anything else      ``\\text{…}``, escaped
=================  ======================
"""

from __future__ import annotations

import re

from ..core.escape import math_label

_ROLE = re.compile(r"(?P<q>[A-Za-z]+(?:_[A-Za-z]+)*)(?P<num>\d+)?(?P<idx>(?:\[\d+\])*)(?:@(?P<sample>\d+))?"
                   r"(?P<primes>'*)")
_QUANTITY = {"W": "w", "y_hat": r"\hat{y}", "loss": "L", "delta": r"\delta"}
_GREEK = ("alpha", "beta", "gamma", "delta", "epsilon", "eta", "theta", "lambda", "mu", "sigma", "tau", "phi")


def _quantity(q: str) -> str | None:
    if q in _QUANTITY:
        return _QUANTITY[q]
    if q in _GREEK:
        return "\\" + q
    if len(q) == 1:
        return q
    if q.isalpha():
        return r"\mathrm{" + q + "}"
    return None


def symbol_latex(name: str) -> str:
    """LaTeX for a symbol named ``name`` (a node label); see the module docstring."""
    m = _ROLE.fullmatch(name)
    base = _quantity(m.group("q")) if m else None
    if base is None:
        return math_label(name)
    num, idx, sample = m.group("num"), m.group("idx"), m.group("sample")
    indices = [str(int(i) + 1) for i in re.findall(r"\d+", idx)]
    sup = []
    if num is not None and indices:
        sup.append(f"({int(num)})")  # a layer number, as in W1[0][1]
    elif num is not None:
        indices = [num]  # x1, b2: a plain subscript
    if sample is not None:
        sup.append(f"[{int(sample) + 1}]")
    sep = "" if all(len(i) == 1 for i in indices) else ","
    text = base
    if sup:
        text += "^{" + ",".join(sup) + "}"
    if indices:
        text += "_{" + sep.join(indices) + "}"
    primes = m.group("primes")
    return "{" + text + "}" + primes if primes else text


class Namer:
    """Hands out unique symbol names in the order nodes are met (deterministic):
    a node's label, ``v1, v2 …`` for unlabelled leaves, ``t1, t2 …`` for unlabelled
    intermediates; a name already taken gets primes (``x'``)."""

    def __init__(self):
        self.taken: set = set()
        self.count = {"v": 0, "t": 0}

    def name(self, label, prefix: str) -> str:
        if label is None:
            self.count[prefix] += 1
            name = f"{prefix}{self.count[prefix]}"
        else:
            name = str(label)
        while name in self.taken:
            name += "'"
        self.taken.add(name)
        return name
