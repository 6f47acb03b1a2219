"""archivo_cli and bench reach ingest, search and dispatch only through their faces.

The import-linter contracts see the shipped packages; ``bench`` is not one of them,
so its imports are read here, with those of ``archivo_cli`` (imports inside
functions and in child-process templates included).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FACED = ("ingest", "search", "dispatch")

# Private hooks a benchmark needs and no face should export; each has its reason.
ALLOWED = {
    ("bench/ocr_speed.py", "ingest.ocr"),  # patches ocr._osd to count OSD runs
    ("bench/extract_quality.py", "ingest.extract"),  # digits_only, not public
    ("bench/search_quality.py", "search.analysis"),  # the analyzer's own folding
}

_TEMPLATE_IMPORT = re.compile(r"^\s*(?:from\s+([\w.]+)\s+import\s+([\w, ]+)|import\s+([\w.]+))",
                              re.MULTILINE)


def _exported(package: str) -> set[str]:
    """The names in a face's ``__all__`` (read, not imported)."""
    tree = ast.parse((ROOT / package / "__init__.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            return set(ast.literal_eval(node.value))
    return set()


def _submodules(package: str) -> set[str]:
    folder = ROOT / package
    return {p.stem for p in folder.glob("*.py") if p.stem != "__init__"} | {
        p.parent.name for p in folder.glob("*/__init__.py")}


def _targets(tree: ast.AST) -> list[tuple[str, str | None]]:
    """(module, imported name) for every import statement and import in a string template.

    The name is set for ``from module import name``: it may itself be a submodule.
    """
    found: list[tuple[str, str | None]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, None) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found += [(node.module, alias.name) for alias in node.names]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            for m in _TEMPLATE_IMPORT.finditer(node.value):
                if m.group(3):
                    found.append((m.group(3), None))
                else:
                    found += [(m.group(1), n.strip()) for n in m.group(2).split(",") if n.strip()]
    return found


class Faces:
    """What each faced package holds and exports, read from its files."""

    def __init__(self) -> None:
        self.modules = {p: _submodules(p) for p in FACED}
        self.exported = {p: _exported(p) for p in FACED}

    def behind(self, module: str, name: str | None) -> str | None:
        """The submodule an import reaches past a package's face, if any."""
        parts = module.split(".")
        if parts[0] not in FACED:
            return None
        if len(parts) > 1:
            return ".".join(parts[:2])
        # ``from ingest import classify`` is the exported function, not the module.
        if name in self.modules[module] and name not in self.exported[module]:
            return f"{module}.{name}"
        return None


def _violations() -> set[tuple[str, str]]:
    faces = Faces()
    bad: set[tuple[str, str]] = set()
    for folder in ("archivo_cli", "bench"):
        for path in sorted((ROOT / folder).glob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            for module, name in _targets(ast.parse(path.read_text(encoding="utf-8"))):
                if reached := faces.behind(module, name):
                    bad.add((rel, reached))
    return bad


def test_cli_and_bench_import_only_package_faces() -> None:
    assert _violations() - ALLOWED == set()


def test_each_allowed_exception_is_still_needed() -> None:
    assert ALLOWED - _violations() == set()


def test_scanner_sees_submodule_imports_in_every_form() -> None:
    faces = Faces()
    source = (
        "from search.indexer import rebuild\n"
        "def f():\n    from dispatch import refs\n"
        "import ingest.tasks\n"
        "CHILD = '''\nfrom ingest.process import process_document\n'''\n"
        "from ingest.classify import classify\n"
        "from search import rebuild as r\n"
        "from ingest import classify\n"
    )
    reached = {m for mod, name in _targets(ast.parse(source)) if (m := faces.behind(mod, name))}
    assert reached == {"search.indexer", "dispatch.refs", "ingest.tasks", "ingest.process",
                       "ingest.classify"}
    assert faces.behind("ingest", "classify") is None
