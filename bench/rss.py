"""Peak memory of a worker processing one long multi-page TIFF, or one huge page.

    .venv/bin/python bench/rss.py [--paginas 300] [--dpi 200]
    .venv/bin/python bench/rss.py --px 9000 [--modo RGB] [--formato png]

Builds a TIFF of N A4 pages (Group 4, as desk scanners deliver bilevel
scans), or with ``--px`` a single N x N page (a plan or a poster, text blocks
spread over it, colour by default), accepts it, then processes it in a fresh
child process and reports that process's peak resident memory (VmHWM).
Pages are streamed, so the figure must not grow with the page count, and no
page within the pixel limit may push it past the target (issues 3 and 14):
<= 500 MB.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import fresh_services, tmpdir  # noqa: E402
from ingest import accept_stream, render_page, sample_document  # noqa: E402

CHILD = """
import sys, time
sys.path.insert(0, {root!r})
from bench.common import fresh_services
from ingest import process_document
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


def build_huge(path: Path, px: int, dpi: int, mode: str, fmt: str, tilt: float = 0.0) -> None:
    """One ``px`` x ``px`` page: a grid of A4-sized text blocks, one in four filled, tilted
    ``tilt`` degrees counter-clockwise as a crooked scan would be."""
    from PIL import Image

    page = Image.new("L", (px, px), 250)
    block_w, block_h = round(8.27 * dpi), round(11.69 * dpi)
    seed = 0
    for top in range(0, px - block_h + 1, block_h):
        for left in range(0, px - block_w + 1, block_w):
            if seed % 4 == 0:
                block = render_page(sample_document(700 + seed).lines, dpi=dpi)
                page.paste(block, (left, top))
                block.close()
            seed += 1
    if tilt:
        page = page.rotate(tilt, resample=Image.Resampling.BILINEAR, fillcolor=250)
    if mode != "L":
        page = page.convert(mode)
    save = {"compression": "tiff_deflate"} if fmt == "tiff" else {"quality": 85} if fmt == "jpeg" else {}
    page.save(path, format=fmt.upper(), dpi=(dpi, dpi), **save)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--paginas", type=int, default=300)
    ap.add_argument("--dpi", type=int, default=200)
    ap.add_argument("--px", type=int, default=0,
                    help="una sola página de PX x PX píxeles a 300 dpi en vez del TIFF largo")
    ap.add_argument("--modo", choices=["L", "RGB"], default="RGB", help="con --px: gris o color")
    ap.add_argument("--formato", choices=["png", "jpeg", "tiff"], default="png",
                    help="con --px: formato del archivo")
    ap.add_argument("--inclinacion", type=float, default=0.0,
                    help="con --px: grados de inclinación del escaneo (se endereza al procesarlo)")
    args = ap.parse_args()
    work = tmpdir("archivo-rss-")
    if args.px:
        tiff = work / f"plano.{args.formato}"
        build_huge(tiff, args.px, 300, args.modo, args.formato, args.inclinacion)
        tilted = f", inclinada {args.inclinacion:g}°" if args.inclinacion else ""
        what = (f"Página única de {args.px}x{args.px} px ({args.modo}, {args.formato.upper()}, "
                f"300 dpi{tilted})")
    else:
        tiff = work / "lote.tif"
        build_tiff(tiff, args.paginas, args.dpi)
        what = f"TIFF de {args.paginas} páginas A4 a {args.dpi} dpi"
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
    size_mb = tiff.stat().st_size / 1e6
    shutil.rmtree(work, ignore_errors=True)
    print(f"{what} ({size_mb:.1f} MB): "
          f"estado {status}, {seconds} s, memoria máxima del trabajador {int(rss_kb) / 1024:.0f} MB "
          f"(objetivo <= 500 MB); total {time.perf_counter() - t:.0f} s")


if __name__ == "__main__":
    main()
