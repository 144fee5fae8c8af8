"""Verdicts by hand: the written-precision rule, carry rounding, error carried forward,
the last digit, explicit tolerances, and the report around them (seed example, hand arithmetic)."""

import json
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tests.golden import SEED
from tracegrad.workflows.check import check
from tracegrad.checker import load_subject, parse_answers
from tracegrad.checker.policy import parse_policy
from tracegrad.checker.tolerance import Tolerance

# The seed example by hand (x = [1, 2], W₁ = [[0.5, 0.6], [0.7, 0.8]], b₁ = [0.1, 0.2], W₂ = [0.9, 0.1]ᵀ,
# b₂ = 0.3, y = 0.5): z₁ = [2.0, 2.4]; a₁ = σ(z₁) = [1/(1 + e^−2), 1/(1 + e^−2.4)] = [0.880797, 0.916827];
# z₂ = 0.880797·0.9 + 0.916827·0.1 + 0.3 = 1.184400; ŷ = σ(1.1844) = 0.765738; ∂L/∂ŷ = 0.265738;
# σ′(z₂) = 0.765738·0.234262 = 0.179383; δ₂ = 0.265738·0.179383 = 0.047669.


@pytest.fixture(scope="module")
def seed():
    return load_subject(SEED)


def judge(seed, answers, grading=None):
    """The answers judged under the seed's policy, or under the ``[grading]`` table ``grading``."""
    data = {"answers": {k: _dec(v) for k, v in answers.items()}}
    policy = parse_policy(grading, "policy.toml") if grading is not None else None
    return check(seed, parse_answers(data), policy)


def _dec(v):
    return [_dec(x) for x in v] if isinstance(v, list) else Decimal(v)


# --- the rule ---------------------------------------------------------------------------

def test_written_precision():
    t = Tolerance()
    assert t.matches(Decimal("0.9168"), 0.916827)
    assert t.matches(Decimal("0.917"), 0.916827) and t.matches(Decimal("0.92"), 0.916827)
    assert not t.matches(Decimal("0.9169"), 0.916827) and not t.matches(Decimal("0.9167"), 0.916827)
    assert t.near(Decimal("0.9169"), 0.916827) and t.near(Decimal("0.9167"), 0.916827)
    assert not t.near(Decimal("0.9170"), 0.916827) and not t.near(Decimal("0.9166"), 0.916827)
    assert t.matches(Decimal(2), 2.4) and not t.matches(Decimal("2.0"), 2.4)  # "2" is written to units


def test_either_rounding_of_a_tie():
    # 0.00045 lies halfway between 0.0004 and 0.0005: both roundings are correct, 0.0006 is not
    t = Tolerance()
    assert t.matches(Decimal("0.0004"), 0.00045) and t.matches(Decimal("0.0005"), 0.00045)
    assert not t.matches(Decimal("0.0006"), 0.00045) and t.near(Decimal("0.0006"), 0.00045)
    assert t.matches(Decimal("2.4"), 2.4000000000000004)  # float noise is no tie-breaker


def test_explicit_tolerances():
    v = 0.916827
    two = Tolerance(decimals=2)  # both sides rounded to 0.92
    assert two.matches(Decimal("0.92"), v) and two.matches(Decimal("0.9168"), v) and two.matches(Decimal("0.915"), v)
    assert not two.matches(Decimal("0.9"), v) and not two.near(Decimal("0.91"), v)
    sig = Tolerance(sig_figs=3)  # 0.000363499 to three significant figures is 0.000363
    assert sig.matches(Decimal("0.000363"), 0.000363499) and not sig.matches(Decimal("0.00036"), 0.000363499)
    absolute = Tolerance(absolute=0.001)  # |0.9175 − 0.916827| = 0.00067, |0.918 − 0.916827| = 0.00117
    assert absolute.matches(Decimal("0.9175"), v) and not absolute.matches(Decimal("0.918"), v)
    relative = Tolerance(relative=0.01)  # 1 % of 0.916827 is 0.0091683
    assert relative.matches(Decimal("0.925"), v) and not relative.matches(Decimal("0.927"), v)
    assert Tolerance(decimals=15).matches(Decimal("1e30"), 1e30)  # any magnitude, no decimal overflow
    assert Tolerance(sig_figs=3).matches(Decimal("1.23e300"), 1.234e300)
    both = Tolerance(absolute=0.001, relative=0.01)
    assert both.matches(Decimal("0.0015"), 0.0006) and both.matches(Decimal("0.925"), v)


# --- verdicts on the seed -----------------------------------------------------------------

def test_correct_values(seed):
    r = judge(seed, {"z1": ["2.0", "2.4"], "a1": ["0.8808", "0.9168"], "z2": "1.1844", "y_hat": "0.7657",
                     "delta2": "0.0477"})
    assert [v.verdict for v in r] == ["correct"] * 7
    assert r.passed and r.exit_code == 0 and not any(v.last_digit for v in r)


def test_one_off_in_the_last_digit_is_correct_and_marked(seed):
    r = judge(seed, {"a1": ["0.8808", "0.9167"]})
    assert (r["a1[1]"].verdict, r["a1[1]"].last_digit) == ("correct", True)
    assert r.exit_code == 0


def test_error_carried_forward_from_the_students_own_answers(seed):
    # a₁[1] written as 0.9084 (wrong: σ(2.4) = 0.9168); from it z₂ = 0.8808·0.9 + 0.9084·0.1 + 0.3 = 1.18356
    r = judge(seed, {"a1": ["0.8808", "0.9084"], "z2": "1.1836"})
    assert r["a1[1]"].verdict == "wrong" and r["z2"].verdict == "carried" and not r["z2"].last_digit
    assert round(r["z2"].carried, 5) == 1.18356
    assert r.exit_code == 1  # one answer is wrong
    # the correct value is still correct after a wrong earlier answer
    assert judge(seed, {"a1": ["0.8808", "0.9084"], "z2": "1.1844"})["z2"].verdict == "correct"
    # one off from the carried value: carried, last digit (the document's 1.1835)
    z2 = judge(seed, {"a1": ["0.8808", "0.9084"], "z2": "1.1835"})["z2"]
    assert (z2.verdict, z2.last_digit) == ("carried", True)


def test_carried_through_two_steps(seed):
    # ∂L/∂ŷ written 0.2692 (ŷ − y with a wrong ŷ = 0.7692), σ′(z₂) correct 0.1794:
    # δ₂ = 0.2692 × 0.1794 = 0.048294 → 0.0483; the correct δ₂ is 0.0477
    r = judge(seed, {"dL/dy_hat": "0.2692", "da2/dz2": "0.1794", "delta2": "0.0483"})
    assert r["dL/dy_hat"].verdict == "wrong" and r["delta2"].verdict == "carried"
    assert round(r["delta2"].carried, 6) == 0.048294


def test_correct_against_the_carry_rounded_value(seed):
    # ∂L/∂W₁[1][1] = x₁·δ₁[1] = 2 × 0.00036350 = 0.00072700 → 0.0007; rounding δ₁[1] to 0.0004 first
    # (as by hand) gives 2 × 0.0004 = 0.0008: also correct, and said so
    r = judge(seed, {"dL/dW1": [["0.0045", "0.0004"], ["0.0090", "0.0008"]]})
    v = r["dL/dW1[1][1]"]
    assert (v.verdict, v.by_carry, v.last_digit) == ("correct", True, False)
    assert round(v.expected, 8) == 0.00072700
    assert "rounded to 4 decimals, as by hand" in r.render("text")


def test_wrong_value_without_a_known_mistake(seed):
    r = judge(seed, {"a1": ["0.8808", "0.9084"]})
    v = r["a1[1]"]
    assert v.verdict == "wrong" and v.mistakes == () and round(v.expected, 4) == 0.9168
    text = r.render("text")
    assert "a1[1] = 0.9084: wrong (correct value 0.9168)" in text
    assert "a₁[1] = σ(2.4) ≈ 0.9168" in text  # the step with its numbers


def test_a_policy_tolerance_replaces_the_precision_rule(seed):
    answers = {"a1": ["0.8808", "0.9084"]}
    assert judge(seed, answers, {"absolute": 0.01})["a1[1]"].verdict == "correct"  # |0.0084| ≤ 0.01
    assert judge(seed, answers, {"decimals": 2})["a1[1]"].verdict == "wrong"  # 0.91 ≠ 0.92
    near = judge(seed, {"a1": ["0.8808", "0.9167"]}, {"decimals": 4})["a1[1]"]
    assert (near.verdict, near.last_digit) == ("wrong", False)  # no last-digit leniency with a tolerance


def test_summary_counts_and_exit_code(seed):
    r = judge(seed, {"a1": ["0.8808", "0.9167"], "z2": "1.1836", "loss": "0.0353", "dL/dy_hat": "0.1"})
    # a₁[1] = 0.9167 one off → correct (last digit); z₂ = 1.1836: correct is 1.1844, the student's own a₁ gives
    # 0.8808·0.9 + 0.9167·0.1 + 0.3 = 1.18439 → wrong; L = ½(0.765738 − 0.5)² = 0.035308 → correct; 0.1 wrong
    assert r.counts() == {"correct": 3, "carried": 0, "imprecise": 0, "wrong": 2}
    assert r.exit_code == 1 and not r.passed and r.score == 3 / 5
    assert "Summary: 3 correct (1 to the last digit), 0 carried, 0 imprecise, 2 wrong (1 likely mistake). Score 60.0 %." in r.render("text")
    assert "汇总：正确 3 个（其中末位差一 1 个），承前 0 个，精度不足 0 个，错误 2 个（可能的错误 1 处）。得分 60.0%。" in \
        r.render("text", lang="zh")


def test_json_view_is_stable_and_complete(seed):
    r = judge(seed, {"a1": ["0.8808", "0.9084"]})
    first, second = r.render("json"), judge(seed, {"a1": ["0.8808", "0.9084"]}).render("json")
    assert first == second
    data = json.loads(first)
    row = data["rows"][1]
    assert (row["key"], row["written"], row["verdict"], row["expected_text"]) == ("a1[1]", "0.9084", "wrong", "0.9168")
    assert data["passed"] is False and [c["count"] for c in data["counts"]] == [1, 0, 0, 1]
    assert data["policy"]["minimum"] == {"decimals": 4} and data["score"] == 0.5


def test_python_api(seed):
    import tracegrad

    r = tracegrad.check(SEED, {"z1": [2.0, 2.4]})
    assert r.passed and repr(r) == "Report(2 correct, 0 carried, 0 imprecise, 0 wrong)"
    assert r._repr_markdown_().startswith("# ")
    with pytest.raises(KeyError):
        r["z9"]
    from tracegrad.problem.schema import load_problem

    assert tracegrad.check(load_problem(SEED), {"loss": 0.0353}).passed


def test_a_students_value_outside_an_ops_domain_is_no_crash():
    from tracegrad.checker import network_subject
    from tracegrad.problem.schema import parse_problem

    subject = network_subject(parse_problem({
        "layers": [{"weights": [[0.5], [0.2]], "bias": [0.1], "activation": "sigmoid"}],
        "data": {"x": [1.0, 2.0], "y": 1.0}, "loss": "bce"}))
    # ŷ = σ(0.5 + 0.4 + 0.1) = σ(1) = 0.731; written as 1.0, ∂L/∂ŷ = (ŷ − y)/(ŷ(1 − ŷ)) would be 0/0
    r = check(subject, parse_answers({"answers": {"y_hat": Decimal("1.0"), "dL/dy_hat": Decimal("-1.3679")}}))
    assert r["y_hat"].verdict == "wrong" and r["dL/dy_hat"].carried is None
    assert r["dL/dy_hat"].verdict == "correct"  # (0.731059 − 1)/(0.731059·0.268941) = −1.3679
    assert "your own earlier answers give" not in r.render("text")


@settings(max_examples=300, deadline=None)
@given(st.floats(-1e6, 1e6, allow_nan=False), st.integers(0, 8))
def test_written_precision_property(value, decimals):
    # the value rounded half up to the written decimals (Python's Decimal, independently) always matches;
    # one unit away is only near; two units away is neither
    unit = Decimal(1).scaleb(-decimals)
    rounded = Decimal(repr(value)).quantize(unit, rounding=ROUND_HALF_UP)
    assume(abs(Decimal(repr(value)) - rounded) != unit / 2)  # a tie has two correct roundings (tested above)
    t = Tolerance()
    assert t.matches(rounded, value)
    for k in (1, -1):
        assert t.near(rounded + k * unit, value) and not t.matches(rounded + 2 * k * unit, value)
        assert not t.near(rounded + 2 * k * unit, value)
