"""Perceval items: every source GrimoireLab's Perceval supports, as activities.

Perceval wraps each item it fetches in the same envelope (``backend_name``, ``category``,
``uuid``, ``origin``, ``updated_on``, ``data``); ``data`` is the raw object of the source. Items
come either from files (``commops import perceval FILE``: a JSON array, JSON Lines, or the
concatenated objects ``perceval BACKEND ... > items.json`` writes) or from Perceval itself
(``commops add perceval BACKEND ARGS``, run through its Python API at sync time; the optional
extra ``commops[perceval]``).

GitHub issues and pull requests, Discourse topics, Meetup events and Slack messages have their
own mappings; any other backend maps each item to one activity of kind
``perceval:<backend>:<category>``, acted by the best-known author field, at ``updated_on``.
The item key is Perceval's ``uuid`` (a hash of the origin and the item's id), so importing the
same items again adds nothing.
"""

from __future__ import annotations

import importlib
import inspect
import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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
)
from commops.errors import SourceError

STREAM = "items"
BATCH = 200
INSTALL_HINT = "Install Perceval: pip install 'commops[perceval]'"
_BACKEND = re.compile(r"^[a-z][a-z0-9_]*$")
_SECRET_ARGS = frozenset({"-t", "--api-token", "--password", "--api-key", "--token"})
_EMAIL = re.compile(r"^\s*\"?([^\"<]*?)\"?\s*<([^<>@\s]+@[^<>\s]+)>\s*$")

Mapper = Callable[[dict[str, Any], "Envelope"], list[ActivityRecord]]


class Envelope:
    """One Perceval item's envelope, checked."""

    def __init__(self, item: Any, where: str) -> None:
        if not isinstance(item, dict):
            raise SourceError(f"{where}: not a Perceval item (a JSON object)")
        missing = [k for k in ("backend_name", "uuid", "updated_on", "data") if k not in item]
        if missing:
            raise SourceError(f"{where}: not a Perceval item (no {', '.join(missing)})")
        if not isinstance(item["data"], dict):
            raise SourceError(f"{where}: the item's data is not an object")
        self.where = where
        self.backend = str(item["backend_name"])
        self.platform = self.backend.lower().removesuffix("ql")  # GitHubQL is GitHub too
        self.category = str(item.get("category") or _DEFAULT_CATEGORY.get(self.platform, "item"))
        self.uuid = str(item["uuid"])
        self.origin = str(item.get("origin") or "")
        self.updated_on = _epoch(item["updated_on"], where)
        self.data: dict[str, Any] = item["data"]

    def attributes(self, **extra: Any) -> dict[str, Any]:
        found = {"perceval_origin": self.origin, "perceval_category": self.category}
        found.update({k: v for k, v in extra.items() if v is not None})
        return found


_DEFAULT_CATEGORY = {"discourse": "topic", "meetup": "event", "slack": "message"}


def _epoch(value: Any, where: str) -> datetime:
    try:
        return datetime.fromtimestamp(float(value), UTC).replace(tzinfo=None)
    except (TypeError, ValueError, OverflowError):
        raise SourceError(f"{where}: updated_on {value!r} is not a timestamp") from None


def _iso(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        return None
    if when.tzinfo is None:
        return when
    return when.astimezone(UTC).replace(tzinfo=None)


def _ms(value: Any) -> datetime | None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    return datetime.fromtimestamp(value / 1000, UTC).replace(tzinfo=None)


# -- GitHub ------------------------------------------------------------------------------------


def _gh_user(user: Any, user_data: Any = None) -> IdentityRef | None:
    for candidate in (user, user_data):
        if isinstance(candidate, dict) and candidate.get("login"):
            name = user_data.get("name") if isinstance(user_data, dict) else None
            return IdentityRef("github", "username", str(candidate["login"]), name or None)
    return None


def _repo(origin: str) -> str | None:
    match = re.match(r"^https?://[^/]+/([^/]+/[^/]+?)(?:\.git)?/?$", origin)
    return match.group(1) if match else None


def _gh_comments(
    comments: Any,
    kind: str,
    env: Envelope,
    author: IdentityRef | None,
    channel: str | None,
    number: str,
    title: Any,
    contribution_type: str | None,
    attributes: Callable[[dict[str, Any]], dict[str, Any]],
) -> list[ActivityRecord]:
    """One activity per comment of an issue or pull request, replying to its author."""
    records = []
    for comment in comments or []:
        who = _gh_user(comment.get("user"), comment.get("user_data"))
        when = _iso(comment.get("created_at"))
        if who is None or when is None:
            continue
        records.append(
            ActivityRecord(
                env.uuid,
                kind,
                when,
                who,
                discriminator=str(comment.get("id")),
                object=author,
                channel=channel,
                target=number,
                title=title,
                contribution_type=contribution_type,
                attributes=attributes(comment),
            )
        )
    return records


def _github_issue(data: dict[str, Any], env: Envelope) -> list[ActivityRecord]:
    number = str(data.get("number", ""))
    channel = _repo(env.origin)
    records: list[ActivityRecord] = []
    is_pr = "pull_request" in data
    author = _gh_user(data.get("user"), data.get("user_data"))
    opened = _iso(data.get("created_at"))
    if not is_pr and author is not None and opened is not None:
        # Pull requests also appear as issues; their own items say when they were opened.
        records.append(
            ActivityRecord(
                env.uuid,
                "github:issue_opened",
                opened,
                author,
                channel=channel,
                target=number,
                title=data.get("title"),
                contribution_type="bug",
                attributes=env.attributes(state=data.get("state")),
            )
        )
    records += _gh_comments(
        data.get("comments_data"),
        "github:issue_comment",
        env,
        author,
        channel,
        number,
        data.get("title"),
        None,
        lambda c: env.attributes(pull_request=is_pr or None),
    )
    return records


def _github_pull(data: dict[str, Any], env: Envelope) -> list[ActivityRecord]:
    number = str(data.get("number", ""))
    channel = _repo(env.origin)
    title = data.get("title")
    author = _gh_user(data.get("user"), data.get("user_data"))
    records: list[ActivityRecord] = []
    opened = _iso(data.get("created_at"))
    if author is not None and opened is not None:
        records.append(
            ActivityRecord(
                env.uuid,
                "github:pr_opened",
                opened,
                author,
                channel=channel,
                target=number,
                title=title,
                contribution_type="code",
                attributes=env.attributes(
                    additions=data.get("additions"), deletions=data.get("deletions")
                ),
            )
        )
    merged_at = _iso(data.get("merged_at"))
    merger = _gh_user(data.get("merged_by"), data.get("merged_by_data"))
    if merged_at is not None and merger is not None:
        records.append(
            ActivityRecord(
                env.uuid,
                "github:pr_merged",
                merged_at,
                merger,
                object=author,
                channel=channel,
                target=number,
                title=title,
                contribution_type="maintenance",
                attributes=env.attributes(),
            )
        )
    for review in data.get("reviews_data") or []:
        who = _gh_user(review.get("user"), review.get("user_data"))
        when = _iso(review.get("submitted_at"))
        if who is None or when is None:
            continue
        records.append(
            ActivityRecord(
                env.uuid,
                "github:review",
                when,
                who,
                discriminator=str(review.get("id")),
                object=author,
                channel=channel,
                target=number,
                title=title,
                contribution_type="review",
                attributes=env.attributes(state=review.get("state")),
            )
        )
    records += _gh_comments(
        data.get("review_comments_data"),
        "github:review_comment",
        env,
        author,
        channel,
        number,
        title,
        "review",
        lambda c: env.attributes(path=c.get("path")),
    )
    return records


# -- Discourse, Meetup, Slack ------------------------------------------------------------------


def _discourse_topic(data: dict[str, Any], env: Envelope) -> list[ActivityRecord]:
    topic = str(data.get("id", ""))
    category = data.get("category_id")
    records = []
    for post in (data.get("post_stream") or {}).get("posts") or []:
        when = _iso(post.get("created_at"))
        if not post.get("username") or when is None:
            continue
        first = post.get("post_number") == 1
        reply_to = post.get("reply_to_post_number")
        records.append(
            ActivityRecord(
                env.uuid,
                "discourse:topic_created" if first else "discourse:post",
                when,
                IdentityRef("discourse", "username", str(post["username"]), post.get("name")),
                discriminator=str(post.get("id")),
                channel=None if category is None else f"category:{category}",
                target=topic,
                parent=None if reply_to is None else f"{topic}/{reply_to}",
                title=data.get("title"),
                attributes=env.attributes(
                    post_number=post.get("post_number"), accepted_answer=post.get("accepted_answer")
                ),
            )
        )
    return records


def _meetup_member(member: Any) -> IdentityRef | None:
    if not isinstance(member, dict) or member.get("id") is None:
        return None
    return IdentityRef("meetup", "username", str(member["id"]), member.get("name"))


def _meetup_event(data: dict[str, Any], env: Envelope) -> list[ActivityRecord]:
    event = str(data.get("id", ""))
    group = (data.get("group") or {}).get("urlname")
    title = data.get("name")
    starts = _ms(data.get("time"))
    records = []
    for host in data.get("event_hosts") or []:
        who = _meetup_member(host)
        if who is not None and starts is not None:
            records.append(
                ActivityRecord(
                    env.uuid,
                    "meetup:event_hosted",
                    starts,
                    who,
                    discriminator=f"host:{who.value}",
                    channel=group,
                    target=event,
                    title=title,
                    contribution_type="eventOrganizing",
                    attributes=env.attributes(status=data.get("status"), link=data.get("link")),
                )
            )
    for rsvp in data.get("rsvps") or []:
        who = _meetup_member(rsvp.get("member"))
        when = _ms(rsvp.get("created"))
        if who is None or when is None:
            continue
        records.append(
            ActivityRecord(
                env.uuid,
                "meetup:rsvp",
                when,
                who,
                discriminator=f"rsvp:{who.value}",
                channel=group,
                target=event,
                title=title,
                attributes=env.attributes(response=rsvp.get("response"), guests=rsvp.get("guests")),
            )
        )
    for comment in data.get("comments") or []:
        who = _meetup_member(comment.get("member"))
        when = _ms(comment.get("created"))
        if who is None or when is None:
            continue
        records.append(
            ActivityRecord(
                env.uuid,
                "meetup:comment",
                when,
                who,
                discriminator=f"comment:{comment.get('id')}",
                channel=group,
                target=event,
                title=title,
                attributes=env.attributes(),
            )
        )
    return records


def _slack_message(data: dict[str, Any], env: Envelope) -> list[ActivityRecord]:
    user_data = data.get("user_data") if isinstance(data.get("user_data"), dict) else {}
    assert isinstance(user_data, dict)
    user = data.get("user") or user_data.get("id")
    name = user_data.get("real_name") or user_data.get("name") or data.get("username")
    if user:
        actor = IdentityRef("slack", "username", str(user), name or None)
    elif data.get("bot_id") or data.get("username"):
        actor = IdentityRef("slack", "username", str(data.get("username") or data["bot_id"]))
    else:
        return []
    try:
        when = datetime.fromtimestamp(float(data["ts"]), UTC).replace(tzinfo=None)
    except (KeyError, TypeError, ValueError):
        when = env.updated_on
    subtype = data.get("subtype")
    kind = "slack:channel_join" if subtype == "channel_join" else "slack:message"
    channel = (data.get("channel_info") or {}).get("name")
    return [
        ActivityRecord(
            env.uuid,
            kind,
            when,
            actor,
            channel=channel,
            target=data.get("ts"),
            parent=data.get("thread_ts"),
            attributes=env.attributes(
                subtype=subtype,
                bot=bool(data.get("bot_id"))
                or subtype == "bot_message"
                or user_data.get("is_bot")
                or None,
            ),
        )
    ]


# -- any other backend -------------------------------------------------------------------------

_AUTHOR_FIELDS = (
    "user_data",
    "user",
    "author",
    "actor",
    "owner",
    "creator",
    "reporter",
    "submitter",
    "sender",
    "from",
    "From",
    "Author",
    "username",
)


def _author(platform: str, data: dict[str, Any]) -> IdentityRef | None:
    for key in _AUTHOR_FIELDS:
        value = data.get(key)
        if isinstance(value, dict):
            for field in ("login", "username", "name", "email", "id"):
                if value.get(field):
                    kind = "email" if field == "email" else "username"
                    if field == "name":
                        kind = "name"
                    return IdentityRef(platform, kind, str(value[field]), value.get("name"))
        elif isinstance(value, str) and value.strip():
            match = _EMAIL.match(value)
            if match:
                return IdentityRef(
                    platform, "email", match.group(2).lower(), match.group(1).strip() or None
                )
            if re.match(r"^[^@\s<>]+@[^@\s<>]+$", value.strip()):
                return IdentityRef(platform, "email", value.strip().lower())
            return IdentityRef(platform, "username", value.strip())
        elif isinstance(value, int) and not isinstance(value, bool):
            return IdentityRef(platform, "username", str(value))
    fields = data.get("fields")  # Jira
    if isinstance(fields, dict):
        return _author(platform, fields)
    return None


def _generic(data: dict[str, Any], env: Envelope) -> list[ActivityRecord]:
    actor = _author(env.platform, data)
    if actor is None:
        return []
    title = data.get("title") or data.get("subject") or data.get("Subject") or data.get("name")
    return [
        ActivityRecord(
            env.uuid,
            f"perceval:{env.platform}:{env.category}"[:60],
            env.updated_on,
            actor,
            title=str(title) if title is not None else None,
            attributes=env.attributes(
                backend=env.backend, type=data.get("eventType") or data.get("type")
            ),
        )
    ]


MAPPERS: dict[tuple[str, str], Mapper] = {
    ("github", "issue"): _github_issue,
    ("github", "pull_request"): _github_pull,
    ("discourse", "topic"): _discourse_topic,
    ("meetup", "event"): _meetup_event,
    ("slack", "message"): _slack_message,
}


def map_item(item: Any, where: str) -> tuple[list[ActivityRecord], list[Observation]]:
    """The activities (and, for GitHub repository snapshots, observations) of one item."""
    env = Envelope(item, where)
    if env.platform == "github" and env.category == "repository":
        name = _repo(env.origin) or env.data.get("full_name") or env.origin
        when = _epoch(env.data.get("fetched_on") or env.updated_on.timestamp(), where)
        return [], [
            Observation(f"github:{name}:{field}", when, env.data[field])
            for field in ("stargazers_count", "forks_count", "subscribers_count")
            if isinstance(env.data.get(field), int)
        ]
    mapper = MAPPERS.get((env.platform, env.category), _generic)
    return mapper(env.data, env), []


# -- reading -----------------------------------------------------------------------------------


def read_items(path: Path) -> Iterator[tuple[str, Any]]:
    """Items of a file, each with where it starts (``FILE:LINE``): a JSON array, JSON Lines or
    concatenated JSON objects (what the ``perceval`` command writes)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SourceError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise SourceError(f"{path}: not UTF-8 at byte {exc.start}") from None
    except OSError as exc:
        raise SourceError(f"{path}: cannot read the file ({exc.strerror})") from None
    decoder = json.JSONDecoder()
    pos = 0
    stripped = text.lstrip()
    if stripped.startswith("["):
        start = len(text) - len(stripped)
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SourceError(f"{path}:{exc.lineno}: not JSON: {exc.msg}") from None
        line = text.count("\n", 0, start) + 1
        for item in items:
            yield f"{path}:{line}", item
        return
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return
        line = text.count("\n", 0, pos) + 1
        try:
            item, pos = decoder.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            raise SourceError(f"{path}:{exc.lineno}: not JSON: {exc.msg}") from None
        yield f"{path}:{line}", item


def perceval_items(
    backend: str, args: list[str], since: datetime | None, until: datetime | None = None
) -> Iterator[Any]:
    """Items fetched by Perceval's own backend ``backend`` with command-line ``args``."""
    try:
        module = importlib.import_module(f"perceval.backends.core.{backend}")
        core = importlib.import_module("perceval.backend")
    except ModuleNotFoundError as exc:
        if exc.name and (exc.name == "perceval" or exc.name.startswith("perceval.backends")):
            if exc.name == "perceval" or exc.name == "perceval.backends":
                raise SourceError(
                    f"Perceval is not installed (needed by `commops add perceval {backend}`)",
                    hint=INSTALL_HINT,
                ) from None
            raise SourceError(f"Perceval has no backend {backend!r}") from None
        raise SourceError(
            f"Perceval's backend {backend!r} needs {exc.name!r}", hint=INSTALL_HINT
        ) from None
    commands = [
        cls
        for _, cls in inspect.getmembers(module, inspect.isclass)
        if issubclass(cls, core.BackendCommand)
        and cls is not core.BackendCommand
        and cls.__module__ == module.__name__
    ]
    if not commands:
        raise SourceError(f"Perceval's module {module.__name__} has no backend command")
    command: Any = commands[0]
    try:
        # The command runs the backend's own argument handling (git's --git-path becomes
        # ``gitpath``, secrets managers, archives) before anything is fetched.
        parsed = command(*args).parsed_args
    except SystemExit:
        raise SourceError(
            f"Perceval's {backend} backend refused the arguments {' '.join(args)!r}",
            hint=f"See `perceval {backend} --help`.",
        ) from None
    backend_args = vars(parsed)
    category = backend_args.pop("category", None)
    backend_args.pop("filter_classified", None)
    if since is not None and "from_date" in backend_args and "--from-date" not in args:
        backend_args["from_date"] = since.replace(tzinfo=UTC)
    if until is not None and "to_date" in backend_args and "--to-date" not in args:
        backend_args["to_date"] = until.replace(tzinfo=UTC)
    try:
        yield from core.fetch(command.BACKEND, backend_args, category)
    except SourceError:
        raise
    except Exception as exc:  # Perceval's own errors (network, repository, ...)
        raise SourceError(f"perceval {backend}: {type(exc).__name__}: {exc}") from exc


class PercevalConnector(Connector):
    """Perceval items from files (``commops import perceval``, run-time parameter ``files``) or
    from a Perceval backend run at sync time (options ``backend``, ``args``, ``token_env``)."""

    kind = "perceval"
    streams = (STREAM,)

    @classmethod
    def prepare(cls, location: str, options: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
        if options.get("mode") == "import":
            path = Path(location).expanduser()
            return path.stem or "perceval", str(path.resolve()), options
        backend = location.strip().lower()
        if not _BACKEND.match(backend):
            raise SourceError(f"perceval: {location!r} is not a Perceval backend name")
        args = [str(a) for a in options.get("args") or []]
        secret = [a for a in args if a.split("=", 1)[0] in _SECRET_ARGS]
        if secret:
            raise SourceError(
                f"perceval {backend}: {secret[0].split('=', 1)[0]} would store a secret in "
                "the workspace",
                hint="Put the token in an environment variable and pass --token-env VAR.",
            )
        positional = []
        for arg in args:
            if arg.startswith("-"):
                break
            positional.append(arg)
        default = f"perceval:{backend}" + (f":{'/'.join(positional)}" if positional else "")
        default = re.sub(r"[^A-Za-z0-9._/@:-]", "-", default)
        return default[:200], backend, {**options, "backend": backend, "args": args}

    def read(self, stream: str, cursor: dict[str, Any], ctx: SyncContext) -> Iterator[Change]:
        files = ctx.params.get("files")
        if files:
            yield from self._import(stream, [Path(f) for f in files], ctx)
        elif self.source.options.get("backend"):
            yield from self._fetch(stream, cursor, ctx)

    def _changes(
        self, stream: str, items: Iterator[tuple[str, Any]], ctx: SyncContext
    ) -> Iterator[Change]:
        records: list[ActivityRecord] = []
        observations: list[Observation] = []
        count = 0
        skipped = 0
        latest: datetime | None = None
        for where, item in items:
            found, seen = map_item(item, where)
            env_time = _epoch(item["updated_on"], where)
            latest = env_time if latest is None else max(latest, env_time)
            if not found and not seen:
                skipped += 1
                ctx.warn(f"{where}: no author in the {item.get('backend_name')} item; skipped")
            records += found
            observations += seen
            count += 1
            if count % BATCH == 0:
                yield Upsert(records)
                yield Observe(observations)
                ctx.progress(advance=BATCH)
                yield Cursor(stream, {"updated_on": latest.isoformat()})
                records, observations = [], []
        yield Upsert(records)
        if observations:
            yield Observe(observations)
        ctx.progress(advance=count % BATCH)
        yield Status({"items": count, "skipped": skipped})
        yield Cursor(stream, {"updated_on": latest.isoformat()} if latest else {})

    def _import(self, stream: str, files: list[Path], ctx: SyncContext) -> Iterator[Change]:
        def all_items() -> Iterator[tuple[str, Any]]:
            for path in files:
                yield from read_items(path)

        yield from self._changes(stream, all_items(), ctx)

    def _fetch(self, stream: str, cursor: dict[str, Any], ctx: SyncContext) -> Iterator[Change]:
        backend = str(self.source.options["backend"])
        args = list(self.source.options.get("args") or [])
        token_env = self.source.options.get("token_env")
        if token_env:
            token = ctx.secret(str(token_env))
            if token is None:
                raise SourceError(
                    f"source {self.source.name!r}: no token in {token_env}",
                    hint=f"Set {token_env} in the environment or commops.toml [tokens].",
                )
            args += ["--api-token", token]
        since = until = None
        if ctx.window is not None:
            since, until = ctx.window.since, ctx.window.until
        elif cursor.get("updated_on"):
            since = datetime.fromisoformat(str(cursor["updated_on"]))
        where = f"source {self.source.name!r}: perceval {backend}"
        items = (
            (f"{where} item {n}", item)
            for n, item in enumerate(perceval_items(backend, args, since, until), 1)
        )
        yield from self._changes(stream, items, ctx)
