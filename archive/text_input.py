"""What text typed by people (or sent by a program) may contain.

A NUL in a text column is an error on PostgreSQL (a 500 instead of a message),
and the other C0/C1 control characters are never typed by people: they only
hide or garble what is shown. Tabs and line breaks are ordinary text in notes.
"""

from __future__ import annotations

LINE_BREAKS = frozenset("\n\r\t")


def has_control_characters(text: str, *, multiline: bool = True) -> bool:
    """True if ``text`` holds a control character (tabs and line breaks allowed when
    ``multiline``: notes, addresses; a user name or a code allows none)."""
    allowed = LINE_BREAKS if multiline else frozenset()
    return any((c < " " or "\x7f" <= c <= "\x9f") and c not in allowed for c in text)


__all__ = ["has_control_characters"]
