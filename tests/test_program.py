"""Straight-line programs: micrograd's README example and the lecture's examples pasted verbatim,
against micrograd itself; the same graph as running the text with tracegrad; names and versions;
the output; checking answers in the user's own names."""

import math
from pathlib import Path

import pytest

import tracegrad as tg
from tracegrad import InputError, Value
from tracegrad.checker.expression import program_subject
from tracegrad.expressions.program import METHODS, parse_program
from tracegrad.workflows.check import check

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

# micrograd's README example, exactly as the README prints it
MICROGRAD_README = (EXAMPLES / "micrograd_readme.py").read_text()

# Karpathy, "The spelled-out intro to neural networks and backpropagation: building micrograd"
# (nn-zero-to-hero, lectures/micrograd): the cells after the lecture's Value class, verbatim.
# examples/lecture_neuron.py is the neuron cell with tracegrad's Value imported first.
NEURON = (EXAMPLES / "lecture_neuron.py").read_text().split("\n", 2)[2]
LECTURE = {
    "expression": """\
a = Value(2.0, label='a')
b = Value(-3.0, label='b')
c = Value(10.0, label='c')
e = a*b; e.label = 'e'
d = e + c; d.label = 'd'
f = Value(-2.0, label='f')
L = d * f; L.label = 'L'
L
""",
    "neuron": NEURON,
    # the same neuron with tanh written out through exp, as the lecture's next cell has it
    "neuron with exp": NEURON.split("o = n.tanh()")[0] + """\
# ----
e = (2*n).exp()
o = (e - 1) / (e + 1)
# ----
o.label = 'o'
o.backward()
draw_dot(o)
""",
    "a used twice": """\
a = Value(3.0, label='a')
b = a + a   ; b.label = 'b'
b.backward()
draw_dot(b)
""",
    "gradients accumulate": """\
a = Value(-2.0, label='a')
b = Value(3.0, label='b')
d = a * b    ; d.label = 'd'
e = a + b    ; e.label = 'e'
f = d * e    ; f.label = 'f'

f.backward()

draw_dot(f)
""",
}


@pytest.fixture
def lecture_value(monkeypatch):
    """micrograd's own Value with what the lecture's Value adds, as the lecture writes it:
    ``label=``, ``tanh`` and ``exp``. The reference run executes the pasted text (trusted test code)."""
    engine = pytest.importorskip("micrograd.engine")
    V = engine.Value
    init = V.__init__

    def __init__(self, data, _children=(), _op='', label=''):
        init(self, data, _children, _op)
        self.label = label

    def tanh(self):
        x = self.data
        t = (math.exp(2*x) - 1)/(math.exp(2*x) + 1)
        out = V(t, (self, ), 'tanh')

        def _backward():
            self.grad += (1 - t**2) * out.grad
        out._backward = _backward
        return out

    def exp(self):
        out = V(math.exp(self.data), (self, ), 'exp')

        def _backward():
            self.grad += out.data * out.grad
        out._backward = _backward
        return out

    monkeypatch.setattr(V, "__init__", __init__)
    monkeypatch.setattr(V, "tanh", tanh, raising=False)
    monkeypatch.setattr(V, "exp", exp, raising=False)
    return V


def run_reference(text, value_class, output):
    """The text run by Python with ``Value`` = ``value_class`` (test code only), then
    ``output.backward()`` if the text does not call it: its variables."""
    namespace = {"Value": value_class, "draw_dot": lambda root: None, "print": lambda *args: None}
    exec(text, namespace)  # noqa: S102 - trusted test input, the reference
    if ".backward()" not in text:
        namespace[output].backward()
    return {k: v for k, v in namespace.items() if isinstance(v, value_class)}


def interpreted(text, **options):
    """The program's variables, after one backward pass from its output."""
    program = parse_program(text, **options)
    program.output.backward()
    return program, {k: v for k, v in program.variables.items() if isinstance(v, Value)}


def assert_same_numbers(ours: dict, theirs: dict):
    assert ours.keys() == theirs.keys()
    for name in theirs:
        assert math.isclose(ours[name].data, theirs[name].data, rel_tol=1e-12, abs_tol=1e-12), name
        assert math.isclose(ours[name].grad, theirs[name].grad, rel_tol=1e-12, abs_tol=1e-12), name


def test_micrograd_readme_example_pasted_verbatim():
    engine = pytest.importorskip("micrograd.engine")
    program, ours = interpreted(MICROGRAD_README)
    # the numbers micrograd's README prints
    assert (f"{ours['g'].data:.4f}", f"{ours['a'].grad:.4f}", f"{ours['b'].grad:.4f}") == (
        "24.7041", "138.8338", "645.5773")
    assert_same_numbers(ours, run_reference(MICROGRAD_README, engine.Value, "g"))
    assert program.output is ours["g"]  # chosen by g.backward()


@pytest.mark.parametrize("name", LECTURE)
def test_lecture_examples_pasted_verbatim(name, lecture_value):
    program, ours = interpreted(LECTURE[name])
    theirs = run_reference(LECTURE[name], lecture_value, program.output.label)
    assert_same_numbers(ours, theirs)
    for var in theirs:  # the lecture's labels; a variable it leaves unlabelled is named after itself
        assert ours[var].label == (theirs[var].label or var)


def test_lecture_numbers_by_hand():
    _, v = interpreted(LECTURE["expression"])
    # L = (a·b + c)·f = (−6 + 10)·(−2) = −8; ∂L/∂a = f·b = 6, ∂L/∂b = f·a = −4, ∂L/∂c = f = −2,
    # ∂L/∂f = d = 4
    assert v["L"].data == -8.0
    assert (v["a"].grad, v["b"].grad, v["c"].grad, v["f"].grad) == (6.0, -4.0, -2.0, 4.0)
    _, v = interpreted(LECTURE["neuron"])
    # n = 2·(−3) + 0·1 + 6.8813… = 0.8813… = atanh(1/√2), so o = 1/√2 and do/dn = 1 − o² = 1/2
    assert v["o"].data == pytest.approx(1 / math.sqrt(2), rel=1e-15)
    assert v["n"].grad == pytest.approx(0.5, rel=1e-14)
    assert (v["x1"].grad, v["w1"].grad, v["x2"].grad, v["w2"].grad) == pytest.approx((-1.5, 1.0, 0.5, 0.0))
    _, v = interpreted(LECTURE["gradients accumulate"])
    # f = (a·b)(a + b): ∂f/∂a = b(a + b) + a·b = 3 − 6 = −3, ∂f/∂b = a(a + b) + a·b = −2 − 6 = −8
    assert (v["a"].grad, v["b"].grad) == (-3.0, -8.0)


# programs whose graph must equal, node for node, running the same text with tracegrad's Value
SAME_GRAPH = [
    MICROGRAD_README.replace("from micrograd.engine import Value\n", ""),
    "x = Value(0.7)\ny = x.exp() + x.log() * x.sqrt() - x.tanh() / x.sigmoid()\nz = y.relu() + (-y).abs()\n"
    "w = z.leaky_relu() + (-z).leaky_relu(0.2) + z.leaky_relu(alpha=0.3)\nu = w.max(x) - w.min(x * 2)\n",
    "import tracegrad as tg\nh = 1e-3\na, b = Value(0.5), Value(-1.5)\np, q = tg.softmax([a, b * 2])\n"
    "r, s = tg.log_softmax([a, b])\nt = tg.sum([p, q, 1.0]) + tg.dot([a, b], [r, s]) - h\n",
    "from tracegrad import Value, dot, max, min\na = Value(1.5)\nb = 2 ** a + a ** 2 + a ** a + a ** (1 / 2)\n"
    "b /= 3; b -= a; b *= -a; b **= 2\nc = max(a, b) * min(b, 3.0) + dot([a, 1.0], [b, b])\n",
]


def _structure(root):
    return [(r.op, r.inputs, r.params, r.data) for r in tg.trace(root, backward=False).nodes]


@pytest.mark.parametrize("text", SAME_GRAPH, ids=["readme", "methods", "helpers", "powers"])
def test_the_same_graph_as_running_the_text_with_tracegrad(text):
    namespace = {"Value": Value, "print": lambda *args: None}
    exec(text, namespace)  # noqa: S102 - trusted test input, the reference
    last = [v for v in namespace.values() if isinstance(v, Value)][-1]
    program = parse_program(text)
    assert _structure(program.output) == _structure(last)


@pytest.mark.parametrize("name", sorted(METHODS))
def test_every_method_is_also_a_function(name):
    spec = METHODS[name]
    other = ", b" if spec.arity == 2 else ""
    method = parse_program(f"a = Value(0.3)\nb = Value(-0.4)\ny = a.{name}({other.lstrip(', ')})")
    function = parse_program(f"a = Value(0.3)\nb = Value(-0.4)\ny = {name}(a{other})")
    assert _structure(method.output) == _structure(function.output)
    assert method.output.op == name


def test_reassigned_variables_get_versions():
    program, v = interpreted("x = Value(3.0)\nx = x * 2\nx += 1\ny = x\ny = y ** 2")
    t = tg.trace(program.output, backward=False)
    names = [t.symbol(i).text for i in range(len(t)) if not t.nodes[i].is_const]
    assert names == ["x", "x₂", "x₃", "y"]  # y = x is the same node as x₃; y ** 2 is the new y
    keys = [t.key(i) for i in range(len(t)) if not t.nodes[i].is_const]
    assert keys == ["x", "x_2", "x_3", "y"]
    # y = ((3·2) + 1)² = 49, dy/dx = 2·7·2 = 28
    assert v["y"].data == 49.0 and v["x"].label == "x₃" and v["x"].grad == 14.0
    subject = program_subject(parse_program("x = Value(3.0)\nx = x * 2\nx += 1\ny = x\ny = y ** 2"))
    assert list(subject.quantities) == ["x_2", "x_3", "y", "dy/dx_3", "dy/dx_2", "dy/dx"]


def test_a_version_never_takes_a_name_the_program_uses():
    program = parse_program("c = Value(1.0)\nc_2 = c + 1\nc = c * 3\nd = c + c_2")
    labels = [n.label for n in tg.trace(program.output, backward=False).nodes if not n.is_const]
    assert labels == ["c", "c_2", "c₃", "d"]  # c₂ would be written c_2 in answers, which c_2 already is


def test_labels_name_nodes_and_a_repeated_label_is_versioned():
    program = parse_program("a = Value(2.0, label='x')\nb = Value(3.0, label='x')\nc = a * b\nc.label = 'prod'\n"
                            "c.label = ''\nd = Value(1.0, label='')")
    assert [program.variables[k].label for k in "abcd"] == ["x", "x₂", "prod", "d"]


def test_unnamed_nodes_never_take_a_program_name():
    program = parse_program("v3 = Value(2.0)\nv4 = Value(3.0)\nout = v3 * v4 + v3 * 2")
    t = tg.trace(program.output)
    assert t.unnamed == "u"
    keys = [t.key(i) for i in range(len(t))]
    assert len(set(keys)) == len(keys) and {"v3", "v4", "u2", "u4"} <= set(keys)
    assert "u₂ = v3 × v4" in tg.explain(program, format="text").text


def test_the_output():
    text = "a = Value(2.0)\nb = a * 3\nc = b + 1\nx = 5.0"
    assert parse_program(text).output.label == "c"  # the last Value assigned
    assert parse_program(text + "\nb.backward()").output.label == "b"  # .backward() chooses
    assert parse_program(text + "\nb.backward()", output="a").output.label == "a"  # the caller chooses
    assert parse_program("p = Value(1.0)\np = p * 2", output="p_2").output.label == "p₂"  # a node's name
    for output, message in [("x", "x is the number 5"), ("zz", "zz is not a variable or node of the program")]:
        with pytest.raises(InputError, match=message):
            parse_program(text, output=output)
    with pytest.raises(InputError, match="the program builds no Value"):
        parse_program("import micrograd\nx = 2.0\nprint(x)")


def test_check_answers_in_the_lectures_names():
    program = parse_program(LECTURE["expression"])
    report = check(program, {"dL/da": 6, "dL/db": -4, "dL/dd": -2, "d": 4, "L": -8})
    assert [v.verdict for v in report] == ["correct"] * 5
    # d written as 7: L = d·f = 7·(−2) = −14 follows from it, and ∂L/∂e = ∂L/∂d = f = −2 stays right
    report = check(program, {"d": 7, "L": -14, "dL/de": -2})
    assert [(v.answer.name, v.verdict) for v in report] == [("d", "wrong"), ("L", "carried"), ("dL/de", "correct")]


def test_explaining_twice_gives_the_same_gradients():
    program = parse_program(LECTURE["a used twice"])
    first = tg.explain(program, format="json").text
    assert tg.explain(program, format="json").text == first
    assert program.variables["a"].grad == 2.0  # b = a + a: one backward pass, db/da = 2


def test_user_text_is_escaped_in_every_format(tmp_path):
    from tests.tex_tools import compile_latex

    program = parse_program("a = Value(2.0, label='x$_{}')\nb = Value(1.0, label='#1 & 50%')\nc = a * b\n"
                            "c.label = 'c^~\\\\'")
    md = tg.explain(program, format="markdown").text
    assert r"\text{x\$\_\{\}}" in md and r"\text{\#1 \& 50\%}" in md
    assert "x\\$\\_\\{\\} = 2" not in md  # never raw in prose either
    text = tg.explain(program, format="text").text
    assert "c^~\\ = x$_{} × (#1 & 50%)" in text  # a label with spaces is parenthesized as an operand
    compile_latex(tg.explain(program, format="latex").text, tmp_path)
