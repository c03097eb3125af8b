"""The call for proposals: talks proposed by speakers (members), scored by reviewers, and
moved through pretalx's states, one domain function per transition:

``submit_proposal`` (submitted) → ``accept_proposal`` | ``reject_proposal``; accepted →
``confirm_proposal`` (the speakers will give it); ``withdraw_proposal`` from submitted or
accepted. ``review_proposal`` scores a submitted proposal (0–5, one review per reviewer, never
by one of its speakers). ``speaker_profile`` gathers a member's talks and the feedback on them
across events.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from commops.clock import utcnow
from commops.errors import StateConflict, UsageError
from commops.ops import core
from commops.ops.events.events import _title, get_event
from commops.ops.events.models import Event, EventProposal, EventProposalSpeaker, EventReview
from commops.ops.events.rules import (
    MAX_SCORE,
    MIN_SCORE,
    PROPOSAL_FLOW,
    RECORD_PROPOSAL,
    member_label,
    member_of,
)
from commops.store.models import Identity, Member


def get_proposal(session: Session, ref: int | str) -> EventProposal:
    """The proposal with id ``ref``."""
    text = str(ref).strip().removeprefix("#")
    proposal = session.get(EventProposal, int(text)) if text.isdigit() else None
    if proposal is None:
        raise UsageError(f"no proposal {str(ref)!r}", hint="See `commops events proposals EVENT`.")
    return proposal


def speaker_ids(session: Session, proposal_id: int) -> list[int]:
    """The proposal's speakers as members, first speaker first."""
    rows = session.execute(
        select(EventProposalSpeaker.identity_id)
        .where(EventProposalSpeaker.proposal_id == proposal_id)
        .order_by(EventProposalSpeaker.position)
    ).scalars()
    out: list[int] = []
    for ident in rows:
        mid = member_of(session, ident)
        if mid not in out:
            out.append(mid)
    return out


def list_proposals(session: Session, event_id: int) -> list[EventProposal]:
    """An event's proposals, oldest first."""
    return list(
        session.execute(
            select(EventProposal)
            .where(EventProposal.event_id == event_id)
            .order_by(EventProposal.id)
        ).scalars()
    )


def reviews_of(session: Session, proposal_id: int) -> list[EventReview]:
    """The reviews of a proposal, oldest first."""
    return list(
        session.execute(
            select(EventReview)
            .where(EventReview.proposal_id == proposal_id)
            .order_by(EventReview.id)
        ).scalars()
    )


def mean_score(session: Session, proposal_id: int) -> float | None:
    """The mean review score, or None before any review."""
    scores = [r.score for r in reviews_of(session, proposal_id)]
    return round(sum(scores) / len(scores), 2) if scores else None


def submit_proposal(
    session: Session,
    event_ref: int | str,
    *,
    title: str,
    speakers: Sequence[int | str],
    actor: str,
    abstract: str | None = None,
) -> EventProposal:
    """A talk proposed for an event that has not taken place, by one or more speakers."""
    event = get_event(session, event_ref)
    if event.state != "planned":
        raise StateConflict(
            f"event {event.slug} is {event.state}: its call for proposals is closed"
        )
    clean = _title(title)
    if not speakers:
        raise UsageError("speaker: a proposal has at least one speaker", hint="Give --speaker.")
    ids: list[int] = []
    for ref in speakers:
        mid = core.require_member(session, ref, field="speaker")
        if mid not in ids:
            ids.append(mid)
    now = utcnow()
    proposal = EventProposal(
        event_id=event.id,
        title=clean,
        abstract=(abstract or "").strip() or None,
        state="submitted",
        created_at=now,
        updated_at=now,
    )
    session.add(proposal)
    session.flush()
    for position, mid in enumerate(ids):
        session.add(
            EventProposalSpeaker(
                proposal_id=proposal.id,
                identity_id=core.member_identity(session, mid).id,
                position=position,
            )
        )
    session.flush()
    core.record(
        session,
        actor=actor,
        record_type=RECORD_PROPOSAL,
        record_id=proposal.id,
        action="submitted",
        to_state="submitted",
        details={"event": event.slug, "title": clean, "speakers": ids},
    )
    return proposal


def _move(
    session: Session,
    proposal: EventProposal,
    target: str,
    *,
    actor: str,
    reason: str | None,
) -> EventProposal:
    core.check_transition(f"proposal {proposal.id}", proposal.state, target, PROPOSAL_FLOW)
    before = proposal.state
    proposal.state = target
    proposal.updated_at = utcnow()
    core.record(
        session,
        actor=actor,
        record_type=RECORD_PROPOSAL,
        record_id=proposal.id,
        action=target,
        from_state=before,
        to_state=target,
        reason=reason,
    )
    return proposal


def _event_open(session: Session, proposal: EventProposal) -> Event:
    event = session.get(Event, proposal.event_id)
    assert event is not None
    if event.state == "cancelled":
        raise UsageError(f"proposal {proposal.id}: event {event.slug} is cancelled")
    return event


def accept_proposal(
    session: Session, ref: int | str, *, actor: str, reason: str | None = None
) -> EventProposal:
    """submitted → accepted: the programme committee wants the talk."""
    proposal = get_proposal(session, ref)
    _event_open(session, proposal)
    return _move(session, proposal, "accepted", actor=actor, reason=reason)


def reject_proposal(
    session: Session, ref: int | str, *, actor: str, reason: str | None = None
) -> EventProposal:
    """submitted → rejected (final)."""
    proposal = get_proposal(session, ref)
    return _move(session, proposal, "rejected", actor=actor, reason=reason)


def confirm_proposal(
    session: Session, ref: int | str, *, actor: str, reason: str | None = None
) -> EventProposal:
    """accepted → confirmed: the speakers will give the talk. If the event is already held,
    its speakers are credited now."""
    from commops.ops.events.events import credit_event

    proposal = get_proposal(session, ref)
    event = _event_open(session, proposal)
    _move(session, proposal, "confirmed", actor=actor, reason=reason)
    if event.state == "held":
        credit_event(session, event)
    return proposal


def withdraw_proposal(
    session: Session, ref: int | str, *, actor: str, reason: str | None = None
) -> EventProposal:
    """submitted or accepted → withdrawn: the speakers take the talk back."""
    proposal = get_proposal(session, ref)
    return _move(session, proposal, "withdrawn", actor=actor, reason=reason)


def review_proposal(
    session: Session,
    ref: int | str,
    *,
    reviewer: int | str,
    score: int,
    actor: str,
    comment: str | None = None,
) -> EventReview:
    """A reviewer's score (0–5) on a submitted proposal: one per reviewer, and never by one
    of the proposal's speakers."""
    proposal = get_proposal(session, ref)
    if proposal.state != "submitted":
        raise UsageError(
            f"proposal {proposal.id} is {proposal.state}: only a submitted proposal is reviewed"
        )
    if not MIN_SCORE <= score <= MAX_SCORE:
        raise UsageError(f"score: {score} is not between {MIN_SCORE} and {MAX_SCORE}")
    mid = core.require_member(session, reviewer, field="reviewer")
    if mid in speaker_ids(session, proposal.id):
        raise UsageError(
            f"reviewer: {member_label(session, mid)} is a speaker of proposal {proposal.id}: "
            "speakers cannot review their own proposal"
        )
    ident = core.member_identity(session, mid)
    for existing in reviews_of(session, proposal.id):
        if member_of(session, existing.reviewer_identity_id) == mid:
            raise UsageError(
                f"reviewer: {member_label(session, mid)} has already reviewed proposal "
                f"{proposal.id} (score {existing.score})",
                hint="One review per reviewer and proposal.",
            )
    review = EventReview(
        proposal_id=proposal.id,
        reviewer_identity_id=ident.id,
        score=score,
        comment=(comment or "").strip() or None,
        at=utcnow(),
        actor=actor,
    )
    session.add(review)
    session.flush()
    core.record(
        session,
        actor=actor,
        record_type=RECORD_PROPOSAL,
        record_id=proposal.id,
        action="reviewed",
        details={"reviewer": mid, "score": score},
    )
    return review


@dataclass
class SpeakerTalk:
    """One proposal of a speaker, with the event and the reviews it got."""

    proposal_id: int
    event: str
    event_title: str
    starts_at: str
    title: str
    state: str
    mean_score: float | None
    reviews: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class SpeakerProfile:
    """A member's proposals across events: ``past_talks`` are the confirmed ones."""

    member_id: int
    name: str
    past_talks: list[SpeakerTalk]
    proposals: list[SpeakerTalk]


def speaker_profile(session: Session, member: int | str) -> SpeakerProfile:
    """Every proposal the member speaks in (all their identities), newest event first, with
    the scores and comments reviewers gave."""
    mid = core.require_member(session, member, field="member")
    idents = select(Identity.id).where(Identity.member_id == mid)
    rows = session.execute(
        select(EventProposal, Event)
        .join(EventProposalSpeaker, EventProposalSpeaker.proposal_id == EventProposal.id)
        .join(Event, Event.id == EventProposal.event_id)
        .where(EventProposalSpeaker.identity_id.in_(idents), Event.deleted_at.is_(None))
        .order_by(Event.starts_at.desc(), EventProposal.id)
    ).all()
    talks: list[SpeakerTalk] = []
    seen: set[int] = set()
    for proposal, event in rows:
        if proposal.id in seen:
            continue
        seen.add(proposal.id)
        reviews = [
            {
                "reviewer": member_label(session, member_of(session, r.reviewer_identity_id)),
                "score": r.score,
                "comment": r.comment,
            }
            for r in reviews_of(session, proposal.id)
        ]
        talks.append(
            SpeakerTalk(
                proposal_id=proposal.id,
                event=event.slug,
                event_title=event.title,
                starts_at=event.starts_at.isoformat(),
                title=proposal.title,
                state=proposal.state,
                mean_score=mean_score(session, proposal.id),
                reviews=reviews,
            )
        )
    person = session.get(Member, mid)
    return SpeakerProfile(
        member_id=mid,
        name=person.display_name if person is not None else "?",
        past_talks=[t for t in talks if t.state == "confirmed"],
        proposals=talks,
    )
