"""URL converters: an id in a web address is at most what the database can hold.

Ids and page numbers are 32-bit integers in the database. A larger number in
an address used to reach the query and fail there (SQLite: ``OverflowError``
past 2^63; PostgreSQL: "integer out of range" past 2^31), a 500 for what is
simply a page that does not exist. Replacing Flask's ``int`` converter app-wide
makes every ``<int:...>`` route answer 404 for such numbers before any view runs.
The 404 is raised from the converter rather than letting the rule not match:
a non-matching rule would make werkzeug answer 405 when the same address has
a rule for another method (``PATCH /api/v1/documents/<huge>``).
"""

from __future__ import annotations

from flask import Flask
from werkzeug.exceptions import NotFound
from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1  # INTEGER columns (ids, page numbers) on PostgreSQL and SQLite alike
TOO_BIG = "No existe lo que busca: ese número no corresponde a ningún registro."


class BoundedIntConverter(IntegerConverter):
    """``int`` whose values past what a database INTEGER holds are a 404."""

    def to_python(self, value: str) -> int:
        # Length first: no int() of a 5,000-digit number either.
        if len(value) > len(str(MAX_ID)) or int(value) > MAX_ID:
            raise NotFound(description=TOO_BIG)
        return super().to_python(value)  # type: ignore[no-any-return]


def register(app: Flask) -> None:
    """Install before any blueprint adds its rules (converters bind when a rule is added)."""
    app.url_map.converters["int"] = BoundedIntConverter
