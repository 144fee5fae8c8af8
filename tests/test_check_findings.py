"""One likely mistake per wrong element, each mistake counted once: the explanations the student's
numbers cannot tell apart said in one sentence, the others under "also consistent"; a sign slip
in a vector is one mistake with its elements listed. Numbers by hand in the comments."""

import json
from decimal import Decimal

import pytest

from tests.golden import SEED
from tracegrad.checker import network_subject, parse_answers
from tracegrad.problem.schema import load_problem
from tracegrad.workflows.check import check, check_class


@pytest.fixture(scope="module")
def seed():
    return network_subject(load_problem(SEED))


def judged(subject, answers: dict):
    return check(subject, parse_answers({"answers": {k: ([Decimal(x) for x in v] if isinstance(v, list) else
                                                          Decimal(v)) for k, v in answers.items()}}))


# ∂L/∂a₁ = δ₂·W₂ᵀ = 0.047669 × [0.9, 0.1] = [0.0429, 0.0048]: the whole vector with its sign slipped
SIGN_SLIP = {"delta2": "0.0477", "dL/da1": ["-0.0429", "-0.0048"]}


def test_a_sign_slip_in_a_vector_is_one_mistake_with_its_elements(seed):
    r = judged(seed, SIGN_SLIP)
    assert [v.verdict for v in r] == ["correct", "wrong", "wrong"]
    text = r.render("text")
    assert text.count("likely mistake: ") == 2  # the sentence once, then "the same as"
    assert "likely mistake: sign slip in ∂L/∂a₁ (in ∂L/∂a₁[0], ∂L/∂a₁[1])" in text
    assert "likely mistake: the same as ∂L/∂a₁[0]" in text
    assert "1. sign slip in ∂L/∂a₁: ∂L/∂a₁[0], ∂L/∂a₁[1]" in text
    assert "2 wrong (1 likely mistake)" in text
    data = json.loads(r.render("json"))
    assert [f["keys"] for f in data["findings"]] == [["dL/da1[0]", "dL/da1[1]"]]
    assert data["findings"][0]["text"] == "sign slip in ∂L/∂a₁"
    rows = {row["key"]: row for row in data["rows"]}
    assert rows["dL/da1[0]"]["finding"] == rows["dL/da1[1]"]["finding"] == 0 and rows["delta2"]["finding"] is None
    assert rows["dL/da1[1]"]["likely_mistake"] == "sign slip in ∂L/∂a₁"
    assert rows["dL/da1[0]"]["same_as"] is None and rows["dL/da1[1]"]["same_as"]["text"] == "∂L/∂a₁[0]"
    # the earlier list stays, for readers of the earlier shape
    assert rows["dL/da1[0]"]["mistakes"][0] == {"key": "sign_slip", "text": "sign slip in ∂L/∂a₁", "likely": True}


def test_explanations_the_numbers_cannot_tell_apart_are_one_sentence(seed):
    # δ₂ = −0.0477 with nothing written before it: the loss derivative's sign (y − ŷ), a sign slip in z₂
    # (σ(−z₂) = 1 − ŷ makes ŷ − y = −0.2657 and leaves σ′ = ŷ(1 − ŷ) alone), in σ′(z₂) or in δ₂ itself
    # all give −0.0477 and nothing else the student wrote: one likely mistake, said once
    r = judged(seed, {"delta2": "-0.0477"})
    v = r["delta2"]
    assert v.equivalent >= 2
    data = json.loads(r.render("json"))
    row = data["rows"][0]
    assert row["likely_mistake"].endswith("(your numbers cannot tell these apart)")
    assert "loss derivative with the wrong sign (y − ŷ instead of ŷ − y)" in row["likely_mistake"]
    assert " or sign slip in δ₂" in row["likely_mistake"]
    text = r.render("text")
    assert text.count("likely mistake: ") == 1
    zh = r.render("text", lang="zh")
    assert zh.count("可能的错误：") == 1 and "（从你的数字无法区分）" in zh


def test_the_others_are_listed_once_as_also_consistent(seed):
    # L = 0.0706 is the ½ dropped (0.070603); no other mistake of the list gives it here, and a moved
    # decimal point of ∂L/∂ŷ (×10: 2.657) is no explanation of it
    r = judged(seed, {"loss": "0.0706"})
    data = json.loads(r.render("json"))
    row = data["rows"][0]
    assert row["likely_mistake"] == "the factor ½ of L = ½(ŷ − y)² left out"
    assert row["likely_mistake"] not in row["also_consistent"]
    assert len(row["also_consistent"]) == len(set(row["also_consistent"]))


def test_markdown_lists_each_mistake_once(seed):
    md = judged(seed, SIGN_SLIP).render("markdown")
    assert md.count("**likely mistake**: ") == 2
    assert "1. sign slip in ∂L/∂a₁: $\\frac{\\partial L}{\\partial a_{1}}[0]$, $\\frac{\\partial L}{\\partial a_{1}}[1]$" in md


def test_the_class_summary_counts_a_students_mistake_once(seed):
    # two students with δ₂ right and the sign slip in both elements of ∂L/∂a₁: two mistakes, not four
    answers = [parse_answers({"answers": {"delta2": Decimal("0.0477"), "dL/da1": [Decimal("-0.0429"), Decimal("-0.0048")]}},
                             f"s{i}.toml") for i in range(2)]
    report = check_class(seed, answers)
    row = next(q for q in report.quantities() if q[0] == "dL/da1")
    assert row[1]["wrong"] == 4 and sum(row[2].values()) == 2
    assert "most common likely mistake: sign slip in ∂L/∂a₁ (×2)" in report.render("text")
