"""Load test: concurrent uploaders and searchers against gunicorn on 127.0.0.1.

A fresh embedded-style archive (SQLite, folder store, SQLite queue) is seeded with OCR'd
sample scans, then served by gunicorn (web only) with one ``archivo worker`` process doing
the OCR of what is uploaded. For ``--segundos`` seconds, ``--subidores`` threads upload
small generated scans through ``POST /api/v1/documents`` and ``--buscadores`` threads search
through ``GET /api/v1/search``. Baseline in the same run and under the same load:
``GET /api/v1/openapi.json`` (the web stack's floor: auth, routing, JSON, no database).

    .venv/bin/python bench/load.py [--segundos 60] [--subidores 8] [--buscadores 16]

Needs gunicorn (``pip install gunicorn``); prints counts, errors and p50/p95 latencies.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import fresh_services, tmpdir  # noqa: E402

WORDS = ["contrato", "suministro", "reclamo", "medidor", "heladera", "acuerdo", "pago",
         "croquis", "garantía", "expediente", "denuncia", "titular", "Capiatá", "Asunción"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _png(seed: int) -> bytes:
    from ingest import render_page, sample_document

    doc = sample_document(seed, "reclamo_electrodomestico")
    img = render_page(doc.lines, dpi=100, size_mm=(150, 90), text_pt=11)
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = {}
        self.errors: dict[str, list[str]] = {}

    def add(self, kind: str, seconds: float, error: str | None) -> None:
        with self.lock:
            self.times.setdefault(kind, []).append(seconds)
            if error:
                self.errors.setdefault(kind, []).append(error)


def _request(conn: http.client.HTTPConnection, method: str, path: str, token: str,
             body: bytes | None = None, ctype: str | None = None) -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {token}"}
    if ctype:
        headers["Content-Type"] = ctype
    conn.request(method, path, body=body, headers=headers)
    res = conn.getresponse()
    return res.status, res.read()


def _multipart(data: bytes, name: str) -> tuple[bytes, str]:
    boundary = f"----archivo{random.getrandbits(64):x}"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"archivo\"; "
            f"filename=\"{name}\"\r\nContent-Type: image/png\r\n\r\n").encode() + data + \
        f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def _loop(kind: str, port: int, stop: threading.Event, rec: Recorder, job) -> None:  # type: ignore[no-untyped-def]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    while not stop.is_set():
        start = time.perf_counter()
        try:
            status, body = job(conn)
            ok = status in (200, 202)
            rec.add(kind, time.perf_counter() - start, None if ok else f"HTTP {status}: {body[:120]!r}")
        except Exception as exc:  # noqa: BLE001 - every failure is a figure here
            rec.add(kind, time.perf_counter() - start, f"{type(exc).__name__}: {exc}")
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.close()


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--segundos", type=int, default=60)
    ap.add_argument("--subidores", type=int, default=8)
    ap.add_argument("--buscadores", type=int, default=16)
    ap.add_argument("--semilla-docs", type=int, default=24, help="documentos OCR previos")
    ap.add_argument("--procesos-web", type=int, default=2)
    ap.add_argument("--hilos-web", type=int, default=8)
    args = ap.parse_args()

    home = tmpdir("archivo-carga-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVO_")}
    env.update(ARCHIVO_HOME=str(home), ARCHIVO_TRABAJADOR_EMBEBIDO="false",
               ARCHIVO_OCR_PROCESOS="1")
    svc = fresh_services(home, ARCHIVO_OCR_PROCESOS="1")
    from archive.accounts import create_token
    from archive.db import session_scope
    from archive.users import create_user
    from ingest import accept_stream, process_document
    from search import index_pending

    t0 = time.perf_counter()
    for i in range(args.semilla_docs):
        acc = accept_stream(svc, io.BytesIO(_png(10_000 + i)), f"semilla-{i}.png", actor="carga",
                            enqueue=False)
        process_document(svc, acc.document_id)
    index_pending(svc)
    print(f"Semilla: {args.semilla_docs} documentos con OCR e índice en "
          f"{time.perf_counter() - t0:.1f} s ({home})")
    with session_scope(svc.sessions) as db:
        up, _ = create_user(db, "carga.archivista", "archivista", password="clave-de-carga-1")
        rd, _ = create_user(db, "carga.consulta", "consulta", password="clave-de-carga-2")
        up_token = create_token(db, up, "carga", actor="carga")[1]
        rd_token = create_token(db, rd, "carga", actor="carga")[1]
    svc.dispose()

    port = _free_port()
    bin_dir = Path(sys.executable).parent
    web = subprocess.Popen([str(bin_dir / "gunicorn"), "-w", str(args.procesos_web), "--threads",
                            str(args.hilos_web), "-b", f"127.0.0.1:{port}", "--log-level",
                            "warning", "web:create_app()"], env=env, cwd=ROOT,
                           start_new_session=True)
    worker = subprocess.Popen([str(bin_dir / "archivo"), "worker", "--hilos", "1"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                c.request("GET", "/healthz")
                if c.getresponse().status == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                sys.exit("gunicorn no respondió en 60 s")
            time.sleep(0.3)

        images = [_png(20_000 + i) for i in range(40)]
        counter = iter(range(10**9))
        lock = threading.Lock()

        def upload(conn):  # type: ignore[no-untyped-def]
            with lock:
                n = next(counter)
            # unique bytes per upload: a few trailing bytes after the PNG end are ignored by readers
            data = images[n % len(images)] + n.to_bytes(8, "big")
            body, ctype = _multipart(data, f"carga-{n}.png")
            return _request(conn, "POST", "/api/v1/documents", up_token, body, ctype)

        def query(conn):  # type: ignore[no-untyped-def]
            q = random.choice(WORDS)
            return _request(conn, "GET", f"/api/v1/search?q={quote(q)}", rd_token)

        def floor(conn):  # type: ignore[no-untyped-def]
            return _request(conn, "GET", "/api/v1/openapi.json", rd_token)

        rec = Recorder()
        stop = threading.Event()
        threads = [threading.Thread(target=_loop, args=("subida", port, stop, rec, upload))
                   for _ in range(args.subidores)]
        threads += [threading.Thread(target=_loop, args=("búsqueda", port, stop, rec, query))
                    for _ in range(args.buscadores)]
        threads += [threading.Thread(target=_loop, args=("base (openapi.json)", port, stop, rec,
                                                         floor))]
        for t in threads:
            t.start()
        time.sleep(args.segundos)
        stop.set()
        for t in threads:
            t.join()
    finally:
        for proc in (web, worker):
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=20)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(proc.pid, signal.SIGKILL)

    print(f"Carga: {args.subidores} subidores y {args.buscadores} buscadores durante "
          f"{args.segundos} s contra gunicorn ({args.procesos_web} procesos × {args.hilos_web} "
          f"hilos) y un trabajador de OCR; {os.cpu_count()} núcleos")
    base = statistics.median(rec.times.get("base (openapi.json)", [0.0])) * 1000 or 1.0
    print(f"{'pedido':22} {'total':>6} {'errores':>7} {'por s':>7} {'p50 ms':>8} {'p95 ms':>8} "
          f"{'p50/base':>8}")
    for kind in ("subida", "búsqueda", "base (openapi.json)"):
        values = rec.times.get(kind, [])
        if not values:
            continue
        errs = len(rec.errors.get(kind, []))
        print(f"{kind:22} {len(values):6d} {errs:7d} {len(values) / args.segundos:7.1f} "
              f"{_pct(values, .5):8.1f} {_pct(values, .95):8.1f} {_pct(values, .5) / base:8.1f}")
    for kind, errs in rec.errors.items():
        for e in errs[:3]:
            print(f"  error en {kind}: {e}")
    print(json.dumps({k: len(v) for k, v in rec.errors.items()}, ensure_ascii=False))


if __name__ == "__main__":
    main()
