"""Expressions from text: values and gradients against hand arithmetic, finite
differences, SymPy and micrograd; the node structure the parser builds."""

import math
import random

import pytest

from conftest import central_difference
from tracegrad import DomainError, InputError, Value, parse
from tracegrad.expressions.parse import MAX_DEPTH, MAX_LENGTH, parse_point, variables


def test_circuit_example_by_hand():
    # CS231n's circuit: f = (x + y)·z at x = −2, y = 5, z = −4
    x, y, z = Value(-2.0, label="x"), Value(5.0, label="y"), Value(-4.0, label="z")
    f = parse("(x + y) * z", at={"x": x, "y": y, "z": z})
    f.backward()
    assert f.data == -12.0  # (−2 + 5)·(−4)
    assert (x.grad, y.grad, z.grad) == (-4.0, -4.0, 3.0)  # z, z, x + y


def test_leaves_are_labelled_variables_and_repeats_share_one_leaf():
    f = parse("x * x + y", at={"x": 3, "y": 1})
    product, y = f.inputs
    x = product.inputs[0]
    assert product.inputs == (x, x) and x.label == "x" and x.op == "" and y.label == "y"
    f.backward()
    assert x.grad == 6.0  # d(x² + y)/dx = 2x


def test_numbers_are_const_nodes_and_a_minus_before_a_number_is_part_of_it():
    f = parse("2 * x - -3", at={"x": 1})
    product, minus_three = f.inputs
    assert product.inputs[0].op == "const" and product.inputs[0].data == 2.0
    assert minus_three.op == "const" and minus_three.data == -3.0
    assert f.data == 5.0
    g = parse("-x", at={"x": 4})
    assert g.op == "neg" and g.data == -4.0


@pytest.mark.parametrize("text, expected", [
    ("2 + 3 * 4 ** 2 / 8", 8.0),  # 2 + 3·16/8
    ("2 ** 3 ** 2", 512.0),  # right-associative: 2^(3^2)
    ("-2 ** 2", -4.0),  # Python precedence: −(2²)
    ("(1 - 2) - 3", -4.0),
    ("1 - (2 - 3)", 2.0),
    ("12 / 4 / 3", 1.0),
    ("+5", 5.0),
    ("1_000 + 0.5e1", 1005.0),
    ("max(2, 7) - min(2, 7)", 5.0),
    ("abs(-3) + relu(-1) + relu(2)", 5.0),
    ("leaky_relu(-2)", -0.02),  # default slope 0.01
    ("leaky_relu(-2, 0.1)", -0.2),
    ("sqrt(16) * log(1)", 0.0),
    ("exp(0) + tanh(0) + sigmoid(0)", 1.5),
])
def test_constant_expressions_by_hand(text, expected):
    assert parse(text).data == pytest.approx(expected, rel=1e-15)


def test_power_ops():
    assert parse("x ** 2", at={"x": 3}).op == "pow"
    assert parse("x ** 2", at={"x": 3}).params == (2.0,)
    assert parse("x ** -1", at={"x": 4}).params == (-1.0,)
    assert parse("x ** y", at={"x": 2, "y": 3}).op == "vpow"
    two_to_x = parse("2 ** x", at={"x": 3})
    assert two_to_x.op == "vpow" and two_to_x.inputs[0].op == "const" and two_to_x.data == 8.0
    assert parse("x ** (1 / 2)", at={"x": 9}).data == 3.0


# each case: text, the same function written for SymPy, a point
CASES = [
    ("(x + y) * z", lambda sp, x, y, z: (x + y) * z, (-2.0, 5.0, -4.0)),
    ("exp(x) * y - x / y + z ** 3", lambda sp, x, y, z: sp.exp(x) * y - x / y + z ** 3, (0.3, -1.7, 0.8)),
    ("tanh(x * y + z) * sigmoid(x - z)",
     lambda sp, x, y, z: sp.tanh(x * y + z) / (1 + sp.exp(-(x - z))), (0.5, -0.4, 1.2)),
    ("log(x ** 2 + y ** 2) + sqrt(z)", lambda sp, x, y, z: sp.log(x ** 2 + y ** 2) + sp.sqrt(z), (1.5, -2.0, 0.7)),
    ("x ** y + 2 ** z", lambda sp, x, y, z: x ** y + 2 ** z, (1.3, 0.6, -0.9)),
    ("relu(x - y) + abs(z) * leaky_relu(y, 0.2)",
     lambda sp, x, y, z: (x - y) + sp.Abs(z) * sp.Rational(1, 5) * y, (2.0, -1.5, -0.6)),
    ("max(x, y) * min(y, z) - -x", lambda sp, x, y, z: x * z + x, (2.5, 1.0, 0.4)),
    ("x * x * x / (y - z)", lambda sp, x, y, z: x ** 3 / (y - z), (1.1, 2.0, -0.5)),
]


@pytest.mark.parametrize("text, sym, point", CASES)
def test_values_and_gradients_against_sympy(text, sym, point):
    sp = pytest.importorskip("sympy")
    symbols = sp.symbols("x y z", real=True)
    leaves = [Value(v, label=n) for n, v in zip("xyz", point)]
    f = parse(text, at=dict(zip("xyz", leaves)))
    f.backward()
    exact = sym(sp, *symbols)
    subs = dict(zip(symbols, point))
    assert f.data == pytest.approx(float(exact.subs(subs)), rel=1e-12)
    for s, leaf in zip(symbols, leaves):
        assert leaf.grad == pytest.approx(float(sp.diff(exact, s).subs(subs)), rel=1e-10, abs=1e-12)


@pytest.mark.parametrize("text, sym, point", CASES)
def test_gradients_against_finite_differences(text, sym, point):
    def f(xs):
        return parse(text, at=dict(zip("xyz", xs))).data

    leaves = [Value(v, label=n) for n, v in zip("xyz", point)]
    parse(text, at=dict(zip("xyz", leaves))).backward()
    for i, leaf in enumerate(leaves):
        assert leaf.grad == pytest.approx(central_difference(f, list(point), i), rel=1e-6, abs=1e-8)


def test_against_micrograd():
    engine = pytest.importorskip("micrograd.engine")
    rng = random.Random(6)
    text = "relu(x * y + z ** 2) / (x - 3) - y ** 3 * 0.5"
    for _ in range(20):
        point = [rng.uniform(-2, 2) for _ in range(3)]
        ours = [Value(v, label=n) for n, v in zip("xyz", point)]
        f = parse(text, at=dict(zip("xyz", ours)))
        f.backward()
        x, y, z = (engine.Value(v) for v in point)
        g = (x * y + z ** 2).relu() / (x - 3) - y ** 3 * 0.5
        g.backward()
        assert f.data == pytest.approx(g.data, rel=1e-12)
        for a, b in zip(ours, (x, y, z)):
            assert a.grad == pytest.approx(b.grad, rel=1e-9, abs=1e-12)


def test_variables_in_order_of_first_appearance():
    assert variables("z * exp(b) + a * z - b") == ["z", "b", "a"]
    assert variables("2 + 3") == []


def test_unicode_names_and_multiline_text():
    f = parse("(α +\n β) * 2", at={"α": 1, "β": 2})
    assert f.data == 6.0 and [v.label for v in f.inputs[0].inputs] == ["α", "β"]


def test_point_must_match_the_variables():
    with pytest.raises(InputError, match=r"no value given for y"):
        parse("x + y", at={"x": 1})
    with pytest.raises(InputError, match=r"w is not in the expression \(its variables: x, y\)"):
        parse("x + y", at={"x": 1, "y": 2, "w": 3})
    with pytest.raises(InputError, match=r"value of x must be a finite number"):
        parse("x + 1", at={"x": math.nan})
    with pytest.raises(InputError, match=r"value of x must be a finite number"):
        parse("x + 1", at={"x": "2"})


def test_domain_errors_name_the_op():
    with pytest.raises(DomainError, match=r"log\(x = -1.0\): the argument must be positive"):
        parse("log(x)", at={"x": -1})
    with pytest.raises(DomainError, match=r"div"):
        parse("x / (y - y)", at={"x": 1, "y": 2})


def test_power_tower_overflows_quickly_with_a_clear_error():
    with pytest.raises(DomainError, match="overflows a 64-bit float"):
        parse("9 ** 9 ** 9 ** 9 ** 9")
    with pytest.raises(DomainError, match="overflows a 64-bit float"):
        parse("x ** 1e300", at={"x": 10})


def test_length_limit_is_exact():
    name = "v" * (MAX_LENGTH - 4)
    text = f"{name} + 1"
    assert len(text) == MAX_LENGTH
    assert parse(text, at={name: 2}).data == 3.0
    with pytest.raises(InputError, match=rf"{MAX_LENGTH + 1} characters long; the limit is {MAX_LENGTH}"):
        parse(text + " ", at={"x": 0})


@pytest.mark.parametrize("make", [
    lambda n: "-" * n + "x",  # n unary minus signs
    lambda n: "tanh(" * n + "x" + ")" * n,  # n calls
    lambda n: "x" + "+x" * n,  # n additions, (((x + x) + x) + …)
])
def test_nesting_limit_is_exact(make):
    assert parse(make(MAX_DEPTH), at={"x": 0.0}).data == 0.0
    with pytest.raises(InputError, match=rf"nests deeper than {MAX_DEPTH} levels"):
        parse(make(MAX_DEPTH + 1), at={"x": 0.0})


def test_parse_point():
    assert parse_point(["x=-2", "y = 5", "z=1e-3"]) == {"x": -2.0, "y": 5.0, "z": 0.001}
    for bad, message in [("x", "not NAME=NUMBER"), ("x=abc", "'abc' is not a number"),
                         ("1x=2", "not NAME=NUMBER"), ("x=inf", "must be finite")]:
        with pytest.raises(InputError, match=message):
            parse_point([bad])
    with pytest.raises(InputError, match="x is given twice"):
        parse_point(["x=1", "x=2"])
