"""derive --verify and --symbolic: SymPy's confirmation table and closed forms inside the derivation."""

import subprocess
import sys

import pytest

from tests.golden import ROOT, SEED
from tests.tex_tools import compile_latex, katex_errors, markdown_math
from tracegrad.core.errors import InputError
from tracegrad.core.ops import OPS
from tracegrad.workflows.derive import derive


def test_verify_appends_a_table_that_agrees_and_matches_the_printed_values():
    d = derive(SEED, verify=True)
    assert d.ok and len(d.model.confirmations) == 18  # the seed's printed backward elements
    rows = {c.key: c for c in d.model.confirmations}
    # δ₂ = (ŷ − y)·ŷ(1 − ŷ) with ŷ = σ(1.1844001…) = 0.76573803…: 0.0476689646… (by hand, as in test_derive)
    assert rows["delta2[0]"].symbolic.startswith("0.04766896") and rows["delta2[0]"].agree
    assert (rows["delta2[0]"].name, rows["delta2[0]"].of) == ("δ₂[0]", r"\delta_{2}[0]")  # the derivation's δ₂
    assert "| ✓ |" in d.text and "✗" not in d.text
    assert katex_errors(markdown_math(d.text)) == []


def test_a_broken_rule_makes_derive_verify_fail(monkeypatch):
    from dataclasses import replace

    import tracegrad.core.ops as ops

    broken = replace(OPS["sigmoid"], partials=lambda x, o, p: (o * (1 + o),))  # sign slip in σ' = σ(1 − σ)
    monkeypatch.setitem(ops.OPS, "sigmoid", broken)
    d = derive(SEED, verify=True)
    assert not d.ok and "✗" in d.text


def test_symbolic_shows_general_formulas_before_the_numbers():
    text = derive(SEED, symbolic=True).text
    # δ₂ for sigmoid with ½(ŷ − y)²: ŷ(1 − ŷ)(ŷ − y), then the numbers 0.2657 × 0.1794
    assert r"\hat{y} \left(1 - \hat{y}\right) \left(\hat{y} - y\right) = 0.2657 \times 0.1794" in text
    assert katex_errors(markdown_math(text)) == []
    with pytest.raises(InputError):
        derive(SEED, symbolic=True, format="text")


@pytest.mark.parametrize("lang,engine", [("en", "pdflatex"), ("zh", "xelatex")])
def test_latex_with_verify_and_symbolic_compiles(tmp_path, lang, engine):
    compile_latex(derive(SEED, verify=True, symbolic=True, format="latex", lang=lang).text, tmp_path, engine)


def test_cli_exit_codes():
    r = subprocess.run([sys.executable, "-m", "tracegrad", "derive", str(SEED), "--verify", "--format", "text"],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0 and "✓ ∂L/∂W₁[1][1] = " in r.stdout
    code = ("import sys\nfrom dataclasses import replace\nimport tracegrad.core.ops as ops\n"
            "ops.OPS['sigmoid'] = replace(ops.OPS['sigmoid'], partials=lambda x, o, p: (o * (1 + o),))\n"
            "from tracegrad.cli import main\n"
            f"sys.exit(main(['derive', {str(SEED)!r}, '--verify']))\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 1, r.stderr
