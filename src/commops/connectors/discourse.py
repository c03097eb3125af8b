"""Discourse forums: topics, posts, who replied to whom, accepted solutions (the Solved plugin)
and like counts, for a whole forum or some of its categories.

Reading, in one stream ``topics``:

* the topic list, ``/latest.json?order=activity&page=N`` (or ``/c/{slug}/{id}.json?page=N`` per
  category), newest activity first, until a topic (pinned ones aside) was bumped before the
  cursor; the list pages are cheap and hold only summaries;
* the topics found, oldest activity first: ``/t/{id}.json`` (the first posts and the ids of
  all of them, ``post_stream.stream``), then ``/t/{id}/posts.json?post_ids[]=...`` for the rest,
  20 at a time.

A ``Cursor`` follows every 30 topics read; its value is, per list (``latest`` or the category),
the ``bumped_at`` of the last topic read: an inclusive lower bound, so the topic at the boundary
is read again and its activities are dropped by their uid. ``/categories.json`` names the
categories once per run (the channel of every activity is the category's slug).

Activities: ``discourse:topic_created`` (the first post), ``discourse:post`` (every other post;
object = the author of the post replied to, or the topic's author), ``discourse:solution`` (the
accepted answer's author; object = the asker). Who liked a post is not read (one request per
post); each post keeps its like count in ``attributes["likes"]``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from commops.connectors._forge import format_time, parse_time
from commops.connectors.base import (
    ActivityRecord,
    Change,
    Connector,
    Cursor,
    IdentityRef,
    Status,
    SyncContext,
    Upsert,
    Window,
)
from commops.connectors.http import HttpClient, HttpError
from commops.errors import SourceError

PLATFORM = "discourse"
TOKEN_ENV = "DISCOURSE_API_KEY"
CHUNK = 20  # post ids per /t/{id}/posts.json request
BATCH = 30  # topics per checkpoint
LIKE = 2  # the post action type of a like
REGULAR = 1  # post_type of an ordinary post (2 moderator action, 3 small action, 4 whisper)


def _when(topic: dict[str, Any]) -> str | None:
    value = topic.get("bumped_at") or topic.get("last_posted_at") or topic.get("created_at")
    return format_time(parse_time(str(value))) if value else None


class DiscourseConnector(Connector):
    """Options: ``categories`` (slugs, ids or ``slug/id``: only these categories),
    ``qa_categories`` (categories whose topics are questions even without an accepted answer),
    ``api_username`` and ``token_env`` (the environment variable with the API key,
    ``DISCOURSE_API_KEY`` by default, then commops.toml ``[tokens] discourse``)."""

    kind = "discourse"
    streams = ("topics",)

    def __init__(self, source: Any) -> None:
        super().__init__(source)
        self._http: HttpClient | None = None
        self._categories: dict[int, dict[str, Any]] | None = None

    @classmethod
    def prepare(cls, location: str, options: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
        url = location.strip().rstrip("/")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SourceError(
                f"discourse location {location!r} is not an http(s) URL",
                hint="Use `commops add discourse https://forum.example.org`.",
            )
        prepared: dict[str, Any] = {}
        for key in ("categories", "qa_categories"):
            values = [str(v).strip() for v in options.get(key) or [] if str(v).strip()]
            if values:
                prepared[key] = values
        for key in ("api_username", "token_env"):
            if options.get(key):
                prepared[key] = str(options[key])
        return parts.netloc, url, prepared

    # -- plumbing -------------------------------------------------------------------------------

    def _client(self, ctx: SyncContext) -> HttpClient:
        if self._http is None:
            options = self.source.options
            key = ctx.secret(str(options.get("token_env") or TOKEN_ENV), "discourse")
            # Api-Username is needed with an API key only; "system" is Discourse's own account.
            username = str(options.get("api_username") or "system")
            headers = {"Api-Username": username} if key else {}
            self._http = ctx.http(
                self.source.location,
                token=key,
                auth_header="Api-Key",
                auth_scheme="",
                headers=headers,
            )
        return self._http

    def _category_map(self, http: HttpClient) -> dict[int, dict[str, Any]]:
        if self._categories is None:
            data = http.get_json("/categories.json", {"include_subcategories": "true"})
            found: dict[int, dict[str, Any]] = {}
            for cat in (data.get("category_list") or {}).get("categories") or []:
                found[int(cat["id"])] = cat
                for sub in cat.get("subcategory_list") or []:
                    found[int(sub["id"])] = sub
            self._categories = found
        return self._categories

    def _lists(self, http: HttpClient) -> list[tuple[str, str]]:
        """(cursor key, list path) for each topic list to read."""
        wanted = self.source.options.get("categories") or []
        if not wanted:
            return [("latest", "/latest.json")]
        cats = self._category_map(http)
        lists = []
        for name in wanted:
            match = next(
                (
                    c
                    for c in cats.values()
                    if name in (str(c["id"]), str(c.get("slug")), f"{c.get('slug')}/{c['id']}")
                ),
                None,
            )
            if match is None:
                known = ", ".join(sorted(str(c.get("slug")) for c in cats.values()))
                raise SourceError(
                    f"source {self.source.name!r}: category {name!r} is not on "
                    f"{self.source.location} (categories: {known})"
                )
            key = f"c/{match.get('slug')}/{match['id']}"
            lists.append((key, f"/{key}.json"))
        return lists

    def read(self, stream: str, cursor: dict[str, Any], ctx: SyncContext) -> Iterator[Change]:
        http = self._client(ctx)
        cats = self._category_map(http)
        state = dict(cursor)
        yield Status({"categories": len(cats), "likes": "counts only"})
        for key, path in self._lists(http):
            window = ctx.window
            lower = format_time(window.since) if window and window.since else state.get(key)
            topics = self._changed_topics(http, path, lower)
            ctx.progress(total=len(topics), note=f"{key}: {len(topics)} topics")
            for start in range(0, len(topics), BATCH):
                batch = topics[start : start + BATCH]
                records: list[ActivityRecord] = []
                for topic_id, _ in batch:
                    try:
                        records += self._topic(http, topic_id, cats, window)
                    except HttpError as exc:
                        # deleted or made private between the list and the read
                        if exc.status not in (403, 404):
                            raise
                        ctx.warn(exc.message)
                    ctx.progress(advance=1)
                if records:
                    yield Upsert(records)
                state[key] = batch[-1][1]
                yield Cursor(stream, dict(state))
        yield Cursor(stream, dict(state))

    def _changed_topics(
        self, http: HttpClient, path: str, lower: str | None
    ) -> list[tuple[int, str]]:
        """Topics with activity at or after ``lower``, oldest first, as (id, bumped_at)."""
        found: dict[int, str] = {}
        page = 0
        while True:
            data = http.get_json(path, {"order": "activity", "page": page})
            listing = data.get("topic_list") or {}
            topics = listing.get("topics") or []
            older = False
            for topic in topics:
                when = _when(topic)
                if when is None:
                    continue
                if lower is not None and when < lower:
                    if not (topic.get("pinned") or topic.get("pinned_globally")):
                        older = True
                    continue
                found.setdefault(int(topic["id"]), when)
            if older or not topics or not listing.get("more_topics_url"):
                break
            page += 1
        return sorted(found.items(), key=lambda item: (item[1], item[0]))

    # -- a topic and its posts ------------------------------------------------------------------

    def _posts(self, http: HttpClient, topic_id: int) -> tuple[dict[str, Any], list[Any]]:
        topic = http.get_json(f"/t/{topic_id}.json")
        stream_ = topic.get("post_stream") or {}
        posts = {int(p["id"]): p for p in stream_.get("posts") or []}
        ids = [int(i) for i in stream_.get("stream") or []]
        # a topic view holds the first posts; the rest are fetched by id
        missing = [i for i in ids if i not in posts] if len(ids) > len(posts) else []
        for start in range(0, len(missing), CHUNK):
            ids = missing[start : start + CHUNK]
            more = http.get_json(f"/t/{topic_id}/posts.json", {"post_ids[]": ids})
            for post in (more.get("post_stream") or {}).get("posts") or []:
                posts[int(post["id"])] = post
        return topic, sorted(posts.values(), key=lambda p: int(p["post_number"]))

    def _topic(
        self,
        http: HttpClient,
        topic_id: int,
        cats: dict[int, dict[str, Any]],
        window: Window | None,
    ) -> list[ActivityRecord]:
        topic, posts = self._posts(http, topic_id)
        category = cats.get(int(topic.get("category_id") or 0)) or {}
        channel = str(category.get("slug") or topic.get("category_id") or "") or None
        by_number = {int(p["post_number"]): p for p in posts}
        first = by_number.get(1)
        created_by = (topic.get("details") or {}).get("created_by") or {}
        asker_name = str((first or {}).get("username") or created_by.get("username") or "")
        if not asker_name:
            return []
        asker = IdentityRef(PLATFORM, "username", asker_name, name=(first or {}).get("name"))
        accepted = topic.get("accepted_answer") or {}
        solved_number = accepted.get("post_number") if isinstance(accepted, dict) else None
        if solved_number is None:
            solved_number = next(
                (p["post_number"] for p in posts if p.get("accepted_answer") is True), None
            )
        qa = {str(v) for v in self.source.options.get("qa_categories") or []}
        question = (
            solved_number is not None
            or bool(topic.get("has_accepted_answer"))
            or bool(qa & {str(category.get("slug")), str(topic.get("category_id"))})
        )
        title = str(topic.get("title") or "")
        common: dict[str, Any] = {"channel": channel, "target": str(topic_id), "title": title}
        records: list[ActivityRecord] = []
        for post in posts:
            if post.get("post_type", REGULAR) != REGULAR or post.get("deleted_at"):
                continue
            if not post.get("username"):
                continue
            number = int(post["post_number"])
            actor = IdentityRef(PLATFORM, "username", str(post["username"]), name=post.get("name"))
            likes = sum(
                int(a.get("count") or 0)
                for a in post.get("actions_summary") or []
                if a.get("id") == LIKE
            )
            reply_to = post.get("reply_to_post_number")
            replied = by_number.get(int(reply_to)) if reply_to else None
            attrs: dict[str, Any] = {
                "topic_id": topic_id,
                "post_id": post["id"],
                "post_number": number,
                "reply_to_post_number": reply_to,
                "likes": likes,
                "category_id": topic.get("category_id"),
                "accepted_answer": number == solved_number,
            }
            when = parse_time(str(post["created_at"]))
            if number == 1:
                record = ActivityRecord(
                    item_key=f"{topic_id}/{post['id']}",
                    kind="discourse:topic_created",
                    occurred_at=when,
                    actor=actor,
                    contribution_type="question" if question else "forum",
                    attributes={
                        **attrs,
                        "tags": topic.get("tags") or [],
                        "views": topic.get("views"),
                    },
                    **common,
                )
            else:
                other = replied.get("username") if replied else None
                obj = IdentityRef(PLATFORM, "username", str(other)) if other else asker
                record = ActivityRecord(
                    item_key=f"{topic_id}/{post['id']}",
                    kind="discourse:post",
                    occurred_at=when,
                    actor=actor,
                    object=obj,
                    parent=str(topic_id),
                    contribution_type="answer" if question and actor != asker else "forum",
                    attributes=attrs,
                    **common,
                )
            records.append(record)
            if number == solved_number and number != 1:
                records.append(
                    ActivityRecord(
                        item_key=f"{topic_id}/solution",
                        kind="discourse:solution",
                        discriminator=str(post["id"]),  # another answer accepted later
                        occurred_at=when,
                        actor=actor,
                        object=asker,
                        parent=str(topic_id),
                        contribution_type="answer",
                        attributes=attrs,
                        **common,
                    )
                )
        if window is not None:
            records = [r for r in records if window.contains(r.occurred_at)]
        return records


__all__ = ["DiscourseConnector"]
