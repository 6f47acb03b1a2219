"""Dispatch (encomienda) pages: list, draft, manifest, send, receipt at the unit, report.

The rules live in ``dispatch/``; these views translate forms into its calls
and its Spanish refusals into flashed messages. Row-level rules (a regional
user sees only its unit) are enforced by ``dispatch`` itself.
"""

from __future__ import annotations

import datetime as dt
import io

from flask import (Blueprint, Response, abort, current_app, flash, redirect, render_template,
                   request, url_for)
from werkzeug.wrappers import Response as BaseResponse

from archive.db import read_scope
from archive.enums import Role
from archive.errors import ArchivoError
from archive.models import RegionalUnit
from dispatch import items as dispatch_items
from dispatch import queries, service
from dispatch.clock import local_today
from dispatch.couriers import list_couriers
from dispatch.enums import DispatchState, ItemOutcome
from dispatch.manifest import manifest_pdf
from dispatch.overdue import overdue_dispatches
from dispatch.permissions import Actor, PermissionDenied, can_manage, can_receive, can_resolve
from dispatch.refs import NotFound
from dispatch.report import monthly_report, write_csv
from dispatch.workflow import allowed_actions

from . import services_of
from .errors import error_response
from .security import current_user, requires

bp = Blueprint("dispatch_pages", __name__, url_prefix="/despachos")

READERS = (Role.DESPACHO, Role.REGIONAL, Role.ARCHIVISTA, Role.CONSULTA)
SENDERS = (Role.DESPACHO, Role.REGIONAL)  # regional units send their return trips


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


def _date(name: str) -> dt.date | None:
    value = request.values.get(name, "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        abort(400, description=f"La fecha «{value}» no es válida; use AAAA-MM-DD.")


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
def index() -> str:
    actor = _actor()
    state = request.args.get("estado") or None
    destination = request.args.get("destino") or None
    courier = request.args.get("transportista") or None
    overdue = request.args.get("vencidos") == "1"
    page = max(1, request.args.get("pagina", 1, type=int) or 1)
    per_page = 50
    error = None
    try:
        rows = queries.list_dispatches(
            _svc(), actor, state=state, destination=destination, courier=courier,
            date_from=_date("desde"), date_to=_date("hasta"), overdue_only=overdue,
            limit=per_page + 1, offset=(page - 1) * per_page)
    except ArchivoError as exc:
        rows, error = [], str(exc)
    today = local_today()
    return render_template(
        "despachos.html", rows=rows[:per_page], more=len(rows) > per_page, page=page,
        error=error, today=today, states=DispatchState.choices(), units=_units(),
        couriers=list_couriers(_svc()), args=request.args,
        overdue=overdue_dispatches(_svc(), actor, today=today),
        discrepancies=queries.open_discrepancies(_svc(), actor),
        can_create=actor.role in (Role.DESPACHO, Role.ADMIN))


@bp.post("")
@requires(Role.DESPACHO)
def create() -> BaseResponse:
    try:
        d = service.create_dispatch(_svc(), _actor(), request.form.get("destino", ""),
                                    notes=request.form.get("notas", ""))
    except ArchivoError as exc:
        if isinstance(exc, (PermissionDenied, NotFound)):
            raise
        flash(str(exc), "error")
        return redirect(url_for("dispatch_pages.index"))
    return _back(d.id, f"Despacho {d.number} creado como borrador: agregue los ítems.")


@bp.get("/<int:dispatch_id>")
@requires(*READERS)
def detail(dispatch_id: int) -> str:
    actor = _actor()
    d = queries.get_dispatch(_svc(), actor, dispatch_id)
    manage = can_manage(actor, d.scope)
    return render_template(
        "despacho.html", d=d, today=local_today(),
        actions=[a.value for a in allowed_actions(d.state, is_return=d.is_return)],
        can_manage=manage, can_receive=can_receive(actor, d.scope),
        can_resolve=can_resolve(actor, d.scope), couriers=list_couriers(_svc()),
        outcomes=ItemOutcome.choices())


def _run(dispatch_id: int, done: str, fn) -> BaseResponse:  # type: ignore[no-untyped-def]
    """Call a dispatch action; a refusal comes back as a flashed Spanish message."""
    try:
        fn()
    except (PermissionDenied, NotFound):
        raise
    except ArchivoError as exc:
        return _back(dispatch_id, str(exc), "error")
    return _back(dispatch_id, done)


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
            dispatch_items.add_document(svc, actor, dispatch_id,
                                        archive_number=form.get("referencia", ""),
                                        original=original)
        elif kind == "carpeta":
            dispatch_items.add_folder(svc, actor, dispatch_id, form.get("referencia", ""),
                                      description=form.get("descripcion", ""), sheets=sheets())
        else:
            dispatch_items.add_text(svc, actor, dispatch_id, form.get("descripcion", ""),
                                    sheets=sheets(), original=original)
    return _run(dispatch_id, "Ítem agregado.", add)


@bp.post("/<int:dispatch_id>/items/<int:item_id>/quitar")
@requires(*SENDERS)
def remove_item(dispatch_id: int, item_id: int) -> BaseResponse:
    return _run(dispatch_id, "Ítem quitado.", lambda: dispatch_items.remove_item(
        _svc(), _actor(), dispatch_id, item_id))


@bp.post("/<int:dispatch_id>/preparar")
@requires(*SENDERS)
def prepare(dispatch_id: int) -> BaseResponse:
    return _run(dispatch_id, "Despacho preparado: imprima la nota de remisión y cierre el paquete.",
                lambda: service.prepare(_svc(), _actor(), dispatch_id,
                                        note=request.form.get("nota", "")))


@bp.post("/<int:dispatch_id>/reabrir")
@requires(*SENDERS)
def reopen(dispatch_id: int) -> BaseResponse:
    return _run(dispatch_id, "Despacho reabierto: la nota de remisión impresa ya no vale.",
                lambda: service.reopen(_svc(), _actor(), dispatch_id,
                                       note=request.form.get("nota", "")))


@bp.post("/<int:dispatch_id>/enviar")
@requires(*SENDERS)
def send(dispatch_id: int) -> BaseResponse:
    form = request.form

    def go() -> None:
        sent_day = _date("fecha_envio")
        sent_at = None
        if sent_day is not None:
            from dispatch.clock import local_midnight

            sent_at = local_midnight(sent_day) + dt.timedelta(hours=12)
        service.send(_svc(), _actor(), dispatch_id, courier=form.get("transportista", ""),
                     guide_number=form.get("guia", ""), sent_at=sent_at,
                     expected_delivery=_date("entrega_prevista"), note=form.get("nota", ""))
    return _run(dispatch_id, "Despacho enviado.", go)


@bp.post("/<int:dispatch_id>/anular")
@requires(*SENDERS)
def annul(dispatch_id: int) -> BaseResponse:
    return _run(dispatch_id, "Despacho anulado.", lambda: service.annul(
        _svc(), _actor(), dispatch_id, request.form.get("motivo", "")))


@bp.post("/<int:dispatch_id>/devolucion")
@requires(*SENDERS)
def create_return(dispatch_id: int) -> BaseResponse:
    try:
        ret = service.create_return(_svc(), _actor(), dispatch_id,
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
    d = queries.get_dispatch(_svc(), actor, dispatch_id)
    return render_template("despacho_recepcion.html", d=d, outcomes=ItemOutcome.choices(),
                           can_receive=can_receive(actor, d.scope)
                           and "recibir" in [a.value for a in allowed_actions(
                               d.state, is_return=d.is_return)])


@bp.post("/<int:dispatch_id>/recepcion")
@requires(Role.REGIONAL, Role.DESPACHO)
def receive(dispatch_id: int) -> BaseResponse:
    actor, form = _actor(), request.form
    d = queries.get_dispatch(_svc(), actor, dispatch_id)
    receipts = []
    try:
        for item in d.items:
            outcome = ItemOutcome.parse(form.get(f"resultado_{item.id}", "recibido"))
            receipts.append(service.ItemReceipt(item.id, outcome,  # type: ignore[arg-type]
                                                form.get(f"nota_{item.id}", "")))
    except ValueError as exc:
        return _back(dispatch_id, str(exc), "error")
    return _run(dispatch_id, "Recepción confirmada.", lambda: service.receive(
        _svc(), actor, dispatch_id, receipts, note=form.get("nota", "")))


@bp.post("/<int:dispatch_id>/items/<int:item_id>/resolver")
@requires(Role.DESPACHO)
def resolve(dispatch_id: int, item_id: int) -> BaseResponse:
    return _run(dispatch_id, "Observación resuelta.", lambda: service.resolve_item(
        _svc(), _actor(), dispatch_id, item_id, request.form.get("nota", "")))


@bp.get("/<int:dispatch_id>/manifiesto.pdf")
@requires(*READERS)
def manifest(dispatch_id: int) -> Response:
    actor = _actor()
    d = queries.get_dispatch(_svc(), actor, dispatch_id)
    data = manifest_pdf(_svc(), actor, dispatch_id)
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'inline; filename="{d.number}.pdf"',
        "Cache-Control": "private, no-store"})


@bp.get("/informe")
@requires(*READERS)
def report() -> str | Response:
    today = local_today()
    first = _date("desde") or today.replace(day=1)
    last = _date("hasta") or today
    if last < first:
        abort(400, description="La fecha «hasta» es anterior a «desde».")
    if (last - first).days > 3660:
        abort(400, description="El informe abarca como máximo diez años.")
    rows = monthly_report(_svc(), _actor(), first=first, last=last, today=today)
    if request.args.get("formato") == "csv":
        out = io.StringIO()
        write_csv(rows, out)
        name = f"despachos_{first:%Y%m}_{last:%Y%m}.csv"
        return Response(out.getvalue(), mimetype="text/csv", headers={
            "Content-Disposition": f'attachment; filename="{name}"'})
    return render_template("despachos_informe.html", rows=rows, first=first, last=last)


@bp.get("/configuracion")
@requires(Role.DESPACHO)
def settings_page() -> str:
    from dispatch.couriers import list_transit_days

    return render_template("despachos_config.html",
                           couriers=list_couriers(_svc(), include_inactive=True),
                           transit=list_transit_days(_svc()))


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
    from dispatch.couriers import add_courier as add

    return _config_action("Servicio de encomiendas agregado.",
                          lambda: add(_svc(), _actor(), request.form.get("nombre", "")))


@bp.post("/configuracion/transportistas/<int:courier_id>/estado")
@requires(Role.DESPACHO)
def toggle_courier(courier_id: int) -> BaseResponse:
    from dispatch.couriers import set_courier_active

    found = next((c for c in list_couriers(_svc(), include_inactive=True) if c.id == courier_id),
                 None)
    if found is None:
        abort(404, description="Ese servicio de encomiendas no existe.")
    active = request.form.get("activo") == "1"
    return _config_action("Servicio actualizado.",
                          lambda: set_courier_active(_svc(), _actor(), found.name, active))


@bp.post("/configuracion/plazos")
@requires(Role.DESPACHO)
def set_transit() -> BaseResponse:
    from dispatch.couriers import set_transit_days

    raw = request.form.get("dias", "").strip()

    def go() -> None:
        if not raw.isdigit():
            raise ArchivoError("El plazo debe ser un número entero de días.")
        set_transit_days(_svc(), _actor(), request.form.get("unidad", ""), int(raw))
    return _config_action("Plazo de entrega actualizado.", go)
