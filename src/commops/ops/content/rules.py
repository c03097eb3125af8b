"""The content pipeline's vocabulary and rules: kinds, states and the moves between them,
channels, the credit each kind earns, and who may review and when an item is approved.

Review permissions are small predicates (``is_author``, ``was_asked``, ``has_approved``)
combined by ``review_refusal``, which every way of reviewing (CLI, API, import) goes through.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from commops.errors import UsageError
from commops.ops.content.models import (
    ContentAuthor,
    ContentItem,
    ContentReview,
    ContentRound,
    ContentRoundReviewer,
)
from commops.store.models import Identity, Member

RECORD_TYPE = "content"

KINDS = ("article", "case", "story", "tutorial", "video", "translation")
KIND_HELP = (
    "article (technical article), case (best-practice case), story (user story), tutorial, "
    "video, translation"
)

# The all-contributors type an item's authors are credited with when it is published.
CONTRIBUTION_TYPES = {
    "article": "blog",
    "case": "blog",
    "story": "blog",
    "tutorial": "tutorial",
    "video": "video",
    "translation": "translation",
}

STATES = (
    "pitch",
    "accepted",
    "drafting",
    "in_review",
    "approved",
    "scheduled",
    "published",
    "withdrawn",
)
FINAL = ("published", "withdrawn")
# state -> the states it may become. Withdrawal is open from every state that is not final;
# changes requested in review send an item back to drafting; a scheduled item may be
# rescheduled; an approved item may be published at once.
FLOW: dict[str, tuple[str, ...]] = {
    "pitch": ("accepted", "withdrawn"),
    "accepted": ("drafting", "withdrawn"),
    "drafting": ("in_review", "withdrawn"),
    "in_review": ("approved", "drafting", "withdrawn"),
    "approved": ("scheduled", "published", "withdrawn"),
    "scheduled": ("scheduled", "published", "withdrawn"),
    "published": (),
    "withdrawn": (),
}
BEFORE_APPROVAL = ("pitch", "accepted", "drafting", "in_review")

VERDICTS = ("approve", "request_changes", "comment")

# Channels are short names; these are the usual ones (any name of the same shape is accepted).
KNOWN_CHANNELS = (
    "blog",
    "wechat",
    "zhihu",
    "csdn",
    "juejin",
    "bilibili",
    "youtube",
    "medium",
    "devto",
    "infoq",
    "oschina",
    "twitter",
    "linkedin",
)
_CHANNEL = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,59}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[a-z0-9]{2,8})*$")


def channel_name(value: str, *, field: str = "channel") -> str:
    """A channel as stored: lower case, a short name (``blog``, ``wechat``, ``youtube``)."""
    name = value.strip().lower()
    if not _CHANNEL.match(name):
        raise UsageError(
            f"{field}: {value!r} is not a channel name (letters, digits, '-', '_' or '.', "
            f"e.g. {', '.join(KNOWN_CHANNELS[:4])})"
        )
    return name


def language_code(value: str, *, field: str = "language") -> str:
    """A language as stored: a lower-case tag such as ``en``, ``zh`` or ``zh-cn``."""
    code = value.strip().lower().replace("_", "-")
    if not _LANGUAGE.match(code):
        raise UsageError(f"{field}: {value!r} is not a language code (e.g. en, zh, zh-cn)")
    return code


def required_approvals(item: ContentItem, default: int) -> int:
    """The approvals ``item`` needs: its own override, else ``[content] approvals``."""
    return item.approvals_required if item.approvals_required is not None else default


# -- predicates --------------------------------------------------------------------------------


def _distinct(values: Sequence[int]) -> list[int]:
    return list(dict.fromkeys(values))


def author_ids(session: Session, item_id: int) -> list[int]:
    """The item's authors as members (through their identities), first author first."""
    return _distinct(
        session.execute(
            select(Identity.member_id)
            .join(ContentAuthor, ContentAuthor.identity_id == Identity.id)
            .where(ContentAuthor.item_id == item_id)
            .order_by(ContentAuthor.position, ContentAuthor.identity_id)
        )
        .scalars()
        .all()
    )


def member_label(session: Session, member_id: int) -> str:
    """``Ana Li (member 3)``: how errors and the audit log name a person."""
    member = session.get(Member, member_id)
    name = member.display_name if member is not None else "?"
    return f"{name} (member {member_id})"


def is_author(session: Session, item_id: int, member_id: int) -> bool:
    return member_id in author_ids(session, item_id)


def asked_reviewers(session: Session, round_id: int) -> list[int]:
    """The members asked to review in the round."""
    return sorted(
        set(
            session.execute(
                select(Identity.member_id)
                .join(ContentRoundReviewer, ContentRoundReviewer.identity_id == Identity.id)
                .where(ContentRoundReviewer.round_id == round_id)
            ).scalars()
        )
    )


def was_asked(session: Session, round_id: int, member_id: int) -> bool:
    return member_id in asked_reviewers(session, round_id)


def approvers(session: Session, round_id: int) -> list[int]:
    """Distinct members who approved in the round, in the order they approved."""
    return _distinct(
        session.execute(
            select(Identity.member_id)
            .join(ContentReview, ContentReview.reviewer_identity_id == Identity.id)
            .where(ContentReview.round_id == round_id, ContentReview.verdict == "approve")
            .order_by(ContentReview.id)
        )
        .scalars()
        .all()
    )


def has_approved(session: Session, round_id: int, member_id: int) -> bool:
    return member_id in approvers(session, round_id)


def review_refusal(
    session: Session, item: ContentItem, rnd: ContentRound, member_id: int, verdict: str
) -> str | None:
    """Why ``member_id`` may not give ``verdict`` on ``item`` in round ``rnd`` (None: they
    may). Authors never review their own item; only the reviewers asked in the round review;
    nobody approves twice in one round."""
    who = member_label(session, member_id)
    if is_author(session, item.id, member_id):
        return f"{who} is an author of content {item.id}: authors cannot review their own item"
    if not was_asked(session, rnd.id, member_id):
        asked = ", ".join(member_label(session, m) for m in asked_reviewers(session, rnd.id))
        return (
            f"{who} was not asked to review content {item.id} in round {rnd.number} "
            f"(reviewers: {asked})"
        )
    if verdict == "approve" and has_approved(session, rnd.id, member_id):
        return f"{who} already approved content {item.id} in round {rnd.number}"
    return None


# -- the approval rule -------------------------------------------------------------------------


@dataclass
class ApprovalStatus:
    """Where a round stands against the rule: at least ``required`` approvals by distinct asked
    reviewers, at least one of them not staff (``Member.is_staff`` when it is evaluated)."""

    required: int
    approvers: list[int] = field(default_factory=list)
    non_staff: list[int] = field(default_factory=list)

    @property
    def met(self) -> bool:
        return len(self.approvers) >= self.required and bool(self.non_staff)

    def shortfall(self) -> str:
        """What is missing, in words ("1 more approval; one by a reviewer who is not staff")."""
        missing = []
        more = self.required - len(self.approvers)
        if more > 0:
            missing.append(f"{more} more approval{'s' if more > 1 else ''}")
        if not self.non_staff:
            missing.append("an approval by a reviewer who is not staff")
        return " and ".join(missing) if missing else "nothing"


def approval_status(
    session: Session, item: ContentItem, rnd: ContentRound, default: int
) -> ApprovalStatus:
    """The approval rule evaluated for ``item`` in round ``rnd``."""
    approved_by = approvers(session, rnd.id)
    staff = set(
        session.execute(
            select(Member.id).where(Member.id.in_(approved_by), Member.is_staff.is_(True))
        ).scalars()
    )
    return ApprovalStatus(
        required=required_approvals(item, default),
        approvers=approved_by,
        non_staff=[m for m in approved_by if m not in staff],
    )


def current_round(session: Session, item_id: int) -> ContentRound | None:
    """The item's newest review round (open or closed), if any."""
    return session.execute(
        select(ContentRound)
        .where(ContentRound.item_id == item_id)
        .order_by(ContentRound.number.desc())
        .limit(1)
    ).scalar_one_or_none()
