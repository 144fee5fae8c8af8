"""Error carried forward that cannot be gamed, and a slip that is not a copy.

A carried answer earns the degenerate share when it follows from a degenerate earlier answer:
one that is 0, ±1 or a given number copied, or one that makes what follows trivial (most of the
numbers after it vanish or copy what they update, at their precision, because of it). A wrong
number that its likely mistake reproduces is a slip, neither copied nor chosen: what follows
from it is carried as usual. Every expected number here is computed by hand (in the comments) or
by the plain arithmetic of the test, never read from the checker.
"""

import json
import math
from decimal import Decimal

import pytest

from tests.golden import SEED
from tracegrad.checker import network_subject, parse_answers
from tracegrad.problem.schema import load_problem, parse_problem
from tracegrad.workflows.check import check


def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


def four(x: float) -> Decimal:
    """As a student writes it at four decimals (the seed's precision), half away from zero."""
    from decimal import ROUND_HALF_UP

    d = Decimal(f"{x:.15g}").quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
    return abs(d) if d == 0 else d


@pytest.fixture(scope="module")
def seed():
    return network_subject(load_problem(SEED))


W1, B1, W2, B2, X, Y, LR = [[0.5, 0.6], [0.7, 0.8]], [0.1, 0.2], [0.9, 0.1], 0.3, [1.0, 2.0], 0.5, 0.1


def by_hand(z1=None, a1=None, z2=None, dy=None):
    """The seed worked by hand at four decimals, each number from the ones written before it;
    a keyword replaces that number as written (a slip or a chosen value)."""
    out = {}
    z1 = z1 or [four(X[0] * W1[0][j] + X[1] * W1[1][j] + B1[j]) for j in range(2)]
    out["z1"] = z1
    a1 = a1 or [four(sigmoid(float(z))) for z in z1]
    out["a1"] = a1
    z2 = z2 if z2 is not None else four(float(a1[0]) * W2[0] + float(a1[1]) * W2[1] + B2)
    out["z2"] = z2
    y_hat = four(sigmoid(float(z2)))
    out["y_hat"] = y_hat
    out["loss"] = four(0.5 * (float(y_hat) - Y) ** 2)
    dy = dy if dy is not None else four(float(y_hat) - Y)
    out["dL/dy_hat"] = dy
    s2 = four(float(y_hat) * (1 - float(y_hat)))
    out["da2/dz2"] = s2
    d2 = four(float(dy) * float(s2))
    out["delta2"] = d2
    out["dL/dW2"] = [four(float(a) * float(d2)) for a in a1]
    out["dL/db2"] = d2
    da1 = [four(float(d2) * w) for w in W2]
    out["dL/da1"] = da1
    s1 = [four(float(a) * (1 - float(a))) for a in a1]
    out["da1/dz1"] = s1
    d1 = [four(float(g) * float(s)) for g, s in zip(da1, s1)]
    out["delta1"] = d1
    dw1 = [[four(x * float(d)) for d in d1] for x in X]
    out["dL/dW1"] = dw1
    out["dL/db1"] = d1
    out["W1_new"] = [[four(W1[i][j] - LR * float(dw1[i][j])) for j in range(2)] for i in range(2)]
    out["b1_new"] = [four(B1[j] - LR * float(d1[j])) for j in range(2)]
    out["W2_new"] = [four(W2[i] - LR * float(out["dL/dW2"][i])) for i in range(2)]
    out["b2_new"] = four(B2 - LR * float(d2))
    return out


def judged(subject, answers, policy=None):
    return check(subject, parse_answers({"answers": answers}), policy)


# --- an answer chosen to make the rest trivial ------------------------------------------------

def test_an_answer_that_makes_every_gradient_vanish_earns_the_degenerate_share(seed):
    # z₁ = [2.0, 2.4] and a₁ = [0.8808, 0.9168] right, then z₂ = 0.0004 (it is 1.1844): ŷ = σ(0.0004)
    # = 0.5001, ∂L/∂ŷ = 0.0001, σ′ = 0.5001 × 0.4999 = 0.2500, δ₂ = 0.0001 × 0.25 = 0.000025 → 0.0000,
    # and every gradient after it 0.0000, every updated weight the given one: 34 numbers, of which
    # z₁ (2), a₁ (2), σ′(z₁) (2), W₁ⁿᵉʷ[0][1] = 0.6 − 0.1 × 0.0000036 → 0.6000 and b₁ⁿᵉʷ[1] = 0.2000 are right
    answers = by_hand(z2=Decimal("0.0004"))
    assert answers["y_hat"] == Decimal("0.5001") and answers["dL/dy_hat"] == Decimal("0.0001")
    assert answers["delta2"] == 0 and answers["W1_new"][0][0] == Decimal("0.5000")
    r = judged(seed, answers)
    assert r.counts() == {"correct": 8, "carried": 25, "imprecise": 0, "wrong": 1}
    source = r["z2"].source
    assert source is not None and source.kind == "effect"
    assert abs(source.value - 1.1844) < 1e-4  # z₂ from the student's own a₁: 0.8808 × 0.9 + 0.9168 × 0.1 + 0.3
    assert "delta2" in source.trivial and "W2_new[0]" in source.trivial
    carried = [v for v in r if v.verdict == "carried"]
    assert all(v.degenerate == ("z2",) and v.credit == 0 for v in carried)
    assert r.score == pytest.approx(8 / 34)  # was 33/34 = 97.1 %
    text = r.render("text")
    assert "this answer makes what follows trivial" in text
    assert "follows from a degenerate earlier answer (z2: it makes what follows trivial)" in text
    data = json.loads(r.render("json"))
    row = next(row for row in data["rows"] if row["key"] == "z2")
    assert row["degenerate_source"]["kind"] == "effect" and row["degenerate_source"]["following"] >= 17


def test_a_vanishing_loss_derivative_written_beyond_the_precision_is_caught(seed):
    # ŷ right (0.7657), then ∂L/∂ŷ = 0.00001 (five decimals, not 0 as written; it is 0.2657): δ₂ =
    # 0.00001 × 0.1794 = 0.0000018 → 0.0000 and everything after it vanishes or copies the given weights
    answers = by_hand(dy=Decimal("0.00001"))
    assert answers["delta2"] == 0 and answers["W2_new"] == [Decimal("0.9000"), Decimal("0.1000")]
    r = judged(seed, answers)
    assert r["dL/dy_hat"].verdict == "wrong" and r["dL/dy_hat"].source.kind == "effect"
    assert all(v.degenerate == ("dL/dy_hat",) for v in r if v.verdict == "carried")
    assert r["da2/dz2"].verdict == "correct"  # σ′(z₂) does not follow from ∂L/∂ŷ: it keeps its credit


def test_an_update_copied_through_a_tiny_gradient_is_caught(seed):
    # ∂L/∂W₂ = [0.00001, 0.00001] (it is [0.0420, 0.0437]): W₂ⁿᵉʷ = 0.9 − 0.1 × 0.00001 → 0.9000 and
    # 0.1000, the weights it updates; with ∂L/∂W₂ from the student's own δ₂ they would be 0.8958, 0.0956
    answers = {"dL/dW2": [Decimal("0.00001"), Decimal("0.00001")], "W2_new": [Decimal("0.9000"), Decimal("0.1000")]}
    r = judged(seed, answers)
    assert [v.verdict for v in r] == ["wrong", "wrong", "carried", "carried"]
    assert r["W2_new[0]"].degenerate == ("dL/dW2[0]",) and r["W2_new[1]"].credit == 0
    # the same update from the right gradient is no copy: 0.9 − 0.1 × 0.0420 = 0.8958
    r = judged(seed, {"dL/dW2": [Decimal("0.0420"), Decimal("0.0437")], "W2_new": [Decimal("0.8958"), Decimal("0.0956")]})
    assert r.counts()["correct"] == 4


def test_an_honest_wrong_answer_keeps_its_carried_credit(seed):
    # a₁[1] = 0.9186 for 0.9168 (two digits swapped, no listed mistake): z₂ = 0.8808 × 0.9 + 0.9186 × 0.1 + 0.3
    # = 1.18458 → 1.1846, nothing after it vanishes: the carried numbers earn full credit
    answers = by_hand(a1=[Decimal("0.8808"), Decimal("0.9186")])
    assert answers["z2"] == Decimal("1.1846")
    r = judged(seed, answers)
    assert r["a1[1]"].verdict == "wrong" and r["a1[1]"].source is None
    carried = [v for v in r if v.verdict == "carried"]
    assert carried and all(not v.degenerate and v.credit == 1 for v in carried)


@pytest.fixture(scope="module")
def tiny():
    # one sigmoid unit: x = 1, w = 0.02, b = 0, y = 0.5, L = ½(ŷ − y)², SGD η = 0.1
    return network_subject(parse_problem({
        "layers": [{"weights": [[0.02]], "bias": [0.0], "activation": "sigmoid"}],
        "data": {"x": [1.0], "y": [0.5]}, "loss": "half_se", "optimizer": {"name": "sgd", "lr": 0.1}}, "tiny.toml"))


def tiny_by_hand(z: Decimal) -> dict:
    """The one-unit problem by hand at four decimals from a written z."""
    a = four(sigmoid(float(z)))
    dy = four(float(a) - 0.5)
    s = four(float(a) * (1 - float(a)))
    d = four(float(dy) * float(s))
    return {"z1": z, "y_hat": a, "dL/dy_hat": dy, "da1/dz1": s, "delta1": d, "dL/dW1": d,
            "W1_new": four(0.02 - 0.1 * float(d)), "b1_new": four(0.0 - 0.1 * float(d))}


def test_a_slip_that_makes_the_rest_vanish_is_not_a_choice(tiny):
    # right: z = 0.02, ŷ = σ(0.02) = 0.5050, ∂L/∂ŷ = 0.0050, σ′ = 0.2500, δ = 0.00125 → 0.0013 (0.0050 × 0.25)
    # the decimal point moved two places: z = 0.0002, ŷ = σ(0.0002) = 0.50005 → 0.5000 (0.500049999…),
    # ∂L/∂ŷ = 0.0000 and every gradient after it 0, the updates the given w and b: the likely mistake
    # gives 0.0002, so it is a slip: what follows is carried with full credit
    slipped = tiny_by_hand(Decimal("0.0002"))
    assert slipped["dL/dy_hat"] == 0 and slipped["W1_new"] == Decimal("0.0200")
    r = judged(tiny, slipped)
    assert r["z1"].verdict == "wrong" and r["z1"].mistakes[0].key == "decimal_moved"
    assert r["z1"].source is None
    assert all(v.credit == 1 for v in r if v.verdict == "carried")
    # the same vanishing from a value no mistake gives (0.0003: ŷ = 0.500075 → 0.5001, ∂L/∂ŷ = 0.0001,
    # δ = 0.0001 × 0.25 → 0.0000) is chosen, not slipped: what follows earns the degenerate share
    chosen = tiny_by_hand(Decimal("0.0003"))
    assert chosen["delta1"] == 0
    r = judged(tiny, chosen)
    assert r["z1"].source is not None and r["z1"].source.kind == "effect"
    assert all(v.degenerate == ("z1",) and v.credit == 0 for v in r if v.verdict == "carried")


# --- a slip that happens to equal a given number ------------------------------------------------

def test_a_slip_equal_to_a_given_number_is_credited_as_a_slip(seed):
    # z₁[0] = x·W₁[:,0] + b₁[0] = 1 × 0.5 + 2 × 0.7 + 0.1 = 2.0, written 0.2000 (decimal point moved):
    # it equals the given b₁[1] = 0.2, but the slip gives it too. a₁[0] = σ(0.2) = 0.5498, z₂ =
    # 0.5498 × 0.9 + 0.9168 × 0.1 + 0.3 = 0.88650 → 0.8865: carried, with full credit
    answers = by_hand(z1=[Decimal("0.2000"), Decimal("2.4000")])
    assert answers["a1"][0] == Decimal("0.5498") and answers["z2"] == Decimal("0.8865")
    r = judged(seed, answers)
    assert r["z1[0]"].verdict == "wrong" and r["z1[0]"].mistakes[0].key == "decimal_moved"
    assert r["z1[0]"].source is None and r["z1[0]"].coincides == pytest.approx(0.2)
    carried = [v for v in r if v.verdict == "carried"]
    assert len(carried) > 9 and all(not v.degenerate and v.credit == 1 for v in carried)
    assert "equals the given number 0.2, but the likely mistake gives it too" in r.render("text")


def test_a_genuine_copy_still_earns_the_degenerate_share(seed):
    # z₁[0] written 0.1000: the given b₁[0] copied (x·W₁ left out); no listed mistake gives 0.1 (the
    # decimal point moved gives 0.2 or 0.02, the bias left out 1.9): a₁[0] = σ(0.1) = 0.5250, z₂ =
    # 0.5250 × 0.9 + 0.9168 × 0.1 + 0.3 = 0.86418 → 0.8642, carried from a copied number: no credit
    answers = by_hand(z1=[Decimal("0.1000"), Decimal("2.4000")])
    assert answers["a1"][0] == Decimal("0.5250") and answers["z2"] == Decimal("0.8642")
    r = judged(seed, answers)
    assert r["z1[0]"].verdict == "wrong" and r["z1[0]"].source.kind == "value"
    assert r["z1[0]"].source.value == pytest.approx(0.1)
    downstream = [v for v in r if v.verdict == "carried"]
    assert downstream and all(v.degenerate == ("z1[0]",) and v.credit == 0 for v in downstream)
    assert "0.1 is 0, ±1 or a given number, and no likely mistake gives it" in r.render("text")


def test_a_short_answer_equal_to_a_given_number_is_the_students_own_value(seed):
    # a₁[0] = 0.8808 written "0.9" (one decimal: imprecise) equals the given W₂[0] = 0.9, but it is the
    # student's own value at the digits written: z₂ = 0.9 × 0.9 + 0.9168 × 0.1 + 0.3 = 1.20168 → 1.2017,
    # carried with full credit
    r = judged(seed, {"a1": [Decimal("0.9"), Decimal("0.9168")], "z2": Decimal("1.2017")})
    assert r["a1[0]"].verdict == "imprecise" and r["a1[0]"].source is None
    assert r["z2"].verdict == "carried" and r["z2"].credit == 1
    # written "1" it is the student's value at no decimals too, but 1 is neutral: z₂ = 1 × 0.9 +
    # 0.9168 × 0.1 + 0.3 = 1.29168 → 1.2917 follows from a degenerate answer
    r = judged(seed, {"a1": [Decimal("1"), Decimal("0.9168")], "z2": Decimal("1.2917")})
    assert r["a1[0]"].source.kind == "value" and r["z2"].degenerate == ("a1[0]",) and r["z2"].credit == 0


# --- Mazur's example ---------------------------------------------------------------------------

def test_mazurs_output_deltas_chosen_to_vanish(tmp_path):
    # Mazur: out_h = [0.593269992, 0.596884378], w5…w8 = [[0.40, 0.50], [0.45, 0.55]], η = 0.5, nine decimals.
    # δ₂ written [0.000000001, 0.000000001] (it is [0.138498562, −0.038098236]): ∂E/∂w = out_h·δ₂ =
    # 0.00000000059… → 0.000000001 (δ₂ itself, a product by ≈ 1 at nine decimals), w5⁺ = 0.4 − 0.5 ×
    # 0.000000001 = 0.3999999995 → 0.400000000 (the given w5, and so on), ∂E/∂out_h = δ₂·(w5 + w7) →
    # 0.000000001: what follows is trivial, which from the right δ₂ it is not (w5⁺ = 0.358916480)
    from pathlib import Path

    subject = network_subject(load_problem(Path(SEED).parent / "mazur.toml"))
    nine = Decimal("0.000000001")
    out_h = [0.593269992, 0.596884378]
    w2 = [[0.40, 0.50], [0.45, 0.55]]
    dw2 = [[Decimal(f"{out_h[i] * float(nine):.9f}") for j in range(2)] for i in range(2)]
    assert dw2 == [[nine, nine], [nine, nine]]
    answers = {"delta2": [nine, nine], "dL/dW2": dw2,
               "W2_new": [[Decimal(f"{w2[i][j] - 0.5 * float(dw2[i][j]):.9f}") for j in range(2)] for i in range(2)],
               "dL/da1": [Decimal(f"{float(nine) * (w2[i][0] + w2[i][1]):.9f}") for i in range(2)]}
    assert answers["W2_new"][0][0] == Decimal("0.400000000") and answers["dL/da1"] == [nine, nine]
    r = judged(subject, answers)
    assert r["delta2[0]"].verdict == "wrong" and r["delta2[0]"].source is not None
    assert r["delta2[0]"].source.kind == "effect"
    carried = [v for v in r if v.verdict == "carried"]
    assert carried and all(v.degenerate and v.credit == 0 for v in carried)
