"""A number written with more than 15 significant figures is judged at 15: a program that prints
16–17 digits differs from another in its last binary64 bits by the order of its operations (1–6
units in the last place), which is no student's error. The reference values are computed here in
plain Python, not read from the checker."""

import math
from decimal import Decimal

import pytest

from tests.golden import SEED
from tracegrad.checker import network_subject, parse_answers
from tracegrad.checker.tolerance import Tolerance
from tracegrad.problem.schema import load_problem
from tracegrad.workflows.check import check


def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


# the seed by plain arithmetic: a₁ = σ([2.0, 2.4]), z₂ = a₁·[0.9, 0.1] + 0.3, ŷ = σ(z₂), δ₂ = (ŷ − ½)·ŷ(1 − ŷ)
A1 = [sigmoid(2.0), sigmoid(2.4)]
Z2 = A1[0] * 0.9 + A1[1] * 0.1 + 0.3
Y_HAT = sigmoid(Z2)
DELTA2 = (Y_HAT - 0.5) * Y_HAT * (1 - Y_HAT)


def ulps_away(x: float, n: int) -> float:
    for _ in range(abs(n)):
        x = math.nextafter(x, math.inf if n > 0 else -math.inf)
    return x


@pytest.fixture(scope="module")
def seed():
    return network_subject(load_problem(SEED))


def judged(seed, name, text):
    return check(seed, parse_answers({"answers": {name: Decimal(text)}}))[name]


@pytest.mark.parametrize("name,value", [("z2", Z2), ("y_hat", Y_HAT), ("delta2", DELTA2)])
@pytest.mark.parametrize("ulps", [-6, -3, -1, 1, 3, 6])
def test_a_program_printed_number_off_in_its_last_bits_is_correct(seed, name, value, ulps):
    # e.g. ŷ = 0.7657380310295764 printed with 17 significant figures from a value 6 units in the last
    # place away: 0.76573803102957707; judged at 15 it is 0.765738031029577, within one unit of ŷ
    text = f"{ulps_away(value, ulps):.17g}"
    assert len(Decimal(text).as_tuple().digits) >= 16 and float(text) != value
    v = judged(seed, name, text)
    assert v.verdict == "correct" and not v.last_digit, (text, v)


def test_a_wrong_long_number_is_still_wrong(seed):
    # ŷ = 0.765738031029576…: off in the 12th significant figure (by 3 × 10⁻¹²) it is wrong, and so is a
    # number three units of the 15th away (0.765738031029579 vs …5764: 2.6 units)
    assert judged(seed, "y_hat", f"{Y_HAT + 3e-12:.17f}").verdict == "wrong"
    assert judged(seed, "y_hat", "0.76573803102957900").verdict == "wrong"


def test_the_tolerance_reads_fifteen_significant_figures():
    t = Tolerance()
    w = Decimal("0.28847312622680066")  # 17 significant figures
    assert t.format_for(w).decimals == 15  # 0.288473126226801: its 15th figure is the 15th decimal
    assert t.matches(w, 0.2884731262268003)  # 3.6 × 10⁻¹⁶ away: less than one unit (10⁻¹⁵)
    assert not t.matches(w, 0.288473126226802)  # 1.34 × 10⁻¹⁵ away
    # a number of fewer than 15 figures keeps half a unit of its last digit: 0.28847312622681 (14) is
    # 6.97 × 10⁻¹⁵ from 0.2884731262268003, more than half of 10⁻¹⁴
    assert not t.matches(Decimal("0.28847312622681"), 0.2884731262268003)
    # a policy of more significant figures compares at most 15: 0.28847312622680036 and
    # 0.2884731262268003 differ in the 17th (by 6 × 10⁻¹⁷), not within the first 15
    assert Tolerance(sig_figs=17).matches(Decimal("0.28847312622680036"), 0.2884731262268003)
    assert Tolerance(sig_figs=17).format_for(w).sig_figs == 15


def test_fifteen_figures_printed_by_a_program_get_the_same_leeway(seed):
    # the shortest repr() of ŷ 6 units in the last place away has 15 figures, 0.765738031029577,
    # 0.67 units of the 15th from ŷ = 0.7657380310295764: correct, not "to the last digit"
    text = repr(ulps_away(Y_HAT, 6))
    assert len(Decimal(text).as_tuple().digits) == 15
    v = judged(seed, "y_hat", text)
    assert v.verdict == "correct" and not v.last_digit


def test_the_policy_text_says_so(seed):
    r = check(seed, parse_answers({"answers": {"y_hat": Decimal("0.7657")}}))
    assert "A number written with more than 15 significant figures is judged at 15" in r.render("text")
    assert "书写超过 15 位有效数字的数按 15 位判定" in r.render("text", lang="zh")
