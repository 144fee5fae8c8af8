"""Compiled replay: a recorded :class:`~tracegrad.trace.Trace` as straight-line code.

The graph of a training step or of a homework problem is the same every time;
only the numbers change. :func:`compile_trace` turns a trace into one Python
function with one local variable per node, the forward pass then the backward
pass, each line readable::

    v12 = v3 * v7  # z1[0]
    ...
    g7 += g12 * v3

and, on request, a numpy variant computing the same for a whole batch whose
samples share the graph (arrays along the batch axis).

No op's math is written here. The code for an op is *derived from the op
table*: its ``forward`` and ``partials`` functions are run once on symbolic
stand-ins that record arithmetic instead of doing it (``math.exp`` and the
table's type-dispatching helpers get symbolic versions; a comparison that
decides an ``if`` is explored both ways and becomes a conditional expression).
The recorded expression is the op's code template, cached per op, arity and
parameters. An op whose functions cannot be followed this way raises
``NotImplementedError`` at compile time; the test suite compiles every op of
the table, so that cannot reach a user.

Results equal the engine's (the same operations in the same order). Whenever
the compiled code meets a domain error or a non-finite result, the call is
re-run through the engine, which raises its :class:`~tracegrad.errors.DomainError`
naming the node, or returns the engine's numbers.
"""

from __future__ import annotations

import ast
import builtins
import itertools
import math
import types
from numbers import Real

from . import ops as _ops
from .errors import DomainError, InputError
from .ops import OPS
from .trace import Trace

__all__ = ["Compiled", "compile_trace"]

_DEPTH = 40  # deeper expressions are split into temporaries (the compiler recurses on depth)
_MAX_PATHS = 64  # branch combinations explored per op before giving up


# --- symbolic stand-ins ---------------------------------------------------------------


class _Untraceable(TypeError):
    """An op's function did something the symbolic stand-ins cannot follow."""


_serial = itertools.count().__next__
_run = None  # the _Run of the trace in progress


class _Sym:
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
            tallest = builtins.max((a for a in args if isinstance(a, _Sym)), key=_height)
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
        return _Sym("neg", None, (self,))

    def __pos__(self):
        return self

    def __abs__(self):
        return _Sym("call", "abs", (self,))

    def __lt__(self, other):
        return _Sym("cmp", ast.Lt, (self, other))

    def __le__(self, other):
        return _Sym("cmp", ast.LtE, (self, other))

    def __gt__(self, other):
        return _Sym("cmp", ast.Gt, (self, other))

    def __ge__(self, other):
        return _Sym("cmp", ast.GtE, (self, other))

    def __eq__(self, other):
        return _Sym("cmp", ast.Eq, (self, other))

    def __ne__(self, other):
        return _Sym("cmp", ast.NotEq, (self, other))

    def __bool__(self):
        return _run.decide(self)

    def __float__(self):
        raise _Untraceable("converts a value with float()")

    __int__ = __index__ = __float__


def _height(x) -> int:
    if not isinstance(x, _Sym):
        return 0
    return 1 if _run is not None and x in _run.hoisted else x.height


def _number(x) -> bool:
    return not isinstance(x, _Sym)


def _binary(op, a, b):
    """``a op b``, folded when both are numbers; ``x + 0``, ``x * 1``, ``x * -1`` … are
    simplified when ``x`` is a float (then IEEE arithmetic makes them exact)."""
    if _number(a) and _number(b):
        return _FOLD[op](a, b)
    if _is_float(a) and _number(b) and (b == 0 and op in (ast.Add, ast.Sub) or b == 1 and op in _UNIT):
        return a
    if _is_float(b) and _number(a) and (a == 0 and op is ast.Add or a == 1 and op is ast.Mult):
        return b
    if op is ast.Mult and _number(b) and b == -1 and _is_float(a):
        return -a
    if op is ast.Mult and _number(a) and a == -1 and _is_float(b):
        return -b
    return _Sym("bin", op, (a, b))


_UNIT = (ast.Mult, ast.Div, ast.Pow)


def _is_float(x) -> bool:
    """Whether ``x`` is certainly a float (comparisons give bools, and bool arithmetic ints)."""
    if not isinstance(x, _Sym):
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
        if all(map(_number, args)):
            return real(*args)
        return _Sym("call", name, args)
    return call


class _SymbolicMath:
    """Stands in for the ``math`` module: symbolic on symbols, the real thing on numbers."""

    def __getattr__(self, name):
        real = getattr(math, name)
        return _symbolic_call(f"math.{name}", real) if callable(real) else real


def _extremum(name, real):
    def call(*args):
        items = tuple(args[0]) if len(args) == 1 else args
        if all(map(_number, items)):
            return real(items)
        return _Sym("call", name, items)
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
        # ops._call dispatches a helper (step, log, total …) on its argument type: inline
        # the helper op's own forward; ops._largest is the max of plain numbers
        ns["_call"] = lambda name, *args: _traced(OPS[name].forward, ns)(args, ())
        ns["_largest"] = lambda xs: ns["max"](xs)
    return ns


def _rebind(f, ns):
    return types.FunctionType(f.__code__, ns, f.__name__, f.__defaults__, f.__closure__)


_namespaces: dict = {}  # id(module globals) -> (those globals, kept alive so the id stays theirs; symbolic copy)


def _traced(f, ns=None):
    """``f`` running on symbolic stand-ins (same code, symbolic globals)."""
    if ns is None:
        key = id(f.__globals__)
        if key not in _namespaces:
            _namespaces[key] = (f.__globals__, _symbolic_globals(f.__globals__))
        ns = _namespaces[key][1]
    return _rebind(f, ns)


def _explore(fn):
    """Run ``fn`` along every path of its branches: ``[(decisions, result, hoisted), …]``."""
    global _run
    paths, todo = [], [()]
    while todo:
        prefix = todo.pop()
        run, saved = _Run(prefix), _run
        _run = run
        try:
            result = fn()
        except _Untraceable:
            raise
        except (ArithmeticError, ValueError):
            result = _FAIL
        except TypeError as exc:
            raise _Untraceable(f"uses {exc}") from None
        finally:
            _run = saved
        paths.append((run.taken, result, list(run.hoisted)))
        todo.extend(tuple(a for _, a in run.taken[:k]) + (not run.taken[k][1],)
                    for k in range(len(prefix), len(run.taken)))
        if len(paths) > _MAX_PATHS:
            raise _Untraceable(f"has more than {_MAX_PATHS} combinations of branches")
    return paths


_FAIL = _Sym("fail")


def _merge(paths, depth, k):
    """Result ``k`` of ``paths`` from decision ``depth`` on, as nested ``if`` nodes."""
    ends = [p for p in paths if len(p[0]) == depth]
    if ends:
        result = ends[0][1]
        return _FAIL if result is _FAIL else result[k]
    condition = paths[0][0][depth][0]
    yes = _merge([p for p in paths if p[0][depth][1]], depth + 1, k)
    no = _merge([p for p in paths if not p[0][depth][1]], depth + 1, k)
    if ast.dump(_to_ast(yes, False, {})) == ast.dump(_to_ast(no, False, {})):
        return yes
    return _Sym("if", None, (condition, yes, no))


class _Code:
    """The code of one traced function: its results (numbers or expressions) and,
    when it has no branches, the subexpressions worth a temporary each (repeated
    ones, and splits of very deep ones), in evaluation order. A branching function
    gets no temporaries: a temporary would be evaluated on both sides of a branch."""

    def __init__(self, fn):
        paths = _explore(fn)
        if len(paths) == 1:
            _, results, hoisted = paths[0]
            self.results = results
            self.temps = sorted(set(hoisted) | set(_shared(results)), key=lambda n: n.serial)
        else:
            if any(hoisted for _, _, hoisted in paths):
                raise _Untraceable("has branches around expressions too deep to inline")
            width = next(len(r) for _, r, _ in paths if r is not _FAIL)
            self.results = tuple(_merge(paths, 0, k) for k in range(width))
            self.temps = []
        self._text = {}

    def text(self, numpy: bool) -> tuple:
        """``([temporary texts], [result texts or None for a constant 0])`` as format strings:
        ``{0}`` … are the op's inputs, ``{o}`` its output, ``{g}`` its upstream gradient,
        ``{t0}`` … the temporaries."""
        if numpy not in self._text:
            names = {}
            temps = []
            for k, node in enumerate(self.temps):
                temps.append(ast.unparse(_to_ast(node, numpy, names)))
                names[node] = f"{{t{k}}}"
            results = [None if _number(r) and r == 0 else ast.unparse(_to_ast(r, numpy, names))
                       for r in self.results]
            self._text[numpy] = (temps, results)
        return self._text[numpy]


class _Template:
    """An op's code for one arity and parameter tuple: ``forward`` (one result) and
    ``backward`` (upstream × partial, one result per input)."""

    def __init__(self, spec, arity, params):
        xs = tuple(_Sym("name", f"{{{k}}}") for k in range(arity))
        self.xs, self._lanes = xs, False
        out, upstream = _Sym("name", "{o}"), _Sym("name", "{g}")
        forward, partials = _traced(spec.forward), _traced(spec.partials)

        def backward():
            return tuple(p if _number(p) and p == 0 else upstream * p for p in partials(xs, out, params))
        try:
            self.forward = _Code(lambda: (forward(xs, params),))
            self.backward = _Code(backward)
        except _Untraceable as exc:
            raise NotImplementedError(f"op {spec.name!r} cannot be compiled: its code {exc}") from None

    @property
    def lanes(self):
        """The op's :class:`_Lanes` form, or None when its recorded code is not one."""
        if self._lanes is False:
            self._lanes = _Lanes.derive(self)
        return self._lanes


class _Lanes:
    """An n-ary op whose recorded code is a left-to-right sum of one term per *lane*.

    Found by reading the op's own recorded expressions, not by knowing the op: with
    ``L`` lanes and ``k = s·L`` inputs, input ``j·L + m`` is slot ``j`` of lane ``m``
    (``dot`` over (a₁…aₙ, b₁…bₙ): 2 slots, n lanes; ``sum``: 1 slot). The op qualifies
    when its forward is ``((t₀ + t₁) + t₂) + …`` where every term ``t_m`` is ``t₀`` with
    lane 0's inputs replaced by lane m's, and the backward term of input ``j·L + m`` is
    that of ``j·L`` likewise. Then numpy evaluates the term once over stacked slots
    (``{S0}``, ``{S1}`` … each an array with one row per lane) and adds the rows in the
    same order (``np.cumsum``), and the backward terms once per slot, one row per lane.
    """

    def __init__(self, count, slots, forward, backward):
        self.count, self.slots = count, slots  # lanes, slots per lane
        self.forward = forward  # the term over the slots, a format string
        self.backward = backward  # per slot: the upstream gradient times the partial, or None (zero)

    @staticmethod
    def derive(template):
        code, back, xs = template.forward, template.backward, template.xs
        if len(code.results) != 1 or any(isinstance(r, _Sym) and r.kind == "fail" for r in back.results):
            return None
        terms, node = [], code.results[0]
        while isinstance(node, _Sym) and node.kind == "bin" and node.op is ast.Add:
            terms.append(node.args[1])
            node = node.args[0]
        terms.append(node)
        terms.reverse()
        count = len(terms)
        if count < 2 or len(xs) % count:
            return None
        slots = len(xs) // count

        def lane_text(expr, m):
            """``expr`` written over slot names when it only reads lane ``m``'s inputs, else None."""
            names = {x: f"{{S{k // count}}}" if k % count == m else "?" for k, x in enumerate(xs)}
            text = ast.unparse(_to_ast(expr, True, names))
            return None if "?" in text else text

        forward = lane_text(terms[0], 0)
        if forward is None or "{S" not in forward or "{o}" in forward or "{g}" in forward:
            return None
        if any(lane_text(t, m) != forward for m, t in enumerate(terms)):
            return None
        backward = []
        for j in range(slots):
            results = back.results[j * count:(j + 1) * count]
            if all(_number(r) and r == 0 for r in results):
                backward.append(None)
                continue
            if any(_number(r) for r in results):
                return None
            text = lane_text(results[0], 0)
            if text is None or any(lane_text(r, m) != text for m, r in enumerate(results)):
                return None
            # a term that reads no slot (sum: just the upstream gradient) still gives one row per lane
            backward.append(text if "{S" in text else f"np.zeros(({count}, 1)) + ({text})")
        return _Lanes(count, slots, forward, backward)


_LANES_MIN = 4  # below this many lanes, one array operation per term is as cheap


def _stack(xs):
    """Numbers and batch arrays as one array with a row per item: ``(k, 1)`` when every item is
    a number, ``(k, batch)`` otherwise (numbers repeated along the batch)."""
    import numpy as np

    try:
        a = np.array(xs, dtype=float)
    except ValueError:  # numbers among batch arrays
        a = np.array(np.broadcast_arrays(*xs), dtype=float)
    return a.reshape(len(xs), -1)


_templates: dict = {}


def _template(spec, arity: int, params: tuple) -> _Template:
    key = (spec.name, arity, params)
    if key not in _templates:
        _templates[key] = _Template(spec, arity, params)
    return _templates[key]


# --- rendering expressions as source -------------------------------------------------

_NUMPY_NAMES = {"math.pow": "np.power", "math.fabs": "np.abs", "max": "np.maximum", "min": "np.minimum"}


def _shared(results) -> list:
    """Subexpressions referenced more than once (worth one temporary each), in creation order."""
    seen, shared, stack = set(), {}, [r for r in results if isinstance(r, _Sym)]
    while stack:
        node = stack.pop()
        if node in seen:
            if node.kind != "name":
                shared[node] = None
            continue
        seen.add(node)
        stack.extend(a for a in node.args if isinstance(a, _Sym))
    return list(shared)


def _constant(x):
    """A number as an ``ast`` node: a minus sign is a unary operator (so that ``unparse``
    parenthesises it where needed, ``(-2.0) ** 2``), infinities and NaN are names."""
    x = float(x) if isinstance(x, bool) else x
    if isinstance(x, float) and math.isnan(x):
        return ast.Name("NAN")
    if x < 0 or isinstance(x, float) and math.copysign(1.0, x) < 0:
        return ast.UnaryOp(ast.USub(), _constant(-x))
    return ast.Name("INF") if x == math.inf else ast.Constant(x)


def _call(name, args):
    target, _, attr = name.rpartition(".")
    func = ast.Attribute(ast.Name(target), attr) if target else ast.Name(name)
    return ast.Call(func, list(args), [])


def _to_ast(x, numpy: bool, names: dict):
    """``x`` as an ``ast`` expression (numpy flavoured or not); nodes in ``names``
    (temporaries) appear by name."""
    if not isinstance(x, _Sym):
        return _constant(x)
    if x in names:
        return ast.Name(names[x])
    if x.kind == "name":
        return ast.Name(x.op)
    args = [_to_ast(a, numpy, names) for a in x.args]
    if numpy:
        # comparisons used as numbers become 1.0/0.0 arrays (numpy refuses bool arithmetic)
        if x.kind in ("bin", "neg", "call"):
            args = [_call("np.where", [a, ast.Constant(1.0), ast.Constant(0.0)])
                    if isinstance(s, _Sym) and s.kind == "cmp" else a for a, s in zip(args, x.args)]
        if x.kind == "if":
            return _call("np.where", args)
        if x.kind == "fail":
            return ast.Name("NAN")
        if x.kind == "call":
            name = _NUMPY_NAMES.get(x.op, x.op.replace("math.", "np."))
            if x.op in ("max", "min"):
                acc = args[0]
                for a in args[1:]:
                    acc = _call(name, [acc, a])
                return acc
            return _call(name, args)
    if x.kind == "bin":
        return ast.BinOp(args[0], x.op(), args[1])
    if x.kind == "neg":
        return ast.UnaryOp(ast.USub(), args[0])
    if x.kind == "cmp":
        return ast.Compare(args[0], [x.op()], [args[1]])
    if x.kind == "call":
        return _call(x.op, args)
    if x.kind == "if":
        return ast.IfExp(args[0], args[1], args[2])
    return _call("_fail", [])


# --- compiling a trace ------------------------------------------------------------------


def _fail():
    raise ValueError("outside the op's domain")


def _literal(x: float) -> str:
    """A recorded number as source, parenthesised when negative so it can stand anywhere."""
    text = ast.unparse(_constant(float(x)))
    return f"({text})" if text.startswith("-") else text


def _tuple(items) -> str:
    items = list(items)
    return f"({items[0]},)" if len(items) == 1 else f"({', '.join(items)})"


def _escape(label) -> str:
    """A label for a comment: repr escapes newlines and every other non-printable character."""
    return repr(str(label))[1:-1]


def _comment(label) -> str:
    return "" if label is None else f"  # {_escape(label)}"


class Compiled:
    """A compiled trace. ``forward_backward(values)`` returns ``(outputs, grads)``:
    the values of the ``outputs`` nodes and d outputs[0] / d ``wrt`` for new
    values of the ``inputs`` leaves; :meth:`batched` does the same over arrays.
    ``source`` is the Python listing, ``numpy_source`` the batched one."""

    def __init__(self, trace: Trace, inputs: tuple, outputs: tuple, wrt: tuple):
        self.trace = trace
        self.inputs, self.outputs, self.wrt = inputs, outputs, wrt
        self.source = self._generate(numpy=False)
        self._fn = _load(self.source, "forward_backward", {"math": math, "INF": math.inf, "NAN": math.nan,
                                                           "_fail": _fail})
        self._batched = self._numpy_source = None

    @property
    def numpy_source(self) -> str:
        """The batched (numpy) listing."""
        self._numpy()
        return self._numpy_source

    def _numpy(self):
        if self._batched is None:
            import numpy as np

            self._numpy_source = self._generate(numpy=True)
            namespace = {"np": np, "INF": math.inf, "NAN": math.nan, "_stack": _stack}
            namespace.update((f"_I{k}", np.array(rows)) for k, rows in enumerate(self._row_indices))
            self._batched = _load(self._numpy_source, "batched", namespace)
        return self._batched

    # --- running --------------------------------------------------------------------
    def forward_backward(self, values) -> tuple:
        """``(outputs, grads)`` for ``values`` of the inputs (a sequence in ``inputs`` order)."""
        values = self._check(values)
        try:
            outputs, grads = self._fn(values)
        except (ArithmeticError, ValueError):
            return self._engine(values)
        if all(map(math.isfinite, outputs)) and all(map(math.isfinite, grads)):
            return outputs, grads
        return self._engine(values)

    def batched(self, arrays) -> tuple:
        """``(outputs, grads)`` over a batch: 2-D arrays with one row per output (per
        ``wrt`` node) and one column per sample, for ``arrays`` of the inputs (each a
        number shared by every sample, or a 1-D array; the arrays share one length).
        ``grads.sum(axis=1)`` is the gradient of the summed outputs[0]."""
        import numpy as np

        fn = self._numpy()
        columns = self._columns(arrays, np)
        n = builtins.max((a.shape[0] for a in columns if a.ndim), default=1)
        with np.errstate(all="ignore"):
            outputs, grads = fn(columns, n)
        result = np.empty((len(outputs) + len(grads), n))
        for row, v in zip(result, outputs):
            row[...] = v
        result[len(outputs):] = grads
        for s in np.flatnonzero(~np.isfinite(result).all(axis=0)):  # re-run these as forward_backward does
            try:
                out, grad = self.forward_backward([float(a[s]) if a.ndim else float(a) for a in columns])
            except DomainError as exc:
                raise DomainError(exc.op, exc.operands, f"{exc.reason} (batch sample {s})", exc.fix) from None
            result[:, s] = out + grad
        return result[:len(outputs)], result[len(outputs):]

    def _columns(self, arrays, np) -> list:
        arrays = list(arrays)
        self._check_count(arrays)
        columns, sizes = [], set()
        for k, a in enumerate(arrays):
            if type(a) is float or type(a) is np.float64:
                columns.append(np.float64(a))
                continue
            a = np.asarray(a)
            if a.dtype.kind not in "iuf" or a.ndim > 1:
                raise InputError(f"the batch of input {self._name(k)} must be a number or a 1-D array of numbers, "
                                 f"got {a.dtype} with shape {a.shape}")
            columns.append(a.astype(np.float64))
            if a.ndim:
                sizes.add(a.shape[0])
        if len(sizes) > 1:
            raise InputError(f"batched arrays have different lengths {sorted(sizes)}; "
                             "give every 1-D input the batch length")
        return columns

    def _name(self, k: int) -> str:
        rec = self.trace.nodes[self.inputs[k]]
        return _escape(rec.label) if rec.label is not None else f"#{rec.index}"

    def _check_count(self, values):
        if len(values) != len(self.inputs):
            raise InputError(f"expected {len(self.inputs)} input values (one per compiled input), got {len(values)}")

    def _check(self, values):
        values = values if isinstance(values, (list, tuple)) else list(values)
        self._check_count(values)
        if all(type(v) is float for v in values):
            return values
        for k, v in enumerate(values):
            if not isinstance(v, Real) or isinstance(v, bool):
                raise InputError(f"the value of input {self._name(k)} must be a real number, got {v!r}")
        return [float(v) for v in values]

    def _engine(self, values):
        """The engine's answer (or its DomainError) for ``values``."""
        rebuilt = self.trace.rebuild(values=dict(zip(self.inputs, values)))
        rebuilt[self.outputs[0]].backward()
        return tuple(rebuilt[i].data for i in self.outputs), tuple(rebuilt[i].grad for i in self.wrt)

    # --- code generation -----------------------------------------------------------------
    def _generate(self, numpy: bool) -> str:
        nodes = self.trace.nodes
        inputs = set(self.inputs)
        needed = _below(nodes, self.outputs)
        live = _below(nodes, self.outputs[:1])
        carries = [False] * len(nodes)  # a gradient flowing into the node can reach a wrt node
        for i in self.wrt:
            carries[i] = True
        for rec in nodes:
            carries[rec.index] = carries[rec.index] or any(carries[j] for j in rec.inputs)

        def var(i):
            rec = nodes[i]
            return _literal(rec.data) if rec.is_const and i not in inputs else f"v{i}"

        def lanes(rec):
            if not numpy or rec.is_leaf or OPS[rec.op].arity is not None:
                return None
            form = _template(OPS[rec.op], len(rec.inputs), rec.params).lanes
            return form if form is not None and form.count >= _LANES_MIN else None

        # numpy: the slots of n-ary nodes, one stacked array per distinct tuple of nodes (a layer's
        # activations feed every unit of the next layer: stacked once, its gradient gathered once)
        stacks = {}  # tuple of node indices -> stack number

        def slots(rec, form):
            members = [tuple(rec.inputs[j * form.count:(j + 1) * form.count]) for j in range(form.slots)]
            return [stacks.setdefault(t, len(stacks)) for t in members]

        lines = [f"def {'batched(values, n)' if numpy else 'forward_backward(values)'}:"]
        lines += [f"    # v{i}: {_escape(nodes[i].label)}" for i in self.inputs if nodes[i].label is not None]
        if self.inputs:
            lines.append(f"    {_tuple(f'v{i}' for i in self.inputs)[1:-1]} = values")
        lines.append("    # forward")
        built = set()
        for rec in nodes:
            i = rec.index
            if i not in needed or i in inputs or rec.is_const:
                continue
            if rec.is_leaf:
                lines.append(f"    v{i} = {_literal(rec.data)}{_comment(rec.label)}")
                continue
            args = [var(j) for j in rec.inputs]
            form = lanes(rec)
            if form is not None:
                names = {}
                for j, k in enumerate(slots(rec, form)):
                    if k not in built:
                        built.add(k)
                        members = args[j * form.count:(j + 1) * form.count]
                        lines.append(f"    s{k} = _stack([{', '.join(members)}])")
                    names[f"S{j}"] = f"s{k}"
                lines.append(f"    v{i} = np.cumsum({form.forward.format(**names)}, axis=0)[-1]{_comment(rec.label)}")
                continue
            temps, (forward,) = _template(OPS[rec.op], len(args), rec.params).forward.text(numpy)
            names = {f"t{k}": f"t{i}_{k}" for k in range(len(temps))}
            lines += [f"    t{i}_{k} = {text.format(*args, **names)}" for k, text in enumerate(temps)]
            lines.append(f"    v{i} = {forward.format(*args, **names)}{_comment(rec.label)}")
        out = self.outputs[0]
        lines.append(f"    # backward: g<n> = d v{out} / d v<n>")
        lines.append(f"    g{out} = 1.0")
        assigned = {out}

        def add(j, term):
            if j not in assigned:
                assigned.add(j)
                lines.append(f"    g{j} = {term}")
            else:
                lines.append(f"    g{j} = g{j} + {term}" if numpy else f"    g{j} += {term}")

        # numpy: the gradients come back as one array R, a row per wrt node; a stack of distinct
        # leaves each listed once in wrt adds its gathered gradient to R's rows in one operation
        rows = {}
        for k, i in enumerate(self.wrt):
            rows.setdefault(i, []).append(k)
        by_last = {}  # the stacks to take apart before the backward step of their last member
        for members, k in stacks.items():
            by_last.setdefault(max(members), []).append((k, members))
        gathered = set()
        self._row_indices = []

        def rows_of(positions):
            if positions == list(range(positions[0], positions[0] + len(positions))):
                return f"{positions[0]}:{positions[-1] + 1}"
            self._row_indices.append(positions)
            return f"_I{len(self._row_indices) - 1}"

        for rec in reversed(nodes):
            i = rec.index
            for k, members in by_last.get(i, ()):
                if k not in gathered:
                    continue
                if (len(set(members)) == len(members) and out not in members
                        and all(nodes[j].is_leaf and len(rows.get(j, ())) == 1 for j in members)):
                    lines.append(f"    R[{rows_of([rows[j][0] for j in members])}] += gs{k}")
                    continue
                for m, j in enumerate(members):
                    if carries[j]:
                        add(j, f"gs{k}[{m}]")
            if i not in live or i not in assigned or rec.is_leaf:
                continue
            args = [var(j) for j in rec.inputs]
            form = lanes(rec)
            if form is not None:
                names = {f"S{j}": f"s{k}" for j, k in enumerate(slots(rec, form))}
                names.update(o=f"v{i}", g=f"g{i}")
                for j, k in enumerate(slots(rec, form)):
                    term = form.backward[j]
                    if term is None or not any(carries[x] for x in rec.inputs[j * form.count:(j + 1) * form.count]):
                        continue
                    term = term.format(**names)
                    lines.append(f"    gs{k} = gs{k} + {term}" if k in gathered else f"    gs{k} = {term}")
                    gathered.add(k)
                continue
            temps, terms = _template(OPS[rec.op], len(args), rec.params).backward.text(numpy)
            edges = [(j, term) for j, term in zip(rec.inputs, terms) if carries[j] and term is not None]
            if not edges:
                continue
            names = {f"t{k}": f"d{i}_{k}" for k in range(len(temps))}
            names.update(o=f"v{i}", g=f"g{i}")
            lines += [f"    d{i}_{k} = {text.format(*args, **names)}" for k, text in enumerate(temps)]
            for j, term in edges:
                add(j, term.format(*args, **names))
        outputs = _tuple(map(var, self.outputs))
        if not numpy:
            grads = (f"g{i}" if i in assigned else "0.0" for i in self.wrt)
            lines.append(f"    return {outputs}, {_tuple(grads)}")
            return "\n".join(lines) + "\n"
        rest = [(k, i) for k, i in enumerate(self.wrt) if i in assigned]
        if rest:
            where = rows_of([k for k, _ in rest])
            lines.append(f"    R[{where}] += _stack([{', '.join(f'g{i}' for _, i in rest)}])")
        lines.insert(lines.index("    # forward"), f"    R = np.zeros(({len(self.wrt)}, n))")
        lines.append(f"    return {outputs}, R")
        return "\n".join(lines) + "\n"


def _below(nodes, roots) -> set:
    seen, stack = set(), list(roots)
    while stack:
        i = stack.pop()
        if i not in seen:
            seen.add(i)
            stack.extend(nodes[i].inputs)
    return seen


def _load(source: str, name: str, namespace: dict):
    code = compile(source, f"<tracegrad compiled {name}>", "exec")
    exec(code, namespace)  # noqa: S102 - our own generated code; user text only appears in escaped comments
    return namespace[name]


def compile_trace(trace: Trace, inputs=(), outputs=None, wrt=None) -> Compiled:
    """Compile ``trace`` into straight-line code.

    ``inputs``: the leaves whose values change between calls (labels, indices,
    ``Value`` s or records), in the order ``forward_backward`` takes them; every
    other leaf keeps its recorded value. ``outputs``: the nodes whose values are
    returned (default: the trace's output); the gradients are those of
    ``outputs[0]``. ``wrt``: the nodes whose gradients are returned (default:
    ``inputs``).
    """
    inputs = tuple(trace.index(k) for k in inputs)
    outputs = (trace.output.index,) if outputs is None else tuple(trace.index(k) for k in outputs)
    wrt = inputs if wrt is None else tuple(trace.index(k) for k in wrt)
    if not outputs:
        raise InputError("compile_trace needs at least one output node")
    for i in inputs:
        rec = trace.nodes[i]
        if not rec.is_leaf:
            name = _escape(rec.label) if rec.label is not None else f"{rec.op} #{i}"
            raise InputError(f"node {name} is not a leaf; only leaves can be compiled inputs")
    if len(set(inputs)) != len(inputs):
        raise InputError("an input node is listed twice")
    return Compiled(trace, inputs, outputs, wrt)
