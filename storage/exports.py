"""Files a trainer takes away: spreadsheets, a calendar of cycle ends, an audit bundle.

Pure builders: rows in, bytes out. No I/O, no clock, no Telegram and no gettext; callers pass
strings already translated and read the clock themselves.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from icalendar import Alarm, Calendar, Event

PRODID = "-//Recert//Recert bot//EN"

# The column order of each spreadsheet; callers pass one translated header per column, in
# this order.
CREDENTIAL_COLUMNS = (
    "name",
    "body",
    "number",
    "state",
    "cycle_start",
    "cycle_end",
    "units_required",
    "units_earned",
    "unit_name",
    "grace_end",
    "after_grace",
)
CREDIT_COLUMNS = (
    "credential",
    "earned_on",
    "title",
    "provider",
    "units",
    "unit_name",
    "cost",
    "currency",
    "proof",
)

# A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV injection");
# tab and carriage return are on OWASP's list too.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class CredentialRow:
    """One credential of the trainer, with the credits earned in its current cycle."""

    name: str
    body: str | None
    cycle_start: date
    cycle_end: date | None
    units_required: Decimal | None
    units_earned: Decimal
    unit_name: str | None
    number: str | None
    state: str
    grace_end: date | None = None  # the last day a late renewal is accepted
    after_grace: str | None = None  # what remains once the grace period is over


@dataclass(frozen=True)
class CreditRow:
    """One logged credit; `proof` is the proof's file name, or None without one."""

    credential: str
    units: Decimal
    unit_name: str | None
    earned_on: date
    title: str
    provider: str | None
    cost: Decimal | None
    proof: str | None
    currency: str | None = None  # of the cost, ISO 4217


@dataclass(frozen=True)
class Deadline:
    """One cycle end as an all-day event, with reminders some days before it."""

    uid: str
    day: date
    summary: str
    description: str
    alarms_days_before: Sequence[int]
    alarm_text: str


def _text(value: str | None) -> str:
    """A cell typed by people: defused so a spreadsheet shows it instead of running it."""
    if not value:
        return ""
    return "'" + value if value.startswith(_FORMULA_START) else value


def _number(value: Decimal | None) -> str:
    """Plain digits with a "." ("1.5", "2", "12.5"): no exponent, no locale, no trailing zeros."""
    if value is None:
        return ""
    text = format(value.normalize(), "f")
    return "0" if text == "-0" else text


def _day(value: date | None) -> str:
    return value.isoformat() if value else ""


def _csv(headers: Sequence[str], columns: Sequence[str], rows: Iterable[list[str]]) -> bytes:
    """UTF-8 with a BOM: without it Excel reads the file as the local code page (mojibake)."""
    if len(headers) != len(columns):
        raise ValueError(f"{len(columns)} headers expected ({', '.join(columns)})")
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow([_text(header) for header in headers])
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def credentials_csv(headers: Sequence[str], rows: Sequence[CredentialRow]) -> bytes:
    """The trainer's credentials, in CREDENTIAL_COLUMNS order."""
    return _csv(
        headers,
        CREDENTIAL_COLUMNS,
        (
            [
                _text(row.name),
                _text(row.body),
                _text(row.number),
                _text(row.state),
                _day(row.cycle_start),
                _day(row.cycle_end),
                _number(row.units_required),
                _number(row.units_earned),
                _text(row.unit_name),
                _day(row.grace_end),
                _text(row.after_grace),
            ]
            for row in rows
        ),
    )


def credits_csv(headers: Sequence[str], rows: Sequence[CreditRow]) -> bytes:
    """The trainer's logged credits, in CREDIT_COLUMNS order."""
    return _csv(
        headers,
        CREDIT_COLUMNS,
        (
            [
                _text(row.credential),
                _day(row.earned_on),
                _text(row.title),
                _text(row.provider),
                _number(row.units),
                _text(row.unit_name),
                _number(row.cost),
                _text(row.currency),
                _text(row.proof),
            ]
            for row in rows
        ),
    )


@dataclass(frozen=True)
class RosterRow:
    """One member's credential on a team's roster export: never a number or a proof."""

    member: str
    member_state: str
    credential: str | None
    state: str | None
    expires: date | None
    units_earned: Decimal | None
    units_required: Decimal | None
    unit_name: str | None


ROSTER_COLUMNS = (
    "member",
    "member_state",
    "credential",
    "state",
    "expires",
    "units_earned",
    "units_required",
    "unit",
)


def roster_csv(headers: Sequence[str], rows: Sequence[RosterRow]) -> bytes:
    """A team's roster, in ROSTER_COLUMNS order."""
    return _csv(
        headers,
        ROSTER_COLUMNS,
        (
            [
                _text(row.member),
                _text(row.member_state),
                _text(row.credential),
                _text(row.state),
                _day(row.expires),
                _number(row.units_earned),
                _number(row.units_required),
                _text(row.unit_name),
            ]
            for row in rows
        ),
    )


def deadlines_ics(calendar_name: str, deadlines: Sequence[Deadline], now: datetime) -> bytes:
    """An iCalendar file of all-day cycle ends; each reminder is a VALARM, so the trainer's own
    calendar app reminds them even if they leave the bot."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    stamp = now.astimezone(UTC)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", calendar_name)
    for deadline in deadlines:
        event = Event()
        event.add("uid", deadline.uid)
        event.add("dtstamp", stamp)
        # A date (not a datetime) makes it all-day, in whatever zone the calendar shows.
        event.add("dtstart", deadline.day)
        event.add("dtend", deadline.day + timedelta(days=1))
        event.add("summary", deadline.summary)
        event.add("description", deadline.description)
        # An all-day reminder should not mark the day busy.
        event.add("transp", "TRANSPARENT")
        for days in deadline.alarms_days_before:
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", deadline.alarm_text)
            alarm.add("trigger", timedelta(days=-days))
            event.add_component(alarm)
        calendar.add_component(event)
    ical: bytes = calendar.to_ical()  # icalendar is untyped here
    return ical


_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]')
# Names Windows reserves for devices: "con.jpg" cannot be unpacked there.
_RESERVED = {"CON", "PRN", "AUX", "NUL"} | {f"{d}{i}" for d in ("COM", "LPT") for i in range(10)}
_MAX_NAME = 120


def _safe_name(name: str, default: str) -> str:
    """A bare file name: no folders, no "..", nothing Windows refuses to unpack."""
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("_", name)
    while ".." in name:
        name = name.replace("..", ".")
    name = name.strip(" .")
    if not name:
        return default
    stem, dot, suffix = name.rpartition(".")
    if not stem or len(suffix) > 16:
        stem, dot, suffix = name, "", ""
    if stem.split(".")[0].upper() in _RESERVED:
        stem = "_" + stem
    return stem[: _MAX_NAME - len(dot + suffix)] + dot + suffix


class _Names:
    """Hands out names unique within one folder of the archive: "scan.pdf", "scan-2.pdf"."""

    def __init__(self) -> None:
        self._taken: set[str] = set()

    def claim(self, name: str, default: str) -> str:
        name = _safe_name(name, default)
        stem, dot, suffix = name.rpartition(".")
        if not stem:
            stem, dot, suffix = name, "", ""
        candidate, n = name, 1
        # Case-insensitive, as on the file systems of Windows and macOS.
        while candidate.casefold() in self._taken:
            n += 1
            candidate = f"{stem}-{n}{dot}{suffix}"
        self._taken.add(candidate.casefold())
        return candidate


def audit_zip(
    summary_name: str,
    summary_text: str,
    csv_name: str,
    csv_data: bytes,
    proofs: Sequence[tuple[str, bytes]],
    *,
    modified: datetime | None = None,
) -> bytes:
    """One file an auditor can open: the summary, the credits spreadsheet and every proof under
    proofs/. Proof names come from uploads, so they become safe, unique bare names.
    `modified` (wall time) dates the members; without it zipfile dates them now.
    """
    buffer = io.BytesIO()
    root, proof_names = _Names(), _Names()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:

        def put(name: str, data: bytes) -> None:
            if modified is None:
                archive.writestr(name, data)
                return
            info = zipfile.ZipInfo(name, date_time=modified.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16  # else unzip on Unix creates unreadable files
            archive.writestr(info, data)

        put(root.claim(summary_name, "summary.txt"), summary_text.encode("utf-8"))
        put(root.claim(csv_name, "credits.csv"), csv_data)
        for name, data in proofs:
            put("proofs/" + proof_names.claim(name, "proof"), data)
    return buffer.getvalue()


@dataclass(frozen=True)
class AttendanceRow:
    event: str
    held_on: date
    provider: str | None
    code: str | None
    manager: str
    attendee: str
    confirmed_at: datetime
    credential: str | None
    units: Decimal | None
    unit_name: str | None


ATTENDANCE_COLUMNS = (
    "event",
    "date",
    "provider",
    "approval_code",
    "manager",
    "attendee",
    "confirmed_at_utc",
    "credential",
    "units_logged",
    "unit",
)


def attendance_csv(headers: Sequence[str], rows: Sequence[AttendanceRow]) -> bytes:
    """Who attended a team event, one row per credential it was logged to (a petition to a
    body lists its attendees), in ATTENDANCE_COLUMNS order."""
    return _csv(
        headers,
        ATTENDANCE_COLUMNS,
        (
            [
                _text(row.event),
                _day(row.held_on),
                _text(row.provider),
                _text(row.code),
                _text(row.manager),
                _text(row.attendee),
                row.confirmed_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M"),
                _text(row.credential),
                _number(row.units),
                _text(row.unit_name),
            ]
            for row in rows
        ),
    )
