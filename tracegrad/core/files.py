"""Writing command output safely: never over an input file, never half a file."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from .errors import InputError


def write_output(text: str | bytes, path: str | None, *, inputs=()) -> None:
    """Write ``text`` to ``path`` (standard output when ``path`` is None or ``-``).

    Refuses to overwrite any of ``inputs``; writes to a temporary file first and
    renames it into place, so a failed run leaves no partial file behind.
    """
    if path in (None, "-"):
        if isinstance(text, bytes):
            sys.stdout.buffer.write(text)
        else:
            sys.stdout.write(text)
        sys.stdout.flush()
        return
    target = Path(path)
    for source in inputs:
        if source and Path(source).exists() and target.exists() and target.resolve() == Path(source).resolve():
            raise InputError("refusing to overwrite an input file; choose another -o path", file=str(path))
    if target.is_dir():
        raise InputError("is a directory; give a file name", file=str(path))
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise InputError(f"directory {parent} does not exist", file=str(path))
    data = text if isinstance(text, bytes) else text.encode("utf-8")
    fd, tmp = tempfile.mkstemp(dir=parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
