"""``/api/v1/metrics``: the metrics catalogue, one metric's result with any parameters (JSON or
CSV), and the activities behind one period's value.

The same figures as the Metrics explorer and ``commops metrics``: one definition each
(docs/metrics.md), cached until the snapshot changes.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from commops.analytics.metrics import DEFINITIONS
from commops.web.api.common import API, Page, Paging, paging
from commops.web.deps import Ctx, require
from commops.web.permissions import can_operate, can_view
from commops.web.views import metrics as explorer

router = APIRouter(prefix=API, tags=["metrics"])

Name = Annotated[
    str,
    Path(pattern=explorer.NAME_PATTERN, description="A metric of the catalogue, e.g. stars."),
]
Many = Annotated[list[Annotated[str, Field(max_length=300)]] | None, Query(max_length=50)]


class DefinitionOut(BaseModel):
    metric: str
    kind: str = Field(description="series, table or totals")
    title: str
    formula: str
    reference: str


class ResultOut(BaseModel):
    metric: str
    title: str
    formula: str
    reference: str
    params: dict[str, Any] = Field(description="Every parameter the result was computed with.")
    columns: list[str]
    rows: list[dict[str, Any]] = Field(description="Periods as dates, times in UTC with a Z.")


class ExplainRow(BaseModel):
    period: date
    uid: str
    kind: str
    occurred_at: str
    source: str | None
    channel: str | None
    target: str | None
    member_id: int | None
    display_name: str | None
    title: str | None


class MetricQuery(BaseModel):
    """The parameters every metric takes (docs/metrics.md#parameters)."""

    since: date | None = None
    until: date | None = None
    period: Literal["day", "week", "month", "quarter", "year"] = "month"
    source: list[str] | None = None
    channel: list[str] | None = None
    organization: list[str] | None = None
    tag: list[str] | None = None
    include_bots: bool = False
    include_staff: bool = False
    top: int = 10
    new_by: Literal["any", "pr-opened", "pr-merged"] = "any"
    inactive_months: int = 6
    bus_rule: Literal["strict", "at-least"] = "strict"
    bus_threshold: float = 0.5
    unaffiliated: Literal["exclude", "as-one", "each"] = "exclude"
    core_share: float = 0.8
    regular_share: float = 0.95
    review_every: Literal["month", "quarter", "year"] = "quarter"


def metric_query(
    since: Annotated[date | None, Query(description="First day, inclusive.")] = None,
    until: Annotated[date | None, Query(description="Last day, inclusive.")] = None,
    period: Literal["day", "week", "month", "quarter", "year"] = "month",
    source: Annotated[Many, Query(description="Only these sources (repeatable).")] = None,
    channel: Annotated[Many, Query(description="Only these channels (repeatable).")] = None,
    organization: Annotated[
        Many, Query(description="Only members enrolled there on the activity's day.")
    ] = None,
    tag: Annotated[Many, Query(description="Only members with these tags.")] = None,
    include_bots: bool = False,
    include_staff: bool = False,
    top: Annotated[int, Query(ge=1, le=1000)] = 10,
    new_by: Literal["any", "pr-opened", "pr-merged"] = "any",
    inactive_months: Annotated[int, Query(ge=1, le=120)] = 6,
    bus_rule: Literal["strict", "at-least"] = "strict",
    bus_threshold: Annotated[float, Query(gt=0, lt=1)] = 0.5,
    unaffiliated: Literal["exclude", "as-one", "each"] = "exclude",
    core_share: Annotated[float, Query(gt=0, le=1)] = 0.8,
    regular_share: Annotated[float, Query(gt=0, le=1)] = 0.95,
    review_every: Literal["month", "quarter", "year"] = "quarter",
) -> MetricQuery:
    return MetricQuery(
        since=since,
        until=until,
        period=period,
        source=source,
        channel=channel,
        organization=organization,
        tag=tag,
        include_bots=include_bots,
        include_staff=include_staff,
        top=top,
        new_by=new_by,
        inactive_months=inactive_months,
        bus_rule=bus_rule,
        bus_threshold=bus_threshold,
        unaffiliated=unaffiliated,
        core_share=core_share,
        regular_share=regular_share,
        review_every=review_every,
    )


def _params(c: Ctx, q: MetricQuery) -> dict[str, Any]:
    return explorer.metric_params(
        c.ws,
        since=q.since,
        until=q.until,
        period=q.period,
        sources=q.source,
        channels=q.channel,
        organizations=q.organization,
        tags=q.tag,
        include_bots=q.include_bots,
        include_staff=q.include_staff,
        top=q.top,
        new_by=q.new_by,
        inactive_months=q.inactive_months,
        bus_rule=q.bus_rule,
        bus_threshold=q.bus_threshold,
        unaffiliated=q.unaffiliated,
        core_share=q.core_share,
        regular_share=q.regular_share,
        review_every=q.review_every,
    )


@router.get("/metrics", summary="The metrics catalogue: name, kind, title, formula, source")
def catalogue(c: Annotated[Ctx, Depends(require(can_view))]) -> list[DefinitionOut]:
    return [
        DefinitionOut(
            metric=d.name, kind=d.kind, title=d.title, formula=d.formula, reference=d.reference
        )
        for d in DEFINITIONS.values()
    ]


@router.get("/metrics/{name}", summary="One metric's result with the given parameters")
def metric(
    c: Annotated[Ctx, Depends(require(can_view))],
    name: Name,
    q: Annotated[MetricQuery, Depends(metric_query)],
) -> ResultOut:
    explorer.definition(name)
    result = c.request.app.state.insights.result(name, **_params(c, q))
    data = result.to_json()
    rows = explorer.visible_rows(result, c.allows(can_operate))
    data["rows"] = [{k: explorer.json_value(v) for k, v in r.items()} for r in rows]
    return ResultOut(**data)


@router.get(
    "/metrics/{name}/csv",
    summary="One metric's result as CSV",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
def metric_csv(
    c: Annotated[Ctx, Depends(require(can_view))],
    name: Name,
    q: Annotated[MetricQuery, Depends(metric_query)],
) -> Response:
    explorer.definition(name)
    result = c.request.app.state.insights.result(name, **_params(c, q))
    return explorer.csv_response(
        name, result.columns, explorer.visible_rows(result, c.allows(can_operate))
    )


@router.get(
    "/metrics/{name}/explain",
    summary="The activities behind one period's value of a series metric",
)
def explain(
    c: Annotated[Ctx, Depends(require(can_view))],
    name: Name,
    at: Annotated[
        str,
        Query(
            pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$",
            description="The period: any day of it (YYYY-MM-DD), YYYY-MM or YYYY.",
        ),
    ],
    q: Annotated[MetricQuery, Depends(metric_query)],
    p: Annotated[Paging, Depends(paging)],
) -> Page[ExplainRow]:
    explorer.definition(name)
    result = c.request.app.state.insights.explain(name, explorer.explain_start(at), **_params(c, q))
    rows = explorer.visible_rows(result, c.allows(can_operate))
    items = [
        ExplainRow(
            **{k: explorer.json_value(v) for k, v in r.items() if k in ExplainRow.model_fields}
        )
        for r in rows[p.offset : p.offset + p.limit]
    ]
    return Page[ExplainRow](items=items, total=len(rows), limit=p.limit, offset=p.offset)
