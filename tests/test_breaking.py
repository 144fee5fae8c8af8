"""Wide and long lines: laid out in rows that fit a page, in LaTeX and in Markdown.

A 3-4-2 network's z₁ expansion is some 250 characters and a 2-20-20-1 network's weight
matrices are 20 columns wide: before rows, the 3-4-2 derivation had 5 overfull lines in LaTeX
(up to 429 pt) and cut z₁, z₂, ∂L/∂a₁ and tanh′ at the page edge. Both networks must now
compile with no overfull line in English (pdflatex) and Chinese (xelatex), every Markdown
formula must parse in KaTeX, and the rows must still say everything the line says.
"""

import re

import pytest

from tests.conftest import wide_problem
from tests.tex_tools import compile_latex, katex_errors, markdown_math
from tracegrad.core.notation import Math
from tracegrad.core.files import parse_document
from tracegrad.render.breaking import WIDTH, laid_out
from tracegrad.render.model import Line
from tracegrad.workflows.derive import derive

NETWORK_342 = """
[[layers]]
weights = [[0.21, -0.53, 0.77, 0.12], [-0.45, 0.36, -0.18, 0.64], [0.58, -0.27, 0.39, -0.71]]
bias = [0.11, -0.24, 0.05, 0.32]
activation = "tanh"
[[layers]]
weights = [[0.43, -0.61], [-0.25, 0.52], [0.34, -0.17], [-0.48, 0.29]]
bias = [0.1, -0.2]
activation = "sigmoid"
[data]
x = [0.5, -1.2, 2.0]
y = [1, 0]
[loss]
name = "mse"
"""


def problem(text: str, name: str):
    from tracegrad.problem.schema import parse_problem

    return parse_problem(parse_document(text, name), name)


def overfull(tex: str, folder, engine: str) -> list:
    compile_latex(tex, folder, engine)
    log = (folder / "doc.log").read_text(encoding="utf-8", errors="replace")
    return re.findall(r"Overfull \\hbox.*", log)


@pytest.mark.parametrize("name,text", [("w342.toml", NETWORK_342), ("w20.toml", wide_problem(20, 4))])
@pytest.mark.parametrize("lang,engine", [("en", "pdflatex"), ("zh", "xelatex")])
def test_wide_networks_compile_with_no_overfull_line(tmp_path, name, text, lang, engine):
    tex = derive(problem(text, name), format="latex", lang=lang).text
    assert "[U+" not in tex
    assert overfull(tex, tmp_path, engine) == []


@pytest.mark.parametrize("name,text", [("w342.toml", NETWORK_342), ("w20.toml", wide_problem(20, 4))])
def test_wide_markdown_parses_in_katex(name, text):
    md = derive(problem(text, name), format="markdown").text
    assert katex_errors(markdown_math(md)) == []


def test_a_vector_expansion_is_written_element_by_element():
    d = derive(problem(NETWORK_342, "w342.toml"), format="json")
    z1 = next(line for s in d.model.sections for b in s.blocks for line in b.lines if line.name == "z1")
    rows = z1.rows
    assert rows, "z₁ of a 3-4-2 network is too wide for one row"
    assert (rows[0].left.text, rows[0].right.text) == ("z₁", "X·W₁ + b₁")
    # one element per row (and its continuation), each its own arithmetic, by hand:
    # z₁[j] = 0.5·W₁[0][j] + (−1.2)·W₁[1][j] + 2·W₁[2][j] + b₁[j]
    weights = [[0.21, -0.53, 0.77, 0.12], [-0.45, 0.36, -0.18, 0.64], [0.58, -0.27, 0.39, -0.71]]
    bias = [0.11, -0.24, 0.05, 0.32]
    for j in range(4):
        start = next(k for k, r in enumerate(rows) if r.left is not None and r.left.text == f"z₁[{j}]")
        end = next(k for k in range(start + 1, len(rows)) if rows[k].left is not None)
        text = " ".join(f"{r.connector} {r.right.text}" for r in rows[start:end])
        assert text.startswith(f"= 0.5 × {weights[0][j]:g}".replace("-", "−")) or text.startswith("= 0.5 × (")
        printed = float(re.split(" [=≈] ", text)[-1].replace("−", "-"))
        by_hand = 0.5 * weights[0][j] - 1.2 * weights[1][j] + 2.0 * weights[2][j] + bias[j]
        assert printed == pytest.approx(by_hand, abs=5e-5)
    assert rows[-1].left.text == "z₁" and rows[-1].right.text == "[1.915, −1.477, 1.431, −1.808]"
    assert all(len(r.right.text) <= WIDTH for r in rows)


def test_a_long_sum_is_broken_at_its_terms_and_nothing_is_lost():
    terms = [f"{k / 10:.4f} × {k / 7:.4f}" for k in range(1, 15)]
    text = " + ".join(terms)
    latex = " + ".join(t.replace("×", r"\times") for t in terms)
    line = Line(name="s", caption="", symbol=Math("s", "s"), formula=None, expansion=Math(latex, text),
                relation="≈", value=Math("1.0", "1.0"), values=1.0, exact=False)
    rows = laid_out(line).rows
    broken = [r for r in rows if r.right.text.strip() and "×" in r.right.text]
    assert len(broken) >= 2  # 14 products do not fit one row
    assert all(len(r.right.text) <= WIDTH + 2 for r in broken)
    joined = " ".join(r.right.text.strip() for r in broken)
    assert [t.strip() for t in joined.split(" + ")] == terms  # every term, once, in order
