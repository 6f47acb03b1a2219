"""Whoosh schema: one entry per page, carrying the fields of its document.

Bump ``SCHEMA_VERSION`` whenever the schema, an analyzer or the way entries
are built changes: an index with another version is rebuilt from the database
(the index is derived data). Field names are internal; users type the Spanish
aliases of ``search.parse``.
"""

from __future__ import annotations

from whoosh.fields import COLUMN, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema

from .analysis import FastText, spanish_analyzer

# 3: no word positions in the stemmed fields (phrases only ever search ``text_exact``);
#    page text analysed in one pass for both fields (``FastText``).
SCHEMA_VERSION = 3

# Fields holding canonical identifiers (see ``search.identifiers``), one KEYWORD each.
IDENTIFIER_FIELDS = ("cedula", "ruc", "expediente", "ot")
# Free text is searched in these fields, with these weights (exact words rank higher).
TEXT_FIELDS = {"text": 1.0, "text_exact": 1.5, "title": 0.5}


def build_schema() -> Schema:
    return Schema(
        key=ID(stored=True, unique=True),  # "<document_id>:<page>"
        document_id=NUMERIC(int, bits=64, stored=True, sortable=True),
        page=NUMERIC(int, stored=True, sortable=True),
        archive_number=ID(),  # canonical "ARC-2026-000123"
        doc_type=ID(sortable=True),
        nis=KEYWORD(commas=True),
        regional=KEYWORD(commas=True, lowercase=True),
        regional_codes=COLUMN(),  # the same codes as one value, for facet counts
        cedula=KEYWORD(commas=True),
        ruc=KEYWORD(commas=True),
        expediente=KEYWORD(commas=True),
        ot=KEYWORD(commas=True),
        date=NUMERIC(int, sortable=True),  # yyyymmdd: document date, else the reception date
        year=ID(),  # of ``date``: whole-year filters are one term each, not a numeric range
        document_date=NUMERIC(int),
        received=NUMERIC(int),
        # Positions only where phrases are matched ("quoted" = as written: ``text_exact``);
        # storing them for the stemmed fields too cost index time and space for nothing.
        title=TEXT(analyzer=spanish_analyzer(), phrase=False),
        # Page text: both analyses in one pass over the text (``FastText``).
        text=FastText("stems", phrase=False),
        text_exact=FastText("exact"),
        stamp=STORED(),  # fingerprint of the entry, to find stale ones
    )
