"""Weight initialisation schemes, drawn from a caller's seeded ``random.Random``.

Each scheme draws one weight for a layer with ``n_in`` inputs and ``n_out``
units. Layers draw unit by unit, input by input (micrograd's order), so the same
seed gives the same network in either weight layout.
"""

from __future__ import annotations

import math
import random

from ..core.errors import InputError


def uniform(rng: random.Random, n_in: int, n_out: int) -> float:
    """U(−1, 1): micrograd's initialisation."""
    return rng.uniform(-1.0, 1.0)


def xavier(rng: random.Random, n_in: int, n_out: int) -> float:
    """Glorot/Xavier uniform: U(−a, a) with a = √(6 / (n_in + n_out))."""
    a = math.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-a, a)


def xavier_normal(rng: random.Random, n_in: int, n_out: int) -> float:
    """Glorot/Xavier normal: N(0, 2 / (n_in + n_out))."""
    return rng.gauss(0.0, math.sqrt(2.0 / (n_in + n_out)))


def he(rng: random.Random, n_in: int, n_out: int) -> float:
    """He/Kaiming normal (for ReLU): N(0, 2 / n_in)."""
    return rng.gauss(0.0, math.sqrt(2.0 / n_in))


def he_uniform(rng: random.Random, n_in: int, n_out: int) -> float:
    """He/Kaiming uniform: U(−a, a) with a = √(6 / n_in)."""
    a = math.sqrt(6.0 / n_in)
    return rng.uniform(-a, a)


INITIALIZERS = {"uniform": uniform, "xavier": xavier, "xavier_normal": xavier_normal,
                "he": he, "he_uniform": he_uniform}
"""Initialisation schemes by name."""


def initializer(name: str):
    """The scheme called ``name``, or an :class:`InputError` listing the known ones."""
    if name not in INITIALIZERS:
        raise InputError(f"unknown initialisation {name!r}; choose one of {', '.join(INITIALIZERS)}", key="init")
    return INITIALIZERS[name]


def unit_weights(name: str, rng: random.Random, n_in: int, n_out: int, gain: float = 1.0) -> list:
    """The ``n_in`` incoming weights of one unit, each scaled by ``gain``."""
    draw = initializer(name)
    return [gain * draw(rng, n_in, n_out) for _ in range(n_in)]
