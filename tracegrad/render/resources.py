"""Where the shipped templates live: inside the installed package, or at the top
of a source checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent.parent  # the tracegrad package


def template_dir() -> Path:
    """The directory holding tracegrad's Jinja templates.

    An installed wheel carries them as ``tracegrad/templates``; a source checkout
    keeps them in ``templates/`` beside the package.
    """
    for candidate in (_PACKAGE / "templates", _PACKAGE.parent / "templates"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        "tracegrad's templates are missing: reinstall the package (pip install tracegrad) "
        "or run from a complete source checkout"
    )
