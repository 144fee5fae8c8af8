"""Real consumers of rendered output: KaTeX (strict) for Markdown math, pdflatex/xelatex for LaTeX.

Tests skip when a tool is missing on a developer's machine; `.ci/run` installs all of them.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
KATEX_SCRIPT = ROOT / "tests" / "katex_check.js"
KATEX_MODULE = ROOT / ".ci" / "node" / "node_modules" / "katex"

_MATH = re.compile(r"\$\$(.+?)\$\$|(?<![\\$])\$(?!\$)(.+?)(?<![\\$])\$", re.S)


def markdown_math(text: str) -> list:
    """Every ``$$…$$`` (display) and ``$…$`` (inline) formula of a Markdown text."""
    out = []
    for m in _MATH.finditer(text):
        if m.group(1) is not None:
            out.append({"tex": m.group(1).strip(), "display": True})
        else:
            out.append({"tex": m.group(2).strip(), "display": False})
    return out


def katex_errors(formulas: list) -> list:
    """``(formula, error)`` for every formula KaTeX refuses in strict mode."""
    if shutil.which("node") is None or not KATEX_MODULE.is_dir():
        pytest.skip("node with the katex package is not installed (.ci/run installs it)")
    out = subprocess.run(["node", str(KATEX_SCRIPT)], input=json.dumps(formulas), capture_output=True,
                         text=True, check=True)
    return [(f["tex"], e) for f, e in zip(formulas, json.loads(out.stdout)) if e]


def compile_latex(tex: str, tmp_path: Path, engine: str = "pdflatex") -> Path:
    """Compile a LaTeX document; fails the test with TeX's first error; returns the PDF."""
    if shutil.which(engine) is None:
        pytest.skip(f"{engine} is not installed (.ci/run installs it)")
    source = tmp_path / "doc.tex"
    source.write_text(tex, encoding="utf-8")
    run = subprocess.run([engine, "-interaction=nonstopmode", "-halt-on-error", "doc.tex"], cwd=tmp_path,
                         capture_output=True, text=True, errors="replace", timeout=300)
    if run.returncode != 0:
        errors = [line for line in run.stdout.splitlines() if line.startswith("!")]
        pytest.fail(f"{engine} failed: {errors[:3] or run.stdout[-2000:]}")
    return tmp_path / "doc.pdf"
