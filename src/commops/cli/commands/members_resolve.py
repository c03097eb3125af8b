"""``commops members resolve``: run the identity resolver."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer

from commops.cli.app import JsonOpt
from commops.cli.commands.members import members_app
from commops.cli.common import console, print_json, refresh_snapshot, workspace


@members_app.command("resolve")
def resolve_members(
    full: Annotated[
        bool,
        typer.Option(
            "--all",
            help="Look at every identity again, not only those added since the last run.",
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Find identities that are one person: merge on strong evidence, suggest the rest.

    Runs on its own after every sync (``[identity] resolve_after_sync``). Merges are logged
    (`commops members log`) and undoable (`commops members undo`); decisions you made (unmerge,
    reject) are never overridden."""
    from commops.sync import resolve_new_identities

    with workspace() as ws:
        stats = resolve_new_identities(ws, full=full)
        if stats.merges:
            refresh_snapshot(ws)
    if as_json:
        data = asdict(stats)
        data.pop("log_ids")
        print_json(data)
        return
    console.print(
        f"Looked at {stats.identities} identities ({stats.mode}), compared {stats.pairs} pairs "
        f"in {stats.seconds:.1f} s: merged {stats.members_merged} members into others "
        f"({stats.merges} groups), {stats.suggestions} new suggestions to review"
        + (f", {stats.blocked} merges held back by your decisions" if stats.blocked else "")
        + "."
    )
    if stats.suggestions:
        console.print("Review them with: commops members suggestions")
