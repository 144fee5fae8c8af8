"""Graph pictures: DOT accepted by Graphviz, SVG, Mermaid, escaping, determinism."""

import html
import itertools
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import tracegrad as tg
from tracegrad import Value, parse
from tracegrad.core.notation import ATOM, name_precedence
from tracegrad.render.picture import (MAX_TITLE, GraphvizMissing, boxes, dot_escape, mermaid_escape, picture, to_dot,
                               to_mermaid, to_svg)

ROOT = Path(__file__).resolve().parent.parent
HAS_DOT = shutil.which("dot") is not None
needs_dot = pytest.mark.skipif(not HAS_DOT, reason="Graphviz's dot is not installed")

HOSTILE_LABELS = ['a|b', '{x}', '<port>', 'say "hi"', 'back\\slash\\n', 'x\ny', '#quot;', '&amp;', '</text>',
                  'α₁ 权重', '`code`', '%', "it's", '-->', ']', '\\\\', '"; digraph g {', "x\x1b[31m"]


def circuit():
    f = parse("(x + y) * z", at={"x": -2, "y": 5, "z": -4}, name="f")
    f.backward()
    return f


def dot_svg(source: str) -> str:
    """Run Graphviz on DOT text; fail the test on any complaint."""
    result = subprocess.run(["dot", "-Tsvg"], input=source.encode(), capture_output=True, timeout=60)
    assert result.returncode == 0 and not result.stderr, result.stderr.decode()
    return result.stdout.decode()


def svg_texts(svg: str) -> list:
    return [html.unescape(t).replace("\xa0", " ") for t in re.findall(r"<text[^>]*>(.*?)</text>", svg)]


def svg_cells(svg: str) -> dict:
    """{DOT node id: its cell texts} from Graphviz's SVG."""
    groups = re.findall(r'<g id="node\d+" class="node">\s*<title>(v\d+)</title>(.*?)</g>', svg, re.S)
    return {name: svg_texts(body) for name, body in groups}


def test_boxes_of_the_circuit_by_hand():
    # (−2 + 5)·(−4) = −12; grads: x, y ← z = −4, z ← x + y = 3, the sum ← z = −4
    assert boxes(circuit()) == [
        ("x", "−2.0", "−4.0"), ("y", "5.0", "−4.0"), ("z", "−4.0", "3.0"),
        ("v₃ = x + y", "3.0", "−4.0"), ("f = v₃ × z", "−12.0", "1.0"),
    ]


def test_constants_repeats_and_rounding():
    f = parse("x * x + sigmoid(2)", at={"x": 3})
    f.backward()
    rows = boxes(f, decimals=3)
    assert rows[0] == ("x", "3.0", "6.0")  # d(x² + c)/dx = 2x
    assert ("2", "2.0", "0.105") in rows  # σ'(2) = σ(2)(1 − σ(2)) = 0.880797 × 0.119203 = 0.104994
    assert ("v₃ = σ(2)", "0.881", "1.0") in rows  # σ(2) = 0.880797…
    assert to_dot(f).count("v0 -> v1;") == 2  # x feeds the product twice


def test_long_titles_are_cut():
    xs = [Value(1.0, label=f"x{i}") for i in range(30)]
    title = boxes(tg.sum(xs))[-1][0]
    assert len(title) == MAX_TITLE and title == "v₃₀ = x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9 + x10…"


def test_dot_text_of_the_circuit():
    def box(i, *cells):
        tds = "".join(f"<TD>{c}</TD>" for c in cells)
        return (f'  v{i} [label=<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="0" CELLPADDING="4">'
                f"<TR>{tds}</TR></TABLE>>];\n")

    assert to_dot(circuit()) == (
        "digraph tracegrad {\n  graph [rankdir=LR];\n  node [shape=plaintext];\n"
        + box(0, "x", "data −2.0", "grad −4.0") + box(1, "y", "data 5.0", "grad −4.0")
        + box(2, "z", "data −4.0", "grad 3.0") + box(3, "v₃ = x + y", "data 3.0", "grad −4.0")
        + box(4, "f = v₃ × z", "data −12.0", "grad 1.0")
        + "  v0 -> v3;\n  v1 -> v3;\n  v3 -> v4;\n  v2 -> v4;\n}\n")


def test_same_graph_same_bytes_across_processes():
    code = ("import tracegrad as tg; from tracegrad.render.picture import to_dot, to_mermaid; "
            "f = tg.parse('tanh(a * b + c) / (a - 2) ** 2', at={'a': 0.5, 'b': -1.5, 'c': 2}); f.backward(); "
            "print(to_dot(f) + to_mermaid(f))")
    outs = {subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                           env={"PYTHONHASHSEED": seed, "PATH": ""}).stdout for seed in ("1", "2", "3")}
    assert len(outs) == 1


def test_trace_and_value_give_the_same_picture():
    f = circuit()
    assert to_dot(tg.trace(f, backward=False)) == to_dot(f)


@pytest.mark.parametrize("label", HOSTILE_LABELS)
def test_dot_escaping(label):
    assert not set(dot_escape(label)) & set('"<>\n\x1b')
    if HAS_DOT:
        a = Value(1.5, label=label)
        f = a * 2
        f.label = label
        f.backward()
        texts = svg_texts(dot_svg(to_dot(f)))
        shown = label.replace("\n", " ").replace("\x1b", "")
        operand = shown if name_precedence(shown) == ATOM else f"({shown})"  # a label with spaces or operators
        assert shown in texts and f"{shown} = {operand} × 2" in texts


@needs_dot
def test_dot_escaping_of_many_labels_in_one_graph():
    labels = ["".join(p) for n in (1, 2, 3) for p in itertools.product('[]<>&;"\\{}|#n', repeat=n)]
    leaves = [Value(float(i), label=label) for i, label in enumerate(labels)]
    cells = svg_cells(dot_svg(to_dot(tg.sum(leaves))))
    assert [cells[f"v{i}"][0] for i in range(len(labels))] == labels


@needs_dot
def test_every_test_dot_file_is_accepted_by_graphviz():
    graphs = [circuit(), parse("x", at={"x": 1}), parse("2"), parse("leaky_relu(x, 0.2) ** y + max(-x, y)", at={"x": 1, "y": 2})]
    x = Value(0.3, label="x")
    graphs.append(tg.trace((x.tanh() * x).exp(), create_graph=True))  # gradient nodes too
    for g in graphs:
        assert "<svg" in dot_svg(to_dot(g))


@needs_dot
def test_svg_through_graphviz():
    svg = to_svg(circuit())
    assert svg.lstrip().startswith("<?xml") and "</svg>" in svg
    texts = svg_texts(svg)
    for expected in ["x", "data −2.0", "grad −4.0", "f = v₃ × z", "data −12.0", "grad 1.0"]:
        assert expected in texts


def test_svg_without_graphviz_says_so(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(GraphvizMissing, match="install Graphviz .* --format dot or --format mermaid"):
        to_svg(circuit())


def _mermaid_unescape(text: str) -> str:
    return re.sub(r"#(\d+);", lambda m: chr(int(m.group(1))), text)


MERMAID_LINE = re.compile(r'^  (v\d+\["[^"]*"\]|v\d+ --> v\d+)$')


@pytest.mark.parametrize("label", HOSTILE_LABELS)
def test_mermaid_escaping(label):
    a = Value(1.5, label=label)
    f = a * 2
    text = to_mermaid(f)
    lines = text.splitlines()
    assert lines[0] == "flowchart LR" and all(MERMAID_LINE.match(line) for line in lines[1:]), text
    first = re.match(r'  v0\["(.*)"\]', lines[1]).group(1)
    for field in first.split("<br/>"):
        assert not set(re.sub(r"#\d+;", "", field)) & set('"<>&`[]{}|;#\n\x1b')
    shown = label.replace("\n", " ").replace("\x1b", "")
    assert _mermaid_unescape(first.split("<br/>")[0]) == shown
    assert mermaid_escape(label) == first.split("<br/>")[0]


def test_mermaid_of_the_circuit():
    assert to_mermaid(circuit()).splitlines()[4:6] == [
        '  v3["v₃ = x + y<br/>data 3.0<br/>grad −4.0"]',
        '  v4["f = v₃ × z<br/>data −12.0<br/>grad 1.0"]',
    ]


def test_unknown_format_and_wrong_input():
    with pytest.raises(ValueError, match="choose from dot, svg, mermaid"):
        picture(circuit(), "png")
    with pytest.raises(TypeError, match="needs a Value or a Trace"):
        to_dot(3.0)


def run_cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "tracegrad", "graph", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=60)


def test_graph_command_dot_and_mermaid(tmp_path):
    result = run_cli("--expr", "(x + y) * z", "--at", "x=-2", "y=5", "z=-4")
    assert result.returncode == 0 and result.stdout == to_dot(circuit())
    out = tmp_path / "f.mmd"
    result = run_cli("--expr", "(x + y) * z", "--at", "x=-2", "y=5", "z=-4", "--format", "mermaid", "-o", str(out))
    assert result.returncode == 0 and result.stdout == ""
    assert out.read_text(encoding="utf-8") == to_mermaid(circuit())


@needs_dot
def test_graph_command_svg(tmp_path):
    out = tmp_path / "f.svg"
    result = run_cli("--expr", "(x + y) * z", "--at", "x=-2", "y=5", "z=-4", "--format", "svg", "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert "f = v₃ × z" in svg_texts(out.read_text(encoding="utf-8"))


def test_graph_command_errors():
    for args, message in [
        (["--at", "x=1"], "give a problem file, or an expression with --expr"),
        (["--expr", "x + y", "--at", "x=1"], "no value given for y"),
        (["--expr", "x", "--at", "x"], "not NAME=NUMBER"),
        (["--expr", "log(x)", "--at", "x=0"], "log(x = 0.0): the argument must be positive"),
        (["--expr", "x", "--at", "x=1", "--decimals", "99"], "--decimals must be from 0 to 15"),
    ]:
        result = run_cli(*args)
        assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_graph_command_without_graphviz(tmp_path):
    result = subprocess.run([sys.executable, "-m", "tracegrad", "graph", "--expr", "x", "--at", "x=1",
                             "--format", "svg"], cwd=ROOT, capture_output=True, text=True, timeout=60,
                            env={"PATH": str(tmp_path)})
    assert result.returncode == 2 and "install Graphviz" in result.stderr and "Traceback" not in result.stderr


def test_graph_of_a_problem_file(tmp_path):
    """The seed problem's forward graph to the loss: 11 given numbers, the target, a dot, an add and a
    sigmoid per unit (3 units) and the loss — 22 boxes; Graphviz accepts the DOT."""
    import shutil

    seed = str(ROOT / "examples" / "seed.toml")
    r = subprocess.run([sys.executable, "-m", "tracegrad", "graph", seed, "--format", "mermaid"],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0 and sum('["' in line for line in r.stdout.splitlines()) == 22
    r = subprocess.run([sys.executable, "-m", "tracegrad", "graph", seed], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0 and r.stdout.startswith("digraph")
    if shutil.which("dot"):
        subprocess.run(["dot", "-Tsvg"], input=r.stdout, capture_output=True, text=True, check=True)
    r = subprocess.run([sys.executable, "-m", "tracegrad", "graph", seed, "--expr", "x"], capture_output=True,
                       text=True, cwd=ROOT)
    assert r.returncode == 2 and "not both" in r.stderr
