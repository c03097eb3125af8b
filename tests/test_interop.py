"""Identity mappings as .mailmap and JSON: export, import, idempotence, undo, bad files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner, Result

from commops.cli.app import app
from commops.connectors.base import IdentityRef
from commops.connectors.tabular import import_people, parse_file
from commops.errors import UsageError
from commops.identity.audit import find_member, merge_members, undo, unmerge
from commops.identity.bots import BotRules
from commops.identity.interop import (
    export_json,
    export_mailmap,
    import_file,
    import_json,
    import_mailmap,
    parse_mailmap,
)
from commops.identity.registry import IdentityRegistry
from commops.sources import add_git_source
from commops.store.models import Activity, Identity, IdentityDecision, IdentityLog, Member
from commops.sync import sync_workspace
from commops.workspace import Workspace, init_workspace
from conftest import GitRepo

ACTOR = "test:ana"

FAWEI = "Fawei Zhao <fawei@company.com>"
FAWEI_HOME = "fawei <Fawei.Zhao@Home.example>"
FAWEI_OLD = "F Zhao <fz@old.example>"
ADA = "Ada Lovelace <ada@example.org>"


def build_history(repo: GitRepo) -> None:
    repo.commit("one", author=FAWEI, files={"a": "1"})
    repo.commit("two", author=FAWEI, files={"a": "2"})
    repo.commit("three", author=FAWEI_HOME, files={"a": "3"})
    repo.commit("four", author=FAWEI_OLD, files={"a": "4"})
    repo.commit("five", author=ADA, files={"b": "1"})


def sync_repo(ws: Workspace, repo: GitRepo, *, resolve: bool = False) -> None:
    # Without the resolver, each e-mail starts as a member of its own: the tests decide.
    ws.config.resolve_after_sync = resolve
    add_git_source(ws.store, str(repo.path), name="repo", mailmap=False)
    results = sync_workspace(ws, None)
    assert [r.error for r in results] == [None]


def grouping(ws: Workspace) -> set[frozenset[str]]:
    """Who is with whom, by identity value: comparable across workspaces."""
    with ws.store.session() as session:
        groups: dict[int, set[str]] = {}
        for member_id, platform, value in session.execute(
            select(Identity.member_id, Identity.platform, Identity.value)
        ):
            groups.setdefault(member_id, set()).add(f"{platform}:{value}")
    return {frozenset(g) for g in groups.values()}


def state(ws: Workspace) -> dict[str, Any]:
    with ws.store.session() as session:
        return {
            "identities": dict(session.execute(select(Identity.id, Identity.member_id)).all()),
            "members": dict(session.execute(select(Member.id, Member.display_name)).all()),
            "decisions": sorted(
                session.execute(
                    select(
                        IdentityDecision.identity_a_id,
                        IdentityDecision.identity_b_id,
                        IdentityDecision.decision,
                        IdentityDecision.origin,
                    )
                ).all()
            ),
        }


def log_count(ws: Workspace) -> int:
    with ws.store.session() as session:
        return int(session.execute(select(func.count()).select_from(IdentityLog)).scalar_one())


def activities(ws: Workspace) -> list[tuple[int, int]]:
    with ws.store.session() as session:
        return sorted(session.execute(select(Activity.id, Activity.actor_identity_id)).all())


def merge_fawei(ws: Workspace) -> None:
    with ws.store.session() as session:
        target = find_member(session, "fawei@company.com")
        others = [find_member(session, "fawei.zhao@home.example")]
        merge_members(session, target, others, actor=ACTOR)


def invoke(cli: CliRunner, ws: Workspace, *args: str) -> Result:
    return cli.invoke(app, ["--workspace", str(ws.root), "members", *args])


# -- .mailmap ---------------------------------------------------------------------------------


def test_parse_mailmap_reads_gits_four_forms() -> None:
    text = (
        "# a comment\n"
        "\n"
        "Proper Name <commit@a.org>\n"
        "<proper@a.org> <commit2@a.org>\n"
        "Proper Two <proper2@a.org> <commit3@a.org>\n"
        "Proper Three <proper3@a.org> Commit Name <commit4@a.org>  # trailing comment\n"
    )
    lines = parse_mailmap(text, "x/.mailmap")
    assert [
        (e.line, e.proper_name, e.proper_email, e.commit_name, e.commit_email) for e in lines
    ] == [
        (3, "Proper Name", None, None, "commit@a.org"),
        (4, None, "proper@a.org", None, "commit2@a.org"),
        (5, "Proper Two", "proper2@a.org", None, "commit3@a.org"),
        (6, "Proper Three", "proper3@a.org", "Commit Name", "commit4@a.org"),
    ]


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("Just A Name", "no <e-mail> on the line"),
        ("Name <open@a.org", "not closed"),
        ("Name <>", "empty e-mail"),
        ("Name <a b@a.org>", "contains a space"),
        ("A <a@a.org> B <b@a.org> C <c@a.org>", "more than two e-mails"),
        ("A <a@a.org> B <b@a.org> C", "unexpected text"),
        ("A <a@a.org> trailing words", "unexpected text"),
    ],
)
def test_malformed_mailmap_line_names_file_and_line(line: str, reason: str) -> None:
    with pytest.raises(UsageError, match=reason) as err:
        parse_mailmap(f"# header\nOk <ok@a.org>\n{line}\n", "repo/.mailmap")
    assert err.value.message.startswith("repo/.mailmap:3: ")


def test_export_mailmap_maps_each_email_to_the_primary(
    workspace: Workspace, git_repo: GitRepo
) -> None:
    build_history(git_repo)
    sync_repo(workspace, git_repo)
    merge_fawei(workspace)
    with workspace.store.session() as session:
        lines = export_mailmap(session).splitlines()
    body = [line for line in lines if not line.startswith("#")]
    # fawei@company.com has the most commits: it is the primary e-mail.
    assert "Fawei Zhao <fawei@company.com> fawei <Fawei.Zhao@Home.example>" in body
    # The primary e-mail itself in git's short form: the name for that address.
    assert "Fawei Zhao <fawei@company.com>" in body
    assert "Ada Lovelace <ada@example.org>" in body
    assert len(body) == 4


def test_mailmap_round_trip_into_a_fresh_workspace(
    workspace: Workspace, git_repo: GitRepo, tmp_path: Path
) -> None:
    build_history(git_repo)
    sync_repo(workspace, git_repo)
    merge_fawei(workspace)
    with workspace.store.session() as session:
        text = export_mailmap(session)
    fresh, _ = init_workspace(tmp_path / "fresh")
    try:
        sync_repo(fresh, git_repo)
        acts = activities(fresh)
        assert grouping(fresh) != grouping(workspace)
        with fresh.store.session() as session:
            report = import_mailmap(session, text, actor=ACTOR)
        assert report.merged == 1
        assert report.log_id is not None
        assert grouping(fresh) == grouping(workspace)
        assert activities(fresh) == acts
        with fresh.store.session() as session:
            decisions = session.execute(
                select(IdentityDecision.decision, IdentityDecision.origin)
            ).all()
        assert set(decisions) == {("same", "mailmap")}
        # A second import changes nothing.
        logs, before = log_count(fresh), state(fresh)
        with fresh.store.session() as session:
            again = import_mailmap(session, text, actor=ACTOR)
        assert (again.changes, again.merged, again.log_id) == (0, 0, None)
        assert state(fresh) == before
        assert log_count(fresh) == logs
    finally:
        fresh.close()


def test_mailmap_import_links_case_insensitively_reports_unknown_and_undoes(
    workspace: Workspace, git_repo: GitRepo
) -> None:
    build_history(git_repo)
    sync_repo(workspace, git_repo)
    before, acts = state(workspace), activities(workspace)
    text = (
        "# curated\n"
        "Fawei Zhao <FAWEI@company.com> <fawei.zhao@home.example>\n"
        "Fawei Zhao <fawei@company.com> <FZ@OLD.EXAMPLE>\n"
        "Nobody <nobody@nowhere.example> <ghost@nowhere.example>\n"
    )
    with workspace.store.session() as session:
        report = import_mailmap(session, text, actor=ACTOR, file="team.mailmap")
        log_id = report.log_id
    assert report.merged == 2
    assert [s["line"] for s in report.skipped] == [4]
    assert "nobody@nowhere.example" in report.skipped[0]["reason"]
    groups = grouping(workspace)
    assert (
        frozenset({"git:fawei@company.com", "git:Fawei.Zhao@Home.example", "git:fz@old.example"})
        in groups
    )
    assert activities(workspace) == acts
    assert log_id is not None
    with workspace.store.session() as session:
        entry = session.get(IdentityLog, log_id)
        assert entry is not None
        assert entry.action == "import"
        undo(session, log_id, actor=ACTOR)
    assert state(workspace) == before


def test_mailmap_import_respects_a_different_decision(
    workspace: Workspace, git_repo: GitRepo
) -> None:
    build_history(git_repo)
    sync_repo(workspace, git_repo)
    merge_fawei(workspace)
    with workspace.store.session() as session:
        home = session.execute(
            select(Identity.id).where(Identity.value == "Fawei.Zhao@Home.example")
        ).scalar_one()
        unmerge(session, [home], actor=ACTOR)
    before = state(workspace)
    with workspace.store.session() as session:
        report = import_mailmap(
            session, "Fawei Zhao <fawei@company.com> <fawei.zhao@home.example>\n", actor=ACTOR
        )
    assert report.changes == 0
    assert report.conflicts[0]["where"] == ".mailmap:1"
    assert "different" in report.conflicts[0]["reason"]
    assert state(workspace) == before


def test_malformed_mailmap_file_changes_nothing(
    cli: CliRunner, workspace: Workspace, git_repo: GitRepo, tmp_path: Path
) -> None:
    build_history(git_repo)
    sync_repo(workspace, git_repo)
    path = tmp_path / ".mailmap"
    path.write_text(
        "Fawei Zhao <fawei@company.com> <fawei.zhao@home.example>\nBroken <oops\n",
        encoding="utf-8",
    )
    before, logs = state(workspace), log_count(workspace)
    result = invoke(cli, workspace, "import", str(path))
    assert isinstance(result.exception, UsageError)
    assert result.exception.message.startswith(f"{path}:2: ")
    assert state(workspace) == before
    assert log_count(workspace) == logs


# -- JSON -------------------------------------------------------------------------------------


def test_json_round_trip_keeps_grouping_and_different_decisions(
    workspace: Workspace, git_repo: GitRepo, tmp_path: Path
) -> None:
    build_history(git_repo)
    sync_repo(workspace, git_repo)
    merge_fawei(workspace)
    with workspace.store.session() as session:
        old = session.execute(
            select(Identity.id).where(Identity.value == "fz@old.example")
        ).scalar_one()
        target = find_member(session, "fawei@company.com")
        merge_members(session, target, [find_member(session, "fz@old.example")], actor=ACTOR)
    with workspace.store.session() as session:
        unmerge(session, [old], actor=ACTOR)
    with workspace.store.session() as session:
        doc = export_json(session)
    assert doc["format"] == 1
    assert {d["decision"] for d in doc["decisions"]} == {"same", "different"}
    fresh, _ = init_workspace(tmp_path / "fresh")
    try:
        sync_repo(fresh, git_repo)
        with fresh.store.session() as session:
            report = import_json(session, json.dumps(doc), actor=ACTOR)
        assert report.merged == 1
        assert grouping(fresh) == grouping(workspace)
        with fresh.store.session() as session:
            kinds = set(
                session.execute(select(IdentityDecision.decision, IdentityDecision.origin)).all()
            )
        assert kinds == {("same", "import"), ("different", "import")}
        # The imported different-decision keeps the old address apart from now on.
        with pytest.raises(UsageError, match="different people"), fresh.store.session() as s:
            merge_members(
                s,
                find_member(s, "fawei@company.com"),
                [find_member(s, "fz@old.example")],
                actor=ACTOR,
            )
        with fresh.store.session() as session:
            again = import_json(session, json.dumps(doc), actor=ACTOR)
        assert again.changes == 0
    finally:
        fresh.close()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{\n  "format": 1,\n  "members": [\n}', "import.json:4: not JSON"),
        ('{"format": 2, "members": []}', "import.json: format: is 2"),
        (
            '{"format": 1, "members": [{"identities": [{"platform": "git"}]}]}',
            "members[0].identities[0].kind",
        ),
        ('{"format": 1, "decisions": [{"decision": "maybe"}]}', "decisions[0].decision"),
    ],
)
def test_bad_json_names_file_and_place(workspace: Workspace, content: str, message: str) -> None:
    before, logs = state(workspace), log_count(workspace)
    with pytest.raises(UsageError) as err, workspace.store.session() as session:
        import_json(session, content, actor=ACTOR, file="import.json")
    assert message in err.value.message
    assert state(workspace) == before
    assert log_count(workspace) == logs


# -- CLI --------------------------------------------------------------------------------------


def test_cli_export_and_import(
    cli: CliRunner, workspace: Workspace, git_repo: GitRepo, tmp_path: Path
) -> None:
    build_history(git_repo)
    sync_repo(workspace, git_repo)
    out = tmp_path / "people.json"
    merge_fawei(workspace)
    result = invoke(cli, workspace, "export", "--format", "json", "--output", str(out))
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text(encoding="utf-8"))["format"] == 1
    shown = invoke(cli, workspace, "export", "--format", "mailmap")
    assert "Fawei Zhao <fawei@company.com>" in shown.stdout
    mailmap = tmp_path / "team.mailmap"
    mailmap.write_text("Fawei Zhao <fawei@company.com> <fz@old.example>\n", encoding="utf-8")
    imported = invoke(cli, workspace, "import", str(mailmap), "--json")
    assert imported.exit_code == 0, imported.output
    report = json.loads(imported.stdout)
    assert (report["format"], report["merged"]) == ("mailmap", 1)
    again = json.loads(invoke(cli, workspace, "import", str(mailmap), "--json").stdout)
    assert again["changes"] == 0
    text = invoke(cli, workspace, "import", str(out))
    assert text.exit_code == 0, text.output
    assert "0 changes" in text.stdout
    odd = tmp_path / "people.txt"
    odd.write_text("", encoding="utf-8")
    bad = invoke(cli, workspace, "import", str(odd))
    assert isinstance(bad.exception, UsageError)
    assert "cannot tell the format" in bad.exception.message


def test_import_file_picks_the_format_by_name(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / ".mailmap"
    path.write_text("A <a@a.org> <b@a.org>\n", encoding="utf-8")
    with workspace.store.session() as session:
        report = import_file(session, path, actor=ACTOR)
    assert report.format == "mailmap"
    assert [s["line"] for s in report.skipped] == [1]


# -- tabular people imports go through the log ------------------------------------------------


def test_tabular_identity_moves_are_logged_and_undoable(
    workspace: Workspace, tmp_path: Path
) -> None:
    with workspace.store.session() as session:
        registry = IdentityRegistry(session, BotRules())
        registry.ensure(
            [
                IdentityRef("wechat", "username", "xiaoming", "Xiao Ming"),
                IdentityRef("github", "username", "xiaoming-dev", None),
            ]
        )
    before = state(workspace)
    path = tmp_path / "ids.csv"
    path.write_text(
        "platform,kind,value,member_key\n"
        "wechat,username,xiaoming,xm\n"
        "github,username,xiaoming-dev,xm\n",
        encoding="utf-8",
    )
    result = import_people(workspace.store, parse_file(path, "identities"), BotRules())
    assert result.identities_moved == 2
    with workspace.store.session() as session:
        entry = session.execute(select(IdentityLog)).scalar_one()
        assert (entry.action, entry.actor) == ("import", "import:ids.csv")
        assert len(entry.changes["moves"]) == 2
        assert len(entry.changes["members_deleted"]) == 2
        entry_id = entry.id
    with workspace.store.session() as session:
        undo(session, entry_id, actor=ACTOR)
    after = state(workspace)
    assert {k: v for k, v in after["identities"].items() if k in before["identities"]} == before[
        "identities"
    ]
