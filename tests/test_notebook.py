"""Rich display in Jupyter, and examples/tour.ipynb executed in a real kernel."""

import shutil
from pathlib import Path

import pytest

import tracegrad as tg
from tracegrad import notebook
from tracegrad.core import escape

ROOT = Path(__file__).resolve().parent.parent
HAS_DOT = shutil.which("dot") is not None


def small():
    f = tg.parse("x * y + 1", at={"x": 3, "y": -2}, name="f")
    f.backward()
    return f


@pytest.mark.skipif(not HAS_DOT, reason="Graphviz's dot is not installed")
def test_value_displays_as_svg_with_graphviz():
    f = small()
    svg = f._repr_svg_()
    assert svg.lstrip().startswith("<?xml") and "f = v₂ + 1" in svg
    assert f._repr_markdown_() is None  # the picture is shown, not the table


def test_value_displays_as_a_table_without_graphviz(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    f = small()
    assert f._repr_svg_() is None
    # x·y = −6, f = −5; ∂f/∂x = y = −2, ∂f/∂y = x = 3, ∂f/∂(x·y) = ∂f/∂1 = 1
    rows = [("x", "3.0", "−2.0"), ("y", "−2.0", "3.0"), ("v₂ = x × y", "−6.0", "1.0"), ("1", "1.0", "1.0"),
            ("f = v₂ + 1", "−5.0", "1.0")]
    assert f._repr_markdown_() == "| value | data | grad |\n|:---|---:|---:|\n" + "".join(
        f"| {escape.markdown(title)} | {data} | {grad} |\n" for title, data, grad in rows)


def test_large_graphs_keep_the_plain_repr(monkeypatch):
    x = tg.Value(0.5, label="x")
    y = x
    for _ in range(notebook.DISPLAY_LIMIT):
        y = y * 1.0001
    assert y._repr_svg_() is None and y._repr_markdown_() is None
    assert tg.trace(y)._repr_markdown_() is None


def test_trace_displays_its_derivation():
    text = tg.trace(small(), backward=False)._repr_markdown_()
    assert text.startswith("# Every operation of the trace")
    assert r"\text{f} = v_{2} + 1 = -6.0 + 1 = -5.0" in text  # 3·(−2) + 1


def test_derivations_display_as_markdown():
    d = tg.explain("sqrt(x)", at={"x": 4})
    assert d._repr_markdown_() == d.text
    assert r"\frac{\partial \text{f}}{\partial \text{x}} = 0.25" in d.text  # 1/(2√4)


def test_tour_notebook_runs_in_a_kernel(monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    monkeypatch.setenv("PYTHONPATH", str(ROOT))  # the kernel imports this checkout
    nb = nbformat.read(ROOT / "examples" / "tour.ipynb", as_version=4)
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                                     resources={"metadata": {"path": str(ROOT / "examples")}})
    client.execute()  # raises CellExecutionError on any error
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    rich = [o["data"] for o in outputs if o.output_type == "execute_result"]
    markdown = [d["text/markdown"] for d in rich if "text/markdown" in d]
    # the seed example: the forward pass of the document's network, z₁ = x·W₁ + b₁ = [2.0, 2.4]
    assert any("2.4" in m and "Forward" in m for m in markdown)
    # the expression: ∂f/∂z = x + y = 3, confirmed by SymPy
    assert any(r"\frac{\partial \text{f}}{\partial \text{z}} = 3.0" in m and "agree with SymPy" in m
               for m in markdown)
    if HAS_DOT:
        assert any("image/svg+xml" in d for d in rich)
    # the homework check: z₂ = a₁·W₂ + b₂ = 0.880797·0.9 + 0.916827·0.1 + 0.3 = 1.1844, so 1.1884 is a slip;
    # ŷ = σ(1.1884) = 0.7665 follows from it; δ₂ = 0.2665·0.7665 = 0.2043 uses σ(z₂) for σ′(z₂)
    report = next(m for m in markdown if "Checking answers" in m)
    assert "| $z_{2}$ | 1.1884 | **wrong** | 1.1844 |" in report
    assert "| $\\hat{y}$ | 0.7665 | carried | 0.7657 |" in report
    assert "σ′(z₂) taken as σ(z₂)" in report
    printed = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert printed.count("flowchart LR") == 1 and printed.count("digraph tracegrad {") == 1


def test_the_cell_magic_in_a_kernel(monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    nb = nbformat.read(ROOT / "examples" / "from_micrograd.ipynb", as_version=4)
    nbclient.NotebookClient(nb, timeout=300, kernel_name="python3",
                            resources={"metadata": {"path": str(ROOT / "examples")}}).execute()
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    shown = [next((o["data"] for o in cell.outputs if o.output_type == "execute_result"), {}) for cell in code]
    readme, lecture, _, report, graph, names = shown[1:]
    # micrograd's README numbers, in the README's names (g is assigned twice: g₂ is the output)
    assert r"\frac{\partial \text{g}_{2}}{\partial \text{a}} \approx 138.8338" in readme["text/markdown"]
    assert r"\frac{\partial \text{g}_{2}}{\partial \text{b}} \approx 645.5773" in readme["text/markdown"]
    # the lecture's L = (a·b + c)·f: ∂L/∂a = b·f = 6, ∂L/∂b = a·f = −4; --wrt a b lists only those
    gradients = lecture["text/markdown"].split("## 3. Gradients")[1]
    assert r"\frac{\partial \text{L}}{\partial \text{a}} = 6.0" in gradients
    assert r"\frac{\partial \text{L}}{\partial \text{b}} = -4.0" in gradients and r"\partial \text{c}}" not in gradients
    # ∂L/∂d = f = −2, so −3 is wrong; ∂L/∂e = ∂L/∂d·1 = −3 follows from it (carried)
    rows = {line.split(" | ")[0].lstrip("| "): line for line in report["text/markdown"].splitlines()}
    assert "**wrong** | -2.0" in rows[r"$\frac{\partial \text{L}}{\partial \text{d}}$"]
    assert "carried" in rows[r"$\frac{\partial \text{L}}{\partial \text{e}}$"]
    assert ("image/svg+xml" in graph and "o = tanh(n)" in graph["image/svg+xml"]) if HAS_DOT else (
        "o = tanh(n)" in graph["text/markdown"])
    assert "do/dx1*w1 + x2*w2" in names["text/markdown"] and "0.707" in names["text/markdown"]


def test_the_cell_magic_refuses_with_one_message_and_the_cells_line_numbers():
    pytest.importorskip("IPython")
    from IPython.core.error import UsageError
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    tg.load_ipython_extension(shell)
    magic = shell.find_cell_magic("tracegrad")
    with pytest.raises(UsageError, match=r"^cell:3:6: not allowed: reading \.data"):
        magic("", "a = Value(2.0)\nb = a.data")  # line 3 of the cell: %%tracegrad is line 1
    with pytest.raises(UsageError, match="--view: invalid choice"):
        magic("--view nope", "a = Value(2.0)")
    with pytest.raises(UsageError, match="--check: missing is not a notebook variable"):
        magic("--check missing", "a = Value(2.0)")
    shown = magic('--check \'{"db/da": 4.00}\'', "a = Value(2.0)\nb = a * a")  # inline JSON, digits as written
    assert "| 4.00 | correct | 4.0 |" in shown._repr_mimebundle_()["text/markdown"]
    shell.user_ns["given"] = {"db/da": 7}  # db/da = 2a = 4
    assert "**wrong**" in magic("--check given", "a = Value(2.0)\nb = a * a").text
    assert magic("--format text", "a = Value(2.0)\nb = a * a").mime == "text/plain"
