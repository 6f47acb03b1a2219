"""The watched scanner folder (``ARCHIVO_CARPETA_ESCANER``).

A file is taken once its size and modification time stop changing (the
scanner finished writing). Once its bytes are archived it moves to
``en_proceso/`` (so the scanner may reuse the name at once); when its
document is finished it moves on to ``procesados/``, or to ``rechazados/``
with ``NOMBRE.error.txt`` beside it when it could not be archived (rejected
at the door or ended in ``error``). What is plainly not a scan (a scanner's
``.xml`` sidecar, ``Thumbs.db``) goes to ``omitidos/`` without a document.
Files left in ``en_proceso/`` by a restart are taken again on the first
pass: the same bytes give the same document, so nothing is duplicated.
"""

from __future__ import annotations

import logging
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path

from archive.services import Services

from .accept import accept_stream
from .errors import RejectedInput
from .sniff import is_junk_name, is_plainly_not_a_scan, read_head
from .status import is_final, summaries

log = logging.getLogger(__name__)

DONE_DIR, REJECTED_DIR, WORK_DIR, SKIPPED_DIR = "procesados", "rechazados", "en_proceso", "omitidos"
ACTOR = "escaner"


@dataclass
class FolderWatcher:
    services: Services
    folder: Path
    settle_s: float = 2.0
    seen: dict[Path, tuple[int, int, float]] = field(default_factory=dict)  # size, mtime_ns, since
    pending: dict[int, Path] = field(default_factory=dict)  # document id -> file in en_proceso/
    unmovable: dict[Path, tuple[int, int]] = field(default_factory=dict)  # junk that would not move
    started: bool = False

    def poll(self, now: float) -> None:
        """One pass: take settled files, then move those whose documents are finished."""
        self.folder.mkdir(parents=True, exist_ok=True)
        for sub in (DONE_DIR, REJECTED_DIR, WORK_DIR, SKIPPED_DIR):
            (self.folder / sub).mkdir(exist_ok=True)
        if not self.started:  # left over from a previous run: already complete files
            self.started = True
            for path in sorted((self.folder / WORK_DIR).iterdir()):
                if path.is_file():
                    self._take(path, move=False)
        for path in sorted(self.folder.iterdir()):
            if not path.is_file():
                continue
            if path.name.startswith(".") and not is_junk_name(path.name):
                continue  # a copy in progress (rsync, some scanners) until it is renamed
            if path in self.unmovable and self.unmovable[path] == _signature(path):
                continue
            if self._settled(path, now):
                if self._plainly_not_a_scan(path):
                    self._skip(path)
                else:
                    self._take(path)
        self._move_finished()

    def _settled(self, path: Path, now: float) -> bool:
        try:
            st = path.stat()
        except FileNotFoundError:
            self.seen.pop(path, None)
            return False
        sig = (st.st_size, st.st_mtime_ns)
        prev = self.seen.get(path)
        if prev is None or prev[:2] != sig:
            self.seen[path] = (*sig, now)
            return False
        return now - prev[2] >= self.settle_s

    def _plainly_not_a_scan(self, path: Path) -> bool:
        try:
            return is_plainly_not_a_scan(path.name, read_head(path))
        except OSError:  # gone or unreadable: taking it reports why
            return False

    def _skip(self, path: Path) -> None:
        """Set junk aside without a document; a file the system keeps locked stays, quietly."""
        self.seen.pop(path, None)
        try:
            target = _move(path, self.folder / SKIPPED_DIR)
        except OSError as exc:
            self.unmovable[path] = _signature(path)
            log.warning("escáner: %s no es un escaneo y no se pudo apartar: %s", path.name, exc)
            return
        self.unmovable.pop(path, None)
        if target is not None:
            log.info("escáner: %s omitido (no es un escaneo), movido a %s/", path.name, SKIPPED_DIR)

    def _take(self, path: Path, move: bool = True) -> None:
        self.seen.pop(path, None)
        try:
            with path.open("rb") as fh:
                accepted = accept_stream(self.services, fh, path.name, actor=ACTOR)
        except RejectedInput as exc:
            self._reject(path, str(exc))
            return
        except FileNotFoundError:
            return
        log.info("escáner: %s -> %s", path.name, accepted.archive_number)
        target = _move(path, self.folder / WORK_DIR) if move else path
        if target is not None:
            self.pending[accepted.document_id] = target

    def _move_finished(self) -> None:
        if not self.pending:
            return
        for doc_id, info in summaries(self.services, list(self.pending)).items():
            if not is_final(info.status):
                continue
            path = self.pending.pop(doc_id)
            if info.status == "error":
                self._reject(path, f"{info.archive_number}: {info.error}")
            else:
                _move(path, self.folder / DONE_DIR)

    def _reject(self, path: Path, reason: str) -> None:
        target = _move(path, self.folder / REJECTED_DIR)
        if target is not None:
            target.with_name(target.name + ".error.txt").write_text(reason + "\n", encoding="utf-8")
        log.warning("escáner: %s rechazado: %s", path.name, reason)


def _signature(path: Path) -> tuple[int, int]:
    try:
        st = path.stat()
    except OSError:
        return (-1, -1)
    return (st.st_size, st.st_mtime_ns)


def _move(path: Path, folder: Path) -> Path | None:
    """Move without overwriting an earlier file of the same name."""
    target = folder / path.name
    n = 1
    while target.exists():
        target = folder / f"{path.stem}-{n}{path.suffix}"
        n += 1
    try:
        shutil.move(str(path), target)
    except FileNotFoundError:
        return None
    return target


def start_watcher(services: Services, stop: threading.Event, interval_s: float = 1.0) -> threading.Thread:
    assert services.settings.scanner_dir is not None
    watcher = FolderWatcher(services, services.settings.scanner_dir)

    def run() -> None:
        import time

        while not stop.is_set():
            try:
                watcher.poll(time.monotonic())
            except Exception:  # noqa: BLE001 - keep watching; the error is logged
                log.exception("error en la carpeta del escáner")
            stop.wait(interval_s)

    thread = threading.Thread(target=run, name="archivo-escaner", daemon=True)
    thread.start()
    return thread
