"""The layered architecture, enforced: every import of every module (function-level imports
included) goes down the declared order of layers, or stays inside its own package, and no
import cycle exists. See the README's Architecture section."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "tracegrad"

LAYERS = (
    ("core", ("tracegrad.core",)),
    ("engines", ("tracegrad.compile", "tracegrad.expressions")),
    ("network", ("tracegrad.nn", "tracegrad.problem")),
    ("analysis", ("tracegrad.symbolic", "tracegrad.checker")),
    ("render", ("tracegrad.render",)),
    ("workflows", ("tracegrad.workflows",)),
    ("classroom", ("tracegrad.classroom",)),
    ("interfaces", ("tracegrad.cli", "tracegrad.commands", "tracegrad.notebook", "tracegrad.extensions",
                    "tracegrad.serve", "tracegrad.__main__", "tracegrad")),
)
"""Lowest first. A module may import modules of lower layers and of its own package; it may
import a sibling package of its own layer only when that keeps the graph free of cycles."""


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> int:
    best = None
    for rank, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if module == prefix or module.startswith(prefix + "."):
                if best is None or len(prefix) > best[1]:
                    best = (rank, len(prefix))
    assert best is not None, f"{module} belongs to no declared layer"
    return best[0]


def package_of(module: str) -> str:
    """The top-level subpackage (``tracegrad.checker``) or module a module belongs to."""
    parts = module.split(".")
    return ".".join(parts[:2])


def _exists(module: str) -> bool:
    path = ROOT / module.replace(".", "/")
    return path.with_suffix(".py").is_file() or (path / "__init__.py").is_file()


def imports_of(path: Path) -> set:
    """Every tracegrad module ``path`` imports, at any level (``from . import x`` counts as ``x``)."""
    module = module_name(path)
    is_package = path.name == "__init__.py"
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "tracegrad")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.split(".")[0] != "tracegrad":
                continue
            submodules = [f"{target}.{a.name}" for a in node.names if _exists(f"{target}.{a.name}")]
            if submodules and len(submodules) == len(node.names):
                found.update(submodules)
            else:
                found.add(target)
    found.discard(module)
    return found


MODULES = {module_name(p): imports_of(p) for p in sorted(PACKAGE.rglob("*.py"))}


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_go_down_the_layers(module):
    rank = layer_of(module)
    upward = sorted(m for m in MODULES[module]
                    if layer_of(m) > rank and not (module == "tracegrad" and m.startswith("tracegrad.")))
    names = [f"{m} ({LAYERS[layer_of(m)][0]})" for m in upward]
    assert not upward, f"{module} ({LAYERS[rank][0]}) imports upward: {', '.join(names)}"


def test_the_core_imports_nothing_above_it():
    core = [m for m in MODULES if layer_of(m) == 0]
    assert core and all(layer_of(dep) == 0 for m in core for dep in MODULES[m])


def _cycle():
    """A cycle among modules (package ``__init__`` files importing their own submodules
    excepted: that is how a package exposes its names), or None."""
    def edges(m):
        return [d for d in MODULES[m] if d in MODULES and not (m != "tracegrad" and d.startswith(m + "."))
                and not (m == "tracegrad")]
    state, stack = {}, []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for d in edges(m):
            if state.get(d) == 1:
                return stack[stack.index(d):] + [d]
            if d not in state:
                found = visit(d)
                if found:
                    return found
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(MODULES):
        if m not in state:
            found = visit(m)
            if found:
                return found
    return None


def test_no_import_cycle():
    cycle = _cycle()
    assert cycle is None, "import cycle: " + " → ".join(cycle)


def test_the_checker_is_found_when_broken():
    # the test itself: a made-up upward import and a made-up cycle are caught
    saved = {m: set(d) for m, d in MODULES.items()}
    try:
        MODULES["tracegrad.core.value"].add("tracegrad.render.picture")
        with pytest.raises(AssertionError):
            test_imports_go_down_the_layers("tracegrad.core.value")
        MODULES["tracegrad.core.ops"].add("tracegrad.core.value")
        assert _cycle() is not None
    finally:
        MODULES.clear()
        MODULES.update(saved)
