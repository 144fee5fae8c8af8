"""Straight-line programs: micrograd code, pasted in, interpreted into a ``Value`` graph.

>>> p = parse_program('''
... from micrograd.engine import Value
... a = Value(2.0, label='a')
... b = Value(-3.0)
... L = a * b + 1
... L.backward()
... ''')
>>> p.output.label, p.output.data
('L', -5.0)

Like an expression (:mod:`.parse`), a program is never executed: ``ast.parse`` only builds
its syntax tree, a whitelist walk interprets it statement by statement, and every node is
built through the op table. Numbers follow Python (``h = 1e-3`` is a number; ``2 * a``
makes a ``const`` node of the 2, as ``Value.__rmul__`` does), so a program builds the same
graph, node for node and in the same order, as running it with ``tracegrad.Value`` would.

Allowed: ``x = …``, ``a, b = …`` and ``x += …`` (also ``-= *= /= **=``); ``Value(number)``
and ``Value(number, label="…")``; numbers and ``+ - * / **``, unary minus, parentheses;
every op of the table that ``Value`` has a method for, as a method (``n.tanh()``,
``a.max(b)``, ``x.leaky_relu(0.1)``) or by name (``tanh(n)``, as in expressions);
tracegrad's vector helpers (``sum dot softmax log_softmax``) on lists written out, and
unpacking their results (``p, q = tg.softmax([a, b])``); ``x.label = "…"``; one
``L.backward()``. Ignored: imports of micrograd and tracegrad, ``print(…)`` and
``draw_dot(…)`` calls, a bare name (a notebook's display), strings on their own, ``pass``,
comments. Everything else is refused with its line and column: loops, conditions,
function and class definitions, other imports, reading or setting ``.data`` and ``.grad``
(a program's numbers may not depend on its values), other attributes, subscripts, and
whatever the expression parser refuses. Limits: :data:`MAX_PROGRAM_LENGTH` characters,
:data:`MAX_STATEMENTS` statements, and :data:`~.parse.MAX_DEPTH` levels of nesting in
each statement, counted as in expressions.

**Names.** A node is named by its label (``label="…"``, ``x.label = "…"``), else by the
variable it is first assigned to. A name already given to another node gets the next
version: ``c``, then ``c₂``, ``c₃`` (``c_2``, ``c_3`` in answers files, see
:func:`~tracegrad.core.notation.label_key`). Nodes never named are ``v`` and their index in
the trace, as in every node view.
"""

from __future__ import annotations

import ast
import inspect
import math
import sys
from dataclasses import dataclass
from pathlib import Path

from ..core import functional
from ..core.errors import DomainError, InputError
from ..core.notation import label_key, sub
from ..core.numbers import exact_text
from ..core.ops import FUNCTIONS, OPS
from ..core.value import Value, apply
from .parse import (BINARY, DEFAULTS, MAX_DEPTH, REFUSED_OPERATORS, REFUSED_SYNTAX, Refused, caret,
                    control_character, node_column, number_literal, usage)

MAX_PROGRAM_LENGTH = 20_000
"""Longest program accepted, in characters."""

MAX_STATEMENTS = 1_000
"""Most statements a program may have (``a = 1; b = 2`` is two)."""

METHODS = {name: spec for name, spec in OPS.items() if callable(getattr(Value, name, None))}
"""Ops a program may call as methods (``n.tanh()``): those ``Value`` has a method for."""

HELPERS = {name: f for name, f in vars(functional).items()
           if inspect.isfunction(f) and f.__module__ == functional.__name__ and not name.startswith("_")
           and name not in FUNCTIONS}
"""tracegrad's vector helpers (``sum``, ``dot``, ``softmax`` …), each taking lists; ``max`` and
``min`` are the op table's."""

MODULES = ("micrograd", "tracegrad")
"""The packages a program may import (and nothing of either runs)."""

ALLOWED = ("a program may use: x = …, a, b = …, x += … (-= *= /= **=); Value(number, label='…'); numbers, "
           "+ - * / **, unary minus; the methods " + " ".join(f".{m}()" for m in METHODS)
           + " and the same functions by name; tracegrad's " + ", ".join(HELPERS) + " on lists written out; "
           "x.label = '…'; L.backward() once. Imports of micrograd and tracegrad, print(…), comments: ignored")
"""What a program may contain, as shown in error messages."""


@dataclass(frozen=True)
class _Callable:
    kind: str  # "value" (the Value constructor), "op" (FUNCTIONS), "helper" (HELPERS)
    name: str


@dataclass(frozen=True)
class _Module:
    name: str


@dataclass(frozen=True)
class _Unavailable:
    """A name imported from micrograd or tracegrad that a program cannot use."""

    name: str


_VALUE = _Callable("value", "Value")
_BUILTINS = {"Value": _VALUE, **{n: _Callable("op", n) for n in FUNCTIONS},
             **{n: _Callable("helper", n) for n in HELPERS}}
_MEMBERS = {
    "tracegrad": {"Value": _VALUE, **{n: _Callable("helper", n) for n in HELPERS},
                  "max": _Callable("op", "max"), "min": _Callable("op", "min")},
    "micrograd": {"engine": _Module("micrograd.engine")},
    "micrograd.engine": {"Value": _VALUE},
}
_IGNORED_CALLS = ("print", "draw_dot")

_STATEMENTS = {
    ast.For: ("for loops", "write each step out"), ast.AsyncFor: ("for loops", "write each step out"),
    ast.While: ("while loops", "write each step out"), ast.If: ("if statements", "keep the branch that runs"),
    ast.FunctionDef: ("function definitions", "write the body out, with its inputs as Value(…) leaves"),
    ast.AsyncFunctionDef: ("function definitions", "write the body out, with its inputs as Value(…) leaves"),
    ast.ClassDef: ("class definitions", "paste the code that uses Value, not the class (tracegrad has its own)"),
    ast.Return: ("return", "assign the result instead"), ast.Delete: ("del", "leave the variable"),
    ast.With: ("with blocks", "write the steps out"), ast.AsyncWith: ("with blocks", "write the steps out"),
    ast.Try: ("try blocks", "write the steps out"), ast.Raise: ("raise", "remove it"),
    ast.Assert: ("assert", "remove it"), ast.Global: ("global", "remove it"), ast.Nonlocal: ("nonlocal", "remove it"),
    ast.Break: ("break", "remove it"), ast.Continue: ("continue", "remove it"),
    ast.AnnAssign: ("annotations", "write x = … without the type"),
    ast.Match: ("match statements", "keep the branch that runs"), ast.TryStar: ("try blocks", "write the steps out"),
}

_AUGMENTED = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)
_SETTING = {"data": "give the number in Value(…)", "grad": "gradients come from the backward pass",
            "label": "write x.label = '…'"}
_ATTRIBUTES = {"data", "grad", "label", "backward", *METHODS, *(m for members in _MEMBERS.values() for m in members)}
"""Every attribute name a program may write; any other is refused before anything is evaluated."""


@dataclass(frozen=True, repr=False)
class Program:
    """A program's graph: its text, where it came from, the output node, and its variables as
    bound at the end (``{name: Value, number or list}``, in order of first assignment)."""

    text: str
    source: str
    output: Value
    variables: dict

    def __repr__(self) -> str:
        return f"Program({self.source}, output {self.output.label or 'unnamed'} = {self.output.data!r})"


def _describe(value) -> str:
    if isinstance(value, Value):
        return f"the Value {value.label}" if value.label else "a Value"
    if isinstance(value, float):
        return f"the number {exact_text(value)}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, _Module):
        return f"the module {value.name}"
    return f"the function {value.name}"


def _method_signature(spec) -> str:
    others = {1: "", 2: "b"}.get(spec.arity, "...")
    params = "".join(f"[{', ' if others else ''}{p}]" for p in spec.params)
    return f"x.{spec.name}({others}{params})"


_LISTS = {name: len(inspect.signature(f).parameters) for name, f in HELPERS.items()}
"""How many lists each helper takes."""


def _helper_signature(name: str) -> str:
    return f"{name}(" + ", ".join(["[…]"] * _LISTS[name]) + ")"


class _Interpreter:
    """Walks a program's statements, keeping the variables and the names given to nodes."""

    def __init__(self):
        self.env: dict = dict(_BUILTINS)
        self.variables: dict = {}
        self.names: dict = {}  # answers-file key -> the node holding that name
        self.last = None  # the last Value assigned to a variable
        self.root = None  # (the node .backward() was called on, its line)

    # --- statements ---------------------------------------------------------------------
    def run(self, tree) -> None:
        handlers = {ast.Assign: self._assignment, ast.AugAssign: self._augmented, ast.Expr: self._expression,
                    ast.Import: self._import, ast.ImportFrom: self._import_from, ast.Pass: lambda stmt: None}
        for stmt in tree.body:
            handler = handlers.get(type(stmt))
            if handler is None:
                what, fix = _STATEMENTS.get(type(stmt), (type(stmt).__name__, "write the steps out"))
                raise Refused(f"not allowed in a program: {what}; a program is straight-line: {fix}", stmt)
            handler(stmt)

    def _assignment(self, stmt) -> None:
        if any(isinstance(t, ast.Attribute) for t in stmt.targets):
            if len(stmt.targets) > 1:
                raise Refused("set .label in a statement of its own: x.label = '…'", stmt)
            return self._set_attribute(stmt.targets[0], stmt.value)
        value = self._value(stmt.value, 0)
        for target in stmt.targets:
            self._assign(target, value)

    def _augmented(self, stmt) -> None:
        target = stmt.target
        if isinstance(target, ast.Attribute):
            self._attribute_name(target)
            raise self._setting(target)
        if not isinstance(target, ast.Name):
            raise Refused("not allowed: subscripts ([...])", target)
        if not isinstance(stmt.op, _AUGMENTED):
            raise Refused(f"not allowed: {REFUSED_OPERATORS[type(stmt.op)]}", stmt, after=target)
        current = self._operand(target, 1)
        self._assign(target, self._binary(stmt.op, current, self._operand(stmt.value, 1), stmt))

    def _expression(self, stmt) -> None:
        value = stmt.value
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            return  # a docstring
        if isinstance(value, ast.Call):
            func = value.func
            if isinstance(func, ast.Name) and func.id in _IGNORED_CALLS and func.id not in self.variables:
                return  # print(…), draw_dot(…): nothing runs, so nothing is shown
            if isinstance(func, ast.Attribute) and func.attr == "backward":
                return self._backward(value)
        if isinstance(value, ast.Name):
            self._lookup(value)  # a notebook's display of a value
            return
        self._value(value, 0)  # refuses what it may not contain, by name
        raise Refused("a value computed and not kept: assign it (y = …), or call .backward() on the output", value)

    def _import(self, stmt) -> None:
        for alias in stmt.names:
            self._check_module(alias.name, stmt)
            if alias.asname:
                self.env[alias.asname] = _Module(alias.name)
            else:
                self.env[alias.name.split(".")[0]] = _Module(alias.name.split(".")[0])

    def _import_from(self, stmt) -> None:
        if stmt.level:
            raise Refused("not allowed: relative imports; a program may import only micrograd and tracegrad", stmt)
        module = stmt.module
        self._check_module(module, stmt)
        members = _MEMBERS.get(module, {})
        for alias in stmt.names:
            if alias.name == "*":
                self.env.update(members)
            else:
                self.env[alias.asname or alias.name] = members.get(alias.name, _Unavailable(f"{module}.{alias.name}"))

    def _check_module(self, name: str, stmt) -> None:
        if name.split(".")[0] not in MODULES:
            raise Refused(f"not allowed: importing {name}; a program may import only micrograd and tracegrad", stmt)

    def _backward(self, call) -> None:
        node = self._operand(call.func.value, 1)
        if call.args or call.keywords:
            raise Refused("call .backward() without arguments", call)
        if not isinstance(node, Value):
            raise Refused(f".backward() needs a Value, not {_describe(node)}", call.func.value)
        if self.root is not None:
            raise Refused(f"the program called .backward() already (line {self.root[1]}); call it once, since a "
                          "second call adds every gradient again", call)
        self.root = (node, call.lineno)

    # --- names --------------------------------------------------------------------------
    def _assign(self, target, value) -> None:
        if isinstance(target, (ast.Tuple, ast.List)):
            if not isinstance(value, list):
                raise Refused(f"cannot unpack {_describe(value)} into {len(target.elts)} names", target)
            if len(value) != len(target.elts):
                raise Refused(f"cannot unpack {len(value)} values into {len(target.elts)} names", target)
            for element, item in zip(target.elts, value):
                self._assign(element, item)
            return
        if isinstance(target, ast.Starred):
            raise Refused(f"not allowed: {REFUSED_SYNTAX[ast.Starred]}", target)
        if not isinstance(target, ast.Name):
            raise Refused("not allowed: subscripts ([...])", target)
        if target.id.startswith("_"):
            raise Refused(f"names starting with _ are not allowed ({target.id})", target)
        self.env[target.id] = value
        if not isinstance(value, (_Callable, _Module, _Unavailable)):
            self.variables.pop(target.id, None)
            self.variables[target.id] = value
        if isinstance(value, Value):
            self.last = value
            if value.label is None:
                self._name(value, target.id)

    def _name(self, node: Value, base: str) -> None:
        """Name ``node`` ``base``, or its next free version (``c₂``) if another node has it."""
        if node.label is not None and self.names.get(label_key(node.label)) is node:
            del self.names[label_key(node.label)]
        label, version = base, 1
        while self.names.get(label_key(label), node) is not node:
            version += 1
            label = f"{base}{sub(version)}"
        node.label = label
        self.names[label_key(label)] = node

    def _label_text(self, node) -> str | None:
        """A label as written (a string literal), or ``None`` for an empty one."""
        if isinstance(node, ast.JoinedStr):
            raise Refused("not allowed: f-strings; write the label out, such as label='a'", node)
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            raise Refused("a label is a string written out, such as label='a'", node)
        return node.value if node.value.strip() else None

    def _set_attribute(self, target, value) -> None:
        self._attribute_name(target)
        if target.attr != "label":
            raise self._setting(target)
        node = self._operand(target.value, 1)
        if not isinstance(node, Value):
            raise Refused(f".label belongs to a Value, not {_describe(node)}", target.value)
        label = self._label_text(value)
        if label is not None:
            self._name(node, label)

    def _setting(self, target) -> Refused:
        fix = _SETTING.get(target.attr, "only .label may be set")
        return Refused(f"not allowed: setting .{target.attr}; {fix}", target, after=target.value)

    # --- expressions --------------------------------------------------------------------
    def _value(self, node, depth: int):
        if depth > MAX_DEPTH:
            raise Refused(f"the expression nests deeper than {MAX_DEPTH} levels", node)
        if isinstance(node, ast.Constant):
            return number_literal(node)
        if isinstance(node, ast.Name):
            return self._lookup(node)
        if isinstance(node, ast.UnaryOp):
            if type(node.op) in REFUSED_OPERATORS:
                raise Refused(f"not allowed: {REFUSED_OPERATORS[type(node.op)]}", node)
            operand = self._operand(node.operand, depth + 1)
            if isinstance(node.op, ast.UAdd):
                return operand
            return -operand if isinstance(operand, float) else self._apply(OPS["neg"], (operand,), (), node)
        if isinstance(node, ast.BinOp):
            if type(node.op) in REFUSED_OPERATORS:
                raise Refused(f"not allowed: {REFUSED_OPERATORS[type(node.op)]}", node, after=node.left)
            left = self._operand(node.left, depth + 1)
            return self._binary(node.op, left, self._operand(node.right, depth + 1), node)
        if isinstance(node, ast.Call):
            return self._call(node, depth)
        if isinstance(node, ast.Attribute):
            return self._attribute(node, depth)
        if isinstance(node, (ast.List, ast.Tuple)):
            return [self._element(e, depth + 1) for e in node.elts]
        if isinstance(node, ast.Subscript):
            raise Refused("not allowed: subscripts ([...])", node, after=node.value)
        raise Refused(f"not allowed: {REFUSED_SYNTAX.get(type(node), type(node).__name__)}", node)

    def _lookup(self, node):
        if node.id.startswith("_"):
            raise Refused(f"names starting with _ are not allowed ({node.id})", node)
        if node.id not in self.env:
            raise Refused(f"{node.id} is not defined; assign it first (such as {node.id} = Value(1.0)) or import it",
                          node)
        return self.env[node.id]

    def _operand(self, node, depth: int):
        """A number or a Value, nothing else."""
        value = self._value(node, depth)
        if isinstance(value, (float, Value)):
            return value
        if isinstance(value, list):
            raise Refused("a list is not a number or a Value; use tracegrad's sum, dot … on it", node)
        if isinstance(value, _Callable):
            raise Refused(f"{value.name} is a function; call it", node)
        raise Refused(f"{_describe(value)} is not a number or a Value", node)

    def _element(self, node, depth: int):
        if isinstance(node, ast.Starred):
            raise Refused(f"not allowed: {REFUSED_SYNTAX[ast.Starred]}", node)
        return self._operand(node, depth)

    def _binary(self, op, left, right, node):
        if isinstance(op, ast.Pow):
            spec, inputs, params = ((OPS["vpow"], (left, right), ()) if isinstance(right, Value)
                                    else (OPS["pow"], (left,), (right,)))
        else:
            spec, inputs, params = OPS[BINARY[type(op)]], (left, right), ()
        if isinstance(left, Value) or isinstance(right, Value):
            return self._apply(spec, inputs, params, node)
        try:  # numbers: Python arithmetic, in 64-bit floats, through the op's own forward
            result = spec.forward(inputs, params)
        except OverflowError:
            raise Refused("the number overflows a 64-bit float", node) from None
        except (ArithmeticError, ValueError) as exc:
            raise Refused(f"{spec.name}({', '.join(map(exact_text, inputs + params))}): "
                          f"{spec.domain or exc}", node) from None
        if not math.isfinite(result):
            raise Refused("the number overflows a 64-bit float", node)
        return float(result)

    def _apply(self, spec, inputs, params, node) -> Value:
        try:
            return apply(spec, inputs, params)
        except DomainError as exc:
            raise Refused(str(exc), node) from None

    def _attribute_name(self, node) -> None:
        """Refuse an attribute no program may touch before evaluating anything."""
        if node.attr not in _ATTRIBUTES:
            raise Refused(f"not allowed: attribute access (.{node.attr})", node, after=node.value)

    def _attribute(self, node, depth: int):
        self._attribute_name(node)
        base = self._value(node.value, depth + 1)
        if isinstance(base, _Module):
            return self._member(base, node)
        if node.attr in ("data", "grad", "label"):
            raise Refused(f"not allowed: reading .{node.attr}; a program's numbers may not depend on its values "
                          "(the derivation shows every value and gradient)", node, after=node.value)
        raise Refused(f"not allowed: attribute access (.{node.attr}) of {_describe(base)}", node, after=node.value)

    def _member(self, module: _Module, node):
        members = _MEMBERS.get(module.name, {})
        if node.attr not in members:
            offered = ", ".join(members) or "nothing"
            raise Refused(f"{module.name}.{node.attr} is not available in a program (from {module.name}: "
                          f"{offered})", node, after=node.value)
        return members[node.attr]

    def _call(self, node, depth: int):
        func = node.func
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise Refused(f"not allowed: {REFUSED_SYNTAX[ast.Starred]}", arg)
        if any(k.arg is None for k in node.keywords):
            raise Refused("not allowed: **keyword arguments", node)
        if isinstance(func, ast.Attribute):
            self._attribute_name(func)
            if func.attr == "backward":
                raise Refused("call .backward() as a statement of its own: L.backward()", func, after=func.value)
            receiver = self._value(func.value, depth + 1)
            if not isinstance(receiver, _Module):
                if func.attr not in METHODS:
                    raise Refused(f"not allowed: attribute access (.{func.attr})", func, after=func.value)
                if not isinstance(receiver, Value):
                    raise Refused(f".{func.attr}() is a method of Value; {_describe(receiver)} is not a Value",
                                  func, after=func.value)
                spec = METHODS[func.attr]
                return self._op(spec, [receiver], node, depth, f"wrong arguments; write {_method_signature(spec)}")
            callee = self._member(receiver, func)
        elif isinstance(func, ast.Name):
            callee = self._lookup(func)
        else:
            raise Refused("only functions may be called, by name", node)
        if isinstance(callee, _Unavailable):
            raise Refused(f"{callee.name} is not available in a program; build the values with Value(…) and "
                          "the ops", func)
        if not isinstance(callee, _Callable):
            raise Refused(f"{_describe(callee)} cannot be called", func)
        if callee.kind == "value":
            return self._leaf(node, depth)
        if callee.kind == "op":
            return self._op(FUNCTIONS[callee.name], [], node, depth, usage(callee.name))
        return self._helper(callee.name, node, depth)

    def _leaf(self, node, depth: int) -> Value:
        keywords = {k.arg: k.value for k in node.keywords}
        unknown = [k for k in keywords if k not in ("data", "label")]
        if unknown or len(node.args) > 1 or len(node.args) + ("data" in keywords) != 1:
            raise Refused("write Value(number) or Value(number, label='…')", node)
        data = self._operand(node.args[0] if node.args else keywords["data"], depth + 1)
        if not isinstance(data, float):
            raise Refused(f"Value(…) takes a number, not {_describe(data)}", node)
        leaf = Value(data)
        label = self._label_text(keywords["label"]) if "label" in keywords else None
        if label is not None:
            self._name(leaf, label)
        return leaf

    def _op(self, spec, inputs: list, node, depth: int, wrong: str) -> Value:
        """Op ``spec`` on ``inputs`` (a method's receiver) and the call's arguments: the remaining
        inputs, then the parameters (by position or by name; defaults from ``Value``). ``wrong``
        says how to call it."""
        wanted = spec.arity - len(inputs)
        args = node.args
        keywords = {k.arg: k.value for k in node.keywords}
        if (len(args) < wanted or len(args) > wanted + len(spec.params)
                or any(k not in spec.params[len(args) - wanted:] for k in keywords)):
            raise Refused(wrong, node)
        inputs = inputs + [self._operand(a, depth + 1) for a in args[:wanted]]
        given = dict(zip(spec.params, args[wanted:]), **keywords)
        defaults = dict(zip(spec.params, DEFAULTS.get(spec.name, ())))
        params = []
        for name in spec.params:
            if name not in given and name not in defaults:
                raise Refused(wrong, node)
            value = self._operand(given[name], depth + 1) if name in given else defaults[name]
            if not isinstance(value, float):
                raise Refused(f"the {name} of {spec.name} must be a number", given[name])
            params.append(value)
        return self._apply(spec, inputs, tuple(params), node)

    def _helper(self, name: str, node, depth: int):
        if node.keywords or len(node.args) != _LISTS[name]:
            raise Refused(f"write {_helper_signature(name)}", node)
        lists = [self._value(a, depth + 1) for a in node.args]
        for arg, value in zip(node.args, lists):
            if not isinstance(value, list):
                raise Refused(f"{name} takes lists, such as {_helper_signature(name)}; not {_describe(value)}", arg)
        try:
            return HELPERS[name](*lists)
        except (DomainError, ValueError) as exc:
            raise Refused(str(exc), node) from None


def _fail(text: str, source: str, problem: str, line: int, column: int):
    line, column, shown = caret(text, line, column)
    raise InputError(f"{problem}\n{shown}\n{ALLOWED}", file=f"{source}:{line}:{column}")


def parse_program(text: str, output: str | None = None, *, source: str = "<program>") -> Program:
    """Interpret the straight-line program ``text`` (see the module docstring) into its graph.

    The output is the node ``output`` names (a variable, or a node's name such as ``c_2``),
    else the one the program calls ``.backward()`` on, else the last Value assigned to a
    variable. ``source`` names the program in messages (a file name). Raises
    :class:`~tracegrad.core.errors.InputError` naming ``source:line:column`` and the fix.
    """
    if not isinstance(text, str):
        raise InputError(f"a program must be text, not {type(text).__name__}", file=source)
    if len(text) > MAX_PROGRAM_LENGTH:
        raise InputError(f"the program is {len(text)} characters long; the limit is {MAX_PROGRAM_LENGTH}",
                         file=source)
    text = text.replace("\r\n", "\n").replace("\r", "\n")  # line ends as Python reads a file
    found = control_character(text)
    if found:
        shown, problem, line, column = found
        _fail(shown, source, problem, line, column)
    try:
        # CPython looks a syntax error's line up by file name; "" names no file, so nothing is read
        tree = ast.parse(text, filename="", mode="exec")
    except SyntaxError as exc:
        line = exc.lineno or 1
        column = exc.offset or len(text.split("\n")[line - 1]) + 1
        _fail(text, source, f"not valid Python ({exc.msg})", line, column)
    except (ValueError, MemoryError, RecursionError) as exc:
        raise InputError(f"not valid Python ({exc})", file=source) from None
    if len(tree.body) > MAX_STATEMENTS:
        line = tree.body[MAX_STATEMENTS].lineno
        raise InputError(f"the program has {len(tree.body)} statements; the limit is {MAX_STATEMENTS}",
                         file=f"{source}:{line}")
    interpreter = _Interpreter()
    try:
        interpreter.run(tree)
    except Refused as exc:
        line, column = node_column(text, exc.node, exc.after)
        _fail(text, source, exc.problem, line, column)
    return Program(text, source, _output(interpreter, output, source), interpreter.variables)


def _output(interpreter: _Interpreter, output: str | None, source: str) -> Value:
    if output is not None:
        node = interpreter.variables.get(output, interpreter.names.get(label_key(output)))
        if not isinstance(node, Value):
            named = [n for n, v in interpreter.variables.items() if isinstance(v, Value)]
            what = f"is {_describe(node)}" if node is not None else "is not a variable or node of the program"
            raise InputError(f"{output} {what}; choose a Value: {', '.join(named) or 'there are none'}",
                             file=source, key="output")
        return node
    if interpreter.root is not None:
        return interpreter.root[0]
    if interpreter.last is None:
        raise InputError("the program builds no Value; start from leaves such as a = Value(2.0)", file=source)
    return interpreter.last


def read_program(path, output: str | None = None) -> Program:
    """The program in file ``path`` (``-``: standard input; UTF-8, a byte-order mark skipped),
    see :func:`parse_program`."""
    stdin = str(path) == "-"
    source = "<stdin>" if stdin else str(path)
    try:
        text = (sys.stdin.buffer.read() if stdin else Path(path).read_bytes()).decode("utf-8-sig")
    except FileNotFoundError:
        raise InputError("file not found", file=source) from None
    except IsADirectoryError:
        raise InputError("is a directory, expected a program (.py)", file=source) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start}); save the file as UTF-8", file=source) from None
    return parse_program(text, output, source=source)
