"""The audit chain an administrator cannot rebuild: keyed seals and external anchors (issue 15).

The attack: edit event 2 and recompute every later hash with the public
``audit.event_hash``. Without the key the seals give it away; with a stolen key
the anchors written outside the database do.
"""

from __future__ import annotations

import datetime as dt
import json
import stat
import uuid
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import delete, select, update

from archive import audit, audit_anchor, fixity
from archive.audit_key import ENV, FILE_NAME, AuditKey, parse
from archive.db import session_scope
from archive.errors import ConfigError
from archive.models import AuditEvent
from archive.services import Services
from archive.storage import AUDIT_ANCHORS_PREFIX, S3Store
from archivo_cli.main import cli
from tests.conftest import home_env, make_services
from tests.fixtures.seaweed import SeaweedS3


def run(svc: Services, *args: str, **extra: str):  # type: ignore[no-untyped-def]
    env = home_env(svc.settings.home, ARCHIVO_STORAGE_URL=svc.settings.storage_url, **extra)
    return CliRunner().invoke(cli, ["check", *args], env=env, catch_exceptions=False)


def add_events(svc: Services, n: int) -> None:
    with session_scope(svc.sessions) as s:
        for i in range(n):
            audit.record(s, "ana", "documento.ver", "documento", f"ARC-2026-{i + 1:06d}",
                         {"motivo": f"consulta {i}"})


def rewrite_from(svc: Services, first: int, *, key: AuditKey | None,
                 keep_seals: bool = False) -> None:
    """The attack: change event ``first`` and recompute every later hash (and seal, with
    ``key``) exactly as the application would."""
    with session_scope(svc.sessions) as s:
        events = list(s.scalars(select(AuditEvent).order_by(AuditEvent.id)))
        prev = audit.GENESIS
        for ev in events:
            if ev.id == first:
                ev.details = {**ev.details, "motivo": "nunca se vio"}
            if ev.id >= first:
                ev.prev_hash = prev
                ev.hash = audit.event_hash(prev, ev.at, ev.actor, ev.action, ev.object_type,
                                           ev.object_id, ev.details)
                if not keep_seals:
                    ev.mac = key.seal(ev.hash) if key is not None else None
            prev = ev.hash


def real_key(svc: Services) -> AuditKey:
    return parse((svc.settings.home / FILE_NAME).read_text(), "prueba")


def anchor_objects(svc: Services) -> list[str]:
    return [info.key for info in svc.store.iterate(AUDIT_ANCHORS_PREFIX)]


def test_an_untouched_archive_passes_and_anchors_its_head(services: Services) -> None:
    add_events(services, 4)
    out = run(services, "--auditoria")
    assert out.exit_code == 0, out.output
    assert "Cadena de sumas íntegra." in out.output
    assert "Sellos de la clave de auditoría verificados en todos los eventos." in out.output
    head = max(_ids(services))
    assert f"Ancla nueva: evento {head}, guardada en archivo de anclas y almacenamiento" \
        in out.output
    with session_scope(services.sessions) as s:
        assert all(ev.mac for ev in s.scalars(select(AuditEvent)))
    # the anchor is in both places, sealed, and the next check compares it
    lines = audit_anchor.file_path(services).read_text().splitlines()
    assert [json.loads(line)["evento"] for line in lines] == [head]
    assert len(anchor_objects(services)) == 1
    out = run(services, "--auditoria")
    assert out.exit_code == 0, out.output
    assert "Anclas externas comparadas: 1, todas coinciden." in out.output


def test_key_and_anchor_files_are_private(services: Services) -> None:
    add_events(services, 1)
    assert run(services, "--auditoria").exit_code == 0
    for path in (services.settings.home / FILE_NAME, audit_anchor.file_path(services)):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    key = real_key(services)
    assert key.since == 1 and len(key.secret) == 64
    assert "Aviso" not in run(services, "--auditoria").output


def test_a_key_readable_by_others_is_reported(services: Services) -> None:
    add_events(services, 1)
    key_file = services.settings.home / FILE_NAME
    assert run(services, "--auditoria").exit_code == 0  # creates the key
    key_file.chmod(0o644)
    out = run(services, "--auditoria")
    assert out.exit_code == 0  # the chain is still intact: a warning, not a failure
    assert "la pueden leer otros usuarios" in out.output and "chmod 600" in out.output


def test_recomputed_chain_without_the_key_is_detected(services: Services) -> None:
    add_events(services, 4)
    second = _ids(services)[1]
    rewrite_from(services, second, key=None, keep_seals=True)  # public function only
    with session_scope(services.sessions) as s:  # the public chain itself is intact
        assert audit.verify_chain(s.scalars(select(AuditEvent).order_by(AuditEvent.id)),
                                  None) == []
    out = run(services, "--auditoria")
    assert out.exit_code == 1, out.output
    assert "Cadena de sumas íntegra" not in out.output
    assert f"Primer evento con problemas: {second} (documento.ver" in out.output
    assert f"El evento {second} no coincide con su sello" in out.output
    assert "No se registró un ancla nueva" in out.output and not anchor_objects(services)


@pytest.mark.parametrize("seals", ["quitados", "clave_adivinada"])
def test_seals_removed_or_made_with_another_key_are_detected(services: Services,
                                                             seals: str) -> None:
    add_events(services, 3)
    second = _ids(services)[1]
    guessed = AuditKey(uuid.uuid4().hex.encode() * 2) if seals == "clave_adivinada" else None
    rewrite_from(services, second, key=guessed)
    out = run(services, "--auditoria")
    assert out.exit_code == 1, out.output
    assert f"Primer evento con problemas: {second}" in out.output
    expected = "no tiene el sello" if guessed is None else "no coincide con su sello"
    assert f"El evento {second} {expected}" in out.output


def test_a_stolen_key_is_caught_by_the_anchors(services: Services) -> None:
    add_events(services, 3)
    assert run(services, "--auditoria").exit_code == 0  # anchors the head
    anchored = max(_ids(services))
    add_events(services, 2)
    second = _ids(services)[1]
    rewrite_from(services, second, key=real_key(services))  # seals recomputed with the key
    with session_scope(services.sessions) as s:  # hashes and seals all agree now
        assert audit.verify_chain(s.scalars(select(AuditEvent).order_by(AuditEvent.id))) == []
    out = run(services, "--auditoria")
    assert out.exit_code == 1, out.output
    assert f"Primer evento con problemas: {anchored}" in out.output, out.output
    assert (f"El evento {anchored} no coincide con el ancla del" in out.output
            and "archivo de anclas y almacenamiento" in out.output)
    assert "se modificaron eventos hasta este" in out.output


@pytest.mark.parametrize("lost", ["archivo", "almacenamiento"])
def test_either_anchor_copy_is_enough(services: Services, lost: str) -> None:
    add_events(services, 3)
    assert run(services, "--auditoria").exit_code == 0
    if lost == "archivo":
        audit_anchor.file_path(services).unlink()
    else:
        for key in anchor_objects(services):
            services.store.delete(key)
    rewrite_from(services, _ids(services)[1], key=real_key(services))
    out = run(services, "--auditoria")
    assert out.exit_code == 1 and "no coincide con el ancla del" in out.output


def test_anchors_narrow_down_the_rewritten_events(services: Services) -> None:
    add_events(services, 2)
    assert run(services, "--auditoria").exit_code == 0
    first_anchor = max(_ids(services))
    add_events(services, 3)
    assert run(services, "--auditoria").exit_code == 0
    second_anchor = max(_ids(services))
    rewrite_from(services, first_anchor + 2, key=real_key(services))
    out = run(services, "--auditoria")
    assert out.exit_code == 1
    assert (f"El evento {second_anchor} no coincide con el ancla del" in out.output
            and f"entre el evento {first_anchor + 1} y el {second_anchor}" in out.output)


def test_dropping_the_newest_events_is_caught_by_the_anchors(services: Services) -> None:
    add_events(services, 3)
    assert run(services, "--auditoria").exit_code == 0
    ids = _ids(services)
    with session_scope(services.sessions) as s:  # the newest events: the chain stays valid
        s.execute(delete(AuditEvent).where(AuditEvent.id >= ids[-2]))
    out = run(services, "--auditoria")
    assert out.exit_code == 1, out.output
    assert f"El evento {ids[-1]} no está en la base" in out.output


def test_a_forged_anchor_is_reported_as_such(services: Services) -> None:
    add_events(services, 2)
    assert run(services, "--auditoria").exit_code == 0
    line = json.loads(audit_anchor.file_path(services).read_text())
    line["hash"] = "0" * 64
    with audit_anchor.file_path(services).open("a") as fh:
        fh.write(json.dumps(line) + "\n")
    out = run(services, "--auditoria")
    assert out.exit_code == 1
    assert "Ancla no válida en archivo de anclas" in out.output
    assert "no tiene el sello de la clave de auditoría" in out.output


def test_an_upgraded_archive_seals_from_the_switch_over(tmp_path: Path) -> None:
    """Events written before the key existed keep their plain hashes; the key file records the
    first sealed event, so they cannot be rewritten either."""
    from archivo_cli.bootstrap import initialize

    old = make_services(tmp_path / "var")
    initialize(old)
    add_events(old, 3)
    with session_scope(old.sessions) as s:  # as written by the version before the key
        s.execute(update(AuditEvent).values(mac=None))
    (old.settings.home / FILE_NAME).unlink()
    old.dispose()

    svc = make_services(tmp_path / "var")
    legacy = _ids(svc)
    initialize(svc)  # the upgrade: archivo init creates the key, sealing from the next event
    assert real_key(svc).since == legacy[-1] + 1
    assert _ids(svc) == legacy
    add_events(svc, 1)
    out = run(svc, "--auditoria")
    assert out.exit_code == 0, out.output
    assert f"Sellos de la clave de auditoría verificados desde el evento {legacy[-1] + 1}" \
        in out.output
    # a rewrite of the unsealed part breaks the first sealed event, which covers it
    rewrite_from(svc, legacy[1], key=None, keep_seals=True)
    out = run(svc, "--auditoria")
    assert out.exit_code == 1
    assert f"El evento {legacy[-1] + 1} no coincide con su sello" in out.output
    svc.dispose()


def test_a_lost_key_file_is_never_replaced_silently(services: Services) -> None:
    add_events(services, 1)
    (services.settings.home / FILE_NAME).unlink()
    fresh = make_services(services.settings.home)
    with pytest.raises(ConfigError, match="falta la clave de auditoría.*restáurela"):
        add_events(fresh, 1)
    assert not (services.settings.home / FILE_NAME).exists()
    fresh.dispose()


def test_the_key_can_come_from_the_environment(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from archivo_cli.bootstrap import initialize

    secret = "k" * 40
    monkeypatch.setenv(ENV, secret)
    svc = make_services(tmp_path / "var")
    initialize(svc)
    add_events(svc, 1)
    assert not (svc.settings.home / FILE_NAME).exists()
    with session_scope(svc.sessions) as s:
        for ev in s.scalars(select(AuditEvent)):
            assert ev.mac == AuditKey(secret.encode()).seal(ev.hash)
    assert run(svc, "--auditoria", **{ENV: secret}).exit_code == 0
    assert run(svc, "--auditoria", **{ENV: "otra" * 10}).exit_code == 1  # another key
    monkeypatch.setenv(ENV, "corta")
    with pytest.raises(ConfigError, match=ENV):
        add_events(make_services(tmp_path / "var"), 1)
    svc.dispose()


def test_anchor_objects_are_not_orphans(services: Services) -> None:
    add_events(services, 1)
    assert run(services, "--auditoria").exit_code == 0
    out = run(services, "--objetos", "--limpiar", "--gracia", "0")
    assert out.exit_code == 0, out.output
    assert "Huérfano" not in out.output and len(anchor_objects(services)) == 1


def test_the_nightly_check_anchors_the_head(services: Services) -> None:
    add_events(services, 2)
    night = dt.datetime(2026, 11, 28, 6, 30, tzinfo=dt.timezone.utc)  # 03:30 in Asunción
    assert fixity.run_nightly(services, sample=1, now=night) is not None
    anchors = [json.loads(line) for line in
               audit_anchor.file_path(services).read_text().splitlines()]
    assert [a["motivo"] for a in anchors] == ["programada"]
    assert len(anchor_objects(services)) == 1


@pytest.mark.s3
def test_anchors_are_write_once_on_s3_with_object_lock(seaweed_s3: SeaweedS3,
                                                       tmp_path: Path) -> None:
    from minio.error import S3Error

    from archivo_cli.bootstrap import initialize

    svc = make_services(tmp_path / "var",
                        ARCHIVO_STORAGE_URL=seaweed_s3.storage_url(f"ancla-{uuid.uuid4().hex[:8]}"),
                        ARCHIVO_S3_OBJECT_LOCK="gobernanza", ARCHIVO_S3_RETENCION_DIAS="2")
    initialize(svc)
    out = run(svc, "--auditoria", ARCHIVO_S3_OBJECT_LOCK="gobernanza",
              ARCHIVO_S3_RETENCION_DIAS="2")
    assert out.exit_code == 0, out.output
    assert "con bloqueo de objetos" in out.output
    store = svc.store
    assert isinstance(store, S3Store)
    [key] = anchor_objects(svc)
    retention = store.client.get_object_retention(store.bucket, key)
    assert retention.mode == "GOVERNANCE" and retention.retain_until_date is not None
    versions = list(store.client.list_objects(store.bucket, prefix=key, include_version=True))
    with pytest.raises(S3Error) as refused:
        store.client.remove_object(store.bucket, key, version_id=versions[0].version_id)
    assert refused.value.code == "AccessDenied"
    svc.dispose()


def _ids(svc: Services) -> list[int]:
    with session_scope(svc.sessions) as s:
        return list(s.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))
