"""Expressions from text: a safe parser that builds a ``Value`` graph.

>>> root = parse("(x + y) * z", at={"x": -2, "y": 5, "z": -4})
>>> root.data
-12.0

The text is never evaluated. Python's own parser turns it into a syntax tree
(``ast.parse``, which only parses), a whitelist walk converts that tree and
refuses everything else, and the graph is then built through the op table.

Allowed: numbers (``2``, ``0.5``, ``1e-3``), variable names (not starting with
``_``), ``+ - * / **``, unary minus, parentheses, and the functions of the op
table marked ``function=True`` (:data:`tracegrad.core.ops.FUNCTIONS`): ``exp log
sqrt tanh sigmoid relu leaky_relu abs max min``. An op parameter (the slope of
``leaky_relu``) is a number written after the inputs: ``leaky_relu(x, 0.1)``.

Limits: at most :data:`MAX_LENGTH` characters, and at most :data:`MAX_DEPTH`
levels of nesting, where every operator, unary minus and function call is one
level (``exp(x + y)`` has two; ``a + b + c`` has two, as ``(a + b) + c``).

How the text maps to nodes: each variable is one leaf labelled with its name
(``x * x`` uses the leaf ``x`` twice); each number written is a ``const`` node,
a minus sign written directly before a number included (``-2``); ``x ** 2``
with a number exponent is the op ``pow``, any other exponent (``x ** y``,
``2 ** x``, ``x ** (1/2)``) is ``vpow``. All arithmetic is in 64-bit floats,
so a power tower such as ``9 ** 9 ** 9`` ends in a clear overflow error, never
in unbounded work.
"""

from __future__ import annotations

import ast
import inspect
import math
import unicodedata

from ..core.errors import InputError
from ..core.ops import FUNCTIONS, OPS
from ..core.value import Value, apply, const

MAX_LENGTH = 1000
"""Longest expression accepted, in characters."""

MAX_DEPTH = 100
"""Deepest nesting accepted: operators, unary minus and calls on the longest path."""

BINARY = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div"}

REFUSED_OPERATORS = {
    ast.FloorDiv: "floor division //", ast.Mod: "the remainder operator %", ast.MatMult: "the operator @",
    ast.LShift: "the shift operator <<", ast.RShift: "the shift operator >>", ast.BitOr: "the operator |",
    ast.BitAnd: "the operator &", ast.BitXor: "the operator ^ (for a power write x ** 2)",
    ast.Not: "not", ast.Invert: "the operator ~",
}

REFUSED_SYNTAX = {
    ast.Lambda: "lambda",
    ast.ListComp: "comprehensions", ast.SetComp: "comprehensions", ast.DictComp: "comprehensions",
    ast.GeneratorExp: "comprehensions", ast.List: "lists", ast.Tuple: "tuples (a comma outside a call)",
    ast.Set: "sets", ast.Dict: "dicts", ast.Compare: "comparisons", ast.BoolOp: "and/or",
    ast.IfExp: "conditional expressions (... if ... else ...)", ast.NamedExpr: "assignments (:=)",
    ast.JoinedStr: "f-strings", ast.Await: "await", ast.Yield: "yield", ast.YieldFrom: "yield",
    ast.Starred: "starred arguments (*x)", ast.Slice: "slices",
}


def signature(name: str) -> str:
    """``leaky_relu(x[, alpha])``: how a function of the op table is written."""
    spec = FUNCTIONS[name]
    inputs = {1: "x", 2: "a, b"}.get(spec.arity, "...")
    params = "".join(f"[, {p}]" for p in spec.params)
    return f"{name}({inputs}{params})"


def usage(name: str) -> str:
    """How function ``name`` is called: ``exp takes 1 input; write exp(x)``."""
    spec = FUNCTIONS[name]
    n = spec.arity
    return (f"{name} takes {n} input{'s' if n > 1 else ''}"
            + (f" and optional {', '.join(spec.params)}" if spec.params else "") + f"; write {signature(name)}")


ALLOWED = ("an expression may use numbers, variable names, + - * / **, unary minus, parentheses "
           "and the functions " + ", ".join(signature(name) for name in FUNCTIONS))
"""What the parser accepts, as shown in its error messages."""


class Refused(Exception):
    """A construct the whitelist does not allow, at an AST node."""

    def __init__(self, problem: str, node=None, after=None):
        super().__init__(problem)
        self.problem = problem
        self.node = node
        self.after = after  # point just after this node instead (an operator, a dot)


# --- converting the syntax tree into a small intermediate form ---------------------------
# ("const", number) | ("var", name) | (OpSpec, (argument forms ...), params)


def number_literal(node) -> float:
    """The number a literal writes, as a float; anything else (strings, ``True``, huge) refused."""
    value = node.value
    if isinstance(value, (str, bytes)):
        raise Refused("strings are not allowed", node)
    if isinstance(value, complex):
        raise Refused("complex numbers are not allowed", node)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Refused(f"{value!r} is not a number", node)
    try:
        number = float(value)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):
        raise Refused("this number is too large for a 64-bit float (the largest is about 1.8e308)", node)
    return number


def _signed_number(node):
    """The number written at ``node`` (a literal, or a literal with a sign), else ``None``."""
    sign = 1.0
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        sign = -1.0 if isinstance(node.op, ast.USub) else 1.0
        node = node.operand
    if isinstance(node, ast.Constant):
        return sign * number_literal(node)
    return None


def _defaults(spec) -> tuple:
    """Default parameters of a function op, from its ``Value`` method (``leaky_relu(alpha=0.01)``)."""
    method = getattr(Value, spec.name, None)
    if method is None:
        return ()
    found = [p.default for p in inspect.signature(method).parameters.values()
             if p.name in spec.params and p.default is not inspect.Parameter.empty]
    return tuple(found) if len(found) == len(spec.params) else ()


DEFAULTS = {name: _defaults(spec) for name, spec in FUNCTIONS.items()}


def _call(node, depth):
    if not isinstance(node.func, ast.Name):
        _convert(node.func, depth + 1)  # names the problem inside, such as an attribute
        raise Refused("only the listed functions may be called, by name", node)
    name = node.func.id
    if name not in FUNCTIONS:
        raise Refused(f"unknown function {name}()", node.func)
    spec = FUNCTIONS[name]
    if node.keywords:
        raise Refused(f"keyword arguments are not allowed; write {signature(name)}", node.keywords[0].value)
    for arg in node.args:
        if isinstance(arg, ast.Starred):
            raise Refused(f"not allowed: {REFUSED_SYNTAX[ast.Starred]}", arg)
    n = spec.arity
    given = node.args[n:]
    if len(node.args) < n or len(given) > len(spec.params) or (len(given) < len(spec.params) and not DEFAULTS[name]):
        raise Refused(usage(name), node)
    params = []
    for param_name, arg in zip(spec.params, given):
        number = _signed_number(arg)
        if number is None:
            raise Refused(f"the {param_name} of {name} must be a number written out, such as 0.1", arg)
        params.append(number)
    params += DEFAULTS[name][len(params):]
    args = tuple(_convert(arg, depth + 1) for arg in node.args[:n])
    return spec, args, tuple(params)


def _convert(node, depth):
    if depth > MAX_DEPTH:
        raise Refused(f"the expression nests deeper than {MAX_DEPTH} levels", node)
    if isinstance(node, ast.Constant):
        return "const", number_literal(node)
    if isinstance(node, ast.Name):
        if node.id.startswith("_"):
            raise Refused(f"names starting with _ are not allowed ({node.id})", node)
        if node.id in FUNCTIONS:
            raise Refused(f"{node.id} is a function; call it as {signature(node.id)}", node)
        return "var", node.id
    if isinstance(node, ast.UnaryOp):
        if type(node.op) in REFUSED_OPERATORS:
            raise Refused(f"not allowed: {REFUSED_OPERATORS[type(node.op)]}", node)
        number = _signed_number(node)
        if number is not None:
            return "const", number
        inner = _convert(node.operand, depth + 1)
        return inner if isinstance(node.op, ast.UAdd) else (OPS["neg"], (inner,), ())
    if isinstance(node, ast.BinOp):
        if type(node.op) in REFUSED_OPERATORS:
            raise Refused(f"not allowed: {REFUSED_OPERATORS[type(node.op)]}", node, after=node.left)
        left = _convert(node.left, depth + 1)
        if isinstance(node.op, ast.Pow):
            exponent = _signed_number(node.right)
            if exponent is not None:
                return OPS["pow"], (left,), (exponent,)
            return OPS["vpow"], (left, _convert(node.right, depth + 1)), ()
        return OPS[BINARY[type(node.op)]], (left, _convert(node.right, depth + 1)), ()
    if isinstance(node, ast.Call):
        return _call(node, depth)
    if isinstance(node, ast.Attribute):
        raise Refused(f"not allowed: attribute access (.{node.attr})", node, after=node.value)
    if isinstance(node, ast.Subscript):
        raise Refused("not allowed: subscripts ([...])", node, after=node.value)
    raise Refused(f"not allowed: {REFUSED_SYNTAX.get(type(node), type(node).__name__)}", node)


# --- errors that point into the text ------------------------------------------------------


def caret(text: str, line: int, column: int) -> tuple:
    """``(line, column, "  the line\\n  ^")``: the position (1-based characters, clamped into the
    text) and the line with a caret under the column."""
    lines = text.split("\n")
    line = min(max(line, 1), len(lines))
    shown = lines[line - 1]
    column = min(max(column, 1), len(shown) + 1)
    return line, column, f"  {shown}\n  {' ' * (column - 1)}^"


def _pointer(text: str, line: int, column: int) -> str:
    """``column N`` (or ``line L, column N`` in a text of several lines), then the caret."""
    line, column, shown = caret(text, line, column)
    where = f"line {line}, column {column}" if "\n" in text else f"column {column}"
    return f"{where}:\n{shown}"


def node_column(text: str, node, after=None) -> tuple[int, int]:
    """Line and 1-based character column of ``node`` (or of the first non-blank after ``after``)."""
    lineno, offset = (after.end_lineno, after.end_col_offset) if after else (node.lineno, node.col_offset)
    line = text.split("\n")[lineno - 1]
    column = len(line.encode("utf-8")[:offset].decode("utf-8", "ignore"))  # ast counts UTF-8 bytes
    if after:
        while column < len(line) and line[column] in " \t)":
            column += 1
    return lineno, column + 1


def _refuse(text, problem, line, column, file, key):
    raise InputError(f"{problem} at {_pointer(text, line, column)}\n{ALLOWED}", file=file, key=key)


def control_character(text: str):
    """``(text shown safely, problem, line, column)`` for the first invisible or control character
    (tabs and line ends aside), or ``None``. The text is shown with it replaced by ``?``, so a
    message never echoes a control character to a terminal."""
    for i, ch in enumerate(text):
        if ch not in "\t\n\r" and unicodedata.category(ch)[0] == "C":
            line = text.count("\n", 0, i) + 1
            column = i - (text.rfind("\n", 0, i) + 1) + 1
            return (text.replace(ch, "?"), f"the invisible or control character U+{ord(ch):04X} is not allowed",
                    line, column)
    return None


def _syntax_tree(text: str, file, key):
    if not isinstance(text, str):
        raise InputError(f"an expression must be text, not {type(text).__name__}", file=file, key=key)
    if len(text) > MAX_LENGTH:
        raise InputError(f"the expression is {len(text)} characters long; the limit is {MAX_LENGTH}",
                         file=file, key=key)
    if not text.strip():
        raise InputError(f"the expression is empty\n{ALLOWED}", file=file, key=key)
    found = control_character(text)
    if found:
        _refuse(*found, file, key)
    try:
        return ast.parse(text.replace("\r", " "), mode="eval").body
    except SyntaxError as exc:
        column = exc.offset or len(text.split("\n")[(exc.lineno or 1) - 1]) + 1
        _refuse(text, f"not a valid expression ({exc.msg})", exc.lineno or 1, column, file, key)
    except (ValueError, MemoryError, RecursionError) as exc:
        raise InputError(f"not a valid expression ({exc})\n{ALLOWED}", file=file, key=key) from None


def compile_expression(text: str, *, file: str | None = None, key: str | None = "expression"):
    """Check ``text`` against the whitelist; returns its intermediate form (see the source).

    Raises :class:`~tracegrad.core.errors.InputError` naming the position and what is allowed.
    """
    tree = _syntax_tree(text, file, key)
    try:
        return _convert(tree, 0)
    except Refused as exc:
        line, column = node_column(text, exc.node, exc.after) if exc.node is not None else (1, 1)
        _refuse(text, exc.problem, line, column, file, key)


def _variables(form, found: dict) -> dict:
    stack = [form]
    while stack:
        item = stack.pop()
        if item[0] == "var":
            found.setdefault(item[1], None)
        elif item[0] != "const":
            stack.extend(reversed(item[1]))
    return found


def variables(text: str, *, file: str | None = None, key: str | None = "expression") -> list:
    """The variable names of an expression, in order of first appearance."""
    return list(_variables(compile_expression(text, file=file, key=key), {}))


def _leaf(name, given, file):
    if isinstance(given, Value):
        return given
    if isinstance(given, bool) or not isinstance(given, (int, float)) or not math.isfinite(given):
        raise InputError(f"the value of {name} must be a finite number, not {given!r}", file=file, key=name)
    return Value(float(given), label=name)


def _build(form, leaves):
    if form[0] == "const":
        return const(form[1])
    if form[0] == "var":
        return leaves[form[1]]
    spec, args, params = form
    return apply(spec, [_build(arg, leaves) for arg in args], params)


def parse(text: str, at=None, *, name: str | None = None, file: str | None = None,
          key: str | None = "expression") -> Value:
    """Build the ``Value`` graph of expression ``text`` at the point ``at`` and return its root.

    ``at`` maps every variable name to a number (a new leaf labelled with the
    name) or to an existing ``Value`` (used as the leaf). ``name`` labels the
    result (unless it is a bare variable or ``name`` is one of the variables).
    ``file`` and ``key`` name where the text came from in error messages. Raises
    :class:`~tracegrad.core.errors.InputError` for text outside the whitelist, and
    :class:`~tracegrad.core.errors.DomainError` when an op leaves its domain (``log(0)``).
    """
    form = compile_expression(text, file=file, key=key)
    names = list(_variables(form, {}))
    at = dict(at or {})
    unknown = [name for name in at if name not in names]
    if unknown:
        raise InputError(f"{', '.join(map(str, unknown))} {'is' if len(unknown) == 1 else 'are'} not in the "
                         f"expression (its variables: {', '.join(names) or 'none'})", file=file, key=key)
    missing = [name for name in names if name not in at]
    if missing:
        raise InputError(f"no value given for {', '.join(missing)}; give every variable a value, "
                         f"e.g. {missing[0]}=1", file=file, key=key)
    leaves = {n: _leaf(n, at[n], file) for n in names}
    root = _build(form, leaves)
    if name is not None and form[0] != "var" and name not in names:
        root.label = name
    return root


def assigned_name(item: str) -> str | None:
    """The NAME of a ``NAME=…`` item (normalized as Python reads identifiers), else None."""
    name, sep, _ = item.partition("=")
    name = unicodedata.normalize("NFKC", name.strip())
    return name if sep and name.isidentifier() else None


def parse_point(items, *, key: str = "--at") -> dict:
    """``["x=-2", "y=5"]`` → ``{"x": -2.0, "y": 5.0}`` (the command line's ``--at``)."""
    point: dict = {}
    for item in items:
        name, number = assigned_name(item), item.partition("=")[2]
        if name is None:
            raise InputError(f"{item!r} is not NAME=NUMBER; write it like y=5", key=key)
        try:
            value = float(number)
        except ValueError:
            raise InputError(f"{number.strip()!r} is not a number (in {item!r}); write it like {name}=5",
                             key=key) from None
        if not math.isfinite(value):
            raise InputError(f"the value of {name} must be finite, not {number.strip()}", key=key)
        if name in point:
            raise InputError(f"{name} is given twice", key=key)
        point[name] = value
    return point


OUTPUT_NAME = "f"
"""The name the result of an expression gets in derivations and pictures."""
