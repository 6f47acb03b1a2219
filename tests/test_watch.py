"""The watched scanner folder: settle, archive, move, explain rejections."""

from __future__ import annotations

from pathlib import Path

from archive.services import Services
from archivo_cli.bootstrap import initialize
from ingest.watch import FolderWatcher
from tests import scans
from tests.conftest import make_services


def _watcher(tmp_path: Path) -> tuple[Services, FolderWatcher, Path]:
    folder = tmp_path / "escaner"
    svc = make_services(tmp_path / "var", ARCHIVO_CARPETA_ESCANER=str(folder))
    svc.immediate_queue = True  # tasks run inline: the outcome is known in the same poll
    initialize(svc)
    return svc, FolderWatcher(svc, folder, settle_s=1.0), folder


def test_settled_files_are_archived_and_moved(tmp_path: Path) -> None:
    svc, watcher, folder = _watcher(tmp_path)
    watcher.poll(0.0)
    img, nis = scans.page(seed=50)
    scans.write(img, folder / "escaneo-001.png", "PNG")
    (folder / "vacio.pdf").write_bytes(b"")
    (folder / "roto.png").write_bytes(scans.png_bytes(img)[:500])
    watcher.poll(1.0)  # first sighting: not settled yet
    assert (folder / "escaneo-001.png").exists()
    watcher.poll(2.5)
    assert (folder / "procesados" / "escaneo-001.png").is_file()
    assert not (folder / "escaneo-001.png").exists()
    assert list((folder / "en_proceso").iterdir()) == []
    for name in ("vacio.pdf", "roto.png"):
        assert (folder / "rechazados" / name).is_file()
        reason = (folder / "rechazados" / f"{name}.error.txt").read_text(encoding="utf-8")
        assert reason.strip() and "Traceback" not in reason
    assert "vacío" in (folder / "rechazados" / "vacio.pdf.error.txt").read_text(encoding="utf-8")
    svc.dispose()


def test_a_growing_file_waits(tmp_path: Path) -> None:
    svc, watcher, folder = _watcher(tmp_path)
    img, _ = scans.page(seed=51)
    data = scans.png_bytes(img)
    target = folder / "grande.png"
    folder.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data[:1000])
    watcher.poll(0.0)
    with target.open("ab") as fh:  # the scanner is still writing
        fh.write(data[1000:])
    watcher.poll(1.5)
    assert target.exists()
    watcher.poll(3.0)
    assert (folder / "procesados" / "grande.png").is_file()
    svc.dispose()


def test_files_left_in_process_by_a_restart_are_finished_once(tmp_path: Path) -> None:
    svc, watcher, folder = _watcher(tmp_path)
    img, _ = scans.page(seed=52)
    (folder / "en_proceso").mkdir(parents=True)
    scans.write(img, folder / "en_proceso" / "interrumpido.png", "PNG")
    watcher.poll(0.0)
    assert (folder / "procesados" / "interrumpido.png").is_file()
    again = FolderWatcher(svc, folder, settle_s=1.0)  # another restart: nothing left to do
    again.poll(0.0)
    from sqlalchemy import func, select

    from archive.db import session_scope
    from archive.models import Document

    with session_scope(svc.sessions) as s:
        assert s.scalar(select(func.count(Document.id))) == 1
    svc.dispose()
