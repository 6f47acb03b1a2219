"""The OpenAPI 3.1 document of ``/api/v1``, built in code and served at ``/openapi.json``.

Built from Python dicts (no YAML to drift from the code); ``tests/test_api_openapi.py``
validates it and checks that every API route is described. Other modules add
their own paths with :func:`add_paths` at import time (the dispatch endpoints
of issue 7 do), so this file never has to know them.
"""

from __future__ import annotations

import copy
from typing import Any

from flask import Response, jsonify

from archive import __version__
from archive.enums import DocumentStatus, DocumentType
from archive.nis import MAX_NIS

from ..security import public
from . import bp

Schema = dict[str, Any]

READ_ROLES = "consulta, archivista, despacho (y admin)"
WRITE_ROLES = "archivista (y admin)"
ADMIN_ROLES = "admin"

_EXTRA_PATHS: dict[str, dict[str, Any]] = {}
_EXTRA_SCHEMAS: dict[str, Schema] = {}
_EXTRA_TAGS: list[dict[str, str]] = []


def add_paths(paths: dict[str, dict[str, Any]], schemas: dict[str, Schema] | None = None,
              tags: list[dict[str, str]] | None = None) -> None:
    """Merge more paths (relative to ``/api/v1``), component schemas and tags into the document.

    Use the helpers of this module (``ref``, ``errors``, ``json_body``, ``operation``) so the
    new operations share the error responses and security of the rest. A path already
    present gets the new methods added; a method already described is replaced.
    """
    for path, methods in paths.items():
        _EXTRA_PATHS.setdefault(path, {}).update(copy.deepcopy(methods))
    _EXTRA_SCHEMAS.update(copy.deepcopy(schemas or {}))
    for tag in tags or []:
        if tag["name"] not in {t["name"] for t in _EXTRA_TAGS}:
            _EXTRA_TAGS.append(dict(tag))


# ----------------------------------------------------------------------------- helpers

def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    return {"oneOf": [schema, {"type": "null"}]} if "$ref" in schema else \
        {**schema, "type": [schema["type"], "null"]}


def obj(props: dict[str, Schema], required: list[str] | None = None, **extra: Any) -> Schema:
    return {"type": "object", "properties": props,
            "required": list(props) if required is None else required, **extra}


STR: Schema = {"type": "string"}
INT: Schema = {"type": "integer"}
NUM: Schema = {"type": "number"}
BOOL: Schema = {"type": "boolean"}
DATE: Schema = {"type": "string", "format": "date"}
DATETIME: Schema = {"type": "string", "format": "date-time"}
URL: Schema = {"type": "string", "format": "uri"}
STR_LIST: Schema = {"type": "array", "items": STR}

ERROR_TEXT = {
    400: "Solicitud inválida (parámetros mal formados, CSRF vencido en sesiones de navegador).",
    401: "Falta el token o la sesión, o el token no es válido o fue revocado.",
    403: "El rol del usuario no permite esta operación.",
    404: "No existe lo pedido.",
    409: "La operación choca con el estado actual del documento.",
    413: "El archivo supera el tamaño máximo (ARCHIVO_MAX_ARCHIVO_MB).",
    415: "Tipo de contenido no admitido (el cuerpo debe ser multipart/form-data o JSON).",
    422: "Los datos no son válidos; «mensaje» dice cuál y por qué.",
    503: "La base de datos, el almacenamiento o el índice no responden; reintente más tarde.",
}


def errors(*codes: int) -> dict[str, Any]:
    return {str(c): {"$ref": f"#/components/responses/Error{c}"} for c in codes}


def json_body(schema: Schema, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def operation(op_id: str, tag: str, summary: str, roles: str, responses: dict[str, Any], *,
              description: str = "", parameters: list[Schema] | None = None,
              request_body: Schema | None = None, secured: bool = True) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": op_id, "tags": [tag], "summary": summary,
        "description": (description + "\n\n" if description else "") + f"Roles: {roles}.",
        "responses": responses,
    }
    if parameters:
        op["parameters"] = parameters
    if request_body:
        op["requestBody"] = request_body
    if not secured:
        op["security"] = []
    return op


def query(name: str, schema: Schema, description: str, **extra: Any) -> Schema:
    return {"name": name, "in": "query", "required": False, "schema": schema,
            "description": description, **extra}


def path_param(name: str, schema: Schema, description: str) -> Schema:
    return {"name": name, "in": "path", "required": True, "schema": schema,
            "description": description}


MAX_ID = 2**31 - 1
DOC_ID = path_param("doc_id", {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                    "Identificador del documento.")
PAGE_NO = path_param("number", {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                     "Número de página (desde 1).")
READ_ERRORS = (401, 403, 404, 503)


# ----------------------------------------------------------------------------- schemas

def _schemas() -> dict[str, Schema]:
    doc_types = [t.value for t in DocumentType]
    statuses = [s.value for s in DocumentStatus]
    page = obj({
        "numero": INT, "origen_texto": STR, "confianza_ocr": nullable(NUM),
        "ancho": INT, "alto": INT, "texto": STR,
        "imagen_url": nullable(URL), "miniatura_url": nullable(URL), "texto_url": URL,
    }, required=["numero", "origen_texto", "confianza_ocr", "ancho", "alto", "imagen_url",
                 "miniatura_url", "texto_url"])
    link = obj({"nis": STR, "origen": STR, "origen_nombre": STR, "confianza": NUM,
                "creado_por": STR, "creado": nullable(DATETIME), "en_registro": BOOL,
                "titular": STR})
    document = obj({
        "id": INT, "numero": STR, "url": URL,
        "tipo": {"type": "string", "enum": doc_types}, "tipo_nombre": STR,
        "tipo_confianza": nullable(NUM), "titulo": STR,
        "estado": {"type": "string", "enum": statuses}, "estado_nombre": STR,
        "motivos_revision": {"type": "array", "items": obj({"codigo": STR, "descripcion": STR})},
        "error": nullable(obj({"codigo": nullable(STR), "mensaje": nullable(STR)})),
        "fecha": nullable(DATE), "recibido": nullable(DATETIME), "recibido_por": STR,
        "expediente": nullable(STR), "ot": nullable(STR),
        "original": obj({"nombre": STR, "tipo_mime": STR, "bytes": INT, "sha256": STR,
                         "url": URL}),
        "pdf_url": nullable(URL), "cantidad_paginas": INT, "confianza_ocr": nullable(NUM),
        "nis": STR_LIST, "vinculos": {"type": "array", "items": ref("Vinculo")},
        "identificadores": {"type": "array", "items": obj({"tipo": STR, "valor": STR})},
        "paginas": {"type": "array", "items": ref("Pagina")},
        "historial": {"type": "array", "items": obj({
            "fecha": nullable(DATETIME), "usuario": STR, "accion": STR,
            "detalles": {"type": "object"}})},
    })
    patch = {
        "type": "object", "additionalProperties": False, "minProperties": 1,
        "properties": {
            "tipo": {"type": "string", "enum": doc_types},
            "titulo": {"type": "string", "maxLength": 300},
            "fecha": {"type": ["string", "null"], "format": "date",
                      "description": "AAAA-MM-DD, entre 1900 y 2100; null la borra."},
            "expediente": {"type": ["string", "null"], "maxLength": 40,
                           "description": "\"\" o null lo borra."},
            "ot": {"type": ["string", "null"], "maxLength": 40,
                   "description": "\"\" o null lo borra."},
            "nis": {"type": "array", "items": {"type": "string", "pattern": r"^[0-9. -]{5,20}$"},
                    "maxItems": MAX_NIS,
                    "description": "La lista completa: reemplaza los vínculos actuales."},
        },
    }
    warnings = {"type": "array", "description": "NIS guardados que conviene revisar: no figuran "
                "en el padrón importado o no tienen 7 dígitos.",
                "items": obj({"nis": STR, "mensaje": STR})}
    accepted = obj({"id": INT, "numero": STR, "estado": {"type": "string", "enum": statuses},
                    "duplicado": BOOL, "nis": STR_LIST, "archivo": STR, "url": URL,
                    "avisos": warnings})
    edited = {"allOf": [ref("Documento"), obj({"avisos": warnings})]}
    facet = obj({"valor": STR, "nombre": STR, "cantidad": INT})
    hit = obj({
        "documento_id": INT, "numero": STR, "tipo": STR, "tipo_nombre": STR, "estado": STR,
        "nis": STR_LIST, "fecha": nullable(DATE), "recibido": nullable(DATETIME), "titulo": STR,
        "puntaje": nullable(NUM), "pagina": INT,
        "fragmento": {"type": "string", "description": "HTML ya escapado, con <mark> en los "
                                                       "aciertos."},
        "cajas": {"type": "array", "items": obj({"x": INT, "y": INT, "ancho": INT, "alto": INT,
                                                 "texto": STR})},
        "url": URL, "miniatura_url": nullable(URL),
    })
    results = obj({
        "consulta": STR, "modo": {"type": "string", "enum": ["texto", "exacto", "vacio"]},
        "total": INT, "pagina": INT, "por_pagina": INT, "paginas": INT, "orden": STR,
        "mensaje": STR, "resultados": {"type": "array", "items": ref("Resultado")},
        "facetas": {"type": "object", "additionalProperties": {"type": "array", "items": facet}},
    })
    supply = obj({
        "nis": STR, "nis_consultado": STR, "reemplazo": nullable({"type": "object"}),
        "en_registro": BOOL, "registro": nullable({"type": "object"}),
        "total_documentos": INT,
        "documentos_por_tipo": {"type": "array", "items": obj({
            "tipo": STR, "tipo_nombre": STR, "cantidad": INT,
            "documentos": {"type": "array", "items": {"type": "object"}}})},
        "nis_anteriores": {"type": "array", "items": {"type": "object"}},
        "historial": {"type": "array", "items": {"type": "object"}},
        "despachos": {"type": "array", "items": {"type": "object"}},
    }, required=["nis", "nis_consultado", "reemplazo", "en_registro", "registro",
                 "total_documentos", "documentos_por_tipo", "nis_anteriores", "historial"])
    report = obj({
        "archivo": STR, "sha256": STR, "formato": STR,
        "columnas": {"type": "object", "additionalProperties": STR},
        "insertados": INT, "actualizados": INT, "sin_cambios": INT, "rechazados": INT,
        "reanudado_desde": INT,
        "rechazos": {"type": "array", "items": obj({"linea": INT, "nis": STR, "motivo": STR})},
    })
    units = obj({"unidades": {"type": "array", "items": obj({
        "codigo": STR, "nombre": STR, "ciudad": STR, "direccion": STR, "contacto": STR})}})
    error = obj({"error": {"type": "string", "description": "Código estable, en minúsculas."},
                 "mensaje": {"type": "string", "description": "Explicación en español."}})
    listing = obj({"total": INT, "pagina": INT, "por_pagina": INT, "paginas": INT,
                   "documentos": {"type": "array", "items": ref("Documento")}})
    return {"Error": error, "Documento": document, "ListaDocumentos": listing, "Pagina": page,
            "Vinculo": link,
            "CambiosDocumento": patch, "DocumentoEditado": edited, "DocumentoRecibido": accepted, "Resultado": hit,
            "Resultados": results, "FichaSuministro": supply, "InformeImportacion": report,
            "UnidadesRegionales": units}


# ----------------------------------------------------------------------------- paths

def _binary(media: str, description: str) -> dict[str, Any]:
    return {"description": description,
            "headers": {"Content-Disposition": {"schema": STR}},
            "content": {media: {"schema": {"type": "string", "format": "binary"}}}}


def _document_paths() -> dict[str, Any]:
    upload_form = obj({
        "archivo": {"type": "string", "format": "binary",
                    "description": "El escaneo: PDF, TIFF, JPEG o PNG."},
        "tipo": {"type": "string", "enum": [t.value for t in DocumentType]},
        "nis": {"type": "array", "items": {"type": "string", "pattern": r"^[0-9]{5,12}$"},
                "maxItems": MAX_NIS,
                "description": "Repetible, o una lista separada por comas."},
        "notas": {"type": "string", "maxLength": 2000},
    }, required=["archivo"])
    page_ops = {
        "image": ("page_image", "Imagen web de la página (JPEG, ~150 ppp, gris).", "image/jpeg"),
        "thumbnail": ("page_thumbnail", "Miniatura de la página (JPEG).", "image/jpeg"),
    }
    paths: dict[str, Any] = {
        "/documents": {"get": _list_operation(), "post": operation(
            "upload_document", "documentos", "Subir un escaneo", WRITE_ROLES,
            {"202": json_body(ref("DocumentoRecibido"), "Recibido; el OCR sigue en segundo "
                                                        "plano. Consulte «url» hasta que el "
                                                        "estado sea listo, revisar o error."),
             **errors(400, 401, 403, 413, 415, 422, 503)},
            description="El archivo se guarda y se encola; un archivo dañado o que no es un "
                        "escaneo se guarda igual y termina en estado «error» con el motivo. "
                        "Los mismos bytes dos veces devuelven el documento existente con "
                        "«duplicado»: true.",
            request_body={"required": True, "content": {
                "multipart/form-data": {"schema": upload_form}}})},
        "/documents/{doc_id}": {
            "parameters": [DOC_ID],
            "get": operation(
                "get_document", "documentos", "Ver un documento", READ_ROLES,
                {"200": json_body(ref("Documento"), "El documento."), **errors(400, *READ_ERRORS)},
                parameters=[query("texto", {"type": "string", "enum": ["1", "0"]},
                                  "0 omite el texto de las páginas (documentos grandes).")]),
            "patch": operation(
                "edit_document", "documentos", "Corregir datos y vínculos", WRITE_ROLES,
                {"200": json_body(ref("DocumentoEditado"),
                                  "El documento después del cambio, con avisos sobre los NIS "
                                  "nuevos que conviene revisar."),
                 **errors(400, 401, 403, 404, 409, 415, 422, 503)},
                description="Solo se cambian los campos enviados; «nis» reemplaza la lista "
                            "completa. Un documento que todavía se procesa no se puede editar "
                            "(409).",
                request_body={"required": True, "content": {
                    "application/json": {"schema": ref("CambiosDocumento")}}}),
        },
        "/documents/{doc_id}/original": {"parameters": [DOC_ID], "get": operation(
            "document_original", "documentos", "Descargar el original", READ_ROLES,
            {"200": _binary("application/octet-stream", "El archivo tal como se recibió "
                                                        "(Content-Type según su tipo real)."),
             **errors(*READ_ERRORS)})},
        "/documents/{doc_id}/pdf": {"parameters": [DOC_ID], "get": operation(
            "document_pdf", "documentos", "Descargar el PDF buscable", READ_ROLES,
            {"200": _binary("application/pdf", "PDF con imagen y texto invisible."),
             **errors(*READ_ERRORS)})},
        "/documents/{doc_id}/pages/{number}/text": {
            "parameters": [DOC_ID, PAGE_NO], "get": operation(
            "page_text", "documentos", "Texto de una página", READ_ROLES,
            {"200": {"description": "Texto reconocido (UTF-8).",
                     "content": {"text/plain": {"schema": STR}}}, **errors(*READ_ERRORS)})},
    }
    for suffix, (op_id, summary, media) in page_ops.items():
        paths[f"/documents/{{doc_id}}/pages/{{number}}/{suffix}"] = {
            "parameters": [DOC_ID, PAGE_NO],
            "get": operation(op_id, "documentos", summary, READ_ROLES,
                             {"200": _binary(media, summary), **errors(*READ_ERRORS)})}
    return paths


def _list_operation() -> dict[str, Any]:
    list_param = {"type": "array", "items": STR}
    moment = {"type": "string", "description": "AAAA-MM-DD o AAAA-MM-DDThh:mm:ss±hh:mm"}
    params = [
        query("nis", list_param, "NIS (repetible o separado por comas); un NIS anterior de un "
                                 "suministro renumerado también vale.", style="form", explode=True),
        query("tipo", list_param, "Tipo de documento (repetible).", style="form", explode=True),
        query("estado", list_param, "Estado: recibido, procesando, listo, revisar, error "
                                    "(repetible).", style="form", explode=True),
        query("regional", list_param, "Código de unidad regional del suministro vinculado "
                                      "(repetible; ver /regional-units).", style="form",
              explode=True),
        query("desde", moment, "Recibidos desde: una fecha sola es un día de Paraguay "
                               "(desde las 00:00 de Asunción); un instante lleva su desfase."),
        query("hasta", moment, "Recibidos hasta: una fecha sola incluye todo ese día de "
                               "Paraguay; un instante, hasta ese momento inclusive."),
        query("pagina", {"type": "integer", "minimum": 1, "maximum": 100000},
              "Página (desde 1)."),
        query("por_pagina", {"type": "integer", "minimum": 1, "maximum": 100},
              "Documentos por página (1 a 100; 20 por omisión)."),
    ]
    return operation(
        "list_documents", "documentos", "Listar documentos", READ_ROLES,
        {"200": json_body(ref("ListaDocumentos"), "Una página de documentos y el total."),
         **errors(400, 401, 403, 503)},
        description="Los más recientes primero (fecha de recepción). Los filtros se combinan "
                    "(y); los valores repetidos de un filtro se suman (o). Cada documento "
                    "viene como en GET /documents/{doc_id}, sin el texto de las páginas ni el "
                    "historial (pida el documento para verlos).",
        parameters=params)


def _search_paths() -> dict[str, Any]:
    list_param = {"type": "array", "items": STR}
    params = [
        query("q", {"type": "string", "maxLength": 1000},
              "Texto, «frases», -excluir, nis:, tipo:, fecha:2020..2024, ci:, ruc:, ..."),
        query("nis", list_param, "NIS (repetible o separado por comas).", style="form",
              explode=True),
        query("tipo", list_param, "Tipo de documento (repetible).", style="form", explode=True),
        query("regional", list_param, "Código de unidad regional (repetible).", style="form",
              explode=True),
        query("desde", STR, "Fecha del documento desde: 2023, 2023-05 o 2023-05-15."),
        query("hasta", STR, "Fecha del documento hasta (incluida)."),
        query("pagina", {"type": "integer", "minimum": 1}, "Página de resultados (desde 1)."),
        query("por_pagina", {"type": "integer", "minimum": 1, "maximum": 100},
              "Documentos por página (1 a 100; 20 por omisión)."),
        query("orden", {"type": "string", "enum": ["relevancia", "fecha"]}, "Orden."),
        query("aproximada", {"type": "string", "enum": ["1", "0"]},
              "1 tolera una letra mal reconocida por palabra."),
        query("cajas", {"type": "string", "enum": ["1", "0"]},
              "1 incluye las cajas de las palabras encontradas (píxeles de la imagen web)."),
    ]
    return {"/search": {"get": operation(
        "search_documents", "búsqueda", "Buscar documentos", READ_ROLES,
        {"200": json_body(ref("Resultados"), "Resultados, facetas y paginación."),
         **errors(400, 401, 403, 503)},
        description="Un número suelto (NIS, cédula, RUC o número de archivo) se busca exacto "
                    "en la base de datos; el resto, en el índice de texto.",
        parameters=params)}}


def _supply_paths() -> dict[str, Any]:
    import_form = obj({
        "archivo": {"type": "string", "format": "binary",
                    "description": "CSV/TXT exportado por el sistema comercial."},
        "mapeo": {"type": "string", "description": "Mapeo de columnas en TOML (archivo o texto)."},
    }, required=["archivo"])
    return {
        "/supplies/{nis}": {"get": operation(
            "get_supply", "suministros", "Ficha del suministro", READ_ROLES,
            {"200": json_body(ref("FichaSuministro"), "Todo lo que se sabe del NIS."),
             **errors(*READ_ERRORS, 422)},
            parameters=[path_param("nis", STR, "NIS (se admiten puntos).")])},
        "/supplies/import": {"post": operation(
            "import_supply_file", "suministros", "Importar el padrón de suministros",
            ADMIN_ROLES,
            {"200": json_body(ref("InformeImportacion"), "Informe de la importación."),
             **errors(400, 401, 403, 413, 415, 422, 503)},
            request_body={"required": True, "content": {
                "multipart/form-data": {"schema": import_form}}})},
    }


def _other_paths() -> dict[str, Any]:
    return {
        "/regional-units": {"get": operation(
            "regional_units", "unidades regionales", "Unidades regionales",
            "cualquier usuario con sesión o token",
            {"200": json_body(ref("UnidadesRegionales"), "Las unidades, por código."),
             **errors(401, 503)})},
        "/openapi.json": {"get": operation(
            "openapi_document", "documentación", "Este documento OpenAPI", "público",
            {"200": json_body({"type": "object"}, "OpenAPI 3.1.")}, secured=False)},
    }


def _responses() -> dict[str, Any]:
    return {f"Error{code}": json_body(ref("Error"), text) for code, text in ERROR_TEXT.items()}


def build_spec(server_url: str = "/api/v1") -> dict[str, Any]:
    paths = {**_document_paths(), **_search_paths(), **_supply_paths(), **_other_paths()}
    for path, methods in _EXTRA_PATHS.items():
        paths.setdefault(path, {}).update(copy.deepcopy(methods))
    tags = [{"name": n} for n in ("documentos", "búsqueda", "suministros",
                                  "unidades regionales", "documentación")]
    tags += [t for t in _EXTRA_TAGS if t["name"] not in {x["name"] for x in tags}]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "archivo — API HTTP",
            "version": __version__,
            "description": "API JSON del archivo de documentos. Autenticación: "
                           "`Authorization: Bearer <token>` (créelo en «Mi cuenta») o la "
                           "sesión del navegador con la cabecera `X-CSRFToken` en los métodos "
                           "que modifican. Errores: `{\"error\": código, \"mensaje\": texto}`. "
                           "Guía: docs/api.md.",
        },
        "servers": [{"url": server_url}],
        "security": [{"token": []}, {"sesion": []}],
        "tags": tags,
        "paths": paths,
        "components": {
            "schemas": {**_schemas(), **copy.deepcopy(_EXTRA_SCHEMAS)},
            "responses": _responses(),
            "securitySchemes": {
                "token": {"type": "http", "scheme": "bearer",
                          "description": "Token personal creado en «Mi cuenta» (arc_...)."},
                "sesion": {"type": "apiKey", "in": "cookie", "name": "archivo_sesion",
                           "description": "Sesión del navegador; los métodos que modifican "
                                          "requieren además la cabecera X-CSRFToken."},
            },
        },
    }


@bp.get("/openapi.json")
@public
def openapi_document() -> Response:
    return jsonify(build_spec())
