"""What every operations workflow shares: state machines, the audit log, and the activities
the workflows emit.

Each workflow (feedback, content, Q&A, ...) changes a record's state only through one domain
function per transition. That function calls ``check_transition`` (is the move allowed from
here?), changes the record, calls ``record`` (the ``ops_log`` entry: who, when, from, to, why)
and, when the change is something a person did for the community, ``emit`` (an activity in the
stream, so metrics, ladders and reports see it). All in the caller's transaction: an error
anywhere leaves nothing half-written.

Emitted activities belong to the workspace's ``commops`` source (kind ``ops``, created on first
use; ``commops sync`` leaves it alone) and are acted by the member's ``commops`` identity
(platform ``commops``, ``member:<id>``), created on first use and never offered to the identity
resolver. Their uid is derived from a key the workflow chooses, so emitting twice for the same
event stores one activity.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from commops.clock import utcnow
from commops.connectors.base import activity_uid
from commops.errors import StateConflict, UsageError
from commops.identity.audit import find_member
from commops.store.models import Activity, Identity, Member, OpsLog, Source

OPS_SOURCE = "commops"
OPS_KIND = "ops"
OPS_PLATFORM = "commops"


def ops_source(session: Session) -> Source:
    """The source the workflows' activities belong to (created on first use)."""
    source = session.execute(select(Source).where(Source.name == OPS_SOURCE)).scalar_one_or_none()
    if source is None:
        source = Source(
            name=OPS_SOURCE,
            kind=OPS_KIND,
            location="commops://ops",
            options={},
            created_at=utcnow(),
        )
        session.add(source)
        session.flush()
    elif source.kind != OPS_KIND:
        raise UsageError(
            f"the source named {OPS_SOURCE!r} is a {source.kind!r} source, not the one the "
            "operations workflows record into",
            hint=f"Rename or remove that source (`commops remove {OPS_SOURCE}`) to use them.",
        )
    return source


def member_identity(session: Session, member_id: int) -> Identity:
    """The member's ``commops`` identity, which the workflows' activities are acted by."""
    member = session.get(Member, member_id)
    if member is None:
        raise UsageError(f"no member {member_id}", hint="See `commops members list`.")
    value = f"member:{member_id}"
    ident = session.execute(
        select(Identity).where(
            Identity.platform == OPS_PLATFORM,
            Identity.kind == "username",
            Identity.value == value,
        )
    ).scalar_one_or_none()
    if ident is None:
        now = utcnow()
        ident = Identity(
            platform=OPS_PLATFORM,
            kind="username",
            value=value,
            name=member.display_name,
            verified=True,
            member_id=member_id,
            created_at=now,
            resolved_at=now,  # nothing to resolve: it was made for this member
        )
        session.add(ident)
        session.flush()
    return ident


def require_member(session: Session, ref: int | str, *, field: str = "member") -> int:
    """A member named by id, e-mail, login, ``platform:login`` or exact display name, or a
    UsageError that names the field."""
    try:
        return find_member(session, str(ref))
    except UsageError as exc:
        raise UsageError(f"{field}: {exc.message}", hint=exc.hint) from None


def check_transition(
    what: str, current: str, target: str, allowed: Mapping[str, Collection[str]]
) -> None:
    """Refuse a move the state machine ``allowed`` (state -> states it may go to) does not
    have, naming the record (``what``, e.g. "content 12") and the moves that are possible."""
    if target not in allowed:
        raise UsageError(f"{what}: unknown state {target!r}", hint=f"States: {', '.join(allowed)}")
    if target not in allowed.get(current, ()):
        nexts = sorted(allowed.get(current, ()))
        raise StateConflict(
            f"{what} is {current}: it cannot become {target}",
            hint=f"From {current}: {', '.join(nexts)}." if nexts else f"{current} is final.",
        )


def record(
    session: Session,
    *,
    actor: str,
    record_type: str,
    record_id: int,
    action: str,
    from_state: str | None = None,
    to_state: str | None = None,
    reason: str | None = None,
    details: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> OpsLog:
    """One audit log entry (in the caller's transaction)."""
    entry = OpsLog(
        at=at or utcnow(),
        actor=actor,
        record_type=record_type,
        record_id=record_id,
        action=action,
        from_state=from_state,
        to_state=to_state,
        reason=reason,
        details=dict(details or {}),
    )
    session.add(entry)
    session.flush()
    return entry


def history(session: Session, record_type: str, record_id: int) -> list[OpsLog]:
    """A record's audit log, oldest first."""
    return list(
        session.execute(
            select(OpsLog)
            .where(OpsLog.record_type == record_type, OpsLog.record_id == record_id)
            .order_by(OpsLog.id)
        ).scalars()
    )


class SoftDeletable(Protocol):
    id: int
    deleted_at: datetime | None


def soft_delete(
    session: Session, row: SoftDeletable, record_type: str, *, actor: str, reason: str | None
) -> None:
    """Hide a record (recoverable with ``restore``), audited."""
    if row.deleted_at is not None:
        raise StateConflict(f"{record_type} {row.id} is already deleted", hint="Restore it first.")
    row.deleted_at = utcnow()
    record(
        session,
        actor=actor,
        record_type=record_type,
        record_id=row.id,
        action="deleted",
        reason=reason,
    )


def restore(
    session: Session, row: SoftDeletable, record_type: str, *, actor: str, reason: str | None
) -> None:
    """Bring back a soft-deleted record, audited."""
    if row.deleted_at is None:
        raise UsageError(f"{record_type} {row.id} is not deleted")
    row.deleted_at = None
    record(
        session,
        actor=actor,
        record_type=record_type,
        record_id=row.id,
        action="restored",
        reason=reason,
    )


def emit(
    session: Session,
    *,
    kind: str,
    member_id: int,
    key: str,
    occurred_at: datetime,
    channel: str | None = None,
    target: str | None = None,
    parent: str | None = None,
    title: str | None = None,
    contribution_type: str | None = None,
    object_member_id: int | None = None,
    attributes: Mapping[str, Any] | None = None,
) -> Activity:
    """The activity ``kind`` (namespaced, e.g. ``content:reviewed``) acted by ``member_id``;
    ``key`` names the event within the workflow (e.g. ``content:12:review:3``) so emitting it
    again returns the stored one instead of a duplicate."""
    if ":" not in kind:
        raise UsageError(f"activity kind {kind!r}: use a namespaced verb such as content:reviewed")
    source = ops_source(session)
    uid = activity_uid(source.name, kind, key)
    found = session.execute(select(Activity).where(Activity.uid == uid)).scalar_one_or_none()
    if found is not None:
        return found
    activity = Activity(
        uid=uid,
        source_id=source.id,
        item_key=key,
        kind=kind,
        occurred_at=occurred_at,
        actor_identity_id=member_identity(session, member_id).id,
        object_identity_id=(
            member_identity(session, object_member_id).id if object_member_id is not None else None
        ),
        channel=channel,
        target=target,
        parent=parent,
        title=title,
        contribution_type=contribution_type,
        attributes=dict(attributes or {}),
    )
    session.add(activity)
    session.flush()
    return activity
