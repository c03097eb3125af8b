"""The store and the workspace: schema migrations on both databases, SQLite's WAL mode,
connection failures, workspace discovery, and activities that are never stored twice."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import delete, inspect, select, text
from sqlalchemy.exc import IntegrityError

from commops.config import CONFIG_NAME, Config, load_config, write_config
from commops.errors import ConfigError, StoreError, WorkspaceError
from commops.exports import iter_activities, iter_identities
from commops.sources import add_git_source, list_sources
from commops.store.db import HEAD_REVISION, MIGRATIONS_DIR, Store
from commops.store.models import Activity, SyncState
from commops.sync import sync_workspace
from commops.workspace import (
    ENV_WORKSPACE,
    Workspace,
    find_root,
    init_workspace,
    open_workspace,
)
from conftest import GitRepo

TABLES = {
    "activities",
    "alembic_version",
    "api_tokens",
    "committee_meetings",
    "committee_seats",
    "committee_terms",
    "content_authors",
    "content_items",
    "content_performance",
    "content_posts",
    "content_review_rounds",
    "content_reviews",
    "content_round_reviewers",
    "enrollments",
    "event_organizers",
    "event_proposal_speakers",
    "event_proposals",
    "event_registrations",
    "event_reviews",
    "event_sessions",
    "event_shifts",
    "event_signups",
    "events",
    "feedback_items",
    "feedback_notifications",
    "feedback_suggestions",
    "feedback_themes",
    "governance_nominations",
    "governance_roles",
    "governance_sponsors",
    "identities",
    "identity_decisions",
    "identity_keys",
    "identity_log",
    "login_attempts",
    "members",
    "merge_suggestions",
    "organizations",
    "partner_collaborations",
    "partner_contacts",
    "partner_touches",
    "partners",
    "observations",
    "ops_log",
    "qna_assignments",
    "reports",
    "sources",
    "sync_runs",
    "sync_state",
    "web_sessions",
    "web_users",
}


def test_store_head_revision_is_alembic_head() -> None:
    script = ScriptDirectory(str(MIGRATIONS_DIR))
    assert script.get_heads() == [HEAD_REVISION]


def test_store_init_creates_config_and_schema_at_head(tmp_path: Path, database_url: str) -> None:
    ws, created = init_workspace(tmp_path / "ws", database_url)
    try:
        assert created is True
        assert (tmp_path / "ws" / CONFIG_NAME).is_file()
        assert load_config(tmp_path / "ws" / CONFIG_NAME).database_url == database_url
        assert ws.store.current_revision() == HEAD_REVISION
        with ws.store.engine.connect() as conn:
            assert set(inspect(conn).get_table_names()) == TABLES
    finally:
        ws.close()

    again, created = init_workspace(tmp_path / "ws", database_url)
    again.close()
    assert created is False


def test_store_default_sqlite_lives_in_workspace_and_uses_wal(tmp_path: Path) -> None:
    ws, _ = init_workspace(tmp_path / "ws")
    try:
        assert ws.config.database_url == "sqlite:///commops.db"
        assert ws.database_url == f"sqlite:///{tmp_path / 'ws' / 'commops.db'}"
        with ws.store.engine.connect() as conn:
            assert conn.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
            assert conn.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
    finally:
        ws.close()
    # WAL is a property of the file: a plain sqlite3 connection sees it too.
    with sqlite3.connect(tmp_path / "ws" / "commops.db") as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_store_workspace_with_relative_sqlite_url_can_move(
    tmp_path: Path, git_repo: GitRepo
) -> None:
    git_repo.commit("One", files={"a": "1\n"})
    ws, _ = init_workspace(tmp_path / "ws")
    add_git_source(ws.store, str(git_repo.path), name="repo")
    sync_workspace(ws)
    ws.close()
    (tmp_path / "ws").rename(tmp_path / "moved")

    moved = open_workspace(tmp_path / "moved")
    try:
        assert [s.activities for s in list_sources(moved.store)] == [1]
    finally:
        moved.close()


def _seed_0001(store: Store) -> None:
    """Rows as commops at revision 0001_spine wrote them."""
    now = datetime(2024, 1, 1)
    with store.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO sources (id, name, kind, location, options, created_at) "
                "VALUES (1, 'old', 'git', '/nowhere', '{\"branch\": \"main\"}', :now)"
            ),
            {"now": now},
        )
        conn.execute(
            text(
                "INSERT INTO members (id, display_name, is_bot, is_staff, tags, created_at) "
                "VALUES (1, 'Ada', false, false, '[]', :now)"
            ),
            {"now": now},
        )
        conn.execute(
            text(
                "INSERT INTO identities (id, platform, kind, value, name, verified, is_bot, "
                "member_id, created_at) VALUES (1, 'git', 'email', 'ada@example.org', 'Ada', "
                "false, false, 1, :now)"
            ),
            {"now": now},
        )
        conn.execute(
            text(
                "INSERT INTO activities (uid, source_id, item_key, kind, occurred_at, "
                "actor_identity_id, title, attributes) VALUES ('u1', 1, 'abc', 'git:commit', "
                ":now, 1, 'Old commit', '{\"sha\": \"abc\"}')"
            ),
            {"now": now},
        )


def test_store_upgrade_from_older_version_keeps_data(tmp_path: Path, database_url: str) -> None:
    old = Store(database_url)
    old.migrate("0001_spine")
    assert old.current_revision() == "0001_spine"
    _seed_0001(old)
    old.dispose()
    root = tmp_path / "ws"
    root.mkdir()
    write_config(root / CONFIG_NAME, Config(database_url=database_url))

    ws = open_workspace(root)
    try:
        assert ws.store.current_revision() == HEAD_REVISION
        with ws.store.engine.connect() as conn:
            assert "sync_runs" in inspect(conn).get_table_names()
        [act] = iter_activities(ws.store)
        assert (act["uid"], act["source"], act["title"]) == ("u1", "old", "Old commit")
        assert act["actor"]["email"] == "ada@example.org"
        assert act["attributes"] == {"sha": "abc"}
    finally:
        ws.close()


def test_store_upgrade_through_init_reports_existing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ws' / 'old.db'}"
    (tmp_path / "ws").mkdir()
    old = Store(url)
    old.migrate("0001_spine")
    old.dispose()
    write_config(tmp_path / "ws" / CONFIG_NAME, Config(database_url=url))

    ws, created = init_workspace(tmp_path / "ws")
    try:
        assert created is False
        assert ws.store.current_revision() == HEAD_REVISION
    finally:
        ws.close()


def test_store_newer_schema_revision_rejected(tmp_path: Path) -> None:
    ws, _ = init_workspace(tmp_path / "ws")
    with ws.store.engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099_future'"))
    ws.close()

    with pytest.raises(StoreError, match=r"schema revision '0099_future'.*does not know"):
        _ = open_workspace(tmp_path / "ws").store


def test_store_foreign_database_rejected(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as raw:
        raw.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    root = tmp_path / "ws"
    root.mkdir()
    write_config(root / CONFIG_NAME, Config(database_url=f"sqlite:///{path}"))

    with pytest.raises(StoreError, match="has tables but is not a commops database"):
        _ = open_workspace(root).store


# -- bad URLs and missing workspaces -----------------------------------------------------------


def test_store_unreachable_database_url_names_it_and_writes_nothing(tmp_path: Path) -> None:
    url = "postgresql+psycopg://nobody:s3cret@127.0.0.1:9/x"
    root = tmp_path / "new" / "ws"

    with pytest.raises(StoreError) as info:
        init_workspace(root, url)

    message = str(info.value)
    assert message.startswith(
        "cannot connect to database postgresql+psycopg://nobody:***@127.0.0.1:9/x"
    )
    assert "s3cret" not in message
    assert not (root / CONFIG_NAME).exists()
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "mysql://u@localhost/db",
            "database URL mysql://u@localhost/db: only SQLite and PostgreSQL",
        ),
        ("not a url", "database URL 'not a url' is not a URL"),
        (
            "sqlite:////nonexistent-dir/x.db",
            "cannot connect to database sqlite:////nonexistent-dir",
        ),
    ],
)
def test_store_unusable_database_url_raises_store_error(
    tmp_path: Path, url: str, message: str
) -> None:
    with pytest.raises(StoreError) as info:
        init_workspace(tmp_path / "ws", url)
    assert str(info.value).startswith(message)
    assert not (tmp_path / "ws").exists()


def test_store_bad_url_in_config_raises_store_error(tmp_path: Path) -> None:
    write_config(tmp_path / CONFIG_NAME, Config(database_url="not a url"))
    ws = open_workspace(tmp_path)
    with pytest.raises(StoreError, match="database URL 'not a url' is not a URL"):
        _ = ws.store


def test_store_config_with_wrong_shapes_raises_config_error(tmp_path: Path) -> None:
    path = tmp_path / CONFIG_NAME
    path.write_text('database = "sqlite:///x.db"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[database\] must be a table"):
        load_config(path)
    path.write_text("[bots]\npatterns = ['(unclosed']\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[bots\] patterns\[0\] '\(unclosed' is not a regex"):
        load_config(path)
    path.write_text("[database\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(path)


def test_store_missing_workspace_raises_workspace_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV_WORKSPACE, raising=False)
    with pytest.raises(WorkspaceError, match=r"--workspace /nope: no commops\.toml there"):
        open_workspace(Path("/nope"))
    with pytest.raises(WorkspaceError, match="no commops workspace here"):
        find_root(cwd=tmp_path)


def test_store_init_over_existing_workspace_with_other_url_refused(tmp_path: Path) -> None:
    ws, _ = init_workspace(tmp_path / "ws")
    ws.close()
    with pytest.raises(WorkspaceError, match="already exists with database"):
        init_workspace(tmp_path / "ws", f"sqlite:///{tmp_path / 'other.db'}")


def test_store_workspace_discovery_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    explicit, env, upward = (tmp_path / n for n in ("explicit", "env", "upward"))
    for root in (explicit, env, upward):
        root.mkdir()
        write_config(root / CONFIG_NAME, Config())
    deep = upward / "a" / "b"
    deep.mkdir(parents=True)

    monkeypatch.delenv(ENV_WORKSPACE, raising=False)
    assert find_root(cwd=deep) == upward
    assert find_root(cwd=upward) == upward

    monkeypatch.setenv(ENV_WORKSPACE, str(env))
    assert find_root(cwd=deep) == env
    assert find_root(explicit, cwd=deep) == explicit

    monkeypatch.setenv(ENV_WORKSPACE, str(tmp_path / "missing"))
    with pytest.raises(WorkspaceError, match=f"{ENV_WORKSPACE}=.*missing: no commops.toml there"):
        find_root(cwd=deep)
    assert find_root(explicit, cwd=deep) == explicit


# -- activities are stored once ----------------------------------------------------------------


def test_store_resync_from_scratch_never_duplicates(
    workspace: Workspace, git_repo: GitRepo
) -> None:
    for i in range(3):
        git_repo.commit(
            f"Commit {i}\n\nCo-authored-by: Bob <bob@example.org>", files={"a": f"{i}\n"}
        )
    add_git_source(workspace.store, str(git_repo.path), name="repo")
    [first] = sync_workspace(workspace)
    assert first.added == 6
    before = sorted(a["uid"] for a in iter_activities(workspace.store))
    identities_before = list(iter_identities(workspace.store))
    # Forget the cursor: the next sync reads the whole history again.
    with workspace.store.session() as session:
        session.execute(delete(SyncState))

    [again] = sync_workspace(workspace)

    assert (again.ok, again.added, again.removed, again.identities) == (True, 0, 0, 0)
    assert sorted(a["uid"] for a in iter_activities(workspace.store)) == before
    assert list(iter_identities(workspace.store)) == identities_before


def test_store_activity_uid_is_unique(workspace: Workspace, git_repo: GitRepo) -> None:
    git_repo.commit("One", files={"a": "1\n"})
    add_git_source(workspace.store, str(git_repo.path), name="repo")
    sync_workspace(workspace)
    with workspace.store.session() as session:
        act = session.execute(select(Activity)).scalar_one()
        copy = Activity(
            uid=act.uid,
            source_id=act.source_id,
            item_key=act.item_key,
            kind=act.kind,
            occurred_at=act.occurred_at,
            actor_identity_id=act.actor_identity_id,
            attributes={},
        )

    with pytest.raises(IntegrityError), workspace.store.session() as session:
        session.add(copy)
