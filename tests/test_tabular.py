"""CSV and JSON Lines imports: validation by line, all-or-nothing, idempotent re-imports."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from commops.cli.app import app
from commops.errors import SourceError
from commops.exports import iter_activities, iter_identities
from commops.store.models import Member
from commops.workspace import Workspace

DATA = Path(__file__).parent / "data" / "tabular"


def invoke(cli: CliRunner, ws: Workspace, *args: str) -> Result:
    return cli.invoke(app, ["--workspace", str(ws.root), "import", "csv", *args])


def activities(ws: Workspace) -> list[dict[str, Any]]:
    return sorted(iter_activities(ws.store), key=lambda a: (a["occurred_at"], a["kind"]))


def members(ws: Workspace) -> dict[str, dict[str, Any]]:
    with ws.store.session() as session:
        return {
            m.display_name: {"is_bot": m.is_bot, "is_staff": m.is_staff, "tags": m.tags}
            for m in session.query(Member)
        }


def test_tabular_activities_csv_imported(cli: CliRunner, workspace: Workspace) -> None:
    result = invoke(cli, workspace, str(DATA / "activities.csv"), "--kind", "activities")
    assert result.exit_code == 0, result.output
    rows = activities(workspace)
    assert [(a["kind"], a["occurred_at"], a["source"]) for a in rows] == [
        ("wechat:message", "2024-03-01T12:15:00Z", "activities"),
        ("wechat:message", "2024-03-01T12:20:00Z", "activities"),
        ("event:attended", "2024-03-09T00:00:00Z", "activities"),
        ("event:talk_given", "2024-03-09T14:00:00Z", "activities"),
    ]
    first = rows[0]
    assert first["actor"]["username"] == "xiaoming"
    assert first["actor"]["platform"] == "wechat"
    assert first["channel"] == "KubeSphere 用户群 1"
    assert first["contribution_type"] == "question"
    assert first["attributes"] == {"words": 12, "utc_offset": "+08:00"}
    assert rows[3]["actor"]["name"] == "Grace Hopper"
    assert rows[3]["attributes"] == {"minutes": 30, "utc_offset": "+00:00"}
    # the username and the e-mail given with it belong to one member
    idents = {(i["platform"], i["kind"], i["value"]): i for i in iter_identities(workspace.store)}
    assert (
        idents[("wechat", "username", "xiaoming")]["member_id"]
        == idents[("wechat", "email", "xiaoming@example.org")]["member_id"]
    )


def test_tabular_reimport_is_a_no_op(cli: CliRunner, workspace: Workspace) -> None:
    path = str(DATA / "activities.csv")
    assert invoke(cli, workspace, path, "--kind", "activities").exit_code == 0
    before = activities(workspace)
    identities = list(iter_identities(workspace.store))
    result = invoke(cli, workspace, path, "--kind", "activities", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["added"] == 0
    assert activities(workspace) == before
    assert list(iter_identities(workspace.store)) == identities


def test_tabular_jsonl_imported_with_source_name(
    cli: CliRunner, sqlite_workspace: Workspace
) -> None:
    path = str(DATA / "activities.jsonl")
    result = invoke(cli, sqlite_workspace, path, "--kind", "activities", "--source", "survey-2024")
    assert result.exit_code == 0, result.output
    rows = activities(sqlite_workspace)
    assert [(a["source"], a["occurred_at"], a["actor"]["email"]) for a in rows] == [
        ("survey-2024", "2024-05-01T08:00:00Z", "ada@example.org"),
        ("survey-2024", "2024-05-01T13:30:00Z", "bob@example.org"),
    ]
    assert rows[1]["attributes"] == {"nps": 6, "utc_offset": "-04:00"}


def test_tabular_dry_run_reports_every_bad_row(cli: CliRunner, sqlite_workspace: Workspace) -> None:
    path = DATA / "activities_bad.csv"
    result = invoke(cli, sqlite_workspace, str(path), "--kind", "activities", "--dry-run")
    assert result.exit_code == 1
    numbers = re.findall(r"activities_bad\.csv:(\d+): ", result.stderr)
    assert numbers == ["3", "4", "5", "6", "7", "8"], result.stderr
    assert f"{path}:3: kind: 'message' is not a namespaced kind" in result.stderr
    assert f"{path}:4: occurred_at: 'yesterday' is not an ISO 8601 date or time" in result.stderr
    assert f"{path}:5: actor: needs actor_username, actor_email or actor_name" in result.stderr
    assert f"{path}:6: attributes: not JSON" in result.stderr
    assert f"{path}:7: contribution_type: 'answers' is not in the all-contributors" in (
        result.stderr
    )
    assert f"{path}:8: kind: required" in result.stderr
    assert activities(sqlite_workspace) == []


def test_tabular_invalid_file_writes_nothing(cli: CliRunner, sqlite_workspace: Workspace) -> None:
    path = str(DATA / "activities_bad.csv")
    result = invoke(cli, sqlite_workspace, path, "--kind", "activities", "--json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["rows"] == 8
    assert report["valid"] == 2
    assert [(e["line"], e["field"]) for e in report["errors"]] == [
        (3, "kind"),
        (4, "occurred_at"),
        (5, "actor"),
        (6, "attributes"),
        (7, "contribution_type"),
        (8, "kind"),
    ]
    assert activities(sqlite_workspace) == []


def test_tabular_skip_invalid_imports_valid_rows(
    cli: CliRunner, sqlite_workspace: Workspace
) -> None:
    path = str(DATA / "activities_bad.csv")
    result = invoke(cli, sqlite_workspace, path, "--kind", "activities", "--skip-invalid")
    assert result.exit_code == 0, result.output
    assert [a["title"] for a in activities(sqlite_workspace)] == ["hello", "fine"]
    assert "activities_bad.csv:3: kind:" in result.stderr


def test_tabular_dry_run_of_valid_file_writes_nothing(
    cli: CliRunner, sqlite_workspace: Workspace
) -> None:
    path = str(DATA / "activities.csv")
    result = invoke(cli, sqlite_workspace, path, "--kind", "activities", "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "file": path,
        "kind": "activities",
        "rows": 4,
        "valid": 4,
        "errors": [],
    }
    assert activities(sqlite_workspace) == []


def test_tabular_non_utf8_file_names_file_and_line(
    cli: CliRunner, sqlite_workspace: Workspace, tmp_path: Path
) -> None:
    path = tmp_path / "gbk.csv"
    path.write_bytes(
        b"kind,occurred_at,actor_platform,actor_name\n"
        + "wechat:message,2024-01-01,wechat,小明\n".encode("gb18030")
    )
    result = invoke(cli, sqlite_workspace, str(path), "--kind", "activities")
    assert isinstance(result.exception, SourceError)
    assert str(result.exception).startswith(f"{path}: not UTF-8 at byte 78 (line 2)")


def test_tabular_unknown_column_is_reported(
    cli: CliRunner, sqlite_workspace: Workspace, tmp_path: Path
) -> None:
    path = tmp_path / "x.csv"
    path.write_text("kind,occurred_at,actor_platform,actor_name,colour\n", encoding="utf-8")
    result = invoke(cli, sqlite_workspace, str(path), "--kind", "activities", "--dry-run")
    assert result.exit_code == 1
    assert f"{path}:1: colour: unknown column for activities" in result.stderr


def test_tabular_identities_grouped_by_member_key(cli: CliRunner, workspace: Workspace) -> None:
    path = str(DATA / "identities.csv")
    result = invoke(cli, workspace, path, "--kind", "identities", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["identities_added"] == 4
    idents = {
        (i["platform"], i["value"]): i["member_id"]
        for i in iter_identities(workspace.store)
        if i["platform"] != "member_key"
    }
    assert (
        idents[("wechat", "xiaoming")]
        == idents[("github", "xiaoming-dev")]
        == idents[("email", "xiaoming@example.org")]
    )
    assert idents[("wechat", "lili")] != idents[("wechat", "xiaoming")]
    before = list(iter_identities(workspace.store))
    again = invoke(cli, workspace, path, "--kind", "identities", "--json")
    assert again.exit_code == 0, again.output
    report = json.loads(again.stdout)
    assert (report["identities_added"], report["identities_moved"], report["members_added"]) == (
        0,
        0,
        0,
    )
    assert list(iter_identities(workspace.store)) == before


def test_tabular_identities_join_members_of_earlier_activities(
    cli: CliRunner, sqlite_workspace: Workspace
) -> None:
    ws = sqlite_workspace
    assert invoke(cli, ws, str(DATA / "activities.csv"), "--kind", "activities").exit_code == 0
    result = invoke(cli, ws, str(DATA / "identities.csv"), "--kind", "identities", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["identities_moved"] == 1  # wechat:xiaoming
    by_value = {i["value"]: i["member_id"] for i in iter_identities(ws.store)}
    assert by_value["xiaoming"] == by_value["xiaoming-dev"]
    actor = next(a for a in activities(ws) if a["actor"]["username"] == "xiaoming")["actor"]
    assert actor["member_id"] == by_value["xiaoming-dev"]


def test_tabular_members_set_flags_and_tags(cli: CliRunner, workspace: Workspace) -> None:
    assert (
        invoke(cli, workspace, str(DATA / "identities.csv"), "--kind", "identities").exit_code == 0
    )
    result = invoke(cli, workspace, str(DATA / "members.csv"), "--kind", "members", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["members_added"], report["members_updated"]) == (1, 1)
    found = members(workspace)
    assert found["Xiao Ming"] == {
        "is_bot": False,
        "is_staff": True,
        "tags": ["ambassador", "shanghai"],
    }
    assert found["New Comer"] == {"is_bot": False, "is_staff": False, "tags": []}
    again = invoke(cli, workspace, str(DATA / "members.csv"), "--kind", "members", "--json")
    report = json.loads(again.stdout)
    assert (report["members_added"], report["members_updated"]) == (0, 0)
    assert members(workspace) == found


def test_tabular_bad_members_row_writes_nothing(
    cli: CliRunner, sqlite_workspace: Workspace, tmp_path: Path
) -> None:
    path = tmp_path / "m.jsonl"
    path.write_text(
        '{"member_key": "a", "display_name": "A"}\n{"member_key": "b", "is_bot": "maybe"}\n',
        encoding="utf-8",
    )
    result = invoke(cli, sqlite_workspace, str(path), "--kind", "members")
    assert result.exit_code == 1
    assert f"{path}:2: is_bot: 'maybe' is not true or false" in result.stderr
    assert members(sqlite_workspace) == {}


def test_tabular_sync_does_not_reread_the_file(
    cli: CliRunner, sqlite_workspace: Workspace, tmp_path: Path
) -> None:
    path = tmp_path / "group.csv"
    path.write_text(
        "kind,occurred_at,actor_platform,actor_username\nwechat:message,2024-01-01,wechat,a\n",
        encoding="utf-8",
    )
    assert invoke(cli, sqlite_workspace, str(path), "--kind", "activities").exit_code == 0
    path.unlink()  # an import's file may be gone; sync leaves the source alone
    synced = cli.invoke(app, ["--workspace", str(sqlite_workspace.root), "sync", "--json"])
    assert synced.exit_code == 0, synced.output
    assert [(r["source"], r["ok"], r["added"]) for r in json.loads(synced.stdout)] == [
        ("group", True, 0)
    ]
    assert len(activities(sqlite_workspace)) == 1


def test_tabular_contradicting_rows_are_reported(
    cli: CliRunner, sqlite_workspace: Workspace, tmp_path: Path
) -> None:
    path = tmp_path / "people.csv"
    path.write_text(
        "platform,kind,value,name,member_key\n"
        "wechat,username,xm,小明,p1\n"
        "wechat,username,xm,小明,p1\n"
        "wechat,username,xm,小明,p2\n",
        encoding="utf-8",
    )
    result = invoke(cli, sqlite_workspace, str(path), "--kind", "identities", "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["errors"] == [
        {
            "file": str(path),
            "line": 4,
            "field": "value",
            "reason": "wechat username 'xm' differs from line 2",
        }
    ]
    events = tmp_path / "events.jsonl"
    events.write_text(
        '{"kind": "event:attended", "occurred_at": "2024-01-01", "actor_platform": "meetup", '
        '"actor_name": "A", "item_key": "e1"}\n'
        '{"kind": "event:attended", "occurred_at": "2024-01-02", "actor_platform": "meetup", '
        '"actor_name": "B", "item_key": "e1"}\n',
        encoding="utf-8",
    )
    result = invoke(cli, sqlite_workspace, str(events), "--kind", "activities", "--dry-run")
    assert result.exit_code == 1
    assert f"{events}:2: item_key: 'e1' of kind event:attended differs from line 1" in (
        result.stderr
    )


def test_tabular_unknown_extension_needs_format(
    cli: CliRunner, sqlite_workspace: Workspace, tmp_path: Path
) -> None:
    path = tmp_path / "signups.txt"
    path.write_text("member_key,display_name\nk1,Kim\n", encoding="utf-8")
    result = invoke(cli, sqlite_workspace, str(path), "--kind", "members")
    assert isinstance(result.exception, SourceError)
    assert str(result.exception).startswith(
        f"{path}: cannot tell the format from the extension '.txt'"
    )
    result = invoke(cli, sqlite_workspace, str(path), "--kind", "members", "--format", "csv")
    assert result.exit_code == 0, result.output
    assert members(sqlite_workspace) == {"Kim": {"is_bot": False, "is_staff": False, "tags": []}}
