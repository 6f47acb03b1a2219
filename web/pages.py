"""The landing page: signed-in people go straight to their usual page."""

from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template
from werkzeug.wrappers import Response

from archive import __version__

from .nav import home_endpoint
from .security import current_user, public

bp = Blueprint("pages", __name__)


@bp.get("/")
@public
def landing() -> str | Response:
    user = current_user()
    if user is not None:
        endpoint = home_endpoint(current_app, user.role)
        if endpoint:
            from flask import url_for

            return redirect(url_for(endpoint))
    return render_template("landing.html", version=__version__)
