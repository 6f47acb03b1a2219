"""One settings object, read from ``ARCHIVO_*`` variables and an optional TOML file.

Precedence: environment variable > config file (``ARCHIVO_CONFIG`` or
``$ARCHIVO_HOME/archivo.toml``) > default. Every default lives under
``ARCHIVO_HOME`` so two instances with different homes never share a byte.
The table in ``docs/configuracion.md`` documents each field; ``SETTINGS``
below is its single source.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Callable, Mapping
from urllib.parse import quote, urlsplit

from .errors import ConfigError


@dataclass(frozen=True)
class Setting:
    name: str  # attribute on Settings
    env: str  # environment variable
    default: str  # textual default; "{home}" is replaced by ARCHIVO_HOME
    help: str  # Spanish, one line, for docs and `archivo config`
    secret: bool = False


SETTINGS: tuple[Setting, ...] = (
    Setting("home", "ARCHIVO_HOME", "./var", "Carpeta de la instalación embebida."),
    Setting("database_url", "ARCHIVO_DATABASE_URL", "sqlite:///{home}/archivo.db",
            "Base de datos (SQLite o postgresql+psycopg://...).", secret=True),
    Setting("storage_url", "ARCHIVO_STORAGE_URL", "file://{home}/objetos",
            "Almacenamiento de objetos: file://CARPETA o s3://CLAVE:SECRETO@host:puerto/bucket.",
            secret=True),
    Setting("s3_secure", "ARCHIVO_S3_SECURE", "false", "Usar HTTPS con S3 (true/false)."),
    Setting("s3_region", "ARCHIVO_S3_REGION", "us-east-1", "Región S3."),
    Setting("s3_object_lock", "ARCHIVO_S3_OBJECT_LOCK", "",
            "Originales de solo escritura en S3: gobernanza o cumplimiento (vacío = sin bloqueo)."),
    Setting("s3_retention_days", "ARCHIVO_S3_RETENCION_DIAS", "3650",
            "Días de retención de cada original con ARCHIVO_S3_OBJECT_LOCK."),
    Setting("index_dir", "ARCHIVO_INDEX_DIR", "{home}/indice", "Carpeta del índice Whoosh."),
    Setting("queue_url", "ARCHIVO_QUEUE_URL", "sqlite:///{home}/cola.db",
            "Cola de tareas: sqlite:///ARCHIVO o redis://host:puerto/db.", secret=True),
    Setting("secret_key", "ARCHIVO_SECRET_KEY", "",
            "Clave para firmar sesiones y enlaces; si falta se genera en {home}/clave_secreta.",
            secret=True),
    Setting("base_url", "ARCHIVO_BASE_URL", "http://127.0.0.1:5000",
            "URL pública del servicio (enlaces firmados, códigos QR, URL absolutas de la API)."),
    Setting("hosts", "ARCHIVO_HOSTS", "",
            "Nombres de host aceptados además de localhost, 127.0.0.1, ::1 y el de "
            "ARCHIVO_BASE_URL, separados por comas (* = cualquiera)."),
    Setting("proxies", "ARCHIVO_PROXIES", "0",
            "Proxies inversos de confianza delante del servicio (nginx: 1; sin proxy: 0)."),
    Setting("ocr_languages", "ARCHIVO_OCR_IDIOMAS", "spa+eng", "Idiomas de Tesseract."),
    Setting("ocr_processes", "ARCHIVO_OCR_PROCESOS", "0",
            "Procesos de OCR simultáneos (0 = uno por núcleo)."),
    Setting("max_file_mb", "ARCHIVO_MAX_ARCHIVO_MB", "500", "Tamaño máximo de archivo (MB)."),
    Setting("max_pages", "ARCHIVO_MAX_PAGINAS", "2000", "Páginas máximas por archivo."),
    Setting("max_page_megapixels", "ARCHIVO_MAX_MEGAPIXELES", "150",
            "Megapíxeles máximos por página (protege contra bombas de descompresión)."),
    Setting("page_timeout_s", "ARCHIVO_TIEMPO_MAX_PAGINA", "300",
            "Segundos máximos de OCR por página."),
    Setting("lease_s", "ARCHIVO_PLAZO_TRABAJO", "60",
            "Segundos sin señal de vida tras los que otro trabajador retoma un documento."),
    Setting("scanner_dir", "ARCHIVO_CARPETA_ESCANER", "",
            "Carpeta vigilada del escáner (vacía = desactivada)."),
    Setting("embedded_worker", "ARCHIVO_TRABAJADOR_EMBEBIDO", "true",
            "`archivo serve` inicia también el trabajador de la cola (true/false)."),
    Setting("indexer", "ARCHIVO_INDEXADOR", "local",
            "Quién escribe el índice: local (cada trabajador y el trabajador embebido) o "
            "dedicado (solo `archivo indexador`)."),
)

_BY_NAME = {s.name: s for s in SETTINGS}


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    storage_url: str
    s3_secure: bool
    s3_region: str
    s3_object_lock: str
    s3_retention_days: int
    index_dir: Path
    queue_url: str
    secret_key: str
    base_url: str
    hosts: tuple[str, ...]  # extra names accepted in the Host header, see trusted_hosts
    proxies: int  # trusted reverse proxies: how many X-Forwarded-* hops to believe
    ocr_languages: str
    ocr_processes: int
    max_file_mb: int
    max_pages: int
    max_page_megapixels: int
    page_timeout_s: int
    lease_s: int
    scanner_dir: Path | None
    embedded_worker: bool
    indexer: str  # "local" or "dedicado", see INDEXER_MODES
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)

    @property
    def max_file_bytes(self) -> int:
        return self.max_file_mb * 1024 * 1024

    @property
    def max_page_pixels(self) -> int:
        return self.max_page_megapixels * 1_000_000

    @property
    def ocr_workers(self) -> int:
        return self.ocr_processes or (os.cpu_count() or 1)

    @property
    def dedicated_indexer(self) -> bool:
        """True when only ``archivo indexador`` consumes the index queue."""
        return self.indexer == "dedicado"

    @property
    def secret_key_file(self) -> Path:
        return self.home / "clave_secreta"

    @property
    def public_url(self) -> str | None:
        """ARCHIVO_BASE_URL when someone set it: then absolute URLs never echo the Host header."""
        if self.sources.get("base_url", "entorno") == "predeterminado":
            return None
        return self.base_url.rstrip("/")

    @property
    def trusted_hosts(self) -> frozenset[str] | None:
        """Host names a request may name (lower case, no port); None accepts any (``*``)."""
        if "*" in self.hosts:
            return None
        own = urlsplit(self.base_url).hostname
        return frozenset({*LOOPBACK_HOSTS, *self.hosts, *([own.lower()] if own else [])})

    @property
    def s3_origins(self) -> tuple[str, ...]:
        """Where presigned S3 links point (path and virtual-host style), for the CSP."""
        parts = urlsplit(self.storage_url)
        if parts.scheme != "s3" or not parts.hostname:
            return ()
        scheme = "https" if self.s3_secure else "http"
        host = parts.hostname + (f":{parts.port}" if parts.port else "")
        bucket = parts.path.strip("/")
        return (f"{scheme}://{host}", f"{scheme}://{bucket}.{host}")

    def masked(self) -> dict[str, str]:
        """Effective settings for display, with passwords in URLs and secrets hidden."""
        out: dict[str, str] = {}
        for s in SETTINGS:
            value = getattr(self, s.name)
            text = ("" if value is None else str(value).lower() if isinstance(value, bool)
                    else ",".join(value) if isinstance(value, tuple) else str(value))
            if s.secret:
                text = mask_secret(s.name, text)
            out[s.env] = text
        return out


def mask_secret(name: str, text: str) -> str:
    if not text:
        return ""
    if "://" not in text:
        return "********"
    parts = urlsplit(text)
    if parts.password is None and parts.username is None:
        return text
    user = parts.username or ""
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    cred = f"{user}:********@" if parts.password is not None else f"{user}@"
    if name == "storage_url" and parts.password is not None:
        cred = "********:********@"
    return f"{parts.scheme}://{cred}{host}{port}{parts.path}"


def _parse_bool(setting: Setting, raw: str) -> bool:
    v = raw.strip().lower()
    if v in {"1", "true", "si", "sí", "yes", "on"}:
        return True
    if v in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigError(setting.env, f"se esperaba true o false y se recibió «{raw}».")


def _parse_int(setting: Setting, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(setting.env, f"se esperaba un número entero y se recibió «{raw}».")
    if value < 0:
        raise ConfigError(setting.env, "el valor no puede ser negativo.")
    return value


def _read_file(path: Path) -> dict[str, str]:
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except OSError as exc:
        raise ConfigError("ARCHIVO_CONFIG", f"no se pudo leer {path}: {exc.strerror}.")
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("ARCHIVO_CONFIG", f"{path} no es TOML válido ({exc}).")
    out: dict[str, str] = {}
    for key, value in data.items():
        setting = _BY_NAME.get(key) or next((s for s in SETTINGS if s.env == key), None)
        if setting is None:
            raise ConfigError("ARCHIVO_CONFIG", f"clave desconocida «{key}» en {path}.")
        out[setting.name] = str(value).lower() if isinstance(value, bool) else str(value)
    return out


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build the settings; raise :class:`ConfigError` naming the bad variable."""
    env = dict(os.environ if environ is None else environ)
    home_raw = env.get("ARCHIVO_HOME") or "./var"
    config_path = env.get("ARCHIVO_CONFIG")
    file_values: dict[str, str] = {}
    if config_path:
        file_values = _read_file(Path(config_path))
    else:
        candidate = Path(home_raw) / "archivo.toml"
        if candidate.is_file():
            file_values = _read_file(candidate)
            config_path = str(candidate)
    if "home" in file_values and "ARCHIVO_HOME" not in env:
        home_raw = file_values["home"]
    home = Path(home_raw).expanduser().resolve()

    raw: dict[str, str] = {}
    sources: dict[str, str] = {}
    for s in SETTINGS:
        if s.env in env and env[s.env] != "":
            raw[s.name], sources[s.name] = env[s.env], "entorno"
        elif s.name in file_values:
            raw[s.name], sources[s.name] = file_values[s.name], f"archivo {config_path}"
        else:
            raw[s.name], sources[s.name] = s.default.replace("{home}", str(home)), "predeterminado"

    convert: dict[str, Callable[[Setting, str], Any]] = {
        "s3_secure": _parse_bool,
        "embedded_worker": _parse_bool,
        "ocr_processes": _parse_int,
        "proxies": _parse_int,
        "max_file_mb": _parse_int,
        "max_pages": _parse_int,
        "max_page_megapixels": _parse_int,
        "page_timeout_s": _parse_int,
        "lease_s": _parse_int,
        "s3_retention_days": _parse_int,
        "s3_object_lock": _parse_lock_mode,
        "indexer": _parse_indexer,
        "hosts": _parse_hosts,
    }
    values: dict[str, Any] = {}
    for s in SETTINGS:
        text = raw[s.name]
        values[s.name] = convert[s.name](s, text) if s.name in convert else text
    values["home"] = home
    values["index_dir"] = Path(values["index_dir"]).expanduser().resolve()
    values["scanner_dir"] = Path(values["scanner_dir"]).expanduser().resolve() if values["scanner_dir"] else None
    for name in ("max_file_mb", "max_pages", "max_page_megapixels", "page_timeout_s", "lease_s"):
        if values[name] == 0:
            raise ConfigError(_BY_NAME[name].env, "el valor debe ser mayor que cero.")
    _validate_urls(values)
    known = {f.name for f in fields(Settings)}
    return Settings(**{k: v for k, v in values.items() if k in known}, sources=sources)


LOCK_MODES = {"gobernanza": "GOVERNANCE", "cumplimiento": "COMPLIANCE"}


def _parse_lock_mode(s: Setting, text: str) -> str:
    """Spanish name of an S3 object-lock mode -> the S3 word; empty means no lock."""
    key = text.strip().lower()
    if not key:
        return ""
    if key not in LOCK_MODES:
        raise ConfigError(s.env, f"«{text}» no es un modo válido: use gobernanza o cumplimiento.")
    return LOCK_MODES[key]


LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")
_HOST_NAME = re.compile(r"^(\*|\.?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*"
                        r"|[0-9a-f:.]*:[0-9a-f:.]+)$")


def _parse_hosts(s: Setting, text: str) -> tuple[str, ...]:
    """A comma list of host names (no scheme, no port; ``.dominio`` for its subdomains)."""
    names = tuple(n.strip().lower().strip("[]") for n in text.split(",") if n.strip())
    for name in names:
        if not _HOST_NAME.match(name):
            raise ConfigError(s.env, f"«{name}» no es un nombre de host: escriba solo el "
                                     "nombre, sin http:// ni puerto, separados por comas.")
    return names


INDEXER_MODES = ("local", "dedicado")


def _parse_indexer(s: Setting, text: str) -> str:
    key = text.strip().lower()
    if key not in INDEXER_MODES:
        raise ConfigError(s.env, f"«{text}» no es válido: use local o dedicado.")
    return key


def _validate_urls(values: dict[str, Any]) -> None:
    db = values["database_url"]
    if not (db.startswith("sqlite") or db.startswith("postgresql")):
        raise ConfigError("ARCHIVO_DATABASE_URL",
                          "solo se admiten sqlite:///RUTA y postgresql+psycopg://usuario@host/base.")
    st = urlsplit(values["storage_url"])
    if st.scheme not in {"file", "s3"}:
        raise ConfigError("ARCHIVO_STORAGE_URL",
                          "use file:///carpeta o s3://CLAVE:SECRETO@host:puerto/bucket.")
    if st.scheme == "s3":
        if not st.hostname or not st.path.strip("/"):
            raise ConfigError("ARCHIVO_STORAGE_URL",
                              "falta el host o el nombre del bucket (s3://CLAVE:SECRETO@host:puerto/bucket).")
        if st.username is None or st.password is None:
            raise ConfigError("ARCHIVO_STORAGE_URL",
                              "faltan las credenciales (s3://CLAVE:SECRETO@host:puerto/bucket).")
    q = urlsplit(values["queue_url"])
    if q.scheme not in {"sqlite", "redis", "memory"}:
        raise ConfigError("ARCHIVO_QUEUE_URL", "use sqlite:///archivo.db o redis://host:puerto/0.")


def s3_url(access_key: str, secret_key: str, endpoint: str, bucket: str) -> str:
    """Compose an ``ARCHIVO_STORAGE_URL`` with safely quoted credentials."""
    return f"s3://{quote(access_key, safe='')}:{quote(secret_key, safe='')}@{endpoint}/{bucket}"
