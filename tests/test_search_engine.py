"""The array engine (search.engine + search.grouping) against Whoosh's own matchers,
and the fast final merge of a rebuild (search.merge) against Whoosh's optimize.

Both paths must find the same documents, with the same best page, score,
order, total and facets, on an index of several segments with deleted
entries (a reindexed document leaves its old pages deleted in an older
segment).
"""

from __future__ import annotations

import datetime as dt
import random
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from whoosh import index as windex

from archive.enums import DocumentType
from archive.services import Services
from archivo_cli.bootstrap import initialize
from search import engine, query
from search import index as search_index
from search.grouping import Grouped
from search.indexer import index_pending, optimize
from search.parse import parse_query, whoosh_query
from tests.conftest import make_services
from tests.search_support import add_document, add_supply, set_text

WORDS = ["heladera", "heladeras", "medidor", "robo", "corte", "energía", "Capiatá", "Luque",
         "transformador", "factura", "reclamo", "titular", "cuadrilla", "dañada", "dañado"]
FILLER = ["de", "la", "el", "en", "por", "del", "y", "con"]
TYPES = [DocumentType.CONTRATO, DocumentType.RECLAMO_ELECTRODOMESTICO,
         DocumentType.DENUNCIA_ROBO_MEDIDOR, DocumentType.OTRO]

QUERIES = [
    "heladera", "heladeras", "medidor", "robo medidor", "corte energia", "capiata",
    '"robo de medidor"', '"corte de energia"', "heladera O medidor", "(heladera O robo) luque",
    "medidor -heladera", 'robo -"de la"', "transform*", "heladefa~", "4.992.383", "4992383",
    "2023", "tipo:contrato heladera", "tipo:contrato,otro medidor", "-tipo:otro medidor",
    "regional:CEN medidor", "fecha:2019..2021 heladera", "fecha:2020-03..2021-06 corte",
    "nis:4992383", "nis:4992383 heladera", "palabrainexistente", "medidor palabrainexistente",
    "dañada", "titular cuadrilla factura",
]
UNITS = [("CEN", "Central", "Asunción"), ("SUR", "Sur", "Encarnación")]


@pytest.fixture(scope="module")
def svc(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    services = make_services(tmp_path_factory.mktemp("motor") / "var")
    initialize(services)
    add_supply(services, "4992383", "CEN")
    add_supply(services, "1234567", "SUR")
    rng = random.Random(3)
    ids = []
    for batch in range(3):  # three indexing runs: three segments
        for _ in range(15):
            pages = []
            for _ in range(rng.randint(1, 3)):
                words = [rng.choice(WORDS + FILLER * 2) for _ in range(rng.randint(8, 40))]
                if rng.random() < 0.3:
                    words += ["robo", "de", "medidor"]
                if rng.random() < 0.2:
                    words += ["4.992.383", "15/03/2023"]
                pages.append(" ".join(words))
            nis = [rng.choice(["4992383", "1234567", "7777777"])] if rng.random() < 0.8 else []
            ids.append(add_document(
                services, pages, nis=nis, doc_type=rng.choice(TYPES),
                document_date=dt.date(2018 + rng.randint(0, 6), rng.randint(1, 12), 1)
                if rng.random() < 0.9 else None))
        index_pending(services, merge=False)
    # Reindex some documents: their old entries stay, deleted, in the older segments.
    for doc_id in ids[:5]:
        set_text(services, doc_id, 1, "heladera reemplazada robo de medidor", mark_due=True)
    index_pending(services, merge=False)
    yield services
    services.dispose()


def run(svc: Services, text: str, *, arrays: bool, sort: str = "relevancia",
        start: int = 0, stop: int = 1000) -> Grouped:
    parsed = parse_query(text, regional_units=lambda: UNITS)
    parts = whoosh_query(parsed.text, parsed.clauses)
    assert parts is not None
    old = query.USE_ARRAYS
    query.USE_ARRAYS = arrays
    try:
        found, _ = query._match(svc, parts, sort=sort, start=start, stop=stop)
    finally:
        query.USE_ARRAYS = old
    return found


def test_index_has_several_segments_and_deletions(svc: Services) -> None:
    searcher = search_index.cached_searcher(svc.settings.index_dir)
    leaves = searcher.reader().leaf_readers()
    assert len(leaves) > 1
    assert any(seg.has_deletions() for seg, _ in leaves)


@pytest.mark.parametrize("text", QUERIES)
@pytest.mark.parametrize("sort", ["relevancia", "fecha"])
def test_engine_matches_whoosh(svc: Services, text: str, sort: str) -> None:
    new = run(svc, text, arrays=True, sort=sort)
    old = run(svc, text, arrays=False, sort=sort)
    assert new.total == old.total
    assert [(r.document_id, r.page, r.day, r.doc_type, sorted(r.regions)) for r in new.rows] == \
        [(r.document_id, r.page, r.day, r.doc_type, sorted(r.regions)) for r in old.rows]
    assert [r.score for r in new.rows] == pytest.approx([r.score for r in old.rows], rel=1e-6)
    assert (new.types, new.regions, new.years) == (old.types, old.regions, old.years)


def test_parsed_queries_need_no_fallback(svc: Services) -> None:
    """Every query shape the parser makes for the box is modelled (no silent slow path)."""
    searcher = search_index.cached_searcher(svc.settings.index_dir)
    v, _ = query._view(searcher)
    for text in QUERIES:
        parsed = parse_query(text, regional_units=lambda: UNITS)
        parts = whoosh_query(parsed.text, parsed.clauses)
        assert parts is not None
        engine.evaluate(v, parts.positive)
        if parts.negative is not None:
            engine.evaluate(v, parts.negative)


def test_result_pages_slice_the_same_ranking(svc: Services) -> None:
    whole = run(svc, "medidor", arrays=True)
    pages = [run(svc, "medidor", arrays=True, start=s, stop=s + 4) for s in range(0, 12, 4)]
    assert [r.document_id for p in pages for r in p.rows] == \
        [r.document_id for r in whole.rows[:12]]
    assert all(p.total == whole.total for p in pages)


def _contents(index_dir: Path) -> tuple[list, list, dict]:  # type: ignore[type-arg]
    """Everything a merge must keep: postings, stored fields, lengths and columns, in order."""
    ix = windex.open_dir(str(index_dir))
    with ix.reader() as reader:
        postings = list(reader.iter_postings())
        stored = [fields for _, fields in reader.iter_docs()]
        lengths = {f: [reader.doc_field_length(d, f) for d in range(reader.doc_count_all())]
                   for f in ("text", "text_exact", "title")}
        cols = {f: list(reader.column_reader(f)) for f in ("document_id", "page", "date",
                                                          "doc_type", "regional_codes")}
        assert len(reader.leaf_readers()) == 1 and not reader.has_deletions()
    return postings, stored, {**lengths, **cols}


def test_fast_merge_writes_what_whoosh_optimize_writes(svc: Services, tmp_path: Path) -> None:
    src = svc.settings.index_dir
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    shutil.copytree(src, ours)
    shutil.copytree(src, theirs)
    windex.open_dir(str(theirs)).writer().commit(optimize=True)
    optimize(windex.open_dir(str(ours)))
    assert _contents(ours) == _contents(theirs)


def test_grouping_without_contiguous_pages_and_deep_pages() -> None:
    """The sort-based fallback and the linear pass agree; deep result pages slice one ranking."""
    import numpy as np

    from search import grouping
    from search.engine import Hits

    rng = np.random.default_rng(4)
    n = 400
    doc_of_page = np.sort(rng.integers(0, 120, n))
    cols = grouping.Columns(
        document_id=doc_of_page.astype(np.int64), page=np.arange(n, dtype=np.int32),
        date=rng.integers(2015, 2025, n).astype(np.int32) * 10000 + 101,
        doc_type=np.zeros(n, np.int32), types=["otro"], regions=np.zeros(n, np.int32),
        region_sets=[()])
    mask = rng.random(n) < 0.6
    score = np.where(mask, rng.integers(1, 6, n).astype(float), 0.0)  # many ties
    hits = Hits(mask, score)
    whole = grouping.group(cols, hits, None, sort="relevancia", start=0, stop=10_000)
    sliced = [r for s in range(0, 60, 7)
              for r in grouping.group(cols, hits, None, sort="relevancia", start=s,
                                      stop=s + 7).rows]
    assert sliced == whole.rows[:63]
    # Shuffle which document each page belongs to: runs are no longer one per document.
    shuffled = grouping.Columns(**{**cols.__dict__,
                                   "document_id": rng.permutation(cols.document_id)})
    a = grouping.group(shuffled, hits, None, sort="fecha", start=0, stop=10_000)
    pages, docs = np.flatnonzero(mask), shuffled.document_id[np.flatnonzero(mask)]
    best: dict[int, tuple[float, int]] = {}
    for p, d in zip(pages, docs):
        if int(d) not in best or score[p] > best[int(d)][0]:
            best[int(d)] = (float(score[p]), int(p))
    assert {r.document_id: r.page for r in a.rows} == {d: p for d, (_, p) in best.items()}
    assert a.total == len(best)


def test_cached_views_do_not_keep_searchers_alive(svc: Services) -> None:
    import gc
    import weakref

    searcher = windex.open_dir(str(svc.settings.index_dir)).searcher()
    query._view(searcher)
    assert searcher in query._views
    ref = weakref.ref(searcher)
    searcher.close()
    del searcher
    gc.collect()
    assert ref() is None  # and with it, its cached view


def test_warm_up_reads_every_segment_before_the_first_search(svc: Services) -> None:
    from search import arrays

    arrays.clear_caches()
    query._views.clear()  # as in a process that has not searched yet
    assert arrays._segments.size == 0
    assert query.warm_up(svc)
    leaves = search_index.cached_searcher(svc.settings.index_dir).reader().leaf_readers()
    assert arrays._segments.size == len(leaves) > 1  # every segment's columns, read once
    glued = [k for k in arrays._postings._items if k[0] == "pos" and k[3] == b"de"]
    assert len(glued) == len(leaves)  # and the positions of "de" in each, for phrases
    query.warm_up(svc)
    assert arrays._segments.size == len(leaves)
    before = {k for k in arrays._postings._items if k[0] == "pos"}
    assert run(svc, '"robo de medidor"', arrays=True).total > 0
    read = {k[3] for k in arrays._postings._items if k[0] == "pos"} - {k[3] for k in before}
    assert read == {b"robo", b"medidor"}  # the positions of "de" were already there


def test_warm_up_of_an_empty_or_missing_index_is_harmless(tmp_path: Path) -> None:
    services = make_services(tmp_path / "var")
    initialize(services)
    assert query.warm_up(services) is False  # nothing indexed
    shutil.rmtree(services.settings.index_dir)
    services.settings.index_dir.write_text("no es una carpeta")
    assert query.warm_up(services) is False  # logged, never raised
    services.dispose()
