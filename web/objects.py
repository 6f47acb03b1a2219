"""Serve objects of the local folder store through signed, expiring URLs.

On S3 the store hands out presigned URLs instead and this route is unused.
"""

from __future__ import annotations

from flask import Blueprint, abort, current_app, request, send_file

from archive.errors import ObjectNotFound
from archive.storage.signing import verify_signed_url

from . import services_of

bp = Blueprint("objects", __name__)


@bp.get("/objetos/<path:key>")
def signed_object(key: str):  # type: ignore[no-untyped-def]
    svc = services_of(current_app)
    expira = request.args.get("expira", "")
    firma = request.args.get("firma", "")
    if not verify_signed_url(svc.secret_key, key, expira, firma):
        abort(403, description="El enlace no es válido o ya venció. Pida uno nuevo.")
    try:
        info = svc.store.stat(key)
        handle = svc.store.open(key).__enter__()
    except ObjectNotFound:
        abort(404, description="El archivo solicitado no existe.")
    name = request.args.get("nombre") or key.rsplit("/", 1)[-1]
    return send_file(handle, mimetype=request.args.get("tipo") or "application/octet-stream",
                     as_attachment=True, download_name=name, max_age=0,
                     last_modified=info.modified)
