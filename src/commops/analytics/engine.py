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
    OBSERVATION_SCHEMA,
    SOURCE_SCHEMA,
    Snapshot,
)


def _spark_schema(schema: pa.Schema) -> Any:
    """The snapshot's Arrow schema as a Spark schema (for an empty table)."""
    from pyspark.sql import types as T

    kinds = {
        pa.int64(): T.LongType(),
        pa.string(): T.StringType(),
        pa.bool_(): T.BooleanType(),
        pa.timestamp("us"): T.TimestampNTZType(),
        pa.date32(): T.DateType(),
        pa.float64(): T.DoubleType(),
    }
    return T.StructType([T.StructField(f.name, kinds[f.type], True) for f in schema])


def spark_backend(master: str | None = None) -> Any:
    """An Ibis PySpark backend on a local (or given) Spark master, in UTC. Needs the `spark`
    extra (`pip install 'commops[spark]'`) and Java 17."""
    import os

    try:
        from pyspark.sql import SparkSession
    except ImportError:
        from commops.errors import UsageError

        raise UsageError(
            "--engine spark needs PySpark", hint="pip install 'commops[spark]' (and Java 17)"
        ) from None
    session = (
        SparkSession.builder.master(master or os.environ.get("COMMOPS_SPARK_MASTER", "local[2]"))
        .appName("commops")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return ibis.pyspark.connect(session)


class Engine:
    """Tables of the snapshot: ``activities`` (one row per activity, with its member, source and
    the member's bot and staff flags joined in), ``identities`` and ``sources``."""

    def __init__(self, snapshot_dir: Path, backend: Any = None) -> None:
        self.snapshot = Snapshot(snapshot_dir)
        self.con = backend if backend is not None else ibis.duckdb.connect()
        self._kept = 0
        files = [str(p) for p in self.snapshot.activity_files()]
        self.raw_activities = self._read(files, ACTIVITY_SCHEMA, "raw_activities")
        self.identities = self._table(self.snapshot.identities_path, IDENTITY_SCHEMA, "identities")
        self.sources = self._table(self.snapshot.sources_path, SOURCE_SCHEMA, "sources")
        self.enrollments = self._table(
            self.snapshot.enrollments_path, ENROLLMENT_SCHEMA, "enrollments"
        )
        self.observations = self._table(
            self.snapshot.observations_path, OBSERVATION_SCHEMA, "observations"
        )

    @property
    def name(self) -> str:
        return str(self.con.name)

    def materialize(self, expr: Table) -> Table:
        """``expr`` computed once and kept in the engine (DuckDB: a temporary table; Spark: a
        cached DataFrame as a temporary view) until ``release`` or the end of the engine."""
        self._kept += 1
        name = f"_commops_kept_{self._kept}"
        if self.con.name == "pyspark":
            frame = self.con._session.sql(str(self.con.compile(expr))).cache()
            frame.createOrReplaceTempView(name)
            return self.con.table(name)
        return self.con.create_table(name, expr, temp=True)

    def release(self, table: Table) -> None:
        """Drop a table ``materialize`` made."""
        name = table.op().name
        if self.con.name == "pyspark":
            session = self.con._session
            session.table(name).unpersist()
            session.catalog.dropTempView(name)
        else:
            self.con.raw_sql(f'DROP TABLE IF EXISTS temp.main."{name}"')

    def _table(self, path: Path, schema: pa.Schema, name: str) -> Table:
        return self._read([str(path)] if path.exists() else [], schema, name)

    def _read(self, files: list[str], schema: pa.Schema, name: str) -> Table:
        """The Parquet files as one table (an empty one with the schema when there are none).
        Spark reads them itself, all at once, as a temporary view."""
        if self.con.name == "pyspark":
            session = self.con._session
            frame = (
                session.read.parquet(*files)
                if files
                else session.createDataFrame([], schema=_spark_schema(schema))
            )
            frame.createOrReplaceTempView(name)
            return self.con.table(name)
        if files:
            return self.con.read_parquet(files, table_name=name)
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
            i.member_tags,
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
