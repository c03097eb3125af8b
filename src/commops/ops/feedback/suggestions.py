"""Duplicate suggestions: pairs of items whose texts are alike (similarity.py), for a person to
accept (the two items join one theme) or reject (the pair is never suggested again).

States: ``open`` -> ``accepted`` | ``rejected``; both final. A suggestion whose items are
deleted, or already in one theme, is left out of the open list without changing its state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from commops.clock import utcnow
from commops.errors import UsageError
from commops.ops import core
from commops.ops.feedback._common import get_item, get_suggestion, live_theme_id
from commops.ops.feedback.models import SUGGESTION, FeedbackItem, FeedbackSuggestion, FeedbackTheme
from commops.ops.feedback.similarity import THRESHOLD, Text, similar_pairs
from commops.ops.feedback.themes import assign_item, create_theme

STATES: dict[str, tuple[str, ...]] = {
    "open": ("accepted", "rejected"),
    "accepted": (),
    "rejected": (),
}


def _live_items(session: Session) -> list[FeedbackItem]:
    return list(
        session.execute(
            select(FeedbackItem).where(FeedbackItem.deleted_at.is_(None)).order_by(FeedbackItem.id)
        ).scalars()
    )


def _theme_of(session: Session, items: list[FeedbackItem]) -> dict[int, int | None]:
    live = set(
        session.execute(select(FeedbackTheme.id).where(FeedbackTheme.deleted_at.is_(None)))
        .scalars()
        .all()
    )
    return {i.id: (i.theme_id if i.theme_id in live else None) for i in items}


def suggest(session: Session, *, threshold: float = THRESHOLD) -> list[FeedbackSuggestion]:
    """Score every pair of live items and record, as ``open``, the pairs at or above
    ``threshold`` (each item's best partners: similarity.py) that were never suggested before
    (whatever became of them) and whose items are not already in one theme. Returns the new
    suggestions."""
    if not 0 < threshold <= 1:
        raise UsageError(f"--threshold {threshold}: give a number above 0 and at most 1")
    items = _live_items(session)
    theme = _theme_of(session, items)
    status = {
        (a, b): st
        for a, b, st in session.execute(
            select(
                FeedbackSuggestion.item_a_id,
                FeedbackSuggestion.item_b_id,
                FeedbackSuggestion.status,
            )
        )
    }
    now = utcnow()
    new: list[FeedbackSuggestion] = []
    texts = [Text(i.id, i.title, i.body) for i in items]

    def skip(a: int, b: int) -> bool:
        # Decided pairs make room for the next best partner; open ones keep their place.
        decided = status.get((a, b), "open") != "open"
        return decided or (theme[a] is not None and theme[a] == theme[b])

    for pair in similar_pairs(texts, threshold, skip=skip):
        if (pair.a, pair.b) in status:
            continue
        row = FeedbackSuggestion(
            item_a_id=pair.a,
            item_b_id=pair.b,
            score=pair.score,
            evidence={
                "title_ratio": pair.title_ratio,
                "cosine": pair.cosine,
                "threshold": threshold,
            },
            status="open",
            created_at=now,
        )
        session.add(row)
        new.append(row)
    session.flush()
    return new


@dataclass
class SuggestionInfo:
    id: int
    score: float
    status: str
    item_a_id: int
    item_a: str
    item_b_id: int
    item_b: str
    theme_a_id: int | None
    theme_b_id: int | None
    evidence: dict[str, float]
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None


def list_suggestions(
    session: Session, *, status: str = "open", limit: int | None = None
) -> list[SuggestionInfo]:
    """Suggestions in ``status``, best score first. Open ones whose items are deleted or have
    come to share a theme are left out."""
    if status not in STATES:
        raise UsageError(f"unknown suggestion status {status!r}", hint="open, accepted, rejected")
    rows = list(
        session.execute(
            select(FeedbackSuggestion)
            .where(FeedbackSuggestion.status == status)
            .order_by(FeedbackSuggestion.score.desc(), FeedbackSuggestion.id)
        ).scalars()
    )
    ids = sorted({r.item_a_id for r in rows} | {r.item_b_id for r in rows})
    items: dict[int, FeedbackItem] = {}
    for start in range(0, len(ids), 500):
        for item in session.execute(
            select(FeedbackItem).where(FeedbackItem.id.in_(ids[start : start + 500]))
        ).scalars():
            items[item.id] = item
    theme = _theme_of(session, list(items.values()))
    out: list[SuggestionInfo] = []
    for r in rows:
        a, b = items[r.item_a_id], items[r.item_b_id]
        if status == "open" and (
            a.deleted_at is not None
            or b.deleted_at is not None
            or (theme[a.id] is not None and theme[a.id] == theme[b.id])
        ):
            continue
        out.append(
            SuggestionInfo(
                id=r.id,
                score=r.score,
                status=r.status,
                item_a_id=a.id,
                item_a=a.title,
                item_b_id=b.id,
                item_b=b.title,
                theme_a_id=theme[a.id],
                theme_b_id=theme[b.id],
                evidence=dict(r.evidence or {}),
                created_at=r.created_at,
                decided_at=r.decided_at,
                decided_by=r.decided_by,
            )
        )
        if limit is not None and len(out) >= limit:
            break
    return out


def _decide(
    session: Session, suggestion: FeedbackSuggestion, target: str, *, actor: str, reason: str | None
) -> None:
    core.check_transition(f"feedback suggestion {suggestion.id}", suggestion.status, target, STATES)
    before = suggestion.status
    suggestion.status = target
    suggestion.decided_at = utcnow()
    suggestion.decided_by = actor
    core.record(
        session,
        actor=actor,
        record_type=SUGGESTION,
        record_id=suggestion.id,
        action=target,
        from_state=before,
        to_state=target,
        reason=reason,
        details={"items": [suggestion.item_a_id, suggestion.item_b_id]},
    )


def accept(
    session: Session,
    suggestion_id: int,
    *,
    actor: str,
    title: str | None = None,
    reason: str | None = None,
) -> int:
    """The two items say the same thing: put them in one theme and return its id. When
    neither is in a theme, a new theme is made (titled ``title``, or like the older item);
    when one is, the other joins it; two different themes are refused (move an item first)."""
    suggestion = get_suggestion(session, suggestion_id)
    core.check_transition(
        f"feedback suggestion {suggestion.id}", suggestion.status, "accepted", STATES
    )
    a = get_item(session, suggestion.item_a_id)
    b = get_item(session, suggestion.item_b_id)
    ta, tb = live_theme_id(session, a), live_theme_id(session, b)
    if ta is not None and tb is not None and ta != tb:
        raise UsageError(
            f"feedback suggestion {suggestion.id}: item {a.id} is in theme {ta} and item {b.id} "
            f"in theme {tb}",
            hint=f"Move one item first: `commops feedback theme assign {ta} {b.id}`.",
        )
    _decide(session, suggestion, "accepted", actor=actor, reason=reason)
    if ta is None and tb is None:
        older = min((a, b), key=lambda i: (i.raised_at, i.id))
        theme = create_theme(session, title or older.title, actor=actor, items=[a.id, b.id])
        return theme.id
    target = ta if ta is not None else tb
    assert target is not None
    assign_item(session, a.id, target, actor=actor)
    assign_item(session, b.id, target, actor=actor)
    return target


def reject(session: Session, suggestion_id: int, *, actor: str, reason: str | None = None) -> None:
    """The two items are different requests: never suggest this pair again."""
    suggestion = get_suggestion(session, suggestion_id)
    _decide(session, suggestion, "rejected", actor=actor, reason=reason)
