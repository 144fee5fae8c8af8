"""GIFT, for quiz systems that take only GIFT: a ``$CATEGORY:`` line per variant and a
numerical question ``::name::[html]text{# =%100%value:tolerance#feedback … }`` per
printed quantity element, mistakes as ``=%0%value:tolerance#feedback``.

GIFT's special characters ``~ = # { } :`` and the backslash are escaped with a
backslash in every text, and a line break is written ``\\n``, as Moodle's own GIFT
export does; LaTeX backslashes are thereby doubled.
"""

from __future__ import annotations

import re

from ...core import escape
from .prose import Prose, fraction_text, number_text, tolerance_text

_SPECIAL = re.compile(r"([\\~=#{}:])")


def gift_escape(text: str) -> str:
    """Text with GIFT's special characters escaped and line breaks as ``\\n``."""
    return _SPECIAL.sub(r"\\\1", text).replace("\r", "").replace("\n", r"\n")


def category_line(bank, category) -> str:
    """``$CATEGORY: $course$/top/<bank>/<variant>``. Moodle reads this line unescaped, so a
    backslash or line break in a name becomes a space; a ``/`` inside a name is doubled."""
    parts = [re.sub(r"[\\\s]+", " ", escape.plain(p)).strip().replace("/", "//") for p in (bank.title, category.name)]
    return "$CATEGORY: $course$/top/" + "/".join(parts)


def write_gift(bank, *, template_dir=None) -> str:
    """The bank as a GIFT text file (questions separated by blank lines)."""
    prose = Prose(bank.lang, template_dir)
    blocks = [f"// {gift_escape(escape.plain(bank.title))}: tracegrad question bank"]
    for category in bank.categories:
        blocks.append(category_line(bank, category))
        for index, q in enumerate(category.questions, start=1):
            lines = [f"::{gift_escape(prose.name(index, q))}::[html]{gift_escape(prose.question(category, q))}{{#"]
            for c in q.answers:
                lines.append(f"\t=%{fraction_text(c.fraction)}%{number_text(c.value)}:{tolerance_text(c.tolerance)}"
                             f"#{gift_escape(prose.feedback(category, q, c))}")
            lines.append(f"\t####{gift_escape(prose.general(q))}")
            lines.append("}")
            blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"
