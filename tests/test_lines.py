"""The line verifier and the node view's arithmetic, against hand computation."""

import contextlib
import io
import re
from decimal import ROUND_HALF_UP, Decimal

import pytest

from tests.golden import SEED
from tracegrad.cli import main
from tracegrad.core import arithmetic as ar
from tracegrad.problem.schema import parse_problem
from tracegrad.render.lines import verify_lines
from tracegrad.render.model import Block, DerivationView, Line, Section
from tracegrad.core.notation import Math
from tracegrad.workflows.derive import derive


def by_hand(x, places=4):
    """Half away from zero on the shortest decimal, as a person rounds."""
    return float(Decimal(repr(x)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def view_of(*lines):
    return DerivationView("t", "en", "layer", "exact", "", "", (Section("s", "s", (), (Block("", lines),)),))


def product_line(a: str, b: str, result: str, exact=False):
    cell = ar.Apply("mul", (ar.Number(float(a), a, 0.0 if exact else 5e-5), ar.Number(float(b), b, 0.0)))
    m = Math(result, result)
    return Line("q", "", m, None, ar.write(cell), "=" if exact else "≈", m, float(result), exact, cells=cell,
                texts=result)


def test_the_verifier_refuses_arithmetic_that_does_not_add_up():
    # carried numbers: 0.0004 × 2.0 is 0.0008, so a printed 0.0007 is false; 0.00036 × 2.0 = 0.00072 is true
    bad = verify_lines(view_of(product_line("0.0004", "2.0", "0.0007")), carried=True)
    assert not bad.ok and bad.problems[0].found == repr(0.0008)
    assert verify_lines(view_of(product_line("0.00036", "2.0", "0.00072")), carried=True).ok
    # exact numbers: 0.8808 stands for [0.88075, 0.88085]; × 0.9 gives [0.792675, 0.792765]: 0.7927 holds,
    # 0.7929 does not
    assert verify_lines(view_of(product_line("0.8808", "0.9", "0.7927")), carried=False).ok
    assert not verify_lines(view_of(product_line("0.8808", "0.9", "0.7929")), carried=False).ok


def hand_backward():
    """The seed's backward pass as a person with a calculator works it, every number rounded
    to four decimals (two significant figures for small ones) before it is used again."""
    r = lambda v: by_hand(v, 4 if abs(v) >= 0.001 else 5)  # noqa: E731
    a1 = [r(1 / (1 + 2.718281828459045 ** -2.0)), r(1 / (1 + 2.718281828459045 ** -2.4))]  # 0.8808, 0.9168
    z2 = r(a1[0] * 0.9 + a1[1] * 0.1 + 0.3)
    y_hat = r(1 / (1 + 2.718281828459045 ** -z2))
    d_out = r(y_hat - 0.5)  # ∂L/∂ŷ of ½(ŷ − y)²
    local2 = r(y_hat * (1 - y_hat))
    delta2 = r(d_out * local2)
    up = [r(delta2 * 0.9), r(delta2 * 0.1)]
    local1 = [r(a * (1 - a)) for a in a1]
    delta1 = [r(u * s) for u, s in zip(up, local1)]
    return {"y_hat": y_hat, "d_out": d_out, "local2": local2, "delta2": delta2, "up": up, "local1": local1,
            "delta1": delta1, "dW1": [[r(1 * d) for d in delta1], [r(2 * d) for d in delta1]]}


def test_node_view_carries_rounded_numbers_through_the_backward_pass():
    h = hand_backward()
    assert h["delta1"][1] == 0.00037 and h["dW1"][1][1] == 0.00074  # not 0.0004 × 2.0 ≈ 0.0007
    text = derive(SEED, format="text", view="node", rounding="carry").text
    assert f"upstream × local = {h['up'][1]} × {h['local1'][1]} ≈ {h['delta1'][1]:.5f}" in text
    assert "upstream × local = 0.00037 × 2.0 = 0.00074" in text
    assert "∂L/∂W₁[1][1] = 0.00074" in text
    assert f"∂L/∂W₁[1][0] = {h['dW1'][1][0]}" in text  # 2 × 0.0045 = 0.009


def test_node_view_exact_mode_prints_enough_digits_for_its_arithmetic():
    text = derive(SEED, format="text", view="node").text
    # δ₁[1] = 0.0047664 × 0.0762795 = 0.000363578…, shown with two significant figures, not as 0.0004
    assert "∂L/∂W₁[1][1] = upstream × local = 0.00036 × 2.0 ≈ 0.00073" in text
    assert " 0.0000 " not in text and "− 0.0000" not in text


SOFTMAX = {"layers": [{"weights": [[0.5, -0.3], [0.2, 0.4]], "bias": [0.1, -0.1], "activation": "softmax"}],
           "data": {"x": [1, 2], "y": [1, 0]}, "loss": "cce"}


def test_no_raw_float_and_negatives_in_parentheses_after_an_operator():
    problem = parse_problem(SOFTMAX, "softmax.toml")
    for view in ("layer", "node"):
        text = derive(problem, format="text", view=view).text
        assert not re.search(r"\d\.\d{9,}", text), view  # no float printed in full
        assert "1 × (−0.3)" in text and "(−0.1)" in text and "× −" not in text and "+ −" not in text, view
    # a leading negative needs no parentheses: b₁ − η·g with b₁[1] = −0.1
    update = derive(problem, format="text").text
    assert "−0.1 − 0.1 ×" in update


@pytest.mark.parametrize("name", ["seed.toml", "mazur.toml", "batch_tanh.toml"])
@pytest.mark.parametrize("rounding", ["exact", "carry"])
@pytest.mark.parametrize("view", ["layer", "node"])
def test_every_line_of_the_examples_holds(name, rounding, view, capsys):
    from tests.golden import ROOT

    assert main(["derive", str(ROOT / "examples" / name), "--verify", "--rounding", rounding, "--view", view,
                 "--format", "text"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"All \d+ lines and their \d+ printed numbers hold", out)


def test_a_saturated_softmax_with_cross_entropy_is_checked_not_crashed(tmp_path):
    # logits 50 apart: ŷ carried as 1.0000 and 0.0000, and the expansion's 0 × log(0.0000) term
    # (a class with target 0) is 0, as cross-entropy leaves it out; this crashed the verifier
    # (math domain error, exit 3) and then read nan
    path = tmp_path / "saturated.toml"
    path.write_text('[[layers]]\nweights = [[30, -30], [-20, 20]]\nbias = [0, 0]\nactivation = "softmax"\n'
                    '[data]\nx = [1, 0]\ny = [1, 0]\n[loss]\nname = "cce"\n', encoding="utf-8")
    for rounding in ("exact", "carry"):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            status = main(["derive", str(path), "--verify", "--rounding", rounding, "--format", "text"])
        assert status == 0, out.getvalue()[-600:]
        assert "Every line checked" in out.getvalue()
