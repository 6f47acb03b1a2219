"""What a search returns: plain dataclasses, JSON-ready through ``as_dict`` (Spanish keys).

The snippet is HTML: the page text escaped, with ``<mark>`` around the hits.
Word boxes are in pixels of the page's web image, as stored by ingest.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

from archive.localtime import iso_local

MODE_TEXT = "texto"  # answered by the full-text index
MODE_EXACT = "exacto"  # an identifier answered by the database
MODE_EMPTY = "vacio"  # nothing to search for


@dataclass(frozen=True)
class WordBox:
    left: int
    top: int
    width: int
    height: int
    text: str

    def as_dict(self) -> dict[str, Any]:
        return {"x": self.left, "y": self.top, "ancho": self.width, "alto": self.height,
                "texto": self.text}


@dataclass
class DocumentHit:
    document_id: int
    archive_number: str
    doc_type: str
    doc_type_label: str
    status: str
    nis: list[str]
    document_date: dt.date | None
    received_at: dt.datetime | None
    title: str
    score: float | None  # None when answered from the database
    page: int  # best page (0: the document has no pages)
    snippet: str  # escaped HTML with <mark>
    boxes: list[WordBox] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "documento_id": self.document_id,
            "numero": self.archive_number,
            "tipo": self.doc_type,
            "tipo_nombre": self.doc_type_label,
            "estado": self.status,
            "nis": list(self.nis),
            "fecha": iso_local(self.document_date),
            "recibido": iso_local(self.received_at),  # the API's one format: local, with offset
            "titulo": self.title,
            "puntaje": round(self.score, 4) if self.score is not None else None,
            "pagina": self.page,
            "fragmento": self.snippet,
            "cajas": [b.as_dict() for b in self.boxes],
        }


@dataclass(frozen=True)
class FacetCount:
    value: str
    label: str
    count: int

    def as_dict(self) -> dict[str, Any]:
        return {"valor": self.value, "nombre": self.label, "cantidad": self.count}


@dataclass
class SearchResults:
    query: str
    mode: str
    total: int  # documents, not pages
    page: int
    per_page: int
    sort: str
    hits: list[DocumentHit] = field(default_factory=list)
    facets: dict[str, list[FacetCount]] = field(default_factory=dict)  # "tipo", "regional", "anio"
    message: str = ""

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page)) if self.per_page else 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "consulta": self.query,
            "modo": self.mode,
            "total": self.total,
            "pagina": self.page,
            "por_pagina": self.per_page,
            "paginas": self.pages,
            "orden": self.sort,
            "mensaje": self.message,
            "resultados": [h.as_dict() for h in self.hits],
            "facetas": {k: [f.as_dict() for f in v] for k, v in self.facets.items()},
        }
