"""Escaping user text (titles, labels) for every output format."""

from __future__ import annotations

import re
import unicodedata

_LATEX = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "^": r"\textasciicircum{}", "~": r"\textasciitilde{}",
}
_LATEX_RE = re.compile(r"[\\&%$#_{}^~]")
_MARKDOWN_RE = re.compile(r"([\\`*_{}\[\]<>#|$~&])")
_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_BREAK_RE = re.compile("[\t\n\u2028\u2029]")


def plain(text) -> str:
    """User text on one line: line breaks and tabs become spaces; control characters and
    bidirectional overrides (which could reorder what a reader sees) are removed."""
    return _CONTROL_RE.sub("", _BREAK_RE.sub(" ", str(text)))


# Unicode that prose and labels use, written so that pdflatex and xelatex both typeset it
_UNICODE = {
    "·": r"$\cdot$", "→": r"$\to$", "←": r"$\leftarrow$", "≈": r"$\approx$", "×": r"$\times$", "−": "-",
    "∂": r"$\partial$", "⊙": r"$\odot$", "′": "'", "ᵀ": r"$^{\top}$", "½": r"$\frac{1}{2}$", "Σ": r"$\Sigma$",
    "ŷ": r"$\hat{y}$", "²": r"$^{2}$", "ⱼ": r"$_{j}$", "ᵢ": r"$_{i}$", "ₛ": r"$_{s}$", "ₖ": r"$_{k}$",
    "α": r"$\alpha$", "β": r"$\beta$", "γ": r"$\gamma$", "δ": r"$\delta$", "ε": r"$\epsilon$",
    "η": r"$\eta$", "λ": r"$\lambda$", "μ": r"$\mu$", "σ": r"$\sigma$", "θ": r"$\theta$",
    "…": r"\ldots{}", "—": "---", "–": "--", "“": "``", "”": "''", "‘": "`", "’": "'",
}
_UNICODE.update({"‖": r"$\|$", "√": r"$\surd$", "τ": r"$\tau$", "⁻": r"$^{-}$", "ⁿ": r"$^{n}$"})
_UNICODE.update({chr(0x2080 + d): f"$_{{{d}}}$" for d in range(10)})
_UNICODE.update({sup: f"$^{{{d}}}$" for d, sup in enumerate("⁰¹²³⁴⁵⁶⁷⁸⁹")})
_UNICODE.update({sub: f"$_{{{letter}}}$" for sub, letter in zip("ₐₑₒₓₕₗₘₙₚₜ", "aeoxhlmnpt")})
_ACCENTS = {"\u0302": "hat", "\u0303": "tilde"}
_LATEX_TEXT_RE = re.compile(r"[A-Za-z][\u0302\u0303]|[\\&%$#_{}^~]|[" + "".join(_UNICODE) + r"]|[^\x00-\xff]")


def latex(text, cjk: bool = True) -> str:
    """User text for LaTeX text mode (also valid inside ``\\text{…}`` in math).

    Common math symbols become math; other non-Latin-1 characters pass through
    when ``cjk`` (xelatex with ctex typesets them) and are shown as ``[U+XXXX]``
    otherwise (pdflatex has no glyph for them).
    """

    def one(m):
        ch = m.group()
        if len(ch) == 2:  # a Latin letter with a combining hat or tilde: m̂, z̃
            return f"$\\{_ACCENTS[ch[1]]}{{{ch[0]}}}$"
        if ch in _LATEX:
            return _LATEX[ch]
        if ch in _UNICODE:
            return _UNICODE[ch]
        return ch if cjk else f"[U+{ord(ch):04X}]"

    return _LATEX_TEXT_RE.sub(one, plain(text))


_BEYOND_LATIN1_RE = re.compile(r"[^\x00-\xff]")


def beyond_latin1(document: str) -> str:
    """A LaTeX document for pdflatex: any character beyond Latin-1 left in it (a label's ``ж``
    inside ``\\text{…}``) shown as ``[U+0436]``, since pdflatex has no glyph for it."""
    return _BEYOND_LATIN1_RE.sub(lambda m: f"[U+{ord(m.group()):04X}]", document)


def markdown(text) -> str:
    """User text for Markdown prose: every character Markdown or math delimiters could read is escaped."""
    return _MARKDOWN_RE.sub(r"\\\1", plain(text)).replace("\n", " ")


_GREEK = {ch: "\\" + name for ch, name in zip(
    "αβγδεζηθικλμνξπρστυφχψωΓΔΘΛΞΠΣΦΨΩ",
    "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi pi rho sigma tau upsilon phi chi psi "
    "omega Gamma Delta Theta Lambda Xi Pi Sigma Phi Psi Omega".split())}


SUBSCRIPT_DIGITS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")
"""Translation table: subscript digits (₂) to plain digits (2)."""


def math_label(text) -> str:
    """A label inside LaTeX math (KaTeX or TeX): ``\\text{…}`` with its content escaped; Greek
    letters as math symbols (``α`` → ``\\alpha``) and subscript digits as subscripts (``c₂`` →
    ``\\text{c}_{2}``), which every TeX engine can typeset."""
    parts, run, digits = [], [], []

    def close_text():
        if run:
            parts.append(r"\text{" + "".join(run) + "}")
            run.clear()

    def close_subscript():
        if digits:
            parts.append(("" if parts else "{}") + "_{" + "".join(digits).translate(SUBSCRIPT_DIGITS) + "}")
            digits.clear()

    for ch in plain(text):
        if "₀" <= ch <= "₉":
            close_text()
            digits.append(ch)
            continue
        close_subscript()
        if ch in _GREEK:
            close_text()
            parts.append(_GREEK[ch] + " ")
        else:
            run.append(_LATEX.get(ch, ch))
    close_subscript()
    close_text()
    return "".join(parts or [r"\text{}"]).rstrip()


def csv_cell(text) -> str:
    """A text cell of a CSV file that a spreadsheet will not read as a formula: a leading
    ``=``, ``+``, ``-``, ``@``, tab or carriage return is preceded by ``'``."""
    text = str(text)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def display_width(text) -> int:
    """Columns a text takes in a terminal (wide East Asian characters count two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in str(text))
