"""Storage keys: pure functions so every module names objects the same way.

Keys are content-addressed by the SHA-256 of the original file and sharded by
its first four hex characters, so no directory (local) or listing prefix (S3)
grows without bound.
"""

from __future__ import annotations

import re
from typing import Literal

PageKind = Literal["web", "thumb", "words"]

_SHA256_RE = re.compile(r"[0-9a-f]{64}")
_PAGE_SUFFIX: dict[str, str] = {"web": ".jpg", "thumb": ".jpg", "words": ".json.gz"}
MAX_KEY_LENGTH = 1024  # S3 limit, applied to both stores so they stay interchangeable


def check_sha256(sha256: str) -> str:
    """Return ``sha256`` unchanged, or raise ``ValueError`` if it is not 64 lowercase hex."""
    if not isinstance(sha256, str) or not _SHA256_RE.fullmatch(sha256):
        raise ValueError(f"SHA-256 inválido: {sha256!r} "
                         "(se esperan 64 caracteres hexadecimales en minúscula).")
    return sha256


def _shard(sha256: str) -> str:
    check_sha256(sha256)
    return f"{sha256[:2]}/{sha256[2:4]}"


def original_key(sha256: str) -> str:
    """``originals/ab/cd/<sha256>``: the uploaded file, byte for byte."""
    return f"originals/{_shard(sha256)}/{sha256}"


def derivative_key(kind: str, sha256: str, suffix: str) -> str:
    """``<kind>/ab/cd/<sha256><suffix>``: anything derived from one original."""
    if not kind or not is_safe_key(kind) or "/" in kind:
        raise ValueError(f"Tipo de derivado inválido: {kind!r}.")
    key = f"{kind}/{_shard(sha256)}/{sha256}{suffix}"
    if not is_safe_key(key):
        raise ValueError(f"Sufijo inválido: {suffix!r}.")
    return key


def page_key(original_sha: str, page_no: int, kind: PageKind) -> str:
    """``pages/ab/cd/<sha>/0001-web.jpg``; pages are numbered from 1."""
    if kind not in _PAGE_SUFFIX:
        raise ValueError(f"Tipo de página inválido: {kind!r} (use web, thumb o words).")
    if isinstance(page_no, bool) or not isinstance(page_no, int) or not 1 <= page_no <= 9999:
        raise ValueError(f"Número de página inválido: {page_no!r} (debe estar entre 1 y 9999).")
    return derivative_key("pages", original_sha, f"/{page_no:04d}-{kind}{_PAGE_SUFFIX[kind]}")


def pages_prefix(original_sha: str) -> str:
    """Prefix of every page derivative of one original (for listing or deleting them)."""
    return f"pages/{_shard(original_sha)}/{original_sha}/"


def pdf_key(original_sha: str) -> str:
    """``pdf/ab/cd/<sha>.pdf``: the searchable PDF built from the original."""
    return derivative_key("pdf", original_sha, ".pdf")


def is_safe_key(key: str) -> bool:
    """True if ``key`` can never escape the store root nor hit its internals.

    Rejects empty and absolute keys, backslashes, control characters, empty
    segments (so no trailing ``/``), ``.`` and ``..`` and any other hidden
    segment (``.tmp`` is the local store's staging area).
    """
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH:
        return False
    if key.startswith("/") or "\\" in key:
        return False
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in key):
        return False
    return all(seg and not seg.startswith(".") for seg in key.split("/"))


def is_safe_prefix(prefix: str) -> bool:
    """Like :func:`is_safe_key` but for listing prefixes: empty or a trailing ``/`` is fine."""
    if prefix == "":
        return True
    return is_safe_key(prefix[:-1] if prefix.endswith("/") else prefix)
