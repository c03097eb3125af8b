"""The Q&A desk pages: the queue of unanswered questions with suggested answerers, and a
question with its thread, its place on the desk and the desk's moves (assign, unassign, drop,
reopen).

Viewers and up read; operators and admins change the desk, through ``commops.ops.qna`` with
``actor=c.actor`` (the API, ``commops.web.api.qna``, calls the same functions). Questions are
named in URLs by their activity uid. Reviewers have no part here. Reading never writes: the
queue leaves out answered questions by itself, so the desk's ``detect_answers`` (which records
them as answered) is left to the CLI and syncs.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Path, Query
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from commops.clock import utcnow
from commops.errors import NotFoundError, UsageError
from commops.ops import qna
from commops.ops.qna.desk import assignee_of, desk_rows
from commops.store.models import Activity
from commops.web.deps import Ctx, register_nav, require
from commops.web.permissions import can_operate, can_view

router = APIRouter(include_in_schema=False)
register_nav("/qna", "Q&A", can_view, "qna")

Uid = Annotated[str, Path(pattern=r"^[0-9a-f]{8,40}$", description="The question's activity uid")]
PAGE_SIZE = 50
MAX_HOURS = 100_000.0
EARLIEST, LATEST = date(1970, 1, 1), date(2200, 12, 31)


def page(c: Ctx, template: str, **context: Any) -> Response:
    return c.render(template, may_operate=c.allows(can_operate), **context)


def question_or_404(session: Session, uid: str, labels: list[str]) -> qna.Question:
    """The question with this activity uid (or uid prefix); 404 when no activity has it."""
    found = session.execute(
        select(Activity.uid).where(Activity.uid.like(f"{uid}%")).limit(1)
    ).scalar_one_or_none()
    if found is None:
        raise NotFoundError(f"no question with uid {uid}")
    return qna.find_question(session, uid, labels=labels)


def desk_queue(
    c: Ctx,
    session: Session,
    *,
    channels: list[str],
    older_than: float | None,
    state: str | None,
) -> list[qna.QueueItem]:
    """The queue as the page and the API show it (``state``: open or assigned only)."""
    hours = c.ws.config.qna_unanswered_hours if older_than is None else older_than
    items = qna.queue(
        session,
        older_than_hours=hours,
        channels=channels or None,
        labels=c.ws.config.qna_question_labels,
    )
    return [i for i in items if state is None or i.state == state]


def question_view(c: Ctx, session: Session, q: qna.Question) -> dict[str, Any]:
    """A question, its thread in numbers, its place on the desk, who could answer it and the
    desk's log of it."""
    row = desk_rows(session, [q.uid]).get(q.uid)
    assignee_id, assignee = assignee_of(session, row)
    first = q.first_answer
    state = row.state if row is not None else ("answered" if first is not None else "open")
    log = qna.desk_log(session, q.uid, labels=c.ws.config.qna_question_labels, limit=200)
    return {
        "uid": q.uid,
        "ref": q.ref,
        "kind": q.kind,
        "source": q.source,
        "channel": q.channel,
        "target": q.target,
        "title": q.title,
        "link": q.link,
        "asker_id": q.asker.member_id,
        "asker": q.asker.name,
        "asker_staff": q.asker.is_staff,
        "asked_at": q.asked_at,
        "age_hours": round((utcnow() - q.asked_at).total_seconds() / 3600, 1),
        "tags": list(q.tags),
        "closed": q.closed,
        "accepted": q.has_accepted,
        "replies": len(q.replies),
        "first_answer_at": first.at if first is not None else None,
        "first_answer_by": first.person.name if first is not None else None,
        "state": state,
        "assignee_id": assignee_id if state == "assigned" else None,
        "assignee": assignee if state == "assigned" else None,
        "suggested": [
            asdict(s)
            for s in qna.suggest_answerers(session, q, labels=c.ws.config.qna_question_labels)
        ],
        "log": [
            {
                "at": e.at,
                "actor": e.actor,
                "action": e.action,
                "from_state": e.from_state,
                "to_state": e.to_state,
                "reason": e.reason,
            }
            for e in log
        ],
    }


@router.get("/qna")
def queue_page(
    c: Annotated[Ctx, Depends(require(can_view))],
    channel: Annotated[str | None, Query(max_length=300)] = None,
    older_than: Annotated[float | None, Query(ge=0, le=MAX_HOURS)] = None,
    state: Literal["open", "assigned", ""] = "",
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Response:
    with c.session() as session:
        items = desk_queue(
            c,
            session,
            channels=[channel] if channel else [],
            older_than=older_than,
            state=state or None,
        )
    query = urlencode(
        [
            (k, str(v))
            for k, v in (("channel", channel), ("older_than", older_than), ("state", state))
            if v not in (None, "")
        ]
    )
    return page(
        c,
        "qna/queue.html.j2",
        items=items[offset : offset + PAGE_SIZE],
        pager={"total": len(items), "limit": PAGE_SIZE, "offset": offset},
        base_url="/qna" + (f"?{query}" if query else ""),
        hours=c.ws.config.qna_unanswered_hours if older_than is None else older_than,
        filters={"channel": channel or "", "older_than": older_than, "state": state},
    )


def desk_stats(c: Ctx, session: Session, since: date | None, until: date | None) -> qna.Stats:
    """Community share, time to first answer, thanks and answerers for the questions asked
    in the range (``commops qna stats``); staff askers left out, as there."""
    for name, value in (("since", since), ("until", until)):
        if value is not None and not EARLIEST <= value <= LATEST:
            raise UsageError(f"{name}: {value} is outside {EARLIEST} to {LATEST}")
    return qna.stats(session, since=since, until=until, labels=c.ws.config.qna_question_labels)


@router.get("/qna/stats")
def stats_page(
    c: Annotated[Ctx, Depends(require(can_view))],
    since: date | None = None,
    until: date | None = None,
) -> Response:
    with c.session() as session:
        found = desk_stats(c, session, since, until)
    return page(
        c,
        "qna/stats.html.j2",
        stats=found,
        answerers=found.answerers[:50],
        filters={"since": since or "", "until": until or ""},
    )


@router.get("/qna/questions/{uid}")
def question_page(c: Annotated[Ctx, Depends(require(can_view))], uid: Uid) -> Response:
    with c.session() as session:
        q = question_or_404(session, uid, c.ws.config.qna_question_labels)
        data = question_view(c, session, q)
    return page(c, "qna/question.html.j2", q=data)


def _done(c: Ctx, uid: str) -> Response:
    return c.redirect(f"/qna/questions/{uid}", c.gettext("The desk was updated."))


@router.post("/qna/questions/{uid}/assign")
def assign_form(
    c: Annotated[Ctx, Depends(require(can_operate))],
    uid: Uid,
    member: Annotated[str, Form(min_length=1, max_length=200)],
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    labels = c.ws.config.qna_question_labels
    with c.session() as session:
        q = question_or_404(session, uid, labels)
        qna.assign(session, q, member.strip(), actor=c.actor, reason=reason or None, labels=labels)
    return _done(c, uid)


@router.post("/qna/questions/{uid}/unassign")
def unassign_form(
    c: Annotated[Ctx, Depends(require(can_operate))],
    uid: Uid,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    labels = c.ws.config.qna_question_labels
    with c.session() as session:
        q = question_or_404(session, uid, labels)
        qna.unassign(session, q, actor=c.actor, reason=reason or None, labels=labels)
    return _done(c, uid)


@router.post("/qna/questions/{uid}/drop")
def drop_form(
    c: Annotated[Ctx, Depends(require(can_operate))],
    uid: Uid,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    labels = c.ws.config.qna_question_labels
    with c.session() as session:
        q = question_or_404(session, uid, labels)
        qna.drop(session, q, actor=c.actor, reason=reason or None, labels=labels)
    return _done(c, uid)


@router.post("/qna/questions/{uid}/reopen")
def reopen_form(
    c: Annotated[Ctx, Depends(require(can_operate))],
    uid: Uid,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    labels = c.ws.config.qna_question_labels
    with c.session() as session:
        q = question_or_404(session, uid, labels)
        qna.reopen(session, q, actor=c.actor, reason=reason or None, labels=labels)
    return _done(c, uid)
