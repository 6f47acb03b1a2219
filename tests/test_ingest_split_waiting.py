"""A split hands back the parts it made; the worker's task (the queue's owner) queues them.

Stacks that start with a separator sheet: no page goes to OCR in the upload's run.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from archive.enums import DocumentStatus
from archive.services import Services
from ingest.process import Processed, process_document, run_document
from ingest.tasks import enqueue_processing, register_tasks
from tests.test_batch_split import (accept, content_page, load, parts_of, separator_pages,
                                    write_tiff)


def _stack(tmp_path: Path) -> Path:
    seps = separator_pages([("4992383", "contrato"), ("1234567", None)])
    pages: list[Image.Image] = [seps[0], content_page(1), seps[1], content_page(2)]
    return write_tiff(pages, tmp_path / "lote.tif")


def test_a_split_returns_its_parts_as_waiting_and_queues_nothing(services: Services,
                                                                  tmp_path: Path) -> None:
    upload_id = accept(services, _stack(tmp_path))
    services.huey.flush()
    done = run_document(services, upload_id)
    children = [p.document_id for p in parts_of(services, upload_id) if p.document_id]
    assert len(children) == 2
    assert done == Processed("listo", tuple(children))
    assert all(load(services, c).status is DocumentStatus.RECIBIDO for c in children)
    assert services.huey.pending_count() == 0  # queueing is not this layer's job
    # Run again: the batch stands, nothing new waits, and the plain entry gives the status.
    assert run_document(services, upload_id) == Processed("omitido")  # already listo
    assert process_document(services, children[0]) in {"listo", "revisar"}


def test_the_worker_task_queues_each_part_of_the_split(services: Services,
                                                       tmp_path: Path) -> None:
    upload_id = accept(services, _stack(tmp_path))
    services.huey.flush()
    register_tasks(services)
    enqueue_processing(services, upload_id)
    task = services.huey.dequeue()
    assert task is not None and task.args == (upload_id,)
    assert services.huey.execute(task) == "listo"
    children = [p.document_id for p in parts_of(services, upload_id)]
    queued = []
    while (task := services.huey.dequeue()) is not None:
        queued.append(task.args[0])
    assert sorted(queued) == sorted(children) and len(children) == 2
