"""What goes into a report: every number from the metrics catalogue (``commops.metrics``), the
operations sections from the ops domain modules' read functions.

Each number is a :class:`Figure` that remembers the metric, the parameters it was computed
with and the row and column it was read from, so anyone (a test, an auditor) can ask
``commops metrics`` for the same figure and get the same value. The figures travel with the
report (a JSON block in HTML, a comment in Markdown).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from commops.analytics.engine import Engine
from commops.analytics.metrics import RELEASE_KINDS, Params, Result
from commops.analytics.metrics import Metrics as Catalogue
from commops.metrics import compute_all
from commops.reports.periods import Period
from commops.workspace import Workspace

# The series and per-period tables a report compares across periods.
TREND_METRICS = (
    "active-contributors",
    "new-contributors",
    "returning-contributors",
    "inactive-contributors",
    "stars",
    "forks",
    "watchers",
    "downloads",
    "commits",
    "merged-prs",
    "contribution-types",
    "time-to-first-response",
    "time-to-merge",
    "change-requests",
    "releases",
    "community-support",
)
# Rankings over the whole period.
RANKING_METRICS = ("top-contributors", "top-answerers", "developer-activity")


@dataclass(frozen=True)
class Figure:
    """One number in a report: ``metric``'s row matching ``key`` (all of it), column
    ``column``, computed with ``params``; ``value`` None when no row matched."""

    metric: str
    column: str
    key: dict[str, Any]
    params: dict[str, Any]
    value: Any

    def to_json(self) -> dict[str, Any]:
        return {
            "metric": self.metric,
            "column": self.column,
            "key": self.key,
            "params": self.params,
            "value": self.value,
        }


def jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


@dataclass
class Metrics:
    """The results of one ``compute_all`` call and the figures read from them."""

    params: dict[str, Any]
    results: dict[str, Result]
    figures: list[Figure]

    def row(self, metric: str, **key: Any) -> dict[str, Any] | None:
        want = {k: jsonable(v) for k, v in key.items()}
        for r in self.results[metric].rows:
            if all(jsonable(r.get(k)) == v for k, v in want.items()):
                return r
        return None

    def fig(self, metric: str, column: str, **key: Any) -> Figure:
        """The figure, recorded so that it is listed with the report's figures."""
        r = self.row(metric, **key)
        value = None if r is None else jsonable(r.get(column))
        f = Figure(metric, column, {k: jsonable(v) for k, v in key.items()}, self.params, value)
        self.figures.append(f)
        return f

    def rows(self, metric: str, **key: Any) -> list[dict[str, Any]]:
        want = {k: jsonable(v) for k, v in key.items()}
        return [
            r
            for r in self.results[metric].rows
            if all(jsonable(r.get(k)) == v for k, v in want.items())
        ]


def run_metrics(
    ws: Workspace, names: Sequence[str], unit: str, since: date, until: date, figures: list[Figure]
) -> Metrics:
    params = {"period": unit, "since": since.isoformat(), "until": until.isoformat()}
    results = compute_all(list(names), workspace=ws.root, period=unit, since=since, until=until)
    return Metrics(params, results, figures)


@dataclass
class Compared:
    """A figure in this period, the period before and the same period a year earlier."""

    label: str
    current: Figure
    previous: Figure
    year_ago: Figure
    unit: str = ""  # "h" for hours, "%" for a share

    @property
    def change(self) -> float | None:
        """Change against the previous period, as a share (0.1 = +10%)."""
        now, before = self.current.value, self.previous.value
        if not isinstance(now, int | float) or not isinstance(before, int | float) or not before:
            return None
        return (now - before) / before

    @property
    def change_year(self) -> float | None:
        now, before = self.current.value, self.year_ago.value
        if not isinstance(now, int | float) or not isinstance(before, int | float) or not before:
            return None
        return (now - before) / before


@dataclass
class Person:
    member_id: int | None
    name: str
    figures: dict[str, Figure] = field(default_factory=dict)
    note: str = ""


@dataclass
class ReportData:
    """Everything a monthly or annual report shows."""

    kind: str
    period: Period
    previous: Period
    year_ago: Period
    figures: list[Figure]
    summary: list[Compared]
    adoption: list[Compared]
    downloads: list[Compared]
    contributors: list[Compared]
    welcomed: list[Person]
    contribution_types: list[dict[str, Any]]
    top_contributors: list[Person]
    responsiveness: list[Compared]
    support: list[Compared]
    top_answerers: list[Person]
    top_reviewers: list[Person]
    content: list[dict[str, Any]]
    events: list[dict[str, Any]]
    collaborations: list[dict[str, Any]]
    governance: list[dict[str, Any]]
    feedback: list[dict[str, Any]]
    trend: list[dict[str, Any]]  # one row per month: the charts' data
    charts: dict[str, str] = field(default_factory=dict)  # id -> SVG, filled by the renderer


def _compared(
    m: Metrics,
    periods: tuple[Period, Period, Period],
    label: str,
    metric: str,
    column: str,
    unit: str = "",
    **key: Any,
) -> Compared:
    now, before, year = (m.fig(metric, column, period=p.start, **key) for p in periods)
    return Compared(label, now, before, year, unit)


def _names(welcome: Result) -> list[Person]:
    seen: dict[int, Person] = {}
    for r in welcome.rows:
        if r["member_id"] not in seen:
            seen[r["member_id"]] = Person(r["member_id"], str(r["display_name"]))
    return sorted(seen.values(), key=lambda p: p.name.lower())


def welcomed(ws: Workspace, period: Period) -> list[Person]:
    """The members whose first contribution falls in the period, by name (the activities
    behind ``new-contributors`` for that period)."""
    return _names(explain(ws, "new-contributors", period))


def explain(ws: Workspace, name: str, period: Period) -> Result:
    """``commops metrics NAME --explain`` for this period (``commops.metrics.explain`` takes
    the period's day as its ``period`` argument, so it cannot also be given the unit). The
    snapshot has been brought up to date by ``run_metrics`` before."""
    params = Params(period=period.unit, since=period.start, until=period.end)
    return Catalogue(Engine(ws.snapshot_dir), params).explain(name, period.start)


def _in(day: date | datetime | None, period: Period) -> bool:
    if day is None:
        return False
    d = day.date() if isinstance(day, datetime) else day
    return period.start <= d <= period.end


def content_published(session: Session, period: Period) -> list[dict[str, Any]]:
    from commops.ops.content import list_items
    from commops.ops.content.performance import by_item

    items = [i for i in list_items(session, state="published") if _in(i.published_at, period)]
    numbers = {r["item_id"]: r for r in by_item(session, [i.id for i in items])} if items else {}
    out = []
    for i in sorted(items, key=lambda i: (i.published_at or datetime.min, i.id)):
        n = numbers.get(i.id, {})
        out.append(
            {
                "id": i.id,
                "title": i.title,
                "kind": i.kind,
                "published": i.published_at.date() if i.published_at else None,
                "url": i.url,
                "views": n.get("views"),
                "reads": n.get("reads"),
                "likes": n.get("likes"),
            }
        )
    return out


def events_held(session: Session, period: Period) -> list[dict[str, Any]]:
    from commops.ops.events import EventRegistration, event_impact, list_events

    out = []
    for e in list_events(session):
        if not _in(e.starts_at, period) or e.state == "cancelled":
            continue
        regs = session.execute(
            select(
                func.count(EventRegistration.id), func.count(EventRegistration.checked_in_at)
            ).where(EventRegistration.event_id == e.id)
        ).one()
        impact = event_impact(session, e.id, (30,))
        attendees = next((c for c in impact.cohorts if c.name == "attendees"), None)
        out.append(
            {
                "id": e.id,
                "title": e.title,
                "kind": e.kind,
                "day": e.starts_at.date(),
                "city": e.city or "",
                "online": e.online,
                "state": e.state,
                "registered": int(regs[0]),
                "attended": int(regs[1]),
                "first_contributions_30d": attendees.windows[0].any if attendees else 0,
            }
        )
    return out


def upcoming_events(session: Session, after: date, days: int = 60) -> list[dict[str, Any]]:
    from commops.ops.events import upcoming

    moment = datetime.combine(after + timedelta(days=1), datetime.min.time())
    horizon = moment + timedelta(days=days)
    return [
        {
            "id": e.id,
            "title": e.title,
            "kind": e.kind,
            "day": e.starts_at.date(),
            "city": e.city or "",
            "online": e.online,
            "url": e.url,
        }
        for e in upcoming(session, now=moment)
        if e.starts_at < horizon
    ]


def collaborations_in(session: Session, period: Period) -> list[dict[str, Any]]:
    from commops.ops.ecosystem import collaborations, list_partners

    out = []
    for partner in list_partners(session):
        for c in collaborations(session, partner.id):
            started = _in(c.start_date, period)
            ended = _in(c.end_date, period) and c.status == "completed"
            if started or ended:
                out.append(
                    {
                        "partner": partner.name,
                        "title": c.title,
                        "kind": c.kind,
                        "status": c.status,
                        "started": c.start_date if started else None,
                        "completed": c.end_date if ended else None,
                        "outcomes": len(c.outcomes or []),
                    }
                )
    return sorted(out, key=lambda r: (r["partner"].lower(), r["title"].lower()))


def governance_changes(session: Session, period: Period) -> list[dict[str, Any]]:
    """Roles granted in the period (promotions; ambassador roles among them) and committee
    terms that began in it."""
    from commops.ops.governance.models import RoleGrant, Seat, Term
    from commops.store.models import Member

    out: list[dict[str, Any]] = []
    grants = session.execute(
        select(RoleGrant, Member.display_name)
        .join(Member, Member.id == RoleGrant.member_id)
        .where(RoleGrant.granted_on >= period.start, RoleGrant.granted_on <= period.end)
        .order_by(RoleGrant.granted_on, RoleGrant.id)
    ).all()
    for g, name in grants:
        kind = "New ambassador" if "ambassador" in g.role.lower() else "Promotion"
        out.append(
            {"change": kind, "who": name, "role": g.role, "ladder": g.ladder, "on": g.granted_on}
        )
    terms = session.execute(
        select(Term, Seat, Member.display_name)
        .join(Seat, Seat.id == Term.seat_id)
        .join(Member, Member.id == Term.member_id)
        .where(Term.start >= period.start, Term.start <= period.end)
        .order_by(Term.start, Term.id)
    ).all()
    for t, seat, name in terms:
        out.append(
            {
                "change": "Committee seat",
                "who": name,
                "role": f"{seat.committee}: {seat.name}",
                "ladder": t.method,
                "on": t.start,
            }
        )
    return out


def feedback_closed(session: Session, period: Period) -> list[dict[str, Any]]:
    from commops.ops.feedback.models import FeedbackItem, FeedbackTheme

    themes = session.execute(
        select(FeedbackTheme)
        .where(
            FeedbackTheme.status.in_(("shipped", "declined")), FeedbackTheme.deleted_at.is_(None)
        )
        .order_by(FeedbackTheme.status_at, FeedbackTheme.id)
    ).scalars()
    out = []
    for t in themes:
        if not _in(t.status_at, period):
            continue
        items = session.execute(
            select(func.count(FeedbackItem.id)).where(
                FeedbackItem.theme_id == t.id, FeedbackItem.deleted_at.is_(None)
            )
        ).scalar_one()
        out.append(
            {
                "title": t.title,
                "status": t.status,
                "area": t.product_area or "",
                "on": t.status_at.date(),
                "items": int(items),
                "reason": t.reason or "",
                "link": t.link or "",
            }
        )
    return out


def report_data(ws: Workspace, period: Period) -> ReportData:
    """The monthly or annual report's data for ``period`` (kind "monthly" or "annual")."""
    previous, year_ago = period.previous(), period.year_before()
    periods = (period, previous, year_ago)
    figures: list[Figure] = []
    trend = run_metrics(ws, TREND_METRICS, period.unit, year_ago.start, period.end, figures)
    top = run_metrics(ws, RANKING_METRICS, period.unit, period.start, period.end, figures)

    def c(label: str, metric: str, column: str, unit: str = "", **key: Any) -> Compared:
        return _compared(trend, periods, label, metric, column, unit, **key)

    contributors = [
        c("Active contributors", "active-contributors", "active_contributors"),
        c("New contributors", "new-contributors", "new_contributors"),
        c("Returning contributors", "returning-contributors", "returning_contributors"),
        c("Contributors who became inactive", "inactive-contributors", "inactive_contributors"),
    ]
    adoption = [
        c("New stars", "stars", "new"),
        c("Stars in total", "stars", "total"),
        c("New forks", "forks", "new"),
        c("Watchers", "watchers", "watchers"),
    ]
    channels = sorted({str(r["channel"]) for r in trend.results["downloads"].rows})
    downloads = [c(ch, "downloads", "downloads", channel=ch) for ch in channels]
    responsiveness = [
        c("Commits", "commits", "commits"),
        c("Merged pull requests", "merged-prs", "merged_prs"),
        c(
            "Issues: median hours to first response",
            "time-to-first-response",
            "p50_hours",
            "h",
            item_type="issue",
        ),
        c(
            "Pull requests: median hours to first response",
            "time-to-first-response",
            "p50_hours",
            "h",
            item_type="pr",
        ),
        c("Median hours to merge", "time-to-merge", "p50_hours", "h"),
        c("Pull requests accepted", "change-requests", "acceptance_ratio", "%"),
        c("Releases", "releases", "releases"),
    ]
    support = [
        c("Questions asked", "community-support", "questions"),
        c("Questions answered", "community-support", "answered"),
        c("Answers accepted", "community-support", "accepted"),
        c("Median hours to first answer", "community-support", "p50_hours", "h"),
    ]
    summary = [contributors[0], contributors[1], adoption[0], responsiveness[1], support[0]]
    types = [
        {
            "type": r["contribution_type"],
            "contributions": trend.fig(
                "contribution-types",
                "contributions",
                period=period.start,
                contribution_type=r["contribution_type"],
            ),
            "members": trend.fig(
                "contribution-types",
                "members",
                period=period.start,
                contribution_type=r["contribution_type"],
            ),
        }
        for r in sorted(
            trend.rows("contribution-types", period=period.start),
            key=lambda r: (-int(r["contributions"]), str(r["contribution_type"])),
        )
    ]
    top_people = [
        Person(
            r["member_id"],
            str(r["display_name"]),
            {
                "contributions": top.fig("top-contributors", "contributions", rank=r["rank"]),
                "commits": top.fig("top-contributors", "commits", rank=r["rank"]),
            },
        )
        for r in top.results["top-contributors"].rows
    ]
    answerers = [
        Person(
            r["member_id"],
            str(r["display_name"]),
            {
                "answers": top.fig("top-answerers", "answers", rank=r["rank"]),
                "accepted": top.fig("top-answerers", "accepted", rank=r["rank"]),
            },
        )
        for r in top.results["top-answerers"].rows
    ]
    trend_rows = _trend_rows(ws, period, trend)
    with ws.store.session() as session:
        content = content_published(session, period)
        events = events_held(session, period)
        collabs = collaborations_in(session, period)
        governance = governance_changes(session, period)
        feedback = feedback_closed(session, period)
    return ReportData(
        kind=period.kind,
        period=period,
        previous=previous,
        year_ago=year_ago,
        figures=figures,
        summary=summary,
        adoption=adoption,
        downloads=downloads,
        contributors=contributors,
        welcomed=welcomed(ws, period),
        contribution_types=types,
        top_contributors=top_people,
        responsiveness=responsiveness,
        support=support,
        top_answerers=answerers,
        top_reviewers=reviewers(top, period, 10),
        content=content,
        events=events,
        collaborations=collabs,
        governance=governance,
        feedback=feedback,
        trend=trend_rows,
    )


def _trend_rows(ws: Workspace, period: Period, trend: Metrics) -> list[dict[str, Any]]:
    """Month by month for the charts: the 13 months up to a monthly report's month, the
    twelve months of an annual report's year."""
    if period.kind == "annual":
        months = compute_all(
            ["active-contributors", "new-contributors", "stars"],
            workspace=ws.root,
            period="month",
            since=period.start,
            until=period.end,
        )
    else:
        months = trend.results
    by_month: dict[str, dict[str, Any]] = defaultdict(dict)
    for name, column in (
        ("active-contributors", "active_contributors"),
        ("new-contributors", "new_contributors"),
        ("stars", "new"),
    ):
        key = "new_stars" if name == "stars" else column
        for r in months[name].rows:
            by_month[jsonable(r["period"])][key] = r[column]
    return [
        {"period": p, **{k: v or 0 for k, v in values.items()}}
        for p, values in sorted(by_month.items())
    ]


# -- the weekly newsletter ----------------------------------------------------------------


@dataclass
class Change:
    channel: str
    target: str
    title: str
    author: str


@dataclass
class NewsletterData:
    period: Period
    figures: list[Figure]
    new_contributors: Figure
    welcomed: list[Person]
    merged: Figure
    changes: dict[str, list[Change]]  # by area (repository)
    releases: Figure
    release_list: list[dict[str, Any]]
    articles: list[dict[str, Any]]
    upcoming: list[dict[str, Any]]
    answerers: list[Person]
    reviewers: list[Person]
    volunteers: list[Person]


def _changes(ws: Workspace, period: Period) -> dict[str, list[Change]]:
    result = explain(ws, "merged-prs", period)
    areas: dict[str, list[Change]] = defaultdict(list)
    seen: set[tuple[str, str]] = set()
    for r in result.rows:
        area = str(r["channel"] or r["source"])
        key = (area, str(r["target"]))
        if key in seen:
            continue
        seen.add(key)
        title = str(r["title"] or "").splitlines()[0] if r["title"] else ""
        # A squashed commit's subject ends with its PR number, which the list shows anyway.
        title = re.sub(rf"\s*\(#{re.escape(str(r['target']))}\)$", "", title)
        areas[area].append(Change(area, str(r["target"] or ""), title, str(r["display_name"])))
    return dict(sorted(areas.items()))


def _releases(session: Session, period: Period) -> list[dict[str, Any]]:
    from commops.store.models import Activity

    lo = datetime.combine(period.start, datetime.min.time())
    hi = datetime.combine(period.end + timedelta(days=1), datetime.min.time())
    rows = session.execute(
        select(Activity.channel, Activity.target, Activity.title, Activity.occurred_at)
        .where(
            Activity.kind.in_(RELEASE_KINDS), Activity.occurred_at >= lo, Activity.occurred_at < hi
        )
        .order_by(Activity.occurred_at, Activity.id)
    ).all()
    return [
        {"channel": ch or "", "tag": t or "", "title": title or t or "", "day": at.date()}
        for ch, t, title, at in rows
    ]


def _volunteers(session: Session, period: Period) -> list[Person]:
    from commops.store.models import Activity, Identity, Member

    lo = datetime.combine(period.start, datetime.min.time())
    hi = datetime.combine(period.end + timedelta(days=1), datetime.min.time())
    rows = session.execute(
        select(Member.id, Member.display_name, func.count(Activity.id))
        .join(Identity, Identity.id == Activity.actor_identity_id)
        .join(Member, Member.id == Identity.member_id)
        .where(
            Activity.kind == "event:volunteered",
            Activity.occurred_at >= lo,
            Activity.occurred_at < hi,
        )
        .group_by(Member.id, Member.display_name)
        .order_by(func.count(Activity.id).desc(), Member.display_name)
    ).all()
    return [Person(mid, name, note=str(n)) for mid, name, n in rows]


def reviewers(m: Metrics, period: Period, most: int) -> list[Person]:
    """The members with the most review comments in one repository in the period: the top
    ``developer-activity`` rows by ``review_comment`` (one row per member and repository, so
    each figure is one row of the metric)."""
    rows = [r for r in m.rows("developer-activity", period=period.start) if r["review_comment"]]
    rows.sort(key=lambda r: (-int(r["review_comment"]), str(r["display_name"]).lower()))
    return [
        Person(
            r["member_id"],
            str(r["display_name"]),
            {
                "reviews": m.fig(
                    "developer-activity",
                    "review_comment",
                    period=period.start,
                    channel=r["channel"],
                    member_id=r["member_id"],
                )
            },
            note=str(r["channel"]),
        )
        for r in rows[:most]
    ]


def newsletter_data(ws: Workspace, period: Period, *, most: int = 5) -> NewsletterData:
    figures: list[Figure] = []
    week = run_metrics(
        ws,
        ("new-contributors", "merged-prs", "releases", "top-answerers", "developer-activity"),
        "week",
        period.start,
        period.end,
        figures,
    )
    new = week.fig("new-contributors", "new_contributors", period=period.start)
    merged = week.fig("merged-prs", "merged_prs", period=period.start)
    releases = week.fig("releases", "releases", period=period.start)
    answerers = [
        Person(
            r["member_id"],
            str(r["display_name"]),
            {"answers": week.fig("top-answerers", "answers", rank=r["rank"])},
        )
        for r in week.results["top-answerers"].rows[:most]
    ]
    with ws.store.session() as session:
        release_list = _releases(session, period)
        articles = content_published(session, period)
        coming = upcoming_events(session, period.end)
        volunteers = _volunteers(session, period)
    return NewsletterData(
        period=period,
        figures=figures,
        new_contributors=new,
        welcomed=welcomed(ws, period),
        merged=merged,
        changes=_changes(ws, period),
        releases=releases,
        release_list=release_list,
        articles=articles,
        upcoming=coming,
        answerers=answerers,
        reviewers=reviewers(week, period, most),
        volunteers=volunteers,
    )


def all_figures(figures: Iterable[Figure]) -> list[dict[str, Any]]:
    return [f.to_json() for f in figures]
