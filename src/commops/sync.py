"""Running connectors: changes are written in transactions that end at each cursor.

The items a connector yields since its previous ``Cursor`` and the new cursor are committed
together (a checkpoint), so the stored cursor never runs ahead of the stored items. A run that
fails keeps its earlier checkpoints and nothing after them; the next run resumes at the last
stored cursor, and items read twice are dropped by their uid. During a backfill
(``commops sync --from/--until``) items are written at each checkpoint but cursors are not.
"""

from __future__ import annotations

import os
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
from commops.config import Config
from commops.connectors.base import (
    ActivityRecord,
    Cursor,
    Observation,
    Observe,
    Remove,
    SourceInfo,
    Status,
    Upsert,
    Window,
    activity_uid,
)
from commops.connectors.http import HttpClient
from commops.errors import CommopsError, SourceError
from commops.identity.bots import BotRules, apply_bot_flags
from commops.identity.orgs import affiliate
from commops.identity.registry import IdentityRegistry
from commops.identity.resolve import Stats as ResolveStats
from commops.identity.resolve import resolve
from commops.identity.staff import apply_staff_flags
from commops.ops.core import OPS_KIND
from commops.sources import connector_for, get_sources
from commops.store.db import Store
from commops.store.models import Activity, Source, SyncRun, SyncState
from commops.store.models import Observation as ObservationRow
from commops.workspace import Workspace

ProgressFn = Callable[[str, int, int | None, str | None], None]


@dataclass
class SyncResult:
    source: str
    ok: bool
    added: int = 0
    removed: int = 0
    identities: int = 0
    observations: int = 0
    checkpoints: int = 0
    requests: int = 0
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    error: str | None = None


class _RunContext:
    def __init__(
        self,
        session: Session,
        source: SourceInfo,
        cache_dir: Path,
        progress: ProgressFn | None,
        config: Config,
        window: Window | None,
        params: dict[str, Any],
    ) -> None:
        self.session = session
        self.source = source
        self.cache_dir = cache_dir
        self.config = config
        self.window = window
        self.params = params
        self.warnings: list[str] = []
        self.clients: list[HttpClient] = []
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

    def secret(self, *names: str) -> str | None:
        for name in names:
            if not name:
                continue
            if os.environ.get(name):
                return os.environ[name]
            if self.config.tokens.get(name):
                return self.config.tokens[name]
        return None

    def http(self, base_url: str, **kwargs: Any) -> HttpClient:
        settings: dict[str, Any] = {
            "timeout": self.config.http_timeout,
            "attempts": self.config.http_attempts,
            "max_wait": self.config.http_max_wait,
        }
        settings.update(kwargs)
        client = HttpClient(base_url, source=self.source.name, **settings)
        self.clients.append(client)
        return client

    def close(self) -> int:
        requests = sum(c.requests for c in self.clients)
        for client in self.clients:
            client.close()
        self.clients.clear()
        return requests


def _insert(session: Session, model: Any, unique: list[str]) -> Any:
    table = cast(Table, model.__table__)  # Core insert: no ORM bookkeeping per row
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=unique)
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing(index_elements=unique)
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


def _observe(session: Session, source_id: int, observations: list[Observation]) -> int:
    """Store readings; a counter lower than the reading before it is flagged, not changed."""
    rows: list[dict[str, Any]] = []
    for obs in sorted(observations, key=lambda o: (o.series, o.observed_at)):
        decreased = False
        if obs.kind == "counter":
            before = session.execute(
                select(ObservationRow.value)
                .where(
                    ObservationRow.source_id == source_id,
                    ObservationRow.series == obs.series,
                    ObservationRow.observed_at < obs.observed_at,
                )
                .order_by(ObservationRow.observed_at.desc())
                .limit(1)
            ).scalar_one_or_none()
            previous: float | None = next(
                (float(r["value"]) for r in reversed(rows) if r["series"] == obs.series), before
            )
            decreased = previous is not None and obs.value < previous
        rows.append(
            {
                "source_id": source_id,
                "series": obs.series,
                "observed_at": obs.observed_at,
                "kind": obs.kind,
                "value": float(obs.value),
                "decreased": decreased,
                "attributes": obs.attributes,
            }
        )
    if rows:
        session.execute(
            _insert(session, ObservationRow, ["source_id", "series", "observed_at"]), rows
        )
    return len(rows)


def sync_source(
    store: Store,
    source: SourceInfo,
    *,
    cache_dir: Path,
    bots: BotRules,
    config: Config | None = None,
    progress: ProgressFn | None = None,
    window: Window | None = None,
    params: dict[str, Any] | None = None,
) -> SyncResult:
    """Run one source's connector over all its streams. Never raises for a failure of the
    source, the network or the database: the result says what went wrong."""
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
        before = _count(session, source.id)
    result = SyncResult(source=source.name, ok=False)
    ctx: _RunContext | None = None
    removed = 0
    try:
        connector = connector_for(source)
        with store.new_session() as session:
            ctx = _RunContext(
                session, source, cache_dir, progress, config or Config(), window, params or {}
            )
            reg = IdentityRegistry(session, bots)
            activities = _insert(session, Activity, ["uid"])
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
                        if change.records:
                            session.execute(activities, _rows(source, change.records, reg))
                    elif isinstance(change, Remove):
                        for i in range(0, len(change.item_keys), 500):
                            res = session.execute(
                                delete(Activity).where(
                                    Activity.source_id == source.id,
                                    Activity.item_key.in_(change.item_keys[i : i + 500]),
                                )
                            )
                            removed += getattr(res, "rowcount", 0) or 0
                    elif isinstance(change, Observe):
                        result.observations += _observe(session, source.id, change.observations)
                    elif isinstance(change, Status):
                        src = session.get(Source, source.id)
                        assert src is not None
                        src.status = {**(src.status or {}), **change.value}
                    elif isinstance(change, Cursor):
                        if window is None:
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
                        reg.flush_names()
                        session.commit()  # a checkpoint: these items with this cursor
                        result.checkpoints += 1
            src = session.get(Source, source.id)
            assert src is not None
            src.last_synced_at = utcnow()
            reg.flush_names()
            session.commit()
        result.ok = True
        result.identities = reg.created
    except CommopsError as exc:
        result.error = str(exc)
    except SQLAlchemyError as exc:  # the database went away, is locked, or refused a row
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        result.error = (
            f"source {source.name!r}: the database failed during the sync ({reason}); "
            "what was stored before the last checkpoint is kept"
        )
    except Exception as exc:  # a bug: end the run as failed, then let it surface
        result.error = f"source {source.name!r}: {type(exc).__name__}: {exc}"
        raise
    finally:
        if ctx is not None:
            result.requests = ctx.close()
            result.warnings = ctx.warnings
        result.seconds = time.perf_counter() - started
        try:
            with store.session() as session:
                result.removed = removed
                result.added = _count(session, source.id) - before + removed
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
    ws: Workspace,
    names: list[str] | None = None,
    progress: ProgressFn | None = None,
    *,
    window: Window | None = None,
    params: dict[str, Any] | None = None,
) -> list[SyncResult]:
    """Sync the named sources (all when none), then refresh the analytics snapshot. The
    ``commops`` source the operations workflows record into has nothing to sync."""
    sources = get_sources(ws.store, names)
    if names:
        own = [s.name for s in sources if s.kind == OPS_KIND]
        if own:
            raise SourceError(
                f"source {own[0]!r} holds what commops records itself (feedback, content, "
                "reviews): there is nothing to sync from it",
                hint="Sync the other sources by name, or all of them with `commops sync`.",
            )
    else:
        sources = [s for s in sources if s.kind != OPS_KIND]
    bots = BotRules.from_config(ws.config)
    results = [
        sync_source(
            ws.store,
            s,
            cache_dir=ws.cache_dir,
            bots=bots,
            config=ws.config,
            progress=progress,
            window=window,
            params=params,
        )
        for s in sources
    ]
    if any(r.ok for r in results):
        try:
            if ws.config.resolve_after_sync:
                resolve_new_identities(ws)
            with ws.store.session() as session:
                apply_bot_flags(session, ws.config, reason="after sync")
                affiliate(
                    session,
                    extra_domains=ws.config.org_domains,
                    extra_public=ws.config.public_providers,
                )
                apply_staff_flags(session, ws.config, reason="after sync")
        except (CommopsError, SQLAlchemyError) as exc:
            # The items are stored; only who-is-who is behind. Say so; the next run catches up.
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            for r in results:
                if r.ok:
                    r.warnings.append(
                        f"identity resolution, affiliation or bot/staff detection failed "
                        f"({reason}); run `commops members resolve`, `commops orgs affiliate` "
                        "and `commops members detect`"
                    )
    Snapshot(ws.snapshot_dir).refresh(ws.store)
    return results


def resolve_new_identities(ws: Workspace, *, full: bool = False) -> ResolveStats:
    """Run the identity resolver over the identities the last syncs added (all with ``full``),
    in one transaction: a failure leaves members as they were and the identities unresolved,
    so the next run picks them up."""
    with ws.store.session() as session:
        return resolve(
            session,
            full=full,
            auto_merge_score=ws.config.auto_merge_score,
            suggest_score=ws.config.suggest_score,
        )
