"""The overview: headline numbers against the previous month, with their trends."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from commops.reports import charts
from commops.web import dashboard
from commops.web.deps import Ctx, register_nav, require
from commops.web.permissions import can_view

router = APIRouter(include_in_schema=False)
register_nav("/", "Overview", can_view, "overview")


@router.get("/")
def overview_page(
    c: Annotated[Ctx, Depends(require(can_view))], month: str | None = None
) -> Response:
    with c.session() as session:
        data = dashboard.overview(
            c.request.app.state.insights, session, dashboard.parse_month(month)
        )
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
    return c.render("overview.html.j2", data=data, charts=chart_specs)
