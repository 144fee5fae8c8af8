"""Nested lists and tuples of numbers or node indices: scalars, vectors, matrices, batches."""

from __future__ import annotations

from typing import Callable


def flatten(nested):
    """The leaves of a nested list/tuple, in reading order."""
    if isinstance(nested, (list, tuple)):
        for item in nested:
            yield from flatten(item)
    else:
        yield nested


def cells(nested, position: tuple = ()):
    """``(position, leaf)`` pairs of a nested list/tuple, in reading order: ``((0, 1), x)``."""
    if isinstance(nested, (list, tuple)):
        for k, item in enumerate(nested):
            yield from cells(item, position + (k,))
    else:
        yield position, nested


def map_nested(nested, f: Callable):
    """Apply ``f`` to every leaf of a nested list/tuple; returns nested tuples."""
    if isinstance(nested, (list, tuple)):
        return tuple(map_nested(item, f) for item in nested)
    return f(nested)


def shape_of(nested) -> tuple:
    """The shape of nested lists or tuples (``()`` for a number)."""
    shape = []
    while isinstance(nested, (list, tuple)):
        shape.append(len(nested))
        nested = nested[0]
    return tuple(shape)
