"""The audit key: the HMAC secret that seals every audit event, kept outside the database.

A database administrator can rewrite an event and recompute the public SHA-256
chain (:func:`archive.audit.event_hash`); without this key they cannot produce
the event's seal (``AuditEvent.mac``), so ``archivo check --auditoria`` notices.

Where the key lives: ``ARCHIVO_CLAVE_AUDITORIA`` if set, else the file
``<ARCHIVO_HOME>/clave_auditoria`` (owner-only, 0600), created by ``archivo init``
or by the first event recorded. Both hold ``CLAVE:N``: the secret and the id of
the first event that must carry a seal. Events before ``N`` were written before
the key existed (an upgraded archive) and are verified by the plain chain; since
event ``N`` seals a hash that covers its predecessor's, rewriting any of them
still breaks event ``N``'s seal. ``N`` lives beside the key, not in the database,
so nobody can move it by editing rows. Without ``:N`` the value means ``:1``.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import re
import secrets
import stat
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from .errors import ConfigError
from .models import AuditEvent

log = logging.getLogger(__name__)

ENV = "ARCHIVO_CLAVE_AUDITORIA"
FILE_NAME = "clave_auditoria"
KEY_INFO = "archivo.audit_key"  # Session.info entry holding the archive's KeySource
MIN_SECRET = 32  # characters
_VALUE = re.compile(r"(?P<secret>[^:\s]+)(?::(?P<since>[1-9][0-9]*))?")


@dataclass(frozen=True)
class AuditKey:
    """The secret and the first event id that must be sealed with it."""

    secret: bytes
    since: int = 1

    def seal(self, text: str) -> str:
        """HMAC-SHA256 of ``text`` (an event hash, or an anchor line) in hex."""
        return hmac.new(self.secret, text.encode(), hashlib.sha256).hexdigest()

    def verify(self, text: str, mac: str | None) -> bool:
        return mac is not None and hmac.compare_digest(self.seal(text), mac)


def parse(value: str, where: str) -> AuditKey:
    """``CLAVE`` or ``CLAVE:N``; a ConfigError naming ``where`` otherwise."""
    match = _VALUE.fullmatch(value.strip())
    if match is None or len(match["secret"]) < MIN_SECRET:
        raise ConfigError(ENV, f"la clave de auditoría de {where} no es válida: se espera "
                               f"CLAVE o CLAVE:N, con una clave de al menos {MIN_SECRET} "
                               "caracteres.")
    return AuditKey(match["secret"].encode(), int(match["since"] or 1))


def exposure(path: Path) -> str | None:
    """A Spanish warning when the key file can be read by others than its owner: anyone
    who reads it can re-seal an edited chain (the anchors still catch that)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    if mode & 0o077 == 0:
        return None
    return (f"La clave de auditoría {path} la pueden leer otros usuarios del sistema "
            f"(permisos {stat.filemode(mode)}): déjela solo para el dueño con "
            f"«chmod 600 {path}».")


class KeySource:
    """Loads (or, exactly once, creates) one archive's key; attached to its sessions.

    Creation needs a session: the first event to seal is the one after the last
    event already written. A missing key file while sealed events exist is an
    error, never a new key: a new key would make every earlier seal look forged.
    """

    def __init__(self, home: Path, environ: Mapping[str, str] | None = None) -> None:
        self.path = home / FILE_NAME
        self._environ = environ
        self._key: AuditKey | None = None
        self._lock = threading.Lock()

    def __call__(self, session: Session) -> AuditKey:
        if self._key is None:
            with self._lock:
                if self._key is None:
                    self._key = self._load(session)
        return self._key

    def _load(self, session: Session) -> AuditKey:
        environ = os.environ if self._environ is None else self._environ
        if environ.get(ENV):
            return parse(environ[ENV], ENV)
        try:
            key = parse(self.path.read_text(), str(self.path))
        except FileNotFoundError:
            return self._create(session)
        except OSError as exc:
            raise ConfigError(ENV, f"no se puede leer {self.path}: {exc.strerror}.") from exc
        if (warning := exposure(self.path)) is not None:
            log.warning("%s", warning)
        return key

    def _create(self, session: Session) -> AuditKey:
        sealed = session.scalar(select(AuditEvent.id).where(AuditEvent.mac.is_not(None)).limit(1))
        if sealed is not None:
            raise ConfigError(ENV, f"falta la clave de auditoría ({self.path}) y el registro ya "
                                   "tiene eventos sellados con ella: restáurela desde la copia "
                                   "de seguridad. No se crea una nueva.")
        since = (session.scalar(select(func.max(AuditEvent.id))) or 0) + 1
        key = AuditKey(secrets.token_hex(32).encode(), since)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: use theirs
            return parse(self.path.read_text(), str(self.path))
        except OSError as exc:
            raise ConfigError(ENV, f"no se puede crear {self.path}: {exc.strerror}.") from exc
        with os.fdopen(fd, "w") as fh:
            fh.write(f"{key.secret.decode()}:{key.since}\n")
            fh.flush()
            os.fsync(fh.fileno())
        return key


def session_key(session: Session) -> AuditKey | None:
    """The key of the archive ``session`` belongs to; None for a bare session (no archive)."""
    source = session.info.get(KEY_INFO)
    return source(session) if source is not None else None
