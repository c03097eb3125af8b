"""Gitee (API v5): issues, pull requests, their comments, stars, forks, watchers, releases and
repository counters, for an owner (all its repositories) or a list of repositories.

Gitee answers like GitHub's REST v3 in most places, with these differences that shape the reading:

* pages are numbered (``page``, ``per_page``) and the totals come in ``total_count`` /
  ``total_page`` headers rather than ``Link`` headers; both are followed, and with neither a page
  shorter than ``per_page`` is the last;
* the token goes in the ``access_token`` query parameter (redacted from every message);
* issue numbers are strings (``I1DACG``) and issues and pull requests have separate lists;
* the merger of a pull request is found in its operation log (``/pulls/{n}/operate_logs``,
  ``action_type == "merged_pr"``); the closer of an issue is not offered, so issue closings are
  recorded with the ``ghost`` identity and the assignee in the attributes.

Incremental reading, per repository and stream:

* ``issues``: ``/repos/{o}/{r}/issues?state=all&sort=updated&direction=asc&since=<cursor>``; the
  comments of the issues on each page (``/issues/{n}/comments``) are read with them.
* ``pulls``: ``/repos/{o}/{r}/pulls?state=all&sort=updated&direction=asc``; items updated before
  the cursor are skipped (Gitee may ignore ``since`` here), with ``/pulls/{n}/comments``.
* ``stars``, ``forks``, ``watchers``, ``releases``: read in full at each sync (these lists are
  short on Gitee); already stored items are dropped by their uid.
* ``repos``: ``GET /repos/{o}/{r}`` counters (stars, forks, watchers, open issues) as observations.

For an owner's repositories, a list that answers 404 (issues or pull requests turned off on a
mirror) is reported as a warning and skipped; for named repositories it stops the sync.

Cursors hold, per repository, the ``updated_at`` of the last item of the last complete page: an
inclusive lower bound; the items at the boundary are read again and dropped by their uid.
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
from commops.connectors.http import HttpClient, HttpError, Response
from commops.errors import SourceError

PLATFORM = "gitee"
DEFAULT_API = "https://gitee.com/api/v5"
TOKEN_ENV = "GITEE_TOKEN"
PER_PAGE = 100

_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,99})"
_OWNER = re.compile(rf"^{_NAME}$")
_REPO = re.compile(rf"^{_NAME}/{_NAME}$")
_IDEA_LABELS = frozenset({"enhancement", "feature", "feature request", "kind/feature", "idea"})
GHOST = IdentityRef(PLATFORM, "username", "ghost")  # someone Gitee does not name


def _user(data: Any) -> IdentityRef | None:
    if not isinstance(data, dict) or not data.get("login"):
        return None
    name = data.get("name")
    return IdentityRef(PLATFORM, "username", str(data["login"]), name=str(name) if name else None)


def parse_location(location: str) -> tuple[str | None, list[str]]:
    """``OWNER`` (every repository of the organisation or user) or ``OWNER/REPO[,...]``."""
    return _parse_location("gitee", location)


class GiteeConnector(Connector):
    """Reads the streams named in the module docstring. Options: ``api_url`` (another Gitee
    deployment, or a test server), ``token_env`` (the environment variable holding the token;
    ``GITEE_TOKEN`` by default, then commops.toml ``[tokens] gitee``)."""

    kind = "gitee"
    streams = ("repos", "issues", "pulls", "stars", "forks", "watchers", "releases")

    def __init__(self, source: Any) -> None:
        super().__init__(source)
        self._http: HttpClient | None = None
        self._repos: list[str] | None = None

    @classmethod
    def prepare(cls, location: str, options: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
        return prepare_forge(
            "gitee",
            location,
            options,
            default_api=DEFAULT_API,
            api_hint="Example: --api-url https://gitee.com/api/v5",
            name_prefix="gitee-",
        )

    # -- plumbing -------------------------------------------------------------------------------

    def _client(self, ctx: SyncContext) -> HttpClient:
        if self._http is None:
            options = self.source.options
            token = ctx.secret(str(options.get("token_env") or TOKEN_ENV), "gitee")
            # Gitee takes the token as ?access_token=; the client hides it in every message.
            self._http = ctx.http(
                str(options.get("api_url") or DEFAULT_API),
                token=token,
                token_param="access_token",
            )
        return self._http

    def _get(self, http: HttpClient, path: str, params: dict[str, Any] | None = None) -> Response:
        return http.get(path, params)

    def _pages(
        self, http: HttpClient, path: str, params: dict[str, Any] | None = None
    ) -> Iterator[list[Any]]:
        """Every page of a list: ``Link`` rel=next when the server sends it, else the
        ``total_page`` header, else until a page shorter than ``per_page``."""
        page_no = 1
        while True:
            response = self._get(
                http, path, {**(params or {}), "per_page": PER_PAGE, "page": page_no}
            )
            items = response.json()
            if not isinstance(items, list):
                raise SourceError(
                    f"source {self.source.name!r}: {response.url}: expected a JSON list, got "
                    f"{type(items).__name__}"
                )
            yield items
            total = response.headers.get("total_page")
            if "next" in response.links:
                more = True
            elif total is not None and total.strip().isdigit():
                more = page_no < int(total)
            else:
                more = len(items) >= PER_PAGE
            if not items or not more:
                return
            page_no += 1

    def _repo_list(self, http: HttpClient) -> list[str]:
        if self._repos is None:
            owner, repos = parse_location(self.source.location)
            if owner is not None:
                try:
                    repos = self._owner_repos(http, f"/orgs/{owner}/repos")
                except HttpError as exc:
                    if exc.status != 404:
                        raise
                    repos = self._owner_repos(http, f"/users/{owner}/repos")
            self._repos = repos
        return self._repos

    def _owner_repos(self, http: HttpClient, path: str) -> list[str]:
        return [str(r["full_name"]) for page in self._pages(http, path) for r in page]

    def read(self, stream: str, cursor: dict[str, Any], ctx: SyncContext) -> Iterator[Change]:
        http = self._client(ctx)
        repos = self._repo_list(http)
        owner_wide = parse_location(self.source.location)[0] is not None
        state = dict(cursor)
        if stream == "repos":
            yield Status({"repositories": len(repos), "issue closer": "not offered by Gitee"})
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
                # Mirrors often turn issues or pull requests off, and Gitee answers 404 for
                # that list: the other repositories and streams are still read.
                if exc.status != 404 or not owner_wide:
                    raise
                ctx.warn(exc.message)
        yield Cursor(stream, dict(state))

    # -- issues ---------------------------------------------------------------------------------

    def _read_issues(
        self, http: HttpClient, repo: str, since: str | None, window: Window | None
    ) -> Iterator[Change | _Mark]:
        params: dict[str, Any] = {"state": "all", "sort": "updated", "direction": "asc"}
        lower = format_time(window.since) if window and window.since else since
        if lower:
            params["since"] = lower
        for items in self._pages(http, f"/repos/{repo}/issues", params):
            records: list[ActivityRecord] = []
            for item in items:
                records += self._issue(http, repo, item)
            if window is not None:
                records = [r for r in records if window.contains(r.occurred_at)]
            if records:
                yield Upsert(records)
            if items:
                yield _Mark(format_time(parse_time(str(items[-1]["updated_at"]))))

    def _issue(self, http: HttpClient, repo: str, item: dict[str, Any]) -> list[ActivityRecord]:
        number = str(item["number"])
        key = f"{repo}#{number}"
        author = _user(item.get("user")) or GHOST
        labels = [str(lb["name"]) for lb in item.get("labels") or [] if isinstance(lb, dict)]
        attrs: dict[str, Any] = {
            "number": number,
            "author": author.value,
            "labels": labels,
            "state": item.get("state"),
            "issue_type": item.get("issue_type"),
            "created_at": item.get("created_at"),
            "finished_at": item.get("finished_at"),
            "comments": item.get("comments"),
            "assignee": (item.get("assignee") or {}).get("login"),
        }
        common: dict[str, Any] = {"channel": repo, "target": number, "title": item.get("title")}
        ideas = any(label.lower() in _IDEA_LABELS for label in labels)
        records = [
            ActivityRecord(
                item_key=key,
                kind="gitee:issue_opened",
                discriminator="opened",
                occurred_at=parse_time(str(item["created_at"])),
                actor=author,
                contribution_type="ideas" if ideas else "bug",
                attributes=attrs,
                **common,
            )
        ]
        finished = item.get("finished_at")
        if finished and item.get("state") in ("closed", "rejected"):
            records.append(
                ActivityRecord(
                    item_key=key,
                    kind="gitee:issue_closed",
                    discriminator=f"closed:{finished}",
                    occurred_at=parse_time(str(finished)),
                    actor=GHOST,
                    object=author,
                    attributes=attrs,
                    **common,
                )
            )
        if int(item.get("comments") or 0) > 0:
            path = f"/repos/{repo}/issues/{number}/comments"
            records += self._comments(http, path, repo, number, "gitee:issue_comment", None)
        return records

    def _comments(
        self,
        http: HttpClient,
        path: str,
        repo: str,
        number: str,
        kind: str,
        contribution: str | None,
    ) -> list[ActivityRecord]:
        records = []
        for page in self._pages(http, path):
            for c in page:
                who = _user(c.get("user")) or GHOST
                records.append(
                    ActivityRecord(
                        item_key=f"{repo}#{number}/comment/{c['id']}",
                        kind=kind,
                        occurred_at=parse_time(str(c["created_at"])),
                        actor=who,
                        channel=repo,
                        target=number,
                        parent=f"{repo}#{number}",
                        contribution_type=contribution,
                        attributes={
                            "number": number,
                            "author": who.value,
                            "created_at": c.get("created_at"),
                            "in_reply_to": c.get("in_reply_to_id"),
                            "path": c.get("path"),
                        },
                    )
                )
        return records

    # -- pull requests --------------------------------------------------------------------------

    def _read_pulls(
        self, http: HttpClient, repo: str, since: str | None, window: Window | None
    ) -> Iterator[Change | _Mark]:
        params: dict[str, Any] = {"state": "all", "sort": "updated", "direction": "asc"}
        lower = format_time(window.since) if window and window.since else since
        if lower:
            params["since"] = lower
        bound = parse_time(lower) if lower else None
        for items in self._pages(http, f"/repos/{repo}/pulls", params):
            records: list[ActivityRecord] = []
            for pr in items:
                if bound is not None and parse_time(str(pr["updated_at"])) < bound:
                    continue
                records += self._pull(http, repo, pr)
            if window is not None:
                records = [r for r in records if window.contains(r.occurred_at)]
            if records:
                yield Upsert(records)
            if items:
                last = format_time(parse_time(str(items[-1]["updated_at"])))
                yield _Mark(max(last, since) if since and window is None else last)

    def _pull(self, http: HttpClient, repo: str, pr: dict[str, Any]) -> list[ActivityRecord]:
        number = str(pr["number"])
        key = f"{repo}!{number}"
        author = _user(pr.get("user")) or GHOST
        labels = [str(lb["name"]) for lb in pr.get("labels") or [] if isinstance(lb, dict)]
        merged_at = pr.get("merged_at")
        closed_at = pr.get("closed_at")
        attrs: dict[str, Any] = {
            "number": int(number),
            "author": author.value,
            "labels": labels,
            "state": pr.get("state"),
            "created_at": pr.get("created_at"),
            "closed_at": closed_at,
            "merged_at": merged_at,
            "assignees": [a.get("login") for a in pr.get("assignees") or []],
        }
        common: dict[str, Any] = {"channel": repo, "target": number, "title": pr.get("title")}
        records = [
            ActivityRecord(
                item_key=key,
                kind="gitee:pr_opened",
                discriminator="opened",
                occurred_at=parse_time(str(pr["created_at"])),
                actor=author,
                contribution_type="code",
                attributes=attrs,
                **common,
            )
        ]
        if merged_at or closed_at:
            merged = bool(merged_at)
            actor = self._closer(http, repo, number, "merged_pr" if merged else "closed_pr")
            attrs["merged_by" if merged else "closed_by"] = actor.value if actor else None
            when = str(merged_at or closed_at)
            records.append(
                ActivityRecord(
                    item_key=key,
                    kind="gitee:pr_merged" if merged else "gitee:pr_closed",
                    discriminator="merged" if merged else f"closed:{when}",
                    occurred_at=parse_time(when),
                    actor=actor or GHOST,
                    object=author,
                    contribution_type="maintenance" if merged else None,
                    attributes=attrs,
                    **common,
                )
            )
        path = f"/repos/{repo}/pulls/{number}/comments"
        for rec in self._comments(http, path, repo, number, "gitee:pr_comment", "review"):
            rec.item_key = f"{repo}!{number}/comment/{rec.item_key.rsplit('/', 1)[1]}"
            rec.parent = key
            rec.object = author
            records.append(rec)
        return records

    def _closer(self, http: HttpClient, repo: str, number: str, action: str) -> IdentityRef | None:
        try:
            logs = self._get(http, f"/repos/{repo}/pulls/{number}/operate_logs").json()
        except HttpError as exc:
            if exc.status == 404:
                return None
            raise
        for log in logs if isinstance(logs, list) else []:
            if log.get("action_type") == action:
                return _user(log.get("user"))
        return None

    # -- stars, forks, watchers, releases: short lists read in full -----------------------------

    def _people(
        self,
        http: HttpClient,
        repo: str,
        window: Window | None,
        *,
        path: str,
        kind: str,
        at_key: str,
    ) -> Iterator[Change | _Mark]:
        for items in self._pages(http, path):
            records = []
            for it in items:
                who = _user(it)
                at = it.get(at_key)
                if who is None or not at:
                    continue
                when = parse_time(str(at))
                if window is not None and not window.contains(when):
                    continue
                records.append(
                    ActivityRecord(
                        item_key=f"{repo}/{kind.split(':')[1]}/{who.value}",
                        kind=kind,
                        discriminator=format_time(when),  # starred again after an unstar
                        occurred_at=when,
                        actor=who,
                        channel=repo,
                    )
                )
            if records:
                yield Upsert(records)
        yield _Mark({"read_at": format_time(utcnow())})

    def _read_stars(
        self, http: HttpClient, repo: str, mark: Any, window: Window | None
    ) -> Iterator[Change | _Mark]:
        path = f"/repos/{repo}/stargazers"
        yield from self._people(http, repo, window, path=path, kind="gitee:star", at_key="star_at")

    def _read_watchers(
        self, http: HttpClient, repo: str, mark: Any, window: Window | None
    ) -> Iterator[Change | _Mark]:
        path = f"/repos/{repo}/subscribers"
        yield from self._people(
            http, repo, window, path=path, kind="gitee:watch", at_key="watch_at"
        )

    def _read_forks(
        self, http: HttpClient, repo: str, mark: Any, window: Window | None
    ) -> Iterator[Change | _Mark]:
        for items in self._pages(http, f"/repos/{repo}/forks", {"sort": "oldest"}):
            records = []
            for it in items:
                when = parse_time(str(it["created_at"]))
                if window is not None and not window.contains(when):
                    continue
                records.append(
                    ActivityRecord(
                        item_key=f"{repo}/fork/{it['full_name']}",
                        kind="gitee:fork",
                        occurred_at=when,
                        actor=_user(it.get("owner")) or GHOST,
                        channel=repo,
                        target=str(it["full_name"]),
                        attributes={"fork": it["full_name"]},
                    )
                )
            if records:
                yield Upsert(records)
        yield _Mark({"read_at": format_time(utcnow())})

    def _read_releases(
        self, http: HttpClient, repo: str, mark: Any, window: Window | None
    ) -> Iterator[Change | _Mark]:
        for items in self._pages(http, f"/repos/{repo}/releases"):
            records = []
            for rel in items:
                if not rel.get("created_at"):
                    continue
                when = parse_time(str(rel["created_at"]))
                if window is not None and not window.contains(when):
                    continue
                tag = str(rel.get("tag_name") or rel["id"])
                records.append(
                    ActivityRecord(
                        item_key=f"{repo}/release/{rel['id']}",
                        kind="gitee:release_published",
                        occurred_at=when,
                        actor=_user(rel.get("author")) or GHOST,
                        channel=repo,
                        target=tag,
                        title=rel.get("name") or tag,
                        contribution_type="maintenance",
                        attributes={"tag": tag, "prerelease": bool(rel.get("prerelease"))},
                    )
                )
            if records:
                yield Upsert(records)
        yield _Mark({"read_at": format_time(utcnow())})

    def _read_repos(
        self, http: HttpClient, repo: str, mark: Any, window: Window | None
    ) -> Iterator[Change | _Mark]:
        if window is not None:  # a counter read now says nothing about the past
            return
        data = self._get(http, f"/repos/{repo}").json()
        counters = {
            "watchers": int(data.get("watchers_count") or 0),
            "stars": int(data.get("stargazers_count") or 0),
            "forks": int(data.get("forks_count") or 0),
            "open_issues": int(data.get("open_issues_count") or 0),
        }
        now = utcnow().replace(microsecond=0)
        yield Observe(
            [
                Observation(f"gitee:{repo}:{name}", now, value, attributes={"repo": repo})
                for name, value in counters.items()
            ]
        )
        yield _Mark({"read_at": format_time(now), "counters": counters})


class _Mark:
    """A per-repository checkpoint inside one stream; ``read`` turns it into a ``Cursor``."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


__all__ = ["GiteeConnector", "parse_location"]
