"""Fuzzing problem files: whatever a user writes, the answer is a derivation or one clear
InputError naming the file (never another exception), and the input file is untouched."""

import json
import string

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.golden import SEED
from tracegrad.core.errors import TraceGradError
from tracegrad.workflows.derive import derive

SEED_TEXT = SEED.read_text(encoding="utf-8")

numbers = st.one_of(
    st.integers(-10**6, 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1e308, -1e308, 5e-324, 1e-300, 1e300]),
)
scalars = st.one_of(numbers, st.booleans(), st.text(max_size=20), st.none())
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                        st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                      max_leaves=12)


def tomlable(v):
    if v is None:
        return "none"
    if isinstance(v, list):
        return [tomlable(x) for x in v]
    if isinstance(v, dict):
        return {k: tomlable(x) for k, x in v.items()}
    return v


def mutate(data, path, new):
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = new


PATHS = [("layout",), ("layers",), ("layers", 0), ("layers", 0, "weights"), ("layers", 0, "weights", 1),
         ("layers", 0, "weights", 1, 0), ("layers", 1, "bias"), ("layers", 1, "activation"), ("layers", 1, "alpha"),
         ("data",), ("data", "x"), ("data", "x", 0), ("data", "y"), ("loss",), ("loss", "name"), ("optimizer",),
         ("optimizer", "lr"), ("optimizer", "name"), ("render",), ("render", "decimals"), ("render", "rounding"),
         ("title",)]


def outcome(path):
    """Derive a problem file; returns 'ok' or the InputError/TraceGradError message."""
    before = path.read_bytes()
    try:
        text = derive(path).text
        assert text
        result = "ok"
    except TraceGradError as exc:
        message = str(exc)
        assert message.startswith(str(path)) or "(" in message, message
        assert "\n" not in message.strip()
        result = message
    assert path.read_bytes() == before
    return result


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(PATHS), values, st.sampled_from(["toml", "json"]))
def test_structurally_wrong_problem_files(tmp_path, path, new, kind):
    import tomllib

    data = tomllib.loads(SEED_TEXT)
    data["title"] = "t"
    try:
        mutate(data, path, new)
    except (IndexError, KeyError, TypeError):
        return
    file = tmp_path / f"p.{kind}"
    try:
        text = tomli_w.dumps(tomlable(data)) if kind == "toml" else json.dumps(data, allow_nan=True)
    except (TypeError, ValueError):
        return  # not representable in this format
    file.write_text(text, encoding="utf-8")
    outcome(file)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=200))
def test_binary_garbage(tmp_path, data):
    file = tmp_path / "p.toml"
    file.write_bytes(data)
    assert outcome(file) != "ok" or data.strip() == b""


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(0, len(SEED_TEXT) - 1), st.text(alphabet=string.printable + "é中σ\\$#_{}^~&%", max_size=6))
def test_text_edits_of_the_seed_file(tmp_path, position, insert):
    file = tmp_path / "p.toml"
    file.write_text(SEED_TEXT[:position] + insert + SEED_TEXT[position:], encoding="utf-8")
    outcome(file)


@pytest.mark.parametrize("text", ["", "   \n", "[[layers]]\n", "x = 1", "{}", "[]"])
def test_empty_and_trivial_files(tmp_path, text):
    for suffix in ("toml", "json"):
        file = tmp_path / f"p.{suffix}"
        file.write_text(text, encoding="utf-8")
        assert outcome(file) != "ok"


@pytest.mark.parametrize("weight", [1e300, -1e300, 1e-300, 709.0, -745.0, 1e6])
def test_extreme_numbers_give_a_result_or_a_named_node(tmp_path, weight):
    file = tmp_path / "p.toml"
    file.write_text(SEED_TEXT.replace("[[0.5, 0.6]", f"[[{weight!r}, 0.6]"), encoding="utf-8")
    result = outcome(file)
    if result != "ok":
        assert "=" in result  # names the node and its value


def test_saturated_sigmoid_with_probability_cross_entropy_names_the_node_and_fix(tmp_path):
    file = tmp_path / "p.toml"
    text = SEED_TEXT.replace("[[0.5, 0.6]", "[[50.0, 0.6]").replace('"half_se"', '"bce"').replace("y = 0.5", "y = 1")
    file.write_text(text.replace("weights = [[0.9],", "weights = [[90.0],"), encoding="utf-8")
    message = outcome(file)
    assert "bce" in message and "a2[0]" in message and "logits" in message
