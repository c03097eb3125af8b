"""Reports in the browser: the saved monthly and annual reports and weekly newsletters, each
viewable and downloadable, and a form to generate one. ``commops serve`` also generates what
``[reports] schedule`` asks for, on its own."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, FastAPI, Form, Path, Query
from fastapi.responses import Response

from commops import reports
from commops.clock import utcnow
from commops.errors import NotFoundError, UsageError
from commops.web.app import register_periodic
from commops.web.deps import Ctx, register_nav, require
from commops.web.permissions import can_operate, can_view
from commops.workspace import Workspace

router = APIRouter(include_in_schema=False)
register_nav("/reports", "Reports", can_view, "reports")

MEDIA = {
    "html": "text/html; charset=utf-8",
    "md": "text/markdown; charset=utf-8",
    "pdf": "application/pdf",
}


def _scheduled(app: FastAPI) -> None:
    ws: Workspace = app.state.workspace
    if ws.config.reports_schedule:
        reports.run_schedule(ws, utcnow(), actor="web:schedule")


register_periodic("reports", 3600.0, _scheduled)


def saved_file(c: Ctx, report_id: int, download: bool) -> Response:
    """A saved report's file, shown in the browser (or as a download)."""
    with c.session() as session:
        try:
            saved = reports.get_report(session, report_id)
        except UsageError as exc:
            raise NotFoundError(exc.message) from None
    try:
        path = reports.report_path(c.ws, saved)
    except UsageError as exc:
        raise NotFoundError(exc.message) from None
    name = path.name
    disposition = "attachment" if download else "inline"
    headers = {"Content-Disposition": f'{disposition}; filename="{name}"'}
    if saved.format == "html":
        # A report page is a document of its own: its styles are inline, it runs no script.
        headers["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
            "font-src data:; frame-ancestors 'none'"
        )
    media = MEDIA[saved.format] if saved.format != "md" or download else "text/plain; charset=utf-8"
    return Response(path.read_bytes(), media_type=media, headers=headers)


@router.get("/reports")
def reports_page(
    c: Annotated[Ctx, Depends(require(can_view))],
    kind: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    with c.session() as session:
        rows = reports.list_reports(session, kind=kind or None)
    return c.render(
        "reports/index.html.j2",
        rows=rows,
        kind=kind or "",
        kinds=reports.KINDS,
        formats=reports.FORMATS,
        schedule=c.ws.config.reports_schedule,
        can_operate=can_operate,
    )


@router.post("/reports")
def generate_report(
    c: Annotated[Ctx, Depends(require(can_operate))],
    kind: Annotated[str, Form(max_length=20)],
    period: Annotated[str, Form(max_length=20)],
    lang: Annotated[str, Form(max_length=10)] = "en",
    formats: Annotated[list[str] | None, Form()] = None,
) -> Response:
    made = reports.generate(
        c.ws, kind, period.strip(), lang=lang, formats=formats or ["html"], actor=c.actor
    )
    return c.redirect(
        f"/reports/{made[0].id}" if len(made) == 1 else "/reports",
        c.gettext("Report generated."),
    )


@router.get("/reports/{report_id}")
def report_file(
    c: Annotated[Ctx, Depends(require(can_view))],
    report_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    download: bool = False,
) -> Response:
    return saved_file(c, report_id, download)
