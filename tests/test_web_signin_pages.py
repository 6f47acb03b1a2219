"""A stranger finds how to sign in; «Mi cuenta» shows times in Paraguay's clock."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import select

from archive.accounts import create_token
from archive.db import session_scope
from archive.models import AuditEvent, User
from archive.services import Services
from tests.web_support import ROLE_USERS, sign_in

LOGIN_LINK = re.compile(r'<a[^>]*href="/ingresar"[^>]*>\s*Ingresar\s*</a>')


def test_landing_page_offers_a_stranger_the_sign_in_link(app: Flask) -> None:
    page = app.test_client().get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    main = html.split("<main>", 1)[1]
    header = html.split("<header>", 1)[1].split("</header>", 1)[0]
    assert LOGIN_LINK.search(main) and LOGIN_LINK.search(header)


def test_header_offers_sign_in_to_anonymous_visitors_only(app: Flask) -> None:
    anonymous = app.test_client().get("/no-existe").get_data(as_text=True)
    assert LOGIN_LINK.search(anonymous.split("</header>", 1)[0])
    client = app.test_client()
    sign_in(client, ROLE_USERS["consulta"])
    signed_in = client.get("/cuenta").get_data(as_text=True)
    assert not LOGIN_LINK.search(signed_in) and "Salir" in signed_in


def _utc(day: int, hour: int, minute: int) -> dt.datetime:
    return dt.datetime(2026, 7, day, hour, minute, tzinfo=dt.timezone.utc)


def _shown(moment: dt.datetime) -> str:
    return moment.astimezone(ZoneInfo("America/Asuncion")).strftime("%d/%m/%Y %H:%M")


def test_account_page_shows_local_times(app: Flask, services: Services) -> None:
    created, used, signed = _utc(1, 1, 30), _utc(2, 2, 45), _utc(3, 0, 15)
    client = app.test_client()
    sign_in(client, ROLE_USERS["consulta"])
    with session_scope(services.sessions) as db:
        user = db.scalar(select(User).where(User.username == ROLE_USERS["consulta"]))
        assert user is not None
        token, _ = create_token(db, user, "sistema comercial", actor=user.username)
        token.created_at, token.last_used_at = created, used
        event = db.scalar(select(AuditEvent).where(AuditEvent.action == "usuario.ingresar",
                                                   AuditEvent.object_id == user.username))
        assert event is not None
        event.at = signed  # only the shown time; the hash chain is not checked here
    html = client.get("/cuenta").get_data(as_text=True)
    for moment in (created, used, signed):
        utc_text = moment.strftime("%d/%m/%Y %H:%M")
        assert _shown(moment) != utc_text  # the local day itself differs at these hours
        assert _shown(moment) in html and utc_text not in html
    assert "127.0.0.1" in html  # where the sign-in came from
