"""Question banks: a worked problem as quiz questions, with the diagnosed mistakes as answers.

:func:`problem_bank` turns a network problem into a :class:`Bank` of plain data,
one :class:`Question` per printed quantity element (z₁[0] … W₁ⁿᵉʷ[1][1]; a value
printed under two names, such as ∂L/∂b₂ = δ₂, is asked once). Each question holds
the step's formula, the numbers it needs (the quantities and given numbers its
expansion reads, shown at the display precision) and its answers:

* the right value, and the value the numbers *as shown* give when it differs
  beyond the tolerance (both full marks);
* for each likely mistake of the checker (:mod:`tracegrad.checker.mutations`),
  the value that mistake gives in this step, replayed through the graph from the
  right earlier values (a mistake in an earlier step does not reach this one;
  a mistaken factor of this step, such as σ′(z₂) left out of δ₂, does). A mistake
  value within the tolerance of a right one is dropped; mistakes giving the same
  value share one answer.

Every tolerance comes from :func:`answer_tolerance`, the problem's grading policy (what
``tracegrad check`` accepts);
the writers in :mod:`tracegrad.render.banks` lay the data out as Moodle XML, Canvas
QTI 1.2 or GIFT.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from ..checker.policy import problem_policy
from ..checker.subject import network_subject
from ..core.errors import InputError
from ..core.nested import cells
from ..core.notation import Math, Y, element, var
from ..core.numbers import NumberFormat
from ..core.replay import replay_floats
from ..problem.schema import Problem, load_problem, parse_problem, read_file
from ..problem.solve import Worked, solve
from ..render import mathtext as mt
from ..problem.kinds import caption
from .derive import number_format

MOODLE_FRACTIONS = (0, 5, 10, 11.11111, 12.5, 14.28571, 16.66667, 20, 25, 30, 33.33333, 40, 50, 60,
                    66.66667, 70, 75, 80, 83.33333, 90, 100)
"""The grades (percent) Moodle accepts for an answer: a mistake's credit is one of them."""

SETTING_SYMBOLS = {
    "lr": Math(r"\eta", "η"), "momentum": Math(r"\mu", "μ"), "beta1": Math(r"\beta_{1}", "β₁"),
    "beta2": Math(r"\beta_{2}", "β₂"), "eps": Math(r"\epsilon", "ε"), "alpha": Math(r"\alpha", "α"),
    "weight_decay": Math(r"\lambda", "λ"),
}
"""Symbols of optimizer settings shown beside an update question."""


# --- the one tolerance rule: the teacher's grading policy ------------------------------


def answer_format(problem: Problem) -> NumberFormat:
    """The precision answers are asked for: the grading policy's (:mod:`tracegrad.checker.policy`;
    by default the problem's display precision)."""
    return problem_policy(problem).answer_format


def answer_tolerance(problem: Problem, value: float) -> float:
    """The ± an answer of ``value`` is accepted within, by the problem's grading policy: what
    ``tracegrad check`` accepts (by default half a unit in the last place, one and a half
    units from three significant figures, where one unit off in the last digit counts)."""
    return problem_policy(problem).tolerance_for(value)


# --- the data ------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """One answer: ``value`` ± ``tolerance`` earns ``fraction`` percent. ``kind`` is
    ``right`` (the exact value), ``shown`` (computed from the given numbers as shown)
    or ``mistake``; ``mistakes`` are ``(key, args)`` of the checker's messages
    ``check.mistake.<key>``."""

    value: float
    tolerance: float
    fraction: float
    kind: str
    mistakes: tuple = ()


@dataclass(frozen=True)
class Given:
    """A number a question shows: ``symbol = value``."""

    symbol: Math
    value: Math


@dataclass(frozen=True)
class Question:
    """One printed quantity element. ``caption`` is a catalog key and its arguments
    (``("caption.a", (("k", 1),))``); ``statement`` is ``symbol = formula`` (or None);
    ``step`` the correct step with its numbers (``a₁[1] = σ(2.4) ≈ 0.9168``)."""

    key: str  # as an answers file addresses it: a1[1]
    label: Math  # a₁[1]
    caption: tuple
    indexed: bool
    statement: Math | None
    givens: tuple
    step: Math
    answers: tuple

    @property
    def right(self) -> tuple:
        return tuple(a for a in self.answers if a.kind != "mistake")

    @property
    def wrong(self) -> tuple:
        return tuple(a for a in self.answers if a.kind == "mistake")


@dataclass(frozen=True)
class Category:
    """The questions of one problem (a variant): ``name`` is its file stem, ``givens`` every
    number the problem gives (for a question holding the whole derivation)."""

    name: str
    precision: NumberFormat
    givens: tuple
    questions: tuple


@dataclass(frozen=True)
class Bank:
    """Categories of questions under one title (the problem's, else its file stem)."""

    title: str
    lang: str
    categories: tuple


# --- building ------------------------------------------------------------------------


def problem_bank(path, *, mistake_credit: float = 0) -> Bank:
    """The bank of the network problem file at ``path``: one category."""
    source = str(path)
    if "expression" in read_file(Path(path)):
        raise InputError("question banks are made from network problems, not expression problems", file=source)
    problem = load_problem(path)
    stem = Path(path).stem
    return Bank(problem.title or stem, problem.render.lang, (category(problem, stem, mistake_credit),))


def variants_bank(variants: list, stems: list, title: str, lang: str, *, mistake_credit: float = 0) -> Bank:
    """One bank holding a category per variant (``variants`` from
    :func:`~tracegrad.workflows.variants.generate`, named by ``stems``)."""
    cats = tuple(category(parse_problem(v.data, f"{stem}.toml"), stem, mistake_credit)
                 for v, stem in zip(variants, stems))
    return Bank(title, lang, cats)


def check_options(to: str, *, cloze: bool = False, mistake_credit: float = 0) -> float:
    """The options of a bank in format ``to``, refused when the format cannot carry them;
    returns the mistakes' credit (one of Moodle's grades below 100)."""
    if not any(math.isclose(mistake_credit, f, abs_tol=1e-9) for f in MOODLE_FRACTIONS[:-1]):
        raise InputError(f"--mistake-credit must be one of Moodle's grades below 100 "
                         f"({', '.join(str(f) for f in MOODLE_FRACTIONS[:-1])}), got {mistake_credit:g}")
    if cloze and to != "moodle":
        raise InputError("--cloze makes a Moodle Cloze question; use it with --to moodle")
    if to == "qti" and mistake_credit:
        raise InputError("--mistake-credit cannot apply to Canvas: it counts every answer of a numerical "
                         "question as correct, so mistakes are written as feedback")
    return mistake_credit


def category(problem: Problem, name: str, mistake_credit: float = 0) -> Category:
    """The questions of one problem."""
    worked = solve(problem)
    subject = network_subject(worked)
    fmt = answer_format(problem)
    display = number_format(problem=problem)  # the numbers a question shows, as the derivation prints them
    elements = _elements(worked)
    asked = {node for _, _, node in elements}
    names = {node: qname for qname, _, node in elements}  # the quantity a question's node is asked under
    exact = [rec.data for rec in worked.trace.nodes]
    shown = replay_floats(worked.trace, pins={i: display.round(exact[i]) for i in asked})
    mistaken = [(m, _mistake_values(worked, m, asked)) for m in subject.mutations()]
    groups = _given_groups(worked)
    questions = []
    for qname, position, node in elements:
        q = worked.quantities[qname]
        symbol = subject.symbols[qname]
        indexed = len(q.indices()) > 1  # a quantity of one element reads as a number: ŷ, not ŷ[0]
        label = element(symbol, position) if indexed else symbol
        formula = subject.formulas.get(qname)
        statement = symbol + Math(" = ", " = ") + formula if formula is not None and formula.text != symbol.text \
            else None
        givens = _givens(worked, node, names, subject, display, groups)
        answers = _answers(problem, exact[node], shown[node], [(m, values[node]) for m, values in mistaken],
                           mistake_credit)
        questions.append(Question(_key(qname, position), label, _caption_of(worked, q), indexed, statement,
                                  givens, _step(worked, node, asked, label, display), answers))
    return Category(name, fmt, _problem_givens(worked, groups), tuple(questions))


def _elements(worked: Worked) -> list:
    """``(name, position, node)`` of every question: each value the derivation prints on a line
    of its own, in its order; a value already asked under an earlier name (∂L/∂b = δ) is not
    asked again."""
    out, seen = [], set()
    for name, q in worked.quantities.items():
        if not q.printed or (q.kind == "a" and q.layer == worked.depth and "y_hat" in worked.quantities):
            continue
        for position, node in cells(q.nodes):
            if node not in seen and not worked.trace.nodes[node].is_leaf:
                seen.add(node)
                out.append((name, position, node))
    return out


def _key(name: str, position: tuple) -> str:
    return name + "".join(f"[{i}]" for i in position)


def _caption_of(worked, q) -> tuple:
    key, params = caption(worked, q)
    return key, tuple(params.items())


def _answers(problem, exact: float, shown: float, mistakes: list, credit: float) -> tuple:
    """The right value, the value from the shown numbers when distinguishable, then one answer
    per distinct mistake value that no right answer accepts."""
    right = [Choice(exact, answer_tolerance(problem, exact), 100, "right")]
    if math.isfinite(shown) and not _accepts(right, shown):
        right.append(Choice(shown, answer_tolerance(problem, shown), 100, "shown"))
    wrong: list = []
    for m, value in mistakes:
        if not math.isfinite(value) or _accepts(right, value):
            continue
        for i, w in enumerate(wrong):
            if _accepts([w], value):
                if (m.key, m.args) not in w.mistakes:
                    wrong[i] = Choice(w.value, w.tolerance, w.fraction, w.kind, w.mistakes + ((m.key, m.args),))
                break
        else:
            wrong.append(Choice(value, answer_tolerance(problem, value), credit, "mistake", ((m.key, m.args),)))
    return tuple(right + wrong)


def _accepts(choices, value: float) -> bool:
    return any(abs(value - c.value) <= c.tolerance * (1 + 1e-9) for c in choices)


def _mistake_values(worked: Worked, m, asked: set) -> tuple:
    """What each node computes under mutation ``m`` from the right values of the asked nodes:
    a step's own value under the mistake, from the numbers its question shows (a mistake made
    in an earlier step does not reach it)."""
    exact = worked.trace.nodes
    if m.trace is None:
        pins = {i: exact[i].data for i in asked}
        values = replay_floats(worked.trace, {**pins, **m.pins}, m.overrides)
        return tuple(values[m.reads.get(i, i)] for i in range(len(values)))
    where = {}  # subject node → the same element's node in the mutation's own trace
    for name, q in worked.quantities.items():
        if name in m.quantities:
            where.update(zip(q.indices(), _flat(m.quantities[name])))
    pins = {where[i]: exact[i].data for i in asked if i in where}
    values = replay_floats(m.trace, {**pins, **m.pins}, m.overrides)
    return tuple(values[where[i]] if i in where else exact[i].data for i in range(len(exact)))


def _flat(nested) -> list:
    return [node for _, node in cells(nested)]


def _step(worked: Worked, node: int, asked: set, label: Math, fmt: NumberFormat) -> Math:
    """``label = the node's op with the numbers of its operands ≈ value``."""
    expansion = mt.expand(worked.trace, node, asked, fmt)
    value = worked.trace.nodes[node].data
    out = label if expansion is None else label + Math(" = ", " = ") + expansion
    return out + (Math(r" \approx ", " ≈ ") if fmt.relation(value) == "≈" else Math(" = ", " = ")) \
        + mt.number(value, fmt)


# --- the numbers a question shows ----------------------------------------------------


def _given_groups(worked: Worked) -> dict:
    """``{(quantity, layer): Given}`` for the numbers the problem gives: X, y, W_k, b_k."""
    p = worked.problem
    x = [list(s) for s in p.x] if p.batch else list(p.x[0])
    y = [list(s) for s in p.y] if p.batch else (p.y[0][0] if len(p.y[0]) == 1 else list(p.y[0]))
    groups = {("x", None): Given(Math("X", "X"), _written(x)), ("y", None): Given(Y, _written(y))}
    for k, layer in enumerate(worked.layers, start=1):
        groups[("W", k)] = Given(var("W", k), _written([[w.data for w in row] for row in layer.weight_matrix]))
        bias = [b.data for b in layer.bias_values]
        groups[("b", k)] = Given(var("b", k), _written(bias[0] if layer.shared_bias else bias))
    return groups


def _written(values) -> Math:
    return mt.grid(values, lambda v: mt.number(v, None))


def _settings(worked: Worked) -> list:
    """The optimizer's settings as givens (η = 0.1 …)."""
    out = []
    for name, value in worked.problem.settings:
        if isinstance(value, bool):
            continue
        symbol = SETTING_SYMBOLS.get(name, Math(r"\text{" + name.replace("_", r"\_") + "}", name))
        out.append(Given(symbol, _written(list(value) if isinstance(value, tuple) else value)))
    return out


def _problem_givens(worked: Worked, groups: dict) -> tuple:
    """Every given number, for a question holding the whole derivation."""
    return tuple(groups.values()) + tuple(_settings(worked))


def _givens(worked, node, names, subject, fmt, groups) -> tuple:
    """The quantities (whole, as printed) and given numbers the step at ``node`` reads,
    walking through intermediate nodes no question asks; the optimizer's settings for an update."""
    nodes = worked.trace.nodes
    found, seen, stack = [], set(), list(reversed(nodes[node].inputs))
    while stack:  # operands left to right
        j = stack.pop()
        if j in seen:
            continue
        seen.add(j)
        rec = nodes[j]
        if j in names:
            key = names[j]
        elif rec.is_leaf and rec.role is not None and (rec.role.quantity, rec.role.layer) in groups:
            key = (rec.role.quantity, rec.role.layer)
        else:
            if not rec.is_leaf:
                stack.extend(reversed(rec.inputs))
            continue
        if key not in found:
            found.append(key)
    out = []
    for key in found:
        if isinstance(key, tuple):
            out.append(groups[key])
        else:
            out.append(Given(subject.symbols[key], mt.grid(worked.value(key), lambda v: mt.number(v, fmt))))
    if worked.quantities[names[node]].section == "update":
        out += _settings(worked)
    return tuple(out)


def bank_file(bank: Bank, to: str, *, cloze: bool = False, template_dir=None) -> str | bytes:
    """The bank written in format ``to``: ``moodle`` (XML text), ``qti`` (zip bytes) or ``gift`` (text)."""
    from ..render.banks.gift import write_gift
    from ..render.banks.moodle import write_moodle
    from ..render.banks.qti import write_qti

    credits = [c.fraction for cat in bank.categories for q in cat.questions for c in q.wrong]
    check_options(to, cloze=cloze, mistake_credit=max(credits, default=0))
    if to == "moodle":
        return write_moodle(bank, cloze=cloze, template_dir=template_dir)
    if to == "qti":
        return write_qti(bank, template_dir=template_dir)
    if to == "gift":
        return write_gift(bank, template_dir=template_dir)
    raise InputError(f"unknown bank format {to!r}; choose moodle, qti or gift")
