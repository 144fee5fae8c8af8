"""Every printed line true, for every kind of problem: a generated matrix.

Problems are drawn with a seed from every hidden activation × every output activation with
each loss that fits it × every optimizer (with and without weight decay, L1/L2, clipping) ×
both layouts × one sample and a batch × one and two steps, plus dropout, BatchNorm (train
and eval) and frozen parameters; every value of every dimension appears. Each problem must
render in four formats × two languages, pass the line verifier and SymPy's confirmation in
exact and carry rounding in both views (``derive --verify``), parse in KaTeX (strict) and
compile in LaTeX with no overfull line.

The default run takes a seeded sample (``MATRIX_SAMPLE`` problems, the same every run);
``pytest -m slow tests/test_matrix.py`` runs all ``MATRIX_SIZE`` of them.
"""

import random
import re

import pytest

from tests.tex_tools import compile_latex, katex_errors, markdown_math
from tracegrad.problem.schema import parse_problem
from tracegrad.workflows.derive import derive

MATRIX_SIZE = 240
MATRIX_SAMPLE = 10
SEED = 20261201

# output activation → the losses that fit it, and the targets they take
OUTPUTS = {
    "identity": [("mse", "real"), ("half_se", "real"), ("mae", "real"), ("hinge", "sign"),
                 ("bce_logits", "binary"), ("cce_logits", "onehot")],
    "sigmoid": [("bce", "binary"), ("half_se", "real01"), ("mse", "real01")],
    "softmax": [("cce", "onehot")],
    "tanh": [("mse", "real"), ("half_se", "real")],
}
HIDDEN = ["sigmoid", "tanh", "relu", "leaky_relu"]
OPTIMIZERS = [
    {"name": "sgd", "lr": 0.1},
    {"name": "sgd", "lr": 0.1, "weight_decay": 0.01},
    {"name": "momentum", "lr": 0.1, "momentum": 0.9},
    {"name": "momentum", "lr": 0.1, "momentum": 0.9, "nesterov": True},
    {"name": "rmsprop", "lr": 0.01, "alpha": 0.9},
    {"name": "adam", "lr": 0.01},
    {"name": "adam", "lr": 0.01, "weight_decay": 0.01},
    {"name": "adam", "lr": 0.01, "weight_decay": 0.01, "decoupled": True},
    {"name": "adamw", "lr": 0.01},
]
EXTRAS = ["none", "l2", "l1", "clip_norm", "clip_value", "dropout", "batchnorm", "batchnorm_eval", "freeze"]


def draw(k: int, rng: random.Random) -> dict:
    """Problem ``k`` of the matrix: dimensions cycled so that every value appears, the rest drawn."""
    output = list(OUTPUTS)[k % len(OUTPUTS)]
    loss, target = OUTPUTS[output][(k // len(OUTPUTS)) % len(OUTPUTS[output])]
    hidden = HIDDEN[k % len(HIDDEN)]
    optimizer = dict(OPTIMIZERS[k % len(OPTIMIZERS)])
    extra = EXTRAS[k % len(EXTRAS)]
    layout = ("in_out", "out_in")[(k // 2) % 2]
    batch = extra in ("batchnorm",) or (k // 3) % 2 == 1
    steps = 1 + (k // 5) % 2
    outputs = 2 if target == "onehot" or (output in ("softmax",)) else rng.choice((1, 2))
    if output == "softmax" or target == "onehot":
        outputs = 2
    sizes = [2, rng.choice((2, 3)), outputs]
    n = 3 if batch else 1

    def number(low=-1.0, high=1.0):
        return round(rng.uniform(low, high), 1) or 0.1

    layers = []
    for i in range(2):
        rows = [[number() for _ in range(sizes[i + 1])] for _ in range(sizes[i])]
        if layout == "out_in":
            rows = [list(col) for col in zip(*rows)]
        layers.append({"weights": rows, "bias": [number(-0.5, 0.5) for _ in range(sizes[i + 1])],
                       "activation": output if i == 1 else hidden})
    if hidden == "leaky_relu":
        layers[0]["alpha"] = 0.1

    def y():
        if target in ("real", "real01"):
            return [round(rng.uniform(0 if target == "real01" else -1, 1), 1) for _ in range(outputs)]
        if target == "binary":
            return [float(rng.random() < 0.5) for _ in range(outputs)]
        if target == "sign":
            return [rng.choice((-1.0, 1.0)) for _ in range(outputs)]
        hot = rng.randrange(outputs)
        return [1.0 if j == hot else 0.0 for j in range(outputs)]

    xs = [[number(-2, 2) for _ in range(sizes[0])] for _ in range(n)]
    ys = [y() for _ in range(n)]
    table = {"title": f"matrix {k}: {hidden}/{output}/{loss}/{optimizer['name']}/{extra}", "layout": layout,
             "layers": layers, "data": {"x": xs if batch else xs[0], "y": ys if batch else ys[0]},
             "loss": {"name": loss}, "optimizer": {**optimizer, "steps": steps}}
    if extra in ("l1", "l2"):
        table["loss"][extra] = 0.01
    elif extra in ("clip_norm", "clip_value"):
        table["optimizer"][extra] = 0.05
    elif extra == "dropout":
        layers[0]["dropout"] = 0.5
        layers[0]["mask"] = [[1, 0, 1][:sizes[1]] for _ in range(n)] if batch else [1, 0, 1][:sizes[1]]
    elif extra == "batchnorm":
        layers[0]["batchnorm"] = True
    elif extra == "batchnorm_eval":
        layers[0]["batchnorm"] = {"running_mean": [0.1] * sizes[1], "running_var": [1.5] * sizes[1]}
        table["mode"] = "eval"
    elif extra == "freeze":
        layers[1]["freeze"] = ["bias"]
    return table


def matrix(size: int = MATRIX_SIZE) -> list:
    rng = random.Random(SEED)
    return [draw(k, rng) for k in range(size)]


def sample() -> list:
    problems = matrix()
    picked = random.Random(SEED).sample(range(len(problems)), MATRIX_SAMPLE)
    return [problems[k] for k in sorted(picked)]


def test_every_dimension_appears_in_the_matrix():
    problems = matrix()
    outputs = {p["layers"][1]["activation"] for p in problems}
    losses = {p["loss"]["name"] for p in problems}
    optimizers = {tuple(sorted((k, str(v)) for k, v in p["optimizer"].items() if k != "steps")) for p in problems}
    assert outputs == set(OUTPUTS) and losses == {loss for fits in OUTPUTS.values() for loss, _ in fits}
    assert len(optimizers) == len(OPTIMIZERS)
    assert {p["layers"][0]["activation"] for p in problems} == set(HIDDEN)
    assert {p["layout"] for p in problems} == {"in_out", "out_in"}
    assert {isinstance(p["data"]["x"][0], list) for p in problems} == {True, False}
    assert {p["optimizer"]["steps"] for p in problems} == {1, 2}
    titles = " ".join(p["title"] for p in problems)
    assert all(f"/{extra}" in titles for extra in EXTRAS)


def check_problem(table: dict) -> list:
    """What fails for one problem: every rendering, and the line verifier and SymPy in exact and
    carry rounding in both views."""
    problem = parse_problem(table, "matrix.toml")
    failures = []
    for fmt in ("markdown", "latex", "text", "json"):
        for lang in ("en", "zh"):
            text = derive(problem, format=fmt, lang=lang).text
            if re.search(r"\d\.\d{9,}", text) and fmt != "json":
                failures.append(f"{fmt}/{lang}: a float printed in full")
    for rounding in ("exact", "carry"):
        for view in ("layer", "node"):
            d = derive(problem, format="json", rounding=rounding, view=view, verify=True)
            if not d.ok:
                bad = [c.name for c in d.model.confirmations if not c.agree]
                failures.append(f"{rounding}/{view}: {bad or ''} {d.model.checked[1:3]}")
    return failures


@pytest.mark.parametrize("table", sample(), ids=lambda t: t["title"].split(":")[0].replace(" ", "_"))
def test_a_sample_of_the_matrix(table):
    assert check_problem(table) == []


@pytest.mark.slow
@pytest.mark.parametrize("table", matrix(), ids=lambda t: t["title"].split(":")[0].replace(" ", "_"))
def test_the_whole_matrix(table):
    assert check_problem(table) == []


def consumers(problems, tmp_path):
    """KaTeX (strict) over every Markdown formula, LaTeX over one document per language holding
    every problem, with no overfull line."""
    formulas = []
    for table in problems:
        problem = parse_problem(table, "matrix.toml")
        for lang in ("en", "zh"):
            formulas += markdown_math(derive(problem, format="markdown", lang=lang).text)
    assert katex_errors(formulas) == []
    for lang, engine in (("en", "pdflatex"), ("zh", "xelatex")):
        parts = [derive(parse_problem(t, "matrix.toml"), format="latex", lang=lang).text for t in problems]
        head, _, _ = parts[0].partition(r"\begin{document}")
        bodies = [p.partition(r"\begin{document}")[2].rpartition(r"\end{document}")[0] for p in parts]
        document = head + r"\begin{document}" + "\n\\clearpage\n".join(bodies) + r"\end{document}" + "\n"
        assert "[U+" not in document  # every character typeset, none shown as a code point
        folder = tmp_path / lang
        folder.mkdir()
        compile_latex(document, folder, engine)
        log = (folder / "doc.log").read_text(encoding="utf-8", errors="replace")
        assert "Overfull \\hbox" not in log, re.findall(r"Overfull \\hbox.*", log)[:3]


def test_the_sample_in_katex_and_latex(tmp_path):
    consumers(sample(), tmp_path)


@pytest.mark.slow
def test_the_whole_matrix_in_katex_and_latex(tmp_path):
    consumers(matrix(), tmp_path)
