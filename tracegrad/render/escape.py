"""Escaping user text (titles, labels) for every output format."""

from __future__ import annotations

import re

_LATEX = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "^": r"\textasciicircum{}", "~": r"\textasciitilde{}",
}
_LATEX_RE = re.compile(r"[\\&%$#_{}^~]")
_MARKDOWN_RE = re.compile(r"([\\`*_{}\[\]<>()#+\-.!|$~])")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def plain(text) -> str:
    """Text with control characters removed (the text format prints everything else as is)."""
    return _CONTROL_RE.sub("", str(text))


def latex(text) -> str:
    """User text for LaTeX text mode (also valid inside ``\\text{…}`` in math)."""
    return _LATEX_RE.sub(lambda m: _LATEX[m.group()], plain(text))


def markdown(text) -> str:
    """User text for Markdown prose: every character Markdown or math delimiters could read is escaped."""
    return _MARKDOWN_RE.sub(r"\\\1", plain(text)).replace("\n", " ")


def math_label(text) -> str:
    """A label inside LaTeX math (KaTeX or TeX): ``\\text{…}`` with its content escaped."""
    return r"\text{" + latex(text) + "}"
