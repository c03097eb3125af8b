"""The Metrics explorer: the catalogue, one metric with its period, cuts and parameters (chart,
table, CSV), and the activities behind one period's value.

Figures come from the metrics catalogue through ``app.state.insights`` (cached until the
snapshot changes), the same as ``/api/v1/metrics`` and ``commops metrics``. The parameter
handling here (``metric_params``, ``chart_for``, ``csv_text``, ``visible_rows``) is shared
with the API.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Sequence
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response
from sqlalchemy import select

from commops.analytics.metrics import DEFINITIONS, PERIODS, Definition, Params, Result
from commops.errors import NotFoundError, UsageError
from commops.reports import charts
from commops.store.models import Organization, Source
from commops.web.deps import Ctx, register_nav, require
from commops.web.members_view import shown_name
from commops.web.permissions import can_operate, can_view
from commops.workspace import Workspace

router = APIRouter(include_in_schema=False)
register_nav("/metrics", "Metrics", can_view, "metrics")

DEFAULTS = Params()
PARAM_NAMES = tuple(f.name for f in dataclasses.fields(Params))
NAME_PATTERN = r"^[a-z][a-z-]{1,40}$"
EXPLAIN_PAGE = 100
# Columns that name a person: shown as a name, never an e-mail address, to viewers.
PERSON_COLUMNS = ("display_name", "asker")
# Columns that identify rather than measure.
KEY_COLUMNS = ("period", "rank", "member_id", "cohort", "periods_since", "since", "changes")
CATEGORY_COLUMNS = ("item_type", "step", "contribution_type", "channel")
# What a line per category draws when the table has it: the typical time, the rate, else the
# first number.
PREFERRED_MEASURES = ("p50_hours", "p50_days", "rate")
TIME_UNITS = {
    "day": "utcyearmonthdate",
    "week": "utcyearmonthdate",
    "month": "utcyearmonth",
    "quarter": "utcyearquarter",
    "year": "utcyear",
}


def definition(name: str) -> Definition:
    found = DEFINITIONS.get(name)
    if found is None:
        raise NotFoundError(f"no metric named {name!r}")
    return found


def source_names(ws: Workspace) -> list[str]:
    with ws.store.session() as session:
        return list(session.execute(select(Source.name).order_by(Source.name)).scalars())


def organization_names(ws: Workspace) -> list[str]:
    with ws.store.session() as session:
        return list(
            session.execute(select(Organization.name).order_by(Organization.name)).scalars()
        )


def _clean(values: Sequence[str] | None, what: str) -> tuple[str, ...]:
    out: list[str] = []
    for v in values or ():
        for part in v.split(","):
            part = part.strip()
            if len(part) > 300:
                raise UsageError(f"{what}: {part[:40]!r}... is longer than 300 characters")
            if part and part not in out:
                out.append(part)
    return tuple(out)


def metric_params(ws: Workspace, **given: Any) -> dict[str, Any]:
    """The metric parameters of a request, checked, with those equal to their default left out
    (so that the same figures share one cached result whoever asks). Lists may hold
    comma-separated values; unknown sources are refused."""
    unknown = sorted(set(given) - set(PARAM_NAMES))
    if unknown:
        raise UsageError(f"unknown metric parameter(s): {', '.join(unknown)}")
    values: dict[str, Any] = {}
    for key, value in given.items():
        if key in ("sources", "channels", "organizations", "tags"):
            value = _clean(value, key)
        if value is None:
            continue
        values[key] = value
    if values.get("sources"):
        known = set(source_names(ws))
        missing = [s for s in values["sources"] if s not in known]
        if missing:
            raise UsageError(
                f"no source named {', '.join(map(repr, missing))}",
                hint="Sources: " + (", ".join(sorted(known)) or "(none)"),
            )
    Params(**values)  # every check the catalogue makes (since <= until, shares, choices)
    return {k: v for k, v in values.items() if v != getattr(DEFAULTS, k)}


def visible_rows(result: Result, show_emails: bool) -> list[dict[str, Any]]:
    """The rows of a result as the viewer may see them (names, never e-mail addresses)."""
    if show_emails:
        return result.rows
    rows = []
    for row in result.rows:
        if any(isinstance(row.get(c), str) and "@" in row[c] for c in PERSON_COLUMNS):
            row = {
                k: shown_name(v, False) if k in PERSON_COLUMNS and isinstance(v, str) else v
                for k, v in row.items()
            }
        rows.append(row)
    return rows


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat() + "Z"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "; ".join(map(str, value))
    return value


def json_value(value: Any) -> Any:
    """A cell as JSON shows it: periods as dates, times in UTC with a ``Z``."""
    if isinstance(value, datetime):
        return value.isoformat() + "Z"
    if isinstance(value, date):
        return value.isoformat()
    return value


def csv_text(columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> str:
    """A result as CSV, columns in the catalogue's order, times in UTC with a ``Z``."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(row.get(c)) for c in columns])
    return buf.getvalue()


def _numeric(rows: Sequence[dict[str, Any]], column: str) -> bool:
    seen = [r.get(column) for r in rows if r.get(column) is not None]
    return bool(seen) and all(isinstance(v, int | float) and not isinstance(v, bool) for v in seen)


def measures(result: Result) -> list[str]:
    """The columns of a result that are numbers to draw."""
    return [c for c in result.columns if c not in KEY_COLUMNS and _numeric(result.rows, c)]


def chart_for(result: Result, title: str, period: str) -> dict[str, Any] | None:
    """A Vega-Lite chart of a result, or None when a table says it better: a series over time,
    a table by period as lines (one per category: issue or PR, funnel step, channel), a
    ranking of people as bars."""
    rows = result.rows
    cols = result.columns
    found = measures(result)
    if not rows or not found or result.definition.kind == "totals" or "cohort" in cols:
        return None
    unit = TIME_UNITS.get(period, "utcyearmonth")
    if "period" in cols and "member_id" not in cols:
        category = next((c for c in CATEGORY_COLUMNS if c in cols), None)
        if category is not None:
            measure = next((c for c in PREFERRED_MEASURES if c in found), found[0])
            totals: dict[str, float] = {}
            for r in rows:
                totals[str(r[category])] = totals.get(str(r[category]), 0) + float(
                    r.get(measure) or 0
                )
            top = sorted(totals, key=lambda k: -totals[k])[:8]
            pivot: dict[str, dict[str, Any]] = {}
            for r in rows:
                key = str(r[category])
                if key in top:
                    pivot.setdefault(str(r["period"]), {"period": str(r["period"])})[key] = r.get(
                        measure
                    )
            ordered = [pivot[p] for p in sorted(pivot)]
            for p in ordered:
                for key in top:
                    p.setdefault(key, None)
            return charts.lines_over_time(f"{title}: {measure}", ordered, {k: k for k in top}, unit)
        counts = [
            c for c in found if all(isinstance(r.get(c), int) for r in rows if r.get(c) is not None)
        ]
        drawn = (counts or found)[:4]
        if len(drawn) == 1:
            return charts.bar_over_time(title, rows, drawn[0], drawn[0], unit)
        return charts.lines_over_time(title, rows, {c: c for c in drawn}, unit)
    if "display_name" in cols:
        latest = rows
        if "period" in cols:
            last = max(r["period"] for r in rows)
            latest = [r for r in rows if r["period"] == last]
        measure = found[0]
        ranked = sorted(latest, key=lambda r: -(r.get(measure) or 0))[:15]
        named = [
            {**r, "display_name": str(r.get("display_name") or r.get("member_id"))} for r in ranked
        ]
        return charts.ranking(title, named, "display_name", measure)
    return None


def _query_without(c: Ctx, *names: str) -> str:
    pairs = [(k, v) for k, v in parse_qsl(c.request.url.query) if k not in names]
    return urlencode(pairs)


def _text(value: str | None) -> str | None:
    return value.strip() or None if value is not None else None


def _date(value: str | None, field: str) -> date | None:
    text = _text(value)
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"{field} {text!r} is not a date (YYYY-MM-DD)") from None


def _number(value: str | None, field: str, kind: type[int] | type[float]) -> Any:
    text = _text(value)
    if text is None:
        return None
    try:
        return kind(text)
    except ValueError:
        raise UsageError(f"{field} {text!r} is not a number") from None


def page_params(
    c: Ctx,
    *,
    since: str | None,
    until: str | None,
    period: str,
    source: list[str] | None,
    channel: list[str] | None,
    organization: list[str] | None,
    tag: list[str] | None,
    include_bots: str | None,
    include_staff: str | None,
    top: str | None,
    new_by: str | None,
    inactive_months: str | None,
    bus_rule: str | None,
    bus_threshold: str | None,
    unaffiliated: str | None,
    review_every: str | None,
) -> dict[str, Any]:
    """The explorer form's fields (text, as a browser sends them) as metric parameters."""
    top_n = _number(top, "top", int)
    if top_n is not None and not 1 <= top_n <= 1000:
        raise UsageError(f"top {top_n}: use 1 to 1000")
    months = _number(inactive_months, "inactive months", int)
    if months is not None and not 1 <= months <= 120:
        raise UsageError(f"inactive months {months}: use 1 to 120")
    return metric_params(
        c.ws,
        since=_date(since, "since"),
        until=_date(until, "until"),
        period=period,
        sources=source,
        channels=channel,
        organizations=organization,
        tags=tag,
        include_bots=bool(include_bots),
        include_staff=bool(include_staff),
        top=top_n,
        new_by=_text(new_by),
        inactive_months=months,
        bus_rule=_text(bus_rule),
        bus_threshold=_number(bus_threshold, "bus threshold", float),
        unaffiliated=_text(unaffiliated),
        review_every=_text(review_every),
    )


Text = Annotated[str | None, Query(max_length=300)]
Many = Annotated[list[str] | None, Query(max_length=50)]
Name = Annotated[str, Path(pattern=NAME_PATTERN)]
Period = Annotated[str, Query(pattern="^(day|week|month|quarter|year)$")]


def form_fields(
    since: Text = None,
    until: Text = None,
    period: Period = "month",
    source: Many = None,
    channel: Many = None,
    organization: Many = None,
    tag: Many = None,
    include_bots: Text = None,
    include_staff: Text = None,
    top: Text = None,
    new_by: Text = None,
    inactive_months: Text = None,
    bus_rule: Text = None,
    bus_threshold: Text = None,
    unaffiliated: Text = None,
    review_every: Text = None,
) -> dict[str, Any]:
    """The explorer form's fields as the browser sent them (one dependency for every page that
    reads them); ``page_params`` checks them."""
    return {
        "since": since,
        "until": until,
        "period": period,
        "source": source,
        "channel": channel,
        "organization": organization,
        "tag": tag,
        "include_bots": include_bots,
        "include_staff": include_staff,
        "top": top,
        "new_by": new_by,
        "inactive_months": inactive_months,
        "bus_rule": bus_rule,
        "bus_threshold": bus_threshold,
        "unaffiliated": unaffiliated,
        "review_every": review_every,
    }


Fields = Annotated[dict[str, Any], Depends(form_fields)]


@router.get("/metrics")
def catalogue_page(c: Annotated[Ctx, Depends(require(can_view))]) -> Response:
    kinds: dict[str, list[Definition]] = {"series": [], "table": [], "totals": []}
    for d in DEFINITIONS.values():
        kinds.setdefault(d.kind, []).append(d)
    return c.render("metrics/catalogue.html.j2", kinds=kinds)


@router.get("/metrics/{name}")
def metric_page(
    c: Annotated[Ctx, Depends(require(can_view))],
    name: Name,
    fields: Fields,
) -> Response:
    d = definition(name)
    params = page_params(c, **fields)
    result = c.request.app.state.insights.result(name, **params)
    rows = visible_rows(result, c.allows(can_operate))
    shown = Params(**{**dataclasses.asdict(DEFAULTS), **params})
    spec = chart_for(dataclasses.replace(result, rows=rows), c.gettext(d.title), shown.period)
    query = _query_without(c, "at", "offset")
    return c.render(
        "metrics/metric.html.j2",
        charts={"chart-metric": spec} if spec else None,
        d=d,
        result=result,
        rows=rows,
        p=shown,
        query=query,
        sources=source_names(c.ws),
        organizations=organization_names(c.ws),
        periods=list(PERIODS),
        has_chart=spec is not None,
        explainable=d.kind == "series",
    )


@router.get("/metrics/{name}/csv")
def metric_csv(
    c: Annotated[Ctx, Depends(require(can_view))],
    name: Name,
    fields: Fields,
) -> Response:
    definition(name)
    params = page_params(c, **fields)
    result = c.request.app.state.insights.result(name, **params)
    return csv_response(name, result.columns, visible_rows(result, c.allows(can_operate)))


def csv_response(name: str, columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> Response:
    return Response(
        csv_text(columns, rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
    )


def explain_start(at: str) -> date:
    """The day naming a period to explain: YYYY-MM-DD, YYYY-MM or YYYY."""
    text = at.strip()
    try:
        if len(text) == 4:
            return date(int(text), 1, 1)
        if len(text) == 7:
            return date.fromisoformat(text + "-01")
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"period {at!r}: use YYYY-MM-DD, YYYY-MM or YYYY") from None


@router.get("/metrics/{name}/explain")
def explain_page(
    c: Annotated[Ctx, Depends(require(can_view))],
    name: Name,
    at: Annotated[str, Query(max_length=10)],
    fields: Fields,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Response:
    d = definition(name)
    params = page_params(c, **fields)
    result = c.request.app.state.insights.explain(name, explain_start(at), **params)
    rows = visible_rows(result, c.allows(can_operate))
    query = _query_without(c, "offset")
    return c.render(
        "metrics/explain.html.j2",
        d=d,
        result=result,
        rows=rows[offset : offset + EXPLAIN_PAGE],
        page={"total": len(rows), "limit": EXPLAIN_PAGE, "offset": offset},
        base=f"/metrics/{name}/explain?{query}",
        back=f"/metrics/{name}?{_query_without(c, 'offset', 'at')}",
    )
