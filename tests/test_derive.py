"""Derivations of the seed example: numbers checked by an independent plain-Python
computation, golden files byte for byte, real consumers (KaTeX, pdflatex, xelatex)."""

import json
import math
import subprocess
import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from tests.golden import HERE as GOLDEN, SEED, cases
from tests.tex_tools import compile_latex, katex_errors, markdown_math
from tracegrad.workflows.derive import derive

ROOT = Path(__file__).resolve().parent.parent


def sig(z):
    return 1 / (1 + math.exp(-z))


def hand(r=lambda v: v):
    """The document's 2-2-1 example computed by hand; ``r`` rounds every printed value (carry)."""
    x, y, lr = [1.0, 2.0], 0.5, 0.1
    W1, b1 = [[0.5, 0.6], [0.7, 0.8]], [0.1, 0.2]
    W2, b2 = [0.9, 0.1], 0.3
    z1 = [r(x[0] * W1[0][j] + x[1] * W1[1][j] + b1[j]) for j in range(2)]
    a1 = [r(sig(z)) for z in z1]
    z2 = r(a1[0] * W2[0] + a1[1] * W2[1] + b2)
    yh = r(sig(z2))
    loss = r(0.5 * (yh - y) ** 2)
    dy = r(yh - y)
    s2 = r(yh * (1 - yh))
    d2 = r(dy * s2)
    dW2 = [r(d2 * a) for a in a1]
    da1 = [r(d2 * w) for w in W2]
    s1 = [r(a * (1 - a)) for a in a1]
    d1 = [r(da1[j] * s1[j]) for j in range(2)]
    dW1 = [[r(d1[j] * x[i]) for j in range(2)] for i in range(2)]
    W2n = [r(W2[j] - r(lr * dW2[j])) for j in range(2)]
    b2n = r(b2 - r(lr * d2))
    W1n = [[r(W1[i][j] - r(lr * dW1[i][j])) for j in range(2)] for i in range(2)]
    b1n = [r(b1[j] - r(lr * d1[j])) for j in range(2)]
    return {
        "z1": z1, "y_hat": yh, "z2": z2, "loss": loss, "dL/dy_hat": dy, "da2/dz2": s2, "delta2": d2,
        "dL/dW2": [[v] for v in dW2], "dL/db2": d2, "dL/da1": da1, "da1/dz1": s1, "delta1": d1, "dL/dW1": dW1,
        "dL/db1": d1, "W2_new": [[v] for v in W2n], "b2_new": b2n, "W1_new": W1n, "b1_new": b1n, "a1": a1,
    }


def half_up(v, places=4):
    # by hand: the decimal a person computes (0.5 × 0.3² = 0.045), not its binary float (0.04499…)
    return float(Decimal(f"{v:.15g}").quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def display_places(v, decimals=4, sig_figs=2):
    """The display rule, written out: 4 decimals, and at least 2 significant figures."""
    return decimals if v == 0 else max(decimals, sig_figs - 1 - math.floor(math.log10(abs(v))))


def shown(v):
    """``v`` rounded by the display rule."""
    return half_up(v, display_places(v))


def lines_of(model_json):
    out = {}
    for section in model_json["sections"]:
        for block in section["blocks"]:
            for line in block["lines"]:
                out.setdefault(line["name"], line["values"])
    return out


def close(a, b, tol):
    if isinstance(a, list):
        if len(a) == 1 and not isinstance(b, list):
            return close(a[0], b, tol)
        return len(a) == len(b) and all(close(x, y, tol) for x, y in zip(a, b))
    if isinstance(b, list) and len(b) == 1:
        return close(a, b[0], tol)
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


@pytest.mark.parametrize("rounding", ["exact", "carry"])
def test_golden_numbers_match_an_independent_hand_computation(rounding):
    expected = hand() if rounding == "exact" else hand(shown)
    got = lines_of(json.loads((GOLDEN / f"seed.{rounding}.en.json").read_text(encoding="utf-8")))
    for name, value in expected.items():
        assert name in got, name
        assert close(got[name], value, 1e-12 if rounding == "exact" else 1e-12), (name, got[name], value)


def test_exact_values_by_hand():
    # a few values written out: σ(2.4) = 0.91683 (the document prints 0.9084), z₂ = 1.1844
    got = lines_of(json.loads((GOLDEN / "seed.exact.en.json").read_text(encoding="utf-8")))
    assert round(got["a1"][1], 4) == 0.9168
    assert round(got["z2"][0], 4) == 1.1844
    assert round(got["y_hat"][0], 4) == 0.7657


@pytest.mark.parametrize("name,produce", list(cases()), ids=[c[0] for c in cases()])
def test_golden_files_byte_for_byte(name, produce):
    assert produce() == (GOLDEN / name).read_text(encoding="utf-8"), \
        f"{name} changed: if deliberate, run `python -m tests.golden` and review the diff"


def test_markdown_math_parses_in_katex_strict_mode():
    formulas = []
    for path in sorted(GOLDEN.glob("*.md")):
        formulas += markdown_math(path.read_text(encoding="utf-8"))
    for lang in ("en", "zh"):
        formulas += markdown_math(derive(SEED, view="node", lang=lang).text)
    assert len(formulas) > 100
    assert katex_errors(formulas) == []


@pytest.mark.parametrize("lang,engine", [("en", "pdflatex"), ("zh", "xelatex")])
@pytest.mark.parametrize("rounding", ["exact", "carry"])
def test_latex_documents_compile(tmp_path, lang, engine, rounding):
    tex = (GOLDEN / f"seed.{rounding}.{lang}.tex").read_text(encoding="utf-8")
    pdf = compile_latex(tex, tmp_path, engine)
    assert pdf.stat().st_size > 1000


def test_node_view_latex_compiles(tmp_path):
    compile_latex(derive(SEED, view="node", format="latex").text, tmp_path, "pdflatex")


def test_fragment_has_no_preamble():
    text = derive(SEED, format="latex", fragment=True).text
    assert r"\documentclass" not in text and r"\begin{align*}" in text


def test_texts_with_tex_and_markdown_specials_are_escaped(tmp_path):
    problem = SEED.read_text(encoding="utf-8").replace("[[layers]]", 'title = "Cost_1 & 50% of $x #2 {a} ^~ \\\\ *b* [c]"\n\n[[layers]]', 1)
    path = tmp_path / "p.toml"
    path.write_text(problem, encoding="utf-8")
    tex = derive(path, format="latex").text
    assert r"Cost\_1 \& 50\% of \$x \#2 \{a\} \textasciicircum{}\textasciitilde{} \textbackslash{}" in tex
    compile_latex(tex, tmp_path, "pdflatex")
    md = derive(path).text
    assert md.startswith(r"# Cost\_1 \& 50% of \$x \#2 \{a\} ^\~ \\ \*b\* \[c\]")
    assert katex_errors(markdown_math(md)) == []


def test_node_labels_in_markdown_headings_and_captions_are_escaped():
    import tracegrad as tg

    a, b = tg.Value(2.0, label="x_1*<b>"), tg.Value(3.0, label="y")
    c = a * b
    c.label = "$c"
    md = derive(tg.trace(c), format="markdown").text
    # a label that reads as a formula (here x_1*<b>) is parenthesized as an operand
    assert r"### \$c = (x\_1\*\<b\>) × y" in md and r"contribution → x\_1\*\<b\>; accumulated" in md
    assert "<b>" not in md.replace(r"\<b\>", "").replace(r"\text{x\_1*<b>}", "")
    assert katex_errors(markdown_math(md)) == []

def test_carry_reproduces_rounded_steps():
    # carry: a₁ is carried as 0.8808, 0.9168, so z₂ = 0.8808×0.9 + 0.9168×0.1 + 0.3 = 1.18440 exactly
    model = json.loads(derive(SEED, format="json", rounding="carry").text)
    values = lines_of(model)
    assert values["a1"] == [0.8808, 0.9168]
    assert math.isclose(values["z2"][0] if isinstance(values["z2"], list) else values["z2"], 1.1844, abs_tol=1e-15)


def test_template_override_by_name(tmp_path):
    (tmp_path / "derive.txt.j2").write_text("custom {{ d.sections | length }} {{ msg('title') }}\n", encoding="utf-8")
    assert derive(SEED, format="text", template_dir=tmp_path).text == "custom 5 Backpropagation, worked step by step\n"
    messages = tmp_path / "messages"
    messages.mkdir()
    (messages / "en.toml").write_text('title = "My course"\n', encoding="utf-8")
    # a partial catalog: keys it lacks come from the shipped one
    assert derive(SEED, format="text", template_dir=tmp_path).text == "custom 5 My course\n"


def test_python_api_displays_in_jupyter():
    d = derive(SEED)
    assert d._repr_markdown_() == d.text and d._repr_latex_() is None
    assert derive(SEED, format="latex")._repr_latex_().startswith(r"\documentclass")


def run_cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "tracegrad", *args], capture_output=True, text=True, cwd=cwd)


def test_cli_derive_writes_output_and_refuses_to_overwrite_input(tmp_path):
    out = tmp_path / "seed.md"
    r = run_cli("derive", str(SEED), "-o", str(out))
    assert r.returncode == 0 and out.read_text(encoding="utf-8") == (GOLDEN / "seed.exact.en.md").read_text(encoding="utf-8")
    copy = tmp_path / "seed.toml"
    copy.write_text(SEED.read_text(encoding="utf-8"), encoding="utf-8")
    r = run_cli("derive", str(copy), "-o", str(copy))
    assert r.returncode == 2 and "refusing to overwrite an input file" in r.stderr and "Traceback" not in r.stderr
    assert copy.read_text(encoding="utf-8") == SEED.read_text(encoding="utf-8")


@pytest.mark.parametrize("edit,message", [
    (("weights = [[0.9],\n           [0.1]]", "weights = [[0.9, 0.1]]"),
     "layers[1].weights: expected 2 rows (inputs) × 1 column (units) for layout in_out, got 1 × 2"),
    (('activation = "sigmoid"', 'activation = "sigmoi"'), "layers[0].activation: expected one of"),
    (("x = [1, 2]", "x = [1, 2, 3]"), "layers[0].weights: expected 3 rows (inputs)"),
    (("y = 0.5", 'y = "a"'), "data.y: expected a non-empty list of numbers"),
    (("lr = 0.1", "lr = nan"), "optimizer.lr: expected a finite number"),
    (("bias = [0.1, 0.2]", "bias = [0.1]"), "layers[0].bias: expected 2 numbers"),
    (("[loss]", "[losss]"), "losss: unknown key"),
    (("[loss]", '[loss]\n"x\\ny" = 1'), "loss.x\\ny: unknown key"),  # a control character in a key, escaped
])
def test_invalid_problem_files_get_one_clear_message(tmp_path, edit, message):
    text = SEED.read_text(encoding="utf-8")
    assert edit[0] in text
    path = tmp_path / "bad.toml"
    path.write_text(text.replace(edit[0], edit[1], 1), encoding="utf-8")
    r = run_cli("derive", str(path))
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""
    assert f"{path}: {message}" in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


def test_json_problem_files_are_accepted(tmp_path):
    import tomllib

    data = tomllib.loads(SEED.read_text(encoding="utf-8"))
    path = tmp_path / "seed.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert derive(path).text == (GOLDEN / "seed.exact.en.md").read_text(encoding="utf-8")


def test_json_integers_beyond_the_float_range_are_refused(tmp_path):
    import tomllib

    data = tomllib.loads(SEED.read_text(encoding="utf-8"))
    data["layers"][0]["bias"][1] = 10 ** 400  # JSON integers have any length
    path = tmp_path / "big.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    r = run_cli("derive", str(path))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip() == (f"tracegrad: error: {path}: line 1: a number with more than 100 digits, over the "
                                "limit; raise it with --limit number_digits=N")
    r = run_cli("derive", str(path), "--limit", "number_digits=500")
    assert r.returncode == 2 and r.stderr.strip() == (f"tracegrad: error: {path}: layers[0].bias[1]: expected a "
                                                      "finite number, got an integer too long for a 64-bit float")
    path.write_text(json.dumps({"expression": "2 * x", "at": {"x": 10 ** 400}, "answers": {"f": 1}}), encoding="utf-8")
    r = run_cli("check", str(path), "--limit", "number_digits=500")
    assert r.returncode == 2 and r.stderr.strip() == f"tracegrad: error: {path}: at.x: expected a finite number"

def test_significant_figures_and_decimals():
    text = derive(SEED, format="text", sig_figs=3).text
    assert "≈ [0.881, 0.917]" in text
    text = derive(SEED, format="text", decimals=2).text
    assert "≈ [0.88, 0.92]" in text


def test_graph_option_embeds_a_mermaid_diagram_of_the_forward_graph():
    text = derive(SEED, graph=True).text
    block = text.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert block.startswith("flowchart LR")
    # the seed graph to the loss: 11 given numbers, y, and per unit a dot, an add and a sigmoid (3 units), the loss
    assert sum(1 for line in block.splitlines() if '["' in line) == 11 + 1 + 3 * 3 + 1
    assert katex_errors(markdown_math(text.split("```mermaid")[0])) == []
    with pytest.raises(Exception, match="Mermaid diagram in Markdown"):
        derive(SEED, graph=True, format="text")


def test_greek_labels_typeset_in_pdflatex_and_katex(tmp_path):
    import tracegrad as tg
    from tracegrad.workflows.derive import derive as render

    f = tg.parse("α * x + β", {"α": 2.0, "x": 3.0, "β": 1.0})
    trace = tg.trace(f)
    compile_latex(render(trace, format="latex").text, tmp_path, "pdflatex")
    assert katex_errors(markdown_math(render(trace).text)) == []
