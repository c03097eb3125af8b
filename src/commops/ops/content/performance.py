"""How content does on its channels: views, reads and likes imported from CSV files the
channels' dashboards export, shown per item and per author.

A reading is what a channel showed for an item on a day: running totals, as dashboards show
them. The latest reading of each item on each channel is the item's number there; an item's
total is the sum over its channels; an author's is the sum over the items they (co-)authored,
each co-author getting the item's whole numbers.

The CSV file has a header row naming its columns, in any order and any case:

``item`` (an item id or a URL it was published at; ``item_id`` and ``id`` mean the same) or
``url``, then ``channel``, ``date`` (YYYY-MM-DD), and ``views``, ``reads``, ``likes`` (whole
numbers; a column may be left out or a cell left empty when a channel has no such number).

Every row is checked before anything is written; an error names the file, the line and the
column. A row for an item, channel and date already imported updates that reading: importing a
file twice changes nothing.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from commops.clock import utcnow
from commops.errors import UsageError
from commops.ops import core
from commops.ops.content.items import get_item
from commops.ops.content.models import ContentAuthor, ContentItem, ContentReading
from commops.ops.content.rules import RECORD_TYPE, channel_name
from commops.store.models import Identity, Member

METRICS = ("views", "reads", "likes")
ALIASES = {
    "item": "item",
    "item_id": "item",
    "id": "item",
    "url": "url",
    "channel": "channel",
    "date": "date",
    "views": "views",
    "reads": "reads",
    "likes": "likes",
}
MAX_ERRORS = 20
_NUMBER = re.compile(r"^(\d+|\d{1,3}(,\d{3})+)$")


@dataclass
class Reading:
    line: int
    item_id: int
    channel: str
    day: date
    views: int | None
    reads: int | None
    likes: int | None


@dataclass
class PerformanceImport:
    file: str
    rows: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    items: list[int] = field(default_factory=list)


class _Errors:
    def __init__(self, name: str) -> None:
        self.name = name
        self.found: list[str] = []

    def add(self, line: int, column: str | None, message: str) -> None:
        where = f"{self.name} line {line}" + (f": column {column!r}" if column else "")
        self.found.append(f"{where}: {message}")

    def raise_if_any(self) -> None:
        if not self.found:
            return
        more = len(self.found) - 1
        message = self.found[0] + (
            f" (and {more} more error{'s' if more > 1 else ''}; nothing imported)"
            if more
            else " (nothing imported)"
        )
        hint = "\n".join(self.found[1:MAX_ERRORS]) or None
        raise UsageError(message, hint=hint)


def _number(text: str) -> int:
    if not _NUMBER.match(text):
        raise ValueError(f"{text!r} is not a whole number (e.g. 1234)")
    return int(text.replace(",", ""))


def _header(header: Sequence[str], errors: _Errors) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, raw in enumerate(header):
        name = raw.strip().lower().lstrip("\ufeff")
        canon = ALIASES.get(name)
        if canon is None:
            errors.add(
                1,
                raw,
                "unknown column (columns: item or url, channel, date, views, reads, likes)",
            )
            continue
        if canon in columns:
            errors.add(1, raw, f"a second {canon!r} column")
            continue
        columns[canon] = index
    if "item" not in columns and "url" not in columns:
        errors.add(1, None, "no 'item' or 'url' column: each row names its content item")
    for needed in ("channel", "date"):
        if needed not in columns:
            errors.add(1, None, f"no {needed!r} column")
    if not any(m in columns for m in METRICS):
        errors.add(1, None, "none of the columns 'views', 'reads', 'likes'")
    return columns


def _item_id(session: Session, text: str, column: str) -> int:
    if not text.isdigit() and not text.startswith(("http://", "https://")):
        raise ValueError(f"{text!r} is not an item id or an http(s) URL")
    if column == "url" and text.isdigit():
        raise ValueError(f"{text!r} is not an http(s) URL")
    try:
        item = get_item(session, text)
    except UsageError as exc:
        raise ValueError(exc.message) from None
    if item.state != "published":
        raise ValueError(
            f"content {item.id} is {item.state}: performance is recorded for published items"
        )
    return item.id


def read_performance(session: Session, path: Path) -> list[Reading]:
    """Every reading of the CSV file at ``path``, checked (items exist and are published,
    channels, dates and numbers well formed, no row twice), or a UsageError naming the file,
    line and column of each problem."""
    name = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"{name}: not UTF-8 text (byte {exc.start})") from None
    reader = csv.reader(text.splitlines(keepends=True))
    errors = _Errors(name)
    try:
        header = next(reader)
    except StopIteration:
        raise UsageError(f"{name}: the file is empty: it needs a header row") from None
    columns = _header(header, errors)
    errors.raise_if_any()
    readings: list[Reading] = []
    seen: dict[tuple[int, str, date], int] = {}
    urls: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            errors.add(line, None, f"{len(row)} fields, the header has {len(header)}")
            continue

        def cell(column: str, row: list[str] = row) -> str:
            index = columns.get(column)
            return row[index].strip() if index is not None else ""

        ok = True
        item_ids: list[int] = []
        for column in ("item", "url"):
            value = cell(column)
            if not value:
                continue
            try:
                if column == "url" and value in urls:
                    item_ids.append(urls[value])
                else:
                    item_ids.append(_item_id(session, value, column))
                    if column == "url":
                        urls[value] = item_ids[-1]
            except ValueError as exc:
                errors.add(line, column, str(exc))
                ok = False
        if ok and not item_ids:
            errors.add(line, "item" if "item" in columns else "url", "empty: name the item")
            ok = False
        elif ok and len(set(item_ids)) > 1:
            errors.add(
                line, "url", f"names content {item_ids[1]}, the item column content {item_ids[0]}"
            )
            ok = False
        channel = ""
        try:
            channel = channel_name(cell("channel"), field="channel")
        except UsageError as exc:
            errors.add(line, "channel", exc.message.removeprefix("channel: "))
            ok = False
        day: date | None = None
        try:
            day = date.fromisoformat(cell("date"))
        except ValueError:
            errors.add(line, "date", f"{cell('date')!r} is not a date (YYYY-MM-DD)")
            ok = False
        values: dict[str, int | None] = {}
        for metric in METRICS:
            raw = cell(metric)
            if not raw:
                values[metric] = None
                continue
            try:
                values[metric] = _number(raw)
            except ValueError as exc:
                errors.add(line, metric, str(exc))
                ok = False
        if ok and all(v is None for v in values.values()):
            errors.add(line, None, "no views, reads or likes: the row has no number")
            ok = False
        if not ok or day is None:
            continue
        key = (item_ids[0], channel, day)
        if key in seen:
            errors.add(
                line,
                None,
                f"repeats line {seen[key]} (content {key[0]}, channel {channel}, date {day})",
            )
            continue
        seen[key] = line
        readings.append(Reading(line, item_ids[0], channel, day, **values))
    errors.raise_if_any()
    return readings


def import_performance(session: Session, path: Path, *, actor: str) -> PerformanceImport:
    """Import the readings of a CSV file (see the module docstring): all or nothing."""
    readings = read_performance(session, path)
    stats = PerformanceImport(file=path.name, rows=len(readings))
    now = utcnow()
    per_item: dict[int, dict[str, int]] = defaultdict(lambda: {"added": 0, "updated": 0})
    for r in readings:
        stored = session.execute(
            select(ContentReading).where(
                ContentReading.item_id == r.item_id,
                ContentReading.channel == r.channel,
                ContentReading.day == r.day,
            )
        ).scalar_one_or_none()
        if stored is None:
            session.add(
                ContentReading(
                    item_id=r.item_id,
                    channel=r.channel,
                    day=r.day,
                    views=r.views,
                    reads=r.reads,
                    likes=r.likes,
                    origin=path.name[:500],
                    imported_at=now,
                )
            )
            stats.added += 1
            per_item[r.item_id]["added"] += 1
        elif (stored.views, stored.reads, stored.likes) != (r.views, r.reads, r.likes):
            stored.views, stored.reads, stored.likes = r.views, r.reads, r.likes
            stored.origin, stored.imported_at = path.name[:500], now
            stats.updated += 1
            per_item[r.item_id]["updated"] += 1
        else:
            stats.unchanged += 1
    session.flush()
    for item_id, counts in sorted(per_item.items()):
        core.record(
            session,
            actor=actor,
            record_type=RECORD_TYPE,
            record_id=item_id,
            action="performance-imported",
            details={"file": path.name, **counts},
        )
    stats.items = sorted({r.item_id for r in readings})
    return stats


# -- reading it back --------------------------------------------------------------------------


def _latest(session: Session, item_ids: Sequence[int] | None) -> dict[int, list[ContentReading]]:
    """The latest reading of each item on each channel, by item."""
    stmt = select(ContentReading).order_by(
        ContentReading.item_id, ContentReading.channel, ContentReading.day
    )
    if item_ids is not None:
        stmt = stmt.where(ContentReading.item_id.in_(list(item_ids)))
    latest: dict[tuple[int, str], ContentReading] = {}
    for reading in session.execute(stmt).scalars():
        latest[(reading.item_id, reading.channel)] = reading
    by_item: dict[int, list[ContentReading]] = defaultdict(list)
    for (item_id, _), reading in sorted(latest.items()):
        by_item[item_id].append(reading)
    return by_item


def _totals(readings: Sequence[ContentReading]) -> dict[str, int]:
    return {m: sum(getattr(r, m) or 0 for r in readings) for m in METRICS}


def by_item(session: Session, item_ids: Sequence[int] | None = None) -> list[dict[str, Any]]:
    """Per item (not deleted, with readings): its numbers per channel (latest reading) and in
    total, most viewed first."""
    latest = _latest(session, item_ids)
    if not latest:
        return []
    items = {
        i.id: i
        for i in session.execute(
            select(ContentItem).where(
                ContentItem.id.in_(list(latest)), ContentItem.deleted_at.is_(None)
            )
        ).scalars()
    }
    rows: list[dict[str, Any]] = []
    for item_id, readings in latest.items():
        item = items.get(item_id)
        if item is None:
            continue
        rows.append(
            {
                "item_id": item_id,
                "title": item.title,
                "kind": item.kind,
                "as_of": max(r.day for r in readings),
                **_totals(readings),
                "channels": [
                    {
                        "channel": r.channel,
                        "as_of": r.day,
                        "views": r.views,
                        "reads": r.reads,
                        "likes": r.likes,
                    }
                    for r in readings
                ],
            }
        )
    rows.sort(key=lambda r: (-r["views"], -r["reads"], r["item_id"]))
    return rows


def by_author(session: Session, member_ids: Sequence[int] | None = None) -> list[dict[str, Any]]:
    """Per author: how many of their items have readings, and those items' numbers summed."""
    items = {r["item_id"]: r for r in by_item(session)}
    if not items:
        return []
    stmt = (
        select(Member.id, ContentAuthor.item_id, Member.display_name)
        .join(Identity, Identity.id == ContentAuthor.identity_id)
        .join(Member, Member.id == Identity.member_id)
        .where(ContentAuthor.item_id.in_(list(items)))
        .order_by(Member.id, ContentAuthor.item_id)
        .distinct()
    )
    if member_ids is not None:
        stmt = stmt.where(Member.id.in_(list(member_ids)))
    authors: dict[int, dict[str, Any]] = {}
    for member_id, item_id, name in session.execute(stmt):
        row = authors.setdefault(
            member_id,
            {"member_id": member_id, "display_name": name, "items": 0} | dict.fromkeys(METRICS, 0),
        )
        row["items"] += 1
        for metric in METRICS:
            row[metric] += items[item_id][metric]
    return sorted(authors.values(), key=lambda r: (-r["views"], -r["reads"], r["member_id"]))


def history(session: Session, item_id: int) -> list[ContentReading]:
    """Every reading of an item, by channel and day."""
    return list(
        session.execute(
            select(ContentReading)
            .where(ContentReading.item_id == item_id)
            .order_by(ContentReading.channel, ContentReading.day)
        ).scalars()
    )
