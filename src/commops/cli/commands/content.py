"""``commops content ...``: the content pipeline with community review (docs/content.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
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
    print_json,
    refresh_snapshot,
    table,
    workspace,
)
from commops.errors import UsageError

content_app = typer.Typer(
    help="Content pipeline: pitch, review by the community, schedule, publish, credit, measure.",
    no_args_is_help=True,
)
app.add_typer(content_app, name="content")

ItemArg = Annotated[
    str, typer.Argument(help="The item: its id, a URL it was published at, or its slug.")
]
ReasonOpt = Annotated[str | None, typer.Option("--reason", help="Why, for the audit log.")]


class Verdict(StrEnum):
    approve = "approve"
    request_changes = "request-changes"
    comment = "comment"


class PerformanceBy(StrEnum):
    item = "item"
    author = "author"


def _at_option(value: str | None) -> datetime | None:
    """``--at`` as naive UTC: a date (midnight UTC) or an ISO date-time (UTC unless an offset
    is given)."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(
            f"--at {value!r} is not a date or date-time: use YYYY-MM-DD or YYYY-MM-DDTHH:MM"
        ) from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def _summary(item: Any) -> dict[str, Any]:
    return {"id": item.id, "title": item.title, "state": item.state}


def _said(info: dict[str, Any], what: str) -> None:
    console.print(f"content {info['id']} [bold]{escape(info['title'])}[/]: {what}")


# -- create, look ------------------------------------------------------------------------------


@content_app.command("add")
def add_cmd(
    title: Annotated[str, typer.Argument(help="The item's title.")],
    author: Annotated[
        list[str],
        typer.Option("--author", help="An author (member id, e-mail, login or name); repeat."),
    ],
    kind: Annotated[
        str,
        typer.Option(
            help="article, case (best-practice case), story (user story), tutorial, video or "
            "translation."
        ),
    ] = "article",
    language: Annotated[str, typer.Option(help="Language code (en, zh, zh-cn, ...).")] = "en",
    channel: Annotated[
        list[str] | None,
        typer.Option("--channel", help="A channel it is meant for (blog, wechat, ...); repeat."),
    ] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="A tag; repeat.")] = None,
    project: Annotated[str | None, typer.Option(help="The project it is about.")] = None,
    release: Annotated[str | None, typer.Option(help="The release it is about.")] = None,
    translation_of: Annotated[
        str | None,
        typer.Option("--translation-of", help="For a translation: the item it translates."),
    ] = None,
    approvals: Annotated[
        int | None,
        typer.Option(help="Approvals this item needs in review (default: [content] approvals)."),
    ] = None,
    summary: Annotated[str | None, typer.Option(help="A line or two about it.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Pitch a new item (state: pitch)."""
    from commops.ops.content import add_item

    with workspace() as ws, ws.store.session() as session:
        item = add_item(
            session,
            title=title,
            kind=kind,
            authors=author,
            language=language,
            channels=channel or [],
            tags=tag or [],
            project=project,
            release=release,
            translation_of=translation_of,
            approvals=approvals,
            summary=summary,
            actor=cli_actor(),
        )
        info = _summary(item)
    if as_json:
        print_json(info)
        return
    _said(info, "pitched. Next: [bold]commops content accept[/].")


@content_app.command("list")
def list_cmd(
    state: Annotated[str | None, typer.Option(help="Only items in this state.")] = None,
    kind: Annotated[str | None, typer.Option(help="Only items of this kind.")] = None,
    author: Annotated[str | None, typer.Option(help="Only items by this member.")] = None,
    channel: Annotated[str | None, typer.Option(help="Only items for this channel.")] = None,
    tag: Annotated[str | None, typer.Option(help="Only items with this tag.")] = None,
    deleted: Annotated[bool, typer.Option("--deleted", help="Include deleted items.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """List content items, newest first."""
    from commops.ops.content import list_items
    from commops.ops.content.views import item_row

    with workspace() as ws, ws.store.session() as session:
        rows = [
            item_row(session, i)
            for i in list_items(
                session,
                state=state,
                kind=kind,
                author=author,
                channel=channel,
                tag=tag,
                include_deleted=deleted,
            )
        ]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        row["authors"] = ", ".join(row["authors"])
        row["channels"] = ", ".join(row["channels"])
        row["published"] = row["published_at"].date() if row["published_at"] else None
        if row["deleted"]:
            row["state"] = f"{row['state']} (deleted)"
    console.print(
        table(
            "Content",
            ["id", "kind", "title", "state", "authors", "language", "channels", "published"],
            rows,
        )
    )


@content_app.command("show")
def show_cmd(item: ItemArg, as_json: JsonOpt = False) -> None:
    """Show an item: fields, authors, review rounds (with where the approval rule stands),
    posts, performance and its log."""
    from commops.ops.content import get_item
    from commops.ops.content.views import item_detail

    with workspace() as ws, ws.store.session() as session:
        detail = item_detail(
            session, get_item(session, item, include_deleted=True), ws.config.content_approvals
        )
    if as_json:
        print_json(detail)
        return
    deleted = " [red](deleted)[/]" if detail["deleted"] else ""
    console.print(
        f"[bold]{escape(detail['title'])}[/] (content {detail['id']}, {detail['kind']}, "
        f"{detail['language']}): [bold]{detail['state']}[/]{deleted}"
    )
    authors = ", ".join(
        f"{a['display_name']} ({a['member_id']}{', staff' if a['is_staff'] else ''})"
        for a in detail["authors"]
    )
    console.print(f"authors: {escape(authors)}")
    for label, key in (
        ("channels", "channels"),
        ("tags", "tags"),
    ):
        if detail[key]:
            console.print(f"{label}: {escape(', '.join(detail[key]))}")
    for label, key in (
        ("project", "project"),
        ("release", "release"),
        ("translation of", "translation_of"),
        ("url", "url"),
        ("published", "published_at"),
        ("withdrawn", "withdrawn_reason"),
        ("summary", "summary"),
    ):
        if detail[key]:
            console.print(f"{label}: {escape(str(detail[key]))}")
    if detail["translations"]:
        console.print("translations: " + ", ".join(map(str, detail["translations"])))
    override = " (this item's own)" if detail["approvals_override"] is not None else ""
    console.print(
        f"approvals needed: {detail['approvals_required']}{override}, at least one by a "
        "reviewer who is not staff"
    )
    for rnd in detail["rounds"]:
        reviewers = ", ".join(
            f"{r['display_name']}{' (staff)' if r['is_staff'] else ''}" for r in rnd["reviewers"]
        )
        standing = "rule met" if rnd["rule_met"] else f"needs {rnd['missing']}"
        console.print(
            f"\n[bold]round {rnd['number']}[/] ({rnd['outcome']}, "
            f"opened {rnd['opened_at']:%Y-%m-%d}): "
            f"{rnd['approvals']}/{rnd['approvals_required']} approvals, {standing}; "
            f"asked: {escape(reviewers)}"
        )
        for r in rnd["reviews"]:
            message = f": {r['message']}" if r["message"] else ""
            console.print(
                f"  {r['at']:%Y-%m-%d %H:%M} {escape(str(r['reviewer']))} "
                f"{r['verdict'].replace('_', ' ')}{escape(message)}"
            )
    if detail["posts"]:
        console.print(
            table(
                "Posts",
                ["channel", "state", "scheduled_on", "published_at", "url"],
                detail["posts"],
            )
        )
    perf = detail["performance"]
    if perf:
        console.print(
            table(
                "Performance (latest readings)",
                ["channel", "as_of", "views", "reads", "likes"],
                perf["channels"],
            )
        )


@content_app.command("log")
def log_cmd(item: ItemArg, as_json: JsonOpt = False) -> None:
    """The item's audit log: every step, when and by whom."""
    from commops.ops.content import get_item
    from commops.ops.content.views import log_rows

    with workspace() as ws, ws.store.session() as session:
        rows = log_rows(session, get_item(session, item, include_deleted=True).id)
    if as_json:
        print_json(rows)
        return
    for row in rows:
        row["move"] = f"{row['from_state'] or 'new'} → {row['to_state']}" if row["to_state"] else ""
        row["details"] = ", ".join(f"{k}={v}" for k, v in row["details"].items())
    console.print(table("Log", ["at", "actor", "action", "move", "reason", "details"], rows))


@content_app.command("edit")
def edit_cmd(
    item: ItemArg,
    title: Annotated[str | None, typer.Option(help="A new title.")] = None,
    language: Annotated[str | None, typer.Option(help="A new language code.")] = None,
    channel: Annotated[
        list[str] | None, typer.Option("--channel", help="The channels (replaces them); repeat.")
    ] = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", help="The tags (replaces them); repeat.")
    ] = None,
    author: Annotated[
        list[str] | None,
        typer.Option("--author", help="The authors (replaces them; before review only); repeat."),
    ] = None,
    project: Annotated[str | None, typer.Option(help="The project ('' clears it).")] = None,
    release: Annotated[str | None, typer.Option(help="The release ('' clears it).")] = None,
    summary: Annotated[str | None, typer.Option(help="The summary ('' clears it).")] = None,
    approvals: Annotated[
        int | None, typer.Option(help="Approvals this item needs (its own override).")
    ] = None,
    default_approvals: Annotated[
        bool,
        typer.Option("--default-approvals", help="Drop the override: use [content] approvals."),
    ] = False,
    reason: ReasonOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Change an item's title, language, channels, tags, project, release, summary, approvals
    override or (before review) authors."""
    from commops.ops.content import edit_item

    with workspace() as ws:
        with ws.store.session() as session:
            changes = edit_item(
                session,
                item,
                actor=cli_actor(),
                reason=reason,
                title=title,
                language=language,
                channels=channel,
                tags=tag,
                authors=author,
                project=project,
                release=release,
                summary=summary,
                approvals=approvals,
                clear_approvals=default_approvals,
            )
        refresh_snapshot(ws)
    if as_json:
        print_json(changes)
        return
    for name, (before, after) in changes.items():
        console.print(f"{name}: {escape(str(before))} → {escape(str(after))}")


# -- the flow ----------------------------------------------------------------------------------


@content_app.command("accept")
def accept_cmd(item: ItemArg, reason: ReasonOpt = None, as_json: JsonOpt = False) -> None:
    """pitch → accepted."""
    from commops.ops.content import accept

    with workspace() as ws, ws.store.session() as session:
        info = _summary(accept(session, item, actor=cli_actor(), reason=reason))
    if as_json:
        print_json(info)
        return
    _said(info, "accepted. Next: [bold]commops content start[/] when the writing starts.")


@content_app.command("start")
def start_cmd(item: ItemArg, as_json: JsonOpt = False) -> None:
    """accepted → drafting."""
    from commops.ops.content import start_drafting

    with workspace() as ws, ws.store.session() as session:
        info = _summary(start_drafting(session, item, actor=cli_actor()))
    if as_json:
        print_json(info)
        return
    _said(info, "drafting. Next: [bold]commops content submit ITEM --reviewer MEMBER[/].")


@content_app.command("submit")
def submit_cmd(
    item: ItemArg,
    reviewer: Annotated[
        list[str],
        typer.Option(
            "--reviewer", help="A reviewer to ask (member id, e-mail, login, name); repeat."
        ),
    ],
    as_json: JsonOpt = False,
) -> None:
    """drafting → in_review: open a review round asking the named reviewers."""
    from commops.ops.content import get_item, submit_for_review
    from commops.ops.content.rules import asked_reviewers, member_label

    with workspace() as ws, ws.store.session() as session:
        rnd = submit_for_review(
            session,
            item,
            reviewer,
            default_approvals=ws.config.content_approvals,
            actor=cli_actor(),
        )
        found = get_item(session, rnd.item_id)
        info = {
            **_summary(found),
            "round": rnd.number,
            "reviewers": asked_reviewers(session, rnd.id),
            "asked": [member_label(session, m) for m in asked_reviewers(session, rnd.id)],
        }
    if as_json:
        print_json(info)
        return
    _said(info, f"in review, round {info['round']}; asked: {escape(', '.join(info['asked']))}.")


@content_app.command("review")
def review_cmd(
    item: ItemArg,
    verdict: Annotated[Verdict, typer.Argument(help="approve, request-changes or comment.")],
    reviewer: Annotated[
        str, typer.Option("--as", help="The reviewer giving it (member id, e-mail, login, name).")
    ],
    message: Annotated[
        str | None,
        typer.Option("--message", "-m", help="What to change, or the comment (needed for both)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """A review by a reviewer asked in the open round. Changes requested send the item back to
    drafting; the approval that makes the rule hold approves it."""
    from commops.ops.content import review

    with workspace() as ws:
        with ws.store.session() as session:
            outcome = review(
                session,
                item,
                reviewer,
                verdict.value,
                body=message,
                default_approvals=ws.config.content_approvals,
                actor=cli_actor(),
            )
            info: dict[str, Any] = {
                "id": outcome.review.item_id,
                "round": outcome.round.number,
                "review_id": outcome.review.id,
                "verdict": outcome.review.verdict,
                "state": outcome.state,
                "approvals": len(outcome.status.approvers),
                "approvals_required": outcome.status.required,
                "rule_met": outcome.status.met,
                "missing": None if outcome.status.met else outcome.status.shortfall(),
            }
        refresh_snapshot(ws)
    if as_json:
        print_json(info)
        return
    line = (
        f"content {info['id']}: {info['verdict'].replace('_', ' ')} recorded (round "
        f"{info['round']}, {info['approvals']}/{info['approvals_required']} approvals); "
        f"the item is [bold]{info['state']}[/]"
    )
    if info["state"] == "in_review":
        line += f", still needing {info['missing']}"
    console.print(line + ".")


@content_app.command("approve")
def approve_cmd(item: ItemArg, as_json: JsonOpt = False) -> None:
    """in_review → approved, when the approval rule holds (e.g. after its override was lowered);
    otherwise says what is missing."""
    from commops.ops.content import approve, get_item

    with workspace() as ws, ws.store.session() as session:
        status = approve(
            session, item, default_approvals=ws.config.content_approvals, actor=cli_actor()
        )
        info = {**_summary(get_item(session, item)), "approvers": status.approvers}
    if as_json:
        print_json(info)
        return
    _said(info, "approved. Next: [bold]commops content schedule[/] or [bold]publish[/].")


@content_app.command("schedule")
def schedule_cmd(
    item: ItemArg,
    on: Annotated[str, typer.Option("--on", help="The day it goes out (YYYY-MM-DD).")],
    channel: Annotated[str, typer.Option(help="The channel (blog, wechat, zhihu, ...).")],
    as_json: JsonOpt = False,
) -> None:
    """approved → scheduled (again to move it to another day or channel)."""
    from commops.ops.content import get_item, schedule

    day = date_option("--on", on)
    assert day is not None
    with workspace() as ws, ws.store.session() as session:
        post = schedule(session, item, on=day, channel=channel, actor=cli_actor())
        info = {
            **_summary(get_item(session, post.item_id)),
            "channel": post.channel,
            "on": post.scheduled_on,
        }
    if as_json:
        print_json(info)
        return
    _said(info, f"scheduled on {info['channel']} for {info['on']}.")


@content_app.command("publish")
def publish_cmd(
    item: ItemArg,
    url: Annotated[str, typer.Option(help="Where it was published.")],
    channel: Annotated[
        str | None,
        typer.Option(help="The channel. Default: the scheduled one, else the item's first."),
    ] = None,
    at: Annotated[
        str | None,
        typer.Option("--at", help="When it went out (YYYY-MM-DD[THH:MM], UTC). Default: now."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """approved or scheduled → published; credits the authors."""
    from commops.ops.content import get_item, publish

    when = _at_option(at)
    with workspace() as ws:
        with ws.store.session() as session:
            post = publish(session, item, url=url, channel=channel, actor=cli_actor(), at=when)
            info = {
                **_summary(get_item(session, post.item_id)),
                "channel": post.channel,
                "url": post.url,
                "published_at": post.published_at,
            }
        refresh_snapshot(ws)
    if as_json:
        print_json(info)
        return
    _said(info, f"published on {info['channel']} at {escape(str(info['url']))}.")


@content_app.command("cross-post")
def cross_post_cmd(
    item: ItemArg,
    channel: Annotated[str, typer.Option(help="The other channel (wechat, zhihu, csdn, ...).")],
    url: Annotated[str | None, typer.Option(help="Where it was posted.")] = None,
    at: Annotated[
        str | None,
        typer.Option("--at", help="When it went out (YYYY-MM-DD[THH:MM], UTC). Default: now."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Record a published item posted on another channel."""
    from commops.ops.content import cross_post, get_item

    when = _at_option(at)
    with workspace() as ws, ws.store.session() as session:
        post = cross_post(session, item, channel=channel, url=url, actor=cli_actor(), at=when)
        info = {
            **_summary(get_item(session, post.item_id)),
            "channel": post.channel,
            "url": post.url,
            "published_at": post.published_at,
        }
    if as_json:
        print_json(info)
        return
    _said(info, f"cross-posted on {info['channel']}.")


@content_app.command("withdraw")
def withdraw_cmd(
    item: ItemArg,
    reason: Annotated[str, typer.Option("--reason", help="Why it is withdrawn (required).")],
    as_json: JsonOpt = False,
) -> None:
    """Any state that is not final → withdrawn."""
    from commops.ops.content import withdraw

    with workspace() as ws, ws.store.session() as session:
        info = _summary(withdraw(session, item, reason=reason, actor=cli_actor()))
    if as_json:
        print_json(info)
        return
    _said(info, "withdrawn.")


@content_app.command("delete")
def delete_cmd(item: ItemArg, reason: ReasonOpt = None, as_json: JsonOpt = False) -> None:
    """Delete an item (soft: `content restore` brings it back). Its credits leave the activity
    stream meanwhile."""
    from commops.ops.content import delete_item

    with workspace() as ws:
        with ws.store.session() as session:
            info = _summary(delete_item(session, item, actor=cli_actor(), reason=reason))
        refresh_snapshot(ws)
    if as_json:
        print_json(info)
        return
    _said(info, f"deleted (restore with [bold]commops content restore {info['id']}[/]).")


@content_app.command("restore")
def restore_cmd(item: ItemArg, reason: ReasonOpt = None, as_json: JsonOpt = False) -> None:
    """Bring back a deleted item and its credits."""
    from commops.ops.content import restore_item

    with workspace() as ws:
        with ws.store.session() as session:
            info = _summary(restore_item(session, item, actor=cli_actor(), reason=reason))
        refresh_snapshot(ws)
    if as_json:
        print_json(info)
        return
    _said(info, "restored.")


# -- calendar, imports, performance ------------------------------------------------------------


@content_app.command("calendar")
def calendar_cmd(
    since: Annotated[
        str | None, typer.Option(help="First day (YYYY-MM-DD). Default: 4 weeks ago.")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help="Last day (YYYY-MM-DD). Default: 8 weeks ahead.")
    ] = None,
    channel: Annotated[
        list[str] | None,
        typer.Option("--channel", help="Only this channel; repeat. Default: every channel used."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Scheduled and published items per week and channel; weeks with nothing in a channel
    are gaps."""
    from commops.clock import utcnow
    from commops.ops.content import calendar
    from commops.ops.content.calendar import week_label

    today = utcnow().date()
    start = date_option("--since", since) or today - timedelta(weeks=4)
    end = date_option("--until", until) or today + timedelta(weeks=8)
    with workspace() as ws, ws.store.session() as session:
        cal = calendar(session, since=start, until=end, channels=channel or [])

    def entries(cell_entries: list[Any]) -> list[dict[str, Any]]:
        return [
            {
                "item_id": e.item_id,
                "title": e.title,
                "kind": e.kind,
                "day": e.day,
                "url": e.url,
                "overdue": e.overdue,
            }
            for e in cell_entries
        ]

    data = {
        "since": cal.since,
        "until": cal.until,
        "channels": cal.channels,
        "weeks": [
            {
                "week": c.label,
                "start": c.week,
                "channel": c.channel,
                "scheduled": entries(c.scheduled),
                "published": entries(c.published),
                "gap": c.gap,
            }
            for c in cal.cells
        ],
        "gaps": [{"week": c.label, "start": c.week, "channel": c.channel} for c in cal.gaps],
    }
    if as_json:
        print_json(data)
        return
    if not cal.channels:
        console.print("Nothing was ever scheduled or published: no channel to show.")
        return
    rows = []
    for week in cal.weeks:
        row: dict[str, Any] = {"week": f"{week_label(week)} ({week:%m-%d})"}
        for name in cal.channels:
            cell = cal.cell(week, name)
            parts = [f"#{e.item_id} published {e.day:%a}" for e in cell.published]
            parts += [
                f"#{e.item_id} {'OVERDUE ' if e.overdue else ''}scheduled {e.day:%a}"
                for e in cell.scheduled
            ]
            row[name] = "; ".join(parts) if parts else "— gap —"
        rows.append(row)
    console.print(table(f"Calendar {cal.since} to {cal.until}", ["week", *cal.channels], rows))
    gaps = cal.gaps
    console.print(
        f"{len(gaps)} gap{'s' if len(gaps) != 1 else ''} (a week with nothing scheduled or "
        "published in a channel)."
    )


@content_app.command("import-blog")
def import_blog_cmd(
    folder: Annotated[Path, typer.Argument(help="The folder of Markdown posts (Hugo style).")],
    create_members: Annotated[
        bool,
        typer.Option("--create-members", help="Make authors that match no member members."),
    ] = False,
    channel: Annotated[str, typer.Option(help="The channel the posts were published on.")] = "blog",
    language: Annotated[
        str, typer.Option(help="Language of posts that do not say (front matter or file name).")
    ] = "en",
    kind: Annotated[
        str, typer.Option(help="Kind of posts that do not say (front matter 'kind').")
    ] = "article",
    base_url: Annotated[
        str | None,
        typer.Option(help="The address posts live under; a post's url or slug is appended."),
    ] = None,
    author: Annotated[
        str | None, typer.Option(help="The author of posts that name none (a member).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Import an existing blog: posts become published items (drafts: items in drafting),
    linked to their authors. All or nothing; importing again updates."""
    from dataclasses import asdict

    from commops.identity.bots import BotRules
    from commops.ops.content import import_blog

    with workspace() as ws:
        with ws.store.session() as session:
            stats = import_blog(
                session,
                folder,
                actor=cli_actor(),
                create_members=create_members,
                channel=channel,
                language=language,
                kind=kind,
                base_url=base_url,
                default_author=author,
                bots=BotRules.from_config(ws.config),
            )
        refresh_snapshot(ws)
    info = asdict(stats)
    if as_json:
        print_json(info)
        return
    console.print(
        f"{stats.posts} posts in {escape(stats.folder)}: {stats.created} items created, "
        f"{stats.updated} updated, {stats.unchanged} unchanged ({stats.published} published, "
        f"{stats.drafts} drafts)."
    )
    if stats.members_created:
        console.print(
            "Members created: "
            + escape(", ".join(f"{m['author']} ({m['member_id']})" for m in stats.members_created))
        )
    for skipped in stats.skipped:
        console.print(f"skipped {escape(skipped['path'])}: {escape(skipped['reason'])}")


@content_app.command("import-performance")
def import_performance_cmd(
    csv_file: Annotated[
        Path,
        typer.Argument(
            help="CSV: item (id or URL) or url, channel, date, views, reads, likes.",
            metavar="CSV",
        ),
    ],
    as_json: JsonOpt = False,
) -> None:
    """Import views, reads and likes per item and channel. All or nothing; a row already
    imported (same item, channel and date) is updated, never doubled."""
    from dataclasses import asdict

    from commops.ops.content import import_performance

    with workspace() as ws, ws.store.session() as session:
        stats = import_performance(session, csv_file, actor=cli_actor())
    if as_json:
        print_json(asdict(stats))
        return
    console.print(
        f"{escape(stats.file)}: {stats.rows} readings for {len(stats.items)} "
        f"item{'' if len(stats.items) == 1 else 's'}: "
        f"{stats.added} added, {stats.updated} updated, {stats.unchanged} unchanged."
    )


@content_app.command("performance")
def performance_cmd(
    item: Annotated[
        str | None, typer.Argument(help="One item: its readings per channel and day.")
    ] = None,
    by: Annotated[PerformanceBy, typer.Option(help="Per item or per author.")] = PerformanceBy.item,
    author: Annotated[str | None, typer.Option(help="Only this author's items.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Views, reads and likes (latest reading per channel, summed) per item or per author."""
    from commops.ops import core
    from commops.ops.content import get_item, list_items, performance

    rows: list[dict[str, Any]]
    with workspace() as ws, ws.store.session() as session:
        if item is not None:
            found = get_item(session, item)
            rows = [
                {
                    "channel": r.channel,
                    "date": r.day,
                    "views": r.views,
                    "reads": r.reads,
                    "likes": r.likes,
                    "origin": r.origin,
                }
                for r in performance.history(session, found.id)
            ]
            title = f"content {found.id} {found.title}"
        elif by is PerformanceBy.author:
            ids = [core.require_member(session, author, field="author")] if author else None
            rows = performance.by_author(session, ids)
            title = "Performance by author"
        else:
            item_ids = [i.id for i in list_items(session, author=author)] if author else None
            rows = performance.by_item(session, item_ids)
            title = "Performance by item"
    if as_json:
        print_json(rows)
        return
    if item is not None:
        columns = ["channel", "date", "views", "reads", "likes", "origin"]
    elif by is PerformanceBy.author:
        columns = ["member_id", "display_name", "items", "views", "reads", "likes"]
    else:
        for row in rows:
            row["channels"] = ", ".join(c["channel"] for c in row["channels"])
        columns = ["item_id", "title", "channels", "as_of", "views", "reads", "likes"]
    console.print(table(title, columns, rows))
