"""Errors that carry a Spanish message meant for the person at the desk."""

from __future__ import annotations


class ArchivoError(Exception):
    """Base error: ``str(err)`` is a complete Spanish sentence for the user."""


class ConfigError(ArchivoError):
    """A setting is missing, malformed or points to something unusable."""

    def __init__(self, setting: str, message: str) -> None:
        self.setting = setting
        super().__init__(f"Configuración inválida en {setting}: {message}")


class StorageError(ArchivoError):
    """The object store cannot be reached or refused an operation."""


class ObjectNotFound(StorageError):
    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"El objeto {key} no existe en el almacenamiento.")


class IntegrityError(StorageError):
    """Bytes did not match the checksum they were sent or stored with."""
