"""The menu: each entry shows only if its page exists and the user's role may open it."""

from __future__ import annotations

from flask import Flask, url_for

from .security import access_of, current_user, role_allowed

# (endpoint, label) in menu order; pages added by later work appear when registered.
MENU: list[tuple[str, str]] = [
    ("dashboard.home", "Tablero"),
    ("search_pages.search", "Buscar"),
    ("supplies.lookup", "Suministros"),
    ("upload.page", "Subir"),
    ("review.queue", "Revisión"),
    ("dispatch_pages.index", "Despachos"),
    ("physical.index", "Archivo físico"),
    ("admin.users", "Administración"),
]

# First page after signing in, per role (the first one that exists and is allowed).
HOME: dict[str, list[str]] = {
    "admin": ["dashboard.home", "search_pages.search"],
    "archivista": ["dashboard.home", "search_pages.search"],
    "consulta": ["search_pages.search"],
    "despacho": ["dispatch_pages.index", "search_pages.search"],
    "regional": ["dispatch_pages.index"],
}


def menu_for(app: Flask, role: str | None) -> list[tuple[str, str]]:
    return [(url_for(e), label) for e, label in MENU if role_allowed(access_of(app, e), role)]


def home_endpoint(app: Flask, role: str) -> str | None:
    for endpoint in HOME.get(role, []):
        if role_allowed(access_of(app, endpoint), role):
            return endpoint
    return None


def template_globals(app: Flask) -> dict[str, object]:
    def menu() -> list[tuple[str, str]]:
        user = current_user()
        return menu_for(app, user.role if user else None)

    def can_open(endpoint: str) -> bool:
        """Link only to pages the user's role may open (no link leads to a refusal)."""
        user = current_user()
        return role_allowed(access_of(app, endpoint), user.role if user else None)
    return {"menu": menu, "current_user": current_user, "can_open": can_open}
