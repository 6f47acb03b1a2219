"""Search speed: our Whoosh index against SQLite FTS5 on the same pages, in one process.

    .venv/bin/python bench/search.py [--pages 20000] [--runs 30] [--seed 7] [--keep DIR]
    .venv/bin/python bench/search.py --keep DIR --solo-consultas [--runs 30]

Builds a throw-away archive (SQLite, folder store) with ``--pages`` generated
pages of customer-service Spanish (1-4 pages per document, NIS, cédulas,
dates, amounts, place names), inserted as database rows as ingest would leave
them, with no OCR. Then:

* indexing: ``search.indexer.rebuild`` (what ``archivo reindex`` runs: database
  read + Whoosh write, batches of 2,000 documents written as segments by one
  worker process per core and committed one by one, one final merge into a
  single segment) in pages per second, by wall clock and by CPU time of this
  process and its workers (the machine may be shared), against inserting the same
  texts into an FTS5 table (``unicode61 remove_diacritics 2``; FTS5 has no
  Spanish stemmer), committing every 1,000 pages;
* the warm-up a server does at start (``search.query.warm_up``: the per-page
  columns, and the positions of the words most phrases hold);
* query latency: the first run of each query (cold caches) and p50 and p95
  over ``--runs`` further runs, of
  ``search.query.search`` (grouping by document, facets, the first 20
  documents with snippets read from the database; no word boxes) against an
  FTS5 query that also groups pages by document and returns the best 20 plus
  the document count (no facets, no snippets). An exact NIS is answered from
  the database by ``search`` (no index at all); its baseline is FTS5 matching
  the number in the text.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import hashlib
import random
import re
import shutil
import sqlite3
import statistics
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and "search" would name this
# file instead of the package being measured.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

from sqlalchemy import insert, select  # noqa: E402

from archive.config import load_settings  # noqa: E402
from archive.db import session_scope  # noqa: E402
from archive.enums import DocumentStatus, DocumentType, LinkSource  # noqa: E402
from archive.models import Blob, Document, DocumentIdentifier, DocumentSupply, Page, Supply  # noqa: E402
from archive.services import Services  # noqa: E402
from archivo_cli.bootstrap import initialize  # noqa: E402
from search import rebuild, search, warm_up, worker_count  # noqa: E402

CITIES = ["Asunción", "Capiatá", "Luque", "San Lorenzo", "Lambaré", "Fernando de la Mora",
          "Encarnación", "Ciudad del Este", "Concepción", "Coronel Oviedo", "Caacupé", "Itauguá",
          "Villa Hayes", "San Juan Bautista", "Pedro Juan Caballero", "Limpio", "Ñemby"]
NAMES = ["María Benítez", "Juan Ramírez", "Rosa Giménez", "Carlos Ortiz", "Ana Duarte",
         "Luis Martínez", "Graciela Villalba", "Pedro Acosta", "Teresa Cáceres", "José Báez",
         "Liz Fernández", "Hugo Insfrán", "Mirta Ayala", "Óscar Núñez", "Celia Rojas"]
STREETS = ["Mariscal López", "España", "Eusebio Ayala", "Artigas", "Fernando de la Mora",
           "San Martín", "Molas López", "Primer Presidente", "Defensores del Chaco"]
APPLIANCES = ["heladera", "televisor", "lavarropas", "acondicionador de aire", "microondas",
              "congelador", "computadora", "bomba de agua", "ventilador", "termocalefón"]
SENTENCES = [
    "Por la presente me dirijo a ustedes a fin de solicitar {what} del suministro NIS {nis}.",
    "El titular {name}, con C.I. N° {ci}, declara domicilio en la calle {street} N° {num}, "
    "ciudad de {city}.",
    "En fecha {date} se produjo un corte de energía seguido de una sobretensión que dañó "
    "{appliance} del usuario.",
    "Se adjunta factura de compra del artefacto por un monto de Gs. {amount} y presupuesto de "
    "reparación del servicio técnico.",
    "Denuncia el robo de medidor ocurrido durante la noche del {date}; el medidor N° {meter} "
    "fue retirado sin autorización.",
    "La cuadrilla verificó la conexión y constató que el transformador del puesto {post} "
    "presentaba fallas.",
    "Se deja constancia de que el usuario no registra deudas pendientes a la fecha {date}.",
    "Conforme al reglamento vigente, la empresa procederá a la inspección de las instalaciones "
    "internas del inmueble.",
    "El cliente firma el acuerdo de pago en {n} cuotas mensuales por la deuda de Gs. {amount}.",
    "Se solicita la devolución de la garantía abonada al momento de la conexión del suministro.",
    "Orden de trabajo N° {ot} para el cambio de medidor monofásico por uno trifásico.",
    "Expediente N° {exp} remitido a la Gerencia Comercial para su consideración.",
    "La escribanía solicita el certificado de estado de cuenta del inmueble ubicado en {city}.",
    "Se aprueba la baja del suministro a pedido del titular y el retiro del medidor.",
    "Sin otro particular, saludo a ustedes atentamente.",
]
WHATS = ["la revisión", "el cambio de titularidad", "la reconexión", "el aumento de carga",
         "la baja", "la verificación del medidor"]
TYPES = [DocumentType.RECLAMO_ELECTRODOMESTICO, DocumentType.CONTRATO,
         DocumentType.DENUNCIA_ROBO_MEDIDOR, DocumentType.ORDEN_TRABAJO, DocumentType.EXPEDIENTE,
         DocumentType.ACUERDO_PAGO, DocumentType.ALTA_BAJA, DocumentType.OTRO]
REGIONS = [None, 1, 2, 3, 4, 5, 6, 7, 8]


def dotted(n: int) -> str:
    return f"{n:,}".replace(",", ".")


def page_text(rng: random.Random, nis: str, ci: int, day: dt.date) -> str:
    """About 1,500 characters of plausible OCR'd text."""
    out: list[str] = []
    while sum(len(s) for s in out) < 1400:
        tmpl = rng.choice(SENTENCES)
        out.append(tmpl.format(
            what=rng.choice(WHATS), nis=nis if rng.random() < 0.5 else dotted(int(nis)),
            name=rng.choice(NAMES), ci=dotted(ci), street=rng.choice(STREETS),
            num=rng.randint(10, 4000), city=rng.choice(CITIES), date=day.strftime("%d/%m/%Y"),
            appliance=rng.choice(APPLIANCES), amount=dotted(rng.randint(50, 9000) * 1000),
            meter=rng.randint(10**7, 10**8 - 1), post=rng.randint(100, 9999),
            n=rng.randint(2, 24), ot=f"{day.year}-{rng.randint(1, 999999):06d}",
            exp=f"{rng.randint(1, 9999)}/{day.year}"))
    return " ".join(out)


Meta = tuple[int, str, int, str, str]  # document id, type, yyyymmdd, regional code, NIS


def build(svc: Services, pages: int,
          seed: int) -> tuple[list[Meta], list[str], list[tuple[int, str]]]:
    """Insert the corpus as rows; returns (document metadata, some NIS, (document, text) pages)."""
    rng = random.Random(seed)
    blobs, docs, page_rows, links, idents = [], [], [], [], []
    meta: list[Meta] = []
    codes = {1: "CEN", 2: "SUR", 3: "EST", 4: "NOR", 5: "CTR", 6: "MIS", 7: "CHA", 8: "COR"}
    supplies: dict[str, int | None] = {}
    doc_id = 0
    while len(page_rows) < pages:
        doc_id += 1
        nis = str(rng.randint(1_000_000, 9_999_999))
        ci = rng.randint(500_000, 7_999_999)
        day = dt.date(2010, 1, 1) + dt.timedelta(days=rng.randint(0, 15 * 365))
        sha = hashlib.sha256(f"bench-{seed}-{doc_id}".encode()).hexdigest()
        dtype = rng.choice(TYPES)
        blobs.append(dict(id=doc_id, sha256=sha, size=1, media_type="image/tiff",
                          storage_key=f"originals/{sha}"))
        n_pages = min(rng.choice([1, 1, 2, 2, 3, 4]), pages - len(page_rows))
        docs.append(dict(id=doc_id, archive_number=f"ARC-{day.year}-{doc_id:06d}", doc_type=dtype,
                         status=DocumentStatus.LISTO, title=f"{dtype.label} · NIS {nis}",
                         document_date=day, original_blob_id=doc_id, page_count=n_pages,
                         index_due=True))
        for n in range(1, n_pages + 1):
            text = page_text(rng, nis, ci, day)
            page_rows.append(dict(document_id=doc_id, number=n, text=text))
        links.append(dict(document_id=doc_id, nis=nis, source=LinkSource.OCR, confidence=0.95))
        idents.append(dict(document_id=doc_id, kind="cedula", value=str(ci)))
        supplies[nis] = region = rng.choice(REGIONS)
        meta.append((doc_id, dtype.value, day.year * 10000 + day.month * 100 + day.day,
                     codes.get(region or 0, ""), nis))
    with session_scope(svc.sessions) as s:
        s.execute(insert(Supply), [dict(nis=k, regional_unit_id=v) for k, v in supplies.items()])
        for model, rows in ((Blob, blobs), (Document, docs), (Page, page_rows),
                            (DocumentSupply, links), (DocumentIdentifier, idents)):
            s.execute(insert(model), rows)
    some_nis = [link["nis"] for link in links[:: max(1, len(links) // 50)]]
    return meta, some_nis, [(r["document_id"], r["text"]) for r in page_rows]


def fts_build(path: Path, meta: list[Meta], pages: list[tuple[int, str]]) -> sqlite3.Connection:
    """The baseline: one FTS5 row per page, plus a plain table of document metadata."""
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE docs (id INTEGER PRIMARY KEY, type TEXT, day INTEGER, region TEXT, "
               "nis TEXT)")
    db.execute("CREATE INDEX docs_type_day ON docs(type, day)")
    db.execute("CREATE INDEX docs_nis ON docs(nis)")
    db.executemany("INSERT INTO docs VALUES (?, ?, ?, ?, ?)", meta)
    db.execute("CREATE VIRTUAL TABLE pages USING fts5(doc UNINDEXED, text, "
               "tokenize='unicode61 remove_diacritics 2')")
    for start in range(0, len(pages), 1000):
        db.executemany("INSERT INTO pages(doc, text) VALUES (?, ?)", pages[start:start + 1000])
        db.commit()  # commit per chunk, as the indexer does
    return db


def fts_query(db: sqlite3.Connection, match: str, where: str = "1") -> int:
    """Best 20 documents (best page each) and the document count, like a result page."""
    hits = ("WITH h AS MATERIALIZED (SELECT doc, bm25(pages) AS s FROM pages "
            "WHERE pages MATCH ?) ")
    rest = f"FROM h JOIN docs ON docs.id = h.doc WHERE {where}"
    db.execute(f"{hits} SELECT doc, MIN(s) AS best {rest} GROUP BY doc ORDER BY best LIMIT 20",
               (match,)).fetchall()
    return int(db.execute(f"{hits} SELECT COUNT(DISTINCT doc) {rest}", (match,)).fetchone()[0])


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float, float, object]:
    """(first run, p50, p95, result) in ms; the first run (cold caches) is not in p50/p95."""
    t = time.perf_counter()
    fn()  # warm caches on both sides alike
    first = (time.perf_counter() - t) * 1000
    out: object = None
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        out = fn()
        samples.append((time.perf_counter() - t) * 1000)
    samples.sort()
    p95 = samples[min(len(samples) - 1, int(round(0.95 * (len(samples) - 1))))]
    return first, statistics.median(samples), p95, out


def _cpu_with_children() -> float:
    """CPU seconds of this process and of its finished children (the rebuild's workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def folder_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def _build_and_index(svc: Services, home: Path, n_pages: int,
                     seed: int) -> tuple[sqlite3.Connection, list[str], list[tuple[int, str]]]:
    """Load the corpus, index it both ways and print the indexing figures."""
    t = time.perf_counter()
    meta, some_nis, pages = build(svc, n_pages, seed)
    chars = sum(len(text) for _, text in pages) / len(pages)
    print(f"Corpus: {len(pages)} páginas, {len(meta)} documentos, "
          f"{chars:.0f} caracteres por página "
          f"(carga en la base: {time.perf_counter() - t:.1f} s)")

    t, cpu = time.perf_counter(), _cpu_with_children()
    indexed = rebuild(svc)
    ours_s, ours_cpu = time.perf_counter() - t, _cpu_with_children() - cpu
    t = time.perf_counter()
    fts = fts_build(home / "fts.db", meta, pages)
    fts_s = time.perf_counter() - t
    n = len(pages)
    print(f"Indexación: archivo (Whoosh) {n / ours_s:,.0f} páginas/s ({indexed} documentos "
          f"en {ours_s:.1f} s con {worker_count()} proceso(s) de escritura, "
          f"índice {folder_mb(svc.settings.index_dir):.0f} MB); por tiempo de CPU (este "
          f"proceso y sus trabajadores) {n / ours_cpu:,.0f} páginas/s ({ours_cpu:.1f} s)")
    print(f"            FTS5 {n / fts_s:,.0f} páginas/s ({fts_s:.1f} s, "
          f"{(home / 'fts.db').stat().st_size / 1e6:.0f} MB); "
          f"FTS5 es {ours_s / fts_s:.1f} veces más rápido")

    return fts, some_nis, pages


def _kept_corpus(svc: Services) -> tuple[list[str], list[tuple[int, str]]]:
    """The NIS sample and pages of a kept run, chosen as ``build`` chose them."""
    with session_scope(svc.sessions) as s:
        links = [nis for (nis,) in s.execute(
            select(DocumentSupply.nis).order_by(DocumentSupply.document_id))]
        pages = [(d, t or "") for d, t in s.execute(
            select(Page.document_id, Page.text).order_by(Page.document_id, Page.number))]
    return links[:: max(1, len(links) // 50)], pages


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=20_000)
    ap.add_argument("--runs", type=int, default=30)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--keep", type=Path, default=None, help="build here and keep it")
    ap.add_argument("--solo-consultas", action="store_true",
                    help="reuse the archive, index and FTS5 table left in --keep by an earlier "
                         "run with the same --pages/--seed: time the queries only")
    args = ap.parse_args()
    if args.solo_consultas and args.keep is None:
        ap.error("--solo-consultas needs --keep DIR")
    home = args.keep or Path(tempfile.mkdtemp(prefix="archivo-bench-busqueda-"))
    try:
        svc = Services(load_settings({"ARCHIVO_HOME": str(home)}))
        if args.solo_consultas:
            fts = sqlite3.connect(home / "fts.db")
            some_nis, pages = _kept_corpus(svc)
            print(f"Corpus conservado en {home}: {len(pages)} páginas "
                  f"(índice {folder_mb(svc.settings.index_dir):.0f} MB)")
        else:
            initialize(svc)
            fts, some_nis, pages = _build_and_index(svc, home, args.pages, args.seed)
        nis = some_nis[len(some_nis) // 2]
        # A meter number written on one page: a rare term (not a NIS, cédula or RUC, so the
        # database lookup finds nothing and the text index answers).
        meter = next(m.group(1) for _, text in pages[len(pages) // 3:]
                     if (m := re.search(r"medidor N° (\d+)", text)))
        # The generated corpus (hundreds of MB of Python strings) is not needed any more:
        # kept, every garbage collection during the timed queries would walk it, which a
        # server process does not have to do.
        del pages
        gc.collect()
        queries = [  # (label, our query, FTS5 MATCH, FTS5 metadata filter)
            ("término raro (n.º de medidor)", meter, meter, "1"),
            ("palabra", "heladera", "heladera", "1"),
            ("palabra muy común", "suministro", "suministro", "1"),
            ("palabra (plural, sin tilde)", "transformadores", "transformadores", "1"),
            ("dos palabras", "corte energia", "corte energia", "1"),
            ("frase", '"robo de medidor"', '"robo de medidor"', "1"),
            ("filtros tipo+fecha", "tipo:reclamo_electrodomestico fecha:2015..2018 heladera",
             "heladera", "type = 'reclamo_electrodomestico' AND day BETWEEN 20150101 AND 20181231"),
            ("filtro regional", "regional:sur medidor", "medidor", "region = 'SUR'"),
            ("NIS + palabra", f"nis:{nis} medidor", "medidor", f"nis = '{nis}'"),
            # FTS5 splits "4.992.383" at the dots: look for both spellings.
            ("NIS exacto (base de datos)", dotted(int(nis)),
             f'"{dotted(int(nis)).replace(".", " ")}" OR {nis}', "1"),
        ]
        # What a server does at start (search.query.warm_up): read the per-page columns
        # (document, page, date, type, regional units, lengths) into arrays, and the
        # positions of the words most phrases hold. Without it the first search pays.
        t = time.perf_counter()
        warm_up(svc)
        print(f"\nPrecarga del índice (la hace el servidor al arrancar, en segundo plano): "
              f"{(time.perf_counter() - t) * 1000:.0f} ms")
        print(f"\nLatencia por consulta, {args.runs} repeticiones (ms); «1ª»: la primera vez "
              "que se busca (tras la precarga, nada más en caché), fuera de p50/p95:")
        print(f"{'consulta':30} {'docs':>6} {'1ª':>7} {'p50':>7} {'p95':>7} | {'FTS5 p50':>8} "
              f"{'p95':>7} {'docs':>6} | {'p50/FTS5':>8} {'p95/FTS5':>8}")
        for label, ours, theirs, where in queries:
            first, p50, p95, res = timed(lambda q=ours: search(svc, q, boxes=False), args.runs)
            _, f50, f95, ftotal = timed(lambda m=theirs, w=where: fts_query(fts, m, w), args.runs)
            total = res.total  # type: ignore[attr-defined]
            print(f"{label:30} {total:>6} {first:>7.1f} {p50:>7.1f} {p95:>7.1f} | {f50:>8.1f} "
                  f"{f95:>7.1f} {ftotal:>6} | {p50 / f50 if f50 else float('inf'):>7.1f}x "
                  f"{p95 / f95 if f95 else float('inf'):>7.1f}x")
        fts.close()
        svc.dispose()
    finally:
        if args.keep is None:
            shutil.rmtree(home, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
