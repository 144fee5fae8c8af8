"""``tracegrad verify``: exit codes, formats, languages, escaping, byte-identical output."""

import dataclasses
import json
import math
import os
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from tests.tex_tools import katex_errors, markdown_math
from tracegrad.cli import main
from tracegrad.core.ops import OPS
from tracegrad.render.verify_report import render_verification

SEED = str(ROOT / "examples" / "seed.toml")


def cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "tracegrad", "verify", *args], cwd=ROOT, capture_output=True,
                          text=True, env=env, check=False)


def sig(v):
    return 1 / (1 + math.exp(-v))


def test_seed_verifies_and_json_carries_every_value():
    run = cli(SEED, "--format", "json")
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["ok"] is True
    assert [r["op"] for r in data["rules"]] == ["dot", "add", "sigmoid", "half_sq_err"]
    items = {i["name"]: i for i in data["items"]}
    y_hat = sig(sig(2.0) * 0.9 + sig(2.4) * 0.1 + 0.3)  # by hand
    assert math.isclose(items["delta2[0]"]["symbolic"], (y_hat - 0.5) * y_hat * (1 - y_hat), rel_tol=1e-12)
    # ∂L/∂W₂[1][0] = a₁[1]·(ŷ − y)·σ′(z₂), σ′(z) = e^(−z)/(1 + e^(−z))², in the derivation's symbols
    assert items["dL/dW2[1][0]"]["formula_text"] == "a₁[1]·(ŷ[0] − y[0])·exp(−z₂[0])/(1 + exp(−z₂[0]))²"
    assert all(i["agree"] for i in data["items"])


def test_exit_status_one_names_the_broken_rule(monkeypatch, capsys):
    spec = OPS["sigmoid"]
    monkeypatch.setitem(OPS, "sigmoid", dataclasses.replace(spec, partials=lambda x, o, p: (o * o,)))
    assert main(["verify", SEED]) == 1
    out = capsys.readouterr().out
    assert "✗ sigmoid" in out and "disagree" in out


@pytest.mark.parametrize("args,message", [
    (["missing.toml"], "missing.toml: cannot be read: it is missing, not a regular file, or not readable"),
    ([], "give a problem file or --expr"),
    ([SEED, "--expr", "x"], "give a problem file or --expr"),
    (["--expr", "x * y", "--at", "x=1"], "y"),
    (["--expr", "__import__('os')", "--at"], "--expr"),
    ([SEED, "--intermediates"], "--intermediates goes with --expr"),
])
def test_bad_input_exits_2_with_one_message(args, message):
    run = cli(*args)
    assert run.returncode == 2
    assert message in run.stderr and "Traceback" not in run.stderr


def test_bad_problem_file_names_the_key(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text((ROOT / "examples" / "seed.toml").read_text(encoding="utf-8").replace('"sigmoid"', '"sigmod"', 1),
                   encoding="utf-8")
    run = cli(str(bad))
    assert run.returncode == 2 and "layers[0].activation" in run.stderr


def test_expressions_verify_with_intermediates():
    run = cli("--expr", "tanh(w*x + b) * x", "--at", "w=0.5", "x=2", "b=-0.25", "--intermediates",
              "--format", "json")
    assert run.returncode == 0, run.stderr
    items = {i["name"]: i["symbolic"] for i in json.loads(run.stdout)["items"]}
    t = math.tanh(0.5 * 2 - 0.25)
    assert math.isclose(items["w"], (1 - t * t) * 2 * 2, rel_tol=1e-12)  # by hand
    assert math.isclose(items["x"], t + 2 * (1 - t * t) * 0.5, rel_tol=1e-12)


def test_markdown_in_both_languages_parses_in_katex_strict_mode():
    en = cli(SEED, "--format", "markdown").stdout
    zh = cli(SEED, "--format", "markdown", "--lang", "zh").stdout
    assert "# Symbolic confirmation" in en and "# 符号验证" in zh and "全部 18 个导数" in zh
    formulas = markdown_math(en) + markdown_math(zh)
    assert len(formulas) > 50
    assert katex_errors(formulas) == []


def test_hostile_labels_are_escaped_everywhere():
    from tracegrad import Value
    from tracegrad.symbolic import verify

    x = Value(0.5, label="x|$`*<b>}")
    report = verify((x * x).abs())
    md = render_verification(report, "markdown")
    assert "x|$" not in md and r"x\|\$" in md  # the name column
    assert r"\text{x\textbar{}\$`*<b>\}}" in md  # inside math: LaTeX-escaped, and no bare | in a table row
    assert katex_errors(markdown_math(md)) == []
    data = json.loads(render_verification(report, "json"))
    assert data["items"][0]["name"] == "x|$`*<b>}"


def test_output_is_byte_identical_across_runs_and_hash_seeds(tmp_path):
    outputs = []
    for seed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=seed)
        out = tmp_path / f"v{seed}.md"
        run = cli(SEED, "--format", "markdown", "-o", str(out), env=env)
        assert run.returncode == 0 and run.stdout == ""
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1]


def test_output_never_overwrites_the_problem(tmp_path):
    problem = tmp_path / "p.toml"
    problem.write_bytes((ROOT / "examples" / "seed.toml").read_bytes())
    run = cli(str(problem), "-o", str(problem))
    assert run.returncode == 2 and "refusing to overwrite" in run.stderr
    assert problem.read_bytes() == (ROOT / "examples" / "seed.toml").read_bytes()
