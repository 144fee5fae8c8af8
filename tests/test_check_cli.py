"""The check and quantities commands: exit codes, formats, languages, escaping, determinism, KaTeX."""

import json
import os
import subprocess
import sys

import pytest

from tests.golden import ROOT, SEED
from tests.tex_tools import katex_errors, markdown_math
from tracegrad.cli import main

PRINTED = ROOT / "examples" / "seed_printed.toml"


def answers(tmp_path, text, name="answers.toml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_exit_0_when_everything_is_correct_or_carried(tmp_path, capsys):
    # a₁[1] = 0.9084 wrong would make it 1; here z₂ = 1.1844 and the loss ½(0.7657 − 0.5)² = 0.0353 are right
    path = answers(tmp_path, "[answers]\nz2 = 1.1844\nloss = 0.0353\n")
    assert main(["check", str(SEED), str(path)]) == 0
    out = capsys.readouterr().out
    assert "z2 = 1.1844: correct" in out and "Summary: 2 correct, 0 carried, 0 imprecise, 0 wrong." in out


def test_exit_1_when_something_is_wrong(capsys):
    assert main(["check", str(SEED), str(PRINTED)]) == 1
    assert "5 wrong" in capsys.readouterr().out


def test_bad_input_exits_2(tmp_path, capsys):
    assert main(["check", str(SEED), str(answers(tmp_path, "[answers]\nz3 = 1\n"))]) == 2
    err = capsys.readouterr().err
    assert "answers.z3: unknown quantity 'z3'; valid names: z1 (2 numbers)" in err
    assert main(["check", str(tmp_path / "none.toml"), str(PRINTED)]) == 2
    assert main(["check", str(SEED)]) == 2  # ANSWERS missing, and a network problem holds no answers
    assert "give an ANSWERS file" in capsys.readouterr().err


def test_chinese_report(capsys):
    main(["check", str(SEED), str(PRINTED), "--lang", "zh"])
    out = capsys.readouterr().out
    assert "a1[1] = 0.9084：错误（正确值 0.9168）" in out
    assert "可能的错误：∂L/∂W₁ 被转置（布局混淆：行列互换）" in out
    assert "汇总：正确 24 个（其中末位差一 1 个），承前 13 个（其中末位差一 3 个），精度不足 1 个，错误 5 个（可能的错误 1 处）。" in out
    assert "loss = 0.035：精度不足（正确值 0.0353）" in out


def test_json_report(capsys):
    main(["check", str(SEED), str(PRINTED), "--format", "json"])
    data = json.loads(capsys.readouterr().out)
    assert [(c["verdict"], c["count"], c["last_digit"]) for c in data["counts"]] == \
        [("correct", 24, 1), ("carried", 13, 3), ("imprecise", 1, 0), ("wrong", 5, 0)]
    rows = {row["key"]: row for row in data["rows"]}
    assert rows["step_W1[0][1]"]["mistakes"][0]["key"] == "gradient_transposed"
    assert rows["a1[1]"]["step"]["text"] == "a₁[1] = σ(2.4) ≈ 0.9168"


def test_output_file_never_overwrites_an_input(tmp_path, capsys):
    copy = answers(tmp_path, PRINTED.read_text(encoding="utf-8"))
    assert main(["check", str(SEED), str(copy), "-o", str(copy)]) == 2
    assert "refusing to overwrite an input file" in capsys.readouterr().err
    out = tmp_path / "report.md"
    assert main(["check", str(SEED), str(copy), "--format", "markdown", "-o", str(out)]) == 1
    assert out.read_text(encoding="utf-8").startswith("# The source document")


def test_user_text_is_escaped(tmp_path):
    path = answers(tmp_path, 'title = "<b>$x$ | *hw*</b>"\n[answers]\nz2 = 1.1844\n')
    out = tmp_path / "r.md"
    main(["check", str(SEED), str(path), "--format", "markdown", "-o", str(out)])
    first = out.read_text(encoding="utf-8").splitlines()[0]
    assert first == r"# \<b\>\$x\$ \| \*hw\*\</b\>"


def test_same_input_gives_byte_identical_output_across_processes(tmp_path):
    outs = []
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        run = subprocess.run([sys.executable, "-m", "tracegrad", "check", str(SEED), str(PRINTED), "--format", "json"],
                             capture_output=True, env=env, cwd=ROOT)
        assert run.returncode == 1
        outs.append(run.stdout)
    assert outs[0] == outs[1]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_markdown_math_parses_in_katex_strict_mode(lang, capsys):
    main(["check", str(SEED), str(PRINTED), "--format", "markdown", "--lang", lang])
    main(["quantities", str(SEED), "--format", "markdown", "--lang", lang])
    formulas = markdown_math(capsys.readouterr().out)
    assert len(formulas) > 100
    assert katex_errors(formulas) == []


def test_quantities_lists_every_name_with_value_and_formula(capsys):
    assert main(["quantities", str(SEED)]) == 0
    out = capsys.readouterr().out
    names = [line.split("  (")[0] for line in out.splitlines() if "  (" in line and not line.startswith(" ")]
    assert names == ["z1", "a1", "z2", "a2", "y_hat", "loss", "dL/dy_hat", "da2/dz2", "delta2", "dL/dW2", "dL/db2",
                     "dL/da1", "da1/dz1", "delta1", "dL/dW1", "dL/db1", "dL/dx", "step_W1", "W1_new", "step_b1",
                     "b1_new", "step_W2", "W2_new", "step_b2", "b2_new"]
    assert "    a₁ = σ(z₁) ≈ [0.8808, 0.9168]" in out  # σ(2) = 0.880797, σ(2.4) = 0.916827
    assert "    z₁ = X·W₁ + b₁ = [2.0, 2.4]" in out  # exact values get =
    assert "dL/dW2  (2×1)" in out


def test_quantities_json_and_precision(capsys):
    assert main(["quantities", str(SEED), "--format", "json", "--sig-figs", "3"]) == 0
    data = json.loads(capsys.readouterr().out)
    entry = {e["name"]: e for e in data["entries"]}["delta1"]
    assert entry["shape"] == [2] and entry["value"]["text"] == "[0.00450, 0.000363]"  # δ₁ = [0.0045044, 0.00036350]


def test_an_expression_problem_file_with_its_own_answers(capsys):
    # f = (x + y)·z at x = −2, y = 5, z = −4: v₃ = 3, f = −12, ∂f/∂z = 3, ∂f/∂v₃ = z = −4,
    # ∂f/∂x = ∂f/∂y = −4 (by hand); the file's "df/dx" = 4 is a sign slip
    problem = SEED.parent / "expression_homework.toml"
    assert main(["check", str(problem)]) == 1
    out = capsys.readouterr().out
    for line in ("v3 = 3: correct", "f = -12: correct", "df/dv3 = -4: correct", "df/dx = 4: wrong",
                 "df/dy = -4: correct", "df/dz = 3: correct"):
        assert line in out
    assert "Summary: 5 correct, 0 carried, 0 imprecise, 1 wrong (1 likely mistake)." in out


def test_an_expression_problem_file_with_an_answers_file(tmp_path, capsys):
    problem = tmp_path / "p.toml"
    problem.write_text('expression = "x * x + y"\n[at]\nx = 3\ny = -1\n', encoding="utf-8")
    # f = x² + y = 8; ∂f/∂x = 2x = 6 (two edges of 3 each), ∂f/∂y = 1
    assert main(["check", str(problem), str(answers(tmp_path, '[answers]\nf = 8\n"df/dx" = 6\n"df/dy" = 1\n'))]) == 0
    assert "Summary: 3 correct, 0 carried, 0 imprecise, 0 wrong." in capsys.readouterr().out
    bad = tmp_path / "bad.toml"
    bad.write_text('expression = "x *"\n[at]\nx = 3\n', encoding="utf-8")
    assert main(["check", str(bad), str(answers(tmp_path, "[answers]\nf = 1\n"))]) == 2
    assert "bad.toml" in capsys.readouterr().err
