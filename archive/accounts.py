"""Signing in: password checks with lockout, password changes, API tokens.

Kept out of the web layer so the CLI and the tests use the same rules.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from . import audit
from .errors import ArchivoError
from .enums import Role
from .models import ApiToken, AuditEvent, RegionalUnit, User, WebSession, utcnow
from .text_input import has_control_characters
from .users import MIN_PASSWORD, generate_password, hash_password

MAX_FAILURES = 5
LOCK_MINUTES = 15
TOKEN_PREFIX = "arc_"
# A fixed hash to compare against when the user does not exist or is locked, so the
# work done (and so the response time) does not tell which usernames exist.
_DUMMY_HASH = hash_password("usuario-inexistente")
# The one answer to every refused sign-in before the password is known to be right:
# unknown name, wrong password and locked account read the same, so nobody can learn
# from it which accounts exist.
REFUSED = (f"Usuario o contraseña incorrectos, o la cuenta está bloqueada temporalmente por "
           f"intentos fallidos (espere {LOCK_MINUTES} minutos o pida ayuda a un administrador).")
# A browser session lasts this long after its last use (the cookie says the same).
SESSION_LIFETIME = dt.timedelta(hours=12)
_SESSION_SLACK = dt.timedelta(minutes=5)  # extend the row at most this often


class LoginRefused(ArchivoError):
    """Wrong username or password, or the account is locked or inactive."""


@dataclass(frozen=True)
class Principal:
    """Who is making a request: what the web layer needs, detached from the session."""

    id: int
    username: str
    full_name: str
    role: str
    regional_unit_id: int | None
    session_version: int
    via_token: bool = False

    @classmethod
    def of(cls, user: User, *, via_token: bool = False) -> "Principal":
        return cls(user.id, user.username, user.full_name, user.role.value,
                   user.regional_unit_id, user.session_version, via_token)


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is not None and moment.tzinfo is None:  # SQLite returns naive UTC
        return moment.replace(tzinfo=dt.timezone.utc)
    return moment


def authenticate(session: Session, username: str, password: str,
                 now: dt.datetime | None = None) -> User:
    """The user for these credentials, or LoginRefused; failures count toward a lock.

    Every path checks exactly one password hash and a refusal always reads ``REFUSED``,
    so neither the answer nor the work tells an unknown name from a locked account.
    A name or password with control characters (a NUL breaks PostgreSQL) is refused
    the same way, before the database sees it.
    """
    now = now or utcnow()
    user = None
    if not (has_control_characters(username, multiline=False)
            or has_control_characters(password, multiline=False)):
        user = session.scalar(select(User).where(User.username == username.strip().lower()))
    locked_until = _aware(user.locked_until) if user is not None else None
    if user is None or (locked_until and locked_until > now):
        verify_password_hash(_DUMMY_HASH, password)
        raise LoginRefused(REFUSED)
    if not verify_password_hash(user.password_hash, password):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILURES:
            user.locked_until = now + dt.timedelta(minutes=LOCK_MINUTES)
            user.failed_logins = 0
            audit.record(session, user.username, "usuario.bloquear", "usuario", user.username,
                         {"minutos": LOCK_MINUTES})
        raise LoginRefused(REFUSED)
    if not user.active:
        raise LoginRefused("La cuenta está desactivada; pida ayuda a un administrador.")
    user.failed_logins = 0
    user.locked_until = None
    return user


@dataclass(frozen=True)
class SignIn:
    at: dt.datetime  # UTC; pages show it in local time
    address: str


def recent_sign_ins(session: Session, username: str, limit: int = 5) -> list[SignIn]:
    """The user's latest sign-ins, newest first, from the audit log, so a person can
    spot one that was not theirs (when and from which address)."""
    rows = session.scalars(select(AuditEvent).where(
        AuditEvent.object_type == "usuario", AuditEvent.object_id == username,
        AuditEvent.action == "usuario.ingresar").order_by(AuditEvent.id.desc()).limit(limit))
    return [SignIn(_aware(ev.at) or ev.at, str((ev.details or {}).get("ip", ""))) for ev in rows]


def verify_password_hash(stored: str, password: str) -> bool:
    from werkzeug.security import check_password_hash

    return check_password_hash(stored, password)


def change_password(session: Session, user: User, current: str, new: str, *,
                    revoke_tokens: bool) -> int:
    """A person changes their own password; their sessions end (session_version moves)
    and, when they ask, their API tokens too. Returns how many tokens were revoked."""
    if not verify_password_hash(user.password_hash, current):
        raise ArchivoError("La contraseña actual no es correcta.")
    return set_password(session, user, new, actor=user.username, revoke_tokens=revoke_tokens)


def set_password(session: Session, user: User, new: str, *, actor: str,
                 revoke_tokens: bool) -> int:
    """Set a password and end every session of the user. ``revoke_tokens``: also revoke
    their API tokens (after a compromise a token is as good as the password). Returns
    how many tokens were revoked."""
    if len(new) < MIN_PASSWORD:
        raise ArchivoError(f"La contraseña nueva debe tener al menos {MIN_PASSWORD} caracteres.")
    user.password_hash = hash_password(new)
    user.session_version += 1
    user.failed_logins = 0
    user.locked_until = None
    end_user_sessions(session, user)
    audit.record(session, actor, "usuario.contrasena", "usuario", user.username,
                 {"tokens_revocados": revoke_tokens})
    return revoke_user_tokens(session, user, actor=actor) if revoke_tokens else 0


def revoke_user_tokens(session: Session, user: User, *, actor: str) -> int:
    """Revoke every active token of ``user`` (each one audited); how many there were."""
    tokens = session.scalars(select(ApiToken).where(
        ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))).all()
    for token in tokens:
        revoke_token(session, token, actor=actor)
    return len(tokens)


# Browser sessions: the cookie carries a random id; this table says whether it is open.


def open_web_session(session: Session, user: User, now: dt.datetime | None = None) -> str:
    """Record a new session for ``user``; returns the id the cookie must carry.
    Expired rows of anyone are swept here, so the table stays as small as the open sessions."""
    now = now or utcnow()
    session.execute(delete(WebSession).where(WebSession.expires_at < now))
    sid = secrets.token_urlsafe(32)
    session.add(WebSession(user_id=user.id, sid_hash=token_digest(sid), created_at=now,
                           expires_at=now + SESSION_LIFETIME))
    return sid


def web_session_open(session: Session, user: User, sid: str,
                     now: dt.datetime | None = None) -> bool:
    """Whether ``sid`` is an open session of ``user``; using it pushes its end forward."""
    now = now or utcnow()
    row = session.scalar(select(WebSession).where(WebSession.sid_hash == token_digest(sid)))
    expires = _aware(row.expires_at) if row is not None else None
    if row is None or row.user_id != user.id or expires is None or expires <= now:
        return False
    if expires - now < SESSION_LIFETIME - _SESSION_SLACK:  # not a write on every request
        row.expires_at = now + SESSION_LIFETIME
    return True


def end_web_session(session: Session, sid: str) -> None:
    """Sign out: the cookie carrying ``sid`` opens nothing from now on."""
    session.execute(delete(WebSession).where(WebSession.sid_hash == token_digest(sid)))


def end_user_sessions(session: Session, user: User) -> None:
    session.execute(delete(WebSession).where(WebSession.user_id == user.id))


def token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(session: Session, user: User, name: str, *, actor: str) -> tuple[ApiToken, str]:
    """A new token; the secret is returned once and only its hash is stored."""
    name = name.strip()
    if not name or len(name) > 80:
        raise ArchivoError("Dé al token un nombre de 1 a 80 caracteres (para qué sistema es).")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=user.id, name=name, prefix=secret[:12],
                     token_hash=token_digest(secret))
    session.add(token)
    session.flush()
    audit.record(session, actor, "token.crear", "usuario", user.username,
                 {"token": token.id, "nombre": name})
    return token, secret


def revoke_token(session: Session, token: ApiToken, *, actor: str) -> None:
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        audit.record(session, actor, "token.revocar", "usuario", token.user.username,
                     {"token": token.id, "nombre": token.name})


def user_for_token(session: Session, secret: str) -> User | None:
    """The active user a bearer token belongs to, or None (revoked, unknown, inactive)."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.token_hash == token_digest(secret)))
    if token is None or token.revoked_at is not None or not token.user.active:
        return None
    now = utcnow()
    last = _aware(token.last_used_at)
    if last is None or now - last > dt.timedelta(minutes=1):  # not a write on every request
        token.last_used_at = now
    return token.user


# Administrators' changes to other accounts (the admin pages and the CLI).


def is_locked(user: User, now: dt.datetime | None = None) -> bool:
    until = _aware(user.locked_until)
    return bool(until and until > (now or utcnow()))


def _active_admins(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(User).where(
        User.role == Role.ADMIN, User.active.is_(True))) or 0)


def _unit_id(session: Session, code: str) -> int | None:
    code = code.strip().upper()
    if not code:
        return None
    unit = session.scalar(select(RegionalUnit).where(RegionalUnit.code == code))
    if unit is None:
        raise ArchivoError(f"La unidad regional «{code}» no existe.")
    return unit.id


def change_role(session: Session, user: User, role: Role, regional_code: str, *,
                actor: User) -> bool:
    """Set role and regional unit; refuses to leave the archive without an active admin."""
    unit_id = _unit_id(session, regional_code)
    if role is Role.REGIONAL and unit_id is None:
        raise ArchivoError("Un usuario con rol «regional» necesita su unidad regional.")
    if user.role is Role.ADMIN and role is not Role.ADMIN:
        if user.id == actor.id:
            raise ArchivoError("No puede quitarse a sí mismo el rol de administrador; "
                               "pídaselo a otro administrador.")
        if user.active and _active_admins(session) <= 1:
            raise ArchivoError("Debe quedar al menos un administrador activo.")
    changes: dict[str, Any] = {}
    if user.role is not role:
        changes["rol"] = {"antes": user.role.value, "despues": role.value}
        user.role = role
    if user.regional_unit_id != unit_id:
        codes = dict(session.execute(select(RegionalUnit.id, RegionalUnit.code)).all())
        changes["regional"] = {"antes": codes.get(user.regional_unit_id),
                               "despues": codes.get(unit_id)}
        user.regional_unit_id = unit_id
    if changes:
        audit.record(session, actor.username, "usuario.rol", "usuario", user.username, changes)
    return bool(changes)


def set_active(session: Session, user: User, active: bool, *, actor: User) -> bool:
    """Activate or deactivate; deactivation ends the user's sessions (session_version moves)."""
    if user.active == active:
        return False
    if not active:
        if user.id == actor.id:
            raise ArchivoError("No puede desactivar su propia cuenta.")
        if user.role is Role.ADMIN and _active_admins(session) <= 1:
            raise ArchivoError("Debe quedar al menos un administrador activo.")
        user.session_version += 1
        end_user_sessions(session, user)
    user.active = active
    audit.record(session, actor.username, "usuario.activar" if active else "usuario.desactivar",
                 "usuario", user.username, {})
    return True


def unlock(session: Session, user: User, *, actor: str) -> None:
    """Lift a lock left by failed sign-ins (``actor`` is the username doing it)."""
    user.locked_until, user.failed_logins = None, 0
    audit.record(session, actor, "usuario.desbloquear", "usuario", user.username, {})


def reset_password(session: Session, user: User, *, actor: User,
                   revoke_tokens: bool = True) -> str:
    """A new generated password (returned once); unlocks the account, ends its sessions
    and, unless told otherwise, revokes its API tokens (an admin resets after a compromise)."""
    new = generate_password()
    set_password(session, user, new, actor=actor.username, revoke_tokens=revoke_tokens)
    return new
