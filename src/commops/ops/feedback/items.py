"""Feedback items: entered by hand, imported from CSV files, captured from the activity stream;
listed, shown, deleted and restored.

Raising feedback is a contribution (all-contributors ``ideas``). Items captured from an issue or
a forum topic already have their activity in the stream (``github:issue_opened``, ...), so only
items entered by hand or imported, whose member is known, emit ``feedback:raised`` — never both
for one piece of feedback. Deleting an item withdraws that activity (restoring emits it again,
with the same uid), so a spam or mistaken entry is no longer credited.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from commops.clock import utcnow
from commops.connectors.base import activity_uid
from commops.errors import UsageError
from commops.identity.orgs import affiliations_at
from commops.ops import core
from commops.ops.feedback._common import (
    check_title,
    check_url,
    day_start,
    get_item,
    item_link,
    members_of,
)
from commops.ops.feedback.models import (
    ENTERED_ORIGINS,
    ITEM,
    ORIGINS,
    FeedbackItem,
    FeedbackSuggestion,
    FeedbackTheme,
)
from commops.store.models import Activity, Source

RAISED = "feedback:raised"
ISSUE_KINDS = {"github:issue_opened": "github", "gitee:issue_opened": "gitee"}
TOPIC_KIND = "discourse:topic_created"
CSV_COLUMNS = ("id", "title", "body", "member", "origin", "channel", "raised_at", "url")
MAX_ERRORS = 20


# -- credit -------------------------------------------------------------------------------------


def _raised_key(item_id: int) -> str:
    return f"feedback:item:{item_id}"


def _credit(session: Session, item: FeedbackItem, member_id: int) -> None:
    core.emit(
        session,
        kind=RAISED,
        member_id=member_id,
        key=_raised_key(item.id),
        occurred_at=item.raised_at,
        channel=item.channel or item.origin,
        target=f"feedback:{item.id}",
        title=item.title,
        contribution_type="ideas",
        attributes={"item_id": item.id, "origin": item.origin, "url": item.url},
    )


def _withdraw_credit(session: Session, item_id: int) -> bool:
    uid = activity_uid(core.OPS_SOURCE, RAISED, _raised_key(item_id))
    gone = session.execute(delete(Activity).where(Activity.uid == uid))
    return bool(getattr(gone, "rowcount", 0))


def _emits_credit(item: FeedbackItem) -> bool:
    return item.activity_uid is None


# -- entering by hand ---------------------------------------------------------------------------


def _check_origin(origin: str, what: str) -> str:
    origin = origin.strip().lower()
    if origin not in ENTERED_ORIGINS:
        raise UsageError(
            f"{what}: unknown origin {origin!r}",
            hint=f"Origins: {', '.join(ENTERED_ORIGINS)} (issues and forum topics are "
            "captured with `commops feedback capture`).",
        )
    return origin


def _store(
    session: Session,
    *,
    title: str,
    body: str,
    origin: str,
    channel: str | None,
    url: str | None,
    member_id: int | None,
    raised_at: datetime,
    actor: str,
    action: str,
    import_key: str | None = None,
    activity: Activity | None = None,
    identity_id: int | None = None,
    attributes: dict[str, Any] | None = None,
) -> FeedbackItem:
    if member_id is not None:
        identity_id = core.member_identity(session, member_id).id
    item = FeedbackItem(
        title=title,
        body=body,
        origin=origin,
        channel=channel,
        url=url,
        activity_uid=activity.uid if activity is not None else None,
        import_key=import_key,
        identity_id=identity_id,
        raised_at=raised_at,
        created_at=utcnow(),
        attributes=dict(attributes or {}),
    )
    session.add(item)
    session.flush()
    core.record(
        session,
        actor=actor,
        record_type=ITEM,
        record_id=item.id,
        action=action,
        details={
            "origin": origin,
            "channel": channel,
            "member_id": member_id,
            "identity_id": identity_id,
            **({"activity_uid": activity.uid} if activity is not None else {}),
            **({"import_key": import_key} if import_key else {}),
        },
    )
    if member_id is not None and _emits_credit(item):
        _credit(session, item, member_id)
    return item


def add_item(
    session: Session,
    *,
    title: str,
    actor: str,
    body: str = "",
    origin: str = "manual",
    channel: str | None = None,
    url: str | None = None,
    member: int | str | None = None,
    raised_at: datetime | None = None,
) -> FeedbackItem:
    """Record one piece of feedback entered by hand (a note from an event, a WeChat message,
    an e-mail, a call). ``member`` names who raised it (id, e-mail, login, ...) or is None
    when unknown; a known member is credited with ``feedback:raised``."""
    title = check_title(title, "title")
    origin = _check_origin(origin, "origin")
    url = check_url(url, "url")
    member_id = None if member is None else core.require_member(session, member)
    return _store(
        session,
        title=title,
        body=(body or "").strip(),
        origin=origin,
        channel=(channel or "").strip() or None,
        url=url,
        member_id=member_id,
        raised_at=raised_at or utcnow(),
        actor=actor,
        action="raised",
    )


# -- CSV import ---------------------------------------------------------------------------------


@dataclass
class ImportResult:
    """What an import did: the items it added and the rows it left alone because they were
    imported before (their line numbers)."""

    file: str
    rows: int
    added: list[int] = field(default_factory=list)
    already: list[int] = field(default_factory=list)


@dataclass
class _Row:
    line: int
    title: str
    body: str
    member_id: int | None
    origin: str
    channel: str | None
    raised_at: datetime | None
    url: str | None
    key: str


def parse_when(text: str) -> datetime:
    """A day (YYYY-MM-DD) or an ISO 8601 time; times with an offset are converted to UTC."""
    text = text.strip()
    try:
        if len(text) == 10:
            return day_start(date.fromisoformat(text))
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD) or an ISO 8601 time") from None
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    return when


def _key(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def _read_csv(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    name = path.name
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the file: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise UsageError(
            f"{name} line {line}: not UTF-8 text",
            hint="Save the file as CSV UTF-8 (Excel: 'CSV UTF-8 (Comma delimited)').",
        ) from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[tuple[int, list[str]]] = []
    try:
        start = reader.line_num + 1
        header = next(reader, None)
        if header is None:
            raise UsageError(f"{name}: the file is empty", hint="The first line names the columns.")
        start = reader.line_num + 1
        for record in reader:
            if any(cell.strip() for cell in record):
                records.append((start, record))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise UsageError(f"{name} line {start}: malformed CSV: {exc}") from None
    return [h.strip().lower() for h in header], records


def _check_header(name: str, header: Sequence[str]) -> None:
    seen: set[str] = set()
    for col in header:
        if col not in CSV_COLUMNS:
            raise UsageError(
                f"{name} line 1: unknown column {col!r}",
                hint=f"Columns: {', '.join(CSV_COLUMNS)} (title is required).",
            )
        if col in seen:
            raise UsageError(f"{name} line 1: column {col!r} appears twice")
        seen.add(col)
    if "title" not in seen:
        raise UsageError(
            f"{name} line 1: no 'title' column",
            hint=f"Columns: {', '.join(CSV_COLUMNS)} (title is required).",
        )


def _validate_rows(
    session: Session,
    path: Path,
    header: Sequence[str],
    records: Sequence[tuple[int, list[str]]],
    *,
    origin: str,
    channel: str | None,
) -> tuple[list[_Row], list[str]]:
    name = path.name
    errors: list[str] = []
    rows: list[_Row] = []
    members: dict[str, int | str] = {}  # reference -> member id, or the error
    first_line: dict[str, int] = {}
    for line, record in records:
        where = f"{name} line {line}"
        if len(record) != len(header):
            errors.append(
                f"{where}: {len(record)} fields, the header has {len(header)} "
                "(a comma inside a value needs quotes)"
            )
            continue
        cells = {col: value.strip() for col, value in zip(header, record, strict=True)}
        row_errors: list[str] = []

        def fail(col: str, message: str, *, at: str = where, into: list[str] = row_errors) -> None:
            into.append(f"{at}: column {col!r}: {message}")

        title = " ".join(cells.get("title", "").split())
        if not title:
            fail("title", "empty")
        elif len(title) > 500:
            fail("title", f"{len(title)} characters long (at most 500)")
        member_id: int | None = None
        ref = cells.get("member", "")
        if ref:
            if ref not in members:
                try:
                    members[ref] = core.require_member(session, ref)
                except UsageError as exc:
                    members[ref] = exc.message.removeprefix("member: ")
            found = members[ref]
            if isinstance(found, int):
                member_id = found
            else:
                fail("member", found)
        row_origin = (cells.get("origin") or origin).lower()
        if row_origin not in ENTERED_ORIGINS:
            fail("origin", f"unknown origin {row_origin!r} (use {', '.join(ENTERED_ORIGINS)})")
        raised_at: datetime | None = None
        if cells.get("raised_at"):
            try:
                raised_at = parse_when(cells["raised_at"])
            except ValueError as exc:
                fail("raised_at", str(exc))
        url: str | None = None
        try:
            url = check_url(cells.get("url"), "url")
        except UsageError:
            fail("url", f"{cells.get('url')!r} is not an http(s) URL")
        row_channel = cells.get("channel") or channel
        if cells.get("id"):
            # A row id is unique within its channel, or within the file when there is none.
            key = _key("id", row_origin, row_channel or f"file:{name}", cells["id"])
            what = f"row id {cells['id']!r}"
        else:
            key = _key(
                "content",
                row_origin,
                row_channel or "",
                ref,
                cells.get("raised_at", ""),
                title,
                " ".join(cells.get("body", "").split()),
            )
            what = "the same feedback"
        if key in first_line:
            row_errors.append(f"{where}: {what} is also on line {first_line[key]}")
        else:
            first_line[key] = line
        if row_errors:
            errors += row_errors
            continue
        rows.append(
            _Row(
                line=line,
                title=title,
                body=cells.get("body", ""),
                member_id=member_id,
                origin=row_origin,
                channel=row_channel,
                raised_at=raised_at,
                url=url,
                key=key,
            )
        )
    return rows, errors


def import_csv(
    session: Session,
    path: Path,
    *,
    actor: str,
    origin: str = "survey",
    channel: str | None = None,
    dry_run: bool = False,
) -> ImportResult:
    """Import feedback from a CSV file (survey answers, WeChat notes, event notes).

    Columns (first line): ``title`` (required), ``id``, ``body``, ``member``, ``origin``,
    ``channel``, ``raised_at``, ``url``. Every row is checked before anything is written: one
    bad row and nothing is imported; the error names the file, line and column of each
    problem. A row imported before (same ``id`` in the same channel, or the same content when
    there is no ``id`` column) is left alone, so importing a file again adds only new rows."""
    origin = _check_origin(origin, "--origin")
    channel = (channel or "").strip() or None
    header, records = _read_csv(path)
    _check_header(path.name, header)
    rows, errors = _validate_rows(session, path, header, records, origin=origin, channel=channel)
    if errors:
        shown = errors[:MAX_ERRORS]
        more = len(errors) - len(shown)
        raise UsageError(
            "\n".join(shown) + (f"\n... and {more} more" if more else ""),
            hint="Nothing was imported. Fix the rows and import the file again.",
        )
    result = ImportResult(file=str(path), rows=len(records))
    known = _known_keys(session, [r.key for r in rows])
    now = utcnow()
    for row in rows:
        if row.key in known:
            result.already.append(row.line)
            continue
        if dry_run:
            continue
        item = _store(
            session,
            title=row.title,
            body=row.body,
            origin=row.origin,
            channel=row.channel,
            url=row.url,
            member_id=row.member_id,
            raised_at=row.raised_at or now,
            actor=actor,
            action="imported",
            import_key=row.key,
            attributes={"file": path.name, "line": row.line},
        )
        result.added.append(item.id)
    return result


def _known_keys(session: Session, keys: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        found.update(
            k
            for k in session.execute(
                select(FeedbackItem.import_key).where(FeedbackItem.import_key.in_(chunk))
            ).scalars()
            if k is not None
        )
    return found


# -- capture from the activity stream -----------------------------------------------------------


@dataclass
class CaptureResult:
    """What a capture did: the new items, and how many matching activities were captured
    before (deleted items included: a deleted item is not captured again)."""

    labels: list[str]
    categories: list[str]
    added: list[int] = field(default_factory=list)
    already: int = 0


def _web_link(source: Source, kind: str, channel: str | None, target: str | None) -> str | None:
    """The page of the issue or topic, when the source is a real one."""
    if not channel or not target or source.options.get("demo"):
        return None
    if kind == "github:issue_opened":
        api = str(source.options.get("api_url") or "").rstrip("/")
        base = api.removesuffix("/api/v3") if api and "api.github.com" not in api else ""
        return f"{base or 'https://github.com'}/{channel}/issues/{target}"
    if kind == "gitee:issue_opened":
        return f"https://gitee.com/{channel}/issues/{target}"
    if kind == TOPIC_KIND and source.location.startswith(("http://", "https://")):
        return f"{source.location.rstrip('/')}/t/{target}"
    return None


def _captured_title(activity: Activity) -> str:
    title = " ".join((activity.title or "").split())[:500]
    return title or f"{activity.channel or activity.kind} #{activity.target or activity.item_key}"


def capture(
    session: Session,
    *,
    actor: str,
    labels: Iterable[str],
    categories: Iterable[str],
    since: date | None = None,
) -> CaptureResult:
    """Make an item of every issue opened on GitHub or Gitee with one of ``labels`` and every
    Discourse topic created in one of ``categories`` (slugs), once: an activity captured before
    is recognised by its uid. Labels and categories compare case-insensitively."""
    wanted_labels = {lb.strip().lower() for lb in labels if lb.strip()}
    wanted_cats = {c.strip().lower() for c in categories if c.strip()}
    result = CaptureResult(labels=sorted(wanted_labels), categories=sorted(wanted_cats))
    kinds = [*(ISSUE_KINDS if wanted_labels else ()), *((TOPIC_KIND,) if wanted_cats else ())]
    if not kinds:
        return result
    stmt = (
        select(Activity, Source)
        .join(Source, Source.id == Activity.source_id)
        .where(Activity.kind.in_(kinds))
        .order_by(Activity.occurred_at, Activity.id)
    )
    if since is not None:
        stmt = stmt.where(Activity.occurred_at >= day_start(since))
    matches: list[tuple[Activity, Source]] = []
    for activity, source in session.execute(stmt):
        if activity.kind == TOPIC_KIND:
            if (activity.channel or "").lower() in wanted_cats:
                matches.append((activity, source))
        else:
            have = {str(lb).lower() for lb in (activity.attributes or {}).get("labels") or []}
            if have & wanted_labels:
                matches.append((activity, source))
    uids = [a.uid for a, _ in matches]
    known: set[str] = set()
    for start in range(0, len(uids), 500):
        known.update(
            u
            for u in session.execute(
                select(FeedbackItem.activity_uid).where(
                    FeedbackItem.activity_uid.in_(uids[start : start + 500])
                )
            ).scalars()
            if u is not None
        )
    for activity, source in matches:
        if activity.uid in known:
            result.already += 1
            continue
        origin = ISSUE_KINDS.get(activity.kind, "discourse")
        attrs = activity.attributes or {}
        item = _store(
            session,
            title=_captured_title(activity),
            body="",
            origin=origin,
            channel=activity.channel,
            url=_web_link(source, activity.kind, activity.channel, activity.target),
            member_id=None,
            identity_id=activity.actor_identity_id,
            raised_at=activity.occurred_at,
            actor=actor,
            action="captured",
            activity=activity,
            attributes={
                "source": source.name,
                "target": activity.target,
                **({"labels": list(attrs["labels"])} if attrs.get("labels") else {}),
            },
        )
        known.add(activity.uid)
        result.added.append(item.id)
    return result


# -- delete and restore -------------------------------------------------------------------------


def delete_item(session: Session, item_id: int, *, actor: str, reason: str | None) -> None:
    """Hide an item (recoverable with ``restore_item``), audited; its ``feedback:raised``
    credit is withdrawn and its open suggestions are no longer listed."""
    item = get_item(session, item_id, deleted=True)
    core.soft_delete(session, item, ITEM, actor=actor, reason=reason)
    _withdraw_credit(session, item.id)


def restore_item(session: Session, item_id: int, *, actor: str, reason: str | None) -> None:
    """Bring a deleted item back, with its credit."""
    item = get_item(session, item_id, deleted=True)
    core.restore(session, item, ITEM, actor=actor, reason=reason)
    if _emits_credit(item) and item.identity_id is not None:
        member = members_of(session, [item.identity_id]).get(item.identity_id)
        if member is not None:
            _credit(session, item, member.id)


# -- reading ------------------------------------------------------------------------------------


@dataclass
class ItemInfo:
    id: int
    title: str
    body: str
    origin: str
    channel: str | None
    link: str | None
    member_id: int | None
    member: str | None
    organization: str | None
    raised_at: datetime
    age_days: int
    theme_id: int | None
    theme: str | None
    activity_uid: str | None
    deleted_at: datetime | None
    attributes: dict[str, Any]


def item_infos(
    session: Session, items: Sequence[FeedbackItem], *, now: datetime | None = None
) -> list[ItemInfo]:
    """What a person wants to see of each item: who raised it (member and their organisation
    on that day), where, when, in which theme."""
    now = now or utcnow()
    people = members_of(session, (i.identity_id for i in items))
    by_day: dict[date, set[int]] = {}
    for i in items:
        m = people.get(i.identity_id) if i.identity_id is not None else None
        if m is not None:
            by_day.setdefault(i.raised_at.date(), set()).add(m.id)
    orgs = {day: affiliations_at(session, ids, day) for day, ids in by_day.items()}
    theme_ids = {i.theme_id for i in items if i.theme_id is not None}
    themes = {
        t.id: t
        for t in session.execute(
            select(FeedbackTheme).where(FeedbackTheme.id.in_(sorted(theme_ids)))
        ).scalars()
    }
    out = []
    for i in items:
        m = people.get(i.identity_id) if i.identity_id is not None else None
        theme = themes.get(i.theme_id) if i.theme_id is not None else None
        live = theme if theme is not None and theme.deleted_at is None else None
        out.append(
            ItemInfo(
                id=i.id,
                title=i.title,
                body=i.body,
                origin=i.origin,
                channel=i.channel,
                link=item_link(i),
                member_id=m.id if m else None,
                member=m.display_name if m else None,
                organization=orgs.get(i.raised_at.date(), {}).get(m.id) if m else None,
                raised_at=i.raised_at,
                age_days=max(0, (now - i.raised_at).days),
                theme_id=live.id if live else None,
                theme=live.title if live else None,
                activity_uid=i.activity_uid,
                deleted_at=i.deleted_at,
                attributes=dict(i.attributes or {}),
            )
        )
    return out


def list_items(
    session: Session,
    *,
    theme_id: int | None = None,
    unthemed: bool = False,
    origin: str | None = None,
    since: date | None = None,
    deleted: bool = False,
    limit: int | None = 50,
    now: datetime | None = None,
) -> list[ItemInfo]:
    """Items, newest first: live ones, or only the deleted ones (``deleted``)."""
    if origin is not None and origin not in ORIGINS:
        raise UsageError(
            f"--origin: unknown origin {origin!r}", hint=f"Origins: {', '.join(ORIGINS)}"
        )
    stmt = select(FeedbackItem).order_by(FeedbackItem.raised_at.desc(), FeedbackItem.id.desc())
    stmt = stmt.where(
        FeedbackItem.deleted_at.is_not(None) if deleted else FeedbackItem.deleted_at.is_(None)
    )
    if theme_id is not None:
        stmt = stmt.where(FeedbackItem.theme_id == theme_id)
    if unthemed:
        live = select(FeedbackTheme.id).where(FeedbackTheme.deleted_at.is_(None))
        stmt = stmt.where(FeedbackItem.theme_id.is_(None) | FeedbackItem.theme_id.not_in(live))
    if origin is not None:
        stmt = stmt.where(FeedbackItem.origin == origin)
    if since is not None:
        stmt = stmt.where(FeedbackItem.raised_at >= day_start(since))
    if limit is not None:
        stmt = stmt.limit(limit)
    return item_infos(session, list(session.execute(stmt).scalars()), now=now)


@dataclass
class ItemDetail:
    item: ItemInfo
    suggestions: list[dict[str, Any]]
    history: list[dict[str, Any]]


def item_detail(session: Session, item_id: int, *, now: datetime | None = None) -> ItemDetail:
    """One item (deleted ones too), its suggestions and its audit log."""
    item = get_item(session, item_id, deleted=True)
    (info,) = item_infos(session, [item], now=now)
    sugg = session.execute(
        select(FeedbackSuggestion)
        .where(
            (FeedbackSuggestion.item_a_id == item.id) | (FeedbackSuggestion.item_b_id == item.id)
        )
        .order_by(FeedbackSuggestion.score.desc())
    ).scalars()
    suggestions = [
        {
            "id": s.id,
            "other_item_id": s.item_b_id if s.item_a_id == item.id else s.item_a_id,
            "score": s.score,
            "status": s.status,
        }
        for s in sugg
    ]
    history = [
        {
            "at": e.at,
            "actor": e.actor,
            "action": e.action,
            "reason": e.reason,
            "details": dict(e.details or {}),
        }
        for e in core.history(session, ITEM, item.id)
    ]
    return ItemDetail(item=info, suggestions=suggestions, history=history)
