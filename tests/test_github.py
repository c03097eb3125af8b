"""The GitHub connector against a real local server: recorded response shapes, a fake
organisation that answers like the REST API, injected faults."""

from __future__ import annotations

import json
import sys
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from commops.cli.app import app
from commops.connectors.base import Window
from commops.connectors.github import GitHubConnector, parse_time
from commops.errors import SourceError
from commops.exports import iter_activities
from commops.sources import add_source
from commops.store.models import Observation, Source, SyncState
from commops.sync import SyncResult, sync_workspace
from commops.workspace import Workspace
from conftest import shared_data
from replay import Replay

sys.path.insert(0, str(Path(__file__).parent / "data" / "github"))
from fakehub import FakeHub

TOKEN = "ghp_test_token_never_shown_0123456789"
NO_DISCUSSIONS = {"data": {"repository": {"hasDiscussionsEnabled": False}}}


@pytest.fixture(autouse=True)
def _token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)


def small_http(ws: Workspace) -> None:
    ws.config.http_timeout = 2.0
    ws.config.http_attempts = 4
    ws.config.http_max_wait = 5.0


def sync(ws: Workspace, name: str = "gh", window: Window | None = None) -> SyncResult:
    [result] = sync_workspace(ws, [name], window=window)
    return result


def activities(ws: Workspace) -> list[dict[str, Any]]:
    return list(iter_activities(ws.store))


def kinds(ws: Workspace) -> Counter[str]:
    return Counter(a["kind"] for a in activities(ws))


def cursors(ws: Workspace, name: str = "gh") -> dict[str, Any]:
    with ws.store.session() as session:
        rows = session.execute(
            select(SyncState)
            .join(Source, Source.id == SyncState.source_id)
            .where(Source.name == name)
        ).scalars()
        return {r.stream: dict(r.cursor) for r in rows}


def build_org(hub: FakeHub, issues: int = 25) -> None:
    """Two repositories; in ``app`` every third item a PR (half merged), comments, reviews."""
    for n in range(1, issues + 1):
        day = (date(2023, 12, 31) + timedelta(days=n)).isoformat()
        pr = n % 3 == 0
        merged = f"{day}T18:00:00Z" if pr and n % 2 == 0 else None
        closed = merged or (f"{day}T17:00:00Z" if n % 5 == 0 else None)
        hub.issue(
            "app",
            n,
            author=f"user{n % 4}",
            created=f"{day}T09:00:00Z",
            updated=f"{day}T19:00:00Z",
            closed=closed,
            closed_by="maintainer" if closed and not merged else None,
            labels=("bug",) if n % 2 else ("enhancement",),
            pr=pr,
            merged=merged,
            merged_by="maintainer" if merged else None,
        )
        hub.comment("app", n, author="helper", created=f"{day}T10:00:00Z")
        if pr:
            hub.review("app", n, author="reviewer", submitted=f"{day}T11:00:00Z", state="APPROVED")
            hub.review_comment("app", n, author="reviewer", created=f"{day}T11:00:00Z")
    for i in range(7):
        hub.star("app", f"fan{i}", f"2024-03-0{i + 1}T08:00:00Z")
    hub.fork("app", "forker", "2024-03-05T08:00:00Z")
    hub.release("app", "v1.0", author="maintainer", published="2024-02-01T12:00:00Z", downloads=42)
    hub.issue("docs", 1, author="writer", created="2024-01-03T09:00:00Z")
    hub.discussion(
        "app",
        1,
        author="asker",
        created="2024-02-02T09:00:00Z",
        updated="2024-02-03T09:00:00Z",
        comments=(("helper", "2024-02-02T10:00:00Z"), ("user1", "2024-02-02T11:00:00Z")),
        answer=1,
        chosen_by="asker",
        chosen_at="2024-02-03T09:00:00Z",
    )
    hub.discussion(
        "app",
        2,
        author="user2",
        created="2024-02-04T09:00:00Z",
        answerable=False,
        comments=(("helper", "2024-02-04T10:00:00Z"),),
    )


def add_org(ws: Workspace, hub: FakeHub, location: str | None = None) -> None:
    small_http(ws)
    add_source(ws.store, "github", location or hub.org, name="gh", options={"api_url": hub.api_url})


def expected_kinds(issues: int = 25) -> Counter[str]:
    prs = [n for n in range(1, issues + 1) if n % 3 == 0]
    merged = [n for n in prs if n % 2 == 0]
    closed_issues = [n for n in range(1, issues + 1) if n % 5 == 0 and n % 3 != 0]
    closed_prs = [n for n in prs if n % 2 and n % 5 == 0]
    return Counter(
        {
            "github:issue_opened": issues - len(prs) + 1,
            "github:pr_opened": len(prs),
            "github:pr_merged": len(merged),
            "github:issue_closed": len(closed_issues),
            "github:pr_closed": len(closed_prs),
            "github:issue_comment": issues,
            "github:review": len(prs),
            "github:review_comment": len(prs),
            "github:star": 7,
            "github:fork": 1,
            "github:release_published": 1,
            "github:question": 1,
            "github:answer": 2,
            "github:answer_accepted": 1,
            "github:discussion_opened": 1,
            "github:discussion_comment": 1,
        }
    )


# -- adding a source ------------------------------------------------------------------------------


def test_github_prepare_org_and_repositories() -> None:
    assert GitHubConnector.prepare("kubesphere", {}) == ("kubesphere", "kubesphere", {})
    assert GitHubConnector.prepare("a/b, a/c", {"token_env": "GH"}) == (
        "a-repos",
        "a/b,a/c",
        {"token_env": "GH"},
    )
    assert GitHubConnector.prepare("a/b", {"api_url": "https://ghe.example/api/v3/"}) == (
        "a/b",
        "a/b",
        {"api_url": "https://ghe.example/api/v3"},
    )


@pytest.mark.parametrize("location", ["", "a/b/c", "-bad", "a/b,not a repo"])
def test_github_prepare_bad_location_names_it(location: str) -> None:
    with pytest.raises(SourceError) as err:
        GitHubConnector.prepare(location, {})
    assert repr(location) in str(err.value)


def test_github_prepare_bad_api_url_is_refused() -> None:
    with pytest.raises(SourceError) as err:
        GitHubConnector.prepare("a/b", {"api_url": "ghe.example"})
    assert "'ghe.example' is not an http(s) URL" in str(err.value)


def test_github_cli_add_org_and_repos(
    sqlite_workspace: Workspace, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COMMOPS_WORKSPACE", str(sqlite_workspace.root))
    result = cli.invoke(
        app, ["add", "github", "octo-org", "--api-url", "http://127.0.0.1:9/api/v3", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "name": "octo-org",
        "kind": "github",
        "location": "octo-org",
        "options": {"api_url": "http://127.0.0.1:9/api/v3"},
    }
    result = cli.invoke(app, ["add", "github", "o/a", "o/b", "--token-env", "GH_PAT", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["location"] == "o/a,o/b"
    assert json.loads(result.stdout)["options"] == {"token_env": "GH_PAT"}


def test_github_cli_add_then_sync_end_to_end(
    sqlite_workspace: Workspace, replay: Replay, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub = FakeHub(replay)
    build_org(hub)
    monkeypatch.setenv("COMMOPS_WORKSPACE", str(sqlite_workspace.root))
    added = cli.invoke(app, ["add", "github", "octo-org", "--api-url", hub.api_url])
    assert added.exit_code == 0, added.output
    synced = cli.invoke(app, ["sync", "--json"])
    assert synced.exit_code == 0, synced.output
    assert TOKEN not in synced.output
    assert kinds(sqlite_workspace) == expected_kinds()


# -- a whole organisation --------------------------------------------------------------------------


def test_github_org_full_sync_reads_every_stream(workspace: Workspace, replay: Replay) -> None:
    hub = FakeHub(replay)
    build_org(hub)
    add_org(workspace, hub)
    result = sync(workspace)
    assert result.error is None
    assert kinds(workspace) == expected_kinds()
    merged = [a for a in activities(workspace) if a["kind"] == "github:pr_merged"]
    assert sorted((a["actor"]["username"], a["object"]["username"]) for a in merged) == [
        ("maintainer", "user0"),
        ("maintainer", "user0"),
        ("maintainer", "user2"),
        ("maintainer", "user2"),
    ]
    pr6 = next(a for a in merged if a["target"] == "6")
    assert pr6["channel"] == "octo-org/app"
    assert pr6["occurred_at"] == "2024-01-06T18:00:00Z"
    assert pr6["attributes"]["labels"] == ["enhancement"]
    assert pr6["attributes"]["merged_by"] == "maintainer"
    assert pr6["attributes"]["author"] == "user2"
    assert pr6["attributes"]["first_review_at"] == "2024-01-06T11:00:00Z"
    closed = next(a for a in activities(workspace) if a["kind"] == "github:issue_closed")
    assert (closed["actor"]["username"], closed["target"]) == ("maintainer", "5")
    comment = next(a for a in activities(workspace) if a["kind"] == "github:issue_comment")
    assert (comment["actor"]["username"], comment["target"], comment["parent"]) == (
        "helper",
        "1",
        "octo-org/app#1",
    )
    assert comment["attributes"]["created_at"] == "2024-01-01T10:00:00Z"
    star_times = sorted(
        a["occurred_at"] for a in activities(workspace) if a["kind"] == "github:star"
    )
    assert star_times[0] == "2024-03-01T08:00:00Z"
    # stars were asked with the media type that carries starred_at
    assert replay.seen("/repos/octo-org/app/stargazers")[0].headers["accept"] == (
        "application/vnd.github.star+json"
    )
    assert replay.seen("/repos/octo-org/app/issues")[0].headers["authorization"] == (
        f"Bearer {TOKEN}"
    )


def test_github_observations_watchers_and_asset_downloads(
    sqlite_workspace: Workspace, replay: Replay
) -> None:
    hub = FakeHub(replay)
    build_org(hub)
    add_org(sqlite_workspace, hub)
    sync(sqlite_workspace)
    with sqlite_workspace.store.session() as session:
        rows = session.execute(select(Observation.series, Observation.value)).all()
    values = {str(series): float(value) for series, value in rows}
    assert values["github:octo-org/app:watchers"] == 3.0
    assert values["github:octo-org/app:stars"] == 7.0
    assert values["github:octo-org/app:forks"] == 1.0
    assert values["github:octo-org/app:downloads:v1.0/test-upload.txt"] == 42.0


def test_github_incremental_reads_only_changed_items(workspace: Workspace, replay: Replay) -> None:
    hub = FakeHub(replay)
    build_org(hub)
    add_org(workspace, hub)
    sync(workspace)
    before = kinds(workspace)
    replay.requests.clear()
    # nothing changed: one page per repo and list stream, one conditional repo GET each
    assert sync(workspace).added == 0
    assert replay.count("/repos/octo-org/app/pulls/6") == 0
    assert replay.count("/repos/octo-org/app/issues") == 1
    # org repos + per repo: repo, 6 list streams, 1 GraphQL query
    assert replay.count() == 1 + 2 * 8
    replay.requests.clear()
    # PR 9 is merged, issue 1 closed, a new comment and a new star
    hub.touch("app", 9, "2024-05-01T10:00:00Z", merged="2024-05-01T10:00:00Z")
    hub.touch("app", 1, "2024-05-02T10:00:00Z", closed="2024-05-02T10:00:00Z")
    hub.comment("app", 9, author="user3", created="2024-05-01T09:00:00Z")
    hub.star("app", "latecomer", "2024-05-03T08:00:00Z")
    result = sync(workspace)
    assert result.error is None
    assert kinds(workspace) - before == Counter(
        {
            "github:pr_merged": 1,
            "github:issue_closed": 1,
            "github:issue_comment": 1,
            "github:star": 1,
        }
    )
    # only the changed PR cost its detail and reviews, only the closed issue its detail
    assert [
        r.path for r in replay.requests if "/pulls/" in r.path and "comments" not in r.path
    ] == [
        "/repos/octo-org/app/pulls/9",
        "/repos/octo-org/app/pulls/9/reviews",
    ]
    assert replay.count("/repos/octo-org/app/issues/1") == 1
    assert replay.seen("/repos/octo-org/app/issues")[0].query["since"] == "2024-01-25T19:00:00Z"
    assert cursors(workspace)["issues"]["octo-org/app"] == {
        "since": "2024-05-02T10:00:00Z",
        "seen": [1],
    }


def test_github_repository_list_source(sqlite_workspace: Workspace, replay: Replay) -> None:
    hub = FakeHub(replay)
    build_org(hub)
    add_org(sqlite_workspace, hub, location="octo-org/docs")
    assert sync(sqlite_workspace).error is None
    assert kinds(sqlite_workspace) == Counter({"github:issue_opened": 1})
    assert replay.count("/orgs/octo-org/repos") == 0


def test_github_user_instead_of_org_lists_user_repositories(
    sqlite_workspace: Workspace, replay: Replay
) -> None:
    hub = FakeHub(replay, org="octocat")
    hub.issue("app", 1, author="a", created="2024-01-01T00:00:00Z")
    replay.route("/orgs/octocat/repos", json={"message": "Not Found"}, status=404)
    replay.route("/users/octocat/repos", json=[{"full_name": "octocat/app"}])
    add_org(sqlite_workspace, hub)
    assert sync(sqlite_workspace).error is None
    assert kinds(sqlite_workspace) == Counter({"github:issue_opened": 1})


def test_github_disabled_issues_are_skipped_with_a_warning(
    sqlite_workspace: Workspace, replay: Replay
) -> None:
    hub = FakeHub(replay)
    build_org(hub)
    replay.route(
        "/repos/octo-org/docs/issues",
        json={"message": "Issues are disabled for this repo"},
        status=410,
    )
    add_org(sqlite_workspace, hub)
    result = sync(sqlite_workspace)
    assert result.error is None
    assert result.warnings == [
        f"source 'gh': octo-org/docs: issues skipped ({hub.api_url}/repos/octo-org/docs/issues"
        "?state=all&sort=updated&direction=asc&per_page=100: 410)"
    ]
    assert (
        kinds(sqlite_workspace)["github:issue_opened"]
        == expected_kinds()["github:issue_opened"] - 1
    )


def test_github_enterprise_base_url(sqlite_workspace: Workspace, replay: Replay) -> None:
    hub = FakeHub(replay, prefix="/api/v3")
    build_org(hub)
    add_org(sqlite_workspace, hub)
    assert hub.api_url.endswith("/api/v3")
    assert sync(sqlite_workspace).error is None
    assert kinds(sqlite_workspace) == expected_kinds()
    assert replay.count("/api/v3/repos/octo-org/app/issues") == 1
    assert replay.count("/api/graphql") == 2


def test_github_discussions_questions_answers_and_accepted_answer(
    sqlite_workspace: Workspace, replay: Replay
) -> None:
    hub = FakeHub(replay)
    build_org(hub)
    add_org(sqlite_workspace, hub)
    assert sync(sqlite_workspace).error is None
    accepted = next(
        a for a in activities(sqlite_workspace) if a["kind"] == "github:answer_accepted"
    )
    assert (accepted["actor"]["username"], accepted["object"]["username"]) == ("asker", "user1")
    assert accepted["occurred_at"] == "2024-02-03T09:00:00Z"
    assert accepted["target"] == "discussion/1"
    answers = sorted(
        (a["actor"]["username"], a["object"]["username"], a["attributes"]["accepted"])
        for a in activities(sqlite_workspace)
        if a["kind"] == "github:answer"
    )
    assert answers == [("helper", "asker", False), ("user1", "asker", True)]
    question = next(a for a in activities(sqlite_workspace) if a["kind"] == "github:question")
    assert (question["contribution_type"], question["attributes"]["category"]) == (
        "question",
        "Q&A",
    )
    body = json.loads(replay.seen("/graphql")[0].body)
    assert body["variables"] == {"owner": "octo-org", "name": "app", "after": None}


def test_github_discussions_incremental_stops_at_cursor(
    sqlite_workspace: Workspace, replay: Replay
) -> None:
    hub = FakeHub(replay)
    for n in range(1, 121):  # three GraphQL pages
        hub.discussion(
            "app", n, author=f"u{n}", created=f"2024-03-01T{n // 60:02d}:{n % 60:02d}:00Z"
        )
    add_org(sqlite_workspace, hub, location="octo-org/app")
    assert sync(sqlite_workspace).error is None
    assert replay.count("/graphql") == 3
    assert cursors(sqlite_workspace)["discussions"] == {
        "octo-org/app": {"since": "2024-03-01T02:00:00Z"}
    }
    hub.discussion(
        "app",
        7,
        author="u7",
        created="2024-03-01T00:07:00Z",
        updated="2024-04-01T00:00:00Z",
        comments=(("helper", "2024-04-01T00:00:00Z"),),
    )
    replay.requests.clear()
    assert sync(sqlite_workspace).error is None
    assert replay.count("/graphql") == 1
    assert kinds(sqlite_workspace)["github:answer"] == 1
    assert kinds(sqlite_workspace)["github:question"] == 120


def test_github_graphql_error_names_the_source(sqlite_workspace: Workspace, replay: Replay) -> None:
    hub = FakeHub(replay)
    hub.issue("app", 1, author="a", created="2024-01-01T00:00:00Z")
    add_org(sqlite_workspace, hub, location="octo-org/app")
    replay.route(
        "/graphql",
        json={"data": None, "errors": [{"message": "Something went wrong"}]},
    )
    result = sync(sqlite_workspace)
    assert result.ok is False
    assert result.error == (
        f"source 'gh': {replay.url}/graphql: GraphQL error: Something went wrong"
    )


# -- faults ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "options"),
    [
        ("retry_after", {"seconds": 1}),
        ("secondary", {"seconds": 1}),
        ("primary", {"seconds": 1}),
        ("status", {"code": 502}),
        ("status", {"code": 503}),
        ("timeout", {"seconds": 3}),
        ("reset", {}),
        ("malformed", {}),
        ("truncated", {}),
    ],
)
def test_github_fault_is_retried_and_nothing_is_lost(
    sqlite_workspace: Workspace, replay: Replay, kind: str, options: dict[str, Any]
) -> None:
    hub = FakeHub(replay)
    build_org(hub)
    add_org(sqlite_workspace, hub)
    replay.fault("/repos/octo-org/app/issues", kind, **options)
    replay.fault("/repos/octo-org/app/stargazers", kind, **options)
    replay.fault("/graphql", kind, **options)
    result = sync(sqlite_workspace)
    assert result.error is None
    assert kinds(sqlite_workspace) == expected_kinds()


def test_github_page_failing_midway_then_next_sync_completes(
    workspace: Workspace, replay: Replay
) -> None:
    hub = FakeHub(replay)
    build_org(hub, issues=250)  # 3 pages of issues in app
    add_org(workspace, hub)
    hub.fail_page("/repos/octo-org/app/issues", page=2, times=4)  # every attempt of one run
    failed = sync(workspace)
    assert failed.ok is False
    assert "/repos/octo-org/app/issues" in (failed.error or "")
    assert "page=2" in (failed.error or "")
    stored = [
        a for a in activities(workspace) if a["kind"] in ("github:issue_opened", "github:pr_opened")
    ]
    first_page = sorted(hub.repos["octo-org/app"].issues.values(), key=lambda i: i["updated_at"])[
        :100
    ]
    assert len(stored) == 100
    # the cursor is the last stored item's update time, not beyond
    assert cursors(workspace)["issues"] == {
        "octo-org/app": {"since": first_page[-1]["updated_at"], "seen": [first_page[-1]["number"]]}
    }
    assert sync(workspace).error is None
    uids = [a["uid"] for a in activities(workspace)]
    assert len(uids) == len(set(uids))
    assert kinds(workspace) == expected_kinds(250)


def test_github_primary_limit_exhausted_stops_with_reset_time(
    sqlite_workspace: Workspace, replay: Replay
) -> None:
    hub = FakeHub(replay)
    build_org(hub)
    add_org(sqlite_workspace, hub)
    replay.fault("/repos/octo-org/app/issues/comments", "primary", seconds=3600)
    result = sync(sqlite_workspace)
    assert result.ok is False
    assert "rate limit is used up until" in (result.error or "")
    # the streams read before it are kept, with their cursors
    assert kinds(sqlite_workspace)["github:pr_opened"] == 8
    assert "comments" not in cursors(sqlite_workspace)


def test_github_expired_token_is_a_clear_error_without_the_token(
    sqlite_workspace: Workspace, replay: Replay
) -> None:
    hub = FakeHub(replay)
    build_org(hub)
    add_org(sqlite_workspace, hub)
    replay.fault("/orgs/octo-org/repos", "expired_token")
    result = sync(sqlite_workspace)
    assert result.ok is False
    assert "HTTP 401, the token was refused" in (result.error or "")
    assert TOKEN not in (result.error or "")
    with sqlite_workspace.store.session() as session:
        stored = json.dumps([dict(s.options) for s in session.execute(select(Source)).scalars()])
    assert TOKEN not in stored


def test_github_token_from_named_variable(
    sqlite_workspace: Workspace, replay: Replay, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MY_GH_PAT", "other-token")
    hub = FakeHub(replay)
    hub.issue("app", 1, author="a", created="2024-01-01T00:00:00Z")
    small_http(sqlite_workspace)
    add_source(
        sqlite_workspace.store,
        "github",
        "octo-org/app",
        name="gh",
        options={"api_url": hub.api_url, "token_env": "MY_GH_PAT"},
    )
    sync(sqlite_workspace)
    assert replay.seen("/repos/octo-org/app/issues")[0].headers["authorization"] == (
        "Bearer other-token"
    )


def test_github_without_token_warns_and_sends_no_authorization(
    sqlite_workspace: Workspace, replay: Replay, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_TOKEN")
    hub = FakeHub(replay)
    hub.issue("app", 1, author="a", created="2024-01-01T00:00:00Z")
    add_org(sqlite_workspace, hub, location="octo-org/app")
    result = sync(sqlite_workspace)
    assert result.warnings == [
        "source 'gh': no GitHub token (GITHUB_TOKEN or [tokens] github): GitHub allows 60 "
        "requests an hour without one"
    ]
    assert "authorization" not in replay.seen("/repos/octo-org/app/issues")[0].headers


# -- backfill -------------------------------------------------------------------------------------


def test_github_backfill_window_reads_range_without_cursors(
    workspace: Workspace, replay: Replay
) -> None:
    hub = FakeHub(replay)
    build_org(hub)
    add_org(workspace, hub)
    window = Window(datetime(2024, 1, 10), datetime(2024, 1, 12, 23, 59, 59))
    assert sync(workspace, window=window).error is None
    got = {(a["kind"], a["target"]) for a in activities(workspace)}
    assert got == {
        ("github:issue_opened", "10"),
        ("github:issue_closed", "10"),
        ("github:issue_opened", "11"),
        ("github:pr_opened", "12"),
        ("github:pr_merged", "12"),
        ("github:review", "12"),
        ("github:review_comment", "12"),
        ("github:issue_comment", "10"),
        ("github:issue_comment", "11"),
        ("github:issue_comment", "12"),
    }
    assert cursors(workspace) == {}
    assert replay.seen("/repos/octo-org/app/issues")[0].query["since"] == "2024-01-10T00:00:00Z"


# -- the recorded shapes --------------------------------------------------------------------------


def _rewrite(link: str, base: str) -> str:
    return link.replace("https://api.github.com", base)


def test_github_recorded_paginated_issues_follow_link_headers(
    sqlite_workspace: Workspace, replay: Replay
) -> None:
    path = shared_data("fixtures", "github_rest", "octokit_fixtures")
    recorded = json.loads((path / "paginate-issues.normalized-fixture.json").read_text())
    by_page = {}
    for exchange in recorded:
        query = dict(parse_qsl(urlsplit(exchange["path"]).query))
        by_page[query.get("page", "1")] = exchange

    def answer(request: Any) -> Any:
        from replay import json_reply

        exchange = by_page[request.query.get("page", "1")]
        headers = {"Link": _rewrite(exchange["headers"]["link"], replay.url)}
        return json_reply(exchange["response"], headers=headers)

    replay.handle("/repos/octokit-fixture-org/paginate-issues/issues", answer)
    replay.handle("/repositories/1000/issues", answer)
    for route in ("issues/comments", "pulls/comments", "stargazers", "forks", "releases"):
        replay.route(f"/repos/octokit-fixture-org/paginate-issues/{route}", json=[])
    replay.route("/repos/octokit-fixture-org/paginate-issues", json={"subscribers_count": 1})
    replay.route("/graphql", json=NO_DISCUSSIONS)
    small_http(sqlite_workspace)
    add_source(
        sqlite_workspace.store,
        "github",
        "octokit-fixture-org/paginate-issues",
        name="gh",
        options={"api_url": replay.url},
    )
    assert sync(sqlite_workspace).error is None
    numbers = sorted(
        int(a["target"]) for a in activities(sqlite_workspace) if a["kind"] == "github:issue_opened"
    )
    expected = sorted(int(i["number"]) for e in recorded for i in e["response"])
    assert numbers == expected
    assert len(numbers) == 13
    assert replay.count("/repositories/1000/issues") == 4


def test_github_recorded_perceval_pull_request_with_reviews_and_comments(
    sqlite_workspace: Workspace, replay: Replay
) -> None:
    path = shared_data("fixtures", "github_rest", "perceval")

    def load(name: str) -> Any:
        return json.loads((path / f"{name}.json").read_text())

    base = "/repos/zhquan_example/repo"
    replay.route(f"{base}/issues", json=load("github_request"))
    replay.route(f"{base}/pulls/1", json=load("github_request_pull_request_1"))
    replay.route(f"{base}/issues/1", json=load("github_request")[0])
    replay.route(f"{base}/pulls/1/reviews", json=load("github_request_pull_request_1_reviews"))
    replay.route(f"{base}/issues/comments", json=load("github_issue_comments_1"))
    replay.route(f"{base}/pulls/comments", json=load("github_request_pull_request_1_comments"))
    replay.route(base, json=load("github_repo"))
    replay.route("/graphql", json=NO_DISCUSSIONS)
    for route in ("stargazers", "forks", "releases"):
        replay.route(f"{base}/{route}", json=[])
    small_http(sqlite_workspace)
    add_source(
        sqlite_workspace.store,
        "github",
        "zhquan_example/repo",
        name="gh",
        options={"api_url": replay.url},
    )
    assert sync(sqlite_workspace).error is None
    got = kinds(sqlite_workspace)
    reviews = load("github_request_pull_request_1_reviews")
    assert got["github:pr_opened"] == 1
    assert got["github:review"] == len([r for r in reviews if r.get("submitted_at")])
    assert got["github:issue_comment"] == 1
    assert got["github:review_comment"] == 2
    pr = next(a for a in activities(sqlite_workspace) if a["kind"] == "github:pr_opened")
    assert pr["actor"]["username"] == "zhquan_example"
    assert (
        pr["occurred_at"] == parse_time(load("github_request")[0]["created_at"]).isoformat() + "Z"
    )


def test_github_recorded_stargazers_with_dates_and_forks(
    sqlite_workspace: Workspace, replay: Replay
) -> None:
    path = shared_data("fixtures", "github_rest", "pygithub")
    stars = json.loads((path / "Repository.testGetStargazersWithDates.json").read_text())[2]["body"]
    forks = json.loads((path / "Repository.testGetForks.json").read_text())[0]["body"]
    base = "/repos/danvk/comparea"
    replay.route(f"{base}/stargazers", json=stars)
    replay.route(f"{base}/forks", json=forks)
    for route in ("issues", "issues/comments", "pulls/comments", "releases"):
        replay.route(f"{base}/{route}", json=[])
    replay.route(base, json={"subscribers_count": 2, "stargazers_count": len(stars)})
    replay.route("/graphql", json=NO_DISCUSSIONS)
    small_http(sqlite_workspace)
    add_source(
        sqlite_workspace.store,
        "github",
        "danvk/comparea",
        name="gh",
        options={"api_url": replay.url},
    )
    assert sync(sqlite_workspace).error is None
    got = sorted(
        (a["actor"]["username"], a["occurred_at"])
        for a in activities(sqlite_workspace)
        if a["kind"] == "github:star"
    )
    assert got == sorted((s["user"]["login"], s["starred_at"]) for s in stars)
    assert kinds(sqlite_workspace)["github:fork"] == len(forks)
    assert cursors(sqlite_workspace)["stars"]["danvk/comparea"] == {
        "page": 1,
        "at": stars[-1]["starred_at"],
    }


def test_github_stars_resumed_mid_list_take_later_pages_whole(
    sqlite_workspace: Workspace, replay: Replay
) -> None:
    """A sync resumes at the page of the last star read and skips, on that page only, what came
    before it; stars listed on later pages count even when dated earlier."""
    hub = FakeHub(replay)
    for i in range(100):  # one full page
        hub.star("app", f"early{i}", f"2024-05-{1 + i % 28:02d}T{i % 24:02d}:00:00Z")
    add_org(sqlite_workspace, hub)
    assert sync(sqlite_workspace).error is None
    for i in range(30):  # listed after the first page, dated before its last star
        hub.star("app", f"late{i}", f"2024-04-{1 + i % 28:02d}T{i % 24:02d}:00:00Z")
    assert sync(sqlite_workspace).error is None
    stars = [
        a["actor"]["username"] for a in activities(sqlite_workspace) if a["kind"] == "github:star"
    ]
    assert len(stars) == 130
    assert {f"late{i}" for i in range(30)} <= set(stars)
