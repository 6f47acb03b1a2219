"""Import speed and peak memory of the supply registry import.

    .venv/bin/python bench/import_supplies.py [--filas 1000000] [--postgres URL]

Streams N generated supply rows to a temporary CSV (Latin-1, «;», as the
commercial system exports), then imports it in a fresh child process on
SQLite (and on PostgreSQL when --postgres names a server: a throw-away
database is created on it and dropped afterwards). The same file is imported
a second time to measure a re-import where nothing changed, then a copy where
5 % of the holders changed (updates, each audited). Reports rows/s
and the child's peak resident memory (VmHWM). Target (issue 5): 1,000,000
rows in under 2 minutes on SQLite.
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import fresh_services, tmpdir  # noqa: E402

CHILD = """
import sys, time
sys.path.insert(0, {root!r})
from archive.config import load_settings
from archive.services import Services
from archive.registry import import_supplies
import os
env = {{k: v for k, v in os.environ.items() if not k.startswith("ARCHIVO_")}}
env.update({env!r})
svc = Services(load_settings(env))
for label, path in (("primera", {csv!r}), ("segunda", {csv!r}), ("tercera", {changed!r})):
    t = time.perf_counter()
    r = import_supplies(svc, path, actor="bench", batch_size={batch})
    print(label, round(time.perf_counter() - t, 2), r.inserted, r.updated, r.unchanged, r.rejected)
hwm = next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print("hwm", hwm)
"""

NAMES = ["María", "José", "Juan", "Ana", "Carlos", "Rosa", "Luis", "Lucía", "Pedro", "Marta"]
SURNAMES = ["González", "Benítez", "Martínez", "López", "Giménez", "Núñez", "Ortiz", "Peña", "Báez", "Acuña"]
CITIES = ["Asunción", "Encarnación", "Ciudad del Este", "Concepción", "Caacupé", "Villarrica", "Itá"]
UNITS = ["CEN", "SUR", "EST", "NOR", "CTR", "MIS", "CHA", "COR"]


def generate(path: Path, n: int, seed: int = 5, changed: float = 0.0) -> None:
    """Write row by row; nothing but the current line is held in memory.

    With ``changed``, that share of the holders differs from the file of the same seed.
    """
    rnd, flip = random.Random(seed), random.Random(seed + 1)
    with path.open("w", encoding="latin-1", newline="") as fh:
        fh.write("NIS;TITULAR;CEDULA;DIRECCION;CIUDAD;REGIONAL;TARIFA;ESTADO\r\n")
        for i in range(n):
            holder = f"{rnd.choice(NAMES)} {rnd.choice(SURNAMES)} {rnd.choice(SURNAMES)}"
            if flip.random() < changed:
                holder = "Sucesión " + holder
            fh.write(f"{1000000 + i * 7};{holder};"
                     f"{rnd.randint(500000, 7000000)};Calle {rnd.randint(1, 3000)} c/ Tte. Fariña;"
                     f"{rnd.choice(CITIES)};{rnd.choice(UNITS)};T{rnd.randint(1, 6)};"
                     f"{'BAJA' if rnd.random() < 0.08 else 'ACTIVO'}\r\n")


def run(label: str, work: Path, csv: Path, changed: Path, batch: int, n: int, **env: str) -> None:
    home = work / f"var-{label}"
    svc = fresh_services(home, **env)
    svc.dispose()
    root = str(Path(__file__).resolve().parent.parent)
    code = CHILD.format(root=root, env={"ARCHIVO_HOME": str(home), **env}, csv=str(csv),
                       changed=str(changed), batch=batch)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if out.returncode:
        sys.exit(out.stderr)
    lines = dict((l.split()[0], l.split()[1:]) for l in out.stdout.splitlines() if l.strip())
    for key, text in (("primera", "importación inicial"), ("segunda", "reimportación sin cambios"),
                      ("tercera", "reimportación, 5 % cambiados")):
        secs, ins, upd, same, rej = lines[key]
        print(f"{label:10} {text:30} {float(secs):7.1f} s  {n / float(secs):9,.0f} filas/s  "
              f"(insertados {ins}, actualizados {upd}, sin cambios {same}, rechazados {rej})")
    print(f"{label:10} memoria máxima del proceso de importación: {int(lines['hwm'][0]) / 1024:.0f} MB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--filas", type=int, default=1_000_000)
    ap.add_argument("--lote", type=int, default=5000)
    ap.add_argument("--postgres", metavar="URL", help="servidor PostgreSQL para una base descartable, "
                    "p. ej. postgresql+psycopg://postgres@127.0.0.1:5432/test")
    ap.add_argument("--sin-sqlite", action="store_true", help="medir solo PostgreSQL")
    args = ap.parse_args()
    work = tmpdir("archivo-padron-")
    csv = work / "padron.csv"
    t = time.perf_counter()
    generate(csv, args.filas)
    changed = work / "padron-cambios.csv"
    generate(changed, args.filas, changed=0.05)
    print(f"Archivo: {args.filas:,} filas, {csv.stat().st_size / 1e6:.0f} MB (Latin-1, «;»), "
          f"dos archivos generados en {time.perf_counter() - t:.0f} s; lote {args.lote}")
    if not args.sin_sqlite:
        run("SQLite", work, csv, changed, args.lote, args.filas)
    if args.postgres:
        from sqlalchemy import create_engine, text

        admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
        name = f"archivo_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            run("PostgreSQL", work, csv, changed, args.lote, args.filas,
                ARCHIVO_DATABASE_URL=args.postgres.rsplit("/", 1)[0] + f"/{name}")
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    csv.unlink()
    changed.unlink()


if __name__ == "__main__":
    main()
