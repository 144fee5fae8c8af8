"""Hostile expressions: each is refused with an InputError that points into the
text and lists what is allowed, and nothing in it runs (no file written, no
module imported, no code object executed)."""

import builtins
import subprocess
import sys
from pathlib import Path

import pytest

from tracegrad import InputError, parse
from tracegrad.expressions.parse import ALLOWED, MAX_LENGTH

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
            events.append(event)

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
