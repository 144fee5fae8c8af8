"""Running tracegrad on hostile input, and what a safe outcome looks like.

:func:`tg` runs the command line with a timeout: in this process (``tracegrad.cli.main``,
fast), or with ``isolated=True`` as ``python -m tracegrad`` in a subprocess, for the attacks
whose failure would be a hang or a runaway allocation (devices, FIFOs, huge inputs) or that
need a process of their own (a umask). :func:`refused` states the safe outcome of a
refusal: exit code 2, one line naming the file (and the key), no traceback.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data"
SEED = (ROOT / "examples" / "seed.toml").read_text(encoding="utf-8")
SEED_VARIANTS = (ROOT / "examples" / "seed_variants.toml").read_text(encoding="utf-8")
TIMEOUT = 20
ISOLATED = {"timeout": 10, "isolated": True}
"""For an attack whose failure would be a hang or a runaway allocation: a subprocess, 10 s at most."""


@dataclass
class Run:
    code: int
    out: str
    err: str


def tg(*args, cwd, timeout: float = TIMEOUT, umask: int | None = None, isolated: bool = False) -> Run:
    """``tracegrad ARGS`` in ``cwd``; a timeout fails the attack."""
    if not isolated and umask is None:
        return _in_process([str(a) for a in args], cwd, timeout)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTHONHASHSEED": "0"}
    env.pop("TRACEGRAD_DEBUG", None)
    done = subprocess.run([sys.executable, "-m", "tracegrad", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL,
                          preexec_fn=(lambda: os.umask(umask)) if umask is not None else None)
    return Run(done.returncode, done.stdout, done.stderr)


def _in_process(args, cwd, timeout) -> Run:
    import io
    import signal
    from contextlib import redirect_stderr, redirect_stdout

    from tracegrad.cli import main

    def expire(*_):
        raise TimeoutError(f"tracegrad {' '.join(args)} ran longer than {timeout} s")

    out, err, here = io.TextIOWrapper(io.BytesIO(), encoding="utf-8"), io.StringIO(), os.getcwd()
    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(int(timeout))
    os.chdir(cwd)
    try:
        with redirect_stdout(out), redirect_stderr(err):
            try:
                code = main(args)
            except SystemExit as exc:  # argparse's usage errors
                code = exc.code
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
        os.chdir(here)
    out.flush()
    return Run(code, out.buffer.getvalue().decode("utf-8"), err.getvalue())


def refused(run: Run, file: str, key: str | None = None, says: str = "") -> str:
    """Exit code 2 and one line ``tracegrad: error: FILE: KEY: …`` (containing ``says``)."""
    assert "Traceback" not in run.err and "internal error" not in run.err, run.err
    assert run.code == 2, (run.code, run.err)
    lines = run.err.strip().splitlines()
    assert len(lines) == 1, run.err
    prefix = f"tracegrad: error: {file}: " + (f"{key}: " if key else "")
    assert lines[0].startswith(prefix), (prefix, lines[0])
    assert says in lines[0], (says, lines[0])
    return lines[0]


def digest(folder: Path) -> dict:
    """``{relative path: sha256 or a kind}`` of everything under ``folder``, to show nothing changed."""
    out = {}
    for path in sorted(folder.rglob("*")):
        name = str(path.relative_to(folder))
        if path.is_symlink():
            out[name] = "link:" + os.readlink(path)
        elif path.is_file():
            out[name] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            out[name] = "dir" if path.is_dir() else "special"
    return out


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
