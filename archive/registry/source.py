"""Reading the commercial system's export: encoding, delimiter, records.

Encoding rule: the whole file is run once through incremental decoders while
it is hashed (the hash is needed anyway to resume). Valid UTF-8 (with or
without BOM) is read as UTF-8; otherwise Windows-1252, which is Latin-1 plus
printable characters in 0x80-0x9F; if even that fails (bytes undefined in
Windows-1252) it is Latin-1, which accepts any byte. Checking the whole file,
not a first chunk, means an «ñ» on the last line is never misread.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from archive.errors import ArchivoError

DELIMITERS = (";", "\t", "|", ",")  # tie order: the export's usual first
DELIMITER_NAMES = {";": "punto y coma", "\t": "tabulador", "|": "barra vertical", ",": "coma"}
CHUNK = 1 << 20


@dataclass(frozen=True)
class FileInfo:
    sha256: str
    encoding: str
    delimiter: str
    size: int
    lines: int  # physical lines, for the progress bar only


def scan(path: Path) -> FileInfo:
    """Hash, detect the encoding and count lines in one streamed pass."""
    digest = hashlib.sha256()
    decoders = {"utf-8-sig": codecs.getincrementaldecoder("utf-8-sig")(),
                "cp1252": codecs.getincrementaldecoder("cp1252")()}
    ok = dict.fromkeys(decoders, True)
    size = lines = 0
    last = b""
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
            lines += chunk.count(b"\n")
            last = chunk[-1:]
            for name, dec in decoders.items():
                if ok[name]:
                    try:
                        dec.decode(chunk)
                    except UnicodeDecodeError:
                        ok[name] = False
    for name, dec in decoders.items():
        if ok[name]:
            try:
                dec.decode(b"", final=True)
            except UnicodeDecodeError:
                ok[name] = False
    if size == 0:
        raise ArchivoError(f"El archivo {path} está vacío.")
    if last != b"\n":
        lines += 1
    encoding = "utf-8-sig" if ok["utf-8-sig"] else "cp1252" if ok["cp1252"] else "latin-1"
    with open(path, encoding=encoding, newline="") as fh:
        header = fh.readline()
    return FileInfo(digest.hexdigest(), encoding, sniff_delimiter(header), size, lines)


def sniff_delimiter(header: str) -> str:
    """The candidate that splits the header line into the most columns."""
    counts = {d: header.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])  # max keeps the first on ties
    if counts[best] == 0:
        raise ArchivoError("No se reconoce el separador de columnas en la primera línea: se "
                           "admiten punto y coma, coma, tabulador y barra vertical, con una fila "
                           "de encabezado.")
    return best


@dataclass(frozen=True)
class Record:
    line: int  # physical line where the record starts (the header is line 1)
    cells: list[str]


@contextmanager
def open_records(path: Path, info: FileInfo) -> Iterator[tuple[list[str], Iterator[Record]]]:
    """The header and a lazy stream of non-blank data records; the file closes on exit."""
    with open(path, encoding=info.encoding, newline="") as fh:
        reader = csv.reader(fh, delimiter=info.delimiter)
        try:
            header = next(reader)
        except (StopIteration, csv.Error) as exc:
            reason = exc or "archivo vacío"
            raise ArchivoError(f"No se pudo leer el encabezado de {path}: {reason}.")
        yield header, _records(reader)


def _records(reader) -> Iterator[Record]:  # type: ignore[no-untyped-def]
    start = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ArchivoError(f"Línea {start}: el archivo está mal formado ({exc}); "
                               "revise las comillas.") from exc
        if cells and any(c.strip() for c in cells):
            yield Record(start, cells)
        start = reader.line_num + 1


def describe(info: FileInfo) -> str:
    enc = {"utf-8-sig": "UTF-8", "cp1252": "Windows-1252", "latin-1": "Latin-1"}[info.encoding]
    return f"codificación {enc}, separador {DELIMITER_NAMES[info.delimiter]}"


