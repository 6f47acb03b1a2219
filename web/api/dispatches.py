"""``/api/v1/dispatches``: courier dispatches (encomiendas) for other systems.

A thin translation of JSON into the calls of ``dispatch/`` (which holds every
rule: states, permissions per unit, originals in one open dispatch at a time)
and of its views back into JSON with Spanish keys.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import Response, jsonify, request, url_for

import dispatch
from archive.enums import Role
from archive.errors import ArchivoError
from archive.localtime import local_today, zone
from dispatch import (Actor, DispatchState, DispatchView, ItemOutcome, ItemView, NotFound,
                      PermissionDenied, TransitionRefused, UnknownInput, UnknownUnit,
                      allowed_actions, manifest_pdf)

from ..errors import error_response
from ..security import current_user, requires
from . import bp
from .common import bool_arg, int_arg, iso, json_object, services
from .errors import fail
from .openapi import (BOOL, DATE, DATETIME, INT, MAX_ID, READ_ERRORS, STR, STR_LIST, add_paths,
                      errors, json_body, nullable, obj, operation, path_param, query, ref)

READERS = (Role.DESPACHO, Role.REGIONAL, Role.ARCHIVISTA, Role.CONSULTA)
SENDERS = (Role.DESPACHO, Role.REGIONAL)  # the domain decides per dispatch
READ_ROLES = "despacho, regional (solo su unidad), archivista, consulta (y admin)"
WRITE_ROLES = "despacho; regional para recibir lo suyo y enviar devoluciones (y admin)"
TRANSITION_REFUSED = "transicion_no_permitida"
PER_PAGE = 50
# A day in Paraguay (AAAA-MM-DD) or an ISO 8601 instant; never in the future, never before
# the previous step of the dispatch.
WHEN = {"type": "string", "description": "Fecha AAAA-MM-DD (día en Paraguay) o fecha y hora "
                                         "ISO 8601; no futura ni anterior al paso previo."}


@bp.errorhandler(PermissionDenied)
def _denied(exc: PermissionDenied) -> Response:
    return error_response(403, str(exc))


@bp.errorhandler(NotFound)
def _not_found(exc: NotFound) -> Response:
    return error_response(404, str(exc))


@bp.errorhandler(TransitionRefused)
def _refused(exc: TransitionRefused) -> Response:
    return error_response(409, str(exc), TRANSITION_REFUSED)


def _actor() -> Actor:
    user = current_user()
    assert user is not None
    return Actor(user.username, Role(user.role), user.regional_unit_id)


def item_json(it: ItemView) -> dict[str, Any]:
    return {
        "id": it.id, "clase": it.kind.value, "original": it.is_original,
        "documento_id": it.document_id, "numero": it.archive_number or None,
        "tipo": it.doc_type, "nis": list(it.nis), "etiqueta": it.label_code or None,
        "descripcion": it.description, "fojas": it.sheets,
        "resultado": it.outcome.value if it.outcome else None, "nota_resultado": it.outcome_note,
        "resuelto": it.resolved, "nota_resolucion": it.resolution_note,
    }


def dispatch_json(d: DispatchView, *, full: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": d.id, "numero": d.number, "estado": d.state.value, "estado_nombre": d.state_label,
        "origen": d.origin, "destino": {"codigo": d.regional_unit_code,
                                        "nombre": d.regional_unit_name},
        "devolucion_de": d.return_of_number or None, "transportista": d.courier or None,
        "guia": d.guide_number or None, "notas": d.notes, "motivo_anulacion": d.annul_reason or None,
        "creado": iso(d.created_at), "creado_por": d.created_by,
        "preparado": iso(d.prepared_at), "enviado": iso(d.sent_at),
        "recibido": iso(d.received_at), "entrega_prevista": iso(d.expected_delivery),
        "dias_atraso": d.days_late(local_today()), "cantidad_items": d.item_count,
        "acciones": [a.value for a in allowed_actions(d.state, is_return=d.is_return)],
        "url": url_for("api.get_dispatch", dispatch_id=d.id, _external=True),
        "manifiesto_url": url_for("api.dispatch_manifest", dispatch_id=d.id, _external=True),
    }
    if full:
        out["items"] = [item_json(i) for i in d.items]
        out["eventos"] = [{"fecha": iso(e.at), "usuario": e.actor, "accion": e.action,
                           "accion_nombre": e.label,
                           "desde": e.from_state.value if e.from_state else None,
                           "hasta": e.to_state.value, "nota": e.note} for e in d.events]
    return out


def _text(body: dict[str, Any], name: str, *, required: bool = False, default: str = "") -> str:
    value = body.get(name, default)
    if value is None:
        value = default
    if not isinstance(value, str):
        fail(422, f"«{name}» debe ser un texto.")
    if required and not value.strip():
        fail(422, f"Falta «{name}».")
    return value


def _date(raw: object, name: str) -> dt.date | None:
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str):
        fail(422, f"«{name}» debe ser una fecha AAAA-MM-DD.")
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        fail(422, f"«{raw}» no es una fecha válida para «{name}»; use AAAA-MM-DD.")


def _given_time(raw: object, name: str) -> dt.date | dt.datetime | None:
    """A bare date is a local day (kept as a date); a time without offset is Paraguay's."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, str):
        text = raw.strip()
        try:
            if len(text) == 10:
                return dt.date.fromisoformat(text)
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            pass
        else:
            return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone())
    fail(422, f"«{name}» debe ser una fecha AAAA-MM-DD o una fecha y hora ISO 8601 "
              "(AAAA-MM-DDTHH:MM, con su diferencia horaria o en hora de Paraguay).")


def _unknown_unit(exc: UnknownUnit) -> str:
    """Point at the API's own list of units, not at a command of the server."""
    return f"{exc} Las unidades válidas están en {url_for('api.regional_units')}."


def _domain(fn):  # type: ignore[no-untyped-def]
    """Run a dispatch call: its plain Spanish refusals become 422 (states 409, rights 403,
    a missing dispatch 404; a unit, courier or document named in the request: 422)."""
    try:
        return fn()
    except UnknownUnit as exc:
        fail(422, _unknown_unit(exc))
    except UnknownInput as exc:
        fail(422, str(exc))
    except (PermissionDenied, NotFound, TransitionRefused):
        raise
    except ArchivoError as exc:
        fail(422, str(exc))


@bp.get("/dispatches")
@requires(*READERS)
def list_dispatches() -> Response:
    page = int_arg("pagina", 1, maximum=100_000)
    state = request.args.get("estado") or None
    if state:
        try:
            DispatchState.parse(state)
        except ValueError as exc:
            fail(400, str(exc))
    rows = _domain(lambda: dispatch.list_dispatches(
        services(), _actor(), state=state, destination=request.args.get("destino") or None,
        courier=request.args.get("transportista") or None,
        date_from=_date(request.args.get("desde"), "desde"),
        date_to=_date(request.args.get("hasta"), "hasta"),
        overdue_only=bool_arg("vencidos"), limit=PER_PAGE + 1, offset=(page - 1) * PER_PAGE))
    return jsonify({"pagina": page, "hay_mas": len(rows) > PER_PAGE,
                    "despachos": [dispatch_json(d, full=False) for d in rows[:PER_PAGE]]})


@bp.post("/dispatches")
@requires(*SENDERS)
def create_dispatch() -> tuple[Response, int]:
    body = json_object()
    origin_of = body.get("devolucion_de")
    if origin_of is not None:
        if not isinstance(origin_of, (int, str)) or isinstance(origin_of, bool):
            fail(422, "«devolucion_de» es el id o el número del despacho que se devuelve.")
        d = _domain(lambda: dispatch.create_return(
            services(), _actor(), origin_of, include_copies=bool(body.get("incluir_copias")),
            notes=_text(body, "notas")))
    else:
        d = _domain(lambda: dispatch.create_dispatch(
            services(), _actor(), _text(body, "destino", required=True),
            origin=_text(body, "origen") or None, notes=_text(body, "notas")))
    return jsonify(dispatch_json(d)), 201


@bp.get("/dispatches/<int:dispatch_id>")
@requires(*READERS)
def get_dispatch(dispatch_id: int) -> Response:
    _check_id(dispatch_id)
    return jsonify(dispatch_json(dispatch.get_dispatch(services(), _actor(), dispatch_id)))


def _check_id(value: int) -> None:
    if value > MAX_ID:
        fail(404, f"No existe el despacho {value}.")


@bp.post("/dispatches/<int:dispatch_id>/items")
@requires(*SENDERS)
def add_dispatch_item(dispatch_id: int) -> tuple[Response, int]:
    _check_id(dispatch_id)
    body, svc, actor = json_object(), services(), _actor()
    kind = _text(body, "clase", default="documento")
    original = body.get("original", True)
    if not isinstance(original, bool):
        fail(422, "«original» debe ser true (original) o false (copia).")
    sheets = body.get("fojas")
    if sheets is not None and (not isinstance(sheets, int) or isinstance(sheets, bool)):
        fail(422, "«fojas» debe ser un número entero.")
    if kind == "documento":
        doc_id = body.get("documento_id")
        if doc_id is not None and (not isinstance(doc_id, int) or isinstance(doc_id, bool)
                                   or not 0 < doc_id <= MAX_ID):
            fail(422, "«documento_id» debe ser un número entero positivo.")
        number = _text(body, "numero") or None
        if doc_id is None and number is None:
            fail(422, "Indique «numero» (ARC-…) o «documento_id» del documento.")
        item = _domain(lambda: dispatch.add_document(
            svc, actor, dispatch_id, archive_number=number, document_id=doc_id,
            original=original))
    elif kind == "carpeta":
        item = _domain(lambda: dispatch.add_folder(
            svc, actor, dispatch_id, _text(body, "etiqueta", required=True),
            description=_text(body, "descripcion"), sheets=sheets))
    elif kind == "texto":
        item = _domain(lambda: dispatch.add_text(
            svc, actor, dispatch_id, _text(body, "descripcion", required=True), sheets=sheets,
            original=original))
    else:
        fail(422, "«clase» debe ser documento, carpeta o texto.")
    return jsonify(item_json(item)), 201


@bp.delete("/dispatches/<int:dispatch_id>/items/<int:item_id>")
@requires(*SENDERS)
def remove_dispatch_item(dispatch_id: int, item_id: int) -> tuple[str, int]:
    _check_id(dispatch_id)
    _check_id(item_id)
    _domain(lambda: dispatch.remove_item(services(), _actor(), dispatch_id, item_id))
    return "", 204


def _body_or_empty() -> dict[str, Any]:
    return json_object() if request.content_length else {}


@bp.post("/dispatches/<int:dispatch_id>/preparar")
@requires(*SENDERS)
def prepare_dispatch(dispatch_id: int) -> Response:
    _check_id(dispatch_id)
    body = _body_or_empty()
    return jsonify(dispatch_json(_domain(lambda: dispatch.prepare(
        services(), _actor(), dispatch_id, note=_text(body, "nota")))))


@bp.post("/dispatches/<int:dispatch_id>/enviar")
@requires(*SENDERS)
def send_dispatch(dispatch_id: int) -> Response:
    _check_id(dispatch_id)
    body = json_object()
    sent_at = _given_time(body.get("fecha_envio"), "fecha_envio")
    return jsonify(dispatch_json(_domain(lambda: dispatch.send(
        services(), _actor(), dispatch_id, courier=_text(body, "transportista", required=True),
        guide_number=_text(body, "guia", required=True), sent_at=sent_at,
        expected_delivery=_date(body.get("entrega_prevista"), "entrega_prevista"),
        note=_text(body, "nota")))))


@bp.post("/dispatches/<int:dispatch_id>/recibir")
@requires(*SENDERS)
def receive_dispatch(dispatch_id: int) -> Response:
    _check_id(dispatch_id)
    body = _body_or_empty()
    raw_items = body.get("items", [])
    if not isinstance(raw_items, list):
        fail(422, "«items» debe ser una lista de {item, resultado, nota}.")
    receipts = []
    for entry in raw_items:
        if not isinstance(entry, dict) or not isinstance(entry.get("item"), (int, str)) \
                or isinstance(entry.get("item"), bool):
            fail(422, "Cada elemento de «items» necesita «item» (id, número ARC o etiqueta).")
        try:
            outcome = ItemOutcome.parse(str(entry.get("resultado", "recibido")))
        except ValueError as exc:
            fail(422, str(exc))
        note = entry.get("nota", "")
        if not isinstance(note, str):
            fail(422, "«nota» debe ser un texto.")
        receipt = dispatch.ItemReceipt(entry["item"], outcome, note)  # type: ignore[arg-type]
        receipts.append(receipt)
    received_at = _given_time(body.get("fecha_recepcion"), "fecha_recepcion")
    return jsonify(dispatch_json(_domain(lambda: dispatch.receive(
        services(), _actor(), dispatch_id, receipts, note=_text(body, "nota"),
        received_at=received_at))))


@bp.post("/dispatches/<int:dispatch_id>/anular")
@requires(*SENDERS)
def annul_dispatch(dispatch_id: int) -> Response:
    _check_id(dispatch_id)
    body = json_object()
    return jsonify(dispatch_json(_domain(lambda: dispatch.annul(
        services(), _actor(), dispatch_id, _text(body, "motivo", required=True)))))


@bp.get("/dispatches/<int:dispatch_id>/manifiesto.pdf")
@requires(*READERS)
def dispatch_manifest(dispatch_id: int) -> Response:
    _check_id(dispatch_id)
    d = dispatch.get_dispatch(services(), _actor(), dispatch_id)
    data = manifest_pdf(services(), _actor(), dispatch_id)
    return Response(data, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{d.number}.pdf"',
        "Cache-Control": "private, no-store"})


# ----------------------------------------------------------------------------- OpenAPI

def _openapi() -> None:
    did = path_param("dispatch_id", {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                     "Identificador del despacho.")
    iid = path_param("item_id", {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                     "Identificador del ítem.")
    states = [s.value for s in DispatchState]
    item = obj({"id": INT, "clase": STR, "original": BOOL, "documento_id": nullable(INT),
                "numero": nullable(STR), "tipo": STR, "nis": STR_LIST, "etiqueta": nullable(STR),
                "descripcion": STR, "fojas": nullable(INT), "resultado": nullable(STR),
                "nota_resultado": STR, "resuelto": BOOL, "nota_resolucion": STR})
    dispatch = obj({
        "id": INT, "numero": STR, "estado": {"type": "string", "enum": states},
        "estado_nombre": STR, "origen": STR, "destino": obj({"codigo": STR, "nombre": STR}),
        "devolucion_de": nullable(STR), "transportista": nullable(STR), "guia": nullable(STR),
        "notas": STR, "motivo_anulacion": nullable(STR), "creado": DATETIME, "creado_por": STR,
        "preparado": nullable(DATETIME), "enviado": nullable(DATETIME),
        "recibido": nullable(DATETIME), "entrega_prevista": nullable(DATE), "dias_atraso": INT,
        "cantidad_items": INT, "acciones": STR_LIST, "url": STR, "manifiesto_url": STR,
        "items": {"type": "array", "items": ref("ItemDespacho")},
        "eventos": {"type": "array", "items": {"type": "object"}},
    }, required=["id", "numero", "estado", "destino", "acciones", "url"])
    listing = obj({"pagina": INT, "hay_mas": BOOL,
                   "despachos": {"type": "array", "items": ref("Despacho")}})

    def body(schema: dict[str, Any], required: bool = True) -> dict[str, Any]:
        return {"required": required, "content": {"application/json": {"schema": schema}}}

    one = json_body(ref("Despacho"), "El despacho después de la acción.")
    write_errors = errors(400, 401, 403, 404, 409, 415, 422, 503)
    action_doc = ("Un paso no permitido desde el estado actual da 409 con lo que sí se puede "
                  "hacer.")
    add_paths({
        "/dispatches": {
            "get": operation(
                "list_dispatches", "despachos", "Listar despachos", READ_ROLES,
                {"200": json_body(listing, "Los más nuevos primero, 50 por página."),
                 **errors(400, 401, 403, 404, 422, 503)},
                parameters=[
                    query("estado", {"type": "string", "enum": states}, "Estado."),
                    query("destino", STR, "Código o nombre de la unidad regional."),
                    query("transportista", STR, "Servicio de encomiendas."),
                    query("desde", DATE, "Creados desde (AAAA-MM-DD)."),
                    query("hasta", DATE, "Creados hasta, inclusive."),
                    query("vencidos", {"type": "string", "enum": ["1", "0"]},
                          "1: solo enviados con la entrega prevista vencida."),
                    query("pagina", {"type": "integer", "minimum": 1, "maximum": 100000},
                          "Página (desde 1)."),
                ]),
            "post": operation(
                "create_dispatch", "despachos", "Crear un despacho (borrador)", WRITE_ROLES,
                {"201": json_body(ref("Despacho"), "Creado en borrador."), **write_errors},
                description="Con «devolucion_de» crea el viaje de vuelta de un despacho "
                            "recibido, con los originales que siguen en la unidad.",
                request_body=body({"type": "object", "properties": {
                    "destino": {"type": "string", "description": "Código de la unidad."},
                    "origen": STR, "notas": {"type": "string", "maxLength": 2000},
                    "devolucion_de": {"type": ["integer", "string"]},
                    "incluir_copias": BOOL}})),
        },
        "/dispatches/{dispatch_id}": {"parameters": [did], "get": operation(
            "get_dispatch", "despachos", "Ver un despacho con ítems y eventos", READ_ROLES,
            {"200": json_body(ref("Despacho"), "El despacho."), **errors(*READ_ERRORS)})},
        "/dispatches/{dispatch_id}/items": {"parameters": [did], "post": operation(
            "add_dispatch_item", "despachos", "Agregar un ítem (solo en borrador)", WRITE_ROLES,
            {"201": json_body(ref("ItemDespacho"), "El ítem agregado."), **write_errors},
            description="clase documento (numero ARC-… o documento_id, original true/false), "
                        "carpeta (etiqueta, descripcion, fojas) o texto (descripcion, fojas). "
                        "Un original no puede estar en dos despachos abiertos (422).",
            request_body=body({"type": "object", "properties": {
                "clase": {"type": "string", "enum": ["documento", "carpeta", "texto"]},
                "numero": STR, "documento_id": {"type": "integer", "minimum": 1,
                                                "maximum": MAX_ID},
                "etiqueta": STR, "descripcion": STR,
                "fojas": {"type": "integer", "minimum": 0, "maximum": 100000},
                "original": BOOL}}))},
        "/dispatches/{dispatch_id}/items/{item_id}": {"parameters": [did, iid], "delete": operation(
            "remove_dispatch_item", "despachos", "Quitar un ítem (solo en borrador)", WRITE_ROLES,
            {"204": {"description": "Quitado."}, **errors(400, 401, 403, 404, 409, 422, 503)})},
        "/dispatches/{dispatch_id}/preparar": {"parameters": [did], "post": operation(
            "prepare_dispatch", "despachos", "Preparar (paquete cerrado)", WRITE_ROLES,
            {"200": one, **write_errors}, description=action_doc,
            request_body=body({"type": "object", "properties": {"nota": STR}}, False))},
        "/dispatches/{dispatch_id}/enviar": {"parameters": [did], "post": operation(
            "send_dispatch", "despachos", "Entregar al servicio de encomiendas", WRITE_ROLES,
            {"200": one, **write_errors}, description=action_doc,
            request_body=body({"type": "object", "required": ["transportista", "guia"],
                               "properties": {"transportista": STR, "guia": STR,
                                              "fecha_envio": WHEN, "entrega_prevista": DATE,
                                              "nota": STR}}))},
        "/dispatches/{dispatch_id}/recibir": {"parameters": [did], "post": operation(
            "receive_dispatch", "despachos", "Confirmar la recepción", WRITE_ROLES,
            {"200": one, **write_errors},
            description="Lo hace la unidad de destino. Los ítems no listados se dan por "
                        "recibidos; faltante o dañado deja el despacho «recibido con "
                        "observaciones». " + action_doc,
            request_body=body({"type": "object", "properties": {
                "nota": STR, "fecha_recepcion": WHEN, "items": {"type": "array", "items": {
                    "type": "object", "required": ["item"], "properties": {
                        "item": {"type": ["integer", "string"]},
                        "resultado": {"type": "string",
                                      "enum": [o.value for o in ItemOutcome]},
                        "nota": STR}}}}}, False))},
        "/dispatches/{dispatch_id}/anular": {"parameters": [did], "post": operation(
            "annul_dispatch", "despachos", "Anular (antes de enviarlo)", WRITE_ROLES,
            {"200": one, **write_errors}, description=action_doc,
            request_body=body({"type": "object", "required": ["motivo"],
                               "properties": {"motivo": STR}}))},
        "/dispatches/{dispatch_id}/manifiesto.pdf": {"parameters": [did], "get": operation(
            "dispatch_manifest", "despachos", "Nota de remisión (PDF con QR)", READ_ROLES,
            {"200": {"description": "PDF.", "content": {"application/pdf": {
                "schema": {"type": "string", "format": "binary"}}}}, **errors(*READ_ERRORS)})},
    }, schemas={"Despacho": dispatch, "ItemDespacho": item},
        tags=[{"name": "despachos", "description": "Encomiendas a las unidades regionales."}])


_openapi()
