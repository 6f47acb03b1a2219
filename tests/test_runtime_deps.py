"""Every third-party module the runtime imports comes from the install users get.

The bug this keeps out: ``zxing-cpp`` lived only in the ``test`` extra, so the
test suite detected separator sheets while ``make run`` never did. The runtime
packages are walked as source (no import, so an optional module that is absent
here is still seen), each import is mapped to the distribution that provides it
with ``importlib.metadata.packages_distributions()``, and that distribution must
be in ``[project].dependencies``. Two exceptions, both for the scaled deployment:
an import inside a function or behind ``except ImportError`` may come from a
runtime extra (``postgres``, ``redis``, ``servidor``); ``if TYPE_CHECKING`` imports
never run. Test-only tools stay in ``tests/`` and ``bench/``.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from dataclasses import dataclass
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RUNTIME_PACKAGES = ("archive", "ingest", "search", "dispatch", "cases", "web", "archivo_cli",
                    "migrations")
TEST_ONLY_EXTRAS = {"test"}


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(spec: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", spec)
    assert match, spec
    return _normalize(match.group(1))


def _declared() -> tuple[set[str], set[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    core = {_requirement_name(s) for s in project["dependencies"]}
    extras = {_requirement_name(s)
              for name, specs in project.get("optional-dependencies", {}).items()
              if name not in TEST_ONLY_EXTRAS for s in specs}
    return core, extras


@dataclass(frozen=True)
class Use:
    module: str  # top-level module name
    where: str  # file:line
    lazy: bool  # inside a function, or guarded by ``except ImportError``


class _Imports(ast.NodeVisitor):
    def __init__(self, where: str) -> None:
        self.where = where
        self.uses: list[Use] = []
        self._lazy = 0

    def _add(self, name: str, node: ast.AST) -> None:
        top = name.split(".")[0]
        self.uses.append(Use(top, f"{self.where}:{getattr(node, 'lineno', 0)}", self._lazy > 0))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level == 0 and node.module:
            self._add(node.module, node)

    def _nested(self, node: ast.AST) -> None:
        self._lazy += 1
        self.generic_visit(node)
        self._lazy -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = _nested

    def visit_Try(self, node: ast.Try) -> None:
        guarded = any(_catches_import_error(h) for h in node.handlers)
        self._lazy += guarded
        for stmt in node.body:
            self.visit(stmt)
        self._lazy -= guarded
        for other in (*node.handlers, *node.orelse, *node.finalbody):
            self.visit(other)

    def visit_If(self, node: ast.If) -> None:
        if "TYPE_CHECKING" in ast.unparse(node.test):
            for stmt in node.orelse:
                self.visit(stmt)
            return  # typing-only imports never run
        self.generic_visit(node)


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    names = ast.unparse(handler.type) if handler.type is not None else "Exception"
    return any(n in names for n in ("ImportError", "ModuleNotFoundError", "Exception"))


def _runtime_imports() -> list[Use]:
    uses: list[Use] = []
    for package in RUNTIME_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            visitor = _Imports(str(path.relative_to(ROOT)))
            visitor.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
            uses.extend(visitor.uses)
    return uses


def _third_party(uses: list[Use]) -> list[Use]:
    ours = set(RUNTIME_PACKAGES)
    return [u for u in uses if u.module not in sys.stdlib_module_names
            and u.module not in ours and u.module != "__future__"]


def test_walker_sees_imports_in_every_context() -> None:
    source = ("import a\nfrom b.c import d\ntry:\n    import e\nexcept ImportError:\n    e = None\n"
              "def f():\n    import g\nif TYPE_CHECKING:\n    import h\n")
    visitor = _Imports("x.py")
    visitor.visit(ast.parse(source))
    assert [(u.module, u.lazy) for u in visitor.uses] == [
        ("a", False), ("b", False), ("e", True), ("g", True)]


def test_every_runtime_import_is_a_declared_dependency() -> None:
    core, extras = _declared()
    providers = packages_distributions()
    uses = _third_party(_runtime_imports())
    assert len({u.module for u in uses}) >= 10  # the walker found the stack (flask, PIL, ...)
    problems = []
    for use in uses:
        dists = {_normalize(d) for d in providers.get(use.module, [])}
        if not dists:
            problems.append(f"{use.where}: «{use.module}» no lo provee ninguna distribución "
                            "instalada")
        elif dists & core:
            continue
        elif use.lazy and dists & extras:
            continue  # scaled deployment only (postgres, redis, servidor), imported on demand
        else:
            problems.append(f"{use.where}: «{use.module}» viene de {sorted(dists)}, que no está "
                            "en [project].dependencies")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("module", ["zxingcpp", "tzdata"])
def test_fixed_gaps_stay_fixed(module: str) -> None:
    core, _ = _declared()
    dists = {_normalize(d) for d in packages_distributions().get(module, [])}
    assert dists & core, f"{module} debe ser una dependencia de ejecución"
