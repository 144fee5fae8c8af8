"""The Jinja environment and the message catalogs.

Built by a function, never a global: a user template directory, when given, is
searched first, so a teacher overrides any template (or a catalog) by name.
LaTeX templates use delimiters that do not clash with TeX: ``((* … *))`` for
statements, ``((( … )))`` for expressions, ``((= … =))`` for comments.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from ..core.errors import InputError
from .resources import template_dir
from ..core import escape

EXTENSIONS = {"markdown": "md", "latex": "tex", "text": "txt"}


def search_path(user_dir=None) -> list:
    """Template directories, the user's first."""
    dirs = []
    if user_dir is not None:
        user = Path(user_dir)
        if not user.is_dir():
            raise InputError("template directory not found", file=str(user_dir))
        dirs.append(str(user))
    dirs.append(str(template_dir()))
    return dirs


def environment(fmt: str, user_dir=None, lang: str = "en"):
    """A Jinja environment for output format ``fmt`` with the escaping filter ``esc``
    (for LaTeX in English, characters pdflatex cannot typeset are spelled out)."""
    import jinja2

    options = dict(
        loader=jinja2.FileSystemLoader(search_path(user_dir)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    if fmt == "latex":
        options.update(block_start_string="((*", block_end_string="*))", variable_start_string="(((",
                       variable_end_string=")))", comment_start_string="((=", comment_end_string="=))")
    env = jinja2.Environment(**options)
    latex = (lambda text: escape.latex(text, cjk=lang == "zh"))
    env.filters["esc"] = {"latex": latex, "markdown": escape.markdown}.get(fmt, escape.plain)
    env.filters["math_label"] = escape.math_label
    env.filters["width"] = escape.display_width
    return env


def render(name: str, fmt: str, user_dir=None, lang: str = "en", **context) -> str:
    """Render template ``<name>.<ext>.j2`` for format ``fmt``."""
    import jinja2

    template = f"{name}.{EXTENSIONS[fmt]}.j2"
    try:
        return environment(fmt, user_dir, lang).get_template(template).render(**context)
    except jinja2.TemplateNotFound as exc:
        raise InputError(f"template {exc.name} not found in {', '.join(search_path(user_dir))}") from None
    except jinja2.TemplateError as exc:
        where = f"{getattr(exc, 'filename', None) or template}"
        line = getattr(exc, "lineno", None)
        raise InputError(f"template error: {exc}", file=where, key=f"line {line}" if line else None) from None


class Catalog:
    """Messages of one language: ``catalog("section.forward")`` or with placeholders,
    ``catalog("caption.z", k=1)``. Keys missing from a user catalog fall back to the shipped one."""

    def __init__(self, lang: str, user_dir=None):
        self.lang = lang
        self._tables = []
        for directory in search_path(user_dir):
            path = Path(directory) / "messages" / f"{lang}.toml"
            if path.is_file():
                try:
                    self._tables.append(tomllib.loads(path.read_text(encoding="utf-8")))
                except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                    raise InputError(f"invalid message catalog: {exc}", file=str(path)) from None
        if not self._tables:
            raise InputError(f"no message catalog for language {lang!r}")

    def __call__(self, key: str, **values) -> str:
        for table in self._tables:
            node = table
            for part in key.split("."):
                node = node.get(part) if isinstance(node, dict) else None
            if isinstance(node, str):
                return node.format(**values) if values else node
        raise InputError(f"message {key!r} missing from the {self.lang} catalog")
