"""``commops members ...``: the people behind the identities."""

from __future__ import annotations

import typer

from commops.cli.app import app

members_app = typer.Typer(
    help="Members: list, show, merge, unmerge, split, undo, review suggestions, bots, staff.",
    no_args_is_help=True,
)
app.add_typer(members_app, name="members")
