"""The editorial calendar: what is scheduled and what was published, per week (Monday to
Sunday, ISO weeks) and channel, with the gaps (a week in which a channel has nothing scheduled
or published) shown rather than hidden.

A post counts in the week of its day: a scheduled post on its ``scheduled_on`` day, a published
post (first publication or cross-post) on the day of its ``published_at`` (UTC). Cancelled
posts (their item was withdrawn) and deleted items do not count. Without a channel filter the
channels are every channel any item was ever scheduled or published on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from commops.clock import utcnow
from commops.errors import UsageError
from commops.ops.content.models import ContentItem, ContentPost
from commops.ops.content.rules import channel_name

MAX_WEEKS = 530  # ten years: a calendar is for planning, not for dumping history


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_label(monday: date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


@dataclass
class CalendarEntry:
    item_id: int
    title: str
    kind: str
    day: date
    url: str | None = None
    overdue: bool = False  # scheduled for a day that has passed, not published


@dataclass
class CalendarCell:
    week: date  # the Monday
    channel: str
    scheduled: list[CalendarEntry] = field(default_factory=list)
    published: list[CalendarEntry] = field(default_factory=list)

    @property
    def gap(self) -> bool:
        return not self.scheduled and not self.published

    @property
    def label(self) -> str:
        return week_label(self.week)


@dataclass
class Calendar:
    since: date
    until: date
    channels: list[str]
    weeks: list[date]
    cells: list[CalendarCell]

    @property
    def gaps(self) -> list[CalendarCell]:
        return [c for c in self.cells if c.gap]

    def cell(self, week: date, channel: str) -> CalendarCell:
        for c in self.cells:
            if c.week == week_start(week) and c.channel == channel:
                return c
        raise KeyError((week, channel))


def calendar(
    session: Session,
    *,
    since: date,
    until: date,
    channels: Sequence[str] = (),
    today: date | None = None,
) -> Calendar:
    """Scheduled and published items per week and channel from the week of ``since`` to the
    week of ``until`` (both included)."""
    if since > until:
        raise UsageError(f"--since {since} is after --until {until}")
    first, last = week_start(since), week_start(until)
    weeks = [first + timedelta(weeks=i) for i in range((last - first).days // 7 + 1)]
    if len(weeks) > MAX_WEEKS:
        raise UsageError(
            f"--since {since} to --until {until} is {len(weeks)} weeks: at most {MAX_WEEKS}"
        )
    now = today or utcnow().date()
    rows = session.execute(
        select(ContentPost, ContentItem)
        .join(ContentItem, ContentItem.id == ContentPost.item_id)
        .where(ContentItem.deleted_at.is_(None), ContentPost.state != "cancelled")
        .order_by(ContentPost.id)
    ).all()
    names = [channel_name(c) for c in channels]
    if not names:
        names = sorted({post.channel for post, _ in rows})
    cells = {(w, c): CalendarCell(week=w, channel=c) for w in weeks for c in names}
    end = last + timedelta(days=6)
    for post, item in rows:
        if post.channel not in names:
            continue
        if post.state == "scheduled" and post.scheduled_on is not None:
            day = post.scheduled_on
        elif post.state == "published" and post.published_at is not None:
            day = post.published_at.date()
        else:
            continue
        if not first <= day <= end:
            continue
        entry = CalendarEntry(
            item_id=item.id,
            title=item.title,
            kind=item.kind,
            day=day,
            url=post.url,
            overdue=post.state == "scheduled" and day < now,
        )
        cell = cells[(week_start(day), post.channel)]
        (cell.scheduled if post.state == "scheduled" else cell.published).append(entry)
    for cell in cells.values():
        cell.scheduled.sort(key=lambda e: (e.day, e.item_id))
        cell.published.sort(key=lambda e: (e.day, e.item_id))
    return Calendar(
        since=since,
        until=until,
        channels=names,
        weeks=weeks,
        cells=[cells[(w, c)] for w in weeks for c in names],
    )
