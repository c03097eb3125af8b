"""The desk's state changes: one domain function per transition.

::

    open ──assign──► assigned ──assign (another member)──► assigned
      ▲                │  │
      └──unassign──────┘  ├──(an answer arrives: detect_answers)──► answered (final)
    open ──(an answer arrives)──► answered
    open | assigned ──drop──► dropped ──reopen──► open

A question has no desk row until someone acts on it; it is then ``open``. Every function checks
the move (``core.check_transition``), changes the row and writes the audit log
(``core.record``, record type ``qna``, the row's id) in the caller's session. None emits an
activity: assigning is desk work, not a contribution, and the answer that closes a question is
already an activity of its source (emitting it again would count it twice).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from commops.clock import utcnow
from commops.errors import StateConflict, UsageError
from commops.ops import core
from commops.ops.qna.desk import assignee_of
from commops.ops.qna.models import QnaAssignment
from commops.ops.qna.questions import Question, find_question, load_questions
from commops.store.models import Member, OpsLog

RECORD_TYPE = "qna"
STATES: dict[str, tuple[str, ...]] = {
    "open": ("assigned", "answered", "dropped"),
    "assigned": ("assigned", "open", "answered", "dropped"),
    "answered": (),
    "dropped": ("open",),
}


def _what(q: Question) -> str:
    return f"question {q.ref}"


def _current(session: Session, q: Question) -> QnaAssignment | None:
    return session.execute(
        select(QnaAssignment).where(QnaAssignment.question_uid == q.uid)
    ).scalar_one_or_none()


def _state(row: QnaAssignment | None) -> str:
    return row.state if row is not None else "open"


def _row(session: Session, q: Question, now: datetime) -> QnaAssignment:
    """The question's desk row, made (``open``) once a move from there has been checked."""
    row = _current(session, q)
    if row is None:
        row = QnaAssignment(
            question_uid=q.uid,
            source_name=q.source,
            channel=q.channel,
            target=q.target,
            title=q.title,
            state="open",
            created_at=now,
            updated_at=now,
        )
        session.add(row)
        session.flush()
    return row


def _refuse_if_answered(q: Question) -> None:
    first = q.first_answer
    if first is not None:
        raise StateConflict(
            f"{_what(q)} was answered by {first.person.name} on {first.at:%Y-%m-%d %H:%M}",
            hint="It needs nobody to answer it; see `commops qna log`.",
        )


def _question(session: Session, question: str | Question, labels: Iterable[str] | None) -> Question:
    """The question a transition is about, found by its reference unless given."""
    if isinstance(question, Question):
        return question
    return find_question(session, question, labels=labels)


def _details(q: Question, **extra: object) -> dict[str, object]:
    return {"question": q.ref, "uid": q.uid, "source": q.source, "title": q.title, **extra}


def assign(
    session: Session,
    question: str | Question,
    member: int | str,
    *,
    actor: str,
    reason: str | None = None,
    labels: Iterable[str] | None = None,
    now: datetime | None = None,
) -> QnaAssignment:
    """Ask ``member`` to answer ``question`` (open -> assigned, or assigned -> assigned to
    someone else). Refused for a question already answered, for a bot, and for the asker."""
    now = now or utcnow()
    q = _question(session, question, labels)
    member_id = core.require_member(session, member, field="assignee")
    person = session.get(Member, member_id)
    assert person is not None
    if person.is_bot:
        raise UsageError(f"assignee: {person.display_name} is a bot", hint="Assign a person.")
    if member_id == q.asker.member_id:
        raise UsageError(
            f"assignee: {person.display_name} asked {_what(q)}",
            hint="Assign someone who can answer it.",
        )
    current = _current(session, q)
    if _state(current) != "answered":
        _refuse_if_answered(q)
    core.check_transition(_what(q), _state(current), "assigned", STATES)
    previous_id, previous = assignee_of(session, current)
    if _state(current) == "assigned" and previous_id == member_id:
        raise StateConflict(f"{_what(q)} is already assigned to {person.display_name}")
    row = _row(session, q, now)
    from_state = row.state
    row.assignee_identity_id = core.member_identity(session, member_id).id
    row.state = "assigned"
    row.assigned_at = now
    row.updated_at = now
    details = _details(q, assignee_id=member_id, assignee=person.display_name)
    if from_state == "assigned":
        details.update(previous_assignee_id=previous_id, previous_assignee=previous)
    core.record(
        session,
        actor=actor,
        record_type=RECORD_TYPE,
        record_id=row.id,
        action="reassigned" if from_state == "assigned" else "assigned",
        from_state=from_state,
        to_state="assigned",
        reason=reason,
        details=details,
        at=now,
    )
    return row


def unassign(
    session: Session,
    question: str | Question,
    *,
    actor: str,
    reason: str | None = None,
    labels: Iterable[str] | None = None,
    now: datetime | None = None,
) -> QnaAssignment:
    """Take the question back from its assignee (assigned -> open)."""
    now = now or utcnow()
    q = _question(session, question, labels)
    current = _current(session, q)
    if _state(current) != "assigned":
        raise StateConflict(f"{_what(q)} is {_state(current)}: it is not assigned to anyone")
    core.check_transition(_what(q), _state(current), "open", STATES)
    row = _row(session, q, now)
    previous_id, previous = assignee_of(session, row)
    row.assignee_identity_id = None
    row.assigned_at = None
    row.state = "open"
    row.updated_at = now
    core.record(
        session,
        actor=actor,
        record_type=RECORD_TYPE,
        record_id=row.id,
        action="unassigned",
        from_state="assigned",
        to_state="open",
        reason=reason,
        details=_details(q, previous_assignee_id=previous_id, previous_assignee=previous),
        at=now,
    )
    return row


def drop(
    session: Session,
    question: str | Question,
    *,
    actor: str,
    reason: str | None = None,
    labels: Iterable[str] | None = None,
    now: datetime | None = None,
) -> QnaAssignment:
    """Take a question off the queue: it needs no answer (spam, a duplicate, answered
    elsewhere). open | assigned -> dropped."""
    now = now or utcnow()
    q = _question(session, question, labels)
    core.check_transition(_what(q), _state(_current(session, q)), "dropped", STATES)
    row = _row(session, q, now)
    from_state = row.state
    row.state = "dropped"
    row.updated_at = now
    core.record(
        session,
        actor=actor,
        record_type=RECORD_TYPE,
        record_id=row.id,
        action="dropped",
        from_state=from_state,
        to_state="dropped",
        reason=reason,
        details=_details(q),
        at=now,
    )
    return row


def reopen(
    session: Session,
    question: str | Question,
    *,
    actor: str,
    reason: str | None = None,
    labels: Iterable[str] | None = None,
    now: datetime | None = None,
) -> QnaAssignment:
    """Put a dropped question back on the queue (dropped -> open)."""
    now = now or utcnow()
    q = _question(session, question, labels)
    current = _current(session, q)
    if _state(current) != "dropped":
        raise StateConflict(f"{_what(q)} is {_state(current)}: only a dropped question is reopened")
    core.check_transition(_what(q), _state(current), "open", STATES)
    row = _row(session, q, now)
    row.state = "open"
    row.assignee_identity_id = None
    row.assigned_at = None
    row.updated_at = now
    core.record(
        session,
        actor=actor,
        record_type=RECORD_TYPE,
        record_id=row.id,
        action="reopened",
        from_state="dropped",
        to_state="open",
        reason=reason,
        details=_details(q),
        at=now,
    )
    return row


def mark_answered(
    session: Session,
    row: QnaAssignment,
    question: Question,
    *,
    actor: str,
    now: datetime | None = None,
) -> QnaAssignment:
    """Record that the question got its first answer (open | assigned -> answered), who gave
    it and whether that was the assignee."""
    now = now or utcnow()
    first = question.first_answer
    if first is None:
        raise UsageError(f"{_what(question)} has no answer yet")
    core.check_transition(_what(question), row.state, "answered", STATES)
    assignee_id, assignee = assignee_of(session, row)
    from_state = row.state
    row.state = "answered"
    row.answered_at = first.at
    row.answer_uid = first.uid
    row.answerer_identity_id = first.identity_id
    row.updated_at = now
    core.record(
        session,
        actor=actor,
        record_type=RECORD_TYPE,
        record_id=row.id,
        action="answered",
        from_state=from_state,
        to_state="answered",
        details=_details(
            question,
            detected=True,
            answer_uid=first.uid,
            answered_at=first.at.isoformat(),
            answerer_id=first.person.member_id,
            answerer=first.person.name,
            answerer_staff=first.person.is_staff,
            assignee_id=assignee_id,
            assignee=assignee,
            by_assignee=assignee_id is not None and assignee_id == first.person.member_id,
        ),
        at=now,
    )
    return row


def detect_answers(
    session: Session,
    *,
    actor: str,
    labels: Iterable[str] | None = None,
    now: datetime | None = None,
) -> list[QnaAssignment]:
    """Move every open or assigned desk question that has been answered since to
    ``answered``. Run before the desk is shown (every ``commops qna`` command does) and after a
    sync; cheap when the desk is empty."""
    rows = list(
        session.execute(
            select(QnaAssignment)
            .where(QnaAssignment.state.in_(("open", "assigned")))
            .order_by(QnaAssignment.id)
        ).scalars()
    )
    if not rows:
        return []
    found = {
        q.uid: q
        for q in load_questions(session, labels=labels, uids=[r.question_uid for r in rows])
    }
    changed = []
    for row in rows:
        q = found.get(row.question_uid)
        if q is not None and q.first_answer is not None:
            changed.append(mark_answered(session, row, q, actor=actor, now=now))
    return changed


def desk_log(
    session: Session,
    question: str | None = None,
    *,
    labels: Iterable[str] | None = None,
    limit: int = 50,
) -> list[OpsLog]:
    """The desk's audit log, newest first (of one question when named)."""
    stmt = select(OpsLog).where(OpsLog.record_type == RECORD_TYPE)
    if question is not None:
        q = find_question(session, question, labels=labels)
        row = session.execute(
            select(QnaAssignment).where(QnaAssignment.question_uid == q.uid)
        ).scalar_one_or_none()
        if row is None:
            return []
        stmt = stmt.where(OpsLog.record_id == row.id)
    return list(session.execute(stmt.order_by(OpsLog.id.desc()).limit(limit)).scalars())
