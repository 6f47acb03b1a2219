"""No module of ``ingest`` imports itself back through a circle of other ingest modules.

The graph is read from the source with ``ast``: module-level imports, imports
inside functions and ``TYPE_CHECKING`` blocks all count, since each ties the
modules together. The implicit import of a package's ``__init__`` by its
submodules is not an edge (every package would be a circle otherwise).
"""

from __future__ import annotations

import ast
from pathlib import Path

import ingest

INGEST_DIR = Path(ingest.__file__).resolve().parent


def _module_name(package: str, path: Path) -> str:
    return package if path.stem == "__init__" else f"{package}.{path.stem}"


def _targets(node: ast.AST, package: str, modules: set[str]) -> set[str]:
    """The package's own modules one import statement pulls in."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names
                if alias.name == package or alias.name.startswith(package + ".")} & modules
    if not isinstance(node, ast.ImportFrom):
        return set()
    if node.level > 1:
        return set()  # above the package: not part of this graph
    if node.level == 1:
        base = f"{package}.{node.module}" if node.module else package
    elif node.module == package or (node.module or "").startswith(package + "."):
        base = node.module or package
    else:
        return set()
    if base != package:
        return {base} & modules
    # ``from ingest import x`` / ``from . import x``: x is a submodule or a name of __init__
    return {f"{package}.{a.name}" if f"{package}.{a.name}" in modules else package
            for a in node.names} & modules


def import_graph(directory: Path, package: str) -> dict[str, set[str]]:
    """Edges between the modules of one package directory (not recursive)."""
    files = sorted(directory.glob("*.py"))
    modules = {_module_name(package, f) for f in files}
    graph: dict[str, set[str]] = {}
    for f in files:
        name = _module_name(package, f)
        tree = ast.parse(f.read_text(encoding="utf-8"), filename=str(f))
        graph[name] = {t for node in ast.walk(tree) for t in _targets(node, package, modules)}
        graph[name].discard(name)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One circle of imports as a path that ends where it starts, or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start)
            if found:
                return found
    return None


def test_ingest_modules_import_each_other_without_a_circle() -> None:
    graph = import_graph(INGEST_DIR, "ingest")
    assert len(graph) > 20 and graph["ingest.process"]  # the real package was read
    cycle = find_cycle(graph)
    assert cycle is None, "círculo de imports en ingest: " + " -> ".join(cycle or [])


def test_the_graph_sees_every_kind_of_import(tmp_path: Path) -> None:
    """The checker would see the circles ingest used to have (so its silence means something)."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from .a import run\n")
    (pkg / "a.py").write_text("from . import b\nfrom pkg.c import C\n")
    (pkg / "b.py").write_text("def wake():\n    from .a import run\n")  # function-level
    (pkg / "c.py").write_text("from typing import TYPE_CHECKING\n"
                              "if TYPE_CHECKING:\n    from .d import D\n")
    (pkg / "d.py").write_text("import pkg.c\nfrom .. import elsewhere\nimport os\n")
    graph = import_graph(pkg, "pkg")
    assert graph == {"pkg": {"pkg.a"}, "pkg.a": {"pkg.b", "pkg.c"}, "pkg.b": {"pkg.a"},
                     "pkg.c": {"pkg.d"}, "pkg.d": {"pkg.c"}}
    assert find_cycle(graph) == ["pkg.a", "pkg.b", "pkg.a"]
    del graph["pkg.b"]
    assert find_cycle(graph) == ["pkg.c", "pkg.d", "pkg.c"]
    graph["pkg.d"] = set()
    assert find_cycle(graph) is None


def test_the_queue_is_reached_only_from_above() -> None:
    """Splitting and processing return what waits; only the queue's owner sends it."""
    graph = import_graph(INGEST_DIR, "ingest")
    for low in ("ingest.split", "ingest.process", "ingest.finish", "ingest.pdf"):
        assert "ingest.tasks" not in graph[low], low
    assert "ingest.process" not in graph["ingest.split"]
    for user in ("ingest.finish", "ingest.pdf", "ingest.process", "ingest.regenerate"):
        assert "ingest.page_result" in graph[user], user
