"""The in-process analytics engine: DuckDB over the Parquet snapshot, through Ibis."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb
import ibis
import ibis.expr.operations as ops
import pyarrow as pa
from ibis.expr.types import Expr, Table

from commops.analytics.snapshot import (
    ACTIVITY_SCHEMA,
    ENROLLMENT_SCHEMA,
    IDENTITY_SCHEMA,
    OBSERVATION_SCHEMA,
    SOURCE_SCHEMA,
    Snapshot,
)
from commops.analytics.table import (
    create_enum,
    enum_values,
    matches,
    sql_string,
    table_path,
)

NO_PROGRESS_BAR = "SET enable_progress_bar = false"
KEPT = "_commops_table"  # the catalog name of the attached ``activities.duckdb``


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
    the member's bot and staff flags joined in), ``identities`` and ``sources``; on DuckDB also
    ``table``, the activities as the metrics read them kept by the refresh in
    ``activities.duckdb`` (``commops.analytics.table``), ``daily`` their daily roll-up and
    ``items`` their issues and pull requests, or None when that file does not match the
    snapshot (or ``table=False``)."""

    def __init__(self, snapshot_dir: Path, backend: Any = None, *, table: bool = True) -> None:
        self.snapshot = Snapshot(snapshot_dir)
        self.con = backend if backend is not None else ibis.duckdb.connect()
        self._kept = itertools.count(1)
        # The thread that made the engine runs queries on ``con``; other threads each on a
        # cursor of their own (``fetch``).
        self._owner = threading.get_ident()
        self._local = threading.local()
        self._timezone = (
            self.con.con.sql("SELECT current_setting('TimeZone')").fetchall()[0][0]
            if self.con.name == "duckdb"
            else None
        )
        if self.con.name == "duckdb":
            # DuckDB draws a progress bar on stdout for a query of more than two seconds, into
            # the middle of --json or a table; commops reports its own progress.
            self.con.con.execute(NO_PROGRESS_BAR)
        state = self.snapshot.state()  # read once: the files and the kept table agree
        files = [str(self.snapshot.root / f) for s in state["sources"].values() for f in s["files"]]
        self.raw_activities = self._read(files, ACTIVITY_SCHEMA, "raw_activities")
        self.identities = self._table(self.snapshot.identities_path, IDENTITY_SCHEMA, "identities")
        self.sources = self._table(self.snapshot.sources_path, SOURCE_SCHEMA, "sources")
        self.enrollments = self._table(
            self.snapshot.enrollments_path, ENROLLMENT_SCHEMA, "enrollments"
        )
        self.observations = self._table(
            self.snapshot.observations_path, OBSERVATION_SCHEMA, "observations"
        )
        self.table: Table | None = (
            self._kept_table(state["sources"]) if table and self.name == "duckdb" else None
        )
        # ... and its daily roll-up (``commops.analytics.table.daily``, with the member flags).
        self.daily: Table | None = (
            self.con.table("daily", database=KEPT) if self.table is not None else None
        )
        # ... and its issues and pull requests (``commops.analytics.metrics.item_facts``).
        self.items: Table | None = (
            self.con.table("items", database=KEPT) if self.table is not None else None
        )

    def _kept_table(self, sources: dict[str, Any]) -> Table | None:
        """The refresh's ``activities.duckdb``, attached read-only, when it matches the snapshot
        (``commops.analytics.table.matches``); None otherwise, or when DuckDB cannot open it."""
        path = table_path(self.snapshot.root)
        if not path.exists():
            return None
        con = self.con.con
        try:
            con.execute(f"ATTACH {sql_string(str(path))} AS {KEPT} (READ_ONLY)")
        except duckdb.Error:  # damaged, or of another DuckDB version: not used
            return None
        if not matches(con, KEPT, sources):
            con.execute(f"DETACH {KEPT}")
            return None
        return self.con.table("activities", database=KEPT)

    @property
    def name(self) -> str:
        return str(self.con.name)

    def materialize(
        self, expr: Table, *, enums: Sequence[str] = (), values: Table | None = None
    ) -> Table:
        """``expr`` computed once and kept in the engine (DuckDB: a table of its in-memory
        database, not a temporary one, so that every cursor sees it; Spark: a cached DataFrame
        as a temporary view) until ``release`` or the end of the engine.

        ``enums``: string columns of few distinct values (kinds, channels) that DuckDB keeps as
        an ENUM of those values, in their sorted order: a byte each instead of a string, so the
        table is made faster and read, filtered and grouped several times faster. The values
        are the same strings to every query (a comparison with a value not among them is
        false), and results read them as strings. ``values``: a table with those columns that
        holds every value they may have (read instead of ``expr``: cheaper when ``expr`` is a
        join, say), by default ``expr``."""
        name = f"_commops_kept_{next(self._kept)}"
        if self.con.name == "pyspark":
            frame = self.con._session.sql(str(self.con.compile(expr))).cache()
            frame.createOrReplaceTempView(name)
            return self.con.table(name)
        con = self._connection()
        sql = str(self.con.compile(expr))
        if enums:
            source = sql if values is None else str(self.con.compile(values))
            casts = []
            for column, present in zip(enums, enum_values(con, source, enums), strict=True):
                kind = f"{name}_{column}"
                create_enum(con, f'"{kind}"', present)
                casts.append(f'"{column}"::"{kind}" AS "{column}"')
            sql = f"SELECT * REPLACE ({', '.join(casts)}) FROM ({sql})"
        con.execute(f'CREATE TABLE "{name}" AS {sql}')
        kept = ops.DatabaseTable(name, expr.schema(), source=self.con, namespace=ops.Namespace())
        return kept.to_expr()

    def release(self, table: Table) -> None:
        """Drop a table ``materialize`` made."""
        name = table.op().name
        if self.con.name == "pyspark":
            session = self.con._session
            session.table(name).unpersist()
            session.catalog.dropTempView(name)
        else:
            con = self._connection()
            con.execute(f'DROP TABLE IF EXISTS "{name}"')
            for (kind,) in con.execute(
                "SELECT type_name FROM duckdb_types() WHERE starts_with(type_name, ?)",
                [f"{name}_"],
            ).fetchall():
                con.execute(f'DROP TYPE IF EXISTS "{kind}"')

    def fetch(self, expr: Expr) -> Any:
        """``expr`` computed, as ``expr.to_pyarrow()`` gives it (an Arrow table, array or
        scalar). On DuckDB a thread other than the one that made the engine runs it on a cursor
        of its own (``_connection``). That lets several metrics run at once
        (``Metrics.run_all``)."""
        if self.con.name != "duckdb" or threading.get_ident() == self._owner:
            return expr.to_pyarrow()
        from ibis.backends.duckdb.converter import DuckDBPyArrowData

        self.con._run_pre_execute_hooks(expr)
        table = self._connection().sql(self.con.compile(expr.as_table())).to_arrow_table()
        return expr.__pyarrow_result__(table, data_mapper=DuckDBPyArrowData)

    def _connection(self) -> Any:
        """The DuckDB connection of this thread: the engine's own for the thread that made it,
        else a cursor of the thread's own (a DuckDB connection serves one thread at a time), a
        connection to the same in-memory database. The snapshot's views and the kept tables are
        not temporary (temporary ones are a connection's own), so every cursor sees them."""
        if threading.get_ident() == self._owner:
            return self.con.con
        cursor = getattr(self._local, "cursor", None)
        if cursor is None:
            cursor = self._local.cursor = self.con.con.cursor()
            # (A cursor starts with the machine's time zone; Ibis set the engine's to UTC.)
            cursor.execute(f"SET TimeZone = '{self._timezone}'")
            cursor.execute(NO_PROGRESS_BAR)
        return cursor

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
            # A view of the database, not the temporary one read_parquet makes: every cursor
            # sees it (``fetch``).
            paths = ", ".join(sql_string(f) for f in files)
            self.con.con.execute(
                f'CREATE OR REPLACE VIEW "{name}" AS SELECT * FROM read_parquet([{paths}])'
            )
            return self.con.table(name)
        return self.con.create_table(name, schema=ibis.schema(schema))

    def activities(self, raw: Table | None = None) -> Table:
        """The activities (``raw``: some of ``raw_activities``, by default all) with their
        identity's member and flags and their source's name."""
        a = self.raw_activities if raw is None else raw
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
            a.item,
        )
