"""Problem files and their solution: a network, its data, loss and optimizer read from
TOML or JSON (:mod:`.schema`), solved into one graph with every printed quantity named
(:mod:`.solve`)."""

from .schema import LayerSpec, Problem, RenderSettings, load_problem, parse_problem
from .quantity import Quantity
from .solve import Worked, solve

__all__ = ["LayerSpec", "Problem", "RenderSettings", "load_problem", "parse_problem", "Quantity", "Worked",
           "solve"]
