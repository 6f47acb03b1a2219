"""The parts an archivo process talks to, built once from the settings."""

from __future__ import annotations

import os
import secrets
import time
from dataclasses import dataclass, field
from functools import cached_property

from huey import Huey
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from .audit_key import KEY_INFO, KeySource
from .config import Settings
from .db import make_engine, make_sessionmaker
from .errors import ConfigError
from .queue import make_huey, make_index_huey
from .signals import Signals
from .storage import ObjectStore, open_store


@dataclass
class Services:
    """Lazily built engine, session factory, object store and queues of one archive."""

    settings: Settings
    immediate_queue: bool = False
    _secret: str | None = field(default=None, repr=False)
    # Follow-up work other packages attach without the core knowing them (see archive.signals).
    signals: Signals = field(default_factory=Signals, repr=False)

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.database_url)

    @cached_property
    def sessions(self) -> sessionmaker[Session]:
        factory = make_sessionmaker(self.engine)
        factory.configure(info={KEY_INFO: self.audit_key})  # every audit event gets sealed
        return factory

    @cached_property
    def audit_key(self) -> KeySource:
        """The audit events' HMAC key, kept outside the database (read or made on first use)."""
        return KeySource(self.settings.home)

    @cached_property
    def store(self) -> ObjectStore:
        return open_store(self.settings, secret_key=self.secret_key)

    @cached_property
    def huey(self) -> Huey:
        return make_huey(self.settings, immediate=self.immediate_queue)

    @cached_property
    def index_huey(self) -> Huey:
        """The index queue: only the index writer consumes it; everyone may enqueue."""
        return make_index_huey(self.settings, immediate=self.immediate_queue)

    @property
    def secret_key(self) -> str:
        """ARCHIVO_SECRET_KEY, else the key kept in the home folder (created on first use)."""
        if self._secret is None:
            self._secret = self.settings.secret_key or _home_secret(self.settings)
        return self._secret

    def dispose(self) -> None:
        if "engine" in self.__dict__:
            self.engine.dispose()


def _home_secret(settings: Settings) -> str:
    """Read the key kept in the home folder, creating it (owner-only, exactly once) if absent."""
    path = settings.secret_key_file
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process made it first: use theirs
            for _ in range(50):  # it may still be writing the 64 characters
                key = path.read_text().strip()
                if key:
                    return key
                time.sleep(0.02)
            raise ConfigError("ARCHIVO_HOME", f"el archivo {path} está vacío; bórrelo y reinicie.")
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
        return path.read_text().strip()
    except OSError as exc:
        raise ConfigError("ARCHIVO_HOME", f"no se puede escribir en {path.parent}: {exc.strerror}.")
