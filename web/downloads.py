"""Stream a stored object to the browser with archivo's own type and file name.

The key always comes from the database (a document's original, PDF or page
derivative), never from the request, and the name is built by archivo.
"""

from __future__ import annotations

import logging
import re
from typing import Callable, Iterator

from flask import Response, abort

from archive.errors import ObjectNotFound
from archive.services import Services
from archive.storage import CHUNK_SIZE

log = logging.getLogger(__name__)

EXTENSIONS = {"application/pdf": ".pdf", "image/tiff": ".tif", "image/jpeg": ".jpg",
              "image/png": ".png", "application/gzip": ".json.gz", "text/plain": ".txt"}


def safe_filename(stem: str, media_type: str) -> str:
    """Only characters that need no quoting in Content-Disposition."""
    clean = re.sub(r"[^A-Za-z0-9._-]", "_", stem).strip("._") or "archivo"
    return clean + EXTENSIONS.get(media_type, "")


def record_original_view(services: Services, archive_number: str, *, channel: str) -> None:
    """Who looked at an original and when: an audit event in its own short transaction."""
    from flask import request

    from archive import audit
    from archive.db import session_scope

    from .security import current_user

    user = current_user()
    with session_scope(services.sessions) as db:
        audit.record(db, user.username if user else "anonimo", "documento.ver_original",
                     "documento", archive_number,
                     {"via": channel, "ip": request.remote_addr or ""})


def send_object(services: Services, key: str, media_type: str, filename: str, *,
                inline: bool = False, cache_seconds: int = 0,
                on_found: Callable[[], None] | None = None) -> Response:
    """``on_found`` runs once the object is known to exist (to audit views of originals)."""
    try:
        info = services.store.stat(key)
    except ObjectNotFound:
        log.error("objeto faltante en el almacenamiento: %s", key)
        abort(404, description="El archivo no está en el almacenamiento. Avise al "
                               "administrador para que lo reponga desde la copia de seguridad.")
    if on_found is not None:
        on_found()

    def chunks() -> Iterator[bytes]:
        with services.store.open(key) as fh:
            while chunk := fh.read(CHUNK_SIZE):
                yield chunk

    disposition = "inline" if inline else "attachment"
    return Response(chunks(), mimetype=media_type, headers={
        "Content-Disposition": f'{disposition}; filename="{filename}"',
        "Content-Length": str(info.size),
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": f"private, max-age={cache_seconds}" if cache_seconds else "private, no-store",
    })
