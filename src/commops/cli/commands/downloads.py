"""``commops add downloads pypi:NAME npm:NAME docker:NS/REPO github-releases:OWNER/REPO ...``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from commops.cli.app import JsonOpt, add_app, add_source_and_report
from commops.errors import UsageError


@add_app.command("downloads")
def add_downloads(
    targets: Annotated[
        list[str],
        typer.Argument(
            help="pypi:NAME, npm:NAME, docker:NS/REPO, github-releases:OWNER/REPO, "
            "helm:REPO/PACKAGE (Artifact Hub).",
            metavar="SERVICE:NAME...",
        ),
    ],
    name: Annotated[
        str | None,
        typer.Option(help="Source name. Default: the target, or 'downloads' for several."),
    ] = None,
    endpoint: Annotated[
        list[str] | None,
        typer.Option(
            help="Another base URL for a service: pypistats=URL, npm=URL, docker=URL, "
            "github=URL (GitHub Enterprise: https://HOST/api/v3), artifacthub=URL. Repeatable.",
            metavar="SERVICE=URL",
        ),
    ] = None,
    token_env: Annotated[
        str | None,
        typer.Option(help="Environment variable with a GitHub token. Default: GITHUB_TOKEN."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Add download and adoption counts: daily PyPI and npm downloads, Docker Hub pulls, GitHub
    release asset downloads, Artifact Hub stars. Stored as dated observations."""
    endpoints: dict[str, str] = {}
    for item in endpoint or []:
        service, sep, url = item.partition("=")
        if not sep or not url:
            raise UsageError(f"--endpoint {item!r}: use SERVICE=URL, e.g. npm=https://host")
        endpoints[service.strip()] = url.strip()
    options: dict[str, Any] = {"endpoints": endpoints}
    if token_env:
        options["token_env"] = token_env
    add_source_and_report(
        "downloads", ",".join(targets), name=name, options=options, as_json=as_json
    )
