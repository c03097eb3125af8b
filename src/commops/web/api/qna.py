"""``/api/v1/qna``: the Q&A desk: the queue of unanswered questions with suggested answerers,
one question, and the desk's moves.

The same reads and domain functions as the pages (``commops.web.views.qna``): viewers and up
read, operators and admins change the desk. Questions are named by their activity uid.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field, StringConstraints

from commops.ops import qna
from commops.web.api.common import API, Page, Paging, page_of, paging
from commops.web.deps import Ctx, require
from commops.web.permissions import can_operate, can_view
from commops.web.views.qna import (
    MAX_HOURS,
    Uid,
    desk_queue,
    desk_stats,
    question_or_404,
    question_view,
)

router = APIRouter(prefix=API, tags=["qna"])

Reason = Annotated[str, StringConstraints(max_length=2000)]


class SuggestionOut(BaseModel):
    """A member who could answer, with the evidence: answers in the question's channel and on
    its tags (accepted ones count double), weighted by how recent they are."""

    member_id: int
    name: str
    is_staff: bool
    score: float
    answers_in_channel: int
    accepted_in_channel: int
    answers_on_tags: int
    accepted_on_tags: int
    shared_tags: list[str]
    last_answer_at: datetime
    reason: str


class QueueItemOut(BaseModel):
    """An unanswered question on the desk."""

    ref: str
    uid: str
    kind: str
    source: str
    channel: str | None
    target: str | None
    title: str | None
    link: str | None
    asker_id: int
    asker: str
    asker_staff: bool
    asked_at: datetime
    age_hours: float
    tags: list[str]
    state: Literal["open", "assigned"]
    assignee_id: int | None
    assignee: str | None
    assigned_at: datetime | None
    asker_replies: int
    suggested: list[SuggestionOut]


class DeskLogOut(BaseModel):
    at: datetime
    actor: str
    action: str
    from_state: str | None
    to_state: str | None
    reason: str | None


class QuestionOut(BaseModel):
    """A question, its thread in numbers, its place on the desk (``open``, ``assigned``,
    ``answered`` or ``dropped``), who could answer it and the desk's log of it."""

    uid: str
    ref: str
    kind: str
    source: str
    channel: str | None
    target: str | None
    title: str | None
    link: str | None
    asker_id: int
    asker: str
    asker_staff: bool
    asked_at: datetime
    age_hours: float
    tags: list[str]
    closed: bool
    accepted: bool
    replies: int
    first_answer_at: datetime | None
    first_answer_by: str | None
    state: Literal["open", "assigned", "answered", "dropped"]
    assignee_id: int | None
    assignee: str | None
    suggested: list[SuggestionOut]
    log: list[DeskLogOut]


class AssignBody(BaseModel):
    member: (
        Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"\S")]
        | Annotated[int, Field(ge=1, le=2_147_483_647)]
    )
    reason: Reason | None = None


class ReasonBody(BaseModel):
    reason: Reason | None = None


class SupportRowOut(BaseModel):
    """The questions of one kind (or ``all``): how many were answered, by whom, how fast."""

    scope: Literal["all", "discussion", "forum", "issue"]
    questions: int
    answered: int
    unanswered: int
    by_community: int
    community_share: float | None
    by_staff: int
    staff_share: float | None
    accepted: int
    accepted_rate: float | None
    thanked: int
    p50_hours: float | None
    p90_hours: float | None


class AnswererOut(BaseModel):
    member_id: int
    name: str
    is_staff: bool
    answered: int
    first_answers: int
    accepted: int
    thanks: int
    likes: int


class StatsOut(BaseModel):
    """``commops qna stats``: community share, time to first answer, thanks, answerers."""

    since: date | None
    until: date | None
    support: list[SupportRowOut]
    answerers: list[AnswererOut]


def _question(c: Ctx, uid: str) -> QuestionOut:
    with c.session() as session:
        q = question_or_404(session, uid, c.ws.config.qna_question_labels)
        return QuestionOut.model_validate(question_view(c, session, q))


@router.get("/qna/queue", summary="Unanswered questions, oldest first, with suggested answerers")
def get_queue(
    c: Annotated[Ctx, Depends(require(can_view))],
    p: Annotated[Paging, Depends(paging)],
    channel: Annotated[
        list[Annotated[str, StringConstraints(min_length=1, max_length=300)]] | None, Query()
    ] = None,
    older_than_hours: Annotated[
        float | None,
        Query(ge=0, le=MAX_HOURS, description="Default: [qna] unanswered_hours (48)"),
    ] = None,
    state: Literal["open", "assigned"] | None = None,
) -> Page[QueueItemOut]:
    with c.session() as session:
        items = desk_queue(
            c, session, channels=channel or [], older_than=older_than_hours, state=state
        )
    return page_of([QueueItemOut.model_validate(asdict(i)) for i in items], p)


@router.get("/qna/stats", summary="Community share, time to first answer, thanks, answerers")
def get_stats(
    c: Annotated[Ctx, Depends(require(can_view))],
    since: Annotated[date | None, Query(description="Asked on or after this day")] = None,
    until: Annotated[date | None, Query(description="Asked on or before this day")] = None,
) -> StatsOut:
    with c.session() as session:
        found = desk_stats(c, session, since, until)
    return StatsOut.model_validate(asdict(found))


@router.get("/qna/questions/{uid}", summary="A question and its place on the desk")
def get_question(c: Annotated[Ctx, Depends(require(can_view))], uid: Uid) -> QuestionOut:
    return _question(c, uid)


@router.post(
    "/qna/questions/{uid}/assign",
    summary="Ask a member to answer the question (or hand it to someone else)",
)
def assign_question(
    c: Annotated[Ctx, Depends(require(can_operate))], uid: Uid, body: AssignBody
) -> QuestionOut:
    labels = c.ws.config.qna_question_labels
    with c.session() as session:
        q = question_or_404(session, uid, labels)
        qna.assign(session, q, body.member, actor=c.actor, reason=body.reason, labels=labels)
    return _question(c, uid)


@router.post("/qna/questions/{uid}/unassign", summary="Take the question back from its assignee")
def unassign_question(
    c: Annotated[Ctx, Depends(require(can_operate))], uid: Uid, body: ReasonBody | None = None
) -> QuestionOut:
    labels = c.ws.config.qna_question_labels
    with c.session() as session:
        q = question_or_404(session, uid, labels)
        qna.unassign(session, q, actor=c.actor, reason=body.reason if body else None, labels=labels)
    return _question(c, uid)


@router.post("/qna/questions/{uid}/drop", summary="Take the question off the queue")
def drop_question(
    c: Annotated[Ctx, Depends(require(can_operate))], uid: Uid, body: ReasonBody | None = None
) -> QuestionOut:
    labels = c.ws.config.qna_question_labels
    with c.session() as session:
        q = question_or_404(session, uid, labels)
        qna.drop(session, q, actor=c.actor, reason=body.reason if body else None, labels=labels)
    return _question(c, uid)


@router.post("/qna/questions/{uid}/reopen", summary="Put a dropped question back on the queue")
def reopen_question(
    c: Annotated[Ctx, Depends(require(can_operate))], uid: Uid, body: ReasonBody | None = None
) -> QuestionOut:
    labels = c.ws.config.qna_question_labels
    with c.session() as session:
        q = question_or_404(session, uid, labels)
        qna.reopen(session, q, actor=c.actor, reason=body.reason if body else None, labels=labels)
    return _question(c, uid)
