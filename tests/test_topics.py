"""The example problem of each of the document's topics (examples/*.toml): derived and verified
from the command line, every quantity against the independent numpy reference, published
numbers where there are some; answers files and variants naming quantities of later steps."""

from __future__ import annotations

import json
import math
import re
import tomllib

import numpy as np
import pytest

from tests.golden import ROOT
from tests.numpy_reference import work
from tests.golden import HERE as GOLDEN, TOPICS as GOLDEN_TOPICS
from tests.test_reference import _lines, assert_agrees, assert_display_agrees, displayed
from tests.tex_tools import compile_latex
from tracegrad.cli import main
from tracegrad.problem.schema import load_problem
from tracegrad.problem.solve import solve
from tracegrad.symbolic.quantities import verify_worked

EXAMPLES = ROOT / "examples"
TOPICS = ("adam", "momentum", "regularization", "dropout", "batchnorm", "minibatch", "clipping", "scaling", "deep",
          "frozen", "inference")


@pytest.mark.parametrize("name", TOPICS)
def test_each_topic_example_agrees_with_the_independent_reference(name):
    path = EXAMPLES / f"{name}.toml"
    assert_agrees(solve(load_problem(path)), work(path.read_text(encoding="utf-8")))


@pytest.mark.parametrize("name", TOPICS)
def test_each_topic_example_derives_and_verifies_from_the_command_line(name, capsys):
    path = str(EXAMPLES / f"{name}.toml")
    assert main(["derive", path, "--format", "text"]) == 0
    assert main(["verify", path]) == 0, capsys.readouterr().out[-2000:]


@pytest.mark.parametrize("name", GOLDEN_TOPICS)
def test_golden_derivations_print_the_independent_references_numbers(name):
    path = EXAMPLES / f"{name}.toml"
    model = json.loads(_run(["derive", str(path), "--format", "json"]))
    assert assert_display_agrees(model, work(path.read_text(encoding="utf-8"))) >= 50
    golden = (GOLDEN / f"{name}.en.txt").read_text(encoding="utf-8")
    for line in _lines(model):  # the golden file prints those very numbers
        assert line["value"]["text"] in golden, line["name"]


@pytest.mark.parametrize("name", GOLDEN_TOPICS)
def test_golden_latex_derivations_compile(name, tmp_path):
    assert compile_latex((GOLDEN / f"{name}.en.tex").read_text(encoding="utf-8"), tmp_path, "pdflatex").stat().st_size


def test_verify_confirms_every_step_as_derivatives_of_that_steps_loss():
    worked = solve(load_problem(EXAMPLES / "adam.toml"))
    report = verify_worked(worked)
    names = {item.name.split("[")[0] for item in report.items}
    assert {"delta1", "dL/dW1", "delta1@2", "dL/dW1@2", "dL/db2@2"} <= names
    assert report.ok
    # step 2's engine values are its own (not step 1's point again)
    first = next(i for i in report.items if i.name == "dL/dW1[0][0]")
    second = next(i for i in report.items if i.name == "dL/dW1@2[0][0]")
    assert first.engine != second.engine and math.isclose(second.symbolic, second.engine, rel_tol=1e-9)


def test_mazurs_published_weights_with_his_biases_frozen():
    worked = solve(load_problem(EXAMPLES / "frozen.toml"))
    published = {"W2_new": [[0.35891648, 0.511301270], [0.408666186, 0.561370121]],  # w5, w7 / w6, w8
                 "W1_new": [[0.149780716, 0.24975114], [0.19956143, 0.29950229]]}  # w1, w3 / w2, w4
    for name, rows in published.items():
        got = worked.value(name)
        for got_row, row in zip(got, rows):
            for value, printed in zip(got_row, row):
                places = len(repr(printed).split(".")[1])
                assert round(value, places) == pytest.approx(printed, abs=10.0 ** -places), (name, value, printed)
    assert math.isclose(worked.value("loss"), 0.298371109, abs_tol=5e-10)  # his total error
    assert "b1_new" not in worked.quantities and "b2_new" not in worked.quantities


def test_the_deep_example_shows_vanishing_gradients():
    ref = work((EXAMPLES / "deep.toml").read_text(encoding="utf-8"))
    deltas = [np.linalg.norm(ref[f"delta{k}"]) for k in range(5, 0, -1)]
    weights = [np.linalg.norm(ref[f"dL/dW{k}"]) for k in range(5, 0, -1)]
    assert all(lower < upper / 3 for upper, lower in zip(weights, weights[1:]))  # each layer down loses most of it
    model = json.loads(_run(["derive", str(EXAMPLES / "deep.toml"), "--format", "json"]))
    rows = next(s for s in model["sections"] if s["key"] == "norms")["table"]["rows"]
    assert [row[0]["text"] for row in rows] == ["5", "4", "3", "2", "1"]
    ratios = [None] + [lower / upper for upper, lower in zip(weights, weights[1:])]
    for row, delta, weight, ratio in zip(rows, deltas, weights, ratios):
        for cell, value in ((row[1], delta), (row[2], weight), (row[3], ratio)):
            if value is None:
                assert cell["text"] == "—"  # nothing above the output layer to compare with
                continue
            shown, half = displayed(cell["text"])
            assert abs(shown - value) <= half * (1 + 1e-9), (cell["text"], value)


def _run(argv) -> str:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(argv) == 0
    return out.getvalue()


# --- answers files and variants naming quantities of later steps ---------------------------------------
def _answers(tmp_path, values: dict, name="answers.toml"):
    lines = ["[answers]"] + [f'"{key}" = {json.dumps(value)}' for key, value in values.items()]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_check_binds_and_judges_quantities_of_later_steps(tmp_path):
    ref = work((EXAMPLES / "adam.toml").read_text(encoding="utf-8"))
    rounded = {name: np.round(ref[name], 6).tolist() for name in ("W1_new@2", "m_W1@2", "v_hat_b2@2", "loss@2")}
    good = _answers(tmp_path, rounded)
    report = json.loads(_run(["check", str(EXAMPLES / "adam.toml"), str(good), "--format", "json"]))
    verdicts = {item["key"]: item["verdict"] for item in _items(report)}
    assert set(verdicts) >= {"W1_new@2[0][0]", "m_W1@2[1][1]", "v_hat_b2@2[0]", "loss@2"}, sorted(verdicts)
    assert set(verdicts.values()) == {"correct"}
    # m of step 2 without step 1's m carried, (1 − β₁)·g₂: wrong, and the rest still right
    slipped = dict(rounded, **{"m_W1@2": np.round(0.1 * ref["dL/dW1@2"], 6).tolist()})
    bad = _answers(tmp_path, slipped, "bad.toml")
    assert main(["check", str(EXAMPLES / "adam.toml"), str(bad)]) == 1
    report = json.loads(_run_status(["check", str(EXAMPLES / "adam.toml"), str(bad), "--format", "json"], 1))
    verdicts = {item["key"]: item["verdict"] for item in _items(report)}
    assert verdicts["m_W1@2[0][0]"] == "wrong" and verdicts["W1_new@2[0][0]"] in ("correct", "carried")


def _run_status(argv, status: int) -> str:
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(argv) == status
    return out.getvalue()


def _items(report: dict) -> list:
    """Every judged element of a check report (JSON)."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            if "verdict" in node and "key" in node:
                found.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)
    walk(report)
    return found


def test_variants_keys_name_later_steps_and_agree_with_the_reference(tmp_path):
    template = tmp_path / "adam_variants.toml"
    template.write_text((EXAMPLES / "adam.toml").read_text(encoding="utf-8")
                        + '\n[variants]\nweights = { low = -1, high = 1, decimals = 1 }\n'
                          'x = { low = 1, high = 3, decimals = 0 }\n', encoding="utf-8")
    out = tmp_path / "out"
    assert main(["variants", str(template), "--count", "3", "--seed", "4", "-o", str(out)]) == 0
    for problem in sorted(out.glob("adam_variants-*[0-9].toml")):
        key = problem.with_name(problem.stem + ".key.toml")
        answers = tomllib.loads(key.read_text(encoding="utf-8"))["answers"]
        assert {"W1_new@2", "m_W1@2", "v_hat_W2@2", "loss@2"} <= set(answers)
        ref = work(problem.read_text(encoding="utf-8"))
        for name in ("W1_new@2", "m_W1@2", "v_hat_W2@2", "loss@2", "delta1@2"):
            assert np.allclose(np.asarray(answers[name], dtype=float).reshape(np.shape(ref[name])), ref[name],
                               rtol=1e-9, atol=1e-12), name
        assert main(["check", str(problem), str(key)]) == 0


def test_the_readmes_excerpts_are_the_real_output():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### The document's topics"):readme.index("#### The problem-file keys")]
    excerpts = re.findall(r"`tracegrad derive\s+(examples/\w+\.toml)`[^`]*?```text\n(.*?)```", section, re.S)
    assert {path for path, _ in excerpts} >= {f"examples/{name}.toml" for name in TOPICS if name != "momentum"}
    for path, excerpt in excerpts:
        output = _run(["derive", str(ROOT / path), "--format", "text"])
        lines = output.splitlines()
        for line in excerpt.splitlines():
            if line.endswith("= …"):  # a long line cut short
                assert any(out.startswith(line[:-1]) for out in lines), (path, line)
            elif line.strip() not in ("…", ""):
                assert line in lines, (path, line)


def test_the_step_is_named_by_what_is_subtracted():
    # SGD subtracts η·∂L/∂W (0.1 × 0.0045 = 0.00045 for W₁[0][0] of the seed); Adam subtracts
    # η·m̂/(√v̂ + ε), which on its first step is ±η (0.01), not η·∂L/∂W: it is written ΔW₁
    sgd = _run(["quantities", str(ROOT / "examples" / "seed.toml")])
    adam = _run(["quantities", str(ROOT / "examples" / "adam.toml")])
    assert "η·∂L/∂W₁ ≈ [[0.00045," in sgd
    assert "ΔW₁ = η·m̂(W₁) / (√v̂(W₁) + ε) ≈ [[0.0100, 0.0100]" in adam and "η·∂L/∂W₁" not in adam.split("step_W1")[1][:80]
