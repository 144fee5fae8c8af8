"""The teacher's grading policy: the tolerance is the teacher's, answers need the digits asked for,
leniencies do not stack, carried answers from degenerate ones earn nothing by default, every
report states the rule; and the diagnoses a student's own numbers allow. Seed example by hand
(tests/test_check_seed.py): a₁ = [0.880797, 0.916827], ŷ = 0.765738, L = 0.035308, ∂L/∂ŷ = 0.265738,
δ₂ = 0.047669, ∂L/∂W₂ = [0.041987, 0.043704], δ₁ = [0.0045044, 0.00036350], ∂L/∂W₁[1][1] = 0.00072700."""

import json
from decimal import Decimal

import pytest

from tests.golden import SEED
from tracegrad.checker import load_subject, parse_answers
from tracegrad.checker.policy import load_policy, parse_policy
from tracegrad.cli import main
from tracegrad.core.errors import InputError
from tracegrad.problem.solve import solve
from tracegrad.problem.schema import load_problem
from tracegrad.workflows.check import check


@pytest.fixture(scope="module")
def seed():
    return load_subject(SEED)


def judged(seed, answers, grading=None):
    policy = parse_policy(grading, "policy.toml") if grading is not None else None
    return check(seed, parse_answers({"answers": {k: _dec(v) for k, v in answers.items()}}), policy)


def _dec(v):
    return [_dec(x) for x in v] if isinstance(v, list) else Decimal(v)


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def every_answer(value: str) -> str:
    worked = solve(load_problem(SEED))

    def shaped(v):
        return "[" + ", ".join(shaped(x) for x in v) + "]" if isinstance(v, tuple) else value

    return "\n".join(f'"{name}" = {shaped(v)}' for name, v in worked.values().items() if worked[name].printed)


# --- the tolerance is the teacher's -----------------------------------------------------------

def test_a_students_tolerance_is_refused(tmp_path, capsys):
    # the exploit: every answer 12345 with [tolerance] absolute = 1e300 scored 44 correct
    answers = write(tmp_path, "a.toml", f"[answers]\n{every_answer('12345')}\n[tolerance]\nabsolute = 1e300\n")
    assert main(["check", str(SEED), str(answers)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"tracegrad: error: {answers}: tolerance: the tolerance is the teacher's: the grading policy "
                   f"({SEED}) sets it; remove the [tolerance] table"]


def test_a_policy_may_let_a_student_only_narrow(tmp_path, seed):
    policy = parse_policy({"student_tolerance": "narrow"}, "policy.toml")
    wide = parse_answers({"answers": {"a1": [Decimal("12345"), Decimal("0.9168")]}, "tolerance": {"absolute": 1e300}})
    r = check(seed, wide, policy)
    assert [v.verdict for v in r] == ["wrong", "correct"]  # 12345 is still wrong: the policy's rule holds too
    # six decimals asked by the student: 0.9168 is 0.916800 ≠ 0.916827, stricter than the policy's rule
    strict = parse_answers({"answers": {"a1": [Decimal("0.8808"), Decimal("0.9168")]}, "tolerance": {"decimals": 6}})
    assert [v.verdict for v in check(seed, strict, policy)] == ["wrong", "wrong"]


# --- digits and leniencies --------------------------------------------------------------------

def test_rounded_to_integers_or_zeros_earns_nothing(tmp_path, seed):
    # integers: only z₁[0] = 2 is right (2.0000 with zeros left out); zeros to four decimals: the carried ones
    # follow from degenerate answers (σ′ = 0·(1 − 0), δ = 0·0 …) and earn nothing by default
    ints = check(seed, write(tmp_path, "i.toml", "[answers]\n" + every_answer("1")))
    assert ints.score < 0.1 and ints.counts()["correct"] <= 3
    zeros = check(seed, write(tmp_path, "z.toml", "[answers]\n" + every_answer("0.0000")))
    carried = [v for v in zeros if v.verdict == "carried"]
    assert carried and all(v.degenerate and v.credit == 0 for v in carried) and zeros.score < 0.1
    text = zeros.render("text")
    assert "follows from a degenerate earlier answer (a1[0]: 0, ±1 or a given number copied)" in text
    credited = check(seed, zeros.answers, parse_policy({"credit": {"degenerate": 1}}, "p.toml"))
    assert credited.score > 0.5  # the policy can give the credit back


def test_too_few_digits_is_imprecise_and_no_leniencies_stack(seed):
    # L = 0.035308: 0.0353 correct; 0.04 right at two decimals but the seed asks for four: imprecise;
    # 0.05 is 0.0147 away, more than half a unit of 0.01 and one significant figure gets no last digit: wrong
    r = judged(seed, {"loss": "0.0353"}), judged(seed, {"loss": "0.04"}), judged(seed, {"loss": "0.05"})
    assert [x["loss"].verdict for x in r] == ["correct", "imprecise", "wrong"]
    assert r[1]["loss"].credit == 0 and r[1].exit_code == 1


def test_the_last_digit_rule(seed):
    # 0.9167 for 0.916827 (four significant figures): accepted under "auto" and "always", not "never";
    # 0.0049 for ∂L/∂a₁[1] = 0.0047669 → 0.0048 (two significant figures): accepted only under "always"
    for rule, verdicts in (("auto", ("correct", "wrong")), ("always", ("correct", "correct")),
                           ("never", ("wrong", "wrong"))):
        r = judged(seed, {"a1": ["0.8808", "0.9167"], "dL/da1": ["0.0429", "0.0049"]}, {"last_digit": rule})
        assert (r["a1[1]"].verdict, r["dL/da1[1]"].verdict) == verdicts, rule


def test_carry_rounded_values_count_only_if_the_policy_says_so(seed):
    # ∂L/∂W₁[1][1] = 0.000727 → 0.0007; with δ₁[1] first rounded to 0.0004, 2 × 0.0004 = 0.0008
    answers = {"dL/dW1": [["0.0045", "0.0004"], ["0.0090", "0.0008"]]}
    assert judged(seed, answers)["dL/dW1[1][1]"].by_carry
    assert judged(seed, answers, {"carry_rounding": False})["dL/dW1[1][1]"].verdict == "wrong"


def test_minimum_significant_figures_and_explicit_tolerances(seed):
    # δ₁[1] = 0.00036350: 0.0004 has one significant figure, 0.000364 three
    r = judged(seed, {"delta1": ["0.00450", "0.0004"]}, {"min_sig_figs": 3})
    assert (r["delta1[0]"].verdict, r["delta1[1]"].verdict) == ("correct", "imprecise")
    assert judged(seed, {"delta1": ["0.00450", "0.000364"]}, {"min_sig_figs": 3})["delta1[1]"].verdict == "correct"
    # decimals = 2: compared at two decimals, and two decimals are enough (the default minimum follows it)
    assert judged(seed, {"a1": ["0.88", "0.92"]}, {"decimals": 2}).counts()["correct"] == 2


def test_credit_for_carried_answers(seed):
    from tests.test_check_seed import PRINTED

    r = check(seed, PRINTED, parse_policy({"credit": {"carried": 0.5}}, "p.toml"))
    assert r.score == pytest.approx((24 + 13 * 0.5) / 43)  # 24 correct, 13 carried, 1 imprecise, 5 wrong


# --- the policy API (question banks take their tolerances from here) ----------------------------

def test_tolerance_for_a_value():
    default = parse_policy(None, "p", (4, None))
    assert str(default.answer_format.text(0.916827)) == "0.9168"
    assert default.tolerance_for(0.916827) == pytest.approx(0.00015)  # 4 significant figures: the last digit too
    assert default.tolerance_for(0.0047669) == pytest.approx(0.00005)  # 0.0048: two, half a unit
    assert parse_policy({"decimals": 2}, "p").tolerance_for(0.916827) == pytest.approx(0.005)
    assert parse_policy({"absolute": 0.01, "relative": 0.1}, "p").tolerance_for(2.0) == pytest.approx(0.2)
    assert parse_policy({"last_digit": "never"}, "p").tolerance_for(0.916827) == pytest.approx(0.00005)
    assert parse_policy({"sig_figs": 3}, "p").tolerance_for(0.0047669) == pytest.approx(0.000005)


@pytest.mark.parametrize("table, key", [
    ({"decimal": 3}, "grading.decimal"), ({"decimals": 2, "sig_figs": 3}, "grading"),
    ({"min_decimals": -1}, "grading.min_decimals"), ({"min_decimals": 2, "min_sig_figs": 2}, "grading"),
    ({"last_digit": "sometimes"}, "grading.last_digit"), ({"carry_rounding": "yes"}, "grading.carry_rounding"),
    ({"student_tolerance": "widen"}, "grading.student_tolerance"), ({"credit": {"carried": 2}}, "grading.credit.carried"),
    ({"credit": {"partial": 1}}, "grading.credit.partial"), ({"absolute": -1}, "grading.absolute"),
    ({"credit": 1}, "grading.credit")])
def test_a_bad_policy_names_the_file_and_key(table, key):
    with pytest.raises(InputError) as info:
        parse_policy(table, "course.toml")
    assert str(info.value).startswith(f"course.toml: {key}: ")


def test_policy_in_the_problem_file_and_from_a_policy_file(tmp_path, capsys):
    problem = write(tmp_path, "p.toml", SEED.read_text(encoding="utf-8") + "\n[grading]\nmin_decimals = 2\n")
    answers = write(tmp_path, "a.toml", '[answers]\na1 = [0.88, 0.92]\n')
    assert main(["check", str(problem), str(answers)]) == 0  # two decimals are enough for this teacher
    assert "An answer needs at least 2 decimals" in capsys.readouterr().out
    policy = write(tmp_path, "strict.toml", "[grading]\nmin_decimals = 5\n")
    assert main(["check", str(problem), str(answers), "--policy", str(policy)]) == 1  # the file replaces it
    assert "2 imprecise" in capsys.readouterr().out
    bad = write(tmp_path, "bad.toml", "[grading]\nlast_digit = 1\n")
    assert main(["check", str(problem), str(answers), "--policy", str(bad)]) == 2
    assert capsys.readouterr().err.strip() == \
        f"tracegrad: error: {bad}: grading.last_digit: expected one of auto, always, never, got 1"
    with pytest.raises(InputError, match="a policy file holds one"):
        load_policy(write(tmp_path, "other.toml", "[render]\ndecimals = 2\n"))
    assert main(["check", str(write(tmp_path, "bad_problem.toml", SEED.read_text(encoding="utf-8") +
                                    "\n[grading]\nmin_decimals = 99\n")), str(answers)]) == 2


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
@pytest.mark.parametrize("lang, phrase", [("en", "An answer needs at least 4 decimals"), ("zh", "答案至少需要 4位小数")])
def test_the_rule_is_printed_at_the_top_of_every_report(seed, fmt, lang, phrase):
    out = judged(seed, {"z1": ["2.0", "2.4"]}).render(fmt, lang=lang)
    if fmt == "json":
        data = json.loads(out)
        assert phrase in data["rule"] and data["policy"]["minimum"] == {"decimals": 4}
    else:
        head = out.split("z1[0]")[0] if fmt == "text" else out.split("|")[0]
        assert phrase in head


# --- diagnoses consistent with the student's own numbers -----------------------------------------

def test_a_flipped_update_is_only_what_the_students_numbers_allow(seed):
    # every number right but W₁ⁿᵉʷ = W₁ + η·∂L/∂W₁ (the case): the student's ∂L/∂ŷ = 0.2657 is right, so
    # "loss derivative with the wrong sign" is ruled out; only the update's sign explains all four
    worked = solve(load_problem(SEED))
    answers = {name: _rounded(worked.value(name)) for name in ("dL/dy_hat", "delta2", "delta1", "dL/dW1", "step_W1")}
    answers["W1_new"] = [["0.5005", "0.6000"], ["0.7009", "0.8001"]]  # 0.5 + 0.00045, 0.6 + 0.000036, …
    r = judged(seed, answers)
    for key in ("W1_new[0][0]", "W1_new[1][0]", "W1_new[1][1]"):
        assert [m.key for m in r[key].mistakes] == ["update_sign"], key
    assert r["W1_new[0][1]"].verdict == "correct"  # 0.6 + 0.0000364 still reads 0.6000


def _rounded(v):
    return [_rounded(x) for x in v] if isinstance(v, tuple) else f"{v:.4f}"


def test_ranked_by_what_else_it_explains(seed):
    # ∂L/∂W₂ right and η·∂L/∂W₂ written ten times too small, the steps of W₁ and b right: η applied twice
    # (η² = 0.01) gives the same two numbers, but also steps for W₁ and b that the student got right; the moved
    # decimal point does not (and with ∂L/∂W₂ written, it can only be in the step)
    answers = {"dL/dW2": ["0.0420", "0.0437"], "step_W2": ["0.00042", "0.00044"],
               "step_W1": [["0.0005", "0.0000"], ["0.0009", "0.0001"]], "step_b2": "0.0048"}
    r = judged(seed, answers)
    v = r["step_W2[0]"]
    keys = [m.key for m in v.mistakes]
    assert keys[0] == "decimal_moved" and dict(v.mistakes[0].args)["factor"] == "0.1" and v.equivalent == 1
    assert "lr_twice" in keys[1:]
    text = r.render("text")
    assert "likely mistake: decimal point moved in η·∂L/∂W₂ (×0.1)" in text
    assert "also consistent: learning rate applied twice (η² instead of η)" in text
    # written everywhere, η applied twice explains them all and comes first
    everywhere = judged(seed, {"dL/dW2": ["0.0420", "0.0437"], "step_W2": ["0.00042", "0.00044"],
                               "step_b2": "0.00048"})
    assert everywhere["step_W2[0]"].mistakes[0].key == "lr_twice"


def test_mistakes_that_give_the_same_numbers_are_one_likely_mistake():
    # half_se over two outputs: "½ applied twice" and "averaged over the outputs" both halve ∂L/∂ŷ
    from tests.test_check_mistakes import BATCH, batch_problem, reference, verdicts

    ref = reference(act1="tanh", **{k: BATCH[k] for k in ("x", "y", "w1", "b1", "w2", "b2")})
    r = verdicts(batch_problem("half_se"), {"dL/db2": ref["db2"] / 2})
    v = r["dL/db2[0]"]
    assert v.equivalent >= 2 and {"loss_grad_halved", "outputs_averaged"} <= {m.key for m in v.mistakes[:v.equivalent]}


def test_an_expression_problem_takes_a_policy_too(tmp_path, capsys):
    # f = (x + y)·z at x = −2, y = 5, z = −4: ∂f/∂x = z = −4; written 4, the sign slipped
    problem = write(tmp_path, "e.toml", 'expression = "(x + y) * z"\n[at]\nx = -2\ny = 5\nz = -4\n'
                                        '[grading]\nlast_digit = "never"\n[answers]\nv3 = 3\nf = -12\n"df/dx" = 4\n')
    assert main(["check", str(problem)]) == 1
    out = capsys.readouterr().out
    assert "One unit off in the last digit is not accepted." in out
    assert "likely mistake: sign slip in ∂f/∂v₃ or sign slip in ∂f/∂x (your numbers cannot tell these apart)" in out
