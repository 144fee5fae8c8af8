"""An assignment's settings: the problem file's ``[assignment]`` table (or the teacher's page).

.. code-block:: toml

    [assignment]
    id = "hw3"                   # the student link is /a/hw3 (default: the file's stem)
    asked = ["z1", "a1", "y_hat", "loss", "delta2", "dL/dW2", "W2_new"]   # default: every quantity
                                 # of the derivation (layer view), in derivation order
    attempts = 5                 # checks per student (default: unlimited)
    reveal = "after_attempts"    # when the correct values and the worked solution are shown:
                                 # "never" (default), "after_submit", "after_attempts", "after"
    reveal_attempts = 3          # with "after_attempts": after the student's third check
    reveal_at = "2025-06-01T09:00:00+08:00"   # with "after": from then on (no offset: the server's time)
    hints = "mistake"            # "mistake" (default): the likely mistake is named; "step": also the
                                 # formula of the step; "none": the verdict only
    score = "best"               # the score sent and shown: "latest" (default) or "best" check
    roster = "students.csv"      # only these students (column id, optional name); beside the problem
    variants = 30                # with a [variants] table: each student gets one of 30 variants
    seed = 0                     # drawn with this seed (tracegrad variants --count 30 --seed 0)

Every key is optional; an unknown key, a value of the wrong kind, or a rule without the key it
needs (``reveal = "after"`` without ``reveal_at``) is one :class:`~tracegrad.core.errors.InputError`
naming the file and the key. :meth:`Settings.revealed` is the one place the reveal rule is decided.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timezone

from ..core.errors import InputError

REVEALS = ("never", "after_submit", "after_attempts", "after")
HINTS = ("mistake", "step", "none")
SCORES = ("latest", "best")
KEYS = ("id", "asked", "attempts", "reveal", "reveal_attempts", "reveal_at", "hints", "score", "roster", "variants",
        "seed")
PAGE_KEYS = ("attempts", "reveal", "reveal_attempts", "reveal_at", "hints", "score")
"""The settings a teacher may change on the teacher's page (the others shape the assignment itself)."""
ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
MAX_ATTEMPTS = 1000
MAX_VARIANTS = 1000


@dataclass(frozen=True)
class Settings:
    """The rules of an assignment (see the module docstring); ``asked`` is None for every quantity."""

    id: str
    asked: tuple | None = None
    attempts: int | None = None
    reveal: str = "never"
    reveal_attempts: int | None = None
    reveal_at: datetime | None = None
    hints: str = "mistake"
    score: str = "latest"
    roster: str | None = None
    variants: int = 30
    seed: int = 0

    def revealed(self, checks: int, now: datetime) -> bool:
        """Whether the correct values and the worked solution may be shown to a student who has made
        ``checks`` checks, at ``now`` (aware)."""
        if self.reveal == "after_submit":
            return checks >= 1
        if self.reveal == "after_attempts":
            return checks >= self.reveal_attempts
        if self.reveal == "after":
            return now >= self.reveal_at
        return False

    def page_values(self) -> dict:
        """The settings the teacher's page shows and may change, as plain values."""
        out = {key: getattr(self, key) for key in PAGE_KEYS}
        out["reveal_at"] = self.reveal_at.isoformat() if self.reveal_at else None
        return out


def stem_id(stem: str) -> str:
    """A file's stem as an assignment id: characters other than letters, digits, ``_`` and ``-`` become ``-``."""
    made = re.sub(r"[^A-Za-z0-9_-]+", "-", stem).strip("-_")[:64]
    return made or "assignment"


def parse_settings(raw, source: str, default_id: str, key: str = "assignment") -> Settings:
    """The settings of an ``[assignment]`` table (``raw``: its parsed table, or None)."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise InputError("expected a table of settings, e.g. [assignment] attempts = 3", file=source, key=key)
    for name in raw:
        if name not in KEYS:
            raise InputError(f"unknown key; expected one of {', '.join(KEYS)}", file=source, key=f"{key}.{name}")

    def fail(name, message):
        raise InputError(message, file=source, key=f"{key}.{name}")

    def choice(name, options, default):
        value = raw.get(name, default)
        if not isinstance(value, str) or value not in options:
            fail(name, f"expected one of {', '.join(options)}, got {_describe(value)}")
        return value

    def whole(name, low, high):
        if name not in raw:
            return None
        value = raw[name]
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            fail(name, f"expected a whole number from {low} to {high}, got {_describe(value)}")
        return value

    ident = raw.get("id", default_id)
    if not isinstance(ident, str) or not ID.fullmatch(ident):
        fail("id", f"expected letters, digits, _ and - (at most 64, starting with a letter or digit), "
                   f"got {_describe(ident)}")
    asked = raw.get("asked")
    if asked is not None:
        if not isinstance(asked, list) or not asked or not all(isinstance(n, str) for n in asked):
            fail("asked", "expected a list of quantity names, e.g. [\"z1\", \"a1\", \"loss\"] "
                          "(tracegrad quantities PROBLEM lists them)")
        if len(set(asked)) != len(asked):
            fail("asked", f"{next(n for n in asked if asked.count(n) > 1)!r} is asked twice")
        asked = tuple(asked)
    reveal = choice("reveal", REVEALS, "never")
    reveal_attempts = whole("reveal_attempts", 1, MAX_ATTEMPTS)
    if (reveal == "after_attempts") != (reveal_attempts is not None):
        if reveal_attempts is None:
            fail("reveal", "reveal = \"after_attempts\" needs reveal_attempts = N (after the student's N-th check)")
        fail("reveal_attempts", f"only for reveal = \"after_attempts\" (reveal is {reveal!r})")
    reveal_at = _moment(raw["reveal_at"], fail) if "reveal_at" in raw else None
    if (reveal == "after") != (reveal_at is not None):
        if reveal_at is None:
            fail("reveal", "reveal = \"after\" needs reveal_at = \"2025-06-01T09:00:00+08:00\" (a date and time)")
        fail("reveal_at", f"only for reveal = \"after\" (reveal is {reveal!r})")
    attempts = whole("attempts", 1, MAX_ATTEMPTS)
    if attempts is not None and reveal_attempts is not None and reveal_attempts > attempts:
        fail("reveal_attempts", f"{reveal_attempts} checks can never be made: attempts = {attempts}")
    roster = raw.get("roster")
    if roster is not None and (not isinstance(roster, str) or not roster.strip()):
        fail("roster", f"expected the name of a CSV file beside the problem file, got {_describe(roster)}")
    variants = whole("variants", 1, MAX_VARIANTS)
    seed = whole("seed", 0, 2 ** 63 - 1)
    return Settings(ident, asked, attempts, reveal, reveal_attempts, reveal_at, choice("hints", HINTS, "mistake"),
                    choice("score", SCORES, "latest"), roster, 30 if variants is None else variants,
                    0 if seed is None else seed)


def override(settings: Settings, changes: dict) -> Settings:
    """``settings`` with the teacher's ``changes`` (keys of :data:`PAGE_KEYS`; None removes a limit or a
    rule's parameter), checked by the same rules as the file."""
    for name in changes:
        if name not in PAGE_KEYS:
            raise InputError(f"unknown setting; the page may change {', '.join(PAGE_KEYS)}", key=f"settings.{name}")
    merged = {**settings.page_values(), **changes}
    table = {k: v for k, v in merged.items() if v is not None}
    parsed = parse_settings(table, "", settings.id, key="settings")
    return replace(settings, **{k: getattr(parsed, k) for k in PAGE_KEYS})


def _moment(value, fail) -> datetime:
    """An ISO 8601 date and time as an aware datetime (without an offset: the server's local time)."""
    if not isinstance(value, str):
        fail("reveal_at", f"expected a date and time as a text, e.g. \"2025-06-01T09:00:00+08:00\", got "
                          f"{_describe(value)}")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        fail("reveal_at", f"not a date and time: {_describe(value)}; write e.g. \"2025-06-01T09:00:00+08:00\"")
    return moment.astimezone() if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _describe(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:39] + "…"
