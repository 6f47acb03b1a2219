"""Every odd/corrupt/hostile file through the *whole* pipeline (accept + process).

    .venv/bin/python bench/odd_ingest.py [../shared/corpus/odd] [--timeout 180]

Each file runs in its own child process (time and memory limits) against one
shared embedded archive, so a crash or hang shows up as such instead of
killing the runner. Prints a Markdown table: file, final status, pages or
the Spanish reason, and whether the original is still in storage (quarantine).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import fresh_services, tmpdir  # noqa: E402

CHILD = """
import json, sys
sys.path.insert(0, {root!r})
from bench.common import fresh_services
from archive.db import session_scope
from archive.models import Document
from ingest import RejectedInput, accept_stream, process_document
svc = fresh_services({home!r})
path = {path!r}
try:
    with open(path, "rb") as fh:
        acc = accept_stream(svc, fh, path.rsplit("/", 1)[-1], actor="bench", enqueue=False)
except RejectedInput as exc:
    print(json.dumps({{"estado": "rechazado", "codigo": exc.code, "motivo": str(exc), "original": False}}))
    raise SystemExit
status = process_document(svc, acc.document_id)
with session_scope(svc.sessions) as s:
    d = s.get(Document, acc.document_id)
    kept = svc.store.exists(d.original.storage_key)
    print(json.dumps({{"estado": d.status.value, "paginas": d.page_count, "codigo": d.error_code,
                      "motivo": d.error_message, "original": kept}}, ensure_ascii=False))
"""


def _limits(mem_gib: float):  # type: ignore[no-untyped-def]
    def apply() -> None:
        size = int(mem_gib * 1024**3)
        resource.setrlimit(resource.RLIMIT_AS, (size, size))
    return apply


def main() -> None:
    root = Path(__file__).resolve().parent.parent
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", nargs="?", type=Path, default=root.parent / "shared" / "corpus" / "odd")
    ap.add_argument("--timeout", type=int, default=180)
    ap.add_argument("--memory-gib", type=float, default=3.0)
    args = ap.parse_args()
    home = tmpdir("archivo-odd-") / "var"
    fresh_services(home).dispose()
    files = sorted(p for p in args.folder.rglob("*") if p.is_file()
                   and p.suffix.lower() not in {".md", ".txt"} and p.name != "UPSTREAM_LICENSE")
    print("| archivo | resultado | detalle | original guardado |")
    print("|---|---|---|---|")
    counts: dict[str, int] = {}
    for f in files:
        code = CHILD.format(root=str(root), home=str(home), path=str(f))
        try:
            out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                 timeout=args.timeout, preexec_fn=_limits(args.memory_gib))
            if out.returncode != 0:
                row = {"estado": "CAÍDA", "motivo": out.stderr.strip().splitlines()[-1][:150]}
            else:
                row = json.loads(out.stdout.strip().splitlines()[-1])
        except subprocess.TimeoutExpired:
            row = {"estado": "TIEMPO AGOTADO", "motivo": f"más de {args.timeout} s"}
        counts[row["estado"]] = counts.get(row["estado"], 0) + 1
        if row["estado"] in {"listo", "revisar"}:
            detail = f"{row['paginas']} página(s)"
        else:
            detail = f"`{row.get('codigo')}`: {row.get('motivo')}"
        kept = {True: "sí", False: "no (no se aceptó)"}.get(row.get("original"), "-")
        print(f"| {f.relative_to(args.folder)} | {row['estado']} | {detail} | {kept} |")
    print()
    print("Resumen: " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))


if __name__ == "__main__":
    main()
