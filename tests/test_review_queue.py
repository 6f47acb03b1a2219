"""The review queue read model: order, filters, pagination, candidates, best page, NIS boxes."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Iterator

import pytest

from archive.db import read_scope
from archive.enums import DocumentStatus, DocumentType, LinkSource
from archive.errors import ArchivoError
from archive.review_queue import ReviewFilters, list_review, nis_boxes, reason_counts, review_item
from archive.registry import import_supplies
from archive.services import Services
from archive.words import Word
from tests.registry_helpers import HEADER, registry_services, rows, write
from tests.test_supply_file import make_document

REVISAR = DocumentStatus.REVISAR
T0 = dt.datetime(2026, 2, 1, 8, tzinfo=dt.timezone.utc)


@pytest.fixture
def svc(tmp_path: Path, db_url: str) -> Iterator[Services]:
    s = registry_services(tmp_path, db_url)
    # 1000000 CEN, 1000001 SUR, 1000002 Regional Este, 1000003 norte
    import_supplies(s, write(tmp_path / "p.csv", [HEADER, *rows(4)]), actor="t")
    yield s
    s.dispose()


def _at(hours: int) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


def test_oldest_first_filters_and_pages(svc: Services) -> None:
    newest = make_document(svc, {"1000001": 0.9}, status=REVISAR, reasons="ocr_baja_confianza",
                           received=_at(5), doc_type=DocumentType.CONTRATO, source=LinkSource.OCR)
    oldest = make_document(svc, {}, status=REVISAR, reasons="sin_nis,ocr_baja_confianza",
                           received=_at(1))
    middle = make_document(svc, {"9990001": 0.54}, status=REVISAR,
                           reasons="sin_nis,nis_desconocido", received=_at(3),
                           doc_type=DocumentType.CONTRATO, source=LinkSource.OCR)
    make_document(svc, ["1000001"], status=DocumentStatus.LISTO, received=_at(0))  # not in review
    south = make_document(svc, {"1000001": 0.6, "1000000": 0.58}, status=REVISAR,
                          reasons="tipo_incierto", received=_at(4), source=LinkSource.OCR)

    with read_scope(svc.sessions) as s:
        everything = list_review(s)
        assert [i.id for i in everything.items] == [oldest, middle, south, newest]
        assert everything.total == 4 and everything.pages == 1

        def ids(**kw: str) -> list[int]:
            return [i.id for i in list_review(s, ReviewFilters.parse(**kw)).items]

        assert ids(reason="sin_nis") == [oldest, middle]
        assert ids(reason="ocr_baja_confianza") == [oldest, newest]
        assert ids(reason="nis_desconocido") == [middle]
        assert ids(doc_type="contrato") == [middle, newest]
        assert ids(doc_type="Contrato de suministro", reason="sin_nis") == [middle]
        assert ids(regional="sur") == [south, newest]
        assert ids(regional="CEN") == [south]
        assert ids(regional="CEN", reason="ocr_baja_confianza") == []

        first = list_review(s, page=1, per_page=3)
        second = list_review(s, page=2, per_page=3)
        assert [i.id for i in first.items] == [oldest, middle, south]
        assert [i.id for i in second.items] == [newest]
        assert (second.total, second.pages, second.page) == (4, 2, 2)
        assert list_review(s, page=9, per_page=3).items == []

        counts = {code: n for code, _label, n in reason_counts(s)}
        assert counts == {"sin_texto": 0, "sin_nis": 2, "nis_desconocido": 1,
                          "ocr_baja_confianza": 2, "tipo_incierto": 1,
                          "sin_separador": 0, "separador_invalido": 0}

        with pytest.raises(ArchivoError, match="no es un motivo"):
            ReviewFilters.parse(reason="borroso")
        with pytest.raises(ArchivoError, match="Tipo de documento"):
            ReviewFilters.parse(doc_type="factura")
        with pytest.raises(ArchivoError, match="No existe la unidad regional"):
            list_review(s, ReviewFilters.parse(regional="XYZ"))


def test_items_carry_reasons_candidates_and_best_page(svc: Services) -> None:
    doc = make_document(svc, {"1000002": 0.95, "9990001": 0.57}, status=REVISAR,
                        reasons="nis_desconocido", source=LinkSource.OCR,
                        pages=["Carátula sin números", "Reclamo NIS: 9.990.001 y NIS 1000002",
                               "NIS 1000002 otra vez"])
    with read_scope(svc.sessions) as s:
        item = review_item(s, doc)
        page = list_review(s)
    assert item is not None and page.items[0] == item
    assert item.reasons == (("nis_desconocido", "NIS 9990001 no figura en el padrón de suministros"),)
    assert [c.nis for c in item.candidates] == ["1000002", "9990001"]  # most confident first
    known, unknown = item.candidates
    assert known.in_registry and known.holder_name == "Titular 2" and known.source == "ocr"
    assert known.regional_unit_code == "EST"
    assert not unknown.in_registry and unknown.holder_name == "" and unknown.confidence == 0.57
    assert item.best_page is not None and item.best_page.number == 2
    assert item.best_page.matched_nis == ("1000002", "9990001")
    data = item.as_dict()
    assert data["motivos"][0]["codigo"] == "nis_desconocido"
    assert data["candidatos"][1]["en_registro"] is False and data["pagina"]["numero"] == 2

    plain = make_document(svc, {}, status=REVISAR, reasons="sin_nis", pages=["uno", "dos"])
    with read_scope(svc.sessions) as s:
        first = review_item(s, plain)
    assert first is not None and first.best_page is not None
    assert first.best_page.number == 1 and first.best_page.matched_nis == ()


def _words(*texts: str, line: int = 0) -> list[Word]:
    return [Word(t, 100 * i, 50, 80, 20, 90.0, line) for i, t in enumerate(texts)]


def test_nis_boxes_find_the_words_that_spell_a_nis() -> None:
    one = nis_boxes(_words("Suministro", "NIS:", "4.992.383", "Asunción"), ["4992383"])
    assert [(b.nis, b.left, b.width) for b in one] == [("4992383", 200, 80)]
    glued = nis_boxes(_words("NIS:4992383,"), ["4992383"])
    assert [(b.left, b.width) for b in glued] == [(0, 80)]
    split = nis_boxes(_words("NIS", "4", "992", "383", "fin"), ["4992383"])
    assert [(b.left, b.top, b.width, b.height) for b in split] == [(100, 50, 280, 20)]
    misread = nis_boxes(_words("N°", "49923B3"), ["4992383"])  # OCR read an 8 as B
    assert len(misread) == 1 and misread[0].left == 100
    assert nis_boxes(_words("149923831"), ["4992383"]) == []  # inside a longer number
    two_lines = _words("4", "992") + [Word("383", 0, 90, 60, 20, 90.0, 1)]
    assert nis_boxes(two_lines, ["4992383"]) == []  # a number never spans lines
    both = nis_boxes(_words("1000002", "y", "9990001"), ["9990001", "1000002"])
    assert [b.nis for b in both] == ["1000002", "9990001"]
