"""Demo data for the Q&A desk: a few unanswered questions assigned to the members most likely
to answer them and one taken off the queue, written through the desk's domain functions.
``commops demo`` calls ``seed`` after it has made the demo activities."""

from __future__ import annotations

import random

from sqlalchemy.orm import Session

from commops.config import Config
from commops.ops.qna.assignments import assign, drop
from commops.ops.qna.desk import queue


def seed(session: Session, rng: random.Random, *, actor: str) -> None:
    """Assign three waiting questions (each to one of its suggested answerers) and drop one
    as a duplicate; nothing when the queue is empty."""
    labels = Config().qna_question_labels
    waiting = queue(session, labels=labels)
    if not waiting:
        return
    chosen = rng.sample(waiting, min(4, len(waiting)))
    for item in chosen[:-1] if len(chosen) > 1 else chosen:
        if item.suggested:
            who = rng.choice(item.suggested)
            assign(
                session,
                item.uid,
                who.member_id,
                actor=actor,
                reason=f"answered {who.answers_in_channel + who.answers_on_tags} like it",
                labels=labels,
            )
    if len(chosen) > 1:
        drop(
            session,
            chosen[-1].uid,
            actor=actor,
            reason="A duplicate of an older topic.",
            labels=labels,
        )
