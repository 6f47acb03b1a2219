"""Recognition quality of the whole ingest pipeline on the shared synthetic corpus.

    .venv/bin/python bench/quality.py [--n 40] [--seed 3] [--degrade heavy] [--dpi 200]

Ingests every generated document through accept + process (real OCR), then
compares with the ground truth: NIS link precision and recall, document type
accuracy, and character error rate per page (whitespace collapsed, since
line layout is not what the clerks search by). Targets (issue 3):
precision >= 0.99, recall >= 0.97, type accuracy >= 0.90, median CER <= 2 %.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rapidfuzz.distance import Levenshtein  # noqa: E402
from sqlalchemy import select  # noqa: E402

from archive.db import session_scope  # noqa: E402
from archive.models import Document  # noqa: E402
from bench.common import add_corpus_arguments, fresh_services, ingest_corpus, make_corpus, tmpdir  # noqa: E402


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def cer(ocr: str, truth: str) -> float:
    t = squash(truth)
    return Levenshtein.distance(squash(ocr), t) / max(1, len(t))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_corpus_arguments(ap)
    ap.add_argument("--errores", type=int, default=5, help="Cuántos errores mostrar.")
    args = ap.parse_args()

    work = tmpdir("archivo-calidad-")
    docs = make_corpus(work / "corpus", n=args.n, seed=args.seed, degrade=args.degrade,
                       formats=args.formats, dpi=args.dpi, script=args.corpus)
    svc = fresh_services(work / "var")
    started = time.perf_counter()
    jobs = ingest_corpus(svc, docs)  # (doc index, file index, document id)
    elapsed = time.perf_counter() - started

    tp = fp = fn = type_ok = 0
    cers: list[float] = []
    errors: list[str] = []
    with session_scope(svc.sessions) as s:
        by_id = {d.id: d for d in s.scalars(select(Document)).all()}
        for di, d in enumerate(docs):
            mine = [j for j in jobs if j[0] == di]
            found: set[str] = set()
            for _, fi, doc_id in mine:
                doc = by_id[doc_id]
                found |= set(doc.nis_list)
                page_truths = d.pages if len(d.files) == 1 else [d.pages[fi]]
                for page, truth in zip(doc.pages, page_truths):
                    cers.append(cer(page.text, truth["text"]))
            first = by_id[mine[0][2]]
            truth_nis = set(d.nis)
            tp += len(found & truth_nis)
            fp += len(found - truth_nis)
            fn += len(truth_nis - found)
            type_ok += first.doc_type.value == d.doc_type
            if found != truth_nis or first.doc_type.value != d.doc_type:
                errors.append(f"{d.id}: NIS {sorted(found)} (verdad {sorted(truth_nis)}), "
                              f"tipo {first.doc_type.value} (verdad {d.doc_type})")
    precision = tp / max(1, tp + fp)
    recall = tp / max(1, tp + fn)
    pages = len(cers)
    print(f"corpus: {len(docs)} documentos, {pages} páginas, degradación {args.degrade}, "
          f"{args.dpi} dpi, semilla {args.seed}")
    print(f"tiempo total: {elapsed:.1f} s ({pages / elapsed * 60:.1f} páginas/min)")
    print(f"NIS precisión     {precision:.4f}  (objetivo >= 0.99)  VP {tp} FP {fp} FN {fn}")
    print(f"NIS exhaustividad {recall:.4f}  (objetivo >= 0.97)")
    print(f"tipo exactitud    {type_ok / len(docs):.4f}  (objetivo >= 0.90)")
    print(f"CER mediana       {statistics.median(cers) * 100:.2f} %  (objetivo <= 2 %)  "
          f"p90 {sorted(cers)[int(0.9 * (pages - 1))] * 100:.2f} %")
    for line in errors[: args.errores]:
        print("  error:", line)


if __name__ == "__main__":
    main()
