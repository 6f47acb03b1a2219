"""``archivo serve`` and ``archivo worker`` say once, at start-up, what this machine lacks.

Without the QR reader, separator sheets are never detected; before, that was
only a traceback per page in the worker's log, never a word at start-up.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from click.testing import CliRunner

from archivo_cli import runtime
from archivo_cli.main import cli
from ingest import capabilities
from tests.conftest import home_env


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    env = home_env(tmp_path / "var", ARCHIVO_TRABAJADOR_EMBEBIDO="false")
    assert CliRunner().invoke(cli, ["init"], env=env).exit_code == 0
    return env


@pytest.fixture
def no_process_left_running(monkeypatch: pytest.MonkeyPatch) -> None:
    """The commands start and return at once: the server and the consumers do not run."""
    import waitress

    monkeypatch.setattr(waitress, "serve", lambda *a, **k: None)
    monkeypatch.setattr(runtime.Consumers, "run", lambda self: None)


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_a_missing_qr_reader_is_said_once_at_start_up(
        command: str, env: dict[str, str], no_process_left_running: None,
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(capabilities, "qr_reader_available", lambda: False)
    caplog.set_level(logging.WARNING)
    out = CliRunner().invoke(cli, [command], env=env, catch_exceptions=False)
    assert out.exit_code == 0, out.output
    said = [m for m in _warnings(caplog) if "lector de códigos QR" in m]
    assert len(said) == 1, _warnings(caplog)
    assert "hojas separadoras" in said[0] and "Traceback" not in said[0]


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_a_complete_install_says_nothing(
        command: str, env: dict[str, str], no_process_left_running: None,
        caplog: pytest.LogCaptureFixture) -> None:
    assert capabilities.missing_capabilities() == []  # this machine has everything
    caplog.set_level(logging.WARNING)
    out = CliRunner().invoke(cli, [command], env=env, catch_exceptions=False)
    assert out.exit_code == 0, out.output
    assert not [m for m in _warnings(caplog) if m.startswith("Falta el")]
