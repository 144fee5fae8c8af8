"""Expressions and straight-line programs from text, interpreted safely into ``Value`` graphs
(never evaluated)."""

from .parse import parse, variables
from .program import Program, parse_program, read_program

__all__ = ["parse", "variables", "Program", "parse_program", "read_program"]
