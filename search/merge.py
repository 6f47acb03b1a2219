"""Merge every segment into one without Whoosh's sorting pool (the end of a rebuild).

Whoosh merges segments by pushing every posting of every segment through
its external sorting pool: each posting is sized, appended, and past the
pool's memory limit pickled to a temporary run file and read back. On a
rebuild that final merge took as long as indexing itself.

But each segment already lists its postings sorted by (field, term,
document), and document numbers only grow from one segment to the next, so
one k-way merge of the segments' term streams yields exactly the order the
pool would have produced. ``OPTIMIZE_FAST`` is a Whoosh merge policy
(``writer.commit(mergetype=OPTIMIZE_FAST)``) that does that: per-document
data is copied by Whoosh's own ``write_per_doc``, postings are read a block
at a time and handed to the field writer in one ordered stream.
``preload_lengths`` makes any writer read field lengths in bulk when it
writes postings (Whoosh reads one byte per posting).

It relies on internals of ``whoosh3==3.54.0`` (the pinned version):
``SegmentWriter.pool``/``write_per_doc`` and the Whoosh 3 posting blocks.
``tests/test_search_engine.py`` checks that it writes the same index as
Whoosh's ``optimize=True``.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from operator import itemgetter
from typing import Any

from whoosh.reading import SegmentReader

Posting = tuple[str, bytes, int, float, Any]


def _term_postings(reader: SegmentReader, fieldname: str, btext: bytes,
                   ) -> Iterator[tuple[int, float, Any]]:
    """(document, weight, value) of one term in one segment, deleted documents included."""
    m = reader._terms.matcher(fieldname, btext, reader.schema[fieldname].format)
    if not hasattr(m, "_read_data"):  # inlined postings: Whoosh's generic accessors
        while m.is_active():
            yield m.id(), m.weight(), m.value()
            m.next()
        return
    while m.is_active():
        m._read_ids()
        m._read_weights()
        m._read_values()
        yield from zip(m._ids, m._weights, m._values)
        m._next_block()


TermPostings = tuple[str, bytes, Iterator[Posting]]


def _segment_terms(reader: SegmentReader, basedoc: int,
                   docmap: dict[int, int] | None) -> Iterator[TermPostings]:
    """The segment's terms in (field, term) order, each with its renumbered postings."""
    schema = reader.schema
    deleted = reader.deleted_docs_set if reader.has_deletions() else frozenset()
    for fieldname, btext in reader._terms.terms():
        if fieldname not in schema:
            continue
        yield fieldname, btext, _renumbered(reader, fieldname, btext, basedoc, docmap, deleted)


def _renumbered(reader: SegmentReader, fieldname: str, btext: bytes, basedoc: int,
                docmap: dict[int, int] | None, deleted: frozenset[int]) -> Iterator[Posting]:
    for docnum, weight, value in _term_postings(reader, fieldname, btext):
        if docnum in deleted:
            continue
        newdoc = docmap[docnum] if docmap is not None else basedoc + docnum
        yield fieldname, btext, newdoc, weight, value


def _merged(streams: list[Iterator[TermPostings]]) -> Iterator[Posting]:
    """One stream over all segments: the heap orders terms, not postings.

    A term's postings in one segment are contiguous and its documents grow
    from one segment to the next, so per term the segments' lists are simply
    chained in segment order (heapq.merge keeps stream order on equal keys).
    """
    for _, _, postings in heapq.merge(*streams, key=itemgetter(0, 1)):
        yield from postings


class _MergedPool:
    """Stands in for the writer's posting pool: one ordered stream over the merged segments."""

    def __init__(self, streams: list[Iterator[TermPostings]], readers: list[SegmentReader],
                 pool: Any) -> None:
        self._streams = streams
        self._readers = readers
        self._pool = pool  # the writer's own (empty) pool, cleaned up with us

    def iter_postings(self) -> Iterator[Posting]:
        return _merged(self._streams)

    def cleanup(self) -> None:
        for reader in self._readers:
            reader.close()
        self._pool.cleanup()


def OPTIMIZE_FAST(writer: Any, segments: list[Any]) -> list[Any]:  # noqa: N802 - like Whoosh's
    """Merge policy: every segment into the writer's new one (the writer must add nothing)."""
    if writer.docnum or getattr(writer, "_added", False):
        raise ValueError("OPTIMIZE_FAST merges segments only; this writer has documents")
    readers: list[SegmentReader] = []
    streams: list[Iterator[TermPostings]] = []
    for seg in segments:
        reader = SegmentReader(writer.storage, writer.schema, seg)
        readers.append(reader)
        names = set(writer.schema.names()) | {
            f for f in reader.indexed_field_names() if f in writer.schema}
        basedoc = writer.docnum
        docmap = writer.write_per_doc(names, reader)
        streams.append(_segment_terms(reader, basedoc, docmap))
    writer.pool = _MergedPool(streams, readers, writer.pool)
    writer._added = True
    return []


class _PreloadedLengths:
    """A per-document reader whose field lengths come from one bulk read per field.

    Writing postings asks for the length of the field in the posting's
    document once per posting; Whoosh answers each with a seek and a read of
    one byte of the length column. Here the column is read once.
    """

    def __init__(self, pdr: Any) -> None:
        self._pdr = pdr

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pdr, name)

    def doc_field_length_reader(self, fieldname: str, default: int = 0) -> Any:
        from whoosh.codec.whoosh3 import LENGTHS_COLUMN
        from whoosh.util.numeric import byte_to_length

        cached = getattr(self._pdr, "_cached_reader", None)
        col = cached(f"_{fieldname}_len", LENGTHS_COLUMN) if cached else None
        raw = _raw_bytes(col, self._pdr.doc_count_all()) if col is not None else None
        if raw is None:
            return self._pdr.doc_field_length_reader(fieldname, default)
        # As Whoosh's reader: the decoded length, or None where the stored byte is 0.
        table = [None] + [byte_to_length(b) for b in range(1, 256)]
        return [table[b] for b in raw].__getitem__


def _raw_bytes(col: Any, n: int) -> bytes | None:
    try:
        dbfile, base, count, code = col._dbfile, col._basepos, col._count, col._typecode
    except AttributeError:
        return None
    if code != "B":
        return None
    data = dbfile.get(base, count) if count else b""
    return bytes(data) + bytes(max(0, n - count))


def preload_lengths(writer: Any) -> Any:
    """Make ``writer`` read field lengths in bulk when it writes its postings (see above)."""
    original = writer.per_document_reader

    def per_document_reader() -> Any:
        return _PreloadedLengths(original())

    writer.per_document_reader = per_document_reader
    return writer
