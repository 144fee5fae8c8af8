"""Fuzzing answers files and expressions: a result or one InputError, never another exception;
expressions never execute anything."""

import string
import sys

import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tracegrad as tg
from tests.golden import ROOT, SEED
from tracegrad.workflows.check import check
from tracegrad.core.errors import TraceGradError

PRINTED = ROOT / "examples" / "seed_printed.toml"
PRINTED_TEXT = PRINTED.read_text(encoding="utf-8")
NAMES = ["z1", "a1", "z2", "y_hat", "loss", "dL/dW1", "dL/dW2", "delta1", "W1_new", "b2_new", "zz", "", "a1[0]"]
numbers = st.one_of(st.integers(-10**20, 10**20), st.floats(allow_nan=False, allow_infinity=False),
                    st.decimals(allow_nan=False, allow_infinity=False, places=6))
values = st.recursive(st.one_of(numbers, st.text(max_size=5), st.booleans()), lambda inner: st.lists(inner, max_size=4),
                      max_leaves=10)


def judged(path) -> str:
    try:
        report = check(SEED, path)
        return report.render("text", "en", None)
    except TraceGradError as exc:
        assert "\n" not in str(exc).strip()
        return str(exc)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(st.sampled_from(NAMES), values, min_size=1, max_size=5))
def test_answers_tables(tmp_path, answers):
    path = tmp_path / "a.toml"
    try:
        path.write_text(tomli_w.dumps({"answers": answers}), encoding="utf-8")
    except (TypeError, ValueError):
        return
    assert judged(path)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(0, len(PRINTED_TEXT)), st.text(alphabet=string.printable + "中σé\\$", max_size=8))
def test_text_edits_of_an_answers_file(tmp_path, position, insert):
    path = tmp_path / "a.toml"
    path.write_text(PRINTED_TEXT[:position] + insert + PRINTED_TEXT[position:], encoding="utf-8")
    assert judged(path)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=120))
def test_binary_answers(tmp_path, data):
    path = tmp_path / "a.toml"
    path.write_bytes(data)
    assert judged(path)


tg.parse("x + 1", {"x": 0.0})  # load the parser's own modules before any module count is compared
try:
    tg.parse("x +", {"x": 0.0})
except TraceGradError:
    pass

EXPRESSION_ALPHABET = "xyz0123456789.+-*/() ,e_abcdlmnopqrstuvw[]{}:;'\"=<>!@#$%^&|~`\\\n\t"


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=EXPRESSION_ALPHABET, max_size=40))
def test_expressions_parse_or_refuse(text):
    before = set(sys.modules)
    try:
        value = tg.parse(text, {"x": 0.5, "y": -1.5, "z": 2.0})
        assert hasattr(value, "data")
    except TraceGradError as exc:
        assert str(exc)
    assert set(sys.modules) == before  # nothing imported by an expression


@settings(max_examples=200, deadline=None)
@given(st.recursive(st.sampled_from(["x", "y", "2", "0.5", "1e308"]),
                    lambda inner: st.one_of(
                        st.tuples(inner, st.sampled_from(["+", "-", "*", "/", "**"]), inner).map(
                            lambda t: f"({t[0]} {t[1]} {t[2]})"),
                        st.tuples(st.sampled_from(["exp", "log", "sqrt", "tanh", "sigmoid", "relu", "abs"]),
                                  inner).map(lambda t: f"{t[0]}({t[1]})")),
                    max_leaves=12))
def test_well_formed_expressions_give_a_value_or_a_domain_error(text):
    try:
        value = tg.parse(text, {"x": 0.5, "y": -1.5})
        value.backward()
    except TraceGradError as exc:
        assert str(exc)
