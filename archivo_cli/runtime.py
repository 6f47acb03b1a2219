"""Long-running commands: the web server, the queue worker and the index writer."""

from __future__ import annotations

import logging
import signal
import threading

import click
from huey.consumer import Consumer

from archive.queue import check_queue
from archive.services import Services
from ingest import log_missing_capabilities

from .common import friendly_errors, get_services, require_prepared

log = logging.getLogger("archivo")


def _logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("huey").setLevel(logging.WARNING)  # one line per task is noise at a desk


def require_initialized(svc: Services, *, storage: bool = True) -> None:
    """Everything a long-running or bulk command touches answers: schema, storage, queues."""
    require_prepared(svc)
    if storage:
        svc.store.check()
    check_queue(svc.huey)
    check_queue(svc.index_huey)


_SIGNALS = tuple(getattr(signal, n) for n in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, n))


class Consumers:
    """The huey consumers of one process: the document queue, the index queue, or both."""

    def __init__(self, consumers: list[Consumer]) -> None:
        self.consumers = consumers

    def start(self) -> None:
        """Run in background threads, keeping the process's signal handlers (huey's
        ``start()`` installs its own, which would swallow Ctrl+C in ``serve``)."""
        saved = {sig: signal.getsignal(sig) for sig in _SIGNALS}
        try:
            for consumer in self.consumers:
                consumer.start()
        finally:
            if threading.current_thread() is threading.main_thread():
                for sig, handler in saved.items():
                    signal.signal(sig, handler)

    def run(self) -> None:
        """Run in the foreground until SIGINT/SIGTERM; the first consumer handles the signal."""
        first, rest = self.consumers[0], Consumers(self.consumers[1:])
        rest.start()
        try:
            first.run()
        finally:
            rest.stop(graceful=True)  # an index run is short; let it commit

    def stop(self, graceful: bool = False) -> None:
        for consumer in self.consumers:
            consumer.stop(graceful=graceful)


def _worker_parts(svc: Services, workers: int | None, *, ocr: bool = True,
                  index: bool = True) -> tuple[Consumers, threading.Event]:
    """Tasks registered, sweepers and scanner watcher running, consumers built but not started.

    ``ocr``: consume the document queue (OCR, fixity). ``index``: consume the index
    queue, i.e. write the search index in ARCHIVO_INDEX_DIR. A process without the
    index role still registers the index task, to put wake-ups on its queue.
    """
    from archive.fixity import register_fixity_task
    from ingest import register_tasks, start_sweeper, start_watcher
    from search import register_index_task, start_index_sweeper

    register_index_task(svc)
    stop = threading.Event()
    consumers: list[Consumer] = []
    if ocr:
        register_tasks(svc)
        register_fixity_task(svc)  # nightly sample check, asked for by the sweeper
        start_sweeper(svc, stop)  # its "barrido" hook also re-requests indexing
        if svc.settings.scanner_dir:
            start_watcher(svc, stop)
        consumers.append(svc.huey.create_consumer(
            workers=workers or svc.settings.ocr_workers, worker_type="thread", periodic=False,
            check_worker_health=True))
    if index:
        if not ocr:
            start_index_sweeper(svc, stop)
        # One thread: runs never overlap in a process. The sole index writer clears a
        # lock left by its killed predecessor; a worker sharing the role may not. SIGTERM
        # (systemd's stop) lets the current run commit; Ctrl+C stops at once.
        consumers.append(svc.index_huey.create_consumer(
            workers=1, worker_type="thread", periodic=False, check_worker_health=True,
            flush_locks=not ocr and svc.settings.dedicated_indexer, graceful_signal="TERM"))
    return Consumers(consumers), stop


def writes_index(svc: Services) -> bool:
    """Whether workers (``archivo worker``, the embedded one) also consume the index queue."""
    return not svc.settings.dedicated_indexer


def start_background_worker(svc: Services, workers: int | None = None, *, ocr: bool = True,
                            index: bool | None = None) -> tuple[Consumers, threading.Event]:
    """Run the worker in this process's threads (``serve``, ``ingest --esperar``).

    ``index=None``: write the index as ARCHIVO_INDEXADOR says a worker should.
    """
    consumers, stop = _worker_parts(svc, workers, ocr=ocr,
                                    index=writes_index(svc) if index is None else index)
    consumers.start()
    return consumers, stop


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Dirección donde escuchar.")
@click.option("--port", default=5000, show_default=True, type=int, help="Puerto HTTP.")
@click.option("--hilos", "threads", default=8, show_default=True, type=int,
              help="Hilos del servidor web.")
@click.pass_context
@friendly_errors
def serve(ctx: click.Context, host: str, port: int, threads: int) -> None:
    """Inicia el servidor web (y el trabajador de la cola en la instalación embebida)."""
    import waitress

    from web import create_app, waitress_options

    _logging()
    svc = get_services(ctx)
    require_initialized(svc)
    log_missing_capabilities()  # once, in Spanish, not a traceback per page
    app = create_app(svc, warm_search=True)
    background = start_background_worker(svc) if svc.settings.embedded_worker else None
    click.echo(f"archivo escuchando en http://{host}:{port}/ "
               f"({'con' if background else 'sin'} trabajador embebido). Ctrl+C para detener.")
    trusted = svc.settings.trusted_hosts
    if trusted is not None and host not in trusted:
        click.echo("Para entrar desde otras computadoras, agregue a ARCHIVO_HOSTS el nombre o "
                   "la dirección que escribirán en el navegador (ver docs/configuracion.md); "
                   "los demás nombres se rechazan.")
    try:
        waitress.serve(app, host=host, port=port, threads=threads, ident="archivo",
                       **waitress_options(svc.settings))
    finally:
        if background:
            consumer, stop = background
            stop.set()
            consumer.stop(graceful=True)


@click.command()
@click.option("--hilos", "workers", default=0, type=int,
              help="Documentos procesados a la vez (0 = uno por núcleo).")
@click.pass_context
@friendly_errors
def worker(ctx: click.Context, workers: int) -> None:
    """Procesa la cola de documentos (OCR, extracción) hasta Ctrl+C.

    Con ARCHIVO_INDEXADOR=local (predeterminado) también escribe el índice de
    búsqueda; con ARCHIVO_INDEXADOR=dedicado lo escribe solo «archivo indexador».
    """
    _logging()
    svc = get_services(ctx)
    require_initialized(svc)
    log_missing_capabilities()  # once, in Spanish, not a traceback per page
    index = writes_index(svc)
    consumers, stop = _worker_parts(svc, workers, index=index)
    role = (f"OCR e índice en {svc.settings.index_dir}" if index
            else "solo OCR; el índice lo escribe «archivo indexador»")
    click.echo(f"Trabajador en marcha ({role}). Ctrl+C para detener.")
    try:
        consumers.run()
    finally:
        stop.set()


@click.command("indexador")
@click.pass_context
@friendly_errors
def indexer(ctx: click.Context) -> None:
    """Escribe el índice de búsqueda (cola del índice) hasta Ctrl+C.

    Es el único proceso que escribe el índice con ARCHIVO_INDEXADOR=dedicado:
    ejecútelo una sola vez, en la máquina donde está ARCHIVO_INDEX_DIR.
    """
    _logging()
    svc = get_services(ctx)
    require_initialized(svc, storage=False)  # it reads page text from the database only
    consumers, stop = _worker_parts(svc, None, ocr=False, index=True)
    click.echo(f"Indexador en marcha (índice en {svc.settings.index_dir}). Ctrl+C para detener.")
    if not svc.settings.dedicated_indexer:
        click.echo("Aviso: con ARCHIVO_INDEXADOR=local los trabajadores también escriben el "
                   "índice; use ARCHIVO_INDEXADOR=dedicado para que lo escriba solo este proceso.")
    try:
        consumers.run()
    finally:
        stop.set()
