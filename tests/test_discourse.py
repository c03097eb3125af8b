"""The Discourse connector against a real local server answering with the recorded shapes of
Perceval's and the official API client's fixtures (topic lists, topics, posts, categories), with
faults injected."""

from __future__ import annotations

import copy
import json
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from commops.cli.app import app
from commops.connectors.base import Window
from commops.connectors.discourse import DiscourseConnector
from commops.errors import SourceError
from commops.exports import iter_activities
from commops.sources import add_source
from commops.store.models import Source, SyncState
from commops.sync import SyncResult, sync_workspace
from commops.workspace import Workspace
from conftest import shared_data
from replay import Replay, Reply, Request, json_reply

KEY = "discourse_test_key_never_shown_0123456789"
LIST_PAGE = 3  # topics per list page on the fake forum
FIRST_POSTS = 20  # posts in /t/{id}.json, as Discourse sends


def recorded(*parts: str) -> Any:
    return json.loads(shared_data("fixtures", "discourse", *parts).read_text("utf-8"))


def stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")


class FakeForum:
    """A forum that answers like Discourse, built from the recorded shapes."""

    def __init__(self, replay: Replay) -> None:
        self.replay = replay
        self.topics: dict[int, dict[str, Any]] = {}
        self.summaries: dict[int, dict[str, Any]] = {}
        self.broken: dict[str, int] = {}  # path -> failures left
        self._topic_template = recorded("perceval", "discourse_topic_1148.json")
        self._post_template = self._topic_template["post_stream"]["posts"][0]
        self._summary_template = recorded("perceval", "discourse_topics.json")["topic_list"][
            "topics"
        ][0]
        self.categories = recorded("discourse_api", "categories.json")
        replay.route("/categories.json", json=self.categories)
        replay.handle("/latest.json", lambda r: self._list(r, None))
        for cat in self.categories["category_list"]["categories"]:
            cid = int(cat["id"])
            replay.handle(f"/c/{cat['slug']}/{cid}.json", lambda r, c=cid: self._list(r, c))

    def _fail(self, path: str) -> Reply | None:
        if self.broken.get(path, 0):
            self.broken[path] -= 1
            return Reply(502, {}, b"bad gateway")
        return None

    def _list(self, request: Request, category: int | None) -> Reply:
        failed = self._fail(request.path)
        if failed:
            return failed
        rows = [s for s in self.summaries.values() if category in (None, s["category_id"])]
        pinned = [s for s in rows if s["pinned"]]
        rest = sorted((s for s in rows if not s["pinned"]), key=lambda s: s["bumped_at"])[::-1]
        rows = pinned + rest
        page = int(request.query.get("page", "0"))
        chunk = rows[page * LIST_PAGE : (page + 1) * LIST_PAGE]
        listing: dict[str, Any] = {
            "can_create_topic": False,
            "per_page": LIST_PAGE,
            "topics": chunk,
        }
        if (page + 1) * LIST_PAGE < len(rows):
            listing["more_topics_url"] = f"{request.path.removesuffix('.json')}?page={page + 1}"
        return json_reply({"users": [], "topic_list": listing})

    def topic(
        self,
        tid: int,
        author: str,
        start: datetime,
        repliers: list[tuple[str, int | None]],
        *,
        category: int = 1,
        pinned: bool = False,
        solved: int | None = None,
        likes: dict[int, int] | None = None,
    ) -> None:
        """``repliers``: (username, reply_to_post_number) of posts 2, 3, ... an hour apart."""
        posts = []
        for number, (who, reply_to) in enumerate([(author, None), *repliers], start=1):
            post = copy.deepcopy(self._post_template)
            post.update(
                id=tid * 1000 + number,
                post_number=number,
                username=who,
                name=who.title(),
                display_username=who.title(),
                topic_id=tid,
                created_at=stamp(start + timedelta(hours=number - 1)),
                updated_at=stamp(start + timedelta(hours=number - 1)),
                reply_to_post_number=reply_to,
                actions_summary=[{"id": 2, "count": (likes or {}).get(number, 0)}],
                accepted_answer=number == solved,
            )
            posts.append(post)
        last = stamp(start + timedelta(hours=len(posts) - 1))
        topic = copy.deepcopy(self._topic_template)
        topic.update(
            id=tid,
            title=f"topic {tid}",
            category_id=category,
            created_at=stamp(start),
            last_posted_at=last,
            posts_count=len(posts),
            highest_post_number=len(posts),
        )
        topic["details"]["created_by"]["username"] = author
        topic["post_stream"] = {
            "posts": posts[:FIRST_POSTS],
            "stream": [p["id"] for p in posts],
        }
        if solved is not None:
            topic["accepted_answer"] = {
                "post_number": solved,
                "username": posts[solved - 1]["username"],
                "excerpt": "it works",
            }
        self.topics[tid] = {"topic": topic, "posts": posts}
        summary = copy.deepcopy(self._summary_template)
        summary.update(
            id=tid,
            title=f"topic {tid}",
            category_id=category,
            created_at=stamp(start),
            bumped_at=last,
            last_posted_at=last,
            pinned=pinned,
            posts_count=len(posts),
            has_accepted_answer=solved is not None,
        )
        self.summaries[tid] = summary
        self.replay.handle(f"/t/{tid}.json", lambda r, t=tid: self._topic(r, t))
        self.replay.handle(f"/t/{tid}/posts.json", lambda r, t=tid: self._posts(r, t))

    def reply(self, tid: int, who: str, reply_to: int | None, when: datetime) -> None:
        entry = self.topics[tid]
        post = copy.deepcopy(entry["posts"][0])
        number = len(entry["posts"]) + 1
        post.update(
            id=tid * 1000 + number,
            post_number=number,
            username=who,
            created_at=stamp(when),
            reply_to_post_number=reply_to,
            accepted_answer=False,
        )
        entry["posts"].append(post)
        entry["topic"]["post_stream"]["stream"].append(post["id"])
        if number <= FIRST_POSTS:
            entry["topic"]["post_stream"]["posts"].append(post)
        self.summaries[tid]["bumped_at"] = self.summaries[tid]["last_posted_at"] = stamp(when)

    def _topic(self, request: Request, tid: int) -> Reply:
        return self._fail(request.path) or json_reply(self.topics[tid]["topic"])

    def _posts(self, request: Request, tid: int) -> Reply:
        # The replay server keeps the last of repeated query keys: answer with the chunk of 20
        # that ends at that id, as the connector asks for them.
        failed = self._fail(request.path)
        if failed:
            return failed
        posts = self.topics[tid]["posts"]
        ids = [p["id"] for p in posts]
        end = ids.index(int(request.query["post_ids[]"]))
        chunk = posts[max(FIRST_POSTS, end - 19) : end + 1]
        shape = copy.deepcopy(recorded("discourse_api", "topic_posts.json"))
        shape["post_stream"]["posts"] = chunk
        shape["id"] = tid
        return json_reply(shape)


def build(forum: FakeForum, fillers: int = 0) -> None:
    day = datetime(2024, 2, 1, 8)
    forum.topic(
        101,
        "alice",
        day,
        [("bob", None), ("carol", 2), ("alice", 3)],
        solved=2,
        likes={2: 3},
    )
    forum.topic(
        102,
        "dave",
        day + timedelta(days=1),
        [(f"user{k % 5}", k if k % 2 else None) for k in range(1, 45)],
        category=2,
    )
    forum.topic(103, "mod", day - timedelta(days=30), [("erin", 1)], category=3, pinned=True)
    for i in range(5):
        forum.topic(104 + i, f"asker{i}", day + timedelta(days=3 + i), [("helper", None)])
    for i in range(fillers):
        forum.topic(200 + i, "filler", day + timedelta(days=20, hours=i), [("echo", 1)])


def expected(fillers: int = 0) -> Counter[str]:
    return Counter(
        {
            "discourse:topic_created": 8 + fillers,
            "discourse:post": 3 + 44 + 1 + 5 + fillers,
            "discourse:solution": 1,
        }
    )


def add(ws: Workspace, replay: Replay, **options: Any) -> None:
    ws.config.http_timeout = 2.0
    ws.config.http_attempts = 4
    ws.config.http_max_wait = 5.0
    add_source(ws.store, "discourse", replay.url, name="forum", options=options)


def sync(ws: Workspace, window: Window | None = None) -> SyncResult:
    [result] = sync_workspace(ws, ["forum"], window=window)
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
            .where(Source.name == "forum")
        ).scalars()
        return {r.stream: dict(r.cursor) for r in rows}


def topic_reads(replay: Replay, since: int = 0) -> list[str]:
    return [r.path for r in replay.requests[since:] if r.path.startswith("/t/")]


# -- adding a source ------------------------------------------------------------------------------


def test_discourse_prepare_url_and_categories() -> None:
    assert DiscourseConnector.prepare("https://ask.kubesphere.io/", {"categories": ["qa"]}) == (
        "ask.kubesphere.io",
        "https://ask.kubesphere.io",
        {"categories": ["qa"]},
    )


@pytest.mark.parametrize("location", ["", "ask.kubesphere.io", "ftp://forum.example"])
def test_discourse_prepare_bad_url_names_it(location: str) -> None:
    with pytest.raises(SourceError) as err:
        DiscourseConnector.prepare(location, {})
    assert f"discourse location {location!r} is not an http(s) URL" == err.value.message


def test_discourse_cli_add_with_categories(
    sqlite_workspace: Workspace, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COMMOPS_WORKSPACE", str(sqlite_workspace.root))
    args = ["add", "discourse", "https://forum.example.org", "--category", "qa"]
    result = cli.invoke(app, [*args, "--category", "dev/7", "--qa-category", "qa", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "name": "forum.example.org",
        "kind": "discourse",
        "location": "https://forum.example.org",
        "options": {"categories": ["qa", "dev/7"], "qa_categories": ["qa"]},
    }


# -- a whole forum ---------------------------------------------------------------------------------


def test_discourse_full_sync_reads_topics_replies_and_solutions(
    workspace: Workspace, replay: Replay
) -> None:
    forum = FakeForum(replay)
    build(forum)
    add(workspace, replay)
    result = sync(workspace)
    assert result.error is None
    assert kinds(workspace) == expected()
    t101 = sorted(
        (a["kind"], a["actor"]["username"], (a["object"] or {}).get("username"))
        for a in activities(workspace)
        if a["target"] == "101"
    )
    assert t101 == [
        ("discourse:post", "alice", "carol"),
        ("discourse:post", "bob", "alice"),
        ("discourse:post", "carol", "bob"),
        ("discourse:solution", "bob", "alice"),
        ("discourse:topic_created", "alice", None),
    ]
    by_kind = {a["kind"]: a for a in activities(workspace) if a["target"] == "101"}
    assert by_kind["discourse:topic_created"]["contribution_type"] == "question"
    assert by_kind["discourse:topic_created"]["channel"] == "test1"
    assert by_kind["discourse:solution"]["attributes"]["likes"] == 3
    assert by_kind["discourse:solution"]["occurred_at"] == "2024-02-01T09:00:00Z"
    created = {
        a["target"]: a["contribution_type"]
        for a in activities(workspace)
        if a["kind"] == "discourse:topic_created"
    }
    assert created["102"] == "forum"
    long_topic = [a for a in activities(workspace) if a["target"] == "102"]
    assert len(long_topic) == 45
    assert topic_reads(replay).count("/t/102/posts.json") == 2  # 25 posts beyond the first 20
    assert cursors(workspace) == {"topics": {"latest": "2024-02-08T09:00:00Z"}}


def test_discourse_qa_category_makes_questions_and_answers(
    sqlite_workspace: Workspace, replay: Replay
) -> None:
    forum = FakeForum(replay)
    build(forum)
    add(sqlite_workspace, replay, qa_categories=["test1"])
    assert sync(sqlite_workspace).error is None
    got = {
        (a["target"], a["kind"], a["contribution_type"])
        for a in activities(sqlite_workspace)
        if a["target"] in ("104", "102")
    }
    assert ("104", "discourse:topic_created", "question") in got
    assert ("104", "discourse:post", "answer") in got
    assert ("102", "discourse:topic_created", "forum") in got


def test_discourse_category_option_limits_the_read(
    sqlite_workspace: Workspace, replay: Replay
) -> None:
    forum = FakeForum(replay)
    build(forum)
    add(sqlite_workspace, replay, categories=["test2"])
    assert sync(sqlite_workspace).error is None
    assert {a["target"] for a in activities(sqlite_workspace)} == {"102"}
    assert replay.count("/latest.json") == 0
    assert replay.count("/c/test2/2.json") == 1
    assert cursors(sqlite_workspace) == {"topics": {"c/test2/2": "2024-02-04T04:00:00Z"}}


def test_discourse_unknown_category_is_named(sqlite_workspace: Workspace, replay: Replay) -> None:
    FakeForum(replay)
    add(sqlite_workspace, replay, categories=["nope"])
    result = sync(sqlite_workspace)
    assert result.ok is False
    assert "category 'nope' is not on" in (result.error or "")
    assert "test1, test2, test3" in (result.error or "")


# -- incremental -----------------------------------------------------------------------------------


def test_discourse_second_sync_reads_only_bumped_topics(
    workspace: Workspace, replay: Replay
) -> None:
    forum = FakeForum(replay)
    build(forum)
    add(workspace, replay)
    assert sync(workspace).error is None
    before = len(replay.requests)
    forum.reply(104, "newcomer", 1, datetime(2024, 3, 1, 12))
    assert sync(workspace).error is None
    assert kinds(workspace) == expected() + Counter({"discourse:post": 1})
    # the topic at the boundary (inclusive lower bound) and the bumped one
    assert topic_reads(replay, before) == ["/t/108.json", "/t/104.json"]
    new = next(a for a in activities(workspace) if a["actor"]["username"] == "newcomer")
    assert new["object"]["username"] == "asker0"
    assert cursors(workspace) == {"topics": {"latest": "2024-03-01T12:00:00Z"}}


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
def test_discourse_fault_is_retried_and_nothing_is_lost(
    sqlite_workspace: Workspace, replay: Replay, kind: str, options: dict[str, Any]
) -> None:
    forum = FakeForum(replay)
    build(forum)
    add(sqlite_workspace, replay)
    replay.fault("/latest.json", kind, **options)
    replay.fault("/t/102/posts.json", kind, **options)
    result = sync(sqlite_workspace)
    assert result.error is None
    assert kinds(sqlite_workspace) == expected()


def test_discourse_topic_failing_midway_then_next_sync_completes(
    workspace: Workspace, replay: Replay
) -> None:
    forum = FakeForum(replay)
    build(forum, fillers=30)  # 38 topics: a checkpoint after 30
    add(workspace, replay)
    forum.broken["/t/227.json"] = 4  # every attempt of one run; the 36th read, second batch
    failed = sync(workspace)
    assert failed.ok is False
    assert "/t/227.json" in (failed.error or "")
    stored = sorted(
        int(a["target"]) for a in activities(workspace) if a["kind"] == "discourse:topic_created"
    )
    assert len(stored) == 30
    boundary = forum.summaries[stored[-1]]["bumped_at"].replace(".000", "")
    assert cursors(workspace) == {"topics": {"latest": boundary}}
    assert sync(workspace).error is None
    assert kinds(workspace) == expected(fillers=30)
    uids = [a["uid"] for a in activities(workspace)]
    assert len(uids) == len(set(uids))


def test_discourse_topic_deleted_after_listing_is_a_warning(
    sqlite_workspace: Workspace, replay: Replay
) -> None:
    forum = FakeForum(replay)
    build(forum)
    add(sqlite_workspace, replay)
    replay.route("/t/105.json", json={"errors": ["not found"]}, status=404)
    result = sync(sqlite_workspace)
    assert result.error is None
    assert kinds(sqlite_workspace) == expected() - Counter(
        {"discourse:topic_created": 1, "discourse:post": 1}
    )
    assert len(result.warnings) == 1
    assert "/t/105.json: HTTP 404" in result.warnings[0]


def test_discourse_expired_key_is_a_clear_error_without_the_key(
    sqlite_workspace: Workspace, replay: Replay, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DISCOURSE_API_KEY", KEY)
    forum = FakeForum(replay)
    build(forum)
    add(sqlite_workspace, replay, api_username="bot")
    replay.fault("/latest.json", "expired_token")
    result = sync(sqlite_workspace)
    assert result.ok is False
    assert "HTTP 401, the token was refused" in (result.error or "")
    assert KEY not in (result.error or "")
    seen = replay.seen("/categories.json")[0].headers
    assert (seen["api-key"], seen["api-username"]) == (KEY, "bot")


def test_discourse_public_forum_sends_no_key(sqlite_workspace: Workspace, replay: Replay) -> None:
    forum = FakeForum(replay)
    build(forum)
    add(sqlite_workspace, replay)
    assert sync(sqlite_workspace).error is None
    assert all("api-key" not in r.headers for r in replay.requests)


# -- backfill --------------------------------------------------------------------------------------


def test_discourse_backfill_window_reads_range_without_cursors(
    workspace: Workspace, replay: Replay
) -> None:
    forum = FakeForum(replay)
    build(forum)
    add(workspace, replay)
    window = Window(datetime(2024, 2, 5), datetime(2024, 2, 6, 23, 59, 59))
    assert sync(workspace, window=window).error is None
    got = sorted((a["target"], a["kind"]) for a in activities(workspace))
    assert got == [
        ("105", "discourse:post"),
        ("105", "discourse:topic_created"),
        ("106", "discourse:post"),
        ("106", "discourse:topic_created"),
    ]
    assert cursors(workspace) == {}


# -- the recorded shapes, served as recorded -------------------------------------------------------


def test_discourse_recorded_perceval_forum(sqlite_workspace: Workspace, replay: Replay) -> None:
    replay.route("/categories.json", json=recorded("discourse_api", "categories.json"))
    replay.route("/latest.json", json=recorded("perceval", "discourse_topics_pinned.json"))
    for tid in (1148, 1149, 1150):
        replay.route(f"/t/{tid}.json", json=recorded("perceval", f"discourse_topic_{tid}.json"))
    # the recorded topic 1148 lists stream ids that are not its posts' ids: nothing more to add
    replay.route("/t/1148/posts.json", json={"post_stream": {"posts": []}, "id": 1148})
    add(sqlite_workspace, replay)
    assert sync(sqlite_workspace).error is None
    assert kinds(sqlite_workspace) == Counter(
        {"discourse:topic_created": 3, "discourse:post": 19 + 1 + 1}
    )
    post4 = next(a for a in activities(sqlite_workspace) if a["attributes"].get("post_id") == 19162)
    assert (post4["actor"]["username"], post4["object"]["username"]) == (
        "gorhill",
        "noisycitytoonoisy",
    )
    assert post4["channel"] == "111"
    assert post4["attributes"]["likes"] == 1
    assert post4["occurred_at"].startswith("2016-")
    assert cursors(sqlite_workspace) == {"topics": {"latest": "2016-05-25T02:52:49Z"}}
