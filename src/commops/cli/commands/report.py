"""``commops report ...``: the monthly and annual community reports, the saved reports, and
the schedule ``commops serve`` runs."""

from __future__ import annotations

from typing import Annotated

import typer

from commops.cli.app import JsonOpt, app
from commops.cli.common import cli_actor, console, print_json, table, workspace
from commops.errors import UsageError

report_app = typer.Typer(
    help="Community reports: monthly, annual, list, show, run-schedule (weekly: newsletter).",
    no_args_is_help=True,
)
app.add_typer(report_app, name="report")

FormatOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--format",
        "-f",
        help="html, pdf or md; repeat for several (default: \\[reports] formats).",
    ),
]
TITLES = {"monthly": "Monthly report", "annual": "Annual report", "weekly": "Weekly newsletter"}
LangOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--lang",
        help="en or zh-CN; repeat for both (default: \\[reports] languages).",
    ),
]


def generate_and_print(
    kind: str,
    period: str | None,
    formats: list[str] | None,
    langs: list[str] | None,
    as_json: bool,
) -> None:
    """Generate a report (any kind) from the command line and print where it was saved.
    Every language, format and the period are checked before anything is generated."""
    from commops.clock import utcnow
    from commops.reports import parse_period
    from commops.reports.periods import last_complete
    from commops.reports.saved import generate_languages

    with workspace() as ws:
        label = (
            parse_period(kind, period).label
            if period is not None
            else last_complete(kind, utcnow()).label
        )
        with console.status(f"Generating the {kind} report for {label}..."):
            saved = generate_languages(
                ws,
                kind,
                label,
                langs=langs or ws.config.reports_languages,
                formats=formats or ws.config.reports_formats,
                actor=cli_actor(),
            )
        rows = [{**s.to_json(), "file": str(ws.root / s.path)} for s in saved]
    if as_json:
        print_json(rows)
        return
    console.print(
        table(
            f"{TITLES[kind]} {label}",
            ["id", "lang", "format", "size", "file"],
            rows,
        )
    )


@report_app.command("monthly")
def monthly_cmd(
    month: Annotated[
        str | None,
        typer.Option("--month", help="YYYY-MM (default: the month before this one)."),
    ] = None,
    fmt: FormatOpt = None,
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Generate the monthly report (saved under reports/monthly/<month>/).

    The month against the month before and the same month a year earlier.
    """
    generate_and_print("monthly", month, fmt, lang, as_json)


@report_app.command("annual")
def annual_cmd(
    year: Annotated[
        str | None, typer.Option("--year", help="YYYY (default: the year before this one).")
    ] = None,
    fmt: FormatOpt = None,
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Generate the annual report (saved under reports/annual/<year>/).

    The year against the year before.
    """
    generate_and_print("annual", year, fmt, lang, as_json)


@report_app.command("list")
def list_cmd(
    kind: Annotated[str | None, typer.Option("--kind", help="monthly, annual or weekly.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List the saved reports and newsletters, newest first."""
    from commops.reports import list_reports

    with workspace() as ws, ws.store.session() as session:
        rows = [s.to_json() for s in list_reports(session, kind=kind)]
    if as_json:
        print_json(rows)
        return
    console.print(
        table(
            "Saved reports",
            ["id", "kind", "period", "lang", "format", "generated_at", "generated_by", "path"],
            rows,
        )
    )


@report_app.command("show")
def show_cmd(
    report_id: Annotated[int, typer.Argument(help="The report's id (see `report list`).")],
    as_json: JsonOpt = False,
) -> None:
    """Print a saved Markdown report, or the file's path for HTML and PDF."""
    from commops.reports import get_report, report_path

    with workspace() as ws:
        with ws.store.session() as session:
            saved = get_report(session, report_id)
        path = report_path(ws, saved)
    if as_json:
        print_json({**saved.to_json(), "file": str(path)})
    elif saved.format == "md":
        typer.echo(path.read_text(encoding="utf-8"), nl=False)
    else:
        typer.echo(str(path))


@report_app.command("run-schedule")
def run_schedule_cmd(as_json: JsonOpt = False) -> None:
    """Generate the scheduled reports that are due and not saved yet.

    What `commops serve` runs periodically. Safe from cron: a second run generates nothing.
    """
    from commops.clock import utcnow
    from commops.reports import run_schedule

    with workspace() as ws:
        if not ws.config.reports_schedule:
            raise UsageError(
                "no report is scheduled: [reports] schedule is empty",
                hint='Add e.g. schedule = ["monthly", "weekly"] under [reports] in commops.toml.',
            )
        saved = run_schedule(ws, utcnow(), actor=cli_actor())
    rows = [s.to_json() for s in saved]
    if as_json:
        print_json(rows)
    elif not rows:
        console.print("Nothing due: every scheduled report is saved already.")
    else:
        console.print(table("Generated", ["id", "kind", "period", "lang", "format", "path"], rows))
