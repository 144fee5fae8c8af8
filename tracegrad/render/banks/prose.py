"""What every bank format says, in the bank's language: question text, answer feedback
and names, as HTML with LaTeX in ``\\( … \\)`` (the delimiters of Moodle's MathJax filter
and of Canvas's math rendering); numbers as answer fields want them."""

from __future__ import annotations

import html
from decimal import ROUND_HALF_UP, Context, Decimal

from ...core import escape
from ...core.notation import Math
from ..environment import Catalog

_CONTEXT = Context(prec=60)
ANSWER_DIGITS = 12
"""Significant figures an answer value is written with: far below any tolerance."""


def number_text(x: float, digits: int = ANSWER_DIGITS) -> str:
    """``x`` as a plain decimal (no exponent) rounded to ``digits`` significant figures."""
    d = Decimal(repr(float(x)))
    if d == 0:
        return "0"
    d = d.quantize(Decimal(1).scaleb(d.adjusted() - digits + 1), rounding=ROUND_HALF_UP, context=_CONTEXT)
    return decimal_text(d)


def decimal_text(d: Decimal) -> str:
    """A decimal without exponent or trailing zeros: ``0.00005``, ``200``."""
    text = format(d.normalize(context=_CONTEXT), "f")
    return "0" if Decimal(text) == 0 else text


def tolerance_text(tolerance: float) -> str:
    return decimal_text(Decimal(repr(tolerance)))


def fraction_text(percent: float) -> str:
    """An answer's grade in percent as written: ``100``, ``33.33333``."""
    return decimal_text(Decimal(repr(float(percent))))


class Prose:
    """The catalog of one language, producing HTML: literal catalog text is escaped, the
    values filled in are HTML already."""

    def __init__(self, lang: str, template_dir=None):
        self.msg = Catalog(lang, template_dir)
        self.lang = self.msg.lang

    def html(self, key: str, **values) -> str:
        """Catalog message ``key`` as HTML, its placeholders filled with the HTML ``values``."""
        tokens = {name: f"\x00{n}\x00" for n, name in enumerate(values)}
        out = html.escape(self.msg(key, **tokens), quote=False)
        for name, token in tokens.items():
            out = out.replace(token, values[name])
        return out

    @staticmethod
    def math(m: Math) -> str:
        """Inline math for MathJax: ``\\(…\\)``, its LaTeX escaped for HTML."""
        return r"\(" + html.escape(m.latex, quote=False) + r"\)"

    @staticmethod
    def text(value) -> str:
        """User or catalog text as HTML (control characters removed)."""
        return html.escape(escape.plain(value), quote=False)

    def caption(self, q) -> str:
        key, args = q.caption
        return self.text(self.msg(key, **dict(args)))

    def precision(self, category) -> str:
        return self.text(category.precision.describe(self.msg))

    def question(self, category, q, unit: str = "") -> str:
        """The question text: caption, formula, the numbers it needs, what to compute."""
        parts = [f"<p><strong>{self.caption(q)}</strong></p>"]
        if q.statement is not None:
            parts.append(f"<p>{self.math(q.statement)}</p>")
        if q.givens:
            shown = ", ".join(self.math(g.symbol + Math(" = ", " = ") + g.value) for g in q.givens)
            parts.append(f"<p>{self.text(self.msg('bank.given'))}: {shown}</p>")
        ask = "bank.ask_indexed" if q.indexed else "bank.ask"
        parts.append(f"<p>{self.html(ask, label=self.math(q.label), precision=self.precision(category))}</p>")
        if unit:
            parts.append(f"<p>{unit}</p>")
        return "".join(parts)

    def mistakes(self, choice) -> str:
        """The mistakes an answer stands for, in words."""
        separator = self.text(self.msg("bank.mistake_separator"))
        return separator.join(self.text(self.msg(f"check.mistake.{key}", **dict(args)))
                              for key, args in choice.mistakes)

    def feedback(self, category, q, choice) -> str:
        """What a student who gave ``choice`` reads."""
        step = self.math(q.step)
        if choice.kind == "right":
            return f"<p>{self.html('bank.right', step=step)}</p>"
        if choice.kind == "shown":
            return f"<p>{self.html('bank.shown', precision=self.precision(category), step=step)}</p>"
        return f"<p>{self.html('bank.mistake', mistakes=self.mistakes(choice), step=step)}</p>"

    def general(self, q) -> str:
        """The feedback every student reads after answering: the correct step."""
        return f"<p>{self.html('bank.general', step=self.math(q.step))}</p>"

    @staticmethod
    def name(index: int, q) -> str:
        """The question's name in a bank list: its number in the derivation and its label."""
        return f"{index:02d} {q.label.text}"

    def cloze(self, category, blank) -> str:
        """The whole derivation as one text; ``blank(q)`` writes the answer field of question ``q``."""
        given = ", ".join(self.math(g.symbol + Math(" = ", " = ") + g.value) for g in category.givens)
        parts = [f"<p>{self.html('bank.cloze', precision=self.precision(category))}</p>",
                 f"<p>{self.text(self.msg('bank.given'))}: {given}</p>"]
        for q in category.questions:
            statement = f" {self.math(q.statement)}," if q.statement is not None else ""
            parts.append(f"<p>{self.caption(q)}:{statement} {self.math(q.label)} = {blank(q)}</p>")
        return "".join(parts)
