"""The query language: Whoosh syntax for free text, plus Spanish field aliases.

``nis:4992383 tipo:contrato fecha:2020..2024 "robo de medidor" -heladera``

Alias clauses (``nis:``, ``tipo:``, ``regional:``, ``fecha:``, ``recibido:``,
``anio:``, ``expediente:``, ``ci:``, ``ruc:``, ``ot:``, ``numero:``) are cut out
of the text, their values brought to canonical form and turned into Whoosh
queries here; they combine with AND (``-`` in front excludes, a comma gives
alternatives: ``tipo:contrato,croquis``). What remains goes to Whoosh's
parser over the text fields: words, "phrases", ``-excluir``, ``O``/``OR``,
parentheses, ``palabra~`` (fuzzy) and ``prefijo*``.
"""

from __future__ import annotations

import calendar
import copy
import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from whoosh import query as wq
from whoosh.qparser import AndGroup, MultifieldParser, OrGroup, QueryParser, plugins
from whoosh.query.compound import CompoundQuery

from archive.enums import DocumentType
from archive.errors import ArchivoError
from archive.identifiers import fold

from . import identifiers
from .schema import TEXT_FIELDS, build_schema


class QueryError(ArchivoError):
    """The query cannot be understood; the message says why, in Spanish."""


# Spanish alias (accent-folded) -> internal field.
ALIASES: dict[str, str] = {
    "nis": "nis", "suministro": "nis",
    "tipo": "doc_type",
    "regional": "regional", "unidad": "regional",
    "fecha": "date", "anio": "date", "ano": "date",
    "recibido": "received",
    "expediente": "expediente", "expte": "expediente", "exp": "expediente",
    "ci": "cedula", "cedula": "cedula",
    "ruc": "ruc",
    "ot": "ot",
    "numero": "archive_number", "nro": "archive_number",
}
# Identifier fields an exact query is answered for from the database.
EXACT_FIELDS = ("nis", "cedula", "ruc", "archive_number")

# A quoted phrase (left alone: "ver nis:123" is text), or an alias clause ``name:value``.
_CLAUSE = re.compile(r'(?P<phrase>"[^"]*")|(?:(?<=[\s(])|^)(?P<neg>-)?(?P<name>[^\W\d_]+):'
                     r'(?P<value>"[^"]*"|[^\s()"]+)?')
_NEGATED_WORD = re.compile(r"(?:(?<=[\s(])|^)-(?=\S)")

RegionalUnits = Sequence[tuple[str, str, str]]  # (code, name, city)

_EXAMPLES = {
    "nis": "nis:4992383", "doc_type": "tipo:contrato", "regional": "regional:central",
    "date": "fecha:2020..2024", "received": "recibido:2024-05", "expediente": "expediente:123/2024",
    "cedula": "ci:1234567", "ruc": "ruc:80012345-6", "ot": "ot:2024-001234",
    "archive_number": "numero:ARC-2026-000123",
}


def _alias_list() -> str:
    return ", ".join(f"{a}:" for a in ("nis", "tipo", "regional", "fecha", "recibido", "anio",
                                        "expediente", "ci", "ruc", "ot", "numero"))


@dataclass
class Clause:
    """One alias clause: ``field`` is internal, ``values`` canonical and OR-ed."""

    field: str
    values: list[Any]
    negate: bool = False
    prefix: bool = False  # values are prefixes ("ruc:80012345" matches any check digit)


@dataclass
class ExactRequest:
    """A query that is one identifier: answered from the database, not the index."""

    kind: str  # "numero" (NIS or cédula or RUC base), "nis", "cedula", "ruc", "archive_number"
    value: str


@dataclass
class ParsedQuery:
    text: str
    clauses: list[Clause] = field(default_factory=list)
    exact: ExactRequest | None = None

    @property
    def empty(self) -> bool:
        return not self.text.strip() and not self.clauses


# --------------------------------------------------------------------------- dates

_ISO_DAY = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DMY = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$")
_ISO_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_MY = re.compile(r"^(\d{1,2})/(\d{4})$")
_YEAR = re.compile(r"^(\d{4})$")


MIN_YEAR, MAX_YEAR = 1900, 2100  # outside: a typo, not a date of this archive


def _day(y: int, m: int, d: int) -> int:
    if not MIN_YEAR <= y <= MAX_YEAR:
        raise QueryError(f"El año {y} está fuera del rango admitido ({MIN_YEAR} a {MAX_YEAR}).")
    dt.date(y, m, d)  # validates
    return y * 10000 + m * 100 + d


def period(text: str) -> tuple[int, int]:
    """First and last day (yyyymmdd) of "2023", "2023-05", "05/2023", "15/03/2023", "2023-03-15"."""
    t = text.strip()
    try:
        if m := _ISO_DAY.match(t):
            v = _day(int(m[1]), int(m[2]), int(m[3]))
            return v, v
        if m := _DMY.match(t):
            v = _day(int(m[3]), int(m[2]), int(m[1]))
            return v, v
        if (m := _ISO_MONTH.match(t)) or (m2 := _MY.match(t)):
            y, mo = (int(m[1]), int(m[2])) if m else (int(m2[2]), int(m2[1]))  # type: ignore[index]
            last = calendar.monthrange(y, mo)[1]
            return _day(y, mo, 1), _day(y, mo, last)
        if m := _YEAR.match(t):
            return _day(int(m[1]), 1, 1), _day(int(m[1]), 12, 31)
    except ValueError:
        pass
    raise QueryError(f"«{text}» no es una fecha válida. Use 2023, 2023-05, 15/03/2023 "
                     "o un rango como 2020..2024.")


def date_range(text: str) -> tuple[int | None, int | None]:
    """"2020..2024", "2023", "..2020", "2021..": inclusive bounds in yyyymmdd (None = open)."""
    if ".." not in text:
        return period(text)
    start, _, end = text.partition("..")
    lo = period(start)[0] if start.strip() else None
    hi = period(end)[1] if end.strip() else None
    if lo is None and hi is None:
        raise QueryError("Un rango de fechas necesita al menos un extremo "
                         "(por ejemplo 2020..2024).")
    if lo is not None and hi is not None and lo > hi:
        raise QueryError(f"El rango de fechas «{text}» termina antes de empezar.")
    return lo, hi


# --------------------------------------------------------------------------- values

def _doc_types(value: str) -> list[str]:
    try:
        return [DocumentType.parse(value).value]
    except ValueError:
        pass
    key = fold(value).replace(" ", "_")
    found = [t.value for t in DocumentType
             if t.value.startswith(key) or key in fold(t.label).replace(" ", "_")]
    if not found:
        valid = ", ".join(t.value for t in DocumentType)
        raise QueryError(f"«{value}» no es un tipo de documento. Tipos: {valid}.")
    return found


def _regional_codes(value: str, units: RegionalUnits) -> list[str]:
    key = fold(value)
    names = {code: {fold(code), fold(name), fold(name).removeprefix("regional "), fold(city)}
             for code, name, city in units}
    found = [code for code, keys in names.items() if key in keys]
    if not found:
        found = [code for code, keys in names.items() if any(key in k for k in keys if k)]
    if not found:
        valid = ", ".join(code for code, _, _ in units) or "(no hay unidades cargadas)"
        raise QueryError(f"«{value}» no es una unidad regional. Unidades: {valid}.")
    return [c.lower() for c in found]


_INVALID = {
    "nis": "no es un NIS válido (de 5 a 12 dígitos)",
    "cedula": "no es un número de cédula válido (de 5 a 8 dígitos)",
    "ruc": "no es un RUC válido (por ejemplo 80012345-6)",
    "expediente": "no es un número de expediente válido (por ejemplo 123/2024)",
    "ot": "no es un número de orden de trabajo válido (por ejemplo 2024-001234)",
    "archive_number": "no es un número de archivo válido (por ejemplo ARC-2026-000123)",
}


def make_clause(alias: str, raw: str, *, negate: bool = False,
                regional_units: Callable[[], RegionalUnits] = lambda: ()) -> Clause:
    """Build the clause for ``alias:raw``; raise QueryError with a Spanish reason when invalid."""
    fieldname = ALIASES[fold(alias)]
    parts = [p.strip() for p in raw.strip().strip('"').split(",") if p.strip()]
    if not parts:
        raise QueryError(f"Falta el valor después de «{alias}:».")
    if fieldname in ("date", "received"):
        return Clause(fieldname, [date_range(p) for p in parts], negate)
    if fieldname == "doc_type":
        return Clause(fieldname, sorted({v for p in parts for v in _doc_types(p)}), negate)
    if fieldname == "regional":
        units = regional_units()
        codes = {v for p in parts for v in _regional_codes(p, units)}
        return Clause(fieldname, sorted(codes), negate)
    values: list[str] = []
    prefix = False
    for p in parts:
        value = identifiers.CANONICAL[fieldname](p)
        if value is None and fieldname == "ruc" and identifiers.plain_number(p):
            value, prefix = identifiers.digits_only(p) + "-", True  # any check digit
        elif value is None and fieldname == "expediente" and identifiers.plain_number(p):
            value, prefix = str(int(identifiers.digits_only(p))) + "/", True  # any year
        if value is None:
            raise QueryError(f"«{p}» {_INVALID[fieldname]}.")
        values.append(value)
    return Clause(fieldname, values, negate, prefix)


# --------------------------------------------------------------------------- whole query

def _exact_request(text: str, clauses: list[Clause]) -> ExactRequest | None:
    if clauses and not text.strip() and len(clauses) == 1:
        c = clauses[0]
        if c.field in EXACT_FIELDS and not c.negate and not c.prefix and len(c.values) == 1:
            return ExactRequest(c.field, c.values[0])
    if clauses:
        return None
    t = text.strip()
    if (number := identifiers.archive_number(t)) is not None:
        return ExactRequest("archive_number", number)
    if (ruc := identifiers.ruc(t)) is not None:
        return ExactRequest("ruc", ruc)
    if (digits := identifiers.nis(t)) is not None:
        return ExactRequest("numero", digits)
    return None


def parse_query(text: str, *,
                regional_units: Callable[[], RegionalUnits] = lambda: ()) -> ParsedQuery:
    """Split ``text`` into alias clauses and free text; spot a lone identifier.

    Labels typed before a number ("NIS 1234567", "C.I. N° 3.603.408") are read as
    the alias clause of their kind first (``identifiers.unlabel``).
    """
    clauses: list[Clause] = []

    def take(m: re.Match[str]) -> str:
        if m["phrase"]:
            return m[0]
        name, value = m["name"], m["value"]
        if fold(name) not in ALIASES:
            # "Obs: ver", "hora:15": a label of the page, searched as text. A letter value
            # ("color:rojo", "tpo:contrato") reads as a field, most often a mistyped alias.
            if value is None or value[:1].isdigit():
                return m[0]
            raise QueryError(f"Campo «{name}» desconocido. Campos: {_alias_list()}. "
                             f"Para buscar «{name}:{value}» como texto, escríbalo entre comillas.")
        if value is None:
            example = _EXAMPLES.get(ALIASES[fold(name)], f"{name}:...")
            raise QueryError(f"Falta el valor después de «{name}:» (por ejemplo {example}).")
        clauses.append(make_clause(name, value, negate=bool(m["neg"]),
                                   regional_units=regional_units))
        return " "

    if (text or "").count('"') % 2:
        raise QueryError("Las comillas no están cerradas: escriba la frase entre dos comillas, "
                         'por ejemplo "robo de medidor".')
    rest = _CLAUSE.sub(take, identifiers.unlabel(text or ""))
    rest = re.sub(r"\s+", " ", rest).strip()
    return ParsedQuery(rest, clauses, _exact_request(rest, clauses))


def filter_clauses(filters: Mapping[str, Any] | None, *,
                   regional_units: Callable[[], RegionalUnits] = lambda: ()) -> list[Clause]:
    """Clauses for the API's ``filters``: alias keys; values a string, a number or a list."""
    out: list[Clause] = []
    for key, value in (filters or {}).items():
        if value is None or value == "" or value == []:
            continue
        if fold(key) not in ALIASES:
            raise QueryError(f"Filtro desconocido «{key}». Filtros: {', '.join(sorted(ALIASES))}.")
        many = isinstance(value, (list, tuple, set))
        raw = ",".join(str(v) for v in value) if many else str(value)
        out.append(make_clause(key, raw, regional_units=regional_units))
    return out


# --------------------------------------------------------------------------- to Whoosh

@lru_cache(maxsize=4)
def _parser(group: str) -> QueryParser:
    groups = {"and": AndGroup, "or": OrGroup, "any": OrGroup.factory(0.9)}
    parser = MultifieldParser(list(TEXT_FIELDS), build_schema(), fieldboosts=TEXT_FIELDS,
                              group=groups[group])
    for cls in (plugins.FieldsPlugin, plugins.RangePlugin, plugins.EveryPlugin,
                plugins.OperatorsPlugin, plugins.SingleQuotePlugin, plugins.PhrasePlugin):
        parser.remove_plugin_class(cls)
    parser.add_plugin(ExactPhrasePlugin())
    parser.add_plugin(plugins.OperatorsPlugin(And=r"(?<=\s)(?:AND|Y)(?=\s)",
                                              Or=r"(?<=\s)(?:OR|O)(?=\s)",
                                              AndMaybe=None, Require=None))
    parser.add_plugin(plugins.PlusMinusPlugin(plusexpr=r"(?:(?<=[\s(])|^)\+",
                                              minusexpr=r"(?:(?<=[\s(])|^)-"))
    parser.add_plugin(plugins.FuzzyTermPlugin())
    return parser


def _fuzzy(q: wq.Query) -> wq.Query:
    """Every plain word of four letters or more also matches one OCR slip away."""
    if isinstance(q, wq.Term) and q.fieldname in TEXT_FIELDS:
        text = q.text if isinstance(q.text, str) else str(q.text)
        if len(text) >= 4 and not text.isdigit():
            fuzzy = wq.FuzzyTerm(q.fieldname, text, boost=q.boost, maxdist=1, prefixlength=1)
            fuzzy.startchar, fuzzy.endchar = q.startchar, q.endchar  # where the word was typed
            return fuzzy
        return q
    return q.apply(_fuzzy)


# Edit distance a fuzzy word may ask for: one slip in words of up to SHORT_WORD letters,
# two in longer ones. Whoosh takes ``palabra~9`` as typed, and nine edits match most of
# the index (20 s and a gigabyte for one search).
SHORT_WORD = 5
MAX_DISTANCE = 2


def max_distance(word: str) -> int:
    """The most edits ``word~N`` may tolerate."""
    return 1 if len(word) <= SHORT_WORD else MAX_DISTANCE


def _fuzzy_note(word: str, asked: int, allowed: int) -> str:
    rule = (f"en palabras de hasta {SHORT_WORD} letras se tolera como máximo un error"
            if allowed == 1 else
            f"se toleran como máximo {MAX_DISTANCE} errores (uno en palabras de hasta "
            f"{SHORT_WORD} letras)")
    return f"«{word}~{asked}» se buscó como «{word}~{allowed}»: {rule}."


def _typed_word(q: wq.FuzzyTerm, text: str) -> str:
    """The word as typed (the stemmed fields hold a shorter one), else the query's own."""
    start, end = getattr(q, "startchar", None), getattr(q, "endchar", None)
    if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text):
        return text[start:end]
    return q.text if isinstance(q.text, str) else str(q.text)


def cap_fuzzy(q: wq.Query, text: str, notes: list[str]) -> wq.Query:
    """``q`` with every fuzzy word's distance cut to ``max_distance``; each cut noted once."""
    if isinstance(q, wq.FuzzyTerm):
        word = _typed_word(q, text)
        allowed = max_distance(word)
        if q.maxdist <= allowed:
            return q
        note = _fuzzy_note(word, q.maxdist, allowed)
        if note not in notes:
            notes.append(note)
        capped = copy.copy(q)
        capped.maxdist = allowed
        return capped
    if q.is_leaf():
        return q
    return q.apply(lambda child: cap_fuzzy(child, text, notes))


class _ExactPhraseTagger(plugins.PhrasePlugin.PhraseTagger):
    def create(self, parser, match):  # type: ignore[no-untyped-def]
        node = super().create(parser, match)
        node.set_fieldname("text_exact")  # set before the multifield expansion: left alone
        return node


class ExactPhrasePlugin(plugins.PhrasePlugin):
    """A "quoted phrase" matches the words as written (case and accents aside), not stems.

    That is what quotes mean to people, and checking word positions in one
    field instead of three is most of the cost of a phrase query.
    """

    def taggers(self, parser):  # type: ignore[no-untyped-def]
        return [(_ExactPhraseTagger(self.expr, degrade=self.degrade), 0)]


def text_query(text: str, *, fuzzy: bool = False, any_word: bool = False,
               notes: list[str] | None = None) -> wq.Query | None:
    """Whoosh query for the free text, or None when there is none.

    Words are all required; with ``any_word`` any of them will do, and pages
    with more of them rank higher (the fallback when no page has them all).
    Fuzzy distances beyond ``max_distance`` are cut, and said so in ``notes``.
    """
    if not text.strip():
        return None
    q = _parser("any" if any_word else "and").parse(text)
    if q is wq.NullQuery:
        if _NEGATED_WORD.search(text):  # only exclusions: everything except them
            excluded = _parser("or").parse(_NEGATED_WORD.sub("", text))
            q = wq.AndNot(wq.Every(), excluded)
        else:
            return None
    return cap_fuzzy(_fuzzy(q) if fuzzy else q, text, [] if notes is None else notes)


def _date_query(fieldname: str, lo: int | None, hi: int | None) -> wq.Query:
    """A date range; whole years of ``date`` become ``year`` terms.

    A numeric range over yyyymmdd expands to dozens of index terms per
    segment; a year is one. "fecha:2015..2018" is four terms.
    """
    if fieldname != "date" or lo is None or hi is None:
        return wq.NumericRange(fieldname, lo, hi)
    first, last = lo // 10000, hi // 10000
    full_from = first if lo % 10000 == 101 else first + 1
    full_to = last if hi % 10000 == 1231 else last - 1
    if full_from > full_to or full_to - full_from > 100:
        return wq.NumericRange(fieldname, lo, hi)
    parts: list[wq.Query] = [wq.Term("year", str(y)) for y in range(full_from, full_to + 1)]
    if full_from > first:
        parts.append(wq.NumericRange(fieldname, lo, first * 10000 + 1231))
    if full_to < last:
        parts.append(wq.NumericRange(fieldname, last * 10000 + 101, hi))
    return parts[0] if len(parts) == 1 else wq.Or(parts)


def clause_query(c: Clause) -> wq.Query:
    parts: list[wq.Query] = []
    for v in c.values:
        if c.field in ("date", "received"):
            parts.append(_date_query(c.field, *v))
        elif c.prefix:
            parts.append(wq.Prefix(c.field, v))
        else:
            parts.append(wq.Term(c.field, v))
    return parts[0] if len(parts) == 1 else wq.Or(parts)


@dataclass
class QueryParts:
    """What to match, and what excludes a whole document (``-palabra``, ``-tipo:otro``)."""

    positive: wq.Query
    negative: wq.Query | None = None
    notes: list[str] = field(default_factory=list)  # what was changed, for the reader


def _split_exclusions(q: wq.Query) -> tuple[wq.Query, list[wq.Query]]:
    """Top-level ``a ANDNOT b`` becomes ``a`` plus ``b`` as a document-level exclusion."""
    negatives: list[wq.Query] = []
    while isinstance(q, wq.AndNot):
        negatives.append(q.b)
        q = q.a
    return q, negatives


def whoosh_query(text: str, clauses: Sequence[Clause], *, fuzzy: bool = False,
                 any_word: bool = False) -> QueryParts | None:
    """Free text AND positive clauses; exclusions apply to whole documents, not pages.

    "robo -heladera" must drop a document that says "heladera" on page 1 even
    though its page 2 only speaks of the theft.
    """
    positives: list[wq.Query] = []
    negatives: list[wq.Query] = []
    notes: list[str] = []
    if (tq := text_query(text, fuzzy=fuzzy, any_word=any_word, notes=notes)) is not None:
        tq, excluded = _split_exclusions(tq)
        negatives += excluded
        if not isinstance(tq, wq.Every):
            positives.append(tq)
    positives += [clause_query(c) for c in clauses if not c.negate]
    negatives += [clause_query(c) for c in clauses if c.negate]
    if not positives and not negatives:
        return None
    positive: wq.Query = (positives[0] if len(positives) == 1 else wq.And(positives)) \
        if positives else wq.Every()
    negative = (negatives[0] if len(negatives) == 1 else wq.Or(negatives)) if negatives else None
    return QueryParts(positive, negative, notes)


def can_relax(text: str) -> bool:
    """Whether "any of the words" would differ from "all the words" for this free text."""
    q = text_query(text) if text.strip() else None
    if q is None:
        return False
    q, _ = _split_exclusions(q)
    return isinstance(q, wq.And) and len(q.subqueries) > 1


def positive_part(q: wq.Query) -> wq.Query | None:
    """``q`` without its exclusions: the terms worth highlighting."""
    if isinstance(q, wq.AndNot):
        return positive_part(q.a)
    if isinstance(q, wq.Not):
        return None
    if isinstance(q, CompoundQuery):
        kept = [p for p in (positive_part(s) for s in q.subqueries) if p is not None]
        if not kept:
            return None
        return type(q)(kept, boost=q.boost)
    return q
