"""The classroom layer: an assignment's settings, its boxes and the student's sheet, the feedback a
student is allowed, submissions with their rules, and what the teacher gets. Numbers are worked by
hand (tests/homework.py); the store is a real SQLite file (PostgreSQL: tests/test_classroom_store.py)."""

import csv
import hashlib
import io
import json
import math
import subprocess
import sys
from dataclasses import asdict
from datetime import datetime, timedelta, timezone

import pytest

from tests.conftest import ROOT
from tests.homework import CORRECT, KEYS, SLIP, THREE_MISTAKES, answers, work, written
from tracegrad.classroom.assignment import load_assignment
from tracegrad.classroom.errors import NotFound, Refused
from tracegrad.classroom.settings import parse_settings
from tracegrad.classroom.store import Store
from tracegrad.classroom.submissions import Classroom
from tracegrad.classroom.summary import class_report, grades_csv, summary
from tracegrad.core.errors import InputError

SEED = (ROOT / "examples" / "seed.toml").read_text(encoding="utf-8")
NOON = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)


def problem(tmp_path, table: str = "", name: str = "hw.toml", text: str = SEED):
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / name
    path.write_text(text + ("\n[assignment]\n" + table if table else ""), encoding="utf-8")
    return path


def classroom(tmp_path, table: str = "", **kw) -> Classroom:
    return Classroom([load_assignment(problem(tmp_path, table, **kw))], Store.open(data=str(tmp_path / "data")))


def digits_of_computed_values() -> set:
    """Every computed number of the seed written at 4 decimals (and 5 significant figures), the way a
    page or a reply would show it; given numbers (0.5, 2.0 …) are left out."""
    out = set()
    for key, x in CORRECT.items():
        if not key.startswith("z1"):  # z₁ = [2.0, 2.4]: sums of given numbers, short ones
            out |= {written(x), f"{x:.5g}", f"{x:.4f}"}
    return {d for d in out if len(d.lstrip("-").replace("0", "").replace(".", "")) >= 2}


# --- settings --------------------------------------------------------------------------------

def test_default_settings_and_every_key():
    s = parse_settings(None, "hw.toml", "hw")
    assert (s.id, s.asked, s.attempts, s.reveal, s.hints, s.score) == ("hw", None, None, "never", "mistake", "latest")
    s = parse_settings({"id": "week-3", "asked": ["z1", "loss"], "attempts": 5, "reveal": "after_attempts",
                        "reveal_attempts": 3, "hints": "step", "score": "best"}, "hw.toml", "hw")
    assert (s.id, s.asked, s.attempts, s.reveal_attempts, s.hints, s.score) == \
        ("week-3", ("z1", "loss"), 5, 3, "step", "best")
    s = parse_settings({"reveal": "after", "reveal_at": "2025-06-01T09:00:00+08:00"}, "hw.toml", "hw")
    assert s.reveal_at == datetime(2025, 6, 1, 1, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("table, message", [
    ({"atempts": 3}, "hw.toml: assignment.atempts: unknown key; expected one of id, asked, attempts"),
    ({"reveal": "later"}, "hw.toml: assignment.reveal: expected one of never, after_submit, after_attempts, after"),
    ({"reveal": "after"}, "hw.toml: assignment.reveal: reveal = \"after\" needs reveal_at"),
    ({"reveal": "after", "reveal_at": "next monday"}, "hw.toml: assignment.reveal_at: not a date and time"),
    ({"reveal_at": "2025-06-01T09:00"}, "hw.toml: assignment.reveal_at: only for reveal = \"after\""),
    ({"reveal": "after_attempts"}, "hw.toml: assignment.reveal: reveal = \"after_attempts\" needs reveal_attempts"),
    ({"reveal": "after_attempts", "reveal_attempts": 4, "attempts": 3},
     "hw.toml: assignment.reveal_attempts: 4 checks can never be made: attempts = 3"),
    ({"attempts": 0}, "hw.toml: assignment.attempts: expected a whole number from 1 to 1000, got 0"),
    ({"attempts": True}, "hw.toml: assignment.attempts: expected a whole number from 1 to 1000, got True"),
    ({"hints": "all"}, "hw.toml: assignment.hints: expected one of mistake, step, none"),
    ({"score": "mean"}, "hw.toml: assignment.score: expected one of latest, best"),
    ({"asked": "z1"}, "hw.toml: assignment.asked: expected a list of quantity names"),
    ({"asked": ["z1", "z1"]}, "hw.toml: assignment.asked: 'z1' is asked twice"),
    ({"id": "../etc"}, "hw.toml: assignment.id: expected letters, digits, _ and -"),
])
def test_bad_settings_are_one_message_naming_the_key(table, message):
    with pytest.raises(InputError) as info:
        parse_settings(table, "hw.toml", "hw")
    assert str(info.value).startswith(message) and "\n" not in str(info.value)


def test_an_unknown_asked_quantity_names_the_problem_and_the_key(tmp_path):
    with pytest.raises(InputError, match=r"hw.toml: assignment.asked: no quantity 'a3'; the problem has z1, a1"):
        load_assignment(problem(tmp_path, 'asked = ["z1", "a3"]'))


def test_the_problem_file_still_derives_with_its_assignment_table(tmp_path, capsys):
    from tracegrad.cli import main

    assert main(["derive", str(problem(tmp_path, "attempts = 3")), "--format", "text"]) == 0
    assert "0.7657" in capsys.readouterr().out


# --- the boxes and the sheet ---------------------------------------------------------------------

def test_every_number_of_the_layer_view_is_a_box_in_derivation_order(tmp_path):
    a = load_assignment(problem(tmp_path))
    assert tuple(e.key for e in a.elements) == KEYS
    labels = {e.key: e.label.text for e in a.elements}
    assert (labels["a1[1]"], labels["dL/dW2[0]"], labels["W2_new[1]"], labels["y_hat"]) == \
        ("a₁[1]", "∂L/∂W₂[0]", "W₂ⁿᵉʷ[1]", "ŷ")


def test_asked_quantities_in_derivation_order_whatever_the_order_written(tmp_path):
    a = load_assignment(problem(tmp_path, 'asked = ["W2_new", "loss", "dL/dW2", "a1", "a2"]'))
    # a₂ is ŷ: it is asked on ŷ's line, after a₁
    assert [e.key for e in a.elements] == ["a1[0]", "a1[1]", "a2", "loss", "dL/dW2[0]", "dL/dW2[1]", "W2_new[0]",
                                           "W2_new[1]"]


def test_the_sheet_states_the_problem_and_withholds_every_computed_number(tmp_path):
    a = load_assignment(problem(tmp_path, 'asked = ["z1", "a1", "loss", "dL/dW2", "W2_new"]'))
    sheet = a.sheet("", "en")
    given = json.dumps(asdict(sheet.problem), ensure_ascii=False)
    assert "0.9" in given and "0.7" in given and "½(ŷ − y)²" in given  # W₂, W₁, the loss
    withheld = json.dumps(asdict(sheet.derivation), ensure_ascii=False)
    leaked = [d for d in digits_of_computed_values() if d in withheld]
    assert leaked == []
    lines = [line.name for s in sheet.derivation.sections for b in s.blocks for line in b.lines]
    assert lines == ["z1", "a1", "loss", "dL/dW2", "W2_new"]  # z₂, ŷ … not asked: not on the sheet
    assert all(line.value.text == "" and line.expansion is None
               for s in sheet.derivation.sections for b in s.blocks for line in b.lines)
    formulas = [line.formula.text for s in sheet.derivation.sections for b in s.blocks for line in b.lines]
    assert formulas == ["X·W₁ + b₁", "σ(z₁)", "½(ŷ − y)²", "a₁ᵀ·δ₂", "W₂ − η·∂L/∂W₂"]
    assert [b.key for b in sheet.order] == ["z1[0]", "z1[1]", "a1[0]", "a1[1]", "loss", "dL/dW2[0]", "dL/dW2[1]",
                                            "W2_new[0]", "W2_new[1]"]


def test_a_quantity_no_line_prints_gets_a_line_of_its_own(tmp_path):
    a = load_assignment(problem(tmp_path, 'asked = ["loss", "dL/dx"]'))
    sheet = a.sheet("", "zh")
    last = sheet.derivation.sections[-1]
    assert last.heading == "其他量" and last.blocks[0].lines[0].symbol.text == "∂L/∂x"
    assert [b.key for b in sheet.order] == ["loss", "dL/dx[0]", "dL/dx[1]"]


# --- typed answers ------------------------------------------------------------------------------

@pytest.mark.parametrize("typed, value", [("0.9084", "0.9084"), (" 0.0430 ", "0.0430"), ("−0,5", "-0.5"),
                                          ("０．９０８４", "0.9084"), ("1e-3", "0.001"), ("", None)])
def test_typed_numbers_keep_their_digits(tmp_path, typed, value):
    a = load_assignment(problem(tmp_path))
    got = a.read_answers({"a1[1]": typed})
    assert (str(got["a1[1]"]) if "a1[1]" in got else None) == value


@pytest.mark.parametrize("raw, message", [
    ({"a1[2]": "0.5"}, "answers.a1[2]: not a box of this assignment"),
    ({"a1": "0.5"}, "answers.a1: not a box of this assignment"),
    ({"a1[1]": "zero"}, "answers.a1[1]: not a number"),
    ({"a1[1]": "1/2"}, "answers.a1[1]: not a number"),
    ({"a1[1]": True}, "answers.a1[1]: expected a number"),
    ({"a1[1]": [0.5]}, "answers.a1[1]: expected a number"),
    ({"a1[1]": "1e999"}, "answers.a1[1]: not a number a derivation writes"),
    (["a1[1]", 0.5], "answers: expected an object of answers"),
])
def test_a_box_that_is_not_a_number_is_named(tmp_path, raw, message):
    a = load_assignment(problem(tmp_path))
    with pytest.raises(InputError) as info:
        a.read_answers(raw)
    assert str(info.value).startswith(message)


# --- feedback and the rules -------------------------------------------------------------------

def boxes(verdicts) -> dict:
    return {b["key"]: b for b in verdicts.to_json()["boxes"]}


def test_three_mistakes_each_judged_in_place(tmp_path):
    room = classroom(tmp_path)
    v = room.submit("hw", "Li Wei", THREE_MISTAKES, browser="b1", when=NOON)
    got = boxes(v)
    # the arithmetic slip: σ(2.4) = 0.9168 by hand, the student wrote 0.9084; no usual mistake gives it
    assert got["a1[1]"]["verdict"] == "wrong" and got["a1[1]"]["mistakes"] == []
    assert "work this step again" in got["a1[1]"]["notes"][0]
    # carried: 0.8808·0.9 + 0.9084·0.1 + 0.3 = 1.18356 → 1.1836 (the correct z₂ is 1.1844)
    assert THREE_MISTAKES["z2"] == "1.1836" and written(CORRECT["z2"]) == "1.1844"
    assert got["z2"]["verdict"] == "carried"
    assert got["z2"]["notes"] == ["follows from your a₁[1] = 0.9084: error carried forward"]
    # the sign error: ∂L/∂ŷ = y − ŷ = 0.5 − 0.7656
    assert THREE_MISTAKES["dL/dy_hat"] == "-0.2656"
    assert got["dL/dy_hat"]["verdict"] == "wrong"
    assert got["dL/dy_hat"]["mistakes"] == ["loss derivative with the wrong sign (y − ŷ instead of ŷ − y)"]
    assert got["delta2"]["verdict"] == "carried" and "∂L/∂ŷ = -0.2656" in got["delta2"]["notes"][0]
    assert got["dL/db2"]["notes"] == ["follows from your δ₂ = -0.0477: error carried forward"]
    # everything else follows from the student's own numbers: nothing else is wrong
    assert {k for k, b in got.items() if b["verdict"] == "wrong"} == {"a1[1]", "dL/dy_hat"}
    assert v.feedback.given == len(KEYS) - 2 and v.feedback.maximum == len(KEYS) == 34
    assert v.feedback.first == "a1[1]" and v.attempt == 1 and v.attempts_left is None


def test_no_reply_before_the_reveal_carries_a_correct_value(tmp_path):
    room = classroom(tmp_path, 'hints = "step"')
    v = room.submit("hw", "Li Wei", {"a1[1]": str(SLIP), "dL/dy_hat": "-0.2656", "z2": "1.1836"}, when=NOON)
    text = json.dumps(v.to_json(), ensure_ascii=False)
    assert [d for d in digits_of_computed_values() if d in text] == []
    assert "correct" not in boxes(v)["a1[1]"] and "worked" not in boxes(v)["a1[1]"]
    # the step's formula, without numbers
    assert boxes(v)["a1[1]"]["formula"] == {"latex": r"a_{1} = \sigma\left(z_{1}\right)", "text": "a₁ = σ(z₁)"}


def test_hints_none_says_only_the_verdict(tmp_path):
    room = classroom(tmp_path, 'hints = "none"')
    got = boxes(room.submit("hw", "Li Wei", THREE_MISTAKES, when=NOON))
    assert got["dL/dy_hat"]["verdict"] == "wrong" and got["dL/dy_hat"]["mistakes"] == []
    assert "formula" not in got["dL/dy_hat"]


def test_reveal_after_submit_shows_the_correct_values(tmp_path):
    room = classroom(tmp_path, 'reveal = "after_submit"')
    got = boxes(room.submit("hw", "Li Wei", {"a1[1]": str(SLIP)}, when=NOON))
    assert got["a1[1]"]["correct"] == written(CORRECT["a1[1]"]) == "0.9168"
    assert got["a1[1]"]["worked"]["text"] == "a₁[1] = σ(2.4) ≈ 0.9168"
    assert got["loss"]["correct"] == written(CORRECT["loss"]) and got["loss"]["verdict"] == "unanswered"


def test_reveal_after_attempts(tmp_path):
    room = classroom(tmp_path, 'reveal = "after_attempts"\nreveal_attempts = 2')
    first = room.submit("hw", "Li Wei", {"a1[1]": str(SLIP)}, when=NOON)
    assert not first.feedback.revealed and "correct" not in boxes(first)["a1[1]"]
    other = room.submit("hw", "Bo", {"a1[1]": str(SLIP)}, when=NOON)
    assert not other.feedback.revealed  # counted per student
    second = room.submit("hw", "li wei", {"a1[1]": "0.9168"}, when=NOON)
    assert second.feedback.revealed and boxes(second)["loss"]["correct"] == "0.0353"


def test_reveal_after_a_date(tmp_path):
    room = classroom(tmp_path, 'reveal = "after"\nreveal_at = "2025-06-01T14:00:00+02:00"')  # 12:00 UTC
    before = room.submit("hw", "Li Wei", {"a1[1]": str(SLIP)}, when=NOON - timedelta(seconds=1))
    after = room.submit("hw", "Li Wei", {"a1[1]": str(SLIP)}, when=NOON)
    assert (before.feedback.revealed, after.feedback.revealed) == (False, True)
    assert room.revealed("hw", when=NOON) and not room.revealed("hw", when=NOON - timedelta(hours=1))
    assert room.solution("hw", "Bo").sections  # the server's clock is past the date: for everyone


def test_the_solution_is_refused_before_the_reveal_and_given_after(tmp_path):
    room = classroom(tmp_path, 'reveal = "after_submit"')
    with pytest.raises(Refused, match="not shown yet"):
        room.solution("hw", "Li Wei")
    room.submit("hw", "Li Wei", {"a1[1]": str(SLIP)})
    derivation = room.solution("hw", "Li Wei", "en")
    lines = {line.name: line for s in derivation.sections for b in s.blocks for line in b.lines}
    assert lines["a1"].value.text == "[0.8808, 0.9168]"
    with pytest.raises(Refused):
        room.solution("hw", "Bo")  # Bo has not checked


def test_attempts_are_limited_and_the_refused_one_is_not_stored(tmp_path):
    room = classroom(tmp_path, "attempts = 2")
    assert room.submit("hw", "Li Wei", {"a1[1]": str(SLIP)}).attempts_left == 1
    assert room.submit("hw", "Li Wei", {"a1[1]": "0.9168"}).attempts_left == 0
    with pytest.raises(Refused, match="all 2 checks of this assignment are used"):
        room.submit("hw", "Li Wei", {"a1[1]": "0.9168"})
    assert room.store.count("hw") == 2
    assert room.submit("hw", "Bo", {"a1[1]": "0.9168"}).attempt == 1


def test_the_score_that_counts_is_the_latest_or_the_best(tmp_path):
    for rule, expected in (("latest", 1.0), ("best", 2.0)):
        room = classroom(tmp_path / rule, f'score = "{rule}"')
        room.submit("hw", "Li Wei", {"a1[1]": "0.9168", "z2": "1.1844"})  # 2 points
        v = room.submit("hw", "Li Wei", {"a1[1]": "0.9168", "z2": "9.9"})  # 1 point
        assert (v.feedback.given, v.counted, v.rule) == (1.0, expected, rule)


def test_empty_checks_and_unknown_assignments_are_refused(tmp_path):
    room = classroom(tmp_path)
    with pytest.raises(InputError, match="fill in at least one box"):
        room.submit("hw", "Li Wei", {"a1[1]": "  "})
    with pytest.raises(NotFound):
        room.submit("hw2", "Li Wei", {"a1[1]": "0.9"})
    with pytest.raises(InputError, match="student: type your name or student ID"):
        room.submit("hw", "   ", {"a1[1]": "0.9"})
    assert room.store.count() == 0


def test_resume_opens_only_what_this_browser_saved_or_checked(tmp_path):
    room = classroom(tmp_path)
    room.submit("hw", "Li Wei", {"a1[1]": str(SLIP)}, browser="laptop")
    room.save("hw", "Li Wei", {"a1[1]": str(SLIP), "z2": "1.1836"}, browser="laptop")
    mine = room.resume("hw", "li wei", browser="laptop")
    assert mine["answers"] == {"a1[1]": "0.9084", "z2": "1.1836"} and mine["checks"] == 1
    assert mine["check"]["boxes"][3]["verdict"] == "wrong"
    theirs = room.resume("hw", "Li Wei", browser="someone-else")
    assert theirs["answers"] == {} and theirs["check"] is None


# --- identities and variants --------------------------------------------------------------------

def test_a_typed_name_is_one_student_however_it_is_spaced_or_cased(tmp_path):
    a = load_assignment(problem(tmp_path))
    assert a.identify("  Li   Wei ").id == a.identify("li wei").id == "li wei"
    assert a.identify("  Li   Wei ").name == "Li Wei"
    for bad in ("", "   ", "x" * 101, "Li\x00Wei", 42):
        with pytest.raises(InputError, match="student"):
            a.identify(bad)


VARIANTS = (ROOT / "examples" / "seed_variants.toml").read_text(encoding="utf-8")


def variant_by_hand(student: str, count: int, seed: str) -> int:
    digest = hashlib.sha256(f"{seed}\n{student}".encode()).digest()
    return 1 + int.from_bytes(digest[:8], "big") % count


def test_each_student_works_their_own_variant_the_same_every_time(tmp_path):
    path = problem(tmp_path, "variants = 12\nseed = 5", name="hw3.toml", text=VARIANTS)
    a = load_assignment(path)
    for name in ("ana", "Bo", "李伟"):
        number = variant_by_hand(name.casefold(), 12, "hw3")
        assert a.identify(name).variant == f"hw3-{number:03d}"
        assert load_assignment(path).identify(name).variant == a.identify(name).variant
    # the variant is the one `tracegrad variants --count 12 --seed 5` writes
    out = tmp_path / "variants"
    subprocess.run([sys.executable, "-m", "tracegrad", "variants", str(path), "--count", "12", "--seed", "5", "-o",
                    str(out)], check=True, capture_output=True)
    ana = a.identify("ana").variant
    from tracegrad.problem.schema import read_file

    written_file = read_file(out / f"{ana}.toml")
    mine = a.subject(ana).trace.nodes
    weights = sorted(r.data for r in mine if r.role is not None and r.role.quantity == "W" and r.is_leaf)
    assert weights == sorted(x for layer in written_file["layers"] for row in layer["weights"] for x in
                             (row if isinstance(row, list) else [row]))


def test_a_roster_admits_its_students_by_code(tmp_path):
    (tmp_path / "class.csv").write_text("id,name\ns001,Li Wei\ns002,Ana Souza\n", encoding="utf-8")
    a = load_assignment(problem(tmp_path, 'roster = "class.csv"'))
    assert a.identify(" S001 ").name == "Li Wei" and a.identify("s001").id == "s001"
    with pytest.raises(InputError, match="not on this assignment's roster"):
        a.identify("Li Wei")


def test_a_roster_outside_the_problem_folder_is_refused(tmp_path):
    (tmp_path / "class.csv").write_text("id\ns1\n", encoding="utf-8")
    (tmp_path / "hw").mkdir()
    with pytest.raises(InputError, match="assignment.roster: '../class.csv' lies outside the folder"):
        load_assignment(problem(tmp_path / "hw", 'roster = "../class.csv"'))


def test_a_variants_directory_with_its_roster(tmp_path):
    path = problem(tmp_path, 'attempts = 3', name="hw4.toml", text=VARIANTS)
    (tmp_path / "class.csv").write_text("id,name\ns001,Li Wei\ns002,Ana Souza\n", encoding="utf-8")
    out = tmp_path / "hw4"
    subprocess.run([sys.executable, "-m", "tracegrad", "variants", str(path), "--count", "5", "--seed", "1", "-o",
                    str(out), "--roster", str(tmp_path / "class.csv")], check=True, capture_output=True)
    a = load_assignment(out)
    assert a.id == "hw4" and a.settings.attempts == 3
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO((out / "assignment.csv").read_text()))}
    assert a.identify("s002").variant == rows["s002"]["variant"] and a.identify("s002").name == "Ana Souza"
    with pytest.raises(InputError, match="roster"):
        a.identify("s003")


# --- the teacher's ----------------------------------------------------------------------------------

def test_the_grades_csv_has_the_latest_and_the_best_score_as_fractions(tmp_path):
    room = classroom(tmp_path)
    right = answers(work())
    room.submit("hw", "Li Wei", THREE_MISTAKES)  # 32 of 34
    room.submit("hw", "Li Wei", {**right, "a1[1]": str(SLIP), "z2": "1.1836"})  # a₁[1] wrong, z₂ carried: 33
    room.submit("hw", "=cmd|calc", right)  # 34 of 34
    rows = list(csv.reader(io.StringIO(grades_csv(room, "hw"))))
    assert rows[0] == ["student", "variant", "attempts", "latest", "best"]
    assert rows[1:] == [["'=cmd|calc", "", "1", "1.0000", "1.0000"],
                        ["Li Wei", "", "2", f"{33 / 34:.4f}", f"{33 / 34:.4f}"]]
    assert room.store.standings("hw")[1].browsers == 1


def test_the_class_summary_is_what_check_summary_gives_for_the_same_answers(tmp_path):
    room = classroom(tmp_path)
    right = answers(work())
    students = {"Ana": THREE_MISTAKES, "Bo": {**right, "dL/dy_hat": "-0.2657", "delta2": "-0.0477"},
                "Cy": right}
    for name, typed in students.items():
        room.submit("hw", name, {"a1[1]": "0.5"})  # an earlier check: only the latest counts
        room.submit("hw", name, typed)
    view = summary(room, "hw", "en")
    rows = {q.name: q for q in view.quantities}
    # ∂L/∂ŷ: wrong for Ana and Bo (the sign), right for Cy: 2 of 3, the sign error twice
    assert rows["dL/dy_hat"].counts["wrong"] == 2 and rows["dL/dy_hat"].shares["wrong"] == "67 %"
    assert rows["dL/dy_hat"].mistake_count == 2 and "wrong sign" in rows["dL/dy_hat"].mistake
    files = []
    for name, typed in students.items():
        path = tmp_path / f"{name}.toml"
        path.write_text(f'title = "{name}"\n[answers]\n' + "".join(f'"{k}" = {v}\n' for k, v in typed.items()))
        files.append(str(path))
    command = subprocess.run([sys.executable, "-m", "tracegrad", "check", str(problem(tmp_path)), *files,
                              "--format", "json"], capture_output=True, text=True)
    cli = json.loads(command.stdout)
    assert [asdict(q) for q in view.quantities] == cli["quantities"]
    assert [s.score for s in view.students] == [s["score"] for s in cli["students"]]
    assert math.isclose(class_report(room, "hw").reports[0].score, 32 / 34)


def test_the_readmes_assignment_table_is_valid_and_names_every_key():
    import re
    import tomllib

    from tracegrad.classroom.settings import KEYS as SETTING_KEYS

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```toml\n(\[assignment\].*?)```", text, re.S).group(1)
    settings = parse_settings(tomllib.loads(block)["assignment"], "README.md", "hw")
    assert (settings.id, settings.attempts, settings.reveal, settings.reveal_attempts, settings.score) == \
        ("hw3", 5, "after_attempts", 3, "best")
    assert [k for k in SETTING_KEYS if not re.search(rf"\b{k} =", block)] == []
