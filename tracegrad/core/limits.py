"""The limits every input is held to, in one table.

Each limit bounds the work or memory one piece of user input can cause; a value over it is
refused before the work starts, with a message naming the limit and how to raise it
(``--limit NAME=N`` on every command, :func:`raised` from Python). The README's
Guarantees section lists them.
"""

from __future__ import annotations

import contextvars
from contextlib import contextmanager
from dataclasses import dataclass

from .errors import InputError


@dataclass(frozen=True)
class Limit:
    """``default`` is the largest value allowed; ``unit`` says what is counted."""

    name: str
    default: int
    unit: str


LIMITS = {limit.name: limit for limit in (
    Limit("file_bytes", 1_000_000, "bytes in a problem file, answers file, template or message catalog"),
    Limit("dataset_bytes", 20_000_000, "bytes in a CSV dataset"),
    Limit("number_digits", 100, "digits in one number of a file"),
    Limit("nesting", 16, "levels of lists and tables nested in a file"),
    Limit("key_depth", 16, "parts of one dotted key or table name"),
    Limit("text_chars", 1000, "characters in one text of a file (a title, a name)"),
    Limit("layers", 20, "layers in a problem"),
    Limit("units", 100, "units in one layer (or inputs of a sample)"),
    Limit("samples", 100, "samples in a problem's batch"),
    Limit("answers", 100_000, "numbers in one answers file"),
    Limit("dataset_rows", 100_000, "samples in a training dataset"),
    Limit("iterations", 100_000, "training iterations (epochs × iterations per epoch)"),
    Limit("variants", 1000, "variants written by one run"),
    Limit("symbolic_nodes", 5000, "graph nodes confirmed by SymPy in one run"),
    Limit("symbolic_kinks", 4, "kinked ops (relu, leaky_relu, abs, max, min …) nested in one expression "
                               "SymPy expands"),
)}

_raised: contextvars.ContextVar = contextvars.ContextVar("tracegrad_limits", default={})


def limit(name: str) -> int:
    """The value in force for limit ``name``."""
    return _raised.get().get(name, LIMITS[name].default)


@contextmanager
def raised(**values: int):
    """Limits set to other values inside the block: ``with raised(units=500): …``."""
    for name, value in values.items():
        if name not in LIMITS:
            raise InputError(f"unknown limit {name!r}; the limits are {', '.join(LIMITS)}", key="--limit")
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise InputError(f"{name} must be a whole number of at least 1, got {value!r}", key="--limit")
    token = _raised.set({**_raised.get(), **values})
    try:
        yield
    finally:
        _raised.reset(token)


def parse_settings(items) -> dict:
    """``["units=500"]`` (the command line's ``--limit``) → ``{"units": 500}``."""
    values = {}
    for item in items or ():
        name, sep, number = item.partition("=")
        if not sep or not number.strip().isdigit():
            raise InputError(f"{item!r} is not NAME=N; write it like units=500 (limits: {', '.join(LIMITS)})",
                             key="--limit")
        values[name.strip()] = int(number)
    return values


def check(name: str, count: int, *, file=None, key=None) -> None:
    """Refuse ``count`` when it is over limit ``name``, naming the limit and how to raise it."""
    bound = limit(name)
    if count > bound:
        raise InputError(f"{count:,} {LIMITS[name].unit}: over the limit of {bound:,}; raise it with "
                         f"--limit {name}=N", file=file, key=key)
