"""Commands. Each one is thin: it parses, calls a domain function, and prints."""

from __future__ import annotations

import sys
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from commops import __version__
from commops.cli.common import (
    console,
    date_option,
    err_console,
    print_csv,
    print_json,
    progress,
    state,
    table,
    workspace,
)
from commops.errors import UsageError

app = typer.Typer(
    name="commops",
    help="commops: the open-source community operations platform.\n\n"
    "Bring in activity from where your community works, know each person across platforms, "
    "and measure community health with definitions anyone can audit.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
add_app = typer.Typer(help="Add a source to the workspace.", no_args_is_help=True)
export_app = typer.Typer(
    help="Export the workspace's data (JSON Lines or CSV).", no_args_is_help=True
)
snapshot_app = typer.Typer(
    help="The analytics snapshot (Parquet files read by DuckDB).", no_args_is_help=True
)
import_app = typer.Typer(
    help="Import files: GH Archive hours, CSV and JSON Lines, Perceval items.",
    no_args_is_help=True,
)
app.add_typer(add_app, name="add")
app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")
app.add_typer(snapshot_app, name="snapshot")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON for machines.")]


def _version(value: bool) -> None:
    if value:
        console.print(f"commops {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    workspace_dir: Annotated[
        Path | None,
        typer.Option(
            "--workspace",
            "-w",
            help="The workspace folder. Default: $COMMOPS_WORKSPACE, "
            "else the nearest folder upward with a commops.toml.",
            envvar=None,
            show_default=False,
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    state.workspace_dir = workspace_dir


# -- workspace ----------------------------------------------------------------------------------


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Where to create the workspace.")] = Path("."),
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="SQLAlchemy URL of the database. Default: SQLite in "
            "the workspace (sqlite:///commops.db). PostgreSQL: "
            "postgresql+psycopg://user:password@host/dbname.",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a workspace: DIR/commops.toml and its database (or upgrade an existing one)."""
    from commops.store.db import redact
    from commops.workspace import init_workspace

    ws, created = init_workspace(directory, database_url)
    try:
        info = {"workspace": str(ws.root), "created": created, "database": redact(ws.database_url)}
        if as_json:
            print_json(info)
        else:
            verb = "Created" if created else "Opened existing"
            console.print(f"{verb} workspace [bold]{ws.root}[/] (database {info['database']})")
            if created:
                console.print(
                    "Next: [bold]commops add git PATH_OR_URL[/], then [bold]commops sync[/]."
                )
    finally:
        ws.close()


@app.command()
def migrate(as_json: JsonOpt = False) -> None:
    """Run the pending database migrations of the workspace (opening it does this too)."""
    from commops.store.db import HEAD_REVISION, Store
    from commops.workspace import open_workspace

    ws = open_workspace(state.workspace_dir)
    store = Store(ws.database_url)
    try:
        store.check_connection()
        before = store.current_revision()
        ran = store.ensure_schema()
    finally:
        store.dispose()
    info = {"from": before, "to": HEAD_REVISION, "migrated": ran}
    if as_json:
        print_json(info)
    elif ran:
        console.print(f"Migrated the database from {before or 'empty'} to {HEAD_REVISION}.")
    else:
        console.print(f"The database is up to date ({HEAD_REVISION}).")


# -- sources ------------------------------------------------------------------------------------


@add_app.command("git")
def add_git(
    location: Annotated[
        str,
        typer.Argument(help="A path to a git repository, or a clone URL.", metavar="PATH_OR_URL"),
    ],
    name: Annotated[
        str | None, typer.Option(help="Source name. Default: the repository's folder name.")
    ] = None,
    branch: Annotated[
        str | None, typer.Option(help="Branch to follow. Default: the repository's HEAD.")
    ] = None,
    mailmap: Annotated[
        bool, typer.Option("--mailmap/--no-mailmap", help="Honour the repository's .mailmap.")
    ] = True,
    as_json: JsonOpt = False,
) -> None:
    """Add a git repository. A URL is cloned (bare) into the workspace cache on sync; a path is
    read in place."""
    from commops.sources import add_git_source

    with workspace() as ws:
        src = add_git_source(ws.store, location, name=name, branch=branch, mailmap=mailmap)
    info = {"name": src.name, "kind": src.kind, "location": src.location, **src.options}
    if as_json:
        print_json(info)
    else:
        console.print(
            f"Added git source [bold]{src.name}[/] ({src.location}, branch "
            f"{src.options['branch']}). Run [bold]commops sync[/] to import it."
        )


def add_source_and_report(
    kind: str, location: str, *, name: str | None, options: dict[str, Any], as_json: bool
) -> None:
    """What every ``commops add KIND`` does once it has parsed its options."""
    from commops.sources import add_source

    with workspace() as ws:
        src = add_source(ws.store, kind, location, name=name, options=options)
    info = {"name": src.name, "kind": src.kind, "location": src.location, "options": src.options}
    if as_json:
        print_json(info)
    else:
        console.print(
            f"Added {escape(kind)} source [bold]{escape(src.name)}[/] ({escape(src.location)}). "
            "Run [bold]commops sync[/] to import it."
        )


def import_and_report(
    kind: str,
    location: str,
    *,
    name: str,
    options: dict[str, Any],
    params: dict[str, Any],
    as_json: bool,
) -> None:
    """What every ``commops import KIND FILES`` does: make (or reuse) the source ``name`` and run
    its connector over ``params`` (the files), then refresh the snapshot."""
    from commops.sources import ensure_source
    from commops.sync import sync_workspace

    with workspace() as ws, progress() as bar:
        ensure_source(ws.store, kind, location, name=name, options=options)
        tasks: dict[str, Any] = {}

        def report(source: str, advance: int, total: int | None, note: str | None) -> None:
            if source not in tasks:
                tasks[source] = bar.add_task(source, total=total, note="")
            if total is not None:
                bar.update(tasks[source], total=total)
            bar.update(tasks[source], advance=advance, note=note or "")

        results = sync_workspace(ws, [name], progress=report, params=params)
    _report_sync(results, as_json)
    if not all(r.ok for r in results):
        raise typer.Exit(1)


@app.command("sources")
def sources_cmd(as_json: JsonOpt = False) -> None:
    """List the workspace's sources."""
    from dataclasses import asdict

    from commops.sources import list_sources

    with workspace() as ws:
        rows = [asdict(s) for s in list_sources(ws.store)]
    if as_json:
        print_json(rows)
        return
    for r in rows:
        r["items"] = r["activities"] + r["observations"]
        r["last_sync"] = (r["last_synced_at"] or "never")[:16].replace("T", " ")
        r["state"] = r["last_run"] or "-"
        notes = [f"{k}: {v}" for k, v in r["status"].items()]
        if r["last_error"]:
            notes.insert(0, r["last_error"])
        r["notes"] = "; ".join(notes)
    console.print(
        table(
            "Sources",
            ["name", "kind", "location", "items", "last_sync", "state", "notes"],
            rows,
        )
    )


@app.command()
def remove(
    name: Annotated[str, typer.Argument(help="The source to remove.", metavar="SOURCE")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Remove a source and every activity it brought in (identities and members stay)."""
    from dataclasses import asdict

    from commops.analytics.snapshot import Snapshot
    from commops.sources import get_sources, remove_source

    with workspace() as ws:
        get_sources(ws.store, [name])  # an unknown name fails before asking
        if not yes and not typer.confirm(
            f"Remove source {name!r} and all its activities?", err=True
        ):
            raise typer.Exit(1)
        removed = remove_source(ws.store, name, ws.cache_dir)
        Snapshot(ws.snapshot_dir).refresh(ws.store)
    if as_json:
        print_json(asdict(removed))
    else:
        console.print(
            f"Removed source [bold]{removed.name}[/] and its {removed.activities} activities."
        )


@app.command()
def sync(
    sources: Annotated[
        list[str] | None,
        typer.Argument(help="Sources to sync. Default: all.", metavar="[SOURCE]..."),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--from",
            help="Backfill from this day (YYYY-MM-DD, UTC): read this range again without "
            "moving the sources' cursors.",
        ),
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Backfill up to this day (YYYY-MM-DD), inclusive.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Import what is new from each source, then refresh the analytics snapshot."""
    from datetime import datetime, time, timedelta

    from commops.connectors.base import Window
    from commops.sync import sync_workspace

    window = None
    start, end = date_option("--from", since), date_option("--until", until)
    if start and end and start > end:
        raise UsageError(f"--from {start} is after --until {end}")
    if start or end:
        window = Window(
            since=datetime.combine(start, time.min) if start else None,
            until=datetime.combine(end, time.min) + timedelta(days=1, microseconds=-1)
            if end
            else None,
        )

    with workspace() as ws, progress() as bar:
        tasks: dict[str, Any] = {}

        def report(source: str, advance: int, total: int | None, note: str | None) -> None:
            if source not in tasks:
                tasks[source] = bar.add_task(source, total=total, note="")
            if total is not None:
                bar.update(tasks[source], total=total)
            bar.update(tasks[source], advance=advance, note=note or "")

        results = sync_workspace(ws, sources or None, progress=report, window=window)
    _report_sync(results, as_json)
    if not all(r.ok for r in results):
        raise typer.Exit(1)


def _report_sync(results: list[Any], as_json: bool) -> None:
    from dataclasses import asdict

    if as_json:
        print_json([asdict(r) for r in results])
        return
    for r in results:
        if r.ok:
            console.print(
                f"[green]✓[/] {r.source}: {r.added} activities added, {r.removed} "
                f"removed, {r.identities} new identities ({r.seconds:.1f}s)"
            )
        else:
            err_console.print(
                f"[red]✗[/] {escape(r.source)}: {escape(r.error or 'failed')}",
                highlight=False,
                soft_wrap=True,
            )
        for w in r.warnings:
            err_console.print(f"  [yellow]warning:[/] {escape(w)}", highlight=False, soft_wrap=True)


# -- export -------------------------------------------------------------------------------------


class ActivityFormat(StrEnum):
    jsonl = "jsonl"
    csv = "csv"


def _export(what: str, fmt: str, source: list[str] | None, output: Path | None) -> None:
    from commops.exports import export
    from commops.sources import get_sources

    with workspace() as ws:
        if source:
            get_sources(ws.store, list(source))  # unknown names fail clearly
        if output is None:
            n = export(ws.store, what, fmt, sys.stdout, source)
        else:
            tmp = output.with_name(output.name + ".part")
            try:
                with tmp.open("w", encoding="utf-8", newline="") as out:
                    n = export(ws.store, what, fmt, out, source)
                tmp.replace(output)
            finally:
                tmp.unlink(missing_ok=True)
    err_console.print(
        f"{n} {what} exported" + (f" to {escape(str(output))}" if output else ""),
        highlight=False,
        soft_wrap=True,
    )


@export_app.command("activities")
def export_activities(
    fmt: Annotated[
        ActivityFormat, typer.Option("--format", "-f", help="JSON Lines or CSV.")
    ] = ActivityFormat.jsonl,
    source: Annotated[list[str] | None, typer.Option(help="Only this source (repeatable).")] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Every activity: uid, source, kind, occurred_at (UTC), actor, channel, target and the kind's
    attributes."""
    _export("activities", fmt.value, source, output)


class IdentityFormat(StrEnum):
    jsonl = "jsonl"


@export_app.command("identities")
def export_identities(
    fmt: Annotated[
        IdentityFormat, typer.Option("--format", "-f", help="JSON Lines.")
    ] = IdentityFormat.jsonl,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
    ] = None,
) -> None:
    """Every identity with the member it belongs to."""
    _export("identities", fmt.value, None, output)


# -- analytics ----------------------------------------------------------------------------------


@snapshot_app.command("refresh")
def snapshot_refresh(as_json: JsonOpt = False) -> None:
    """Bring the snapshot up to date with the store (sync does this after every run)."""
    _snapshot(rebuild=False, as_json=as_json)


@snapshot_app.command("rebuild")
def snapshot_rebuild(as_json: JsonOpt = False) -> None:
    """Throw the snapshot away and write it again from the store."""
    _snapshot(rebuild=True, as_json=as_json)


def _snapshot(*, rebuild: bool, as_json: bool) -> None:
    from dataclasses import asdict

    from commops.analytics.snapshot import Snapshot
    from commops.analytics.table import TABLE_FILE

    with workspace() as ws:
        snap = Snapshot(ws.snapshot_dir)
        stats = snap.rebuild(ws.store) if rebuild else snap.refresh(ws.store)
    if as_json:
        print_json({"snapshot": str(snap.root), **asdict(stats)})
    else:
        console.print(
            f"Snapshot {snap.root}: {stats.appended} activities written, {stats.files} part files."
        )
        kept = stats.table
        if kept is not None and kept.changed:
            console.print(
                f"{TABLE_FILE}: "
                + (
                    f"built, {kept.inserted} activities."
                    if kept.built
                    else f"{kept.inserted} activities added, {kept.deleted} removed, "
                    f"{kept.updated} given their new member or flags."
                )
            )


class EngineName(StrEnum):
    duckdb = "duckdb"
    spark = "spark"


class Period(StrEnum):
    day = "day"
    week = "week"
    month = "month"
    quarter = "quarter"
    year = "year"


@app.command()
def metrics(
    name: Annotated[
        str | None,
        typer.Argument(
            help="A metric (`commops metrics list` names them all), or `list`. Default: the "
            "summary (series, totals, top contributors)."
        ),
    ] = None,
    since: Annotated[str | None, typer.Option(help="First day (YYYY-MM-DD), inclusive.")] = None,
    until: Annotated[str | None, typer.Option(help="Last day (YYYY-MM-DD), inclusive.")] = None,
    period: Annotated[Period, typer.Option(help="Bucket for series.")] = Period.month,
    source: Annotated[list[str] | None, typer.Option(help="Only this source (repeatable).")] = None,
    channel: Annotated[
        list[str] | None,
        typer.Option(help="Only this channel: a repository, a forum category (repeatable)."),
    ] = None,
    organization: Annotated[
        list[str] | None,
        typer.Option(
            help="Only members enrolled in this organisation on the activity's day (repeatable)."
        ),
    ] = None,
    tag: Annotated[
        list[str] | None, typer.Option(help="Only members with this tag (repeatable).")
    ] = None,
    include_bots: Annotated[
        bool, typer.Option("--include-bots", help="Count bots' activity too.")
    ] = False,
    include_staff: Annotated[
        bool,
        typer.Option(
            "--include-staff", help="Count staff members' activity too ([staff] in commops.toml)."
        ),
    ] = False,
    top: Annotated[int, typer.Option(help="How many top contributors.", min=1)] = 10,
    new_by: Annotated[
        str,
        typer.Option(
            help="new-contributors: first contribution of any kind (any), first PR opened "
            "(pr-opened) or first PR merged (pr-merged)."
        ),
    ] = "any",
    inactive_months: Annotated[
        int, typer.Option(help="inactive-contributors: months without a contribution.")
    ] = 6,
    bus_rule: Annotated[
        str,
        typer.Option(
            help="absence-factor, elephant-factor: 'strict' (more than the threshold) or "
            "'at-least'."
        ),
    ] = "strict",
    bus_threshold: Annotated[
        float, typer.Option(help="absence-factor, elephant-factor: the share (0..1).")
    ] = 0.5,
    unaffiliated: Annotated[
        str,
        typer.Option(
            help="elephant-factor: contributions with no organisation: exclude, as-one, each."
        ),
    ] = "exclude",
    review_every: Annotated[
        str, typer.Option(help="engagement-levels: when levels may go down: month, quarter, year.")
    ] = "quarter",
    engine: Annotated[
        EngineName,
        typer.Option(
            help="Where to compute: DuckDB in this process, or Spark (the same definitions over "
            "the same Parquet files; `pip install 'commops[spark]'`, Java 17; "
            "$COMMOPS_SPARK_MASTER, default local[2])."
        ),
    ] = EngineName.duckdb,
    explain: Annotated[
        str | None,
        typer.Option(
            help="List the activities behind one period's value (YYYY-MM-DD, YYYY-MM or YYYY: "
            "the period holding that day).",
            metavar="PERIOD",
        ),
    ] = None,
    as_json: JsonOpt = False,
    as_csv: Annotated[bool, typer.Option("--csv", help="Print CSV.")] = False,
) -> None:
    """Community health metrics over the analytics snapshot (definitions: docs/metrics.md).

    `commops metrics list` shows every metric with its formula and source."""
    from commops.analytics.engine import Engine
    from commops.analytics.metrics import DEFINITIONS, Metrics, Params
    from commops.analytics.snapshot import Snapshot
    from commops.sources import get_sources

    if as_json and as_csv:
        raise UsageError("choose one of --json and --csv")
    if name == "list":
        catalogue = [
            {
                "metric": d.name,
                "kind": d.kind,
                "title": d.title,
                "formula": d.formula,
                "reference": d.reference,
            }
            for d in DEFINITIONS.values()
        ]
        if as_json:
            print_json(catalogue)
        elif as_csv:
            print_csv(list(catalogue[0]), catalogue)
        else:
            console.print(table("Metrics", ["metric", "kind", "title", "reference"], catalogue))
        return
    if explain is not None and name is None:
        raise UsageError(
            "--explain needs a metric: e.g. `commops metrics commits --explain 2024-03`"
        )
    if name is not None and name not in DEFINITIONS:
        raise UsageError(f"no metric named {name!r}", hint=f"Metrics: {', '.join(DEFINITIONS)}")
    if as_csv and name is None:
        raise UsageError("--csv prints one metric: name it, e.g. `commops metrics commits --csv`")
    params = Params(
        since=date_option("--since", since),
        until=date_option("--until", until),
        period=period.value,
        sources=tuple(source or ()),
        channels=tuple(channel or ()),
        organizations=tuple(organization or ()),
        tags=tuple(tag or ()),
        include_bots=include_bots,
        include_staff=include_staff,
        top=top,
        new_by=new_by,
        inactive_months=inactive_months,
        bus_rule=bus_rule,
        bus_threshold=bus_threshold,
        unaffiliated=unaffiliated,
        review_every=review_every,
    )
    explain_at = _period_start(explain) if explain is not None else None
    with workspace() as ws:
        if source:
            get_sources(ws.store, list(source))  # unknown names fail clearly
        # Another machine may have synced into a shared database: bring the snapshot up to date
        # (only what changed is written).
        Snapshot(ws.snapshot_dir).refresh(ws.store)
        backend = None
        if engine is EngineName.spark:
            from commops.analytics.engine import spark_backend

            backend = spark_backend()
        # One metric reads the snapshot directly; the default view's three share one read.
        m = Metrics(Engine(ws.snapshot_dir, backend=backend), params, cache=name is None)
        if name is not None and explain_at is not None:
            results = [m.explain(name, explain_at)]
        elif name is not None:
            results = [m.run(name)]
        else:
            results = [m.series(), m.totals(), m.top_contributors()]
    if as_json:
        out = [r.to_json() for r in results]
        print_json(out[0] if name else {"series": out[0], "totals": out[1], "top": out[2]})
    elif as_csv:
        print_csv(results[0].columns, results[0].rows)
    else:
        for r in results:
            if r.definition.kind == "totals":
                row = r.rows[0]
                console.print(
                    table(
                        r.definition.title,
                        ["measure", "value"],
                        [{"measure": k.replace("_", " "), "value": v} for k, v in row.items()],
                    )
                )
            elif explain_at is not None:  # the table that fits a terminal; --json has it all
                cols = ["occurred_at", "kind", "display_name", "target", "title"]
                console.print(table(r.definition.title, cols, r.rows))
            else:
                console.print(table(r.definition.title, r.columns, r.rows))


def _period_start(text: str) -> date:
    """``2024-03-15``, ``2024-03`` or ``2024``: the first day it names."""
    parts = text.split("-")
    try:
        if len(parts) == 1:
            return date(int(parts[0]), 1, 1)
        if len(parts) == 2:
            return date(int(parts[0]), int(parts[1]), 1)
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"--explain {text!r} is not a period: use YYYY-MM-DD, YYYY-MM or YYYY"
        ) from None


# -- quickstart ---------------------------------------------------------------------------------


@app.command()
def quickstart(
    path: Annotated[
        Path | None,
        typer.Argument(help="A git repository. Default: the one the current folder is in."),
    ] = None,
    into: Annotated[Path, typer.Option(help="Workspace folder to create or reuse.")] = Path(
        "commops-quickstart"
    ),
    as_json: JsonOpt = False,
) -> None:
    """Everything at once, offline: make a workspace, import a repository's git history,
    compute the metrics, print a summary and write an HTML page with charts."""
    from commops.quickstart import run_quickstart

    with progress() as bar:
        task: list[Any] = []

        def report(source: str, advance: int, total: int | None, note: str | None) -> None:
            if not task:
                task.append(bar.add_task(f"importing {source}", total=total, note=""))
            if total is not None:
                bar.update(task[0], total=total)
            bar.update(task[0], advance=advance, note=note or "")

        outcome = run_quickstart(path, into, progress=report)
    if as_json:
        print_json(outcome.to_json())
        return
    totals = outcome.totals.rows[0]
    first, last = totals["first_activity"], totals["last_activity"]
    # No first/last activity when every commit is a bot's.
    span = f" ({first:%Y-%m-%d} to {last:%Y-%m-%d})" if first and last else ""
    console.print(
        f"\n[bold]{escape(outcome.source)}[/]: {_n(totals['commits'], 'commit')} by "
        f"{_n(totals['active_contributors'], 'contributor')}{span}, "
        f"{_n(totals['merged_prs'], 'merged pull request')} (bots and staff excluded).",
        soft_wrap=True,
    )
    yearly = [{**r, "year": r["period"].year} for r in outcome.yearly.rows]
    console.print(table("By year", ["year", *outcome.yearly.columns[1:]], yearly))
    top = [
        {**r, "last_active": r["last_at"].date() if r["last_at"] else None}
        for r in outcome.top.rows
    ]
    console.print(
        table(
            "Top contributors",
            ["rank", "display_name", "commits", "co_authored", "lines_changed", "last_active"],
            top,
        )
    )
    console.print(f"Workspace: {outcome.workspace}")
    console.print(f"Report:    [bold]{outcome.html}[/]  (opens offline in any browser)")


def _n(count: int, noun: str) -> str:
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def _load_command_modules() -> None:
    """Commands of each source kind live in ``commops.cli.commands.<kind>`` and register
    themselves on ``add_app`` / ``import_app`` when imported."""
    import importlib
    import pkgutil

    from commops.cli import commands

    for module in pkgutil.iter_modules(commands.__path__):
        importlib.import_module(f"{commands.__name__}.{module.name}")


_load_command_modules()
