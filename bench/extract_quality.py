"""Extraction and classification quality on the synthetic corpus's ground-truth text.

Runs the corpus generator (no degradation), then feeds each document's exact
page text, not OCR output, to ``extract_all`` and ``classify``. This isolates
the quality of the rules from the quality of OCR; the OCR bench measures both.

    .venv/bin/python bench/extract_quality.py [--n 200] [--seed 1]
        [--corpus-script ../shared/corpus/make_corpus.py] [--keep DIR] [--errors 10]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

# Run as a script, this file's folder comes first on sys.path and "ingest" would name
# bench/ingest.py instead of the package being measured.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from ingest import classify, extract_all  # noqa: E402
from ingest.extract import digits_only  # noqa: E402

REPO = Path(__file__).resolve().parent.parent


@dataclass
class Tally:
    """True/false positives and misses of one identifier kind over the corpus."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, doc_id: str, expected: set[str], found: set[str]) -> None:
        self.tp += len(expected & found)
        self.fp += len(found - expected)
        self.fn += len(expected - found)
        if expected != found:
            self.errors.append(f"{doc_id}: esperado {sorted(expected)} hallado {sorted(found)}")

    def line(self, name: str) -> str:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0
        counts = f"(VP {self.tp}, FP {self.fp}, FN {self.fn})"
        return f"{name:<22} precisión {p:.4f}  exhaustividad {r:.4f}  {counts}"


def make_corpus(script: Path, out: Path, n: int, seed: int) -> None:
    cmd = [sys.executable, str(script), "--out", str(out), "--n", str(n), "--seed", str(seed),
           "--degrade", "none", "--formats", "png"]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def expected_printed(identifiers: dict[str, str], key: str, text: str) -> set[str]:
    """A truth identifier counts only if the document actually prints it."""
    value = identifiers.get(key)
    return {value} if value and value in text else set()


def evaluate(corpus: Path, show_errors: int) -> None:
    nis, nis_loose = Tally(), Tally()
    others = {k: Tally() for k in ("cedula", "ruc", "expediente", "orden_trabajo")}
    confusion: Counter[tuple[str, str]] = Counter()
    wrong_types: list[str] = []
    low_margin = 0
    docs = sorted(p for p in corpus.glob("doc*.json"))
    for path in docs:
        record = json.loads(path.read_text(encoding="utf-8"))
        text = "\f".join(page["text"] for page in record["pages"])
        truth_nis = set(record["supply_numbers"])
        ext = extract_all(text)
        nis.add(record["id"], truth_nis, {c.value for c in ext.nis})
        loose = extract_all(text, include_unlabelled_nis=True)
        nis_loose.add(record["id"], truth_nis, {c.value for c in loose.nis})

        ids = record["identifiers"]
        ced = {digits_only(v) for v in expected_printed(ids, "cedula", text)}
        others["cedula"].add(record["id"], ced, {c.value for c in ext.cedulas})
        others["ruc"].add(record["id"], expected_printed(ids, "ruc", text),
                          {c.value for c in ext.rucs})
        others["expediente"].add(record["id"], expected_printed(ids, "expediente", text),
                                 {c.value for c in ext.expedientes})
        others["orden_trabajo"].add(record["id"], expected_printed(ids, "orden_trabajo", text),
                                    {c.value for c in ext.ots})

        result = classify(text)
        confusion[(record["doc_type"], result.doc_type)] += 1
        if result.confidence < 0.3:
            low_margin += 1
        if result.doc_type != record["doc_type"]:
            wrong_types.append(f"{record['id']}: {record['doc_type']} -> {result.doc_type} "
                               f"({result.confidence:.2f})")

    total = len(docs)
    right = sum(v for (t, p), v in confusion.items() if t == p)
    print(f"documentos: {total}")
    print(nis.line("NIS (con etiqueta)"))
    print(nis_loose.line("NIS (+ sin etiqueta)"))
    for name, tally in others.items():
        print(tally.line(name))
    print(f"{'tipo de documento':<22} exactitud {right / total:.4f}  ({right}/{total}); "
          f"confianza < 0.3: {low_margin}")
    per_type = Counter(t for (t, _p), v in confusion.items() for _ in range(v))
    for doc_type in sorted(per_type):
        ok = confusion[(doc_type, doc_type)]
        print(f"  {doc_type:<28} {ok}/{per_type[doc_type]}")
    if show_errors:
        for label, items in [("NIS", nis.errors), ("tipo", wrong_types),
                             *[(k, t.errors) for k, t in others.items()]]:
            for item in items[:show_errors]:
                print(f"  error {label}: {item}")


def main() -> None:
    ap = argparse.ArgumentParser(
        description="Calidad de extracción y clasificación sobre el texto exacto.")
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--corpus-script", type=Path, default=Path("../shared/corpus/make_corpus.py"),
                    help="ruta del generador, relativa a la raíz del repositorio")
    ap.add_argument("--keep", type=Path, help="generar el corpus en este directorio y conservarlo")
    ap.add_argument("--errors", type=int, default=10, help="cuántos errores mostrar por categoría")
    a = ap.parse_args()
    script = a.corpus_script
    if not script.is_absolute():
        script = (REPO / script).resolve()
    if not script.exists():
        sys.exit(f"No se encuentra el generador de corpus: {script}")
    if a.keep:
        make_corpus(script, a.keep, a.n, a.seed)
        evaluate(a.keep, a.errors)
        return
    with tempfile.TemporaryDirectory(prefix="archivo-bench-") as tmp:
        make_corpus(script, Path(tmp), a.n, a.seed)
        evaluate(Path(tmp), a.errors)


if __name__ == "__main__":
    main()
