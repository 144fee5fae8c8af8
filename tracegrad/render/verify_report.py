"""A :class:`~tracegrad.symbolic.verify.VerifyReport` as text, Markdown or JSON.

Text and Markdown go through the templates ``verify.txt.j2`` and
``verify.md.j2`` with the prose from the message catalogs (``[verify]``);
this module only prepares ready strings. Numbers are printed in full
(shortest round-trip form), so the same report always prints the same bytes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

FORMATS = ("text", "markdown", "json")


@dataclass(frozen=True)
class VerifyRow:
    """One printed check: strings only."""

    name: str
    latex: str  # "of = formula" for Markdown (table-safe)
    text: str  # the formula as text
    sympy_value: str
    engine_value: str
    mark: str
    agree: bool
    detail: str = ""  # rules: the declared partials (LaTeX)
    of: str = ""  # derivatives: what is differentiated, as text (∂L/∂W₁[0][1])


def _table_safe(latex: str) -> str:
    """LaTeX for a Markdown table cell, where a bare ``|`` would end the cell: ``\\vert`` in
    math, ``\\textbar{}`` inside ``\\text{…}`` (user labels)."""
    out, depth, i = [], 0, 0  # depth > 0: inside \text{…}, counting unescaped braces
    while i < len(latex):
        if latex.startswith(r"\text{", i) and depth == 0:
            out.append(r"\text{")
            depth, i = 1, i + 6
            continue
        c = latex[i]
        if c == "\\":
            pair = latex[i:i + 2]
            out.append({r"\|": r"\Vert "}.get(pair, pair) if depth == 0 else pair)
            i += 2
            continue
        if depth and c in "{}":
            depth += 1 if c == "{" else -1
        out.append(c if c != "|" else (r"\textbar{}" if depth else r"\vert "))
        i += 1
    return "".join(out)


def _number(x: float) -> str:
    return repr(float(x))


def view(report, catalog) -> dict:
    """Strings for the templates: summary lines, derivative rows, definitions, rules."""
    mark = {True: catalog("verify.agree"), False: catalog("verify.disagree")}
    rows = [VerifyRow(i.name, _table_safe(f"{i.of} = {i.formula}"), i.formula_text, _number(i.symbolic),
                      _number(i.engine), mark[i.agree], i.agree, of=i.of_text) for i in report.items]
    definitions = [VerifyRow(d.name, _table_safe(f"{d.symbol} = {d.formula}"), d.formula_text, _number(d.value), "",
                       "", True) for d in report.definitions]
    rules = []
    for r in report.rules:
        params = "" if not r.params else "[" + ", ".join(_number(p) for p in r.params) + "]"
        declared = r",\; ".join(p.declared for p in r.partials)
        rules.append(VerifyRow(f"{r.op}{params}", _table_safe(f"f = {r.form}"), ", ".join(p.difference for p in r.partials),
                         "", "", mark[r.agree], r.agree, _table_safe(declared)))
    total = len(report.items) + len(report.rules)
    if report.ok:
        summary = catalog("verify.all_agree", items=len(report.items), rules=len(report.rules))
    else:
        bad = report.disagreements
        summary = catalog("verify.some_disagree", n=len(bad), total=total, names=", ".join(bad))
    return {
        "title": report.title,
        "heading": catalog("verify.title"),
        "ok": report.ok,
        "summary": summary,
        "tolerance": catalog("verify.tolerance", rel=_number(report.rel_tol), abs=_number(report.abs_tol)),
        "rows": rows,
        "definitions": definitions,
        "rules": rules,
    }


def render_verification(report, fmt: str = "text", lang: str = "en", template_dir=None) -> str:
    """Render ``report`` in ``fmt`` (text, markdown or json) and language ``lang`` (en, zh)."""
    from ..core.errors import InputError

    if fmt not in FORMATS:
        raise InputError(f"unknown format {fmt!r} for a verification report; choose one of {', '.join(FORMATS)}")
    if fmt == "json":
        return json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n"
    from .environment import Catalog
    from .environment import render as render_template

    catalog = Catalog(lang, template_dir)
    return render_template("verify", fmt, template_dir, lang, v=view(report, catalog), msg=catalog)
