"""Peak memory of a worker processing one long multi-page TIFF.

    .venv/bin/python bench/rss.py [--paginas 300] [--dpi 200]

Builds a TIFF of N A4 pages (Group 4, as desk scanners deliver bilevel
scans), accepts it, then processes it in a fresh child process and reports
that process's peak resident memory (VmHWM). Pages are streamed, so the
figure must not grow with the page count. Target (issue 3): <= 500 MB.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import fresh_services, tmpdir  # noqa: E402
from ingest.accept import accept_stream  # noqa: E402
from ingest.samples import render_page, sample_document  # noqa: E402

CHILD = """
import sys, time
sys.path.insert(0, {root!r})
from bench.common import fresh_services
from ingest.process import process_document
svc = fresh_services({home!r})
t = time.perf_counter()
status = process_document(svc, {doc_id})
# VmHWM, not ru_maxrss: after fork+exec, ru_maxrss still carries the parent's peak.
hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(status, round(time.perf_counter() - t, 1), hwm)
"""


def build_tiff(path: Path, pages: int, dpi: int) -> None:
    """Write page by page so the generator itself never holds the whole stack."""
    from PIL import Image

    def frames():  # type: ignore[no-untyped-def]
        for i in range(pages):
            doc = sample_document(500 + i)
            yield render_page(doc.lines, dpi=dpi).point(lambda v: 255 if v > 128 else 0).convert("1")

    gen = frames()
    first = next(gen)
    first.save(path, format="TIFF", save_all=True, append_images=gen, compression="group4",
               dpi=(dpi, dpi))
    Image.open(path).close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--paginas", type=int, default=300)
    ap.add_argument("--dpi", type=int, default=200)
    args = ap.parse_args()
    work = tmpdir("archivo-rss-")
    tiff = work / "lote.tif"
    build_tiff(tiff, args.paginas, args.dpi)
    svc = fresh_services(work / "var")
    with tiff.open("rb") as fh:
        doc_id = accept_stream(svc, fh, tiff.name, actor="bench", enqueue=False).document_id
    svc.dispose()
    root = str(Path(__file__).resolve().parent.parent)
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", CHILD.format(root=root, home=str(work / "var"),
                                                             doc_id=doc_id)],
                         capture_output=True, text=True, check=True)
    status, seconds, rss_kb = out.stdout.split()[-3:]
    print(f"TIFF de {args.paginas} páginas A4 a {args.dpi} dpi ({tiff.stat().st_size / 1e6:.1f} MB): "
          f"estado {status}, {seconds} s, memoria máxima del trabajador {int(rss_kb) / 1024:.0f} MB "
          f"(objetivo <= 500 MB); total {time.perf_counter() - t:.0f} s")


if __name__ == "__main__":
    main()
