"""Reports on a schedule: ``[reports] schedule`` names the kinds ``commops serve`` generates on
its own, each for the last period that has ended (the month before, the year before, the ISO
week before), in every configured language and format, once."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import select

from commops.config import Config
from commops.reports.models import Report
from commops.reports.periods import KINDS, last_complete, parse_period
from commops.reports.saved import SavedReport, render_files, save
from commops.workspace import Workspace


def due_reports(
    config: Config, last_runs: Collection[tuple[str, str]], now: datetime
) -> list[tuple[str, str]]:
    """The (kind, period) pairs the schedule asks for at ``now`` that are not among
    ``last_runs`` (the pairs already generated in full), in the order monthly, annual,
    weekly."""
    due = []
    for kind in KINDS:
        if kind not in config.reports_schedule:
            continue
        period = last_complete(kind, now).label
        if (kind, period) not in last_runs:
            due.append((kind, period))
    return due


def _missing(ws: Workspace, kind: str, period: str) -> list[tuple[str, str]]:
    """The configured (language, format) pairs not saved yet for this kind and period."""
    with ws.store.session() as session:
        have = set(
            session.execute(
                select(Report.lang, Report.format).where(
                    Report.kind == kind, Report.period == period
                )
            ).all()
        )
    return [
        (lang, f)
        for lang in ws.config.reports_languages
        for f in ws.config.reports_formats
        if (lang, f) not in have
    ]


def generated_runs(ws: Workspace, now: datetime) -> set[tuple[str, str]]:
    """The scheduled (kind, period) pairs at ``now`` whose every configured language and
    format is saved already."""
    runs = set()
    for kind in KINDS:
        if kind in ws.config.reports_schedule:
            period = last_complete(kind, now).label
            if not _missing(ws, kind, period):
                runs.add((kind, period))
    return runs


def run_schedule(ws: Workspace, now: datetime, *, actor: str = "schedule") -> list[SavedReport]:
    """Generate what the schedule says is due at ``now`` and not saved yet (only the missing
    languages and formats). Calling it again at the same time generates nothing."""
    saved: list[SavedReport] = []
    for kind, period in due_reports(ws.config, generated_runs(ws, now), now):
        p = parse_period(kind, period)
        saved += save(ws, p, render_files(ws, p, _missing(ws, kind, period)), actor=actor)
    return saved
