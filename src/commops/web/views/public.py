"""The opt-in public pages: a public dashboard and a contributor leaderboard, for anyone, with
no sign-in — and their JSON under ``/api/v1/public``.

They exist only when the workspace says so (``[web] public_pages = true``); otherwise every
one of these routes answers 404, as if it did not exist. What they show is aggregate figures
and display names: never an e-mail address (a display name that is or holds one is masked),
never notes, tags, member ids or links into the signed-in app.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response
from pydantic import BaseModel

from commops.clock import utcnow
from commops.errors import NotFoundError
from commops.reports import charts
from commops.web import dashboard
from commops.web.api.common import API
from commops.web.deps import Ctx, require
from commops.web.insights import Insights
from commops.web.permissions import anyone

router = APIRouter()

EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+")
LEADERBOARD_SIZE = 25
# The leaderboard's windows: months back from today (0: since the beginning).
WINDOWS = (3, 12, 0)
Months = Annotated[
    int,
    Query(ge=0, le=240, description="The last N months, this one included (0: all time)."),
]
MonthParam = Annotated[str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")]


def _require_public(c: Ctx) -> None:
    if not c.ws.config.web_public_pages:
        raise NotFoundError("no such page")


def public_name(name: str | None) -> str | None:
    """A display name fit for a public page: any e-mail address in it is taken out; None when
    nothing is left (the page then says "a contributor")."""
    if not name:
        return None
    cleaned = EMAIL.sub("", name)
    cleaned = re.sub(r"<\s*>|\(\s*\)|\[\s*\]", "", cleaned).strip(" <>()[],;:-")
    return cleaned or None


@dataclass(frozen=True)
class LeaderboardEntry:
    rank: int
    name: str | None
    contributions: int
    commits: int

    def to_json(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "name": self.name,
            "contributions": self.contributions,
            "commits": self.commits,
        }


def _months_back(today: date, months: int) -> date:
    n = today.year * 12 + today.month - 1 - months
    return date(n // 12, n % 12 + 1, 1)


def leaderboard(
    insights: Insights, months: int, *, size: int = LEADERBOARD_SIZE
) -> tuple[date | None, list[LeaderboardEntry]]:
    """The top contributors (the ``top-contributors`` metric: bots and staff left out) of the
    last ``months`` whole and current months (0: all time), with public names only."""
    since = _months_back(utcnow().date(), months - 1) if months else None
    result = insights.result("top-contributors", top=size, since=since)
    entries = [
        LeaderboardEntry(
            rank=int(row["rank"]),
            name=public_name(row.get("display_name")),
            contributions=int(row["contributions"]),
            commits=int(row["commits"]),
        )
        for row in result.rows
    ]
    return since, entries


def _public_overview(c: Ctx, month: str | None) -> dashboard.Overview:
    with c.session() as session:
        return dashboard.overview(
            c.request.app.state.insights, session, dashboard.parse_month(month)
        )


@router.get("/public", include_in_schema=False)
def public_dashboard(
    c: Annotated[Ctx, Depends(require(anyone))], month: MonthParam = None
) -> Response:
    _require_public(c)
    data = _public_overview(c, month)
    _ = c.gettext
    chart_specs = {
        "chart-contributors": charts.lines_over_time(
            _("Contributors"),
            data.series["contributors"],
            {"active": _("Active"), "new": _("New")},
        ),
        "chart-stars": charts.bar_over_time(
            _("New stars"), data.series["stars"], "new", _("Stars")
        ),
    }
    return c.render("public/dashboard.html.j2", data=data, charts=chart_specs)


@router.get("/public/leaderboard", include_in_schema=False)
def public_leaderboard(
    c: Annotated[Ctx, Depends(require(anyone))],
    months: Months = 12,
) -> Response:
    _require_public(c)
    since, entries = leaderboard(c.request.app.state.insights, months)
    return c.render(
        "public/leaderboard.html.j2",
        entries=entries,
        since=since,
        months=months,
        windows=WINDOWS,
    )


class PublicHeadline(BaseModel):
    key: str
    label: str
    value: float | None
    previous: float | None
    change: float | None
    unit: Literal["count", "hours", "share"]


class PublicOverview(BaseModel):
    month: str
    previous: str
    months: list[str]
    headlines: list[PublicHeadline]
    series: dict[str, list[dict[str, Any]]]


class PublicEntry(BaseModel):
    rank: int
    name: str | None
    contributions: int
    commits: int


class PublicLeaderboard(BaseModel):
    months: int
    since: date | None
    items: list[PublicEntry]


@router.get(
    f"{API}/public/overview",
    tags=["public"],
    summary="The public dashboard's headline numbers (only when public pages are on)",
    responses={404: {"description": "Public pages are off."}},
)
def get_public_overview(
    c: Annotated[Ctx, Depends(require(anyone))], month: MonthParam = None
) -> PublicOverview:
    _require_public(c)
    data = _public_overview(c, month).to_json()
    for h in data["headlines"]:
        h.pop("link", None)
    return PublicOverview(**data)


@router.get(
    f"{API}/public/leaderboard",
    tags=["public"],
    summary="The public contributor leaderboard (only when public pages are on)",
    responses={404: {"description": "Public pages are off."}},
)
def get_public_leaderboard(
    c: Annotated[Ctx, Depends(require(anyone))],
    months: Months = 12,
) -> PublicLeaderboard:
    _require_public(c)
    since, entries = leaderboard(c.request.app.state.insights, months)
    return PublicLeaderboard(
        months=months, since=since, items=[PublicEntry(**e.to_json()) for e in entries]
    )
