"""Physical archive pages (/fisico): location tree, boxes and folders, moves, loans, labels.

The rules live in ``archive.physical``; these views turn forms into its calls
and its Spanish refusals into flashed messages. The dispatch rule (a folder
or box away in a dispatch cannot be lent or moved) is passed in as
``dispatch.physical_rules.dispatch_hold``.

Who (decided): ``archivista`` manages (creates, moves, lends, prints);
``consulta`` and ``despacho`` read the pages and may download labels (a
dispatch clerk labels what goes into a package); ``admin`` passes;
``regional`` users see none of it (the paper is in the central archive).
"""

from __future__ import annotations

import datetime as dt
import io
import re

from flask import (Blueprint, Response, abort, current_app, flash, redirect, render_template,
                   request, send_file, url_for)
from sqlalchemy import select
from werkzeug.wrappers import Response as BaseResponse

from archive import physical as ph
from archive.physical.labels import MAX_LABELS
from archive.db import read_scope, session_scope
from archive.enums import Role
from archive.errors import ArchivoError
from archive.localtime import fmt_date, fmt_datetime, local_today
from dispatch import dispatch_hold

from . import services_of
from .edits import confirm_nis_page, nis_to_confirm
from .errors import error_response
from .security import current_user, requires

bp = Blueprint("physical", __name__, url_prefix="/fisico")

READERS = (Role.CONSULTA, Role.ARCHIVISTA, Role.DESPACHO)
MANAGERS = (Role.ARCHIVISTA,)


@bp.errorhandler(ph.NotFound)
def _missing(exc: ph.NotFound) -> Response:
    return error_response(404, str(exc))


def _svc():  # type: ignore[no-untyped-def]
    return services_of(current_app)


def _actor() -> str:
    user = current_user()
    assert user is not None
    return user.username


def _can_manage() -> bool:
    user = current_user()
    return user is not None and user.role in (Role.ARCHIVISTA.value, Role.ADMIN.value)


def _code(code: str) -> str:
    """A code from the URL; one that cannot exist is a 404, not a 422."""
    normalized = ph.looks_like_code(code)
    if normalized is None:
        abort(404, description=f"«{code}» no es el código de una carpeta ni de una ubicación.")
    return normalized


def _subject(kind: str, code: str) -> str:
    """The normalized code of the folder or location a POST acts on; 404 when there is none."""
    code = _code(code)
    with read_scope(_svc().sessions) as db:
        if ph.resolve_code(db, code) != (kind, code):
            what = "la carpeta" if kind == "carpeta" else "la ubicación"
            abort(404, description=f"No existe {what} {code}.")
    return code


def _page_context() -> dict[str, object]:
    return {"fmt_date": fmt_date, "fmt_datetime": fmt_datetime, "can_manage": _can_manage(),
            "today": local_today()}


def code_url(text: str) -> str | None:
    """The page of a box or folder whose code is ``text`` exactly (the search box hook).

    Keyboard-wedge readers type the code and Enter, so only a single token
    is considered; anything else is left to the ordinary search.
    """
    text = (text or "").strip()
    if not text or any(c.isspace() for c in text):
        return None
    with read_scope(_svc().sessions) as db:
        found = ph.resolve_code(db, text)
    if found is None:
        return None
    kind, code = found
    return url_for("physical.folder" if kind == "carpeta" else "physical.location", code=code)


def _done(target: str, message: str) -> BaseResponse:
    flash(message)
    return redirect(target)


def _refused(target: str, exc: ArchivoError) -> BaseResponse:
    flash(str(exc), "error")
    return redirect(target)


def _field(name: str) -> str:
    return (request.form.get(name) or "").strip()


@bp.get("/")
@requires(*READERS)
def index() -> str:
    with read_scope(_svc().sessions) as db:
        roots = ph.tree(db)
        places = ph.all_locations(db)
        unplaced = ph.unplaced_folders(db)
        levels = [(lv.depth, lv.name, lv.code_prefix) for lv in ph.levels(db)]
        overdue = ph.overdue_count(db, local_today())
    return render_template("fisico_index.html", roots=roots, places=places, unplaced=unplaced,
                           levels=levels, overdue=overdue, layouts=ph.LAYOUTS,
                           **_page_context())


@bp.get("/codigo")
@requires(*READERS)
def scan() -> BaseResponse:
    """The "go to code" box of the physical pages (a scanned label)."""
    text = (request.args.get("c") or "").strip()
    target = code_url(text) if text else None
    if target is None:
        flash(f"No hay ninguna carpeta ni ubicación con el código «{text}».", "error")
        return redirect(url_for("physical.index"))
    return redirect(target)


@bp.get("/ubicacion/<code>")
@requires(*READERS)
def location(code: str) -> str:
    with read_scope(_svc().sessions) as db:
        detail = ph.location_detail(db, _code(code), away=dispatch_hold)
    return render_template("fisico_ubicacion.html", loc=detail, layouts=ph.LAYOUTS,
                           **_page_context())


@bp.get("/carpeta/<code>")
@requires(*READERS)
def folder(code: str) -> str:
    with read_scope(_svc().sessions) as db:
        detail = ph.folder_detail(db, _code(code), away=dispatch_hold)
        places = ph.all_locations(db)
    return render_template("fisico_carpeta.html", f=detail, places=places,
                           layouts=ph.LAYOUTS, **_page_context())


@bp.post("/ubicaciones")
@requires(*MANAGERS)
def add_location() -> BaseResponse:
    parent = _field("dentro_de") or None
    back = url_for("physical.location", code=parent) if parent else url_for("physical.index")
    try:
        with session_scope(_svc().sessions) as db:
            node = ph.add_location(db, parent=parent, name=_field("nombre"),
                                   code=_field("codigo") or None, note=_field("nota"),
                                   actor=_actor())
            label, new_code = ph.node_label(node), node.code
    except ArchivoError as exc:
        return _refused(back, exc)
    return _done(url_for("physical.location", code=new_code), f"Se creó {label}.")


@bp.post("/carpetas")
@requires(*MANAGERS)
def create_folder() -> BaseResponse | tuple[str, int]:
    where = _field("ubicacion") or None
    back = request.form.get("volver") == "ubicacion" and where
    back_url = url_for("physical.location", code=where) if back else url_for("physical.index")
    doubtful = nis_to_confirm([_field("nis")])
    if doubtful is not None:
        return confirm_nis_page(doubtful, back=back_url, title="Nueva carpeta")
    try:
        with session_scope(_svc().sessions) as db:
            f = ph.create_folder(db, code=_field("codigo") or None, nis=_field("nis") or None,
                                 description=_field("descripcion"), location=where,
                                 actor=_actor())
            new_code = f.code
    except ArchivoError as exc:
        return _refused(back_url, exc)
    return _done(url_for("physical.folder", code=new_code), f"Se creó la carpeta {new_code}.")


@bp.post("/ubicacion/<code>/mover")
@requires(*MANAGERS)
def move_location(code: str) -> BaseResponse:
    code = _subject("ubicacion", code)
    back = url_for("physical.location", code=code)
    try:
        with session_scope(_svc().sessions) as db:
            ph.move_location(db, code, to=_field("hacia"), note=_field("nota"), actor=_actor(),
                             away=dispatch_hold)
    except ArchivoError as exc:
        return _refused(back, exc)
    return _done(back, f"{code} se movió a {_field('hacia').upper()}.")


@bp.post("/carpeta/<code>/mover")
@requires(*MANAGERS)
def move_folder(code: str) -> BaseResponse:
    code = _subject("carpeta", code)
    back = url_for("physical.folder", code=code)
    try:
        with session_scope(_svc().sessions) as db:
            move = ph.move_folder(db, code, to=_field("hacia"), note=_field("nota"),
                                  actor=_actor(), away=dispatch_hold)
            where = ph.path_text(move.to_location)
    except ArchivoError as exc:
        return _refused(back, exc)
    return _done(back, f"La carpeta {code} ahora está en {where}.")


@bp.post("/carpeta/<code>/editar")
@requires(*MANAGERS)
def edit_folder(code: str) -> BaseResponse | tuple[str, int]:
    code = _subject("carpeta", code)
    back = url_for("physical.folder", code=code)
    doubtful = nis_to_confirm([_field("nis")], already=_folder_nis(code))
    if doubtful is not None:
        return confirm_nis_page(doubtful, back=back, title=f"Carpeta {code}")
    try:
        with session_scope(_svc().sessions) as db:
            ph.update_folder(db, code, nis=_field("nis") or None,
                             description=_field("descripcion"), actor=_actor())
    except ArchivoError as exc:
        return _refused(back, exc)
    return _done(back, f"Se guardaron los datos de la carpeta {code}.")


def _folder_nis(code: str) -> set[str]:
    """The folder's current NIS: saving the form unchanged asks nothing."""
    with read_scope(_svc().sessions) as db:
        nis = db.scalar(select(ph.Folder.nis).where(ph.Folder.code == code))
    return {nis} if nis else set()


def _due() -> dt.date:
    value = _field("vence")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ArchivoError(f"La fecha de devolución «{value}» no es válida; use AAAA-MM-DD.")


@bp.post("/carpeta/<code>/prestar")
@requires(*MANAGERS)
def lend(code: str) -> BaseResponse:
    code = _subject("carpeta", code)
    back = url_for("physical.folder", code=code)
    try:
        due = _due()
        with session_scope(_svc().sessions) as db:
            loan = ph.lend(db, code, borrower=_field("a"), due=due, note=_field("nota"),
                           actor=_actor(), away=dispatch_hold)
            who = loan.borrower
    except ArchivoError as exc:
        return _refused(back, exc)
    return _done(back, f"Carpeta {code} prestada a {who} hasta el {fmt_date(due)}.")


@bp.post("/carpeta/<code>/devolver")
@requires(*MANAGERS)
def give_back(code: str) -> BaseResponse:
    code = _subject("carpeta", code)
    back = url_for("physical.folder", code=code)
    try:
        with session_scope(_svc().sessions) as db:
            loan = ph.return_folder(db, code, note=_field("nota"), actor=_actor())
            who = loan.borrower
    except ArchivoError as exc:
        return _refused(back, exc)
    return _done(back, f"Se registró la devolución de la carpeta {code} ({who}).")


@bp.post("/documentos")
@requires(*MANAGERS)
def place_document() -> BaseResponse:
    """Record where a document's paper original is kept (from a folder or a box page)."""
    in_folder, in_location = _field("carpeta") or None, _field("ubicacion") or None
    if in_folder:
        back = url_for("physical.folder", code=_code(in_folder))
    elif in_location:
        back = url_for("physical.location", code=_code(in_location))
    else:
        back = url_for("physical.index")
    number = _field("numero")
    try:
        with session_scope(_svc().sessions) as db:
            place = ph.place_document(db, number, folder=in_folder, location=in_location,
                                      actor=_actor(), away=dispatch_hold)
            text, archive_number = ph.describe_place(place), place.document.archive_number
    except ArchivoError as exc:
        return _refused(back, exc)
    return _done(back, f"El original de {archive_number} queda en {text}.")


@bp.get("/prestamos")
@requires(*READERS)
def loans() -> str:
    today = local_today()
    overdue_only = request.args.get("vencidos") == "1"
    history = request.args.get("todos") == "1" and not overdue_only
    with read_scope(_svc().sessions) as db:
        rows = ph.loans(db, open_only=not history, overdue_on=today if overdue_only else None,
                        limit=500)
        views = [ph.loan_view(ln, today) for ln in rows]
    return render_template("fisico_prestamos.html", loans=views, overdue_only=overdue_only,
                           history=history, **_page_context())


_SPLIT = re.compile(r"[\s,;]+")


@bp.get("/etiquetas.pdf")
@requires(*READERS)
def labels() -> BaseResponse:
    """Label sheet for the codes given (folders, boxes, archive numbers)."""
    codes = [c for raw in request.args.getlist("codigo") for c in _SPLIT.split(raw) if c]
    if len(codes) > MAX_LABELS:  # before one lookup per code
        return error_response(422, f"Se pueden imprimir hasta {MAX_LABELS} etiquetas por vez.")
    layout = request.args.get("formato") or ph.SHEET
    start = max(1, request.args.get("desde", 1, type=int) or 1) - 1
    try:
        with read_scope(_svc().sessions) as db:
            items = ph.label_items(db, codes)
        pdf = ph.render_labels(items, layout, start=start)
    except ph.NotFound as exc:
        return error_response(404, str(exc))
    except ArchivoError as exc:
        return error_response(422, str(exc))
    name = f"etiquetas-{items[0].code if len(items) == 1 else len(items)}.pdf"
    return send_file(io.BytesIO(pdf), mimetype="application/pdf", download_name=name,
                     as_attachment=request.args.get("descargar") == "1", max_age=0)
