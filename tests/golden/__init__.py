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
    from tracegrad.workflows.derive import derive

    return derive(SEED, view="layer", **kwargs).text


TOPICS = ("adam", "dropout", "batchnorm")
"""Examples of the document's topics with golden derivations: Adam over two steps, dropout with an
L2 penalty (and the L2-versus-weight-decay note), BatchNorm in training mode."""
TOPIC_OUTPUTS = (("markdown", "en"), ("markdown", "zh"), ("latex", "en"), ("text", "en"), ("text", "zh"))


def topic_cases():
    """(file name, producer) for the golden derivations of :data:`TOPICS`."""
    from tracegrad.workflows.derive import derive

    for name in TOPICS:
        for fmt, lang in TOPIC_OUTPUTS:
            yield (f"{name}.{lang}.{EXTENSIONS[fmt]}",
                   lambda n=name, f=fmt, lang=lang: derive(ROOT / "examples" / f"{n}.toml", format=f, lang=lang).text)


def check_cases():
    """The check report of the document's printed numbers (its errata), the derivation with
    them pinned (--as-printed) and the list of quantity names: (file name, producer)."""
    from dataclasses import replace

    from tracegrad.workflows.check import check

    from tracegrad.checker import load_answers, load_subject
    from tracegrad.render.listing import render_listing
    from tracegrad.workflows.derive import derive
    from tracegrad.core.numbers import NumberFormat

    def named(item, path):  # sources as written from the repository root, wherever the tests run
        return replace(item, source=path.relative_to(ROOT).as_posix())

    printed = ROOT / "examples" / "seed_printed.toml"
    for fmt in ("text", "markdown", "json"):
        for lang in ("en", "zh") if fmt != "json" else ("en",):
            yield (f"check_seed_printed.{lang}.{EXTENSIONS[fmt]}",
                   lambda f=fmt, lang=lang: check(named(load_subject(SEED), SEED),
                                                  named(load_answers(printed), printed)).render(f, lang))
    for fmt in ("text", "markdown"):
        for lang in ("en", "zh"):
            yield (f"check_as_printed.{lang}.{EXTENSIONS[fmt]}",
                   lambda f=fmt, lang=lang: derive(SEED, format=f, lang=lang,
                                                   as_printed=named(load_answers(printed), printed)).text)
    yield "check_quantities.en.txt", lambda: render_listing(named(load_subject(SEED), SEED), "text", "en",
                                                            NumberFormat(4))


def cases():
    """Every golden file: (name, function producing its text)."""
    for name, kwargs in derivation_cases():
        yield name, (lambda kw=kwargs: render_derivation(kw))
    yield from check_cases()
    yield from topic_cases()
