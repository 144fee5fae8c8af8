"""One notation everywhere: verify, derive --verify, quantities and check write the derivation's
own symbols (W₁[0][1], ŷ[0], δ₂[0], σ′(z₁)[0]) with 0-based element indices, one glyph per
derivative (′ in text, ' in LaTeX), and never a SymPy symbol's internal name (W1[0][1], a2[0],
z1[0]@1, t1) or the old 1-based, superscript-layer form (w⁽¹⁾₁₂, w^{(1)}_{12})."""

import json
import re

import pytest

from tests.golden import ROOT, SEED
from tracegrad.cli import main

PROBLEMS = ROOT / "examples"

SOFTMAX_CCE = """
[[layers]]
weights = [[0.5, -0.3], [0.2, 0.8]]
bias = [0.1, -0.1]
activation = "softmax"

[data]
x = [1, 2]
y = [1, 0]

[loss]
name = "cce"

[optimizer]
name = "sgd"
lr = 0.1
"""

TWO_STEPS = SEED.read_text(encoding="utf-8").replace("lr = 0.1", "lr = 0.1\nsteps = 2")

SUPERSCRIPT_LAYER = re.compile(r"\^\{\(|⁽|\)\}_\{")
"""w^{(1)}_{12}, w⁽¹⁾₁₂: the 1-based, superscript-layer names of old."""
INTERNAL = re.compile(r"(?<![/∂d])\b(?:(?:W|b|z|a)\d+|x)\[\d+\]|@\d|#\d|\by_hat\b|\bt\d+\b|\bv\d+\b")
"""A symbol's internal SymPy name: a node label (W1[0][1], a2[0], x[0] where the derivation writes X[0],
z1[0]@1, z1[0]#2, y_hat) or a generated one (t1, v1); answers-file keys (dL/dW1[0][1]) are names, not symbols, and are not shown
where a formula is."""
ASCII_PRIME = re.compile(r"(?:σ|tanh|ReLU|softmax|f)'")


@pytest.fixture(scope="module")
def problems(tmp_path_factory):
    d = tmp_path_factory.mktemp("notation")
    (d / "softmax_cce.toml").write_text(SOFTMAX_CCE, encoding="utf-8")
    (d / "two_steps.toml").write_text(TWO_STEPS, encoding="utf-8")
    return {"seed": SEED, "batch_tanh": PROBLEMS / "batch_tanh.toml", "mazur": PROBLEMS / "mazur.toml",
            "softmax_cce": d / "softmax_cce.toml", "two_steps": d / "two_steps.toml"}


def run(capsys, *args) -> str:
    code = main([str(a) for a in args])
    out = capsys.readouterr().out
    assert code in (0, 1), out
    return out


def assert_derivation_notation(written: str, latex: bool = False):
    assert not SUPERSCRIPT_LAYER.search(written), written
    assert not INTERNAL.search(written), INTERNAL.search(written)
    if latex:
        assert "′" not in written, written  # LaTeX writes f' (a prime), never the text glyph
    else:
        assert not ASCII_PRIME.search(written), written


def test_the_seed_table_row_for_dL_dW1_0_1_in_every_format(capsys):
    # ∂L/∂W₁[0][1] = (ŷ − y)·σ′(z₂)·W₂[1][0]·σ′(z₁[1])·X[0] (in_out: W₁[0][1] joins input 0 to unit 1),
    # σ′(z) = e^(−z)/(1 + e^(−z))², written over the named intermediates ŷ[0], z₁[1], z₂[0]
    text = run(capsys, "verify", SEED)
    row = next(line for line in text.splitlines() if line.startswith("✓ dL/dW1[0][1]: "))
    assert row == ("✓ dL/dW1[0][1]: ∂L/∂W₁[0][1] = W₂[1][0]·X[0]·(ŷ[0] − y[0])·exp(−z₁[1])·exp(−z₂[0])"
                   "/((1 + exp(−z₁[1]))²·(1 + exp(−z₂[0]))²)")
    markdown = run(capsys, "verify", SEED, "--format", "markdown")
    cell = next(line for line in markdown.splitlines() if line.startswith(r"| dL/dW1\[0\]\[1\] |")).split(" | ")[1]
    assert cell.startswith(r"$\frac{\partial L}{\partial W_{1}}[0][1] = \frac{W_{2}[1][0] X[0] \left(\hat{y}[0] - y[0]\right)")
    item = next(i for i in json.loads(run(capsys, "verify", SEED, "--format", "json"))["items"]
                if i["name"] == "dL/dW1[0][1]")
    assert (item["of"], item["of_text"]) == (r"\frac{\partial L}{\partial W_{1}}[0][1]", "∂L/∂W₁[0][1]")
    assert item["formula_text"] == row.split(" = ", 1)[1]
    derivation = run(capsys, "derive", SEED, "--verify", "--format", "text")
    assert "  ✓ ∂L/∂W₁[0][1] = W₂[1][0]·X[0]·(ŷ[0] − y[0])·" in derivation


def test_element_indices_are_0_based_as_the_derivation_prints_them(capsys):
    data = json.loads(run(capsys, "verify", SEED, "--format", "json"))
    elements = {i["of_text"] for i in data["items"]}
    # the seed: W₁ is 2×2, W₂ 2×1, b₁ has 2 entries, b₂ one, ŷ one
    assert {"∂L/∂W₁[0][0]", "∂L/∂W₁[0][1]", "∂L/∂W₁[1][0]", "∂L/∂W₁[1][1]", "∂L/∂W₂[0][0]", "∂L/∂W₂[1][0]",
            "∂L/∂b₁[0]", "∂L/∂b₁[1]", "∂L/∂b₂[0]", "∂L/∂ŷ[0]", "δ₂[0]", "δ₁[0]", "δ₁[1]", "σ′(z₁)[0]",
            "σ′(z₁)[1]", "σ′(z₂)[0]", "∂L/∂a₁[0]", "∂L/∂a₁[1]"} == elements
    definitions = {d["name"]: d["formula_text"] for d in data["definitions"]}
    assert definitions["z₁[1]"] == "W₁[0][1]·X[0] + W₁[1][1]·X[1] + b₁[1]"  # z = x·W + b, unit 1
    assert definitions["ŷ[0]"] == "1/(1 + exp(−z₂[0]))"  # σ written out: the report defines what it uses
    assert definitions["L"] == "(ŷ[0] − y[0])²/2"


def test_a_batch_writes_sample_then_unit(capsys, problems):
    data = json.loads(run(capsys, "verify", problems["batch_tanh"], "--format", "json"))
    definitions = {d["name"]: d["formula_text"] for d in data["definitions"]}
    # out_in (z = W·x + b): unit 2 of sample 1 reads row 2 of W₁ and sample 1 of X
    assert definitions["z₁[1][2]"] == "W₁[2][0]·X[1][0] + W₁[2][1]·X[1][1] + b₁[2]"
    assert {"δ₂[1][0]", "∂L/∂W₁[2][1]"} <= {i["of_text"] for i in data["items"]}


def test_each_later_step_is_marked_and_confirmed_against_its_own_loss(capsys, problems):
    data = json.loads(run(capsys, "verify", problems["two_steps"], "--format", "json"))
    assert data["ok"] and len(data["items"]) == 36  # the seed's 18 printed backward elements, twice
    second = {i["name"]: i for i in data["items"] if "@2" in i["name"]}
    assert second["dL/dW1@2[0][1]"]["of_text"] == "∂L/∂W₁[0][1] (t = 2)"
    assert "z₁[1] (t = 2)" in {d["name"] for d in data["definitions"]}


@pytest.mark.parametrize("name", ["seed", "batch_tanh", "mazur", "softmax_cce", "two_steps"])
def test_verify_writes_the_derivations_notation_in_every_format(capsys, problems, name):
    data = json.loads(run(capsys, "verify", problems[name], "--format", "json"))
    assert data["ok"]
    for item in data["items"]:
        assert_derivation_notation(item["of_text"] + " = " + item["formula_text"])
        assert_derivation_notation(item["of"] + " = " + item["formula"], latex=True)
    for d in data["definitions"]:
        assert_derivation_notation(d["name"] + " = " + d["formula_text"])
        assert_derivation_notation(d["symbol"] + " = " + d["formula"], latex=True)
    for line in run(capsys, "verify", problems[name]).splitlines():
        if line[:2] in ("✓ ", "✗ ") and ": " in line:  # a derivative: its key, then the formula
            assert_derivation_notation(line.split(": ", 1)[1])
        elif line.startswith("  ") and " = " in line:  # a definition
            assert_derivation_notation(line)
    for line in run(capsys, "verify", problems[name], "--format", "markdown", "--lang", "zh").splitlines():
        if line.startswith("| ") and "$" in line:
            assert_derivation_notation(line.split(" | ")[1], latex=True)  # the key is column 0
        elif line.startswith("- $"):
            assert_derivation_notation(line, latex=True)


@pytest.mark.parametrize("name", ["seed", "batch_tanh", "softmax_cce", "two_steps"])
def test_derive_verify_writes_the_derivations_notation(capsys, problems, name):
    text = run(capsys, "derive", problems[name], "--verify", "--format", "text")
    rows = text.split("Symbolic confirmation\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert rows and all(row.startswith("  ✓ ") for row in rows)
    for row in rows:
        assert_derivation_notation(row.split(": SymPy value")[0])
    data = json.loads(run(capsys, "derive", problems[name], "--verify", "--format", "json"))
    for c in data["confirmations"]:
        assert_derivation_notation(c["name"] + " = " + c["formula_text"])
        assert_derivation_notation(c["of"] + " = " + c["formula"], latex=True)


@pytest.mark.parametrize("name", ["seed", "batch_tanh", "softmax_cce", "two_steps"])
def test_quantities_write_the_derivations_notation(capsys, problems, name):
    data = json.loads(run(capsys, "quantities", problems[name], "--format", "json"))
    for entry in data["entries"]:
        for field in ("symbol", "formula"):
            if entry.get(field):
                assert_derivation_notation(entry[field]["text"])
                assert_derivation_notation(entry[field]["latex"], latex=True)
    for line in run(capsys, "quantities", problems[name]).splitlines():
        if line.startswith("    "):  # symbol = formula = value; the names above are answers-file keys
            assert_derivation_notation(line)


def test_the_check_report_writes_the_derivations_notation(capsys, problems, tmp_path):
    answers = tmp_path / "answers.toml"
    # wrong on purpose (a₁[1] is σ(2.4) ≈ 0.9168, δ₁[1] ≈ 0.00036): each gets its correct step and formula
    answers.write_text('[answers]\n"a1[1]" = 0.9084\n"da1/dz1[1]" = 0.0833\n"delta1[1]" = 0.0090\n'
                       '"dL/dW1[0][1]" = 0.0090\n', encoding="utf-8")
    data = json.loads(run(capsys, "check", SEED, answers, "--format", "json"))
    labels = {row["key"]: row["label"] for row in data["rows"]}
    assert labels["dL/dW1[0][1]"] == {"latex": r"\frac{\partial L}{\partial W_{1}}[0][1]", "text": "∂L/∂W₁[0][1]"}
    assert labels["da1/dz1[1]"] == {"latex": r"\sigma'\left(z_{1}\right)[1]", "text": "σ′(z₁)[1]"}
    for row in data["rows"]:
        for field in ("label", "step", "formula"):
            if row.get(field):
                assert_derivation_notation(row[field]["text"])
                assert_derivation_notation(row[field]["latex"], latex=True)
    for line in run(capsys, "check", SEED, answers).splitlines():
        if line.startswith("    correct step: "):
            assert_derivation_notation(line)
    markdown = run(capsys, "check", SEED, answers, "--format", "markdown")
    for line in markdown.splitlines():
        if line.startswith("| $"):
            assert_derivation_notation(line.split(" | ")[0], latex=True)
