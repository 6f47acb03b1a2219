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

When no segment has deleted documents (a rebuild), postings are not even
decoded one by one: ``_copy_postings`` copies each term's posting *blocks*
from every segment into the new one, rewriting only what depends on the
document numbers (the first id of each block, which Whoosh stores as is,
and the block's last id). The new posting list of a term is the segments'
blocks one after the other, the last one of each segment no longer full:
a layout Whoosh itself produces for any term's final block, so every reader
(Whoosh's and ``search.arrays``) reads it unchanged. The term statistics
BM25 uses (frequency, document frequency, lengths, weights) are combined
from the segments' term infos.

It relies on internals of ``whoosh3==3.54.0`` (the pinned version):
``SegmentWriter.pool``/``write_per_doc`` and the Whoosh 3 posting blocks.
``tests/test_search_engine.py`` checks that it writes the same index as
Whoosh's ``optimize=True``.
"""

from __future__ import annotations

import heapq
import zlib
from collections.abc import Iterator
from operator import itemgetter
from pickle import dumps, loads
from typing import Any

from whoosh.codec.whoosh3 import COMPRESSION_MIN_SIZE, WHOOSH3_HEADER_MAGIC, W3TermInfo
from whoosh.reading import SegmentReader
from whoosh.util import fib
from whoosh.system import _INT_SIZE, pack_int, pack_ushort, unpack_int

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


class _NoPostings(_MergedPool):
    """The pool when postings are copied block by block: nothing goes through the pool."""

    def iter_postings(self) -> Iterator[Posting]:
        return iter(())


Source = tuple[SegmentReader, int]  # a segment and the new number of its first document


def _segment_items(reader: SegmentReader, schema: Any, i: int,
                   ) -> Iterator[tuple[str, bytes, int, bytes]]:
    """(field, term, segment index, term info bytes) in (field, term) order."""
    tindex = reader._terms._tindex
    unmap = {pack_ushort(num): name for name, num in reader._terms._fieldmap.items()}
    for key, value in tindex.items():
        fieldname = unmap[key[:2]]
        if fieldname in schema:
            yield fieldname, key[2:], i, value


def _buffer(postfile: Any) -> Any:
    """The whole postings file as a buffer (Whoosh maps segment files in memory)."""
    buf = getattr(postfile, "_buf", None)
    if buf is None:  # a file Whoosh did not map: read it once
        postfile.seek(0)
        buf = postfile.read()
    return buf


def _raw_blocks(buf: Any, offset: int) -> Iterator[tuple[Any, bool]]:
    """(info and data bytes, is the term's last block) of each posting block of a term."""
    if bytes(buf[offset:offset + 4]) != WHOOSH3_HEADER_MAGIC:
        raise ValueError(f"bloque de índice dañado en la posición {offset}")
    pos = offset + 4
    while True:
        (length,) = unpack_int(buf[pos:pos + _INT_SIZE])
        pos += _INT_SIZE
        size = -length if length < 0 else length
        yield buf[pos:pos + size], length < 0
        pos += size
        if length < 0:
            return


# Pickle protocol 2 opcodes for a non-negative int below 2**31, and their argument sizes.
_INT_ARGS = {ord("K"): 1, ord("M"): 2, ord("J"): 4}
_PROTO2 = b"\x80\x02"
_MARK = ord("(")


def _pickled_int(n: int) -> bytes:
    """``n`` as pickle protocol 2 writes it (so a patched block is what ``dumps`` makes)."""
    if n < 0x100:
        return b"K" + bytes((n,))
    if n < 0x10000:
        return b"M" + n.to_bytes(2, "little")
    return b"J" + n.to_bytes(4, "little", signed=True)


def _shift_first_id(raw: bytes, base: int) -> bytes | None:
    """The pickled ``(ids, weights, values)`` with ``base`` added to its first id.

    The first id is the first thing pickled after the protocol header (after a
    MARK when the block has more than three ids), so it is patched in place
    instead of unpickling and pickling the whole block. None: not that shape.
    """
    if raw[:2] != _PROTO2 or len(raw) < 4:
        return None
    at = 3 if raw[2] == _MARK else 2
    size = _INT_ARGS.get(raw[at])
    if size is None:
        return None
    value = int.from_bytes(raw[at + 1:at + 1 + size], "little", signed=size == 4) + base
    if not 0 <= value < 2**31:
        return None
    return raw[:at] + _pickled_int(value) + raw[at + 1 + size:]


def _shifted(block: Any, base: int, compression: int) -> bytes:
    """The block (info and data) with its documents renumbered by ``base``.

    Ids are delta-encoded from 0 in every block, so only the first one and
    the block's last id (in its info) change.
    """
    info = loads(block)  # the data follows the info pickle, which loads ignores
    count, last_id, max_weight, comp, min_len, max_len = info
    data = bytes(block[len(dumps(info, 2)):])
    raw = zlib.decompress(data) if comp else data
    shifted = _shift_first_id(raw, base)
    if shifted is None:
        ids, weights, values = loads(raw)
        shifted = dumps(((ids[0] + base, *ids[1:]), weights, values), 2)
    comp = compression if len(shifted) >= COMPRESSION_MIN_SIZE else 0
    return (dumps((count, last_id + base, max_weight, comp, min_len, max_len), 2)
            + (zlib.compress(shifted, comp) if comp else shifted))


def _combined(infos: list[tuple[W3TermInfo, int]]) -> W3TermInfo:
    """The term's statistics over all segments (as Whoosh's ``add_block`` sums them)."""
    out = W3TermInfo()
    for ti, base in infos:
        out._weight += ti._weight
        out._df += ti._df
        if ti._minlength is not None:
            out._minlength = (ti._minlength if out._minlength is None
                              else min(out._minlength, ti._minlength))
        out._maxlength = max(out._maxlength, ti._maxlength)
        out._maxweight = max(out._maxweight, ti._maxweight)
        if out._minid is None and ti._minid is not None:
            out._minid = ti._minid + base
        if ti._maxid is not None:
            out._maxid = ti._maxid + base
    return out


def _copy_term(fw: Any, infos: list[tuple[W3TermInfo, int]], buffers: list[Any]) -> W3TermInfo:
    out = _combined(infos)
    compression = fw._codec._compression
    parts = [WHOOSH3_HEADER_MAGIC]
    last = len(infos) - 1
    for n, ((ti, base), buf) in enumerate(zip(infos, buffers)):
        for block, is_last in _raw_blocks(buf, ti._offset):
            data = _shifted(block, base, compression) if base else bytes(block)
            # Only the very last block of the merged list keeps the "last block" sign.
            parts.append(pack_int(-len(data) if is_last and n == last else len(data)))
            parts.append(data)
    postfile = fw._postfile
    start = postfile.tell()
    postfile.write(b"".join(parts))
    out.set_extent(start, postfile.tell() - start)
    return out


def _copy_postings(fw: Any, sources: list[Source], schema: Any) -> None:
    """Write every term of ``sources`` into the field writer ``fw``, block by block."""
    streams = [_segment_items(reader, schema, i) for i, (reader, _) in enumerate(sources)]
    postfiles = [_buffer(reader._terms._postfile) for reader, _ in sources]
    current: tuple[str, bytes] | None = None
    infos: list[tuple[W3TermInfo, int]] = []
    files: list[Any] = []
    field: str | None = None

    def flush() -> None:
        assert current is not None
        if any(ti.is_inlined() for ti, _ in infos):
            raise ValueError("términos con apariciones en línea: use la fusión por apariciones")
        ti = _copy_term(fw, infos, files)
        fw._tindex.add(pack_ushort(fw._fieldid) + current[1], ti.to_bytes())

    for fieldname, btext, i, value in heapq.merge(*streams, key=itemgetter(0, 1)):
        if (fieldname, btext) != current:
            if current is not None:
                flush()
            if fieldname != field:
                if field is not None:
                    fw.finish_field()
                fw.start_field(fieldname, schema[fieldname])
                field = fieldname
            current, infos, files = (fieldname, btext), [], []
        infos.append((W3TermInfo.from_bytes(value), sources[i][1]))
        files.append(postfiles[i])
    if current is not None:
        flush()
    if field is not None:
        fw.finish_field()
    fw.is_closed = True


class _LengthsOnce:
    """A segment reader whose field lengths are read once per field.

    Whoosh's ``write_per_doc`` asks every document's length of every field;
    for a field without lengths (ids, numbers) each answer looks for the
    length file on disk again: one ``stat`` per document and field.
    """

    def __init__(self, reader: SegmentReader) -> None:
        self._reader = reader
        self._lengths: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._reader, name)

    def doc_field_length(self, docnum: int, fieldname: str, default: int = 0) -> Any:
        get = self._lengths.get(fieldname)
        if get is None:
            get = self._lengths[fieldname] = _PreloadedLengths(
                self._reader._perdoc).doc_field_length_reader(fieldname, default)
        return get(docnum)


def _copyable(reader: SegmentReader) -> bool:
    """Blocks can be copied from a segment without deletions and without inlined postings."""
    return not reader.has_deletions() and reader._codec.__class__.__name__ == "W3Codec"


def _merge_into(writer: Any, segments: list[Any]) -> None:
    """Merge ``segments`` into the writer's new segment (the writer must add nothing)."""
    if writer.docnum or getattr(writer, "_added", False):
        raise ValueError("a fast merge merges segments only; this writer has documents")
    readers: list[SegmentReader] = []
    streams: list[Iterator[TermPostings]] = []
    sources: list[Source] = []
    for seg in segments:
        reader = SegmentReader(writer.storage, writer.schema, seg)
        readers.append(reader)
        names = set(writer.schema.names()) | {
            f for f in reader.indexed_field_names() if f in writer.schema}
        basedoc = writer.docnum
        docmap = writer.write_per_doc(names, _LengthsOnce(reader))
        streams.append(_segment_terms(reader, basedoc, docmap))
        sources.append((reader, basedoc))
    if all(_copyable(r) for r in readers):
        fw = writer.fieldwriter
        fw.add_postings = lambda schema, lengths, items: _copy_postings(fw, sources, schema)
        writer.pool = _NoPostings([], readers, writer.pool)
    else:
        writer.pool = _MergedPool(streams, readers, writer.pool)
    writer._added = True


def OPTIMIZE_FAST(writer: Any, segments: list[Any]) -> list[Any]:  # noqa: N802 - like Whoosh's
    """Merge policy: every segment into the writer's new one (the writer must add nothing)."""
    _merge_into(writer, segments)
    return []


def small_segments(segments: list[Any]) -> list[Any]:
    """The segments Whoosh's ``MERGE_SMALL`` would merge (its Fibonacci rule), or none.

    Sorted by size, smallest first; merged once there are more than four and
    they hold fewer documents than the next Fibonacci number: merges grow
    geometrically, so each document is rewritten a logarithmic number of times.
    """
    chosen: list[Any] = []
    total = 0
    for i, seg in enumerate(sorted(segments, key=lambda s: s.doc_count_all())):
        total += max(0, seg.doc_count_all())
        chosen.append(seg)
        if i > 3 and total < fib(i + 5):
            return chosen if len(chosen) > 1 else []
    return []


def MERGE_SMALL_FAST(writer: Any, segments: list[Any]) -> list[Any]:  # noqa: N802
    """Merge policy: ``MERGE_SMALL``'s choice, merged by ``_merge_into`` (the writer adds
    nothing). Whoosh's own merge pushes every posting through its sorting pool."""
    chosen = small_segments(segments)
    if chosen:
        _merge_into(writer, chosen)
    ids = {seg.segment_id() for seg in chosen}
    return [seg for seg in segments if seg.segment_id() not in ids]


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
