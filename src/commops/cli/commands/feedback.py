"""``commops feedback ...``: product feedback from every channel, grouped into themes, routed,
tracked, closed with the people who asked, and digested for the product team."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from commops.cli.app import JsonOpt, app
from commops.cli.common import (
    cli_actor,
    console,
    date_option,
    err_console,
    print_json,
    refresh_snapshot,
    table,
    workspace,
)
from commops.errors import UsageError

feedback_app = typer.Typer(
    help="Product feedback: add, import, capture, list, show, suggest, accept, reject, theme, "
    "notify-list, notified, digest, delete, restore, log.",
    no_args_is_help=True,
)
theme_app = typer.Typer(
    help="Themes: create, assign, unassign, route, status, list, show, delete, restore.",
    no_args_is_help=True,
)
app.add_typer(feedback_app, name="feedback")
feedback_app.add_typer(theme_app, name="theme")

ReasonOpt = Annotated[str | None, typer.Option("--reason", help="Why, for the audit log.")]


class Origin(StrEnum):
    survey = "survey"
    wechat = "wechat"
    event = "event"
    email = "email"
    manual = "manual"


class SuggestionStatus(StrEnum):
    open = "open"
    accepted = "accepted"
    rejected = "rejected"


class Format(StrEnum):
    markdown = "markdown"
    html = "html"


def _when(flag: str, value: str | None) -> datetime | None:
    from commops.ops.feedback.items import parse_when

    if value is None:
        return None
    try:
        return parse_when(value)
    except ValueError as exc:
        raise UsageError(f"{flag}: {exc}") from None


def _short(text: str | None, width: int = 60) -> str:
    text = " ".join((text or "").split())
    return escape(text if len(text) <= width else text[: width - 1] + "…")


def _day(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d") if value else ""


# -- items ------------------------------------------------------------------------------------


@feedback_app.command("add")
def add_cmd(
    title: Annotated[str, typer.Argument(help="What was asked for, in one line.")],
    body: Annotated[str, typer.Option(help="The feedback in the person's words.")] = "",
    member: Annotated[
        str | None,
        typer.Option(
            help="Who raised it: member id, e-mail, login or platform:login. Omit when unknown."
        ),
    ] = None,
    origin: Annotated[Origin, typer.Option(help="Where it was heard.")] = Origin.manual,
    channel: Annotated[
        str | None, typer.Option(help="The survey, WeChat group, event or call.")
    ] = None,
    url: Annotated[str | None, typer.Option(help="A link to where it was said.")] = None,
    when: Annotated[
        str | None,
        typer.Option("--date", help="When it was raised (YYYY-MM-DD or ISO time). Default: now."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Record one piece of feedback by hand.

    A known member is credited with the activity feedback:raised (contribution type ideas)."""
    from commops.ops.feedback.items import add_item

    raised_at = _when("--date", when)
    with workspace() as ws:
        with ws.store.session() as session:
            item = add_item(
                session,
                title=title,
                body=body,
                origin=origin.value,
                channel=channel,
                url=url,
                member=member,
                raised_at=raised_at,
                actor=cli_actor(),
            )
            info: dict[str, Any] = {
                "id": item.id,
                "title": item.title,
                "raised_at": item.raised_at,
            }
        refresh_snapshot(ws)
    if as_json:
        print_json(info)
        return
    console.print(f"Added feedback item {info['id']}: {escape(info['title'])}")


@feedback_app.command("import")
def import_cmd(
    file: Annotated[Path, typer.Argument(help="A CSV file (UTF-8), first line the columns.")],
    origin: Annotated[
        Origin, typer.Option(help="Origin of rows without an origin column.")
    ] = Origin.survey,
    channel: Annotated[
        str | None,
        typer.Option(help="Channel of rows without a channel (the survey, the WeChat group)."),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check every row and report; write nothing.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Import feedback from a CSV file: survey answers, WeChat notes, event notes.

    Columns: title (required), id, body, member, origin, channel, raised_at, url. Every row is
    checked first; one bad row and nothing is imported (the error names the line and column).
    Rows imported before are skipped, so importing the same file again adds nothing."""
    from commops.ops.feedback.items import import_csv

    with workspace() as ws:
        with ws.store.session() as session:
            result = import_csv(
                session,
                file,
                origin=origin.value,
                channel=channel,
                dry_run=dry_run,
                actor=cli_actor(),
            )
        if result.added:
            refresh_snapshot(ws)
    info = {**asdict(result), "dry_run": dry_run}
    if as_json:
        print_json(info)
        return
    if dry_run:
        console.print(
            f"{escape(file.name)}: {result.rows} rows are valid; "
            f"{result.rows - len(result.already)} would be imported, "
            f"{len(result.already)} were imported before."
        )
        return
    console.print(
        f"{escape(file.name)}: {len(result.added)} items imported, "
        f"{len(result.already)} rows imported before."
    )


@feedback_app.command("capture")
def capture_cmd(
    label: Annotated[
        list[str] | None,
        typer.Option(
            "--label",
            help="Issue label that marks feedback (repeatable). Default: [feedback] labels.",
        ),
    ] = None,
    category: Annotated[
        list[str] | None,
        typer.Option(
            "--category",
            help="Forum category slug whose topics are feedback (repeatable). Default: "
            "[feedback] categories.",
        ),
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Only activities from this day (YYYY-MM-DD).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Capture feedback from the activity stream: labelled issues, forum topics.

    Makes items of GitHub and Gitee issues with a feedback label and of Discourse topics in a
    feedback category, from the activities already imported.

    Running it again adds only what is new (an activity is captured once, even after its item
    is deleted)."""
    from commops.ops.feedback.items import capture

    start = date_option("--since", since)
    with workspace() as ws:
        labels = label if label else ws.config.feedback_labels
        categories = category if category else ws.config.feedback_categories
        with ws.store.session() as session:
            result = capture(
                session, labels=labels, categories=categories, since=start, actor=cli_actor()
            )
    if as_json:
        print_json(asdict(result))
        return
    console.print(
        f"Captured {len(result.added)} new items ({result.already} captured before) from issues "
        f"labelled {escape(', '.join(result.labels) or '-')} and topics in "
        f"{escape(', '.join(result.categories) or '-')}."
    )


@feedback_app.command("list")
def list_cmd(
    theme: Annotated[int | None, typer.Option(help="Only the items of this theme.")] = None,
    unthemed: Annotated[bool, typer.Option("--unthemed", help="Only items in no theme.")] = False,
    origin: Annotated[
        str | None,
        typer.Option(help="Only from this origin (github, gitee, discourse, survey, ...)."),
    ] = None,
    since: Annotated[str | None, typer.Option(help="Raised on or after (YYYY-MM-DD).")] = None,
    deleted: Annotated[bool, typer.Option("--deleted", help="Only deleted items.")] = False,
    limit: Annotated[int, typer.Option(min=1, help="At most this many.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """List feedback items, newest first."""
    from commops.ops.feedback.items import list_items

    start = date_option("--since", since)
    with workspace() as ws, ws.store.session() as session:
        rows = [
            asdict(i)
            for i in list_items(
                session,
                theme_id=theme,
                unthemed=unthemed,
                origin=origin,
                since=start,
                deleted=deleted,
                limit=limit,
            )
        ]
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print("No feedback items.")
        return
    for r in rows:
        r["raised"] = _day(r["raised_at"])
        r["title"] = _short(r["title"])
        r["member"] = escape(r["member"] or "")
        r["theme"] = r["theme_id"] or ""
        r["from"] = escape(f"{r['origin']}" + (f" / {r['channel']}" if r["channel"] else ""))
    console.print(
        table(
            "Feedback items",
            ["id", "raised", "title", "member", "from", "theme", "age_days"],
            rows,
        )
    )


@feedback_app.command("show")
def show_cmd(
    item: Annotated[int, typer.Argument(help="The item's id.")],
    as_json: JsonOpt = False,
) -> None:
    """Show an item: text, who raised it and where, its theme, suggestions and log."""
    from commops.ops.feedback.items import item_detail

    with workspace() as ws, ws.store.session() as session:
        detail = asdict(item_detail(session, item))
    if as_json:
        print_json(detail)
        return
    i = detail["item"]
    state = " [red](deleted)[/]" if i["deleted_at"] else ""
    console.print(f"[bold]{escape(i['title'])}[/] (item {i['id']}){state}")
    if i["body"]:
        console.print(escape(i["body"]))
    who = escape(i["member"] or "unknown")
    if i["member_id"]:
        who += f" (member {i['member_id']}" + (
            f", {escape(i['organization'])})" if i["organization"] else ")"
        )
    console.print(f"raised by: {who}")
    console.print(
        f"from: {escape(i['origin'])}"
        + (f" / {escape(i['channel'])}" if i["channel"] else "")
        + f", {_day(i['raised_at'])} ({i['age_days']} days ago)"
    )
    if i["link"]:
        console.print(f"link: {escape(i['link'])}")
    console.print(
        f"theme: {i['theme_id']} {escape(i['theme'] or '')}" if i["theme_id"] else "theme: none"
    )
    if detail["suggestions"]:
        console.print(
            table("Suggestions", ["id", "other_item_id", "score", "status"], detail["suggestions"])
        )
    _print_history(detail["history"])


def _print_history(history: list[dict[str, Any]]) -> None:
    rows = [
        {
            "when": h["at"].strftime("%Y-%m-%d %H:%M"),
            "action": h["action"],
            "actor": escape(h["actor"]),
            "reason": escape(h["reason"] or ""),
        }
        for h in history
    ]
    if rows:
        console.print(table("Log", ["when", "action", "actor", "reason"], rows))


@feedback_app.command("delete")
def delete_cmd(
    items: Annotated[list[int], typer.Argument(help="Item ids.", metavar="ITEM...")],
    reason: ReasonOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Delete items (soft: `feedback restore` brings them back); their credit is withdrawn."""
    from commops.ops.feedback.items import delete_item

    with workspace() as ws:
        with ws.store.session() as session:
            for item_id in items:
                delete_item(session, item_id, actor=cli_actor(), reason=reason)
        refresh_snapshot(ws)
    if as_json:
        print_json({"deleted": items})
        return
    console.print(f"Deleted items {', '.join(map(str, items))}.")


@feedback_app.command("restore")
def restore_cmd(
    items: Annotated[list[int], typer.Argument(help="Item ids.", metavar="ITEM...")],
    reason: ReasonOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Restore deleted items."""
    from commops.ops.feedback.items import restore_item

    with workspace() as ws:
        with ws.store.session() as session:
            for item_id in items:
                restore_item(session, item_id, actor=cli_actor(), reason=reason)
        refresh_snapshot(ws)
    if as_json:
        print_json({"restored": items})
        return
    console.print(f"Restored items {', '.join(map(str, items))}.")


# -- duplicates -------------------------------------------------------------------------------


@feedback_app.command("suggest")
def suggest_cmd(
    status: Annotated[
        SuggestionStatus,
        typer.Option(help="Which suggestions to list; open ones are computed first."),
    ] = SuggestionStatus.open,
    threshold: Annotated[
        float | None,
        typer.Option(help="Lowest similarity score suggested (0-1). Default: 0.40."),
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Suggest items that say the same thing (text similarity), best first.

    Review them with `feedback accept` / `feedback reject`; a rejected pair is never suggested
    again."""
    from commops.ops.feedback.similarity import THRESHOLD
    from commops.ops.feedback.suggestions import list_suggestions, suggest

    with workspace() as ws, ws.store.session() as session:
        new = 0
        if status is SuggestionStatus.open:
            new = len(suggest(session, threshold=THRESHOLD if threshold is None else threshold))
        rows = [asdict(s) for s in list_suggestions(session, status=status.value, limit=limit)]
    if as_json:
        print_json(rows)
        return
    if status is SuggestionStatus.open:
        console.print(f"{new} new suggestions.")
    if not rows:
        console.print(f"No {status.value} suggestions.")
        return
    for r in rows:
        r["item_a"] = f"{r['item_a_id']}: {_short(r['item_a'], 45)}"
        r["item_b"] = f"{r['item_b_id']}: {_short(r['item_b'], 45)}"
        r["themes"] = f"{r['theme_a_id'] or '-'} / {r['theme_b_id'] or '-'}"
    console.print(
        table(f"Suggestions ({status.value})", ["id", "score", "item_a", "item_b", "themes"], rows)
    )


@feedback_app.command("accept")
def accept_cmd(
    suggestion: Annotated[int, typer.Argument(help="The suggestion's id.")],
    title: Annotated[
        str | None, typer.Option(help="Title of the theme made when neither item has one.")
    ] = None,
    reason: ReasonOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Accept a suggestion: the two items join one theme (made when neither has one)."""
    from commops.ops.feedback.suggestions import accept

    with workspace() as ws, ws.store.session() as session:
        theme_id = accept(session, suggestion, actor=cli_actor(), title=title, reason=reason)
    if as_json:
        print_json({"suggestion": suggestion, "theme_id": theme_id})
        return
    console.print(f"Accepted suggestion {suggestion}: both items are in theme {theme_id}.")


@feedback_app.command("reject")
def reject_cmd(
    suggestion: Annotated[int, typer.Argument(help="The suggestion's id.")],
    reason: ReasonOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Reject a suggestion: the pair is never suggested again."""
    from commops.ops.feedback.suggestions import reject

    with workspace() as ws, ws.store.session() as session:
        reject(session, suggestion, actor=cli_actor(), reason=reason)
    if as_json:
        print_json({"suggestion": suggestion, "status": "rejected"})
        return
    console.print(f"Rejected suggestion {suggestion}.")


# -- themes -----------------------------------------------------------------------------------


def _theme_row(s: dict[str, Any]) -> dict[str, Any]:
    return {
        **s,
        "title": _short(s["title"], 50),
        "area": escape(s["product_area"] or ""),
        "owner": escape(s["owner"] or ""),
        "orgs": len(s["organizations"]),
        "due": _day(s["due"]),
        "sla": "overdue"
        if s["overdue"]
        else ("" if s["within_sla"] is None else ("in time" if s["within_sla"] else "late")),
    }


@theme_app.command("create")
def theme_create_cmd(
    title: Annotated[str, typer.Argument(help="The request, in one line.")],
    item: Annotated[
        list[int] | None, typer.Option("--item", help="An item to put in it (repeatable).")
    ] = None,
    description: Annotated[str | None, typer.Option(help="What is asked for.")] = None,
    area: Annotated[str | None, typer.Option(help="Product area (e.g. console, cli).")] = None,
    owner: Annotated[str | None, typer.Option(help="The member who owns it.")] = None,
    link: Annotated[str | None, typer.Option(help="The issue or roadmap item.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a theme (state new), optionally with items."""
    from commops.ops.feedback.themes import create_theme

    with workspace() as ws, ws.store.session() as session:
        theme = create_theme(
            session,
            title,
            actor=cli_actor(),
            description=description,
            product_area=area,
            owner=owner,
            link=link,
            items=item or [],
        )
        info: dict[str, Any] = {
            "id": theme.id,
            "title": theme.title,
            "status": theme.status,
            "items": item or [],
        }
    if as_json:
        print_json(info)
        return
    console.print(f"Created theme {info['id']}: {escape(info['title'])}")


@theme_app.command("assign")
def theme_assign_cmd(
    theme: Annotated[int, typer.Argument(help="The theme's id.")],
    items: Annotated[list[int], typer.Argument(help="Item ids.", metavar="ITEM...")],
    as_json: JsonOpt = False,
) -> None:
    """Put items in a theme (moving them out of their current theme)."""
    from commops.ops.feedback.themes import assign_item

    with workspace() as ws, ws.store.session() as session:
        moved = [i for i in items if assign_item(session, i, theme, actor=cli_actor())]
    if as_json:
        print_json({"theme": theme, "assigned": moved})
        return
    console.print(
        f"Theme {theme}: {len(moved)} items assigned"
        + (f", {len(items) - len(moved)} already in it." if len(moved) < len(items) else ".")
    )


@theme_app.command("unassign")
def theme_unassign_cmd(
    items: Annotated[list[int], typer.Argument(help="Item ids.", metavar="ITEM...")],
    as_json: JsonOpt = False,
) -> None:
    """Take items out of their theme."""
    from commops.ops.feedback.themes import unassign_item

    with workspace() as ws, ws.store.session() as session:
        for i in items:
            unassign_item(session, i, actor=cli_actor())
    if as_json:
        print_json({"unassigned": items})
        return
    console.print(f"Items {', '.join(map(str, items))} are in no theme now.")


@theme_app.command("route")
def theme_route_cmd(
    theme: Annotated[int, typer.Argument(help="The theme's id.")],
    area: Annotated[
        str | None, typer.Option(help="Product area; an empty value clears it.")
    ] = None,
    owner: Annotated[
        str | None, typer.Option(help="The member who owns it; an empty value clears it.")
    ] = None,
    link: Annotated[
        str | None,
        typer.Option(help="The issue or roadmap item (http(s) URL); an empty value clears it."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Route a theme: product area, owner, link to the issue or roadmap item."""
    from commops.ops.feedback.themes import UNSET, route_theme

    def given(value: str | None) -> Any:
        return UNSET if value is None else (value.strip() or None)

    with workspace() as ws, ws.store.session() as session:
        changes = route_theme(
            session,
            theme,
            actor=cli_actor(),
            product_area=given(area),
            owner=given(owner),
            link=given(link),
        )
    if as_json:
        print_json({"theme": theme, "changes": changes})
        return
    shown = "; ".join(f"{k}: {v[0] or '-'} -> {v[1] or '-'}" for k, v in changes.items())
    console.print(f"Theme {theme} routed: {escape(shown)}")


@theme_app.command("status")
def theme_status_cmd(
    theme: Annotated[int, typer.Argument(help="The theme's id.")],
    state: Annotated[
        str,
        typer.Argument(help="triaged, planned, in_progress, shipped or declined."),
    ],
    reason: Annotated[
        str | None,
        typer.Option(help="Why (required to decline: the people who asked will read it)."),
    ] = None,
    link: Annotated[
        str | None, typer.Option(help="The roadmap item, issue, pull request or release notes.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Move a theme to its next state.

    new -> triaged -> planned -> in_progress -> shipped; declined (with --reason) from any open
    state; in_progress -> planned when work pauses. Shipped and declined are final."""
    from commops.ops.feedback.themes import set_status

    with workspace() as ws, ws.store.session() as session:
        done = set_status(session, theme, state, actor=cli_actor(), reason=reason, link=link)
        info = {"id": done.id, "status": done.status, "reason": done.reason, "link": done.link}
    if as_json:
        print_json(info)
        return
    console.print(f"Theme {theme} is {info['status']}.")
    if info["status"] in ("shipped", "declined"):
        console.print(f"Tell the people who asked: [bold]commops feedback notify-list {theme}[/]")


@theme_app.command("list")
def theme_list_cmd(
    status: Annotated[
        list[str] | None, typer.Option("--status", help="Only in this state (repeatable).")
    ] = None,
    area: Annotated[str | None, typer.Option(help="Only this product area.")] = None,
    overdue: Annotated[
        bool, typer.Option("--overdue", help="Only themes past their service level.")
    ] = False,
    deleted: Annotated[bool, typer.Option("--deleted", help="Only deleted themes.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """List themes, heaviest first: by affected members, then organisations, then items."""
    from commops.ops.feedback.themes import list_themes

    with workspace() as ws, ws.store.session() as session:
        rows = [
            asdict(s)
            for s in list_themes(
                session,
                sla_days=ws.config.feedback_sla_days,
                status=status or [],
                area=area,
                overdue=overdue,
                deleted=deleted,
            )
        ]
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print("No themes.")
        return
    console.print(
        table(
            "Feedback themes",
            [
                "id",
                "title",
                "status",
                "members",
                "orgs",
                "items",
                "area",
                "owner",
                "age_days",
                "due",
                "sla",
            ],
            [_theme_row(r) for r in rows],
        )
    )


@theme_app.command("show")
def theme_show_cmd(
    theme: Annotated[int, typer.Argument(help="The theme's id.")],
    as_json: JsonOpt = False,
) -> None:
    """Show a theme: routing, state, weight, service level, people, items and log."""
    from commops.ops.feedback.themes import theme_detail

    with workspace() as ws, ws.store.session() as session:
        detail = asdict(theme_detail(session, theme, sla_days=ws.config.feedback_sla_days))
    if as_json:
        print_json(detail)
        return
    t = _theme_row(detail["theme"])
    state = " [red](deleted)[/]" if t["deleted_at"] else ""
    console.print(f"[bold]{escape(detail['theme']['title'])}[/] (theme {t['id']}){state}")
    if t["description"]:
        console.print(escape(t["description"]))
    console.print(f"status: {t['status']}" + (f" ({escape(t['reason'])})" if t["reason"] else ""))
    console.print(f"area: {t['area'] or '-'}; owner: {t['owner'] or '-'}")
    console.print(f"link: {escape(t['link'] or '-')}")
    console.print(
        f"weight: {t['members']} members, {t['orgs']} organisation(s) "
        f"({escape(', '.join(t['organizations']) or '-')}), {t['items']} items"
    )
    console.print(
        f"age: {t['age_days']} days since {_day(t['start'])}; due {t['due']}"
        + (f" ({t['sla']})" if t["sla"] else "")
    )
    people = [
        {
            "member_id": p["member_id"],
            "name": escape(p["name"]),
            "organization": escape(p["organization"] or ""),
            "first_raised": _day(p["first_raised_at"]),
            "items": ", ".join(map(str, p["items"])),
        }
        for p in detail["people"]
    ]
    if people:
        console.print(
            table("People", ["member_id", "name", "organization", "first_raised", "items"], people)
        )
    _print_history(detail["history"])


@theme_app.command("delete")
def theme_delete_cmd(
    theme: Annotated[int, typer.Argument(help="The theme's id.")],
    reason: ReasonOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Delete a theme (soft: `theme restore` brings it back); its items count as unthemed."""
    from commops.ops.feedback.themes import delete_theme

    with workspace() as ws, ws.store.session() as session:
        delete_theme(session, theme, actor=cli_actor(), reason=reason)
    if as_json:
        print_json({"deleted": theme})
        return
    console.print(f"Deleted theme {theme}.")


@theme_app.command("restore")
def theme_restore_cmd(
    theme: Annotated[int, typer.Argument(help="The theme's id.")],
    reason: ReasonOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Restore a deleted theme, with the items still in it."""
    from commops.ops.feedback.themes import restore_theme

    with workspace() as ws, ws.store.session() as session:
        restore_theme(session, theme, actor=cli_actor(), reason=reason)
    if as_json:
        print_json({"restored": theme})
        return
    console.print(f"Restored theme {theme}.")


# -- closing the loop -------------------------------------------------------------------------


@feedback_app.command("notify-list")
def notify_list_cmd(
    theme: Annotated[int, typer.Argument(help="A shipped or declined theme.")],
    as_json: JsonOpt = False,
) -> None:
    """Who to tell that a theme shipped or was declined, with a draft per channel.

    Everyone who raised an item of the theme, once each, with where to reach them."""
    from commops.ops.feedback.loop import notify_list

    with workspace() as ws, ws.store.session() as session:
        listing = asdict(notify_list(session, theme, sla_days=ws.config.feedback_sla_days))
    if as_json:
        print_json(listing)
        return
    console.print(
        f"[bold]{escape(listing['title'])}[/] (theme {theme}) is {listing['status']}: "
        f"{len(listing['recipients'])} members to tell."
    )
    for w in listing["warnings"]:
        err_console.print(f"[yellow]warning:[/] {escape(w)}", highlight=False, soft_wrap=True)
    rows = [
        {
            "member_id": r["member_id"],
            "name": escape(r["name"]),
            "channel": r["channel"],
            "address": escape(r["address"] or ""),
            "items": ", ".join(map(str, r["items"])),
            "notified": _day(r["notified_at"]) or "no",
        }
        for r in listing["recipients"]
    ]
    if rows:
        console.print(
            table("To tell", ["member_id", "name", "channel", "address", "items", "notified"], rows)
        )
    for channel, text in listing["drafts"].items():
        console.print(f"\n[bold]Draft ({channel})[/]")
        console.print(escape(text), highlight=False, soft_wrap=True)


@feedback_app.command("notified")
def notified_cmd(
    theme: Annotated[int, typer.Argument(help="The theme's id.")],
    members: Annotated[
        list[str] | None,
        typer.Argument(help="Members told (id, e-mail, login).", metavar="[MEMBER]..."),
    ] = None,
    everyone: Annotated[
        bool, typer.Option("--all", help="Everyone on the notify list not yet recorded.")
    ] = False,
    channel: Annotated[
        str | None,
        typer.Option(help="github, gitee, forum, email or wechat. Default: the suggested one."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Record that members were told; emits feedback:closed_loop for each (once)."""
    from commops.ops.feedback.loop import notify_list, record_notified

    if not members and not everyone:
        raise UsageError("name the members told, or give --all")
    with workspace() as ws:
        with ws.store.session() as session:
            refs: list[int | str] = list(members or [])
            if everyone:
                listing = notify_list(session, theme)
                refs += [r.member_id for r in listing.recipients if r.notified_at is None]
            results = []
            for ref in refs:
                note, created = record_notified(
                    session, theme, ref, actor=cli_actor(), channel=channel
                )
                results.append(
                    {
                        "member": str(ref),
                        "channel": note.channel,
                        "notified_at": note.notified_at,
                        "new": created,
                    }
                )
        refresh_snapshot(ws)
    if as_json:
        print_json(results)
        return
    new = sum(1 for r in results if r["new"])
    console.print(
        f"Theme {theme}: {new} members recorded as told, {len(results) - new} recorded before."
    )


# -- digest and log ---------------------------------------------------------------------------


@feedback_app.command("digest")
def digest_cmd(
    since: Annotated[str, typer.Option(help="First day of the window (YYYY-MM-DD).")],
    until: Annotated[
        str | None, typer.Option(help="Last day of the window (YYYY-MM-DD). Default: today.")
    ] = None,
    fmt: Annotated[Format, typer.Option("--format", "-f", help="Markdown or HTML.")] = (
        Format.markdown
    ),
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file (default: stdout).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """The product team's digest of a window of days, as Markdown or HTML.

    New and growing themes by affected members and organisations, with quotes and links;
    items without a theme; overdue themes."""
    import sys

    from commops.ops.feedback.digest import build_digest, render

    start = date_option("--since", since)
    end = date_option("--until", until)
    assert start is not None
    with workspace() as ws, ws.store.session() as session:
        digest = build_digest(session, since=start, until=end, sla_days=ws.config.feedback_sla_days)
    if as_json:
        print_json(asdict(digest))
        return
    text = render(digest, fmt.value)
    if output is None:
        sys.stdout.write(text)
        return
    tmp = output.with_name(output.name + ".part")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(output)
    finally:
        tmp.unlink(missing_ok=True)
    err_console.print(f"Digest written to {escape(str(output))}", highlight=False, soft_wrap=True)


@feedback_app.command("log")
def log_cmd(
    item: Annotated[int | None, typer.Option(help="Only this item's entries.")] = None,
    theme: Annotated[int | None, typer.Option(help="Only this theme's entries.")] = None,
    suggestion: Annotated[int | None, typer.Option(help="Only this suggestion's entries.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many entries.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """The feedback audit log, newest first: who changed what, when and why."""
    from commops.ops.feedback.log import log_entries

    chosen = (("item", item), ("theme", theme), ("suggestion", suggestion))
    given = [(k, v) for k, v in chosen if v is not None]
    if len(given) > 1:
        raise UsageError("give one of --item, --theme, --suggestion")
    record, record_id = given[0] if given else (None, None)
    with workspace() as ws, ws.store.session() as session:
        entries = [
            asdict(e) for e in log_entries(session, record=record, record_id=record_id, limit=limit)
        ]
    if as_json:
        print_json(entries)
        return
    if not entries:
        console.print("The feedback log is empty.")
        return
    rows = [
        {
            "id": e["id"],
            "when": e["at"].strftime("%Y-%m-%d %H:%M"),
            "record": f"{e['record']} {e['record_id']}",
            "action": e["action"],
            "actor": escape(e["actor"]),
            "reason": escape(e["reason"] or ""),
        }
        for e in entries
    ]
    console.print(
        table("Feedback log", ["id", "when", "record", "action", "actor", "reason"], rows)
    )
