"""The clerk's search page: one box, a few filters, facet counts, highlighted results.

Everything is answered by ``search.query.search`` (identifiers from the
database, words from the index); this module only turns the query string into
its arguments and the results into a page. A malformed query is the clerk's
everyday typo, not a server fault: its Spanish message is shown on the page
with status 200.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, fields, replace
from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from archive.db import read_scope
from archive.enums import DocumentStatus, DocumentType, Role
from archive.localtime import fmt_date
from archive.models import RegionalUnit
from search import (MODE_EXACT, PEOPLE_MESSAGE, SORTS, DocumentHit, FacetCount, IndexUnavailable,
                    QueryError, SearchResults, archive_number)
from search import search as run_search

from . import services_of
from .security import requires

log = logging.getLogger(__name__)

bp = Blueprint("search_pages", __name__)

PER_PAGE = 20
MAX_QUERY_CHARS = 500
PAGER_SPAN = 3  # result pages shown on each side of the current one


@dataclass(frozen=True)
class SearchForm:
    """The page's query string, read leniently: a clerk's URL never fails to parse."""

    q: str = ""
    tipo: str = ""
    regional: str = ""
    desde: str = ""
    hasta: str = ""
    orden: str = "relevancia"
    aproximada: bool = False
    pagina: int = 1

    @classmethod
    def from_args(cls, args: MultiDict[str, str]) -> "SearchForm":
        def text(name: str, limit: int = 60) -> str:
            return (args.get(name) or "").strip()[:limit]

        orden = text("orden")
        return cls(q=text("q", MAX_QUERY_CHARS), tipo=text("tipo"), regional=text("regional"),
                   desde=text("desde"), hasta=text("hasta"),
                   orden=orden if orden in SORTS else "relevancia",
                   aproximada=args.get("aproximada") == "1",
                   pagina=max(1, args.get("pagina", 1, type=int) or 1))

    def filters(self) -> dict[str, str]:
        """The filters as ``search()`` takes them (query aliases as keys)."""
        out = {"tipo": self.tipo, "regional": self.regional}
        if self.desde or self.hasta:
            out["fecha"] = f"{self.desde}..{self.hasta}"
        return {k: v for k, v in out.items() if v}

    @property
    def asked(self) -> bool:
        return bool(self.q or self.filters())

    def params(self) -> dict[str, Any]:
        """Query-string parameters of this form, defaults left out (short, shareable URLs)."""
        defaults = SearchForm()
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value != getattr(defaults, f.name):
                out[f.name] = "1" if value is True else value
        return out

    def url(self, **changes: Any) -> str:
        """This search with some fields changed; any change but the page starts at page 1."""
        changes.setdefault("pagina", 1)
        return url_for("search_pages.search", **replace(self, **changes).params())


@dataclass(frozen=True)
class FacetLink:
    label: str
    count: int
    url: str
    active: bool


@dataclass(frozen=True)
class ActiveFilter:
    label: str
    remove_url: str


def _facet_links(form: SearchForm,
                 facets: dict[str, list[FacetCount]]) -> dict[str, list[FacetLink]]:
    """Each facet value as a link that narrows the current search to it."""
    out: dict[str, list[FacetLink]] = {}
    for f in facets.get("tipo", []):
        out.setdefault("tipo", []).append(
            FacetLink(f.label, f.count, form.url(tipo=f.value), form.tipo == f.value))
    for f in facets.get("regional", []):
        out.setdefault("regional", []).append(FacetLink(
            f.label, f.count, form.url(regional=f.value), form.regional.upper() == f.value))
    for f in facets.get("anio", []):
        out.setdefault("anio", []).append(FacetLink(
            f.label, f.count, form.url(desde=f.value, hasta=f.value),
            form.desde == form.hasta == f.value))
    return out


def _active_filters(form: SearchForm, units: dict[str, str]) -> list[ActiveFilter]:
    out = []
    if form.tipo:
        try:
            label = DocumentType(form.tipo).label
        except ValueError:
            label = form.tipo
        out.append(ActiveFilter(f"Tipo: {label}", form.url(tipo="")))
    if form.regional:
        out.append(ActiveFilter(f"Regional: {units.get(form.regional.upper(), form.regional)}",
                                form.url(regional="")))
    if form.desde or form.hasta:
        if form.desde == form.hasta:
            label = f"Fecha: {form.desde}"
        else:
            label = f"Fecha: {form.desde or '…'} a {form.hasta or '…'}"
        out.append(ActiveFilter(label, form.url(desde="", hasta="")))
    return out


def _pager(form: SearchForm, results: SearchResults) -> list[tuple[int, str]]:
    first = max(1, results.page - PAGER_SPAN)
    last = min(results.pages, results.page + PAGER_SPAN)
    return [(n, form.url(pagina=n)) for n in range(first, last + 1)]


def _regional_units() -> list[tuple[str, str]]:
    with read_scope(services_of(current_app).sessions) as db:
        return [(code, name) for code, name in db.execute(
            select(RegionalUnit.code, RegionalUnit.name).order_by(RegionalUnit.name))]


def document_url(hit: DocumentHit, form: SearchForm) -> str:
    """The document opened at its best page, carrying the query so the viewer marks the hits."""
    return url_for("documents.view", doc_id=hit.document_id, pagina=hit.page or None,
                   q=form.q or None, aproximada="1" if form.aproximada else None)


def _single_document(form: SearchForm, results: SearchResults) -> DocumentHit | None:
    """An archive number typed alone names one document: go straight to it."""
    if (results.mode == MODE_EXACT and results.total == 1 and results.hits
            and form.pagina == 1 and not form.filters()):
        wanted = archive_number(form.q.split(":", 1)[-1].strip())
        if wanted and results.hits[0].archive_number == wanted:
            return results.hits[0]
    return None


def _label_target(form: SearchForm) -> str | None:
    """A box or folder code scanned into the box alone opens that box or folder (web.physical)."""
    if not form.q or form.filters():
        return None
    from .physical import code_url

    return code_url(form.q)


def supply_url(nis: str) -> str:
    """The supply file (ficha) of a NIS when that page exists, else a search for its documents."""
    return url_for("supplies.view", nis=nis)


def status_label(value: str) -> str:
    try:
        return DocumentStatus(value).label
    except ValueError:
        return value


def day(value: dt.date | dt.datetime | None) -> str:
    """The local calendar day: a received instant late in the evening is still that day here."""
    return fmt_date(value)


@bp.get("/buscar")
@requires(Role.CONSULTA, Role.ARCHIVISTA, Role.DESPACHO)
def search() -> tuple[str, int] | Response:
    form = SearchForm.from_args(request.args)
    units = _regional_units()
    results: SearchResults | None = None
    error = ""
    status = 200
    if (target := _label_target(form)) is not None:
        return redirect(target)
    if form.asked:
        try:
            results = run_search(services_of(current_app), form.q, page=form.pagina,
                                 per_page=PER_PAGE, sort=form.orden, filters=form.filters(),
                                 fuzzy=form.aproximada, boxes=False)
        except QueryError as exc:
            error = str(exc)
        except IndexUnavailable as exc:  # the operator's hint goes to the log, not the clerk
            log.error("búsqueda no disponible: %s", exc)
            error, status = PEOPLE_MESSAGE, 503
        if results is not None and (hit := _single_document(form, results)) is not None:
            return redirect(document_url(hit, form))
    unit_names = dict(units)
    return render_template(
        "buscar.html", form=form, results=results, error=error, status_label=status_label,
        day=day, document_url=document_url, supply_url=supply_url,
        doc_types=DocumentType.choices(), units=units, sorts=SORTS, facets=_facet_links(form, results.facets) if results else {},
        active=_active_filters(form, unit_names),
        pager=_pager(form, results) if results else [],
    ), status
