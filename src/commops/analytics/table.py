"""The activities as the metrics read them, kept in a DuckDB file beside the snapshot.

``Metrics.base`` reads the columns ``COLUMNS`` of every activity with its member and the
member's bot and staff flags. Made from the Parquet parts and the identity map at each run,
that table costs a third of the whole catalogue at ten million activities (a join and a copy of
the rows). So a refresh keeps it, up to date, in ``activities.duckdb`` in the snapshot folder:

- table ``activities``: ``COLUMNS`` of every activity of the snapshot (an inner join of the
  activities with the identity map and the sources, as ``Engine.activities``), kind, channel
  and contribution type as ENUMs of the values present (one byte each);
- table ``daily``: their roll-up per member (with the member's flags), day, kind and
  contribution type (``daily``), which ``Metrics.daily`` reads;
- table ``items``: their issues and pull requests (``metrics.item_facts``: author, opening,
  first response, merge, close), which ``Metrics.items`` reads;
- table ``people``: the identity -> member map (and flags) the rows were joined with;
- table ``meta``: ``TABLE_FORMAT`` and the snapshot's per-source state the rows match.

``sync`` brings it up to date after a refresh, doing only what changed: the new activities of a
source are inserted, a rewritten or removed source's rows are deleted (and inserted again), and
the rows of identities whose member or flags changed are updated; the daily roll-up of the
members of those rows, and the facts of their issues and pull requests, are made again from
their rows. A new kind, channel or
contribution type (an ENUM cannot grow), a removed identity or another format builds the file
anew. Each change is written to a copy that replaces the file in one rename, so a reader (a
dashboard, a report) never sees half of it, and a refresh that dies leaves the previous file.

``Engine`` reads the file only when it matches the snapshot exactly: the same per-source state
and the same identity map. Otherwise (an old snapshot, a refresh that died before the rename, a
file DuckDB cannot read) the metrics make the table from the Parquet parts as before.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import ibis
from ibis.expr.types import Table

if TYPE_CHECKING:
    from commops.analytics.engine import Engine
    from commops.analytics.snapshot import Snapshot

TABLE_FILE = "activities.duckdb"
TABLE_FORMAT = 3

# The columns of the activities the metrics read (``Metrics.base``).
COLUMNS = (
    "source_id",
    "kind",
    "occurred_at",
    "actor_identity_id",
    "object_identity_id",
    "member_id",
    "is_bot",
    "is_staff",
    "channel",
    "target",
    "item",
    "contribution_type",
    "is_merge",
    "pr_number",
    "committed_at",
    "insertions",
    "deletions",
)
# Columns of few values, kept as enums (``Engine.materialize``).
ENUMS = ("kind", "channel", "contribution_type")
# What the rows take from the identity map.
PEOPLE = ("identity_id", "member_id", "is_bot", "is_staff")


def daily(t: Table, *, flags: bool = False) -> Table:
    """``Metrics.daily``'s roll-up of the activities ``t``: per member, UTC day (``day``, a
    date), kind and contribution type, the number of activities ``n``, the ``first_at`` and
    ``last_at`` of them and ``lines``, the insertions plus deletions of non-merge commits.
    ``flags``: the member's bot and staff flags are among the keys too (one value per member:
    the same groups), so that bots and staff can be left out of the roll-up afterwards."""
    lines = ibis.ifelse(
        (t.kind == "git:commit") & ~t.is_merge.fill_null(False),
        t.insertions.fill_null(0) + t.deletions.fill_null(0),
        0,
    )
    keys = [t.member_id, *([t.is_bot, t.is_staff] if flags else [])]
    return t.group_by(
        [*keys, t.occurred_at.cast("date").name("day"), t.kind, t.contribution_type]
    ).aggregate(
        n=t.count(),
        first_at=t.occurred_at.min(),
        last_at=t.occurred_at.max(),
        lines=lines.sum().cast("int64"),
    )


WRITER = "_commops_table_new"  # the catalog name of the copy being written
OLD = "_commops_table_old"  # ... and of the file being read by ``sync``
TOUCHED = "_commops_touched"  # ``sync``'s members whose daily roll-up changes
TOUCHED_ITEMS = "_commops_touched_items"  # ... and issues and pull requests whose facts do


@dataclass
class TableStats:
    """What ``sync`` did: ``built`` (made anew) or the rows ``inserted``, ``deleted`` and
    ``updated`` (rows of identities whose member or flags changed)."""

    built: bool = False
    inserted: int = 0
    deleted: int = 0
    updated: int = 0

    @property
    def changed(self) -> bool:
        return self.built or bool(self.inserted or self.deleted or self.updated)


def table_path(root: Path) -> Path:
    return root / TABLE_FILE


def sql_string(value: str) -> str:
    """``value`` as an SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


@contextmanager
def _attached(con: Any, path: Path, name: str, *, read_only: bool) -> Iterator[None]:
    mode = " (READ_ONLY)" if read_only else ""
    con.execute(f"ATTACH {sql_string(str(path))} AS {name}{mode}")
    try:
        yield
    finally:
        con.execute(f"DETACH {name}")


def matches(con: Any, catalog: str, sources: dict[str, Any]) -> bool:
    """Whether the attached file ``catalog`` holds the rows of a snapshot whose per-source state
    is ``sources`` and whose identity map is the view ``identities``: the same format, the same
    state and the same identities, members and flags."""
    try:
        fmt, state = con.execute(f"SELECT format, sources FROM {catalog}.meta").fetchall()[0]
    except duckdb.Error:  # a file of another layout: it does not match
        return False
    if fmt != TABLE_FORMAT or json.loads(state) != sources:
        return False
    return _people_changes(con, catalog) == (0, 0)


def _people_changes(con: Any, catalog: str) -> tuple[int, int]:
    """(identities new or changed, identities gone) between the file's ``people`` and the
    snapshot's identity map (the view ``identities``)."""
    cols = ", ".join(PEOPLE)
    changed, gone = con.execute(
        f"SELECT (SELECT count(*) FROM (SELECT {cols} FROM identities "
        f"EXCEPT SELECT {cols} FROM {catalog}.people)), "
        f"(SELECT count(*) FROM (SELECT identity_id FROM {catalog}.people "
        f"EXCEPT SELECT identity_id FROM identities))"
    ).fetchall()[0]
    return int(changed), int(gone)


def _rows_sql(engine: Engine, where: Any = None) -> str:
    """The SQL of ``COLUMNS`` of the activities (``where``: a filter of the raw activities)."""
    raw = engine.raw_activities
    if where is not None:
        raw = raw.filter(where(raw))
    return str(engine.con.compile(engine.activities(raw).select(*COLUMNS)))


def enum_values(con: Any, sql: str, columns: Sequence[str]) -> list[list[str]]:
    """The distinct values of each of these columns of ``sql``'s rows, sorted (no nulls)."""
    got = con.execute(
        "SELECT "
        + ", ".join(
            f'list(DISTINCT "{c}" ORDER BY "{c}") FILTER (WHERE "{c}" IS NOT NULL)' for c in columns
        )
        + f" FROM ({sql})"
    ).fetchall()[0]
    return [list(v or []) for v in got]


def create_enum(con: Any, name: str, values: Sequence[str]) -> None:
    """``CREATE TYPE name AS ENUM (values)``; ``name`` as SQL (quoted, maybe qualified)."""
    con.execute(f"CREATE TYPE {name} AS ENUM ({', '.join(sql_string(v) for v in values)})")


def _typed(sql: str) -> str:
    """``sql``'s rows with the enum columns cast to the file's types."""
    casts = ", ".join(f'"{c}"::{WRITER}."{c}_t" AS "{c}"' for c in ENUMS)
    return f"SELECT * REPLACE ({casts}) FROM ({sql})"


def _derived(engine: Engine, name: str, rows: Table) -> str:
    """The SQL of the file's table ``name`` made from the activities ``rows``: ``daily`` (the
    roll-up, with the member flags) or ``items`` (``metrics.item_facts``)."""
    from commops.analytics.metrics import item_facts

    made = daily(rows, flags=True) if name == "daily" else item_facts(rows)
    return str(engine.con.compile(made))


def _write_derived(engine: Engine, con: Any, name: str) -> None:
    """The file's table ``name`` (``_derived``) made anew from all its activities."""
    rows = engine.con.table("activities", database=WRITER)
    con.execute(f"DROP TABLE IF EXISTS {WRITER}.{name}")
    con.execute(f"CREATE TABLE {WRITER}.{name} AS {_derived(engine, name, rows)}")


def _remake(engine: Engine, con: Any, name: str, key: str, touched: str) -> None:
    """The rows of the file's table ``name`` whose ``key`` is in the table ``touched`` made
    again from the activities with that key (each of its rows depends on those only)."""
    rows = engine.con.table("activities", database=WRITER)
    keys = engine.con.table(touched)
    con.execute(f"DELETE FROM {WRITER}.{name} WHERE {key} IN (SELECT {key} FROM {touched})")
    con.execute(f"INSERT INTO {WRITER}.{name} {_derived(engine, name, rows.semi_join(keys, key))}")


def _write_people_and_meta(con: Any, sources: dict[str, Any]) -> None:
    con.execute(f"DROP TABLE IF EXISTS {WRITER}.people")
    con.execute(f"CREATE TABLE {WRITER}.people AS SELECT {', '.join(PEOPLE)} FROM identities")
    con.execute(f"DROP TABLE IF EXISTS {WRITER}.meta")
    con.execute(f"CREATE TABLE {WRITER}.meta (format INTEGER, sources VARCHAR)")
    con.execute(f"INSERT INTO {WRITER}.meta VALUES (?, ?)", [TABLE_FORMAT, json.dumps(sources)])


def _build(engine: Engine, con: Any, sources: dict[str, Any]) -> TableStats:
    """Every activity of the snapshot, into the empty file attached as ``WRITER``."""
    sql = _rows_sql(engine)
    for column, values in zip(ENUMS, enum_values(con, sql, ENUMS), strict=True):
        create_enum(con, f'{WRITER}."{column}_t"', values)
    con.execute(f"CREATE TABLE {WRITER}.activities AS {_typed(sql)}")
    _write_derived(engine, con, "daily")
    _write_derived(engine, con, "items")
    _write_people_and_meta(con, sources)
    (n,) = con.execute(f"SELECT count(*) FROM {WRITER}.activities").fetchall()[0]
    return TableStats(built=True, inserted=int(n))


@dataclass
class _Plan:
    """What an up-to-date file needs: the sources whose rows go (``drop``), the rows to add
    (per source, activities after an id: 0 for all), and whether identities changed."""

    drop: list[int]
    add: dict[int, int]
    people_changed: int


def _plan(engine: Engine, old: dict[str, Any], new: dict[str, Any], changed: int) -> _Plan:
    """What turns the rows of the per-source state ``old`` into those of ``new``. A source whose
    rows up to the old ``max_id`` are all still there (the old count plus the activities after
    it make the new count: the check the snapshot's refresh makes) gets only the activities
    after it, even when its parts were merged; any other changed source is read anew."""
    drop: list[int] = []
    add: dict[int, int] = {}
    raw = engine.raw_activities
    for sid, entry in new.items():
        before = old.get(sid)
        if before is not None and (before["count"], before["max_id"]) == (
            entry["count"],
            entry["max_id"],
        ):
            continue
        if before is not None and before["max_id"] <= entry["max_id"]:
            after = int(before["max_id"])
            newer = raw.filter((raw.source_id == int(sid)) & (raw.id > after)).count()
            if int(before["count"]) + int(engine.fetch(newer).as_py()) == int(entry["count"]):
                add[int(sid)] = after
                continue
        if before is not None:
            drop.append(int(sid))
        add[int(sid)] = 0
    drop += [int(sid) for sid in old if sid not in new]
    return _Plan(drop, add, changed)


def sync(snapshot: Snapshot) -> TableStats:
    """Bring ``activities.duckdb`` up to date with the snapshot (see the module's docstring).
    Nothing is written when it is up to date already."""
    from commops.analytics.engine import Engine

    path = table_path(snapshot.root)
    sources: dict[str, Any] = snapshot.state()["sources"]
    engine = Engine(snapshot.root, table=False)
    con = engine.con.con
    # The copy being written is the process's own (two refreshes at once each write theirs); a
    # copy left by a process that is gone (a refresh that died) is removed.
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    for stale in path.parent.glob(f"{path.name}.*.tmp*"):
        pid = stale.name.removeprefix(f"{path.name}.").split(".")[0]
        if not pid.isdigit() or int(pid) == os.getpid() or not _alive(int(pid)):
            stale.unlink(missing_ok=True)
    plan: _Plan | None = None
    if path.exists():
        try:
            with _attached(con, path, OLD, read_only=True):
                fmt, state = con.execute(f"SELECT format, sources FROM {OLD}.meta").fetchall()[0]
                changed, gone = _people_changes(con, OLD)
            if fmt == TABLE_FORMAT and not gone:
                plan = _plan(engine, json.loads(state), sources, changed)
        except (duckdb.Error, ValueError, KeyError, TypeError):  # damaged or another layout: anew
            plan = None
    if plan is not None and not (plan.drop or plan.add or plan.people_changed):
        return TableStats()
    stats = TableStats()
    try:
        if plan is not None:
            shutil.copyfile(path, tmp)
        with _attached(con, tmp, WRITER, read_only=False):
            if plan is not None:
                stats = _apply(engine, con, plan, sources)
            if plan is None or stats.built:
                stats = _rebuild(engine, con, sources)
            con.execute(f"CHECKPOINT {WRITER}")
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
        tmp.with_name(tmp.name + ".wal").unlink(missing_ok=True)
        engine.con.disconnect()
    return stats


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # (another user's)
    return True


def _rebuild(engine: Engine, con: Any, sources: dict[str, Any]) -> TableStats:
    """Empty the file being written and build every row anew."""
    for name in ("activities", "daily", "items", "people", "meta"):
        con.execute(f"DROP TABLE IF EXISTS {WRITER}.{name}")
    for column in ENUMS:
        con.execute(f'DROP TYPE IF EXISTS {WRITER}."{column}_t"')
    return _build(engine, con, sources)


def _apply(engine: Engine, con: Any, plan: _Plan, sources: dict[str, Any]) -> TableStats:
    """The plan's changes, in the file attached as ``WRITER``; ``built`` set (nothing done)
    when a new row has a value the enums do not hold."""
    stats = TableStats()
    new_rows = None
    if plan.add:

        def where(raw: Any) -> Any:
            picked = None
            for sid, after in plan.add.items():
                one = (raw.source_id == sid) & (raw.id > after)
                picked = one if picked is None else picked | one
            return picked

        new_rows = _rows_sql(engine, where)
        for column, values in zip(ENUMS, enum_values(con, new_rows, ENUMS), strict=True):
            (known,) = con.execute(f'SELECT enum_range(NULL::{WRITER}."{column}_t")').fetchall()[0]
            if not set(values) <= set(known):
                return TableStats(built=True)  # an enum cannot grow: the file is built anew
    # The members whose daily roll-up changes, found before the rows change: those of the rows
    # that go, of the identities whose member or flags change (before and after), and of the
    # new rows. Their roll-up is made again from their rows; the rest of it stays.
    con.execute(f"CREATE OR REPLACE TABLE {TOUCHED} (member_id BIGINT)")
    # Likewise the issues and pull requests of those rows (an item's facts are made from its
    # own rows only).
    con.execute(f"CREATE OR REPLACE TABLE {TOUCHED_ITEMS} (item BIGINT)")
    cols = ", ".join(PEOPLE)
    changed = f"(SELECT {cols} FROM identities EXCEPT SELECT {cols} FROM {WRITER}.people)"
    if plan.drop:
        listed = ", ".join(str(s) for s in plan.drop)
        con.execute(
            f"INSERT INTO {TOUCHED} SELECT DISTINCT member_id FROM {WRITER}.activities "
            f"WHERE source_id IN ({listed})"
        )
        con.execute(
            f"INSERT INTO {TOUCHED_ITEMS} SELECT DISTINCT item FROM {WRITER}.activities "
            f"WHERE source_id IN ({listed}) AND item IS NOT NULL"
        )
        (n,) = con.execute(
            f"DELETE FROM {WRITER}.activities WHERE source_id IN ({listed})"
        ).fetchall()[0]
        stats.deleted = int(n)
    if plan.people_changed:
        con.execute(
            f"INSERT INTO {TOUCHED} SELECT member_id FROM {changed} UNION "
            f"SELECT p.member_id FROM {WRITER}.people AS p JOIN {changed} AS c USING (identity_id)"
        )
        con.execute(
            f"INSERT INTO {TOUCHED_ITEMS} SELECT DISTINCT a.item FROM {WRITER}.activities AS a "
            f"JOIN {changed} AS c ON a.actor_identity_id = c.identity_id WHERE a.item IS NOT NULL"
        )
        (n,) = con.execute(
            f"UPDATE {WRITER}.activities AS a SET member_id = c.member_id, is_bot = c.is_bot, "
            f"is_staff = c.is_staff FROM {changed} AS c WHERE a.actor_identity_id = c.identity_id"
        ).fetchall()[0]
        stats.updated = int(n)
    if new_rows is not None:
        con.execute(f"INSERT INTO {TOUCHED} SELECT DISTINCT member_id FROM ({new_rows})")
        con.execute(
            f"INSERT INTO {TOUCHED_ITEMS} SELECT DISTINCT item FROM ({new_rows}) "
            "WHERE item IS NOT NULL"
        )
        (n,) = con.execute(f"INSERT INTO {WRITER}.activities {_typed(new_rows)}").fetchall()[0]
        stats.inserted = int(n)
    _remake(engine, con, "daily", "member_id", TOUCHED)
    _remake(engine, con, "items", "item", TOUCHED_ITEMS)
    _write_people_and_meta(con, sources)
    return stats
