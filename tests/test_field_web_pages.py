"""Pages people use every day: local times, mistakes they can fix in place, web words (issue 14)."""

from __future__ import annotations

import datetime as dt
import html
import re
import shutil
from typing import Callable

from flask.testing import FlaskClient
from sqlalchemy import select

from archive.accounts import create_token
from archive.db import session_scope
from archive.enums import DocumentStatus
from archive.models import Document, User
from archive.services import Services
from search import index as search_index
from tests.registry_helpers import add_document
from tests.search_support import add_supply

ClientAs = Callable[[str], tuple[FlaskClient, str]]


def _visible(page_html: str) -> str:
    main = page_html[page_html.index("<main"):page_html.index("</main>")]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", main)).split())


def _input_value(page_html: str, name: str) -> str:
    m = re.search(rf'<input [^>]*name="{name}"[^>]*value="([^"]*)"', page_html)
    assert m, f"falta el campo {name}"
    return html.unescape(m.group(1))


# --------------------------------------------------------------------------- local time

def test_admin_tokens_show_local_time(services: Services, client_as: ClientAs) -> None:
    admin, _ = client_as("admin")
    with session_scope(services.sessions) as db:
        user = db.scalar(select(User).where(User.username == "u_consulta"))
        assert user is not None
        token, _ = create_token(db, user, "sistema comercial", actor="u_admin")
        token.created_at = dt.datetime(2026, 11, 1, 12, 30, tzinfo=dt.timezone.utc)
        token.last_used_at = dt.datetime(2026, 11, 2, 2, 15, tzinfo=dt.timezone.utc)
    text = _visible(admin.get("/admin/tokens").get_data(as_text=True))
    assert "01/11/2026 09:30" in text and "12:30" not in text
    assert "01/11/2026 23:15" in text and "02/11/2026" not in text  # still the 1st in Asunción


def test_search_results_show_the_local_day(services: Services, client_as: ClientAs) -> None:
    add_supply(services, "4992383", None)
    doc_id = add_document(services, 990001, ["4992383"])
    with session_scope(services.sessions) as db:
        doc = db.get(Document, doc_id)
        assert doc is not None
        doc.status = DocumentStatus.LISTO
        doc.received_at = dt.datetime(2026, 11, 2, 1, 0)  # 22:00 of the 1st in Asunción
    clerk, _ = client_as("consulta")
    text = _visible(clerk.get("/buscar?q=nis:4992383").get_data(as_text=True))
    assert "recibido 01/11/2026" in text, text


# --------------------------------------------------------------------------- no dead ends

def test_a_bad_date_on_the_search_page_is_said_there(client_as: ClientAs) -> None:
    clerk, _ = client_as("consulta")
    res = clerk.get("/buscar?q=contrato&desde=ayer&hasta=2024")
    assert res.status_code == 200
    body = res.get_data(as_text=True)
    assert "«ayer» no es una fecha válida" in _visible(body)
    assert _input_value(body, "desde") == "ayer" and _input_value(body, "hasta") == "2024"
    assert _input_value(body, "q") == "contrato"


def test_a_wrong_nis_in_the_supply_address_shows_the_form(client_as: ClientAs) -> None:
    clerk, _ = client_as("consulta")
    bad = clerk.get("/suministros/12ab")
    assert bad.status_code == 422
    body = bad.get_data(as_text=True)
    assert "no es un NIS válido" in _visible(body) and _input_value(body, "nis") == "12ab"
    missing = clerk.get("/suministros/4444444")
    assert missing.status_code == 404
    body = missing.get_data(as_text=True)
    assert "No hay datos del NIS 4444444" in _visible(body)
    assert _input_value(body, "nis") == "4444444"  # the lookup form again, with the number


# --------------------------------------------------------------------------- web words

def test_search_with_the_index_down_says_web_words(services: Services,
                                                   client_as: ClientAs) -> None:
    shutil.rmtree(services.settings.index_dir)
    search_index.forget_searcher(services.settings.index_dir)
    clerk, _ = client_as("consulta")
    res = clerk.get("/buscar?q=transformador")
    assert res.status_code == 503
    text = _visible(res.get_data(as_text=True))
    assert "avise al administrador" in text
    assert "«archivo" not in text and str(services.settings.index_dir) not in text


def test_a_missing_original_says_web_words(services: Services, client_as: ClientAs) -> None:
    doc_id = add_document(services, 990002, [])  # its original was never stored
    clerk, _ = client_as("consulta")
    res = clerk.get(f"/documentos/{doc_id}/original")
    assert res.status_code == 404
    text = _visible(res.get_data(as_text=True))
    assert "Avise al administrador" in text and "«archivo" not in text
