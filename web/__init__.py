"""Flask application factory; each concern is a blueprint in its own module."""

from __future__ import annotations

from flask import Flask

from archive.config import load_settings
from archive.services import Services


def create_app(services: Services | None = None) -> Flask:
    services = services or Services(load_settings())
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=services.secret_key,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=services.settings.base_url.startswith("https://"),
        MAX_CONTENT_LENGTH=services.settings.max_file_bytes + 1024 * 1024,
    )
    app.extensions["archivo"] = services

    from . import health, objects, pages

    app.register_blueprint(health.bp)
    app.register_blueprint(pages.bp)
    app.register_blueprint(objects.bp)
    return app


def services_of(app: Flask) -> Services:
    return app.extensions["archivo"]
