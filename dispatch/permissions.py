"""Who may see and do what with a dispatch: pure functions of the person and the dispatch.

The rule of the issue: a ``regional`` user sees only dispatches of its own
unit and confirms only those addressed to it. The archive side (``admin``,
``despacho``) prepares outbound dispatches and confirms return trips; the
regional unit prepares the return trips it sends. ``archivista`` and
``consulta`` read everything and change nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from archive.enums import Role
from archive.errors import ArchivoError

ARCHIVE_SIDE = frozenset({Role.ADMIN, Role.DESPACHO})
READERS = frozenset({Role.ADMIN, Role.DESPACHO, Role.ARCHIVISTA, Role.CONSULTA})


@dataclass(frozen=True)
class Actor:
    """The person acting, as the web session or the CLI knows it."""

    username: str
    role: Role
    regional_unit_id: int | None = None

    @classmethod
    def from_user(cls, user: object) -> "Actor":
        """From an ``archive.models.User`` (or anything with the same three attributes)."""
        role = user.role  # type: ignore[attr-defined]
        if not isinstance(role, Role):
            role = Role.parse(str(role))
        return cls(user.username, role,  # type: ignore[attr-defined]
                   getattr(user, "regional_unit_id", None))


@dataclass(frozen=True)
class DispatchScope:
    """The two facts the rules need about a dispatch."""

    regional_unit_id: int
    is_return: bool


class PermissionDenied(ArchivoError):
    """The person may not do this; ``str()`` says why, in Spanish."""


def _own_unit(actor: Actor, d: DispatchScope) -> bool:
    return (actor.role is Role.REGIONAL and actor.regional_unit_id is not None
            and actor.regional_unit_id == d.regional_unit_id)


def can_view(actor: Actor, d: DispatchScope) -> bool:
    return actor.role in READERS or _own_unit(actor, d)


def can_create(actor: Actor, regional_unit_id: int, *, is_return: bool) -> bool:
    """Outbound: the archive side. Return trip: also the sending unit itself."""
    if actor.role in ARCHIVE_SIDE:
        return True
    return is_return and _own_unit(actor, DispatchScope(regional_unit_id, True))


def can_manage(actor: Actor, d: DispatchScope) -> bool:
    """Edit items, prepare, reopen, send, annul: whoever sends the package."""
    return can_create(actor, d.regional_unit_id, is_return=d.is_return)


def can_receive(actor: Actor, d: DispatchScope) -> bool:
    """Confirm receipt: the receiving side; admin may act for anyone (audited)."""
    if actor.role is Role.ADMIN:
        return True
    if d.is_return:
        return actor.role is Role.DESPACHO
    return _own_unit(actor, d)


def can_resolve(actor: Actor, d: DispatchScope) -> bool:
    """Close a discrepancy (found, written off): the archive side, which answers for the papers."""
    return actor.role in ARCHIVE_SIDE


def require(allowed: bool, what: str) -> None:
    if not allowed:
        raise PermissionDenied(f"No tiene permiso para {what}.")
