"""iCalendar (RFC 5545) for events, written by hand: one event (``event_calendar``) or the
feed of upcoming events (``feed_calendar``), and a small reader (``parse_calendar``) that
unfolds lines and unescapes text, used by the tests and for reading files back.

Every VEVENT has UID (``event-<id>@<host>``), DTSTAMP, DTSTART and DTEND in UTC (``...Z``),
SUMMARY, and LOCATION, DESCRIPTION, URL when the event has them. Text values escape
backslash, semicolon, comma and newlines (§3.3.11); content lines are folded so that none is
longer than 75 octets, never inside a UTF-8 character (§3.1); lines end in CRLF.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from commops.clock import utcnow
from commops.ops.events.models import Event

PRODID = "-//commops//events//EN"
MAX_OCTETS = 75


def escape_text(value: str) -> str:
    """A TEXT value escaped: ``\\`` ``;`` ``,`` and newlines."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def unescape_text(value: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value):
            nxt = value[i + 1]
            out.append("\n" if nxt in "nN" else nxt)
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def fold(line: str) -> str:
    """A content line folded at 75 octets: continuation lines start with one space (which
    counts towards their 75), and a UTF-8 character is never split."""
    parts: list[str] = []
    current = ""
    size = 0
    limit = MAX_OCTETS
    for ch in line:
        width = len(ch.encode("utf-8"))
        if size + width > limit:
            parts.append(current)
            current, size, limit = "", 0, MAX_OCTETS - 1
        current += ch
        size += width
    parts.append(current)
    return "\r\n ".join(parts)


def _stamp(when: datetime) -> str:
    return when.strftime("%Y%m%dT%H%M%SZ")


def _location(event: Event) -> str | None:
    if event.online:
        return "Online"
    parts = [p for p in (event.venue, event.city) if p]
    return ", ".join(parts) or None


def _vevent(event: Event, host: str, stamp: datetime) -> list[str]:
    lines = [
        "BEGIN:VEVENT",
        f"UID:event-{event.id}@{host}",
        f"DTSTAMP:{_stamp(stamp)}",
        f"DTSTART:{_stamp(event.starts_at)}",
        f"DTEND:{_stamp(event.ends_at)}",
        f"SUMMARY:{escape_text(event.title)}",
    ]
    location = _location(event)
    if location:
        lines.append(f"LOCATION:{escape_text(location)}")
    if event.description:
        lines.append(f"DESCRIPTION:{escape_text(event.description)}")
    if event.url:
        lines.append(f"URL:{event.url}")
    if event.state == "cancelled":
        lines.append("STATUS:CANCELLED")
    lines.append("END:VEVENT")
    return lines


def calendar_text(
    events: Sequence[Event], *, name: str, host: str = "commops", stamp: datetime | None = None
) -> str:
    """A VCALENDAR with one VEVENT per event, folded, CRLF line ends."""
    when = stamp or utcnow()
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        f"X-WR-CALNAME:{escape_text(name)}",
    ]
    for event in events:
        lines.extend(_vevent(event, host, when))
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)


def upcoming(session: Session, *, now: datetime | None = None) -> list[Event]:
    """Events not deleted, planned, that have not ended yet, soonest first."""
    moment = now or utcnow()
    return list(
        session.execute(
            select(Event)
            .where(Event.deleted_at.is_(None), Event.state == "planned", Event.ends_at >= moment)
            .order_by(Event.starts_at, Event.id)
        ).scalars()
    )


def parse_calendar(text: str) -> list[dict[str, str]]:
    """The VEVENTs of a calendar as {property name: unescaped value} (parameters dropped;
    the last of a repeated property wins)."""
    unfolded: list[str] = []
    for raw in text.replace("\r\n", "\n").split("\n"):
        if raw.startswith((" ", "\t")) and unfolded:
            unfolded[-1] += raw[1:]
        elif raw:
            unfolded.append(raw)
    events: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    for line in unfolded:
        name_part, _, value = line.partition(":")
        name = name_part.split(";", 1)[0].upper()
        if name == "BEGIN" and value == "VEVENT":
            current = {}
        elif name == "END" and value == "VEVENT":
            if current is not None:
                events.append(current)
            current = None
        elif current is not None:
            current[name] = unescape_text(value)
    return events
