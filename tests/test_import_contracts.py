"""The import contracts of ``make test`` ([tool.importlinter] in pyproject.toml).

They are the written layering of docs/architecture.md made executable: these tests keep
them complete (every package is under contract, none lists an exception) and kept.
"""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
# The domain packages with a face (their __init__), and who must use only the face.
FACES = ("ingest", "search", "dispatch")
FACE_USERS = ("web", "archivo_cli")
# Alembic's folder: a shipped package, but no layer (docs/architecture.md says why).
NOT_A_LAYER = {"migrations"}


def pyproject() -> dict[str, Any]:
    with (ROOT / "pyproject.toml").open("rb") as handle:
        return tomllib.load(handle)


def linter() -> dict[str, Any]:
    config: dict[str, Any] = pyproject()["tool"]["importlinter"]
    return config


def installed_packages() -> set[str]:
    """The top-level packages the distribution ships (setuptools' include patterns)."""
    patterns = pyproject()["tool"]["setuptools"]["packages"]["find"]["include"]
    return {pattern.rstrip("*") for pattern in patterns}


def contracts(kind: str) -> list[dict[str, Any]]:
    return [c for c in linter()["contracts"] if c["type"] == kind]


def test_every_shipped_package_is_under_contract() -> None:
    # A new wing (say cases/) must be placed in the layers before it can be shipped.
    assert set(linter()["root_packages"]) == installed_packages()
    layered: set[str] = set()
    for layer in contracts("layers")[0]["layers"]:
        layered |= {name.strip() for name in layer.split("|")}
    assert layered == installed_packages() - NOT_A_LAYER


def test_the_contracts_say_what_the_architecture_says() -> None:
    (layers,) = contracts("layers")
    assert layers["layers"] == ["archivo_cli", "web", "ingest | search | dispatch", "archive"]
    (independence,) = contracts("independence")
    assert set(independence["modules"]) == {"ingest", "search", "dispatch"}
    # An indirect path counts too: archive -> x -> search is archive importing search.
    forbidden = {tuple(c["source_modules"]): set(c["forbidden_modules"])
                 for c in contracts("forbidden") if not c.get("allow_indirect_imports")}
    assert forbidden[("archive",)] == installed_packages() - NOT_A_LAYER - {"archive"}
    nobody_above = [sources for sources, banned in forbidden.items()
                    if banned == {"web", "archivo_cli"}]
    assert len(nobody_above) == 1
    assert set(nobody_above[0]) == installed_packages() - {"web", "archivo_cli"}
    (acyclic,) = contracts("acyclic_siblings")
    assert set(acyclic["ancestors"]) == installed_packages()


def test_no_contract_lists_an_exception() -> None:
    all_contracts = linter()["contracts"]
    assert len(all_contracts) >= 5
    for contract in all_contracts:
        assert not contract.get("ignore_imports"), contract["id"]


def test_the_import_contracts_are_kept() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    run = subprocess.run([str(lint_imports), "--no-cache", "--no-logo"], cwd=ROOT,
                         capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


def test_web_and_the_cli_reach_the_domain_packages_through_their_faces() -> None:
    # Indirect imports are allowed here only: the face itself imports its submodules.
    (faces,) = [c for c in contracts("forbidden") if c.get("allow_indirect_imports")]
    assert set(faces["source_modules"]) == set(FACE_USERS)
    assert set(faces["forbidden_modules"]) == {f"{face}.**" for face in FACES}


def imports_from_faces(package: str) -> list[tuple[str, int, str, str]]:
    """(file, line, face, name) for every ``from <face> import name`` under ``package``."""
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module in FACES:
                found += [(str(path.relative_to(ROOT)), node.lineno, node.module, alias.name)
                          for alias in node.names]
    return found


def test_faces_export_what_they_list() -> None:
    for face in FACES:
        module = importlib.import_module(face)
        exported = module.__all__
        assert len(exported) == len(set(exported)), face
        missing = [name for name in exported if not hasattr(module, name)]
        assert not missing, (face, missing)


def test_what_web_and_the_cli_take_from_a_face_is_its_public_api() -> None:
    # ``from dispatch import items`` would reach past the face to a submodule.
    found = [hit for package in FACE_USERS for hit in imports_from_faces(package)]
    assert len(found) >= 20  # web alone takes dozens of names: the walk must see them
    public = {face: set(importlib.import_module(face).__all__) for face in FACES}
    private = [hit for hit in found if hit[3] not in public[hit[2]]]
    assert not private, private
