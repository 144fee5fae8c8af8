"""Hostile expressions and programs: each is refused with an InputError that points into
the text and lists what is allowed, and nothing in it runs (no file written, no module
imported, no code object executed)."""

import builtins
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tracegrad import InputError, parse
from tracegrad.expressions.parse import ALLOWED, MAX_LENGTH
from tracegrad.expressions.program import ALLOWED as PROGRAM_ALLOWED
from tracegrad.expressions.program import MAX_PROGRAM_LENGTH, MAX_STATEMENTS, parse_program

ROOT = Path(__file__).resolve().parent.parent
MARK = "TRACEGRAD_HOSTILE_MARK"  # stands for a file path; replaced per test


HOSTILE = [
    # (text, a fragment the message must contain)
    (f"__import__('os').system('touch {MARK}')", "not allowed: attribute access (.system)"),
    (f"open('{MARK}', 'w').write('pwned')", "not allowed: attribute access (.write)"),
    (f"open('{MARK}', 'w')", "unknown function open()"),
    (f"exec(\"open('{MARK}', 'w')\")", "unknown function exec()"),
    (f"eval(\"open('{MARK}', 'w')\")", "unknown function eval()"),
    ("__import__('this')", "unknown function __import__()"),
    ("().__class__.__bases__[0].__subclasses__()", "attribute access (.__subclasses__)"),
    ("x.__class__", "attribute access (.__class__)"),
    ("x[0]", "subscripts"),
    ("(lambda: 1)()", "not allowed: lambda"),
    ("lambda: 1", "not allowed: lambda"),
    ("[i for i in range(10 ** 9)]", "comprehensions"),
    ("sum(i for i in range(10 ** 9))", "unknown function sum()"),
    ("{x: 1}", "dicts"),
    ("{x}", "sets"),
    ("(x, y)", "tuples"),
    ("[x]", "lists"),
    ("'a' * 10 ** 9", "strings are not allowed"),
    ("b'abc'", "strings are not allowed"),
    ("f'{x}'", "f-strings"),
    ("x if y else z", "conditional expressions"),
    ("x < y", "comparisons"),
    ("x and y", "and/or"),
    ("not x", "not allowed: not"),
    ("x // y", "floor division"),
    ("x % y", "remainder"),
    ("x @ y", "the operator @"),
    ("~x", "the operator ~"),
    ("x ^ 2", "for a power write x ** 2"),
    ("x << 1000000000", "shift"),
    ("(x := 1)", "assignments (:=)"),
    ("import os", "not a valid expression"),
    (f"x; open('{MARK}', 'w')", "not a valid expression"),
    ("x = 1", "not a valid expression"),
    ("exp(x, y)", "exp takes 1 input; write exp(x)"),
    ("exp(x=1)", "keyword arguments are not allowed"),
    ("exp(*x)", "starred arguments"),
    ("max(x)", "max takes 2 inputs"),
    ("leaky_relu(x, y)", "the alpha of leaky_relu must be a number written out"),
    ("leaky_relu(x, 0.1, 0.2)", "leaky_relu takes 1 input and optional alpha"),
    ("exp(x)(y)", "only the listed functions may be called"),
    ("getattr(x, 'data')", "unknown function getattr()"),
    ("globals()", "unknown function globals()"),
    ("breakpoint()", "unknown function breakpoint()"),
    ("_x + 1", "names starting with _ are not allowed"),
    ("__builtins__", "names starting with _ are not allowed"),
    ("exp", "exp is a function; call it as exp(x)"),
    ("True + 1", "True is not a number"),
    ("None", "None is not a number"),
    ("...", "Ellipsis is not a number"),
    ("1j", "complex numbers are not allowed"),
    ("1e999", "too large for a 64-bit float"),
    ("9" * 400, "too large for a 64-bit float"),
    ("9" * 5000, "characters long; the limit is"),
    ("(" * 300 + "x" + ")" * 300, "not a valid expression"),
    ("-" * 500 + "x", "nests deeper than"),
    ("x + \x1b[2J", "control character U+001B"),
    ("x\u202e + y", "invisible or control character U+202E"),
    ("x\u200b", "invisible or control character U+200B"),
    ("x\x00", "control character U+0000"),
    ("(yield x)", "not allowed: yield"),
    ("await x", "not allowed: await"),
    ("", "the expression is empty"),
]


@pytest.fixture
def forbid_execution(monkeypatch):
    """Record audit events during a parse; compile() may only produce syntax trees."""
    import ast

    events = []
    active = []

    def hook(event, args):
        if active:
            events.append("open('')" if event == "open" and args[0] == "" else event)

    if not getattr(sys, "_tracegrad_test_hook", None):
        sys.addaudithook(lambda event, args: sys._tracegrad_test_hook(event, args))
    sys._tracegrad_test_hook = hook
    real_compile = builtins.compile

    def only_ast(source, filename, mode, flags=0, *args, **kwargs):
        assert flags & ast.PyCF_ONLY_AST, "compile() called for code, not for a syntax tree"
        return real_compile(source, filename, mode, flags, *args, **kwargs)

    monkeypatch.setattr(builtins, "compile", only_ast)
    yield active, events
    sys._tracegrad_test_hook = lambda event, args: None


@pytest.mark.parametrize("text, fragment", HOSTILE, ids=[f"h{i}" for i in range(len(HOSTILE))])
def test_hostile_input_is_refused_and_nothing_runs(text, fragment, tmp_path, forbid_execution):
    active, events = forbid_execution
    marker = tmp_path / "pwned"
    text = text.replace(MARK, str(marker))
    parse("x + 1", at={"x": 1})  # warm up: lazy imports happen here, not below
    modules_before = set(sys.modules)
    active.append(True)
    with pytest.raises(InputError) as caught:
        parse(text, at={"x": 1.0})
    active.clear()
    message = str(caught.value)
    assert fragment in message
    assert ALLOWED in message or "characters long" in message
    assert not marker.exists()
    assert "this" not in sys.modules and set(sys.modules) - modules_before == set()
    # parsing only ever compiles to a syntax tree: no exec, import, open, os.system ...
    assert set(events) <= {"compile"}, events
    assert "\x1b" not in message and "\u202e" not in message  # control characters are never echoed


def test_at_least_thirty_hostile_inputs():
    assert len(HOSTILE) >= 30


def test_error_points_at_the_offending_character():
    with pytest.raises(InputError) as caught:
        parse("exp(x) + y.data", at={"x": 1, "y": 2})
    lines = str(caught.value).splitlines()
    assert lines[0] == "expression: not allowed: attribute access (.data) at column 11:"
    assert lines[1] == "  exp(x) + y.data"
    assert lines[2] == "  " + " " * 10 + "^"  # under the dot, the 11th character


def test_position_counts_characters_not_bytes():
    with pytest.raises(InputError, match=r"at column 8:\n  αβγ \+ x\.y\n         \^"):
        parse("αβγ + x.y", at={"αβγ": 1, "x": 2})  # the dot is the 8th character, the 10th byte


def test_multiline_position():
    with pytest.raises(InputError, match=r"line 2, column 3:\n  1 % 2\)\n    \^"):
        parse("(x +\n1 % 2)", at={"x": 1})


def test_source_has_no_evaluation():
    source = (ROOT / "tracegrad" / "expressions" / "parse.py").read_text()
    for forbidden in ("eval(", "exec(", "sympify", "literal_eval", "__import__", "compile("):
        assert forbidden not in source


def test_command_line_refuses_with_exit_2_and_no_traceback(tmp_path):
    marker = tmp_path / "pwned"
    text = f"__import__('os').system('touch {marker}')"
    result = subprocess.run([sys.executable, "-m", "tracegrad", "graph", "--expr", text, "--format", "dot"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "attribute access (.system)" in result.stderr and "Traceback" not in result.stderr
    assert not marker.exists()


def test_too_long_is_refused_before_parsing():
    text = "x+" * MAX_LENGTH + "x"
    with pytest.raises(InputError, match=f"the limit is {MAX_LENGTH}"):
        parse(text)


# --- programs (tracegrad.expressions.program): the same guarantees, statement by statement ------

HOSTILE_PROGRAMS = [
    # (program, a fragment the message must contain)
    (f"import os\nos.system('touch {MARK}')", "not allowed: importing os"),
    (f"from os import system\nsystem('touch {MARK}')", "not allowed: importing os"),
    ("import micrograd, subprocess", "not allowed: importing subprocess"),
    ("from __future__ import annotations", "not allowed: importing __future__"),
    ("from . import engine", "relative imports"),
    (f"__import__('os').system('touch {MARK}')", "not allowed: attribute access (.system)"),
    (f"open('{MARK}', 'w').write('pwned')", "not allowed: attribute access (.write)"),
    (f"f = open('{MARK}', 'w')", "open is not defined"),
    (f"exec(\"open('{MARK}', 'w')\")", "exec is not defined"),
    (f"eval(\"open('{MARK}', 'w')\")", "eval is not defined"),
    ("a = Value(1.0)\nb = a.__class__.__bases__[0].__subclasses__()", "attribute access (.__subclasses__)"),
    ("a = Value(1.0)\nb = a.__class__", "attribute access (.__class__)"),
    ("a = Value(1.0)\nb = a._prev", "attribute access (._prev)"),
    ("a = Value(1.0)\na._op = 'x'", "attribute access (._op)"),
    ("import tracegrad as tg\nx = tg.__dict__", "attribute access (.__dict__)"),
    ("import tracegrad\ntracegrad.core.files.write_output('x', 'pwned')", "attribute access (.write_output)"),
    ("from tracegrad.core.files import write_output\nwrite_output('x', 'y')",
     "tracegrad.core.files.write_output is not available"),
    ("from micrograd.nn import MLP\nm = MLP(2, [4, 1])", "micrograd.nn.MLP is not available"),
    ("a = Value(1.0)\nb = a.data * 2", "reading .data"),
    ("a = Value(1.0)\nb = Value(a.grad)", "reading .grad"),
    ("a = Value(1.0)\nb = a.label", "reading .label"),
    ("a = Value(1.0)\na.data = 5.0", "setting .data"),
    ("a = Value(1.0)\na.grad = 1.0", "setting .grad"),
    ("a = Value(1.0)\na.data += 0.01 * a.grad", "setting .data"),
    ("for i in range(10 ** 9):\n    pass", "not allowed in a program: for loops"),
    ("while True:\n    pass", "while loops"),
    ("if True:\n    x = Value(1.0)", "if statements"),
    ("def f(x):\n    return x", "function definitions"),
    ("async def f():\n    pass", "function definitions"),
    ("class Value:\n    pass", "class definitions"),
    (f"with open('{MARK}', 'w') as f:\n    pass", "with blocks"),
    ("try:\n    x = 1\nexcept Exception:\n    pass", "try blocks"),
    ("global x", "global"),
    ("del x", "del"),
    ("assert False", "assert"),
    ("raise SystemExit", "raise"),
    ("x: float = 1.0", "annotations"),
    ("f = lambda x: x", "not allowed: lambda"),
    ("x = [i for i in range(10 ** 9)]", "comprehensions"),
    ("x = sum(Value(i) for i in range(10 ** 9))", "comprehensions"),
    ("a = Value(1.0)\nb = [a][0]", "subscripts"),
    ("a = Value(1.0)\nb = {a: 1}", "dicts"),
    ("a = Value(1.0, label=f'{__import__(\"os\")}')", "f-strings"),
    ("a = Value(1.0, label='a' * 10 ** 9)", "a label is a string written out"),
    ("x = 'a' * 10 ** 9", "strings are not allowed"),
    ("x = 9 ** 9 ** 9 ** 9", "overflows a 64-bit float"),
    ("x = Value(2.0)\ny = x ** x ** x ** x ** 99", "overflows a 64-bit float"),
    ("x = 1e999", "too large for a 64-bit float"),
    ("x = Value(True)", "True is not a number"),
    ("x = Value(1j)", "complex numbers"),
    ("x = Value('1')", "strings are not allowed"),
    ("x = Value(1.0, (), '+')", "write Value(number) or Value(number, label='…')"),
    ("_x = Value(1.0)", "names starting with _"),
    ("x = __builtins__", "names starting with _"),
    ("x = Value(1.0)\nx.backward()\nx.backward()", "called .backward() already"),
    ("x = Value(1.0)\ny = x.backward()", "as a statement of its own"),
    ("x = Value(1.0)\nx.backward(create_graph=True)", "without arguments"),
    ("x = Value(1.0)\ny = x(2)", "cannot be called"),
    ("x = Value(1.0)\ny = x.tanh(1, 2)", "wrong arguments; write x.tanh()"),
    ("x = Value(1.0)\ny = exp(x, x)", "exp takes 1 input; write exp(x)"),
    ("x = Value(1.0)\ny = x.leaky_relu(x)", "the alpha of leaky_relu must be a number"),
    ("x = Value(1.0)\ny = tanh(**{'x': x})", "**keyword arguments"),
    ("x = Value(1.0)\ny = tanh(*[x])", "starred arguments"),
    ("a, *b = [Value(1.0), Value(2.0)]", "starred arguments"),
    ("x = Value(1.0)\nx //= 2", "floor division"),
    ("x = Value(1.0)\ny = x @ x", "the operator @"),
    ("x = Value(1.0)\ny = x if x else x", "conditional expressions"),
    ("x = Value(1.0)\ny = x < 2", "comparisons"),
    ("y = (x := Value(1.0))", "assignments (:=)"),
    ("x = Value(1.0)\ny = (yield x)", "yield"),
    ("x = Value(1.0) + \x1b[2J", "control character U+001B"),
    ("x = Value(1.0)\u202e", "invisible or control character U+202E"),
    ("# a comment with \x00", "control character U+0000"),
    ("x = Value(1.0)\n" * (MAX_STATEMENTS + 1), f"statements; the limit is {MAX_STATEMENTS}"),
    ("x = 1\n#" + "#" * MAX_PROGRAM_LENGTH, f"characters long; the limit is {MAX_PROGRAM_LENGTH}"),
    ("x = " + "-" * 500 + "Value(1.0)", "nests deeper than"),
    ("x = " + "(" * 300 + "1" + ")" * 300, "not valid Python"),
    ("x = = 1", "not valid Python"),
    ("    x = Value(1.0)", "not valid Python (unexpected indent)"),
    ("", "the program builds no Value"),
]

_UNPLACED = ("characters long", "statements; the limit", "builds no Value")  # messages about the whole text


@pytest.mark.parametrize("text, fragment", HOSTILE_PROGRAMS, ids=[f"p{i}" for i in range(len(HOSTILE_PROGRAMS))])
def test_hostile_program_is_refused_and_nothing_runs(text, fragment, tmp_path, forbid_execution):
    active, events = forbid_execution
    marker = tmp_path / "pwned"
    text = text.replace(MARK, str(marker))
    parse_program("import tracegrad\na = Value(1.0)\nb = a.tanh()")  # warm up: lazy imports happen here
    modules_before = set(sys.modules)
    active.append(True)
    with pytest.raises(InputError) as caught:
        parse_program(text)
    active.clear()
    message = str(caught.value)
    assert fragment in message
    if not any(u in fragment for u in _UNPLACED):
        assert re.match(r"<program>:\d+:\d+: ", message) and PROGRAM_ALLOWED in message
        assert "\n  " in message and message.splitlines()[2].strip() == "^"  # the line, and a caret under it
    assert not marker.exists()
    assert "this" not in sys.modules and set(sys.modules) - modules_before == set()
    # the syntax tree only; on a syntax error CPython also tries to open the file named "" for the
    # error line, which names no file (a program is parsed under that name so that nothing is read)
    assert set(events) <= {"compile", "open('')"}, events
    assert "\x1b" not in message and "\u202e" not in message and "\x00" not in message


def test_at_least_sixty_hostile_programs():
    assert len(HOSTILE_PROGRAMS) >= 60


def test_print_and_display_lines_are_ignored_never_run(tmp_path, forbid_execution):
    active, events = forbid_execution
    marker = tmp_path / "pwned"
    active.append(True)
    program = parse_program(f"a = Value(2.0)\nprint(open('{marker}', 'w').write('x'))\ndraw_dot(__import__('os'))\n"
                            "a\n'a docstring'\npass\nb = a * a")
    active.clear()
    assert program.output.data == 4.0 and not marker.exists()
    assert set(events) <= {"compile"}, events


def test_program_error_points_at_line_and_column():
    with pytest.raises(InputError) as caught:
        parse_program("a = Value(1.0)\nb = a.relu() + a.data", source="lecture.py")
    lines = str(caught.value).splitlines()
    assert lines[0].startswith("lecture.py:2:17: not allowed: reading .data")
    assert lines[1] == "  b = a.relu() + a.data"
    assert lines[2] == "  " + " " * 16 + "^"  # under the dot


def test_program_source_has_no_evaluation():
    source = (ROOT / "tracegrad" / "expressions" / "program.py").read_text()
    for forbidden in ("eval(", "exec(", "sympify", "literal_eval", "__import__", "compile(", "getattr(v"):
        assert forbidden not in source


def test_command_line_refuses_a_program_with_exit_2_and_no_traceback(tmp_path):
    marker = tmp_path / "pwned"
    program = tmp_path / "evil.py"
    program.write_text(f"import os\nos.system('touch {marker}')\n")
    for command in (["expr", "--file", str(program)], ["check", str(program), str(program)],
                    ["quantities", str(program)], ["graph", str(program)], ["verify", str(program)]):
        result = subprocess.run([sys.executable, "-m", "tracegrad", *command], cwd=ROOT, capture_output=True,
                                text=True, timeout=60)
        assert result.returncode == 2, command
        assert result.stderr.startswith(f"tracegrad: error: {program}:1:1: not allowed: importing os")
        assert "Traceback" not in result.stderr
    assert not marker.exists()
