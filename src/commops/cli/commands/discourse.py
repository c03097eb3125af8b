"""``commops add discourse URL [--category ...]``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from commops.cli.app import JsonOpt, add_app, add_source_and_report


@add_app.command("discourse")
def add_discourse(
    url: Annotated[str, typer.Argument(help="The forum's address, e.g. https://ask.example.org.")],
    name: Annotated[str | None, typer.Option(help="Source name. Default: the host name.")] = None,
    category: Annotated[
        list[str] | None,
        typer.Option(help="Read only this category (slug, id or slug/id); repeat for more."),
    ] = None,
    qa_category: Annotated[
        list[str] | None,
        typer.Option(help="A question-and-answer category: its topics count as questions."),
    ] = None,
    api_username: Annotated[
        str | None, typer.Option(help="Api-Username sent with the API key. Default: system.")
    ] = None,
    token_env: Annotated[
        str | None,
        typer.Option(help="Environment variable with the API key. Default: DISCOURSE_API_KEY."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Add a Discourse forum: topics, posts, who answered whom, accepted solutions, likes.
    Public forums need no key; the key is read at sync time, never stored."""
    options: dict[str, Any] = {
        "categories": category,
        "qa_categories": qa_category,
        "api_username": api_username,
        "token_env": token_env,
    }
    add_source_and_report(
        "discourse",
        url,
        name=name,
        options={k: v for k, v in options.items() if v},
        as_json=as_json,
    )
