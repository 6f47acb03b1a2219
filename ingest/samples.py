"""Synthetic scanned pages of the utility's documents, for demo data, tests and benchmarks.

A fresh clone has no scans, so archivo renders its own: Spanish text of a
given document type with its supply numbers, drawn like a desk scan (grey
page, optional rotation/skew/noise). Deterministic for a given seed.
"""

from __future__ import annotations

import io
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from PIL import Image, ImageDraw, ImageFont

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf",
)

CITIES = ["Asunción", "San Lorenzo", "Luque", "Capiatá", "Lambaré", "Encarnación"]
NAMES = ["María González", "José Benítez", "Ana Ramírez", "Carlos Villalba", "Rosa Ayala",
         "Luis Martínez", "Graciela Báez", "Pedro Cáceres"]
MONTHS = ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
          "septiembre", "octubre", "noviembre", "diciembre"]

TEMPLATES: dict[str, tuple[str, list[str]]] = {
    "contrato": ("CONTRATO DE SUMINISTRO DE ENERGÍA ELÉCTRICA", [
        "Entre la Administración y el titular {name}, con C.I. N° {ci},",
        "se celebra el presente contrato de suministro en baja tensión",
        "para el inmueble ubicado en {street}, ciudad de {city}.",
        "Suministro N° {nis}. Tarifa residencial 220 V monofásica.",
        "El titular se compromete al pago puntual de las facturas.",
    ]),
    "croquis": ("CROQUIS DE UBICACIÓN DEL INMUEBLE", [
        "Solicitante: {name}. NIS {nis}.",
        "Referencias: a dos cuadras de la escuela, frente a la plaza.",
        "Calle {street}, barrio San Miguel, {city}.",
    ]),
    "expediente": ("EXPEDIENTE DE MESA DE ENTRADA", [
        "Expediente N° {exp}. Recurrente: {name}, C.I. N° {ci}.",
        "Asunto: solicitud de revisión de facturación del NIS {nis}.",
        "Se remite a la sección Control y Seguimiento para su trámite.",
    ]),
    "reclamo_electrodomestico": ("RECLAMO POR ARTEFACTO ELÉCTRICO DAÑADO", [
        "El usuario {name}, titular del NIS {nis}, declara que su heladera",
        "resultó dañada por una variación de tensión en {city}.",
        "Solicita la reparación o indemnización del electrodoméstico.",
    ]),
    "orden_trabajo": ("ORDEN DE TRABAJO", [
        "OT N° {ot}. Cuadrilla de conexiones, zona {city}.",
        "Trabajo: cambio de medidor del suministro NIS {nis}.",
        "Domicilio: {street}. Titular: {name}.",
    ]),
    "acuerdo_pago": ("ACUERDO DE PAGO", [
        "El titular {name}, C.I. N° {ci}, reconoce la deuda del NIS {nis}",
        "y se compromete a cancelarla en doce cuotas mensuales.",
        "El incumplimiento de una cuota deja sin efecto el presente acuerdo.",
    ]),
}


@dataclass
class SampleDocument:
    doc_type: str
    nis: list[str]
    lines: list[str] = field(default_factory=list)


def load_font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in FONT_CANDIDATES:
        if Path(path).is_file():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size=size)


def sample_document(seed: int, doc_type: str | None = None) -> SampleDocument:
    rng = random.Random(seed)
    doc_type = doc_type or rng.choice(sorted(TEMPLATES))
    title, body = TEMPLATES[doc_type]
    nis = str(rng.randint(1_000_000, 9_999_999))
    values = {
        "nis": nis,
        "name": rng.choice(NAMES),
        "ci": f"{rng.randint(800_000, 6_999_999):,}".replace(",", "."),
        "city": rng.choice(CITIES),
        "street": f"Avda. Mariscal López N° {rng.randint(100, 4999)}",
        "exp": f"{rng.randint(100, 9999)}/{rng.randint(2015, 2026)}",
        "ot": str(rng.randint(100_000, 999_999)),
    }
    day, month, year = rng.randint(1, 28), rng.randint(1, 12), rng.randint(2012, 2026)
    lines = [title, ""] + [b.format(**values) for b in body] + [
        "", f"{values['city']}, {day} de {MONTHS[month - 1]} de {year}."]
    return SampleDocument(doc_type, [nis], lines)


def render_page(lines: Iterable[str], *, dpi: int = 150, rotate: int = 0, skew: float = 0.0,
                noise: float = 0.0, seed: int = 0, size_mm: tuple[int, int] = (210, 297),
                text_pt: float = 12.0) -> Image.Image:
    """Draw text lines on a page of ``size_mm`` at ``dpi``; returns a grayscale image."""
    w = round(size_mm[0] / 25.4 * dpi)
    h = round(size_mm[1] / 25.4 * dpi)
    page = Image.new("L", (w, h), 250)
    draw = ImageDraw.Draw(page)
    font = load_font(max(8, round(text_pt / 72 * dpi)))
    margin = round(20 / 25.4 * dpi)
    y = margin
    step = round(text_pt / 72 * dpi * 1.6)
    for line in lines:
        if line:
            draw.text((margin, y), line, fill=20, font=font)
        y += step
    if noise:
        rng = random.Random(seed)
        px = page.load()
        for _ in range(int(w * h * noise)):
            x, yy = rng.randrange(w), rng.randrange(h)
            px[x, yy] = rng.choice((0, 90, 160))
    if skew:
        page = page.rotate(skew, resample=Image.Resampling.BILINEAR, expand=False, fillcolor=250)
    if rotate:
        page = page.rotate(-rotate, expand=True)  # clockwise as a scanner would turn it
    page.info["dpi"] = (dpi, dpi)
    return page


def save_pages(pages: list[Image.Image], path: Path, fmt: str, dpi: int = 150) -> Path:
    """Write pages as a (multi-page) TIFF, PDF, or a single PNG/JPEG."""
    fmt = fmt.lower()
    if fmt in {"tif", "tiff"}:
        pages[0].save(path, format="TIFF", save_all=True, append_images=pages[1:],
                      compression="tiff_deflate", dpi=(dpi, dpi))
    elif fmt == "pdf":
        gray = [p.convert("L") for p in pages]
        fixed = time.strptime("2026-01-01", "%Y-%m-%d")  # same pages, same bytes (demo is re-runnable)
        gray[0].save(path, format="PDF", save_all=True, append_images=gray[1:], resolution=dpi,
                     creationDate=fixed, modDate=fixed)
    elif fmt in {"png", "jpeg", "jpg"}:
        pages[0].save(path, format="PNG" if fmt == "png" else "JPEG", dpi=(dpi, dpi))
    else:
        raise ValueError(f"unsupported format {fmt}")
    return path


def sample_file(path: Path, seed: int, *, fmt: str = "png", pages: int = 1, dpi: int = 150,
                doc_type: str | None = None, rotate: int = 0) -> SampleDocument:
    """One synthetic scanned document written to ``path``; returns its ground truth."""
    doc = sample_document(seed, doc_type)
    images = [render_page(doc.lines if i == 0 else [f"Hoja {i + 1} - NIS {doc.nis[0]}"] + doc.lines[2:],
                          dpi=dpi, rotate=rotate, seed=seed + i) for i in range(pages)]
    save_pages(images, path, fmt, dpi)
    doc.lines = list(doc.lines)
    return doc


def png_bytes(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()
