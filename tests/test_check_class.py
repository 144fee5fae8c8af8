"""A class at once: ``tracegrad check PROBLEM ANSWERS… --summary grades.csv``. Three students on the
seed example, reasoned by hand: Ana writes every number right; Ben flips the sign of δ₂ (−0.0477) and
carries it on (∂L/∂W₂ = −0.0477·a₁ = [−0.0420, −0.0437]); he wrote neither ∂L/∂ŷ nor σ′(z₂), so the
loss derivative's sign and a sign slip in σ′(z₂) or in δ₂ give the same numbers: one likely mistake,
named by the loss derivative first; Cai rounds everything to two decimals (the seed asks for four:
imprecise, except z₁ = [2.0, 2.4], which has only zeros left out)."""

import csv
import io
import json

import pytest

from tests.golden import SEED
from tracegrad.cli import main
from tracegrad.workflows.check import check_class

ANA = '''title = "Ana"
[answers]
z1 = [2.0, 2.4]
a1 = [0.8808, 0.9168]
delta2 = 0.0477
"dL/dW2" = [0.0420, 0.0437]
'''
BEN = ANA.replace("Ana", "Ben").replace("delta2 = 0.0477", "delta2 = -0.0477").replace(
    '"dL/dW2" = [0.0420, 0.0437]', '"dL/dW2" = [-0.0420, -0.0437]')
CAI = '''title = "Cai"
[answers]
z1 = [2.0, 2.4]
a1 = [0.88, 0.92]
delta2 = 0.05
"dL/dW2" = [0.04, 0.04]
'''


@pytest.fixture
def files(tmp_path):
    out = []
    for name, text in (("ana", ANA), ("ben", BEN), ("cai", CAI)):
        path = tmp_path / f"{name}.toml"
        path.write_text(text, encoding="utf-8")
        out.append(path)
    return out


def test_per_student_counts_and_scores(files):
    report = check_class(SEED, files)
    ana, ben, cai = report.reports
    assert ana.counts() == {"correct": 7, "carried": 0, "imprecise": 0, "wrong": 0} and ana.score == 1
    assert ben.counts() == {"correct": 4, "carried": 2, "imprecise": 0, "wrong": 1} and ben.score == 6 / 7
    v = ben["delta2"]
    assert v.mistakes[0].key == "loss_grad_sign" and "sign_slip" in {m.key for m in v.mistakes[:v.equivalent]}
    assert cai.counts() == {"correct": 2, "carried": 0, "imprecise": 5, "wrong": 0} and cai.score == 2 / 7
    assert report.exit_code == 1  # Ben and Cai do not earn full credit


def test_per_quantity_shares_and_the_most_common_mistake(files):
    rows = {name: (counts, mistakes) for name, counts, mistakes in check_class(SEED, files).quantities()}
    counts, mistakes = rows["delta2"]  # Ana correct, Ben wrong (sign), Cai imprecise
    assert counts == {"correct": 1, "carried": 0, "imprecise": 1, "wrong": 1}
    assert [key for (key, args), n in mistakes.items()] == ["loss_grad_sign"]
    assert rows["dL/dW2"][0] == {"correct": 2, "carried": 2, "imprecise": 2, "wrong": 0}
    assert "loss" not in rows  # nobody answered it


def test_the_command_writes_the_grades_and_prints_the_summary(files, tmp_path, capsys):
    grades = tmp_path / "grades.csv"
    assert main(["check", str(SEED), *map(str, files), "--summary", str(grades)]) == 1
    out = capsys.readouterr().out
    assert f"{files[1]} (Ben): 4 correct, 2 carried, 0 imprecise, 1 wrong; score 85.7 %" in out
    assert "delta2 (3): correct 33 %, carried 0 %, imprecise 33 %, wrong 33 %" in out
    assert "most common likely mistake: loss derivative with the wrong sign (y − ŷ instead of ŷ − y) (×1)" in out
    assert "3 answers files graded; mean score 71.4 %." in out  # (1 + 6/7 + 2/7)/3
    rows = list(csv.DictReader(io.StringIO(grades.read_text(encoding="utf-8"))))
    assert [(r["file"], r["title"], r["correct"], r["wrong"], r["score"]) for r in rows] == [
        (str(files[0]), "Ana", "7", "0", "100.0"), (str(files[1]), "Ben", "4", "1", "85.7"),
        (str(files[2]), "Cai", "2", "0", "28.6")]


def test_json_and_markdown_summaries(files, capsys):
    assert main(["check", str(SEED), *map(str, files), "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert [s["title"] for s in data["students"]] == ["Ana", "Ben", "Cai"] and data["policy"]["minimum"]
    delta2 = next(q for q in data["quantities"] if q["name"] == "delta2")
    assert delta2["shares"]["wrong"] == "33 %" and delta2["mistake_key"] == "loss_grad_sign"
    assert main(["check", str(SEED), *map(str, files), "--format", "markdown", "--lang", "zh"]) == 1
    md = capsys.readouterr().out
    assert md.startswith("# 全班汇总") and "| $\\delta_{2}$ | 3 | 33 % | 0 % | 33 % | 33 % | 损失函数导数符号相反（写成 y − ŷ 而非 ŷ − y） (×1) |" in md


def test_a_refused_file_is_reported_and_the_others_graded(files, tmp_path, capsys):
    bad = tmp_path / "dan.toml"
    bad.write_text("[answers]\nz9 = 1\n", encoding="utf-8")
    tolerant = tmp_path / "eve.toml"
    tolerant.write_text("[answers]\nz1 = [2.0, 2.4]\n[tolerance]\nabsolute = 1e300\n", encoding="utf-8")
    grades = tmp_path / "grades.csv"
    assert main(["check", str(SEED), *map(str, files), str(bad), str(tolerant), "--summary", str(grades)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and err[0].startswith(f"tracegrad: error: {bad}: answers.z9: unknown quantity 'z9'")
    assert err[1].startswith(f"tracegrad: error: {tolerant}: tolerance: the tolerance is the teacher's")
    rows = list(csv.DictReader(io.StringIO(grades.read_text(encoding="utf-8"))))
    assert len(rows) == 5 and rows[3]["score"] == "" and "unknown quantity" in rows[3]["error"]


def test_a_title_cannot_become_a_spreadsheet_formula(tmp_path):
    path = tmp_path / "x.toml"
    path.write_text('title = "=HYPERLINK(\\"http://x\\")"\n[answers]\nz1 = [2.0, 2.4]\n', encoding="utf-8")
    rows = list(csv.reader(io.StringIO(check_class(SEED, [path]).csv())))
    assert rows[1][1] == "'=HYPERLINK(\"http://x\")"


def test_the_summary_is_deterministic(files):
    assert check_class(SEED, files).render("text") == check_class(SEED, list(files)).render("text")
    assert check_class(SEED, files).csv() == check_class(SEED, files).csv()


def test_summary_never_overwrites_an_input(files, capsys):
    assert main(["check", str(SEED), *map(str, files), "--summary", str(files[0])]) == 2
    assert "refusing to overwrite an input file" in capsys.readouterr().err
