"""The ``tracegrad`` command (also ``python -m tracegrad``).

Each subcommand lives in ``tracegrad/commands/<name>.py`` with ``register(sub)``
(argument definitions only, nothing heavy imported) and ``run(args) -> int``.
Errors a user can cause are printed as one message, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from . import __version__
from .core import limits
from .core.errors import TraceGradError

COMMANDS: tuple[str, ...] = ("derive", "graph", "expr", "verify", "variants", "export", "check", "quantities",
                             "train", "serve")
"""Subcommand module names, in the order ``--help`` lists them."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse's usage errors exit 2 with one message, like ours
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="tracegrad",
        description="A scalar autodiff engine that records every operation and renders "
        "step-by-step backpropagation derivations.",
    )
    parser.add_argument("--version", action="version", version=f"tracegrad {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMANDS:
        importlib.import_module(f"tracegrad.commands.{name}").register(sub)
        sub.choices[name].add_argument(
            "--limit", action="append", default=[], metavar="NAME=N",
            help="raise (or lower) one of the input limits, e.g. --limit units=500; the README's Guarantees "
                 "section lists them")
    return parser


def main(argv=None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return 0
    try:
        with limits.raised(**limits.parse_settings(args.limit)):
            return int(args.run(args) or 0)
    except TraceGradError as exc:
        print(f"tracegrad: error: {exc.located()}", file=sys.stderr)
        return exc.exit_code
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"tracegrad: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("tracegrad: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: say so plainly, keep the traceback for TRACEGRAD_DEBUG=1
        if os.environ.get("TRACEGRAD_DEBUG"):
            raise
        print(f"tracegrad: internal error ({type(exc).__name__}: {exc}); "
              "rerun with TRACEGRAD_DEBUG=1 for details and report it", file=sys.stderr)
        return 3


if __name__ == "__main__":
    raise SystemExit(main())
