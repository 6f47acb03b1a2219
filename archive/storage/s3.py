"""Object store on an S3-compatible server (SeaweedFS, MinIO, AWS) via ``minio``.

Uploads are a single signed PUT streamed from a spool file whose SHA-256 is
already known, carrying both ``x-amz-content-sha256`` (signed) and
``x-amz-checksum-sha256``: the server recomputes the hash and refuses damaged
bytes. ``Minio.put_object`` is not used for uploads because above 5 MiB it
switches to multipart (where a whole-object checksum header cannot be sent)
and buffers each part in memory.

The HTTP pool uses short connect timeouts and at most one retry so a wrong
address fails in seconds instead of minutes.
"""

from __future__ import annotations

import base64
import io
import os
import socket
import ssl
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import IO, BinaryIO, Iterator, NoReturn
from urllib.parse import quote, urlsplit

import certifi
import urllib3
from minio import Minio
from minio import time as s3time
from minio.credentials.credentials import Credentials
from minio.error import InvalidResponseError, MinioException, S3Error, ServerError
from minio.helpers import DictType, check_bucket_name
from minio.signer import sign_v4_s3
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
    ReadTimeoutError,
    SSLError,
)
from urllib3.util import Retry, Timeout

from ..errors import ArchivoError, ConfigError, IntegrityError, ObjectNotFound, StorageError
from .base import (
    AUDIT_ANCHORS_PREFIX,
    CHUNK_SIZE,
    SETTING,
    ObjectInfo,
    ObjectStore,
    Staged,
    check_key,
    check_prefix,
    copy_hashing,
)

MAX_SINGLE_PUT = 5 * 1024**3  # S3 limit for one PUT
_CREDENTIAL_CODES = {
    "InvalidAccessKeyId": "la clave de acceso no existe en el servidor",
    "SignatureDoesNotMatch": "la clave secreta no coincide",
    "AccessDenied": "acceso denegado",
    "InvalidToken": "el token de sesión no es válido",
    "ExpiredToken": "el token de sesión expiró",
}
_INTEGRITY_CODES = {"BadDigest", "XAmzContentSHA256Mismatch", "InvalidDigest", "InvalidChecksum"}


@dataclass
class _S3Staged(Staged):
    file: IO[bytes]


class _ResponseReader(io.RawIOBase):
    """Raw stream over a GET response that reports network failures as StorageError."""

    def __init__(self, store: S3Store, key: str, response: urllib3.BaseHTTPResponse) -> None:
        self._store = store
        self._key = key
        self._response = response

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        try:
            return self._response.readinto(buffer)
        except (HTTPError, OSError) as exc:
            self._store._raise(exc, self._key)

    def close(self) -> None:
        if not self.closed:
            self._response.close()
            self._response.release_conn()
        super().close()


ORIGINALS_PREFIX = "originals/"  # archive.keys.original_key
# Write-once under object lock: the originals and the audit chain anchors (derivatives are not:
# they are rebuilt from the originals).
WRITE_ONCE_PREFIXES = (ORIGINALS_PREFIX, AUDIT_ANCHORS_PREFIX)


class S3Store(ObjectStore):
    """Objects in one bucket; keys are used verbatim as object names."""

    def __init__(self, endpoint: str, access_key: str, secret_key: str, bucket: str, *,
                 secure: bool = False, region: str = "us-east-1",
                 connect_timeout: float = 2.0, read_timeout: float = 60.0,
                 retries: int = 1) -> None:
        if not access_key or not secret_key:
            raise ConfigError(SETTING, "faltan las credenciales "
                                       "(s3://CLAVE:SECRETO@host:puerto/bucket).")
        try:
            check_bucket_name(bucket)
        except ValueError as exc:
            raise ConfigError(SETTING, f"el nombre de bucket «{bucket}» no es válido.") from exc
        self.endpoint = endpoint
        self.bucket = bucket
        self.lock_mode = ""  # "GOVERNANCE" or "COMPLIANCE": originals are write-once
        self.retention_days = 0
        self.secure = secure
        self.region = region or "us-east-1"
        self._credentials = Credentials(access_key, secret_key)
        self._http = urllib3.PoolManager(
            timeout=Timeout(connect=connect_timeout, read=read_timeout),
            retries=Retry(total=retries, connect=retries, read=0, status=retries,
                          backoff_factor=0.2, status_forcelist=(500, 502, 503, 504),
                          raise_on_status=False),
            maxsize=10,
            cert_reqs="CERT_REQUIRED",
            ca_certs=os.environ.get("SSL_CERT_FILE") or certifi.where(),
        )
        # Region is fixed so minio never issues GetBucketLocation behind our back.
        self.client = Minio(endpoint, access_key=access_key, secret_key=secret_key,
                            secure=secure, region=self.region, http_client=self._http)

    def __repr__(self) -> str:
        return f"S3Store({self.endpoint!r}, bucket={self.bucket!r})"

    # -- error translation ----------------------------------------------------

    def _raise(self, exc: BaseException, key: str | None = None) -> NoReturn:
        raise self._translate_error(exc, key) from exc

    def _translate_error(self, exc: BaseException, key: str | None) -> ArchivoError:
        where = f"el almacenamiento S3 en {self.endpoint}"
        where_cap = f"El almacenamiento S3 en {self.endpoint}"
        if isinstance(exc, S3Error):
            code = exc.code or ""
            if code == "NoSuchKey" and key is not None:
                return ObjectNotFound(key)
            if code == "NoSuchBucket":
                return StorageError(f"El bucket «{self.bucket}» no existe en {where} ({SETTING}). "
                                    "Revise el nombre o inicialice el almacenamiento.")
            if code in _CREDENTIAL_CODES:
                return StorageError(f"Credenciales S3 rechazadas ({SETTING}) por {self.endpoint}: "
                                    f"{_CREDENTIAL_CODES[code]}.")
            if code in _INTEGRITY_CODES:
                return IntegrityError(f"El servidor S3 rechazó {key or 'el objeto'}: los bytes "
                                      "recibidos no coinciden con la suma SHA-256 enviada. "
                                      "No se guardó nada.")
            if code == "RequestTimeTooSkewed":
                return StorageError(f"El reloj de este equipo difiere demasiado del de {where} "
                                    f"({SETTING}). Sincronice la hora.")
            return StorageError(f"{where_cap} respondió con un error ({SETTING}): "
                                f"{code or 'desconocido'} — {exc.message or ''}".rstrip(" —") + ".")
        if isinstance(exc, ServerError):
            return StorageError(f"{where_cap} falló con el estado HTTP {exc.status_code} "
                                f"({SETTING}). Intente de nuevo más tarde.")
        if isinstance(exc, InvalidResponseError):
            return StorageError(f"{where_cap} dio una respuesta que no es S3 ({SETTING}). "
                                "Verifique el host y el puerto.")
        return StorageError(f"No se puede conectar con {where} ({SETTING}): "
                            f"{_network_reason(exc)}. Verifique que el servidor esté en marcha.")

    @contextmanager
    def _translated(self, key: str | None = None) -> Iterator[None]:
        try:
            yield
        except ArchivoError:
            raise
        except (MinioException, HTTPError, OSError) as exc:
            self._raise(exc, key)

    def lock_originals(self, mode: str, days: int) -> None:
        """Give every original and audit anchor an object-lock retention (WORM); the bucket
        needs object lock."""
        if mode not in ("GOVERNANCE", "COMPLIANCE") or days < 1:
            raise ConfigError("ARCHIVO_S3_OBJECT_LOCK", "modo o días de retención inválidos.")
        self.lock_mode, self.retention_days = mode, days

    def _lock_headers(self, key: str) -> dict[str, str]:
        if not self.lock_mode or not key.startswith(WRITE_ONCE_PREFIXES):
            return {}
        until = s3time.utcnow() + timedelta(days=self.retention_days)
        return {"x-amz-object-lock-mode": self.lock_mode,
                "x-amz-object-lock-retain-until-date": until.strftime("%Y-%m-%dT%H:%M:%SZ")}

    # -- staging and upload ---------------------------------------------------

    @contextmanager
    def _stage(self, stream: BinaryIO) -> Iterator[_S3Staged]:
        with tempfile.SpooledTemporaryFile(max_size=CHUNK_SIZE, prefix="archivo-s3-") as spool:
            sha256, size = copy_hashing(stream.read, spool.write)
            spool.seek(0)
            yield _S3Staged(sha256=sha256, size=size, file=spool)

    def _commit(self, staged: Staged, key: str, media_type: str) -> None:
        assert isinstance(staged, _S3Staged)
        if staged.size > MAX_SINGLE_PUT:
            raise StorageError(f"El objeto {key} supera 5 GiB, el máximo de una subida S3.")
        scheme = "https" if self.secure else "http"
        url = urlsplit(f"{scheme}://{self.endpoint}/{self.bucket}/{quote(key, safe='/~')}")
        date = s3time.utcnow()
        headers: DictType = {
            "Host": url.netloc,
            "Content-Type": media_type,
            "Content-Length": str(staged.size),
            "x-amz-date": s3time.to_amz_date(date),
            "x-amz-content-sha256": staged.sha256,
            "x-amz-checksum-sha256": base64.b64encode(bytes.fromhex(staged.sha256)).decode("ascii"),
            **self._lock_headers(key),
        }
        headers = sign_v4_s3(method="PUT", url=url, region=self.region, headers=headers,
                             credentials=self._credentials, content_sha256=staged.sha256, date=date)
        staged.file.seek(0)
        with self._translated(key):
            response = self._http.urlopen("PUT", url.geturl(), body=staged.file, headers=headers,
                                          preload_content=True)
            if response.status != 200:
                self._raise(_response_error(response, key), key)

    # -- reads ----------------------------------------------------------------

    @contextmanager
    def open(self, key: str) -> Iterator[IO[bytes]]:
        check_key(key)
        with self._translated(key):
            response = self.client.get_object(self.bucket, key)
        with io.BufferedReader(_ResponseReader(self, key, response), buffer_size=CHUNK_SIZE) as fh:
            yield fh

    def exists(self, key: str) -> bool:
        try:
            self.stat(key)
        except ObjectNotFound:
            return False
        return True

    def stat(self, key: str) -> ObjectInfo:
        check_key(key)
        with self._translated(key):
            obj = self.client.stat_object(self.bucket, key)
        assert obj.last_modified is not None and obj.size is not None
        return ObjectInfo(key, obj.size, obj.last_modified)

    def delete(self, key: str) -> None:
        check_key(key)
        with self._translated(key):
            self.client.remove_object(self.bucket, key)

    def iterate(self, prefix: str = "") -> Iterator[ObjectInfo]:
        check_prefix(prefix)
        return self._list(prefix)

    def _list(self, prefix: str) -> Iterator[ObjectInfo]:
        # Streamed in the server's order. The S3 spec says UTF-8 byte order; SeaweedFS 4.x
        # lists folder by folder instead, which differs only when a folder name is a
        # prefix of a sibling followed by a character below "/" ("a/x" vs "a-b"),
        # something keys.py never produces. Sorting here would need the whole listing
        # in memory.
        with self._translated():
            for obj in self.client.list_objects(self.bucket, prefix=prefix or None, recursive=True):
                if obj.is_dir or obj.object_name is None:
                    continue
                assert obj.size is not None and obj.last_modified is not None
                yield ObjectInfo(obj.object_name, obj.size, obj.last_modified)

    # -- links and lifecycle --------------------------------------------------

    def url(self, key: str, expires: timedelta) -> str:
        check_key(key)
        if not 1 <= expires.total_seconds() <= 7 * 24 * 3600:
            raise ValueError("La validez de un enlace S3 debe estar entre 1 segundo y 7 días.")
        with self._translated(key):
            return self.client.presigned_get_object(self.bucket, key, expires=expires)

    def ensure(self) -> None:
        with self._translated():
            if self.client.bucket_exists(self.bucket):
                if self.lock_mode:
                    self._require_object_lock()
                return
            try:
                self.client.make_bucket(self.bucket, object_lock=bool(self.lock_mode))
            except S3Error as exc:
                if exc.code != "BucketAlreadyOwnedByYou":  # created concurrently by us
                    raise

    def _require_object_lock(self) -> None:
        """An existing bucket cannot gain object lock later: say so instead of storing unlocked."""
        try:
            self.client.get_object_lock_config(self.bucket)
        except S3Error as exc:
            if exc.code in ("ObjectLockConfigurationNotFoundError", "InvalidRequest",
                            "NoSuchObjectLockConfiguration"):
                raise ConfigError("ARCHIVO_S3_OBJECT_LOCK",
                                  f"el bucket «{self.bucket}» existe sin bloqueo de objetos; "
                                  "cree uno nuevo con bloqueo (archivo init lo hace si no existe).")
            raise

    def check(self) -> None:
        # A root listing (not HEAD) so that errors come with a code that tells
        # bad credentials apart from a missing bucket.
        with self._translated():
            next(iter(self.client.list_objects(self.bucket, recursive=False)), None)


def _response_error(response: urllib3.BaseHTTPResponse, key: str) -> MinioException:
    """Turn a failed raw PUT response into the exception minio would have raised."""
    content_type = response.headers.get("content-type", "")
    if response.data and "xml" in content_type:
        try:
            return S3Error.fromxml(response)
        except Exception:  # malformed XML: fall through to a status-only error
            pass
    if response.status == 403:
        return S3Error(response, "AccessDenied", None, key, None, None)
    return ServerError(f"HTTP {response.status}", response.status)


def _network_reason(exc: BaseException) -> str:
    """Spanish one-liner for why the server could not be reached."""
    reason: BaseException | None = exc
    while isinstance(reason, MaxRetryError) and reason.reason is not None:
        reason = reason.reason
    if isinstance(reason, SSLError) or isinstance(exc, ssl.SSLError):
        return "falló la conexión segura (TLS); revise ARCHIVO_S3_SECURE"
    if isinstance(reason, NameResolutionError) or isinstance(exc, socket.gaierror):
        return "no se encuentra el nombre del servidor"
    if isinstance(reason, NewConnectionError):  # before ConnectTimeoutError: it subclasses it
        if isinstance(reason.__cause__, ConnectionRefusedError) or "refused" in str(reason).lower():
            return "conexión rechazada"
        if "timed out" not in str(reason).lower():
            return "no se pudo abrir la conexión"
    if isinstance(reason, ConnectTimeoutError):
        return "se agotó el tiempo de espera al conectar"
    if isinstance(reason, ReadTimeoutError):
        return "el servidor no respondió a tiempo"
    if isinstance(reason, (ProtocolError, ConnectionError)):
        return "la conexión se cortó"
    return "error de red"
