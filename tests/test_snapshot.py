"""The analytics snapshot: many part files are merged into one, streamed, with nothing lost."""

from __future__ import annotations

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
