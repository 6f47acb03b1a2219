"""Serve objects of the local folder store through signed, expiring URLs.

On S3 the store hands out presigned URLs instead and this route is unused.
The key comes from the signed URL (never a user-chosen file path) and the
Content-Type from what archivo recorded, not from the request.
"""

from __future__ import annotations

import re
from typing import Iterator

from flask import Blueprint, Response, abort, current_app, request
from sqlalchemy import select

from archive.db import read_scope
from archive.errors import ObjectNotFound
from archive.models import Blob
from archive.storage import CHUNK_SIZE
from archive.storage.base import check_key
from archive.storage.signing import verify_signed_url

from . import services_of
from .security import public

bp = Blueprint("objects", __name__)

SUFFIX_TYPES = {".jpg": "image/jpeg", ".pdf": "application/pdf", ".json.gz": "application/gzip"}


def media_type_for(key: str, recorded: str | None) -> str:
    if recorded:
        return recorded
    for suffix, media in SUFFIX_TYPES.items():
        if key.endswith(suffix):
            return media
    return "application/octet-stream"


@bp.get("/objetos/<path:key>")
@public  # the signature in the URL is the credential
def signed_object(key: str) -> Response:
    svc = services_of(current_app)
    if not verify_signed_url(svc.secret_key, key, request.args.get("expira", ""),
                             request.args.get("firma", "")):
        abort(403, description="El enlace no es válido o ya venció. Pida uno nuevo.")
    try:  # a key the store refuses (``..``, absolute) names no object, even when signed
        check_key(key)
    except ValueError:
        abort(404, description="El archivo solicitado no existe.")
    try:
        info = svc.store.stat(key)
    except ObjectNotFound:
        abort(404, description="El archivo solicitado no existe.")
    with read_scope(svc.sessions) as session:
        recorded = session.scalar(select(Blob.media_type).where(Blob.storage_key == key))

    def chunks() -> Iterator[bytes]:
        with svc.store.open(key) as fh:
            while chunk := fh.read(CHUNK_SIZE):
                yield chunk

    name = re.sub(r"[^A-Za-z0-9._-]", "_", key.rsplit("/", 1)[-1])  # never a quote or a ;
    return Response(chunks(), mimetype=media_type_for(key, recorded), headers={
        "Content-Disposition": f'attachment; filename="{name}"',
        "Content-Length": str(info.size),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, no-store",
    })
