"""``/api/v1/sources`` and ``/api/v1/jobs``: the sources, their syncs, and starting one.

A sync runs in the background (``commops.web.jobs``): ``POST /sources/{id}/sync`` answers
202 with the job, and ``GET /jobs/{id}`` tells how it is going.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Path, Query, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from commops.web import jobs
from commops.web.api.common import API, Page, Paging, page_of, paging
from commops.web.deps import Ctx, require
from commops.web.permissions import can_operate, can_view

router = APIRouter(prefix=API, tags=["sources"])


class SourceOut(BaseModel):
    id: int
    name: str
    kind: str
    location: str = Field(description="Path or URL (any password in a URL is left out).")
    branch: str | None
    activities: int
    observations: int
    last_synced_at: datetime | None
    last_run: Literal["ok", "failed", "running"] | None = Field(
        description="How the last sync ended (null: never synced)."
    )
    last_error: str | None
    status: dict[str, Any] = Field(description="What the connector reported about the source.")
    syncable: bool


class RunOut(BaseModel):
    id: int
    started_at: datetime
    finished_at: datetime | None
    status: Literal["ok", "failed", "running"]
    added: int
    removed: int
    error: str | None
    warnings: list[str]


class SourceDetailOut(SourceOut):
    runs: list[RunOut] = Field(description="The latest sync runs, newest first.")


class JobOut(BaseModel):
    id: int
    source_id: int
    source: str
    state: Literal["queued", "running", "done", "failed"]
    actor: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    seconds: float | None
    progress: str = Field(description="What the connector reported last.")
    done: int
    total: int | None
    added: int
    removed: int
    identities: int
    warnings: list[str]
    error: str | None
    file: str | None = Field(description="The uploaded file's name, for an import.")


class GitSourceIn(BaseModel):
    kind: Literal["git"] = "git"
    location: str = Field(
        min_length=1,
        max_length=2000,
        description="A path to a git repository on the server, or a clone URL.",
    )
    name: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._/@:-]*$",
        description="Default: the repository's folder name.",
    )
    branch: str | None = Field(
        default=None,
        min_length=1,
        max_length=250,
        pattern=r"^[^\s~^:?*\[\\]+$",
        description="Default: the repository's HEAD.",
    )


SourceId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The source's id.")]
JobId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The job's id.")]


@router.get("/sources", summary="The sources, with counts and how their last sync ended")
def get_sources(
    c: Annotated[Ctx, Depends(require(can_view))],
    p: Annotated[Paging, Depends(paging)],
    kind: Annotated[
        str | None, Query(max_length=40, pattern=r"^[a-z0-9_-]+$", description="Only this kind.")
    ] = None,
    last_run: Annotated[
        Literal["ok", "failed", "running", "never"] | None,
        Query(description="Only sources whose last sync ended so (never: not synced yet)."),
    ] = None,
) -> Page[SourceOut]:
    rows = jobs.source_rows(c.ws, kind=kind, last_run=last_run)
    return page_of([SourceOut(**r.to_json()) for r in rows], p)


@router.post(
    "/sources",
    status_code=201,
    summary="Add a git source (a path on the server or a clone URL)",
)
def post_source(c: Annotated[Ctx, Depends(require(can_operate))], body: GitSourceIn) -> SourceOut:
    row = jobs.add_git(c.ws, body.location, name=body.name, branch=body.branch, actor=c.actor)
    return SourceOut(**row.to_json())


@router.get("/sources/{source_id}", summary="One source and its latest sync runs")
def get_source(
    c: Annotated[Ctx, Depends(require(can_view))], source_id: SourceId
) -> SourceDetailOut:
    row, runs = jobs.source_detail(c.ws, source_id)
    return SourceDetailOut(**row.to_json(), runs=[RunOut(**r.to_json()) for r in runs])


@router.post(
    "/sources/{source_id}/sync",
    status_code=202,
    response_model=JobOut,
    summary="Start a sync of the source in the background",
    responses={409: {"description": "The source is being synced already."}},
)
def post_sync(
    c: Annotated[Ctx, Depends(require(can_operate))], source_id: SourceId
) -> JSONResponse:
    job = jobs.runner(c.request.app).submit(source_id, actor=c.actor)
    out = JobOut(**job.to_json())
    return JSONResponse(
        out.model_dump(mode="json"),
        status_code=202,
        headers={"Location": f"{API}/jobs/{job.id}"},
    )


@router.post(
    "/sources/import",
    status_code=202,
    response_model=JobOut,
    summary="Import a CSV or JSON Lines file of activities in the background",
    description="The whole file is checked first (columns as in `commops import csv`); a bad "
    "row refuses it with every problem listed (400) and nothing is stored.",
)
def post_import(
    c: Annotated[Ctx, Depends(require(can_operate))],
    file: Annotated[UploadFile, File(description="A .csv or .jsonl file of activities.")],
    source: Annotated[
        str | None,
        Form(
            min_length=1,
            max_length=200,
            pattern=r"^[A-Za-z0-9][A-Za-z0-9._/@:-]*$",
            description="The source to import into. Default: the file name without extension.",
        ),
    ] = None,
) -> JSONResponse:
    data = file.file.read(jobs.UPLOAD_LIMIT + 1)
    job = jobs.import_file(
        c.ws, jobs.runner(c.request.app), file.filename or "", data, source=source, actor=c.actor
    )
    out = JobOut(**job.to_json())
    return JSONResponse(
        out.model_dump(mode="json"),
        status_code=202,
        headers={"Location": f"{API}/jobs/{job.id}"},
    )


@router.get("/jobs", summary="Sync jobs of this server process, newest first")
def get_jobs(
    c: Annotated[Ctx, Depends(require(can_view))],
    p: Annotated[Paging, Depends(paging)],
    source: Annotated[
        str | None, Query(min_length=1, max_length=200, description="Only this source (name).")
    ] = None,
    state: Annotated[
        Literal["queued", "running", "done", "failed"] | None,
        Query(description="Only jobs in this state."),
    ] = None,
) -> Page[JobOut]:
    found = jobs.runner(c.request.app).list(source=source, state=state)
    return page_of([JobOut(**j.to_json()) for j in found], p)


@router.get("/jobs/{job_id}", summary="One sync job: state, progress, counts, error")
def get_job(c: Annotated[Ctx, Depends(require(can_view))], job_id: JobId) -> JobOut:
    return JobOut(**jobs.runner(c.request.app).get(job_id).to_json())
