"""Scanned files in, OCR'd, stored and linked pages out."""
