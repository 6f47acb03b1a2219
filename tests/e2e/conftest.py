"""One live archive and one headless Chromium for the whole end-to-end session.

The archive is the real thing, wired as ``archivo serve`` wires it: a fresh
``ARCHIVO_HOME`` initialized by ``archivo init``'s code, the Flask app served
by waitress on a free local port (``ARCHIVO_BASE_URL`` points there, so signed
image links resolve), and the embedded queue worker, so an upload really goes
through OCR. The browser is Debian's Chromium driven by Playwright; the
project never downloads a browser of its own (see scripts/install-system.sh).
Screenshots of the main pages are written to docs/img/ by these tests.
"""

from __future__ import annotations

import io
import logging
import os
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Generator, Iterator

import pytest
from flask import Flask, got_request_exception, url_for
from PIL import Image
from playwright.sync_api import (Browser, BrowserContext, ConsoleMessage, Page, Response,
                                 ViewportSize)

from archive.services import Services
from ingest.accept import accept_stream
from ingest.samples import sample_document
from ingest.status import DocumentSummary, is_final, summaries
from tests import scans
from tests.conftest import make_services
from tests.web_support import PASSWORD, ROLE_USERS, add_users

CHROMIUM = os.environ.get("ARCHIVO_CHROMIUM", "/usr/bin/chromium")
# As the machine's own probe starts it: no sandbox as root (Playwright's default), and no
# background traffic to Google's hosts, which a closed network refuses many at a time.
CHROMIUM_ARGS = ["--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
# The browser's own controls (file picker, date fields) in Latin American Spanish, as a
# clerk's browser shows them; needs Debian's chromium-l10n, else they stay in English.
CHROMIUM_ENV = {**os.environ, "LANGUAGE": "es_419"}
IMG_DIR = Path(__file__).resolve().parents[2] / "docs" / "img"
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}
STEP_MS = 15_000  # one click, one page load: generous on two shared cores
OCR_SECONDS = 120.0  # upper bound of a wait, never an assertion about speed
OCR_MS = int(OCR_SECONDS * 1000)
# Images in view (or not lazy) have arrived, so a screenshot does not catch them half drawn.
IMAGES_READY = """() => Array.from(document.images).every(img =>
    (img.loading === "lazy" && img.getBoundingClientRect().top > window.innerHeight)
    || (img.complete && img.naturalWidth > 0))"""


OpenAs = Callable[[str | None], Page]  # what the ``open_as`` fixture gives a test


@dataclass(frozen=True)
class Scan:
    path: Path
    nis: list[str]  # the supply numbers printed on it (none when the lines were given)
    lines: list[str]
    holder: str = ""  # the holder's name in the supply registry (samples with a NIS)


@dataclass
class LiveArchive:
    """The served archive: its address, its services, and what went wrong inside it."""

    url: str
    services: Services
    app: Flask
    scan_dir: Path
    server_errors: list[BaseException] = field(default_factory=list)

    def scan(self, name: str, seed: int, doc_type: str = "contrato",
             lines: list[str] | None = None) -> Scan:
        """A small generated scan (PNG) of a sample document; each seed gives other bytes.

        The NIS printed on a sample is put in the supply registry first, so every test sees
        the same rule whatever ran before it (a printed NIS is known; see ingest/finish.py).
        """
        img, nis = scans.page(seed=seed, doc_type=doc_type, lines=lines)
        text = lines or sample_document(seed, doc_type).lines
        holder = self.register(nis[0], text) if lines is None else ""
        return Scan(scans.write(img, self.scan_dir / name, "PNG"), nis if lines is None else [],
                    text, holder)

    def register(self, nis: str, lines: list[str]) -> str:
        """Import one supply through the real registry importer (a one-row export)."""
        from archive.registry import import_supplies
        from ingest.samples import CITIES, NAMES

        text = " ".join(lines)
        holder = next((n for n in NAMES if n in text), "Titular de prueba")
        city = next((c for c in CITIES if c in text), "Asunción")
        export = self.scan_dir / f"padron-{nis}.csv"
        export.write_text("NIS;TITULAR;CIUDAD;REGIONAL;TARIFA\n"
                          f"{nis};{holder};{city};CEN;Residencial 220 V\n", encoding="utf-8")
        report = import_supplies(self.services, export, actor="pruebas-e2e")
        assert report.rejected == 0, report
        return holder

    def path(self, endpoint: str, **values: Any) -> str:
        """The URL path of an endpoint, as the app builds it (pages choose their own paths)."""
        with self.app.test_request_context():
            return url_for(endpoint, **values)

    def ingest(self, scan: Scan, actor: str = ROLE_USERS["archivista"]) -> DocumentSummary:
        """Store a scan and wait for its OCR, as an upload would (for tests about other pages)."""
        with scan.path.open("rb") as stream:
            doc_id = accept_stream(self.services, stream, scan.path.name, actor=actor).document_id
        summary = self.wait_final(doc_id)
        assert self.wait_indexed() == 0, "el índice de búsqueda no se puso al día"
        return summary

    def wait_final(self, document_id: int) -> DocumentSummary:
        """Wait for the worker to finish a document (listo, revisar or error)."""
        deadline = time.monotonic() + OCR_SECONDS
        while True:
            summary = summaries(self.services, [document_id])[document_id]
            if is_final(summary.status) or time.monotonic() > deadline:
                return summary
            time.sleep(0.3)

    def wait_indexed(self) -> int:
        """Wait until the search index has caught up with the database; returns what is left."""
        from search.indexer import due_count

        deadline = time.monotonic() + OCR_SECONDS
        while (left := due_count(self.services)) and time.monotonic() < deadline:
            time.sleep(0.3)
        return left


class _Server:
    """waitress on an already bound socket, in a thread, stoppable from the test thread."""

    def __init__(self, app: Flask, sock: socket.socket) -> None:
        import waitress.server

        self._server = waitress.server.create_server(app, sockets=[sock], threads=4,
                                                      ident="archivo-e2e")
        self._thread = threading.Thread(target=self._server.run, name="e2e-waitress", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        from waitress import wasyncore

        server = self._server
        # Close every channel from inside the server's own loop, which then ends (empty map).
        channels = server._map
        server.trigger.pull_trigger(lambda: wasyncore.close_all(channels))
        self._thread.join(timeout=10)
        server.task_dispatcher.shutdown()
        if self._thread.is_alive():
            raise RuntimeError("el servidor web de las pruebas no se detuvo")


def _bound_socket() -> socket.socket:
    """A listening-ready socket on a free local port, bound before the settings are made."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveArchive]:
    from archivo_cli.bootstrap import initialize
    from archivo_cli.runtime import start_background_worker
    from web import create_app

    root = tmp_path_factory.mktemp("e2e")
    sock = _bound_socket()
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    svc = make_services(root / "var", ARCHIVO_BASE_URL=url)
    initialize(svc)
    add_users(svc)
    app = create_app(svc)
    archive = LiveArchive(url, svc, app, root / "escaneos")
    archive.scan_dir.mkdir()

    def record(sender: Flask, exception: BaseException, **_: object) -> None:
        archive.server_errors.append(exception)
    got_request_exception.connect(record, app)
    logging.getLogger("huey").setLevel(logging.WARNING)

    consumer, stop = start_background_worker(svc)
    server = _Server(app, sock)
    server.start()
    try:
        yield archive
    finally:
        server.stop()
        stop.set()
        consumer.stop(graceful=True)
        svc.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).is_file():
        pytest.fail(f"No está Chromium en {CHROMIUM}: ejecute scripts/install-system.sh --pruebas "
                    "(paquetes chromium y chromium-driver).")
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                      args=CHROMIUM_ARGS, env=CHROMIUM_ENV)
        yield chromium
        chromium.close()


@pytest.fixture(autouse=True)
def no_server_errors(request: pytest.FixtureRequest) -> Iterator[None]:
    """Any exception inside a view during an e2e test fails that test, with the exception."""
    if "live" not in request.fixturenames:
        yield
        return
    archive: LiveArchive = request.getfixturevalue("live")
    before = len(archive.server_errors)
    yield
    errors = archive.server_errors[before:]
    assert not errors, f"el servidor falló durante la prueba: {errors!r}"


@pytest.fixture(scope="session")
def _signed_in_states() -> dict[str, Any]:
    """Cookies of one real sign-in per role, reused: the login form is rate limited per address."""
    return {}


@pytest.fixture
def open_as(live: LiveArchive, browser: Browser, _signed_in_states: dict[str, Any],
            tmp_path: Path, request: pytest.FixtureRequest
            ) -> Iterator[OpenAs]:
    """``open_as("archivista")`` -> a Playwright Page signed in with that role (None: anonymous).

    The first page of a role signs in through the real login form; later ones reuse its cookies.
    """
    contexts: list[BrowserContext] = []
    browser_errors: list[str] = []

    def make(role: str | None) -> Page:
        context = browser.new_context(base_url=live.url, viewport=VIEWPORT, locale="es-PY",
                                      storage_state=_signed_in_states.get(role) if role else None)
        context.set_default_timeout(STEP_MS)
        contexts.append(context)
        page = context.new_page()
        watch_errors(page, browser_errors)
        if role and role not in _signed_in_states:
            sign_in(page, ROLE_USERS[role])
            _signed_in_states[role] = context.storage_state()
        return page

    yield make
    failed = getattr(request.node, "e2e_failed", False)
    for i, context in enumerate(contexts):
        if failed:  # what the browser showed when the test failed, for whoever reads the log
            for j, page in enumerate(context.pages):
                shot = tmp_path / f"fallo-{i}-{j}.png"
                page.screenshot(path=str(shot), full_page=True)
                print(f"captura del fallo: {shot} ({page.url})")
        context.close()
    if not failed:
        assert not browser_errors, f"errores en el navegador: {browser_errors}"


E2E_DIR = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test of this folder ``e2e`` (so ``-m "not e2e"`` leaves the browser out),
    once pyproject.toml registers that marker: the suite runs with --strict-markers."""
    if not any(line.split(":")[0].strip() == "e2e" for line in config.getini("markers")):
        return
    for item in items:
        if E2E_DIR in item.path.resolve().parents:
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]
                              ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Let ``open_as`` know the test failed, so it keeps screenshots of what the browser showed."""
    report = yield
    if report.when == "call" and report.failed:
        item.e2e_failed = True  # type: ignore[attr-defined]
    return report


def watch_errors(page: Page, errors: list[str]) -> None:
    """Collect what a clerk would not see but must not happen: script errors, CSP refusals
    (console errors) and failed loads of scripts, styles and images.

    Whole pages answered with 4xx are left to the tests (a refused login is a 401 page).
    The browser's own /favicon.ico probe is not the app's page content.
    """
    def on_console(msg: ConsoleMessage) -> None:
        if msg.type == "error" and not msg.text.startswith("Failed to load resource"):
            errors.append(f"{page.url}: consola: {msg.text}")

    def on_response(res: Response) -> None:
        if (res.status >= 400 and res.request.resource_type != "document"
                and not res.url.endswith("/favicon.ico")):
            errors.append(f"{page.url}: {res.status} al cargar {res.url}")

    page.on("pageerror", lambda exc: errors.append(f"{page.url}: error de script: {exc}"))
    page.on("console", on_console)
    page.on("response", on_response)


def sign_in(page: Page, username: str, password: str = PASSWORD) -> None:
    """Fill the real login form and wait until the app has let us in."""
    page.goto("/ingresar")
    page.get_by_label("Usuario").fill(username)
    page.get_by_label("Contraseña").fill(password)
    page.get_by_role("button", name="Ingresar").click()
    page.wait_for_url(lambda url: "/ingresar" not in url)


def csrf_of_page(page: Page) -> str:
    """The session's CSRF token, as the page's own scripts read it."""
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    assert token, "la página no trae token CSRF"
    return str(token)


def save_shot(page: Page, name: str) -> Path:
    """Full-page screenshot for the README, under docs/img/<name>.png (rewritten each run)."""
    assert re.fullmatch(r"[a-z0-9_-]+", name), name
    IMG_DIR.mkdir(parents=True, exist_ok=True)
    path = IMG_DIR / f"{name}.png"
    page.wait_for_function(IMAGES_READY)
    page.screenshot(path=str(path), full_page=True)
    with Image.open(io.BytesIO(path.read_bytes())) as img:  # a real picture, not an empty file
        assert img.width >= VIEWPORT["width"] // 2 and img.height > 100
    return path


def drop_file(page: Page, selector: str, path: Path, media_type: str = "image/png") -> None:
    """Drag a file from the desktop onto an element: a real ``drop`` event with a DataTransfer."""
    import base64

    transfer = page.evaluate_handle(
        """([name, data, type]) => {
            const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], name, {type}));
            return transfer;
        }""", [path.name, base64.b64encode(path.read_bytes()).decode(), media_type])
    for event in ("dragenter", "dragover", "drop"):
        page.dispatch_event(selector, event, {"dataTransfer": transfer})
