"""Expressions from text, parsed safely into ``Value`` graphs (never evaluated)."""

from .parse import parse, variables

__all__ = ["parse", "variables"]
