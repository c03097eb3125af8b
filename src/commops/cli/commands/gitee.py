"""``commops add gitee OWNER | OWNER/REPO [OWNER/REPO...]``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from commops.cli.app import JsonOpt, add_app, add_source_and_report


@add_app.command("gitee")
def add_gitee(
    targets: Annotated[
        list[str],
        typer.Argument(
            help="An owner (all its repositories) or one or more OWNER/REPO.",
            metavar="OWNER | OWNER/REPO...",
        ),
    ],
    name: Annotated[
        str | None, typer.Option(help="Source name. Default: gitee-OWNER or gitee-OWNER/REPO.")
    ] = None,
    api_url: Annotated[
        str | None,
        typer.Option(help="API base URL. Default: https://gitee.com/api/v5."),
    ] = None,
    token_env: Annotated[
        str | None,
        typer.Option(help="Environment variable with the token. Default: GITEE_TOKEN."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Add Gitee repositories: issues, pull requests, comments, stars, forks, watchers and
    releases. The token is read at sync time, never stored."""
    options: dict[str, Any] = {"api_url": api_url, "token_env": token_env}
    add_source_and_report(
        "gitee",
        ",".join(targets),
        name=name,
        options={k: v for k, v in options.items() if v},
        as_json=as_json,
    )
