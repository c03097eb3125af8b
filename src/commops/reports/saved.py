"""Generating reports into the workspace and the index of saved reports.

Files go to ``<workspace>/reports/<kind>/<period>/<kind>-<period>.<lang>.<ext>``; the table
``reports`` has one row per (kind, period, lang, format). Generating the same one again
replaces the file and updates its row: never a duplicate. Each generation is written to the
audit log (``ops_log``, record type ``report``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from commops.clock import utcnow
from commops.errors import NotFoundError, UsageError
from commops.ops import core
from commops.reports.data import newsletter_data, report_data
from commops.reports.i18n import check_lang
from commops.reports.models import Report
from commops.reports.periods import Period, check_kind, parse_period
from commops.reports.render import FORMATS, render_newsletter, render_report
from commops.workspace import Workspace

RECORD_TYPE = "report"
REPORTS_DIR = "reports"


@dataclass(frozen=True)
class SavedReport:
    """A report in the index: ``path`` is relative to the workspace (``report_path`` gives
    the file), ``size`` in bytes."""

    id: int
    kind: str
    period: str
    lang: str
    format: str
    path: str
    generated_at: datetime
    generated_by: str
    size: int

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "period": self.period,
            "lang": self.lang,
            "format": self.format,
            "path": self.path,
            "generated_at": self.generated_at.isoformat() + "Z",
            "generated_by": self.generated_by,
            "size": self.size,
        }


def _saved(row: Report) -> SavedReport:
    return SavedReport(
        id=row.id,
        kind=row.kind,
        period=row.period,
        lang=row.lang,
        format=row.format,
        path=row.path,
        generated_at=row.generated_at,
        generated_by=row.generated_by,
        size=row.size,
    )


def check_formats(formats: Sequence[str]) -> list[str]:
    chosen = list(dict.fromkeys(formats))
    if not chosen:
        raise UsageError("no format given", hint=f"Formats: {', '.join(FORMATS)}")
    bad = [f for f in chosen if f not in FORMATS]
    if bad:
        raise UsageError(
            f"format {', '.join(map(repr, bad))} is not a report format",
            hint=f"Formats: {', '.join(FORMATS)}",
        )
    return chosen


def relative_path(period: Period, lang: str, fmt: str) -> str:
    name = f"{period.kind}-{period.label}.{lang}.{fmt}"
    return f"{REPORTS_DIR}/{period.kind}/{period.label}/{name}"


def render_files(
    ws: Workspace, period: Period, wanted: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], bytes]:
    """Each (language, format) of the report, rendered in memory from one computation of its
    data."""
    now = utcnow()
    if period.kind == "weekly":
        weekly = newsletter_data(ws, period)
        return {(lang, f): render_newsletter(ws, weekly, lang, f, now) for lang, f in wanted}
    data = report_data(ws, period)
    return {(lang, f): render_report(ws, data, lang, f, now) for lang, f in wanted}


def _check(
    kind: str, period: str, langs: Sequence[str], formats: Sequence[str]
) -> tuple[Period, list[tuple[str, str]]]:
    p = parse_period(check_kind(kind), period)
    chosen_langs = [check_lang(lang) for lang in dict.fromkeys(langs)]
    if not chosen_langs:
        raise UsageError("no language given", hint="Languages: en, zh-CN")
    chosen_formats = check_formats(formats)
    return p, [(lang, f) for lang in chosen_langs for f in chosen_formats]


def render(
    ws: Workspace, kind: str, period: str, *, lang: str = "en", formats: Sequence[str] = ("html",)
) -> dict[str, bytes]:
    """The report's files by format, rendered in memory and not saved (a preview)."""
    p, wanted = _check(kind, period, [lang], formats)
    return {f: body for (_, f), body in render_files(ws, p, wanted).items()}


def generate(
    ws: Workspace,
    kind: str,
    period: str,
    *,
    lang: str = "en",
    formats: Sequence[str] = ("html",),
    actor: str,
) -> list[SavedReport]:
    """Generate a report ("monthly" with period "YYYY-MM", "annual" with "YYYY", "weekly" with
    "YYYY-Www": the newsletter) in each format, save the files in the workspace and their rows
    in the index, replacing an earlier one of the same kind, period, language and format.
    Everything is checked and rendered before anything is written."""
    return generate_languages(ws, kind, period, langs=[lang], formats=formats, actor=actor)


def generate_languages(
    ws: Workspace,
    kind: str,
    period: str,
    *,
    langs: Sequence[str],
    formats: Sequence[str],
    actor: str,
) -> list[SavedReport]:
    """``generate`` in several languages at once: the figures are computed once."""
    p, wanted = _check(kind, period, langs, formats)
    return save(ws, p, render_files(ws, p, wanted), actor=actor)


def save(
    ws: Workspace, period: Period, files: dict[tuple[str, str], bytes], *, actor: str
) -> list[SavedReport]:
    """Write rendered files (by language and format) to the workspace and the index."""
    now = utcnow()
    written: list[tuple[str, str, str, bytes]] = []
    for (lang, fmt), body in files.items():
        rel = relative_path(period, lang, fmt)
        target = ws.root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".part")
        tmp.write_bytes(body)
        tmp.replace(target)
        written.append((lang, fmt, rel, body))
    with ws.store.session() as session:
        return [
            _index(session, period, lang, fmt, rel, body, actor=actor, at=now)
            for lang, fmt, rel, body in written
        ]


def _index(
    session: Session,
    period: Period,
    lang: str,
    fmt: str,
    rel: str,
    body: bytes,
    *,
    actor: str,
    at: datetime,
) -> SavedReport:
    row = session.execute(
        select(Report).where(
            Report.kind == period.kind,
            Report.period == period.label,
            Report.lang == lang,
            Report.format == fmt,
        )
    ).scalar_one_or_none()
    action = "regenerated" if row is not None else "generated"
    if row is None:
        row = Report(kind=period.kind, period=period.label, lang=lang, format=fmt)
        session.add(row)
    row.path = rel
    row.generated_at = at
    row.generated_by = actor
    row.sha256 = hashlib.sha256(body).hexdigest()
    row.size = len(body)
    session.flush()
    core.record(
        session,
        actor=actor,
        record_type=RECORD_TYPE,
        record_id=row.id,
        action=action,
        details={
            "kind": period.kind,
            "period": period.label,
            "lang": lang,
            "format": fmt,
            "path": rel,
        },
        at=at,
    )
    return _saved(row)


def list_reports(session: Session, *, kind: str | None = None) -> list[SavedReport]:
    """Saved reports, newest first (by generation time), optionally of one kind."""
    query = select(Report).order_by(Report.generated_at.desc(), Report.id.desc())
    if kind is not None:
        query = query.where(Report.kind == check_kind(kind))
    return [_saved(r) for r in session.execute(query).scalars()]


def get_report(session: Session, report_id: int) -> SavedReport:
    """One saved report; a ``NotFoundError`` (a ``UsageError``) when there is none with this
    id."""
    row = session.get(Report, report_id)
    if row is None:
        raise NotFoundError(
            f"report {report_id}: no such report",
            hint="List the saved reports with `commops report list`.",
        )
    return _saved(row)


def report_path(ws: Workspace, saved: SavedReport) -> Path:
    """The saved report's file; a ``NotFoundError`` if it was removed from the workspace."""
    path = ws.root / saved.path
    if not path.is_file():
        raise NotFoundError(
            f"report {saved.id}: its file {saved.path} is missing from the workspace",
            hint=f"Generate it again: `commops report {saved.kind} ...`"
            if saved.kind != "weekly"
            else "Generate it again: `commops newsletter weekly ...`",
        )
    return path
