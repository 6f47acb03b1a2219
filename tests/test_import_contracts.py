"""The import contracts of ``make test`` ([tool.importlinter] in pyproject.toml).

They are the written layering of docs/architecture.md made executable: these tests keep
them complete (every package is under contract, none lists an exception) and kept.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
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
