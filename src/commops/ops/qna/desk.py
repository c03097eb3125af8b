"""The unanswered queue and who could answer each question.

**Queue**: the questions (see ``questions.py``) with no answer yet, asked at least
``older_than_hours`` before ``now``, oldest first. Left out: issues that are closed, questions
the desk dropped, questions asked by bots. Questions asked by staff are in (they wait too).

**Suggested answerers** (``AnswererIndex``): for a question Q, every member M (not a bot, not
Q's asker) who answered another question Q' in the ``lookback_days`` before ``now`` scores

    score(M) = sum over such Q' of  relevance(Q') x accepted(M, Q') x 0.5 ^ (age_days / half_life)

where relevance is 1 when Q' is in Q's channel (repository, forum category), ``tag_weight``
(0.5) when it is elsewhere but shares a tag (forum tag, Discussion category, issue label other
than the question labels), else Q' does not count; accepted is ``accepted_weight`` (2) when
M's answer to Q' was the accepted one, else 1; age is measured from M's first answer in Q' to
``now`` and ``half_life`` is ``half_life_days`` (180). Each (M, Q') counts once, however many
replies M wrote there. The top ``top`` (3) by score, then accepted answers, then the most recent
answer, then member id, each with the reason in words.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from commops.clock import utcnow
from commops.config import Config
from commops.errors import UsageError
from commops.ops.qna.models import QnaAssignment
from commops.ops.qna.questions import Person, Question, load_questions
from commops.store.models import Identity, Member

DEFAULT_HOURS = Config().qna_unanswered_hours
LOOKBACK_DAYS = 365
HALF_LIFE_DAYS = 180.0
ACCEPTED_WEIGHT = 2.0
TAG_WEIGHT = 0.5
TOP = 3


@dataclass(frozen=True)
class Suggestion:
    member_id: int
    name: str
    is_staff: bool
    score: float
    answers_in_channel: int
    accepted_in_channel: int
    answers_on_tags: int
    accepted_on_tags: int
    shared_tags: tuple[str, ...]
    last_answer_at: datetime
    reason: str


@dataclass
class QueueItem:
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
    tags: tuple[str, ...]
    state: str  # open | assigned
    assignee_id: int | None
    assignee: str | None
    assigned_at: datetime | None
    asker_replies: int
    suggested: list[Suggestion] = field(default_factory=list)


@dataclass(frozen=True)
class _Answered:
    person: Person
    question_uid: str
    channel: str | None
    tags: frozenset[str]
    at: datetime
    accepted: bool


class AnswererIndex:
    """Past answers, by channel and by tag, to suggest who could answer a question."""

    def __init__(
        self,
        questions: Iterable[Question],
        *,
        now: datetime,
        lookback_days: int = LOOKBACK_DAYS,
        half_life_days: float = HALF_LIFE_DAYS,
        accepted_weight: float = ACCEPTED_WEIGHT,
        tag_weight: float = TAG_WEIGHT,
    ) -> None:
        if lookback_days < 1 or half_life_days <= 0:
            raise UsageError("suggested answerers: lookback and half-life must be positive")
        self.now = now
        self.half_life_days = half_life_days
        self.accepted_weight = accepted_weight
        self.tag_weight = tag_weight
        start = now - timedelta(days=lookback_days)
        self.by_channel: dict[str, list[_Answered]] = defaultdict(list)
        self.by_tag: dict[str, list[_Answered]] = defaultdict(list)
        for q in questions:
            for mid, reply in q.answerers().items():
                if not start <= reply.at <= now:
                    continue
                entry = _Answered(
                    person=reply.person,
                    question_uid=q.uid,
                    channel=_norm(q.channel),
                    tags=frozenset(q.tags),
                    at=reply.at,
                    accepted=mid in q.accepted_members,
                )
                if entry.channel is not None:
                    self.by_channel[entry.channel].append(entry)
                for tag in entry.tags:
                    self.by_tag[tag].append(entry)

    def suggest(self, question: Question, *, top: int = TOP) -> list[Suggestion]:
        """The ``top`` members most likely to answer ``question``, best first, with reasons."""
        channel = _norm(question.channel)
        seen: set[tuple[int, str]] = set()
        tallies: dict[int, _Tally] = {}
        candidates = list(self.by_channel.get(channel, [])) if channel is not None else []
        for tag in question.tags:
            candidates += self.by_tag.get(tag, [])
        for e in candidates:
            mid = e.person.member_id
            if e.question_uid == question.uid or mid == question.asker.member_id:
                continue
            if (mid, e.question_uid) in seen:
                continue
            seen.add((mid, e.question_uid))
            same = channel is not None and e.channel == channel
            age_days = max((self.now - e.at).total_seconds() / 86400, 0.0)
            t = tallies.setdefault(mid, _Tally(e.person, e.at))
            t.score += (
                (1.0 if same else self.tag_weight)
                * (self.accepted_weight if e.accepted else 1.0)
                * 0.5 ** (age_days / self.half_life_days)
            )
            if same:
                t.n_channel += 1
                t.a_channel += e.accepted
            else:
                t.n_tags += 1
                t.a_tags += e.accepted
                t.tags |= set(question.tags) & e.tags
            t.last = max(t.last, e.at)
        out = [t.suggestion(question.channel) for t in tallies.values()]
        out.sort(
            key=lambda x: (
                -x.score,
                -(x.accepted_in_channel + x.accepted_on_tags),
                -x.last_answer_at.timestamp(),
                x.member_id,
            )
        )
        return out[:top]


@dataclass
class _Tally:
    person: Person
    last: datetime
    score: float = 0.0
    n_channel: int = 0
    a_channel: int = 0
    n_tags: int = 0
    a_tags: int = 0
    tags: set[str] = field(default_factory=set)

    def suggestion(self, channel: str | None) -> Suggestion:
        parts = []
        if self.n_channel:
            parts.append(f"{_answers(self.n_channel)} in {channel}" + _accepted(self.a_channel))
        if self.n_tags:
            parts.append(
                f"{_answers(self.n_tags)} on {', '.join(sorted(self.tags))}"
                + _accepted(self.a_tags)
            )
        parts.append(f"last {self.last:%Y-%m-%d}")
        return Suggestion(
            member_id=self.person.member_id,
            name=self.person.name,
            is_staff=self.person.is_staff,
            score=round(self.score, 2),
            answers_in_channel=self.n_channel,
            accepted_in_channel=self.a_channel,
            answers_on_tags=self.n_tags,
            accepted_on_tags=self.a_tags,
            shared_tags=tuple(sorted(self.tags)),
            last_answer_at=self.last,
            reason="; ".join(parts),
        )


def _answers(n: int) -> str:
    return f"{n} answer" if n == 1 else f"{n} answers"


def _accepted(n: int) -> str:
    return f", {n} accepted" if n else ""


def _norm(channel: str | None) -> str | None:
    return channel.strip().lower() if channel else None


def desk_rows(session: Session, uids: Collection[str] | None = None) -> dict[str, QnaAssignment]:
    """The desk's rows by question uid (all of them, or those of ``uids``)."""
    stmt = select(QnaAssignment)
    if uids is not None:
        stmt = stmt.where(QnaAssignment.question_uid.in_(list(uids)))
    return {r.question_uid: r for r in session.execute(stmt).scalars()}


def assignee_of(session: Session, row: QnaAssignment | None) -> tuple[int | None, str | None]:
    """The member a desk row is assigned to, as identities resolve today."""
    if row is None or row.assignee_identity_id is None:
        return None, None
    ident = session.get(Identity, row.assignee_identity_id)
    member = session.get(Member, ident.member_id) if ident is not None else None
    return (member.id, member.display_name) if member is not None else (None, None)


def queue(
    session: Session,
    *,
    older_than_hours: float = DEFAULT_HOURS,
    now: datetime | None = None,
    channels: Sequence[str] | None = None,
    labels: Iterable[str] | None = None,
    top: int = TOP,
    questions: Sequence[Question] | None = None,
) -> list[QueueItem]:
    """The unanswered questions asked at least ``older_than_hours`` before ``now`` (default:
    the clock), oldest first, each with ``top`` suggested answerers. ``channels`` keeps those
    channels only (any case). ``questions``: already loaded (``load_questions``).

    With ``now`` in the past, questions and answers are taken as they were then (an answer
    that came later does not count); the desk's states (assigned, dropped) are today's."""
    if older_than_hours < 0:
        raise UsageError(f"--older-than {older_than_hours}: must be 0 or more hours")
    now = now or utcnow()
    every = list(questions) if questions is not None else load_questions(session, labels=labels)
    wanted = {c.strip().lower() for c in channels or [] if c.strip()}
    desk = desk_rows(session)
    index = AnswererIndex(every, now=now)
    cutoff = now - timedelta(hours=older_than_hours)
    items = []
    for q in every:
        first = q.first_answer
        if q.asked_at > cutoff or q.closed or (first is not None and first.at <= now):
            continue
        if wanted and _norm(q.channel) not in wanted:
            continue
        row = desk.get(q.uid)
        state = row.state if row is not None else "open"
        if state not in ("open", "assigned"):
            continue
        assignee_id, assignee = assignee_of(session, row)
        items.append(
            QueueItem(
                ref=q.ref,
                uid=q.uid,
                kind=q.kind,
                source=q.source,
                channel=q.channel,
                target=q.target,
                title=q.title,
                link=q.link,
                asker_id=q.asker.member_id,
                asker=q.asker.name,
                asker_staff=q.asker.is_staff,
                asked_at=q.asked_at,
                age_hours=round((now - q.asked_at).total_seconds() / 3600, 1),
                tags=q.tags,
                state=state,
                assignee_id=assignee_id if state == "assigned" else None,
                assignee=assignee if state == "assigned" else None,
                assigned_at=row.assigned_at if row is not None and state == "assigned" else None,
                asker_replies=sum(1 for r in q.replies if r.person.member_id == q.asker.member_id),
                suggested=index.suggest(q, top=top),
            )
        )
    return items


def suggest_answerers(
    session: Session,
    question: Question,
    *,
    now: datetime | None = None,
    top: int = TOP,
    labels: Iterable[str] | None = None,
) -> list[Suggestion]:
    """Who could answer ``question`` (see the module docstring for the score)."""
    index = AnswererIndex(load_questions(session, labels=labels), now=now or utcnow())
    return index.suggest(question, top=top)
