"""The object-store contract shared by the local folder and S3 back ends.

Writes are two-phase: the incoming stream is first *staged* (copied somewhere
private while being hashed), then *committed* under its key. Staging lets us
verify checksums before anything becomes visible and lets content-addressed
writes learn their key from the bytes themselves.
"""

from __future__ import annotations

import hashlib
import io
from abc import ABC, abstractmethod
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO, BinaryIO, Callable, Iterator

from ..errors import IntegrityError, ObjectNotFound
from ..keys import check_sha256, is_safe_key, is_safe_prefix, original_key

CHUNK_SIZE = 1024 * 1024
DEFAULT_MEDIA_TYPE = "application/octet-stream"
SETTING = "ARCHIVO_STORAGE_URL"  # named in every configuration-related message
# Copies of the audit chain head (archive.audit_anchor): no row names them, they are never
# orphans, and under S3 object lock they are write-once like the originals.
AUDIT_ANCHORS_PREFIX = "auditoria/anclas/"


@dataclass(frozen=True)
class StoredObject:
    """What a write produced: enough to record the object in the database."""

    key: str
    size: int
    sha256: str
    media_type: str


@dataclass(frozen=True)
class ObjectInfo:
    """Listing/stat entry; ``modified`` is timezone-aware UTC."""

    key: str
    size: int
    modified: datetime


@dataclass
class Staged:
    """Bytes copied out of the caller's stream, with their hash and size."""

    sha256: str
    size: int


def copy_hashing(read: Callable[[int], bytes], write: Callable[[bytes], object]) -> tuple[str, int]:
    """Copy in ``CHUNK_SIZE`` pieces and return (sha256 hex, size); never holds the whole stream."""
    digest = hashlib.sha256()
    size = 0
    while True:
        chunk = read(CHUNK_SIZE)
        if not chunk:
            break
        digest.update(chunk)
        write(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def check_key(key: str) -> str:
    if not is_safe_key(key):
        raise ValueError(f"Clave de objeto inválida: {key!r}.")
    return key


def check_prefix(prefix: str) -> str:
    if not is_safe_prefix(prefix):
        raise ValueError(f"Prefijo de objetos inválido: {prefix!r}.")
    return prefix


def verify_staged(staged: Staged, what: str, sha256: str | None, size: int | None) -> None:
    """Raise :class:`IntegrityError` if the staged bytes are not the announced ones."""
    if size is not None and staged.size != size:
        raise IntegrityError(
            f"El contenido recibido para {what} está incompleto o sobra: se esperaban "
            f"{size} bytes y llegaron {staged.size}. No se guardó nada."
        )
    if sha256 is not None and staged.sha256 != sha256:
        raise IntegrityError(
            f"El contenido recibido para {what} no coincide con su suma SHA-256 "
            f"(esperada {sha256[:12]}…, calculada {staged.sha256[:12]}…). No se guardó nada."
        )


class ObjectStore(ABC):
    """A flat key → bytes store. Keys come from :mod:`archive.keys`."""

    # -- back-end primitives ------------------------------------------------

    @abstractmethod
    def _stage(self, stream: BinaryIO) -> AbstractContextManager[Staged]:
        """Copy ``stream`` somewhere private while hashing; discard it on exit unless committed."""

    @abstractmethod
    def _commit(self, staged: Staged, key: str, media_type: str) -> None:
        """Make staged bytes visible under ``key`` (atomically replacing any old object)."""

    @abstractmethod
    def open(self, key: str) -> AbstractContextManager[IO[bytes]]:
        """Streaming read; raises :class:`ObjectNotFound`."""

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def stat(self, key: str) -> ObjectInfo:
        """Size and modification time; raises :class:`ObjectNotFound`."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove ``key``; a missing key is not an error."""

    @abstractmethod
    def iterate(self, prefix: str = "") -> Iterator[ObjectInfo]:
        """Every object whose key starts with ``prefix``, in key order, lazily.

        See ``S3Store._list`` for the one case where SeaweedFS orders differently.
        """

    @abstractmethod
    def url(self, key: str, expires: timedelta) -> str:
        """A download link that stops working after ``expires``."""

    @abstractmethod
    def ensure(self) -> None:
        """Create the folder or bucket if missing; safe to call repeatedly."""

    @abstractmethod
    def check(self) -> None:
        """Fast health probe; raises :class:`StorageError` naming ``ARCHIVO_STORAGE_URL``."""

    # -- shared behaviour ---------------------------------------------------

    def put(self, key: str, stream: BinaryIO, *, media_type: str = DEFAULT_MEDIA_TYPE,
            sha256: str | None = None, size: int | None = None) -> StoredObject:
        """Store ``stream`` under ``key``; if ``sha256``/``size`` are given, verify them first."""
        check_key(key)
        if sha256 is not None:
            check_sha256(sha256)
        with self._stage(stream) as staged:
            verify_staged(staged, key, sha256, size)
            self._commit(staged, key, media_type)
        return StoredObject(key, staged.size, staged.sha256, media_type)

    def put_original(self, stream: BinaryIO, media_type: str = DEFAULT_MEDIA_TYPE, *,
                     verify_existing: bool = False) -> StoredObject:
        """Store an uploaded file under its content address; the same bytes are written once.

        ``verify_existing`` (a restore): an existing copy of the same size is
        re-hashed too, so a damaged copy that kept its size is replaced.
        """
        with self._stage(stream) as staged:
            key = original_key(staged.sha256)
            existing = self._stat_or_none(key)
            # A size mismatch means a damaged earlier copy: overwrite it with the good bytes.
            if (existing is None or existing.size != staged.size
                    or (verify_existing and self.sha256_of(key) != staged.sha256)):
                self._commit(staged, key, media_type)
        return StoredObject(key, staged.size, staged.sha256, media_type)

    def sha256_of(self, key: str) -> str:
        """Re-hash a stored object (read in chunks)."""
        with self.open(key) as fh:
            sha256, _ = copy_hashing(fh.read, lambda _chunk: None)
        return sha256

    def get_bytes(self, key: str) -> bytes:
        """Whole object in memory: only for small derivatives (thumbnails, word boxes)."""
        with self.open(key) as fh:
            return fh.read()

    def put_bytes(self, key: str, data: bytes,
                  media_type: str = DEFAULT_MEDIA_TYPE) -> StoredObject:
        return self.put(key, io.BytesIO(data), media_type=media_type)

    def _stat_or_none(self, key: str) -> ObjectInfo | None:
        try:
            return self.stat(key)
        except ObjectNotFound:
            return None
