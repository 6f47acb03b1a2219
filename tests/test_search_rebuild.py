"""A rebuild written by worker processes, merged by copying posting blocks.

Both are checked against the plain way: the same index, posting for
posting and term statistic for term statistic, as a serial rebuild merged
by Whoosh's own ``optimize``.
"""

from __future__ import annotations

import random
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from whoosh import index as windex

from archive.db import session_scope
from archive.models import Document
from archive.services import Services
from archivo_cli import search_cmd
from archivo_cli.bootstrap import initialize
from search import indexer, merge, parallel
from search.query import search
from tests.conftest import home_env, make_services
from tests.search_support import add_document, add_supply, set_text

WORDS = ["heladera", "medidor", "robo", "corte", "energía", "Capiatá", "transformador",
         "factura", "reclamo", "titular", "cuadrilla", "de", "la", "el", "por"]


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    services = make_services(tmp_path_factory.mktemp("reconstruir") / "var")
    initialize(services)
    add_supply(services, "4992383", "CEN")
    rng = random.Random(11)
    for i in range(40):
        pages = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 60)))
                 + f" medidor N° {100000 + i} 3.603.{i:03d}"
                 for _ in range(rng.randint(1, 3))]
        add_document(services, pages, nis=["4992383"] if i % 3 == 0 else [])
    yield services
    services.dispose()


def _contents(index_dir: Path) -> dict[str, Any]:
    """Postings, term statistics, stored fields, lengths and columns of a one-segment index."""
    ix = windex.open_dir(str(index_dir))
    with ix.reader() as reader:
        assert len(reader.leaf_readers()) == 1 and not reader.has_deletions()
        stats = {}
        for fieldname, btext in reader.all_terms():
            ti = reader.term_info(fieldname, btext)
            stats[fieldname, btext] = (ti.weight(), ti.doc_frequency(), ti.min_length(),
                                       ti.max_length(), ti.max_weight(), ti.min_id(), ti.max_id())
        return {
            "postings": list(reader.iter_postings()),
            "stats": stats,
            "stored": [fields for _, fields in reader.iter_docs()],
            "lengths": {f: [reader.doc_field_length(d, f) for d in range(reader.doc_count_all())]
                        for f in ("text", "text_exact", "title")},
            "columns": {f: list(reader.column_reader(f))
                        for f in ("document_id", "page", "date", "doc_type", "regional_codes")},
        }


def _segments(svc: Services) -> int:
    return len(windex.open_dir(str(svc.settings.index_dir)).reader().leaf_readers())


def test_block_copy_merge_writes_what_whoosh_optimize_writes(
        svc: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from search import index as search_index

    search_index.reset_index(svc.settings.index_dir)
    indexer.prepare_index(svc)
    indexer.index_pending(svc, batch=7, merge=False, empty_index=True)
    assert _segments(svc) == 6  # 40 documents in batches of 7, no deletions
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    shutil.copytree(svc.settings.index_dir, ours)
    shutil.copytree(svc.settings.index_dir, theirs)
    windex.open_dir(str(theirs)).writer().commit(optimize=True)
    copied: list[int] = []
    real = merge._copy_postings
    monkeypatch.setattr(merge, "_copy_postings",
                        lambda fw, sources, schema: copied.append(len(sources))
                        or real(fw, sources, schema))
    indexer.optimize(windex.open_dir(str(ours)))
    assert copied == [6]  # the block copy ran, over the six segments
    assert _contents(ours) == _contents(theirs)


def test_parallel_rebuild_builds_the_same_index_as_a_serial_one(
        svc: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert indexer.rebuild(svc, batch=5, workers=1) == 40
    serial = tmp_path / "serial"
    shutil.copytree(svc.settings.index_dir, serial)
    pools: list[int] = []
    real = indexer.write_parallel
    monkeypatch.setattr(indexer, "write_parallel",
                        lambda *a, **kw: pools.append(kw["workers"]) or real(*a, **kw))
    committed: list[int] = []
    assert indexer.rebuild(svc, batch=5, workers=2,
                           progress=committed.append) == 40
    assert pools == [2]
    assert committed == [5] * 8  # batch by batch, in order
    assert _contents(svc.settings.index_dir) == _contents(serial)
    assert not (svc.settings.index_dir / parallel.STAGING).exists()
    with session_scope(svc.sessions) as s:
        assert s.scalar(select(func.count()).where(Document.index_due.is_(True))) == 0
    assert search(svc, "medidor 100007").total == 1


def test_document_edited_during_a_parallel_rebuild_is_indexed_as_edited(
        svc: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    first = 1
    real = indexer._clear_due
    edited: list[bool] = []

    def edit_then_clear(services: Services, seen: Any) -> int:
        if not edited:  # the first batch is in the index: now its first document changes
            set_text(services, first, 1, "texto corregido por el archivista", mark_due=True)
            edited.append(True)
        return real(services, seen)

    monkeypatch.setattr(indexer, "_clear_due", edit_then_clear)
    assert indexer.rebuild(svc, batch=5, workers=2) == 41  # 40, then the edited one again
    assert search(svc, "corregido archivista").total == 1
    with windex.open_dir(str(svc.settings.index_dir)).searcher() as s:
        pages = [f for f in s.documents() if f["document_id"] == first]
    assert [p["page"] for p in pages] == sorted({p["page"] for p in pages})  # nothing doubled


def test_reindex_command_takes_the_number_of_processes(svc: Services) -> None:
    result = CliRunner().invoke(search_cmd.reindex, ["--procesos", "2", "--lote", "10"],
                                env=home_env(svc.settings.home), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "Índice reconstruido: 40 documento(s)" in result.output
    assert search(svc, "medidor 100039").total == 1


@pytest.mark.parametrize("ids", [(0,), (5, 1), (255, 1, 2), (3, 1, 1, 1), (70000, 2, 3, 4, 5)])
@pytest.mark.parametrize("base", [0, 1, 250, 65_000, 70_000, 2**24])
def test_first_id_patched_in_place_is_what_pickle_writes(ids: tuple[int, ...],
                                                         base: int) -> None:
    from pickle import dumps

    weights, values = (1.0, 2.0)[:1] if len(ids) == 1 else None, (b"ab",) * len(ids)
    raw = dumps((ids, weights, values), 2)
    patched = merge._shift_first_id(raw, base)
    assert patched == dumps(((ids[0] + base, *ids[1:]), weights, values), 2)


def _entries(index_dir: Path) -> dict[str, tuple[Any, list[Any]]]:
    """Every live entry by key: its stored fields and its postings (field, term, weight, value)."""
    ix = windex.open_dir(str(index_dir))
    with ix.reader() as reader:
        stored = {d: f for d, f in reader.iter_docs()}  # live documents only
        postings: dict[int, list[Any]] = {}
        for fieldname, text, docnum, weight, value in reader.iter_postings():
            if docnum in stored:
                postings.setdefault(docnum, []).append((fieldname, text, weight, value))
    entries = {f["key"]: (f, sorted(postings.get(d, []))) for d, f in stored.items()}
    assert len(entries) == len(stored)  # no page entry twice (a deletion lost in a merge)
    return entries


def test_small_batches_merge_small_segments_fast_and_keep_every_entry(
        svc: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    from search import index as search_index

    search_index.reset_index(svc.settings.index_dir)
    indexer.prepare_index(svc)
    merges: list[int] = []
    real = merge._merge_into
    monkeypatch.setattr(merge, "_merge_into",
                        lambda writer, segs: merges.append(len(segs)) or real(writer, segs))
    indexer.index_pending(svc, batch=2)  # 20 commits, as the indexer task makes them
    for doc_id in (3, 7, 11, 12):  # reindexed: their old pages stay deleted in old segments
        set_text(svc, doc_id, 1, f"texto corregido del documento {doc_id}", mark_due=True)
    indexer.index_pending(svc, batch=1)
    assert merges and all(n > 1 for n in merges)  # merged along the way, the fast way
    segments = windex.open_dir(str(svc.settings.index_dir))._segments()
    assert len(segments) < 10  # 24 commits did not leave 24 segments
    incremental = _entries(svc.settings.index_dir)
    indexer.rebuild(svc, workers=1)
    assert _entries(svc.settings.index_dir) == incremental  # nothing lost, nothing doubled
    assert search(svc, "corregido documento 11").total == 1
