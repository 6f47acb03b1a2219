"""Optional capabilities: said once at start-up and in /healthz, never a traceback per page."""

from __future__ import annotations

import logging

import pytest
from PIL import Image

from archive.services import Services
from ingest import capabilities, separators
from web import create_app


def test_complete_install_misses_nothing() -> None:
    """The install users get (runtime dependencies + system packages) has every capability."""
    assert capabilities.qr_reader_available()
    assert capabilities.missing_capabilities() == []


@pytest.fixture
def no_qr_reader(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(capabilities, "qr_reader_available", lambda: False)
    monkeypatch.setattr(separators, "qr_reader_available", lambda: False)


def test_missing_qr_reader_is_quiet_per_page(no_qr_reader: None,
                                             caplog: pytest.LogCaptureFixture) -> None:
    page = Image.new("L", (400, 300), 255)
    with caplog.at_level(logging.DEBUG):
        for _ in range(3):
            assert separators.detect_separator(page) is None
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.WARNING]


def test_missing_qr_reader_is_said_once_in_spanish(no_qr_reader: None,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        missing = capabilities.log_missing_capabilities()
    assert [m.name for m in missing] == ["lector de códigos QR (zxing-cpp)"]
    (record,) = [r for r in caplog.records if r.name == "ingest.capabilities"]
    assert "hojas separadoras" in record.getMessage()
    assert record.exc_info is None


def test_healthz_warns_about_a_missing_capability(services: Services, no_qr_reader: None) -> None:
    res = create_app(services).test_client().get("/healthz")
    assert res.status_code == 200  # degraded feature, not a broken service
    part = res.json["partes"]["capacidades"]
    assert part["estado"] == "aviso"
    assert any("hojas separadoras" in s for s in part["faltan"])
