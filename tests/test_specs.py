"""The spec tables (activations, losses, optimizers): each entry's written formulas agree with
what the engine computes, and a new entry is enough to use a new loss everywhere."""

import math
import random
from pathlib import Path

import numpy as np
import pytest

import tracegrad as tg
from tracegrad.core.formula import Frac, Num, Sym, Total, bars, call, cases, half, is_close
from tracegrad.nn.activations import ACTIVATIONS
from tracegrad.nn.losses import LOSSES, Loss
from tracegrad.nn.optim import OPTIMIZERS

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name", [n for n, s in ACTIVATIONS.items() if s.derivative is not None])
def test_activation_derivative_formula_matches_the_op_table(name):
    spec = ACTIVATIONS[name]
    rng = random.Random(name)
    for _ in range(20):
        z0 = rng.uniform(-3, 3)
        z = tg.Value(z0)
        (a,) = spec([z], 0.1)
        a.backward()
        written = spec.derivative(Sym("z", "z", "z"), Sym("a", "a", "a"), 0.1).evaluate({"z": z0, "a": a.data})
        # the engine's local derivative da/dz, from a plain central difference as a third opinion
        h = 1e-6
        up, down = spec([tg.Value(z0 + h)], 0.1)[0].data, spec([tg.Value(z0 - h)], 0.1)[0].data
        assert math.isclose(float(written), z.grad, rel_tol=1e-12, abs_tol=1e-15)
        assert math.isclose(float(written), (up - down) / (2 * h), rel_tol=1e-5, abs_tol=1e-8)


def _targets(loss: Loss, rng, n):
    if loss.labels == "sign":
        return [rng.choice((-1.0, 1.0)) for _ in range(n)]
    if loss.labels == "one_hot":
        hot = rng.randrange(n)
        return [1.0 if k == hot else 0.0 for k in range(n)]
    if loss.labels == "binary":
        return [rng.choice((0.0, 1.0, 0.3)) for _ in range(n)]
    return [rng.uniform(-1, 1) for _ in range(n)]


@pytest.mark.parametrize("name", sorted(LOSSES))
@pytest.mark.parametrize("outputs", [1, 3])
def test_loss_formula_and_derivative_match_the_engine(name, outputs):
    loss = LOSSES[name]
    rng = random.Random(f"{name}{outputs}")
    p, y, n = Sym("p", "p", "p"), Sym("y", "y", "y"), Sym("n", "n", "n")
    formula, derivative = loss.formula(p, y, n, outputs), loss.derivative(p, y, n, outputs)
    for _ in range(10):
        if loss.expects == "probabilities":
            raw = [rng.uniform(0.05, 0.95) for _ in range(outputs)]
            if loss.labels == "one_hot":
                total = sum(raw)
                raw = [r / total for r in raw]
        else:
            raw = [rng.uniform(-2, 2) for _ in range(outputs)]
        target = _targets(loss, rng, outputs)
        leaves = [tg.Value(v) for v in raw]
        value = loss(leaves, target)
        value.backward()
        env = {"p": np.array([raw]), "y": np.array([target]), "n": float(outputs)}
        assert is_close(formula.evaluate(env), value.data, rel=1e-12)
        # the derivative by the loss's input: by hand (central differences) and by the engine
        engine = [v.grad for v in leaves]
        assert is_close(derivative.evaluate(env), np.array([engine]), rel=1e-9, abs_=1e-12)


def _random_names(opt, rng):
    values = {"p": rng.uniform(-1, 1), "g": rng.uniform(-1, 1), "t": 2.0}
    values.update(opt.hyperparameters())
    state = {}
    for key, v in opt.initial_state().items():
        state[key] = 1 if key == "t" else abs(rng.uniform(0.01, 0.2))
        if key != "t":
            values[f"prev_{key}"] = state[key]
    return values, state


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
@pytest.mark.parametrize("decay", ["none", "coupled", "decoupled"])
def test_optimizer_formulas_are_its_rule(name, decay):
    cls = OPTIMIZERS[name]
    kwargs = {"lr": 0.05}
    if name == "sgd":
        kwargs["momentum"] = 0.5
    if decay != "none":
        kwargs["weight_decay"] = 0.1
        if name != "adamw":
            kwargs["decoupled"] = decay == "decoupled"
    elif name == "adamw":
        kwargs["weight_decay"] = 0.0
    opt = cls([tg.Value(0.0)], **kwargs)
    rng = random.Random(f"{name}{decay}")
    values, state = _random_names(opt, rng)
    new_p, terms = opt.update(values["p"], values["g"], state)
    names = {k: Sym(k, k, k) for k in ["p", "g", "t", *values, *terms]}
    names["dL"] = Sym("dL", "dL", "dL")
    for setting in cls.settings:
        names.setdefault(setting.name, Sym(setting.name, setting.name, setting.name))
    env = dict(values)
    if opt.weight_decay and not opt.decoupled:
        env["g"] = values["g"] + opt.weight_decay * values["p"]  # the gradient line computes it
    for key, formula in opt.update_formulas(names):
        got = float(formula.evaluate({**env, "dL": values["g"]}))
        expected = new_p if key == "new" else (env["g"] if key == "g" else terms[key])
        assert math.isclose(got, expected, rel_tol=1e-12), (key, formula.math().text)
        env[key] = got


# --- a new loss is one entry --------------------------------------------------------------

def _quartic(p, y):
    from tracegrad.core.functional import sum as total

    terms = [0.25 * (a - b) ** 4 for a, b in zip(p, y)]
    return terms[0] if len(terms) == 1 else total(terms)


QUARTIC = Loss("quartic", False, _quartic, sums_outputs=True,
               formula=lambda p, y, n, k: Frac(Num(1), Num(4)) * (p - y) ** 4 if k == 1
               else Total(Frac(Num(1), Num(4)) * (p - y) ** 4, "units", "i"),
               derivative=lambda p, y, n, k: (p - y) ** 3,
               derivative_slips=(("loss_grad_doubled", lambda n: 2.0),))


@pytest.fixture
def quartic(monkeypatch):
    monkeypatch.setitem(LOSSES, "quartic", QUARTIC)
    return QUARTIC


def test_a_new_loss_is_one_entry(quartic, tmp_path):
    seed = (ROOT / "examples" / "seed.toml").read_text()
    problem = tmp_path / "quartic.toml"
    problem.write_text(seed.replace('name = "half_se"', 'name = "quartic"'))
    derived = tg.derive(problem, format="text", verify=True)
    assert derived.ok
    # ŷ = σ(1.1844) with z₁ = [2.0, 2.4] as in the document; L = ¼(ŷ − 0.5)⁴, ∂L/∂ŷ = (ŷ − 0.5)³
    a1 = [1 / (1 + math.exp(-2.0)), 1 / (1 + math.exp(-2.4))]
    y_hat = 1 / (1 + math.exp(-(a1[0] * 0.9 + a1[1] * 0.1 + 0.3)))
    assert f"{0.25 * (y_hat - 0.5) ** 4:.4f}" in derived.text
    assert f"{(y_hat - 0.5) ** 3:.4f}" in derived.text
    assert "¼(ŷ − y)⁴" in derived.text or "(1/4)" in derived.text
    worked = tg.solve(tg.load_problem(problem))
    key = {"dL/dy_hat": worked.value("dL/dy_hat"), "loss": worked.value("loss")}
    report = tg.check(problem, {k: [round(x, 6) for x in v] if isinstance(v, tuple) else round(v, 6)
                                for k, v in key.items()})
    assert report.passed
    wrong = tg.check(problem, {"dL/dy_hat": [round(2 * (y_hat - 0.5) ** 3, 6)]})  # the entry's derivative slip
    assert not wrong.passed and any(m.key == "loss_grad_doubled" for m in wrong["dL/dy_hat[0]"].mistakes)


def test_the_problem_file_names_come_from_the_tables(quartic):
    from tracegrad.problem.schema import parse_problem

    for name in OPTIMIZERS:
        raw = {"layers": [{"weights": [1.0], "bias": 0.0, "activation": "sigmoid"}], "data": {"x": [1.0], "y": 0.5},
               "optimizer": {"name": name, "lr": 0.1}}
        assert parse_problem(raw).optimizer == name
    for name in ACTIVATIONS:
        raw = {"layers": [{"weights": [1.0, 2.0], "bias": 0.0, "activation": name}], "data": {"x": [1.0, 0.0], "y": 0.5}}
        assert parse_problem(raw).layers[0].activation == name
    raw["loss"] = "quartic"
    assert parse_problem(raw).loss == "quartic"


# --- a new op is one entry, and an activation on it another -----------------------------------

def _softsign_op():
    from tracegrad.core import notation as nt
    from tracegrad.core.ops import OpSpec

    # softsign(x) = x / (1 + |x|), softsign′(x) = 1 / (1 + |x|)², written with arithmetic only
    return OpSpec("softsign", 1, lambda x, p: x[0] / (1 + abs(x[0])), lambda x, o, p: (1 / (1 + abs(x[0])) ** 2,),
                  lambda sp, x, p: x[0] / (1 + sp.Abs(x[0])), nt.Function(r"\operatorname{softsign}", "softsign"),
                  (((0.3,), ()), ((-1.7,), ())), function=True,
                  numpy=lambda np, x, p: x[0] / (1 + np.abs(x[0])), monotone=True)


@pytest.fixture
def softsign(monkeypatch):
    from tracegrad.core.formula import bars
    from tracegrad.core.ops import FUNCTIONS, OPS
    from tracegrad.core.value import apply
    from tracegrad.nn.activations import ActivationSpec

    op = _softsign_op()
    monkeypatch.setitem(OPS, "softsign", op)
    monkeypatch.setitem(FUNCTIONS, "softsign", op)
    spec = ActivationSpec("softsign", r"\operatorname{softsign}", "softsign",
                          lambda z, alpha: [apply("softsign", (v,)) for v in z],
                          lambda x, _: x / (1 + bars(x)), lambda z, a, alpha: 1 / (1 + bars(z)) ** 2, op="softsign")
    monkeypatch.setitem(ACTIVATIONS, "softsign", spec)
    return spec


def test_a_new_op_and_activation_are_one_entry_each(softsign, tmp_path):
    problem = tmp_path / "softsign.toml"
    problem.write_text((ROOT / "examples" / "seed.toml").read_text().replace('"sigmoid"', '"softsign"'))
    derived = tg.derive(problem, format="text", verify=True)
    assert derived.ok, derived.text
    # by hand: z₁ = [2.0, 2.4] (as the document), a₁ = z₁ / (1 + z₁), z₂ = a₁·W₂ + b₂, ŷ = z₂ / (1 + z₂)
    a1 = [2.0 / 3.0, 2.4 / 3.4]
    z2 = a1[0] * 0.9 + a1[1] * 0.1 + 0.3
    y_hat = z2 / (1 + z2)
    assert "softsign(x) = x / (1 + |x|)" in derived.text  # the definition, a formula of the entry
    assert f"ŷ = softsign(z₂) = softsign({z2:.4f}) ≈ {y_hat:.4f}" in derived.text
    assert f"softsign′(z₂) = 1 / (1 + |z₂|)² = 1 / (1 + |{z2:.4f}|)² ≈ {1 / (1 + z2) ** 2:.4f}" in derived.text
    # the derivation's arithmetic and formulas hold, in both roundings (the line verifier)
    for rounding in ("exact", "carry"):
        assert tg.derive(problem, format="json", verify=True, rounding=rounding).ok
    # and a checked answer: δ₂ = (ŷ − y)·softsign′(z₂), by hand
    delta2 = (y_hat - 0.5) / (1 + z2) ** 2
    assert tg.check(problem, {"y_hat": [round(y_hat, 6)], "delta2": [round(delta2, 6)]}).passed
    assert not tg.check(problem, {"delta2": [round(delta2 * 1.5, 6)]}).passed


# --- a loss with cases on any condition ------------------------------------------------------

def _huber(p, y):
    """Huber's loss with δ = 1 on the engine: ½r² for |r| ≤ 1, else |r| − ½ (q = min(|r|, 1): ½q² + |r| − q)."""
    from tracegrad.core.functional import min as smaller, sum as total
    from tracegrad.core.value import const

    terms = []
    for a, b in zip(p, y):
        r = (a - b).abs()
        q = smaller(r, const(1.0))
        terms.append(0.5 * q * q + (r - q))
    return terms[0] if len(terms) == 1 else total(terms)


def _huber_formula(p, y, n, k):
    term = cases((bars(p - y) <= 1, half() * (p - y) ** 2), otherwise=bars(p - y) - half())
    return term if k == 1 else Total(term, "units", "i")


HUBER = Loss("huber", False, _huber, sums_outputs=True, formula=_huber_formula,
             derivative=lambda p, y, n, k: cases((bars(p - y) <= 1, p - y), otherwise=call("sign", p - y)))


@pytest.mark.parametrize("target", [0.5, 2.0])
def test_a_loss_with_cases_on_any_condition(monkeypatch, tmp_path, target):
    from tests.test_printer import assert_reads_back
    from tracegrad.problem.formulas import formula

    monkeypatch.setitem(LOSSES, "huber", HUBER)
    seed = (ROOT / "examples" / "seed.toml").read_text()
    problem = tmp_path / "huber.toml"
    problem.write_text(seed.replace('name = "half_se"', 'name = "huber"').replace("y = 0.5", f"y = {target}"))
    derived = tg.derive(problem, format="text", verify=True)
    assert derived.ok, derived.text
    # the condition as the textbook writes it, not as a sign of 1 − |ŷ − y|
    assert "L = (½(ŷ − y)² if |ŷ − y| ≤ 1 else |ŷ − y| − ½)" in derived.text
    assert "∂L/∂ŷ = (ŷ − y if |ŷ − y| ≤ 1 else sgn(ŷ − y))" in derived.text
    latex = tg.derive(problem, format="latex").text
    assert r"\left|\hat{y} - y\right| \le 1 \\ " in latex and r"\left|\hat{y} - y\right| > 1 \end{cases}" in latex
    for rounding in ("exact", "carry"):
        assert tg.derive(problem, format="json", verify=True, rounding=rounding).ok
    # by hand: ŷ = σ(a₁·W₂ + b₂), a₁ = σ(z₁) with z₁ = [2.0, 2.4] as in the document; r = ŷ − y
    a1 = [1 / (1 + math.exp(-2.0)), 1 / (1 + math.exp(-2.4))]
    y_hat = 1 / (1 + math.exp(-(a1[0] * 0.9 + a1[1] * 0.1 + 0.3)))
    r = y_hat - target
    loss, slope = (0.5 * r * r, r) if abs(r) <= 1 else (abs(r) - 0.5, math.copysign(1.0, r))
    worked = tg.solve(tg.load_problem(problem))
    assert math.isclose(worked.value("loss"), loss, rel_tol=1e-12)
    assert tg.check(problem, {"loss": round(loss, 6), "dL/dy_hat": [round(slope, 6)]}).passed
    for name in ("loss", "dL/dy_hat"):
        assert_reads_back(formula(worked, worked.quantities[name]), name)
