"""The folder store's disk fills up during an upload: a Spanish 503, no half-written object,
no document row, and the next upload works once there is room again.

The full disk is simulated by making the store's ``fsync`` fail with ENOSPC once (a fake
inside this test; the store's real write path runs around it)."""

from __future__ import annotations

import errno
import io
import os
from pathlib import Path

import pytest

from archive.db import session_scope
from archive.models import Blob, Document
from archive.storage import local
from tests import scans
from tests.api_support import error_of, make_api_archive


def _png(seed: int) -> bytes:
    buf = io.BytesIO()
    scans.page(seed=seed)[0].save(buf, format="PNG")
    return buf.getvalue()


def test_disk_full_during_upload(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    arc = make_api_archive(tmp_path, immediate=False)
    real_fsync = os.fsync
    calls = {"n": 0}

    def full_once(fd: int) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(local.os, "fsync", full_once)
    res = arc.upload("archivista", _png(91), "lleno.png")
    assert res.status_code == 503, res.get_data(as_text=True)
    code, message = error_of(res)
    assert code == "almacenamiento_no_disponible" and "no queda espacio en el disco" in message
    with session_scope(arc.services.sessions) as s:
        assert s.query(Document).count() == 0 and s.query(Blob).count() == 0
    root = Path(arc.services.settings.home) / "objetos"
    leftovers = [p for p in root.rglob("*") if p.is_file()]
    assert leftovers == [], leftovers  # the staging file was removed

    ok = arc.upload("archivista", _png(91), "lleno.png")  # room again
    assert ok.status_code == 202 and not ok.get_json()["duplicado"]
    arc.services.dispose()
