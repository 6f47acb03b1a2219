"""`archivo ingest --esperar` waits for the documents a stack was split into, and lists them."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from archivo_cli.main import cli
from tests.conftest import home_env
from tests.test_batch_split import content_page, separator_pages, write_tiff


def test_ingest_waits_for_the_parts_of_a_stack(tmp_path: Path) -> None:
    env = home_env(tmp_path / "var")
    assert CliRunner().invoke(cli, ["init"], env=env).exit_code == 0
    seps = separator_pages([("1234567", "contrato"), ("7654321", None)])
    stack = write_tiff([seps[0], content_page(1), content_page(2), seps[1], content_page(3)],
                       tmp_path / "lote.tif")
    res = CliRunner().invoke(cli, ["ingest", str(stack), "--esperar", "--json"], env=env,
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    row = json.loads(res.output.strip().splitlines()[-1])
    parts = row["partes"]
    assert [(p["nis"], p["paginas"]) for p in parts] == [(["1234567"], 2), (["7654321"], 1)]
    assert all(p["estado"] in ("listo", "revisar") for p in parts)
