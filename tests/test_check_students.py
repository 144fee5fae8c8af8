"""The checker measured on simulated students (bench/students.py): problems drawn over the spec
tables, students who work them by hand in plain numpy (independent of the engine and of the
checker), rounding at 2–5 decimals, carrying their own numbers forward, with 0–2 slips from the
checker's list at random steps. A seeded sample here; the full matrix under ``-m slow`` and in
``bench/run --only class``."""

import random
from decimal import Decimal

import numpy as np
import pytest

from bench import students
from tests.golden import SEED
from tracegrad.checker import load_subject
from tracegrad.problem.schema import read_file


def test_the_hand_computation_covers_every_entry_of_the_spec_tables():
    assert students.covered() == set()


def test_the_hand_computation_is_the_documents_example():
    # the seed by hand (tests/test_check_seed.py): a₁ = [0.8808, 0.9168], ŷ = 0.7657, δ₂ = 0.0477, δ₁ = [0.0045,
    # 0.0004]; carried at four decimals ∂L/∂W₁[1][1] = 2 × 0.0004 = 0.0008, η·∂L/∂W₁[0][0] = 0.1 × 0.0045 = 0.00045
    # → 0.0005 (a tie, rounded up), W₁ⁿᵉʷ[0][0] = 0.5 − 0.0005 = 0.4995 (as the document prints)
    table = read_file(SEED)
    names = list(load_subject(SEED).quantities)
    s = students.Student(table, names, 4)
    assert s.answers["a1"] == [Decimal("0.8808"), Decimal("0.9168")]
    assert s.answers["y_hat"] == [Decimal("0.7657")] and s.answers["delta2"] == [Decimal("0.0477")]
    assert s.answers["delta1"] == [Decimal("0.0045"), Decimal("0.0004")]
    assert s.answers["dL/dW1"][1][1] == Decimal("0.0008")
    assert s.answers["step_W1"][0][0] == Decimal("0.0005") and s.answers["W1_new"][0][0] == Decimal("0.4995")
    assert s.tied
    exact = students.Student(table, names, 4, rounding=False).values
    assert np.isclose(exact["dL/dW1"][1][1], 0.00072700, atol=1e-8)


def test_a_slip_is_made_by_the_student_and_recorded():
    table = read_file(SEED)
    names = list(load_subject(SEED).quantities)
    slip = students.Slip("sign_slip", "delta2")
    s = students.Student(table, names, 4, [slip])
    assert s.answers["delta2"] == [Decimal("-0.0477")] and slip.quantities == {"delta2"}
    # carried on: ∂L/∂W₂ = δ₂·a₁ from the slipped δ₂ = −0.0477: [−0.0420, −0.0437]
    assert s.answers["dL/dW2"] == [[Decimal("-0.0420")], [Decimal("-0.0437")]]


def check(result):
    t = result["totals"]
    assert t.unslipped_wrong == [], t.unslipped_wrong[:5]
    assert t.slipped_missed == [], t.slipped_missed[:5]
    assert t.lenient == [], t.lenient[:5]
    assert t.slips and t.named >= 0.95 * t.slips, t.unnamed[:10]
    # an honest carried number never follows from a number taken for copied or chosen to make the
    # rest trivial; only from a 0 or ±1 that is one only at the student's digits
    assert not [d for d in t.degenerate if set(d[3]) - {"zero"}], [d for d in t.degenerate if set(d[3]) - {"zero"}][:5]
    return t


def test_a_seeded_sample_of_simulated_students():
    t = check(students.measure(80, seed=16))
    assert t.slips >= 40 and t.slipped >= 100  # the sample makes and shows enough slips to mean something


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(4))
def test_simulated_students_full(seed):
    t = check(students.measure(500, seed=100 + seed))
    assert len(t.by_key) >= len(students.SLIPS) - 2  # nearly every kind of slip was made


def test_draws_cover_the_problem_space():
    rng = random.Random(5)
    tables = [students.draw_problem(rng) for _ in range(300)]
    assert {t["loss"] for t in tables} == set(students.LOSSES)
    assert {t["optimizer"]["name"] for t in tables} == set(students.OPTIMIZERS)
    assert {t["layout"] for t in tables} == {"in_out", "out_in"}
    assert {layer["activation"] for t in tables for layer in t["layers"]} >= set(students.HIDDEN) | {"softmax"}
    assert any(isinstance(t["data"]["x"][0], list) for t in tables)
