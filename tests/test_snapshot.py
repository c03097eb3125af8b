"""The analytics snapshot: many part files are merged into one, streamed, with nothing lost."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from commops.analytics import snapshot as snap
from commops.analytics.engine import Engine
from commops.sources import add_git_source
from commops.sync import sync_workspace
from commops.workspace import Workspace
from conftest import GitRepo


def test_snapshot_merges_many_parts_into_one(
    sqlite_workspace: Workspace, git_repo: GitRepo, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(7):
        git_repo.commit(f"c{n}", files={"a": f"{n}\n"}, date=f"2024-01-{n + 1:02d}T10:00:00+00:00")
    monkeypatch.setattr(snap, "CHUNK", 2)  # 7 activities -> 4 parts
    monkeypatch.setattr(snap, "MAX_PARTS", 3)
    add_git_source(sqlite_workspace.store, str(git_repo.path), name="repo")
    sync_workspace(sqlite_workspace)
    s = snap.Snapshot(sqlite_workspace.snapshot_dir)
    files = s.activity_files()
    assert len(files) == 1
    assert files[0].name.endswith("-c.parquet")
    table = pq.read_table(files[0])
    assert table.num_rows == 7
    assert table.column("id").to_pylist() == sorted(table.column("id").to_pylist())
    assert table.schema.equals(snap.ACTIVITY_SCHEMA)
    engine = Engine(sqlite_workspace.snapshot_dir)
    assert engine.activities().count().to_pyarrow().as_py() == 7
    # Left-over part files are swept; the state names only the merged one.
    leftovers = list((sqlite_workspace.snapshot_dir / "activities").rglob("part-*.parquet"))
    assert leftovers == files


def test_item_key_is_stable_and_tells_items_apart() -> None:
    # The same number in every version: parts written at different times must agree.
    assert snap.item_key(1, "kubesphere/kubesphere", "1234") == -5007345853354303527
    assert snap.item_key(1, "kubesphere/kubesphere", None) is None
    keys = {
        snap.item_key(1, "kubesphere/kubesphere", "1234"),
        snap.item_key(2, "kubesphere/kubesphere", "1234"),  # another source
        snap.item_key(1, "kubesphere/console", "1234"),  # another repository
        snap.item_key(1, "kubesphere/kubesphere", "12345"),
        snap.item_key(1, None, "1234"),  # no channel is not the empty one
        snap.item_key(1, "", "1234"),
        snap.item_key(1, "a\x1fb", "c"),
    }
    assert len(keys) == 7
    assert all(-(2**63) <= k < 2**63 for k in keys if k is not None)


def test_snapshot_names_each_item_and_rebuilds_an_older_format(
    sqlite_workspace: Workspace,
) -> None:
    from commops.demo import generate

    generate(sqlite_workspace, members=30, months=2, activities=600)
    s = snap.Snapshot(sqlite_workspace.snapshot_dir)
    s.rebuild(sqlite_workspace.store)
    rows = pq.read_table(s.activity_files()).to_pylist()
    assert len(rows) >= 600
    on_items = [r for r in rows if r["target"] is not None]
    assert len(on_items) > 100
    for row in rows:
        assert row["item"] == snap.item_key(row["source_id"], row["channel"], row["target"])
    # Activities on one issue share its number.
    opened = {r["item"] for r in rows if r["kind"] == "github:issue_opened"}
    assert opened & {r["item"] for r in rows if r["kind"] == "github:issue_comment"}
    # A snapshot of an older format (no item column) is written again by the next refresh.
    state = json.loads(s.state_path.read_text(encoding="utf-8"))
    state["format"] = snap.FORMAT - 1
    s.state_path.write_text(json.dumps(state), encoding="utf-8")
    assert s.state()["sources"] == {}
    stats = s.refresh(sqlite_workspace.store)
    assert stats.appended == len(rows)
    again = pq.read_table(s.activity_files()).to_pylist()
    assert sorted((r["id"], r["item"]) for r in again) == sorted((r["id"], r["item"]) for r in rows)
