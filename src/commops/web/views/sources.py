"""The Sources page: each source's status, last sync and errors; starting a sync, which runs
in the background (``commops.web.jobs``) while its job page shows the progress; adding a git
source; importing a CSV or JSON Lines file of activities (a background job too).

The job page works without JavaScript: while the job runs, the response carries a
``Refresh: 2`` header, so the browser reloads it until the job has ended.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Path, Query, UploadFile
from fastapi.responses import Response

from commops.web import jobs
from commops.web.deps import Ctx, register_nav, require
from commops.web.permissions import can_operate, can_view

router = APIRouter(include_in_schema=False)
register_nav("/sources", "Sources", can_view, "sources")

SourceId = Annotated[int, Path(ge=1, le=2**31 - 1)]
JobId = Annotated[int, Path(ge=1, le=2**31 - 1)]
REFRESH_SECONDS = 2


@router.get("/sources")
def sources_page(
    c: Annotated[Ctx, Depends(require(can_view))],
    last_run: Annotated[str | None, Query(pattern=r"^(ok|failed|running|never)?$")] = None,
) -> Response:
    rows = jobs.source_rows(c.ws, last_run=last_run or None)
    recent = jobs.runner(c.request.app).list()[:10]
    busy = {j.source_id: j for j in recent if j.active}
    return c.render(
        "sources/list.html.j2",
        rows=rows,
        jobs=recent,
        busy=busy,
        last_run=last_run or "",
        can_operate=c.allows(can_operate),
    )


@router.post("/sources")
def add_source_form(
    c: Annotated[Ctx, Depends(require(can_operate))],
    location: Annotated[str, Form(min_length=1, max_length=2000)],
    name: Annotated[str, Form(max_length=200)] = "",
    branch: Annotated[str, Form(max_length=250)] = "",
) -> Response:
    row = jobs.add_git(
        c.ws, location, name=name.strip() or None, branch=branch.strip() or None, actor=c.actor
    )
    return c.redirect(f"/sources/{row.id}", c.gettext("Source added. Start a sync to import it."))


@router.post("/sources/import")
def import_form(
    c: Annotated[Ctx, Depends(require(can_operate))],
    file: Annotated[UploadFile, File()],
    source: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    data = file.file.read(jobs.UPLOAD_LIMIT + 1)
    job = jobs.import_file(
        c.ws,
        jobs.runner(c.request.app),
        file.filename or "",
        data,
        source=source.strip() or None,
        actor=c.actor,
    )
    return c.redirect(f"/sources/jobs/{job.id}", c.gettext("Import started."))


@router.get("/sources/jobs/{job_id}")
def job_page(c: Annotated[Ctx, Depends(require(can_view))], job_id: JobId) -> Response:
    job = jobs.runner(c.request.app).get(job_id)
    response = c.render("sources/job.html.j2", job=job, refresh=REFRESH_SECONDS)
    if job.active:
        response.headers["Refresh"] = str(REFRESH_SECONDS)
    return response


@router.get("/sources/{source_id}")
def source_page(c: Annotated[Ctx, Depends(require(can_view))], source_id: SourceId) -> Response:
    row, runs = jobs.source_detail(c.ws, source_id)
    active = jobs.runner(c.request.app).active_for(source_id)
    return c.render(
        "sources/detail.html.j2",
        row=row,
        runs=runs,
        active=active,
        can_operate=c.allows(can_operate),
    )


@router.post("/sources/{source_id}/sync")
def sync_form(c: Annotated[Ctx, Depends(require(can_operate))], source_id: SourceId) -> Response:
    job = jobs.runner(c.request.app).submit(source_id, actor=c.actor)
    return c.redirect(f"/sources/jobs/{job.id}", c.gettext("Sync started."))
