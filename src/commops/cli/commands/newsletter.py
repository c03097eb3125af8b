"""``commops newsletter weekly``: the draft of the community's weekly newsletter."""

from __future__ import annotations

from typing import Annotated

import typer

from commops.cli.app import JsonOpt, app
from commops.cli.commands.report import FormatOpt, LangOpt, generate_and_print

newsletter_app = typer.Typer(help="The weekly newsletter draft.", no_args_is_help=True)
app.add_typer(newsletter_app, name="newsletter")


@newsletter_app.command("weekly")
def weekly_cmd(
    week: Annotated[
        str | None,
        typer.Option("--week", help="YYYY-Www, an ISO week (default: the week before this one)."),
    ] = None,
    fmt: FormatOpt = None,
    lang: LangOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Draft the weekly newsletter (saved under reports/weekly/<week>/).

    New contributors, merged changes by repository, releases, articles, events, shout-outs.
    """
    generate_and_print("weekly", week, fmt, lang, as_json)
