"""``commops add github ORG | OWNER/REPO [OWNER/REPO...]``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from commops.cli.app import JsonOpt, add_app, add_source_and_report


@add_app.command("github")
def add_github(
    targets: Annotated[
        list[str],
        typer.Argument(
            help="An organisation (all its repositories) or one or more OWNER/REPO.",
            metavar="ORG | OWNER/REPO...",
        ),
    ],
    name: Annotated[
        str | None, typer.Option(help="Source name. Default: the organisation or repositories.")
    ] = None,
    api_url: Annotated[
        str | None,
        typer.Option(help="API base URL, for GitHub Enterprise: https://HOST/api/v3."),
    ] = None,
    token_env: Annotated[
        str | None,
        typer.Option(help="Environment variable with the token. Default: GITHUB_TOKEN."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Add GitHub repositories: issues, pull requests, reviews, comments, stars, forks,
    releases and watchers. The token is read at sync time, never stored."""
    options: dict[str, Any] = {"api_url": api_url, "token_env": token_env}
    add_source_and_report(
        "github",
        ",".join(targets),
        name=name,
        options={k: v for k, v in options.items() if v},
        as_json=as_json,
    )
