"""The Jinja environment and the message catalogs.

Built by a function, never a global: a user template directory, when given, is
searched first, so a teacher overrides any template (or a catalog) by name.
LaTeX templates use delimiters that do not clash with TeX: ``((* … *))`` for
statements, ``((( … )))`` for expressions, ``((= … =))`` for comments.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from ..core.errors import InputError, in_file
from ..core.files import read_document, read_text
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


MAX_TEXT = 10_000_000
"""The longest string or list a template expression may build (``"x" * n``, ``list * n``)."""


def _loader(dirs):
    """A Jinja loader over ``dirs`` that reads every template through the bounded reader and
    never follows a name or a symbolic link out of its directory."""
    import jinja2
    from jinja2.loaders import split_template_path

    class Loader(jinja2.BaseLoader):
        def get_source(self, environment, template):
            parts = split_template_path(template)  # refuses ".." and absolute names
            for directory in dirs:
                path = Path(directory).joinpath(*parts)
                if not os.path.lexists(path):
                    continue
                if not path.resolve().is_relative_to(Path(directory).resolve()):
                    raise InputError("the template leads outside its template directory", file=str(path))
                source = read_text(path)
                return source, str(path), lambda: True
            raise jinja2.TemplateNotFound(template)

    return Loader()


def _sandbox():
    """Jinja's sandbox (no attribute starting with ``_``, no unsafe call), also bounding the
    size of what ``*`` and ``**`` build, so a template can neither run code nor exhaust memory."""
    from jinja2.sandbox import SandboxedEnvironment

    class Sandbox(SandboxedEnvironment):
        intercepted_binops = frozenset(["*", "**"])

        def call_binop(self, context, operator, left, right):
            if operator == "**" and isinstance(right, (int, float)) and abs(right) > 1000:
                raise InputError(f"a power with exponent {right} in a template; the limit is 1000")
            if operator == "*":
                for seq, n in ((left, right), (right, left)):
                    if isinstance(seq, (str, list, tuple)) and isinstance(n, int) and len(seq) * n > MAX_TEXT:
                        raise InputError(f"a template builds a text or list longer than {MAX_TEXT:,}")
            return super().call_binop(context, operator, left, right)

    return Sandbox


def environment(fmt: str, user_dir=None, lang: str = "en"):
    """A sandboxed Jinja environment for output format ``fmt`` with the escaping filter ``esc``
    (for LaTeX in English, characters pdflatex cannot typeset are spelled out)."""
    import jinja2

    options = dict(
        loader=_loader(search_path(user_dir)),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )
    if fmt == "latex":
        options.update(block_start_string="((*", block_end_string="*))", variable_start_string="(((",
                       variable_end_string=")))", comment_start_string="((=", comment_end_string="=))")
    env = _sandbox()(**options)
    del env.globals["lipsum"]  # generates text of any size on request
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
        with in_file(template):  # a limit of the sandbox names the template
            output = environment(fmt, user_dir, lang).get_template(template).render(**context)
        return escape.beyond_latin1(output) if fmt == "latex" and lang != "zh" else output
    except jinja2.TemplateNotFound as exc:
        raise InputError(f"template {exc.name} not found in {', '.join(search_path(user_dir))}") from None
    except jinja2.TemplateError as exc:
        where = f"{getattr(exc, 'filename', None) or template}"
        line = getattr(exc, "lineno", None)
        raise InputError(f"template error: {exc}", file=where, key=f"line {line}" if line else None) from None
    except (ArithmeticError, LookupError, TypeError, ValueError) as exc:  # raised by a template's expression
        raise InputError(f"template error: {exc}", file=template) from None


class Catalog:
    """Messages of one language: ``catalog("section.forward")`` or with placeholders,
    ``catalog("caption.z", k=1)``. Keys missing from a user catalog fall back to the shipped one.
    Placeholders are plain names (``{k}``, ``{n:>3}``): no attribute or index access."""

    def __init__(self, lang: str, user_dir=None):
        self.lang = lang
        self._tables = []
        for directory in search_path(user_dir):
            path = Path(directory) / "messages" / f"{lang}.toml"
            if os.path.lexists(path):
                self._tables.append((str(path), _catalog_table(path)))
        if not self._tables:
            raise InputError(f"no message catalog for language {lang!r}")

    def __call__(self, key: str, **values) -> str:
        for source, table in self._tables:
            node = table
            for part in key.split("."):
                node = node.get(part) if isinstance(node, dict) else None
            if isinstance(node, str):
                return _format(node, values, source, key) if values else node
        raise InputError(f"message {key!r} missing from the {self.lang} catalog")


def _catalog_table(path: Path) -> dict:
    """A catalog file's table (read only), parsed once per version of the file: a server making a
    catalog per request reads it once, and an edited catalog (another size or time) is read again."""
    try:
        info = os.stat(path)
    except OSError:
        return read_document(path)  # says why it cannot be read
    return _parsed_catalog(str(path), info.st_mtime_ns, info.st_size)


@lru_cache(maxsize=32)
def _parsed_catalog(path: str, mtime_ns: int, size: int) -> dict:
    return read_document(path)


def _format(message: str, values: dict, source: str, key: str) -> str:
    """``message.format(**values)`` with plain-name placeholders only."""
    import string

    def fail(why):
        raise InputError(f"{why}; a placeholder is a plain name such as {{k}}", file=source, key=key)

    try:
        fields = list(string.Formatter().parse(message))
    except ValueError as exc:
        fail(f"invalid placeholder ({exc})")
    for _, name, spec, conversion in fields:
        if name is None:
            continue
        if name not in values:
            fail(f"unknown placeholder {{{name}}}")
        if "{" in (spec or "") or conversion not in (None, "s", "r"):
            fail(f"placeholder {{{name}}} is not plain")
    try:
        return message.format(**values)
    except (ValueError, TypeError) as exc:
        fail(f"invalid placeholder ({exc})")
