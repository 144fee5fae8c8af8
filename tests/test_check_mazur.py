"""A published walkthrough checked number by number: Matt Mazur's "A Step by Step Backpropagation
Example" (examples/mazur.toml, his printed numbers in examples/mazur_printed.toml), including the
numbers a layer view does not print: the per-output errors E_o1, E_o2 and the per-path parts
∂E_o1/∂out_h1, ∂E_o2/∂out_h1 of ∂E_total/∂out_h1.

By hand (plain Python below, independent of the engine): net_h1 = 0.15·0.05 + 0.2·0.1 + 0.35 = 0.3775,
out_h1 = σ(0.3775) = 0.593269992, out_h2 = σ(0.3925) = 0.596884378; net_o1 = 0.4·out_h1 + 0.45·out_h2 + 0.6
= 1.105905967, out_o1 = 0.751365070, out_o2 = 0.772928465; E_o1 = ½(0.01 − 0.751365070)² = 0.274811083,
E_o2 = ½(0.99 − 0.772928465)² = 0.023560026, E_total = 0.298371109. δ_o1 = (out_o1 − 0.01)·out_o1(1 − out_o1)
= 0.741365070 × 0.186815602 = 0.138498562, δ_o2 = −0.217071535 × 0.175510053 = −0.038098237;
∂E_o1/∂out_h1 = δ_o1·w5 = 0.055399425, ∂E_o2/∂out_h1 = δ_o2·w7 = −0.0190491184 (Mazur: −0.019049119, his
rounded δ_o2 times 0.5 is the tie −0.0190491185), their sum 0.036350306.
"""

import math

import pytest

from tests.golden import ROOT
from tracegrad.checker import load_answers, load_subject
from tracegrad.checker.policy import parse_policy
from tracegrad.workflows.check import check

PROBLEM, PRINTED = ROOT / "examples" / "mazur.toml", ROOT / "examples" / "mazur_printed.toml"


def sigmoid(z):
    return 1 / (1 + math.exp(-z))


def by_hand():
    x, y = (0.05, 0.10), (0.01, 0.99)
    w1, w2 = ((0.15, 0.25), (0.20, 0.30)), ((0.40, 0.50), (0.45, 0.55))  # W[i][j]: input i → unit j
    z1 = [x[0] * w1[0][j] + x[1] * w1[1][j] + 0.35 for j in range(2)]
    a1 = [sigmoid(z) for z in z1]
    z2 = [a1[0] * w2[0][k] + a1[1] * w2[1][k] + 0.60 for k in range(2)]
    a2 = [sigmoid(z) for z in z2]
    terms = [0.5 * (t - o) ** 2 for t, o in zip(y, a2)]
    d2 = [(o - t) * o * (1 - o) for t, o in zip(y, a2)]
    via = [[d2[k] * w2[j][k] for k in range(2)] for j in range(2)]
    da1 = [sum(row) for row in via]
    d1 = [da1[j] * a1[j] * (1 - a1[j]) for j in range(2)]
    w2_new = [[w2[j][k] - 0.5 * a1[j] * d2[k] for k in range(2)] for j in range(2)]
    w1_new = [[w1[i][j] - 0.5 * x[i] * d1[j] for j in range(2)] for i in range(2)]
    return dict(z1=z1, a1=a1, z2=z2, y_hat=a2, loss_terms=terms, loss=sum(terms), delta2=d2, via=via, da1=da1,
                w1_new=w1_new, w2_new=w2_new)


H = by_hand()


@pytest.fixture(scope="module")
def report():
    return check(PROBLEM, PRINTED)


def test_every_printed_number_of_the_walkthrough_is_correct(report):
    assert report.counts() == {"correct": 26, "carried": 0, "imprecise": 0, "wrong": 0} and report.exit_code == 0
    # the part through o2 is right only with δ_o2 first rounded to nine decimals, as Mazur does
    assert [v.answer.key for v in report if v.by_carry] == ["dL/da1_via[0][1]"]
    assert round(0.5 * round(H["delta2"][1], 9), 10) == -0.0190491185 and round(H["via"][0][1], 9) == -0.019049118


def test_the_unprinted_quantities_are_the_hand_computation(report):
    expected = {"loss_terms[0]": H["loss_terms"][0], "loss_terms[1]": H["loss_terms"][1],
                "dL/da1_via[0][0]": H["via"][0][0], "dL/da1_via[0][1]": H["via"][0][1], "dL/da1[0]": H["da1"][0],
                "W1_new[1][0]": H["w1_new"][1][0], "W2_new[1][1]": H["w2_new"][1][1]}
    for key, value in expected.items():
        assert math.isclose(report[key].expected, value, rel_tol=1e-12), key
    assert round(H["loss_terms"][0], 9) == 0.274811083 and round(H["via"][0][0], 9) == 0.055399425


def test_a_ninth_digit_left_out_is_imprecise_under_the_display_precision():
    # without the file's min_decimals = 8 the policy asks for the display precision, nine decimals:
    # w2+ = 0.2 − 0.5·0.1·0.008771355 = 0.199561432 (printed 0.19956143), w3+ = 0.249751144 (0.24975114),
    # w4+ = 0.299502287 (0.29950229); w5+ = 0.358916480 is printed 0.35891648, only a zero left out
    subject = load_subject(PROBLEM)
    r = check(subject, load_answers(PRINTED), parse_policy({}, "policy.toml", (9, None)))
    assert sorted(v.answer.key for v in r if v.verdict == "imprecise") == ["W1_new[0][1]", "W1_new[1][0]",
                                                                         "W1_new[1][1]"]
    assert r["W2_new[0][0]"].verdict == "correct"


def test_a_slip_in_one_path_is_named_and_carried_into_the_sum(tmp_path):
    # ∂E_o2/∂out_h1 written with its sign flipped: +0.019049118; ∂E_total/∂out_h1 from the student's own
    # parts: 0.055399425 + 0.019049118 = 0.074448543, carried
    answers = tmp_path / "slip.toml"
    answers.write_text('[answers]\n"delta2" = [0.138498562, -0.038098237]\n'
                       '"dL/da1_via[0]" = [0.055399425, 0.019049118]\n"dL/da1[0]" = 0.074448543\n', encoding="utf-8")
    r = check(PROBLEM, answers)
    v = r["dL/da1_via[0][1]"]
    assert v.verdict == "wrong" and v.mistakes[0].key == "sign_slip"
    assert dict(v.mistakes[0].args)["q"].startswith("∂L/∂a₁")
    assert r["dL/da1[0]"].verdict == "carried"


def test_a_batch_lists_its_per_sample_losses_and_per_path_parts(capsys):
    # examples/batch_tanh.toml: two samples, 2-3-2; the parts of ∂L/∂a₁ are one 3×2 matrix per sample
    from tracegrad.cli import main

    assert main(["quantities", str(ROOT / "examples" / "batch_tanh.toml")]) == 0
    out = capsys.readouterr().out
    assert "sample_loss  (2)" in out and "dL/da1_via  (2×3×2)" in out and "dL/dx  (2×2)" in out
