"""Index data as numpy arrays, read once per segment and kept while the segment lives.

Whoosh matches and scores one posting at a time in Python, so a word found
on most of 200 000 pages costs a second or more. ``search.engine`` instead
works on whole posting lists as arrays; this module reads them.

A Whoosh segment never changes once written (only its deletion list does),
so everything read from one is cached under the segment's id: the per-page
columns (document id, page, date, type, regional units), the field lengths
BM25 needs, and the posting lists of recently searched terms (ids, weights
and, for phrases, positions). Postings are kept in one LRU bounded in bytes
and shared by every thread; a segment merged away simply stops being asked
for and ages out.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from pickle import loads
from typing import Any

import numpy as np
from whoosh.util.numeric import byte_to_length

# Bytes of posting arrays kept between queries (ids, weights, positions of recent terms).
POSTINGS_CACHE_BYTES = 384 * 1024 * 1024
# Positions are packed with the page number into one int64 key: page << POSITION_BITS | position.
POSITION_BITS = 24

# byte_to_length as a lookup table: lengths are stored as one lossy byte per page and field.
_LENGTHS = np.array([byte_to_length(b) for b in range(256)], dtype=np.float64)


class _Lru:
    """A byte-bounded LRU, safe to share between threads (arrays are never modified)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.size = 0
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, make: Callable[[], tuple[Any, int]]) -> Any:
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                return hit[0]
        value, size = make()  # outside the lock: reading postings may take a while
        with self._lock:
            if key not in self._items:
                self._items[key] = (value, size)
                self.size += size
            while self.size > self.limit and len(self._items) > 1:
                _, (_, old) = self._items.popitem(last=False)
                self.size -= old
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.size = 0


_postings = _Lru(POSTINGS_CACHE_BYTES)
_segments = _Lru(64)  # per-segment column arrays, counted in segments, not bytes


@dataclass(frozen=True)
class Postings:
    """One term's postings in one segment: local page numbers (sorted) and weights."""

    ids: np.ndarray  # int64
    weights: np.ndarray  # float64

    @property
    def nbytes(self) -> int:
        return int(self.ids.nbytes + self.weights.nbytes)


_EMPTY = Postings(np.zeros(0, np.int64), np.zeros(0, np.float64))


def segment_key(segreader: Any) -> Hashable:
    """Identity of a segment's immutable data (not of its deletions)."""
    seg = segreader.segment()
    folder = getattr(segreader.storage(), "folder", None)
    return (folder, seg.segment_id()) if seg is not None else ("reader", id(segreader))


def _raw_matcher(segreader: Any, fieldname: str, btext: bytes) -> Any:
    """The segment's own posting reader, without the deleted-documents filter."""
    return segreader._terms.matcher(fieldname, btext, segreader.schema[fieldname].format)


def _blocks(m: Any) -> Any:
    """(ids, weights, values, count) per posting block of a Whoosh 3 leaf matcher.

    Reads the block's pickled data directly: Whoosh's own accessors decode
    ids and weights one by one in Python.
    """
    while m.is_active():
        if m._data is None:
            m._read_data()
        deltas, weights, values = m._data
        yield deltas, weights, values, m._blocklength
        m._next_block()


def _weights(raw: Any, count: int) -> np.ndarray:
    if raw is None:
        return np.ones(count, np.float64)
    if isinstance(raw, float | int):
        return np.full(count, float(raw), np.float64)
    return np.asarray(raw, dtype=np.float64)


def _read_postings(segreader: Any, fieldname: str, btext: bytes) -> tuple[Postings, int]:
    if (fieldname, btext) not in segreader:
        return _EMPTY, 0
    m = _raw_matcher(segreader, fieldname, btext)
    if not hasattr(m, "_read_data"):  # inlined postings (a list matcher): the slow way is fine
        ids, ws = [], []
        while m.is_active():
            ids.append(m.id())
            ws.append(m.weight())
            m.next()
        p = Postings(np.asarray(ids, np.int64), np.asarray(ws, np.float64))
        return p, p.nbytes
    id_parts, w_parts = [], []
    for deltas, weights, _, count in _blocks(m):
        id_parts.append(np.cumsum(np.asarray(deltas, dtype=np.int64)))
        w_parts.append(_weights(weights, count))
    ids = _join_blocks(id_parts)
    p = Postings(ids, np.concatenate(w_parts) if w_parts else _EMPTY.weights)
    return p, p.nbytes


def _join_blocks(parts: list[np.ndarray]) -> np.ndarray:
    """Whoosh delta-encodes each block from 0, so every block's ids are absolute already."""
    return np.concatenate(parts) if parts else _EMPTY.ids


def postings(segreader: Any, fieldname: str, btext: bytes) -> Postings:
    """The term's postings in this segment (deleted pages included: callers mask them)."""
    key = ("p", segment_key(segreader), fieldname, btext)
    return _postings.get(key, lambda: _read_postings(segreader, fieldname, btext))


def _decode_positions(value: bytes) -> list[int]:
    # Positions format: 4-byte count, then a pickled list of deltas (its STOP byte may be cut).
    body = value[4:]
    if not body.endswith(b"."):
        body += b"."
    return loads(body)


def _read_positions(segreader: Any, fieldname: str, btext: bytes) -> tuple[np.ndarray, int]:
    """Sorted keys ``page << POSITION_BITS | position`` of every occurrence of the term."""
    if (fieldname, btext) not in segreader:
        return _EMPTY.ids, 0
    m = _raw_matcher(segreader, fieldname, btext)
    if not hasattr(m, "_read_data"):
        keys = []
        while m.is_active():
            pos = m.value_as("positions")
            keys.extend((m.id() << POSITION_BITS) | p for p in pos)
            m.next()
        arr = np.asarray(keys, np.int64)
        return arr, int(arr.nbytes)
    out = []
    for deltas, _, values, _ in _blocks(m):
        ids = np.cumsum(np.asarray(deltas, dtype=np.int64))
        lists = [_decode_positions(v) for v in values]
        counts = np.fromiter((len(x) for x in lists), np.int64, len(lists))
        flat = np.fromiter((d for x in lists for d in x), np.int64, int(counts.sum()))
        # Deltas restart at every posting: cumulative sum, minus the sum before each posting.
        csum = np.cumsum(flat)
        starts = np.repeat(np.concatenate(([0], csum[np.cumsum(counts)[:-1] - 1]))
                           if len(counts) else np.zeros(0, np.int64), counts)
        out.append((np.repeat(ids, counts) << POSITION_BITS) | (csum - starts))
    arr = np.concatenate(out) if out else _EMPTY.ids
    return arr, int(arr.nbytes)


def positions(segreader: Any, fieldname: str, btext: bytes) -> np.ndarray:
    key = ("pos", segment_key(segreader), fieldname, btext)
    return _postings.get(key, lambda: _read_positions(segreader, fieldname, btext))


@dataclass
class SegmentColumns:
    """Per-page values of one segment, as arrays indexed by the segment's page number."""

    document_id: np.ndarray  # int64
    page: np.ndarray  # int32
    date: np.ndarray  # int32, yyyymmdd (0: none)
    doc_type: np.ndarray  # int32 codes into ``types``
    types: list[str]
    regions: np.ndarray  # int32 codes into ``region_sets``
    region_sets: list[tuple[str, ...]]
    lengths: dict[str, np.ndarray]  # field -> page length (float64), for BM25


def _raw_numeric(reader: Any, n: int) -> np.ndarray | None:
    """A Whoosh ``NumericColumn`` reader's values in one read (big-endian, default-padded)."""
    try:
        dbfile, base, count = reader._dbfile, reader._basepos, reader._count
        code, default = reader._typecode, reader._default
    except AttributeError:
        return None
    dtype = np.dtype(">" + code)
    out = np.full(n, default, dtype=dtype.newbyteorder("="))
    if count:
        out[:count] = np.frombuffer(dbfile.get(base, count * dtype.itemsize), dtype=dtype)
    return out


def _numbers(segreader: Any, fieldname: str) -> np.ndarray:
    """A numeric column as int64 (missing values 0), read in bulk where the format allows."""
    n = segreader.doc_count_all()
    if not segreader.has_column(fieldname):
        return np.zeros(n, np.int64)
    perdoc = getattr(segreader, "_perdoc", None)
    field = segreader.schema[fieldname]
    raw = None
    if perdoc is not None and perdoc.has_column(fieldname):
        raw = _raw_numeric(perdoc.column_reader(fieldname, field.column_type), n)
    if raw is not None and n:
        # Whoosh stores ints shifted to be sortable as unsigned: undo with one subtraction,
        # after checking that it is one (the default of absent values must map to 0).
        probe = int(raw[0])
        shift = probe - int(field.from_column_value(probe))
        if all(int(field.from_column_value(int(x))) == int(x) - shift
               for x in (raw[-1], raw.min(), raw.max())):
            values = (raw.astype(np.uint64) - np.uint64(shift % 2**64)).view(np.int64)
            return values
    return np.fromiter((v or 0 for v in segreader.column_reader(fieldname)), np.int64, n)


def _strings(segreader: Any, fieldname: str) -> list[Any]:
    """A bytes column, one value per page (None where the segment has no such column)."""
    n = segreader.doc_count_all()
    if not segreader.has_column(fieldname):
        return [None] * n
    perdoc = getattr(segreader, "_perdoc", None)
    reader = perdoc.column_reader(fieldname, segreader.schema[fieldname].column_type) \
        if perdoc is not None else None
    offsets, lengths = getattr(reader, "_offsets", None), getattr(reader, "_lengths", None)
    if offsets is None or lengths is None or len(offsets) != n:
        return list(segreader.column_reader(fieldname))
    total = (int(offsets[-1]) + int(lengths[-1])) if n else 0
    blob = reader._dbfile.get(reader._basepos, total) if total else b""
    return [blob[o:o + ln] for o, ln in zip(offsets, lengths)]


def _codes(values: list[Any], decode: Callable[[Any], Hashable]) -> tuple[np.ndarray, list[Any]]:
    """Small integer codes for repeated values: decode each distinct raw value once."""
    raw_table: dict[Any, int] = {}
    names: list[Any] = []
    table: dict[Hashable, int] = {}

    def code(raw: Any) -> int:
        got = raw_table.get(raw)
        if got is None:
            name = decode(raw)
            got = raw_table[raw] = table.setdefault(name, len(table))
            if got == len(names):
                names.append(name)
        return got

    return np.fromiter((code(v) for v in values), np.int32, len(values)), names


def _text(raw: Any) -> str:
    return raw.decode("utf-8") if isinstance(raw, bytes) else str(raw or "")


def _region_set(raw: Any) -> tuple[str, ...]:
    return tuple(sorted({c.upper() for c in _text(raw).split(",") if c}))


def _read_columns(segreader: Any, length_fields: tuple[str, ...]) -> tuple[SegmentColumns, int]:
    n = segreader.doc_count_all()
    types, type_names = _codes(_strings(segreader, "doc_type"), _text)
    regions, region_sets = _codes(_strings(segreader, "regional_codes"), _region_set)
    lengths: dict[str, np.ndarray] = {}
    perdoc = getattr(segreader, "_perdoc", None)
    for name in length_fields:
        col = perdoc._cached_reader(f"_{name}_len", _lengths_column()) \
            if hasattr(perdoc, "_cached_reader") else None
        raw = _raw_numeric(col, n) if col is not None else None
        if raw is not None:  # Whoosh 3 segment: one lossy length byte per page
            lengths[name] = _LENGTHS[raw.astype(np.uint8)]
        else:
            lengths[name] = np.fromiter((segreader.doc_field_length(d, name, 0) or 0
                                         for d in range(n)), np.float64, n)
    cols = SegmentColumns(
        document_id=_numbers(segreader, "document_id"),
        page=_numbers(segreader, "page").astype(np.int32),
        date=_numbers(segreader, "date").astype(np.int32),
        doc_type=types, types=type_names, regions=regions, region_sets=region_sets,
        lengths=lengths)
    return cols, 1


def _lengths_column() -> Any:
    from whoosh.codec.whoosh3 import LENGTHS_COLUMN
    return LENGTHS_COLUMN


def segment_columns(segreader: Any, length_fields: tuple[str, ...]) -> SegmentColumns:
    key = ("cols", segment_key(segreader), length_fields)
    return _segments.get(key, lambda: _read_columns(segreader, length_fields))


def cached_bytes() -> int:
    """Bytes of posting arrays held between queries now."""
    return _postings.size


def clear_caches() -> None:
    """Forget every cached array (tests; a recreated index gets new segment ids anyway)."""
    _postings.clear()
    _segments.clear()
