"""Asunción's zone is always there; a broken install says so instead of showing UTC."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from archive import localtime
from archive.errors import ArchivoError


def test_zone_is_asuncion_from_the_installed_tzdata() -> None:
    localtime.zone.cache_clear()
    winter = localtime.local_datetime(dt.datetime(2026, 7, 1, 12, tzinfo=dt.timezone.utc))
    assert str(localtime.zone()) == "America/Asuncion"
    assert winter.utcoffset() == dt.timedelta(hours=-3)


def test_missing_zone_is_an_error_not_a_silent_utc(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(key: str) -> zoneinfo.ZoneInfo:
        raise zoneinfo.ZoneInfoNotFoundError(key)

    monkeypatch.setattr(localtime, "ZoneInfo", missing)
    localtime.zone.cache_clear()
    try:
        with pytest.raises(ArchivoError, match="tzdata"):
            localtime.zone()
    finally:
        monkeypatch.undo()
        localtime.zone.cache_clear()
