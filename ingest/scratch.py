"""Private scratch space under ARCHIVO_HOME for page images and Tesseract output.

Page images are the archive's documents: they never go to the shared system
temporary folder (where a killed worker left them readable and uncleaned).
The scratch root is ``ARCHIVO_HOME/tmp``, mode 0700; each run works in its
own folder named ``<kind>-<host>-<pid>-<random>``, so a worker starting up
can tell what a dead process left behind (``sweep``) from what a live worker
sharing the same ARCHIVO_HOME is still using.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import tempfile
import time
from pathlib import Path

PROCESS_STARTED = time.time()  # imported before this process writes any scratch
STALE_S = 6 * 3600  # a folder another host left behind (its pid cannot be checked from here)
_NAME = re.compile(r"(?P<kind>[a-z]+)-(?P<host>[A-Za-z0-9_.]+)-(?P<pid>\d+)-[A-Za-z0-9_]+")


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9_.]", "_", socket.gethostname()) or "local"


def private_root(root: str | os.PathLike[str]) -> Path:
    """``root`` created if missing and made private (0700) even if it existed with looser rights."""
    path = Path(root)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)
    return path


def prefix(kind: str) -> str:
    """Folder name prefix that records who made it (``sweep`` reads it back)."""
    return f"{kind}-{_host()}-{os.getpid()}-"


def make_dir(root: str | os.PathLike[str], kind: str) -> Path:
    """A new private folder for one run (mkdtemp makes it 0700)."""
    return Path(tempfile.mkdtemp(prefix=prefix(kind), dir=private_root(root)))


def run_dir(root: str | os.PathLike[str], kind: str) -> tempfile.TemporaryDirectory[str]:
    """Like :func:`make_dir`, removed when the ``with`` block ends."""
    return tempfile.TemporaryDirectory(prefix=prefix(kind), dir=private_root(root))


def open_private(path: str | os.PathLike[str]) -> int:
    """A new file only its owner can read (0600, whatever the umask); returns the descriptor."""
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def _abandoned(entry: Path, now: float, started: float) -> bool:
    """Left by a process that is gone: this host's dead pid, our own pid from before we
    started (pids repeat, e.g. pid 1 in every container), or anything older than STALE_S."""
    mtime = entry.stat().st_mtime
    if now - mtime > STALE_S:
        return True
    found = _NAME.fullmatch(entry.name)
    if found is None or found["host"] != _host():
        return False
    pid = int(found["pid"])
    if pid == os.getpid():
        return mtime < started
    return not _alive(pid)


def sweep(root: str | os.PathLike[str], *, started: float = PROCESS_STARTED,
          now: float | None = None) -> int:
    """Remove what dead processes left in ``root``; returns how many entries went."""
    base = private_root(root)
    now = time.time() if now is None else now
    removed = 0
    for entry in base.iterdir():
        try:
            if not _abandoned(entry, now, started):
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed += 1
        except FileNotFoundError:
            continue
    return removed
