"""Perceval items: GrimoireLab's recorded item streams mapped to activities."""

from __future__ import annotations

import importlib.util
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner, Result

from commops.cli.app import app
from commops.errors import SourceError
from commops.exports import iter_activities
from commops.sources import add_source
from commops.store.models import Observation
from commops.workspace import Workspace
from conftest import GitRepo, shared_data

DATA = Path(__file__).parent / "data" / "perceval"


def items(name: str) -> Path:
    return shared_data("fixtures", "perceval_items", f"{name}.json")


def invoke(cli: CliRunner, ws: Workspace, *args: str) -> Result:
    return cli.invoke(app, ["--workspace", str(ws.root), *args])


def kinds(ws: Workspace) -> dict[str, int]:
    return dict(sorted(Counter(a["kind"] for a in iter_activities(ws.store)).items()))


def by_kind(ws: Workspace, kind: str) -> list[dict[str, Any]]:
    found = [a for a in iter_activities(ws.store) if a["kind"] == kind]
    return sorted(found, key=lambda a: (a["occurred_at"], a["uid"]))


def test_perceval_github_issues_and_pulls(cli: CliRunner, workspace: Workspace) -> None:
    result = invoke(cli, workspace, "import", "perceval", str(items("github")), "--json")
    assert result.exit_code == 0, result.output
    assert kinds(workspace) == {
        "github:issue_comment": 4,
        "github:pr_merged": 1,
        "github:pr_opened": 3,
        "github:review": 1,
        "github:review_comment": 2,
    }
    [merged] = by_kind(workspace, "github:pr_merged")
    assert (merged["channel"], merged["occurred_at"], merged["actor"]["username"]) == (
        "FDC3/FDC3",
        "2019-02-22T16:21:03Z",
        "rikoe",
    )
    assert merged["contribution_type"] == "maintenance"
    opened = by_kind(workspace, "github:pr_opened")
    assert [(a["channel"], a["occurred_at"], a["actor"]["username"]) for a in opened] == [
        ("zhquan_example/repo", "2016-01-03T23:46:04Z", "zhquan_example"),
        ("chaoss/grimoirelab-perceval", "2016-01-04T16:07:16Z", "acs"),
        ("FDC3/FDC3", "2019-02-21T11:52:46Z", "maoo"),
    ]
    # repository snapshots become observations: stars, forks, watchers per fetch
    with workspace.store.session() as session:
        series = session.execute(select(Observation.series).distinct()).scalars().all()
    assert sorted(series) == [
        "github:zhquan_example/repo:forks_count",
        "github:zhquan_example/repo:stargazers_count",
        "github:zhquan_example/repo:subscribers_count",
    ]


def test_perceval_reimport_adds_nothing(cli: CliRunner, workspace: Workspace) -> None:
    path = str(items("slack"))
    assert invoke(cli, workspace, "import", "perceval", path).exit_code == 0
    before = list(iter_activities(workspace.store))
    again = invoke(cli, workspace, "import", "perceval", path, "--json")
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)[0]["added"] == 0
    assert list(iter_activities(workspace.store)) == before


def test_perceval_slack_messages(cli: CliRunner, sqlite_workspace: Workspace) -> None:
    ws = sqlite_workspace
    assert invoke(cli, ws, "import", "perceval", str(items("slack"))).exit_code == 0
    assert kinds(ws) == {"slack:channel_join": 1, "slack:message": 11}
    first = by_kind(ws, "slack:message")[0]
    assert (first["occurred_at"], first["channel"], first["actor"]["username"]) == (
        "2015-03-23T18:33:54.000066Z",
        "test channel",
        "U0001",
    )
    assert first["actor"]["name"] == "Alvaro del Castillo"
    bots = [a for a in by_kind(ws, "slack:message") if a["attributes"].get("bot")]
    assert sorted(a["actor"]["username"] for a in bots) == ["B0001", "raiden", "raiden"]


def test_perceval_discourse_topics_and_posts(cli: CliRunner, sqlite_workspace: Workspace) -> None:
    ws = sqlite_workspace
    result = invoke(cli, ws, "import", "perceval", str(items("discourse")), "--name", "forum")
    assert result.exit_code == 0, result.output
    assert kinds(ws) == {"discourse:post": 22, "discourse:topic_created": 3}
    created = by_kind(ws, "discourse:topic_created")
    assert {a["source"] for a in created} == {"forum"}
    assert all(a["channel"].startswith("category:") for a in created)
    assert all(a["target"] for a in created)


def test_perceval_meetup_events_rsvps_comments(cli: CliRunner, sqlite_workspace: Workspace) -> None:
    ws = sqlite_workspace
    assert invoke(cli, ws, "import", "perceval", str(items("meetup"))).exit_code == 0
    assert kinds(ws) == {"meetup:comment": 7, "meetup:event_hosted": 5, "meetup:rsvp": 9}
    hosted = by_kind(ws, "meetup:event_hosted")
    assert {a["contribution_type"] for a in hosted} == {"eventOrganizing"}
    assert {a["channel"] for a in hosted} >= {"sqlpass-es"}
    assert {a["attributes"]["response"] for a in by_kind(ws, "meetup:rsvp")} <= {"yes", "no"}


def test_perceval_unknown_backend_maps_generically(
    cli: CliRunner, sqlite_workspace: Workspace
) -> None:
    ws = sqlite_workspace
    result = invoke(cli, ws, "import", "perceval", str(DATA / "mbox.json"), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)[0]
    assert report["warnings"] == [
        f"{DATA / 'mbox.json'}:42: no author in the MBox item; skipped",
    ]
    rows = by_kind(ws, "perceval:mbox:message")
    assert [
        (a["occurred_at"], a["actor"]["email"], a["actor"]["name"], a["title"]) for a in rows
    ] == [
        ("2024-02-20T09:12:00Z", "ada@example.org", "Ada Lovelace", "[dev] Release planning"),
        ("2024-02-20T11:30:00Z", "bob@example.org", None, "Re: [dev] Release planning"),
    ]
    assert rows[0]["attributes"]["perceval_origin"] == "https://lists.example.org/dev"


def test_perceval_githubql_events_generic(cli: CliRunner, sqlite_workspace: Workspace) -> None:
    ws = sqlite_workspace
    assert invoke(cli, ws, "import", "perceval", str(items("githubql"))).exit_code == 0
    events = by_kind(ws, "perceval:github:event")
    assert len(events) == 16
    assert {a["actor"]["platform"] for a in events} == {"github"}
    assert "LabeledEvent" in {a["attributes"]["type"] for a in events}


def test_perceval_bad_json_names_file_and_line(
    cli: CliRunner, sqlite_workspace: Workspace, tmp_path: Path
) -> None:
    path = tmp_path / "items.json"
    path.write_text('{"backend_name": "Slack"}\n{oops\n', encoding="utf-8")
    result = invoke(cli, sqlite_workspace, "import", "perceval", str(path), "--json")
    assert result.exit_code == 1
    [report] = json.loads(result.stdout)
    assert report["error"] == f"{path}:1: not a Perceval item (no uuid, updated_on, data)"
    path.write_text(
        '{"backend_name": "X", "uuid": "u", "updated_on": 1, "data": {"user": "a"}}\n{oops\n',
        encoding="utf-8",
    )
    result = invoke(cli, sqlite_workspace, "import", "perceval", str(path), "--json")
    assert json.loads(result.stdout)[0]["error"] == (
        f"{path}:2: not JSON: Expecting property name enclosed in double quotes"
    )
    assert list(iter_activities(sqlite_workspace.store)) == []


@pytest.mark.skipif(
    importlib.util.find_spec("perceval") is not None, reason="Perceval is installed"
)
def test_perceval_add_without_package_says_how_to_install(
    cli: CliRunner, sqlite_workspace: Workspace
) -> None:
    ws = sqlite_workspace
    added = invoke(cli, ws, "add", "perceval", "mbox", "--json", "--", "dev", "/tmp/mboxes")
    assert added.exit_code == 0, added.output
    assert json.loads(added.stdout)["options"] == {
        "args": ["dev", "/tmp/mboxes"],
        "backend": "mbox",
    }
    synced = invoke(cli, ws, "sync", "--json")
    assert synced.exit_code == 1
    [report] = json.loads(synced.stdout)
    assert report["source"] == "perceval:mbox:dev//tmp/mboxes"
    assert report["error"] == (
        "Perceval is not installed (needed by `commops add perceval mbox`)\n"
        "Install Perceval: pip install 'commops[perceval]'"
    )


def test_perceval_add_refuses_a_token_argument(sqlite_workspace: Workspace) -> None:
    with pytest.raises(SourceError) as err:
        add_source(
            sqlite_workspace.store,
            "perceval",
            "github",
            options={"args": ["kubesphere", "kubesphere", "-t", "ghp_x"]},
        )
    assert str(err.value).startswith("perceval github: -t would store a secret")
    assert "ghp_x" not in str(err.value)


@pytest.mark.skipif(
    importlib.util.find_spec("perceval") is None, reason="Perceval is not installed"
)
def test_perceval_add_runs_perceval_incrementally(
    cli: CliRunner, sqlite_workspace: Workspace, git_repo: GitRepo, tmp_path: Path
) -> None:
    ws = sqlite_workspace
    git_repo.commit("one", date="2024-01-01T10:00:00Z", files={"a": "1"})
    mirror = str(tmp_path / "mirror")
    args = ["--", str(git_repo.path), "--git-path", mirror]
    added = invoke(cli, ws, "add", "perceval", "git", "--name", "pg", *args)
    assert added.exit_code == 0, added.output
    assert invoke(cli, ws, "sync").exit_code == 0
    git_repo.commit(
        "two", author="Bob Marley <bob@example.org>", date="2024-01-02T10:00:00Z", files={"a": "2"}
    )
    synced = invoke(cli, ws, "sync", "--json")
    assert synced.exit_code == 0, synced.output
    assert json.loads(synced.stdout)[0]["added"] == 1
    rows = by_kind(ws, "perceval:git:commit")
    assert [(a["actor"]["email"], a["source"]) for a in rows] == [
        ("ada@example.org", "pg"),
        ("bob@example.org", "pg"),
    ]
