"""Programs on the command line: ``expr --file``, and ``check``, ``quantities``, ``graph`` and
``verify`` taking a ``.py`` program as they take a problem file; bad input exits 2 with one message."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = str(ROOT / "examples" / "micrograd_readme.py")
NEURON = str(ROOT / "examples" / "lecture_neuron.py")
NEURON_ANSWERS = str(ROOT / "examples" / "lecture_neuron_answers.toml")


def run(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "tracegrad", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, input=stdin)


def test_expr_file_derives_micrograds_readme_example():
    result = run("expr", "--file", README)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    # c is assigned three times: c, c₂, c₃; c₂ = c + (c + 1) with c = a + b = −2
    assert "c = a + b = −4 + 2 = −2.0" in out
    assert "c₂ = c + v₇ = −2.0 + (−1.0) = −3.0" in out  # v₇ = c + 1, a value the program never names
    gradients = out.split("3. Gradients")[1]
    assert "∂g₂/∂a ≈ 138.8338" in gradients and "∂g₂/∂b ≈ 645.5773" in gradients  # micrograd's README


def test_program_on_standard_input_with_output_and_wrt():
    text = Path(README).read_text()
    result = run("expr", "--file", "-", "--of", "e", "--wrt", "b", "--format", "json", stdin=text)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["title"] == "<stdin>: backpropagation through e"
    gradients = {s["key"]: s for s in data["sections"]}["node_gradients"]["blocks"][0]["lines"]
    # e = c₃ − d₃ as a function of b alone (a = −4), differentiated by central differences
    assert [line["name"] for line in gradients] == ["b"]
    assert gradients[0]["values"] == pytest.approx(_finite_difference_de_db(), rel=1e-6)


def _finite_difference_de_db(h=1e-6):
    def e(b):
        a = -4.0
        c = a + b
        d = a * b + b ** 3
        c += c + 1
        c += 1 + c + (-a)
        d += d * 2 + max(b + a, 0)
        d += 3 * d + max(b - a, 0)
        return c - d
    return (e(2.0 + h) - e(2.0 - h)) / (2 * h)


def test_verify_confirms_a_program():
    for program in (NEURON, README):  # the README's b**3, e**2: integral exponents
        result = run("expr", "--file", program, "--verify")
        assert result.returncode == 0, result.stdout[-2000:]
        assert "agree with SymPy" in result.stdout
    result = run("verify", NEURON, "--intermediates")
    assert result.returncode == 0, result.stderr


def test_check_quantities_and_graph_take_a_program():
    listed = run("quantities", NEURON)
    assert listed.returncode == 0, listed.stderr
    for name in ("n", "o", "do/dn", "do/dx1*w1 + x2*w2", "do/dw1", "do/dx1"):
        assert f"\n{name}  (1)\n" in listed.stdout
    checked = run("check", NEURON, NEURON_ANSWERS, "--format", "json")
    assert checked.returncode == 1  # one answer is wrong
    verdicts = {v["key"]: v["verdict"] for v in json.loads(checked.stdout)["rows"]}
    # o = tanh(n) = 1/√2; do/dn = 1 − o² = 0.5; do/dx1 = w1·0.5 = −1.5 (written 1.0), do/dw1 = x1·0.5 = 1.0
    assert verdicts == {"n": "correct", "o": "correct", "do/dn": "correct", "do/dx1*w1 + x2*w2": "correct",
                        "do/dx1": "wrong", "do/dw1": "correct", "do/db": "correct"}
    picture = run("graph", NEURON, "--format", "mermaid")
    assert picture.returncode == 0, picture.stderr
    assert "n = (x1*w1 + x2*w2) + b" in picture.stdout and "o = tanh(n)" in picture.stdout


@pytest.mark.parametrize("args, message", [
    (["expr", "x", "--file", NEURON], "give an expression or --file PROGRAM.py (not both)"),
    (["expr"], "give an expression or --file PROGRAM.py"),
    (["expr", "--file", NEURON, "--at", "x=1"], "--at: a program gives its values in Value(…)"),
    (["expr", "x", "--at", "x=1", "--of", "x"], "--of: --of names a program's output"),
    (["expr", "--file", NEURON, "--wrt", "n"], "--wrt: n is not a leaf of the program"),
    (["expr", "--file", NEURON, "--of", "nope"], "output: nope is not a variable or node of the program"),
    (["expr", "--file", "missing.py"], "missing.py: file not found"),
    (["check", NEURON], "give an ANSWERS file"),
    (["derive", NEURON], "a program is derived by tracegrad expr --file"),
])
def test_errors_exit_2_with_one_message(args, message):
    result = run(*args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_a_refused_line_is_named_with_file_line_and_column(tmp_path):
    program = tmp_path / "loop.py"
    program.write_bytes(b"\xef\xbb\xbfa = Value(1.0)\r\nfor i in range(3):\r\n    a = a * 2\r\n")  # BOM, CRLF
    result = run("expr", "--file", str(program))
    assert result.returncode == 2
    first, shown, caret = result.stderr.splitlines()[:3]
    assert first == (f"tracegrad: error: {program}:2:1: not allowed in a program: for loops; a program is "
                     "straight-line: write each step out")
    assert shown == "  for i in range(3):" and caret == "  ^"
    program.write_bytes(b"a = Value(1.0)\n\xff\n")
    result = run("quantities", str(program))
    assert result.returncode == 2 and "not UTF-8 text (byte 15)" in result.stderr
