"""Who answered whom, how much of the answering the community does, how fast, and the thanks.

Everything here is about the questions **asked** between ``since`` and ``until`` (whole UTC
days, both included), as the ``community-support`` metric counts them, and leaves out questions
asked by staff unless ``include_staff_askers`` (the metric's ``--include-staff``): a question's
answers, acceptance and thanks belong to it whenever they came.

* ``support``: questions, answered, unanswered; ``by_community`` (the first answer came from a
  member who is not staff) and ``community_share`` = by_community / answered, ``by_staff`` and
  ``staff_share``; ``accepted`` (an accepted answer recorded) and ``accepted_rate`` =
  accepted / questions; ``thanked`` (the asker said thanks after an answer); ``p50_hours``,
  ``p90_hours`` from the question to its first answer (exact quantiles, linear interpolation
  as numpy's default, as the metric computes them). One row for all questions and one per kind
  (``discussion``, ``forum``, ``issue``).
* ``pairs``: (answerer -> asker) with the number of questions of that asker the answerer
  answered (each question once, however many replies), how many of those answers were
  accepted and how many were thanked.
* ``answerers``: per answering member: questions answered, answered first, accepted answers,
  thank-you replies credited to them, likes and reactions on their answers (Discourse likes;
  reactions when a source records them).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from commops.errors import UsageError
from commops.ops.qna.questions import Question, load_questions

KINDS = ("discussion", "forum", "issue")


@dataclass(frozen=True)
class SupportRow:
    scope: str  # all | discussion | forum | issue
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


@dataclass(frozen=True)
class Pair:
    answerer_id: int
    answerer: str
    answerer_staff: bool
    asker_id: int
    asker: str
    questions: int
    accepted: int
    thanked: int


@dataclass(frozen=True)
class AnswererRow:
    member_id: int
    name: str
    is_staff: bool
    answered: int
    first_answers: int
    accepted: int
    thanks: int
    likes: int


@dataclass(frozen=True)
class Stats:
    since: date | None
    until: date | None
    support: list[SupportRow]
    answerers: list[AnswererRow]


def asked_in(
    questions: Iterable[Question],
    since: date | None,
    until: date | None,
    *,
    include_staff_askers: bool = False,
) -> list[Question]:
    """The questions asked from ``since`` to ``until`` (days, both included)."""
    _check_range(since, until)
    start = datetime.combine(since, datetime.min.time()) if since else None
    end = datetime.combine(until + timedelta(days=1), datetime.min.time()) if until else None
    return [
        q
        for q in questions
        if (start is None or q.asked_at >= start)
        and (end is None or q.asked_at < end)
        and (include_staff_askers or not q.asker.is_staff)
    ]


def _check_range(since: date | None, until: date | None) -> None:
    if since and until and until < since:
        raise UsageError(f"--until {until} is before --since {since}")


def quantile(values: Sequence[float], p: float) -> float | None:
    """The exact quantile with linear interpolation (numpy's default), None for no values."""
    v = sorted(values)
    if not v:
        return None
    pos = (len(v) - 1) * p
    lo = int(pos)
    hi = min(lo + 1, len(v) - 1)
    return round(v[lo] + (v[hi] - v[lo]) * (pos - lo), 2)


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def support_row(scope: str, questions: Sequence[Question]) -> SupportRow:
    waits: list[float] = []
    community = staff = accepted = thanked = 0
    for q in questions:
        first = q.first_answer
        if first is not None:
            waits.append((first.at - q.asked_at).total_seconds() / 3600)
            if first.person.is_staff:
                staff += 1
            else:
                community += 1
        accepted += q.has_accepted
        thanked += bool(q.thanks())
    answered = len(waits)
    return SupportRow(
        scope=scope,
        questions=len(questions),
        answered=answered,
        unanswered=len(questions) - answered,
        by_community=community,
        community_share=_share(community, answered),
        by_staff=staff,
        staff_share=_share(staff, answered),
        accepted=accepted,
        accepted_rate=_share(accepted, len(questions)),
        thanked=thanked,
        p50_hours=quantile(waits, 0.5),
        p90_hours=quantile(waits, 0.9),
    )


def pairs_of(questions: Iterable[Question]) -> list[Pair]:
    counts: dict[tuple[int, int], list[int]] = {}
    people: dict[int, tuple[str, bool]] = {}
    for q in questions:
        thanked = {answer.person.member_id for _reply, answer in q.thanks()}
        people[q.asker.member_id] = (q.asker.name, q.asker.is_staff)
        for mid, reply in q.answerers().items():
            people[mid] = (reply.person.name, reply.person.is_staff)
            c = counts.setdefault((mid, q.asker.member_id), [0, 0, 0])
            c[0] += 1
            c[1] += mid in q.accepted_members
            c[2] += mid in thanked
    out = [
        Pair(
            answerer_id=a,
            answerer=people[a][0],
            answerer_staff=people[a][1],
            asker_id=b,
            asker=people[b][0],
            questions=c[0],
            accepted=c[1],
            thanked=c[2],
        )
        for (a, b), c in counts.items()
    ]
    out.sort(key=lambda p: (-p.questions, -p.accepted, p.answerer_id, p.asker_id))
    return out


def answerers_of(questions: Iterable[Question]) -> list[AnswererRow]:
    rows: dict[int, dict[str, int]] = {}
    people: dict[int, tuple[str, bool]] = {}
    for q in questions:
        first = q.first_answer
        for mid, reply in q.answerers().items():
            people[mid] = (reply.person.name, reply.person.is_staff)
            r = rows.setdefault(
                mid, {"answered": 0, "first": 0, "accepted": 0, "thanks": 0, "likes": 0}
            )
            r["answered"] += 1
            r["first"] += first is not None and first.person.member_id == mid
            r["accepted"] += mid in q.accepted_members
        for reply in q.answers:
            rows[reply.person.member_id]["likes"] += reply.likes
        for _thanks, answer in q.thanks():
            rows[answer.person.member_id]["thanks"] += 1
    out = [
        AnswererRow(
            member_id=mid,
            name=people[mid][0],
            is_staff=people[mid][1],
            answered=r["answered"],
            first_answers=r["first"],
            accepted=r["accepted"],
            thanks=r["thanks"],
            likes=r["likes"],
        )
        for mid, r in rows.items()
    ]
    out.sort(key=lambda r: (-r.answered, -r.accepted, -r.thanks, r.member_id))
    return out


def pairs(
    session: Session,
    *,
    since: date | None = None,
    until: date | None = None,
    labels: Iterable[str] | None = None,
    include_staff_askers: bool = False,
) -> list[Pair]:
    """Who answered whom, for the questions asked in the range (see the module docstring)."""
    _check_range(since, until)
    qs = asked_in(
        load_questions(session, labels=labels),
        since,
        until,
        include_staff_askers=include_staff_askers,
    )
    return pairs_of(qs)


def stats(
    session: Session,
    *,
    since: date | None = None,
    until: date | None = None,
    labels: Iterable[str] | None = None,
    include_staff_askers: bool = False,
) -> Stats:
    """Community share, time to first answer and thanks, for the questions asked in the
    range (see the module docstring)."""
    _check_range(since, until)
    qs = asked_in(
        load_questions(session, labels=labels),
        since,
        until,
        include_staff_askers=include_staff_askers,
    )
    support = [support_row("all", qs)]
    support += [support_row(k, [q for q in qs if q.kind == k]) for k in KINDS]
    return Stats(since=since, until=until, support=support, answerers=answerers_of(qs))
