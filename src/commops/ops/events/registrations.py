"""Registrations, check-in, consent and the lists made from them.

A registrant is always a member: ``match_person`` finds them through an identity they already
have (their e-mail on any platform, else their login), and someone the community does not know
yet becomes a new member with an e-mail identity (platform ``email``). ``register`` records one
person directly; ``import_registrations`` reads a CSV file (columns ``name``, ``email``,
optional ``github``/``login``, ``organisation``, ``consent``), checking every line before it
writes anything; importing the same file again changes nothing. ``check_in`` marks an attendee;
``set_consent`` records whether their details may go to the event's partners, which
``attendee_export`` enforces.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from commops.clock import utcnow
from commops.errors import StateConflict, UsageError
from commops.ops import core
from commops.ops.events.events import _credit, get_event
from commops.ops.events.models import Event, EventRegistration
from commops.ops.events.rules import ATTENDED, RECORD_EVENT, RECORD_REGISTRATION, member_of
from commops.store.models import Activity, Identity, Member

EMAIL_RE = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
TRUE = {"yes", "y", "true", "1", "x"}
FALSE = {"no", "n", "false", "0", ""}
EMAIL_PLATFORM = "email"
LOGIN_PLATFORMS = ("github", "gitee", "gitlab")


@dataclass(frozen=True)
class Person:
    """What a registration says about someone."""

    name: str
    email: str
    login: str | None = None
    organisation: str | None = None
    consent: bool = False


def parse_consent(value: str, where: str) -> bool:
    """yes/no, true/false, 1/0, x or empty (no)."""
    text = value.strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise UsageError(f"{where}: consent {value!r} is not yes or no")


def clean_email(value: str, where: str) -> str:
    text = value.strip().lower()
    if not EMAIL_RE.match(text):
        raise UsageError(f"{where}: {value!r} is not an e-mail address")
    return text


def _unique_member(idents: list[Identity], what: str, where: str) -> int | None:
    members = sorted({i.member_id for i in idents})
    if len(members) > 1:
        raise UsageError(
            f"{where}: {what} belongs to several members ({', '.join(map(str, members))})",
            hint="Merge them first (`commops members merge`), or register by member id.",
        )
    return members[0] if members else None


def find_person(session: Session, person: Person, where: str = "registration") -> int | None:
    """The member the person already is: by e-mail (any platform), else by login."""
    by_email = list(
        session.execute(
            select(Identity).where(
                Identity.kind == "email", func.lower(Identity.value) == person.email
            )
        ).scalars()
    )
    found = _unique_member(by_email, f"e-mail {person.email}", where)
    if found is None and person.login:
        by_login = list(
            session.execute(
                select(Identity).where(
                    Identity.kind == "username",
                    Identity.platform.in_(LOGIN_PLATFORMS),
                    func.lower(Identity.value) == person.login.lower(),
                )
            ).scalars()
        )
        found = _unique_member(by_login, f"login {person.login}", where)
    return found


def match_person(session: Session, person: Person, where: str = "registration") -> tuple[int, bool]:
    """The member for a registrant and whether they were created now: a known identity, or a
    new member with an e-mail identity."""
    found = find_person(session, person, where)
    if found is not None:
        return found, False
    now = utcnow()
    member = Member(
        display_name=(person.name or person.email.split("@", 1)[0])[:500],
        is_bot=False,
        is_staff=False,
        tags=[],
        created_at=now,
    )
    session.add(member)
    session.flush()
    session.add(
        Identity(
            platform=EMAIL_PLATFORM,
            kind="email",
            value=person.email,
            name=person.name or None,
            verified=False,
            member_id=member.id,
            created_at=now,
        )
    )
    session.flush()
    return member.id, True


def registration_of(session: Session, event_id: int, member_id: int) -> EventRegistration | None:
    """The member's registration for the event (through any of their identities)."""
    idents = select(Identity.id).where(Identity.member_id == member_id)
    # Two people who registered separately and were merged since have two rows: the first.
    return (
        session.execute(
            select(EventRegistration)
            .where(
                EventRegistration.event_id == event_id, EventRegistration.identity_id.in_(idents)
            )
            .order_by(EventRegistration.id)
        )
        .scalars()
        .first()
    )


def list_registrations(session: Session, event_id: int) -> list[EventRegistration]:
    return list(
        session.execute(
            select(EventRegistration)
            .where(EventRegistration.event_id == event_id)
            .order_by(EventRegistration.id)
        ).scalars()
    )


def _upsert(
    session: Session, event: Event, person: Person, origin: str, where: str
) -> tuple[EventRegistration, str]:
    """Create or update a registration; returns it and ``created``/``updated``/``unchanged``
    (and ``created`` for new members too: see ``RegistrationImport``)."""
    member_id, _ = match_person(session, person, where)
    reg = registration_of(session, event.id, member_id)
    now = utcnow()
    if reg is None:
        reg = EventRegistration(
            event_id=event.id,
            identity_id=core.member_identity(session, member_id).id,
            name=person.name or person.email,
            email=person.email,
            organisation=person.organisation,
            consent=person.consent,
            consent_at=now if person.consent else None,
            origin=origin,
            registered_at=now,
        )
        session.add(reg)
        session.flush()
        return reg, "created"
    changed = False
    for attr, value in (
        ("name", person.name or reg.name),
        ("email", person.email),
        ("organisation", person.organisation),
    ):
        if getattr(reg, attr) != value:
            setattr(reg, attr, value)
            changed = True
    if reg.consent != person.consent:
        reg.consent = person.consent
        reg.consent_at = now
        changed = True
    if changed:
        session.flush()
    return reg, "updated" if changed else "unchanged"


def _open_event(session: Session, ref: int | str) -> Event:
    event = get_event(session, ref)
    if event.state == "cancelled":
        raise UsageError(f"event {event.slug} is cancelled: it takes no registrations")
    return event


def register(
    session: Session,
    event_ref: int | str,
    person: Person,
    *,
    actor: str,
) -> EventRegistration:
    """Register one person (or update their registration)."""
    event = _open_event(session, event_ref)
    clean = Person(
        name=" ".join(person.name.split()),
        email=clean_email(person.email, "email"),
        login=(person.login or "").strip() or None,
        organisation=(person.organisation or "").strip() or None,
        consent=person.consent,
    )
    reg, outcome = _upsert(session, event, clean, "direct", "registration")
    core.record(
        session,
        actor=actor,
        record_type=RECORD_REGISTRATION,
        record_id=reg.id,
        action="registered" if outcome == "created" else "registration_" + outcome,
        details={"event": event.slug, "member": member_of(session, reg.identity_id)},
    )
    return reg


@dataclass
class RegistrationImport:
    """What an import did."""

    file: str
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    new_members: list[int] = field(default_factory=list)


HEADER_ALIASES = {
    "name": "name",
    "email": "email",
    "e-mail": "email",
    "github": "login",
    "login": "login",
    "organisation": "organisation",
    "organization": "organisation",
    "org": "organisation",
    "consent": "consent",
}


def read_registrations(path: Path) -> list[Person]:
    """Every line of a registrations CSV as a Person, or a UsageError naming the file, line
    and column of the first problem."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path.name}: not UTF-8 ({exc.reason})") from None
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        raise UsageError(f"{path.name}: the file is empty")
    columns: dict[str, int] = {}
    for index, raw in enumerate(header):
        key = HEADER_ALIASES.get(raw.strip().lower())
        if key is None:
            raise UsageError(
                f"{path.name} line 1: unknown column {raw!r}",
                hint="Columns: name, email, github (or login), organisation, consent.",
            )
        if key in columns:
            raise UsageError(f"{path.name} line 1: column {raw!r} appears twice")
        columns[key] = index
    if "email" not in columns:
        raise UsageError(f"{path.name} line 1: the column 'email' is missing")
    people: list[Person] = []
    seen: dict[str, int] = {}
    for line, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(header):
            raise UsageError(
                f"{path.name} line {line}: {len(row)} fields, the header has {len(header)}"
            )

        def cell(key: str, row: list[str] = row) -> str:
            index = columns.get(key)
            return row[index].strip() if index is not None and index < len(row) else ""

        email = clean_email(cell("email"), f"{path.name} line {line}: column 'email'")
        if email in seen:
            raise UsageError(
                f"{path.name} line {line}: column 'email': {email} is already on line {seen[email]}"
            )
        seen[email] = line
        people.append(
            Person(
                name=" ".join(cell("name").split()),
                email=email,
                login=cell("login") or None,
                organisation=cell("organisation") or None,
                consent=parse_consent(
                    cell("consent"), f"{path.name} line {line}: column 'consent'"
                ),
            )
        )
    return people


ICAL_SUFFIXES = (".ics", ".ical", ".icalendar")


def _ical_property(line: str) -> tuple[str, dict[str, str], str]:
    """An unfolded content line as (NAME, {PARAM: value}, value); colons and semicolons in
    quoted parameter values (CN="Li, Ana") do not split."""
    quoted = False
    cut = -1
    for index, char in enumerate(line):
        if char == '"':
            quoted = not quoted
        elif char == ":" and not quoted:
            cut = index
            break
    if cut < 0:
        return line.upper(), {}, ""
    head, value = line[:cut], line[cut + 1 :]
    parts: list[str] = []
    current, quoted = "", False
    for char in head:
        if char == '"':
            quoted = not quoted
        elif char == ";" and not quoted:
            parts.append(current)
            current = ""
            continue
        current += char
    parts.append(current)
    params: dict[str, str] = {}
    for part in parts[1:]:
        key, _, raw = part.partition("=")
        params[key.strip().upper()] = raw.strip().strip('"')
    return parts[0].strip().upper(), params, value


def read_ical_registrations(path: Path) -> list[tuple[int, Person]]:
    """The attendees (``ATTENDEE`` properties) of an iCalendar file, e.g. a meeting invite or
    an event platform's export, as people with the line each starts on. ``CN`` is the name,
    the ``mailto:`` value the e-mail; ``PARTSTAT=DECLINED`` attendees are left out. iCalendar
    says nothing about consent: everyone comes in without it."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path.name}: not UTF-8 ({exc.reason})") from None
    lines: list[tuple[int, str]] = []
    for number, raw in enumerate(text.replace("\r\n", "\n").split("\n"), start=1):
        if raw.startswith((" ", "\t")) and lines:
            lines[-1] = (lines[-1][0], lines[-1][1] + raw[1:])
        elif raw.strip():
            lines.append((number, raw))
    if not lines or _ical_property(lines[0][1])[2].strip().upper() != "VCALENDAR":
        raise UsageError(
            f"{path.name} line 1: not an iCalendar file (it must start with BEGIN:VCALENDAR)"
        )
    people: list[tuple[int, Person]] = []
    seen: dict[str, int] = {}
    for number, line in lines:
        name, params, value = _ical_property(line)
        if name != "ATTENDEE" or params.get("PARTSTAT", "").upper() == "DECLINED":
            continue
        where = f"{path.name} line {number}: ATTENDEE"
        if not value.lower().startswith("mailto:"):
            raise UsageError(f"{where}: {value!r} is not a mailto: address")
        email = clean_email(value[len("mailto:") :], where)
        if email in seen:
            continue  # the same person in two VEVENTs of one file: one registration
        seen[email] = number
        people.append((number, Person(name=" ".join(params.get("CN", "").split()), email=email)))
    if not people:
        raise UsageError(f"{path.name}: no ATTENDEE with an e-mail address")
    return people


def import_registrations(
    session: Session, event_ref: int | str, path: Path, *, actor: str
) -> RegistrationImport:
    """Register everyone in a CSV file, or every attendee of an iCalendar file (``.ics``).
    The whole file is checked first; a person already registered is updated, so importing the
    same file again changes nothing."""
    event = _open_event(session, event_ref)
    if path.suffix.lower() in ICAL_SUFFIXES:
        numbered = read_ical_registrations(path)
        origin = f"ical:{path.name}"
    else:
        numbered = list(enumerate(read_registrations(path), start=2))
        origin = f"csv:{path.name}"
    result = RegistrationImport(file=path.name, rows=len(numbered))
    # Ambiguous matches are refused before anything is written.
    for line, person in numbered:
        find_person(session, person, f"{path.name} line {line}")
    for line, person in numbered:
        before = find_person(session, person, f"{path.name} line {line}")
        reg, outcome = _upsert(session, event, person, origin, f"{path.name} line {line}")
        if before is None:
            result.new_members.append(member_of(session, reg.identity_id))
        setattr(result, outcome, getattr(result, outcome) + 1)
    core.record(
        session,
        actor=actor,
        record_type=RECORD_EVENT,
        record_id=event.id,
        action="registrations_imported",
        details={
            "file": path.name,
            "rows": result.rows,
            "created": result.created,
            "updated": result.updated,
            "new_members": result.new_members,
        },
    )
    return result


def find_registration(session: Session, event: Event, who: int | str) -> EventRegistration:
    """The registration ``who`` names for the event: ``r<id>`` (a registration id), an
    e-mail it was made with, or a member (id, e-mail, login, name)."""
    text = str(who).strip()
    reg: EventRegistration | None = None
    if re.fullmatch(r"r\d+", text):
        reg = session.get(EventRegistration, int(text[1:]))
        if reg is not None and reg.event_id != event.id:
            reg = None
    elif text:
        reg = session.execute(
            select(EventRegistration).where(
                EventRegistration.event_id == event.id,
                func.lower(EventRegistration.email) == text.lower(),
            )
        ).scalar_one_or_none()
        if reg is None:
            try:
                mid = core.require_member(session, text, field="registration")
            except UsageError:
                mid = None
            if mid is not None:
                reg = registration_of(session, event.id, mid)
    if reg is None:
        raise UsageError(
            f"no registration {text!r} for event {event.slug}",
            hint=f"Register them first: `commops events register {event.slug} --email ...`; "
            f"see `commops events registrations {event.slug}`.",
        )
    return reg


def check_in(
    session: Session,
    event_ref: int | str,
    who: int | str,
    *,
    actor: str,
    at: datetime | None = None,
) -> EventRegistration:
    """Mark a registrant as present. Refuses someone not registered, or checked in already.
    Once the event is held the attendance is credited at once (``event:attended``)."""
    event = get_event(session, event_ref)
    if event.state == "cancelled":
        raise UsageError(f"event {event.slug} is cancelled")
    reg = find_registration(session, event, who)
    if reg.checked_in_at is not None:
        raise StateConflict(
            f"registration r{reg.id} ({reg.name}) checked in already at "
            f"{reg.checked_in_at:%Y-%m-%d %H:%M}"
        )
    reg.checked_in_at = at or utcnow()
    session.flush()
    if event.state == "held":
        mid = member_of(session, reg.identity_id)
        _credit(session, event, ATTENDED, mid, f"event:{event.id}:attended:{reg.id}")
    core.record(
        session,
        actor=actor,
        record_type=RECORD_REGISTRATION,
        record_id=reg.id,
        action="checked_in",
        details={"event": event.slug},
    )
    return reg


def set_consent(
    session: Session,
    event_ref: int | str,
    who: int | str,
    consent: bool,
    *,
    actor: str,
    reason: str | None = None,
) -> EventRegistration:
    """Record whether the registrant agrees to their details going to the partners."""
    event = get_event(session, event_ref)
    reg = find_registration(session, event, who)
    before = reg.consent
    reg.consent = consent
    reg.consent_at = utcnow()
    core.record(
        session,
        actor=actor,
        record_type=RECORD_REGISTRATION,
        record_id=reg.id,
        action="consent_given" if consent else "consent_withdrawn",
        reason=reason,
        details={"event": event.slug, "before": before},
    )
    return reg


@dataclass
class AttendeeExport:
    """Rows to write and the people left out for lack of consent."""

    columns: list[str]
    rows: list[dict[str, str]]
    left_out: list[str]


def attendee_export(
    session: Session,
    event_ref: int | str,
    *,
    for_partner: bool,
    skip_without_consent: bool = False,
    registrants: bool = False,
) -> AttendeeExport:
    """The checked-in attendees (all registrants with ``registrants``) as rows. For a
    partner (``for_partner``) everyone must have consented: anyone who has not is refused,
    named, unless ``skip_without_consent`` leaves them out (and names them in
    ``left_out``)."""
    event = get_event(session, event_ref)
    regs = [
        r
        for r in list_registrations(session, event.id)
        if registrants or r.checked_in_at is not None
    ]
    left_out: list[str] = []
    if for_partner:
        missing = [r for r in regs if not r.consent]
        if missing and not skip_without_consent:
            names = ", ".join(f"{r.name} <{r.email}>" for r in missing)
            raise UsageError(
                f"event {event.slug}: {len(missing)} "
                f"{'people have' if len(missing) > 1 else 'person has'} not consented to "
                f"sharing their details with partners: {names}",
                hint="Record their consent (`commops events consent EVENT WHO --yes`) or leave "
                "them out with --skip-without-consent.",
            )
        left_out = [f"{r.name} <{r.email}>" for r in missing]
        regs = [r for r in regs if r.consent]
    columns = ["name", "email", "organisation", "checked_in"]
    rows = [
        {
            "name": r.name,
            "email": r.email or "",
            "organisation": r.organisation or "",
            "checked_in": r.checked_in_at.isoformat(sep=" ", timespec="seconds")
            if r.checked_in_at
            else "",
        }
        for r in regs
    ]
    if not for_partner:
        columns.append("consent")
        for row, r in zip(rows, regs, strict=True):
            row["consent"] = "yes" if r.consent else "no"
    return AttendeeExport(columns=columns, rows=rows, left_out=left_out)


def write_csv(export: AttendeeExport, path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=export.columns)
        writer.writeheader()
        writer.writerows(export.rows)


@dataclass
class FollowUp:
    """One attendee to follow up with."""

    registration: int
    member_id: int
    name: str
    email: str | None
    organisation: str | None
    consent: bool
    first_timer: bool


def follow_up(session: Session, event_ref: int | str) -> list[FollowUp]:
    """The checked-in attendees with their e-mail and consent, and whether they are
    first-timers: no activity of theirs (any identity, any kind) before the event started."""
    event = get_event(session, event_ref)
    out: list[FollowUp] = []
    for reg in list_registrations(session, event.id):
        if reg.checked_in_at is None:
            continue
        mid = member_of(session, reg.identity_id)
        idents = select(Identity.id).where(Identity.member_id == mid)
        earlier = session.execute(
            select(Activity.id)
            .where(Activity.actor_identity_id.in_(idents), Activity.occurred_at < event.starts_at)
            .limit(1)
        ).first()
        out.append(
            FollowUp(
                registration=reg.id,
                member_id=mid,
                name=reg.name,
                email=reg.email,
                organisation=reg.organisation,
                consent=reg.consent,
                first_timer=earlier is None,
            )
        )
    return out
