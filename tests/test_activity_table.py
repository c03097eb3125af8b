"""The activities table the refresh keeps in ``activities.duckdb``: the same rows as the Parquet
parts joined with the identity map after every kind of change, read only when it matches."""

from __future__ import annotations

import json
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import duckdb
import ibis
from sqlalchemy import select

from commops.analytics import table
from commops.analytics.engine import Engine
from commops.analytics.metrics import DEFINITIONS, Metrics, Params, item_facts
from commops.analytics.snapshot import RefreshStats, Snapshot
from commops.identity.audit import merge_members
from commops.identity.staff import set_flag
from commops.sources import add_git_source
from commops.store.models import Identity, Member
from commops.sync import sync_workspace
from commops.workspace import Workspace
from conftest import GitRepo


def kept_rows(root: Path) -> list[tuple[Any, ...]]:
    """The rows of ``activities.duckdb`` (enums read as their strings), sorted."""
    with duckdb.connect(str(table.table_path(root)), read_only=True) as con:
        cols = ", ".join(f'"{c}"::VARCHAR' if c in table.ENUMS else f'"{c}"' for c in table.COLUMNS)
        return sorted(con.execute(f"SELECT {cols} FROM activities").fetchall(), key=repr)


def fresh_rows(root: Path) -> list[tuple[Any, ...]]:
    """The same columns made now from the Parquet parts and the identity map."""
    engine = Engine(root, table=False)
    got = engine.activities().select(*table.COLUMNS).to_pyarrow().to_pylist()
    return sorted((tuple(r[c] for c in table.COLUMNS) for r in got), key=repr)


DAILY = (
    "member_id",
    "is_bot",
    "is_staff",
    "day",
    "kind",
    "contribution_type",
    "n",
    "first_at",
    "last_at",
    "lines",
)


def assert_kept(root: Path) -> None:
    """The file's activities and daily roll-up are those made now from the parts."""
    assert kept_rows(root) == fresh_rows(root)
    with duckdb.connect(str(table.table_path(root)), read_only=True) as con:
        cols = ", ".join(f'"{c}"::VARCHAR' if c in table.ENUMS else f'"{c}"' for c in DAILY)
        kept = sorted(con.execute(f"SELECT {cols} FROM daily").fetchall(), key=repr)
    engine = Engine(root, table=False)
    got = table.daily(engine.activities().select(*table.COLUMNS), flags=True)
    fresh = sorted((tuple(r[c] for c in DAILY) for r in got.to_pyarrow().to_pylist()), key=repr)
    assert kept == fresh
    # ... and the facts of its issues and pull requests.
    facts = item_facts(engine.activities().select(*table.COLUMNS)).to_pyarrow()
    with duckdb.connect(str(table.table_path(root)), read_only=True) as con:
        kept_items = con.execute(f"SELECT {', '.join(facts.column_names)} FROM items").fetchall()
    assert sorted(kept_items, key=repr) == sorted(
        (tuple(r.values()) for r in facts.to_pylist()), key=repr
    )


def did(stats: RefreshStats) -> table.TableStats:
    """What the refresh did to the table."""
    assert stats.table is not None
    return stats.table


def results(root: Path, *, use_table: bool, **params: Any) -> dict[str, Any]:
    engine = Engine(root, table=use_table)
    assert (engine.table is not None) is use_table
    with Metrics(engine, Params(**params)) as m:
        got = m.run_all(list(DEFINITIONS))
    return {name: json.dumps(r.to_json()["rows"], default=str) for name, r in got.items()}


def test_the_refresh_keeps_the_table_and_every_metric_reads_the_same(
    sqlite_workspace: Workspace,
) -> None:
    from commops.demo import generate

    generate(sqlite_workspace, members=40, months=4, activities=1500)
    root = sqlite_workspace.snapshot_dir
    stats = Snapshot(root).rebuild(sqlite_workspace.store)
    assert did(stats).built
    assert did(stats).inserted == stats.appended
    assert_kept(root)
    engine = Engine(root)
    assert engine.table is not None
    assert Metrics(engine, Params()).base(drop_people=False) is engine.table
    # No DuckDB progress bar on stdout, from the engine's connection or a thread's cursor.
    setting = "SELECT current_setting('enable_progress_bar')"
    assert engine.con.con.execute(setting).fetchall() == [(False,)]
    with ThreadPoolExecutor(1) as pool:
        got = pool.submit(lambda: engine._connection().execute(setting).fetchall()).result()
    assert got == [(False,)]
    # One metric on its own reads it too; its drill-down reads every column from the parts.
    single = Metrics(engine, Params(), cache=False)
    assert single.base(drop_people=False) is engine.table
    active = single.run("active-contributors").rows
    busy = max(active, key=lambda r: r["active_contributors"])
    explained = single.explain("active-contributors", busy["period"]).rows
    assert len({r["member_id"] for r in explained}) == busy["active_contributors"] > 0
    assert all(r["uid"] and r["source"] for r in explained)
    # A cut reads the Parquet parts: the table holds every activity.
    assert Metrics(engine, Params(channels=("x",))).base(drop_people=False) is not engine.table
    for params in ({}, {"include_bots": True, "include_staff": True, "period": "week"}):
        assert results(root, use_table=True, **params) == results(root, use_table=False, **params)
    # Nothing changed: nothing is written.
    again = Snapshot(root).refresh(sqlite_workspace.store)
    assert not did(again).changed
    # Two issue and PR authors merged, a third flagged staff: their rows, daily roll-up and
    # items change in place.
    facts = engine.items
    assert facts is not None
    authors = facts.group_by("author").aggregate(n=facts.count()).order_by(ibis.desc("n"))
    top = [int(a) for a in authors.limit(3).to_pyarrow()["author"].to_pylist()]
    with sqlite_workspace.store.session() as session:
        merge_members(session, top[0], [top[1]], actor="tester")
        set_flag(session, top[2], "staff", True, actor="tester")
    stats = Snapshot(root).refresh(sqlite_workspace.store)
    assert not did(stats).built
    assert did(stats).updated > 0
    assert_kept(root)
    assert results(root, use_table=True) == results(root, use_table=False)


def test_the_table_follows_new_activities_merges_and_flags(
    sqlite_workspace: Workspace, git_repo: GitRepo
) -> None:
    ws = sqlite_workspace
    root = ws.snapshot_dir
    for n in range(4):
        git_repo.commit(f"c{n}", files={"a": f"{n}\n"}, date=f"2024-01-0{n + 1}T10:00:00+00:00")
    git_repo.commit("by bob", author="Bob <bob@example.org>", files={"b": "1\n"})
    add_git_source(ws.store, str(git_repo.path), name="repo")
    sync_workspace(ws)
    assert_kept(root)
    assert len(kept_rows(root)) == 5

    # New commits: only they are inserted.
    git_repo.commit("c5", files={"a": "5\n"}, date="2024-01-06T10:00:00+00:00")
    sync_workspace(ws)
    stats = Snapshot(root).refresh(ws.store)  # (sync refreshed already: nothing left to do)
    assert not did(stats).changed
    assert_kept(root)
    assert len(kept_rows(root)) == 6

    # Bob merged into Ada, then flagged a bot: the rows of their identities change member/flags.
    with ws.store.session() as session:
        members: dict[str, int] = {}
        for value, member in session.execute(select(Identity.value, Identity.member_id)):
            members[value] = member
        ada, bob = members["ada@example.org"], members["bob@example.org"]
        merge_members(session, ada, [bob], actor="tester")
    stats = Snapshot(root).refresh(ws.store)
    assert (did(stats).built, did(stats).inserted, did(stats).updated) == (False, 0, 1)
    assert_kept(root)
    assert {r[table.COLUMNS.index("member_id")] for r in kept_rows(root)} == {ada}
    with ws.store.session() as session:
        set_flag(session, ada, "bot", True, actor="tester")
        assert session.get(Member, ada).is_bot  # type: ignore[union-attr]
    stats = Snapshot(root).refresh(ws.store)
    assert did(stats).updated == 6
    assert_kept(root)
    assert results(root, use_table=True) == results(root, use_table=False)  # (the roll-up too)
    engine = Engine(root)
    assert engine.table is not None
    assert Metrics(engine, Params()).run("commits").rows == []  # every commit is a bot's now


def test_a_rewritten_history_and_a_new_channel(
    sqlite_workspace: Workspace, git_repo: GitRepo, tmp_path: Path
) -> None:
    ws = sqlite_workspace
    root = ws.snapshot_dir
    for n in range(4):
        git_repo.commit(f"c{n}", files={"a": f"{n}\n"}, date=f"2024-01-0{n + 1}T10:00:00+00:00")
    add_git_source(ws.store, str(git_repo.path), name="repo")
    sync_workspace(ws)

    # A rewritten history: the source's rows are read anew.
    git_repo.git("reset", "-q", "--hard", "HEAD~2")
    git_repo.commit("rewritten", files={"a": "x\n"}, date="2024-02-01T10:00:00+00:00")
    sync_workspace(ws)
    assert_kept(root)
    assert len(kept_rows(root)) == 3

    # Another repository: a new channel, which the enum does not hold, builds the file anew.
    other = GitRepo(tmp_path / "other")
    other.commit("o1", files={"o": "1\n"})
    add_git_source(ws.store, str(other.path), name="other")
    before = Snapshot(root).state()["sources"]
    sync_workspace(ws)
    assert Snapshot(root).state()["sources"] != before
    assert_kept(root)
    assert len(kept_rows(root)) == 4
    assert Engine(root).table is not None


def test_a_stale_or_damaged_table_is_not_read_and_the_next_refresh_mends_it(
    sqlite_workspace: Workspace, git_repo: GitRepo, tmp_path: Path
) -> None:
    ws = sqlite_workspace
    root = ws.snapshot_dir
    path = table.table_path(root)
    for n in range(3):
        git_repo.commit(f"c{n}", files={"a": f"{n}\n"}, date=f"2024-01-0{n + 1}T10:00:00+00:00")
    add_git_source(ws.store, str(git_repo.path), name="repo")
    sync_workspace(ws)
    old = tmp_path / "old.duckdb"
    shutil.copyfile(path, old)
    git_repo.commit("c3", files={"a": "3\n"}, date="2024-01-04T10:00:00+00:00")
    sync_workspace(ws)

    # As if the refresh had died after the parts and before the rename: an older file and a
    # half-written copy. The metrics read the parts; nothing reads the older rows.
    shutil.copyfile(old, path)
    gone = path.with_name(path.name + ".4194305.tmp")  # (above Linux's highest process id)
    gone.write_bytes(b"half written")
    assert Engine(root).table is None
    want = results(root, use_table=False)
    totals = Metrics(Engine(root), Params()).run("totals").rows
    assert totals[0]["commits"] == 4
    stats = Snapshot(root).refresh(ws.store)
    assert (did(stats).built, did(stats).inserted) == (False, 1)
    assert not gone.exists()
    assert sorted(p.name for p in root.glob("activities.duckdb*")) == ["activities.duckdb"]
    assert Engine(root).table is not None
    assert results(root, use_table=True) == want

    # A damaged file: not read, then built anew.
    path.write_bytes(b"not a database" * 100)
    assert Engine(root).table is None
    stats = Snapshot(root).refresh(ws.store)
    assert did(stats).built
    assert_kept(root)

    # A file of another format: not read, then built anew.
    with duckdb.connect(str(path)) as con:
        con.execute("UPDATE meta SET format = format + 1")
    assert Engine(root).table is None
    stats = Snapshot(root).refresh(ws.store)
    assert did(stats).built
    assert Engine(root).table is not None
