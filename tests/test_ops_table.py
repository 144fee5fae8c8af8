"""Every op of the table: declared partials against central differences and against
sympy.diff of the op's SymPy form. Adding an op with an inconsistent rule fails here."""

import math

import pytest
import sympy as sp

from tracegrad.core import notation
from tracegrad.core.ops import OPS
from tests.conftest import central_difference

CASES = [(name, i, xs, p) for name, spec in OPS.items() for i, (xs, p) in enumerate(spec.examples)]


def test_every_op_has_examples_and_notation():
    for name, spec in OPS.items():
        assert spec.examples, f"{name} has no sample points"
        for xs, p in spec.examples:
            if spec.arity is not None:
                assert len(xs) == spec.arity, name
            assert len(p) == len(spec.params), name
            for fmt in notation.FORMATS:
                text, prec = spec.render([(f"x_{k}", notation.ATOM) for k in range(len(xs))], p, fmt)
                assert text and prec in notation.PRECEDENCE.values()


@pytest.mark.parametrize("name,i,xs,p", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_partials_match_central_differences(name, i, xs, p):
    spec = OPS[name]
    out = spec.forward(xs, p)
    partials = spec.partials(xs, out, p)
    assert len(partials) == len(xs)
    for k in range(len(xs)):
        numeric = central_difference(lambda v: spec.forward(tuple(v), p), xs, k)
        assert math.isclose(float(partials[k]), numeric, rel_tol=1e-6, abs_tol=1e-8), (name, k)


@pytest.mark.parametrize("name,i,xs,p", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_partials_match_sympy_diff(name, i, xs, p):
    spec = OPS[name]
    symbols = sp.symbols(f"x0:{len(xs)}", real=True)
    form = spec.sympy(sp, symbols, p)
    declared = spec.partials(symbols, form, p)
    point = dict(zip(symbols, xs))
    for k, s in enumerate(symbols):
        truth = sp.diff(form, s)
        difference = sp.simplify(sp.piecewise_fold(truth - declared[k]))
        # zero, or zero almost everywhere (sign's derivative is a Dirac delta at 0)
        assert difference.replace(sp.DiracDelta, lambda *a: 0) == 0, (name, k, difference)
        assert math.isclose(float(truth.subs(point)), float(spec.partials(xs, spec.forward(xs, p), p)[k]),
                            rel_tol=1e-12, abs_tol=1e-12), (name, k)
    # and the SymPy form computes what the forward function computes
    assert math.isclose(float(form.subs(point)), spec.forward(xs, p), rel_tol=1e-12, abs_tol=1e-12)


def test_a_broken_rule_would_be_caught(monkeypatch):
    """Guard the guard: a wrong partial fails the finite-difference comparison."""
    spec = OPS["tanh"]
    xs, p = spec.examples[0]
    wrong = (1 + spec.forward(xs, p) ** 2)  # sign slip in 1 - tanh^2
    numeric = central_difference(lambda v: spec.forward(tuple(v), p), xs, 0)
    assert not math.isclose(wrong, numeric, rel_tol=1e-6)


def test_every_latex_form_is_clean_and_parses_in_katex():
    """No control characters (a lost backslash turns \\t into a tab) and KaTeX accepts every form."""
    from tests.tex_tools import katex_errors

    formulas = []
    for name, spec in OPS.items():
        xs, p = spec.examples[0]
        latex, _ = spec.render([(f"x_{{{k}}}", notation.ATOM) for k in range(len(xs))], p, "latex")
        assert all(ch >= " " for ch in latex), (name, latex)
        formulas.append({"tex": latex, "display": False})
    assert katex_errors(formulas) == []
