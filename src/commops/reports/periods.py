"""The periods a report covers: a month ("2026-10"), a year ("2026") or an ISO week
("2026-W43"), with the period before it and the same period a year earlier."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from commops.errors import UsageError

KINDS = ("monthly", "annual", "weekly")
# The metrics' period unit for each kind of report.
UNITS = {"monthly": "month", "annual": "year", "weekly": "week"}
_FORMS = {"monthly": "YYYY-MM", "annual": "YYYY", "weekly": "YYYY-Www"}


@dataclass(frozen=True)
class Period:
    """One period: ``start`` and ``end`` are its first and last day (inclusive)."""

    kind: str
    label: str
    start: date
    end: date

    @property
    def unit(self) -> str:
        return UNITS[self.kind]

    def previous(self) -> Period:
        return period_containing(self.kind, self.start - timedelta(days=1))

    def year_before(self) -> Period:
        """The same period a year earlier (for a week: the same ISO week number, or the last
        week of that year when it has no week 53)."""
        if self.kind == "weekly":
            year, week, _ = self.start.isocalendar()
            weeks = date(year - 1, 12, 28).isocalendar()[1]
            return parse_period("weekly", f"{year - 1}-W{min(week, weeks):02d}")
        return period_containing(self.kind, self.start.replace(year=self.start.year - 1))

    def next(self) -> Period:
        return period_containing(self.kind, self.end + timedelta(days=1))


def _month_end(year: int, month: int) -> date:
    first_next = date(year + (month == 12), month % 12 + 1, 1)
    return first_next - timedelta(days=1)


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise UsageError(f"report kind {kind!r}: use one of {', '.join(KINDS)}")
    return kind


def parse_period(kind: str, text: str) -> Period:
    """``text`` as a period of this kind; a ``UsageError`` naming the expected form if not."""
    check_kind(kind)
    form = _FORMS[kind]
    bad = UsageError(
        f"{kind} period {text!r}: not a valid {form}", hint=f"For example: {_example(kind)}"
    )
    value = text.strip()
    if kind == "monthly":
        m = re.fullmatch(r"(\d{4})-(\d{2})", value)
        if not m or not 1 <= int(m[2]) <= 12 or int(m[1]) < 1:
            raise bad
        year, month = int(m[1]), int(m[2])
        return Period(
            kind, f"{year:04d}-{month:02d}", date(year, month, 1), _month_end(year, month)
        )
    if kind == "annual":
        if not re.fullmatch(r"\d{4}", value) or int(value) < 1:
            raise bad
        year = int(value)
        return Period(kind, f"{year:04d}", date(year, 1, 1), date(year, 12, 31))
    m = re.fullmatch(r"(\d{4})-W(\d{2})", value)
    if not m or int(m[1]) < 1:
        raise bad
    try:
        monday = date.fromisocalendar(int(m[1]), int(m[2]), 1)
    except ValueError:
        raise bad from None
    return Period(kind, f"{int(m[1]):04d}-W{int(m[2]):02d}", monday, monday + timedelta(days=6))


def period_containing(kind: str, day: date) -> Period:
    """The period of this kind that ``day`` falls in."""
    check_kind(kind)
    if kind == "monthly":
        return parse_period(kind, f"{day.year:04d}-{day.month:02d}")
    if kind == "annual":
        return parse_period(kind, f"{day.year:04d}")
    year, week, _ = day.isocalendar()
    return parse_period(kind, f"{year:04d}-W{week:02d}")


def last_complete(kind: str, now: datetime) -> Period:
    """The latest period of this kind that has ended by ``now`` (the one before today's)."""
    return period_containing(kind, now.date()).previous()


def _example(kind: str) -> str:
    return {"monthly": "2026-10", "annual": "2026", "weekly": "2026-W43"}[kind]
