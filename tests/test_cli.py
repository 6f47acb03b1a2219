"""The `archivo` command: init, config, user, serve, and Spanish errors for bad settings."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Iterator

import pytest
from click.testing import CliRunner

from archivo_cli.main import cli
from tests.conftest import home_env


def run(env: dict[str, str], *args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return home_env(tmp_path / "var")


def test_init_creates_everything_once(env: dict[str, str], tmp_path: Path) -> None:
    first = run(env, "init")
    assert first.exit_code == 0, first.output
    assert "Contraseña (se muestra una sola vez)" in first.output
    home = tmp_path / "var"
    assert (home / "archivo.db").is_file() and (home / "objetos").is_dir()
    assert (home / "indice").is_dir() and (home / "clave_secreta").is_file()
    second = run(env, "init")
    assert second.exit_code == 0
    assert "Ya existe un administrador" in second.output and "Contraseña" not in second.output


def test_user_add_and_list(env: dict[str, str]) -> None:
    run(env, "init")
    out = run(env, "user", "add", "lmartinez", "--rol", "archivista", "--nombre", "Luis Martínez")
    assert out.exit_code == 0 and "Contraseña" in out.output
    dup = run(env, "user", "add", "lmartinez", "--rol", "consulta")
    assert dup.exit_code == 1 and "ya existe" in dup.output
    regional = run(env, "user", "add", "sur1", "--rol", "regional")
    assert regional.exit_code == 1 and "unidad regional" in regional.output
    ok = run(env, "user", "add", "sur1", "--rol", "regional", "--regional", "SUR")
    assert ok.exit_code == 0
    listing = run(env, "user", "list")
    assert "lmartinez" in listing.output and "Luis Martínez" in listing.output
    assert "sur1" in listing.output and "SUR" in listing.output


def test_config_shows_embedded_defaults_and_hides_secrets(env: dict[str, str], tmp_path: Path) -> None:
    env = {**env, "ARCHIVO_STORAGE_URL": "s3://AKID:muysecreto@127.0.0.1:9/archivo"}
    out = run(env, "config")
    assert out.exit_code == 0
    assert f"sqlite:///{(tmp_path / 'var').resolve()}/archivo.db" in out.output
    assert "muysecreto" not in out.output and "AKID" not in out.output
    assert "ARCHIVO_QUEUE_URL" in out.output and "predeterminado" in out.output


@pytest.mark.parametrize("extra, setting", [
    ({"ARCHIVO_DATABASE_URL": "postgresql+psycopg://nadie@127.0.0.1:9/x"}, "ARCHIVO_DATABASE_URL"),
    ({"ARCHIVO_STORAGE_URL": "s3://a:b@127.0.0.1:9/archivo"}, "ARCHIVO_STORAGE_URL"),
    ({"ARCHIVO_MAX_PAGINAS": "diez"}, "ARCHIVO_MAX_PAGINAS"),
    ({"ARCHIVO_QUEUE_URL": "redis://127.0.0.1:9/0"}, "ARCHIVO_QUEUE_URL"),
])
def test_bad_configuration_is_one_spanish_line(env: dict[str, str], extra: dict, setting: str) -> None:
    out = CliRunner().invoke(cli, ["init"], env={**env, **extra})
    assert out.exit_code == 1 and isinstance(out.exception, SystemExit)  # handled, not a crash
    assert setting in out.output
    assert out.output.startswith("Error: ")


def test_unwritable_home_is_reported(env: dict[str, str], tmp_path: Path) -> None:
    blocker = tmp_path / "archivo-regular-file"
    blocker.write_text("x")
    out = CliRunner().invoke(cli, ["init"], env={**env, "ARCHIVO_HOME": str(blocker / "var")})
    assert out.exit_code == 1 and isinstance(out.exception, SystemExit)
    assert "ARCHIVO_" in out.output


def test_s3_wrong_credentials_are_reported(env: dict[str, str], seaweed_s3) -> None:  # type: ignore[no-untyped-def]
    bad = seaweed_s3.storage_url("archivo-cli").replace(seaweed_s3.secret_key, "incorrecta")
    out = CliRunner().invoke(cli, ["init"], env={**env, "ARCHIVO_STORAGE_URL": bad})
    assert out.exit_code == 1 and "ARCHIVO_STORAGE_URL" in out.output
    assert isinstance(out.exception, SystemExit) and "credenciales" in out.output.lower()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def _serving(env: dict[str, str]) -> Iterator[int]:
    """``archivo serve`` as a real process, as `make run` starts it; yields its port once
    /healthz answers."""
    port = _free_port()
    exe = Path(sys.executable).with_name("archivo")
    proc = subprocess.Popen([str(exe), "serve", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                    break
            except urllib.error.HTTPError:
                break  # it answers, unhealthy: the test says what it expected
            except OSError:
                assert time.monotonic() < deadline, (
                    proc.stdout.read1().decode() if proc.stdout else "")
                time.sleep(0.3)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _healthz(port: int, headers: dict[str, str] | None = None) -> dict:  # type: ignore[type-arg]
    req = urllib.request.Request(f"http://127.0.0.1:{port}/healthz", headers=headers or {})
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.load(r)  # type: ignore[no-any-return]


def test_serve_answers_healthz_with_all_parts_ok(env: dict[str, str]) -> None:
    assert run(env, "init").exit_code == 0
    with _serving(env) as port:
        body = _healthz(port)
        assert body["estado"] == "ok"
        assert {k: v["estado"] for k, v in body["partes"].items()} == {
            "base_de_datos": "ok", "escritura": "ok", "almacenamiento": "ok", "indice": "ok",
            "cola": "ok", "capacidades": "ok"}
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as r:
            page = r.read().decode()
        assert 'lang="es-PY"' in page and "Archivo de Atención al Cliente" in page


def test_serve_behind_a_proxy_sees_the_forwarded_client(env: dict[str, str]) -> None:
    """waitress drops X-Forwarded-* unless told not to; with ARCHIVO_PROXIES=1 the real
    server must hand them to ProxyFix, so a remote client gets no local-only details."""
    assert run(env, "init").exit_code == 0
    remote = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    with _serving({**env, "ARCHIVO_PROXIES": "1"}) as port:
        assert "pendientes" in _healthz(port)["partes"]["cola"]  # the proxy itself is local
        assert "pendientes" not in _healthz(port, remote)["partes"]["cola"]
    with _serving(env) as port:  # no proxy trusted: forged headers change nothing
        assert "pendientes" in _healthz(port, remote)["partes"]["cola"]


def test_ingest_json_reports_every_file(env: dict[str, str], tmp_path: Path) -> None:
    from tests import scans

    run(env, "init")
    folder = tmp_path / "lote"
    folder.mkdir()
    img, nis = scans.page(seed=60)
    scans.write(img, folder / "a.png", "PNG")
    (folder / "b.pdf").write_bytes(b"")
    (folder / "c.pdf").write_bytes(b"<html>no soy un pdf</html>")
    out = run(env, "ingest", str(folder), "--esperar", "--json")
    rows = [json.loads(line) for line in out.output.splitlines() if line.startswith("{")]
    by_name = {Path(r["archivo"]).name: r for r in rows}
    assert set(by_name) == {"a.png", "b.pdf", "c.pdf"}
    assert by_name["a.png"]["estado"] == "listo" and by_name["a.png"]["nis"] == nis
    assert by_name["a.png"]["numero"].startswith("ARC-") and by_name["a.png"]["paginas"] == 1
    assert by_name["b.pdf"]["estado"] == "rechazado" and "vacío" in by_name["b.pdf"]["error"]
    assert by_name["c.pdf"]["estado"] == "error" and "HTML" in by_name["c.pdf"]["error"]
    assert out.exit_code == 1  # some files could not be archived
    again = run(env, "ingest", str(folder / "a.png"))
    assert "ya estaba archivado" in again.output and again.exit_code == 0


def test_demo_loads_sample_documents(env: dict[str, str]) -> None:
    run(env, "init")
    first = run(env, "demo", "--n", "4")  # png, tiff, pdf, jpeg
    assert first.exit_code == 0 and first.output.count("ARC-") == 4
    assert "Usuarios de ejemplo creados" in first.output and "regional.sur" in first.output
    second = run(env, "demo", "--n", "4")
    assert second.output.count("(ya estaba)") == 4
    assert "Usuarios de ejemplo" not in second.output  # created once
    listing = run(env, "user", "list").output
    assert all(name in listing for name in ("archivista", "consulta", "despacho", "regional.sur"))


def test_help_and_usage_errors_are_in_spanish(env: dict[str, str]) -> None:
    helped = CliRunner().invoke(cli, ["--help"], env=env)
    assert "Uso:" in helped.output and "Opciones" in helped.output and "Comandos" in helped.output
    missing = CliRunner().invoke(cli, ["ingest"], env=env)
    assert missing.exit_code == 2 and "Falta el argumento" in missing.output
