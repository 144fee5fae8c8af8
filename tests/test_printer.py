"""One printer: every printed formula reads back as the formula it prints.

Each formula a derivation prints (every quantity's line, every activation's definition, the
loss, the optimizer's rule) is parsed back from its text and from its LaTeX by the small
parsers below, which follow the usual conventions of mathematics and know nothing of
tracegrad's printer: a power binds tighter than a product, a product or quotient tighter than
a sum, operators of one level read left to right, ∂L/∂W₂² is ∂L over ∂W₂², √x² is (√x)². The
parse is evaluated at arbitrary values of its names and compared with the formula's own value,
a symbol such as ∂L/∂W₂ being worth what its own printed text parses to (∂L over ∂W₂). A
printer that drops needed parentheses (the square of ∂L/∂W₂ printed ∂L/∂W₂²) therefore fails,
whatever a golden file says. In LaTeX a superscript after a ``\\frac`` group or after a name
that already carries a superscript or a prime is refused as ambiguous to a reader.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import re
from pathlib import Path

import numpy as np
import pytest

from tracegrad.core.formula import Formula, Sym

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.toml") if "[[layers]]" in p.read_text(encoding="utf-8"))


class Ambiguous(ValueError):
    """Printed math a reader cannot parse one way only."""


def _value(name: str) -> float:
    """A name's arbitrary but fixed value in [0.6, 1.4] (e is Euler's number)."""
    if name == "e":
        return math.e
    digest = hashlib.sha256(name.encode()).digest()
    return 0.6 + 0.8 * int.from_bytes(digest[:4], "big") / 2 ** 32


def _function(name: str, args: list, params: list) -> float:
    known = {
        "exp": lambda x: math.exp(x), "log": lambda x: math.log(x) if x > 0 else math.nan, "tanh": math.tanh, "σ": lambda x: 1 / (1 + math.exp(-x)),
        "\\sigma": lambda x: 1 / (1 + math.exp(-x)), "ReLU": lambda x: max(x, 0.0), "sgn": lambda x: float(np.sign(x)),
        "softmax": lambda x: 1.0,  # of one unit
    }
    if name in ("max", "min"):
        return max(args) if name == "max" else min(args)
    if name == "LeakyReLU":
        return args[0] if args[0] > 0 else params[0] * args[0]
    if name in known:
        return known[name](*args)
    a, b = _value(name + "/a"), _value(name + "/b")  # any other f(x): a fixed affine function
    return a + b * sum(args)


_RELATIONS = {">": lambda a, b: a > b, "<": lambda a, b: a < b, "≤": lambda a, b: a <= b, "≥": lambda a, b: a >= b,
              "\\le": lambda a, b: a <= b, "\\ge": lambda a, b: a >= b}


class _Parser:
    """Recursive descent over tokens ``(kind, text)``; the grammar is the same for both formats."""

    def __init__(self, tokens, env):
        self.tokens, self.i, self.env = tokens + [("end", "")], 0, env

    def peek(self, k=0):
        return self.tokens[self.i + k]

    def take(self, kind=None, text=None):
        tok = self.tokens[self.i]
        if (kind and tok[0] != kind) or (text is not None and tok[1] != text):
            raise Ambiguous(f"expected {kind} {text!r}, found {tok}")
        self.i += 1
        return tok

    def parse(self):
        value = self.relation()
        if self.peek()[0] != "end":
            raise Ambiguous(f"left over: {self.tokens[self.i:]}")
        return value

    def relation(self):
        left = self.additive()
        if self.peek()[0] == "rel":
            op = self.take()[1]
            return float(_RELATIONS[op](left, self.additive()))
        return left

    def additive(self):
        value = self.term()
        while self.peek() in (("op", "+"), ("op", "-")):
            op = self.take()[1]
            right = self.term()
            value = value + right if op == "+" else value - right
        return value

    def term(self):
        value = self.factor()
        while True:
            tok = self.peek()
            if tok in (("op", "*"), ("op", "/")):
                self.take()
                right = self.factor()
                value = value * right if tok[1] == "*" else value / right
            elif tok[0] in ("num", "name", "open", "bar", "norm", "frac", "sqrt", "sum", "indicator", "cases") \
                    and self.previous_allows_juxtaposition():
                value = value * self.factor()
            else:
                return value

    def previous_allows_juxtaposition(self):
        return self.tokens[self.i - 1][0] in ("num", "close", "close_group", "sup", "name_end", "transpose", "bar_end",
                                              "norm_end", "bracket_end", "end_cases")

    def factor(self):
        tok = self.peek()
        if tok == ("op", "-"):
            self.take()
            return -self.factor()
        if tok[0] == "sum":
            self.take()
            return self.term()  # Σ of one value: the value (the summand runs to the right)
        return self.power()

    def power(self):
        value, kind = self.atom()
        while True:
            tok = self.peek()
            if tok[0] == "sup":
                if kind == "frac":
                    raise Ambiguous("a superscript after a fraction")
                if kind == "raised":
                    raise Ambiguous("a second superscript on one name")
                self.take()
                value, kind = value ** tok[1](self), "power"
            elif tok[0] == "transpose":
                self.take()
            else:
                return value

    def atom(self):
        tok = self.take()
        kind = tok[0]
        if kind == "num":
            return float(tok[1]), "atom"
        if kind == "sqrt":
            value, inner = self.atom()
            return (math.sqrt(value) if value >= 0 else math.nan), "atom"
        if kind == "frac":
            top = self.group()
            bottom = self.group()
            return top / bottom, "frac"
        if kind == "group":  # a TeX group { … } as one atom
            value = self.relation()
            self.take("close_group")
            return value, "atom"
        if kind == "open":
            value = self.relation()
            if self.peek() == ("word", "if"):
                self.take()
                condition = self.relation()
                self.take("word", "else")
                otherwise = self.relation()
                value = value if condition else otherwise
            self.take("close")
            return value, "atom"
        if kind == "cases":
            yes, holds = self.relation(), None
            self.take("amp")
            holds = self.relation()
            self.take("row")
            no = self.relation()
            self.take("amp")
            self.relation()
            self.take("end_cases")
            return (yes if holds else no), "atom"
        if kind == "bar":
            value = self.relation()
            self.take("bar_end")
            return abs(value), "atom"
        if kind == "norm":
            value = self.relation()
            self.take("norm_end")
            return abs(value), "atom"
        if kind == "indicator":
            value = self.relation()
            self.take("bracket_end")
            return value, "atom"
        if kind == "name":
            name, raised = tok[1]
            params = []
            if self.peek()[0] == "params":
                params = [float(p) for p in self.take()[1]]
            if self.peek()[0] == "call":  # f( … )
                self.take()
                args = [self.relation()]
                while self.peek()[0] == "comma":
                    self.take()
                    args.append(self.relation())
                self.take("close")
                return _function(name, args, params), "atom"
            self.tokens[self.i - 1] = ("name_end", name)
            return self.env.get(name, _value(name)), ("raised" if raised else "atom")
        raise Ambiguous(f"unexpected {tok}")

    def group(self):
        self.take("group")
        value = self.relation()
        self.take("close_group")
        return value


# --- text ---------------------------------------------------------------------------------

_SUPERSCRIPT_VALUES = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789"))
_NAME = re.compile(r"∂?[^\W\d_Σ√][A-Za-z]*(?:[\u0300-\u036f]|[₀-₉ᵢⱼₖₛₓₒₘₐ₊₋]|′|_[A-Za-z]+)*")
_FUNCTION_HEADS = {"exp", "log", "tanh", "σ", "ReLU", "LeakyReLU", "max", "min", "sgn", "softmax"}
_SINGLE = {"ᵀ": ("transpose", "ᵀ"), "√": ("sqrt", "√"), "(": ("open", "("), ")": ("close", ")"), ",": ("comma", ","),
           "+": ("op", "+"), "−": ("op", "-"), "-": ("op", "-"), "·": ("op", "*"), "×": ("op", "*"), "⊙": ("op", "*"),
           "/": ("op", "/"), "<": ("rel", "<"), ">": ("rel", ">"), "≤": ("rel", "≤"), "≥": ("rel", "≥")}


def text_tokens(text: str) -> list:
    tokens, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch == " ":
            i += 1
        elif text.startswith("1[", i) and (not tokens or tokens[-1][0] not in ("num", "name")):
            tokens.append(("indicator", "1["))
            i += 2
        elif ch == "]":
            tokens.append(("bracket_end", ch))
            i += 1
        elif m := re.compile(r"\d+(\.\d+)?").match(text, i):
            tokens.append(("num", m.group()))
            i = m.end()
        elif ch == "½":
            tokens.append(("num", "0.5"))
            i += 1
        elif ch in "⁻⁰¹²³⁴⁵⁶⁷⁸⁹ᵗⁿ":
            j = i
            while j < len(text) and text[j] in "⁻⁰¹²³⁴⁵⁶⁷⁸⁹ᵗⁿ":
                j += 1
            raised = text[i:j]
            if raised in ("ᵗ", "ⁿ"):
                tokens.append(("sup", lambda p, r=raised: p.env.get("t" if r == "ᵗ" else "n", _value("t" if r == "ᵗ" else "n"))))
            else:
                exponent = float(("-" if raised.startswith("⁻") else "") +
                                 "".join(_SUPERSCRIPT_VALUES[c] for c in raised.lstrip("⁻")))
                tokens.append(("sup", lambda p, e=exponent: e))
            i = j
        elif ch == "^":
            tokens.append(("sup", lambda p: p.power_exponent()))
            i += 1
        elif ch in _SINGLE:
            tokens.append(_SINGLE[ch])
            i += 1
        elif ch == "Σ":
            j = i + 1
            while j < len(text) and text[j] in "ᵢⱼₖₛ":
                j += 1
            tokens.append(("sum", text[i:j]))
            i = j
        elif ch in "|‖":  # opening after an operator or a bracket, else closing
            opening = not tokens or tokens[-1][0] in ("op", "open", "comma", "rel", "bar", "norm", "call", "sqrt", "sum",
                                                      "word", "indicator")
            kind = "bar" if ch == "|" else "norm"
            tokens.append((kind if opening else f"{kind}_end", ch))
            i += 1
        elif text.startswith(("if ", "else "), i):
            word = "if" if text.startswith("if", i) else "else"
            tokens.append(("word", word))
            i += len(word)
        elif m := _NAME.match(text, i):
            name = m.group()
            i = m.end()
            params = None
            if text.startswith("[", i) and name in _FUNCTION_HEADS:
                j = text.index("]", i)
                params = text[i + 1:j].split(", ")
                i = j + 1
                if text.startswith("′", i):  # LeakyReLU[0.01]′: a derivative, a function of its own
                    name, params, i = text[m.start():i + 1], None, i + 1
            raised = "′" in name
            tokens.append(("name", (name, raised)))
            if params is not None:
                tokens.append(("params", params))
            if text.startswith("(", i):
                tokens.append(("call", "("))
                i += 1
        else:
            raise Ambiguous(f"cannot read {text[i:]!r} in {text!r}")
    return tokens


def _power_exponent(self):
    value, _ = self.atom()
    return value


_Parser.power_exponent = _power_exponent


def parse_text(text: str, env: dict | None = None) -> float:
    """The value of printed plain text, read by the usual conventions."""
    env = dict(env or {})
    if ",  " in text:  # main,  Lₛ = definition
        main, part = text.split(",  ", 1)
        name, definition = part.split(" = ", 1)
        env[name] = parse_text(definition, env)
        text = main
    return _Parser(text_tokens(text), env).parse()


# --- LaTeX --------------------------------------------------------------------------------

_GREEK = {"alpha", "beta", "gamma", "delta", "epsilon", "eta", "theta", "lambda", "mu", "sigma", "tau", "Delta"}
_LATEX_FUNCTIONS = {r"\log": "log", r"\tanh": "tanh", r"\max": "max", r"\min": "min", r"\exp": "exp"}


def _braced(text: str, i: int) -> int:
    """The index after the group that opens at ``text[i] == "{"``."""
    depth = 0
    for j in range(i, len(text)):
        depth += {"{": 1, "}": -1}.get(text[j], 0)
        if depth == 0:
            return j + 1
    raise Ambiguous(f"unbalanced braces in {text!r}")


def latex_tokens(text: str) -> list:
    tokens, i = [], 0

    def name_tail(i):
        """Subscripts, primes and a superscript written into a name (σ^{2}_{1}) after ``text[i]``."""
        start, raised = i, False
        while i < len(text):
            if text.startswith("_{", i):
                i = _braced(text, i + 1)
            elif text[i] == "_" and i + 1 < len(text):
                i += 2
            elif text[i] == "'":
                i, raised = i + 1, True
            elif text.startswith("^{", i) and text.startswith("_{", _braced(text, i + 1)):
                i, raised = _braced(text, i + 1), True
            elif text.startswith("[", i) and re.match(r"\[\d+\]", text[i:]):
                i = text.index("]", i) + 1
            else:
                break
        return text[start:i], i, raised

    while i < len(text):
        ch = text[i]
        if ch == " ":
            i += 1
        elif text.startswith(r"\left(", i):
            tokens.append(("open", "("))
            i += 6
        elif text.startswith(r"\right)", i):
            tokens.append(("close", ")"))
            i += 7
        elif text.startswith(r"\left|", i):
            tokens.append(("bar", "|"))
            i += 6
        elif text.startswith(r"\right|", i):
            tokens.append(("bar_end", "|"))
            i += 7
        elif text.startswith(r"\left\lVert", i):
            tokens.append(("norm", "‖"))
            i += 11
        elif text.startswith(r"\right\rVert", i):
            tokens.append(("norm_end", "‖"))
            i += 12
        elif text.startswith(r"\mathbb{1}\left[", i):
            tokens.append(("indicator", "1["))
            i += 16
        elif text.startswith(r"\right]", i):
            tokens.append(("bracket_end", "]"))
            i += 7
        elif text.startswith(r"\begin{cases}", i):
            tokens.append(("cases", ""))
            i += 13
        elif text.startswith(r"\end{cases}", i):
            tokens.append(("end_cases", ""))
            i += 11
        elif text.startswith("\\\\", i):
            tokens.append(("row", ""))
            i += 2
        elif ch == "&":
            tokens.append(("amp", ""))
            i += 1
        elif text.startswith(r"\frac", i):
            tokens.append(("frac", ""))
            i += 5
        elif text.startswith(r"\sqrt", i):
            tokens.append(("sqrt", ""))
            i += 5
        elif text.startswith(r"\sum", i):
            i += 4
            while text.startswith(("_{", "^{"), i):
                i = _braced(text, i + 1)
            tokens.append(("sum", ""))
        elif text.startswith("^{", i):
            end = _braced(text, i + 1)
            inner = text[i + 2:end - 1]
            if inner == r"\top":
                tokens.append(("transpose", ""))
            else:
                tokens.append(("sup", lambda p, inner=inner: parse_latex(inner, p.env)))
            i = end
        elif ch == "{":
            tokens.append(("group", "{"))
            i += 1
        elif ch == "}":
            tokens.append(("close_group", "}"))
            i += 1
        elif ch == ",":
            tokens.append(("comma", ","))
            i += 1
        elif text.startswith((r"\cdot", r"\times", r"\odot"), i):
            tokens.append(("op", "*"))
            i = re.compile(r"\\[a-z]+").match(text, i).end()
        elif ch in "+-":
            tokens.append(("op", ch))
            i += 1
        elif ch in "<>":
            tokens.append(("rel", ch))
            i += 1
        elif text.startswith((r"\le ", r"\ge "), i):
            tokens.append(("rel", text[i:i + 3]))
            i += 3
        elif m := re.compile(r"\d+(\.\d+)?").match(text, i):
            tokens.append(("num", m.group()))
            i = m.end()
        else:
            start = i
            if text.startswith(r"\partial ", i):
                i += 9
            if text.startswith(r"\operatorname{", i) or text.startswith((r"\hat{", r"\tilde{", r"\bar{", r"\text{"), i):
                i = _braced(text, text.index("{", i))
            elif m := re.compile(r"\\([A-Za-z]+)").match(text, i):
                if m.group(1) not in _GREEK and m.group() not in _LATEX_FUNCTIONS:
                    raise Ambiguous(f"unknown command {m.group()} in {text!r}")
                i = m.end()
            elif re.match(r"[A-Za-z]", text[i]):
                i += 1
            else:
                raise Ambiguous(f"cannot read {text[i:]!r} in {text!r}")
            head = text[start:i]
            tail, i, raised = name_tail(i)
            name = head + tail
            function = _LATEX_FUNCTIONS.get(head) or (head[len(r"\operatorname{"):-1] if head.startswith(r"\operatorname{")
                                                      else None)
            if head in (r"\sigma",) and not tail and text.startswith(r"\left(", i):
                function = r"\sigma"
            if "'" in tail and text.startswith(r"\left(", i):
                function = name  # f'(z): a derivative, a function of its own
            params = None
            if function == "LeakyReLU" and tail.startswith("_{"):
                params = [tail[2:-1]]
                name = head
            tokens.append(("name", (function or name, raised)))
            if params is not None:
                tokens.append(("params", params))
            if function is not None and text.startswith(r"\left(", i):
                tokens.append(("call", "("))
                i += 6
    return tokens


def parse_latex(text: str, env: dict | None = None) -> float:
    """The value of printed LaTeX, read by the usual conventions (and TeX's for groups)."""
    env = dict(env or {})
    if r", \quad " in text:
        main, part = text.split(r", \quad ", 1)
        name, definition = part.split(" = ", 1)
        env[name] = parse_latex(definition, env)
        text = main
    return _Parser(latex_tokens(text), env).parse()


# --- the formula's own value, each symbol worth its printed text --------------------------


def _own_value(f: Formula, fmt: str) -> float:
    """``f`` evaluated with each symbol worth what its own printed form parses to."""
    parse = parse_latex if fmt == "latex" else parse_text
    env: dict = {}

    def rebuilt(node):
        if isinstance(node, Sym):  # keyed by what it prints: a Where's part and its uses stay one name
            shown = node.latex if fmt == "latex" else node.text
            env[f"#{shown}"] = np.array([[parse(shown)]])
            return Sym(node.latex, node.text, f"#{shown}")
        if isinstance(node, tuple):
            return tuple(rebuilt(n) for n in node)
        if not isinstance(node, Formula) or not dataclasses.is_dataclass(node):
            return node
        changes = {fld.name: rebuilt(getattr(node, fld.name)) for fld in dataclasses.fields(node)
                   if isinstance(getattr(node, fld.name), (Formula, tuple))}
        return dataclasses.replace(node, **changes)

    with np.errstate(all="ignore"):
        return float(np.asarray(rebuilt(f).evaluate(env), dtype=float).ravel()[0])


def assert_reads_back(f: Formula, where: str = ""):
    for fmt in ("text", "latex"):
        printed = f.render(fmt)
        own = _own_value(f, fmt)
        try:
            read = parse_latex(printed) if fmt == "latex" else parse_text(printed)
        except Ambiguous as e:
            raise AssertionError(f"{where}: {printed!r} is ambiguous: {e}") from None
        assert math.isclose(read, own, rel_tol=1e-9, abs_tol=1e-12) or (math.isnan(read) and math.isnan(own)), \
            f"{where}: {printed!r} reads as {read}, the formula is {own}"


# --- the tests ----------------------------------------------------------------------------


def test_the_parsers_read_the_usual_conventions():
    v = _value
    assert math.isclose(parse_text("∂L/∂W₂²"), v("∂L") / v("∂W₂") ** 2)
    assert math.isclose(parse_text("(∂L/∂W₂)²"), (v("∂L") / v("∂W₂")) ** 2)
    assert math.isclose(parse_text("(1 − β₂)·(∂L/∂W₂)²"), (1 - v("β₂")) * (v("∂L") / v("∂W₂")) ** 2)
    assert math.isclose(parse_text("η·m̂(W₂) / (√v̂(W₂) + ε)"),
                        v("η") * _function("m̂", [v("W₂")], []) / (math.sqrt(_function("v̂", [v("W₂")], [])) + v("ε")))
    assert math.isclose(parse_text("−y / p"), -v("y") / v("p")) and math.isclose(parse_text("a − b − c"), v("a") - v("b") - v("c"))
    assert math.isclose(parse_latex(r"\left(\frac{\partial L}{\partial W_{2}}\right)^{2}"),
                        (v(r"\partial L") / v(r"\partial W_{2}")) ** 2)
    assert math.isclose(parse_latex(r"\frac{1}{2}\left(\hat{y} - y\right)^{2}"), 0.5 * (v(r"\hat{y}") - v("y")) ** 2)
    with pytest.raises(Ambiguous):  # a reader sees ∂W₂ squared
        parse_latex(r"\frac{\partial L}{\partial W_{2}}^{2}")
    with pytest.raises(Ambiguous):
        parse_latex(r"\sigma^{2}_{1}^{2}")


def test_adam_squares_the_gradient_not_its_denominator():
    import tracegrad as tg
    from tracegrad.problem.formulas import formula

    worked = tg.solve(tg.load_problem(ROOT / "examples" / "adam.toml"))
    f = formula(worked, worked.quantities["v_W2"])
    assert f.render("text") == "β₂·v(W₂) + (1 − β₂)·(∂L/∂W₂)²"
    assert f.render("latex").endswith(r"\left(1 - \beta_{2}\right)\left(\frac{\partial L}{\partial W_{2}}\right)^{2}")
    assert_reads_back(f, "v_W2")
    # the tree the printer writes, read back: a square of a quotient, in both formats
    g, b2 = _value("∂L") / _value("∂W₂"), _value("β₂")
    prev = _function("v", [_value("W₂")], [])
    assert math.isclose(parse_text(f.render("text")), b2 * prev + (1 - b2) * g ** 2)


def _printed_formulas(worked):
    """Every formula the layer view prints: each quantity's, the loss, each activation's
    definition, the optimizer's rule and the summary of the recursion."""
    from tracegrad.problem.formulas import definitions, formula, loss_formula, recursion, rule

    for name, q in worked.quantities.items():
        f = formula(worked, q)
        if f is not None:
            yield name, f
    yield "L", loss_formula(worked)
    for general in (*definitions(worked), *rule(worked), *recursion(worked)):
        yield f"{general.key}: {general.math().text}", general.formula


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_printed_formula_of_every_example_reads_back(path):
    import tracegrad as tg

    worked = tg.solve(tg.load_problem(path))
    for name, f in _printed_formulas(worked):
        assert_reads_back(f, f"{path.stem}: {name}")


LOSSES_AND_ACTIVATIONS = [(loss, act) for loss in ("half_se", "mse", "mae", "bce", "bce_logits", "cce", "cce_logits", "hinge")
                          for act in ("sigmoid", "tanh", "relu", "leaky_relu", "softmax", "identity")]


@pytest.mark.parametrize("loss,activation", LOSSES_AND_ACTIVATIONS)
def test_every_loss_and_activation_reads_back(loss, activation, tmp_path):
    import tracegrad as tg

    targets = {"bce": "[1, 0]", "bce_logits": "[1, 0]", "cce": "[1, 0]", "cce_logits": "[1, 0]", "hinge": "[1, -1]"}
    problem = tmp_path / "p.toml"
    problem.write_text(f"""
[[layers]]
weights = [[0.5, -0.3], [0.2, 0.8]]
bias = [0.1, -0.1]
activation = "tanh"

[[layers]]
weights = [[0.4, -0.6], [0.7, 0.1]]
bias = [0.05, 0.02]
activation = "{activation}"

[data]
x = [[1, 2], [0.5, -1]]
y = [{targets.get(loss, "[0.3, -0.2]")}, {targets.get(loss, "[0.1, 0.6]")}]

[loss]
name = "{loss}"
l2 = 0.01

[optimizer]
name = "adam"
lr = 0.1
""", encoding="utf-8")
    try:
        worked = tg.solve(tg.load_problem(problem))
    except tg.TraceGradError:
        pytest.skip("not a valid combination")
    for name, f in _printed_formulas(worked):
        assert_reads_back(f, f"{loss}/{activation}: {name}")
