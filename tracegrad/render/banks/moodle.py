"""Moodle XML: a category per variant, a ``numerical`` question per printed quantity
element, optionally a Cloze (``multianswer``) question holding the whole derivation.

Moodle tests a numerical question's answers in the order written and takes the first
whose tolerance covers the response, so the full-mark answers come first. HTML goes in
CDATA sections (a ``]]>`` inside is split across two); every other text is escaped.
"""

from __future__ import annotations

from xml.sax.saxutils import escape as xml_escape

from ...core import escape
from .prose import Prose, fraction_text, number_text, tolerance_text

PENALTY = "0.3333333"
"""Moodle's default penalty for each wrong try (interactive and adaptive behaviours)."""


def category_path(bank, category) -> str:
    """``$course$/top/<bank>/<variant>``; a ``/`` inside a name is doubled, as Moodle reads it."""
    parts = [escape.plain(p).replace("/", "//") for p in (bank.title, category.name)]
    return "$course$/top/" + "/".join(parts)


def cdata(text: str) -> str:
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _text(tag: str, content: str, fmt: str | None = None, html: bool = False, indent: str = "    ") -> str:
    attribute = f' format="{fmt}"' if fmt else ""
    body = cdata(content) if html else xml_escape(escape.plain(content))
    return f"{indent}<{tag}{attribute}><text>{body}</text></{tag}>\n"


def write_moodle(bank, *, cloze: bool = False, template_dir=None) -> str:
    """The bank as a Moodle XML question file."""
    prose = Prose(bank.lang, template_dir)
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n', "<quiz>\n"]
    for category in bank.categories:
        out.append('  <question type="category">\n')
        out.append(_text("category", category_path(bank, category)))
        out.append("  </question>\n")
        for index, q in enumerate(category.questions, start=1):
            out.append(_numerical(prose, category, index, q))
        if cloze:
            out.append(_multianswer(prose, category))
    out.append("</quiz>\n")
    return "".join(out)


def _common(prose, name: str, question_html: str, general_html: str) -> list:
    return [_text("name", name), _text("questiontext", question_html, "html", True),
            _text("generalfeedback", general_html, "html", True)]


def _numerical(prose, category, index, q) -> str:
    out = ['  <question type="numerical">\n']
    out += _common(prose, prose.name(index, q), prose.question(category, q), prose.general(q))
    out += ["    <defaultgrade>1</defaultgrade>\n", f"    <penalty>{PENALTY}</penalty>\n",
            "    <hidden>0</hidden>\n", f"    <idnumber>{xml_escape(q.key)}</idnumber>\n"]
    for choice in q.answers:
        out.append(f'    <answer fraction="{fraction_text(choice.fraction)}" format="moodle_auto_format">\n')
        out.append(f"      <text>{number_text(choice.value)}</text>\n")
        out.append(_text("feedback", prose.feedback(category, q, choice), "html", True, "      "))
        out.append(f"      <tolerance>{tolerance_text(choice.tolerance)}</tolerance>\n")
        out.append("    </answer>\n")
    out += ["    <unitgradingtype>0</unitgradingtype>\n", "    <unitpenalty>0.1000000</unitpenalty>\n",
            "    <showunits>3</showunits>\n", "    <unitsleft>0</unitsleft>\n", "  </question>\n"]
    return "".join(out)


def _multianswer(prose, category) -> str:
    def blank(q):
        answers = []
        for choice in q.answers:
            weight = "=" if choice.fraction == 100 else f"%{fraction_text(choice.fraction)}%"
            feedback = cloze_escape(prose.feedback(category, q, choice))
            answers.append(f"{weight}{number_text(choice.value)}:{tolerance_text(choice.tolerance)}#{feedback}")
        return "{1:NUMERICAL:" + "~".join(answers) + "}"

    name = f"{len(category.questions) + 1:02d} {category.name}"
    out = ['  <question type="multianswer">\n']
    out += _common(prose, name, prose.cloze(category, blank), "")
    out += [f"    <penalty>{PENALTY}</penalty>\n", "    <hidden>0</hidden>\n", "  </question>\n"]
    return "".join(out)


def cloze_escape(feedback_html: str) -> str:
    """Feedback inside a Cloze answer field. Moodle ends the feedback at the first ``~`` or
    ``}`` not preceded by a backslash, then unescapes ``\\}`` and decodes HTML entities; so
    ``&`` is doubled into ``&amp;`` (the decoding gives the entity back), ``~`` becomes
    ``&#126;`` and ``}`` becomes ``\\}``."""
    return feedback_html.replace("&", "&amp;").replace("~", "&#126;").replace("}", "\\}")
