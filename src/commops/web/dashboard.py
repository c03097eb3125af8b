"""The overview's headline numbers: one month against the month before, each from the metrics
catalogue (or, for content and events, from their workflows), each linked to where it comes
from. Shared by the overview page, ``/api/v1/overview`` and the public dashboard."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from commops.analytics.metrics import Result
from commops.clock import utcnow
from commops.errors import UsageError
from commops.ops.content.models import ContentItem
from commops.ops.events.models import Event
from commops.web.insights import Insights

METRICS = (
    "stars",
    "downloads",
    "active-contributors",
    "new-contributors",
    "time-to-first-response",
    "community-support",
)


@dataclass(frozen=True)
class Headline:
    key: str
    label: str
    value: float | None
    previous: float | None
    unit: str  # "count", "hours" or "share"
    link: str
    better: str = "up"  # which direction is good news

    @property
    def change(self) -> float | None:
        """Relative change against the previous period (None when there is nothing to compare)."""
        if self.value is None or self.previous in (None, 0):
            return None
        assert self.previous is not None
        return (self.value - self.previous) / self.previous

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "value": self.value,
            "previous": self.previous,
            "change": None if self.change is None else round(self.change, 4),
            "unit": self.unit,
            "link": self.link,
        }


@dataclass(frozen=True)
class Overview:
    month: date
    previous: date
    months: list[date]
    headlines: list[Headline]
    series: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "month": self.month.strftime("%Y-%m"),
            "previous": self.previous.strftime("%Y-%m"),
            "months": [m.strftime("%Y-%m") for m in self.months],
            "headlines": [h.to_json() for h in self.headlines],
            "series": self.series,
        }


def _shift(month: date, by: int) -> date:
    n = month.year * 12 + month.month - 1 + by
    return date(n // 12, n % 12 + 1, 1)


def parse_month(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return datetime.strptime(value, "%Y-%m").date()
    except ValueError:
        raise UsageError(f"month {value!r}: use YYYY-MM, e.g. 2024-03") from None


def _by_period(result: Result, column: str, **where: Any) -> dict[date, float]:
    out: dict[date, float] = {}
    for row in result.rows:
        if all(row.get(k) == v for k, v in where.items()) and row.get(column) is not None:
            out[row["period"]] = out.get(row["period"], 0) + float(row[column])
    return out


def _monthly_counts(session: Session, column: Any, *where: Any) -> dict[date, float]:
    out: dict[date, float] = {}
    for (at,) in session.execute(select(column).where(column.is_not(None), *where)):
        month = date(at.year, at.month, 1)
        out[month] = out.get(month, 0) + 1
    return out


def overview(insights: Insights, session: Session, month: date | None = None) -> Overview:
    """Headline numbers for ``month`` (default: the last complete month with activity)."""
    results = insights.results(METRICS, period="month")
    active = _by_period(results["active-contributors"], "active_contributors")
    this_month = date(utcnow().year, utcnow().month, 1)
    months = sorted(m for m in active if m < this_month) or sorted(active) or [this_month]
    if month is None:
        month = months[-1]
    previous = _shift(month, -1)
    published = _monthly_counts(session, ContentItem.published_at, ContentItem.deleted_at.is_(None))
    held = _monthly_counts(session, Event.starts_at, Event.state == "held")
    tables = {
        "stars": _by_period(results["stars"], "new"),
        "downloads": _by_period(results["downloads"], "downloads"),
        "active": active,
        "new": _by_period(results["new-contributors"], "new_contributors"),
        "ttfr": _by_period(results["time-to-first-response"], "p50_hours", item_type="issue"),
        "answers": _by_period(results["community-support"], "community_share"),
        "content": published,
        "events": held,
    }
    spec = [
        ("stars", "New stars", "count", "/metrics/stars", "up", True),
        ("downloads", "Downloads", "count", "/metrics/downloads", "up", True),
        ("active", "Active contributors", "count", "/metrics/active-contributors", "up", True),
        ("new", "New contributors", "count", "/metrics/new-contributors", "up", True),
        (
            "ttfr",
            "Time to first response (issues, median)",
            "hours",
            "/metrics/time-to-first-response",
            "down",
            False,
        ),
        (
            "answers",
            "Questions answered by the community",
            "share",
            "/metrics/community-support",
            "up",
            False,
        ),
        ("content", "Content published", "count", "/content", "up", True),
        ("events", "Events held", "count", "/events", "up", True),
    ]
    headlines = []
    for key, label, unit, link, better, zero_if_absent in spec:
        table = tables[key]
        default = 0.0 if zero_if_absent else None
        headlines.append(
            Headline(
                key,
                label,
                table.get(month, default),
                table.get(previous, default),
                unit,
                link,
                better,
            )
        )
    window = [_shift(month, -i) for i in range(11, -1, -1)]
    series = {
        "contributors": [
            {
                "period": m.isoformat(),
                "active": int(active.get(m, 0)),
                "new": int(tables["new"].get(m, 0)),
            }
            for m in window
        ],
        "stars": [{"period": m.isoformat(), "new": int(tables["stars"].get(m, 0))} for m in window],
    }
    return Overview(month, previous, months, headlines, series)
