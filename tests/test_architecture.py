"""The package's shape: imports flow one way through the README's layers, no cycles, no file over 500 lines.

The import graph is read from the source with ``ast``, not by importing: every ``import`` and
``from ... import`` of a ``gancourse`` module counts, at the top of a file or inside a function
(an import inside a function hides a cycle from Python, not from the design).

Imports under ``if TYPE_CHECKING:`` are never executed: they are no runtime edge, and a cycle through
one cannot fail an import. They count all the same, for the layers and for cycles: an annotation that
names another module's class couples the two as much as a call does (neither can be read or changed
without the other), and the way out is cheap (a ``Protocol`` in the lower module, or passing in what is
needed). ``TYPE_CHECKING_IMPORTS_COUNT`` switches them off for the cycle check only; the layers always see them.
"""

from __future__ import annotations

import ast
import dataclasses
import re
from collections.abc import Iterable, Mapping
from itertools import pairwise
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "gancourse"
MAX_LINES = 500
TYPE_CHECKING_IMPORTS_COUNT = True  # for the cycle check (see the module's docstring)

# The README's "Architecture" section, from the bottom up: a module may import from its own layer and the
# layers below it. Names are the package's top-level modules and subpackages (``gancourse.<name>``);
# every module inside a subpackage (``train/loop.py``, ``train/ema.py``, ...) belongs to its layer.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("config",),
    ("checks", "device", "cache", "checkpoints"),
    ("data", "assets"),
    ("models", "losses", "latent", "augment"),
    ("train",),
    ("metrics", "experiments", "style"),
    ("viz", "alt_text"),
    ("pretrained",),
    ("players", "widgets"),
    ("cli", "__main__", "bench"),
    ("notebook", "sphinxext"),
)


@dataclasses.dataclass(frozen=True)
class Edge:
    """``source`` imports ``target`` (both dotted module names) at ``line``; ``type_only`` under TYPE_CHECKING."""

    source: str
    target: str
    line: int
    type_only: bool
    file: str = ""

    def __str__(self) -> str:
        kind = ", TYPE_CHECKING" if self.type_only else ""
        return f"{self.source} -> {self.target} ({self.file or self.source}:{self.line}{kind})"


def package_modules(package: Path = PACKAGE) -> dict[str, Path]:
    """Every module of the package by dotted name (a package by its ``__init__.py``)."""
    modules = {}
    for path in sorted(package.rglob("*.py")):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, type_only: bool = False) -> Iterable[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every import node below ``tree`` with whether it sits in an ``if TYPE_CHECKING:`` body."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node, type_only
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                yield from _imports(ast.Module(body=[child], type_ignores=[]), True)
            for child in node.orelse:
                yield from _imports(ast.Module(body=[child], type_ignores=[]), type_only)
        else:
            yield from _imports(node, type_only)


def import_edges(modules: Mapping[str, Path]) -> list[Edge]:
    """The imports between the package's modules. ``from a import b`` is an edge to ``a.b`` where that is a
    module and to ``a`` otherwise; a name is resolved to the longest module prefix it has."""

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    edges = []
    for source, path in modules.items():
        package = source if path.name == "__init__.py" else source.rpartition(".")[0]
        for node, type_only in _imports(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:  # relative: from .x import y, from .. import z
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                names = [f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names]
            for name in names:
                target = resolve(name) if name.split(".")[0] == PACKAGE.name else None
                if target is not None and target != source:
                    where = path.relative_to(path.parents[len(source.split(".")) - (path.name != "__init__.py")])
                    edges.append(Edge(source, target, node.lineno, type_only, where.as_posix()))
    return edges


def find_cycles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """One cycle per strongly connected component of ``graph`` with more than one node, as a closed path
    ``[a, b, ..., a]`` (Tarjan's algorithm for the components, then a shortest way back within one)."""
    nodes = sorted(set(graph) | {t for targets in graph.values() for t in targets})
    successors = {n: sorted(set(graph.get(n, ()))) for n in nodes}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def connect(v: str) -> None:  # recursive: the package has a few hundred modules
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in successors[v]:
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for n in nodes:
        if n not in index:
            connect(n)

    cycles = []
    for component in sorted(components):
        members, start = set(component), component[0]
        previous: dict[str, str] = {}
        frontier = [start]
        while start not in previous:  # breadth first from start until an edge leads back to it
            following = []
            for v in frontier:
                for w in successors[v]:
                    if w in members and w not in previous:
                        previous[w] = v
                        following.append(w)
            frontier = following
        path = [start]
        while len(path) == 1 or path[-1] != start:
            path.append(previous[path[-1]])
        cycles.append(path[::-1])
    return cycles


def layer_of(module: str, layers: tuple[tuple[str, ...], ...] = LAYERS) -> int | None:
    """The layer index of ``gancourse.<name>...``; -1 for the root package; None for a name not in ``layers``."""
    parts = module.split(".")
    if len(parts) == 1:
        return -1
    return next((i for i, names in enumerate(layers) if parts[1] in names), None)


def upward_imports(edges: Iterable[Edge], layers: tuple[tuple[str, ...], ...] = LAYERS) -> list[Edge]:
    """The edges from a lower layer to a higher one (TYPE_CHECKING imports included)."""
    upward = []
    for e in edges:
        source, target = layer_of(e.source, layers), layer_of(e.target, layers)
        if source is not None and target is not None and target > source:  # None: test_every_module_has_a_layer
            upward.append(e)
    return upward


MODULES = package_modules()
EDGES = import_edges(MODULES)


def test_every_module_has_a_layer():
    unplaced = sorted({m.split(".")[1] for m in MODULES if layer_of(m) is None})
    assert not unplaced, f"gancourse.{unplaced} in no layer: add them to LAYERS here and to the README's Architecture"


def test_no_import_cycles():
    counted = [e for e in EDGES if TYPE_CHECKING_IMPORTS_COUNT or not e.type_only]
    graph: dict[str, set[str]] = {}
    for e in counted:
        graph.setdefault(e.source, set()).add(e.target)
    cycles = find_cycles(graph)
    lines = []
    for cycle in cycles:
        lines.append(" -> ".join(cycle))
        lines += [f"    {e}" for e in counted if (e.source, e.target) in pairwise(cycle)]
    assert not cycles, "import cycles between gancourse modules:\n" + "\n".join(lines)


def test_imports_flow_down_the_layers():
    upward = upward_imports(EDGES)
    assert not upward, "imports from a higher layer (see LAYERS and the README's Architecture):\n" + "\n".join(
        f"    {e}" for e in upward
    )


def test_the_checks_catch_a_cycle_and_an_upward_import():
    graph = {"a": ["b"], "b": ["c"], "c": ["a", "d"], "d": [], "e": ["e2"], "e2": ["e"], "f": ["a"]}
    assert find_cycles(graph) == [["a", "b", "c", "a"], ["e", "e2", "e"]]
    assert find_cycles({"a": ["b", "c"], "b": ["c"], "c": []}) == []
    layers = (("low",), ("high",))
    down, up = Edge("gancourse.high.x", "gancourse.low", 3, False), Edge("gancourse.low.y", "gancourse.high.x", 7, True)
    assert upward_imports([down, up], layers) == [up]


def test_the_graph_sees_imports_inside_functions_and_type_checking(tmp_path):
    package = tmp_path / "gancourse"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "low.py").write_text("def f():\n    from gancourse.sub import leaf\n")
    (package / "sub" / "__init__.py").write_text("from .leaf import g\n")
    leaf = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from gancourse import low\n"
    leaf += "else:\n    import gancourse.low\n"
    (package / "sub" / "leaf.py").write_text(leaf)
    found = {(e.source, e.target, e.type_only) for e in import_edges(package_modules(package))}
    assert found == {
        ("gancourse.low", "gancourse.sub.leaf", False),
        ("gancourse.sub", "gancourse.sub.leaf", False),
        ("gancourse.sub.leaf", "gancourse.low", True),
        ("gancourse.sub.leaf", "gancourse.low", False),
    }


def test_the_readme_lists_the_layers_in_order():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Architecture", 1)[1].split("\n## ", 1)[0]
    diagram = re.search(r"```\n(.*?)```", section, re.S)
    assert diagram, "README's Architecture section has no diagram"
    first = {}
    for name in (n for layer in LAYERS for n in layer):
        path = PACKAGE / name
        suffix = "/" if path.is_dir() else ".py"
        match = re.search(rf"(?<![\w/.]){re.escape(name + suffix)}", diagram.group(1))
        assert match, f"README's Architecture diagram does not list {name}{suffix}"
        first[name] = match.start()
    for lower, higher in pairwise(LAYERS):
        assert max(first[n] for n in lower) < min(first[n] for n in higher), (
            f"README's Architecture lists {lower} and {higher} out of the layers' order"
        )


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_file_over_500_lines(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines: split it by what it holds (at most 500)"
