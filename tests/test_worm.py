"""Write-once originals: S3 object lock with retention, tested on the real SeaweedFS."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import pytest
from minio.error import S3Error

from archive.config import load_settings
from archive.errors import ConfigError
from archive.storage import S3Store, open_store
from tests.conftest import home_env
from tests.fixtures.seaweed import SeaweedS3


def _store(seaweed: SeaweedS3, tmp_path: Path, bucket: str, lock: str = "gobernanza") -> S3Store:
    env = home_env(tmp_path / "var", ARCHIVO_STORAGE_URL=seaweed.storage_url(bucket),
                   ARCHIVO_S3_OBJECT_LOCK=lock, ARCHIVO_S3_RETENCION_DIAS="2")
    store = open_store(load_settings(env))
    assert isinstance(store, S3Store)
    return store


@pytest.mark.s3
def test_originals_are_write_once(seaweed_s3: SeaweedS3, tmp_path: Path) -> None:
    store = _store(seaweed_s3, tmp_path, f"worm-{uuid.uuid4().hex[:8]}")
    store.ensure()
    original = store.put_original(io.BytesIO(b"contrato firmado"))
    retention = store.client.get_object_retention(store.bucket, original.key)
    assert retention.mode == "GOVERNANCE" and retention.retain_until_date is not None
    versions = list(store.client.list_objects(store.bucket, prefix=original.key,
                                              include_version=True))
    with pytest.raises(S3Error) as refused:
        store.client.remove_object(store.bucket, original.key, version_id=versions[0].version_id)
    assert refused.value.code == "AccessDenied"
    assert store.get_bytes(original.key) == b"contrato firmado"

    store.put_bytes("pages/ab/cd/x/0001-web.jpg", b"\xff\xd8jpeg", media_type="image/jpeg")
    with pytest.raises(S3Error):  # derivatives carry no retention: they can be rebuilt
        store.client.get_object_retention(store.bucket, "pages/ab/cd/x/0001-web.jpg")


@pytest.mark.s3
def test_existing_bucket_without_lock_is_refused(seaweed_s3: SeaweedS3, tmp_path: Path) -> None:
    bucket = f"sinlock-{uuid.uuid4().hex[:8]}"
    _store(seaweed_s3, tmp_path, bucket, lock="").ensure()  # made without object lock
    with pytest.raises(ConfigError, match="ARCHIVO_S3_OBJECT_LOCK.*sin bloqueo"):
        _store(seaweed_s3, tmp_path, bucket).ensure()


def test_lock_settings_are_checked(tmp_path: Path) -> None:
    bad = home_env(tmp_path / "v", ARCHIVO_S3_OBJECT_LOCK="para siempre")
    with pytest.raises(ConfigError, match="gobernanza o cumplimiento"):
        load_settings(bad)
    assert load_settings(home_env(tmp_path / "v", ARCHIVO_S3_OBJECT_LOCK="Cumplimiento")
                         ).s3_object_lock == "COMPLIANCE"
    folder = load_settings(home_env(tmp_path / "v", ARCHIVO_S3_OBJECT_LOCK="gobernanza"))
    with pytest.raises(ConfigError, match="solo existe en S3"):
        open_store(folder)
