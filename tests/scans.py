"""Small generated scans for the tests (a fresh clone has no real ones)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from ingest.samples import png_bytes, render_page, sample_document  # noqa: F401 - re-exported

HALF_PAGE_MM = (210, 110)  # enough room for a sample document; keeps OCR quick


def page(seed: int = 1, doc_type: str = "contrato", *, dpi: int = 150, rotate: int = 0,
         skew: float = 0.0, lines: list[str] | None = None) -> tuple[Image.Image, list[str]]:
    """One rendered page and the NIS printed on it."""
    doc = sample_document(seed, doc_type)
    img = render_page(lines or doc.lines, dpi=dpi, rotate=rotate, skew=skew,
                      size_mm=HALF_PAGE_MM, text_pt=11)
    return img, doc.nis


def write(img_or_pages: Image.Image | list[Image.Image], path: Path, fmt: str, **save: object) -> Path:
    pages = img_or_pages if isinstance(img_or_pages, list) else [img_or_pages]
    if fmt == "TIFF":
        pages[0].save(path, format="TIFF", save_all=True, append_images=pages[1:], **save)
    elif fmt == "PDF":
        pages[0].save(path, format="PDF", save_all=True, append_images=pages[1:],
                      resolution=150, **save)
    else:
        pages[0].save(path, format=fmt, **save)
    return path


def _text_page(c, lines: list[str]) -> None:  # type: ignore[no-untyped-def]
    """One page of real text (a text layer, as an office program writes it)."""
    from reportlab.lib.pagesizes import A4

    y = A4[1] - 72
    for line in lines:
        c.drawString(72, y, line)
        y -= 16
    c.showPage()


def born_digital_pdf(path: Path, lines: list[str]) -> Path:
    """A PDF with a real text layer, as produced by an office program."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=A4)
    _text_page(c, lines)
    c.save()
    return path


def mixed_pdf(path: Path, text_lines: list[str], scan: Image.Image) -> Path:
    """Page 1 born digital (text layer), page 2 a scanned image without text."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path), pagesize=A4)
    _text_page(c, text_lines)
    width = A4[0]
    height = width * scan.height / scan.width
    c.drawImage(ImageReader(scan.convert("RGB")), 0, A4[1] - height, width, height)
    c.showPage()
    c.save()
    return path
