"""Every error code the API can answer with is explained in docs/api.md.

The codes are collected from the code itself, so a new ``fail(..., "codigo")``
or a new status in ``web.errors.MESSAGES`` without a line in the guide fails
here: the per-status table of ``web/errors.py``, its fallback for other
statuses, and the code argument of every ``fail``/``error_response``/
``_unavailable``/``int_arg`` call under ``web/`` (literal or named constant).
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

from flask import Flask

import web.errors as web_errors
from archive.services import Services
from web.errors import MESSAGES

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "api.md"
# Call name -> position of its error-code argument (also accepted as ``code=``).
CODE_ARGUMENT = {"fail": 2, "error_response": 2, "_unavailable": 1, "int_arg": None}


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _code_expr(call: ast.Call) -> ast.expr | None:
    name = call.func.id if isinstance(call.func, ast.Name) else (
        call.func.attr if isinstance(call.func, ast.Attribute) else None)
    if name not in CODE_ARGUMENT:
        return None
    for keyword in call.keywords:
        if keyword.arg == "code":
            return keyword.value
    position = CODE_ARGUMENT[name]
    return call.args[position] if position is not None and len(call.args) > position else None


def _enclosing_params(tree: ast.Module) -> dict[ast.Call, set[str]]:
    """For every call, the parameter names of the functions around it."""
    found: dict[ast.Call, set[str]] = {}

    def visit(node: ast.AST, params: set[str]) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            a = node.args
            params = params | {x.arg for x in a.posonlyargs + a.args + a.kwonlyargs}
        if isinstance(node, ast.Call):
            found[node] = params
        for child in ast.iter_child_nodes(node):
            visit(child, params)

    visit(tree, set())
    return found


def _codes_in(path: Path) -> tuple[set[str], list[str]]:
    """(codes, expressions that could not be resolved) of one module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    namespace = vars(importlib.import_module(_module_name(path)))
    codes: set[str] = set()
    unresolved: list[str] = []
    for call, params in _enclosing_params(tree).items():
        expr = _code_expr(call)
        if expr is None or (isinstance(expr, ast.Constant) and expr.value is None):
            continue
        if {n.id for n in ast.walk(expr) if isinstance(n, ast.Name)} & params:
            continue  # handed in by a caller (fail's code travels on the exception)
        try:
            value = eval(compile(ast.Expression(expr), str(path), "eval"), namespace)  # noqa: S307
        except NameError:
            unresolved.append(f"{path.name}:{call.lineno} {ast.unparse(expr)}")
            continue
        codes.add(value)
    return codes, unresolved


def _fallback_code() -> str:
    """The code of a status without an entry in MESSAGES (an unusual werkzeug error)."""
    saved = web_errors.is_api_request
    web_errors.is_api_request = lambda: True  # answer as the API does, without a full app
    try:
        with Flask(__name__).test_request_context("/api/v1/documents"):
            return web_errors.error_response(418).get_json()["error"]
    finally:
        web_errors.is_api_request = saved


def api_error_codes() -> tuple[set[str], list[str]]:
    codes = {code for code, _ in MESSAGES.values()} | {_fallback_code()}
    unresolved: list[str] = []
    for path in sorted((ROOT / "web").rglob("*.py")):
        found, missing = _codes_in(path)
        codes |= found
        unresolved += missing
    return codes, unresolved


def test_the_collector_finds_the_codes_it_should() -> None:
    codes, unresolved = api_error_codes()
    assert not unresolved, f"códigos de error que la prueba no sabe leer: {unresolved}"
    # One of each source, so a broken collector cannot pass by finding nothing.
    assert {"solicitud_invalida", "consulta_invalida", "base_de_datos_no_disponible",
            "error"} <= codes


def test_every_api_error_code_is_in_the_guide() -> None:
    guide = GUIDE.read_text(encoding="utf-8")
    codes, _ = api_error_codes()
    missing = sorted(c for c in codes if f"`{c}`" not in guide)
    assert not missing, f"códigos de error de la API sin explicar en docs/api.md: {missing}"


def test_a_missing_object_tells_the_client_who_can_fix_it(services: Services) -> None:
    """An API client cannot run server commands: no CLI hint in the message."""
    from archive.errors import ObjectNotFound
    from web import create_app

    app = create_app(services)
    handler = app.error_handler_spec["api"][None][ObjectNotFound]
    with app.test_request_context("/api/v1/documents/1/original"):
        resp = handler(ObjectNotFound("originals/ab/cd/abcd"))
    body = resp.get_json()
    assert resp.status_code == 404 and body["error"] == "no_encontrado"
    assert "Avise al administrador" in body["mensaje"] and "archivo check" not in body["mensaje"]
    assert "originals/" not in body["mensaje"]  # storage keys are not the client's business
