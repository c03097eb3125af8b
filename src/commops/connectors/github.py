"""GitHub (REST v3): issues and pull requests, comments, reviews, stars, forks, releases and
repository counters, for an organisation (all its repositories) or a list of repositories.

Incremental reading, per repository and stream:

* ``issues``: ``/repos/{o}/{r}/issues?state=all&sort=updated&direction=asc&since=<cursor>``; pull
  requests come through this endpoint too (they carry a ``pull_request`` key). Only the pull
  requests on these pages (changed since the cursor) cost more requests: ``/pulls/{n}`` for
  ``merged_by`` and ``/pulls/{n}/reviews`` for the reviews; an issue or unmerged pull request
  closed in the range costs ``/issues/{n}`` for ``closed_by``.
* ``comments`` and ``review_comments``: ``/issues/comments`` and ``/pulls/comments`` with
  ``since=<cursor>&sort=updated&direction=asc``.
* ``stars`` and ``forks`` have no ``since``: they are listed oldest first, so a run resumes at
  the page that held the last item read and drops what is older than its time.
* ``repos``: one conditional ``GET /repos/{o}/{r}`` (an unchanged repository answers 304, which
  GitHub does not count against the rate limit) for the watchers, stars and forks counters.
* ``releases``: every release, with each asset's ``download_count`` as a counter observation.

Cursors hold, per repository, the ``updated_at`` (or ``starred_at``, page) of the last item of
the last complete page: inclusive lower bounds, the items at the boundary are read again and
dropped by their uid.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from commops.clock import utcnow
from commops.connectors._forge import format_time, parse_time, prepare_forge
from commops.connectors._forge import parse_location as _parse_location
from commops.connectors.base import (
    ActivityRecord,
    Change,
    Connector,
    Cursor,
    IdentityRef,
    Observation,
    Observe,
    Status,
    SyncContext,
    Upsert,
    Window,
)
from commops.connectors.http import HttpClient, HttpError

PLATFORM = "github"
DEFAULT_API = "https://api.github.com"
TOKEN_ENV = "GITHUB_TOKEN"
PER_PAGE = 100
STAR_MEDIA = "application/vnd.github.star+json"

_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,99})"
_OWNER = re.compile(rf"^{_NAME}$")
_REPO = re.compile(rf"^{_NAME}/{_NAME}$")
_TRAILING_NUMBER = re.compile(r"/(\d+)$")
_IDEA_LABELS = frozenset({"enhancement", "feature", "feature request", "kind/feature", "idea"})


def _user(data: dict[str, Any] | None) -> IdentityRef | None:
    if not data or not data.get("login"):
        return None
    return IdentityRef(PLATFORM, "username", str(data["login"]))


GHOST = IdentityRef(PLATFORM, "username", "ghost")  # what GitHub shows for deleted accounts


def _number(url: str | None) -> str | None:
    match = _TRAILING_NUMBER.search(url or "")
    return match.group(1) if match else None


def parse_location(location: str) -> tuple[str | None, list[str]]:
    """``ORG`` (every repository of the organisation) or ``OWNER/REPO[,OWNER/REPO...]``."""
    return _parse_location("github", location)


class GitHubConnector(Connector):
    """Reads the streams named in the module docstring. Options: ``api_url`` (GitHub Enterprise:
    ``https://HOST/api/v3``), ``token_env`` (the environment variable holding the token;
    ``GITHUB_TOKEN`` by default, then commops.toml ``[tokens] github``)."""

    kind = "github"
    streams = (
        "repos",
        "issues",
        "comments",
        "review_comments",
        "stars",
        "forks",
        "releases",
        "discussions",
    )

    def __init__(self, source: Any) -> None:
        super().__init__(source)
        self._http: HttpClient | None = None
        self._repos: list[str] | None = None

    @classmethod
    def prepare(cls, location: str, options: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
        return prepare_forge(
            "github",
            location,
            options,
            default_api=DEFAULT_API,
            api_hint="GitHub Enterprise: --api-url https://HOST/api/v3",
            name_prefix="",
        )

    # -- plumbing -------------------------------------------------------------------------------

    def _client(self, ctx: SyncContext) -> HttpClient:
        if self._http is None:
            options = self.source.options
            env = str(options.get("token_env") or TOKEN_ENV)
            token = ctx.secret(env, "github")
            if not token:
                ctx.warn(
                    f"source {self.source.name!r}: no GitHub token ({env} or [tokens] github): "
                    "GitHub allows 60 requests an hour without one"
                )
            self._http = ctx.http(
                str(options.get("api_url") or DEFAULT_API),
                token=token,
                auth_scheme="Bearer ",
                headers={
                    "Accept": "application/vnd.github+json",
                    "X-GitHub-Api-Version": "2022-11-28",
                },
            )
        return self._http

    def _repo_list(self, http: HttpClient) -> list[str]:
        if self._repos is None:
            org, repos = parse_location(self.source.location)
            if org is not None:
                try:
                    repos = self._list_repos(http, f"/orgs/{org}/repos")
                except HttpError as exc:
                    if exc.status != 404:
                        raise
                    repos = self._list_repos(http, f"/users/{org}/repos")  # a user, not an org
            self._repos = repos
        return self._repos

    def _list_repos(self, http: HttpClient, path: str) -> list[str]:
        repos: list[str] = []
        for page in http.paginate(path, {"per_page": PER_PAGE}):
            repos += [str(r["full_name"]) for r in page.json()]
        return repos

    def read(self, stream: str, cursor: dict[str, Any], ctx: SyncContext) -> Iterator[Change]:
        http = self._client(ctx)
        repos = self._repo_list(http)
        state = dict(cursor)
        if stream == "repos":
            yield Status({"repositories": len(repos)})
        for repo in repos:
            ctx.progress(note=f"{repo} {stream}")
            reader = getattr(self, f"_read_{stream}")
            try:
                for change in reader(http, repo, state.get(repo), ctx.window):
                    if isinstance(change, _Mark):
                        state[repo] = change.value
                        yield Cursor(stream, dict(state))
                    else:
                        yield change
            except HttpError as exc:
                if exc.status != 410:  # 410 Gone: issues (or another feature) disabled
                    raise
                ctx.warn(f"source {self.source.name!r}: {repo}: {stream} skipped ({exc.url}: 410)")
        yield Cursor(stream, dict(state))

    # -- issues and pull requests ---------------------------------------------------------------

    def _read_issues(
        self, http: HttpClient, repo: str, mark: Any, window: Window | None
    ) -> Iterator[Change | _Mark]:
        # The mark: the last update time read and the numbers read at exactly that time, so that
        # the items at the inclusive boundary cost no second look at their details.
        mark = mark if isinstance(mark, dict) else {"since": mark, "seen": []}
        since: str | None = mark.get("since")
        seen = set(mark.get("seen") or [])
        params: dict[str, Any] = {
            "state": "all",
            "sort": "updated",
            "direction": "asc",
            "per_page": PER_PAGE,
        }
        lower = format_time(window.since) if window and window.since else since
        if window is not None:
            seen = set()
        if lower:
            params["since"] = lower
        for page in http.paginate(f"/repos/{repo}/issues", params):
            items = page.json()
            records: list[ActivityRecord] = []
            for item in items:
                if item["updated_at"] == since and item["number"] in seen:
                    continue
                records += self._issue(http, repo, item, lower)
            if window is not None:
                records = [r for r in records if window.contains(r.occurred_at)]
            if records:
                yield Upsert(records)
            if items:
                last = str(items[-1]["updated_at"])
                at_last = {int(i["number"]) for i in items if i["updated_at"] == last}
                seen = (seen | at_last) if last == since else at_last
                since = last
                yield _Mark({"since": last, "seen": sorted(seen)})

    def _issue(
        self, http: HttpClient, repo: str, item: dict[str, Any], since: str | None
    ) -> list[ActivityRecord]:
        number = int(item["number"])
        key = f"{repo}#{number}"
        author = _user(item.get("user")) or GHOST
        labels = [str(lb["name"]) for lb in item.get("labels") or [] if isinstance(lb, dict)]
        is_pr = "pull_request" in item
        attrs: dict[str, Any] = {
            "number": number,
            "author": author.value,
            "labels": labels,
            "state": item.get("state"),
            "created_at": item.get("created_at"),
            "closed_at": item.get("closed_at"),
            "comments": item.get("comments"),
            "author_association": item.get("author_association"),
        }
        common: dict[str, Any] = {
            "channel": repo,
            "target": str(number),
            "title": item.get("title"),
        }
        records: list[ActivityRecord] = []
        closed_at = item.get("closed_at")
        closed_in_range = bool(closed_at) and (since is None or str(closed_at) >= since)
        if is_pr:
            pull = http.get_json(f"/repos/{repo}/pulls/{number}")
            merged_at = pull.get("merged_at")
            attrs.update(
                merged_at=merged_at,
                merged_by=(pull.get("merged_by") or {}).get("login"),
                draft=pull.get("draft"),
                additions=pull.get("additions"),
                deletions=pull.get("deletions"),
                changed_files=pull.get("changed_files"),
            )
            reviews = self._reviews(http, repo, number, author, common)
            # The first review by someone other than the author and not a bot, as far as known
            # now (a comment may come earlier: the metrics combine both).
            responses = sorted(
                r.occurred_at
                for r in reviews
                if r.actor != author
                and r.attributes.get("reviewer_type") != "Bot"
                and not r.actor.value.endswith("[bot]")
            )
            attrs["first_review_at"] = format_time(responses[0]) if responses else None
            records.append(
                ActivityRecord(
                    item_key=key,
                    kind="github:pr_opened",
                    discriminator="opened",
                    occurred_at=parse_time(item["created_at"]),
                    actor=author,
                    contribution_type="code",
                    attributes=attrs,
                    **common,
                )
            )
            if merged_at:
                records.append(
                    ActivityRecord(
                        item_key=key,
                        kind="github:pr_merged",
                        discriminator="merged",
                        occurred_at=parse_time(merged_at),
                        actor=_user(pull.get("merged_by")) or GHOST,
                        object=author,
                        contribution_type="maintenance",
                        attributes=attrs,
                        **common,
                    )
                )
            elif closed_at and closed_in_range:
                records.append(self._closed(http, repo, key, "github:pr_closed", author, attrs))
            records += reviews
        else:
            ideas = any(label.lower() in _IDEA_LABELS for label in labels)
            records.append(
                ActivityRecord(
                    item_key=key,
                    kind="github:issue_opened",
                    discriminator="opened",
                    occurred_at=parse_time(item["created_at"]),
                    actor=author,
                    contribution_type="ideas" if ideas else "bug",
                    attributes=attrs,
                    **common,
                )
            )
            if closed_at and closed_in_range:
                records.append(self._closed(http, repo, key, "github:issue_closed", author, attrs))
        return records

    def _closed(
        self,
        http: HttpClient,
        repo: str,
        key: str,
        kind: str,
        author: IdentityRef,
        attrs: dict[str, Any],
    ) -> ActivityRecord:
        number = attrs["number"]
        detail = http.get_json(f"/repos/{repo}/issues/{number}")
        closed_at = str(detail.get("closed_at") or attrs["closed_at"])
        return ActivityRecord(
            item_key=key,
            kind=kind,
            discriminator=f"closed:{closed_at}",  # a reopened and closed again item: another
            occurred_at=parse_time(closed_at),
            actor=_user(detail.get("closed_by")) or GHOST,
            object=author,
            channel=repo,
            target=str(number),
            title=detail.get("title"),
            attributes={**attrs, "closed_at": closed_at},
        )

    def _reviews(
        self,
        http: HttpClient,
        repo: str,
        number: int,
        author: IdentityRef,
        common: dict[str, Any],
    ) -> list[ActivityRecord]:
        records: list[ActivityRecord] = []
        for page in http.paginate(f"/repos/{repo}/pulls/{number}/reviews", {"per_page": PER_PAGE}):
            for review in page.json():
                if not review.get("submitted_at"):  # a pending review is not yet visible
                    continue
                records.append(
                    ActivityRecord(
                        item_key=f"{repo}#{number}/review/{review['id']}",
                        kind="github:review",
                        occurred_at=parse_time(review["submitted_at"]),
                        actor=_user(review.get("user")) or GHOST,
                        object=author,
                        parent=f"{repo}#{number}",
                        contribution_type="review",
                        attributes={
                            "number": number,
                            "state": review.get("state"),
                            "pr_author": author.value,
                            "reviewer_type": (review.get("user") or {}).get("type"),
                            "author_association": review.get("author_association"),
                        },
                        **common,
                    )
                )
        return records

    # -- comments -------------------------------------------------------------------------------

    def _read_comments(
        self, http: HttpClient, repo: str, since: str | None, window: Window | None
    ) -> Iterator[Change | _Mark]:
        yield from self._comments(http, repo, since, window, review=False)

    def _read_review_comments(
        self, http: HttpClient, repo: str, since: str | None, window: Window | None
    ) -> Iterator[Change | _Mark]:
        yield from self._comments(http, repo, since, window, review=True)

    def _comments(
        self,
        http: HttpClient,
        repo: str,
        since: str | None,
        window: Window | None,
        *,
        review: bool,
    ) -> Iterator[Change | _Mark]:
        path = f"/repos/{repo}/pulls/comments" if review else f"/repos/{repo}/issues/comments"
        params: dict[str, Any] = {"sort": "updated", "direction": "asc", "per_page": PER_PAGE}
        lower = format_time(window.since) if window and window.since else since
        if lower:
            params["since"] = lower
        kind = "github:review_comment" if review else "github:issue_comment"
        for page in http.paginate(path, params):
            items = page.json()
            records = []
            for c in items:
                number = _number(c.get("pull_request_url") if review else c.get("issue_url"))
                occurred = parse_time(c["created_at"])
                if window is not None and not window.contains(occurred):
                    continue
                records.append(
                    ActivityRecord(
                        item_key=f"{repo}#{number}/{'review_comment' if review else 'comment'}/"
                        f"{c['id']}",
                        kind=kind,
                        occurred_at=occurred,
                        actor=_user(c.get("user")) or GHOST,
                        channel=repo,
                        target=number,
                        parent=f"{repo}#{number}",
                        contribution_type="review" if review else None,
                        attributes={
                            "number": int(number) if number else None,
                            "author": (c.get("user") or {}).get("login"),
                            "author_type": (c.get("user") or {}).get("type"),
                            "author_association": c.get("author_association"),
                            "created_at": c.get("created_at"),
                            "in_reply_to": c.get("in_reply_to_id"),
                            "path": c.get("path"),
                        },
                    )
                )
            if records:
                yield Upsert(records)
            if items:
                yield _Mark(str(items[-1]["updated_at"]))

    # -- stars and forks: listed oldest first, no since ------------------------------------------

    def _read_stars(
        self, http: HttpClient, repo: str, mark: dict[str, Any] | None, window: Window | None
    ) -> Iterator[Change | _Mark]:
        yield from self._oldest_first(http, repo, mark, window, stars=True)

    def _read_forks(
        self, http: HttpClient, repo: str, mark: dict[str, Any] | None, window: Window | None
    ) -> Iterator[Change | _Mark]:
        yield from self._oldest_first(http, repo, mark, window, stars=False)

    def _oldest_first(
        self,
        http: HttpClient,
        repo: str,
        mark: dict[str, Any] | None,
        window: Window | None,
        *,
        stars: bool,
    ) -> Iterator[Change | _Mark]:
        # Resume at the page that held the last item read (new items are appended at the end);
        # on that page only, what came before the last item read is skipped. Later pages are
        # taken whole: their order is the list's, and a date there can be older (a re-star keeps
        # its place in some listings). Re-read items are dropped by their uid anyway.
        page_no = 1 if window is not None or not mark else int(mark.get("page", 1))
        after = None if window is not None or not mark else mark.get("at")
        if stars:
            path, headers, extra = f"/repos/{repo}/stargazers", {"Accept": STAR_MEDIA}, {}
        else:
            path, headers, extra = f"/repos/{repo}/forks", {}, {"sort": "oldest"}
        while True:
            page = http.get(path, {**extra, "per_page": PER_PAGE, "page": page_no}, headers=headers)
            items = page.json()
            records = []
            for it in items:
                at = str(it["starred_at"] if stars else it["created_at"])
                if after is not None and at < after:
                    continue
                when = parse_time(at)
                if window is not None and not window.contains(when):
                    continue
                if stars:
                    who = _user(it.get("user")) or GHOST
                    records.append(
                        ActivityRecord(
                            item_key=f"{repo}/star/{who.value}",
                            kind="github:star",
                            discriminator=at,  # starred again after an unstar: another star
                            occurred_at=when,
                            actor=who,
                            channel=repo,
                        )
                    )
                else:
                    who = _user(it.get("owner")) or GHOST
                    records.append(
                        ActivityRecord(
                            item_key=f"{repo}/fork/{it['full_name']}",
                            kind="github:fork",
                            occurred_at=when,
                            actor=who,
                            channel=repo,
                            target=str(it["full_name"]),
                            attributes={"fork": it["full_name"]},
                        )
                    )
            if records:
                yield Upsert(records)
            if items:
                last = str(items[-1]["starred_at"] if stars else items[-1]["created_at"])
                yield _Mark({"page": page_no, "at": last})
            if not items or "next" not in page.links:
                return
            page_no += 1
            after = None

    # -- repository counters and releases -------------------------------------------------------

    def _read_repos(
        self, http: HttpClient, repo: str, mark: dict[str, Any] | None, window: Window | None
    ) -> Iterator[Change | _Mark]:
        if window is not None:  # a counter read now says nothing about the past
            return
        etag = (mark or {}).get("etag")
        response = http.get(f"/repos/{repo}", etag=etag)
        if response.not_modified and mark:
            counters = dict(mark["counters"])
        else:
            data = response.json()
            counters = {
                "watchers": int(data.get("subscribers_count") or 0),
                "stars": int(data.get("stargazers_count") or 0),
                "forks": int(data.get("forks_count") or 0),
                "open_issues": int(data.get("open_issues_count") or 0),
            }
            etag = response.etag
        now = utcnow().replace(microsecond=0)
        yield Observe(
            [
                Observation(f"github:{repo}:{name}", now, value, attributes={"repo": repo})
                for name, value in counters.items()
            ]
        )
        yield _Mark({"etag": etag, "counters": counters})

    def _read_releases(
        self, http: HttpClient, repo: str, mark: Any, window: Window | None
    ) -> Iterator[Change | _Mark]:
        now = utcnow().replace(microsecond=0)
        for page in http.paginate(f"/repos/{repo}/releases", {"per_page": PER_PAGE}):
            records: list[ActivityRecord] = []
            observations: list[Observation] = []
            for rel in page.json():
                if rel.get("draft") or not rel.get("published_at"):
                    continue
                when = parse_time(rel["published_at"])
                tag = str(rel.get("tag_name") or rel["id"])
                if window is None or window.contains(when):
                    records.append(
                        ActivityRecord(
                            item_key=f"{repo}/release/{rel['id']}",
                            kind="github:release_published",
                            occurred_at=when,
                            actor=_user(rel.get("author")) or GHOST,
                            channel=repo,
                            target=tag,
                            title=rel.get("name") or tag,
                            contribution_type="maintenance",
                            attributes={"tag": tag, "prerelease": bool(rel.get("prerelease"))},
                        )
                    )
                if window is None:
                    observations += [
                        Observation(
                            f"github:{repo}:downloads:{tag}/{asset['name']}",
                            now,
                            int(asset.get("download_count") or 0),
                            attributes={"repo": repo, "tag": tag, "asset": asset["name"]},
                        )
                        for asset in rel.get("assets") or []
                    ]
            if records:
                yield Upsert(records)
            if observations:
                yield Observe(observations)
        yield _Mark({"read_at": format_time(now)})

    # -- discussions (GraphQL) ------------------------------------------------------------------

    def _read_discussions(
        self, http: HttpClient, repo: str, mark: Any, window: Window | None
    ) -> Iterator[Change | _Mark]:
        # Newest first, down to the last update time read: GraphQL has no ``since`` for
        # discussions. Items are stored page by page; the cursor moves once, at the end.
        since = None if window is not None else (mark or {}).get("since")
        if window is not None and window.since is not None:
            since = format_time(window.since)
        owner, name = repo.split("/")
        newest: str | None = None
        after: str | None = None
        while True:
            data = graphql(
                http,
                graphql_url(str(self.source.options.get("api_url") or DEFAULT_API)),
                DISCUSSIONS_QUERY,
                {"owner": owner, "name": name, "after": after},
                self.source.name,
            )
            repository = data.get("repository") or {}
            if not repository.get("hasDiscussionsEnabled"):
                return
            conn = repository["discussions"]
            records: list[ActivityRecord] = []
            done = False
            for node in conn["nodes"]:
                if since is not None and str(node["updatedAt"]) < since:
                    done = True
                    break
                newest = newest or str(node["updatedAt"])
                records += _discussion(repo, node)
            if window is not None:
                records = [r for r in records if window.contains(r.occurred_at)]
            if records:
                yield Upsert(records)
            info = conn["pageInfo"]
            if done or not info.get("hasNextPage"):
                break
            after = info["endCursor"]
        if newest is not None or mark:
            yield _Mark({"since": newest or (mark or {}).get("since")})


DISCUSSIONS_QUERY = """
query($owner: String!, $name: String!, $after: String) {
  repository(owner: $owner, name: $name) {
    hasDiscussionsEnabled
    discussions(first: 50, after: $after, orderBy: {field: UPDATED_AT, direction: DESC}) {
      pageInfo { hasNextPage endCursor }
      nodes {
        id number title createdAt updatedAt
        author { login }
        category { name isAnswerable }
        answer { id }
        answerChosenAt
        answerChosenBy { login }
        comments(first: 100) {
          nodes { id createdAt isAnswer author { login } }
        }
      }
    }
  }
}
"""


def graphql_url(api_url: str) -> str:
    """``https://api.github.com/graphql``; GitHub Enterprise: ``https://HOST/api/graphql``."""
    api_url = api_url.rstrip("/")
    if api_url.endswith("/api/v3"):
        return api_url[: -len("/v3")] + "/graphql"
    return api_url + "/graphql"


def graphql(
    http: HttpClient, url: str, query: str, variables: dict[str, Any], source: str
) -> dict[str, Any]:
    """One GraphQL query, sent as a POST with the shared client's retries and rate-limit
    handling (``HttpClient.post``)."""
    response = http.post_json(url, {"query": query, "variables": variables})
    body = response.json()
    if body.get("errors"):
        detail = "; ".join(str(e.get("message")) for e in body["errors"])
        raise HttpError(f"source {source!r}: {response.url}: GraphQL error: {detail}", url=url)
    return dict(body.get("data") or {})


def _discussion(repo: str, node: dict[str, Any]) -> list[ActivityRecord]:
    number = int(node["number"])
    key = f"{repo}/discussion/{number}"
    author = _user(node.get("author")) or GHOST
    category = node.get("category") or {}
    answerable = bool(category.get("isAnswerable"))
    common: dict[str, Any] = {
        "channel": repo,
        "target": f"discussion/{number}",
        "title": node.get("title"),
    }
    attrs = {"number": number, "category": category.get("name"), "author": author.value}
    records = [
        ActivityRecord(
            item_key=key,
            kind="github:question" if answerable else "github:discussion_opened",
            discriminator="opened",
            occurred_at=parse_time(node["createdAt"]),
            actor=author,
            contribution_type="question" if answerable else None,
            attributes={**attrs, "answered": bool(node.get("answer"))},
            **common,
        )
    ]
    answer_id = (node.get("answer") or {}).get("id")
    answerer: IdentityRef | None = None
    for c in (node.get("comments") or {}).get("nodes") or []:
        who = _user(c.get("author")) or GHOST
        accepted = bool(c.get("isAnswer")) or c.get("id") == answer_id
        if accepted:
            answerer = who
        records.append(
            ActivityRecord(
                item_key=f"{key}/comment/{c['id']}",
                kind="github:answer" if answerable else "github:discussion_comment",
                occurred_at=parse_time(c["createdAt"]),
                actor=who,
                object=author,
                parent=key,
                contribution_type="answer" if answerable else None,
                attributes={**attrs, "accepted": accepted},
                **common,
            )
        )
    if node.get("answerChosenAt"):
        records.append(
            ActivityRecord(
                item_key=key,
                kind="github:answer_accepted",
                discriminator=f"accepted:{answer_id}",
                occurred_at=parse_time(node["answerChosenAt"]),
                actor=_user(node.get("answerChosenBy")) or GHOST,
                object=answerer,
                parent=key,
                attributes={**attrs, "answer_id": answer_id},
                **common,
            )
        )
    return records


class _Mark:
    """A per-repository checkpoint inside one stream; ``read`` turns it into a ``Cursor``."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


__all__ = ["GitHubConnector", "parse_location", "parse_time"]
