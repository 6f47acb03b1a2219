"""Whoosh schema: one entry per page, carrying the fields of its document.

Bump ``SCHEMA_VERSION`` whenever the schema or an analyzer changes: an index
with another version is rebuilt from the database (the index is derived data).
"""

from __future__ import annotations

from whoosh.analysis import CharsetFilter, LanguageAnalyzer, LowercaseFilter, RegexTokenizer
from whoosh.fields import DATETIME, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.support.charset import accent_map

SCHEMA_VERSION = 1


def spanish_analyzer():  # type: ignore[no-untyped-def]
    """Lowercase, Spanish stop words and stemming, then accent folding."""
    return LanguageAnalyzer("es") | CharsetFilter(accent_map)


def exact_analyzer():  # type: ignore[no-untyped-def]
    """Unstemmed words and numbers, accent-folded, so exact terms still match."""
    return RegexTokenizer(r"\w+(?:[.\-/]\w+)*") | LowercaseFilter() | CharsetFilter(accent_map)


def build_schema() -> Schema:
    return Schema(
        key=ID(stored=True, unique=True),  # "<document_id>:<page>"
        document_id=NUMERIC(stored=True, bits=64),
        page=NUMERIC(stored=True),
        archive_number=ID(stored=True),
        doc_type=ID(stored=True),
        nis=KEYWORD(stored=True, commas=True),
        regional=KEYWORD(stored=True, commas=True, lowercase=True),
        identifiers=KEYWORD(stored=True, commas=True),
        document_date=DATETIME(stored=True),
        received_at=DATETIME(stored=True),
        title=TEXT(analyzer=spanish_analyzer(), stored=True),
        text=TEXT(analyzer=spanish_analyzer(), stored=True, chars=True),
        text_exact=TEXT(analyzer=exact_analyzer()),
        status=STORED(),
    )
