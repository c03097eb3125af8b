"""Adding, listing and removing sources: the only functions that write the ``sources`` table."""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from commops.clock import utcnow
from commops.connectors.base import Connector, SourceInfo
from commops.connectors.git import (
    GitConnector,
    GitRepo,
    check_branch,
    check_repository,
    default_branch,
    is_url,
    run_git,
)
from commops.errors import SourceError
from commops.store.db import Store
from commops.store.models import Activity, Source

CONNECTORS: dict[str, type[Connector]] = {GitConnector.kind: GitConnector}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/@:-]{0,199}$")


def connector_for(info: SourceInfo) -> Connector:
    try:
        return CONNECTORS[info.kind](info)
    except KeyError:
        raise SourceError(f"source {info.name!r}: unknown kind {info.kind!r}") from None


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
    if not _NAME.match(name):
        raise SourceError(
            f"source name {name!r} is not usable",
            hint="Use letters, digits and . _ - / @ : (at most 200), "
            "starting with a letter or digit.",
        )
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
    with store.session() as session:
        rows = session.execute(
            select(Activity.source_id, func.count()).group_by(Activity.source_id)
        ).all()
        counts: dict[int, int] = {row[0]: row[1] for row in rows}
        return [
            SourceSummary(
                name=s.name,
                kind=s.kind,
                location=s.location,
                options=dict(s.options),
                activities=int(counts.get(s.id, 0)),
                last_synced_at=s.last_synced_at.isoformat() + "Z" if s.last_synced_at else None,
            )
            for s in session.execute(select(Source).order_by(Source.name)).scalars()
        ]


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
