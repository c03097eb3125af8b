"""``/api/v1/reports``: saved reports, their files, and generating one."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from commops import reports
from commops.errors import NotFoundError, UsageError
from commops.web.api.common import API, Page, Paging, page_of, paging
from commops.web.deps import Ctx, require
from commops.web.permissions import can_operate, can_view
from commops.web.views.reports import saved_file

router = APIRouter(prefix=API, tags=["reports"])

Kind = Literal["monthly", "annual", "weekly"]


class ReportOut(BaseModel):
    id: int
    kind: Kind
    period: str
    lang: Literal["en", "zh-CN"]
    format: Literal["html", "pdf", "md"]
    path: str
    generated_at: datetime
    generated_by: str
    size: int

    @classmethod
    def of(cls, saved: reports.SavedReport) -> ReportOut:
        return cls.model_validate(saved, from_attributes=True)


class ReportIn(BaseModel):
    kind: Kind
    period: str = Field(
        min_length=4,
        max_length=8,
        description="monthly: YYYY-MM; annual: YYYY; weekly: YYYY-Www",
        examples=["2026-09", "2026", "2026-W40"],
    )
    lang: Literal["en", "zh-CN"] = "en"
    formats: list[Literal["html", "pdf", "md"]] = Field(
        default=["html"], min_length=1, max_length=3
    )


@router.get("/reports", summary="Saved reports, newest first")
def list_saved(
    c: Annotated[Ctx, Depends(require(can_view))],
    p: Annotated[Paging, Depends(paging)],
    kind: Annotated[Kind | None, Query()] = None,
) -> Page[ReportOut]:
    with c.session() as session:
        rows = [ReportOut.of(r) for r in reports.list_reports(session, kind=kind)]
    return page_of(rows, p)


@router.post("/reports", status_code=201, summary="Generate a report (replaces the same one)")
def generate(c: Annotated[Ctx, Depends(require(can_operate))], body: ReportIn) -> list[ReportOut]:
    made = reports.generate(
        c.ws, body.kind, body.period, lang=body.lang, formats=body.formats, actor=c.actor
    )
    return [ReportOut.of(r) for r in made]


@router.get("/reports/{report_id}", summary="One saved report's record")
def get_saved(
    c: Annotated[Ctx, Depends(require(can_view))],
    report_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
) -> ReportOut:
    with c.session() as session:
        try:
            return ReportOut.of(reports.get_report(session, report_id))
        except UsageError as exc:
            raise NotFoundError(exc.message) from None


@router.get(
    "/reports/{report_id}/file",
    summary="The saved report's file (HTML, PDF or Markdown)",
    response_class=Response,
    responses={200: {"content": {"text/html": {}, "application/pdf": {}, "text/markdown": {}}}},
)
def get_file(
    c: Annotated[Ctx, Depends(require(can_view))],
    report_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    download: bool = False,
) -> Response:
    return saved_file(c, report_id, download)
