"""Walking a folder (``archivo ingest CARPETA`` and the scanner folder) sets junk aside.

A scanner writes ``.xml``/``.json`` sidecars beside its scans and desktops leave
``Thumbs.db``; none of them may become an ``error`` document. A file named on
the command line, and anything that looks like a scan, is still tried.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image
from sqlalchemy import func, select

from archive.db import read_scope
from archive.models import Document
from archivo_cli.main import cli
from ingest.sniff import is_plainly_not_a_scan
from ingest.watch import FolderWatcher
from tests import scans
from tests.conftest import home_env, make_services

OLE_HEADER = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64  # what Thumbs.db starts with
SIDECAR_XML = b'<?xml version="1.0" encoding="UTF-8"?>\n<scan><pages>1</pages></scan>\n'
SIDECAR_JSON = b'{"scanner": "fi-7160", "dpi": 300, "pages": 1}\n'
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
PDF_SIGNATURE = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"


@pytest.mark.parametrize("name, head, skipped", [
    ("escaneo-001.xml", SIDECAR_XML, True),
    ("escaneo-001.json", SIDECAR_JSON, True),
    ("Thumbs.db", OLE_HEADER, True),
    ("THUMBS.DB", OLE_HEADER, True),
    ("desktop.ini", b"[.ShellClassInfo]\r\nIconResource=x\r\n", True),
    (".DS_Store", b"\x00\x00\x00\x01Bud1" + b"\x00" * 16, True),
    ("._escaneo.pdf", b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X", True),  # macOS resource fork
    ("LEAME", b"Lote del 3 de marzo, carpeta 12\n", True),  # text body, no extension
    ("lote.csv", b"", True),
    # the bytes win: a scan signature is a candidate whatever the name
    ("escaneo-001.xml", PDF_SIGNATURE, False),
    ("Thumbs.db", PNG_SIGNATURE, False),
    ("sin-nombre", b"\xff\xd8\xff\xe0\x00\x10JFIF", False),
    # named like a scan: damaged or not, it must get its error document
    ("roto.pdf", b"<html><body>Sesion vencida</body></html>", False),
    ("vacio.tif", b"", False),
    ("corto.png", b"\x89PN", False),
    # an unknown binary is not plainly junk: its error says what it seems to be
    ("datos.bin", b"\x00\x01\x02\x03\xfe\xff", False),
])
def test_plainly_not_a_scan_by_name_and_bytes(name: str, head: bytes, skipped: bool) -> None:
    assert is_plainly_not_a_scan(name, head) is skipped


def _run(env: dict[str, str], *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def _documents(home: Path) -> list[str]:
    svc = make_services(home)
    try:
        with read_scope(svc.sessions) as db:
            return sorted(db.scalars(select(Document.original_filename)))
    finally:
        svc.dispose()


def _junk_folder(folder: Path) -> set[str]:
    """A scanner's output folder: one scan, its sidecars, desktop leftovers, a damaged scan."""
    sub = folder / "carpeta-12"
    sub.mkdir(parents=True)
    img, _ = scans.page(seed=70)
    scans.write(img, folder / "escaneo-001.png", "PNG")
    (folder / "escaneo-001.xml").write_bytes(SIDECAR_XML)
    (folder / "escaneo-001.json").write_bytes(SIDECAR_JSON)
    (folder / "Thumbs.db").write_bytes(OLE_HEADER)
    (sub / "desktop.ini").write_bytes(b"[.ShellClassInfo]\r\n")
    (sub / "LEAME").write_bytes(b"Carpeta 12, escaneada el lunes\n")
    (sub / "roto.pdf").write_bytes(b"<html>no soy un pdf</html>")
    small = Image.new("L", (40, 20), 255)
    small.save(sub / "parece-xml.xml", "PNG")  # a scan with a wrong name is still a scan
    (sub / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1" + b"\x00" * 16)
    return {"escaneo-001.xml", "escaneo-001.json", "Thumbs.db", "desktop.ini", "LEAME",
            ".DS_Store"}


def test_ingest_folder_skips_junk_and_counts_it(tmp_path: Path) -> None:
    env = home_env(tmp_path / "var")
    assert _run(env, "init").exit_code == 0
    folder = tmp_path / "lote"
    junk = _junk_folder(folder)

    out = _run(env, "ingest", str(folder), "--json")
    rows = [json.loads(line) for line in out.output.splitlines() if line.startswith("{")]
    by_name = {Path(r["archivo"]).name: r for r in rows}
    assert {n for n, r in by_name.items() if r["estado"] == "omitido"} == junk
    assert all(by_name[n]["documento_id"] is None and by_name[n]["motivo"] for n in junk)
    assert _documents(tmp_path / "var") == ["escaneo-001.png", "parece-xml.xml", "roto.pdf"]

    table = _run(env, "ingest", str(folder))
    assert "omitidos: 6, no son escaneos" in table.output
    assert "Resumen: Recibido: 3" in table.output  # words, not codes
    assert _documents(tmp_path / "var") == ["escaneo-001.png", "parece-xml.xml", "roto.pdf"]


def test_a_file_named_explicitly_still_gets_its_error(tmp_path: Path) -> None:
    env = home_env(tmp_path / "var")
    assert _run(env, "init").exit_code == 0
    sidecar = tmp_path / "escaneo-001.xml"
    sidecar.write_bytes(SIDECAR_XML)
    out = _run(env, "ingest", str(sidecar), "--esperar", "--json")
    row = json.loads(out.output.strip().splitlines()[-1])
    assert row["estado"] == "error" and "XML" in row["error"]
    assert out.exit_code == 1
    assert _documents(tmp_path / "var") == ["escaneo-001.xml"]


def test_scanner_folder_sets_junk_aside_without_documents(tmp_path: Path) -> None:
    from archivo_cli.bootstrap import initialize

    folder = tmp_path / "escaner"
    svc = make_services(tmp_path / "var", ARCHIVO_CARPETA_ESCANER=str(folder))
    svc.immediate_queue = True
    initialize(svc)
    watcher = FolderWatcher(svc, folder, settle_s=1.0)
    watcher.poll(0.0)
    img, _ = scans.page(seed=71)
    scans.write(img, folder / "escaneo-002.png", "PNG")
    (folder / "escaneo-002.xml").write_bytes(SIDECAR_XML)
    (folder / "Thumbs.db").write_bytes(OLE_HEADER)
    (folder / ".DS_Store").write_bytes(b"\x00\x00\x00\x01Bud1" + b"\x00" * 16)
    (folder / ".escaneo-003.png.partial").write_bytes(b"\x89PNG")  # still being copied
    (folder / "roto.pdf").write_bytes(b"<html>no soy un pdf</html>")
    watcher.poll(1.0)
    watcher.poll(2.5)
    skipped = sorted(p.name for p in (folder / "omitidos").iterdir())
    assert skipped == [".DS_Store", "Thumbs.db", "escaneo-002.xml"]
    assert (folder / ".escaneo-003.png.partial").is_file()  # left alone until renamed
    assert (folder / "procesados" / "escaneo-002.png").is_file()
    assert (folder / "rechazados" / "roto.pdf").is_file()  # a damaged scan still explains itself
    with read_scope(svc.sessions) as db:
        assert db.scalar(select(func.count(Document.id))) == 2
    svc.dispose()
