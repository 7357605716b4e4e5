"""Understanding a certificate's text: units and their kind, completion date, course title,
provider, approval or course code, and the body it names, each with how sure the reading is.

Pure: text in (lines with the reader's confidence), fields out. No telegram, no storage, no
OCR: `handlers.reader` produces the lines, `handlers.snap` shows what this understood.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Generic, TypeVar

T = TypeVar("T")

# Below this a field is asked, not guessed.
SURE = 0.6
MAX_UNITS = Decimal(100)
MAX_HOURS = Decimal(1000)
EARLIEST_YEAR = 1980


@dataclass(frozen=True)
class Line:
    text: str
    confidence: float = 1.0  # the reader's: 1.0 for a PDF's own text, OCR's word mean else


@dataclass(frozen=True)
class Read(Generic[T]):
    value: T
    confidence: float

    @property
    def sure(self) -> bool:
        return self.confidence >= SURE


@dataclass(frozen=True)
class Units:
    amount: Decimal
    kind: str  # "ceu", "cec" or "hours" (contact hours)


@dataclass
class Certificate:
    units: Read[Units] | None = None
    completed_on: Read[date] | None = None
    expires_on: Read[date] | None = None
    title: Read[str] | None = None
    provider: Read[str] | None = None
    code: Read[str] | None = None
    body: Read[str] | None = None
    text: str = field(default="", repr=False)

    def sure(self, name: str) -> bool:
        found = getattr(self, name)
        return found is not None and found.sure


# Cyrillic capitals that look like Latin ones: Russian certificates (and OCR with Russian data)
# print "CEU" with a Cyrillic Es and Ie; that OCR also reads a "U" among them as Che.
_LOOKALIKES = str.maketrans("АВСЕНКМОРТХУЧ", "ABCEHKMOPTXYU")


def _latin_caps(text: str) -> str:
    """Short all-capital words (unit and body names, codes) in Latin letters; Russian words
    stay as they are."""
    return re.sub(
        r"(?<!\w)[A-ZА-ЯЁ0-9-]{2,12}(?!\w)",  # noqa: RUF001
        lambda match: match[0].translate(_LOOKALIKES),
        text,
    )


_MONTHS = {
    # English
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
    # Spanish
    "ene": 1, "abr": 4, "ago": 8, "dic": 12, "sept": 9, "set": 9,
    "enero": 1, "febrero": 2, "marzo": 3, "abril": 4, "mayo": 5, "junio": 6, "julio": 7,
    "agosto": 8, "septiembre": 9, "setiembre": 9, "octubre": 10, "noviembre": 11,
    "diciembre": 12,
    # Russian, genitive as dates use it, and nominative
    "январ": 1, "феврал": 2, "март": 3, "апрел": 4, "ма": 5, "июн": 6, "июл": 7,
    "август": 8, "сентябр": 9, "октябр": 10, "ноябр": 11, "декабр": 12,
}  # fmt: skip
_ENGLISH_FULL = [
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december",
]  # fmt: skip


def _month(word: str) -> int | None:
    word = word.casefold().rstrip(".")
    if word in _ENGLISH_FULL:
        return _ENGLISH_FULL.index(word) + 1
    if word in _MONTHS and not re.search("[а-я]", word):
        return _MONTHS[word]
    if re.fullmatch("[а-яё]+", word):
        for stem in sorted((s for s in _MONTHS if re.match("[а-я]", s)), key=len, reverse=True):
            # "мая", "май": the stem "ма" only as the whole word less its ending
            if word.startswith(stem) and (stem != "ма" or word in ("мая", "май")):
                return _MONTHS[stem]
        return None
    return _MONTHS.get(word[:3]) if len(word) >= 3 and word[:3] in _MONTHS else None


_WORD = r"[^\W\d_]+\.?"
_DATE_PATTERNS = (
    # 15 March 2025, 15 de marzo de 2025, 15 марта 2025 г.
    re.compile(rf"\b(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:de\s+)?(?P<m>{_WORD})\s+(?:de\s+|del\s+)?(?P<y>\d{{4}})\b"),
    # March 15, 2025
    re.compile(rf"\b(?P<m>{_WORD})\s+(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y>\d{{4}})\b"),
    # 2025-03-15
    re.compile(r"\b(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})\b"),
    # 15/03/2025, 15.03.2025, 03/15/2025
    re.compile(r"\b(?P<a>\d{1,2})[/.](?P<b>\d{1,2})[/.](?P<y>\d{4})\b"),
)  # fmt: skip

_COMPLETED = re.compile(
    r"complet|earned|awarded|date\b|дата|окончан|завершен|выдан|fecha|finaliz|realiz|otorgad",
    re.IGNORECASE,
)
_EXPIRES = re.compile(
    r"expir|valid\s+(?:through|until|thru)|renew\s+by|vence|vencimiento|v[aá]lid[oa]\s+hasta|"
    r"caduc|действител|истекает|срок\s+действия|годен",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _DateSeen:
    value: date
    line: int
    confidence: float
    label: str  # "completed", "expires" or ""


def _dates_in(lines: Sequence[Line], month_first: bool) -> list[_DateSeen]:
    seen: list[_DateSeen] = []
    for number, line in enumerate(lines):
        text = line.text
        for pattern in _DATE_PATTERNS:
            for match in pattern.finditer(text):
                value, sureness = _date_of(match, month_first)
                if value is None:
                    continue
                before = lines[number - 1].text if number else ""
                where = text[: match.start()] + " " + before
                label = (
                    "expires"
                    if _EXPIRES.search(where)
                    else "completed"
                    if _COMPLETED.search(where)
                    else ""
                )
                seen.append(_DateSeen(value, number, sureness * line.confidence, label))
    return seen


def _date_of(match: re.Match[str], month_first: bool) -> tuple[date | None, float]:
    """A full date from a match, and how sure it is; a duration or a code is no date."""
    groups = match.groupdict()
    try:
        year = int(groups["y"])
        if "m" in groups and groups["m"] is not None and not groups["m"].isdigit():
            month = _month(groups["m"])
            if month is None:
                return None, 0
            return date(year, month, int(groups["d"])), 1.0
        if "a" in groups and groups.get("a") is not None:
            first, second = int(groups["a"]), int(groups["b"])
            if first > 12 or second > 12 or first == second:
                day, month = (first, second) if first > 12 or not month_first else (second, first)
                if month > 12:
                    day, month = month, day
                return date(year, month, day), 1.0
            # 03/04/2025: the trainer's convention decides, and that is a guess worth saying
            day, month = (second, first) if month_first else (first, second)
            return date(year, month, day), 0.7
        return date(year, int(groups["m"]), int(groups["d"])), 1.0
    except ValueError:
        return None, 0


def _plausible(value: date, today: date, expiry: bool) -> bool:
    if value.year < EARLIEST_YEAR:
        return False
    if expiry:
        return value.year <= today.year + 12
    return value <= today


_UNIT_WORDS = (
    ("ceu", r"CEUs?|C\.E\.U\.?s?|UEC"),
    ("cec", r"CECs?|C\.E\.C\.?s?|CE\s+credits?|continuing\s+education\s+credits?|"
            r"créditos?|кредит\w*"),
    ("hours", r"contact\s+hours?|hours?|hrs?|horas?(?:\s+de\s+contacto)?|час\w*|ч\.?"),
)  # fmt: skip
_DURATION = re.compile(r"duration|length|duraci[oó]n|продолжительн|длительн", re.IGNORECASE)
_NUMBER = r"(?P<n>\d{1,4}(?:[.,]\d{1,2})?)"
_UNITS_AFTER = [
    (kind, re.compile(rf"(?<![\d.,]){_NUMBER}\s*(?:{words})(?![^\W\d_])", re.IGNORECASE))
    for kind, words in _UNIT_WORDS
]
_UNITS_BEFORE = [
    (
        kind,
        re.compile(
            rf"(?:{words})\s*(?:awarded|earned|otorgad\w*)?\s*[:=]\s*{_NUMBER}\b", re.IGNORECASE
        ),
    )
    for kind, words in _UNIT_WORDS
]


def _units(lines: Sequence[Line]) -> Read[Units] | None:
    """The units and their kind; CEUs or CECs over hours when both are printed (the body
    counts its own unit; the hours are what it was worth). Hours given as the course's
    duration are a hint, not a reading: asked when nothing else is printed."""
    found: list[tuple[int, Units, float]] = []
    rank = {"ceu": 0, "cec": 0, "hours": 1}
    for line in lines:
        text = _latin_caps(line.text)
        for patterns in (_UNITS_BEFORE, _UNITS_AFTER):
            for kind, pattern in patterns:
                for match in pattern.finditer(text):
                    try:
                        amount = Decimal(match["n"].replace(",", "."))
                    except InvalidOperation:
                        continue
                    limit = MAX_HOURS if kind == "hours" else MAX_UNITS
                    if not 0 < amount <= limit:
                        continue
                    sureness = line.confidence
                    if kind == "hours" and _DURATION.search(text):
                        sureness *= 0.5
                    found.append((rank[kind], Units(amount.normalize(), kind), sureness))
    if not found:
        return None
    best = min(rank for rank, _units, _c in found)
    candidates = [(u, c) for rank, u, c in found if rank == best]
    amounts = {u for u, _c in candidates}
    confidence = max(c for _u, c in candidates)
    if len(amounts) > 1:
        confidence *= 0.5  # two different amounts of the same unit: ask
    return Read(max(candidates, key=lambda item: item[1])[0], confidence)


_CODE_LABEL = re.compile(
    r"(?:course|approval|provider|activity)\s*(?:code|number|no\.?|#|id)|"
    r"c[óo]digo(?:\s+del?\s+curso)?|n[uú]mero\s+de\s+(?:aprobaci[oó]n|proveedor)|"
    r"код(?:\s+курса)?|номер\s+(?:курса|провайдера)",
    re.IGNORECASE,
)
_CODE = re.compile(r"\s*[:#№]?\s*(?P<code>[A-Z0-9](?:[A-Z0-9-]{2,22}[A-Z0-9]))\b")


def _code(lines: Sequence[Line]) -> Read[str] | None:
    for line in lines:
        label = _CODE_LABEL.search(line.text)
        if label is None:
            continue
        rest = _latin_caps(line.text[label.end() :])
        match = _CODE.match(rest) or _CODE.search(rest)
        if match and any(ch.isdigit() for ch in match["code"]):
            sureness = line.confidence
            if (
                rest[: match.start("code")].rstrip().endswith(("№", "-"))
                and not rest[match.start("code") - 1].isspace()
            ):
                # "№5-2025-77": glued to the code, a number sign is usually a misread "NS"
                sureness *= 0.5
            return Read(match["code"].upper(), sureness)
    return None


_LABELLED = {
    "title": re.compile(
        r"^\s*(?:course(?:\s+title)?|title|program(?:me)?|curso|t[ií]tulo|курс|программа|"
        r"название(?:\s+курса)?)\s*[:\-–]\s*(?P<v>.+)$",
        re.IGNORECASE,
    ),
    "provider": re.compile(
        r"^\s*(?:provider|provided\s+by|presented\s+by|issued\s+by|organi[sz]er|"
        r"proveedor|impartido\s+por|organizador|провайдер|организатор|"
        r"учебный\s+центр)\s*[:\-–]?\s*(?P<v>.+)$",
        re.IGNORECASE,
    ),
}
# The line after these is the course: "has successfully completed" / "ha completado" / ...
_COMPLETED_INTRO = re.compile(
    r"(?:successfully\s+)?completed(?:\s+the\s+course)?\s*:?\s*$|"
    r"for\s+completing\s*:?\s*$|complet(?:ado|[oó])\s+(?:con\s+[ée]xito\s+)?(?:el\s+curso)?\s*:?\s*$|"
    r"(?:успешно\s+)?(?:прош[её]л|прошла|заверш\w+|окончил\w*)(?:\s+курс)?\s*:?\s*$",
    re.IGNORECASE,
)  # fmt: skip


def _labelled(lines: Sequence[Line], name: str) -> Read[str] | None:
    for line in lines:
        match = _LABELLED[name].match(line.text)
        if match:
            value = _clean(match["v"])
            if len(value) >= 3:
                return Read(value, line.confidence)
    return None


def _title(lines: Sequence[Line]) -> Read[str] | None:
    labelled = _labelled(lines, "title")
    if labelled is not None:
        return labelled
    for number, line in enumerate(lines[:-1]):
        if _COMPLETED_INTRO.search(line.text):
            value = _clean(lines[number + 1].text)
            if len(value) >= 3 and not _dates_in([Line(value)], False):
                # Unlabelled, read from where it stands: a little less sure.
                return Read(value, 0.9 * lines[number + 1].confidence)
    return None


def _clean(value: str) -> str:
    value = " ".join(value.split()).strip(" .,:;\"'“”«»<>|_~")
    return value[:200]


def _body(lines: Sequence[Line], bodies: Iterable[str]) -> Read[str] | None:
    """The body the certificate names: the one approving it ("approved by NASM") over one
    named in passing; none when two are named alike."""
    text = "\n".join(_latin_caps(line.text) for line in lines)
    scores: dict[str, int] = {}
    for body in bodies:
        pattern = re.compile(rf"(?<![A-Za-z]){re.escape(body)}(?![A-Za-z])")
        hits = pattern.findall(text)
        if not hits:
            continue
        approved = re.search(
            rf"(?:approved|accredited|recogni[sz]ed|aprobad\w*|acreditad\w*|одобрен\w*|"
            rf"аккредитован\w*)\s+(?:by|por|в)?\s*(?:the\s+)?{re.escape(body)}|"
            rf"{re.escape(body)}[\s-]*(?:approved|aprobad\w*)",
            text,
            re.IGNORECASE,
        )
        scores[body] = len(hits) + (10 if approved else 0)
    if not scores:
        return None
    ranked = sorted(scores.items(), key=lambda item: -item[1])
    if len(ranked) > 1 and ranked[0][1] == ranked[1][1]:
        return Read(ranked[0][0], 0.4)
    return Read(ranked[0][0], 0.9 if ranked[0][1] >= 10 else 0.75)


def understand(
    lines: Sequence[Line], today: date, bodies: Iterable[str] = (), month_first: bool = False
) -> Certificate:
    """What the lines say. `month_first`: how the trainer writes 03/04 (US: March 4)."""
    lines = [Line(line.text.strip(), line.confidence) for line in lines if line.text.strip()]
    dates = _dates_in(lines, month_first)
    completed = [d for d in dates if d.label != "expires" and _plausible(d.value, today, False)]
    expiring = [d for d in dates if d.label == "expires" and _plausible(d.value, today, True)]
    certificate = Certificate(
        units=_units(lines),
        title=_title(lines),
        provider=_labelled(lines, "provider"),
        code=_code(lines),
        body=_body(lines, bodies),
        text="\n".join(line.text for line in lines),
    )
    certificate.completed_on = _pick(completed, "completed")
    certificate.expires_on = _pick(expiring, "expires")
    return certificate


def _pick(dates: list[_DateSeen], label: str) -> Read[date] | None:
    if not dates:
        return None
    labelled = [d for d in dates if d.label == label]
    pool = labelled or dates
    values = {d.value for d in pool}
    best = max(pool, key=lambda d: d.confidence)
    confidence = best.confidence * (1.0 if labelled else 0.85)
    if len(values) > 1:
        confidence *= 0.5  # several dates and nothing says which: ask
    return Read(best.value, confidence)


def same_code(first: str | None, second: str | None) -> bool:
    """Course codes as printed: case, spaces and dashes aside."""
    if not first or not second:
        return False

    def bare(code: str) -> str:
        return re.sub(r"[\s-]", "", code).upper()

    return bare(first) == bare(second)
