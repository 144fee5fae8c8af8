"""The errors tracegrad raises on purpose.

Every error a user can cause is a :class:`TraceGradError`: the command-line tool
prints its message (never a traceback) and exits with its ``exit_code``.
"""

from __future__ import annotations

from contextlib import contextmanager


class TraceGradError(Exception):
    """Base class: a message meant for the user, and the CLI exit code."""

    exit_code = 2
    file: str | None = None  # the file the error is about, when it is not part of the message

    def located(self) -> str:
        """The message with the file in front (as the command line prints it)."""
        return f"{_one_line(self.file)}: {self}" if self.file and not isinstance(self, InputError) else str(self)


class DomainError(TraceGradError, ArithmeticError):
    """An op was asked for a value outside its domain, or its result overflowed.

    ``op`` is the op name, ``operands`` a tuple of ``(label, value)`` pairs.
    """

    def __init__(self, op: str, operands, reason: str, fix: str = ""):
        self.op = op
        self.operands = tuple(operands)
        self.reason = reason
        self.fix = fix
        shown = ", ".join(f"{label} = {value!r}" for label, value in self.operands)
        message = f"{op}({shown}): {reason}"
        if fix:
            message += f"; {fix}"
        super().__init__(message)


class InputError(TraceGradError):
    """Bad user input: names the file and the key path, and says what was expected."""

    def __init__(self, message: str, *, file: str | None = None, key: str | None = None):
        self.message = message
        self.file = file
        self.key = key
        where = ": ".join(_one_line(part) for part in (file, key) if part)
        super().__init__(f"{where}: {message}" if where else message)


def _one_line(part: str) -> str:
    """A file name or key path (user text) printable on one line: control characters escaped."""
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in str(part))


@contextmanager
def in_file(source: str, keys=()):
    """Errors raised inside the block that name no file are about ``source``: an
    :class:`InputError` gets its file (and its key renamed by the ``(old prefix, new prefix)``
    pairs ``keys``, e.g. ``("targets", "data.y")``), any other error its ``file``."""
    try:
        yield
    except InputError as exc:
        if exc.file is not None:
            raise
        key = exc.key
        for old, new in keys:
            if key is not None and (key == old or key.startswith(old + "[")):
                key = new + key[len(old):]
        raise InputError(exc.message, file=source, key=key) from None
    except TraceGradError as exc:
        if exc.file is None:
            exc.file = source
        raise
