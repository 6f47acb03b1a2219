"""Ingest throughput: the full pipeline against plain Tesseract on the same pages.

    .venv/bin/python bench/ingest.py [--pages 12] [--dpi 200 300] [--ocrmypdf]

For each resolution, the same page images are processed three ways in one run:

* **tesseract**: the `tesseract IMG stdout -l spa+eng` CLI, OMP_THREAD_LIMIT=1,
  one process per core. This is the limit of OCR on this machine.
* **archivo**: accept + process_document for each page as its own document
  (sniff, page checks, orientation, deskew, OCR, web image, thumbnail, word
  boxes, searchable PDF, extraction, commit), as many documents at a time as
  cores; the process-wide OCR gate keeps one tesseract per core.
* **ocrmypdf** (with ``--ocrmypdf``): `ocrmypdf -l spa --jobs N` on one PDF of
  the same pages, as a peer figure (what paperless-ngx runs).

Prints pages/min for each and the ratio archivo / tesseract (target >= 0.90).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image  # noqa: E402

from bench.common import CORPUS_SCRIPT, fresh_services, make_corpus, tmpdir  # noqa: E402
from ingest import accept_stream, process_document  # noqa: E402


def page_images(out: Path, n: int, dpi: int, corpus: Path) -> list[Path]:
    """N single-page PNG scans (light degradation) from the shared corpus generator."""
    docs = make_corpus(out, n=n, seed=11, degrade="light", formats="png", dpi=dpi, script=corpus)
    files = [f for d in docs for f in d.files]
    return files[:n]


def _tesseract(path: str) -> int:
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    out = subprocess.run(["tesseract", path, "stdout", "-l", "spa+eng"], env=env,
                         capture_output=True, check=True)
    return len(out.stdout)


def run_tesseract(files: list[Path], workers: int) -> float:
    t = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        list(pool.map(_tesseract, [str(f) for f in files]))
    return time.perf_counter() - t


def run_archivo(files: list[Path], workers: int, home: Path) -> float:
    svc = fresh_services(home, ARCHIVO_OCR_PROCESOS=str(workers))
    t = time.perf_counter()
    ids = []
    for f in files:
        with f.open("rb") as fh:
            ids.append(accept_stream(svc, fh, f.name, actor="bench", enqueue=False).document_id)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        statuses = list(pool.map(lambda i: process_document(svc, i), ids))
    elapsed = time.perf_counter() - t
    bad = [s for s in statuses if s not in {"listo", "revisar"}]
    if bad:
        print(f"  aviso: {len(bad)} documento(s) terminaron en {set(bad)}")
    svc.dispose()
    return elapsed


def run_ocrmypdf(files: list[Path], workers: int, work: Path) -> float | None:
    exe = shutil.which("ocrmypdf") or str(Path(sys.executable).with_name("ocrmypdf"))
    if not Path(exe).exists():
        return None
    pdf = work / "paginas.pdf"
    imgs = [Image.open(f) for f in files]
    imgs[0].save(pdf, save_all=True, append_images=imgs[1:], resolution=imgs[0].info.get("dpi", (200,))[0])
    t = time.perf_counter()
    subprocess.run([exe, "-l", "spa", "--jobs", str(workers), "--output-type", "pdf", "-q",
                    str(pdf), str(work / "salida.pdf")], check=True,
                   env=dict(os.environ, OMP_THREAD_LIMIT="1"))
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=12)
    ap.add_argument("--dpi", type=int, nargs="+", default=[200, 300])
    ap.add_argument("--ocrmypdf", action="store_true", help="Medir también ocrmypdf -l spa.")
    ap.add_argument("--corpus", type=Path, default=CORPUS_SCRIPT)
    args = ap.parse_args()
    workers = os.cpu_count() or 1
    print(f"núcleos: {workers}; páginas por resolución: {args.pages}")
    for dpi in args.dpi:
        work = tmpdir(f"archivo-bench-{dpi}-")
        files = page_images(work / "corpus", args.pages, dpi, args.corpus)
        base = run_tesseract(files, workers)
        ours = run_archivo(files, workers, work / "var")
        peer = run_ocrmypdf(files, workers, work) if args.ocrmypdf else None
        rate = lambda s: len(files) / s * 60  # noqa: E731
        print(f"{dpi} dpi: tesseract CLI {rate(base):6.1f} pág/min | archivo {rate(ours):6.1f} pág/min"
              f" | razón {base / ours:.2f} (objetivo >= 0.90)"
              + (f" | ocrmypdf {rate(peer):6.1f} pág/min" if peer else ""))
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
