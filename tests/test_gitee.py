"""The Gitee connector against a real local server: the recorded Perceval shapes of issues,
comments, pull requests, operation logs and repository, paged as Gitee pages (``total_page``
headers), with faults injected."""

from __future__ import annotations

import copy
import json
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from commops.cli.app import app
from commops.connectors.base import Window
from commops.connectors.gitee import GiteeConnector
from commops.errors import SourceError
from commops.exports import iter_activities
from commops.sources import add_source
from commops.store.models import Source, SyncState
from commops.sync import SyncResult, sync_workspace
from commops.workspace import Workspace
from conftest import shared_data
from replay import Replay, Reply, Request, json_reply

TOKEN = "gitee_test_token_never_shown_0123456789"
DATA = Path(__file__).parent / "data" / "gitee"
REPO = "kubesphere/ks"
PAGE = 5  # the fake server's page size; Gitee caps per_page too


def recorded(name: str) -> Any:
    return json.loads(shared_data("fixtures", "gitee", "perceval-gitee", name).read_text("utf-8"))


def handmade(name: str) -> Any:
    return json.loads((DATA / name).read_text("utf-8"))


def user(login: str) -> dict[str, Any]:
    u = copy.deepcopy(recorded("gitee_issue1_comments.json")[0]["user"])
    u.update(login=login, name=login.title())
    return u


class FakeGitee:
    """One repository that answers like Gitee API v5, built from the recorded shapes."""

    def __init__(self, replay: Replay, *, links: bool = False) -> None:
        self.replay = replay
        self.links = links  # page with Link headers instead of total_page
        self.issues: list[dict[str, Any]] = []
        self.pulls: list[dict[str, Any]] = []
        self.comments: dict[str, list[dict[str, Any]]] = {}
        self.pr_comments: dict[int, list[dict[str, Any]]] = {}
        self.logs: dict[int, list[dict[str, Any]]] = {}
        self.broken: dict[tuple[str, int], int] = {}  # (path, page) -> failures left
        base = f"/repos/{REPO}"
        self._list(f"{base}/issues", lambda: self.issues, since=True)
        self._list(f"{base}/pulls", lambda: self.pulls)
        self._list(f"{base}/stargazers", lambda: [self.star])
        self._list(f"{base}/subscribers", lambda: [self.watcher])
        self._list(f"{base}/forks", lambda: [self.fork])
        self._list(f"{base}/releases", lambda: [handmade("release.json")])
        self._list("/orgs/kubesphere/repos", lambda: [self.repo])
        self.star = {**handmade("stargazer.json"), "login": "fan"}
        self.watcher = {**handmade("subscriber.json"), "login": "watcher"}
        self.repo = recorded("gitee_repo.json")
        self.repo["full_name"] = REPO
        self.fork = {**copy.deepcopy(self.repo), "full_name": "forker/ks", "owner": user("forker")}
        self.fork["created_at"] = "2020-04-03T10:00:00+08:00"
        replay.route(base, json=self.repo)

    def _list(self, path: str, items: Any, *, since: bool = False) -> None:
        def handler(request: Request) -> Reply:
            page = int(request.query.get("page", "1"))
            left = self.broken.get((path, page), 0)
            if left:
                self.broken[(path, page)] = left - 1
                return Reply(502, {}, b"bad gateway")
            rows = list(items())
            if since and request.query.get("since"):
                bound = datetime.fromisoformat(request.query["since"].replace("Z", "+00:00"))
                rows = [r for r in rows if datetime.fromisoformat(r["updated_at"]) >= bound]
            if request.query.get("sort") == "updated":
                rows.sort(key=lambda r: datetime.fromisoformat(r["updated_at"]))
            last = max(1, -(-len(rows) // PAGE))
            headers = {"total_count": str(len(rows)), "total_page": str(last)}
            if self.links:
                headers = {}
                if page < last:
                    query = {**request.query, "page": str(page + 1)}
                    q = "&".join(f"{k}={v}" for k, v in query.items())
                    headers["Link"] = f'<{self.replay.url}{path}?{q}>; rel="next"'
            return json_reply(rows[(page - 1) * PAGE : page * PAGE], 200, headers)

        self.replay.handle(path, handler)

    def issue(self, n: int, author: str, day: int, *, closed: bool = False) -> str:
        item = copy.deepcopy(recorded("gitee_issues2.json" if closed else "gitee_issues1.json")[0])
        number = f"I1A{n:03d}"
        stamp = f"2024-01-{day:02d}T09:00:00+08:00"
        item.update(number=number, user=user(author), created_at=stamp, updated_at=stamp)
        item["title"] = f"issue {n}"
        item["labels"] = [{"id": 1, "name": "enhancement"}] if n % 2 == 0 else []
        if closed:
            item["finished_at"] = item["updated_at"] = f"2024-01-{day:02d}T18:00:00+08:00"
        comment = copy.deepcopy(recorded("gitee_issue1_comments.json")[0])
        comment.update(
            id=1000 + n, user=user("helper"), created_at=f"2024-01-{day:02d}T10:00:00+08:00"
        )
        comment["target"]["issue"]["number"] = number
        self.comments[number] = [comment]
        item["comments"] = 1
        self.issues.append(item)
        self._list(f"/repos/{REPO}/issues/{number}/comments", lambda: self.comments[number])
        return number

    def pull(self, n: int, author: str, day: int, *, merged: bool = False) -> None:
        pr = copy.deepcopy(
            recorded("gitee_pull_request1.json" if merged else "gitee_pull_request2.json")[0]
        )
        pr.update(number=n, user=user(author), created_at=f"2024-01-{day:02d}T08:00:00+08:00")
        pr["updated_at"] = f"2024-01-{day:02d}T20:00:00+08:00"
        if merged:
            pr["merged_at"] = pr["closed_at"] = pr["updated_at"]
        logs = copy.deepcopy(recorded("gitee_pull_request1_action_logs.json"))
        for log in logs:
            log["user"] = user("maintainer")
        self.logs[n] = logs if merged else []
        comments = copy.deepcopy(recorded("gitee_pull_request1_comments.json"))
        for c in comments:
            c.update(
                id=5000 + n, user=user("reviewer"), created_at=f"2024-01-{day:02d}T12:00:00+08:00"
            )
        self.pr_comments[n] = comments
        self.pulls.append(pr)
        self.replay.route(f"/repos/{REPO}/pulls/{n}/operate_logs", json=self.logs[n])
        self._list(f"/repos/{REPO}/pulls/{n}/comments", lambda: self.pr_comments[n])


def build(fake: FakeGitee, issues: int = 12) -> None:
    for n in range(1, issues + 1):
        fake.issue(n, f"user{n % 3}", n, closed=n % 4 == 0)
    fake.pull(1, "willemjiang", 2, merged=True)
    fake.pull(2, "user1", 5)
    fake.pull(3, "user2", 7, merged=True)


def expected(issues: int = 12) -> Counter[str]:
    return Counter(
        {
            "gitee:issue_opened": issues,
            "gitee:issue_closed": issues // 4,
            "gitee:issue_comment": issues,
            "gitee:pr_opened": 3,
            "gitee:pr_merged": 2,
            "gitee:pr_comment": 3,
            "gitee:star": 1,
            "gitee:watch": 1,
            "gitee:fork": 1,
            "gitee:release_published": 1,
        }
    )


@pytest.fixture(autouse=True)
def _token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITEE_TOKEN", TOKEN)


def add(ws: Workspace, replay: Replay, location: str = REPO) -> None:
    ws.config.http_timeout = 2.0
    ws.config.http_attempts = 4
    ws.config.http_max_wait = 5.0
    add_source(ws.store, "gitee", location, name="ge", options={"api_url": replay.url})


def sync(ws: Workspace, window: Window | None = None) -> SyncResult:
    [result] = sync_workspace(ws, ["ge"], window=window)
    return result


def activities(ws: Workspace) -> list[dict[str, Any]]:
    return list(iter_activities(ws.store))


def kinds(ws: Workspace) -> Counter[str]:
    return Counter(a["kind"] for a in activities(ws))


def cursors(ws: Workspace) -> dict[str, Any]:
    with ws.store.session() as session:
        rows = session.execute(
            select(SyncState)
            .join(Source, Source.id == SyncState.source_id)
            .where(Source.name == "ge")
        ).scalars()
        return {r.stream: dict(r.cursor) for r in rows}


# -- adding a source ------------------------------------------------------------------------------


def test_gitee_prepare_owner_and_repositories() -> None:
    assert GiteeConnector.prepare("kubesphere", {}) == ("gitee-kubesphere", "kubesphere", {})
    assert GiteeConnector.prepare("a/b, a/c", {"token_env": "GT"}) == (
        "gitee-a-repos",
        "a/b,a/c",
        {"token_env": "GT"},
    )
    assert GiteeConnector.prepare("a/b", {"api_url": "http://127.0.0.1:9/api/v5/"}) == (
        "gitee-a/b",
        "a/b",
        {"api_url": "http://127.0.0.1:9/api/v5"},
    )


@pytest.mark.parametrize("location", ["", "a/b/c", "-bad", "a/b,not a repo"])
def test_gitee_prepare_bad_location_names_it(location: str) -> None:
    with pytest.raises(SourceError) as err:
        GiteeConnector.prepare(location, {})
    assert repr(location) in str(err.value)


def test_gitee_cli_add_repository(
    sqlite_workspace: Workspace, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COMMOPS_WORKSPACE", str(sqlite_workspace.root))
    args = ["add", "gitee", "kubesphere/ks", "--api-url", "http://127.0.0.1:9/api/v5", "--json"]
    result = cli.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "name": "gitee-kubesphere/ks",
        "kind": "gitee",
        "location": "kubesphere/ks",
        "options": {"api_url": "http://127.0.0.1:9/api/v5"},
    }
    result = cli.invoke(app, ["add", "gitee", "not a repo"])
    assert result.exit_code != 0
    assert str(result.exception).startswith("gitee location 'not a repo' is not an owner")


# -- a whole repository ----------------------------------------------------------------------------


def test_gitee_full_sync_reads_every_stream(workspace: Workspace, replay: Replay) -> None:
    fake = FakeGitee(replay)
    build(fake)
    add(workspace, replay)
    result = sync(workspace)
    assert result.error is None
    assert kinds(workspace) == expected()
    merged = sorted(
        (a["target"], a["actor"]["username"], a["object"]["username"], a["occurred_at"])
        for a in activities(workspace)
        if a["kind"] == "gitee:pr_merged"
    )
    assert merged == [
        ("1", "maintainer", "willemjiang", "2024-01-02T12:00:00Z"),
        ("3", "maintainer", "user2", "2024-01-07T12:00:00Z"),
    ]
    opened = next(a for a in activities(workspace) if a["target"] == "I1A002")
    assert opened["kind"] == "gitee:issue_opened"
    assert opened["channel"] == REPO
    assert opened["occurred_at"] == "2024-01-02T01:00:00Z"
    assert opened["contribution_type"] == "ideas"
    assert opened["attributes"]["issue_type"] == "任务"
    pr = next(a for a in activities(workspace) if a["kind"] == "gitee:pr_comment")
    assert (pr["actor"]["username"], pr["contribution_type"]) == ("reviewer", "review")
    assert all(r.query["access_token"] == TOKEN for r in replay.requests)
    assert cursors(workspace)["issues"] == {REPO: "2024-01-12T10:00:00Z"}


def test_gitee_owner_falls_back_to_user_repositories(
    sqlite_workspace: Workspace, replay: Replay
) -> None:
    fake = FakeGitee(replay)
    build(fake, issues=2)
    replay.route("/orgs/kubesphere/repos", json={"message": "Not Found Organization"}, status=404)
    replay.route("/users/kubesphere/repos", json=[fake.repo])
    add(sqlite_workspace, replay, "kubesphere")
    assert sync(sqlite_workspace).error is None
    assert kinds(sqlite_workspace) == expected(issues=2)


def test_gitee_owner_repository_without_issues_is_a_warning(
    sqlite_workspace: Workspace, replay: Replay
) -> None:
    fake = FakeGitee(replay)
    build(fake, issues=2)
    mirror = {**fake.repo, "full_name": "kubesphere/mirror"}
    replay.route("/orgs/kubesphere/repos", json=[fake.repo, mirror])
    replay.route("/repos/kubesphere/mirror", json=mirror)
    for path in ("stargazers", "subscribers", "forks", "releases"):
        replay.route(f"/repos/kubesphere/mirror/{path}", json=[])
    add(sqlite_workspace, replay, "kubesphere")  # no issues nor pulls lists on the mirror
    result = sync(sqlite_workspace)
    assert result.error is None
    assert kinds(sqlite_workspace) == expected(issues=2)
    assert len(result.warnings) == 2
    assert "/repos/kubesphere/mirror/issues?" in result.warnings[0]
    assert "HTTP 404" in result.warnings[0]
    assert TOKEN not in " ".join(result.warnings)


def test_gitee_named_repository_not_found_stops_the_sync(
    sqlite_workspace: Workspace, replay: Replay
) -> None:
    FakeGitee(replay)
    add(sqlite_workspace, replay, "kubesphere/gone")
    result = sync(sqlite_workspace)
    assert result.ok is False
    assert "/repos/kubesphere/gone" in (result.error or "")
    assert "HTTP 404" in (result.error or "")


def test_gitee_link_header_pagination_is_followed(
    sqlite_workspace: Workspace, replay: Replay
) -> None:
    fake = FakeGitee(replay, links=True)
    build(fake)
    add(sqlite_workspace, replay)
    assert sync(sqlite_workspace).error is None
    assert kinds(sqlite_workspace) == expected()
    assert [r.query["page"] for r in replay.seen(f"/repos/{REPO}/issues")] == ["1", "2", "3"]


# -- incremental -----------------------------------------------------------------------------------


def test_gitee_second_sync_reads_only_what_changed(workspace: Workspace, replay: Replay) -> None:
    fake = FakeGitee(replay)
    build(fake)
    add(workspace, replay)
    assert sync(workspace).error is None
    before = replay.count()
    fake.issue(13, "newcomer", 20)
    second = sync(workspace)
    assert second.error is None
    assert kinds(workspace) == expected(13)
    issue_pages = replay.seen(f"/repos/{REPO}/issues")[-1:]
    assert issue_pages[0].query["since"] == "2024-01-12T10:00:00Z"
    comment_paths = {
        r.path
        for r in replay.requests[before:]
        if r.path.endswith("/comments") and "issues" in r.path
    }
    assert comment_paths == {
        f"/repos/{REPO}/issues/I1A012/comments",
        f"/repos/{REPO}/issues/I1A013/comments",
    }
    pull_reads = {r.path for r in replay.requests[before:] if "/pulls/" in r.path}
    # only the pull request at the boundary (the inclusive lower bound) is read again
    assert pull_reads == {f"/repos/{REPO}/pulls/3/operate_logs", f"/repos/{REPO}/pulls/3/comments"}


# -- faults ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "options"),
    [
        ("retry_after", {"seconds": 1}),
        ("status", {"code": 502}),
        ("reset", {}),
        ("malformed", {}),
        ("truncated", {}),
    ],
)
def test_gitee_fault_is_retried_and_nothing_is_lost(
    sqlite_workspace: Workspace, replay: Replay, kind: str, options: dict[str, Any]
) -> None:
    fake = FakeGitee(replay)
    build(fake)
    add(sqlite_workspace, replay)
    replay.fault(f"/repos/{REPO}/issues", kind, **options)
    replay.fault(f"/repos/{REPO}/pulls/1/comments", kind, **options)
    result = sync(sqlite_workspace)
    assert result.error is None
    assert kinds(sqlite_workspace) == expected()


def test_gitee_page_failing_midway_then_next_sync_completes(
    workspace: Workspace, replay: Replay
) -> None:
    fake = FakeGitee(replay)
    build(fake)
    add(workspace, replay)
    fake.broken[(f"/repos/{REPO}/issues", 2)] = 4  # every attempt of one run
    failed = sync(workspace)
    assert failed.ok is False
    assert f"/repos/{REPO}/issues" in (failed.error or "")
    assert "page=2" in (failed.error or "")
    assert TOKEN not in (failed.error or "")
    opened = sorted(a["target"] for a in activities(workspace) if a["kind"] == "gitee:issue_opened")
    assert opened == [f"I1A{n:03d}" for n in range(1, 6)]
    assert cursors(workspace)["issues"] == {REPO: "2024-01-05T01:00:00Z"}
    read = len(replay.seen(f"/repos/{REPO}/issues"))
    resumed = sync(workspace)
    assert resumed.error is None
    assert kinds(workspace) == expected()
    uids = [a["uid"] for a in activities(workspace)]
    assert len(uids) == len(set(uids))
    assert replay.seen(f"/repos/{REPO}/issues")[read].query["since"] == "2024-01-05T01:00:00Z"


def test_gitee_expired_token_is_a_clear_error_without_the_token(
    sqlite_workspace: Workspace, replay: Replay
) -> None:
    fake = FakeGitee(replay)
    build(fake, issues=2)
    add(sqlite_workspace, replay)
    replay.fault(f"/repos/{REPO}/issues", "expired_token")
    result = sync(sqlite_workspace)
    assert result.ok is False
    assert "HTTP 401, the token was refused" in (result.error or "")
    assert "access_token=***" in (result.error or "")
    assert TOKEN not in (result.error or "")
    with sqlite_workspace.store.session() as session:
        stored = json.dumps([dict(s.options) for s in session.execute(select(Source)).scalars()])
    assert TOKEN not in stored


def test_gitee_error_body_echoing_the_token_is_scrubbed(
    sqlite_workspace: Workspace, replay: Replay
) -> None:
    FakeGitee(replay)
    add(sqlite_workspace, replay)
    replay.fault(
        f"/repos/{REPO}",
        "status",
        code=400,
        body=json.dumps({"message": f"bad token {TOKEN}"}).encode(),
    )
    result = sync(sqlite_workspace)
    assert result.ok is False
    assert "HTTP 400" in (result.error or "")
    assert TOKEN not in (result.error or "")


# -- backfill --------------------------------------------------------------------------------------


def test_gitee_backfill_window_reads_range_without_cursors(
    workspace: Workspace, replay: Replay
) -> None:
    fake = FakeGitee(replay)
    build(fake)
    add(workspace, replay)
    window = Window(datetime(2024, 1, 6), datetime(2024, 1, 8, 23, 59, 59))
    assert sync(workspace, window=window).error is None
    got = {(a["kind"], a["target"]) for a in activities(workspace)}
    assert got == {
        ("gitee:issue_opened", "I1A006"),
        ("gitee:issue_opened", "I1A007"),
        ("gitee:issue_opened", "I1A008"),
        ("gitee:issue_closed", "I1A008"),
        ("gitee:issue_comment", "I1A006"),
        ("gitee:issue_comment", "I1A007"),
        ("gitee:issue_comment", "I1A008"),
        ("gitee:pr_opened", "3"),
        ("gitee:pr_merged", "3"),
        ("gitee:pr_comment", "3"),
    }
    assert cursors(workspace) == {}
    assert replay.seen(f"/repos/{REPO}/issues")[0].query["since"] == "2024-01-06T00:00:00Z"


# -- the recorded shapes, served as recorded -------------------------------------------------------


def test_gitee_recorded_perceval_repository(sqlite_workspace: Workspace, replay: Replay) -> None:
    repo = "willemjiang/camel-on-cloud"
    base = f"/repos/{repo}"

    def paged(first: str, second: str) -> Any:
        def handler(request: Request) -> Reply:
            name = first if request.query.get("page", "1") == "1" else second
            return json_reply(recorded(name), 200, {"total_count": "2", "total_page": "2"})

        return handler

    replay.handle(f"{base}/issues", paged("gitee_issues1.json", "gitee_issues2.json"))
    replay.handle(f"{base}/pulls", paged("gitee_pull_request1.json", "gitee_pull_request2.json"))
    replay.route(f"{base}/issues/I1DACG/comments", json=recorded("gitee_issue1_comments.json"))
    replay.route(f"{base}/issues/I1DAQF/comments", json=recorded("gitee_issue2_comments.json"))
    for n in (1, 2):
        replay.route(
            f"{base}/pulls/{n}/comments", json=recorded(f"gitee_pull_request{n}_comments.json")
        )
        replay.route(
            f"{base}/pulls/{n}/operate_logs",
            json=recorded(f"gitee_pull_request{n}_action_logs.json"),
        )
    replay.route(base, json=recorded("gitee_repo.json"))
    for path in ("stargazers", "subscribers", "forks", "releases"):
        replay.route(f"{base}/{path}", json=[])
    add(sqlite_workspace, replay, repo)
    assert sync(sqlite_workspace).error is None
    got = sorted(
        (a["kind"], a["target"], a["actor"]["username"], a["occurred_at"])
        for a in activities(sqlite_workspace)
    )
    assert got == [
        ("gitee:issue_closed", "I1DAQF", "ghost", "2020-04-01T03:06:51Z"),
        ("gitee:issue_comment", "I1DACG", "willemjiang", "2020-01-02T12:36:01Z"),
        ("gitee:issue_comment", "I1DAQF", "willemjiang", "2020-01-02T12:36:01Z"),
        ("gitee:issue_opened", "I1DACG", "willemjiang", "2020-01-01T01:32:55Z"),
        ("gitee:issue_opened", "I1DAQF", "willemjiang", "2020-04-01T02:30:43Z"),
        ("gitee:pr_comment", "1", "willemjiang", "2020-04-04T04:51:00Z"),
        ("gitee:pr_comment", "2", "willemjiang", "2020-04-10T07:09:10Z"),
        ("gitee:pr_merged", "1", "willemjiang", "2020-04-05T09:29:41Z"),
        ("gitee:pr_opened", "1", "willemjiang", "2020-04-04T04:50:47Z"),
        ("gitee:pr_opened", "2", "willemjiang", "2020-04-04T04:56:37Z"),
    ]
