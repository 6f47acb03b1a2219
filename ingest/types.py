"""Plain data passed between ingest steps (the word type lives in the core)."""

from archive.words import Word

__all__ = ["Word"]
