"""Plain Spanish pages; later issues add search, documents, review and dispatch."""

from __future__ import annotations

from flask import Blueprint, render_template

from archive import __version__

bp = Blueprint("pages", __name__)


@bp.get("/")
def landing():  # type: ignore[no-untyped-def]
    return render_template("landing.html", version=__version__)
