"""The ``archivo despacho`` commands (alias ``dispatch``), with Spanish output."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import click
from click.testing import CliRunner

from archive.db import session_scope
from archive.users import create_user
from archivo_cli import dispatch_cmd
from dispatch.clock import fmt_date, local_today
from tests.conftest import home_env, make_services
from tests.dispatch_helpers import add_doc
from tests.physical_helpers import register_boxes


@click.group()
def cli() -> None:
    """Only the commands under test (main.py registers them for real)."""


dispatch_cmd.register(cli)


def _backdate(svc, number: str, by: dt.timedelta) -> None:  # type: ignore[no-untyped-def]
    """The CLI records "now"; a send date before the preparation is refused, so a test of a
    week-old handover moves the creation and preparation back first."""
    from sqlalchemy import select

    from dispatch.models import Dispatch

    with session_scope(svc.sessions) as s:
        d = s.scalar(select(Dispatch).where(Dispatch.number == number))
        d.created_at, d.prepared_at = d.created_at - by, d.prepared_at - by


def test_dispatch_commands(tmp_path: Path) -> None:
    from archivo_cli.bootstrap import initialize

    svc = make_services(tmp_path / "var")
    initialize(svc)
    with session_scope(svc.sessions) as s:
        create_user(s, "sur", "regional", password="una-clave-larga", regional_code="SUR")
        create_user(s, "norte", "regional", password="una-clave-larga", regional_code="NOR")
    a = add_doc(svc, 1, ("4992383",), pages=3)
    register_boxes(svc, "CAJA-7")
    env = home_env(tmp_path / "var")

    def run(*args: str, ok: bool = True):  # type: ignore[no-untyped-def]
        out = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
        assert (out.exit_code == 0) is ok, out.output
        return out.output

    assert "No hay servicios de encomiendas" in run("despacho", "transportistas", "lista")
    assert "agregado" in run("despacho", "transportistas", "agregar", "Correo Paraguayo")
    assert "Plazo a Regional Sur: 2 días" in run("despacho", "plazos", "fijar", "SUR", "2")
    assert "SUR      Regional Sur                 2 días\n" in run("despacho", "plazos", "lista")

    assert "Despacho ENV-" in run("despacho", "crear", "SUR", "--notas", "reclamo 55")
    number = f"ENV-{local_today().year}-000001"
    added = run("despacho", "agregar", number, "-d", a, "--carpeta", "caja-7",
                "--texto", "antecedentes", "--fojas", "12")
    assert f"{a} (original)" in added and "carpeta o caja CAJA-7" in added
    refused = run("despacho", "enviar", number, "--transportista", "Correo Paraguayo",
                  "--guia", "CP-1", ok=False)
    assert "No se puede enviar el despacho" in refused
    assert "Desde «Borrador» solo se puede preparar o anular." in refused
    assert "Preparado" in run("despacho", "preparar", number)
    _backdate(svc, number, dt.timedelta(days=8))  # prepared before the week-old handover below
    pdf = tmp_path / "nota.pdf"
    assert "Nota de remisión guardada" in run("despacho", "manifiesto", number, str(pdf))
    assert pdf.read_bytes().startswith(b"%PDF")
    week_ago = local_today() - dt.timedelta(days=7)
    sent = run("despacho", "enviar", number, "--transportista", "correo paraguayo", "--guia",
               "CP-1", "--fecha", week_ago.isoformat())
    due = week_ago + dt.timedelta(days=2)
    assert f"entrega prevista el {fmt_date(due)}" in sent
    assert "en tránsito a Regional Sur" in run("despacho", "donde", a)

    late = run("dispatch", "vencidos")  # the spelling
    assert "1 despacho(s) vencido(s)" in late and number in late
    assert "   5  " + number in late
    assert "No hay despachos vencidos" in run("despacho", "vencidos", "--fecha", due.isoformat())

    # another unit's dispatch is answered as one that does not exist
    assert f"No existe el despacho {number}." in run(
        "despacho", "recibir", number, "--usuario", "norte", ok=False)
    received = run("despacho", "recibir", number, "--usuario", "sur", "--danado", "CAJA-7",
                   "--nota-item", "CAJA-7=esquina rota")
    assert "Recibido con observaciones" in received and "Dañado: CAJA-7 (esquina rota)" in received
    shown = run("despacho", "ver", number)
    assert "Destino:              Regional Sur" in shown
    assert "-> Dañado (esquina rota)" in shown and "usuario_sur" not in shown
    assert "sur · Recepción (Enviado → Recibido con observaciones)" in shown
    assert "ENV-" in run("despacho", "lista", "--estado", "recibido con observaciones")
    assert "Estado de despacho inválido" in run("despacho", "lista", "--estado", "perdido",
                                                 ok=False)

    report = tmp_path / "informe.csv"
    month = week_ago.strftime("%Y-%m")
    run("despacho", "informe", "--desde", month, "--hasta", local_today().strftime("%Y-%m"),
        "--csv", str(report))
    with report.open(encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh, delimiter=";"))
    assert rows[1][:6] == [month, "SUR", "Regional Sur", "envío", "1", "1"]
    table = run("despacho", "informe", "--desde", month, "--hasta", local_today().strftime("%Y-%m"))
    assert "SUR    envío" in table

    assert "resuelta" in run("despacho", "resolver", number, "CAJA-7", "--nota", "se repuso")
    assert "Devolución ENV-" in run("despacho", "devolver", number, "--usuario", "sur")
    assert "anulado" in run("despacho", "anular", f"ENV-{local_today().year}-2", "--motivo",
                            "se devuelve más adelante", "--usuario", "sur")
    assert "Regional Sur desde" in run("despacho", "donde", a)
    svc.dispose()
