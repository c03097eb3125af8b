"""The in-process analytics engine: DuckDB over the Parquet snapshot, through Ibis."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ibis
import pyarrow as pa
from ibis.expr.types import Table

from commops.analytics.snapshot import (
    ACTIVITY_SCHEMA,
    ENROLLMENT_SCHEMA,
    IDENTITY_SCHEMA,
    SOURCE_SCHEMA,
    Snapshot,
)


class Engine:
    """Tables of the snapshot: ``activities`` (one row per activity, with its member, source and
    the member's bot and staff flags joined in), ``identities`` and ``sources``."""

    def __init__(self, snapshot_dir: Path, backend: Any = None) -> None:
        self.snapshot = Snapshot(snapshot_dir)
        self.con = backend if backend is not None else ibis.duckdb.connect()
        files = [str(p) for p in self.snapshot.activity_files()]
        self.raw_activities: Table = (
            self.con.read_parquet(files, table_name="raw_activities")
            if files
            else self.con.create_table("raw_activities", schema=ibis.schema(ACTIVITY_SCHEMA))
        )
        self.identities: Table = self._table(
            self.snapshot.identities_path, IDENTITY_SCHEMA, "identities"
        )
        self.sources: Table = self._table(self.snapshot.sources_path, SOURCE_SCHEMA, "sources")
        self.enrollments: Table = self._table(
            self.snapshot.enrollments_path, ENROLLMENT_SCHEMA, "enrollments"
        )

    def _table(self, path: Path, schema: pa.Schema, name: str) -> Table:
        if path.exists():
            return self.con.read_parquet(str(path), table_name=name)
        return self.con.create_table(name, schema=ibis.schema(schema))

    def activities(self) -> Table:
        a = self.raw_activities
        i = self.identities
        s = self.sources
        joined = a.join(i, a.actor_identity_id == i.identity_id).join(s, a.source_id == s.source_id)
        return joined.select(
            a.id,
            a.uid,
            a.source_id,
            s.source,
            a.kind,
            a.occurred_at,
            a.actor_identity_id,
            a.object_identity_id,
            i.member_id,
            i.display_name,
            i.value.name("identity_value"),
            i.platform,
            i.is_bot,
            i.is_staff,
            a.channel,
            a.target,
            a.title,
            a.contribution_type,
            a.is_merge,
            a.pr_number,
            a.committed_at,
            a.insertions,
            a.deletions,
            a.files_changed,
        )
