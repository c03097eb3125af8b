"""The shared machinery of the operations workflows: transitions, the audit log, emitted
activities, soft delete."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from commops.analytics.snapshot import Snapshot
from commops.clock import utcnow
from commops.errors import SourceError, StateConflict, UsageError
from commops.ops import core
from commops.store.models import Activity, Identity, Member, Source
from commops.sync import sync_workspace
from commops.workspace import Workspace

FLOW = {"new": ("open",), "open": ("done", "dropped"), "done": (), "dropped": ()}


def _member(ws: Workspace, name: str) -> int:
    with ws.store.session() as session:
        m = Member(display_name=name, created_at=utcnow())
        session.add(m)
        session.flush()
        session.add(
            Identity(
                platform="github",
                kind="username",
                value=name.lower(),
                member_id=m.id,
                created_at=utcnow(),
            )
        )
        return m.id


def test_transitions_allowed_and_refused() -> None:
    core.check_transition("thing 1", "new", "open", FLOW)
    core.check_transition("thing 1", "open", "dropped", FLOW)
    # A move the state does not allow is a conflict (the web app answers 409; the CLI exits 2
    # as for any usage error); a state that does not exist is a plain usage error (400).
    with pytest.raises(StateConflict, match="thing 1 is new: it cannot become done") as err:
        core.check_transition("thing 1", "new", "done", FLOW)
    assert err.value.hint == "From new: open."
    assert err.value.exit_code == 2
    with pytest.raises(StateConflict, match="done is final") as err:
        core.check_transition("thing 1", "done", "open", FLOW)
    assert err.value.hint == "done is final."
    with pytest.raises(UsageError, match="unknown state 'closed'") as unknown:
        core.check_transition("thing 1", "open", "closed", FLOW)
    assert not isinstance(unknown.value, StateConflict)


def test_emit_is_idempotent_and_reaches_the_snapshot(workspace: Workspace) -> None:
    ana = _member(workspace, "Ana")
    bo = _member(workspace, "Bo")
    when = datetime(2026, 3, 2, 10, 0)
    with workspace.store.session() as session:
        a = core.emit(
            session,
            kind="content:reviewed",
            member_id=bo,
            object_member_id=ana,
            key="content:1:review:1",
            occurred_at=when,
            channel="blog",
            target="content:1",
            title="Review of 'Hello'",
            contribution_type="review",
        )
        again = core.emit(
            session,
            kind="content:reviewed",
            member_id=bo,
            key="content:1:review:1",
            occurred_at=when,
        )
        assert again.id == a.id
        assert session.scalar(select(func.count()).select_from(Activity)) == 1
        actor = session.get(Identity, a.actor_identity_id)
        assert actor is not None
        assert (actor.platform, actor.value, actor.member_id) == ("commops", f"member:{bo}", bo)
        assert actor.resolved_at is not None  # never offered to the resolver
        obj = session.get(Identity, a.object_identity_id)
        assert obj is not None
        assert obj.member_id == ana
        src = session.get(Source, a.source_id)
        assert src is not None
        assert (src.name, src.kind) == ("commops", "ops")
        with pytest.raises(UsageError, match="namespaced"):
            core.emit(session, kind="reviewed", member_id=bo, key="x", occurred_at=when)
        with pytest.raises(UsageError, match="no member 999"):
            core.emit(session, kind="content:reviewed", member_id=999, key="y", occurred_at=when)
    Snapshot(workspace.snapshot_dir).refresh(workspace.store)
    import pyarrow.parquet as pq

    rows = pq.read_table(Snapshot(workspace.snapshot_dir).activity_files()).to_pylist()
    assert [(r["kind"], r["contribution_type"]) for r in rows] == [("content:reviewed", "review")]


def test_record_history_and_soft_delete(sqlite_workspace: Workspace) -> None:
    class Row:
        def __init__(self) -> None:
            self.id = 7
            self.deleted_at: datetime | None = None

    row = Row()
    with sqlite_workspace.store.session() as session:
        core.record(
            session,
            actor="cli:ana",
            record_type="thing",
            record_id=7,
            action="opened",
            from_state="new",
            to_state="open",
            reason="ready",
        )
        core.soft_delete(session, row, "thing", actor="cli:ana", reason="duplicate")
        assert row.deleted_at is not None
        with pytest.raises(UsageError, match="thing 7 is already deleted"):
            core.soft_delete(session, row, "thing", actor="cli:ana", reason=None)
        core.restore(session, row, "thing", actor="cli:bo", reason="not a duplicate")
        assert row.deleted_at is None
        with pytest.raises(UsageError, match="thing 7 is not deleted"):
            core.restore(session, row, "thing", actor="cli:bo", reason=None)
        log = core.history(session, "thing", 7)
        assert [(e.action, e.actor, e.reason) for e in log] == [
            ("opened", "cli:ana", "ready"),
            ("deleted", "cli:ana", "duplicate"),
            ("restored", "cli:bo", "not a duplicate"),
        ]
        assert (log[0].from_state, log[0].to_state) == ("new", "open")


def test_require_member_names_the_field(sqlite_workspace: Workspace) -> None:
    ana = _member(sqlite_workspace, "Ana")
    with sqlite_workspace.store.session() as session:
        assert core.require_member(session, "ana") == ana
        assert core.require_member(session, ana) == ana
        with pytest.raises(UsageError, match=r"reviewer: .*nobody"):
            core.require_member(session, "nobody", field="reviewer")


def test_sync_leaves_the_ops_source_alone(sqlite_workspace: Workspace) -> None:
    ana = _member(sqlite_workspace, "Ana")
    with sqlite_workspace.store.session() as session:
        core.emit(
            session,
            kind="feedback:raised",
            member_id=ana,
            key="feedback:1",
            occurred_at=datetime(2026, 1, 1),
        )
    assert sync_workspace(sqlite_workspace) == []  # nothing else to sync, no error
    with pytest.raises(SourceError, match="holds what commops records itself"):
        sync_workspace(sqlite_workspace, ["commops"])
