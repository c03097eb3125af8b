"""``commops import csv FILE --kind activities|identities|members`` (CSV or JSON Lines)."""

from __future__ import annotations

from dataclasses import asdict
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from commops.cli.app import JsonOpt, import_and_report, import_app
from commops.cli.common import (
    cli_actor,
    console,
    err_console,
    print_json,
    refresh_snapshot,
    workspace,
)


class TabularKind(StrEnum):
    activities = "activities"
    identities = "identities"
    members = "members"


class TabularFormat(StrEnum):
    csv = "csv"
    jsonl = "jsonl"


@import_app.command("csv")
def import_csv(
    file: Annotated[Path, typer.Argument(help="A .csv or .jsonl file.", metavar="FILE")],
    kind: Annotated[TabularKind, typer.Option(help="What the rows are (docs/connectors/csv.md).")],
    source: Annotated[
        str | None,
        typer.Option(help="Source the activities belong to. Default: the file name's stem."),
    ] = None,
    fmt: Annotated[
        TabularFormat | None,
        typer.Option("--format", help="csv or jsonl. Default: from the file's extension."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only validate: report every bad row.")
    ] = False,
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", help="Import the valid rows, skip the bad ones.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Import activities, identities or members from CSV or JSON Lines (WeChat groups, sign-up
    sheets, surveys, forum exports). The whole file is validated first; nothing is written
    unless every row is valid, or --skip-invalid is given."""
    from commops.connectors.tabular import import_people, parse_file

    fmt_value = fmt.value if fmt else None
    parsed = parse_file(file, kind.value, fmt_value)
    errors = [asdict(e) for e in parsed.errors]
    if dry_run or (parsed.errors and not skip_invalid):
        if as_json:
            print_json(
                {
                    "file": str(file),
                    "kind": kind.value,
                    "rows": parsed.total,
                    "valid": len(parsed.rows),
                    "errors": errors,
                }
            )
        else:
            for e in parsed.errors:
                err_console.print(escape(str(e)), highlight=False, soft_wrap=True)
            verdict = "valid" if not parsed.errors else f"{len(parsed.errors)} invalid rows"
            tail = "" if dry_run else "; nothing was imported (--skip-invalid imports the rest)"
            err_console.print(
                f"{escape(str(file))}: {parsed.total} rows, {verdict}{tail}",
                highlight=False,
                soft_wrap=True,
            )
        if parsed.errors:
            raise typer.Exit(1)
        return
    if kind is TabularKind.activities:
        import_and_report(
            "tabular",
            str(file),
            name=source or file.stem or "import",
            options={},
            params={"file": str(file), "format": fmt_value, "skip_invalid": skip_invalid},
            as_json=as_json,
        )
        return
    from commops.identity.bots import BotRules

    with workspace() as ws:
        result = import_people(
            ws.store,
            parsed,
            BotRules.from_config(ws.config),
            skip_invalid=skip_invalid,
            actor=cli_actor(),
        )
        refresh_snapshot(ws)  # the identity -> member map changed
    if as_json:
        print_json({**asdict(result), "errors": errors})
        return
    for e in parsed.errors:
        err_console.print(f"{escape(str(e))} (skipped)", highlight=False, soft_wrap=True)
    console.print(
        f"{escape(str(file))}: {result.rows} {kind.value} rows; {result.identities_added} "
        f"identities added, {result.identities_moved} moved, {result.members_added} members "
        f"added, {result.members_updated} updated."
    )
