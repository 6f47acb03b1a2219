"""Search quality on OCR'd text: known-item queries and NIS queries (issue 4).

    .venv/bin/python bench/search_quality.py [--n 60] [--seed 7] [--degrade heavy] [--dpi 200]

Generates the shared synthetic corpus, ingests it for real (accept + process,
with OCR), indexes it (``search.indexer.index_pending``) and then asks:

* **Known-item queries:** for every page, 3 to 5 of its most distinctive
  words (the rarest in the corpus, four letters or more, no numbers), taken
  from the GROUND-TRUTH text, as a clerk would type them correctly, while
  the indexed text is the OCR output with its slips. Counts the share of
  queries with the right document among the first 10 results (target
  >= 95 %), for the default search and for ``fuzzy=True``.
* **NIS queries:** ``nis:<número>`` for every NIS linked in the database or
  present in the ground truth must return exactly the searchable documents
  linked to it in the database, and the index's ``nis`` field must agree
  with the database. Agreement with the ground truth (which depends on NIS
  recognition, not on search) is shown as information.
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select  # noqa: E402
from whoosh import query as wq  # noqa: E402

from archive.db import session_scope  # noqa: E402
from archive.models import Document, DocumentSupply, Page  # noqa: E402
from bench.common import add_corpus_arguments, fresh_services, ingest_corpus, make_corpus, tmpdir  # noqa: E402
from search import INDEXABLE, cached_searcher, index_pending, search  # noqa: E402
from search.analysis import fold, spanish_stop_words  # noqa: E402

WORD = re.compile(r"[^\W\d_]{4,}")
TOP = 10


def words(text: str) -> list[str]:
    stops = spanish_stop_words()
    return [w for w in WORD.findall(text) if fold(w) not in stops]


def known_item_query(text: str, df: Counter[str], rng: random.Random) -> str | None:
    """3 to 5 of the rarest words of ``text``, in page order, as typed by a clerk."""
    ws = words(text)
    distinct = list(dict.fromkeys(ws, None))
    if len(distinct) < 3:
        return None
    rng.shuffle(distinct)  # random among equally rare words
    distinct.sort(key=lambda w: df[fold(w)])
    k = rng.randint(3, 5)
    chosen = set(distinct[:k])
    ordered = list(dict.fromkeys(w for w in ws if w in chosen))
    return " ".join(ordered)


def _absent(svc, q: str, doc_id: int) -> str:  # type: ignore[no-untyped-def]
    """Which query words the OCR text of the document lacks, and its closest word to each.

    The closest word comes from the standard library (``difflib``): the report
    only explains a miss, and needs no extra dependency.
    """
    from difflib import get_close_matches

    with session_scope(svc.sessions) as s:
        texts = s.scalars(select(Page.text).where(Page.document_id == doc_id))
        text = " ".join(t or "" for t in texts)
    have = {fold(w) for w in re.findall(r"\w+", text)}
    out = []
    for w in q.split():
        if fold(w) not in have:
            best = get_close_matches(fold(w), have, n=1, cutoff=0.0)
            out.append(f"«{w}» (OCR: «{best[0]}»)" if best else f"«{w}»")
    return "faltan en el OCR: " + (", ".join(out) or "ninguna")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    add_corpus_arguments(ap, n=60, seed=7)
    ap.add_argument("--errores", type=int, default=8, help="Cuántos fallos mostrar.")
    args = ap.parse_args()

    work = tmpdir("archivo-calidad-busqueda-")
    docs = make_corpus(work / "corpus", n=args.n, seed=args.seed, degrade=args.degrade,
                       formats=args.formats, dpi=args.dpi, script=args.corpus)
    svc = fresh_services(work / "var")
    started = time.perf_counter()
    jobs = ingest_corpus(svc, docs)  # (doc index, file index, document id)
    ingest_s = time.perf_counter() - started
    t0 = time.perf_counter()
    index_pending(svc)
    index_s = time.perf_counter() - t0

    # (truth text, document id holding that page) for every page of the corpus
    pages: list[tuple[str, int]] = []
    for di, d in enumerate(docs):
        for _, fi, doc_id in (j for j in jobs if j[0] == di):
            truths = d.pages if len(d.files) == 1 else [d.pages[fi]]
            pages += [(p["text"], doc_id) for p in truths]
    df: Counter[str] = Counter()
    for text, _ in pages:
        df.update({fold(w) for w in words(text)})

    rng = random.Random(args.seed)
    queries = [(q, doc_id) for text, doc_id in pages
               if (q := known_item_query(text, df, rng)) is not None]
    found = {False: 0, True: 0}
    misses: dict[bool, list[str]] = {False: [], True: []}
    for q, doc_id in queries:
        for fuzzy in (False, True):
            res = search(svc, q, per_page=TOP, fuzzy=fuzzy, boxes=False)
            ids = [h.document_id for h in res.hits]
            if doc_id in ids:
                found[fuzzy] += 1
            else:
                misses[fuzzy].append(f"«{q}» -> documento {doc_id}: {res.total} resultado(s), "
                                     f"primeros {ids[:5]}; {_absent(svc, q, doc_id)}")

    # NIS: database links, the exact answer, the index's nis field, the ground truth
    with session_scope(svc.sessions) as s:
        searchable = set(s.scalars(select(Document.id).where(Document.status.in_(INDEXABLE))))
        linked: dict[str, set[int]] = {}
        for doc_id, nis in s.execute(select(DocumentSupply.document_id, DocumentSupply.nis)):
            if doc_id in searchable:
                linked.setdefault(nis, set()).add(doc_id)
    truth: dict[str, set[int]] = {}
    for di, d in enumerate(docs):
        for _, _, doc_id in (j for j in jobs if j[0] == di):
            for nis in d.nis:
                truth.setdefault(nis, set()).add(doc_id)
    searcher = cached_searcher(svc.settings.index_dir)
    doc_col = searcher.reader().column_reader("document_id")
    exact_ok = index_ok = truth_ok = 0
    nis_errors: list[str] = []
    all_nis = sorted(set(linked) | set(truth))
    for nis in all_nis:
        want = linked.get(nis, set())
        res = search(svc, f"nis:{nis}", per_page=100, boxes=False)
        got = {h.document_id for h in res.hits}
        in_index = {doc_col[n] for n in searcher.docs_for_query(wq.Term("nis", nis))}
        exact_ok += got == want and res.total == len(want)
        index_ok += in_index == want
        truth_ok += got == truth.get(nis, set())
        if got != want or in_index != want:
            nis_errors.append(f"NIS {nis}: base {sorted(want)}, respuesta {sorted(got)}, "
                              f"índice {sorted(in_index)}")

    n_pages = len(pages)
    print(f"corpus: {len(docs)} documentos ({len(jobs)} en el archivo), {n_pages} páginas, "
          f"degradación {args.degrade}, {args.dpi} dpi, semilla {args.seed}")
    print(f"ingesta con OCR {ingest_s:.1f} s; indexación {index_s:.1f} s")
    nq = len(queries)
    for fuzzy in (False, True):
        label = "con fuzzy=True " if fuzzy else "búsqueda normal"
        print(f"conocido en top {TOP} ({label}): {found[fuzzy]}/{nq} = "
              f"{found[fuzzy] / max(1, nq) * 100:.1f} %  (objetivo >= 95 %)")
    print(f"NIS: {len(all_nis)} números; "
          f"respuesta = vínculos de la base en {exact_ok}/{len(all_nis)}; "
          f"índice = base en {index_ok}/{len(all_nis)}; "
          f"respuesta = verdad del corpus en {truth_ok}/{len(all_nis)} (depende del OCR)")
    for fuzzy in (False, True):
        for line in misses[fuzzy][: args.errores]:
            print(f"  fallo{' (fuzzy)' if fuzzy else ''}:", line)
    for line in nis_errors[: args.errores]:
        print("  error NIS:", line)


if __name__ == "__main__":
    main()
