"""Running connectors: every change of one run, and its cursor, in one transaction."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Table, delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from commops.analytics.snapshot import Snapshot
from commops.clock import utcnow
from commops.connectors.base import (
    ActivityRecord,
    Cursor,
    Remove,
    SourceInfo,
    Upsert,
    activity_uid,
)
from commops.errors import CommopsError
from commops.identity.bots import BotRules
from commops.identity.registry import IdentityRegistry
from commops.sources import connector_for, get_sources
from commops.store.db import Store
from commops.store.models import Activity, Source, SyncRun, SyncState
from commops.workspace import Workspace

ProgressFn = Callable[[str, int, int | None, str | None], None]


@dataclass
class SyncResult:
    source: str
    ok: bool
    added: int = 0
    removed: int = 0
    identities: int = 0
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    error: str | None = None


class _RunContext:
    def __init__(
        self, session: Session, source: SourceInfo, cache_dir: Path, progress: ProgressFn | None
    ) -> None:
        self.session = session
        self.source = source
        self.cache_dir = cache_dir
        self.warnings: list[str] = []
        self._progress = progress

    def known_item_keys(self) -> set[str]:
        rows = self.session.execute(
            select(Activity.item_key).where(Activity.source_id == self.source.id).distinct()
        ).scalars()
        return set(rows)

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def progress(self, advance: int = 0, total: int | None = None, note: str | None = None) -> None:
        if self._progress is not None:
            self._progress(self.source.name, advance, total, note)


def _insert(session: Session) -> Any:
    table = cast(Table, Activity.__table__)  # Core insert: no ORM bookkeeping per row
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=["uid"])
    if session.get_bind().dialect.name == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing(index_elements=["uid"])
    return insert(table)


def _rows(
    source: SourceInfo, records: list[ActivityRecord], reg: IdentityRegistry
) -> list[dict[str, Any]]:
    return [
        {
            "uid": activity_uid(source.name, r.kind, r.item_key, r.discriminator),
            "source_id": source.id,
            "item_key": r.item_key,
            "kind": r.kind,
            "occurred_at": r.occurred_at,
            "actor_identity_id": reg.id_of(r.actor),
            "object_identity_id": reg.id_of(r.object) if r.object is not None else None,
            "channel": r.channel,
            "target": r.target,
            "parent": r.parent,
            "title": r.title,
            "contribution_type": r.contribution_type,
            "attributes": r.attributes,
        }
        for r in records
    ]


def _count(session: Session, source_id: int) -> int:
    return int(
        session.execute(
            select(func.count()).select_from(Activity).where(Activity.source_id == source_id)
        ).scalar_one()
    )


def sync_source(
    store: Store,
    source: SourceInfo,
    *,
    cache_dir: Path,
    bots: BotRules,
    progress: ProgressFn | None = None,
) -> SyncResult:
    started = time.perf_counter()
    with store.session() as session:
        run = SyncRun(
            source_id=source.id,
            started_at=utcnow(),
            status="running",
            items_added=0,
            items_removed=0,
            warnings=[],
        )
        session.add(run)
    result = SyncResult(source=source.name, ok=False)
    ctx: _RunContext | None = None
    try:
        connector = connector_for(source)
        with store.session() as session:
            ctx = _RunContext(session, source, cache_dir, progress)
            reg = IdentityRegistry(session, bots)
            before = _count(session, source.id)
            removed = 0
            stmt = _insert(session)
            for stream in connector.streams:
                state = session.execute(
                    select(SyncState).where(
                        SyncState.source_id == source.id, SyncState.stream == stream
                    )
                ).scalar_one_or_none()
                cursor = dict(state.cursor) if state is not None else {}
                for change in connector.read(stream, cursor, ctx):
                    if isinstance(change, Upsert):
                        refs = [r.actor for r in change.records]
                        refs += [r.object for r in change.records if r.object is not None]
                        refs += [m for r in change.records for m in r.mentions]
                        reg.ensure(refs)
                        session.execute(stmt, _rows(source, change.records, reg))
                    elif isinstance(change, Remove):
                        for i in range(0, len(change.item_keys), 500):
                            res = session.execute(
                                delete(Activity).where(
                                    Activity.source_id == source.id,
                                    Activity.item_key.in_(change.item_keys[i : i + 500]),
                                )
                            )
                            removed += getattr(res, "rowcount", 0) or 0
                    elif isinstance(change, Cursor):
                        if state is None:
                            state = SyncState(
                                source_id=source.id,
                                stream=change.stream,
                                cursor=change.value,
                                updated_at=utcnow(),
                            )
                            session.add(state)
                        else:
                            state.cursor = change.value
                            state.updated_at = utcnow()
            after = _count(session, source.id)
            src = session.get(Source, source.id)
            assert src is not None
            src.last_synced_at = utcnow()
        result.ok = True
        result.removed = removed
        result.added = after - before + removed
        result.identities = reg.created
    except CommopsError as exc:
        result.error = str(exc)
    except SQLAlchemyError as exc:  # the database went away, is locked, or refused a row
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        result.error = (
            f"source {source.name!r}: the database failed during the sync ({reason}); "
            "nothing from this run was recorded"
        )
    except Exception as exc:  # a bug: end the run as failed, then let it surface
        result.error = f"source {source.name!r}: {type(exc).__name__}: {exc}"
        raise
    finally:
        result.seconds = time.perf_counter() - started
        result.warnings = ctx.warnings if ctx is not None else []
        try:
            with store.session() as session:
                run_row = session.get(SyncRun, run.id)
                if run_row is not None:
                    run_row.finished_at = utcnow()
                    run_row.status = "ok" if result.ok else "failed"
                    run_row.items_added = result.added
                    run_row.items_removed = result.removed
                    run_row.error = result.error
                    run_row.warnings = result.warnings
        except SQLAlchemyError:
            pass  # the run row stays "running"; the error above is what matters
    return result


def sync_workspace(
    ws: Workspace, names: list[str] | None = None, progress: ProgressFn | None = None
) -> list[SyncResult]:
    """Sync the named sources (all when none), then refresh the analytics snapshot."""
    sources = get_sources(ws.store, names)
    bots = BotRules(ws.config.bot_patterns)
    results = [
        sync_source(ws.store, s, cache_dir=ws.cache_dir, bots=bots, progress=progress)
        for s in sources
    ]
    Snapshot(ws.snapshot_dir).refresh(ws.store)
    return results
