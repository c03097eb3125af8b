"""Merge, unmerge, split, undo, suggestions and the identity log: the Python API and the CLI."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner, Result

from commops.cli.app import app
from commops.clock import utcnow
from commops.connectors.base import IdentityRef
from commops.errors import UsageError
from commops.identity.audit import (
    accept_suggestion,
    find_member,
    list_members,
    list_suggestions,
    log_entries,
    member_detail,
    merge_members,
    reject_suggestion,
    split_member,
    undo,
    unmerge,
)
from commops.identity.bots import BotRules
from commops.identity.registry import IdentityRegistry
from commops.sources import add_git_source
from commops.store.models import (
    Activity,
    Enrollment,
    Identity,
    IdentityDecision,
    IdentityLog,
    Member,
    MergeSuggestion,
    Organization,
)
from commops.sync import sync_workspace
from commops.workspace import Workspace
from conftest import GitRepo

ACTOR = "test:ana"


def ensure(ws: Workspace, *refs: IdentityRef) -> dict[str, int]:
    """Identities created through the real registry; their ids by ``platform:value``."""
    with ws.store.session() as session:
        registry = IdentityRegistry(session, BotRules())
        registry.ensure(refs)
        return {f"{ref.platform}:{ref.value}": registry.id_of(ref) for ref in refs}


def people(ws: Workspace) -> dict[str, int]:
    """One person on four platforms (each a member of its own) and Ada."""
    ids = ensure(
        ws,
        IdentityRef("git", "email", "fawei@company.com", "Fawei Zhao"),
        IdentityRef("github", "username", "faweizhao26", "faweizhao26"),
        IdentityRef("gitee", "username", "faweizhao26", None),
        IdentityRef("discourse", "username", "fawei", "Fawei Zhao"),
        IdentityRef("git", "email", "ada@example.org", "Ada Lovelace"),
    )
    names = ("git", "gh", "gitee", "dc", "ada")
    return dict(zip(names, ids.values(), strict=True))


def member_of(ws: Workspace, identity_id: int) -> int:
    with ws.store.session() as session:
        ident = session.get(Identity, identity_id)
        assert ident is not None
        return ident.member_id


def state(ws: Workspace) -> dict[str, Any]:
    """Everything merges and undo may touch, as plain data."""
    with ws.store.session() as session:
        return {
            "identities": dict(session.execute(select(Identity.id, Identity.member_id)).all()),
            "members": {
                m.id: (
                    m.display_name,
                    m.is_bot,
                    m.is_staff,
                    list(m.tags),
                    m.notes,
                    dict(m.flag_origins),
                    m.created_at,
                )
                for m in session.execute(select(Member)).scalars()
            },
            "enrollments": dict(session.execute(select(Enrollment.id, Enrollment.member_id)).all()),
            "decisions": sorted(
                session.execute(
                    select(
                        IdentityDecision.identity_a_id,
                        IdentityDecision.identity_b_id,
                        IdentityDecision.decision,
                        IdentityDecision.origin,
                    )
                )
            ),
            "suggestions": dict(
                session.execute(select(MergeSuggestion.id, MergeSuggestion.status)).all()
            ),
        }


def log_count(ws: Workspace) -> int:
    with ws.store.session() as session:
        return int(session.execute(select(func.count()).select_from(IdentityLog)).scalar_one())


def enroll(ws: Workspace, member_id: int, org: str) -> int:
    with ws.store.session() as session:
        organization = Organization(name=org, domains=[], created_at=utcnow())
        session.add(organization)
        session.flush()
        enrollment = Enrollment(
            member_id=member_id,
            organization_id=organization.id,
            start_date=date(2023, 1, 1),
            origin="manual",
        )
        session.add(enrollment)
        session.flush()
        return enrollment.id


def suggest(ws: Workspace, a: int, b: int, score: float = 0.7) -> int:
    lo, hi = sorted((a, b))
    with ws.store.session() as session:
        sugg = MergeSuggestion(
            identity_a_id=lo,
            identity_b_id=hi,
            score=score,
            evidence=[{"signal": "name", "weight": 0.7, "strong": False, "detail": "same name"}],
            status="open",
            created_at=utcnow(),
        )
        session.add(sugg)
        session.flush()
        return sugg.id


def invoke(cli: CliRunner, ws: Workspace, *args: str) -> Result:
    return cli.invoke(app, ["--workspace", str(ws.root), "members", *args])


# -- merge and undo ---------------------------------------------------------------------------


def test_merge_moves_identities_and_enrollments_and_undo_restores_exactly(
    workspace: Workspace,
) -> None:
    ids = people(workspace)
    git, gh, dc = ids["git"], ids["gh"], ids["dc"]
    target, other, third = (
        member_of(workspace, gh),
        member_of(workspace, git),
        member_of(workspace, dc),
    )
    enr = enroll(workspace, other, "QingCloud")
    before = state(workspace)
    with workspace.store.session() as session:
        entry = merge_members(session, target, [other, third], actor=ACTOR, reason="same person")
        entry_id = entry.id
    after = state(workspace)
    assert after["identities"][git] == after["identities"][dc] == target
    assert after["enrollments"][enr] == target
    assert other not in after["members"]
    assert third not in after["members"]
    # The GitHub login was the name; a full name replaces it.
    assert after["members"][target][0] == "Fawei Zhao"
    assert (min(gh, git), max(gh, git), "same", "manual") in after["decisions"]
    with workspace.store.session() as session:
        log = session.get(IdentityLog, entry_id)
        assert log is not None
        assert (log.action, log.actor, log.reason) == ("merge", ACTOR, "same person")
        assert sorted(m[0] for m in log.changes["moves"]) == sorted([git, dc])
        assert [d["id"] for d in log.changes["members_deleted"]] == [other, third]
        assert log.changes["members_updated"] == [
            {
                "id": target,
                "before": {"display_name": "faweizhao26"},
                "after": {"display_name": "Fawei Zhao"},
            }
        ]
    with workspace.store.session() as session:
        done = undo(session, entry_id, actor=ACTOR)
        assert (done.action, done.undo_of_id) == ("undo", entry_id)
    assert state(workspace) == before
    with workspace.store.session() as session:
        log = session.get(IdentityLog, entry_id)
        assert log is not None
        assert log.undone_by_id is not None


def test_merge_keeps_a_full_name_and_ors_only_manual_flags(workspace: Workspace) -> None:
    ids = people(workspace)
    ada, git, gh = ids["ada"], ids["git"], ids["gh"]
    with workspace.store.session() as session:
        m_gh = session.get(Member, member_of(workspace, gh))
        m_ada = session.get(Member, member_of(workspace, ada))
        assert m_gh is not None
        assert m_ada is not None
        m_gh.is_staff, m_gh.flag_origins = True, {"staff": "manual"}
        m_ada.is_bot, m_ada.flag_origins = True, {"bot": "rule"}
    target = member_of(workspace, git)
    with workspace.store.session() as session:
        merge_members(
            session, target, [member_of(workspace, gh), member_of(workspace, ada)], actor=ACTOR
        )
    with workspace.store.session() as session:
        member = session.get(Member, target)
        assert member is not None
        assert member.display_name == "Fawei Zhao"
        assert (member.is_staff, member.is_bot) == (True, False)
        assert member.flag_origins == {"staff": "manual"}


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("unknown", "no member 999999"),
        ("self", "cannot merge member"),
        ("empty", "nothing to merge"),
    ],
)
def test_merge_bad_input_changes_nothing(workspace: Workspace, case: str, message: str) -> None:
    ids = people(workspace)
    target = member_of(workspace, ids["gh"])
    other = member_of(workspace, ids["git"])
    others = {"unknown": [other, 999999], "self": [other, target], "empty": []}[case]
    before, logs = state(workspace), log_count(workspace)
    with pytest.raises(UsageError, match=message), workspace.store.session() as session:
        merge_members(session, target, others, actor=ACTOR)
    assert state(workspace) == before
    assert log_count(workspace) == logs


def test_merge_across_a_different_decision_needs_force(workspace: Workspace) -> None:
    ids = people(workspace)
    git, gh = ids["git"], ids["gh"]
    a, b = member_of(workspace, git), member_of(workspace, gh)
    with workspace.store.session() as session:
        merge_members(session, a, [b], actor=ACTOR)
    with workspace.store.session() as session:
        unmerge(session, [gh], actor=ACTOR)
    b2 = member_of(workspace, gh)
    before = state(workspace)
    with pytest.raises(UsageError) as err, workspace.store.session() as session:
        merge_members(session, a, [b2], actor=ACTOR)
    assert f"#{gh}" in str(err.value)
    assert f"#{git}" in str(err.value)
    assert "--force" in str(err.value)
    assert state(workspace) == before
    with workspace.store.session() as session:
        forced = merge_members(session, a, [b2], actor=ACTOR, force=True).id
    after = state(workspace)
    assert after["identities"][gh] == a
    assert (min(git, gh), max(git, gh), "same", "manual") in after["decisions"]
    with workspace.store.session() as session:
        undo(session, forced, actor=ACTOR)
    assert state(workspace) == before  # the different-decision is back


# -- unmerge and split ------------------------------------------------------------------------


def test_unmerge_moves_to_one_new_member_with_different_decisions(workspace: Workspace) -> None:
    ids = people(workspace)
    git, gh, gitee = ids["git"], ids["gh"], ids["gitee"]
    target = member_of(workspace, git)
    with workspace.store.session() as session:
        merge_members(
            session, target, [member_of(workspace, gh), member_of(workspace, gitee)], actor=ACTOR
        )
    with workspace.store.session() as session:
        entry = unmerge(session, [gh, gitee], actor=ACTOR, reason="two people")
        changes = entry.changes
    new = member_of(workspace, gh)
    assert new != target
    assert member_of(workspace, gitee) == new
    assert member_of(workspace, git) == target
    assert changes["members_created"] == [new]
    st = state(workspace)
    assert (min(git, gh), max(git, gh), "different", "manual") in st["decisions"]
    assert (min(git, gitee), max(git, gitee), "different", "manual") in st["decisions"]
    # The merge's same-decision between git and github was replaced, and is logged as removed.
    assert (min(git, gh), max(git, gh), "same", "manual") not in st["decisions"]
    assert [d["decision"] for d in changes["decisions_removed"]] == ["same", "same"]


def test_unmerge_bad_input_changes_nothing(workspace: Workspace) -> None:
    ids = people(workspace)
    git, gh, ada = ids["git"], ids["gh"], ids["ada"]
    with workspace.store.session() as session:
        merge_members(session, member_of(workspace, git), [member_of(workspace, gh)], actor=ACTOR)
    before, logs = state(workspace), log_count(workspace)
    cases = [
        ([999999], "no identity 999999"),
        ([git, ada], "different members"),
        ([git, gh], "all the identities of member"),
        ([ada], "never merged"),
        ([], "nothing to unmerge"),
    ]
    for identity_ids, message in cases:
        with pytest.raises(UsageError, match=message), workspace.store.session() as session:
            unmerge(session, identity_ids, actor=ACTOR)
        assert state(workspace) == before
        assert log_count(workspace) == logs


def test_split_gives_each_identity_a_member_and_undo_joins_them(workspace: Workspace) -> None:
    ids = people(workspace)
    git, gh, dc = ids["git"], ids["gh"], ids["dc"]
    target = member_of(workspace, git)
    with workspace.store.session() as session:
        merge_members(
            session, target, [member_of(workspace, gh), member_of(workspace, dc)], actor=ACTOR
        )
    before = state(workspace)
    with workspace.store.session() as session:
        entry_id = split_member(session, target, actor=ACTOR).id
    st = state(workspace)
    assert len({st["identities"][i] for i in (git, gh, dc)}) == 3
    assert st["identities"][git] == target
    different = {(a, b) for a, b, d, _ in st["decisions"] if d == "different"}
    assert different == {tuple(sorted(p)) for p in ((git, gh), (git, dc), (gh, dc))}
    with workspace.store.session() as session:
        undo(session, entry_id, actor=ACTOR)
    assert state(workspace) == before
    with pytest.raises(UsageError, match="nothing to split"), workspace.store.session() as s:
        split_member(s, member_of(workspace, ids["ada"]), actor=ACTOR)


# -- undo -------------------------------------------------------------------------------------


def test_undo_refuses_while_a_later_change_is_in_force(workspace: Workspace) -> None:
    ids = people(workspace)
    git, gh, ada = ids["git"], ids["gh"], ids["ada"]
    target = member_of(workspace, git)
    with workspace.store.session() as session:
        first = merge_members(session, target, [member_of(workspace, gh)], actor=ACTOR).id
    with workspace.store.session() as session:
        second = unmerge(session, [gh], actor=ACTOR).id
    before, logs = state(workspace), log_count(workspace)
    with pytest.raises(UsageError, match=f"by log entry {second}"), workspace.store.session() as s:
        undo(s, first, actor=ACTOR)
    assert state(workspace) == before
    assert log_count(workspace) == logs
    with workspace.store.session() as session:
        undone = undo(session, second, actor=ACTOR).id
    with workspace.store.session() as session:
        undo(session, first, actor=ACTOR)
    assert member_of(workspace, gh) != member_of(workspace, git)
    with (
        pytest.raises(UsageError, match=f"already undone by entry {undone}"),
        workspace.store.session() as session,
    ):
        undo(session, second, actor=ACTOR)
    with (
        pytest.raises(UsageError, match="itself the undo of entry"),
        workspace.store.session() as session,
    ):
        undo(session, undone, actor=ACTOR)
    with (
        pytest.raises(UsageError, match="no log entry 424242"),
        workspace.store.session() as session,
    ):
        undo(session, 424242, actor=ACTOR)
    # A merge of a third member into the target does not stand in the way of the first undo.
    with workspace.store.session() as session:
        merge_members(session, target, [member_of(workspace, ada)], actor=ACTOR)


def test_undo_of_a_merge_after_another_merge_into_the_same_target(workspace: Workspace) -> None:
    ids = people(workspace)
    git, gh, ada = ids["git"], ids["gh"], ids["ada"]
    target = member_of(workspace, git)
    gh_member, ada_member = member_of(workspace, gh), member_of(workspace, ada)
    with workspace.store.session() as session:
        first = merge_members(session, target, [gh_member], actor=ACTOR).id
    with workspace.store.session() as session:
        merge_members(session, target, [ada_member], actor=ACTOR)
    with workspace.store.session() as session:
        undo(session, first, actor=ACTOR)
    assert member_of(workspace, gh) == gh_member
    assert member_of(workspace, ada) == target == member_of(workspace, git)


# -- suggestions ------------------------------------------------------------------------------


def test_accept_merges_and_undo_reopens(workspace: Workspace) -> None:
    ids = people(workspace)
    git, dc = ids["git"], ids["dc"]
    sid = suggest(workspace, git, dc)
    before = state(workspace)
    with workspace.store.session() as session:
        [view] = list_suggestions(session)
        assert (view.id, view.identity_a.id, view.identity_b.id) == (sid, *sorted((git, dc)))
        assert view.evidence[0]["signal"] == "name"
        entry = accept_suggestion(session, sid, actor=ACTOR)
        entry_id, changes = entry.id, entry.changes
    assert entry_id
    assert changes["suggestions"] == [[sid, "open", "accepted"]]
    st = state(workspace)
    assert st["identities"][git] == st["identities"][dc]
    assert (min(git, dc), max(git, dc), "same", "suggestion") in st["decisions"]
    assert st["suggestions"][sid] == "accepted"
    with (
        pytest.raises(UsageError, match=f"suggestion {sid} is already accepted by {ACTOR}"),
        workspace.store.session() as session,
    ):
        accept_suggestion(session, sid, actor=ACTOR)
    with workspace.store.session() as session:
        undo(session, entry_id, actor=ACTOR)
    assert state(workspace) == before
    with workspace.store.session() as session:
        assert [s.id for s in list_suggestions(session)] == [sid]


def test_reject_is_remembered_and_undoable(workspace: Workspace) -> None:
    ids = people(workspace)
    gh, gitee = ids["gh"], ids["gitee"]
    sid = suggest(workspace, gh, gitee, 0.9)
    before = state(workspace)
    with workspace.store.session() as session:
        entry_id = reject_suggestion(session, sid, actor=ACTOR, reason="two people").id
    st = state(workspace)
    assert st["suggestions"][sid] == "rejected"
    assert (min(gh, gitee), max(gh, gitee), "different", "suggestion") in st["decisions"]
    # The resolver never merges across the rejection; a manual merge must be forced.
    with pytest.raises(UsageError, match="different people"), workspace.store.session() as s:
        merge_members(s, member_of(workspace, gh), [member_of(workspace, gitee)], actor=ACTOR)
    with workspace.store.session() as session:
        undo(session, entry_id, actor=ACTOR)
    assert state(workspace) == before


def test_suggestion_bad_input(workspace: Workspace) -> None:
    ids = people(workspace)
    git, dc = ids["git"], ids["dc"]
    sid = suggest(workspace, git, dc)
    with workspace.store.session() as session:
        merge_members(session, member_of(workspace, git), [member_of(workspace, dc)], actor=ACTOR)
    # The merge made the suggestion stale by itself.
    assert state(workspace)["suggestions"][sid] == "stale"
    with workspace.store.session() as session:
        session.get(MergeSuggestion, sid).status = "open"  # type: ignore[union-attr]
    before, logs = state(workspace), log_count(workspace)
    with pytest.raises(UsageError, match="no suggestion 31337"), workspace.store.session() as s:
        accept_suggestion(s, 31337, actor=ACTOR)
    assert state(workspace) == before
    assert log_count(workspace) == logs
    with workspace.store.session() as session:
        entry = accept_suggestion(session, sid, actor=ACTOR)
        assert entry.action == "stale"
        assert f"already member {member_of(workspace, git)}" in (entry.reason or "")
    assert state(workspace)["suggestions"][sid] == "stale"
    assert state(workspace)["identities"] == before["identities"]
    with pytest.raises(UsageError, match="already stale"), workspace.store.session() as session:
        reject_suggestion(session, sid, actor=ACTOR)


# -- reading ----------------------------------------------------------------------------------


def _sync_repo(ws: Workspace, repo: GitRepo) -> None:
    repo.commit("one", author="Fawei Zhao <fawei@company.com>", files={"a": "1"})
    repo.commit("two", author="Fawei Zhao <fawei@company.com>", files={"a": "2"})
    repo.commit("three", author="F. Z. <fz@home.example>", files={"a": "3"})
    repo.commit("four", author="Ada Lovelace <ada@example.org>", files={"b": "1"})
    ws.config.resolve_after_sync = False  # each e-mail a member of its own: the test decides
    add_git_source(ws.store, str(repo.path), name="repo")
    results = sync_workspace(ws, None)
    assert [r.error for r in results] == [None]


def _activities(ws: Workspace) -> list[tuple[int, int]]:
    with ws.store.session() as session:
        return sorted(session.execute(select(Activity.id, Activity.actor_identity_id)).all())


def test_merge_never_rewrites_activities_and_detail_counts_them(
    workspace: Workspace, git_repo: GitRepo
) -> None:
    _sync_repo(workspace, git_repo)
    acts = _activities(workspace)
    with workspace.store.session() as session:
        a = find_member(session, "FAWEI@company.com")
        b = find_member(session, "fz@home.example")
        assert a != b
        merge_members(session, a, [b], actor=ACTOR)
    assert _activities(workspace) == acts
    with workspace.store.session() as session:
        detail = member_detail(session, a)
        counts = {i.value: i.activities for i in detail.identities}
        assert counts["fawei@company.com"] >= 2
        assert counts["fz@home.example"] >= 1
        assert detail.activities == sum(counts.values())
        top = list_members(session, limit=1)[0]
        assert top.id == a
        assert [m.id for m in list_members(session, "home.example")] == [a]
        assert log_entries(session, a)[0].action == "merge"


def test_find_member_by_id_value_and_ambiguous(workspace: Workspace) -> None:
    ids = people(workspace)
    gh_member = member_of(workspace, ids["gh"])
    with workspace.store.session() as session:
        assert find_member(session, str(gh_member)) == gh_member
        assert find_member(session, "github:faweizhao26") == gh_member
        assert find_member(session, "Ada@Example.org") == member_of(workspace, ids["ada"])
        with pytest.raises(UsageError, match="names several members"):
            find_member(session, "faweizhao26")  # GitHub and Gitee
        with pytest.raises(UsageError, match="no member or identity 'nobody-here'"):
            find_member(session, "nobody-here")


# -- CLI --------------------------------------------------------------------------------------


def test_cli_merge_show_log_undo(cli: CliRunner, workspace: Workspace) -> None:
    ids = people(workspace)
    before = state(workspace)
    result = invoke(
        cli, workspace, "merge", "fawei@company.com", "github:faweizhao26", "--reason", "same"
    )
    assert result.exit_code == 0, result.output
    assert "2 identities moved" not in result.stdout  # one identity moved
    assert "1 identity moved" in result.stdout
    target = member_of(workspace, ids["git"])
    assert member_of(workspace, ids["gh"]) == target
    shown = invoke(cli, workspace, "show", "fawei@company.com", "--json")
    assert shown.exit_code == 0, shown.output
    data = json.loads(shown.stdout)
    assert {i["value"] for i in data["identities"]} == {"fawei@company.com", "faweizhao26"}
    assert data["log"][0]["action"] == "merge"
    assert data["log"][0]["reason"] == "same"
    log = json.loads(invoke(cli, workspace, "log", "--json").stdout)
    assert log[0]["actor"].startswith("cli:")
    assert invoke(cli, workspace, "show", str(target)).exit_code == 0
    assert invoke(cli, workspace, "log").exit_code == 0
    assert invoke(cli, workspace, "list").exit_code == 0
    undone = invoke(cli, workspace, "undo", str(log[0]["id"]))
    assert undone.exit_code == 0, undone.output
    assert state(workspace) == before
    again = invoke(cli, workspace, "undo", str(log[0]["id"]))
    assert isinstance(again.exception, UsageError)
    assert "already undone" in again.exception.message


def test_cli_errors_change_nothing(cli: CliRunner, workspace: Workspace) -> None:
    people(workspace)
    before, logs = state(workspace), log_count(workspace)
    for args, message in [
        (("merge", "fawei@company.com", "fawei@company.com"), "with itself"),
        (("merge", "fawei@company.com", "faweizhao26"), "names several members"),
        (("unmerge", "ada@example.org"), "never merged"),
        (("show", "nobody@nowhere"), "no member or identity"),
        (("split", "ada@example.org"), "nothing to split"),
        (("accept", "77"), "no suggestion 77"),
    ]:
        result = invoke(cli, workspace, *args)
        assert isinstance(result.exception, UsageError), (args, result.output)
        assert message in result.exception.message, (args, result.exception)
    assert state(workspace) == before
    assert log_count(workspace) == logs


def test_cli_suggestions_accept_reject(cli: CliRunner, workspace: Workspace) -> None:
    ids = people(workspace)
    s1 = suggest(workspace, ids["git"], ids["dc"], 0.8)
    s2 = suggest(workspace, ids["git"], ids["ada"], 0.6)
    listed = invoke(cli, workspace, "suggestions", "--json")
    assert listed.exit_code == 0, listed.output
    assert [s["id"] for s in json.loads(listed.stdout)] == [s1, s2]
    text = invoke(cli, workspace, "suggestions")
    assert "same name" in text.stdout
    assert invoke(cli, workspace, "accept", str(s1)).exit_code == 0
    rejected = invoke(cli, workspace, "reject", str(s2), "--reason", "not ada")
    assert rejected.exit_code == 0, rejected.output
    st = state(workspace)
    assert st["suggestions"] == {s1: "accepted", s2: "rejected"}
    assert st["identities"][ids["git"]] == st["identities"][ids["dc"]]
    done = json.loads(invoke(cli, workspace, "suggestions", "--status", "all", "--json").stdout)
    assert {s["status"] for s in done} == {"accepted", "rejected"}
    assert json.loads(invoke(cli, workspace, "suggestions", "--json").stdout) == []


def test_cli_unmerge_by_value(cli: CliRunner, workspace: Workspace) -> None:
    ids = people(workspace)
    assert invoke(cli, workspace, "merge", "fawei@company.com", "fawei").exit_code == 0
    result = invoke(cli, workspace, "unmerge", "fawei", "--json")
    assert result.exit_code == 0, result.output
    entry = json.loads(result.stdout)
    assert entry["action"] == "unmerge"
    assert member_of(workspace, ids["dc"]) != member_of(workspace, ids["git"])


def test_manual_decisions_survive_a_resolver_rerun(workspace: Workspace, git_repo: GitRepo) -> None:
    from commops.sync import resolve_new_identities

    values = ("fawei@company.com", "fawei.zhao@company.com", "fz@old.example")
    for n, email in enumerate(values):
        git_repo.commit(str(n), author=f"Fawei Zhao <{email}>", files={"a": str(n)})
    add_git_source(workspace.store, str(git_repo.path), name="repo")
    assert [r.error for r in sync_workspace(workspace, None)] == [None]
    with workspace.store.session() as session:
        ids = dict(session.execute(select(Identity.value, Identity.id)).all())
        # Whatever the resolver did, one member by hand, then the old address split off.
        target = find_member(session, values[0])
        others = {find_member(session, v) for v in values} - {target}
        if others:
            merge_members(session, target, sorted(others), actor=ACTOR)
    with workspace.store.session() as session:
        unmerge(session, [ids["fz@old.example"]], actor=ACTOR)
    before = state(workspace)
    resolve_new_identities(workspace, full=True)
    assert state(workspace) == before
    assert before["identities"][ids["fz@old.example"]] != target
    assert before["identities"][ids["fawei.zhao@company.com"]] == target


def test_undo_of_an_automatic_merge(workspace: Workspace, git_repo: GitRepo) -> None:
    from commops.sync import resolve_new_identities

    git_repo.commit("one", author="Fawei Zhao <fawei@company.com>", files={"a": "1"})
    git_repo.commit("two", author="fawei <FAWEI@Company.com>", files={"a": "2"})
    workspace.config.resolve_after_sync = False
    add_git_source(workspace.store, str(git_repo.path), name="repo")
    assert [r.error for r in sync_workspace(workspace, None)] == [None]
    before = state(workspace)
    assert len(set(before["identities"].values())) == 2
    resolve_new_identities(workspace)
    assert len(set(state(workspace)["identities"].values())) == 1
    with workspace.store.session() as session:
        [auto] = [e for e in log_entries(session) if e.action == "auto-merge"]
        undo(session, auto.id, actor=ACTOR)
    after = state(workspace)
    assert (after["identities"], after["members"]) == (before["identities"], before["members"])


def test_undo_recreates_a_member_an_earlier_undo_emptied(
    workspace: Workspace, git_repo: GitRepo
) -> None:
    from commops.sync import resolve_new_identities

    git_repo.commit("one", author="Fawei Zhao <fawei@company.com>", files={"a": "1"})
    git_repo.commit("two", author="fawei <FAWEI@Company.com>", files={"a": "2"})
    workspace.config.resolve_after_sync = False
    add_git_source(workspace.store, str(git_repo.path), name="repo")
    assert [r.error for r in sync_workspace(workspace, None)] == [None]
    before = state(workspace)
    resolve_new_identities(workspace)
    with workspace.store.session() as session:
        [auto] = [e for e in log_entries(session) if e.action == "auto-merge"]
        [[moved, _, target]] = auto.changes["moves"]
        stayed = next(i for i, m in before["identities"].items() if m == target)
        # The identity that was on the target all along goes to a new member...
        second = unmerge(session, [stayed], actor=ACTOR).id
    with workspace.store.session() as session:
        undo(session, auto.id, actor=ACTOR)  # ... so this undo leaves the target empty
    assert target not in state(workspace)["members"]
    with workspace.store.session() as session:
        undo(session, second, actor=ACTOR)  # the target comes back from the log
    after = state(workspace)
    assert after["identities"][stayed] == target
    assert after["members"][target] == before["members"][target]
    assert after["identities"][moved] != target
    assert len(after["members"]) == len(before["members"])


def test_undo_refuses_when_a_later_unmerge_replaced_the_merge_decision(
    workspace: Workspace,
) -> None:
    ids = people(workspace)
    git, dc = ids["git"], ids["dc"]
    with workspace.store.session() as session:
        first = merge_members(
            session, member_of(workspace, git), [member_of(workspace, dc)], actor=ACTOR
        ).id
    with workspace.store.session() as session:
        second = unmerge(session, [git], actor=ACTOR).id
    before = state(workspace)
    with pytest.raises(UsageError, match=f"by log entry {second}"), workspace.store.session() as s:
        undo(s, first, actor=ACTOR)
    assert state(workspace) == before


def test_tags_and_notes_are_logged_and_undone(workspace: Workspace, cli: CliRunner) -> None:
    ids = people(workspace)
    member = member_of(workspace, ids["ada"])
    result = invoke(cli, workspace, "tag", str(member), "--add", "Speaker", "--add", "ambassador")
    assert result.exit_code == 0, result.output
    again = invoke(cli, workspace, "tag", str(member), "--add", "speaker")
    assert "nothing changed" in again.output
    assert invoke(cli, workspace, "note", str(member), "Wants to give a talk.").exit_code == 0
    with workspace.store.session() as session:
        row = session.get(Member, member)
        assert row is not None
        assert (row.tags, row.notes) == (["speaker", "ambassador"], "Wants to give a talk.")
    bad = invoke(cli, workspace, "tag", str(member), "--add", "two words")
    assert isinstance(bad.exception, UsageError)
    assert "tag 'two words'" in bad.exception.message
    entries = invoke(cli, workspace, "log", "--json")
    last = json.loads(entries.output)[0]
    assert last["action"] == "profile"
    assert invoke(cli, workspace, "undo", str(last["id"])).exit_code == 0
    with workspace.store.session() as session:
        row = session.get(Member, member)
        assert row is not None
        assert (row.tags, row.notes) == (["speaker", "ambassador"], None)
