"""User accounts: creation and password hashing (werkzeug's scrypt)."""

from __future__ import annotations

import re
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from . import audit
from .enums import Role
from .errors import ArchivoError
from .models import RegionalUnit, User

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,79}$")
MIN_PASSWORD = 10


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def verify_password(user: User, password: str) -> bool:
    return check_password_hash(user.password_hash, password)


def generate_password() -> str:
    """A password a person can type: 4 groups of 4 from an unambiguous alphabet."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(4))


def create_user(session: Session, username: str, role: Role | str, *, password: str | None = None,
                full_name: str = "", regional_code: str | None = None,
                actor: str = "sistema") -> tuple[User, str]:
    """Create a user; returns it with the password (generated when not given)."""
    username = username.strip().lower()
    if not USERNAME_RE.match(username):
        raise ArchivoError(f"Nombre de usuario inválido «{username}»: use letras minúsculas, "
                           "números, punto, guion o guion bajo (2 a 80 caracteres).")
    try:
        role = Role.parse(role) if isinstance(role, str) else role
    except ValueError as exc:
        raise ArchivoError(f"Rol inválido: {exc}")
    if session.scalar(select(User).where(User.username == username)):
        raise ArchivoError(f"El usuario «{username}» ya existe.")
    if password is None:
        password = generate_password()
    elif len(password) < MIN_PASSWORD:
        raise ArchivoError(f"La contraseña debe tener al menos {MIN_PASSWORD} caracteres.")
    unit_id = None
    if regional_code:
        unit = session.scalar(select(RegionalUnit).where(RegionalUnit.code == regional_code))
        if unit is None:
            raise ArchivoError(f"La unidad regional «{regional_code}» no existe.")
        unit_id = unit.id
    if role is Role.REGIONAL and unit_id is None:
        raise ArchivoError("Un usuario con rol «regional» necesita su unidad regional: elija una.")
    user = User(username=username, role=role, full_name=full_name,
                password_hash=hash_password(password), regional_unit_id=unit_id)
    session.add(user)
    session.flush()
    audit.record(session, actor, "usuario.crear", "usuario", user.username, {"rol": role.value})
    return user, password
