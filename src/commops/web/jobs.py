"""Syncs started from the web app, run in the background one at a time.

A sync can take minutes (a large git history, a rate-limited API), longer than a request
should, so the Sources page queues a *job* and answers at once; the job page and
``/api/v1/jobs/{id}`` show its progress. Jobs run on one worker thread: two syncs never write
the store at the same time (the CLI's ``commops sync`` also runs sources one after another).
Jobs live in memory, in the server process that runs them: the history that lasts is the
store's ``sync_runs`` table, which the sources list reads. A job moves
``queued → running → done | failed``, each move made by one method of ``JobRunner``.

This module also holds what the Sources page and the sources API both show about a source
(``source_rows``, ``source_detail``) and the one function that adds a source from the web.
"""

from __future__ import annotations

import logging
import re
import secrets
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from fastapi import FastAPI
from sqlalchemy import select

from commops.clock import utcnow
from commops.connectors.git import is_url
from commops.connectors.tabular import parse_file
from commops.errors import CommopsError, NotFoundError, SourceError, UsageError
from commops.ops import core
from commops.ops.core import OPS_KIND
from commops.sources import SourceSummary, add_git_source, ensure_source, list_sources
from commops.store.models import Source, SyncRun
from commops.sync import SyncResult, sync_workspace
from commops.web.insights import Insights
from commops.workspace import Workspace

log = logging.getLogger("commops.web")

JobState = Literal["queued", "running", "done", "failed"]
JOB_STATES: tuple[JobState, ...] = ("queued", "running", "done", "failed")
# At most this many finished jobs are remembered (the oldest are forgotten first).
KEEP_FINISHED = 200
# Sources `commops demo` made: their locations lead nowhere, so they offer no sync.
DEMO_PREFIX = "demo://"
# File imports: the kind of their sources, the largest file taken, and the formats.
FILE_KIND = "tabular"
UPLOAD_LIMIT = 50 * 1024 * 1024
IMPORT_FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


class SyncBusy(CommopsError):
    """The source already has a sync queued or running."""


@dataclass
class Job:
    """One background sync of one source."""

    id: int
    source_id: int
    source: str
    actor: str
    state: JobState = "queued"
    created_at: datetime = field(default_factory=utcnow)
    started_at: datetime | None = None
    finished_at: datetime | None = None
    done: int = 0
    total: int | None = None
    note: str | None = None
    added: int = 0
    removed: int = 0
    identities: int = 0
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    file: str | None = None  # the uploaded file's name, for an import
    # Run-time parameters of the connector (an import's file) and a folder to delete after.
    params: dict[str, Any] = field(default_factory=dict, repr=False)
    cleanup: Path | None = field(default=None, repr=False)

    @property
    def active(self) -> bool:
        return self.state in ("queued", "running")

    @property
    def progress(self) -> str:
        """What the connector reported last: ``120/500 items`` and its note, if any."""
        if self.state == "queued":
            return "waiting for the sync before it"
        parts = []
        if self.total:
            parts.append(f"{self.done}/{self.total}")
        elif self.done:
            parts.append(str(self.done))
        if self.note:
            parts.append(self.note)
        return " ".join(parts)

    @property
    def seconds(self) -> float | None:
        if self.started_at is None:
            return None
        end = self.finished_at or utcnow()
        return round((end - self.started_at).total_seconds(), 1)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "source_id": self.source_id,
            "source": self.source,
            "state": self.state,
            "actor": self.actor,
            "created_at": self.created_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "seconds": self.seconds,
            "progress": self.progress,
            "done": self.done,
            "total": self.total,
            "added": self.added,
            "removed": self.removed,
            "identities": self.identities,
            "warnings": list(self.warnings),
            "error": self.error,
            "file": self.file,
        }


class JobRunner:
    """The queue of one server process: a pool of one thread and the jobs it has seen."""

    def __init__(self, ws: Workspace, insights: Insights) -> None:
        self.ws = ws
        self.insights = insights
        self._lock = threading.Lock()
        self._jobs: dict[int, Job] = {}
        self._next_id = 1
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="commops-sync")

    # -- reading -------------------------------------------------------------------------

    def get(self, job_id: int) -> Job:
        """A copy of the job as it is now (the worker keeps changing the original)."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                raise NotFoundError(f"no sync job {job_id} (jobs are kept until the server stops)")
            return replace(job, warnings=list(job.warnings))

    def list(self, *, source: str | None = None, state: str | None = None) -> list[Job]:
        """Jobs, newest first."""
        with self._lock:
            jobs = [replace(j, warnings=list(j.warnings)) for j in self._jobs.values()]
        jobs = [
            j
            for j in jobs
            if (source is None or j.source == source) and (state is None or j.state == state)
        ]
        return sorted(jobs, key=lambda j: j.id, reverse=True)

    def active_for(self, source_id: int) -> Job | None:
        with self._lock:
            for job in self._jobs.values():
                if job.source_id == source_id and job.active:
                    return replace(job)
        return None

    # -- transitions ---------------------------------------------------------------------

    def submit(
        self,
        source_id: int,
        *,
        actor: str,
        params: dict[str, Any] | None = None,
        file: str | None = None,
        cleanup: Path | None = None,
    ) -> Job:
        """Queue a sync of the source (→ queued), or with ``params`` an import of a file into
        it. Refused while the source has one queued or running; written to the audit log."""
        with self.ws.store.session() as session:
            source = session.get(Source, source_id)
            if source is None:
                raise NotFoundError(f"no source with id {source_id}")
            if source.kind == OPS_KIND:
                raise SourceError(
                    f"source {source.name!r} holds what commops records itself: "
                    "there is nothing to sync from it"
                )
            if source.kind == FILE_KIND and not params:
                raise SourceError(
                    f"source {source.name!r} is filled by file imports: there is nothing to "
                    "sync from it",
                    hint="Import another file into it (Sources → Import a file).",
                )
            with self._lock:
                running = next(
                    (j for j in self._jobs.values() if j.source_id == source_id and j.active),
                    None,
                )
                if running is not None:
                    raise SyncBusy(
                        f"source {source.name!r} is already being synced (job {running.id}, "
                        f"{running.state})",
                        hint=f"Wait for it: /sources/jobs/{running.id}",
                    )
                job = Job(
                    id=self._next_id,
                    source_id=source_id,
                    source=source.name,
                    actor=actor,
                    file=file,
                    params=dict(params or {}),
                    cleanup=cleanup,
                )
                self._next_id += 1
                self._jobs[job.id] = job
                self._forget_old()
            core.record(
                session,
                actor=actor,
                record_type="source",
                record_id=source_id,
                action="import" if file else "sync",
                to_state="queued",
                details={"job": job.id, "source": source.name, **({"file": file} if file else {})},
            )
        self._pool.submit(self._run, job.id)
        return self.get(job.id)

    def _start(self, job_id: int) -> Job:
        """queued → running."""
        with self._lock:
            job = self._jobs[job_id]
            job.state = "running"
            job.started_at = utcnow()
            return job

    def _report(self, job_id: int, advance: int, total: int | None, note: str | None) -> None:
        """The connector's progress (``ProgressFn``), while running."""
        with self._lock:
            job = self._jobs[job_id]
            job.done += advance
            if total is not None:
                job.total = total
            if note:
                job.note = note

    def _finish(self, job_id: int, result: SyncResult) -> None:
        """running → done (the source synced) or failed (it said what went wrong)."""
        with self._lock:
            job = self._jobs[job_id]
            job.state = "done" if result.ok else "failed"
            job.finished_at = utcnow()
            job.added = result.added
            job.removed = result.removed
            job.identities = result.identities
            job.warnings = [scrub(w) or "" for w in result.warnings]
            job.error = scrub(result.error)

    def _fail(self, job_id: int, error: str) -> None:
        """running → failed, when the sync could not even be run (or crashed)."""
        with self._lock:
            job = self._jobs[job_id]
            job.state = "failed"
            job.finished_at = utcnow()
            job.error = scrub(error)

    # -- the worker ----------------------------------------------------------------------

    def _run(self, job_id: int) -> None:
        job = self._start(job_id)
        try:
            results = sync_workspace(
                self.ws,
                [job.source],
                progress=lambda _src, advance, total, note: self._report(
                    job_id, advance, total, note
                ),
                params=job.params or None,
            )
        except CommopsError as exc:  # e.g. the source was removed while the job waited
            self._fail(job_id, str(exc))
            return
        except Exception as exc:  # a bug: the job says so, the log has the traceback
            log.exception("sync job %s (%s) crashed", job_id, job.source)
            self._fail(job_id, f"{type(exc).__name__}: {exc}")
            return
        finally:
            if job.cleanup is not None:
                shutil.rmtree(job.cleanup, ignore_errors=True)
        (result,) = results
        if result.ok:
            try:
                self.insights.refresh()
            except Exception as exc:
                log.exception("refreshing the metrics after sync job %s failed", job_id)
                result.warnings.append(f"the metrics were not refreshed: {exc}")
        self._finish(job_id, result)

    def _forget_old(self) -> None:
        finished = sorted(j.id for j in self._jobs.values() if not j.active)
        for job_id in finished[: max(0, len(finished) - KEEP_FINISHED)]:
            del self._jobs[job_id]

    def wait(self, timeout: float | None = None) -> None:
        """Block until every job queued so far has ended (tests, shutdown)."""
        self._pool.submit(lambda: None).result(timeout=timeout)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


_RUNNER_LOCK = threading.Lock()


def runner(app: FastAPI) -> JobRunner:
    """The app's job runner (made on first use: the app starts no thread until a sync)."""
    with _RUNNER_LOCK:
        found: JobRunner | None = getattr(app.state, "sync_jobs", None)
        if found is None:
            found = JobRunner(app.state.workspace, app.state.insights)
            app.state.sync_jobs = found
        return found


# -- sources as the web app shows them ---------------------------------------------------------


_CREDENTIALS = re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]*://)[^/@\s]+@")


def scrub(text: str | None) -> str | None:
    """A message fit to show: any ``user:password@`` in a URL in it is taken out (a sync's
    error may quote a clone URL with a token in it)."""
    return None if text is None else _CREDENTIALS.sub(r"\1", text)


def safe_location(location: str) -> str:
    """A location fit to show: a URL loses any user name and password in it."""
    if not is_url(location) or "://" not in location:
        return location
    parts = urlsplit(location)
    if parts.username is None and parts.password is None:
        return location
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


@dataclass
class SourceRow:
    """A source on the Sources page and in ``/api/v1/sources``."""

    id: int
    name: str
    kind: str
    location: str
    branch: str | None
    activities: int
    observations: int
    last_synced_at: datetime | None
    last_run: str | None  # ok | failed | running | None (never synced)
    last_error: str | None
    status: dict[str, Any]
    syncable: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "location": self.location,
            "branch": self.branch,
            "activities": self.activities,
            "observations": self.observations,
            "last_synced_at": self.last_synced_at,
            "last_run": self.last_run,
            "last_error": self.last_error,
            "status": self.status,
            "syncable": self.syncable,
        }


def _row(source_id: int, s: SourceSummary) -> SourceRow:
    branch = s.options.get("branch")
    return SourceRow(
        id=source_id,
        name=s.name,
        kind=s.kind,
        location=safe_location(s.location),
        branch=str(branch) if branch else None,
        activities=s.activities,
        observations=s.observations,
        last_synced_at=(
            datetime.fromisoformat(s.last_synced_at.removesuffix("Z")) if s.last_synced_at else None
        ),
        last_run=s.last_run,
        last_error=scrub(s.last_error),
        status=s.status,
        syncable=s.kind not in (OPS_KIND, FILE_KIND) and not s.location.startswith(DEMO_PREFIX),
    )


def source_rows(
    ws: Workspace, *, kind: str | None = None, last_run: str | None = None
) -> list[SourceRow]:
    """Every source by name, with counts and how its last sync ended. ``last_run`` filters by
    ``ok``, ``failed``, ``running`` or ``never``."""
    with ws.store.session() as session:
        ids = {name: sid for sid, name in session.execute(select(Source.id, Source.name))}
    rows = [_row(ids[s.name], s) for s in list_sources(ws.store) if s.name in ids]
    if kind is not None:
        rows = [r for r in rows if r.kind == kind]
    if last_run is not None:
        rows = [r for r in rows if (r.last_run or "never") == last_run]
    return rows


@dataclass
class RunRow:
    """One past sync of a source (the ``sync_runs`` table)."""

    id: int
    started_at: datetime
    finished_at: datetime | None
    status: str
    added: int
    removed: int
    error: str | None
    warnings: list[str]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "status": self.status,
            "added": self.added,
            "removed": self.removed,
            "error": self.error,
            "warnings": self.warnings,
        }


def source_detail(
    ws: Workspace, source_id: int, *, runs: int = 20
) -> tuple[SourceRow, list[RunRow]]:
    """One source and its latest sync runs, newest first."""
    with ws.store.session() as session:
        name = session.execute(
            select(Source.name).where(Source.id == source_id)
        ).scalar_one_or_none()
        if name is None:
            raise NotFoundError(f"no source with id {source_id}")
        history = [
            RunRow(
                r.id,
                r.started_at,
                r.finished_at,
                r.status,
                r.items_added,
                r.items_removed,
                scrub(r.error),
                [scrub(str(w)) or "" for w in (r.warnings or [])],
            )
            for r in session.execute(
                select(SyncRun)
                .where(SyncRun.source_id == source_id)
                .order_by(SyncRun.id.desc())
                .limit(runs)
            ).scalars()
        ]
    (summary,) = [s for s in list_sources(ws.store) if s.name == name]
    return _row(source_id, summary), history


def add_git(
    ws: Workspace, location: str, *, name: str | None, branch: str | None, actor: str
) -> SourceRow:
    """Add a git source (a path on the server or a clone URL), checked as ``commops add git``
    checks it, and write who added it to the audit log."""
    location = location.strip()
    if not location:
        raise SourceError("location: give a path to a git repository or a clone URL")
    source = add_git_source(ws.store, location, name=name or None, branch=branch or None)
    with ws.store.session() as session:
        core.record(
            session,
            actor=actor,
            record_type="source",
            record_id=source.id,
            action="add",
            details={
                "kind": "git",
                "name": source.name,
                "location": safe_location(source.location),
            },
        )
    (row,) = [r for r in source_rows(ws) if r.id == source.id]
    return row


def _file_name(filename: str) -> str:
    """The last part of an uploaded file's name (browsers may send a whole Windows path)."""
    return filename.replace("\\", "/").rsplit("/", 1)[-1].strip()


def import_file(
    ws: Workspace,
    runner: JobRunner,
    filename: str,
    data: bytes,
    *,
    source: str | None,
    actor: str,
) -> Job:
    """Queue the import of an uploaded CSV or JSON Lines file of activities into the source
    ``source`` (default: the file name without its extension; made if new, as
    ``commops import csv`` does). The whole file is checked first: a bad row refuses the file
    with every problem listed, and nothing is stored. The upload is deleted once the job ends."""
    name = _file_name(filename)
    fmt = IMPORT_FORMATS.get(Path(name).suffix.lower())
    if not name or fmt is None:
        raise UsageError(
            f"file {name!r}: give a .csv or .jsonl (JSON Lines) file of activities",
            hint="The columns are described in docs/connectors/csv.md.",
        )
    if not data.strip():
        raise UsageError(f"{name}: the file is empty")
    if len(data) > UPLOAD_LIMIT:
        raise UsageError(
            f"{name}: the file is larger than {UPLOAD_LIMIT // (1024 * 1024)} MB",
            hint="Import it with `commops import csv` on the server.",
        )
    folder = ws.cache_dir / "uploads" / secrets.token_hex(8)
    folder.mkdir(parents=True)
    path = folder / (re.sub(r"[^A-Za-z0-9._-]", "_", name).lstrip(".") or "upload")
    try:
        path.write_bytes(data)
        try:
            parsed = parse_file(path, "activities", fmt)
        except SourceError as exc:  # not UTF-8, not JSON Lines, no header, ...
            raise UsageError(exc.message.replace(str(path), name), hint=exc.hint) from None
        if parsed.errors:
            shown = [f"{name}:{e.line}: {e.field}: {e.reason}" for e in parsed.errors[:20]]
            if len(parsed.errors) > 20:
                shown.append(f"... and {len(parsed.errors) - 20} more")
            raise UsageError(
                f"{name}: {len(parsed.errors)} invalid rows; nothing was imported\n"
                + "\n".join(shown)
            )
        if not parsed.rows:
            raise UsageError(f"{name}: no rows to import")
        target = source or Path(name).stem or "import"
        try:
            row = ensure_source(ws.store, FILE_KIND, str(path), name=target, options={})
        except SourceError as exc:  # the name is taken by another kind, or is not usable
            raise SourceError(exc.message, hint="Choose another source name.") from None
        return runner.submit(
            row.id,
            actor=actor,
            params={"file": str(path), "format": fmt},
            file=name,
            cleanup=folder,
        )
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
