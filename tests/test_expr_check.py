"""Checking answers to an expression problem: verdicts reasoned by hand."""

import json
import math

from tracegrad.workflows.check import check
from tracegrad.expressions.parse import OUTPUT_NAME
from tracegrad.checker.expression import expression_subject
from tracegrad.workflows.explain import explain

CIRCUIT = ("(x + y) * z", {"x": -2, "y": 5, "z": -4})


def test_quantity_names_follow_the_derivation():
    subject = expression_subject(*CIRCUIT)
    assert list(subject.quantities) == ["v3", "f", "df/dv3", "df/dx", "df/dy", "df/dz"]
    data = json.loads(explain(*CIRCUIT, format="json").text)
    forward = {line["name"]: line["values"] for line in data["sections"][0]["blocks"][0]["lines"]}
    nodes = subject.trace.nodes
    assert forward["v₃"] == nodes[subject.quantities["v3"][0]].data == 3.0  # x + y
    assert forward["f"] == nodes[subject.quantities["f"][0]].data == -12.0


def test_correct_answers():
    # f = (x + y)·z = 3·(−4) = −12; ∂f/∂v₃ = z = −4, ∂f/∂x = ∂f/∂y = −4, ∂f/∂z = x + y = 3
    report = check(expression_subject(*CIRCUIT), {"v3": 3, "f": -12, "df/dv3": -4, "df/dx": -4, "df/dy": -4,
                                                  "df/dz": 3})
    assert [v.verdict for v in report] == ["correct"] * 6 and report.exit_code == 0


def test_a_wrong_value_carries_into_later_answers():
    # the student took x = +2: v₃ = 7 (wrong); then f = 7·(−4) = −28 and ∂f/∂z = v₃ = 7 follow from it
    report = check(expression_subject(*CIRCUIT), {"v3": 7, "f": -28, "df/dz": 7, "df/dx": -4})
    assert report["v3"].verdict == "wrong" and report["v3"].expected == 3.0
    assert report["f"].verdict == "carried" and report["f"].carried == -28.0
    assert report["df/dz"].verdict == "carried" and report["df/dz"].carried == 7.0
    assert report["df/dx"].verdict == "correct"
    assert report.exit_code == 1


def test_a_wrong_gradient_carries_down_the_backward_pass_only():
    # ∂f/∂v₃ written as −5: ∂f/∂x = ∂f/∂v₃·1 = −5 follows from it, and the forward value f is untouched
    report = check(expression_subject(*CIRCUIT), {"df/dv3": -5.0, "df/dx": -5.0, "f": -12.0})
    assert report["df/dv3"].verdict == "wrong"
    assert report["df/dx"].verdict == "carried"
    assert report["f"].verdict == "correct"


def test_gradient_nodes_are_apart_from_forward_nodes():
    for text, at in [CIRCUIT, ("exp(x) * y", {"x": 0.5, "y": 2}), ("x * x", {"x": 3})]:
        subject = expression_subject(text, at)
        forward = range(subject.quantities[OUTPUT_NAME][0] + 1)  # recorded up to f, before the backward pass
        for name, (i,) in subject.quantities.items():
            if name.startswith("df/"):
                assert i not in forward, name


def test_neuron_gradients_with_the_chain_rule_forgotten():
    x, w, b = 0.8, -1.5, 0.2
    subject = expression_subject("tanh(x * w + b)", {"x": x, "w": w, "b": b})
    local = 1 - math.tanh(x * w + b) ** 2  # tanh′ = 1 − tanh²
    report = check(subject, {"df/dw": round(x * local, 4), "df/dx": round(w, 4), "df/db": round(local, 4)})
    assert report["df/dw"].verdict == "correct"  # x·(1 − tanh²(xw + b))
    assert report["df/db"].verdict == "correct"
    assert report["df/dx"].verdict == "wrong" and math.isclose(report["df/dx"].expected, w * local)
