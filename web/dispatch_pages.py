"""Dispatch (encomienda) pages: list, draft, manifest, send, receipt at the unit, report.

The rules live in ``dispatch/``; these views translate forms into its calls
and its Spanish refusals into flashed messages. Row-level rules (a regional
user sees only its unit) are enforced by ``dispatch`` itself.
"""

from __future__ import annotations

import datetime as dt

from flask import (Blueprint, Response, abort, current_app, flash, redirect, render_template,
                   request, session, url_for)
from werkzeug.wrappers import Response as BaseResponse

import dispatch
from archive.db import read_scope
from archive.enums import Role
from archive.errors import ArchivoError
from archive.localtime import local_today
from archive.models import RegionalUnit
from dispatch import (Actor, DispatchState, ItemOutcome, NotFound, PermissionDenied, UnknownInput,
                      UnknownUnit, allowed_actions, can_manage, can_receive, can_resolve,
                      csv_bytes, list_couriers, manifest_pdf, monthly_report, overdue_dispatches)

from . import services_of
from .errors import error_response
from .security import current_user, requires

bp = Blueprint("dispatch_pages", __name__, url_prefix="/despachos")

READERS = (Role.DESPACHO, Role.REGIONAL, Role.ARCHIVISTA, Role.CONSULTA)
SENDERS = (Role.DESPACHO, Role.REGIONAL)  # regional units send their return trips
# What was typed in «Agregar ítem» when it was refused, shown again after the redirect.
TYPED_ITEM = "despacho_item_escrito"
ITEM_FIELDS = ("clase", "referencia", "descripcion", "fojas", "copia")
DAY_FORMATS = ("%Y-%m-%d", "%d/%m/%Y")
MONTH_FORMATS = ("%Y-%m", "%m/%Y")


@bp.errorhandler(PermissionDenied)
def _denied(exc: PermissionDenied) -> Response:
    return error_response(403, str(exc))


@bp.errorhandler(NotFound)
def _missing(exc: NotFound) -> Response:
    return error_response(404, str(exc))


def _actor() -> Actor:
    user = current_user()
    assert user is not None
    return Actor(user.username, Role(user.role), user.regional_unit_id)


def _svc():  # type: ignore[no-untyped-def]
    return services_of(current_app)


def _day(value: str, label: str, *, months: bool = False, last: bool = False) -> dt.date | None:
    """A date typed in a form (AAAA-MM-DD or dd/mm/aaaa; with ``months`` also a month,
    whose first or ``last`` day it means); a Spanish ``ArchivoError`` otherwise."""
    text = value.strip()
    if not text:
        return None
    for fmt in DAY_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            pass
    for fmt in MONTH_FORMATS if months else ():
        try:
            first = dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        if not last:
            return first
        return (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    shapes = "AAAA-MM-DD o un mes AAAA-MM" if months else "AAAA-MM-DD o dd/mm/aaaa"
    raise ArchivoError(f"«{text}» no es una fecha válida para «{label}»; use {shapes}.")


def _date(name: str, label: str) -> dt.date | None:
    return _day(request.values.get(name, ""), label)


def _units() -> list[RegionalUnit]:
    from sqlalchemy import select

    with read_scope(_svc().sessions) as db:
        units = db.scalars(select(RegionalUnit).order_by(RegionalUnit.name)).all()
        db.expunge_all()
        return list(units)


def _back(dispatch_id: int, message: str | None = None, category: str = "") -> BaseResponse:
    if message:
        flash(message, category)
    return redirect(url_for("dispatch_pages.detail", dispatch_id=dispatch_id))


@bp.get("")
@requires(*READERS)
def index() -> tuple[str, int]:
    actor = _actor()
    state = request.args.get("estado") or None
    destination = request.args.get("destino") or None
    courier = request.args.get("transportista") or None
    overdue = request.args.get("vencidos") == "1"
    page = max(1, request.args.get("pagina", 1, type=int) or 1)
    per_page = 50
    error = None
    try:
        rows = dispatch.list_dispatches(
            _svc(), actor, state=state, destination=destination, courier=courier,
            date_from=_date("desde", "Desde"), date_to=_date("hasta", "Hasta"),
            overdue_only=overdue, limit=per_page + 1, offset=(page - 1) * per_page)
    except PermissionDenied:
        raise
    except ArchivoError as exc:  # a mistyped filter: say so above the same form
        rows, error = [], str(exc)
    today = local_today()
    return render_template(
        "despachos.html", rows=rows[:per_page], more=len(rows) > per_page, page=page,
        error=error, today=today, states=DispatchState.choices(), units=_units(),
        couriers=list_couriers(_svc()), args=request.args,
        overdue=overdue_dispatches(_svc(), actor, today=today),
        discrepancies=dispatch.open_discrepancies(_svc(), actor),
        can_create=actor.role in (Role.DESPACHO, Role.ADMIN)), 400 if error else 200


@bp.post("")
@requires(Role.DESPACHO)
def create() -> BaseResponse:
    try:
        d = dispatch.create_dispatch(_svc(), _actor(), request.form.get("destino", ""),
                                     notes=request.form.get("notas", ""))
    except UnknownUnit as exc:
        flash(f"{exc} Elija el destino de la lista.", "error")
        return redirect(url_for("dispatch_pages.index"))
    except ArchivoError as exc:
        if isinstance(exc, PermissionDenied):
            raise
        flash(str(exc), "error")
        return redirect(url_for("dispatch_pages.index"))
    return _back(d.id, f"Despacho {d.number} creado como borrador: agregue los ítems.")


@bp.get("/<int:dispatch_id>")
@requires(*READERS)
def detail(dispatch_id: int) -> str:
    actor = _actor()
    d = dispatch.get_dispatch(_svc(), actor, dispatch_id)
    manage = can_manage(actor, d.scope)
    typed = session.pop(TYPED_ITEM, None)
    if not isinstance(typed, dict) or typed.get("despacho") != dispatch_id:
        typed = {}
    return render_template(
        "despacho.html", d=d, today=local_today(), typed=typed,
        actions=[a.value for a in allowed_actions(d.state, is_return=d.is_return)],
        can_manage=manage, can_receive=can_receive(actor, d.scope),
        can_resolve=can_resolve(actor, d.scope), couriers=list_couriers(_svc()),
        outcomes=ItemOutcome.choices())


def _run(dispatch_id: int, done: str, fn, *,  # type: ignore[no-untyped-def]
         keep: dict[str, str] | None = None) -> BaseResponse:
    """Call a dispatch action; a refusal comes back as a flashed Spanish message.

    A unit, courier or document that does not exist is a typing mistake, not a
    missing page; ``keep`` is what was typed, shown again in the form.
    """
    try:
        fn()
    except PermissionDenied:
        raise
    except NotFound as exc:
        if not isinstance(exc, UnknownInput):
            raise
        return _refused(dispatch_id, exc, keep)
    except ArchivoError as exc:
        return _refused(dispatch_id, exc, keep)
    return _back(dispatch_id, done)


def _refused(dispatch_id: int, exc: ArchivoError, keep: dict[str, str] | None) -> BaseResponse:
    if keep is not None:
        session[TYPED_ITEM] = {"despacho": dispatch_id, **keep}
    return _back(dispatch_id, str(exc), "error")


@bp.post("/<int:dispatch_id>/items")
@requires(*SENDERS)
def add_item(dispatch_id: int) -> BaseResponse:
    form, actor, svc = request.form, _actor(), _svc()
    kind = form.get("clase", "documento")
    original = form.get("copia", "original") != "copia"

    def sheets() -> int | None:
        raw = form.get("fojas", "").strip()
        if not raw:
            return None
        if not raw.isdigit():
            raise ArchivoError("La cantidad de fojas debe ser un número entero.")
        return int(raw)

    def add() -> None:
        if kind == "documento":
            dispatch.add_document(svc, actor, dispatch_id,
                                  archive_number=form.get("referencia", ""),
                                  original=original)
        elif kind == "carpeta":
            dispatch.add_folder(svc, actor, dispatch_id, form.get("referencia", ""),
                                description=form.get("descripcion", ""), sheets=sheets())
        else:
            dispatch.add_text(svc, actor, dispatch_id, form.get("descripcion", ""),
                              sheets=sheets(), original=original)
    return _run(dispatch_id, "Ítem agregado.", add,
                keep={name: form.get(name, "")[:300] for name in ITEM_FIELDS})


@bp.post("/<int:dispatch_id>/items/<int:item_id>/quitar")
@requires(*SENDERS)
def remove_item(dispatch_id: int, item_id: int) -> BaseResponse:
    return _run(dispatch_id, "Ítem quitado.", lambda: dispatch.remove_item(
        _svc(), _actor(), dispatch_id, item_id))


@bp.post("/<int:dispatch_id>/preparar")
@requires(*SENDERS)
def prepare(dispatch_id: int) -> BaseResponse:
    return _run(dispatch_id, "Despacho preparado: imprima la nota de remisión y cierre el paquete.",
                lambda: dispatch.prepare(_svc(), _actor(), dispatch_id,
                                         note=request.form.get("nota", "")))


@bp.post("/<int:dispatch_id>/reabrir")
@requires(*SENDERS)
def reopen(dispatch_id: int) -> BaseResponse:
    return _run(dispatch_id, "Despacho reabierto: la nota de remisión impresa ya no vale.",
                lambda: dispatch.reopen(_svc(), _actor(), dispatch_id,
                                        note=request.form.get("nota", "")))


@bp.post("/<int:dispatch_id>/enviar")
@requires(*SENDERS)
def send(dispatch_id: int) -> BaseResponse:
    form = request.form

    def go() -> None:
        dispatch.send(_svc(), _actor(), dispatch_id, courier=form.get("transportista", ""),
                      guide_number=form.get("guia", ""),
                      sent_at=_date("fecha_envio", "Fecha de envío"),
                      expected_delivery=_date("entrega_prevista", "Entrega prevista"),
                      note=form.get("nota", ""))
    return _run(dispatch_id, "Despacho enviado.", go)


@bp.post("/<int:dispatch_id>/anular")
@requires(*SENDERS)
def annul(dispatch_id: int) -> BaseResponse:
    return _run(dispatch_id, "Despacho anulado.", lambda: dispatch.annul(
        _svc(), _actor(), dispatch_id, request.form.get("motivo", "")))


@bp.post("/<int:dispatch_id>/devolucion")
@requires(*SENDERS)
def create_return(dispatch_id: int) -> BaseResponse:
    try:
        ret = dispatch.create_return(_svc(), _actor(), dispatch_id,
                                     include_copies=request.form.get("copias") == "1")
    except (PermissionDenied, NotFound):
        raise
    except ArchivoError as exc:
        return _back(dispatch_id, str(exc), "error")
    return _back(ret.id, f"Devolución {ret.number} creada como borrador.")


@bp.get("/<int:dispatch_id>/recepcion")
@requires(*READERS)
def receipt(dispatch_id: int) -> str:
    """The page the manifest's QR code opens: the receiving side checks each item."""
    actor = _actor()
    d = dispatch.get_dispatch(_svc(), actor, dispatch_id)
    return render_template("despacho_recepcion.html", d=d, outcomes=ItemOutcome.choices(),
                           can_receive=can_receive(actor, d.scope)
                           and "recibir" in [a.value for a in allowed_actions(
                               d.state, is_return=d.is_return)])


@bp.post("/<int:dispatch_id>/recepcion")
@requires(Role.REGIONAL, Role.DESPACHO)
def receive(dispatch_id: int) -> BaseResponse:
    actor, form = _actor(), request.form
    d = dispatch.get_dispatch(_svc(), actor, dispatch_id)
    receipts = []
    try:
        for item in d.items:
            outcome = ItemOutcome.parse(form.get(f"resultado_{item.id}", "recibido"))
            receipts.append(dispatch.ItemReceipt(item.id, outcome,  # type: ignore[arg-type]
                                                 form.get(f"nota_{item.id}", "")))
    except ValueError as exc:
        return _back(dispatch_id, str(exc), "error")
    return _run(dispatch_id, "Recepción confirmada.", lambda: dispatch.receive(
        _svc(), actor, dispatch_id, receipts, note=form.get("nota", ""),
        received_at=_date("fecha_recepcion", "Fecha de recepción")))


@bp.post("/<int:dispatch_id>/items/<int:item_id>/resolver")
@requires(Role.DESPACHO)
def resolve(dispatch_id: int, item_id: int) -> BaseResponse:
    return _run(dispatch_id, "Observación resuelta.", lambda: dispatch.resolve_item(
        _svc(), _actor(), dispatch_id, item_id, request.form.get("nota", "")))


@bp.get("/<int:dispatch_id>/manifiesto.pdf")
@requires(*READERS)
def manifest(dispatch_id: int) -> Response:
    actor = _actor()
    d = dispatch.get_dispatch(_svc(), actor, dispatch_id)
    data = manifest_pdf(_svc(), actor, dispatch_id)
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{d.number}.pdf"',
        "Cache-Control": "private, no-store"})


@bp.get("/informe")
@requires(*READERS)
def report() -> tuple[str, int] | Response:
    """A mistyped period is said above the same form, with what was typed kept."""
    today = local_today()
    typed = {"desde": request.args.get("desde", ""), "hasta": request.args.get("hasta", "")}
    try:
        first, last = _period(typed["desde"], typed["hasta"], today)
    except ArchivoError as exc:
        return render_template("despachos_informe.html", rows=[], typed=typed,
                               error=str(exc), first=None, last=None), 400
    rows = monthly_report(_svc(), _actor(), first=first, last=last, today=today)
    if request.args.get("formato") == "csv":
        name = f"despachos_{first:%Y%m}_{last:%Y%m}.csv"
        return Response(csv_bytes(rows), mimetype="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="{name}"'})
    typed = {"desde": first.isoformat(), "hasta": last.isoformat()}
    return render_template("despachos_informe.html", rows=rows, first=first, last=last,
                           typed=typed, error=None), 200


def _period(raw_first: str, raw_last: str, today: dt.date) -> tuple[dt.date, dt.date]:
    first = _day(raw_first, "Desde", months=True) or today.replace(day=1)
    last = _day(raw_last, "Hasta", months=True, last=True) or today
    if last < first:
        raise ArchivoError("La fecha «Hasta» es anterior a «Desde».")
    if (last - first).days > 3660:
        raise ArchivoError("El informe abarca como máximo diez años.")
    return first, last


@bp.get("/configuracion")
@requires(Role.DESPACHO)
def settings_page() -> str:
    return render_template("despachos_config.html",
                           couriers=list_couriers(_svc(), include_inactive=True),
                           transit=dispatch.list_transit_days(_svc()))


def _config_action(done: str, fn) -> BaseResponse:  # type: ignore[no-untyped-def]
    try:
        fn()
        flash(done)
    except PermissionDenied:
        raise
    except ArchivoError as exc:
        flash(str(exc), "error")
    return redirect(url_for("dispatch_pages.settings_page"))


@bp.post("/configuracion/transportistas")
@requires(Role.DESPACHO)
def add_courier() -> BaseResponse:
    return _config_action("Servicio de encomiendas agregado.",
                          lambda: dispatch.add_courier(_svc(), _actor(),
                                                       request.form.get("nombre", "")))


@bp.post("/configuracion/transportistas/<int:courier_id>/estado")
@requires(Role.DESPACHO)
def toggle_courier(courier_id: int) -> BaseResponse:
    found = next((c for c in list_couriers(_svc(), include_inactive=True) if c.id == courier_id),
                 None)
    if found is None:
        abort(404, description="Ese servicio de encomiendas no existe.")
    active = request.form.get("activo") == "1"
    return _config_action("Servicio actualizado.",
                          lambda: dispatch.set_courier_active(_svc(), _actor(), found.name, active))


@bp.post("/configuracion/plazos")
@requires(Role.DESPACHO)
def set_transit() -> BaseResponse:
    raw = request.form.get("dias", "").strip()

    def go() -> None:
        if not raw.isdigit():
            raise ArchivoError("El plazo debe ser un número entero de días.")
        dispatch.set_transit_days(_svc(), _actor(), request.form.get("unidad", ""), int(raw))
    return _config_action("Plazo de entrega actualizado.", go)
