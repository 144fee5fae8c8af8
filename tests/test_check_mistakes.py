"""Likely-mistake diagnosis: each mistake is made by hand here (numpy formulas, independent of the
engine), written as a student's answer, and the checker must name it."""

import math
from decimal import Decimal

import numpy as np
import pytest

from tests.golden import SEED
from tracegrad.workflows.check import check
from tracegrad.checker import network_subject, parse_answers
from tracegrad.problem.schema import load_problem, parse_problem


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def reference(x, y, w1, b1, w2, b2, act1="sigmoid", act2="sigmoid", loss="half_se"):
    """Forward and backward of a two-layer in_out network by the matrix formulas (batch rows = samples)."""
    f = {"sigmoid": (sigmoid, lambda a: a * (1 - a)), "tanh": (np.tanh, lambda a: 1 - a * a)}
    X, Y = np.atleast_2d(x).astype(float), np.atleast_2d(y).astype(float)
    n, k = Y.shape
    z1 = X @ w1 + b1
    a1 = f[act1][0](z1)
    z2 = a1 @ w2 + b2
    a2 = f[act2][0](z2)
    dy = (a2 - Y) / n if loss == "half_se" else 2 * (a2 - Y) / (k * n)  # mse averages over the outputs
    d2 = dy * f[act2][1](a2)
    da1 = d2 @ w2.T
    d1 = da1 * f[act1][1](a1)
    return dict(X=X, z1=z1, a1=a1, z2=z2, a2=a2, dy=dy, s2=f[act2][1](a2), d2=d2, dW2=a1.T @ d2,
                db2=d2.sum(0), da1=da1, d1=d1, dW1=X.T @ d1, db1=d1.sum(0))


W1, B1 = np.array([[0.5, 0.6], [0.7, 0.8]]), np.array([0.1, 0.2])
W2, B2 = np.array([[0.9], [0.1]]), np.array([0.3])
S = reference([1.0, 2.0], [0.5], W1, B1, W2, B2)  # the seed example


def written(values, digits=4):
    """Numbers as a student writes them: rounded to ``digits`` decimals, as text."""
    if isinstance(values, (list, tuple, np.ndarray)):
        return [written(v, digits) for v in values]
    return Decimal(f"{float(values):.{digits}f}")


def verdicts(subject, answers):
    return check(subject, parse_answers({"answers": {k: written(v) for k, v in answers.items()}}))


def named(report, key):
    v = report[key]
    assert v.verdict == "wrong", (key, v)
    return [m.key for m in v.mistakes]


@pytest.fixture(scope="module")
def seed():
    return network_subject(load_problem(SEED))


def test_activation_derivative_forgotten(seed):
    # δ₂ without σ′(z₂) is ∂L/∂ŷ = ŷ − y = 0.2657; from the student's own δ₂, δ₁ without σ′(z₁) is
    # ∂L/∂a₁ = 0.2657·W₂ = [0.23913, 0.02657]
    delta1 = 0.2657 * W2[:, 0]
    r = verdicts(seed, {"delta2": S["dy"][0, 0], "delta1": delta1})
    assert round(S["dy"][0, 0], 4) == 0.2657
    assert "act_grad_forgotten" in named(r, "delta2") and "act_grad_forgotten" in named(r, "delta1[0]")
    assert dict(r["delta2"].mistakes[0].args) == {"f": "σ", "k": "₂"}
    assert "activation derivative forgotten: σ′(z₂) left out" in r.render("text")
    # δ₁ = ∂L/∂a₁ of the *correct* δ₂ ([0.0429, 0.0048]) does not follow from this student's δ₂ by the
    # mistake: the student's own numbers rule it out
    r = verdicts(seed, {"delta2": S["dy"][0, 0], "delta1": S["da1"][0]})
    assert "act_grad_forgotten" not in named(r, "delta1[0]")


def test_sigma_prime_taken_as_sigma(seed):
    # σ′(z₂) written as σ(z₂) = ŷ = 0.7657, and δ₂ = 0.2657 × 0.7657 = 0.2035
    r = verdicts(seed, {"da2/dz2": S["a2"][0, 0]})
    assert "act_grad_as_f" in named(r, "da2/dz2")
    r = verdicts(seed, {"delta2": S["dy"][0, 0] * S["a2"][0, 0]})
    assert round(S["dy"][0, 0] * S["a2"][0, 0], 4) == 0.2035 and "act_grad_as_f" in named(r, "delta2")


def test_sigma_prime_from_z_instead_of_a(seed):
    # z₂(1 − z₂) = 1.1844 × (−0.1844) = −0.2184 instead of a₂(1 − a₂) = 0.1794
    z2 = S["z2"][0, 0]
    r = verdicts(seed, {"da2/dz2": z2 * (1 - z2)})
    assert round(z2 * (1 - z2), 4) == -0.2184 and "act_grad_at_z" in named(r, "da2/dz2")


@pytest.mark.parametrize("factor,key", [(2, "loss_grad_doubled"), (0.5, "loss_grad_halved"), (-1, "loss_grad_sign")])
def test_loss_derivative_factor(seed, factor, key):
    # ½(ŷ − y)² differentiated as 2(ŷ − y) (the ½ dropped), ½(ŷ − y) (applied twice), y − ŷ (sign)
    assert key in named(verdicts(seed, {"dL/dy_hat": factor * S["dy"][0, 0]}), "dL/dy_hat")
    assert key in named(verdicts(seed, {"delta2": factor * S["d2"][0, 0]}), "delta2")
    # written together, δ₂ follows from the student's own ∂L/∂ŷ: carried, not a second mistake
    r = verdicts(seed, {"dL/dy_hat": factor * S["dy"][0, 0], "delta2": factor * S["d2"][0, 0]})
    assert r["delta2"].verdict == "carried"


def test_the_losss_own_factor_dropped_in_l_itself(seed):
    # L = ½(ŷ − y)² = ½ × 0.26571² = 0.035302 → 0.0353; the ½ left out: 0.070603 → 0.0706; applied
    # twice: ¼ × 0.070603 = 0.017651 → 0.0177 (the same slips as in ∂L/∂ŷ, named in L itself)
    dy = S["a2"][0, 0] - 0.5
    assert (round(0.5 * dy * dy, 4), round(dy * dy, 4), round(0.25 * dy * dy, 4)) == (0.0353, 0.0706, 0.0177)
    r = verdicts(seed, {"loss": dy * dy})
    assert named(r, "loss")[0] == "loss_factor_dropped" and dict(r["loss"].mistakes[0].args)["factor"] == "½"
    assert "the factor ½ of L = ½(ŷ − y)² left out" in r.render("text")
    assert named(verdicts(seed, {"loss": 0.25 * dy * dy}), "loss")[0] == "loss_factor_twice"


ONE_LAYER = dict(x=[0.5, -1.0], w=np.array([[0.4, -0.3, 0.2], [0.1, 0.5, -0.6]]), b=np.array([0.1, 0.0, -0.2]))


def one_layer(loss, activation, y):
    """A 2-3 network of one layer, its loss worked by hand: (subject, L)."""
    z = np.array(ONE_LAYER["x"]) @ ONE_LAYER["w"] + ONE_LAYER["b"]  # [0.2, -0.65, 0.5]
    p = {"identity": z, "sigmoid": sigmoid(z), "softmax": np.exp(z) / np.exp(z).sum()}[activation]
    y = np.array(y, dtype=float)
    by_hand = {"half_se": lambda: np.sum(0.5 * (p - y) ** 2), "mse": lambda: np.mean((p - y) ** 2),
               "mae": lambda: np.mean(np.abs(p - y)),
               "bce": lambda: -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)),
               "bce_logits": lambda: -np.mean(y * np.log(sigmoid(z)) + (1 - y) * np.log(1 - sigmoid(z))),
               "cce": lambda: -np.sum(y * np.log(p)),
               "cce_logits": lambda: -np.sum(y * np.log(np.exp(z) / np.exp(z).sum())),
               "hinge": lambda: np.mean(np.maximum(0, 1 - y * z))}
    subject = network_subject(parse_problem({
        "layers": [{"weights": ONE_LAYER["w"].tolist(), "bias": ONE_LAYER["b"].tolist(), "activation": activation}],
        "data": {"x": ONE_LAYER["x"], "y": y.tolist()}, "loss": loss, "optimizer": {"name": "sgd", "lr": 0.1}}))
    return subject, float(by_hand[loss]())


# every loss of the spec table: its constant factors by hand (½ of half_se, 1/n of a mean over the n = 3
# outputs, the minus sign of a cross-entropy), the slipped L, and the message's factor
LOSS_SLIPS = [
    ("half_se", "identity", [0.0, 1.0, 0.0], 2.0, "loss_factor_dropped", "½"),
    ("half_se", "identity", [0.0, 1.0, 0.0], 0.5, "loss_factor_twice", "½"),
    ("mse", "identity", [0.0, 1.0, 0.0], 3.0, "loss_factor_dropped", "1/n"),
    ("mse", "identity", [0.0, 1.0, 0.0], 1 / 3, "loss_factor_twice", "1/n"),
    ("mae", "identity", [0.0, 1.0, 0.0], 3.0, "loss_factor_dropped", "1/n"),
    ("bce", "sigmoid", [1.0, 0.0, 1.0], -1.0, "loss_sign_dropped", None),
    ("bce", "sigmoid", [1.0, 0.0, 1.0], 3.0, "loss_factor_dropped", "1/n"),
    ("bce_logits", "identity", [1.0, 0.0, 1.0], -1.0, "loss_sign_dropped", None),
    ("cce", "softmax", [0.0, 1.0, 0.0], -1.0, "loss_sign_dropped", None),
    ("cce_logits", "identity", [0.0, 1.0, 0.0], -1.0, "loss_sign_dropped", None),
    ("hinge", "identity", [1.0, -1.0, 1.0], 3.0, "loss_factor_dropped", "1/n"),
]


def test_every_losss_own_factors_are_read_from_its_spec():
    from tracegrad.nn.losses import LOSSES

    assert {case[0] for case in LOSS_SLIPS} == set(LOSSES)


@pytest.mark.parametrize("loss,activation,y,factor,key,text", LOSS_SLIPS, ids=lambda c: str(c))
def test_a_losss_own_factor_slipped_in_l(loss, activation, y, factor, key, text):
    subject, value = one_layer(loss, activation, y)
    slipped = factor * value
    assert abs(round(slipped, 4) - round(value, 4)) > 0.0002  # the slip shows at four decimals
    r = verdicts(subject, {"loss": slipped})
    assert key in named(r, "loss")[:r["loss"].equivalent], (named(r, "loss"), r["loss"].equivalent)
    mistake = next(m for m in r["loss"].mistakes if m.key == key)
    if text is not None:
        assert dict(mistake.args)["factor"] == text
    assert verdicts(subject, {"loss": value})["loss"].verdict == "correct"


def test_update_sign_and_learning_rate(seed):
    g = S["dW2"][:, 0]  # [0.041987, 0.043704]
    cases = {"update_sign": W2[:, 0] + 0.1 * g,  # [0.9042, 0.1044]
             "lr_missing": W2[:, 0] - g,  # [0.8580, 0.0563]
             "lr_twice": W2[:, 0] - 0.01 * g}  # [0.8996, 0.0996]
    for key, new in cases.items():
        r = verdicts(seed, {"W2_new": new})
        assert key in named(r, "W2_new[0]") and key in named(r, "W2_new[1]"), key
    assert "lr_missing" in named(verdicts(seed, {"step_W2": g}), "step_W2[0]")


def test_weight_gradient_transposed(seed):
    # ∂L/∂W₁ = Xᵀδ₁ = [[0.0045, 0.0004], [0.0090, 0.0007]] in the in_out layout; written as δ₁ᵀX
    # (rows = units) without declaring it, the off-diagonal elements are each other's
    turned = S["dW1"].T
    r = verdicts(seed, {"dL/dW1": turned})
    assert r["dL/dW1[0][0]"].verdict == "correct"
    assert "gradient_transposed" in named(r, "dL/dW1[0][1]") and "gradient_transposed" in named(r, "dL/dW1[1][0]")
    # the update subtracting the transposed gradient position by position (the document's own slip)
    r = verdicts(seed, {"W1_new": W1 - 0.1 * turned})  # [[0.4995, 0.5991], [0.7000, 0.7999]]
    assert "gradient_transposed" in named(r, "W1_new[0][1]")


def test_rounding_too_early(seed):
    # every intermediate rounded to two decimals: a₁ = [0.88, 0.92], z₂ = 0.88·0.9 + 0.92·0.1 + 0.3 = 1.184 → 1.18,
    # ŷ = σ(1.18) = 0.76494 (the correct ŷ is 0.7657)
    y_hat = 1 / (1 + math.exp(-1.18))
    r = verdicts(seed, {"y_hat": y_hat})
    assert round(y_hat, 4) == 0.7649
    mistakes = r["y_hat"].mistakes
    assert [(m.key, dict(m.args)) for m in mistakes] == [("rounded_early", {"n": 2})]


def test_an_unexplained_number_gets_no_diagnosis(seed):
    assert named(verdicts(seed, {"delta2": 0.1234}), "delta2") == []


# --- batches, several outputs, reused values -----------------------------------------------

BATCH = dict(x=[[1.0, 2.0], [0.5, -1.0], [-1.5, 0.5]], y=[[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]],
             w1=np.array([[0.5, -0.3], [0.2, 0.8]]), b1=np.array([0.1, -0.1]),
             w2=np.array([[0.7, -0.4], [0.3, 0.6]]), b2=np.array([0.05, 0.0]))


def batch_problem(loss):
    return network_subject(parse_problem({
        "layers": [{"weights": BATCH["w1"].tolist(), "bias": BATCH["b1"].tolist(), "activation": "tanh"},
                   {"weights": BATCH["w2"].tolist(), "bias": BATCH["b2"].tolist(), "activation": "sigmoid"}],
        "data": {"x": BATCH["x"], "y": BATCH["y"]}, "loss": loss, "optimizer": {"name": "sgd", "lr": 0.5}}))


@pytest.fixture(scope="module")
def mse_batch():
    p = {k: BATCH[k] for k in ("x", "y", "w1", "b1", "w2", "b2")}
    return batch_problem("mse"), reference(act1="tanh", loss="mse", **p)


def test_batch_gradient_summed_instead_of_averaged(mse_batch):
    subject, ref = mse_batch
    r = verdicts(subject, {"dL/dW2": 3 * ref["dW2"], "dL/db2": 3 * ref["db2"]})  # N = 3 samples
    assert "batch_summed" in named(r, "dL/dW2[0][0]") and "batch_summed" in named(r, "dL/db2[1]")
    assert dict(r["dL/db2[1]"].mistakes[0].args) == {"n": 3}


def test_outputs_summed_where_the_loss_averages(mse_batch):
    subject, ref = mse_batch
    r = verdicts(subject, {"dL/dW2": 2 * ref["dW2"]})  # mse averages over its K = 2 outputs
    assert "outputs_summed" in named(r, "dL/dW2[0][0]") and "batch_summed" not in named(r, "dL/dW2[0][0]")


def test_outputs_averaged_where_the_loss_sums():
    subject = batch_problem("half_se")
    ref = reference(act1="tanh", **{k: BATCH[k] for k in ("x", "y", "w1", "b1", "w2", "b2")})
    r = verdicts(subject, {"dL/db2": ref["db2"] / 2})  # half_se adds up its two outputs' terms
    assert "outputs_averaged" in named(r, "dL/db2[0]")


def test_tanh_derivative_from_z_in_a_network_ending_in_sigmoid(mse_batch):
    # layer 1 is tanh, layer 2 sigmoid: tanh′ from z₁ is 1 − z₁², not the sigmoid's z₁(1 − z₁)
    subject, ref = mse_batch
    z1 = ref["z1"]
    r = verdicts(subject, {"da1/dz1": 1 - z1 * z1})
    assert "act_grad_at_z" in named(r, "da1/dz1[1][1]")  # z₁ = −1.05: 1 − z₁² = −0.1025, z₁(1 − z₁) = −2.1525


def test_gradient_of_a_reused_value_overwritten(mse_batch):
    subject, ref = mse_batch
    # ∂L/∂W₂ sums the three samples' contributions a₁ₛᵀδ₂ₛ; only the first sample's kept (the last one the
    # backward pass adds): a₁[0]ᵀ·δ₂[0]
    first = np.outer(ref["a1"][0], ref["d2"][0])
    r = verdicts(subject, {"dL/dW2": first})
    assert "accumulation_overwritten" in named(r, "dL/dW2[0][0]")
    # ∂L/∂a₁[s][j] sums over the two output units: δ₂[s][0]·W₂[j][0] + δ₂[s][1]·W₂[j][1]; only unit 0 kept
    r = verdicts(subject, {"dL/da1": ref["d2"][:, :1] * BATCH["w2"][:, 0]})
    assert "accumulation_overwritten" in named(r, "dL/da1[0][0]")


# --- optimizer slips -------------------------------------------------------------------------

G = S["dW2"][0, 0]  # ∂L/∂W₂[0] = 0.041987 of the seed, where W₂[0] = 0.9


def seed_dict(**optimizer) -> dict:
    """The seed example as a problem table, with another optimizer."""
    seed = load_problem(SEED)
    return {"layers": [{"weights": [list(r) for r in layer.weights], "bias": list(layer.bias),
                        "activation": layer.activation} for layer in seed.layers],
            "data": {"x": list(seed.x[0]), "y": seed.y[0][0]}, "optimizer": optimizer}


def seed_with(optimizer_factory=None, **optimizer):
    return network_subject(parse_problem(seed_dict(**optimizer)), optimizer_factory=optimizer_factory)


def adam_step(g, m, v, t, lr, b1, b2, eps, correct=True, inside=False):
    m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
    m_hat, v_hat = (m / (1 - b1 ** t), v / (1 - b2 ** t)) if correct else (m, v)
    return lr * m_hat / (math.sqrt(v_hat + eps) if inside else math.sqrt(v_hat) + eps)


def w2_new(subject, value):
    return verdicts(subject, {"W2_new": [value, 0.1]})


def test_momentum_coefficient_omitted():
    # Nesterov: v = g, p − η(g + μv) = 0.9 − 0.1·1.9·g = 0.8920; with μ left out, p − η(g + v) = 0.8916
    subject = seed_with(name="sgd", lr=0.1, momentum=0.9, nesterov=True)
    assert verdicts(subject, {"W2_new": [0.9 - 0.1 * 1.9 * G, 0.1 - 0.1 * 1.9 * S["dW2"][1, 0]]}).passed
    assert "momentum_omitted" in named(w2_new(subject, 0.9 - 0.1 * 2 * G), "W2_new[0]")


def test_adam_bias_correction_omitted():
    subject = seed_with(name="adam", lr=0.01)
    wrong = 0.9 - adam_step(G, 0, 0, 1, 0.01, 0.9, 0.999, 1e-8, correct=False)  # 0.9 − 0.0316 = 0.8684
    assert round(wrong, 4) == 0.8684
    assert "adam_no_bias_correction" in named(w2_new(subject, wrong), "W2_new[0]")


def test_epsilon_inside_the_square_root():
    subject = seed_with(name="adam", lr=0.01, eps=0.001)
    right = 0.9 - adam_step(G, 0, 0, 1, 0.01, 0.9, 0.999, 0.001)  # 0.9 − 0.01·g/(|g| + 0.001) = 0.8902
    wrong = 0.9 - adam_step(G, 0, 0, 1, 0.01, 0.9, 0.999, 0.001, inside=True)  # 0.9 − 0.01·g/√(g² + 0.001)
    assert (round(right, 4), round(wrong, 4)) == (0.8902, 0.8920)
    assert "eps_inside_sqrt" in named(w2_new(subject, wrong), "W2_new[0]")
    subject = seed_with(name="rmsprop", lr=0.01, alpha=0.99, eps=0.001)
    wrong = 0.9 - 0.01 * G / math.sqrt(0.01 * G * G + 0.001)  # s = (1 − α)g²
    assert "eps_inside_sqrt" in named(w2_new(subject, wrong), "W2_new[0]")


@pytest.mark.parametrize("optimizer,root", [("adam", "v̂"), ("rmsprop", "s")])
def test_the_epsilon_slip_names_the_optimizers_own_root(optimizer, root):
    """RMSprop divides by √s + ε and Adam by √v̂ + ε: each slip says which root it moved ε into."""
    from tracegrad.render.environment import Catalog

    subject = seed_with(name=optimizer, lr=0.01, eps=0.001)
    slip = next(m for m in subject.mutations() if m.key == "eps_inside_sqrt")
    assert Catalog("en")(f"check.mistake.{slip.key}", **dict(slip.args)) == \
        f"ε inside the square root (√({root} + ε) instead of √{root} + ε)"
    assert f"√({root} + ε)" in Catalog("zh")(f"check.mistake.{slip.key}", **dict(slip.args))


def test_each_optimizer_declares_its_own_slips():
    import tracegrad as tg
    from tracegrad.nn.optim import OPTIMIZERS

    p = [tg.Value(0.5)]
    keys = {name: [s.key for s in OPTIMIZERS[name](p, lr=0.1).slips()] for name in ("sgd", "rmsprop", "adam")}
    assert keys == {"sgd": ["update_sign", "lr_twice", "lr_missing"],
                    "rmsprop": ["update_sign", "lr_twice", "lr_missing", "eps_inside_sqrt"],
                    "adam": ["update_sign", "lr_twice", "lr_missing", "adam_no_bias_correction", "betas_swapped",
                             "step_count_ahead", "step_count_behind", "eps_inside_sqrt"]}
    assert "momentum_omitted" in [s.key for s in OPTIMIZERS["momentum"](p, lr=0.1).slips()]
    assert "weight_decay_decoupled" in [s.key for s in OPTIMIZERS["adam"](p, lr=0.1, weight_decay=0.1).slips()]
    assert not any(s.key.startswith("weight_decay") for s in OPTIMIZERS["adamw"](p, lr=0.1).slips())


def second_adam_step(params, settings):
    """Adam after one earlier step: m = 0.01, v = 0.0001, t = 1 for every parameter."""
    from tracegrad.nn.optim import Adam

    optimizer = Adam(params, **settings)
    optimizer.state = [{"t": 1, "m": 0.01, "v": 0.0001} for _ in params]
    return optimizer


def test_betas_swapped_on_a_second_step():
    subject = seed_with(second_adam_step, name="adam", lr=0.01)
    right = 0.9 - adam_step(G, 0.01, 0.0001, 2, 0.01, 0.9, 0.999, 1e-8)
    wrong = 0.9 - adam_step(G, 0.01, 0.0001, 2, 0.01, 0.999, 0.9, 1e-8)
    assert w2_new(subject, right)["W2_new[0]"].verdict == "correct"
    assert "betas_swapped" in named(w2_new(subject, wrong), "W2_new[0]")
    # on a first step the swap cancels exactly (m̂ = g, v̂ = g² whatever the betas): nothing to see
    assert math.isclose(adam_step(G, 0, 0, 1, 0.01, 0.9, 0.999, 1e-8), adam_step(G, 0, 0, 1, 0.01, 0.999, 0.9, 1e-8))


def test_step_counter_off_by_one():
    first = seed_with(name="adam", lr=0.01)
    ahead = 0.9 - adam_step(G, 0, 0, 2, 0.01, 0.9, 0.999, 1e-8)  # t = 2 on the first step: 0.9 − 0.0074
    assert round(ahead, 4) == 0.8926
    assert "step_count_ahead" in named(w2_new(first, ahead), "W2_new[0]")
    second = seed_with(second_adam_step, name="adam", lr=0.01)
    behind = 0.9 - adam_step(G, 0.01, 0.0001, 1, 0.01, 0.9, 0.999, 1e-8)  # t = 1 on the second step
    assert "step_count_behind" in named(w2_new(second, behind), "W2_new[0]")


def test_weight_decay_coupled_where_decoupled_was_asked():
    subject = seed_with(name="adam", lr=0.01, weight_decay=0.1, decoupled=True)
    right = 0.9 - adam_step(G, 0, 0, 1, 0.01, 0.9, 0.999, 1e-8) - 0.01 * 0.1 * 0.9  # AdamW: 0.8891
    coupled = 0.9 - adam_step(G + 0.1 * 0.9, 0, 0, 1, 0.01, 0.9, 0.999, 1e-8)  # g + λp into Adam: 0.8900
    assert (round(right, 4), round(coupled, 4)) == (0.8891, 0.89)
    assert verdicts(subject, {"W2_new": [right, 0.0]})["W2_new[0]"].verdict == "correct"
    assert "weight_decay_coupled" in named(w2_new(subject, coupled), "W2_new[0]")


def test_mazurs_errors_with_the_half_left_out():
    # Mazur: E_o1 = ½(0.01 − 0.75136507)² = 0.274811083, E_o2 = 0.023560026, E_total = 0.298371109; with the
    # ½ of each term left out, 0.549622166, 0.047120052 and E_total = 0.596742218 (their sum, carried)
    from pathlib import Path

    subject = network_subject(load_problem(Path(SEED).parent / "mazur.toml"))
    h = [1 / (1 + math.exp(-(0.15 * 0.05 + 0.2 * 0.1 + 0.35))), 1 / (1 + math.exp(-(0.25 * 0.05 + 0.3 * 0.1 + 0.35)))]
    out = [1 / (1 + math.exp(-(0.4 * h[0] + 0.45 * h[1] + 0.6))), 1 / (1 + math.exp(-(0.5 * h[0] + 0.55 * h[1] + 0.6)))]
    terms = [(0.01 - out[0]) ** 2, (0.99 - out[1]) ** 2]
    assert [round(t / 2, 9) for t in terms] == [0.274811083, 0.023560026]
    answers = {"loss_terms": [Decimal(f"{t:.9f}") for t in terms], "loss": Decimal(f"{sum(terms):.9f}")}
    assert answers["loss"] == Decimal("0.596742218")
    r = check(subject, parse_answers({"answers": answers}))
    assert "loss_factor_dropped" in [m.key for m in r["loss_terms[0]"].mistakes[:r["loss_terms[0]"].equivalent]]
    assert r["loss"].verdict == "carried"
