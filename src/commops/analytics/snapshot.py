"""The columnar snapshot of the activity stream.

Layout under the workspace's snapshot folder::

    activities/source=<id>/part-<first id>-<last id>.parquet
    identities.parquet   identity -> member map, with bot and staff flags
    enrollments.parquet  members' dated affiliations (organization name, start, end, origin)
    observations.parquet dated readings: downloads, watchers, stars counters (small: rewritten)
    sources.parquet
    state.json           which part files are current, per source
    activities.duckdb    the activities as the metrics read them, up to date with the parts and
                         the identity map (``commops.analytics.table``)

A refresh appends the activities added since the last one as a new part file per source. When a
source lost activities (a rewritten git history), its parts are rewritten; many small parts are
compacted. Files not named in ``state.json`` are never read, so a refresh that dies halfway
leaves the previous snapshot readable. ``rebuild`` starts over from the store.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import func, select

from commops.analytics.table import TableStats
from commops.store.db import Store
from commops.store.models import (
    Activity,
    Enrollment,
    Identity,
    Member,
    Observation,
    Organization,
    Source,
)

FORMAT = 5
MAX_PARTS = 16
CHUNK = 50_000

ACTIVITY_SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("uid", pa.string()),
        ("source_id", pa.int64()),
        ("kind", pa.string()),
        ("occurred_at", pa.timestamp("us")),
        ("actor_identity_id", pa.int64()),
        ("object_identity_id", pa.int64()),
        ("channel", pa.string()),
        ("target", pa.string()),
        ("parent", pa.string()),
        ("title", pa.string()),
        ("contribution_type", pa.string()),
        ("is_merge", pa.bool_()),
        ("pr_number", pa.int64()),
        ("committed_at", pa.timestamp("us")),
        ("insertions", pa.int64()),
        ("deletions", pa.int64()),
        ("files_changed", pa.int64()),
        ("item", pa.int64()),  # the issue, PR, topic ... the activity is on: ``item_key``
    ]
)
OBSERVATION_SCHEMA = pa.schema(
    [
        ("source_id", pa.int64()),
        ("series", pa.string()),
        ("observed_at", pa.timestamp("us")),
        ("kind", pa.string()),
        ("value", pa.float64()),
    ]
)
ENROLLMENT_SCHEMA = pa.schema(
    [
        ("member_id", pa.int64()),
        ("organization", pa.string()),
        ("start_date", pa.date32()),
        ("end_date", pa.date32()),
        ("origin", pa.string()),
    ]
)
IDENTITY_SCHEMA = pa.schema(
    [
        ("identity_id", pa.int64()),
        ("member_id", pa.int64()),
        ("platform", pa.string()),
        ("kind", pa.string()),
        ("value", pa.string()),
        ("name", pa.string()),
        ("identity_is_bot", pa.bool_()),
        ("display_name", pa.string()),
        ("is_bot", pa.bool_()),
        ("is_staff", pa.bool_()),
        ("member_tags", pa.string()),  # the member's tags, "|"-joined and "|"-enclosed
    ]
)
SOURCE_SCHEMA = pa.schema(
    [("source_id", pa.int64()), ("source", pa.string()), ("source_kind", pa.string())]
)


@dataclass
class RefreshStats:
    appended: int = 0
    rewritten_sources: int = 0
    files: int = 0
    table: TableStats | None = None  # what the refresh did to ``activities.duckdb``


def _parse_ts(value: Any) -> datetime | None:
    if not value:
        return None
    return datetime.fromisoformat(str(value).removesuffix("Z"))


# Attributes a metric reads, copied into typed columns. The rest stay in the store (reach them
# by uid): the snapshot is for counting, the store for reading.
METRIC_ATTRIBUTES = (
    ("merge", "is_merge"),
    ("pr_number", "pr_number"),
    ("committed_at", "committed_at"),
    ("insertions", "insertions"),
    ("deletions", "deletions"),
    ("files_changed", "files_changed"),
)


SEP, NO_CHANNEL = "\x1f", "\x1e"  # (control characters: never in a channel or a target)


def item_key(source_id: int, channel: str | None, target: str | None) -> int | None:
    """The number that names the item (issue, pull request, topic, question ...) an activity is
    on: its source, channel and target, as the first 8 bytes of their BLAKE2b digest read as a
    signed integer; ``None`` without a target. The metrics group and join on this one integer
    instead of three columns two of which are strings (about twice as fast on DuckDB).

    It is stable: the same item gets the same number in every refresh, rebuild and version, so
    parts written at different times agree. Two different items share a number with a
    probability of about n²/2⁶⁵ for n items (3·10⁻⁸ for a million items)."""
    if target is None:
        return None
    text = f"{source_id}{SEP}{NO_CHANNEL if channel is None else channel}{SEP}{target}"
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _metric_attributes(dialect: str) -> list[Any]:
    attrs = Activity.attributes
    if dialect == "postgresql":  # jsonb: each lookup is cheap
        return [attrs[key].as_string() for key, _ in METRIC_ATTRIBUTES]
    # SQLite parses the JSON text on every json_extract: one call with every path parses it once
    # and answers with a small JSON array.
    return [func.json_extract(attrs, *(f"$.{key}" for key, _ in METRIC_ATTRIBUTES))]


def _activity_batches(store: Store, source_id: int, after_id: int) -> Iterator[pa.Table]:
    cols = [
        Activity.id,
        Activity.uid,
        Activity.source_id,
        Activity.kind,
        Activity.occurred_at,
        Activity.actor_identity_id,
        Activity.object_identity_id,
        Activity.channel,
        Activity.target,
        Activity.parent,
        Activity.title,
        Activity.contribution_type,
        *_metric_attributes(store.dialect),
    ]
    stmt = (
        select(*cols)
        .where(Activity.source_id == source_id, Activity.id > after_id)
        .order_by(Activity.id)
        .execution_options(yield_per=CHUNK)
    )
    base = len(cols) - len(_metric_attributes(store.dialect))
    with store.session() as session:
        for part in session.execute(stmt).partitions(CHUNK):
            columns: list[Any] = list(zip(*part, strict=True))
            if store.dialect == "postgresql":
                extra = columns[base:]
            else:
                extra = list(zip(*(json.loads(v) for v in columns[base]), strict=True))
            columns = columns[:base] + [
                _typed(name, col)
                for name, col in zip((c for _, c in METRIC_ATTRIBUTES), extra, strict=True)
            ]
            columns.append(
                [
                    item_key(s, c, t)
                    for s, c, t in zip(columns[2], columns[7], columns[8], strict=True)
                ]
            )
            arrays = [
                pa.array(col, type=f.type) for col, f in zip(columns, ACTIVITY_SCHEMA, strict=True)
            ]
            yield pa.Table.from_arrays(arrays, schema=ACTIVITY_SCHEMA)


def _typed(column: str, values: Any) -> list[Any]:
    if column == "committed_at":
        return [_parse_ts(v) for v in values]
    if column == "is_merge":
        return [None if v is None else v in (True, 1, "true") for v in values]
    return [None if v is None else int(v) for v in values]


def _write_atomic(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(table, tmp, compression="zstd")
    os.replace(tmp, path)


def read_enrollments(store: Store) -> pa.Table:
    """Every enrollment as (member_id, organization, start_date, end_date, origin)."""
    with store.session() as session:
        rows = session.execute(
            select(
                Enrollment.member_id,
                Organization.name,
                Enrollment.start_date,
                Enrollment.end_date,
                Enrollment.origin,
            )
            .join(Organization, Organization.id == Enrollment.organization_id)
            .order_by(Enrollment.id)
        ).all()
    return pa.Table.from_pylist(
        [dict(zip(ENROLLMENT_SCHEMA.names, r, strict=True)) for r in rows],
        schema=ENROLLMENT_SCHEMA,
    )


def _merge_atomic(parts: list[Path], path: Path) -> None:
    """Many part files as one, streamed: one part in memory at a time (a source of ten million
    activities is merged in the memory of fifty thousand)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with pq.ParquetWriter(tmp, ACTIVITY_SCHEMA, compression="zstd") as writer:
        for part in parts:
            writer.write_table(pq.read_table(part, schema=ACTIVITY_SCHEMA))
    os.replace(tmp, path)


class Snapshot:
    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def state_path(self) -> Path:
        return self.root / "state.json"

    def state(self) -> dict[str, Any]:
        try:
            state: dict[str, Any] = json.loads(self.state_path.read_text(encoding="utf-8"))
        except (FileNotFoundError, json.JSONDecodeError):
            return {"format": FORMAT, "sources": {}}
        if state.get("format") != FORMAT:
            return {"format": FORMAT, "sources": {}}
        return state

    def activity_files(self) -> list[Path]:
        return [self.root / f for s in self.state()["sources"].values() for f in s["files"]]

    @property
    def identities_path(self) -> Path:
        return self.root / "identities.parquet"

    @property
    def enrollments_path(self) -> Path:
        return self.root / "enrollments.parquet"

    @property
    def observations_path(self) -> Path:
        return self.root / "observations.parquet"

    @property
    def sources_path(self) -> Path:
        return self.root / "sources.parquet"

    def exists(self) -> bool:
        return self.state_path.exists() and self.identities_path.exists()

    def rebuild(self, store: Store) -> RefreshStats:
        if self.root.exists():
            shutil.rmtree(self.root)
        return self.refresh(store)

    def refresh(self, store: Store) -> RefreshStats:
        stats = RefreshStats()
        state = self.state()
        old_sources: dict[str, Any] = state["sources"]
        new_sources: dict[str, Any] = {}
        with store.session() as session:
            db = {
                int(sid): (int(n), int(mx or 0))
                for sid, n, mx in session.execute(
                    select(Activity.source_id, func.count(), func.max(Activity.id)).group_by(
                        Activity.source_id
                    )
                )
            }
            sources = session.execute(select(Source.id, Source.name, Source.kind)).all()
        for sid, (count, max_id) in db.items():
            entry = old_sources.get(str(sid))
            folder = f"activities/source={sid}"
            if entry is not None and entry["count"] == count and entry["max_id"] == max_id:
                new_sources[str(sid)] = entry
                continue
            appendable = entry is not None and entry["max_id"] <= max_id
            if appendable:
                assert entry is not None
                with store.session() as session:
                    newer = int(
                        session.execute(
                            select(func.count())
                            .select_from(Activity)
                            .where(Activity.source_id == sid, Activity.id > entry["max_id"])
                        ).scalar_one()
                    )
                appendable = entry["count"] + newer == count
            if appendable and entry is not None:
                files = list(entry["files"])
                after = int(entry["max_id"])
            else:
                files, after = [], 0
                stats.rewritten_sources += 1 if entry is not None else 0
            for table in _activity_batches(store, sid, after):
                first, last = table["id"][0].as_py(), table["id"][-1].as_py()
                name = f"{folder}/part-{first:012d}-{last:012d}.parquet"
                _write_atomic(table, self.root / name)
                files.append(name)
                stats.appended += table.num_rows
            if len(files) > MAX_PARTS:
                name = f"{folder}/part-{1:012d}-{max_id:012d}-c.parquet"
                _merge_atomic([self.root / f for f in files], self.root / name)
                files = [name]
            new_sources[str(sid)] = {"count": count, "max_id": max_id, "files": files}
        self._write_people(store)
        _write_atomic(
            pa.Table.from_pylist(
                [{"source_id": i, "source": n, "source_kind": k} for i, n, k in sources],
                schema=SOURCE_SCHEMA,
            ),
            self.sources_path,
        )
        state = {"format": FORMAT, "sources": new_sources}
        tmp = self.state_path.with_name("state.json.tmp")
        tmp.write_text(json.dumps(state, indent=1), encoding="utf-8")
        os.replace(tmp, self.state_path)
        self._sweep(new_sources)
        stats.files = sum(len(s["files"]) for s in new_sources.values())
        from commops.analytics.table import sync

        stats.table = sync(self)
        return stats

    def _write_people(self, store: Store) -> None:
        with store.session() as session:
            rows = session.execute(
                select(
                    Identity.id,
                    Identity.member_id,
                    Identity.platform,
                    Identity.kind,
                    Identity.value,
                    Identity.name,
                    Identity.is_bot,
                    Member.display_name,
                    Member.is_bot,
                    Member.is_staff,
                    Member.tags,
                )
                .join(Member, Member.id == Identity.member_id)
                .order_by(Identity.id)
            ).all()
        table = pa.Table.from_pylist(
            [
                dict(zip(IDENTITY_SCHEMA.names, (*row[:-1], _tags(row[-1])), strict=True))
                for row in rows
            ],
            schema=IDENTITY_SCHEMA,
        )
        _write_atomic(table, self.identities_path)
        _write_atomic(read_enrollments(store), self.enrollments_path)
        with store.session() as session:
            readings = session.execute(
                select(
                    Observation.source_id,
                    Observation.series,
                    Observation.observed_at,
                    Observation.kind,
                    Observation.value,
                ).order_by(Observation.id)
            ).all()
        _write_atomic(
            pa.Table.from_pylist(
                [dict(zip(OBSERVATION_SCHEMA.names, r, strict=True)) for r in readings],
                schema=OBSERVATION_SCHEMA,
            ),
            self.observations_path,
        )

    def _sweep(self, sources: dict[str, Any]) -> None:
        keep = {self.root / f for s in sources.values() for f in s["files"]}
        folder = self.root / "activities"
        if not folder.exists():
            return
        for path in folder.rglob("*.parquet*"):
            if path not in keep:
                path.unlink()


def _tags(tags: Any) -> str | None:
    """``["ambassador", "tsc"]`` -> ``"|ambassador|tsc|"``: a plain string any engine can
    search for ``"|ambassador|"`` in."""
    if isinstance(tags, str):
        tags = json.loads(tags)
    clean = [str(t).replace("|", "/") for t in tags or []]
    return "|" + "|".join(clean) + "|" if clean else None
