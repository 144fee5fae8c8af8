"""The pages and their live fragments, rendered from ``templates/serve/*.html.j2``.

Templates are found by the same loader path as every other tracegrad template and
rendered in Jinja's immutable sandbox with HTML autoescaping, so every user string
(titles, labels, messages) is escaped and no template can reach Python internals.
Prose comes from the message catalogs (``[serve]`` for the pages' own words).
Math is left as LaTeX text in ``<span class="tex">`` elements; the browser typesets
it with KaTeX.
"""

from __future__ import annotations

from functools import lru_cache

from . import api
from .layout import layout

PAGES = ("derive", "check", "graph", "expr", "variants")
"""The pages, in the order the menu lists them; the first is the home page."""

LANGUAGES = (("en", "English"), ("zh", "中文"))

DEFAULTS = {
    "derive": {"problem": "seed"},
    "check": {"problem": "seed", "answers": ""},
    "graph": {"problem": "seed"},
    "expr": {"expression": "(x + y) * z", "at": "x = -2, y = 5, z = -4"},
    "variants": {"problem": "seed_variants", "options": {"count": 10, "seed": 0}},
}
"""What each page opens on: the shipped example's name, or the text itself."""


@lru_cache(maxsize=1)
def environment():
    """The sandboxed, autoescaping Jinja environment of the pages."""
    import jinja2
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    return ImmutableSandboxedEnvironment(
        loader=jinja2.FileSystemLoader(api.template_dirs()), autoescape=True, undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True)


def render(name: str, **context) -> str:
    return environment().get_template(f"serve/{name}.html.j2").render(**context)


@lru_cache(maxsize=1)
def _examples() -> tuple:
    return tuple(api.examples())


def _example_text(name: str) -> str:
    return next(e.text for e in _examples() if e.name == name)


def _lang(body: dict) -> str:
    options = body.get("options")
    lang = options.get("lang") if isinstance(options, dict) else None
    return lang if lang in api.LANGS else "en"


def fragment(command: str, body: dict) -> str:
    """The HTML a page shows for ``body`` (the JSON body of the page's request)."""
    lang = _lang(body)
    msg = api.catalog(lang)
    options = body.get("options")
    if command == "derive":
        return render("fragment_derive", d=api.derive_view(body["problem"], options), msg=msg)
    if command == "expr":
        return render("fragment_derive", d=api.expr_view(body.get("expression"), body.get("at"), options,
                                                         body.get("program")), msg=msg)
    if command == "check":
        answers = body.get("answers")
        result = api.check_view(body["problem"], answers if answers and answers.strip() else None, options)
        return render("fragment_check", c=result, d=result.derivation, msg=msg)
    if command == "graph":
        data = api.graph_data(body.get("problem"), body.get("expression"), body.get("at"), options, body.get("program"))
        return render("fragment_graph", g=layout(data), msg=msg)
    if command == "variants":  # the page's language is not an option of variants
        options = {k: v for k, v in options.items() if k != "lang"} if isinstance(options, dict) else options
        _, keys = api.variants_zip(body["problem"], options)
        rows = [(name, api.numbers_text(key["y_hat"]), api.numbers_text(key["loss"])) for name, key in keys]
        return render("fragment_variants", rows=rows, msg=msg)
    raise api.ApiError(f"no page fragment {command!r}")


def page(name: str, lang: str) -> str:
    """A whole page, opening on its example already rendered."""
    lang = lang if lang in api.LANGS else "en"
    state = dict(DEFAULTS[name])
    for key in ("problem", "answers"):
        if state.get(key):
            state[key] = _example_text(state[key])
    state["options"] = {**state.get("options", {}), "lang": lang}
    return render(name, page=name, pages=PAGES, lang=lang, languages=LANGUAGES, msg=api.catalog(lang),
                  state=state, examples=_examples(), initial=fragment(name, state))
