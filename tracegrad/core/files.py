"""Reading user files within bounds, and writing output without harming anything.

Reading (:func:`read_text`, :func:`parse_document`, :func:`read_document`): only regular
files, at most a limit's bytes read, then a bounded parse: number length, nesting and
dotted-key depth are scanned before the parser runs; duplicate JSON keys, lone surrogates,
dates and times, over-long texts and numbers outside the range of 64-bit floats are refused
after it. A file that cannot be read gets one message whatever the reason, so a command
never tells whether a path exists.

Writing (:func:`write_output`, :class:`OutputSet`): never over a file the command reads,
never over anything but a regular file, always through a temporary file renamed into place
(with the user's umask); a set of files goes into a folder that is empty or holds only the
same command's earlier set (a manifest lists it), and is swapped in whole.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import shutil
import stat
import sys
import tempfile
import tomllib
from decimal import Decimal
from pathlib import Path

from .errors import InputError
from .limits import check, limit

UNREADABLE = "cannot be read: it is missing, not a regular file, or not readable"
"""The one message for a file that cannot be read, whatever the reason."""


# --- reading --------------------------------------------------------------------------


def read_text(path, *, bytes_limit: str | int = "file_bytes") -> str:
    """The UTF-8 text of the regular file ``path``, at most ``bytes_limit`` bytes (a limit's
    name, or a number for tracegrad's own files).

    FIFOs, devices and directories are refused without blocking or reading them."""
    source = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0))
    except (OSError, ValueError):
        raise InputError(UNREADABLE, file=source) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise InputError(UNREADABLE, file=source)
        bound = limit(bytes_limit) if isinstance(bytes_limit, str) else bytes_limit
        chunks, size = [], 0
        while size <= bound:
            chunk = os.read(fd, min(1 << 20, bound + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError:
        raise InputError(UNREADABLE, file=source) from None
    finally:
        os.close(fd)
    if size > bound:
        raise InputError(f"the file is larger than {bound:,} bytes, the limit for it; raise it with "
                         f"--limit {bytes_limit}=N", file=source)
    try:
        return b"".join(chunks).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text (byte {exc.start}); save the file as UTF-8", file=source) from None


def format_of(path) -> str:
    """``json`` for a name ending in ``.json``, else ``toml``."""
    return "json" if str(path).lower().endswith(".json") else "toml"


def read_document(path, *, decimal: bool = False) -> dict:
    """:func:`read_text` then :func:`parse_document`, the format from the file name."""
    return parse_document(read_text(path), str(path), format_of(path), decimal=decimal)


_TOKEN = re.compile(r"""
    (?P<comment>\#[^\n]*)
  | (?P<string>\"\"\"(?:[^\\]|\\.)*?\"\"\"|'''.*?'''|"(?:[^"\\\n]|\\.)*"|'[^'\n]*')
  | (?P<number>[0-9][0-9A-Fa-f_]*)
  | (?P<dot>[ \t]*\.[ \t]*)
  | (?P<open>[\[{])
  | (?P<close>[\]}])
  | (?P<end>[\n=,])
  | (?P<other>[^\[\]{}\n=,."'\#0-9]+|.)
""", re.VERBOSE | re.DOTALL)
_JSON_TOKEN = re.compile(_TOKEN.pattern.replace(r"""|'''.*?'''""", "").replace(r"""|'[^'\n]*'""", ""),
                         re.VERBOSE | re.DOTALL)


def _scan(text: str, source: str, fmt: str) -> None:
    """Refuse over-long numbers, deep nesting and deep dotted keys before a parser sees them."""
    depth = dots = 0
    max_digits, max_nesting, max_dots = limit("number_digits"), limit("nesting"), limit("key_depth") - 1
    for match in (_JSON_TOKEN if fmt == "json" else _TOKEN).finditer(text):
        kind = match.lastgroup
        if kind == "number" and len(match.group()) > max_digits:
            _refuse_at(text, match.start(), source, "number_digits", "a number with more than "
                       f"{max_digits:,} digits")
        elif kind == "dot":
            dots += 1
            if dots > max_dots:
                _refuse_at(text, match.start(), source, "key_depth", f"a dotted key of more than "
                           f"{max_dots + 1} parts")
        elif kind == "open":
            depth, dots = depth + 1, 0
            if depth > max_nesting:
                _refuse_at(text, match.start(), source, "nesting", f"lists or tables nested more than "
                           f"{max_nesting} deep")
        elif kind in ("close", "end"):
            depth, dots = max(depth - 1, 0) if kind == "close" else depth, 0


def _refuse_at(text, position, source, name, what):
    line = text.count("\n", 0, position) + 1
    raise InputError(f"{what}, over the limit; raise it with --limit {name}=N", file=source, key=f"line {line}")


def parse_document(text: str, source: str, format: str = "toml", *, decimal: bool = False) -> dict:
    """The table a TOML or JSON text holds, parsed within the limits; ``decimal`` keeps every
    non-integer number as the :class:`~decimal.Decimal` written (answers files)."""
    if not text.strip():
        raise InputError("the file is empty", file=source)
    _scan(text, source, format)
    number = Decimal if decimal else float
    try:
        if format == "json":
            data = json.loads(text, parse_float=number, parse_constant=_constant(source, decimal),
                              object_pairs_hook=_unique_keys)
        else:
            data = tomllib.loads(text, parse_float=number)
    except json.JSONDecodeError as exc:
        raise InputError(f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}", file=source) from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"invalid TOML: {exc}", file=source) from None
    except (RecursionError, ValueError):
        raise InputError("not a valid file: nested too deeply or a number out of range", file=source) from None
    if not isinstance(data, dict):
        raise InputError("expected a table (an object) at the top level", file=source)
    _check_values(data, source, "")
    return data


def _constant(source: str, decimal: bool):
    def constant(name):
        if decimal:
            raise InputError(f"{name} is not a number an answer can have", file=source)
        return float(name)  # refused by the reader that expects a finite number, naming the key
    return constant


class _Repeated(dict):
    """A JSON object that gave a key twice; :func:`_check_values` refuses it with its key path."""

    repeated = ""


def _unique_keys(items):
    table = {}
    for key, value in items:
        if key in table and not isinstance(table, _Repeated):
            table = _Repeated(table)
            table.repeated = key
        table[key] = value
    return table


_SURROGATE = re.compile("[\ud800-\udfff]")


def _check_values(value, source: str, key: str) -> None:
    """Walk the parsed data: texts bounded and encodable, no dates or times, numbers in range."""
    if isinstance(value, _Repeated):
        where = f"{key}.{_one(value.repeated)}" if key else _one(value.repeated)
        raise InputError("the key appears twice in one object", file=source, key=where)
    if isinstance(value, dict):
        for name, item in value.items():
            _check_text(name, source, key or _one(name))
            _check_values(item, source, f"{key}.{_one(name)}" if key else _one(name))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_values(item, source, f"{key}[{i}]")
    elif isinstance(value, str):
        _check_text(value, source, key)
    elif isinstance(value, (datetime.date, datetime.time)):
        raise InputError("expected a number or a text, got a date or time", file=source, key=key)
    elif isinstance(value, Decimal) and value.is_finite() and value and value.adjusted() < -330:
        raise InputError(f"the number {value:.3E} is too small to be a 64-bit float", file=source, key=key)


def _check_text(text: str, source: str, key: str) -> None:
    if _SURROGATE.search(text):
        raise InputError("the text holds a lone surrogate (an invalid character escape)", file=source, key=key)
    check("text_chars", len(text), file=source, key=key)


def _one(name: str) -> str:
    """A key as a key path writes it: quoted when it holds a dot or a slash."""
    return f'"{name}"' if "." in name or "/" in name or not name else name


# --- paths ---------------------------------------------------------------------------


def resolve_inside(name: str, folder, *, allowed=(), file=None, key=None, flag: str = "") -> Path:
    """The path ``name`` (relative to ``folder``) after following symbolic links, when it lies
    inside ``folder`` or one of the ``allowed`` folders; otherwise one message saying how to
    allow it (``flag``), before anything is read."""
    target = (Path(folder) / name).resolve()
    for root in (folder, *allowed):
        if target.is_relative_to(Path(root).resolve()):
            return target
    hint = f"; to read it from another folder, pass {flag}" if flag else ""
    raise InputError(f"{name!r} lies outside the folder of the problem file{hint}", file=file, key=key)


# --- writing -------------------------------------------------------------------------


def _mode(base: int = 0o666) -> int:
    """The mode a new file (``base`` 0o666) or folder (0o777) gets: ``base`` less the umask, as
    ``open()`` and ``mkdir()`` would create it."""
    mask = os.umask(0)
    os.umask(mask)
    return base & ~mask


def _same(a: os.stat_result, b: os.stat_result) -> bool:
    return (a.st_dev, a.st_ino) == (b.st_dev, b.st_ino)


def _stat(path):
    try:
        return os.stat(path)
    except (OSError, ValueError):
        return None


def _guard_inputs(target: Path, inputs, shown: str) -> None:
    """Refuse a target that is one of ``inputs``, or an existing file inside an input folder."""
    own = _stat(target)
    if own is None:
        return
    for source in inputs:
        info = _stat(source) if source else None
        if info is None:
            continue
        if stat.S_ISDIR(info.st_mode):
            if target.resolve().is_relative_to(Path(source).resolve()):
                raise InputError("refusing to overwrite a file in a folder the command reads (--template-dir); "
                                 "choose another -o path", file=shown)
        elif _same(own, info):
            raise InputError("refusing to overwrite an input file; choose another -o path", file=shown)


def write_output(text: str | bytes, path: str | None, *, inputs=()) -> None:
    """Write ``text`` to ``path`` (standard output when ``path`` is None or ``-``).

    Refuses to write over any of ``inputs`` (files, or folders whose files it reads) and over
    anything that is not a regular file (a device, a FIFO, a directory, a symbolic link to one);
    writes a temporary file with the user's umask and renames it into place, so a failed run
    leaves no partial file. A symbolic link to a regular file is written through."""
    if path in (None, "-"):
        if isinstance(text, bytes):
            sys.stdout.buffer.write(text)
        else:
            sys.stdout.write(text)
        sys.stdout.flush()
        return
    shown = str(path)
    target = Path(path)
    try:
        link = os.lstat(target)
    except (OSError, ValueError):
        link = None
    if link is not None:
        info = _stat(target)
        if info is None or not stat.S_ISREG(info.st_mode):
            raise InputError("exists and is not a regular file (a folder, a device, a FIFO or a broken link); "
                             "give the name of a file to write", file=shown)
        if stat.S_ISLNK(link.st_mode):
            target = target.resolve()
    _guard_inputs(target, inputs, shown)
    parent = target.parent
    if not parent.is_dir():
        raise InputError(f"folder {parent} does not exist", file=shown)
    data = text if isinstance(text, bytes) else text.encode("utf-8")
    _atomic_write(target, data, shown)


def _atomic_write(target: Path, data: bytes, shown: str) -> None:
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name[:64]}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), _mode())
            handle.write(data)
        os.replace(tmp, target)
    except OSError as exc:
        raise InputError(f"cannot write the file ({exc.strerror or exc}): the folder must be writable",
                         file=shown) from None
    finally:
        if tmp is not None and os.path.lexists(tmp):
            os.unlink(tmp)


MANIFEST = "tracegrad-manifest.json"
"""The file naming what an :class:`OutputSet` wrote (with each file's SHA-256), so a later run
knows what is its own and that nobody changed it."""
MANIFEST_BYTES = 50_000_000


def _digest(path: Path) -> str:
    import hashlib

    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


class OutputSet:
    """A set of files written into ``folder`` as a whole.

    The folder must not exist (the folders leading to it are made), be empty, or hold exactly
    an earlier set of the same ``command`` (its manifest and the files it lists); anything else
    is refused before a byte is written. Files are written into a new folder beside it, with the manifest, and
    swapped in by renaming when :meth:`commit` runs; an interrupted run leaves the old set
    (or nothing) in place, never half a set. ``inputs`` may not lie in the folder.
    """

    def __init__(self, folder, command: str, *, inputs=()):
        self.folder, self.command = Path(os.path.abspath(folder)), command
        self.shown = str(folder)
        self.names: list = []
        self._check(inputs)
        parent = self.folder.parent
        try:  # the folders leading to a new set are made, as mkdir -p does
            parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise InputError(f"cannot make the folder {parent} ({exc.strerror or exc}); give a folder that can hold "
                             "the output", file=self.shown) from None
        try:
            self.staging = Path(tempfile.mkdtemp(dir=parent, prefix=f".{self.folder.name[:64]}."))
            os.chmod(self.staging, _mode(0o777))
        except OSError as exc:
            raise InputError(f"cannot write here ({exc.strerror or exc}): the folder must be writable",
                             file=self.shown) from None

    def _check(self, inputs) -> None:
        try:
            link = os.lstat(self.folder)
        except (FileNotFoundError, NotADirectoryError):  # a new set (a file in its way is found when its folders are made)
            return
        except (OSError, ValueError):
            raise InputError(UNREADABLE, file=self.shown) from None
        if not stat.S_ISDIR(link.st_mode):
            raise InputError("exists and is not a folder (or is a symbolic link); give a folder to write into",
                             file=self.shown)
        folder = self.folder.resolve()
        for source in inputs:
            if source and Path(source).resolve().is_relative_to(folder):
                raise InputError("refusing to write into the folder of an input file; choose another -o",
                                 file=self.shown)
        present = set(os.listdir(self.folder))
        if not present:
            return
        owned = self._manifest()
        stray = sorted(present - set(owned or ()) - {MANIFEST})
        if owned is None or stray:
            raise InputError(f"the folder holds files tracegrad did not write ({', '.join(stray[:3])}"
                             f"{' …' if len(stray) > 3 else ''}); give an empty or new folder", file=self.shown)
        for name, digest in owned.items():
            path = self.folder / name
            if name in present and (not stat.S_ISREG(os.lstat(path).st_mode) or _digest(path) != digest):
                raise InputError(f"{name} was changed since tracegrad wrote it; give an empty or new folder",
                                 file=self.shown)

    def _manifest(self):
        """``{name: sha256}`` of an earlier set of this command in the folder, or None."""
        try:
            data = json.loads(read_text(self.folder / MANIFEST, bytes_limit=MANIFEST_BYTES))
        except (InputError, ValueError):
            return None
        files = data.get("files") if isinstance(data, dict) and data.get("command") == self.command else None
        if not isinstance(files, dict) or not all(isinstance(v, str) for v in files.values()):
            return None
        return files

    def staged(self, name: str) -> Path:
        """Where file ``name`` of the set is written, for a writer that needs a path."""
        if os.sep in name or name in ("", ".", "..", MANIFEST) or name in self.names:
            raise ValueError(f"not a new file name of the set: {name!r}")
        self.names.append(name)
        return self.staging / name

    def write(self, name: str, data: str | bytes) -> Path:
        """Write one file of the set (``name`` is a plain file name)."""
        with open(self.staged(name), "xb") as handle:
            os.fchmod(handle.fileno(), _mode())
            handle.write(data if isinstance(data, bytes) else data.encode("utf-8"))
        return self.folder / name

    def commit(self) -> list:
        """Write the manifest and swap the new set in; returns the final paths."""
        files = {name: _digest(self.staging / name) for name in self.names}
        with open(self.staging / MANIFEST, "x", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), _mode())
            handle.write(json.dumps({"command": self.command, "files": files}, indent=1) + "\n")
        old = None
        if os.path.lexists(self.folder):
            old = Path(tempfile.mkdtemp(dir=self.folder.parent, prefix=f".{self.folder.name[:64]}.old."))
            os.rename(self.folder, old / "set")
        os.rename(self.staging, self.folder)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return [self.folder / name for name in self.names]

    def discard(self) -> None:
        """Remove the staged files (a failed run)."""
        shutil.rmtree(self.staging, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if kind is not None:
            self.discard()
        return False
