"""Value graphs ↔ SymPy: symbols named from labels, shared subexpressions, the way back,
and the promise that ``import tracegrad`` stays free of SymPy."""

import math
import subprocess
import sys

import pytest
import sympy as sp

import tracegrad as tg
from tests.conftest import ROOT
from tracegrad import InputError, Role, Value, tag
from tracegrad.symbolic import from_sympy, latex, to_sympy
from tracegrad.core.notation import Math
from tracegrad.symbolic.convert import text as symbolic_text


def real(*names):
    return sp.symbols(names, real=True)


def test_expression_has_one_real_symbol_per_leaf_named_from_labels():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    e = (a * b + a).tanh() / 2
    sa, sb = real("a", "b")
    assert to_sympy(e) == sp.tanh(sa * sb + sa) / 2
    assert e.to_sympy() == to_sympy(e)


@pytest.mark.parametrize("label,latex_name,text_name", [
    ("W1[0][1]", r"\text{W1[0][1]}", "W1[0][1]"),
    ("z1[0]@3", r"\text{z1[0]@3}", "z1[0]@3"),
    ("α₂", r"\alpha _{2}", "α₂"),
    ("x1*w1", r"\left(\text{x1*w1}\right)", "(x1*w1)"),  # a label that reads as a formula: one operand
])
def test_a_graph_symbol_is_printed_as_the_node_view_writes_its_label(label, latex_name, text_name):
    x, y = Value(2.0, label=label), Value(3.0, label="y")
    expr = to_sympy(x * y)
    assert latex(expr) in (rf"{latex_name} \text{{y}}", rf"\text{{y}} {latex_name}")
    assert symbolic_text(expr) in (f"{text_name}·y", f"y·{text_name}")


def test_text_writes_the_derivations_operators_around_any_symbol_text():
    a, b = sp.symbols("a b", real=True)
    names = {a: Math("a", "x*-1"), b: Math("b", "β")}  # symbol text with operator characters stays as given
    assert symbolic_text((a - b) ** 2 * sp.exp(-a) / b ** 0.5, names) == "((x*-1) − β)²·exp(−(x*-1))/β^0.5"


def test_roles_do_not_change_how_a_value_graph_is_printed():
    w = tag(Value(0.5), Role("W", 1, (0, 1)))
    x = tag(Value(2.0), Role("x", None, (0,)))
    b = tag(Value(0.1), Role("b", 1, (1,)))
    assert latex(to_sympy(w * x + b)) == r"\text{W1[0][1]} \text{x[0]} + \text{b1[1]}"


def test_constants_are_numbers_and_unlabelled_or_repeated_leaves_stay_distinct():
    u, v = Value(1.5), Value(2.5)
    x1, x2 = Value(3.0, label="x"), Value(4.0, label="x")
    e = 2 * u + 0.5 * v + x1 * x2
    s_v1, s_v2, s_x, s_x2 = real("v1", "v2", "x", "x'")
    assert to_sympy(e) == 2 * s_v1 + sp.Float(0.5) * s_v2 + s_x * s_x2
    assert len(to_sympy(e).free_symbols) == 4


def test_subexpressions_are_converted_once_and_shared():
    a, b = Value(0.3, label="a"), Value(0.7, label="b")
    c = a * b + a
    e = c.tanh() * c.exp()
    expr = to_sympy(e)
    tanh_part = next(f for f in expr.args if isinstance(f, sp.tanh))
    exp_part = next(f for f in expr.args if isinstance(f, sp.exp))
    assert tanh_part.args[0] is exp_part.args[0]  # the same object, not an equal copy


def test_a_deep_graph_gets_a_clear_error_as_one_expression_and_verifies_with_named_steps():
    x = Value(0.1, label="x")
    y = x
    for _ in range(400):
        y = (y * 1.5).tanh()
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)  # Python's default, whatever other code set
    try:
        with pytest.raises(InputError, match="nested too deeply"):
            to_sympy(y)
    finally:
        sys.setrecursionlimit(limit)
    from tracegrad.symbolic import verify

    report = verify(y)
    assert report.ok and [i.name for i in report.items] == ["x"]


def test_from_sympy_computes_the_expression_and_its_gradients():
    x, w, b = real("x", "w", "b")
    expr = sp.tanh(w * x + b) / (1 + sp.exp(-x)) + sp.log(w) ** 2 - sp.sqrt(x) + sp.Abs(b) * x ** w
    point = {x: 1.3, "w": 0.7, b: -0.4}
    root = from_sympy(expr, point)
    exact = {x: sp.Float(1.3, 30), w: sp.Float(0.7, 30), b: sp.Float(-0.4, 30)}
    assert math.isclose(root.data, float(expr.evalf(30, subs=exact)), rel_tol=1e-13)
    root.backward()
    t = tg.trace(root, backward=False)
    for s in (x, w, b):
        expected = float(sp.diff(expr, s).evalf(30, subs=exact))
        assert math.isclose(t[s.name].grad, expected, rel_tol=1e-11), s


def test_from_sympy_shares_subexpressions_and_round_trips():
    x, y = real("x", "y")
    inner = sp.exp(x * y)
    expr = inner * sp.log(inner + 1) - sp.Max(x, y)
    root = from_sympy(expr, {"x": 0.5, "y": -2.0})
    exps = [n for n in tg.nodes_below(root) if n.op == "exp"]
    assert len(exps) == 1  # exp(x·y) built once
    assert sp.simplify(to_sympy(root) - expr.rewrite(sp.Piecewise)) == 0


def test_from_sympy_refuses_unknown_nodes_and_text():
    x = sp.Symbol("x", real=True)
    with pytest.raises(InputError, match="sin"):
        from_sympy(sp.sin(x), {x: 1.0})
    with pytest.raises(InputError, match="never parsed"):
        from_sympy("x + 1", {"x": 1.0})
    with pytest.raises(InputError, match="'x'"):
        from_sympy(x + 1, {})
    with pytest.raises(InputError, match="'x'"):
        from_sympy(x + 1, {"x": float("nan")})


def run_python(code):
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.strip()


def test_import_tracegrad_does_not_import_sympy():
    code = ("import sys, tracegrad\n"
            "from tracegrad.cli import build_parser\n"
            "build_parser()\n"
            "v = tracegrad.Value(2.0) * 3; v.backward()\n"
            "print('sympy' in sys.modules)\n"
            "tracegrad.from_sympy\n"
            "print('sympy' in sys.modules)")
    assert run_python(code).split() == ["False", "True"]


def test_a_plain_derivation_does_not_import_sympy():
    code = ("import contextlib, io, sys\n"
            "from tracegrad.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    main(['derive', 'examples/seed.toml'])\n"
            "print('sympy' in sys.modules)")
    assert run_python(code) == "False"
