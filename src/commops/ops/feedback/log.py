"""The feedback workflow's audit log, read back (the entries ``commops.ops.core.record``
wrote for items, themes and suggestions)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from commops.errors import UsageError
from commops.ops.feedback.models import ITEM, SUGGESTION, THEME
from commops.store.models import OpsLog

RECORD_TYPES = {"item": ITEM, "theme": THEME, "suggestion": SUGGESTION}


@dataclass
class LogEntry:
    id: int
    at: datetime
    actor: str
    record: str
    record_id: int
    action: str
    from_state: str | None
    to_state: str | None
    reason: str | None
    details: dict[str, Any]


def log_entries(
    session: Session, *, record: str | None = None, record_id: int | None = None, limit: int = 50
) -> list[LogEntry]:
    """The newest entries, of one kind of record (``item``, ``theme``, ``suggestion``) or of one
    record when ``record_id`` is given too."""
    if record is not None and record not in RECORD_TYPES:
        raise UsageError(f"unknown record kind {record!r}", hint="item, theme or suggestion")
    if record_id is not None and record is None:
        raise UsageError("a record id needs its kind (item, theme or suggestion)")
    types = [RECORD_TYPES[record]] if record is not None else list(RECORD_TYPES.values())
    stmt = select(OpsLog).where(OpsLog.record_type.in_(types))
    if record_id is not None:
        stmt = stmt.where(OpsLog.record_id == record_id)
    short = {v: k for k, v in RECORD_TYPES.items()}
    return [
        LogEntry(
            id=e.id,
            at=e.at,
            actor=e.actor,
            record=short[e.record_type],
            record_id=e.record_id,
            action=e.action,
            from_state=e.from_state,
            to_state=e.to_state,
            reason=e.reason,
            details=dict(e.details or {}),
        )
        for e in session.execute(stmt.order_by(OpsLog.id.desc()).limit(limit)).scalars()
    ]
