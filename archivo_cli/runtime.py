"""Long-running commands: the web server and the queue worker."""

from __future__ import annotations

import logging
import threading

import click

from archive.errors import ArchivoError
from archive.migrate import is_current
from archive.db import check_database
from archive.queue import check_queue
from archive.services import Services

from .common import friendly_errors, get_services

log = logging.getLogger("archivo")


def _logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("huey").setLevel(logging.WARNING)  # one line per task is noise at a desk


def require_initialized(svc: Services) -> None:
    check_database(svc.engine)
    if not is_current(svc.engine):
        raise ArchivoError("La base de datos no está inicializada o actualizada: ejecute «archivo init».")
    svc.store.check()
    check_queue(svc.huey)


def _worker_parts(svc: Services, workers: int | None):  # type: ignore[no-untyped-def]
    """Tasks registered, sweeper and scanner watcher running, consumer built but not started."""
    from archive.fixity import register_fixity_task
    from ingest.tasks import register_tasks, start_sweeper
    from ingest.watch import start_watcher
    from search.tasks import register_index_task

    register_tasks(svc)
    register_index_task(svc)
    register_fixity_task(svc)  # nightly sample check, asked for by the sweeper
    stop = threading.Event()
    start_sweeper(svc, stop)
    if svc.settings.scanner_dir:
        start_watcher(svc, stop)
    consumer = svc.huey.create_consumer(workers=workers or svc.settings.ocr_workers,
                                        worker_type="thread", periodic=False,
                                        check_worker_health=True)
    return consumer, stop


def start_background_worker(svc: Services, workers: int | None = None):  # type: ignore[no-untyped-def]
    """Run the worker in this process's threads (``serve``, ``ingest --esperar``)."""
    consumer, stop = _worker_parts(svc, workers)
    consumer.start()  # start() installs no signal handlers, unlike run()
    return consumer, stop


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

    from web import create_app

    _logging()
    svc = get_services(ctx)
    require_initialized(svc)
    app = create_app(svc)
    background = start_background_worker(svc) if svc.settings.embedded_worker else None
    click.echo(f"archivo escuchando en http://{host}:{port}/ "
               f"({'con' if background else 'sin'} trabajador embebido). Ctrl+C para detener.")
    try:
        waitress.serve(app, host=host, port=port, threads=threads, ident="archivo")
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
    """Procesa la cola de documentos (OCR, extracción, índice) hasta Ctrl+C."""
    _logging()
    svc = get_services(ctx)
    require_initialized(svc)
    consumer, stop = _worker_parts(svc, workers)
    click.echo("Trabajador en marcha. Ctrl+C para detener.")
    try:
        consumer.run()
    finally:
        stop.set()
