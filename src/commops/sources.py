"""Adding, listing and removing sources: the only functions that write the ``sources`` table."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from commops.clock import utcnow
from commops.connectors import registry
from commops.connectors.base import Connector, SourceInfo
from commops.connectors.git import (
    GitRepo,
    check_branch,
    check_repository,
    default_branch,
    is_url,
    run_git,
)
from commops.errors import SourceError
from commops.store.db import Store
from commops.store.models import Activity, Source, SyncRun, SyncState
from commops.store.models import Observation as ObservationRow

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/@:-]{0,199}$")


def _check_name(name: str) -> None:
    if not _NAME.match(name):
        raise SourceError(
            f"source name {name!r} is not usable",
            hint="Use letters, digits and . _ - / @ : (at most 200), "
            "starting with a letter or digit.",
        )


def connector_class(kind: str) -> type[Connector]:
    try:
        return registry()[kind]
    except KeyError:
        raise SourceError(
            f"unknown source kind {kind!r}", hint=f"Kinds: {', '.join(sorted(registry()))}"
        ) from None


def connector_for(info: SourceInfo) -> Connector:
    try:
        return registry()[info.kind](info)
    except KeyError:
        raise SourceError(f"source {info.name!r}: unknown kind {info.kind!r}") from None


def add_source(
    store: Store,
    kind: str,
    location: str,
    *,
    name: str | None = None,
    options: dict[str, Any] | None = None,
) -> Source:
    """Add a source of any kind: its connector checks the arguments (``Connector.prepare``)
    before anything is stored."""
    cls = connector_class(kind)
    default_name, location, prepared = cls.prepare(location, dict(options or {}))
    name = name or default_name
    _check_name(name)
    with store.session() as session:
        clash = session.execute(select(Source).where(Source.name == name)).scalar_one_or_none()
        if clash is not None:
            raise SourceError(
                f"a source named {name!r} already exists ({clash.kind} {clash.location})",
                hint="Choose another name with --name.",
            )
        source = Source(
            name=name, kind=kind, location=location, options=prepared, created_at=utcnow()
        )
        session.add(source)
    return source


def ensure_source(
    store: Store, kind: str, location: str, *, name: str, options: dict[str, Any]
) -> Source:
    """The source ``name`` if it exists with this kind (imports reuse it), else a new one."""
    with store.session() as session:
        existing = session.execute(select(Source).where(Source.name == name)).scalar_one_or_none()
    if existing is None:
        return add_source(store, kind, location, name=name, options=options)
    if existing.kind != kind:
        raise SourceError(
            f"source {name!r} exists and is a {existing.kind} source, not {kind}",
            hint="Choose another name with --name.",
        )
    return existing


def info(source: Source) -> SourceInfo:
    return SourceInfo(source.id, source.name, source.kind, source.location, dict(source.options))


@dataclass
class SourceSummary:
    name: str
    kind: str
    location: str
    options: dict[str, Any]
    activities: int
    last_synced_at: str | None
    observations: int = 0
    cursors: dict[str, Any] = field(default_factory=dict)
    status: dict[str, Any] = field(default_factory=dict)
    last_run: str | None = None  # ok | failed | running
    last_error: str | None = None


def _git_name(location: str) -> str:
    if is_url(location):
        tail = location.rstrip("/").rsplit("/", 1)[-1].rsplit(":", 1)[-1]
        return tail.removesuffix(".git") or "repo"
    path = Path(location)
    proc = run_git(path, "rev-parse", "--show-toplevel", what="", check=False)
    top = (
        Path(proc.stdout.decode().strip()) if proc.returncode == 0 and proc.stdout.strip() else path
    )
    return top.name.removesuffix(".git") or "repo"


def add_git_source(
    store: Store,
    location: str,
    *,
    name: str | None = None,
    branch: str | None = None,
    mailmap: bool = True,
) -> Source:
    if not is_url(location):
        path = Path(location).expanduser().resolve()
        check_repository(path, name or path.name)
        location = str(path)
    name = name or _git_name(location)
    _check_name(name)
    with store.session() as session:
        clash = session.execute(select(Source).where(Source.name == name)).scalar_one_or_none()
        if clash is not None:
            raise SourceError(
                f"a source named {name!r} already exists ({clash.kind} {clash.location})",
                hint="Choose another name with --name.",
            )
        same = (
            session.execute(select(Source).where(Source.kind == "git", Source.location == location))
            .scalars()
            .all()
        )
        for other in same:
            if other.options.get("branch") == branch or branch is None:
                raise SourceError(f"{location} is already the source {other.name!r}")
    if branch is None:
        branch = default_branch(location, name)
    else:
        check_branch(location, branch, name)
    with store.session() as session:
        source = Source(
            name=name,
            kind="git",
            location=location,
            options={"branch": branch, "mailmap": mailmap},
            created_at=utcnow(),
        )
        session.add(source)
    return source


def list_sources(store: Store) -> list[SourceSummary]:
    """Every source with its item counts, cursors, status, and how its last sync ended."""
    with store.session() as session:
        counts = {
            row[0]: row[1]
            for row in session.execute(
                select(Activity.source_id, func.count()).group_by(Activity.source_id)
            )
        }
        observed = {
            row[0]: row[1]
            for row in session.execute(
                select(ObservationRow.source_id, func.count()).group_by(ObservationRow.source_id)
            )
        }
        cursors: dict[int, dict[str, Any]] = {}
        for state in session.execute(select(SyncState)).scalars():
            cursors.setdefault(state.source_id, {})[state.stream] = state.cursor
        last_run_id = (
            select(SyncRun.source_id, func.max(SyncRun.id).label("run_id"))
            .group_by(SyncRun.source_id)
            .subquery()
        )
        runs = {
            run.source_id: run
            for run in session.execute(
                select(SyncRun).join(last_run_id, SyncRun.id == last_run_id.c.run_id)
            ).scalars()
        }
        out = []
        for src in session.execute(select(Source).order_by(Source.name)).scalars():
            run = runs.get(src.id)
            out.append(
                SourceSummary(
                    name=src.name,
                    kind=src.kind,
                    location=src.location,
                    options=dict(src.options),
                    activities=int(counts.get(src.id, 0)),
                    last_synced_at=(
                        src.last_synced_at.isoformat() + "Z" if src.last_synced_at else None
                    ),
                    observations=int(observed.get(src.id, 0)),
                    cursors=cursors.get(src.id, {}),
                    status=dict(src.status or {}),
                    last_run=run.status if run else None,
                    last_error=run.error if run and run.status == "failed" else None,
                )
            )
        return out


def get_sources(store: Store, names: list[str] | None = None) -> list[SourceInfo]:
    with store.session() as session:
        rows = session.execute(select(Source).order_by(Source.name)).scalars().all()
        found = {s.name: info(s) for s in rows}
    if not names:
        return list(found.values())
    missing = [n for n in names if n not in found]
    if missing:
        raise SourceError(
            f"no source named {', '.join(map(repr, missing))}",
            hint="Sources: "
            + (", ".join(found) or "(none yet; add one with `commops add git PATH`)"),
        )
    return [found[n] for n in names]


__all__ = ["add_git_source", "check_repository", "connector_for", "get_sources", "list_sources"]


@dataclass
class Removed:
    name: str
    activities: int
    cache: str | None


def remove_source(store: Store, name: str, cache_dir: Path) -> Removed:
    """Delete a source with its activities, cursor and run history; identities stay (other
    sources may share them). A git clone the source kept in the cache is deleted too."""
    (source,) = get_sources(store, [name])
    with store.session() as session:
        count = int(
            session.execute(
                select(func.count()).select_from(Activity).where(Activity.source_id == source.id)
            ).scalar_one()
        )
        row = session.get(Source, source.id)
        assert row is not None
        session.delete(row)  # activities, sync state and runs go by ON DELETE CASCADE
    cache: str | None = None
    if source.kind == "git" and is_url(source.location):
        clone = GitRepo(source.name, source.location, cache_dir).path
        if clone.exists():
            shutil.rmtree(clone)
            cache = str(clone)
    return Removed(name=name, activities=count, cache=cache)
