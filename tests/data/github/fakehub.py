"""A GitHub organisation served by the replay server (tests/replay.py), built from the hand-made
response shapes in this folder, answering the way the REST API does: ``since``/``sort``/
``direction`` on issues and comments, ``page``/``per_page`` with ``Link`` headers, the star media
type, ``ETag``/``If-None-Match`` on repositories. Used by tests/test_github.py and
bench/github_sync.py."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from replay import Replay, Reply, Request, json_reply

HERE = Path(__file__).resolve().parent


def shape(name: str) -> dict[str, Any]:
    return json.loads((HERE / f"{name}.json").read_text())


def user(login: str) -> dict[str, Any]:
    return {"login": login, "id": abs(hash(login)) % 10**8, "type": "User", "site_admin": False}


@dataclass
class FakeRepo:
    full_name: str
    issues: dict[int, dict[str, Any]] = field(default_factory=dict)
    pulls: dict[int, dict[str, Any]] = field(default_factory=dict)
    reviews: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    comments: list[dict[str, Any]] = field(default_factory=list)
    review_comments: list[dict[str, Any]] = field(default_factory=list)
    stars: list[dict[str, Any]] = field(default_factory=list)
    forks: list[dict[str, Any]] = field(default_factory=list)
    releases: list[dict[str, Any]] = field(default_factory=list)
    watchers: int = 3
    version: int = 0
    discussions: list[dict[str, Any]] | None = None  # None: discussions not enabled


class FakeHub:
    """``prefix`` is the API's path on the server: "" for api.github.com, "/api/v3" for
    GitHub Enterprise."""

    def __init__(self, replay: Replay, org: str = "octo-org", prefix: str = "") -> None:
        self.replay = replay
        # Answers go out in two writes (headers, body): without TCP_NODELAY each response waits
        # for the client's delayed ACK (40 ms on Linux).
        replay._server.RequestHandlerClass.disable_nagle_algorithm = True  # type: ignore[attr-defined]
        self.org = org
        self.prefix = prefix
        self.repos: dict[str, FakeRepo] = {}
        self._templates = {
            n: shape(n)
            for n in (
                "issue",
                "issue_pr",
                "pull",
                "comment",
                "review",
                "review_comment",
                "stargazer",
                "fork",
                "release",
                "repo",
            )
        }
        self._next_id = 1000
        self._failing: dict[tuple[str, int], int] = {}
        replay.handle(f"{prefix}/orgs/{org}/repos", self._org_repos)
        graphql = "/api/graphql" if prefix.endswith("/api/v3") else f"{prefix}/graphql"
        replay.handle(graphql, self._graphql)

    @property
    def api_url(self) -> str:
        return self.replay.url + self.prefix

    def _id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _t(self, name: str) -> dict[str, Any]:
        return copy.deepcopy(self._templates[name])

    # -- building the organisation ----------------------------------------------------------

    def repo(self, name: str) -> FakeRepo:
        full = f"{self.org}/{name}"
        if full in self.repos:
            return self.repos[full]
        r = FakeRepo(full)
        self.repos[full] = r
        base = f"{self.prefix}/repos/{full}"
        h = self.replay.handle
        h(base, lambda q, r=r: self._repo(q, r))
        h(f"{base}/issues", lambda q, r=r: self._list(q, list(r.issues.values()), "updated_at"))
        h(f"{base}/issues/comments", lambda q, r=r: self._list(q, r.comments, "updated_at"))
        h(f"{base}/pulls/comments", lambda q, r=r: self._list(q, r.review_comments, "updated_at"))
        h(f"{base}/stargazers", lambda q, r=r: self._list(q, r.stars, None))
        h(f"{base}/forks", lambda q, r=r: self._list(q, r.forks, None))
        h(f"{base}/releases", lambda q, r=r: self._list(q, r.releases, None))
        return r

    def issue(
        self,
        repo: str,
        number: int,
        *,
        author: str,
        created: str,
        updated: str | None = None,
        closed: str | None = None,
        closed_by: str | None = None,
        labels: tuple[str, ...] = (),
        pr: bool = False,
        merged: str | None = None,
        merged_by: str | None = None,
    ) -> dict[str, Any]:
        r = self.repo(repo)
        item = self._t("issue_pr" if pr else "issue")
        item.update(
            id=self._id(),
            number=number,
            title=f"Item {number}",
            user=user(author),
            created_at=created,
            updated_at=updated or closed or created,
            closed_at=closed,
            state="closed" if closed else "open",
            labels=[{"name": lb, "color": "f29513"} for lb in labels],
            url=f"https://api.github.com/repos/{r.full_name}/issues/{number}",
        )
        r.issues[number] = item
        detail = dict(item, closed_by=user(closed_by) if closed_by else None)
        path = f"{self.prefix}/repos/{r.full_name}"
        self.replay.handle(f"{path}/issues/{number}", lambda q, d=detail: json_reply(d))
        if pr:
            pull = self._t("pull")
            pull.update(
                number=number,
                user=user(author),
                created_at=created,
                updated_at=item["updated_at"],
                closed_at=closed,
                merged_at=merged,
                merged=bool(merged),
                merged_by=user(merged_by) if merged_by else None,
                state=item["state"],
            )
            r.pulls[number] = pull
            r.reviews.setdefault(number, [])
            self.replay.handle(f"{path}/pulls/{number}", lambda q, p=pull: json_reply(p))
            self.replay.handle(
                f"{path}/pulls/{number}/reviews",
                lambda q, r=r, n=number: self._list(q, r.reviews[n], None),
            )
        return item

    def touch(self, repo: str, number: int, updated: str, **changes: Any) -> None:
        """The issue changes (``closed``, ``merged``...) and moves to the end of the update
        order, as on GitHub."""
        r = self.repos[f"{self.org}/{repo}"]
        item = r.issues[number]
        item["updated_at"] = updated
        if "closed" in changes:
            item["closed_at"] = changes["closed"]
            item["state"] = "closed"
        if number in r.pulls and "merged" in changes:
            r.pulls[number].update(
                merged_at=changes["merged"],
                merged=True,
                merged_by=user(changes.get("merged_by", "maintainer")),
                state="closed",
                closed_at=changes["merged"],
            )
            item["closed_at"] = changes["merged"]
            item["state"] = "closed"

    def comment(
        self, repo: str, number: int, *, author: str, created: str, updated: str | None = None
    ) -> dict[str, Any]:
        r = self.repo(repo)
        c = self._t("comment")
        c.update(
            id=self._id(),
            user=user(author),
            created_at=created,
            updated_at=updated or created,
            issue_url=f"https://api.github.com/repos/{r.full_name}/issues/{number}",
        )
        r.comments.append(c)
        return c

    def review(self, repo: str, number: int, *, author: str, submitted: str, state: str) -> None:
        r = self.repo(repo)
        rv = self._t("review")
        rv.update(id=self._id(), user=user(author), submitted_at=submitted, state=state)
        r.reviews[number].append(rv)

    def review_comment(self, repo: str, number: int, *, author: str, created: str) -> None:
        r = self.repo(repo)
        c = self._t("review_comment")
        c.update(
            id=self._id(),
            user=user(author),
            created_at=created,
            updated_at=created,
            pull_request_url=f"https://api.github.com/repos/{r.full_name}/pulls/{number}",
        )
        r.review_comments.append(c)

    def star(self, repo: str, login: str, at: str) -> None:
        s = self._t("stargazer")
        s.update(starred_at=at, user=user(login))
        self.repo(repo).stars.append(s)

    def fork(self, repo: str, owner: str, at: str) -> None:
        f = self._t("fork")
        name = self.repo(repo).full_name.split("/")[1]
        f.update(id=self._id(), full_name=f"{owner}/{name}", owner=user(owner), created_at=at)
        self.repo(repo).forks.append(f)

    def release(self, repo: str, tag: str, *, author: str, published: str, downloads: int) -> None:
        rel = self._t("release")
        rel.update(id=self._id(), tag_name=tag, name=tag, author=user(author))
        rel.update(published_at=published, created_at=published)
        rel["assets"][0].update(download_count=downloads)
        self.repo(repo).releases.insert(0, rel)  # newest first, as GitHub lists them

    def discussion(
        self,
        repo: str,
        number: int,
        *,
        author: str,
        created: str,
        updated: str | None = None,
        answerable: bool = True,
        comments: tuple[tuple[str, str], ...] = (),
        answer: int | None = None,
        chosen_by: str | None = None,
        chosen_at: str | None = None,
    ) -> dict[str, Any]:
        """A discussion as the GraphQL API returns it; ``comments`` are (author, createdAt);
        ``answer`` is the index of the accepted comment."""
        r = self.repo(repo)
        if r.discussions is None:
            r.discussions = []
        nodes = [
            {
                "id": f"DC_{number}_{i}",
                "createdAt": at,
                "isAnswer": i == answer,
                "author": {"login": who},
            }
            for i, (who, at) in enumerate(comments)
        ]
        node = {
            "id": f"D_{number}",
            "number": number,
            "title": f"Question {number}",
            "createdAt": created,
            "updatedAt": updated or created,
            "author": {"login": author},
            "category": {"name": "Q&A" if answerable else "General", "isAnswerable": answerable},
            "answer": {"id": nodes[answer]["id"]} if answer is not None else None,
            "answerChosenAt": chosen_at,
            "answerChosenBy": {"login": chosen_by} if chosen_by else None,
            "comments": {"nodes": nodes},
        }
        r.discussions = [d for d in r.discussions if d["number"] != number] + [node]
        return node

    def fail_page(self, path: str, page: int, times: int = 10, code: int = 502) -> None:
        """Requests for ``page`` of ``path`` answer ``code`` ``times`` times."""
        self._failing[(self.prefix + path, page)] = times
        self._code = code

    # -- answering ----------------------------------------------------------------------------

    def _org_repos(self, request: Request) -> Reply:
        items = []
        for full in self.repos:
            repo = self._t("repo")
            repo.update(full_name=full, name=full.split("/")[1])
            repo.pop("subscribers_count", None)  # the list endpoint does not have it
            items.append(repo)
        return self._page(request, items)

    def _graphql(self, request: Request) -> Reply:
        variables = json.loads(request.body)["variables"]
        r = self.repos.get(f"{variables['owner']}/{variables['name']}")
        if r is None:
            return json_reply(
                {
                    "data": {"repository": None},
                    "errors": [
                        {"type": "NOT_FOUND", "message": "Could not resolve to a Repository"}
                    ],
                }
            )
        if r.discussions is None:
            return json_reply({"data": {"repository": {"hasDiscussionsEnabled": False}}})
        ordered = sorted(r.discussions, key=lambda d: d["updatedAt"], reverse=True)
        start = int(variables.get("after") or 0)
        chunk = ordered[start : start + 50]
        end = start + len(chunk)
        return json_reply(
            {
                "data": {
                    "repository": {
                        "hasDiscussionsEnabled": True,
                        "discussions": {
                            "pageInfo": {"hasNextPage": end < len(ordered), "endCursor": str(end)},
                            "nodes": chunk,
                        },
                    }
                }
            }
        )

    def _repo(self, request: Request, r: FakeRepo) -> Reply:
        etag = f'"{r.full_name}-{r.version}-{len(r.stars)}-{len(r.forks)}"'
        if request.headers.get("if-none-match") == etag:
            return Reply(304, {"ETag": etag}, b"")
        data = self._t("repo")
        data.update(
            full_name=r.full_name,
            name=r.full_name.split("/")[1],
            subscribers_count=r.watchers,
            stargazers_count=len(r.stars),
            forks_count=len(r.forks),
            open_issues_count=sum(1 for i in r.issues.values() if i["state"] == "open"),
        )
        return json_reply(data, headers={"ETag": etag})

    def _list(self, request: Request, items: list[dict[str, Any]], key: str | None) -> Reply:
        if key is not None:
            since = request.query.get("since")
            chosen = [i for i in items if since is None or i[key] >= since]
            chosen.sort(key=lambda i: (i[key], i["id"]))
        else:
            chosen = items
        return self._page(request, chosen)

    def _page(self, request: Request, items: list[dict[str, Any]]) -> Reply:
        page = int(request.query.get("page", "1"))
        failing = self._failing.get((request.path, page), 0)
        if failing:
            self._failing[(request.path, page)] = failing - 1
            return Reply(self._code, {}, b"bad gateway")
        size = int(request.query.get("per_page", "30"))
        chunk = items[(page - 1) * size : page * size]
        last = max(1, -(-len(items) // size))
        headers: dict[str, str] = {}
        if page < last:
            query = dict(request.query, page=str(page + 1))
            link = f"{self.replay.url}{request.path}?{urlencode(query)}"
            query["page"] = str(last)
            headers["Link"] = (
                f'<{link}>; rel="next", <{self.replay.url}{request.path}?{urlencode(query)}>; '
                'rel="last"'
            )
        return json_reply(chunk, headers=headers)
