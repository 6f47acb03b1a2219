"""Object store on a local folder, for the embedded single-machine install.

Every write is crash-safe: bytes go to ``<root>/.tmp/`` on the same
filesystem, are fsync'ed, then renamed into place and the directory fsync'ed,
so a power cut leaves either the old object or the complete new one.
"""

from __future__ import annotations

import errno
import os
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import IO, BinaryIO, Iterator

from ..errors import ObjectNotFound, StorageError
from . import signing
from .base import SETTING, ObjectInfo, ObjectStore, Staged, check_key, check_prefix, copy_hashing

TMP_DIR = ".tmp"
STALE_TMP_SECONDS = 24 * 3600
OBJECT_MODE = 0o640  # documents are private; the group lets a separate web user read them

_REASONS = {
    errno.EACCES: "permiso denegado",
    errno.EPERM: "operación no permitida",
    errno.ENOENT: "la ruta no existe",
    errno.ENOTDIR: "una parte de la ruta no es una carpeta",
    errno.EISDIR: "la ruta es una carpeta",
    errno.EROFS: "el sistema de archivos es de solo lectura",
    errno.ENOSPC: "no queda espacio en el disco",
    errno.EDQUOT: "se agotó la cuota de disco",
    errno.EEXIST: "ya existe",
    errno.EIO: "error de entrada/salida del disco",
}


def _reason(exc: OSError) -> str:
    return _REASONS.get(exc.errno or 0) or exc.strerror or str(exc)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _info(key: str, st: os.stat_result) -> ObjectInfo:
    return ObjectInfo(key, st.st_size, datetime.fromtimestamp(st.st_mtime, tz=timezone.utc))


@dataclass
class _LocalStaged(Staged):
    path: Path


class LocalStore(ObjectStore):
    """Objects as plain files under ``root``; ``<root>/.tmp`` holds writes in progress."""

    def __init__(self, root: str | os.PathLike[str], *, secret_key: str = "",
                 base_url: str = "http://127.0.0.1:5000") -> None:
        self.root = Path(root).expanduser().absolute()
        self.secret_key = secret_key
        self.base_url = base_url
        self._tmp = self.root / TMP_DIR

    def __repr__(self) -> str:
        return f"LocalStore({str(self.root)!r})"

    # -- helpers --------------------------------------------------------------

    def _path(self, key: str) -> Path:
        return self.root.joinpath(*check_key(key).split("/"))

    def _error(self, action: str, path: Path, exc: OSError) -> StorageError:
        return StorageError(f"No se pudo {action} {path} ({SETTING}): {_reason(exc)}.")

    def _root_error(self) -> StorageError:
        if self.root.exists():
            return StorageError(f"La ruta {self.root} no es una carpeta ({SETTING}).")
        return StorageError(f"La carpeta {self.root} no existe ({SETTING}). Verifique que "
                            "el disco esté montado o inicialice el almacenamiento.")

    def _makedirs(self, directory: Path) -> None:
        """mkdir -p that also fsyncs each parent, so new directories survive a crash."""
        missing: list[Path] = []
        current = directory
        while not current.is_dir():
            if current == self.root:
                raise self._root_error()
            missing.append(current)
            current = current.parent
        for path in reversed(missing):
            try:
                path.mkdir()
            except FileExistsError:
                if not path.is_dir():
                    raise
                continue
            _fsync_dir(path.parent)

    # -- staging --------------------------------------------------------------

    @contextmanager
    def _stage(self, stream: BinaryIO) -> Iterator[_LocalStaged]:
        try:
            if not self._tmp.is_dir():
                # Only .tmp is created implicitly: a missing root usually means an unmounted disk.
                self._makedirs(self._tmp)
            fd, name = tempfile.mkstemp(dir=self._tmp, prefix="put-")
        except OSError as exc:
            raise self._error("escribir en la carpeta", self._tmp, exc) from exc
        path = Path(name)
        try:
            os.fchmod(fd, OBJECT_MODE)
            with os.fdopen(fd, "wb") as fh:

                def write(chunk: bytes) -> None:
                    # Only our side becomes StorageError; a failing source stream keeps its error.
                    try:
                        fh.write(chunk)
                    except OSError as exc:
                        raise self._error("escribir", path, exc) from exc

                sha256, size = copy_hashing(stream.read, write)
                try:
                    fh.flush()
                    os.fsync(fh.fileno())
                except OSError as exc:
                    raise self._error("escribir", path, exc) from exc
            yield _LocalStaged(sha256=sha256, size=size, path=path)
        finally:
            try:
                path.unlink(missing_ok=True)
            except OSError:
                pass

    def _commit(self, staged: Staged, key: str, media_type: str) -> None:
        assert isinstance(staged, _LocalStaged)
        dest = self._path(key)
        try:
            self._makedirs(dest.parent)
            os.replace(staged.path, dest)
            _fsync_dir(dest.parent)
        except OSError as exc:
            raise self._error("guardar", dest, exc) from exc

    # -- reads ----------------------------------------------------------------

    @contextmanager
    def open(self, key: str) -> Iterator[IO[bytes]]:
        path = self._path(key)
        try:
            fh = path.open("rb")
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError) as exc:
            raise ObjectNotFound(key) from exc
        except OSError as exc:
            raise self._error("leer", path, exc) from exc
        with fh:
            yield fh

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def stat(self, key: str) -> ObjectInfo:
        path = self._path(key)
        try:
            st = path.stat()
        except (FileNotFoundError, NotADirectoryError) as exc:
            raise ObjectNotFound(key) from exc
        except OSError as exc:
            raise self._error("consultar", path, exc) from exc
        if not path.is_file():
            raise ObjectNotFound(key)
        return _info(key, st)

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            path.unlink()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return
        except OSError as exc:
            raise self._error("borrar", path, exc) from exc
        # Empty shard directories are left in place: removing them would race with writers.

    def iterate(self, prefix: str = "") -> Iterator[ObjectInfo]:
        check_prefix(prefix)
        base = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        start = self.root.joinpath(*base.split("/")) if base else self.root
        return self._walk(start, base, prefix)

    def _walk(self, directory: Path, rel: str, prefix: str) -> Iterator[ObjectInfo]:
        """Depth-first walk that yields keys in plain string order, lazily.

        Directories sort as ``name + "/"`` so ``a-b`` comes before ``a/x``,
        exactly as S3 orders the same keys.
        """
        try:
            with os.scandir(directory) as it:
                entries = []
                for entry in it:
                    if entry.name.startswith("."):  # .tmp and anything hidden is not an object
                        continue
                    key = f"{rel}/{entry.name}" if rel else entry.name
                    if entry.is_dir(follow_symlinks=False):
                        entries.append((key + "/", key, entry))
                    elif entry.is_file(follow_symlinks=False):
                        entries.append((key, key, entry))
        except (FileNotFoundError, NotADirectoryError):
            return
        except OSError as exc:
            raise self._error("listar", directory, exc) from exc
        entries.sort(key=lambda item: item[0])
        for sort_key, key, entry in entries:
            if sort_key.endswith("/"):
                if sort_key.startswith(prefix) or prefix.startswith(sort_key):
                    yield from self._walk(Path(entry.path), key, prefix)
            elif key.startswith(prefix):
                try:
                    st = entry.stat(follow_symlinks=False)
                except FileNotFoundError:  # deleted while listing
                    continue
                yield _info(key, st)

    # -- links and lifecycle --------------------------------------------------

    def url(self, key: str, expires: timedelta) -> str:
        check_key(key)
        if not self.secret_key:
            raise StorageError("Falta la clave secreta (ARCHIVO_SECRET_KEY) "
                               "para firmar enlaces de descarga.")
        return signing.signed_url(self.base_url, self.secret_key, key, expires)

    def ensure(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            self._tmp.mkdir(exist_ok=True)
        except OSError as exc:
            raise self._error("crear la carpeta", self.root, exc) from exc
        self._remove_stale_tmp()

    def _remove_stale_tmp(self) -> None:
        """Drop staging files left by a crash; fresh ones may belong to a running write."""
        limit = time.time() - STALE_TMP_SECONDS
        try:
            with os.scandir(self._tmp) as it:
                for entry in it:
                    if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < limit:
                        os.unlink(entry.path)
        except OSError:
            pass  # cleanup is best effort

    def check(self) -> None:
        if not self.root.is_dir():
            raise self._root_error()
        probe_dir = self._tmp if self._tmp.is_dir() else self.root
        try:
            fd, name = tempfile.mkstemp(dir=probe_dir, prefix=".sonda-")
            try:
                os.write(fd, b"ok")
                os.fsync(fd)
            finally:
                os.close(fd)
                os.unlink(name)
        except OSError as exc:
            raise StorageError(
                f"La carpeta {self.root} no se puede escribir ({SETTING}): {_reason(exc)}."
            ) from exc
