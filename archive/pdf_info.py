"""What every PDF archivo writes says about itself: title, author, subject, language.

Readers show the Info dictionary (a window title, a search hit in a mail
client, a screen reader's language). reportlab's defaults are «untitled» and
«anonymous»; one place sets ours so the searchable PDF, the separator sheets,
the labels and the dispatch manifest agree (one helper each for canvases and platypus).
"""

from __future__ import annotations

from typing import Any, BinaryIO

from reportlab.pdfgen.canvas import Canvas

AUTHOR = "archivo"
CREATOR = "archivo: archivo documental de Atención al Cliente"
LANGUAGE = "es"


def document_info(title: str, subject: str) -> dict[str, str]:
    """Keyword arguments for platypus' ``SimpleDocTemplate``."""
    return {"title": title, "author": AUTHOR, "subject": subject, "creator": CREATOR,
            "lang": LANGUAGE}


def new_canvas(out: str | BinaryIO, *, title: str, subject: str, **options: Any) -> Canvas:
    """A reportlab canvas already carrying archivo's document information."""
    canvas = Canvas(out, lang=LANGUAGE, **options)
    canvas.setTitle(title)
    canvas.setAuthor(AUTHOR)
    canvas.setSubject(subject)
    canvas.setCreator(CREATOR)
    return canvas


__all__ = ["AUTHOR", "LANGUAGE", "document_info", "new_canvas"]
