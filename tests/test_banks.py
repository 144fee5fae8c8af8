"""Question banks (Moodle XML, Canvas QTI 1.2, GIFT): each file validated against a schema of its
format (tests/schemas, written from the formats' documentation) and read back by a parser written
here from the same documentation, not from the writers; the right values checked against a
plain-Python computation of the seed example, the wrong ones against each mistake made by hand."""

import csv
import html
import io
import json
import math
import os
import random
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
import xmlschema

from tests.golden import ROOT, SEED
from tests.test_derive import display_places, hand, shown
from tracegrad.cli import main
from tracegrad.problem.schema import parse_problem
from tracegrad.workflows.export import answer_tolerance, bank_file, category, problem_bank, Bank

SCHEMAS = Path(__file__).resolve().parent / "schemas"
MOODLE = xmlschema.XMLSchema11(str(SCHEMAS / "moodle_quiz.xsd"))
QTI = xmlschema.XMLSchema10(str(SCHEMAS / "qti_v1p2_items.xsd"))
MANIFEST = xmlschema.XMLSchema10(str(SCHEMAS / "imscp_manifest.xsd"))
QTI_NS = {"q": "http://www.imsglobal.org/xsd/ims_qtiasiv1p2"}
CP_NS = {"cp": "http://www.imsglobal.org/xsd/imscp_v1p1"}
def tol(v):
    """What ``tracegrad check`` accepts for ``v`` under the seed's default grading policy: written at
    4 decimals, half a unit of the 4th decimal; one and a half units when the written answer has 3 or
    more significant figures (one unit off in the last digit counts there)."""
    written = Decimal(repr(v)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
    figures = len(str(abs(written)).replace(".", "").lstrip("0"))
    return (1.5 if figures >= 3 else 0.5) * 1e-4


# --- readers written from the formats' documentation ------------------------------------------


def read_moodle(text: str) -> list:
    """[(category, question dict)] of a Moodle XML file: numerical questions with their answers
    (fraction, value, tolerance, feedback) in file order, Cloze questions with their text."""
    out, current = [], None
    for q in ET.fromstring(text).findall("question"):
        kind = q.get("type")
        if kind == "category":
            current = q.findtext("category/text")
            continue
        entry = {"type": kind, "name": q.findtext("name/text"), "text": q.findtext("questiontext/text"),
                 "general": q.findtext("generalfeedback/text"), "id": q.findtext("idnumber")}
        entry["answers"] = [(float(a.get("fraction")), float(a.findtext("text")), float(a.findtext("tolerance")),
                             a.findtext("feedback/text")) for a in q.findall("answer")]
        out.append((current, entry))
    return out


def split_unescaped(text: str, separator: str) -> list:
    """``text`` split at each ``separator`` not preceded by a backslash escape."""
    parts, current, i = [], "", 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            current += text[i:i + 2]
            i += 2
        elif text.startswith(separator, i):
            parts.append(current)
            current, i = "", i + len(separator)
        else:
            current += text[i]
            i += 1
    return parts + [current]


def find_unescaped(text: str, char: str, start: int = 0) -> int:
    i = start
    while i < len(text):
        if text[i] == "\\":
            i += 2
        elif text[i] == char:
            return i
        else:
            i += 1
    return -1


def gift_unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), text)


def read_gift(text: str) -> list:
    """[(category, question dict)] of a GIFT file (questions separated by blank lines; ``//``
    comments; ``$CATEGORY:``; ``::name::[format]text{#=%w%value:tolerance#feedback … ####general}``)."""
    out, current = [], None
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = [line for line in block.split("\n") if not line.strip().startswith("//")]
        block = "\n".join(lines).strip()
        if not block:
            continue
        if block.startswith("$CATEGORY:"):
            current = block[len("$CATEGORY:"):].strip()
            continue
        assert block.startswith("::")
        end = block.index("::", 2)
        while block[end - 1] == "\\":  # an escaped colon inside the name
            end = block.index("::", end + 1)
        name, rest = block[2:end], block[end + 2:]
        start = find_unescaped(rest, "{")
        finish = find_unescaped(rest, "}", start)
        body, answers = rest[:start], rest[start + 1:finish].strip()
        assert body.startswith("[html]") and answers.startswith("#")
        answers, general = split_unescaped(answers[1:], "####")
        parsed = []
        for alt in split_unescaped(answers, "=")[1:]:
            weight = re.match(r"%(-?[0-9.]+)%", alt.strip())
            alt = alt.strip()[weight.end():]
            number, feedback = split_unescaped(alt, "#")
            value, tolerance = number.split(":")
            parsed.append((float(weight.group(1)), float(value), float(tolerance), gift_unescape(feedback.strip())))
        out.append((current, {"name": gift_unescape(name), "text": gift_unescape(body[len("[html]"):]),
                              "general": gift_unescape(general.strip()), "answers": parsed}))
    return out


def read_cloze(text: str) -> list:
    """The answer fields ``{n:NUMERICAL:alt~alt…}`` of a Cloze text, as Moodle's Cloze syntax reads
    them: ``=`` or ``%w%``, ``value:tolerance``, ``#feedback`` ending at an unescaped ``~`` or ``}``;
    in the feedback ``\\}`` is a brace and HTML entities are decoded."""
    fields = []
    for m in re.finditer(r"\{[0-9]*:NUMERICAL:", text):
        end = find_unescaped(text, "}", m.end())
        alts = []
        for alt in split_unescaped(text[m.end():end], "~"):
            weight = 100.0 if alt.startswith("=") else float(re.match(r"%(-?[0-9.]+)%", alt).group(1))
            alt = alt[1:] if alt.startswith("=") else alt[alt.index("%", 1) + 1:]
            number, feedback = alt.split("#", 1)
            value, tolerance = number.split(":")
            alts.append((weight, float(value), float(tolerance), html.unescape(feedback.replace("\\}", "}"))))
        fields.append(alts)
    return fields


def read_qti(data: bytes) -> tuple:
    """(manifest resources, {bank title: [question dict]}) of a QTI 1.2 zip as Canvas reads it:
    numerical items whose answers are <or><varequal>…<and><vargte/><varlte/></and></or>."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    manifest = ET.fromstring(archive.read("imsmanifest.xml"))
    resources = [(r.get("type"), r.get("href")) for r in manifest.findall("cp:resources/cp:resource", CP_NS)]
    banks = {}
    for _, href in resources:
        root = ET.fromstring(archive.read(href))
        bank = root.find("q:objectbank", QTI_NS)
        fields = {f.findtext("q:fieldlabel", namespaces=QTI_NS): f.findtext("q:fieldentry", namespaces=QTI_NS)
                  for f in bank.findall("q:qtimetadata/q:qtimetadatafield", QTI_NS)}
        items = []
        for item in bank.findall("q:item", QTI_NS):
            meta = {f.findtext("q:fieldlabel", namespaces=QTI_NS): f.findtext("q:fieldentry", namespaces=QTI_NS)
                    for f in item.findall("q:itemmetadata/q:qtimetadata/q:qtimetadatafield", QTI_NS)}
            text = item.findtext("q:presentation/q:material/q:mattext", namespaces=QTI_NS)
            unit = re.search(r"units of \\\(10\^\{-([0-9]+)\}\\\)", text)
            answers = []
            for cond in item.findall("q:resprocessing/q:respcondition", QTI_NS):
                exact = cond.findtext("q:conditionvar/q:or/q:varequal", namespaces=QTI_NS)
                if exact is None:
                    continue
                low = cond.findtext("q:conditionvar/q:or/q:and/q:vargte", namespaces=QTI_NS)
                high = cond.findtext("q:conditionvar/q:or/q:and/q:varlte", namespaces=QTI_NS)
                score = cond.findtext("q:setvar", namespaces=QTI_NS)
                link = cond.find("q:displayfeedback", QTI_NS).get("linkrefid")
                answers.append((Decimal(exact), Decimal(low), Decimal(high), float(score), link))
            feedback = {f.get("ident"): f.findtext("q:flow_mat/q:material/q:mattext", namespaces=QTI_NS)
                        for f in item.findall("q:itemfeedback", QTI_NS)}
            items.append({"ident": item.get("ident"), "title": item.get("title"), "meta": meta, "text": text,
                          "k": int(unit.group(1)) if unit else 0, "answers": answers, "feedback": feedback})
        banks[fields["bank_title"]] = items
    return resources, banks


# --- the seed example, by hand -------------------------------------------------------------------


def element(values: dict, key: str) -> float:
    """An element of a hand-computed quantity by its answers-file key, lengths of one left out."""
    name, index = re.match(r"([^\[]+)(.*)", key).groups()
    value = values[name]
    for i in map(int, re.findall(r"\[(\d+)\]", index)):
        value = value[i] if isinstance(value, list) else value
    while isinstance(value, list):
        value = value[0]
    return value


@pytest.fixture(scope="module")
def seed_bank():
    return problem_bank(SEED)


@pytest.fixture(scope="module")
def moodle(seed_bank):
    return bank_file(seed_bank, "moodle", cloze=True)


def by_id(moodle_text) -> dict:
    return {q["id"]: q for _, q in read_moodle(moodle_text) if q["type"] == "numerical"}


def test_moodle_file_is_valid_against_the_schema(moodle):
    MOODLE.validate(io.StringIO(moodle))


def test_the_schema_refuses_what_moodle_would_refuse(moodle):
    # the schema is no rubber stamp: a grade Moodle does not have, a wrong answer before the right one,
    # a question type it does not describe and a malformed category are each refused
    broken = [moodle.replace('fraction="0"', 'fraction="7"', 1),
              moodle.replace('<question type="numerical">', '<question type="essay">', 1),
              moodle.replace("$course$/top/", "top/", 1),
              re.sub(r'(<answer fraction="100".*?</answer>\n)(\s*<answer fraction="0".*?</answer>\n)',
                     r"\2\1", moodle, count=1, flags=re.S)]
    for text in broken:
        assert text != moodle
        assert not MOODLE.is_valid(io.StringIO(text))


def test_right_values_equal_a_hand_computation_of_the_seed_example(moodle):
    values = hand()
    questions = by_id(moodle)
    for key, q in questions.items():
        name = re.match(r"[^\[]+", key).group()
        if name not in values:  # a2 is ŷ; ∂L/∂b = δ is not asked twice
            continue
        fraction, value, tolerance, _ = q["answers"][0]
        assert fraction == 100 and tolerance == pytest.approx(tol(value), rel=1e-9), key
        assert math.isclose(value, element(values, key), rel_tol=1e-10, abs_tol=1e-12), key
    # every printed element is asked once: 31 questions for the seed network
    assert len(questions) == 31 and {"z1[0]", "y_hat[0]", "loss", "W1_new[1][1]", "b2_new[0]"} <= set(questions)


def test_numbers_as_shown_give_a_second_right_answer(moodle):
    # ∂L/∂W₁[1][1] = δ₁[1]·x[1]: 0.000727 in full precision, 2 × 0.00036 = 0.00072 from δ₁ as the derivation
    # shows it, within the tolerance of it: one right answer
    right = [(v, t) for f, v, t, _ in by_id(moodle)["dL/dW1[1][1]"]["answers"] if f == 100]
    d1 = hand()["delta1"][1]
    assert abs(2 * d1 - 2 * shown(d1)) < tol(2 * d1)
    assert right == [(pytest.approx(2 * d1, rel=1e-10), pytest.approx(tol(2 * d1)))]
    # with η = 100, W₁ⁿᵉʷ[1][1] = 0.8 − 100 × 0.000727 = 0.7273 in full precision, but 0.8 − 100 × 0.00073
    # = 0.727 from ∂L/∂W₁[1][1] as shown: 0.0003 apart, beyond 0.00015, so both are right
    table = seed_table()
    problem = parse_problem({**table, "optimizer": {"name": "sgd", "lr": 100}}, "p.toml")
    q = {q.key: q for q in category(problem, "p").questions}["W1_new[1][1]"]
    g = 2 * d1
    assert [(c.value, c.kind) for c in q.right] == [(pytest.approx(0.8 - 100 * g), "right"),
                                                    (pytest.approx(0.8 - 100 * shown(g)), "shown")]


def wrong(q) -> dict:
    """{value: feedback} of a question's answers below full marks."""
    return {v: fb for f, v, t, fb in q["answers"] if f < 100}


def named(feedback_html: str, message: str) -> bool:
    return message in html.unescape(feedback_html)


def test_mistake_values_equal_the_mistakes_made_by_hand(moodle):
    h, questions = hand(), by_id(moodle)
    yh, y, z2 = h["y_hat"], 0.5, h["z2"]
    dy, s2 = yh - y, yh * (1 - yh)

    def answer(key, value):
        """The feedback of the one wrong answer accepting ``value`` (mistakes within the tolerance of
        each other share an answer)."""
        matches = [fb for f, v, t, fb in questions[key]["answers"] if f < 100 and abs(v - value) <= t]
        assert len(matches) == 1, (key, value, wrong(questions[key]))
        return matches[0]

    # each question's mistakes are made in its own step, from the numbers it shows: δ₂ = ∂L/∂ŷ ⊙ σ′(z₂) with
    # σ′ left out gives ∂L/∂ŷ; σ′(z₂) itself, taken as σ, gives ŷ, and computed from z gives z(1 − z)
    assert named(answer("delta2[0]", dy), "activation derivative forgotten: σ′(z₂) left out")
    assert named(answer("da2/dz2[0]", yh), "σ′(z₂) taken as σ(z₂)")
    assert named(answer("da2/dz2[0]", z2 * (1 - z2)), "σ′ computed from z₂")
    # ∂L/∂ŷ itself: doubled (the ½ of ½(ŷ − y)² dropped), halved, negated
    assert named(answer("dL/dy_hat[0]", 2 * dy), "the ½ of ½(ŷ − y)² dropped")
    assert named(answer("dL/dy_hat[0]", -dy), "loss derivative with the wrong sign")
    answer("dL/dy_hat[0]", dy / 2)
    assert s2 > 0  # σ′(z₂) = ŷ(1 − ŷ), shown to the δ₂ question: no loss-derivative mistake reaches δ₂
    assert not any(math.isclose(v, 2 * dy * s2, rel_tol=1e-9) for v in wrong(questions["delta2[0]"]))
    # ∂L/∂W₁ transposed: [0][1] takes δ₁[0]·x[1]; the update of W₁[1][0] subtracts η·∂L/∂W₁[0][1]
    d1, x, lr, W1 = h["delta1"], [1.0, 2.0], 0.1, [[0.5, 0.6], [0.7, 0.8]]
    assert named(answer("dL/dW1[0][1]", d1[0] * x[1]), "∂L/∂W₁ transposed")
    assert named(answer("W1_new[1][0]", W1[1][0] - lr * d1[1] * x[0]), "∂L/∂W₁ transposed")
    g = d1[0] * x[1]  # ∂L/∂W₁[1][0]
    assert named(answer("W1_new[1][0]", W1[1][0] + lr * g), "sign flipped in the update")
    assert named(answer("W1_new[1][0]", W1[1][0] - g), "learning rate not applied")
    assert named(answer("W1_new[1][0]", W1[1][0] - lr * lr * g), "learning rate applied twice")
    # every wrong answer's feedback also shows the correct step
    assert all("The correct step" in fb for q in questions.values() for fb in wrong(q).values())


def test_indistinguishable_mistakes_are_dropped(moodle):
    # W₁[0][1] − η²·g differs from W₁[0][1] − η·g by 0.1 × 0.0004 × 0.9 = 0.00003 < 0.00005: no answer;
    # mistakes of earlier steps do not reach a step whose inputs are given (∂L/∂W₂ has no wrong answers)
    q = by_id(moodle)
    h = hand()
    g = h["delta1"][1]
    assert not any(math.isclose(v, 0.6 - 0.01 * g, rel_tol=1e-9) for v in wrong(q["W1_new[0][1]"]))
    assert not wrong(q["dL/dW2[0][0]"])
    assert [named(fb, "bias left out of z₁") for fb in wrong(q["z1[0]"]).values()] == [True]  # z₁'s own mistake
    for question in q.values():
        right = [(v, t) for f, v, t, _ in question["answers"] if f == 100]
        for value in wrong(question):
            assert all(abs(value - r) > t for r, t in right), question["id"]


def test_mistakes_giving_the_same_value_share_one_answer():
    # a batch of two: summing instead of averaging (×2) and dropping the ½ (×2) give the same ∂L/∂ŷ
    problem = parse_problem({
        "layers": [{"weights": [[0.5], [0.7]], "bias": [0.1], "activation": "sigmoid"}],
        "data": {"x": [[1, 2], [0, 1]], "y": [[0.5], [1.0]]}}, "batch.toml")
    q = {q.key: q for q in category(problem, "batch").questions}["dL/dy_hat[0][0]"]
    keys = [[k for k, _ in c.mistakes] for c in q.wrong]
    assert ["loss_grad_doubled", "batch_summed"] in keys
    assert len({round(c.value, 12) for c in q.wrong}) == len(q.wrong)


def test_the_tolerance_is_the_grading_policys():
    # what tracegrad check accepts: half a unit of the compared precision; one and a half units where the
    # answer has 3 significant figures or more (one unit off in the last digit counts); the policy's own
    # [grading] table changes both
    for extra, value, expected in (({"render": {"decimals": 4}}, 0.0477, 0.00015),
                                   ({"render": {"decimals": 4}}, 0.0048, 0.00005),
                                   ({"render": {"decimals": 2}}, 12.3, 0.015),
                                   ({"render": {"sig_figs": 3}}, 0.047686, 0.00015),
                                   ({"render": {"sig_figs": 2}}, 0.047686, 0.0005),
                                   ({"render": {"sig_figs": 2}}, 0.0, 0.05),
                                   ({"grading": {"last_digit": "never"}}, 0.0477, 0.00005),
                                   ({"grading": {"decimals": 2}}, 0.0477, 0.005),
                                   ({"grading": {"absolute": 0.001}}, 0.0477, 0.001)):
        problem = parse_problem({**seed_table(), **extra}, "p.toml")
        assert math.isclose(answer_tolerance(problem, value), expected), (extra, value)


def seed_table() -> dict:
    return {"layers": [{"weights": [[0.5, 0.6], [0.7, 0.8]], "bias": [0.1, 0.2], "activation": "sigmoid"},
                       {"weights": [[0.9], [0.1]], "bias": [0.3], "activation": "sigmoid"}],
            "data": {"x": [1, 2], "y": 0.5}}


def test_question_text_states_formula_numbers_and_precision(moodle):
    q = by_id(moodle)["delta2[0]"]
    text = html.unescape(q["text"])
    assert r"\(\delta_{2} = \frac{\partial L}{\partial \hat{y}} \odot \sigma'\left(z_{2}\right)\)" in text
    assert r"\frac{\partial L}{\partial \hat{y}} = 0.2657" in text and r"\sigma'\left(z_{2}\right) = 0.1794" in text
    assert "rounded to 4 decimals" in text
    matrix = html.unescape(by_id(moodle)["z1[0]"]["text"])  # & of a LaTeX matrix, escaped in the HTML
    assert r"\begin{bmatrix}0.5 & 0.6 \\ 0.7 & 0.8\end{bmatrix}" in matrix and "&amp;" in by_id(moodle)["z1[0]"]["text"]


def test_cloze_question_holds_the_whole_derivation(moodle, seed_bank):
    cloze = [q for _, q in read_moodle(moodle) if q["type"] == "multianswer"]
    assert len(cloze) == 1
    fields = read_cloze(cloze[0]["text"])
    questions = seed_bank.categories[0].questions
    assert len(fields) == len(questions)
    for field, q in zip(fields, questions):
        assert [(w, t) for w, _, t, _ in field] == [(c.fraction, c.tolerance) for c in q.answers]
        assert [v for _, v, _, _ in field] == [pytest.approx(c.value, rel=1e-10) for c in q.answers]
    feedback = [fb for field in fields for _, _, _, fb in field]
    assert any("σ′(z₂) left out" in fb for fb in feedback)
    assert all(r"\)" in fb and "{" in fb for fb in feedback)  # LaTeX braces came through the escaping


def test_gift_reads_back_the_same_answers(seed_bank):
    text = bank_file(seed_bank, "gift")
    read = read_gift(text)
    questions = seed_bank.categories[0].questions
    assert len(read) == len(questions)
    for (cat, got), q in zip(read, questions):
        assert cat == "$course$/top/seed/seed"
        assert [(w, t) for w, _, t, _ in got["answers"]] == [(c.fraction, c.tolerance) for c in q.answers]
        assert [v for _, v, _, _ in got["answers"]] == [pytest.approx(c.value, rel=1e-10) for c in q.answers]
        assert got["name"].endswith(q.label.text) and r"\(" in got["text"] and "The correct step" in got["general"]
    delta2 = next(g for _, g in read if g["name"].endswith("δ₂"))
    assert r"\frac{\partial L}{\partial \hat{y}}" in delta2["text"]  # backslashes and braces unescaped
    assert any("σ′(z₂) left out" in fb for _, _, _, fb in delta2["answers"])


def test_qti_package_is_valid_and_canvas_safe(seed_bank):
    data = bank_file(seed_bank, "qti")
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.namelist() == sorted(archive.namelist())
    assert all(i.date_time == (1980, 1, 1, 0, 0, 0) for i in archive.infolist())
    MANIFEST.validate(io.BytesIO(archive.read("imsmanifest.xml")))
    resources, banks = read_qti(data)
    assert [t for t, _ in resources] == ["imsqti_xmlv1p2"]
    for _, href in resources:
        QTI.validate(io.BytesIO(archive.read(href)))
    items = banks["seed"]
    questions = seed_bank.categories[0].questions
    assert len(items) == len(questions)
    for item, q in zip(items, questions):
        assert item["meta"] == {"question_type": "numerical_question", "points_possible": "1.0"}
        # a margin below Canvas's four decimals is asked in units of 10⁻ᵏ, k the smallest making every margin
        # at least 0.005: 10⁻² for a value printed to 4 decimals (±0.00005), more for a small one (0.00036)
        smallest = min(c.tolerance for c in q.answers)
        assert item["k"] == next(k for k in range(12) if smallest * 10 ** k >= 0.005 * (1 - 1e-12))
        scale = Decimal(10) ** item["k"]
        assert len(item["answers"]) == len(q.right)
        for (exact, low, high, score, link), c in zip(item["answers"], q.right):
            assert score == 100 and link in item["feedback"]
            assert all(-n.as_tuple().exponent <= 4 for n in (exact, low, high))  # Canvas keeps 4 decimals
            margin = high - exact
            assert margin == exact - low and margin >= Decimal("0.005")
            assert math.isclose(float(margin / scale), c.tolerance, rel_tol=1e-12)
            assert abs(float(exact / scale) - c.value) <= c.tolerance / 100  # rounding moves a bound < 1 %
        incorrect = html.unescape(item["feedback"]["general_incorrect_fb"])
        for c in q.wrong:  # mistakes are feedback here: Canvas counts every answer it holds as correct
            shown = format(Decimal(repr(c.value)).scaleb(item["k"]).quantize(Decimal("0.0001")).normalize(), "f")
            assert f"about {shown}:" in incorrect, (q.key, shown)
    assert "units of" in items[0]["text"]


def test_canvas_keeps_plain_units_when_the_tolerance_allows():
    problem = parse_problem({**seed_table(), "render": {"decimals": 2}}, "p.toml")
    bank = Bank("p", "en", (category(problem, "p"),))
    _, banks = read_qti(bank_file(bank, "qti"))
    item = banks["p"][0]
    assert item["k"] == 0 and "units of" not in item["text"]
    # z₁[0] = 2.0 asked at 2 decimals (2.00: three figures, so one unit off in the last digit counts)
    assert item["answers"][0][:3] == (Decimal("2"), Decimal("1.985"), Decimal("2.015"))


# --- user text, languages, several variants -------------------------------------------------------

HOSTILE = "<b>&</b> ]]> {#=~:} \\n 50% /x"


def test_titles_with_xml_tex_and_gift_specials_survive_every_format():
    problem = parse_problem({**seed_table(), "title": HOSTILE}, "hostile.toml")
    bank = Bank(HOSTILE, "en", (category(problem, "hostile"),))
    moodle = bank_file(bank, "moodle", cloze=True)
    MOODLE.validate(io.StringIO(moodle))
    cats = {cat for cat, _ in read_moodle(moodle)}
    assert cats == {"$course$/top/" + HOSTILE.replace("/", "//") + "/hostile"}
    _, banks = read_qti(bank_file(bank, "qti"))
    assert list(banks) == [HOSTILE + " — hostile"]
    gift = read_gift(bank_file(bank, "gift"))
    # Moodle reads a $CATEGORY line unescaped: the backslash (with the space before it) became one space
    assert {cat for cat, _ in gift} == {"$course$/top/<b>&<//b> ]]> {#=~:} n 50% //x/hostile"}
    assert len(gift) == len(bank.categories[0].questions)


def test_questions_in_chinese_from_the_catalog():
    problem = parse_problem({**seed_table(), "render": {"lang": "zh"}}, "zh.toml")
    bank = Bank("zh", "zh", (category(problem, "zh"),))
    first = read_moodle(bank_file(bank, "moodle"))[0][1]
    assert "第1层加权和" in first["text"] and "保留4位小数" in first["text"] and "下标从 0 开始" in first["text"]
    assert "正确步骤" in first["general"]


def test_variants_export_one_category_per_variant(tmp_path):
    out = tmp_path / "v"
    code = main(["variants", str(ROOT / "examples" / "seed_variants.toml"), "--count", "3", "--seed", "2",
                 "-o", str(out), "--export", "moodle", "--cloze"])
    assert code == 0
    text = (out / "seed_variants.moodle.xml").read_text(encoding="utf-8")
    MOODLE.validate(io.StringIO(text))
    read = read_moodle(text)
    assert sorted({cat for cat, _ in read}) == [f"$course$/top/seed_variants/seed_variants-00{n}" for n in (1, 2, 3)]
    # each category's right answers are that variant's answer key
    key = json.loads((out / "key.json").read_text(encoding="utf-8"))
    for cat, q in read:
        if q["type"] == "numerical":
            variant = cat.rsplit("/", 1)[1]
            assert math.isclose(q["answers"][0][1], element(key[variant], q["id"]), rel_tol=1e-10, abs_tol=1e-12)
    # a rerun replaces the whole set: the bank of the format asked for, beside the same variants
    assert main(["variants", str(ROOT / "examples" / "seed_variants.toml"), "--count", "3", "--seed", "2",
                 "-o", str(out), "--export", "qti"]) == 0
    assert not (out / "seed_variants.moodle.xml").exists()
    _, banks = read_qti((out / "seed_variants.qti.zip").read_bytes())
    assert sorted(banks) == [f"seed_variants — seed_variants-00{n}" for n in (1, 2, 3)]
    assert main(["variants", str(ROOT / "examples" / "seed_variants.toml"), "--count", "3", "--seed", "2",
                 "-o", str(out), "--export", "gift"]) == 0
    assert len({cat for cat, _ in read_gift((out / "seed_variants.gift.txt").read_text(encoding="utf-8"))}) == 3


@pytest.mark.parametrize("credit", [50, 33.33333])
def test_mistake_credit_is_written_where_the_format_allows_it(credit):
    bank = problem_bank(SEED, mistake_credit=credit)
    moodle = bank_file(bank, "moodle", cloze=True)
    MOODLE.validate(io.StringIO(moodle))
    read = read_moodle(moodle)
    assert {f for _, q in read for f, *_ in q["answers"]} == {100, credit}
    assert {w for _, q in read if q["type"] == "multianswer" for field in read_cloze(q["text"]) for w, *_ in field} \
        == {100, credit}
    assert {f for _, q in read_gift(bank_file(bank, "gift")) for f, *_ in q["answers"]} == {100, credit}


@pytest.mark.parametrize("argv, message", [
    (["--to", "qti", "--cloze"], "--cloze makes a Moodle Cloze question"),
    (["--to", "moodle", "--mistake-credit", "7"], "--mistake-credit must be one of Moodle's grades"),
    (["--to", "qti", "--mistake-credit", "50"], "cannot apply to Canvas"),
])
def test_bad_options_give_one_line_and_exit_2(tmp_path, capsys, argv, message):
    assert main(["export", str(SEED), "-o", str(tmp_path / "out"), *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err and not (tmp_path / "out").exists()


@pytest.mark.parametrize("argv, message", [
    (["--export", "qti", "--cloze"], "--cloze makes a Moodle Cloze question"),
    (["--cloze"], "give --export FORMAT with them"),
    (["--assignment-seed", "x"], "give --roster CSV"),
])
def test_variants_refuse_bank_options_before_writing_anything(tmp_path, capsys, argv, message):
    out = tmp_path / "v"
    assert main(["variants", str(ROOT / "examples" / "seed_variants.toml"), "--count", "2", "-o", str(out), *argv]) == 2
    assert message in capsys.readouterr().err and not out.exists()


def test_export_refuses_an_expression_problem_and_its_own_input(tmp_path, capsys):
    assert main(["export", str(ROOT / "examples" / "expression_homework.toml"), "--to", "gift",
                 "-o", str(tmp_path / "x.txt")]) == 2
    assert "network problems" in capsys.readouterr().err
    copy = tmp_path / "seed.toml"
    copy.write_bytes(SEED.read_bytes())
    assert main(["export", str(copy), "--to", "gift", "-o", str(copy)]) == 2
    assert copy.read_bytes() == SEED.read_bytes()


def test_same_inputs_give_the_same_bytes(tmp_path):
    outputs = []
    for hashseed in ("1", "2"):
        files = []
        for fmt in ("moodle", "qti", "gift"):
            path = tmp_path / f"{hashseed}.{fmt}"
            subprocess.run([sys.executable, "-m", "tracegrad", "export", str(SEED), "--to", fmt, "-o", str(path),
                            *(["--cloze"] if fmt == "moodle" else [])], check=True, cwd=ROOT,
                           env={**os.environ, "PYTHONHASHSEED": hashseed}, capture_output=True)
            files.append(path.read_bytes())
        outputs.append(files)
    assert outputs[0] == outputs[1]


# --- rosters -------------------------------------------------------------------------------------


def write_roster(path, rows, header=("id", "name")):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def assignment(directory) -> dict:
    with open(directory / "assignment.csv", newline="", encoding="utf-8") as handle:
        return {row["id"]: row for row in csv.DictReader(handle)}


def documented_variant(student_id: str, count: int, seed: str) -> int:
    # the README's rule: 1 + (first 8 bytes of SHA-256("<seed>\n<id>"), big-endian) mod count
    import hashlib

    return 1 + int.from_bytes(hashlib.sha256(f"{seed}\n{student_id}".encode()).digest()[:8], "big") % count


def test_roster_assigns_variants_by_id_and_seed_only(tmp_path):
    students = [(f"s{n:03d}", f"Student {n}") for n in range(40)] + [("李伟", "Li Wei")]
    problem = str(ROOT / "examples" / "seed_variants.toml")
    write_roster(tmp_path / "a.csv", students)
    shuffled = students[:]
    random.Random(0).shuffle(shuffled)
    write_roster(tmp_path / "b.csv", shuffled[:20])
    for name, roster in (("a", "a.csv"), ("b", "b.csv")):
        assert main(["variants", problem, "--count", "6", "--seed", "1", "-o", str(tmp_path / name),
                     "--roster", str(tmp_path / roster), "--assignment-seed", "hw3"]) == 0
    a, b = assignment(tmp_path / "a"), assignment(tmp_path / "b")
    assert len(a) == 41 and set(b) <= set(a)
    for sid, row in a.items():
        n = documented_variant(sid, 6, "hw3")
        assert row["variant"] == f"seed_variants-{n:03d}" and row["problem"] == f"seed_variants-{n:03d}.toml"
        assert sid not in b or b[sid] == row  # the roster's order and other students change nothing
    assert len({row["variant"] for row in a.values()}) > 3


def test_check_student_picks_that_students_variant(tmp_path, capsys):
    write_roster(tmp_path / "r.csv", [("s1", "A"), ("s2", "B"), ("s3", "C"), ("s4", "D")])
    out = tmp_path / "v"
    assert main(["variants", str(ROOT / "examples" / "seed_variants.toml"), "--count", "4", "--seed", "5",
                 "-o", str(out), "--roster", str(tmp_path / "r.csv")]) == 0
    rows = assignment(out)
    own = rows["s1"]
    other = next(r for r in rows.values() if r["variant"] != own["variant"])
    capsys.readouterr()
    assert main(["check", str(out), str(out / own["key"]), "--student", "s1"]) == 0
    assert main(["check", str(out), str(out / other["key"]), "--student", "s1"]) == 1
    # the source problem with the teacher's assignment file gives the same
    source = str(ROOT / "examples" / "seed_variants.toml")
    assert main(["check", source, str(out / own["key"]), "--student", "s1",
                 "--roster", str(out / "assignment.csv")]) == 0
    capsys.readouterr()
    assert main(["check", str(SEED), str(out / own["key"]), "--student", "s1",
                 "--roster", str(out / "assignment.csv")]) == 2
    assert "is not a variant of seed.toml" in capsys.readouterr().err
    assert main(["check", str(out), str(out / own["key"]), "--student", "nobody"]) == 2
    assert "no student with id 'nobody'" in capsys.readouterr().err


@pytest.mark.parametrize("content, message", [
    (b"name\nLi\n", "no column named 'id'"),
    (b"id,name\ns1,A\ns1,B\n", "row 3: id 's1' appears twice"),
    (b"id,name\n,A\n", "row 2: empty id"),
    (b"id\n", "no students"),
    (b"", "empty"),
    (b"id\n\xff\xfe\n", "not UTF-8"),
])
def test_bad_rosters_give_one_line_naming_the_file(tmp_path, capsys, content, message):
    roster = tmp_path / "students.csv"
    roster.write_bytes(content)
    code = main(["variants", str(ROOT / "examples" / "seed_variants.toml"), "--count", "2", "-o", str(tmp_path / "v"),
                 "--roster", str(roster)])
    err = capsys.readouterr().err.strip()
    assert code == 2 and message in err and "students.csv" in err and "\n" not in err
    assert not (tmp_path / "v").exists()


def network(acts, loss, optimizer, *, layout="in_out", x=(1, 2), y=0.5) -> dict:
    two = loss in ("cce", "cce_logits", "mse")
    return {"layout": layout, "optimizer": optimizer, "loss": {"name": loss}, "data": {"x": list(x), "y": y},
            "layers": [{"weights": [[0.5, -0.6], [0.7, 0.8]], "bias": [0.1, -0.2], "activation": acts[0]},
                       {"weights": [[0.9, 0.2], [0.1, -0.3]] if two else [[0.9], [0.1]],
                        "bias": [0.3, 0.1] if two else [0.3], "activation": acts[1]}]}


@pytest.mark.parametrize("table", [
    network(("relu", "sigmoid"), "bce", {"name": "adam", "lr": 0.01}),
    network(("tanh", "softmax"), "cce", {"name": "sgd", "lr": 0.1, "momentum": 0.9}, y=[0, 1]),
    network(("leaky_relu", "identity"), "cce_logits", {"name": "rmsprop", "lr": 0.01}, y=[0, 1]),
    network(("sigmoid", "identity"), "mse", {"name": "sgd", "lr": 0.5, "weight_decay": 0.01}, layout="out_in",
            x=([1, 2], [0, -1]), y=[[0.5, 1.0], [0.0, 1.0]]),
    network(("tanh", "tanh"), "hinge", {"name": "sgd"}, y=1),
], ids=["adam-bce", "softmax-cce", "rmsprop-logits", "batch-mse-out_in", "hinge"])
def test_every_kind_of_network_gives_valid_banks(table):
    problem = parse_problem(table, "net.toml")
    bank = Bank("net", "en", (category(problem, "net"),))
    questions = bank.categories[0].questions
    moodle = bank_file(bank, "moodle", cloze=True)
    MOODLE.validate(io.StringIO(moodle))
    assert len([q for _, q in read_moodle(moodle) if q["type"] == "numerical"]) == len(questions)
    _, banks = read_qti(bank_file(bank, "qti"))
    assert len(banks["net"]) == len(questions)
    assert len(read_gift(bank_file(bank, "gift"))) == len(questions)
    assert any(q.wrong for q in questions)


def test_every_formula_parses_in_katex(seed_bank):
    # the question texts and feedback are typeset by the LMS's MathJax; KaTeX in strict mode is the
    # stricter parser the derivations are held to: every \( … \) of both languages must pass it
    from tests.tex_tools import katex_errors

    formulas = []
    for lang in ("en", "zh"):
        moodle = bank_file(Bank("seed", lang, seed_bank.categories), "moodle", cloze=True)
        for _, q in read_moodle(moodle):
            text = q["text"]
            for m in reversed(list(re.finditer(r"\{[0-9]*:NUMERICAL:", text))):  # a Cloze text without its fields
                text = text[:m.start()] + text[find_unescaped(text, "}", m.end()) + 1:]
            texts = [text, q["general"]] + [fb for *_, fb in q["answers"]]
            texts += [fb for field in read_cloze(q["text"]) for *_, fb in field]
            for text in texts:
                formulas += [{"tex": html.unescape(m), "display": False}
                             for m in re.findall(r"\\\((.+?)\\\)", text, flags=re.S)]
    assert len(formulas) > 500
    assert katex_errors(formulas) == []
