"""The registry commands: import-supplies, regional, supply renumber/merge (Spanish output)."""

from __future__ import annotations

import csv
from pathlib import Path

import click
from click.testing import CliRunner

from archivo_cli import registry_cmd
from tests.conftest import home_env, make_services
from tests.registry_helpers import HEADER, add_document, rows, write


@click.group()
def cli() -> None:
    """Only the commands under test (main.py registers them for real)."""


for command in (registry_cmd.import_supplies, registry_cmd.regional, registry_cmd.supply):
    cli.add_command(command)


def test_registry_commands(tmp_path: Path) -> None:
    from archivo_cli.bootstrap import initialize

    svc = make_services(tmp_path / "var")
    initialize(svc)
    env = home_env(tmp_path / "var")

    def run(*args: str):  # type: ignore[no-untyped-def]
        return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)

    path = write(tmp_path / "p.csv", [HEADER, *rows(30), *[f"12x{i};Malo;;;;;;" for i in range(25)]], "latin-1")
    rejects = tmp_path / "rechazos.csv"
    out = run("import-supplies", str(path), "--rechazos", str(rejects))
    assert out.exit_code == 0, out.output
    assert "Insertados: 30  Actualizados: 0  Sin cambios: 0  Rechazados: 25" in out.output
    assert "codificación Windows-1252, separador punto y coma" in out.output
    assert "línea 32: NIS inválido" in out.output and "y 5 filas rechazadas más" in out.output
    with rejects.open(encoding="utf-8") as fh:
        saved = list(csv.reader(fh, delimiter=";"))
    assert saved[0] == ["linea", "nis", "motivo"] and len(saved) == 26

    bad = run("import-supplies", str(write(tmp_path / "m.csv", ["A;B", "1;2"])))
    assert bad.exit_code == 1 and "Falta una columna obligatoria" in bad.output

    assert run("regional", "add", "ITP", "Regional Itapúa", "--ciudad", "Encarnación").exit_code == 0
    listed = run("regional", "list")
    assert "ITP" in listed.output and "Regional Itapúa" in listed.output
    edited = run("regional", "edit", "ITP", "--contacto", "071 200 000")
    assert edited.exit_code == 0 and "071 200 000" in edited.output

    add_document(svc, 1, ["1000000"])
    moved = run("supply", "renumber", "1000000", "7000000")
    assert moved.exit_code == 0 and "1 documento(s) movido(s)" in moved.output
    merged = run("supply", "merge", "7000000", "1000001")
    assert merged.exit_code == 0 and "fusionado en 1000001" in merged.output
    refused = run("supply", "merge", "1000002", "4444444")
    assert refused.exit_code == 1 and "no está en el registro" in refused.output
    svc.dispose()
