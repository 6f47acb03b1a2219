"""HMAC-signed, expiring download links for the local store.

S3 has presigned URLs; a folder on disk has nothing equivalent, so the app
serves ``/objetos/<key>`` itself and only when the link's signature and expiry
check out. The signature covers the key and the expiry, so neither can be
changed without invalidating the link.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import timedelta
from urllib.parse import quote, urlencode

ROUTE_PREFIX = "/objetos/"


def sign(secret_key: str, key: str, expira: int) -> str:
    """Hex HMAC-SHA256 of ``key`` and the unix expiry time."""
    message = f"{key}\n{int(expira)}".encode("utf-8")
    return hmac.new(secret_key.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signed_url(base_url: str, secret_key: str, key: str, expires: timedelta,
               now: float | None = None) -> str:
    """``{base_url}/objetos/{key}?expira=<unix>&firma=<hex>`` valid for ``expires``."""
    if not secret_key:
        raise ValueError("Falta la clave secreta (ARCHIVO_SECRET_KEY) para firmar enlaces.")
    seconds = int(expires.total_seconds())
    if seconds <= 0:
        raise ValueError("La validez del enlace debe ser positiva.")
    expira = int(time.time() if now is None else now) + seconds
    query = urlencode({"expira": expira, "firma": sign(secret_key, key, expira)})
    return f"{base_url.rstrip('/')}{ROUTE_PREFIX}{quote(key, safe='/')}?{query}"


def verify_signed_url(secret_key: str, key: str, expira: str | int, firma: str,
                      now: float | None = None) -> bool:
    """True if ``firma`` matches ``key``/``expira`` and the link has not expired.

    Takes the raw query-string values so the route can pass them unparsed; any
    malformed value simply fails verification.
    """
    if not secret_key or not isinstance(firma, str):
        return False
    try:
        expira_int = int(expira)
    except (TypeError, ValueError):
        return False
    current = time.time() if now is None else now
    if current > expira_int:
        return False
    expected = sign(secret_key, key, expira_int)
    return hmac.compare_digest(expected.encode("ascii"), firma.encode("utf-8", "replace"))
