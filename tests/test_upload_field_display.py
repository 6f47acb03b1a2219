"""What the upload and document pages show about a file: honest sizes, long names that wrap."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Callable

from flask import Flask
from flask.testing import FlaskClient

from archive.db import session_scope
from archive.models import Blob, Document
from archive.services import Services
from archive.sizes import human_size
from tests import scans
from tests.test_supply_file import make_document

ClientAs = Callable[[str], tuple[FlaskClient, str]]
STATIC = Path(__file__).resolve().parents[1] / "web" / "static"
LONG_NAME = "acta_de_entrega_" + "x" * 950 + ".png"  # 970 characters, no space to break at
SIZES = {0: "0 bytes", 1: "1 byte", 512: "512 bytes", 1023: "1023 bytes", 1024: "1 KB",
         1229: "1,2 KB", 1536: "1,5 KB", 10 * 1024: "10 KB", 1024 * 1024 - 1: "1 MB",
         5 * 1024 * 1024: "5 MB", 3 * 1024 ** 3: "3 GB"}


def test_sizes_are_exact_under_a_kilobyte_and_use_a_decimal_comma() -> None:
    assert {n: human_size(n) for n in SIZES} == SIZES


def test_the_upload_script_formats_sizes_with_the_same_rule() -> None:
    node = shutil.which("node")
    assert node, "falta node: make test lo instala (scripts/install-system.sh --pruebas)"
    script = (f"const t = require({json.dumps(str(STATIC / 'tamano.js'))});"
              f"console.log(JSON.stringify({json.dumps(list(SIZES))}.map(t)));")
    out = subprocess.run([node, "-e", script], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == list(SIZES.values())
    subir = (STATIC / "subir.js").read_text(encoding="utf-8")
    assert "tamanoTexto(" in subir and "Math.max(1" not in subir  # no «1 KB» floor left


def _wrapping_rule() -> str:
    css = (STATIC / "archivo.css").read_text(encoding="utf-8")
    match = re.search(r"\.nombre-archivo\s*\{([^}]*)\}", css)
    assert match, "archivo.css no define .nombre-archivo"
    return match.group(1)


def test_long_names_wrap_on_the_upload_results(app: Flask, client_as: ClientAs,
                                               services: Services) -> None:
    assert "overflow-wrap: anywhere" in _wrapping_rule()
    client, token = client_as("archivista")
    img, _ = scans.page(seed=7, doc_type="contrato")
    res = client.post("/subir", data={"archivo": (io.BytesIO(scans.png_bytes(img)), LONG_NAME),
                                      "csrf_token": token}, content_type="multipart/form-data")
    html = res.get_data(as_text=True)
    assert res.status_code == 200 and "recibido como ARC-" in html
    assert f'<td class="nombre-archivo" title="{LONG_NAME}">{LONG_NAME}</td>' in html
    assert 'href="/static/archivo.css' in html
    page = client.get("/subir").get_data(as_text=True)
    assert page.index("tamano.js") < page.index("subir.js")  # the script's size helper first


def test_document_page_wraps_the_name_and_tells_the_true_size(app: Flask, client_as: ClientAs,
                                                              services: Services) -> None:
    doc = make_document(services, ["1000001"])
    name = LONG_NAME[:300]  # what the column keeps
    with session_scope(services.sessions) as s:
        d = s.get(Document, doc)
        assert d is not None
        d.original_filename = name
        blob = s.get(Blob, d.original_blob_id)
        assert blob is not None
        blob.size = 0
    client, _ = client_as("consulta")
    html = client.get(f"/documentos/{doc}").get_data(as_text=True)
    assert f'<td class="nombre-archivo" title="{name}">{name}</td>' in html
    assert "application/pdf, 0 bytes)" in html and "KB)" not in html
    with session_scope(services.sessions) as s:
        blob = s.get(Blob, s.get(Document, doc).original_blob_id)  # type: ignore[union-attr]
        assert blob is not None
        blob.size = 1229
    assert "application/pdf, 1,2 KB)" in client.get(f"/documentos/{doc}").get_data(as_text=True)
