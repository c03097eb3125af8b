"""``commops import gharchive FILES... --repo OWNER/NAME | --org OWNER``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from commops.cli.app import JsonOpt, import_and_report, import_app
from commops.errors import UsageError


@import_app.command("gharchive")
def import_gharchive(
    files: Annotated[
        list[Path],
        typer.Argument(help="GH Archive hourly files (.json.gz or .json).", metavar="FILES..."),
    ],
    repo: Annotated[
        list[str] | None,
        typer.Option("--repo", help="Keep this repository's events (OWNER/NAME, repeatable)."),
    ] = None,
    org: Annotated[
        list[str] | None,
        typer.Option("--org", help="Keep the events of this owner's repositories (repeatable)."),
    ] = None,
    keep_all: Annotated[
        bool, typer.Option("--all", help="Keep every event (large: for a sample or a mirror).")
    ] = False,
    name: Annotated[
        str | None,
        typer.Option(help="Source name. Default: gharchive-<repositories and organisations>."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Import GH Archive hours: the events of the given repositories or organisations, read by
    DuckDB file by file. A file imported before (same content) is skipped."""
    from commops.connectors.gharchive import GHArchiveConnector

    repos, orgs = list(repo or []), list(org or [])
    if not (repos or orgs or keep_all):
        raise UsageError(
            "give --repo OWNER/NAME or --org OWNER (repeatable), or --all",
            hint="GH Archive hours hold all of GitHub: say which events to keep.",
        )
    options: dict[str, Any] = {"repos": repos, "orgs": orgs}
    if keep_all:
        options["all"] = True
    default, location, options = GHArchiveConnector.prepare("", options)
    import_and_report(
        "gharchive",
        location,
        name=name or default,
        options=options,
        params={"files": [str(f) for f in files]},
        as_json=as_json,
    )
