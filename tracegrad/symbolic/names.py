"""Symbol names: one SymPy symbol per node, with a unique internal name.

A symbol's name is internal: it only keeps distinct nodes distinct for SymPy (two
SymPy symbols with one name are one symbol). Nothing printed shows it: every report
writes a symbol as the derivation writes its node (:attr:`.convert.SymbolicGraph.names`).
"""

from __future__ import annotations


class Namer:
    """Hands out unique symbol names in the order nodes are met (deterministic):
    a node's label, ``v1, v2 …`` for unlabelled leaves, ``t1, t2 …`` for unlabelled
    intermediates; a name already taken gets primes (``x'``)."""

    def __init__(self):
        self.taken: set = set()
        self.count = {"v": 0, "t": 0}

    def name(self, label, prefix: str) -> str:
        if label is None:
            self.count[prefix] += 1
            name = f"{prefix}{self.count[prefix]}"
        else:
            name = str(label)
        while name in self.taken:
            name += "'"
        self.taken.add(name)
        return name
