"""The dependency audit step of ``make test`` (scripts/audit_deps.py): its verdicts.

pip-audit itself needs a vulnerability service this machine may not reach, so
its report is given here; the real run happens in ``make test``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "audit_deps.py"


@pytest.fixture()
def audit() -> Any:
    spec = importlib.util.spec_from_file_location("audit_deps", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(audit: Any, monkeypatch: pytest.MonkeyPatch, report: Any, *, strict: bool = False,
        ) -> int:
    monkeypatch.setattr(audit, "run_pip_audit", lambda site: (report, "ConnectionError: x"))
    monkeypatch.setattr(sys, "argv", ["audit_deps.py", "/sitio"])
    if strict:
        monkeypatch.setenv("ARCHIVO_AUDITORIA_ESTRICTA", "1")
    return int(audit.main())


def test_a_known_vulnerability_fails(audit: Any, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    report = {"dependencies": [
        {"name": "flask", "version": "3.0.0", "vulns": []},
        {"name": "werkzeug", "version": "2.0.0",
         "vulns": [{"id": "PYSEC-2023-58", "fix_versions": ["2.2.3"]}]}]}
    assert run(audit, monkeypatch, report) == 1
    out = capsys.readouterr().out
    assert "VULNERABLE: werkzeug 2.0.0: PYSEC-2023-58 (corregida en: 2.2.3)" in out


def test_what_could_not_be_looked_up_is_named_not_passed_off_as_clean(
        audit: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    report = {"dependencies": [
        {"name": "flask", "version": "3.0.0", "vulns": []},
        {"name": "archivo", "version": "0.1", "skip_reason": "editable"},
        {"name": "whoosh3", "version": "3.54.0", "skip_reason": "Dependency not found"}]}
    assert run(audit, monkeypatch, report) == 0
    out = capsys.readouterr().out
    assert "1 de 2 auditadas; 1 NO se pudieron auditar" in out and "whoosh3" in out
    assert "ninguna vulnerabilidad conocida en las 1 dependencias auditadas" in out
    assert run(audit, monkeypatch, report, strict=True) == 1


def test_no_service_at_all_says_the_audit_was_not_made(
        audit: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(audit, monkeypatch, None) == 0
    assert "NO SE HIZO" in capsys.readouterr().out
    assert run(audit, monkeypatch, None, strict=True) == 1
