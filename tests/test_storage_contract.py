"""One contract for every object store, run against a folder and a real S3 server.

The S3 half talks to the SeaweedFS started by ``tests.fixtures.seaweed``; each
test gets its own bucket so tests never see each other's objects.
"""

from __future__ import annotations

import base64
import hashlib
import io
import random
import socket
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
import urllib3
from minio import time as s3time
from minio.credentials import Credentials
from minio.error import S3Error
from minio.signer import sign_v4_s3

from archive import keys
from archive.config import load_settings
from archive.errors import ConfigError, IntegrityError, ObjectNotFound, StorageError
from archive.storage import (
    CHUNK_SIZE,
    LocalStore,
    ObjectInfo,
    ObjectStore,
    S3Store,
    StoredObject,
    open_store,
    store_from_url,
    verify_signed_url,
)
from archive.storage.signing import sign
from tests.fixtures.seaweed import SeaweedS3

SECRET = "clave-de-prueba"
BASE_URL = "http://archivo.test"
BIG = 6 * 1024 * 1024 + 12345  # above minio's 5 MiB multipart threshold


class GeneratedStream(io.RawIOBase):
    """Deterministic pseudo-random bytes produced on demand (never a whole buffer).

    Records the largest read request so tests can prove the store reads in chunks.
    """

    def __init__(self, size: int, seed: int = 7) -> None:
        self._rng = random.Random(seed)
        self._left = size
        self.max_request = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = self._left
        self.max_request = max(self.max_request, size)
        n = min(size, self._left)
        self._left -= n
        return self._rng.randbytes(n)


def digest_of(size: int, seed: int = 7) -> str:
    h = hashlib.sha256()
    stream = GeneratedStream(size, seed)
    while chunk := stream.read(CHUNK_SIZE):
        h.update(chunk)
    return h.hexdigest()


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def new_bucket() -> str:
    return f"prueba-{uuid.uuid4().hex[:16]}"


# -- fixtures ---------------------------------------------------------------------


def make_local(tmp_path: Path) -> LocalStore:
    store = LocalStore(tmp_path / "objetos", secret_key=SECRET, base_url=BASE_URL)
    store.ensure()
    return store


def make_s3(seaweed: SeaweedS3) -> S3Store:
    store = store_from_url(seaweed.storage_url(new_bucket()))
    assert isinstance(store, S3Store)
    store.ensure()
    return store


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.s3)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    if request.param == "local":
        return make_local(tmp_path)
    return make_s3(request.getfixturevalue("seaweed_s3"))


@pytest.fixture
def local_store(tmp_path: Path) -> LocalStore:
    return make_local(tmp_path)


@pytest.fixture
def s3_store(seaweed_s3: SeaweedS3) -> S3Store:
    return make_s3(seaweed_s3)


# -- the contract -------------------------------------------------------------------


def test_put_and_open_stream_a_multi_mib_payload(store: ObjectStore) -> None:
    expected = digest_of(BIG)
    source = GeneratedStream(BIG)
    key = keys.pdf_key(expected)

    stored = store.put(key, source, media_type="application/pdf", sha256=expected, size=BIG)

    assert stored == StoredObject(key, BIG, expected, "application/pdf")
    assert source.max_request <= CHUNK_SIZE  # read in chunks, never all at once
    h, total, biggest = hashlib.sha256(), 0, 0
    with store.open(key) as fh:
        while chunk := fh.read(256 * 1024):
            h.update(chunk)
            total += len(chunk)
            biggest = max(biggest, len(chunk))
    assert (h.hexdigest(), total) == (expected, BIG)
    assert biggest <= 256 * 1024
    assert store.stat(key).size == BIG


def test_small_bytes_round_trip(store: ObjectStore) -> None:
    key = keys.page_key("a" * 64, 1, "words")
    stored = store.put_bytes(key, b'{"palabras": []}', "application/gzip")
    assert stored.sha256 == sha(b'{"palabras": []}')
    assert store.get_bytes(key) == b'{"palabras": []}'
    assert store.get_bytes(keys.page_key("a" * 64, 1, "words")) == b'{"palabras": []}'
    store.put_bytes(key, b"reemplazo")
    assert store.get_bytes(key) == b"reemplazo"


def test_put_with_wrong_checksum_or_size_stores_nothing(store: ObjectStore, tmp_path: Path) -> None:
    data = b"contenido verdadero" * 1000
    key = "pdf/aa/bb/corrupto.pdf"
    with pytest.raises(IntegrityError, match="SHA-256"):
        store.put(key, io.BytesIO(data), sha256=sha(b"otra cosa"))
    with pytest.raises(IntegrityError, match="bytes"):
        store.put(key, io.BytesIO(data), sha256=sha(data), size=len(data) + 1)

    assert not store.exists(key)
    assert list(store.iterate()) == []
    if isinstance(store, LocalStore):
        assert list((store.root / ".tmp").iterdir()) == []  # staging cleaned up
    assert store.put(key, io.BytesIO(data), sha256=sha(data), size=len(data)).size == len(data)


def test_put_original_is_content_addressed_and_idempotent(store: ObjectStore,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    data = b"%PDF-1.7 factura de prueba\n" * 5000
    digest = sha(data)
    commits: list[str] = []
    real_commit = store._commit

    def counting_commit(staged, key, media_type):  # type: ignore[no-untyped-def]
        commits.append(key)
        real_commit(staged, key, media_type)

    monkeypatch.setattr(store, "_commit", counting_commit)

    first = store.put_original(io.BytesIO(data), "application/pdf")
    second = store.put_original(io.BytesIO(data), "application/pdf")

    assert first == second == StoredObject(f"originals/{digest[:2]}/{digest[2:4]}/{digest}",
                                           len(data), digest, "application/pdf")
    assert first.key == keys.original_key(digest)
    assert commits == [first.key]  # the second call did not rewrite
    assert store.get_bytes(first.key) == data
    assert [o.key for o in store.iterate()] == [first.key]


def test_exists_stat_delete(store: ObjectStore) -> None:
    key = keys.page_key("b" * 64, 3, "thumb")
    before = datetime.now(timezone.utc)
    store.put_bytes(key, b"\xff\xd8miniatura", "image/jpeg")

    assert store.exists(key)
    info = store.stat(key)
    assert info.key == key and info.size == len(b"\xff\xd8miniatura")
    assert info.modified.tzinfo is not None
    assert abs((info.modified - before).total_seconds()) < 120

    store.delete(key)
    assert not store.exists(key)
    store.delete(key)  # deleting twice is fine
    with pytest.raises(ObjectNotFound):
        store.stat(key)


def test_missing_objects_raise_object_not_found(store: ObjectStore) -> None:
    key = keys.original_key("c" * 64)
    assert not store.exists(key)
    with pytest.raises(ObjectNotFound) as err:
        with store.open(key):
            pass
    assert err.value.key == key
    assert "no existe" in str(err.value)
    with pytest.raises(ObjectNotFound):
        store.get_bytes(key)
    with pytest.raises(ObjectNotFound):
        store.stat(key)


def test_iterate_filters_by_prefix_in_key_order(store: ObjectStore) -> None:
    one, two = "1" * 64, "2" * 64
    wanted = [
        keys.page_key(one, 2, "web"),
        keys.pdf_key(one),
        keys.page_key(one, 1, "web"),
        keys.original_key(two),
        keys.page_key(two, 1, "thumb"),
        keys.original_key(one),
        keys.page_key(one, 1, "words"),
        keys.page_key(one, 10, "web"),
    ]
    for key in wanted:
        store.put_bytes(key, key.encode())

    listed = list(store.iterate())
    assert [o.key for o in listed] == sorted(wanted)
    assert all(isinstance(o, ObjectInfo) and o.size == len(o.key) for o in listed)
    one_pages = [keys.page_key(one, 1, "web"), keys.page_key(one, 1, "words"),
                 keys.page_key(one, 2, "web"), keys.page_key(one, 10, "web")]
    assert [o.key for o in store.iterate(keys.pages_prefix(one))] == one_pages
    assert [o.key for o in store.iterate("originals/")] == [keys.original_key(one),
                                                            keys.original_key(two)]
    assert [o.key for o in store.iterate("pages/11/1")] == one_pages  # mid-segment prefix
    assert list(store.iterate("nada/")) == []


def test_iterate_order_when_a_folder_name_prefixes_a_sibling(store: ObjectStore) -> None:
    """``a-b`` < ``a/c`` as strings ("-" < "/"), but a folder walk visits ``a/`` first.

    keys.py never produces such siblings, so the archive is unaffected; this pins
    down what each back end actually does.
    """
    for key in ["zz/a/c", "zz/a-b", "zz/a.d", "zz/a0"]:
        store.put_bytes(key, b"x")
    listed = [o.key for o in store.iterate("zz/")]
    if isinstance(store, LocalStore):
        assert listed == ["zz/a-b", "zz/a.d", "zz/a/c", "zz/a0"]  # true string order
    else:
        # SeaweedFS 4.x lists folder by folder (not the S3 spec's byte order).
        # AWS S3 and MinIO would return the local order above.
        assert listed == ["zz/a/c", "zz/a-b", "zz/a.d", "zz/a0"]


@pytest.mark.parametrize(
    "bad", ["../fuera", "/absoluta", "a\\b", "a//b", "a/", "", ".tmp/x", "a/./b"])
def test_unsafe_keys_are_rejected(store: ObjectStore, bad: str) -> None:
    with pytest.raises(ValueError):
        store.put_bytes(bad, b"x")
    with pytest.raises(ValueError):
        store.exists(bad)


def test_ensure_is_idempotent_and_check_passes(store: ObjectStore) -> None:
    store.put_bytes("pdf/00/00/se-conserva.pdf", b"dato")
    store.ensure()
    store.ensure()
    store.check()
    assert store.get_bytes("pdf/00/00/se-conserva.pdf") == b"dato"


# -- download links -------------------------------------------------------------------


def test_local_url_is_signed_and_expires(local_store: LocalStore) -> None:
    key = keys.page_key("d" * 64, 1, "web")
    local_store.put_bytes(key, b"jpeg", "image/jpeg")
    url = local_store.url(key, timedelta(minutes=5))

    parts = urlsplit(url)
    assert url.startswith(f"{BASE_URL}/objetos/{key}?")
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert set(query) == {"expira", "firma"}
    url_key = unquote(parts.path.removeprefix("/objetos/"))
    expira, firma = query["expira"], query["firma"]
    assert abs(int(expira) - (time.time() + 300)) < 5

    assert verify_signed_url(SECRET, url_key, expira, firma)
    assert not verify_signed_url(SECRET, keys.page_key("d" * 64, 2, "web"), expira, firma)
    assert not verify_signed_url(SECRET, url_key, str(int(expira) + 3600), firma)
    flipped = firma[:-1] + ("0" if firma[-1] != "0" else "1")
    assert not verify_signed_url(SECRET, url_key, expira, flipped)
    assert not verify_signed_url("otra-clave", url_key, expira, firma)
    assert not verify_signed_url(SECRET, url_key, "mañana", firma)
    assert not verify_signed_url(SECRET, url_key, expira, firma, now=int(expira) + 1)
    assert verify_signed_url(SECRET, url_key, expira, firma, now=int(expira))
    # An already-expired link carrying a valid signature is still refused.
    past = int(time.time()) - 10
    assert not verify_signed_url(SECRET, url_key, past, sign(SECRET, url_key, past))


def test_local_url_needs_a_secret_key(tmp_path: Path) -> None:
    store = LocalStore(tmp_path, secret_key="")
    with pytest.raises(StorageError, match="ARCHIVO_SECRET_KEY"):
        store.url("pdf/aa/bb/x.pdf", timedelta(minutes=1))


@pytest.mark.s3
def test_s3_presigned_url_downloads_and_expires(s3_store: S3Store) -> None:
    data = b"%PDF presigned " * 1000
    key = keys.pdf_key(sha(data))
    s3_store.put_bytes(key, data, "application/pdf")

    url = s3_store.url(key, timedelta(minutes=5))
    with urllib.request.urlopen(url, timeout=10) as resp:
        assert resp.read() == data
        assert resp.headers["Content-Type"] == "application/pdf"

    tampered = url.replace("X-Amz-Signature=", "X-Amz-Signature=0")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(tampered, timeout=10)
    assert err.value.code == 403

    short = s3_store.url(key, timedelta(seconds=1))
    time.sleep(2.1)
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(short, timeout=10)
    assert err.value.code == 403


# -- the S3 server enforces x-amz-checksum-sha256 --------------------------------------


@pytest.mark.s3
def test_seaweedfs_rejects_a_wrong_checksum_header(s3_store: S3Store) -> None:
    """The payload signature is correct here; only the checksum header lies."""
    data = b"bytes intactos" * 1000
    wrong = base64.b64encode(hashlib.sha256(b"otra cosa").digest()).decode()
    right = base64.b64encode(hashlib.sha256(data).digest()).decode()

    with pytest.raises(S3Error) as err:
        s3_store.client.put_object(s3_store.bucket, "crudo/malo", io.BytesIO(data), len(data),
                                   metadata={"x-amz-checksum-sha256": wrong})
    assert err.value.code == "BadDigest"
    assert not s3_store.exists("crudo/malo")

    s3_store.client.put_object(s3_store.bucket, "crudo/bueno", io.BytesIO(data), len(data),
                               metadata={"x-amz-checksum-sha256": right})
    assert s3_store.get_bytes("crudo/bueno") == data


@pytest.mark.s3
def test_seaweedfs_rejects_bytes_corrupted_in_transit(s3_store: S3Store,
                                                      seaweed_s3: SeaweedS3) -> None:
    """Raw PUT with an unsigned payload: only the checksum header can catch the flipped bit."""
    data = bytes(range(256)) * 8192  # 2 MiB
    corrupted = bytearray(data)
    corrupted[1_000_000] ^= 0x01
    digest = hashlib.sha256(data).digest()

    def raw_put(key: str, body: bytes) -> urllib3.BaseHTTPResponse:
        url = urlsplit(f"http://{seaweed_s3.endpoint}/{s3_store.bucket}/{key}")
        date = s3time.utcnow()
        headers = {
            "Host": url.netloc,
            "Content-Length": str(len(body)),
            "x-amz-date": s3time.to_amz_date(date),
            "x-amz-content-sha256": "UNSIGNED-PAYLOAD",
            "x-amz-checksum-sha256": base64.b64encode(digest).decode(),
        }
        headers = sign_v4_s3(method="PUT", url=url, region="us-east-1", headers=headers,
                             credentials=Credentials(seaweed_s3.access_key, seaweed_s3.secret_key),
                             content_sha256="UNSIGNED-PAYLOAD", date=date)
        return urllib3.request("PUT", url.geturl(), body=body, headers=headers, timeout=10)

    bad = raw_put("crudo/corrupto", bytes(corrupted))
    assert bad.status == 400 and b"BadDigest" in bad.data
    assert not s3_store.exists("crudo/corrupto")

    good = raw_put("crudo/intacto", data)
    assert good.status == 200
    assert s3_store.get_bytes("crudo/intacto") == data


@pytest.mark.s3
def test_s3_store_sends_the_checksum_and_maps_rejection(s3_store: S3Store,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The server keeps the checksum we sent; a wrong one is refused as IntegrityError."""
    data = b"bytes con suma" * 500
    s3_store.put_bytes("pdf/aa/bb/con-suma.pdf", data)
    head = s3_store.client.stat_object(s3_store.bucket, "pdf/aa/bb/con-suma.pdf",
                                       extra_headers={"x-amz-checksum-mode": "ENABLED"})
    expected = base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert head.metadata["x-amz-checksum-sha256"] == expected

    real_stage = s3_store._stage

    def lying_stage(stream):  # type: ignore[no-untyped-def]
        ctx = real_stage(stream)

        class Lie:
            def __enter__(self):  # type: ignore[no-untyped-def]
                staged = ctx.__enter__()
                staged.sha256 = sha(b"no son estos bytes")
                return staged

            def __exit__(self, *exc):  # type: ignore[no-untyped-def]
                return ctx.__exit__(*exc)

        return Lie()

    monkeypatch.setattr(s3_store, "_stage", lying_stage)
    with pytest.raises(IntegrityError, match="SHA-256"):
        s3_store.put("pdf/aa/bb/mentira.pdf", io.BytesIO(b"bytes reales" * 100))
    monkeypatch.undo()
    assert not s3_store.exists("pdf/aa/bb/mentira.pdf")


# -- bad configuration ------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_s3_on_a_closed_port_fails_fast_naming_the_setting() -> None:
    port = closed_port()
    store = store_from_url(f"s3://ak:sk@127.0.0.1:{port}/archivo")
    started = time.monotonic()
    with pytest.raises(StorageError) as err:
        store.check()
    assert time.monotonic() - started < 5
    message = str(err.value)
    assert "ARCHIVO_STORAGE_URL" in message
    assert f"127.0.0.1:{port}" in message
    assert "conexión rechazada" in message
    with pytest.raises(StorageError, match="ARCHIVO_STORAGE_URL"):
        store.put_bytes("pdf/aa/bb/x.pdf", b"x")
    with pytest.raises(StorageError, match="ARCHIVO_STORAGE_URL"):
        store.ensure()


@pytest.mark.s3
@pytest.mark.parametrize("who", ["secreto", "clave"])
def test_s3_wrong_credentials_are_reported(s3_store: S3Store, seaweed_s3: SeaweedS3,
                                           who: str) -> None:
    access = seaweed_s3.access_key if who == "secreto" else "desconocida"
    bad = S3Store(seaweed_s3.endpoint, access, "secreto-equivocado", s3_store.bucket)
    started = time.monotonic()
    with pytest.raises(StorageError) as err:
        bad.check()
    assert time.monotonic() - started < 5
    assert "Credenciales S3 rechazadas" in str(err.value)
    assert "ARCHIVO_STORAGE_URL" in str(err.value)
    assert "secreto-equivocado" not in str(err.value)
    with pytest.raises(StorageError, match="Credenciales"):
        bad.put_bytes("pdf/aa/bb/x.pdf", b"x")


@pytest.mark.s3
def test_s3_missing_bucket_is_reported(seaweed_s3: SeaweedS3) -> None:
    store = store_from_url(seaweed_s3.storage_url(new_bucket()))
    with pytest.raises(StorageError, match="ARCHIVO_STORAGE_URL") as err:
        store.check()
    assert "bucket" in str(err.value)
    store.ensure()
    store.check()


def test_local_store_on_an_unusable_path(tmp_path: Path) -> None:
    blocker = tmp_path / "archivo-normal"
    blocker.write_text("no soy una carpeta")
    store = LocalStore(blocker / "objetos")

    with pytest.raises(StorageError, match="ARCHIVO_STORAGE_URL") as err:
        store.check()
    assert str(blocker / "objetos") in str(err.value)
    with pytest.raises(StorageError, match="ARCHIVO_STORAGE_URL") as err:
        store.ensure()
    assert "no es una carpeta" in str(err.value)
    with pytest.raises(StorageError):
        store.put_bytes("pdf/aa/bb/x.pdf", b"x")
    assert not LocalStore(blocker).exists("pdf/aa/bb/x.pdf")


def test_local_store_root_that_is_a_file(tmp_path: Path) -> None:
    root = tmp_path / "archivo"
    root.write_text("x")
    with pytest.raises(StorageError, match="no es una carpeta.*ARCHIVO_STORAGE_URL"):
        LocalStore(root).check()


def test_local_store_does_not_create_a_missing_root_implicitly(tmp_path: Path) -> None:
    """A vanished root usually means an unmounted disk: refuse instead of filling '/'."""
    store = LocalStore(tmp_path / "disco-externo")
    with pytest.raises(StorageError, match="no existe"):
        store.put_bytes("pdf/aa/bb/x.pdf", b"x")
    assert not (tmp_path / "disco-externo").exists()
    with pytest.raises(StorageError, match="no existe.*ARCHIVO_STORAGE_URL"):
        store.check()


# -- wiring -----------------------------------------------------------------------------


def test_open_store_picks_the_backend_from_settings(tmp_path: Path) -> None:
    base = {"ARCHIVO_HOME": str(tmp_path), "ARCHIVO_SECRET_KEY": SECRET}
    local = open_store(load_settings(base))
    assert isinstance(local, LocalStore) and local.root == tmp_path.resolve() / "objetos"

    s3 = open_store(load_settings({**base, "ARCHIVO_STORAGE_URL": "s3://AK:S%2FK@10.0.0.5:8333/docs",
                                   "ARCHIVO_S3_REGION": "sa-east-1"}))
    assert isinstance(s3, S3Store)
    assert (s3.endpoint, s3.bucket, s3.region) == ("10.0.0.5:8333", "docs", "sa-east-1")
    assert not s3.secure

    with pytest.raises(ConfigError, match="ARCHIVO_STORAGE_URL"):
        store_from_url("ftp://x/y")
    with pytest.raises(ConfigError, match="ARCHIVO_STORAGE_URL"):
        store_from_url("s3://AK:SK@host:9000/a/b")
    with pytest.raises(ConfigError, match="ARCHIVO_STORAGE_URL"):
        store_from_url("s3://host:9000/docs")


def test_keys_layout_and_validation() -> None:
    digest = hashlib.sha256(b"x").hexdigest()
    assert keys.original_key(digest) == f"originals/{digest[:2]}/{digest[2:4]}/{digest}"
    shard = f"{digest[:2]}/{digest[2:4]}"
    assert keys.page_key(digest, 1, "web") == f"pages/{shard}/{digest}/0001-web.jpg"
    assert keys.page_key(digest, 12, "thumb").endswith("/0012-thumb.jpg")
    assert keys.page_key(digest, 3, "words").endswith("/0003-words.json.gz")
    assert keys.pdf_key(digest) == f"pdf/{digest[:2]}/{digest[2:4]}/{digest}.pdf"
    for bad in ["", "ABC", digest.upper(), digest[:-1], digest + "0", "g" * 64]:
        with pytest.raises(ValueError):
            keys.original_key(bad)
    with pytest.raises(ValueError):
        keys.page_key(digest, 0, "web")
    with pytest.raises(ValueError):
        keys.page_key(digest, 1, "grande")  # type: ignore[arg-type]
    assert keys.is_safe_key("a..b/c")
    for bad in ["..", "a/../b", "/a", "a\\b", "a//b", "", "a/"]:
        assert not keys.is_safe_key(bad)
