"""Verdicts: each written number judged the way a demanding teacher would, under the
teacher's :class:`~tracegrad.checker.policy.Policy`.

In this order:

1. ``correct`` — equal to the correct value, or (if the policy allows) to the
   carry-rounded value (every earlier printed value rounded to the same precision first);
2. ``carried`` — equal to the value recomputed from the student's **own earlier answers**
   (error carried forward: the graph replayed with them pinned); marked *degenerate* when
   it follows from an earlier wrong (or imprecise) answer that is degenerate, which the policy
   may credit less (:class:`Degenerate`): one that is 0, ±1 or a given number copied, or one
   that makes what follows trivial (most of the numbers after it 0, ±1, a given number or one of
   their own operands at their precision, which with it computed from the student's earlier
   answers they would not be). A wrong answer that its likely mistake reproduces at its written
   precision is a slip, not a copy or a choice: what follows from it is carried as usual;
3. ``correct`` / ``carried`` with ``last_digit`` — one unit off in the last written digit of
   the correct or the carried value (never of a carry-rounded one: leniencies do not stack),
   where the policy accepts it;
4. ``imprecise`` — any of these, but written with fewer digits than the policy's minimum
   (unless the digits left out are zeros);
5. ``wrong`` — with the likely mistakes (:mod:`~tracegrad.checker.mutations`): a mutation is
   named only when, replayed from the student's own answers, it reproduces the number at its
   written precision; they are ranked by how many of the student's other wrong numbers they
   also explain (and how few right ones they contradict); the first group of mutations that
   give the same numbers is the likely mistake, the rest are "also consistent".

A :class:`Grader` holds what is per problem (the carry-rounded replays, the prepared
mutations), so a class is judged with one.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from dataclasses import dataclass, replace
from decimal import Decimal
from heapq import heapify, heappop, heappush

from .answers import Answer, Answers, bind
from .mutations import Mutation, rounding_mutations, slip_mutations
from ..core.replay import node_value, pinned, replay_floats
from ..core.nested import flatten
from .tolerance import Tolerance, decimals_written, written_float

VERDICTS = ("correct", "carried", "imprecise", "wrong")
WRITTEN = Tolerance()
"""The written-precision rule: what a written number is, whatever the policy compares it with."""
NEUTRAL = (0.0, 1.0, -1.0)
"""Numbers after which nothing is computed (a product by 0, by ±1; a sum with 0)."""


@dataclass(frozen=True)
class Degenerate:
    """Why a wrong (or imprecise) answer makes what follows from it degenerate. ``kind``:
    ``"value"`` — it is 0, ±1 or a given number (``value``) at its written precision, and no
    likely mistake explains it as well; ``"effect"`` — it makes what follows trivial: of the
    ``following`` carried answers after it that would not be trivial with it computed from the
    student's earlier answers (``value``), ``trivial`` (their keys) are 0, ±1, a given number or
    one of their own operands at their precision."""

    kind: str
    value: float | None = None
    trivial: tuple = ()
    following: int = 0


@dataclass(frozen=True)
class Verdict:
    """The judgement of one written number. ``expected`` is the correct value,
    ``carried`` the value recomputed from the student's earlier answers (``None`` when
    they leave an op's domain), ``mistakes`` the mutations explaining a wrong number, best
    first, of which the first ``equivalent`` give the same numbers (the likely mistake), and
    ``reproduced`` the value each gives here; ``explains`` the student's wrong answers the likely
    mistake gives (this one among them); ``degenerate`` the keys of the degenerate earlier
    answers a carried value follows from, ``source`` why a wrong or imprecise answer is one
    (a :class:`Degenerate`, where something carried follows from it), ``coincides`` the given
    number a wrong answer equals though its likely mistake explains it (so it is no copy);
    ``credit`` what the verdict earns under the policy."""

    answer: Answer
    verdict: str
    expected: float
    carried: float | None
    last_digit: bool = False
    by_carry: bool = False
    mistakes: tuple = ()
    equivalent: int = 0
    degenerate: tuple = ()
    credit: float = 1.0
    reproduced: tuple = ()
    explains: frozenset = frozenset()
    source: Degenerate | None = None
    coincides: float | None = None

    @property
    def ok(self) -> bool:
        """Full credit."""
        return self.credit >= 1.0


@dataclass(frozen=True)
class Finding:
    """One likely mistake, counted once: ``mistakes`` the computations the student's numbers
    cannot tell apart (said as one sentence), ``keys`` the wrong answers it explains, in order
    (every element of a vector with its sign slipped)."""

    mistakes: tuple
    keys: tuple


def likely(v: Verdict) -> tuple:
    """The likely mistake of a wrong verdict: its first group of mutations, one of each message."""
    seen, out = set(), []
    for m in v.mistakes[:v.equivalent]:
        if (m.key, m.args) not in seen:
            seen.add((m.key, m.args))
            out.append(m)
    return tuple(out)


def findings(verdicts) -> tuple:
    """The likely mistakes of the wrong answers, each once: wrong answers with the same likely
    mistake share one :class:`Finding`, in the order of their first answer."""
    groups: dict = {}
    for v in verdicts:
        if v.verdict == "wrong" and v.mistakes:
            group = likely(v)
            groups.setdefault(frozenset((m.key, m.args) for m in group), (group, []))[1].append(v.answer.key)
    return tuple(Finding(group, tuple(keys)) for group, keys in groups.values())


def student_pins(bound) -> dict:
    """``{node: written value}``; a node answered under two names keeps its first answer."""
    pins: dict = {}
    for a in bound:
        pins.setdefault(a.node, float(a.written))
    return pins


def judge(subject, answers: Answers, policy=None) -> tuple:
    """A :class:`Verdict` per written number, in the subject's order of quantities."""
    return Grader(subject, policy).judge(answers)


class Grader:
    """Judges answers files against one subject under one policy (default: the subject's)."""

    def __init__(self, subject, policy=None):
        from .policy import policy_of

        self.subject = subject
        self.policy = policy or policy_of(subject)
        self.trace = subject.trace
        self.nodes = subject.trace.nodes
        self._carries: dict = {}
        self._prepared = None
        self._rounding: dict = {}
        self._consumers = None
        self._given = None
        self._positions: dict = {}

    # --- verdicts -------------------------------------------------------------------

    def judge(self, answers: Answers) -> tuple:
        policy = self.policy
        student = policy.admit(answers)
        bound = bind(answers, self.subject)
        pins = student_pins(bound)
        own = replay_floats(self.trace, pins=pins)
        first: dict = {}
        for a in bound:
            first.setdefault(a.node, a)
        verdicts = [self._verdict(a, own, student, None if first[a.node] is a else pins[a.node]) for a in bound]
        recomputed: dict = {}
        if self.subject.by_formula is not None and any(v.verdict == "wrong" for v in verdicts):
            verdicts, recomputed = self._by_formula(verdicts, own, pins, student)
        if any(v.verdict == "wrong" for v in verdicts):
            verdicts = self._diagnose(verdicts, pins, own, recomputed)
        if any(v.verdict == "carried" for v in verdicts):
            verdicts = self._degenerate(verdicts, pins, own)
        out = []
        for v in verdicts:
            credit = policy.credit_of(v.verdict, bool(v.degenerate))
            out.append(v if credit == v.credit else replace(v, credit=credit))
        return tuple(out)

    def carry(self, fmt) -> tuple:
        """The computation with every printed value rounded by ``fmt`` as it is computed."""
        if fmt not in self._carries:
            self._carries[fmt] = replay_floats(self.trace, pins={i: fmt.round for i in self.subject.printed})
        return self._carries[fmt]

    def _verdict(self, a: Answer, own: tuple, student, copied: float | None) -> Verdict:
        """``copied``: the student's answer for the same value under another name, written before
        (δ₂ for ∂L/∂b₂): what this one follows from as well."""
        policy, w = self.policy, a.written
        exact = self.nodes[a.node].data
        carried = own[a.node] if math.isfinite(own[a.node]) else None
        if copied is not None and carried is not None and not policy.matches(w, carried, student) and \
                policy.matches(w, copied, student):
            carried = copied
        if policy.matches(w, exact, student):
            v, reference = Verdict(a, "correct", exact, carried), exact
        elif policy.carry_rounding and policy.matches(w, by_carry := self.carry(policy.format_for(w))[a.node],
                                                      student):
            v, reference = Verdict(a, "correct", exact, carried, by_carry=True), by_carry
        elif carried is not None and policy.matches(w, carried, student):
            v, reference = Verdict(a, "carried", exact, carried), carried
        elif policy.near(w, exact, student):
            v, reference = Verdict(a, "correct", exact, carried, last_digit=True), exact
        elif carried is not None and policy.near(w, carried, student):
            v, reference = Verdict(a, "carried", exact, carried, last_digit=True), carried
        else:
            return Verdict(a, "wrong", exact, carried)
        return v if policy.precise(w, reference) else replace(v, verdict="imprecise")

    def _by_formula(self, verdicts: list, own: tuple, pins: dict, student) -> tuple:
        """Wrong answers that the quantity's printed formula gives from the student's own numbers
        (the graph may compute the same value another way): carried, at the written precision
        (another path is no reason for last-digit leniency on top). Returns the verdicts and the
        recomputed quantities."""
        policy, layouts = self.policy, self.subject.layouts
        values = {name: [pins.get(i, own[i]) for i in layout[2]] for name, layout in layouts.items()}
        recomputed = self.subject.by_formula({name: _nest(v, layouts[name][0]) for name, v in values.items()})
        out = []
        for v in verdicts:
            a = v.answer
            if v.verdict == "wrong" and a.name in recomputed:
                at = self._position(a.name, a.node)
                for x in (float(flat[at]) for flat in recomputed[a.name]):
                    if policy.matches(a.written, x, student):
                        v = replace(v, verdict="carried" if policy.precise(a.written, x) else "imprecise", carried=x)
                        break
            out.append(v)
        return out, recomputed

    def _position(self, name: str, node: int) -> int:
        """Where ``node`` is in quantity ``name``, in reading order."""
        if name not in self._positions:
            self._positions[name] = {n: k for k, n in enumerate(self.subject.layouts[name][2])}
        return self._positions[name][node]

    # --- error carried forward from a degenerate answer ------------------------------

    def given(self) -> tuple:
        """The problem's given numbers (inputs, targets, weights, biases) and 0, ±1."""
        if self._given is None:
            self._given = tuple(sorted({*NEUTRAL} | {r.data for r in self.nodes if r.op == ""}))
        return self._given

    def _degenerate(self, verdicts: list, pins: dict, own: tuple) -> list:
        """Mark each carried verdict with the degenerate answers it follows from (:class:`Degenerate`),
        each such answer with why, and each wrong answer that equals a given number only by its
        slip with the number (``coincides``)."""
        by_node: dict = {}
        for v in verdicts:
            by_node.setdefault(v.answer.node, v)
        names: dict = {}  # node -> every answer of its number (∂L/∂b₂ as well as δ₂)
        for v in verdicts:
            names.setdefault(v.answer.node, []).append(v.answer)
        after = [pins.get(i, x) for i, x in enumerate(own)]
        sources: dict = {}  # node -> Degenerate
        coincide: dict = {}  # node -> the given number a slip gives too
        trivial = {n for n, v in by_node.items()
                   if v.verdict == "carried" and self._trivial(v.answer.written, None, n, after)}
        suspects = self._upstream(trivial, by_node, pins)  # wrong answers some trivial number follows from
        for node, v in by_node.items():
            if v.verdict not in ("wrong", "imprecise"):
                continue
            hits = self._given_at(v.answer.written)
            hit = next((g for g in NEUTRAL if g in hits), hits[0] if hits else None)
            if self._explained(v, hit):
                if hit is not None:
                    coincide[node] = hit
            elif hit is not None:
                sources[node] = Degenerate("value", hit)
            elif node in suspects:
                found = self._trivializing(node, (by_node, names, pins), own, after, trivial)
                if found is not None:
                    sources[node] = found
        if not sources and not coincide:
            return verdicts
        reach: dict = {}  # node -> the degenerate (or coinciding) answers its value follows from

        def computed(rec):
            found = [reach[j] for j in rec.inputs if j in reach]
            return frozenset().union(*found) if found else None

        for rec in self.nodes[:max(by_node) + 1]:
            i = rec.index
            if i in sources or i in coincide:
                reach[i] = frozenset({i})
            elif i in pins:
                if by_node[i].verdict == "carried" and computed(rec):
                    reach[i] = computed(rec)
            elif computed(rec):
                reach[i] = computed(rec)
        followed: set = set()
        out = []
        for v in verdicts:
            if v.verdict == "carried":
                node = v.answer.node  # a second name of a number follows from its first answer
                found = (computed(self.nodes[node]) if by_node[node] is v else reach.get(node)) or frozenset()
                followed |= found
                keys = tuple(by_node[i].answer.key for i in sorted(found & sources.keys()))
                v = replace(v, degenerate=keys) if keys else v
            out.append(v)
        return [replace(v, source=sources[v.answer.node]) if v.answer.node in followed & sources.keys()
                and by_node[v.answer.node] is v else
                replace(v, coincides=coincide[v.answer.node]) if v.answer.node in followed & coincide.keys()
                and by_node[v.answer.node] is v else v for v in out]

    def _explained(self, v: Verdict, hit: float | None) -> bool:
        """Whether something other than copying or choosing explains the number at least as well:
        for a wrong one, its likely mistake gives it at the precision it is written with; for a 0
        or ±1, that mistake gives exactly that number (a derivative of ±1 with the batch mean left
        out) or also gives a number of the student's that is not 0 or ±1 (a slip seen only as
        numbers rounded to 0 cannot be told from zeros written to skip the work); for an imprecise
        answer equal to a given number other than 0 or ±1, it is the student's own value at the
        digits written."""
        neutral = hit in NEUTRAL
        if v.verdict == "imprecise":
            return not neutral
        given = [x for x in v.reproduced[:v.equivalent] if WRITTEN.matches(v.answer.written, x)]
        if not given or not neutral:
            return bool(given)
        return any(abs(x - hit) <= 1e-12 for x in given) or \
            any(not any(WRITTEN.matches(b.written, g) for g in NEUTRAL) for b in v.explains)

    def _upstream(self, nodes: set, by_node: dict, pins: dict) -> set:
        """The wrong answers that the carried answers at ``nodes`` follow from."""
        seen, stack, found = set(nodes), list(nodes), set()
        while stack:
            for j in self.nodes[stack.pop()].inputs:
                if j in seen:
                    continue
                seen.add(j)
                if j not in pins or by_node[j].verdict == "carried":
                    stack.append(j)
                elif by_node[j].verdict == "wrong":
                    found.add(j)
        return found

    def _trivializing(self, node: int, answered: tuple, own: tuple, after: list, trivial: set):
        """A :class:`Degenerate` of kind ``"effect"`` when the wrong answer at ``node`` makes most
        of the carried answers that follow from it trivial at their precision (0, ±1, a given
        number, or one of their operands: a gradient that vanishes, an update equal to what it
        updates), which they would not be with it computed from the student's earlier answers;
        else ``None``. ``answered``: ``(first verdict by node, answers by node, pins)``; ``trivial``:
        the carried answers that are."""
        by_node, names, pins = answered
        consumers, reached, stack, follow = self.consumers(), {node}, [node], []
        while stack:
            for i in consumers[stack.pop()]:
                if i in reached or (i in pins and by_node[i].verdict != "carried"):
                    continue
                reached.add(i)
                stack.append(i)
                if i in pins:
                    follow.append(i)
        follow.sort()
        now = trivial.intersection(follow)
        right = own[node] if math.isfinite(own[node]) else self.nodes[node].data
        unpinned = set(follow) | {node}
        fixed_pins = {i: x for i, x in pins.items() if i not in unpinned}
        fixed_pins[node] = right
        fixed_before = replay_floats(self.trace, fixed_pins, start=node, prefix=(own, after))
        fixed = [fixed_pins.get(i, x) for i, x in enumerate(fixed_before)]
        following = [i for i in follow if not self._trivial(by_node[i].answer.written, fixed[i], i, fixed)]
        made = [i for i in following if i in now]
        if not made or 2 * len(made) < len(following):
            return None
        return Degenerate("effect", right, tuple(a.key for i in made for a in names[i]),
                          sum(len(names[i]) for i in following))

    def _trivial(self, written: Decimal, value: float | None, node: int, values) -> bool:
        """Whether ``value`` (``None``: the written number itself), written at the precision of
        ``written``, is 0, ±1, a given number or one of the node's two operands (x − 0, x·1)."""
        rec = self.nodes[node]
        if value is not None:
            if not math.isfinite(value):
                return False
            written = WRITTEN.format_for(written).round_decimal(value)
        if self._given_at(written):
            return True
        if len(rec.inputs) != 2:
            return False
        w, unit = written_float(written)
        return any(abs(values[j] - w) <= 1.5 * unit and WRITTEN.matches(written, values[j]) for j in rec.inputs)

    def _given_at(self, written: Decimal) -> list:
        """The given numbers (and 0, ±1) that ``written`` is at its written precision."""
        given = self.given()
        w, unit = written_float(written)
        found = given[bisect_left(given, w - 1.5 * unit):bisect_right(given, w + 1.5 * unit)]
        return [g for g in found if WRITTEN.matches(written, g)]

    # --- likely mistakes --------------------------------------------------------------

    def _diagnose(self, verdicts: list, pins: dict, own: tuple, recomputed: dict) -> list:
        """The likely mistakes of each wrong answer; ``recomputed``: the quantities by their formulas
        from the student's numbers, where a slip of the answer's own quantity may have been made."""
        by_node: dict = {}
        for v in verdicts:
            by_node.setdefault(v.answer.node, []).append(v.answer)
        wrong = [v.answer for v in verdicts if v.verdict == "wrong"]
        is_wrong = set(wrong)
        after = [pins.get(i, x) for i, x in enumerate(own)]
        decimals = frozenset(self.policy.format_for(a.written).decimals or decimals_written(a.written)
                             for a in wrong)
        effects: dict = {}  # prepared mutation -> {answered node: the value it gives there, where it changes}
        evidence: dict = {}  # prepared mutation -> (wrong answers it reproduces, right ones it contradicts)
        live = [(pm, pm.blocked(pins)) for pm in (*self.prepared(), *self._rounding_for(decimals))]
        out = {}
        for a in wrong:
            found = []
            for pm, blocked in live:
                if not pm.may_change(a.node, blocked):
                    continue
                if pm not in effects:
                    effects[pm] = pm.effects(own, after, pins, by_node)
                x = effects[pm].get(a.node)
                if x is not None and not self._reproduces(a.written, x):
                    x = self._slip_of_formula(pm.mutation, a, recomputed)
                if x is None or not self._reproduces(a.written, x):
                    continue  # unchanged: the student's own answers already fail to give the number
                if pm not in evidence:
                    evidence[pm] = self._evidence(effects[pm], by_node, is_wrong)
                explained, contradicted = evidence[pm]
                rank = (-len(explained), len(contradicted), not self.policy.matches(a.written, x), len(found))
                # what the student's numbers can tell about it: mutations alike in this are indistinguishable
                found.append((rank, pm, evidence[pm], x))
            out[a] = self._ranked(found, a)
        return [replace(v, mistakes=out[v.answer][0], equivalent=out[v.answer][1], reproduced=out[v.answer][2],
                        explains=out[v.answer][3]) if v.answer in out else v for v in verdicts]

    def _slip_of_formula(self, m: Mutation, a: Answer, recomputed: dict):
        """A slip of the answer's own quantity (its sign, its decimal point) applied to the value its
        formula gives from the student's numbers, when one does."""
        if m.quantity != a.name or m.signature is None or m.signature[0] != "scaled" or a.name not in recomputed:
            return None
        at = self._position(a.name, a.node)
        for flat in recomputed[a.name]:
            x = m.signature[2] * float(flat[at])
            if self._reproduces(a.written, x):
                return x
        return None

    def _evidence(self, effect: dict, by_node: dict, is_wrong: set) -> tuple:
        """The student's wrong answers a mutation reproduces, and the right ones it changes away."""
        explained, contradicted = set(), set()
        for node, y in effect.items():
            for b in by_node[node]:
                if b in is_wrong:
                    if self._reproduces(b.written, y):
                        explained.add(b)
                elif not self._reproduces(b.written, y):
                    contradicted.add(b)
        return frozenset(explained), frozenset(contradicted)

    @staticmethod
    def _ranked(found: list, a: Answer) -> tuple:
        """``(mutations best first, size of the first group giving the same numbers, the value each
        gives, the wrong answers the first group gives)``. A slip of one quantity that repeats a
        named mistake's computation is dropped; of slips repeating each other, the one in the
        answer's own quantity is kept."""
        named = {item[1].mutation.signature for item in found if item[1].mutation.quantity is None}
        kept: dict = {}
        for rank, pm, prediction, x in found:
            m = pm.mutation
            if m.quantity is None or m.signature is None:
                kept[id(pm)] = (rank, pm, prediction, x)
            elif m.signature not in named:
                held = kept.get(m.signature)
                if held is None or (held[1].mutation.quantity != a.name and m.quantity == a.name):
                    kept[m.signature] = (rank if held is None else min(rank, held[0]), pm, prediction, x)
        ordered = sorted(kept.values(), key=lambda item: item[0])
        if not ordered:
            return (), 0, (), ()
        first = ordered[0][2]
        equivalent = sum(1 for item in ordered if item[2] == first)
        ordered = [item for item in ordered if item[2] == first] + [item for item in ordered if item[2] != first]
        return tuple(item[1].mutation for item in ordered), equivalent, tuple(item[3] for item in ordered), first[0]

    def _reproduces(self, written: Decimal, value: float) -> bool:
        return math.isfinite(value) and (self.policy.matches(written, value) or self.policy.near(written, value))

    def prepared(self) -> tuple:
        """The subject's mutations and slips, prepared once (duplicates of one computation dropped)."""
        if self._prepared is None:
            self._prepared = tuple(self._prepare(m) for m in (*self.subject.mutations(), *slip_mutations(self.subject)))
        return self._prepared

    def _rounding_for(self, decimals: frozenset) -> tuple:
        if decimals not in self._rounding:
            self._rounding[decimals] = tuple(self._prepare(m) for m in rounding_mutations(self.subject, decimals))
        return self._rounding[decimals]

    def _prepare(self, m: Mutation):
        if m.trace is None:
            return _Local(m, self)
        return _Whole(m, self.subject)

    def consumers(self) -> tuple:
        """For each node, the nodes that read it."""
        if self._consumers is None:
            out = [[] for _ in self.nodes]
            for rec in self.nodes:
                for i in set(rec.inputs):
                    out[i].append(rec.index)
            self._consumers = tuple(tuple(c) for c in out)
        return self._consumers


def _nest(flat: list, shape: tuple):
    """A flat list in reading order as nested lists of ``shape``."""
    if not shape:
        return flat[0]
    step = len(flat) // shape[0]
    return [_nest(flat[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])]


def _same(a: float, b: float) -> bool:
    return a == b or (a != a and b != b)


def _differs(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) != math.isnan(b)
    return abs(a - b) > 1e-12 * max(1.0, abs(b))


class _View:
    """Node values: the changed ones over the base."""

    __slots__ = ("changed", "base")

    def __init__(self, changed: dict, base: list):
        self.changed, self.base = changed, base

    def __getitem__(self, i):
        c = self.changed.get(i)
        return self.base[i] if c is None else c


class _Local:
    """A mutation of the subject's own trace, replayed by propagating only what it changes."""

    def __init__(self, m: Mutation, grader: Grader):
        self.mutation = m
        self.grader = grader
        self.seeds = tuple(sorted(set(m.overrides) | set(m.pins)))
        self.seed_set = frozenset(self.seeds)
        self._reach = None

    def blocked(self, pins: dict) -> bool:
        """Every node the mutation changes is pinned to the student's answer: it changes nothing
        beyond those answers themselves."""
        return all(i in pins for i in self.seeds)

    def may_change(self, node: int, blocked: bool) -> bool:
        """Whether the mutation can change what an answer at ``node`` is compared with (``blocked``:
        see :meth:`blocked`)."""
        if node in self.mutation.reads or node in self.seed_set:
            return True
        if blocked:
            return False
        if self._reach is None:
            cons, reach, stack = self.grader.consumers(), set(self.seeds), list(self.seeds)
            while stack:
                for c in cons[stack.pop()]:
                    if c not in reach:
                        reach.add(c)
                        stack.append(c)
            self._reach = frozenset(reach)
        return node in self._reach

    def effects(self, own: tuple, after: list, pins: dict, answered: dict) -> dict:
        """``{answered node: value}`` where the mutation, replayed from the student's answers,
        gives another value than the student's own answers do."""
        before = self.run(own, after, pins)
        reads = self.mutation.reads
        out = {}
        for node in (*before, *reads):
            if node in answered:
                t = reads.get(node, node)
                x = before.get(t, own[t])
                if _differs(x, own[node]):
                    out[node] = x
        return out

    def run(self, own: tuple, after: list, pins: dict) -> dict:
        """``{node: value before its pin}`` of every node the mutation recomputes."""
        nodes, cons = self.grader.nodes, self.grader.consumers()
        over, mpins = self.mutation.overrides, self.mutation.pins
        heap = list(self.seeds)
        heapify(heap)
        changed: dict = {}
        before: dict = {}
        view = _View(changed, after)
        while heap:
            i = heappop(heap)
            if i in before:
                continue
            x = node_value(nodes[i], view, over.get(i))
            before[i] = x
            y = pins[i] if i in pins else pinned(x, mpins.get(i))
            if not _same(y, after[i]):
                changed[i] = y
                for c in cons[i]:
                    heappush(heap, c)
        return before


class _Whole:
    """A mutation of the whole problem (its own trace, same quantity names): replayed from the
    first node where its trace departs from the subject's, with the student's answers mapped."""

    def __init__(self, m: Mutation, subject):
        self.mutation = m
        where = {}
        for name, nodes in subject.quantities.items():
            if name in m.quantities:
                where.update(zip(flatten(nodes), flatten(m.quantities[name])))
        self.where = where
        first: dict = {}
        for node in sorted(where):
            first.setdefault(where[node], node)
        # a quantity that is another one's node there (m̂ = m without bias correction) is a copy of it
        self.copies = {node for node, t in where.items() if first[t] != node}
        mine, theirs = subject.trace.nodes, m.trace.nodes
        start = 0
        for a, b in zip(mine, theirs):
            if (a.op, a.inputs, a.params) != (b.op, b.inputs, b.params) or (a.is_leaf and a.data != b.data):
                break
            start += 1
        self.start = start

    def blocked(self, pins: dict) -> bool:
        return False

    def may_change(self, node: int, blocked: bool) -> bool:
        t = self.where.get(node, -1)
        return t >= self.start or (t >= 0 and t != node)  # or the quantity is another node there (m̂ = m)

    def effects(self, own: tuple, after: list, pins: dict, answered: dict) -> dict:
        """``{answered node: value}`` where the mutated problem gives another value (a copy: the
        value of what it copies, as the student wrote it)."""
        before, values = self.run(own, after, pins)
        out = {}
        for node in answered:
            if self.may_change(node, False):
                t = self.where[node]
                x = values[t] if node in self.copies else before[t]
                if _differs(x, own[node]):
                    out[node] = x
        return out

    def run(self, own: tuple, after: list, pins: dict) -> tuple:
        """The values of the mutated trace before and after the student's (mapped) pins."""
        where = self.where
        mapped = {where[n]: x for n, x in pins.items() if n in where and n not in self.copies}
        before = replay_floats(self.mutation.trace, mapped, start=self.start, prefix=(own, after))
        return before, [mapped.get(i, x) for i, x in enumerate(before)]
