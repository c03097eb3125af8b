"""What a question and an answer are, read from the store.

One definition, shared with the ``community-support`` metric (docs/metrics.md) and extended to
issues labelled as questions:

* **questions**: GitHub Discussions in answerable categories (``github:question``), Discourse
  topics in question categories (``discourse:topic_created`` with contribution type
  ``question``), and GitHub or Gitee issues (``github:issue_opened``, ``gitee:issue_opened``)
  carrying one of the question labels (``QUESTION_LABELS`` by default, any case). A question
  asked by a bot is not a question.
* **its thread**: the activities of the same source, channel and target: Discussion comments
  (``github:answer``), forum posts (``discourse:post``), issue comments
  (``github:issue_comment``, ``gitee:issue_comment``), and the markers ``github:answer_accepted``,
  ``discourse:solution``, ``github:issue_closed`` and ``gitee:issue_closed``.
* **an answer**: a reply in the thread, at or after the question, by a member who is neither the
  asker nor a bot. Staff answers are answers (marked ``is_staff``).
* **accepted**: the thread has ``github:answer_accepted`` or ``discourse:solution`` (as the
  metric counts it); the member credited is the accepted answer's author (the object of
  ``github:answer_accepted``, the actor of ``discourse:solution``, or a reply whose attributes
  say ``accepted`` / ``accepted_answer``).
* **a thank-you**: a reply by the asker, after an answer, whose text matches ``THANKS``. The
  GitHub, Gitee and Discourse connectors do not store the text of comments and posts, so on their
  data this finds nothing; rows imported from CSV or JSON Lines (``commops import csv``) carry
  text in ``attributes`` (``body``, ``text``, ...) or in ``title``.

The store is read directly (not the snapshot): the desk must be current without a snapshot
refresh, and issue labels live in the activities' attributes, which the snapshot leaves out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Text, and_, cast, false, func, or_, select
from sqlalchemy.orm import Session, aliased

from commops.errors import UsageError
from commops.store.models import Activity, Identity, Member, Source

QUESTION_LABELS: tuple[str, ...] = ("question", "kind/question", "type/question")
"""Issue labels that make an issue a question (compared in lower case)."""

DISCUSSION_KINDS = ("github:question",)
FORUM_KINDS = ("discourse:topic_created",)
ISSUE_KINDS = ("github:issue_opened", "gitee:issue_opened")
REPLY_KINDS = ("github:answer", "discourse:post", "github:issue_comment", "gitee:issue_comment")
ACCEPT_KINDS = ("github:answer_accepted", "discourse:solution")
CLOSE_KINDS = ("github:issue_closed", "gitee:issue_closed")
THREAD_KINDS = (*REPLY_KINDS, *ACCEPT_KINDS, *CLOSE_KINDS)

THANKS = re.compile(r"\bthank(?:s|\s+you)\b|\bthx\b|谢谢|感谢|多谢", re.IGNORECASE)
"""A thank-you: "thanks", "thank you", "thx", 谢谢, 感谢, 多谢 (any case)."""

TEXT_FIELDS = ("body", "text", "raw", "content", "message", "excerpt")
"""Attributes read, in this order, for the text of a reply."""

_CHUNK = 500  # values per IN (...) list


@dataclass(frozen=True)
class Person:
    member_id: int
    name: str
    is_bot: bool
    is_staff: bool


@dataclass(frozen=True)
class Reply:
    """One post or comment in a question's thread."""

    uid: str
    kind: str
    at: datetime
    person: Person
    identity_id: int
    accepted: bool
    likes: int
    post_number: int | None
    reply_to: int | None
    text: str | None


@dataclass
class Question:
    uid: str
    source_id: int
    source: str
    source_kind: str
    kind: str  # discussion | forum | issue
    channel: str | None
    target: str | None
    title: str | None
    asked_at: datetime
    asker: Person
    tags: tuple[str, ...]
    link: str | None
    closed: bool = False
    has_accepted: bool = False
    accepted_members: set[int] = field(default_factory=set)
    replies: list[Reply] = field(default_factory=list)

    @property
    def key(self) -> tuple[int, str | None, str | None]:
        return (self.source_id, self.channel, self.target)

    @property
    def ref(self) -> str:
        """How people name the question: ``CHANNEL#TARGET`` (``kubesphere/kubekey#12``,
        ``kubesphere/kubekey#discussion/7``, ``questions#314`` for a forum topic)."""
        return f"{self.channel or ''}#{self.target or ''}"

    @property
    def answers(self) -> list[Reply]:
        """Replies by someone other than the asker, not a bot, at or after the question."""
        return [
            r
            for r in self.replies
            if r.person.member_id != self.asker.member_id
            and not r.person.is_bot
            and r.at >= self.asked_at
        ]

    @property
    def first_answer(self) -> Reply | None:
        answers = self.answers
        return answers[0] if answers else None

    def answerers(self) -> dict[int, Reply]:
        """Each answering member's first answer in this thread."""
        first: dict[int, Reply] = {}
        for r in self.answers:
            first.setdefault(r.person.member_id, r)
        return first

    def thanks(self) -> list[tuple[Reply, Reply]]:
        """(the asker's thank-you reply, the answer it thanks): the answer replied to when the
        reply names one, else the latest answer before it."""
        answers = self.answers
        by_number = {a.post_number: a for a in answers if a.post_number is not None}
        found = []
        for r in self.replies:
            if r.person.member_id != self.asker.member_id or not r.text:
                continue
            if not THANKS.search(r.text):
                continue
            thanked = by_number.get(r.reply_to) if r.reply_to is not None else None
            if thanked is None or thanked.at > r.at:
                earlier = [a for a in answers if a.at < r.at]
                thanked = earlier[-1] if earlier else None
            if thanked is not None:
                found.append((r, thanked))
        return found


def normalise_labels(labels: Iterable[str] | None) -> tuple[str, ...]:
    """Question labels in lower case, stripped; an empty one is refused."""
    out: list[str] = []
    for label in QUESTION_LABELS if labels is None else labels:
        text = str(label).strip().lower()
        if not text:
            raise UsageError("question labels: an empty label", hint="Give --label NAME.")
        if text not in out:
            out.append(text)
    return tuple(out)


def load_questions(
    session: Session,
    *,
    labels: Iterable[str] | None = None,
    uids: Collection[str] | None = None,
    where: Any = None,
) -> list[Question]:
    """Every question (or those with these ``uids``, or matching the extra SQL condition
    ``where`` on ``Activity``), with its thread, oldest first."""
    wanted = normalise_labels(labels)
    sources = {
        s.id: s
        for s in session.execute(select(Source)).scalars()  # a workspace has few sources
    }
    actor = aliased(Identity)
    member = aliased(Member)
    is_question = or_(
        Activity.kind.in_(DISCUSSION_KINDS),
        and_(Activity.kind.in_(FORUM_KINDS), Activity.contribution_type == "question"),
        and_(Activity.kind.in_(ISSUE_KINDS), _mentions_any(wanted)) if wanted else false(),
    )
    stmt = (
        select(Activity, actor.id, member.id, member.display_name, member.is_bot, member.is_staff)
        .join(actor, Activity.actor_identity_id == actor.id)
        .join(member, actor.member_id == member.id)
        .where(is_question)
    )
    if where is not None:
        stmt = stmt.where(where)
    rows: list[Any] = []
    if uids is not None:
        for part in _chunks(sorted(set(uids))):
            rows += session.execute(stmt.where(Activity.uid.in_(part))).all()
    else:
        rows = list(session.execute(stmt).all())
    questions: dict[tuple[int, str | None, str | None], Question] = {}
    for act, _ident, mid, name, bot, staff in rows:
        if bot:
            continue
        attrs = act.attributes or {}
        if act.kind in ISSUE_KINDS:
            issue_labels = [str(x).strip().lower() for x in attrs.get("labels") or []]
            if not set(issue_labels) & set(wanted):
                continue
            kind = "issue"
            tags = tuple(sorted({x for x in issue_labels if x and x not in wanted}))
            closed = str(attrs.get("state") or "").lower() in ("closed", "rejected")
        elif act.kind in DISCUSSION_KINDS:
            kind = "discussion"
            category = str(attrs.get("category") or "").strip().lower()
            tags = (category,) if category else ()
            closed = False
        else:
            kind = "forum"
            tags = tuple(sorted({t for t in map(_tag, attrs.get("tags") or []) if t}))
            closed = False
        src = sources[act.source_id]
        q = Question(
            uid=act.uid,
            source_id=act.source_id,
            source=src.name,
            source_kind=src.kind,
            kind=kind,
            channel=act.channel,
            target=act.target,
            title=act.title,
            asked_at=act.occurred_at,
            asker=Person(mid, name, bool(bot), bool(staff)),
            tags=tags,
            link=link(src, kind, act.channel, act.target),
            closed=closed,
        )
        known = questions.get(q.key)
        if known is None or (q.asked_at, q.uid) < (known.asked_at, known.uid):
            questions[q.key] = q
    _attach_threads(session, questions)
    return sorted(questions.values(), key=lambda q: (q.asked_at, q.uid))


def _mentions_any(labels: Sequence[str]) -> Any:
    """A cheap SQL pre-filter: the attributes' JSON text mentions one of the labels (as stored
    by SQLite, with non-ASCII escaped, or by PostgreSQL, as is). Python checks exactly."""
    text = func.lower(cast(Activity.attributes, Text))
    patterns: set[str] = set()
    for label in labels:
        patterns.add(label)
        patterns.add(json.dumps(label)[1:-1].lower())
    return or_(*(text.like(f"%{p}%") for p in sorted(patterns)))


def _tag(value: Any) -> str:
    if isinstance(value, dict):  # newer Discourse versions list tags as objects
        value = value.get("name") or value.get("slug") or ""
    return str(value).strip().lower()


def _attach_threads(
    session: Session, questions: dict[tuple[int, str | None, str | None], Question]
) -> None:
    if not questions:
        return
    actor = aliased(Identity)
    member = aliased(Member)
    obj = aliased(Identity)
    base = (
        select(
            Activity,
            actor.id,
            member.id,
            member.display_name,
            member.is_bot,
            member.is_staff,
            obj.member_id,
        )
        .join(actor, Activity.actor_identity_id == actor.id)
        .join(member, actor.member_id == member.id)
        .outerjoin(obj, Activity.object_identity_id == obj.id)
    )
    for stmt in _thread_queries(base, questions.values()):
        for act, ident, mid, name, bot, staff, obj_member in session.execute(stmt):
            q = questions.get((act.source_id, act.channel, act.target))
            if q is None:
                continue
            attrs = act.attributes or {}
            if act.kind in CLOSE_KINDS:
                q.closed = q.closed or q.kind == "issue"
                continue
            if act.kind in ACCEPT_KINDS:
                q.has_accepted = True
                credited = obj_member if act.kind == "github:answer_accepted" else mid
                if credited is not None:
                    q.accepted_members.add(int(credited))
                continue
            accepted = bool(attrs.get("accepted")) or bool(attrs.get("accepted_answer"))
            reply = Reply(
                uid=act.uid,
                kind=act.kind,
                at=act.occurred_at,
                person=Person(mid, name, bool(bot), bool(staff)),
                identity_id=ident,
                accepted=accepted,
                likes=_reactions(attrs),
                post_number=_int(attrs.get("post_number")),
                reply_to=_int(attrs.get("reply_to_post_number")),
                text=_text(attrs, act.title, q.title),
            )
            if accepted:
                q.accepted_members.add(mid)
            q.replies.append(reply)
    for q in questions.values():
        q.replies.sort(key=lambda r: (r.at, r.uid))


def _thread_queries(base: Any, questions: Iterable[Question]) -> Iterator[Any]:
    """The queries that read the threads: by kind and channel for Discussions and forum topics
    (a channel holds little else of those kinds), by kind, channel and target for issues (a
    repository has many more issue comments than questions). A superset: rows are matched to
    their question by source, channel and target."""
    kinds = {
        "discussion": ("github:answer", "github:answer_accepted"),
        "forum": ("discourse:post", "discourse:solution"),
        "issue": ("github:issue_comment", "gitee:issue_comment", *CLOSE_KINDS),
    }
    for kind, thread_kinds in kinds.items():
        mine = [q for q in questions if q.kind == kind]
        if not mine:
            continue
        stmt = base.where(Activity.kind.in_(thread_kinds))
        channels = sorted({q.channel for q in mine if q.channel is not None})
        if any(q.channel is None for q in mine):
            yield stmt.where(Activity.channel.is_(None))
        if kind != "issue":
            for part in _chunks(channels):
                yield stmt.where(Activity.channel.in_(part))
            continue
        targets = sorted({q.target for q in mine if q.target is not None})
        for part in _chunks(channels):
            for some in _chunks(targets):
                yield stmt.where(Activity.channel.in_(part), Activity.target.in_(some))


def _reactions(attrs: dict[str, Any]) -> int:
    """Likes (Discourse) and reactions (a count, or GitHub's ``{"total_count": N}``)."""
    total = 0
    for name in ("likes", "reactions"):
        value = attrs.get(name)
        if isinstance(value, dict):
            value = value.get("total_count")
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
            total += int(value)
    return total


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _text(attrs: dict[str, Any], title: str | None, question_title: str | None) -> str | None:
    """A reply's text: the first text attribute, else its title when that is not simply the
    thread's title (forum posts carry the topic's title)."""
    for name in TEXT_FIELDS:
        value = attrs.get(name)
        if isinstance(value, str) and value.strip():
            return value
    if title and title != question_title:
        return title
    return None


def link(source: Source, kind: str, channel: str | None, target: str | None) -> str | None:
    """The web address of a question on GitHub, Gitee or a Discourse forum (None for other
    sources, such as imported files)."""
    if not channel or not target:
        return None
    if source.kind == "discourse" and source.location.startswith(("http://", "https://")):
        return f"{source.location.rstrip('/')}/t/{target}"
    if source.kind in ("github", "gitee"):
        default = (
            "https://api.github.com" if source.kind == "github" else "https://gitee.com/api/v5"
        )
        api = str((source.options or {}).get("api_url") or default).rstrip("/")
        if api == "https://api.github.com":
            web = "https://github.com"
        else:
            web = re.sub(r"/api(/v\d+)?$", "", api)
        if not web.startswith(("http://", "https://")):
            return None
        if kind == "discussion" and target.startswith("discussion/"):
            return f"{web}/{channel}/discussions/{target.split('/', 1)[1]}"
        return f"{web}/{channel}/issues/{target}"
    return None


def find_question(session: Session, ref: str, *, labels: Iterable[str] | None = None) -> Question:
    """The question named by ``CHANNEL#TARGET`` (``SOURCE:CHANNEL#TARGET`` when two sources
    have it), by its activity uid, or by a uid prefix of at least 8 characters."""
    text = ref.strip()
    if not text:
        raise UsageError("question: empty", hint="Name it CHANNEL#TARGET, as the queue shows.")
    if "#" in text:
        head, _, target = text.rpartition("#")
        source_name: str | None = None
        channel = head
        if head not in _channels_named(session, head, target) and ":" in head:
            source_name, _, channel = head.partition(":")
        cond = and_(Activity.channel == channel, Activity.target == target)
        if source_name is not None:
            cond = and_(
                cond, Activity.source_id.in_(select(Source.id).where(Source.name == source_name))
            )
        found = load_questions(session, labels=labels, where=cond)
    elif re.fullmatch(r"[0-9a-f]{8,40}", text.lower()):
        found = load_questions(session, labels=labels, where=Activity.uid.like(f"{text.lower()}%"))
    else:
        raise UsageError(
            f"question {ref!r}: not CHANNEL#TARGET nor an activity uid",
            hint="Name it as `commops qna queue` shows it, e.g. kubesphere/kubekey#12.",
        )
    if not found:
        raise UsageError(
            f"no question {ref!r}",
            hint="Questions are Discussions in answerable categories, forum topics in question "
            "categories and issues with a question label; see `commops qna queue`.",
        )
    if len(found) > 1:
        names = ", ".join(f"{q.source}:{q.ref}" for q in found[:10])
        raise UsageError(
            f"question {ref!r} names several questions: {names}",
            hint="Give SOURCE:CHANNEL#TARGET or the activity uid.",
        )
    return found[0]


def _channels_named(session: Session, channel: str, target: str) -> set[str]:
    got = session.execute(
        select(Activity.channel)
        .where(Activity.channel == channel, Activity.target == target)
        .limit(1)
    ).scalars()
    return {c for c in got if c is not None}


def _chunks(values: Sequence[str]) -> Iterator[Sequence[str]]:
    for i in range(0, len(values), _CHUNK):
        yield values[i : i + _CHUNK]
