"""The document's topics against independent arithmetic: every quantity of a derivation (all
elements, every step) compared with a separately written numpy computation
(:mod:`tests.numpy_reference`, from the issue's formulas and PyTorch's documented update
rules), for every optimizer, weight decay coupled and decoupled, L1/L2 penalties, clipping,
dropout, BatchNorm in training and eval mode, frozen parameters, several steps, mini-batches
and input scaling; then the derivation rendered in every format and language, its view
model's numbers checked against the same reference at display precision."""

from __future__ import annotations

import copy
import json
import math
import random
import re
import tomllib

import numpy as np
import pytest

from tests.numpy_reference import work
from tracegrad.core.errors import InputError
from tracegrad.problem.formulas import formula_mismatches
from tracegrad.problem.schema import parse_problem
from tracegrad.problem.solve import solve
from tracegrad.workflows.derive import derive

RTOL, ATOL = 1e-9, 1e-12


# --- problems, written as TOML ------------------------------------------------------------------
def _value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    return "{" + ", ".join(f"{k} = {_value(x)}" for k, x in v.items()) + "}"


def toml(problem: dict) -> str:
    lines = [f"{k} = {_value(v)}" for k, v in problem.items() if not isinstance(v, (dict, list))]
    for layer in problem["layers"]:
        lines += ["", "[[layers]]"] + [f"{k} = {_value(v)}" for k, v in layer.items()]
    for table in ("data", "loss", "optimizer"):
        if table in problem:
            lines += ["", f"[{table}]"] + [f"{k} = {_value(v)}" for k, v in problem[table].items()]
    return "\n".join(lines) + "\n"


SEED = {  # the document's 2-2-1 example
    "layers": [{"weights": [[0.5, 0.6], [0.7, 0.8]], "bias": [0.1, 0.2], "activation": "sigmoid"},
               {"weights": [[0.9], [0.1]], "bias": [0.3], "activation": "sigmoid"}],
    "data": {"x": [1, 2], "y": 0.5},
    "loss": {"name": "half_se"},
    "optimizer": {"name": "sgd", "lr": 0.1},
}
BATCH = {  # a 2-2-2 network on a batch of three samples
    "layers": [{"weights": [[0.15, -0.25], [0.2, 0.3]], "bias": [0.35, -0.1], "activation": "tanh"},
               {"weights": [[0.4, -0.5], [0.45, 0.55]], "bias": [0.6, 0.1], "activation": "sigmoid"}],
    "data": {"x": [[0.05, 0.1], [1.0, -0.5], [-0.3, 0.8]], "y": [[0.01, 0.99], [0.7, 0.2], [0.5, 0.5]]},
    "loss": {"name": "half_se"},
    "optimizer": {"name": "sgd", "lr": 0.5},
}


def variant(base: dict, *, layers=(), **tables) -> dict:
    """``base`` with keys of layers (one dict per layer, merged) and tables (merged; a scalar replaces)."""
    out = copy.deepcopy(base)
    for layer, changes in zip(out["layers"], layers):
        layer.update(changes)
    for key, value in tables.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key].update(value)
        else:
            out[key] = value
    return out


BN = {"batchnorm": True, "gamma": [1.2, 0.8], "beta": [0.1, -0.1]}
CASES = {
    "sgd": variant(SEED),
    "sgd_batch_out_in": variant(BATCH, layout="out_in", layers=[{"weights": [[0.15, 0.2], [-0.25, 0.3]]},
                                                                {"weights": [[0.4, 0.45], [-0.5, 0.55]]}],
                                loss={"name": "mse"}),
    "momentum_3_steps": variant(SEED, optimizer={"name": "momentum", "lr": 0.5, "momentum": 0.9, "steps": 3}),
    "nesterov_3_steps": variant(BATCH, optimizer={"name": "sgd", "momentum": 0.8, "nesterov": True, "steps": 3}),
    "rmsprop_3_steps": variant(SEED, optimizer={"name": "rmsprop", "lr": 0.01, "alpha": 0.9, "steps": 3}),
    "adam_3_steps": variant(SEED, optimizer={"name": "adam", "lr": 0.01, "steps": 3}),
    "adam_batch_betas": variant(BATCH, optimizer={"name": "adam", "lr": 0.05, "betas": [0.8, 0.99], "eps": 1e-6,
                                                  "steps": 2}),
    "adamw_2_steps": variant(SEED, optimizer={"name": "adamw", "lr": 0.01, "steps": 2}),
    "sgd_coupled_decay": variant(SEED, optimizer={"weight_decay": 0.1}),
    "sgd_decoupled_decay": variant(SEED, optimizer={"weight_decay": 0.1, "decoupled": True, "steps": 2}),
    "momentum_coupled_decay": variant(BATCH, optimizer={"name": "momentum", "weight_decay": 0.05, "steps": 2}),
    "rmsprop_decoupled_decay": variant(BATCH, optimizer={"name": "rmsprop", "lr": 0.01, "weight_decay": 0.1,
                                                         "decoupled": True, "steps": 2}),
    "adam_coupled_decay": variant(SEED, optimizer={"name": "adam", "lr": 0.01, "weight_decay": 0.1, "steps": 2}),
    "l2": variant(SEED, loss={"l2": 0.01}),
    "l2_biases": variant(BATCH, loss={"l2": 0.05, "penalize_biases": True}, optimizer={"steps": 2}),
    "l1": variant(BATCH, loss={"l1": 0.01}),
    "l1_l2_biases_adam": variant(SEED, loss={"l1": 0.02, "l2": 0.01, "penalize_biases": True},
                                 optimizer={"name": "adam", "lr": 0.01, "steps": 2}),
    "clip_norm": variant(BATCH, optimizer={"clip_norm": 0.05, "steps": 2}),
    "clip_norm_inactive": variant(SEED, optimizer={"clip_norm": 10.0}),
    "clip_value": variant(BATCH, optimizer={"name": "momentum", "clip_value": 0.02, "steps": 2}),
    "clip_norm_and_value": variant(BATCH, optimizer={"clip_norm": 0.1, "clip_value": 0.03}),
    "dropout": variant(SEED, layers=[{"dropout": 0.5, "mask": [1, 0]}]),
    "dropout_batch_l2": variant(BATCH, layers=[{"dropout": 0.25, "mask": [[1, 0], [1, 1], [0, 1]]}],
                                loss={"l2": 0.01}, optimizer={"steps": 2}),
    "dropout_eval": variant(SEED, mode="eval", layers=[{"dropout": 0.5, "mask": [1, 0]}]),
    "batchnorm_train": variant(BATCH, layers=[BN], optimizer={"steps": 2}),
    "batchnorm_table_frozen_bias": variant(BATCH, layers=[{"batchnorm": {"gamma": [0.9, 1.1], "eps": 0.001},
                                                           "freeze": ["bias"]}],
                                           optimizer={"name": "adam", "lr": 0.01, "steps": 2}),
    "batchnorm_eval": variant(BATCH, mode="eval",
                              layers=[{**BN, "running_mean": [0.3, 0.1], "running_var": [0.5, 2.0]}]),
    "batchnorm_eval_single": variant(SEED, mode="eval", layers=[{"batchnorm": True, "running_mean": [1.5, 2.0],
                                                                 "running_var": [0.25, 4.0]}]),
    "frozen_biases": variant(BATCH, layers=[{"freeze": ["bias"]}, {"freeze": ["bias"]}],
                             optimizer={"steps": 2}),
    "frozen_weights": variant(SEED, layers=[{"freeze": ["weights"]}],
                              optimizer={"name": "momentum", "steps": 2, "clip_norm": 0.01}),
    "shared_bias": variant(BATCH, layers=[{"bias": 0.35}, {"bias": 0.6}],
                           optimizer={"name": "adam", "lr": 0.01, "steps": 2}),
    "minibatch_epochs": variant(BATCH, data={"x": [[0.05, 0.1], [1.0, -0.5], [-0.3, 0.8], [0.2, 0.2], [0.9, 0.1]],
                                             "y": [[0.01, 0.99], [0.7, 0.2], [0.5, 0.5], [0.0, 1.0], [1.0, 0.0]],
                                             "batch_size": 2, "epochs": 2},
                                optimizer={"name": "momentum", "lr": 0.1}),
    "minibatch_steps_adam": variant(BATCH, data={"batch_size": 2}, optimizer={"name": "adam", "lr": 0.01,
                                                                              "steps": 3}),
    "minmax": variant(BATCH, data={"scale": "minmax"}),
    "minmax_given": variant(SEED, data={"scale": "minmax", "min": [0, 0], "max": [2, 4]}),
    "zscore": variant(BATCH, data={"scale": "zscore"}, optimizer={"steps": 2}),
    "zscore_given": variant(BATCH, data={"scale": "zscore", "mean": [0.2, 0.1], "std": [0.5, 0.4]}),
    "deep_sigmoid": {
        "layers": [{"weights": [[0.5, -0.4], [0.3, 0.6]], "bias": [0.1, -0.1], "activation": "sigmoid"}] * 4
        + [{"weights": [[0.7], [-0.6]], "bias": [0.2], "activation": "sigmoid"}],
        "data": {"x": [1.0, -1.0], "y": 1.0}, "loss": {"name": "half_se"}, "optimizer": {"lr": 0.1}},
    "softmax_cce": variant(BATCH, layers=[{"activation": "relu"}, {"activation": "softmax"}],
                           data={"y": [[0, 1], [1, 0], [0.5, 0.5]]}, loss={"name": "cce"}),
    "sigmoid_bce_leaky": variant(BATCH, layers=[{"activation": "leaky_relu", "alpha": 0.1}],
                                 data={"y": [[0, 1], [1, 0], [1, 1]]}, loss={"name": "bce"},
                                 optimizer={"name": "rmsprop", "lr": 0.01}),
    "linear_output_mse": variant(SEED, layers=[{}, {"activation": "identity"}], loss={"name": "mse"},
                                 optimizer={"name": "adam", "lr": 0.1, "steps": 2}),
    "everything": variant(BATCH, layers=[{**BN, "dropout": 0.5, "mask": [[1, 0], [1, 1], [0, 1]]},
                                         {"freeze": ["bias"]}],
                          loss={"l2": 0.01}, data={"scale": "zscore"},
                          optimizer={"name": "adam", "lr": 0.01, "weight_decay": 0.1, "clip_norm": 0.05,
                                     "clip_value": 0.01, "steps": 2}),
}
"""Every topic; names say what each case exercises."""

EXPECTED = {  # names each case must print (besides agreeing on all it prints) and names it must not
    "momentum_3_steps": (["v_W1", "v_b2@2", "W1_new@3"], ["g_W1"]),
    "nesterov_3_steps": (["v_W1@3", "step_W2@3"], []),
    "rmsprop_3_steps": (["s_W1", "s_b1@3"], []),
    "adam_3_steps": (["m_W1", "v_W1", "m_hat_W1@3", "v_hat_b2@3", "W1_new@3"], []),
    "adamw_2_steps": (["W1_new@2"], ["g_W1", "step_W1"]),
    "sgd_coupled_decay": (["g_W1", "step_W1"], []),
    "sgd_decoupled_decay": (["W1_new@2"], ["g_W1"]),
    "l2": (["data_loss", "penalty"], []),
    "clip_norm": (["grad_norm", "clip_scale", "clipped_W1", "clip_scale@2"], []),
    "clip_value": (["clipped_W1"], ["clip_scale"]),
    "dropout": (["d1", "dL/dd1"], []),
    "dropout_eval": ([], ["d1", "dL/dd1"]),
    "batchnorm_train": (["mu1", "var1", "zhat1", "bn1", "dL/dgamma1", "gamma1_new", "beta1_new@2"], []),
    "batchnorm_table_frozen_bias": (["gamma1_new@2"], ["dL/db1", "b1_new", "m_b1"]),
    "batchnorm_eval": (["zhat1", "bn1"], ["mu1", "var1"]),
    "frozen_biases": (["W1_new@2", "W2_new"], ["b1_new", "b2_new@2", "dL/db1"]),
    "frozen_weights": (["b1_new", "W2_new@2"], ["W1_new", "dL/dW1@2"]),
    "minibatch_epochs": (["loss@6", "W1_new@6"], ["loss@7"]),
    "zscore": (["x_mean", "x_std", "x_scaled"], []),
    "zscore_given": (["x_scaled"], ["x_mean"]),
    "softmax_cce": (["delta2"], ["dL/dy_hat", "da2/dz2"]),
}

PROBLEMS = {name: toml(problem) for name, problem in CASES.items()}
# the cases whose derivations are rendered (each topic at least once; the JSON view model checked)
RENDERED = ("adam_3_steps", "sgd_decoupled_decay", "l1_l2_biases_adam", "clip_norm_and_value", "dropout_batch_l2",
            "dropout_eval", "batchnorm_train", "batchnorm_eval", "frozen_weights", "minibatch_epochs", "zscore",
            "minmax_given", "deep_sigmoid", "softmax_cce", "everything")


def solved(text: str):
    return solve(parse_problem(tomllib.loads(text), "<case>"))


def assert_agrees(worked, reference: dict) -> None:
    """Every quantity tracegrad names is in the reference, with the same shape and values (all elements)."""
    values = worked.values()
    unknown = sorted(set(values) - set(reference))
    assert not unknown, f"no independent value for {unknown}"
    for name, value in values.items():
        got, want = np.asarray(value, dtype=float), np.asarray(reference[name], dtype=float)
        assert got.shape == want.shape, (name, got.shape, want.shape)
        assert np.allclose(got, want, rtol=RTOL, atol=ATOL), (name, got.tolist(), want.tolist())


# --- every quantity, all elements -----------------------------------------------------------------
@pytest.mark.parametrize("case", list(CASES))
def test_every_quantity_agrees_with_the_independent_reference(case):
    worked = solved(PROBLEMS[case])
    assert_agrees(worked, work(PROBLEMS[case]))
    present, absent = EXPECTED.get(case, ([], []))
    assert set(present) <= set(worked.quantities), sorted(set(present) - set(worked.quantities))
    assert not set(absent) & set(worked.quantities), sorted(set(absent) & set(worked.quantities))


@pytest.mark.parametrize("case", list(CASES))
def test_every_printed_formula_gives_its_value(case):
    # the formula on each line, evaluated on the numbers, is the quantity (a false formula fails here)
    assert formula_mismatches(solved(PROBLEMS[case])) == []


# --- a few values written out by hand, so the reference itself is anchored -----------------------
def test_the_reference_reproduces_hand_arithmetic():
    ref = work(PROBLEMS["sgd"])
    assert round(float(ref["z2"][0]), 4) == 1.1844 and round(float(ref["delta2"][0]), 4) == 0.0477
    # Adam's first step moves every weight by about η: m̂/(√v̂ + ε) = |g|/(|g| + ε) with g > 0 here
    adam = work(PROBLEMS["adam_3_steps"])
    g = adam["dL/dW1"]
    assert np.allclose(np.array([[0.5, 0.6], [0.7, 0.8]]) - adam["W1_new"], 0.01 * g / (g + 1e-8), rtol=1e-12)
    assert np.allclose(adam["W1_new"], np.array([[0.49, 0.59], [0.69, 0.79]]), atol=1e-6)
    # inverted dropout: the kept unit doubled (p = ½), the dropped one 0
    drop = work(PROBLEMS["dropout"])
    assert drop["d1"][1] == 0 and math.isclose(drop["d1"][0], 2 / (1 + math.exp(-2.0)))
    # clipping by norm: the clipped gradients have the global norm c
    clip = work(PROBLEMS["clip_norm"])
    norm = math.sqrt(sum((clip[f"clipped_{p}{k}"] ** 2).sum() for p in "Wb" for k in (1, 2)))
    assert clip["grad_norm"] > 0.05 and math.isclose(norm, 0.05 * clip["grad_norm"] / (clip["grad_norm"] + 1e-6),
                                                    rel_tol=1e-12)
    # BatchNorm in training: each unit's normalised values have mean 0 and (biased) variance σ²/(σ² + ε)
    bn = work(PROBLEMS["batchnorm_train"])
    assert np.allclose(bn["zhat1"].mean(axis=0), 0, atol=1e-15)
    assert np.allclose((bn["zhat1"] ** 2).mean(axis=0), bn["var1"] / (bn["var1"] + 1e-5), rtol=1e-12)


def _printed_masks(worked) -> dict:
    model = json.loads(derive(worked, format="json").text)
    return {line["name"]: line["values"] for line in _lines(model) if line["name"].startswith("mask")}


def test_seeded_dropout_masks_follow_the_layer_seed_and_the_numbers_follow_the_masks():
    def seeded(seed):
        return variant(BATCH, layers=[{"dropout": 0.5, "seed": seed}], optimizer={"steps": 2})

    masks = {seed: _printed_masks(solved(toml(seeded(seed)))) for seed in (1, 2)}
    assert masks[1] == _printed_masks(solved(toml(seeded(1))))  # reproducible
    assert masks[1] != masks[2]  # and the seed is the layer's own
    for drawn in masks.values():
        assert set(drawn) == {"mask1", "mask1@2"}
        assert all(v in (0, 1) for rows in drawn.values() for row in rows for v in row)
    one_step = variant(seeded(2), optimizer={"steps": 1})
    given = variant(one_step, layers=[{"mask": masks[2]["mask1"]}])
    given["layers"][0].pop("seed")
    assert_agrees(solved(toml(one_step)), work(toml(given)))


def test_l2_and_coupled_weight_decay_give_the_same_sgd_update_but_not_the_same_adam_update():
    # the document: for gradient descent an L2 penalty ½λΣw² is weight decay λ; for Adam it is not
    lam = 0.01
    l2 = work(toml(variant(SEED, loss={"l2": lam, "penalize_biases": True}, optimizer={"steps": 2})))
    decay = work(toml(variant(SEED, optimizer={"weight_decay": lam, "steps": 2})))
    for name in ("W1_new", "b1_new", "W2_new@2", "b2_new@2"):
        assert np.allclose(l2[name], decay[name], rtol=1e-14, atol=0), name
    adam_l2 = work(toml(variant(SEED, loss={"l2": lam, "penalize_biases": True},
                                optimizer={"name": "adam", "lr": 0.01})))
    adam_decay = work(toml(variant(SEED, optimizer={"name": "adam", "lr": 0.01, "weight_decay": lam})))
    assert np.allclose(adam_l2["W1_new"], adam_decay["W1_new"], rtol=1e-14, atol=0)  # coupled: the same gradient
    adamw = work(toml(variant(SEED, optimizer={"name": "adamw", "lr": 0.01, "weight_decay": lam})))
    assert not np.allclose(adam_l2["W1_new"], adamw["W1_new"], rtol=1e-9, atol=0)


# --- the derivation, rendered ----------------------------------------------------------------------
def displayed(text: str) -> tuple:
    """A displayed number: its value and half a unit of its last digit."""
    mantissa, _, exponent = text.replace("−", "-").partition("e")
    places = len(mantissa.partition(".")[2])
    scale = 10.0 ** int(exponent) if exponent else 1.0
    return float(text.replace("−", "-")), 0.5 * 10.0 ** -places * scale


def _lines(model: dict):
    for section in model["sections"]:
        for block in section["blocks"]:
            yield from block["lines"]


def _pairs(texts, want):
    if isinstance(texts, list):
        want = np.asarray(want).reshape(len(texts), -1) if np.ndim(want) else [want] * len(texts)
        for t, w in zip(texts, want):
            yield from _pairs(t, np.squeeze(w) if np.size(w) == 1 and not isinstance(t, list) else w)
    else:
        yield texts, float(np.asarray(want).ravel()[0])


def assert_display_agrees(model: dict, reference: dict) -> int:
    """Every line of a JSON view model that names a quantity: its values equal the reference's,
    and each number shown is the reference's at the precision shown; returns how many numbers."""
    checked = 0
    for line in _lines(model):
        if line["name"] not in reference:
            continue
        want = np.asarray(reference[line["name"]], dtype=float)
        assert np.allclose(np.asarray(line["values"], dtype=float).reshape(want.shape), want, rtol=RTOL, atol=ATOL)
        for text, value in _pairs(line["texts"], want):
            shown, half = displayed(text)
            if line["relation"] == "=":
                assert math.isclose(shown, value, rel_tol=1e-12, abs_tol=1e-15), (line["name"], text, value)
            else:  # within half a unit of the last digit shown (rounding noise around an exact 0 aside)
                assert abs(shown - value) <= max(half * (1 + 1e-9), ATOL), (line["name"], text, value)
            checked += 1
    return checked


@pytest.mark.parametrize("case", RENDERED)
def test_view_model_numbers_agree_with_the_reference_at_display_precision(case):
    model = json.loads(derive(solved(PROBLEMS[case]), format="json").text)
    assert assert_display_agrees(model, work(PROBLEMS[case])) >= 20


def _update_notes(text: str, lang: str = "en") -> list:
    model = json.loads(derive(solved(text), format="json", lang=lang).text)
    return [block["note"] for section in model["sections"] if section["key"] == "update"
            for block in section["blocks"]]


@pytest.mark.parametrize("lang", ["en", "zh"])
@pytest.mark.parametrize("case,lam", [("l2", 0.01), ("sgd_decoupled_decay", 0.1)])
def test_the_l2_and_weight_decay_note_works_the_problems_own_numbers(case, lam, lang):
    notes = _update_notes(PROBLEMS[case], lang)
    assert notes[0] and not any(notes[1:])  # the first step's update, once
    w, lr = 0.5, 0.1  # W₁[0][0] and η of the seed
    reference = work(PROBLEMS[case])
    g = reference["dL/dW1"][0][0] - (lam * w if case == "l2" else 0.0)  # the data gradient
    coupled = g + lam * w
    expected = [g, w - lr * coupled, (1 - lr * lam) * w - lr * g,  # SGD: L2, then weight decay
                w - lr * coupled / (abs(coupled) + 1e-8),  # Adam's first step: m̂ = g, v̂ = g²
                w - lr * g / (abs(g) + 1e-8) - lr * lam * w]  # AdamW
    expected.append(expected[3] - expected[4])
    shown = re.findall(r"≈ (−?\d+\.\d+)", notes[0])
    assert len(shown) == len(expected), notes[0]
    for text, value in zip(shown, expected):
        number, half = displayed(text)
        assert abs(number - value) <= half * (1 + 1e-9), (text, value)
    assert shown[1] == shown[2] and shown[3] != shown[4]  # the same SGD update; not the same Adam update
    assert f"λ = {lam}" in notes[0] and "W₁[0][0] = 0.5" in notes[0]


def test_no_note_without_l2_or_weight_decay():
    assert not any(_update_notes(PROBLEMS["adam_3_steps"]))


@pytest.mark.parametrize("case,lang", [("everything", "en"), ("everything", "zh")])
def test_the_derivation_renders_in_every_format(case, lang):
    worked = solved(PROBLEMS[case])
    for fmt in ("markdown", "latex", "text", "json"):
        text = derive(worked, format=fmt, lang=lang).text
        assert len(text) > 2000, fmt
        prose = text if fmt == "text" else " ".join(
            [line["caption"] for line in _lines(json.loads(text))] if fmt == "json" else [])
        assert not re.search(r"\{[a-z_]+\}", prose), re.search(r".{40}\{[a-z_]+\}.{20}", prose)
    text = derive(worked, format="text", lang=lang).text
    assert "gamma₁" not in text and "beta₁" not in text  # γ₁, β₁ as written in the formulas


# --- a larger seeded sweep ------------------------------------------------------------------------
def _random_problem(rng: random.Random) -> dict:
    sizes = [2] + [rng.choice([1, 2, 3]) for _ in range(rng.choice([1, 2, 3]))] + [rng.choice([1, 2])]
    samples = rng.choice([1, 2, 3, 4])

    def numbers(n):
        return [round(rng.uniform(-1, 1), 2) for _ in range(n)]

    layers = []
    for k, (n_in, n_out) in enumerate(zip(sizes, sizes[1:])):
        hidden = k < len(sizes) - 2
        layer = {"weights": [numbers(n_out) for _ in range(n_in)], "bias": numbers(n_out),
                 "activation": rng.choice(["sigmoid", "tanh", "leaky_relu"] if hidden else ["sigmoid", "identity"])}
        if hidden and rng.random() < 0.3:
            layer.update(dropout=0.5, mask=[[rng.choice([0, 1]) for _ in range(n_out)] for _ in range(samples)])
        if rng.random() < 0.2:
            layer["freeze"] = [rng.choice(["bias", "weights"])]
        if hidden and samples > 1 and rng.random() < 0.3:
            # its bias is frozen, as such a layer is built without one: ∂L/∂b is 0 up to cancellation noise
            layer.update(batchnorm=True, freeze=sorted(set(layer.get("freeze", [])) | {"bias"}))
        layers.append(layer)
    # BatchNorm makes some gradients 0 up to rounding noise (a bias before it, a parameter whose shift it
    # removes); RMSprop and Adam divide by the root of their squares, which turns noise into steps of up to η
    # that no two correct implementations share: with BatchNorm, the optimizers that scale gradients linearly
    normalising = not any("batchnorm" in layer for layer in layers)
    optimizer = {"name": rng.choice(["sgd", "momentum"] + ["rmsprop", "adam", "adamw"] * normalising), "lr": 0.05,
                 "steps": rng.choice([1, 2, 3])}
    if optimizer["name"] != "adamw" and rng.random() < 0.4:
        optimizer.update(weight_decay=0.05, decoupled=rng.random() < 0.5)
    if optimizer["name"] in ("sgd", "momentum") and rng.random() < 0.5:
        optimizer.update(momentum=0.9, nesterov=rng.random() < 0.5)
    if rng.random() < 0.3:
        optimizer["clip_norm"] = 0.05
    if rng.random() < 0.3:
        optimizer["clip_value"] = 0.02
    loss = {"name": "half_se" if layers[-1]["activation"] == "identity" else rng.choice(["half_se", "mse"])}
    if rng.random() < 0.4:
        loss[rng.choice(["l1", "l2"])] = 0.01
        loss["penalize_biases"] = rng.random() < 0.5
    x = [numbers(2) for _ in range(samples)]
    y = [[round(rng.uniform(0, 1), 2) for _ in range(sizes[-1])] for _ in range(samples)]
    problem = {"layers": layers, "data": {"x": x, "y": y}, "loss": loss, "optimizer": optimizer}
    if samples > 2 and rng.random() < 0.5:
        problem["data"]["batch_size"] = 2
        if any("batchnorm" in layer for layer in layers):
            problem["data"]["batch_size"] = samples
    if samples > 1 and rng.random() < 0.3:
        problem["data"]["scale"] = rng.choice(["minmax", "zscore"])
    if any("batchnorm" in layer for layer in layers) and rng.random() < 0.3:
        problem["mode"] = "eval"
    return problem


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(300))
def test_seeded_problems_agree_with_the_independent_reference(seed):
    text = toml(_random_problem(random.Random(seed)))
    try:
        worked = solved(text)
    except InputError as exc:  # e.g. a BatchNorm layer meeting a mini-batch of one sample
        pytest.skip(f"refused: {exc}")
    assert_agrees(worked, work(text))
    assert formula_mismatches(worked) == []
