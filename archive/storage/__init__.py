"""Object storage: originals and derivatives, on a local folder or an S3 bucket.

Callers depend only on :class:`ObjectStore`; :func:`open_store` picks the
back end from ``ARCHIVO_STORAGE_URL`` so tests and installs can swap them.
"""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

from ..config import Settings
from ..errors import ConfigError
from .base import AUDIT_ANCHORS_PREFIX, CHUNK_SIZE, SETTING, ObjectInfo, ObjectStore, StoredObject
from .local import LocalStore
from .s3 import S3Store
from .signing import verify_signed_url

__all__ = [
    "AUDIT_ANCHORS_PREFIX",
    "CHUNK_SIZE",
    "LocalStore",
    "ObjectInfo",
    "ObjectStore",
    "S3Store",
    "StoredObject",
    "open_store",
    "store_from_url",
    "verify_signed_url",
]


def open_store(settings: Settings, secret_key: str | None = None) -> ObjectStore:
    """The store described by ``settings.storage_url`` (nothing is contacted yet).

    ``secret_key`` signs the folder store's download links; it defaults to
    ``ARCHIVO_SECRET_KEY`` (the services pass the key kept in the home folder).
    """
    store = store_from_url(settings.storage_url, secure=settings.s3_secure,
                           region=settings.s3_region,
                           secret_key=settings.secret_key if secret_key is None else secret_key,
                           base_url=settings.base_url)
    if settings.s3_object_lock:
        if not isinstance(store, S3Store):
            raise ConfigError("ARCHIVO_S3_OBJECT_LOCK", "el bloqueo de originales solo existe en S3 "
                                                        "(ARCHIVO_STORAGE_URL=s3://…).")
        store.lock_originals(settings.s3_object_lock, settings.s3_retention_days)
    return store


def store_from_url(url: str, *, secure: bool = False, region: str = "us-east-1",
                   secret_key: str = "", base_url: str = "http://127.0.0.1:5000") -> ObjectStore:
    """Build a store from a ``file://`` or ``s3://`` URL; raise ConfigError otherwise."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        # file:///abs/path, or file://./rel for hand-written configs.
        host = parts.netloc if parts.netloc not in ("", "localhost") else ""
        path = unquote(host + parts.path)
        if not path:
            raise ConfigError(SETTING, "falta la carpeta (file:///carpeta).")
        return LocalStore(path, secret_key=secret_key, base_url=base_url)
    if parts.scheme == "s3":
        bucket = parts.path.strip("/")
        if not parts.hostname or not bucket:
            raise ConfigError(SETTING, "falta el host o el nombre del bucket "
                                       "(s3://CLAVE:SECRETO@host:puerto/bucket).")
        if "/" in bucket:
            raise ConfigError(SETTING, f"«{bucket}» no es un nombre de bucket (no admite «/»).")
        try:
            port = parts.port
        except ValueError as exc:
            raise ConfigError(SETTING, "el puerto no es un número válido.") from exc
        host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
        endpoint = f"{host}:{port}" if port else host
        access, secret = unquote(parts.username or ""), unquote(parts.password or "")
        return S3Store(endpoint, access, secret, bucket, secure=secure, region=region)
    raise ConfigError(SETTING, "use file:///carpeta o s3://CLAVE:SECRETO@host:puerto/bucket.")
