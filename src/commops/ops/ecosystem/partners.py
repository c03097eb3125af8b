"""Partners, their contacts and touches, and collaborations, one domain function per change:

partners: ``add_partner``, ``edit_partner``, ``delete_partner`` / ``restore_partner`` (soft);
contacts: ``add_contact``, ``remove_contact``; ``touch`` logs an interaction.
collaborations: ``add_collaboration`` (proposed) → ``start_collaboration`` (active) →
``pause_collaboration`` (paused) → ``resume_collaboration`` (active) → ``complete_collaboration``
(completed); ``cancel_collaboration`` from every state that is not final; ``add_outcome``,
``add_link``, ``delete_collaboration`` / ``restore_collaboration``.

Each function checks the change, applies it, writes the audit log (``core.record``) and, when a
collaboration completes, credits its owner with ``partner:collaborated`` (all-contributors type
``business``), all in the caller's session. None of them prints or commits.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from commops.clock import utcnow
from commops.errors import StateConflict, UsageError
from commops.identity.orgs import ensure_organization, get_organization
from commops.ops import core
from commops.ops.content import get_item
from commops.ops.ecosystem.models import Collaboration, Partner, PartnerContact, Touch
from commops.ops.ecosystem.rules import (
    COLLAB_RECORD,
    COLLABORATED,
    CONTRIBUTION_TYPE,
    FLOW,
    LINK_TYPES,
    ORG_KIND,
    PARTNER_RECORD,
    collab_kind,
    partner_kind,
    touch_kind,
)
from commops.store.models import Identity

MAX_TITLE = 500
MAX_NAME = 300


# -- finding ----------------------------------------------------------------------------------


def get_partner(session: Session, ref: int | str, *, include_deleted: bool = False) -> Partner:
    """The partner ``ref`` names: an id or its name (any case)."""
    text = str(ref).strip().removeprefix("#")
    partner: Partner | None = None
    if text.isdigit():
        partner = session.get(Partner, int(text))
    if partner is None and text:
        wanted = text.casefold()
        for candidate in session.execute(select(Partner).order_by(Partner.id)).scalars():
            if candidate.name.casefold() == wanted:
                partner = candidate
                break
    if partner is None:
        raise UsageError(f"no partner {str(ref)!r}", hint="See `commops partners list`.")
    if partner.deleted_at is not None and not include_deleted:
        raise UsageError(
            f"partner {partner.id} ({partner.name!r}) is deleted",
            hint=f"Restore it first: `commops partners restore {partner.id}`.",
        )
    return partner


def get_collaboration(
    session: Session, ref: int | str, *, include_deleted: bool = False
) -> Collaboration:
    """The collaboration with id ``ref``."""
    text = str(ref).strip().removeprefix("#")
    collab = session.get(Collaboration, int(text)) if text.isdigit() else None
    if collab is None:
        raise UsageError(
            f"no collaboration {str(ref)!r}", hint="See `commops partners show PARTNER`."
        )
    if collab.deleted_at is not None and not include_deleted:
        raise UsageError(
            f"collaboration {collab.id} ({collab.title!r}) is deleted",
            hint=f"Restore it first: `commops partners collab restore {collab.id}`.",
        )
    return collab


def list_partners(
    session: Session, *, kind: str | None = None, include_deleted: bool = False
) -> list[Partner]:
    query = select(Partner).order_by(Partner.name)
    if kind is not None:
        query = query.where(Partner.kind == partner_kind(kind))
    if not include_deleted:
        query = query.where(Partner.deleted_at.is_(None))
    return list(session.execute(query).scalars())


def collaborations(
    session: Session, partner_id: int, *, include_deleted: bool = False
) -> list[Collaboration]:
    query = (
        select(Collaboration)
        .where(Collaboration.partner_id == partner_id)
        .order_by(Collaboration.id)
    )
    if not include_deleted:
        query = query.where(Collaboration.deleted_at.is_(None))
    return list(session.execute(query).scalars())


def contacts(session: Session, partner_id: int) -> list[tuple[int, str | None]]:
    """The partner's contacts as (member id, role), in the order they were added."""
    rows = session.execute(
        select(Identity.member_id, PartnerContact.role)
        .join(Identity, Identity.id == PartnerContact.identity_id)
        .where(PartnerContact.partner_id == partner_id)
        .order_by(PartnerContact.added_at, PartnerContact.identity_id)
    ).all()
    return [(int(member_id), role) for member_id, role in rows]


def touches(session: Session, partner_id: int) -> list[Touch]:
    return list(
        session.execute(
            select(Touch).where(Touch.partner_id == partner_id).order_by(Touch.on, Touch.id)
        ).scalars()
    )


def owner_id(session: Session, collab: Collaboration) -> int | None:
    """The member who owns ``collab`` (through the owner's identity)."""
    if collab.owner_identity_id is None:
        return None
    ident = session.get(Identity, collab.owner_identity_id)
    return None if ident is None else ident.member_id


# -- validation -------------------------------------------------------------------------------


def _text(value: str, field: str, limit: int) -> str:
    clean = " ".join(value.split())
    if not clean:
        raise UsageError(f"{field}: the {field} is empty")
    if len(clean) > limit:
        raise UsageError(f"{field}: longer than {limit} characters ({len(clean)})")
    return clean


def _optional(value: str | None) -> str | None:
    if value is None:
        return None
    return value.strip() or None


def _url(value: str, field: str = "url") -> str:
    url = value.strip()
    if not url.startswith(("http://", "https://")) or len(url) < 10 or " " in url:
        raise UsageError(f"{field}: {value!r} is not an http(s) URL")
    return url


def _unique_name(session: Session, name: str, partner_id: int | None) -> None:
    wanted = name.casefold()
    for other in session.execute(select(Partner)).scalars():
        if other.name.casefold() == wanted and other.id != partner_id:
            raise StateConflict(
                f"name: partner {other.id} is already called {other.name!r}",
                hint="Partner names are unique (any case).",
            )


def _organization_id(session: Session, name: str | None, partner_name: str, kind: str) -> int:
    org_name = _optional(name) or partner_name
    return ensure_organization(session, org_name, ORG_KIND[kind]).id


# -- partners ---------------------------------------------------------------------------------


def add_partner(
    session: Session,
    *,
    name: str,
    kind: str,
    actor: str,
    organization: str | None = None,
    website: str | None = None,
    notes: str | None = None,
    at: datetime | None = None,
) -> Partner:
    """A new partner, linked to the organization named ``organization`` (default: the
    partner's own name), which is created when missing; its enrolled members are the
    partner's people in ``health``."""
    clean_name = _text(name, "name", MAX_NAME)
    clean_kind = partner_kind(kind)
    _unique_name(session, clean_name, None)
    site = _url(website, "website") if website else None
    partner = Partner(
        name=clean_name,
        kind=clean_kind,
        organization_id=_organization_id(session, organization, clean_name, clean_kind),
        website=site,
        notes=_optional(notes),
        created_at=at or utcnow(),
        updated_at=at or utcnow(),
    )
    session.add(partner)
    session.flush()
    core.record(
        session,
        actor=actor,
        record_type=PARTNER_RECORD,
        record_id=partner.id,
        action="added",
        details={
            "name": partner.name,
            "kind": partner.kind,
            "organization_id": partner.organization_id,
        },
        at=at,
    )
    return partner


def edit_partner(
    session: Session,
    ref: int | str,
    *,
    actor: str,
    name: str | None = None,
    kind: str | None = None,
    organization: str | None = None,
    website: str | None = None,
    notes: str | None = None,
) -> Partner:
    """Change a partner's name, kind, organization (an existing one: ``commops orgs add``
    creates them), website or notes; the audit log keeps the values before and after."""
    partner = get_partner(session, ref)
    changes: dict[str, Any] = {}
    if name is not None:
        clean = _text(name, "name", MAX_NAME)
        _unique_name(session, clean, partner.id)
        changes["name"] = clean
    if kind is not None:
        changes["kind"] = partner_kind(kind)
    if organization is not None:
        changes["organization_id"] = get_organization(session, organization.strip()).id
    if website is not None:
        changes["website"] = _url(website, "website") if website.strip() else None
    if notes is not None:
        changes["notes"] = _optional(notes)
    changed = {k: v for k, v in changes.items() if getattr(partner, k) != v}
    if not changed:
        raise UsageError(f"partner {partner.id}: nothing to change")
    before = {k: getattr(partner, k) for k in changed}
    for key, value in changed.items():
        setattr(partner, key, value)
    partner.updated_at = utcnow()
    core.record(
        session,
        actor=actor,
        record_type=PARTNER_RECORD,
        record_id=partner.id,
        action="edited",
        details={"before": before, "after": changed},
    )
    return partner


def delete_partner(
    session: Session, ref: int | str, *, actor: str, reason: str | None = None
) -> Partner:
    partner = get_partner(session, ref, include_deleted=True)
    core.soft_delete(session, partner, PARTNER_RECORD, actor=actor, reason=reason)
    return partner


def restore_partner(
    session: Session, ref: int | str, *, actor: str, reason: str | None = None
) -> Partner:
    partner = get_partner(session, ref, include_deleted=True)
    core.restore(session, partner, PARTNER_RECORD, actor=actor, reason=reason)
    return partner


# -- contacts and touches ---------------------------------------------------------------------


def add_contact(
    session: Session,
    ref: int | str,
    member: int | str,
    *,
    actor: str,
    role: str | None = None,
) -> PartnerContact:
    """Make ``member`` a contact of the partner, with a role (e.g. "maintainer liaison");
    naming a contact again changes the role."""
    partner = get_partner(session, ref)
    member_id = core.require_member(session, member, field="member")
    identity = core.member_identity(session, member_id)
    clean_role = _text(role, "role", 200) if role is not None else None
    row = session.get(PartnerContact, (partner.id, identity.id))
    action = "contact_added"
    if row is None:
        row = PartnerContact(
            partner_id=partner.id, identity_id=identity.id, role=clean_role, added_at=utcnow()
        )
        session.add(row)
    elif row.role == clean_role:
        raise StateConflict(f"member {member_id} is already a contact of partner {partner.id}")
    else:
        row.role = clean_role
        action = "contact_role"
    session.flush()
    core.record(
        session,
        actor=actor,
        record_type=PARTNER_RECORD,
        record_id=partner.id,
        action=action,
        details={"member_id": member_id, "role": clean_role},
    )
    return row


def remove_contact(
    session: Session, ref: int | str, member: int | str, *, actor: str, reason: str | None = None
) -> None:
    """``member`` is no longer a contact of the partner."""
    partner = get_partner(session, ref)
    member_id = core.require_member(session, member, field="member")
    row = session.execute(
        select(PartnerContact)
        .join(Identity, Identity.id == PartnerContact.identity_id)
        .where(PartnerContact.partner_id == partner.id, Identity.member_id == member_id)
    ).scalar_one_or_none()
    if row is None:
        raise UsageError(
            f"member {member_id} is not a contact of partner {partner.id}",
            hint=f"See `commops partners show {partner.id}`.",
        )
    session.delete(row)
    session.flush()
    core.record(
        session,
        actor=actor,
        record_type=PARTNER_RECORD,
        record_id=partner.id,
        action="contact_removed",
        reason=reason,
        details={"member_id": member_id},
    )


def touch(
    session: Session,
    ref: int | str,
    *,
    kind: str,
    actor: str,
    on: date | None = None,
    note: str | None = None,
) -> Touch:
    """Log an interaction with the partner (meeting, e-mail, call, event) on a day."""
    partner = get_partner(session, ref)
    day = on or utcnow().date()
    if day > utcnow().date():
        raise UsageError(f"on: {day} is in the future: log a touch once it happened")
    row = Touch(
        partner_id=partner.id,
        kind=touch_kind(kind),
        on=day,
        note=_optional(note),
        actor=actor,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    core.record(
        session,
        actor=actor,
        record_type=PARTNER_RECORD,
        record_id=partner.id,
        action="touched",
        details={"touch_id": row.id, "kind": row.kind, "on": day.isoformat()},
    )
    return row


# -- collaborations ---------------------------------------------------------------------------


def _what(collab: Collaboration) -> str:
    return f"collaboration {collab.id}"


def _log(
    session: Session,
    collab: Collaboration,
    action: str,
    *,
    actor: str,
    at: datetime | None,
    from_state: str | None = None,
    to_state: str | None = None,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> None:
    collab.updated_at = at or utcnow()
    core.record(
        session,
        actor=actor,
        record_type=COLLAB_RECORD,
        record_id=collab.id,
        action=action,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        details={"partner_id": collab.partner_id, **(details or {})},
        at=at,
    )


def _dates(start: date | None, end: date | None) -> None:
    if start is not None and end is not None and end < start:
        raise UsageError(f"end: {end} is before the start {start}")


def add_collaboration(
    session: Session,
    partner: int | str,
    *,
    kind: str,
    title: str,
    actor: str,
    owner: int | str | None = None,
    start: date | None = None,
    end: date | None = None,
    at: datetime | None = None,
) -> Collaboration:
    """A collaboration with the partner, proposed; ``owner`` is the member who drives it."""
    found = get_partner(session, partner)
    clean_title = _text(title, "title", MAX_TITLE)
    clean_kind = collab_kind(kind)
    _dates(start, end)
    owner_identity = None
    if owner is not None:
        owner_identity = core.member_identity(
            session, core.require_member(session, owner, field="owner")
        ).id
    collab = Collaboration(
        partner_id=found.id,
        kind=clean_kind,
        title=clean_title,
        status="proposed",
        start_date=start,
        end_date=end,
        owner_identity_id=owner_identity,
        outcomes=[],
        links=[],
        created_at=at or utcnow(),
        updated_at=at or utcnow(),
    )
    session.add(collab)
    session.flush()
    _log(
        session,
        collab,
        "proposed",
        actor=actor,
        at=at,
        to_state="proposed",
        details={"title": clean_title, "kind": clean_kind},
    )
    return collab


def _move(
    session: Session,
    ref: int | str,
    target: str,
    *,
    action: str,
    actor: str,
    at: datetime | None,
    reason: str | None,
    only_from: tuple[str, ...] | None = None,
) -> Collaboration:
    """The state change every transition function makes: checked, applied, logged.
    ``only_from`` narrows the states this transition leaves from, where FLOW allows the same
    target from several (active: started from proposed, or resumed from paused)."""
    collab = get_collaboration(session, ref)
    if only_from is not None and collab.status not in only_from:
        raise UsageError(
            f"{_what(collab)} is {collab.status}: {action} is a move from {' or '.join(only_from)}",
            hint=f"From {collab.status}: "
            f"{', '.join(sorted(FLOW[collab.status])) or 'nothing (final)'}.",
        )
    core.check_transition(_what(collab), collab.status, target, FLOW)
    before = collab.status
    collab.status = target
    _log(
        session,
        collab,
        action,
        actor=actor,
        at=at,
        from_state=before,
        to_state=target,
        reason=reason,
    )
    return collab


def start_collaboration(
    session: Session,
    ref: int | str,
    *,
    actor: str,
    reason: str | None = None,
    at: datetime | None = None,
) -> Collaboration:
    """proposed → active; the start date is that day unless one was set."""
    collab = _move(
        session,
        ref,
        "active",
        action="started",
        actor=actor,
        at=at,
        reason=reason,
        only_from=("proposed",),
    )
    if collab.start_date is None:
        collab.start_date = (at or utcnow()).date()
    return collab


def pause_collaboration(
    session: Session,
    ref: int | str,
    *,
    actor: str,
    reason: str | None = None,
    at: datetime | None = None,
) -> Collaboration:
    """active → paused."""
    return _move(session, ref, "paused", action="paused", actor=actor, at=at, reason=reason)


def resume_collaboration(
    session: Session,
    ref: int | str,
    *,
    actor: str,
    reason: str | None = None,
    at: datetime | None = None,
) -> Collaboration:
    """paused → active."""
    return _move(
        session,
        ref,
        "active",
        action="resumed",
        actor=actor,
        at=at,
        reason=reason,
        only_from=("paused",),
    )


def complete_collaboration(
    session: Session,
    ref: int | str,
    *,
    actor: str,
    reason: str | None = None,
    at: datetime | None = None,
) -> Collaboration:
    """active → completed; the end date is that day unless one was set. The owner, if any, is
    credited with ``partner:collaborated`` (business development) on that day."""
    collab = _move(session, ref, "completed", action="completed", actor=actor, at=at, reason=reason)
    when = at or utcnow()
    if collab.end_date is None:
        collab.end_date = when.date()
    _dates(collab.start_date, collab.end_date)
    member_id = owner_id(session, collab)
    if member_id is not None:
        partner = session.get(Partner, collab.partner_id)
        core.emit(
            session,
            kind=COLLABORATED,
            member_id=member_id,
            key=f"collaboration:{collab.id}:completed",
            occurred_at=when,
            channel=partner.name if partner is not None else None,
            target=f"collaboration:{collab.id}",
            title=collab.title,
            contribution_type=CONTRIBUTION_TYPE,
            attributes={"partner_id": collab.partner_id, "kind": collab.kind},
        )
    return collab


def cancel_collaboration(
    session: Session,
    ref: int | str,
    *,
    actor: str,
    reason: str | None = None,
    at: datetime | None = None,
) -> Collaboration:
    """proposed, active or paused → cancelled."""
    collab = _move(session, ref, "cancelled", action="cancelled", actor=actor, at=at, reason=reason)
    if collab.end_date is None and collab.start_date is not None:
        collab.end_date = max((at or utcnow()).date(), collab.start_date)
    return collab


TRANSITIONS = {
    "start": start_collaboration,
    "pause": pause_collaboration,
    "resume": resume_collaboration,
    "complete": complete_collaboration,
    "cancel": cancel_collaboration,
}


def set_status(
    session: Session,
    ref: int | str,
    target: str,
    *,
    actor: str,
    reason: str | None = None,
    at: datetime | None = None,
) -> Collaboration:
    """Move to ``target`` through the one transition function that leads there from the
    current state (active is ``start`` from proposed, ``resume`` from paused)."""
    collab = get_collaboration(session, ref)
    core.check_transition(_what(collab), collab.status, target.strip().lower(), FLOW)
    verb = {
        "paused": "pause",
        "completed": "complete",
        "cancelled": "cancel",
        "active": "resume" if collab.status == "paused" else "start",
    }[target.strip().lower()]
    return TRANSITIONS[verb](session, collab.id, actor=actor, reason=reason, at=at)


def add_outcome(
    session: Session,
    ref: int | str,
    text: str,
    *,
    actor: str,
    on: date | None = None,
) -> Collaboration:
    """Append a dated outcome ("3 joint webinars, 420 attendees") to the collaboration."""
    collab = get_collaboration(session, ref)
    entry = {
        "on": (on or utcnow().date()).isoformat(),
        "text": _text(text, "outcome", 2000),
        "by": actor,
    }
    collab.outcomes = [*collab.outcomes, entry]
    _log(session, collab, "outcome", actor=actor, at=None, details={"outcome": entry})
    return collab


def add_link(
    session: Session,
    ref: int | str,
    *,
    actor: str,
    url: str | None = None,
    content: int | str | None = None,
    event: str | None = None,
) -> Collaboration:
    """Link the collaboration to a URL, a content item (which must exist) or an event (named
    by text or URL). Exactly one of them per call."""
    collab = get_collaboration(session, ref)
    given = [
        (t, v) for t, v in zip(LINK_TYPES, (url, content, event), strict=True) if v is not None
    ]
    if len(given) != 1:
        raise UsageError("link: give exactly one of url, content or event")
    link_type, value = given[0]
    stored: str | int
    if link_type == "url":
        stored = _url(str(value))
    elif link_type == "content":
        try:
            stored = get_item(session, value).id
        except UsageError as exc:
            raise UsageError(f"content: {exc.message}", hint=exc.hint) from None
    else:
        stored = _text(str(value), "event", 500)
    link = {"type": link_type, "value": stored}
    if link in collab.links:
        raise StateConflict(f"{_what(collab)} already links {link_type} {stored}")
    collab.links = [*collab.links, link]
    _log(session, collab, "linked", actor=actor, at=None, details={"link": link})
    return collab


def delete_collaboration(
    session: Session, ref: int | str, *, actor: str, reason: str | None = None
) -> Collaboration:
    collab = get_collaboration(session, ref, include_deleted=True)
    core.soft_delete(session, collab, COLLAB_RECORD, actor=actor, reason=reason)
    return collab


def restore_collaboration(
    session: Session, ref: int | str, *, actor: str, reason: str | None = None
) -> Collaboration:
    collab = get_collaboration(session, ref, include_deleted=True)
    core.restore(session, collab, COLLAB_RECORD, actor=actor, reason=reason)
    return collab


def partner_log(session: Session, ref: int | str) -> list[Any]:
    """The audit log of a partner and of its collaborations, oldest first."""
    partner = get_partner(session, ref, include_deleted=True)
    entries = list(core.history(session, PARTNER_RECORD, partner.id))
    for collab in collaborations(session, partner.id, include_deleted=True):
        entries.extend(core.history(session, COLLAB_RECORD, collab.id))
    return sorted(entries, key=lambda e: (e.at, e.id))
