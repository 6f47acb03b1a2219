"""Sign-ins and views of originals leave audit events (who, when, from where)."""

from __future__ import annotations

import io
from pathlib import Path

from sqlalchemy import select

from archive.audit import verify_chain
from archive.db import session_scope
from archive.models import AuditEvent
from tests import scans
from tests.api_support import API, make_api_archive
from tests.web_support import sign_in


def test_login_and_original_views_are_audited(tmp_path: Path) -> None:
    arc = make_api_archive(tmp_path, immediate=False)
    buf = io.BytesIO()
    scans.page(seed=5)[0].save(buf, format="PNG")
    doc = arc.upload("archivista", buf.getvalue(), "a.png").get_json()

    browser = arc.client()
    sign_in(browser, "u_consulta")
    assert browser.get(f"/documentos/{doc['id']}/original").status_code == 200
    assert arc.client().get(f"{API}/documents/{doc['id']}/original",
                            headers=arc.headers("consulta")).status_code == 200
    assert arc.client().get(f"{API}/documents/{doc['id']}/pdf",
                            headers=arc.headers("consulta")).status_code == 404  # no OCR yet

    with session_scope(arc.services.sessions) as s:
        events = s.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        assert verify_chain(events) == []
        logins = [e for e in events if e.action == "usuario.ingresar"]
        views = [e for e in events if e.action == "documento.ver_original"]
        assert [e.actor for e in logins] == ["u_consulta"]
        assert [(e.actor, e.object_id, e.details["via"]) for e in views] == [
            ("u_consulta", doc["numero"], "web"), ("u_consulta", doc["numero"], "api")]
    arc.services.dispose()
