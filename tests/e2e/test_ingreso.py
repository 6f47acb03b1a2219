"""Signing in through the real form, in a real browser."""

from __future__ import annotations

from playwright.sync_api import expect

from archive.accounts import REFUSED
from tests.e2e.conftest import OpenAs, save_shot, sign_in
from tests.web_support import ROLE_USERS


def test_wrong_password_is_refused_in_spanish(open_as: OpenAs) -> None:
    page = open_as(None)
    page.goto("/ingresar")
    save_shot(page, "ingreso")
    page.get_by_label("Usuario").fill(ROLE_USERS["archivista"])
    page.get_by_label("Contraseña").fill("no-es-la-clave")
    page.get_by_role("button", name="Ingresar").click()
    expect(page.get_by_role("alert")).to_have_text(REFUSED)
    assert "/ingresar" in page.url
    expect(page.get_by_label("Usuario")).to_have_value(ROLE_USERS["archivista"])
    page.goto("/cuenta")  # still anonymous: sent back to the login form
    expect(page.get_by_role("heading", name="Ingresar")).to_be_visible()


def test_signed_in_user_sees_own_account_and_can_leave(open_as: OpenAs) -> None:
    page = open_as(None)  # its own sign-in: the cookies shared by other tests stay untouched
    sign_in(page, ROLE_USERS["consulta"])
    page.goto("/cuenta")
    expect(page.get_by_role("heading", name="Mi cuenta")).to_be_visible()
    expect(page.locator("main")).to_contain_text(ROLE_USERS["consulta"])
    expect(page.locator("header")).to_contain_text("(consulta)")
    page.get_by_role("button", name="Salir").click()
    expect(page.get_by_text("Sesión cerrada.")).to_be_visible()
    page.goto("/cuenta")
    expect(page.get_by_role("heading", name="Ingresar")).to_be_visible()
