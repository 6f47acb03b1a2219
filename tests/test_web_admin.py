"""Administration pages: users, tokens, regional units, supply import; admins only."""

from __future__ import annotations

import io
import re
from typing import Callable

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from archive.accounts import MAX_FAILURES, LoginRefused, authenticate
from archive.db import session_scope
from archive.models import AuditEvent, RegionalUnit, Supply, User
from archive.services import Services
from tests.web_support import PASSWORD, csrf_of

ClientAs = Callable[[str], tuple[FlaskClient, str]]


def _user_id(services: Services, username: str) -> int:
    with session_scope(services.sessions) as db:
        return int(db.scalar(select(User.id).where(User.username == username)))


def _audited(services: Services, action: str) -> list[AuditEvent]:
    with session_scope(services.sessions) as db:
        return list(db.scalars(select(AuditEvent).where(AuditEvent.action == action)
                               .order_by(AuditEvent.id)))


def _secret(html: str) -> str:
    match = re.search(r'<code class="secreto">([^<]+)</code>', html)
    assert match, "la página no muestra la contraseña nueva"
    return match.group(1)


def _can_sign_in(app: Flask, username: str, password: str) -> bool:
    client = app.test_client()
    token = csrf_of(client.get("/ingresar").get_data(as_text=True))
    res = client.post("/ingresar", data={"usuario": username, "contrasena": password,
                                         "csrf_token": token})
    return res.status_code == 302


def test_create_user_shows_the_password_once(app: Flask, client_as: ClientAs,
                                             services: Services) -> None:
    admin, token = client_as("admin")
    page = admin.get("/admin/usuarios")
    assert page.status_code == 200 and "u_consulta" in page.get_data(as_text=True)
    res = admin.post("/admin/usuarios", data={"usuario": "Maria.Benitez", "nombre": "María Benítez",
                                             "rol": "archivista", "regional": "",
                                             "csrf_token": token})
    html = res.get_data(as_text=True)
    assert res.status_code == 200 and "Usuario «maria.benitez» creado" in html
    password = _secret(html)
    assert _can_sign_in(app, "maria.benitez", password)
    assert password not in admin.get("/admin/usuarios").get_data(as_text=True)
    [event] = _audited(services, "usuario.crear")[-1:]
    assert event.actor == "u_admin" and event.object_id == "maria.benitez"

    res = admin.post("/admin/usuarios", data={"usuario": "sur2", "rol": "regional",
                                             "regional": "", "csrf_token": token})
    assert res.status_code == 422 and "necesita su unidad regional" in res.get_data(as_text=True)
    res = admin.post("/admin/usuarios", data={"usuario": "maria.benitez", "rol": "consulta",
                                             "csrf_token": token})
    assert res.status_code == 422 and "ya existe" in res.get_data(as_text=True)


def test_deactivation_ends_sessions_and_blocks_sign_in(app: Flask, client_as: ClientAs,
                                                       services: Services) -> None:
    admin, token = client_as("admin")
    victim, _ = client_as("consulta")
    assert victim.get("/cuenta").status_code == 200
    uid = _user_id(services, "u_consulta")
    res = admin.post(f"/admin/usuarios/{uid}/activo", data={"activo": "0", "csrf_token": token})
    assert res.status_code == 302
    assert victim.get("/cuenta").status_code == 302  # the open session ended
    assert not _can_sign_in(app, "u_consulta", PASSWORD)
    assert "desactivada" in admin.get("/admin/usuarios").get_data(as_text=True)
    admin.post(f"/admin/usuarios/{uid}/activo", data={"activo": "1", "csrf_token": token})
    assert _can_sign_in(app, "u_consulta", PASSWORD)
    assert [e.object_id for e in _audited(services, "usuario.desactivar")] == ["u_consulta"]
    assert [e.actor for e in _audited(services, "usuario.activar")] == ["u_admin"]

    me = _user_id(services, "u_admin")
    res = admin.post(f"/admin/usuarios/{me}/activo", data={"activo": "0", "csrf_token": token})
    assert res.status_code == 422 and "su propia cuenta" in res.get_data(as_text=True)


def test_reset_password_and_unlock(app: Flask, client_as: ClientAs, services: Services) -> None:
    admin, token = client_as("admin")
    victim, _ = client_as("archivista")
    uid = _user_id(services, "u_archivista")
    res = admin.post(f"/admin/usuarios/{uid}/contrasena", data={"csrf_token": token})
    new = _secret(res.get_data(as_text=True))
    assert victim.get("/cuenta").status_code == 302  # sessions end with the old password
    assert not _can_sign_in(app, "u_archivista", PASSWORD)
    assert _can_sign_in(app, "u_archivista", new)
    assert _audited(services, "usuario.contrasena")[-1].actor == "u_admin"

    with session_scope(services.sessions) as db:
        for _ in range(MAX_FAILURES):
            try:
                authenticate(db, "u_archivista", "mala")
            except LoginRefused:
                pass
    assert not _can_sign_in(app, "u_archivista", new)  # locked
    row = admin.get("/admin/usuarios").get_data(as_text=True).split('id="usuario-u_archivista"')[1]
    row = row.split("</tr>")[0]
    assert "bloqueada" in row and f"/admin/usuarios/{uid}/desbloquear" in row
    assert admin.post(f"/admin/usuarios/{uid}/desbloquear",
                      data={"csrf_token": token}).status_code == 302
    assert _can_sign_in(app, "u_archivista", new)
    assert _audited(services, "usuario.desbloquear")[-1].object_id == "u_archivista"


def test_change_role_and_regional_unit(client_as: ClientAs, services: Services) -> None:
    admin, token = client_as("admin")
    uid = _user_id(services, "u_consulta")
    res = admin.post(f"/admin/usuarios/{uid}/rol", data={"rol": "regional", "regional": "",
                                                        "csrf_token": token})
    assert res.status_code == 422 and "necesita su unidad regional" in res.get_data(as_text=True)
    res = admin.post(f"/admin/usuarios/{uid}/rol", data={"rol": "regional", "regional": "EST",
                                                        "csrf_token": token})
    assert res.status_code == 302
    with session_scope(services.sessions) as db:
        user = db.get(User, uid)
        assert user.role.value == "regional" and user.regional_unit.code == "EST"
    [event] = _audited(services, "usuario.rol")
    assert event.details == {"rol": {"antes": "consulta", "despues": "regional"},
                             "regional": {"antes": None, "despues": "EST"}}
    me = _user_id(services, "u_admin")
    res = admin.post(f"/admin/usuarios/{me}/rol", data={"rol": "consulta", "csrf_token": token})
    assert res.status_code == 422 and "a sí mismo" in res.get_data(as_text=True)


def test_tokens_of_every_user_can_be_revoked(app: Flask, client_as: ClientAs,
                                             services: Services) -> None:
    owner, owner_token = client_as("consulta")
    made = owner.post("/cuenta/tokens", data={"nombre": "sistema comercial",
                                              "csrf_token": owner_token})
    secret = made.get_data(as_text=True).split('<code class="secreto">')[1]
    secret = secret.split("<", 1)[0]
    api = app.test_client()
    bearer = {"Authorization": f"Bearer {secret}"}
    assert api.get("/cuenta", headers=bearer).status_code == 200

    admin, token = client_as("admin")
    html = admin.get("/admin/tokens").get_data(as_text=True)
    assert "sistema comercial" in html and "u_consulta" in html and secret not in html
    token_id = re.search(r'/admin/tokens/(\d+)/revocar', html).group(1)
    assert admin.post(f"/admin/tokens/{token_id}/revocar",
                      data={"csrf_token": token}).status_code == 302
    assert api.get("/cuenta", headers=bearer).status_code == 401
    event = _audited(services, "token.revocar")[-1]
    assert event.actor == "u_admin" and event.object_id == "u_consulta"
    assert "revocado" in admin.get("/admin/tokens").get_data(as_text=True)


def test_regional_units_add_and_edit(client_as: ClientAs, services: Services) -> None:
    admin, token = client_as("admin")
    assert "Regional Sur" in admin.get("/admin/regionales").get_data(as_text=True)
    res = admin.post("/admin/regionales", data={"codigo": "ita", "nombre": "Regional Itapúa",
                                               "ciudad": "Encarnación", "csrf_token": token})
    assert res.status_code == 302
    assert "Regional Itapúa" in admin.get("/admin/regionales").get_data(as_text=True)
    res = admin.post("/admin/regionales", data={"codigo": "ITA", "nombre": "Otra",
                                               "csrf_token": token})
    assert res.status_code == 422 and "Ya existe" in res.get_data(as_text=True)
    res = admin.post("/admin/regionales", data={"codigo": "ñ", "nombre": "Mala",
                                               "csrf_token": token})
    assert res.status_code == 422 and "no es un código" in res.get_data(as_text=True)

    form = admin.get("/admin/regionales/ITA")
    assert form.status_code == 200 and 'value="Encarnación"' in form.get_data(as_text=True)
    res = admin.post("/admin/regionales/ITA", data={
        "codigo": "ITP", "nombre": "Regional Itapúa", "ciudad": "Encarnación",
        "direccion": "Avda. Irrazábal 123", "contacto": "071 200 000", "csrf_token": token})
    assert res.status_code == 302
    with session_scope(services.sessions) as db:
        unit = db.scalar(select(RegionalUnit).where(RegionalUnit.code == "ITP"))
        assert unit.address == "Avda. Irrazábal 123"
    assert admin.get("/admin/regionales/ITA").status_code == 404
    assert [e.object_id for e in _audited(services, "unidad_regional_creada")] == ["ITA"]
    [edit] = _audited(services, "unidad_regional_modificada")
    assert edit.actor == "u_admin" and edit.details["cambios"]["código"] == {
        "antes": "ITA", "despues": "ITP"}


CSV = ("NIS;TITULAR;CEDULA;DIRECCION;CIUDAD;REGIONAL;TARIFA;ESTADO\n"
       "1000001;José Ñandutí;3000001;Calle Itá 1;Asunción;CEN;T1;ACTIVO\n"
       "1000002;Ana Peña;3000002;Calle 2;Luque;SUR;T1;ACTIVO\n"
       "12AB;Sin Número;3000003;Calle 3;Capiatá;CEN;T1;ACTIVO\n"
       "1000004;Rosa Báez;3000004;Calle 4;Limpio;XYZ;T1;ACTIVO\n"
       "1000005;Luis Ayala;3000005;Calle 5;Areguá;EST;T2;BAJA\n")


def _import(admin: FlaskClient, token: str, data: bytes, name: str = "padron.csv",
            mapping: bytes | None = None) -> TestResponse:
    form: dict[str, object] = {"archivo": (io.BytesIO(data), name), "csrf_token": token}
    if mapping is not None:
        form["mapeo"] = (io.BytesIO(mapping), "mapeo.toml")
    return admin.post("/admin/suministros/importar", data=form, content_type="multipart/form-data")


def _dd(html: str, ident: str) -> str:
    return html.split(f'id="{ident}">', 1)[1].split("<", 1)[0]


def test_supply_import_upload_shows_the_report(client_as: ClientAs, services: Services) -> None:
    admin, token = client_as("admin")
    assert admin.get("/admin/suministros/importar").status_code == 200
    res = _import(admin, token, CSV.encode("latin-1"))
    html = res.get_data(as_text=True)
    assert res.status_code == 200, html
    assert [_dd(html, k) for k in ("insertados", "actualizados", "sin-cambios", "rechazados")] \
        == ["3", "0", "0", "2"]
    rejected = html.split('id="rechazos"', 1)[1]
    assert re.search(r"<td class=\"numero\">4</td><td>12AB</td><td>NIS inválido", rejected)
    assert re.search(r"<td class=\"numero\">5</td><td>1000004</td><td>unidad regional "
                     r"desconocida «XYZ»", rejected)
    with session_scope(services.sessions) as db:
        assert db.get(Supply, "1000001").holder_name == "José Ñandutí"  # Latin-1 read right
    assert list((services.settings.home / "tmp").glob("importacion-*")) == []  # copy removed
    event = _audited(services, "suministros_importados")[-1]
    assert event.actor == "u_admin" and event.details["archivo"] == "padron.csv"

    again = _import(admin, token, CSV.encode("latin-1")).get_data(as_text=True)
    assert _dd(again, "sin-cambios") == "3" and _dd(again, "insertados") == "0"

    mapped = "NRO;CLIENTE\n2000001;Carlos Villalba\n".encode()
    mapping = b'[columnas]\nnis = ["NRO"]\ntitular = ["CLIENTE"]\n'
    html = _import(admin, token, mapped, "otro.txt", mapping).get_data(as_text=True)
    assert _dd(html, "insertados") == "1"

    bad = _import(admin, token, b"COLUMNA;OTRA\n1;2\n")
    assert bad.status_code == 422 and "Falta una columna obligatoria" in bad.get_data(as_text=True)
    bad_mapping = _import(admin, token, mapped, mapping=b"[columnas\n")
    assert bad_mapping.status_code == 422 and "no es TOML" in bad_mapping.get_data(as_text=True)


def test_non_admins_are_refused(client_as: ClientAs, services: Services) -> None:
    uid = _user_id(services, "u_consulta")
    for role in ("archivista", "consulta", "despacho", "regional"):
        client, token = client_as(role)
        for url in ("/admin/usuarios", "/admin/tokens", "/admin/regionales",
                    "/admin/suministros/importar"):
            assert client.get(url).status_code == 403, (role, url)
        res = client.post(f"/admin/usuarios/{uid}/activo",
                          data={"activo": "0", "csrf_token": token})
        assert res.status_code == 403
        assert client.post("/admin/usuarios", data={"usuario": "intruso", "rol": "admin",
                                                    "csrf_token": token}).status_code == 403
    with session_scope(services.sessions) as db:
        assert db.get(User, uid).active and not db.scalar(
            select(User).where(User.username == "intruso"))
