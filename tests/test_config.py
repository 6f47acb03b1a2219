from pathlib import Path

import pytest

from archive.config import load_settings, mask_secret
from archive.errors import ConfigError


def test_defaults_live_under_home(tmp_path: Path) -> None:
    s = load_settings({"ARCHIVO_HOME": str(tmp_path)})
    assert s.home == tmp_path.resolve()
    assert s.database_url == f"sqlite:///{tmp_path.resolve()}/archivo.db"
    assert s.storage_url == f"file://{tmp_path.resolve()}/objetos"
    assert s.index_dir == tmp_path.resolve() / "indice"
    assert s.queue_url == f"sqlite:///{tmp_path.resolve()}/cola.db"
    assert s.sources["database_url"] == "predeterminado"


def test_two_homes_share_nothing(tmp_path: Path) -> None:
    a = load_settings({"ARCHIVO_HOME": str(tmp_path / "a")})
    b = load_settings({"ARCHIVO_HOME": str(tmp_path / "b")})
    for field in ("database_url", "storage_url", "index_dir", "queue_url"):
        assert getattr(a, field) != getattr(b, field)


def test_environment_overrides_file(tmp_path: Path) -> None:
    cfg = tmp_path / "archivo.toml"
    cfg.write_text('max_pages = 10\nARCHIVO_OCR_IDIOMAS = "spa"\n')
    s = load_settings({"ARCHIVO_HOME": str(tmp_path), "ARCHIVO_MAX_PAGINAS": "20"})
    assert s.max_pages == 20 and s.sources["max_pages"] == "entorno"
    assert s.ocr_languages == "spa" and s.sources["ocr_languages"].startswith("archivo")


@pytest.mark.parametrize("env, setting", [
    ({"ARCHIVO_MAX_PAGINAS": "muchas"}, "ARCHIVO_MAX_PAGINAS"),
    ({"ARCHIVO_MAX_PAGINAS": "0"}, "ARCHIVO_MAX_PAGINAS"),
    ({"ARCHIVO_S3_SECURE": "quizas"}, "ARCHIVO_S3_SECURE"),
    ({"ARCHIVO_DATABASE_URL": "mysql://x"}, "ARCHIVO_DATABASE_URL"),
    ({"ARCHIVO_STORAGE_URL": "ftp://x"}, "ARCHIVO_STORAGE_URL"),
    ({"ARCHIVO_STORAGE_URL": "s3://127.0.0.1:9000/bucket"}, "ARCHIVO_STORAGE_URL"),
    ({"ARCHIVO_QUEUE_URL": "amqp://x"}, "ARCHIVO_QUEUE_URL"),
])
def test_bad_values_name_the_setting_in_spanish(tmp_path: Path, env: dict, setting: str) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings({"ARCHIVO_HOME": str(tmp_path), **env})
    assert setting in str(err.value)
    assert str(err.value).startswith("Configuración inválida")


def test_unknown_key_in_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "archivo.toml").write_text("colour = 'azul'\n")
    with pytest.raises(ConfigError, match="clave desconocida"):
        load_settings({"ARCHIVO_HOME": str(tmp_path)})


def test_secrets_are_masked(tmp_path: Path) -> None:
    s = load_settings({"ARCHIVO_HOME": str(tmp_path),
                       "ARCHIVO_STORAGE_URL": "s3://AKID:topsecret@127.0.0.1:8333/archivo",
                       "ARCHIVO_DATABASE_URL": "postgresql+psycopg://app:pw123@db/archivo",
                       "ARCHIVO_SECRET_KEY": "abc"})
    shown = s.masked()
    text = " ".join(shown.values())
    assert "topsecret" not in text and "AKID" not in text and "pw123" not in text
    assert shown["ARCHIVO_SECRET_KEY"] == "********"
    assert shown["ARCHIVO_STORAGE_URL"] == "s3://********:********@127.0.0.1:8333/archivo"
    assert mask_secret("database_url", "sqlite:///x.db") == "sqlite:///x.db"
