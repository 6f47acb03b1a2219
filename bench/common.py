"""Helpers shared by the benchmark scripts (not part of the installed package)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS_SCRIPT = ROOT.parent / "shared" / "corpus" / "make_corpus.py"


@dataclass
class TruthDoc:
    id: str
    files: list[Path]
    doc_type: str
    nis: list[str]
    pages: list[dict]


def make_corpus(out: Path, *, n: int, seed: int, degrade: str, formats: str, dpi: int,
                script: Path = CORPUS_SCRIPT) -> list[TruthDoc]:
    """Run the shared corpus generator and read back its ground truth."""
    if not script.is_file():
        sys.exit(f"No se encontró el generador de corpus en {script} (use --corpus).")
    subprocess.run([sys.executable, str(script), "--out", str(out), "--n", str(n), "--seed", str(seed),
                    "--degrade", degrade, "--formats", formats, "--dpi", str(dpi)],
                   check=True, stdout=subprocess.DEVNULL)
    docs = []
    for entry in json.loads((out / "index.json").read_text()):
        truth = json.loads((out / f"{entry['id']}.json").read_text())
        docs.append(TruthDoc(entry["id"], [out / f for f in entry["files"]], truth["doc_type"],
                             truth["supply_numbers"], truth["pages"]))
    return docs


def fresh_services(home: Path, **env: str):  # type: ignore[no-untyped-def]
    """An initialized embedded archive in ``home`` (quiet)."""
    from archive.config import load_settings
    from archive.services import Services
    from archivo_cli.bootstrap import initialize

    base = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVO_")}
    base.update({"ARCHIVO_HOME": str(home), **env})
    svc = Services(load_settings(base))
    initialize(svc)
    return svc


def tmpdir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix))


def add_corpus_arguments(ap, *, n: int = 40, seed: int = 3, degrade: str = "heavy") -> None:  # type: ignore[no-untyped-def]
    """The corpus options every quality benchmark takes."""
    ap.add_argument("--n", type=int, default=n)
    ap.add_argument("--seed", type=int, default=seed)
    ap.add_argument("--degrade", default=degrade, choices=["none", "light", "heavy"])
    ap.add_argument("--dpi", type=int, default=200)
    ap.add_argument("--formats", default="png,tiff,pdf,jpeg")
    ap.add_argument("--corpus", type=Path, default=CORPUS_SCRIPT)


def ingest_corpus(svc, docs: list[TruthDoc]) -> list[tuple[int, int, int]]:  # type: ignore[no-untyped-def]
    """Accept every file and process them, as many at a time as OCR slots.

    Returns (document index, file index, archivo document id) per file.
    """
    from concurrent.futures import ThreadPoolExecutor

    from ingest import accept_stream, process_document

    jobs: list[tuple[int, int, int]] = []
    for di, d in enumerate(docs):
        for fi, f in enumerate(d.files):
            with f.open("rb") as fh:
                doc_id = accept_stream(svc, fh, f.name, actor="bench", enqueue=False).document_id
            jobs.append((di, fi, doc_id))
    with ThreadPoolExecutor(max_workers=svc.settings.ocr_workers) as pool:
        list(pool.map(lambda j: process_document(svc, j[2]), jobs))
    return jobs
