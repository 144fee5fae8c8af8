"""``tracegrad expr``: the derivation of an expression, checked against hand
arithmetic, math-module formulas and SymPy."""

import dataclasses
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from tracegrad import OPS
from tracegrad.cli import main
from tracegrad.workflows.explain import explain

from tex_tools import compile_latex, katex_errors, markdown_math

ROOT = Path(__file__).resolve().parent.parent
CIRCUIT = ["(x + y) * z", "--at", "x=-2", "y=5", "z=-4"]


def run(*args, env=None):
    return subprocess.run([sys.executable, "-m", "tracegrad", "expr", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env=env)


def sections(data):
    return {s["key"]: s for s in data["sections"]}


def test_circuit_text_by_hand():
    result = run(*CIRCUIT)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    # forward: x + y = −2 + 5 = 3, f = 3·(−4) = −12
    assert "v₃ = x + y = −2 + 5 = 3.0" in out
    assert "f = v₃ × z = 3.0 × (−4) = −12.0" in out
    # backward, gate f: upstream 1; to v₃: 1 × z = −4; to z: 1 × (x + y) = 3
    assert "∂f/∂v₃ = upstream × local = 1.0 × (−4.0) = −4.0" in out
    assert "∂f/∂z = upstream × local = 1.0 × 3.0 = 3.0" in out
    # gate v₃: upstream −4, local 1 for both inputs
    assert "    ∂f/∂v₃ = −4.0\n" in out
    assert "∂f/∂x = upstream × local = −4.0 × 1.0 = −4.0" in out
    gradients = out.split("3. Gradients")[1]
    assert "∂f/∂x = −4.0" in gradients and "∂f/∂y = −4.0" in gradients and "∂f/∂z = 3.0" in gradients


def test_gates_in_backward_order_each_opened_by_its_upstream_gradient():
    out = run(*CIRCUIT).stdout
    backward = out.split("2. Backward pass")[1].split("3. Gradients")[0]
    assert backward.index("f = v₃ × z = 3.0 × (−4) = −12.0") < backward.index("v₃ = x + y = −2 + 5 = 3.0")
    assert backward.count("upstream gradient into this gate") == 2


def test_a_gate_fed_only_by_constants_opens_no_block():
    # exp(2) has no edge into a variable, so it has no block; the next gate keeps its own heading and upstream
    backward = explain("(x + 1) * exp(2)", {"x": 1}, format="text").text.split("2. Backward pass")[1]
    assert "v₄ = exp(2)" not in backward
    gate = backward.split("v₂ = x + 1 = 1 + 1 = 2.0")[1]
    assert "∂f/∂v₂ ≈ 7.3891" in gate and "∂f/∂x = upstream × local = 7.3891 × 1.0 ≈ 7.3891" in gate

def test_json_values_against_formulas():
    # f = x·x + tanh(x·w): ∂f/∂x = 2x + w(1 − tanh²(xw)), ∂f/∂w = x(1 − tanh²(xw))
    x, w = 0.5, -1.5
    result = run("x * x + tanh(x * w)", "--at", f"x={x}", f"w={w}", "--format", "json")
    assert result.returncode == 0, result.stderr
    data = sections(json.loads(result.stdout))
    forward = {line["name"]: line["values"] for line in data["node_forward"]["blocks"][0]["lines"]}
    assert forward["f"] == pytest.approx(x * x + math.tanh(x * w), rel=1e-15)
    grads = {line["name"]: line["values"] for line in data["node_gradients"]["blocks"][0]["lines"]}
    sech2 = 1 - math.tanh(x * w) ** 2
    assert grads["x"] == pytest.approx(2 * x + w * sech2, rel=1e-12)
    assert grads["w"] == pytest.approx(x * sech2, rel=1e-12)
    # x feeds two gates (x·x twice, x·w once): three contributions add up to its gradient
    into_x = [line for block in data["node_backward"]["blocks"] for line in block["lines"]
              if line["caption"].startswith("contribution → x;")]
    assert len(into_x) == 3
    assert sum(line["values"] for line in into_x) == pytest.approx(grads["x"], rel=1e-12)


def test_wrt_keeps_only_the_named_gradients():
    data = sections(json.loads(run(*CIRCUIT, "--wrt", "z", "x", "--format", "json").stdout))
    assert [line["name"] for line in data["node_gradients"]["blocks"][0]["lines"]] == ["z", "x"]
    result = run(*CIRCUIT, "--wrt", "q")
    assert result.returncode == 2 and "q is not a variable of the expression (its variables: x, y, z)" in result.stderr


def test_verify_confirms_with_sympy():
    result = run(*CIRCUIT, "--verify")
    assert result.returncode == 0, result.stderr
    assert "All 3 derivatives and 2 op rules agree with SymPy." in result.stdout
    data = json.loads(run(*CIRCUIT, "--verify", "--format", "json", "--wrt", "x").stdout)
    report = data["extra"]["verify"]
    assert report["ok"] is True and [item["name"] for item in report["items"]] == ["x"]
    assert report["items"][0]["symbolic"] == -4.0  # ∂f/∂x = z


def test_verify_fails_with_exit_1_when_a_rule_is_wrong(monkeypatch, capsys):
    wrong = dataclasses.replace(OPS["mul"], partials=lambda x, o, p: (x[1], 2 * x[0]))  # ∂(ab)/∂b is a, not 2a
    monkeypatch.setitem(OPS, "mul", wrong)
    assert main(["expr", *CIRCUIT, "--verify"]) == 1
    out = capsys.readouterr().out
    assert "disagree with SymPy" in out and "✗" in out


def test_chinese_markdown():
    result = run(*CIRCUIT, "--format", "markdown", "--lang", "zh")
    assert result.returncode == 0
    assert result.stdout.startswith("# 表达式 (x + y) \\* z，取 x = -2, y = 5, z = -4\n")
    assert "流入该门的上游梯度" in result.stdout and "## 3. 梯度" in result.stdout


def test_decimals():
    out = run("sigmoid(x)", "--at", "x=1", "--decimals", "2").stdout
    assert "f = σ(x) = σ(1) ≈ 0.73" in out  # σ(1) = 0.731059
    assert "∂f/∂x ≈ 0.20\n" in out  # σ(1)(1 − σ(1)) = 0.196612
    result = run("x", "--at", "x=1", "--decimals", "40")
    assert result.returncode == 2 and "--decimals must be from 0 to 15" in result.stderr


# every function and operator of the grammar, in one expression
EVERYTHING = ("exp(a) / sqrt(b) - log(b) * tanh(a) + sigmoid(-a) ** 2 + relu(a - b) + leaky_relu(a - b, 0.2) "
              "+ abs(a) * max(a, b) - min(a, b) + b ** a - -a")
POINT = {"a": 0.5, "b": 2.0}


def test_markdown_math_parses_in_katex_strict_mode():
    formulas = []
    for lang in ("en", "zh"):
        formulas += markdown_math(explain(EVERYTHING, POINT, lang=lang, verify=True).text)
        formulas += markdown_math(explain("(x + y) * z", {"x": -2, "y": 5, "z": -4}, lang=lang).text)
    assert len(formulas) > 60
    assert katex_errors(formulas) == []


@pytest.mark.parametrize("lang, engine", [("en", "pdflatex"), ("zh", "xelatex")])
def test_latex_with_verification_compiles(tmp_path, lang, engine):
    d = explain(EVERYTHING, POINT, format="latex", lang=lang, verify=True)
    assert r"\checkmark" in d.text and r"\end{document}" in d.text
    assert compile_latex(d.text, tmp_path, engine).stat().st_size > 1000


def test_same_input_same_bytes():
    outs = {run("exp(a) * b - a / (b + 3)", "--at", "a=0.3", "b=-1.2", "--format", fmt, "--verify",
                env={"PYTHONHASHSEED": seed, "PATH": ""}).stdout
            for seed in ("1", "2") for fmt in ("markdown",)}
    assert len(outs) == 1


def test_errors_exit_2_without_traceback(tmp_path):
    for args, message in [
        (["x.__class__", "--at", "x=1"], "not allowed: attribute access (.__class__)"),
        (["x + y", "--at", "x=1"], "no value given for y"),
        (["log(x)", "--at", "x=-1"], "log(x = -1.0): the argument must be positive"),
        (["x", "--at", "x=1", "-o", str(tmp_path / "missing" / "out.txt")], "does not exist"),
    ]:
        result = run(*args)
        assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_python_api_displays_in_jupyter():
    d = explain("x * y", {"x": 3, "y": -2}, format="markdown")
    assert d._repr_markdown_() == d.text and "∂f/∂x" not in d.text  # Markdown writes LaTeX
    assert r"\frac{\partial \text{f}}{\partial \text{x}} = -2.0" in d.text  # ∂(xy)/∂x = y


@pytest.mark.parametrize("args", [
    ["(x + y) * z", "--at", "x=-2", "y=5", "z=-4"],
    ["--at", "x=-2", "y=5", "z=-4", "(x + y) * z"],
    ["--at", "x=-2", "--at", "y=5", "z=-4", "(x + y) * z"],
    ["(x + y) * z", "--at", "x=-2", "--at", "y=5", "--at", "z=-4"],
    ["--at", "x=-2", "y=5", "z=-4", "--", "(x + y) * z"],
])
def test_the_expression_and_at_come_in_either_order(capsys, args):
    assert main(["expr", "--format", "json", *args]) == 0
    data = json.loads(capsys.readouterr().out)
    got = {line["name"]: line["values"] for line in sections(data)["node_gradients"]["blocks"][0]["lines"]}
    assert got == {"x": -4.0, "y": -4.0, "z": 3.0}  # f = (x + y)·z at (−2, 5, −4): ∂f/∂x = ∂f/∂y = z, ∂f/∂z = x + y


@pytest.mark.parametrize("args,message", [
    (["--at", "x=1", "x", "y"], "'x', 'y': only one of these can be the expression"),
    (["--at", "x=1", "2*x", "--at", "y"], "'2*x', 'y': only one of these can be the expression"),
    (["--at", "x=1"], "give an expression or --file PROGRAM.py"),
    (["2*x", "--at", "x=1", "y"], "'y' is not NAME=NUMBER"),
    (["--at", "x=one", "2*x"], "'one' is not a number"),
])
def test_an_ambiguous_or_malformed_at_is_one_line_and_exit_2(args, message):
    result = run(*args)
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
