"""Tracing an op's code on symbolic stand-ins: the first step of compiled replay.

An op's ``forward`` and ``partials`` functions (:mod:`tracegrad.core.ops`) are run once
on stand-ins (:class:`Sym`) that record arithmetic instead of doing it. ``math.*``,
``max``/``min`` and the op table's type-dispatching helpers get symbolic versions (the
contract is stated in :mod:`tracegrad.core.ops`); a comparison that decides an ``if``
is explored both ways and becomes a conditional expression. The recorded expressions
are the op's code :class:`Template`, cached per op, arity and parameters, which
:mod:`.codegen` writes out as source. An op whose functions cannot be followed this
way raises ``NotImplementedError``; the test suite compiles every op of the table.
"""

from __future__ import annotations

import ast
import builtins
import itertools
import math
import types

from ..core import ops as _ops
from ..core.ops import OPS

_DEPTH = 40  # deeper expressions are split into temporaries (the compiler recurses on depth)
_MAX_PATHS = 64  # branch combinations explored per op before giving up

_serial = itertools.count().__next__
_run = None  # the _Run of the trace in progress


class Untraceable(TypeError):
    """An op's function did something the symbolic stand-ins cannot follow."""


class Sym:
    """A symbolic number: an expression node recording the arithmetic done on it.

    ``kind`` is one of ``name`` (``op`` is the placeholder), ``bin`` (``op`` an
    ``ast`` operator), ``neg``, ``cmp`` (an ``ast`` comparison), ``call``
    (``op`` a function name: ``math.exp``, ``abs``, ``max`` …), ``if`` (args
    test, then, else) and ``fail`` (the path raised a domain error).
    Constants are plain Python numbers among ``args``.
    """

    __slots__ = ("kind", "op", "args", "serial", "height")
    __hash__ = object.__hash__

    def __init__(self, kind, op=None, args=()):
        self.kind, self.op, self.args, self.serial = kind, op, args, _serial()
        self.height = 1 + builtins.max((_height(a) for a in args), default=0)
        while self.height > _DEPTH and _run is not None:
            tallest = builtins.max((a for a in args if isinstance(a, Sym)), key=_height)
            _run.hoisted[tallest] = None
            self.height = 1 + builtins.max(_height(a) for a in args)

    def __add__(self, other):
        return _binary(ast.Add, self, other)

    def __radd__(self, other):
        return _binary(ast.Add, other, self)

    def __sub__(self, other):
        return _binary(ast.Sub, self, other)

    def __rsub__(self, other):
        return _binary(ast.Sub, other, self)

    def __mul__(self, other):
        return _binary(ast.Mult, self, other)

    def __rmul__(self, other):
        return _binary(ast.Mult, other, self)

    def __truediv__(self, other):
        return _binary(ast.Div, self, other)

    def __rtruediv__(self, other):
        return _binary(ast.Div, other, self)

    def __pow__(self, other):
        return _binary(ast.Pow, self, other)

    def __rpow__(self, other):
        return _binary(ast.Pow, other, self)

    def __neg__(self):
        return Sym("neg", None, (self,))

    def __pos__(self):
        return self

    def __abs__(self):
        return Sym("call", "abs", (self,))

    def __lt__(self, other):
        return Sym("cmp", ast.Lt, (self, other))

    def __le__(self, other):
        return Sym("cmp", ast.LtE, (self, other))

    def __gt__(self, other):
        return Sym("cmp", ast.Gt, (self, other))

    def __ge__(self, other):
        return Sym("cmp", ast.GtE, (self, other))

    def __eq__(self, other):
        return Sym("cmp", ast.Eq, (self, other))

    def __ne__(self, other):
        return Sym("cmp", ast.NotEq, (self, other))

    def __bool__(self):
        return _run.decide(self)

    def __float__(self):
        raise Untraceable("converts a value with float()")

    __int__ = __index__ = __float__


def _height(x) -> int:
    if not isinstance(x, Sym):
        return 0
    return 1 if _run is not None and x in _run.hoisted else x.height


def is_number(x) -> bool:
    return not isinstance(x, Sym)


def _binary(op, a, b):
    """``a op b``, folded when both are numbers; ``x + 0``, ``x * 1``, ``x * -1`` … are
    simplified when ``x`` is a float (then IEEE arithmetic makes them exact)."""
    if is_number(a) and is_number(b):
        return _FOLD[op](a, b)
    if _is_float(a) and is_number(b) and (b == 0 and op in (ast.Add, ast.Sub) or b == 1 and op in _UNIT):
        return a
    if _is_float(b) and is_number(a) and (a == 0 and op is ast.Add or a == 1 and op is ast.Mult):
        return b
    if op is ast.Mult and is_number(b) and b == -1 and _is_float(a):
        return -a
    if op is ast.Mult and is_number(a) and a == -1 and _is_float(b):
        return -b
    return Sym("bin", op, (a, b))


_UNIT = (ast.Mult, ast.Div, ast.Pow)


def _is_float(x) -> bool:
    """Whether ``x`` is certainly a float (comparisons give bools, and bool arithmetic ints)."""
    if not isinstance(x, Sym):
        return isinstance(x, float)
    if x.kind in ("name", "fail") or x.kind == "call" and x.op.startswith("math."):
        return True
    if x.kind in ("bin", "neg"):
        return any(map(_is_float, x.args))
    return x.kind != "cmp" and all(map(_is_float, x.args[x.kind == "if":]))


_FOLD = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
         ast.Div: lambda a, b: a / b, ast.Pow: lambda a, b: a ** b}


def _symbolic_call(name, real):
    def call(*args):
        if all(map(is_number, args)):
            return real(*args)
        return Sym("call", name, args)
    return call


class _SymbolicMath:
    """Stands in for the ``math`` module: symbolic on symbols, the real thing on numbers."""

    def __getattr__(self, name):
        real = getattr(math, name)
        return _symbolic_call(f"math.{name}", real) if callable(real) else real


def _extremum(name, real):
    def call(*args):
        items = tuple(args[0]) if len(args) == 1 else args
        if all(map(is_number, items)):
            return real(items)
        return Sym("call", name, items)
    return call


class _Run:
    """One run of a traced function along one path of its branches."""

    def __init__(self, prefix):
        self.prefix, self.taken, self.hoisted = prefix, [], {}

    def decide(self, condition) -> bool:
        k = len(self.taken)
        answer = self.prefix[k] if k < len(self.prefix) else True
        self.taken.append((condition, answer))
        return answer


def _symbolic_globals(module_globals: dict) -> dict:
    """A copy of an op module's globals where every function sees symbolic ``math``,
    ``max``/``min`` and symbolic versions of the table's type-dispatching helpers."""
    ns = dict(module_globals)
    ns["math"] = _SymbolicMath()
    ns["max"] = _extremum("max", builtins.max)
    ns["min"] = _extremum("min", builtins.min)
    for name, f in module_globals.items():
        if isinstance(f, types.FunctionType) and f.__globals__ is module_globals:
            ns[name] = _rebind(f, ns)
    if module_globals is vars(_ops):
        # the contract stated in tracegrad.core.ops: dispatch(name, …) is the named op's
        # forward (inlined), largest(xs) the max of plain numbers
        ns["dispatch"] = lambda name, *args: traced(OPS[name].forward, ns)(args, ())
        ns["largest"] = lambda xs: ns["max"](xs)
    return ns


def _rebind(f, ns):
    return types.FunctionType(f.__code__, ns, f.__name__, f.__defaults__, f.__closure__)


_namespaces: dict = {}  # id(module globals) -> (those globals, kept alive so the id stays theirs; symbolic copy)


def traced(f, ns=None):
    """``f`` running on symbolic stand-ins (same code, symbolic globals)."""
    if ns is None:
        key = id(f.__globals__)
        if key not in _namespaces:
            _namespaces[key] = (f.__globals__, _symbolic_globals(f.__globals__))
        ns = _namespaces[key][1]
    return _rebind(f, ns)


def explore(fn):
    """Run ``fn`` along every path of its branches: ``[(decisions, result, hoisted), …]``."""
    global _run
    paths, todo = [], [()]
    while todo:
        prefix = todo.pop()
        run, saved = _Run(prefix), _run
        _run = run
        try:
            result = fn()
        except Untraceable:
            raise
        except (ArithmeticError, ValueError):
            result = FAIL
        except TypeError as exc:
            raise Untraceable(f"uses {exc}") from None
        finally:
            _run = saved
        paths.append((run.taken, result, list(run.hoisted)))
        todo.extend(tuple(a for _, a in run.taken[:k]) + (not run.taken[k][1],)
                    for k in range(len(prefix), len(run.taken)))
        if len(paths) > _MAX_PATHS:
            raise Untraceable(f"has more than {_MAX_PATHS} combinations of branches")
    return paths


FAIL = Sym("fail")


def _same(a, b) -> bool:
    """Whether two results are the same expression (numbers equal, with the same sign)."""
    if not isinstance(a, Sym) or not isinstance(b, Sym):
        if isinstance(a, Sym) or isinstance(b, Sym):
            return False
        if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
            return True
        return type(a) is type(b) and a == b and math.copysign(1.0, a) == math.copysign(1.0, b)
    return a is b or (a.kind == b.kind and a.op == b.op and len(a.args) == len(b.args)
                      and all(_same(x, y) for x, y in zip(a.args, b.args)))


def _merge(paths, depth, k):
    """Result ``k`` of ``paths`` from decision ``depth`` on, as nested ``if`` nodes."""
    ends = [p for p in paths if len(p[0]) == depth]
    if ends:
        result = ends[0][1]
        return FAIL if result is FAIL else result[k]
    condition = paths[0][0][depth][0]
    yes = _merge([p for p in paths if p[0][depth][1]], depth + 1, k)
    no = _merge([p for p in paths if not p[0][depth][1]], depth + 1, k)
    if _same(yes, no):
        return yes
    return Sym("if", None, (condition, yes, no))


def shared(results) -> list:
    """Subexpressions referenced more than once (worth one temporary each), in creation order."""
    seen, shared, stack = set(), {}, [r for r in results if isinstance(r, Sym)]
    while stack:
        node = stack.pop()
        if node in seen:
            if node.kind != "name":
                shared[node] = None
            continue
        seen.add(node)
        stack.extend(a for a in node.args if isinstance(a, Sym))
    return list(shared)


class Code:
    """The code of one traced function: its results (numbers or expressions) and,
    when it has no branches, the subexpressions worth a temporary each (repeated
    ones, and splits of very deep ones), in evaluation order. A branching function
    gets no temporaries: a temporary would be evaluated on both sides of a branch."""

    def __init__(self, fn):
        paths = explore(fn)
        if len(paths) == 1:
            _, results, hoisted = paths[0]
            self.results = results
            self.temps = sorted(set(hoisted) | set(shared(results)), key=lambda n: n.serial)
        else:
            if any(hoisted for _, _, hoisted in paths):
                raise Untraceable("has branches around expressions too deep to inline")
            width = next(len(r) for _, r, _ in paths if r is not FAIL)
            self.results = tuple(_merge(paths, 0, k) for k in range(width))
            self.temps = []
        self.texts = {}  # written out by tracegrad.compile.codegen, per flavour



class Template:
    """An op's code for one arity and parameter tuple: ``forward`` (one result) and
    ``backward`` (upstream × partial, one result per input)."""

    def __init__(self, spec, arity, params):
        xs = tuple(Sym("name", f"{{{k}}}") for k in range(arity))
        self.xs, self.lanes = xs, None  # lanes: found by tracegrad.compile.codegen
        out, upstream = Sym("name", "{o}"), Sym("name", "{g}")
        forward, partials = traced(spec.forward), traced(spec.partials)

        def backward():
            return tuple(p if is_number(p) and p == 0 else upstream * p for p in partials(xs, out, params))
        try:
            self.forward = Code(lambda: (forward(xs, params),))
            self.backward = Code(backward)
        except Untraceable as exc:
            raise NotImplementedError(f"op {spec.name!r} cannot be compiled: its code {exc}") from None


_templates: dict = {}


def template(spec, arity: int, params: tuple) -> Template:
    """The code template of op ``spec`` on ``arity`` inputs with ``params`` (traced once, then cached)."""
    key = (spec.name, arity, params)
    if key not in _templates:
        _templates[key] = Template(spec, arity, params)
    return _templates[key]
