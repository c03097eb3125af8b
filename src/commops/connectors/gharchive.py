"""GH Archive: hourly ``.json.gz`` files of public GitHub events, read by DuckDB file by file.

Each file is read by one in-process DuckDB query (``read_ndjson_objects``) that pulls the few
fields commops needs out of every line with ``json_extract_string`` and keeps only the events of
the configured repositories or organisations, so that only the kept rows reach Python and memory
stays bounded by one batch of kept rows, whatever the size of the file.

Three formats are read:

* ``legacy-timeline`` (GH Archive before 2015): ``actor`` is a login string, the repository is
  ``repository{owner,name}``, events have no ``id``: the item key is a hash of the event's JSON;
* ``events-api`` (2015 on): ``{id,type,actor{login},repo{name},payload,org?,created_at}``;
* ``trimmed-2025`` (events created from 2025-10-07, when GitHub trimmed the payloads): push
  events without ``commits``/``size``, smaller pull request payloads.

What a format lacks is recorded in the source's status (``commops sources``). The cursor keeps
the sha256 of every file fully imported; a file already in it is skipped without being read.
"""

from __future__ import annotations

import copy
import functools
import gzip
import hashlib
import json
import queue
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from commops.connectors.base import (
    ActivityRecord,
    Change,
    Connector,
    Cursor,
    IdentityRef,
    Status,
    SyncContext,
    Upsert,
)
from commops.errors import SourceError, SyncError

PLATFORM = "github"
STREAM = "events"
BATCH = 2000
CHECKPOINT_ROWS = 20_000  # a commit at least this often, so a transaction stays small
TRIMMED_SINCE = "2025-10-07"  # GitHub trimmed event payloads from this day on

# The fields read from every kept event, in this order (DuckDB lists are 1-based: index + 1).
PATHS = (
    "$.id",
    "$.type",
    "$.created_at",
    "$.actor.login",
    "$.actor",
    "$.repo.name",
    "$.repository.owner",
    "$.repository.name",
    "$.org.login",
    "$.repository.organization",
    "$.payload.action",
    "$.payload.pull_request.number",
    "$.payload.number",
    "$.payload.pull_request.merged",
    "$.payload.pull_request.title",
    "$.payload.pull_request.user.login",
    "$.payload.issue.number",
    "$.payload.issue.title",
    "$.payload.issue.user.login",
    "$.payload.issue.pull_request",
    "$.payload.size",
    "$.payload.distinct_size",
    "$.payload.ref",
    "$.payload.ref_type",
    "$.payload.head",
    "$.payload.review.state",
    "$.payload.release.tag_name",
    "$.payload.release.name",
    "$.payload.member.login",
    "$.payload.forkee.full_name",
    "$.payload.comment.id",
)
(
    ID,
    TYPE,
    CREATED,
    ACTOR_LOGIN,
    ACTOR,
    REPO,
    OWNER,
    NAME,
    ORG,
    LEGACY_ORG,
    ACTION,
    PR_NUMBER,
    NUMBER,
    MERGED,
    PR_TITLE,
    PR_USER,
    ISSUE_NUMBER,
    ISSUE_TITLE,
    ISSUE_USER,
    ISSUE_PR,
    SIZE,
    DISTINCT,
    REF,
    REF_TYPE,
    HEAD,
    REVIEW_STATE,
    TAG,
    RELEASE_NAME,
    MEMBER,
    FORKEE,
    COMMENT_ID,
) = range(len(PATHS))

# The filter reads five fields of every line, in one parse: the lambda binds them once (an
# expression that names them several times would be inlined by DuckDB and parse the line again
# each time). $keys holds "repo:owner/name" and "org:owner", lower-cased. The full list of fields
# is read for the kept lines only.
_QUERY_TEMPLATE = """
SELECT json_extract_string(json, $paths) AS j,
    CASE WHEN json_extract_string(json, '$.type') = 'PushEvent'
        THEN json_array_length(json, ['$.payload.commits', '$.payload.shas']) END AS commits,
    CASE WHEN json_extract_string(json, '$.id') IS NULL THEN json::VARCHAR END AS raw
FROM read_ndjson_objects($file, compression = 'auto', maximum_object_size = 33554432)
WHERE $all OR list_has_any($keys, flatten(list_transform(
    [json_extract_string(json, ['$.repo.name', '$.repository.owner', '$.repository.name',
        '$.org.login', '$.repository.organization'])],
    {lambda_k} [
        'repo:' || lower(coalesce(k[1], k[2] || '/' || k[3])),
        'org:' || lower(split_part(coalesce(k[1], k[2]), '/', 1)),
        'org:' || lower(coalesce(k[4], k[5]))
    ]
)))
"""


def _query(version: str) -> str:
    # DuckDB 1.3 brought `lambda k:` and deprecated `k ->`; pyproject allows 1.1 on.
    major, minor = (int(p) for p in version.split(".")[:2])
    return _QUERY_TEMPLATE.replace(
        "{lambda_k}", "lambda k:" if (major, minor) >= (1, 3) else "k ->"
    )


# Kinds and all-contributors types of the events whose kind does not depend on the payload.
_SIMPLE = {
    "WatchEvent": ("github:star", None),
    "ForkEvent": ("github:fork", None),
    "GollumEvent": ("github:wiki_edited", "doc"),
    "CommitCommentEvent": ("github:commit_comment", None),
    "PublicEvent": ("github:repository_public", None),
    "PullRequestReviewEvent": ("github:review", "review"),
    "PullRequestReviewCommentEvent": ("github:review_comment", "review"),
    "IssueCommentEvent": ("github:issue_comment", None),
}


def _snake(name: str) -> str:
    out = "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")
    return out or "event"


def _targets(options: dict[str, Any]) -> tuple[list[str], list[str], bool]:
    repos = [str(r) for r in options.get("repos") or []]
    orgs = [str(o) for o in options.get("orgs") or []]
    return repos, orgs, bool(options.get("all"))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def event_format(event_id: str | None, created_at: str) -> str:
    if event_id is None:
        return "legacy-timeline"
    if created_at[:10] >= TRIMMED_SINCE:
        return "trimmed-2025"
    return "events-api"


@functools.lru_cache(maxsize=8192)  # an hour's events share 3,600 distinct times
def _utc(raw: str) -> datetime:
    when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    return when


def _int(raw: str | None) -> int | None:
    if raw is None:
        return None
    try:
        return int(raw)
    except ValueError:
        return None


def _bool(raw: str | None) -> bool | None:
    return None if raw is None else raw == "true"


def _bad_line(path: Path) -> str | None:
    """The first line of ``path`` that is not JSON, found again by Python: DuckDB's own line
    number is not always the line of the file (it may count from a buffer)."""
    opener: Any = gzip.open if _is_gzip(path) else open
    try:
        with opener(path, "rt", encoding="utf-8", errors="replace") as fh:
            for number, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    json.loads(line)
                except ValueError as exc:
                    return f"line {number} is not valid JSON ({exc})"
    except (OSError, EOFError):
        return None
    return None


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


_END = object()


class _Scan:
    """One file's DuckDB query, run on a thread that hands over batches of kept rows through a
    small queue (so a file read ahead holds at most a few batches in memory)."""

    def __init__(self, path: Path, digest: str | None, cursor: Any) -> None:
        self.path = path
        self.digest = digest
        self.cursor = cursor
        self.queue: queue.Queue[Any] = queue.Queue(maxsize=4)
        self.stopped = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self, query: str, params: dict[str, Any]) -> _Scan:
        self.thread = threading.Thread(target=self._run, args=(query, params), daemon=True)
        self.thread.start()
        return self

    def _put(self, item: Any) -> bool:
        while not self.stopped.is_set():
            try:
                self.queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self, query: str, params: dict[str, Any]) -> None:
        try:
            result = self.cursor.execute(query, params)
            while rows := result.fetchmany(BATCH):
                if not self._put(rows):
                    return
            self._put(_END)
        except Exception as exc:  # handed to the reader, which raises it with the file's name
            self._put(exc)
        finally:
            self.cursor.close()

    def batches(self) -> Iterator[Any]:
        while (item := self.queue.get()) is not _END:
            yield item
            if isinstance(item, Exception):
                return

    def stop(self) -> None:
        self.stopped.set()
        if self.thread is not None:
            self.thread.join()


class GHArchiveConnector(Connector):
    """Reads the GH Archive files given in ``ctx.params["files"]``. Options: ``repos``
    (``OWNER/NAME``), ``orgs`` (owners), or ``all`` (every event)."""

    kind = "gharchive"
    streams = (STREAM,)

    @classmethod
    def prepare(cls, location: str, options: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
        repos, orgs, keep_all = _targets(options)
        for repo in repos:
            owner, _, name = repo.partition("/")
            if not owner or not name or "/" in name:
                raise SourceError(f"gharchive: {repo!r} is not a repository (OWNER/NAME)")
        for org in orgs:
            if not org or "/" in org:
                raise SourceError(f"gharchive: {org!r} is not an organisation (OWNER)")
        if not (repos or orgs or keep_all):
            raise SourceError(
                "gharchive: no repository or organisation to keep",
                hint="Give --repo OWNER/NAME or --org OWNER (repeatable).",
            )
        targets = [*repos, *orgs] or ["all"]
        default = "gharchive-" + "_".join(targets)
        prepared: dict[str, Any] = {"repos": repos, "orgs": orgs}
        if keep_all:
            prepared["all"] = True
        return default[:200], location or ",".join(targets), prepared

    def read(self, stream: str, cursor: dict[str, Any], ctx: SyncContext) -> Iterator[Change]:
        import duckdb

        repos, orgs, keep_all = _targets(self.source.options)
        files = [Path(f) for f in ctx.params.get("files") or []]
        done: dict[str, str] = dict(cursor.get("files") or {})
        formats: dict[str, dict[str, Any]] = {
            k: {"events": v.get("events", 0), "missing": list(v.get("missing", []))}
            for k, v in (cursor.get("formats") or {}).items()
        }
        keys = [f"repo:{r.lower()}" for r in repos] + [f"org:{o.lower()}" for o in orgs]
        ctx.progress(total=len(files))
        query = _query(duckdb.__version__)
        con = duckdb.connect()
        con.execute("SET memory_limit = '1GB'")
        con.execute("SET preserve_insertion_order = false")
        scans: deque[_Scan] = deque()
        started: set[str] = set(done)
        todo = iter(files)

        def start_next() -> None:
            # The next file is read by DuckDB while this one is stored: both cores work.
            while len(scans) < 2 and (path := next(todo, None)) is not None:
                if not path.is_file():
                    scans.append(_Scan(path, None, None))
                    continue
                digest = file_sha256(path)
                if digest in started:
                    scans.append(_Scan(path, digest, None))
                    continue
                started.add(digest)
                params = {"paths": list(PATHS), "file": str(path), "all": keep_all, "keys": keys}
                scans.append(_Scan(path, digest, con.cursor()).start(query, params))

        try:
            start_next()
            stored = 0
            counted = copy.deepcopy(formats)
            while scans:
                scan = scans[0]  # stays in `scans` until read, so that `finally` stops it
                start_next()
                path = scan.path
                if scan.digest is None:
                    raise SyncError(
                        f"source {self.source.name!r}: {path} does not exist or is not a file",
                        hint="Files imported before it are kept.",
                    )
                if scan.cursor is None:
                    scans.popleft()
                    ctx.progress(advance=1, note=f"{path.name} (already imported)")
                    continue
                for rows in scan.batches():
                    if isinstance(rows, duckdb.Error):
                        reason = str(rows).strip().splitlines()[0]
                        if "Malformed JSON" in reason:
                            reason = _bad_line(path) or reason
                        raise SyncError(
                            f"source {self.source.name!r}: cannot read {path}: {reason}",
                            hint="Files imported before it are kept; fix or remove it and re-run.",
                        )
                    records = self._records(rows, path, ctx, formats)
                    if records:
                        yield Upsert(records)
                        stored += len(records)
                        if stored >= CHECKPOINT_ROWS:
                            # Commit what is stored, with the cursor of the files done so far:
                            # a restart reads this file again and drops what is there by uid.
                            # (The format counts too: as they were when the last file ended.)
                            yield Cursor(STREAM, {"files": dict(done), "formats": counted})
                            stored = 0
                scans.popleft()
                done[scan.digest] = path.name
                # Copies: the runner must see a new value to store it.
                yield Status({"formats": copy.deepcopy(formats)})
                counted = copy.deepcopy(formats)
                yield Cursor(STREAM, {"files": dict(done), "formats": counted})
                ctx.progress(advance=1, note=path.name)
        finally:
            for scan in scans:
                scan.stop()
            con.close()

    def _records(
        self,
        rows: Sequence[tuple[Any, ...]],
        path: Path,
        ctx: SyncContext,
        formats: dict[str, dict[str, Any]],
    ) -> list[ActivityRecord]:
        records: list[ActivityRecord] = []
        window = ctx.window
        for j, commits, raw in rows:
            record = self._record(j, commits, raw, formats)
            if record is None:
                continue
            if window is not None and not window.contains(record.occurred_at):
                continue
            records.append(record)
        return records

    def _record(
        self,
        j: list[str | None],
        commits: list[int | None] | None,
        raw: str | None,
        formats: dict[str, dict[str, Any]],
    ) -> ActivityRecord | None:
        etype = j[TYPE] or ""
        created = j[CREATED]
        legacy = j[ID] is None
        login = j[ACTOR_LOGIN] or (j[ACTOR] if legacy else None)
        if created is None or not etype or not login:
            return None
        fmt = event_format(j[ID], created)
        seen = formats.setdefault(fmt, {"events": 0, "missing": []})
        seen["events"] += 1
        missing: list[str] = seen["missing"]

        def lacks(field: str) -> None:
            if field not in missing:
                missing.append(field)
                missing.sort()

        if legacy:
            lacks("id")
            key = "sha256:" + hashlib.sha256((raw or "").encode()).hexdigest()[:32]
        else:
            key = str(j[ID])
        repo = j[REPO] or (f"{j[OWNER]}/{j[NAME]}" if j[OWNER] and j[NAME] else None)
        action = j[ACTION]
        attrs: dict[str, Any] = {"type": etype, "format": fmt}
        if action is not None:
            attrs["action"] = action
        if created[-1:] != "Z":
            attrs["created_at"] = created  # the original offset (legacy events)
        target: str | None = None
        title: str | None = None
        obj: str | None = None
        ctype: str | None = None

        if etype == "PushEvent":
            kind, ctype = "github:push", "code"
            count = None
            if commits is not None:
                count = commits[0] if commits[0] is not None else commits[1]
            if count is None:
                lacks("payload.shas" if legacy else "payload.commits")
            if j[SIZE] is None:
                lacks("payload.size")
            attrs.update(commits=count, size=_int(j[SIZE]), ref=j[REF], head=j[HEAD])
            if not legacy:
                if j[DISTINCT] is None:
                    lacks("payload.distinct_size")
                attrs["distinct_size"] = _int(j[DISTINCT])
        elif etype == "PullRequestEvent":
            number = j[PR_NUMBER] or j[NUMBER]
            target, title, obj = number, j[PR_TITLE], j[PR_USER]
            merged = _bool(j[MERGED])
            if title is None:
                lacks("payload.pull_request.title")
            if obj is None:
                lacks("payload.pull_request.user")
            if action == "opened":
                kind, ctype = "github:pr_opened", "code"
            elif action == "closed":
                if merged is None:
                    lacks("payload.pull_request.merged")
                kind = "github:pr_merged" if merged else "github:pr_closed"
                ctype = "maintenance" if merged else None
                attrs["merged"] = merged
            else:
                kind = f"github:pr_{action or 'event'}"
        elif etype == "IssuesEvent":
            target, title, obj = j[ISSUE_NUMBER] or j[NUMBER], j[ISSUE_TITLE], j[ISSUE_USER]
            if title is None:
                lacks("payload.issue.title")
            kind = f"github:issue_{action or 'event'}"
            ctype = "bug" if action == "opened" else None
        elif etype in _SIMPLE:
            kind, ctype = _SIMPLE[etype]
            if etype == "IssueCommentEvent":
                target, title, obj = j[ISSUE_NUMBER], j[ISSUE_TITLE], j[ISSUE_USER]
                attrs["pull_request"] = j[ISSUE_PR] is not None
            elif etype in ("PullRequestReviewEvent", "PullRequestReviewCommentEvent"):
                target, title, obj = j[PR_NUMBER], j[PR_TITLE], j[PR_USER]
                if j[REVIEW_STATE] is not None:
                    attrs["state"] = j[REVIEW_STATE]
            elif etype == "ForkEvent" and j[FORKEE] is not None:
                attrs["forkee"] = j[FORKEE]
            if j[COMMENT_ID] is not None:
                attrs["comment_id"] = _int(j[COMMENT_ID])
        elif etype == "ReleaseEvent":
            kind, ctype = f"github:release_{action or 'event'}", "maintenance"
            target, title = j[TAG], j[RELEASE_NAME] or j[TAG]
        elif etype in ("CreateEvent", "DeleteEvent"):
            verb = "created" if etype == "CreateEvent" else "deleted"
            kind = f"github:{j[REF_TYPE] or 'ref'}_{verb}"
            target = j[REF]
        elif etype == "MemberEvent":
            kind = f"github:member_{action or 'event'}"
            obj = j[MEMBER]
        else:
            kind = "github:" + _snake(etype.removesuffix("Event"))
        if obj == login:
            obj = None
        return ActivityRecord(
            item_key=key,
            kind=kind,
            occurred_at=_utc(created),
            actor=IdentityRef(PLATFORM, "username", login),
            object=IdentityRef(PLATFORM, "username", obj) if obj else None,
            channel=repo,
            target=target,
            title=title,
            contribution_type=ctype,
            attributes=attrs,
        )
