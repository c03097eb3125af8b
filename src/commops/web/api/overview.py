"""``/api/v1/overview``: the headline numbers of the overview page."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from commops.web import dashboard
from commops.web.api.common import API
from commops.web.deps import Ctx, require
from commops.web.permissions import can_view

router = APIRouter(prefix=API, tags=["overview"])


@router.get("/overview", summary="Headline numbers of a month against the month before")
def get_overview(
    c: Annotated[Ctx, Depends(require(can_view))],
    month: Annotated[
        str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")
    ] = None,
) -> dict[str, Any]:
    with c.session() as session:
        data = dashboard.overview(
            c.request.app.state.insights, session, dashboard.parse_month(month)
        )
    return data.to_json()
