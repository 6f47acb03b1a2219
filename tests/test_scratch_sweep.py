"""OCR scratch stays private, under ARCHIVO_HOME, and what a killed worker left is swept.

`kill -9` during OCR used to leave ``/tmp/archivo-ocr-*/page.tif`` (a page of a
document, readable by the group) and ``/tmp/tess_*.tsv`` behind for ever.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import pytesseract

from archive.services import Services
from ingest import scratch
from ingest.accept import accept_stream
from ingest.process import process_document, scratch_dir
from ingest.tasks import start_sweeper
from tests import scans

ROOT = Path(__file__).resolve().parent.parent


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def _startup_sweep(services: Services) -> None:
    """What `archivo worker` / `archivo serve` run first: the sweeper thread's start-up pass."""
    stop = threading.Event()
    stop.set()
    start_sweeper(services, stop).join(timeout=60)


def test_ocr_writes_page_and_tesseract_output_only_under_archivo_home(
        services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    system_tmp = tmp_path / "sistema"  # stands for /tmp: the system temporary folder
    system_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_tmp))
    root = scratch_dir(services)
    seen: list[dict[str, Any]] = []
    real = pytesseract.pytesseract.run_tesseract

    def spy(input_filename: str, output_filename_base: str, *args: Any, **kwargs: Any) -> Any:
        page = Path(input_filename)
        seen.append({"page": page, "out": Path(output_filename_base),
                     "system": sorted(p.name for p in system_tmp.iterdir()),
                     "modes": (_mode(page), _mode(page.parent), _mode(root))})
        return real(input_filename, output_filename_base, *args, **kwargs)

    monkeypatch.setattr(pytesseract.pytesseract, "run_tesseract", spy)
    image = scans.write(scans.page(seed=4)[0], tmp_path / "hoja.png", "PNG")
    with image.open("rb") as fh:
        acc = accept_stream(services, fh, image.name, actor="prueba", enqueue=False)
    assert process_document(services, acc.document_id) != "omitido"

    assert seen, "Tesseract never ran"
    for call in seen:
        assert call["page"].is_relative_to(root) and call["out"].is_relative_to(root)
        assert call["system"] == []  # nothing in the system temporary folder, even mid-run
        assert call["modes"] == (0o600, 0o700, 0o700)
    assert list(system_tmp.iterdir()) == []
    assert list(root.iterdir()) == []  # a finished page leaves nothing behind either


def test_startup_sweep_removes_what_dead_workers_left_and_keeps_live_ones(
        services: Services) -> None:
    root = scratch_dir(services)
    host = scratch.prefix("ocr").split("-")[1]
    dead = root / f"ocr-{host}-{_dead_pid()}-abc123"
    live = root / f"doc-{host}-{os.getppid()}-def456"  # a sibling worker still running
    mine_before = root / f"ocr-{host}-{os.getpid()}-ghi789"  # same pid, an earlier life
    for folder in (dead, live, mine_before):
        folder.mkdir()
        (folder / "page.tif").write_bytes(b"II*\0")
    (dead / "salida.tsv").write_text("level\tpage_num\n")
    past = scratch.PROCESS_STARTED - 60
    os.utime(mine_before, (past, past))
    mine_now = scratch.make_dir(root, "doc")  # this process's own run in progress

    _startup_sweep(services)

    assert not dead.exists() and not mine_before.exists()
    assert live.exists() and mine_now.exists()


def test_kill_9_during_ocr_leaves_nothing_outside_and_start_up_sweeps_it(tmp_path: Path) -> None:
    home = tmp_path / "var"
    root = scratch.private_root(home / "tmp")
    system_tmp = tmp_path / "sistema"
    system_tmp.mkdir()
    page = scans.write(scans.page(seed=6)[0], tmp_path / "hoja.png", "PNG")
    code = ("import sys; from PIL import Image; from ingest.ocr import ocr_page; "
            "ocr_page(Image.open(sys.argv[1]), dpi=150, scratch=sys.argv[2])")
    env = {**os.environ, "TMPDIR": str(system_tmp), "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", code, str(page), str(root)], env=env,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not list(root.glob("ocr-*/page.tif")) and proc.poll() is None \
                and time.monotonic() < deadline:
            time.sleep(0.02)
        assert proc.poll() is None, "the OCR finished before it could be killed"
        os.killpg(proc.pid, signal.SIGKILL)  # the worker and its Tesseract
    finally:
        proc.wait()
    left = list(root.iterdir())
    assert left and all(p.name.startswith(f"ocr-{scratch.prefix('x').split('-')[1]}-{proc.pid}-")
                        for p in left)
    assert list(system_tmp.iterdir()) == []
    for path in root.rglob("page.tif"):
        assert _mode(path) == 0o600 and _mode(path.parent) == 0o700

    assert scratch.sweep(root) == len(left)
    assert list(root.iterdir()) == []


def test_the_searchable_pdf_is_built_under_archivo_home(
        services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The PDF step copies every page image to a folder of its own: that folder too."""
    from ingest import derivatives

    made: list[Any] = []
    real = tempfile.TemporaryDirectory

    def spy(*args: Any, **kwargs: Any) -> Any:
        made.append(kwargs.get("dir"))
        return real(*args, **kwargs)

    monkeypatch.setattr(derivatives.tempfile, "TemporaryDirectory", spy)
    image = scans.write(scans.page(seed=5)[0], tmp_path / "hoja.png", "PNG")
    with image.open("rb") as fh:
        acc = accept_stream(services, fh, image.name, actor="prueba", enqueue=False)
    process_document(services, acc.document_id)
    assert made and all(d is not None and Path(d).is_relative_to(scratch_dir(services))
                        for d in made)
