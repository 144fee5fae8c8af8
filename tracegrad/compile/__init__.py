"""Compiled replay: a recorded trace as straight-line Python (and numpy) code."""

from .runtime import Compiled, compile_trace

__all__ = ["Compiled", "compile_trace"]
