"""``commops import perceval FILE...`` and ``commops add perceval BACKEND ARGS...``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from commops.cli.app import JsonOpt, add_app, add_source_and_report, import_and_report, import_app


@import_app.command("perceval")
def import_perceval(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="Files of Perceval items: a JSON array, JSON Lines, or what `perceval ... > "
            "FILE` writes.",
            metavar="FILE...",
        ),
    ],
    name: Annotated[
        str | None, typer.Option(help="Source name. Default: the first file's name.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Import the items GrimoireLab's Perceval emits (GitHub, Discourse, Meetup, Slack mapped
    specifically; any other backend generically). Importing the same items again adds nothing."""
    first = files[0]
    import_and_report(
        "perceval",
        str(first),
        name=name or first.stem or "perceval",
        options={"mode": "import"},
        params={"files": [str(f) for f in files]},
        as_json=as_json,
    )


@add_app.command(
    "perceval", context_settings={"allow_extra_args": True, "ignore_unknown_options": True}
)
def add_perceval(
    backend: Annotated[
        str, typer.Argument(help="A Perceval backend: github, discourse, slack, mbox, ...")
    ],
    args: Annotated[
        list[str] | None,
        typer.Argument(
            help="The backend's arguments, as for the `perceval` command (put them after -- "
            "when they start with a dash).",
            metavar="[-- ARGS...]",
        ),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option(help="Source name. Default: perceval:BACKEND:ARGS (the positional ones)."),
    ] = None,
    token_env: Annotated[
        str | None,
        typer.Option(help="Environment variable whose token is passed as --api-token at sync."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Add a source read by Perceval through its Python API at sync time (needs the extra:
    pip install 'commops[perceval]'). Tokens are never stored: use --token-env."""
    options: dict[str, Any] = {"args": list(args or [])}
    if token_env:
        options["token_env"] = token_env
    add_source_and_report("perceval", backend, name=name, options=options, as_json=as_json)
