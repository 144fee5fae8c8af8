"""Golden files: rendered outputs compared byte for byte.

Regenerate after a deliberate change with ``python -m tests.golden`` (from the
repository root), then review the diff before committing.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
SEED = ROOT / "examples" / "seed.toml"
EXTENSIONS = {"markdown": "md", "latex": "tex", "text": "txt", "json": "json"}


def derivation_cases():
    """(file name, derive keyword arguments) for every golden derivation of the seed example."""
    for fmt, ext in EXTENSIONS.items():
        for lang in ("en", "zh"):
            for rounding in ("exact", "carry"):
                yield f"seed.{rounding}.{lang}.{ext}", dict(format=fmt, lang=lang, rounding=rounding)


def render_derivation(kwargs) -> str:
    from tracegrad.render.derive import derive

    return derive(SEED, view="layer", **kwargs).text


def cases():
    """Every golden file: (name, function producing its text)."""
    for name, kwargs in derivation_cases():
        yield name, (lambda kw=kwargs: render_derivation(kw))
