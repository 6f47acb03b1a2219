"""Run sniff + count_pages + iter_pages on every file of a folder, each in a jailed subprocess.

Each file is processed by a child process with a wall-clock timeout and an
address-space limit (RLIMIT_AS), so a crash, hang or memory blow-up is reported
instead of taking the runner down. Prints a Markdown table; exits 1 if any file
crashed or timed out.

    .venv/bin/python bench/odd_files.py [FOLDER] [--timeout 60] [--memory-gib 2]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_FOLDER = REPO.parent / "shared" / "corpus" / "odd"
SKIP_NAMES = {"MANIFEST.md", "UPSTREAM_LICENSE"}  # the corpus' own paperwork


def run_one(path: str) -> None:
    """Child side: ingest one file and print one JSON line with the outcome."""
    from ingest import RejectedInput, count_pages, iter_pages, sniff

    try:
        kind = sniff(path)
        declared = count_pages(path, kind)
        pages = []
        for page in iter_pages(path, kind):
            pages.append(
                {
                    "size": list(page.image.size),
                    "mode": page.image.mode,
                    "dpi": page.dpi,
                    "text": page.text_layer is not None,
                    "words": len(page.words or []),
                }
            )
            del page
        result = {"outcome": "ok", "kind": kind.kind, "declared": declared, "pages": pages}
    except RejectedInput as exc:
        result = {"outcome": "rejected", "code": exc.code, "message": str(exc)}
    print(json.dumps(result, ensure_ascii=False))


def jail(memory_bytes: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def probe(path: Path, timeout: float, memory_bytes: int) -> tuple[str, str, float]:
    """Run the child on ``path``; return (outcome, detail, seconds)."""
    started = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, __file__, "--one", str(path)],
            capture_output=True,
            text=True,
            timeout=timeout,
            preexec_fn=lambda: jail(memory_bytes),
            cwd=REPO,
        )
    except subprocess.TimeoutExpired:
        return "TIMEOUT", f"más de {timeout:.0f} s", time.monotonic() - started
    seconds = time.monotonic() - started
    if done.returncode != 0:
        if done.returncode < 0:
            return "CRASH", f"señal {-done.returncode}", seconds
        last = (done.stderr.strip().splitlines() or ["sin salida"])[-1]
        return "CRASH", f"excepción no controlada: {last[:200]}", seconds
    try:
        result = json.loads(done.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return "CRASH", "salida ilegible del proceso hijo", seconds
    if result["outcome"] == "rejected":
        return f"rechazado: `{result['code']}`", result["message"], seconds
    pages = result["pages"]
    first = pages[0]
    detail = f"{result['kind']}; pág. 1: {first['size'][0]}x{first['size'][1]} {first['mode']} {first['dpi']} ppp"
    if any(p["text"] for p in pages):
        detail += f"; capa de texto ({sum(p['words'] for p in pages)} palabras)"
    return f"ingerido: {len(pages)} página{'s' if len(pages) != 1 else ''}", detail, seconds


def cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", type=Path, default=DEFAULT_FOLDER)
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per file")
    parser.add_argument("--memory-gib", type=float, default=2.0, help="RLIMIT_AS per file")
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        run_one(args.one)
        return 0

    files = sorted(p for p in args.folder.rglob("*") if p.is_file() and p.name not in SKIP_NAMES)
    memory = int(args.memory_gib * 1024**3)
    print("| archivo | resultado | detalle | tiempo |")
    print("|---|---|---|---|")
    failures = 0
    for path in files:
        outcome, detail, seconds = probe(path, args.timeout, memory)
        failures += outcome in ("CRASH", "TIMEOUT")
        name = path.relative_to(args.folder).as_posix()
        print(f"| {cell(name)} | {cell(outcome)} | {cell(detail)} | {seconds:.1f} s |", flush=True)
    print(f"\n{len(files)} archivos; {failures} con CRASH o TIMEOUT.")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
