"""``commops members ...``: the people behind the identities."""

from __future__ import annotations

import getpass
from dataclasses import asdict
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from commops.cli.app import JsonOpt, app
from commops.cli.common import (
    console,
    err_console,
    print_json,
    refresh_snapshot,
    table,
    workspace,
)
from commops.errors import UsageError

if TYPE_CHECKING:
    from commops.store.models import IdentityLog

members_app = typer.Typer(
    help="Members: list, show, merge, unmerge, split, undo, review suggestions, bots, staff.",
    no_args_is_help=True,
)
app.add_typer(members_app, name="members")

ReasonOpt = Annotated[
    str | None, typer.Option("--reason", help="Why: kept in the identity log.", show_default=False)
]


class SuggestionStatus(StrEnum):
    open = "open"
    accepted = "accepted"
    rejected = "rejected"
    stale = "stale"
    all = "all"


class MapFormat(StrEnum):
    mailmap = "mailmap"
    json = "json"


def actor() -> str:
    """Who a CLI change is logged as: ``cli:<login name>``."""
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):
        return "cli:unknown"


def _entry_json(entry: IdentityLog) -> dict[str, Any]:
    from commops.identity.audit import LogView

    return asdict(LogView.of(entry))


def _report(entries: list[dict[str, Any]], as_json: bool, verb: str) -> None:
    if as_json:
        print_json(entries if len(entries) != 1 else entries[0])
        return
    for e in entries:
        console.print(
            f"{verb}: {escape(e['summary'])}. Log entry [bold]{e['id']}[/] "
            f"(take it back with: commops members undo {e['id']})."
        )


def _report_profile(done: list[dict[str, Any]], as_json: bool, member_id: int, what: str) -> None:
    """``_report`` of a change to a member's tags or notes, or that nothing changed."""
    if not done and not as_json:
        console.print(f"Member {member_id}: the {what} are already so; nothing changed.")
        return
    _report(done, as_json, f"{what.capitalize()} of member {member_id} changed")


@members_app.command("list")
def list_cmd(
    search: Annotated[
        str | None,
        typer.Option(help="Only members whose name, or an identity's value or name, contains it."),
    ] = None,
    bots: Annotated[bool, typer.Option("--bots/--no-bots", help="Include bots.")] = True,
    limit: Annotated[int, typer.Option(min=1, help="At most this many members.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """List members, most active first."""
    from commops.identity.audit import list_members

    with workspace() as ws, ws.store.session() as session:
        rows = [asdict(m) for m in list_members(session, search, limit, include_bots=bots)]
    if as_json:
        print_json(rows)
        return
    for r in rows:
        flags = [f for f, on in (("bot", r["is_bot"]), ("staff", r["is_staff"])) if on]
        r["flags"] = ", ".join(flags)
        shown = r["handles"][:3]
        more = len(r["handles"]) - len(shown)
        r["handles"] = ", ".join(shown) + (f" (+{more})" if more else "")
        r["name"] = r["display_name"]
    console.print(
        table("Members", ["id", "name", "identities", "activities", "flags", "handles"], rows)
    )


@members_app.command("show")
def show(
    member: Annotated[
        str, typer.Argument(help="A member id, or an identity's e-mail or login.", metavar="MEMBER")
    ],
    as_json: JsonOpt = False,
) -> None:
    """Show a member.

    Identities with their activity counts, affiliations, flags and who set them, decisions,
    and the log entries that touched the member."""
    from commops.identity.audit import find_member, member_detail

    with workspace() as ws, ws.store.session() as session:
        detail = member_detail(session, find_member(session, member))
    data = asdict(detail)
    data["activities"] = detail.activities
    if as_json:
        print_json(data)
        return
    flags = []
    for flag in ("bot", "staff"):
        if data[f"is_{flag}"]:
            origin = data["flag_origins"].get(flag)
            flags.append(f"{flag} ({origin})" if origin else flag)
    console.print(
        f"[bold]{escape(detail.display_name)}[/] (member {detail.id}) - "
        f"{detail.activities} activities"
        + (f" - {', '.join(flags)}" if flags else "")
        + (f" - tags: {escape(', '.join(map(str, detail.tags)))}" if detail.tags else "")
    )
    if detail.notes:
        console.print(escape(detail.notes))
    console.print(
        table(
            "Identities",
            ["id", "platform", "kind", "value", "name", "activities", "is_bot"],
            [asdict(i) for i in detail.identities],
        )
    )
    if detail.enrollments:
        console.print(
            table(
                "Affiliations",
                ["organization", "start_date", "end_date", "origin"],
                [asdict(e) for e in detail.enrollments],
            )
        )
    if detail.decisions:
        console.print(
            table(
                "Decisions",
                ["identity_a_id", "identity_b_id", "decision", "origin", "actor", "reason"],
                detail.decisions,
            )
        )
    if detail.log:
        _print_log(detail.log, "Log")


def _print_log(entries: list[Any], title: str) -> None:
    rows = []
    for e in entries:
        row = asdict(e)
        row["when"] = e.created_at.strftime("%Y-%m-%d %H:%M")
        row["state"] = (
            f"undone by {e.undone_by_id}"
            if e.undone_by_id
            else (f"undo of {e.undo_of_id}" if e.undo_of_id else "")
        )
        rows.append(row)
    console.print(
        table(title, ["id", "when", "action", "actor", "summary", "reason", "state"], rows)
    )


@members_app.command("merge")
def merge(
    target: Annotated[str, typer.Argument(help="The member that stays.", metavar="TARGET")],
    others: Annotated[
        list[str], typer.Argument(help="Members merged into TARGET.", metavar="OTHER...")
    ],
    reason: ReasonOpt = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Remove 'different' decisions between them (logged) and merge."
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Merge members into TARGET.

    Every identity and affiliation moves to TARGET, nothing is lost, and the merge is logged
    and can be undone."""
    from commops.identity.audit import find_member, merge_members

    with workspace() as ws:
        with ws.store.session() as session:
            target_id = find_member(session, target)
            other_ids = [find_member(session, o) for o in others]
            entry = _entry_json(
                merge_members(
                    session, target_id, other_ids, actor=actor(), reason=reason, force=force
                )
            )
        refresh_snapshot(ws)
    _report([entry], as_json, f"Merged into member {target_id}")


@members_app.command("tag")
def tag(
    member: Annotated[str, typer.Argument(help="Member id, identity or name.")],
    add: Annotated[
        list[str] | None, typer.Option("--add", help="A tag to add (repeatable).")
    ] = None,
    remove: Annotated[
        list[str] | None, typer.Option("--remove", help="A tag to remove (repeatable).")
    ] = None,
    reason: ReasonOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Tag a member (ambassador, user-committee, speaker, ...) or remove tags. Logged and
    undoable; metrics can be cut by tag (--tag)."""
    from commops.identity.audit import find_member, update_profile

    if not add and not remove:
        raise UsageError("nothing to do: give --add TAG or --remove TAG")
    with workspace() as ws:
        with ws.store.session() as session:
            member_id = find_member(session, member)
            entry = update_profile(
                session,
                member_id,
                add_tags=add or [],
                remove_tags=remove or [],
                actor=actor(),
                reason=reason,
            )
            done = [] if entry is None else [_entry_json(entry)]
        if done:
            refresh_snapshot(ws)
    _report_profile(done, as_json, member_id, "tags")


@members_app.command("note")
def note(
    member: Annotated[str, typer.Argument(help="Member id, identity or name.")],
    text: Annotated[
        str | None, typer.Argument(help="The notes (replace the old ones).", show_default=False)
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Remove the notes.")] = False,
    reason: ReasonOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Replace a member's private notes (never shown on public pages). Logged and undoable."""
    from commops.identity.audit import find_member, update_profile

    if (text is None) == (not clear):
        raise UsageError("give the notes as TEXT, or --clear to remove them")
    with workspace() as ws, ws.store.session() as session:
        member_id = find_member(session, member)
        entry = update_profile(
            session, member_id, notes="" if clear else text, actor=actor(), reason=reason
        )
        done = [] if entry is None else [_entry_json(entry)]
    _report_profile(done, as_json, member_id, "notes")


@members_app.command("unmerge")
def unmerge_cmd(
    identities: Annotated[
        list[str],
        typer.Argument(
            help="Identity ids (#N in `members show`) or values (e-mail, login), all of one "
            "member.",
            metavar="IDENTITY...",
        ),
    ],
    reason: ReasonOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Move identities of one member to a new member.

    The moved and the remaining identities are remembered as different people: the resolver
    will not merge them again."""
    from commops.identity.audit import find_identity, unmerge

    with workspace() as ws:
        with ws.store.session() as session:
            ids = [find_identity(session, i).id for i in identities]
            entry = _entry_json(unmerge(session, ids, actor=actor(), reason=reason))
        refresh_snapshot(ws)
    _report([entry], as_json, "Unmerged")


@members_app.command("split")
def split(
    member: Annotated[str, typer.Argument(help="A member id, e-mail or login.", metavar="MEMBER")],
    reason: ReasonOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Give every identity of MEMBER a member of its own, remembered as different people."""
    from commops.identity.audit import find_member, split_member

    with workspace() as ws:
        with ws.store.session() as session:
            entry = _entry_json(
                split_member(session, find_member(session, member), actor=actor(), reason=reason)
            )
        refresh_snapshot(ws)
    _report([entry], as_json, "Split")


@members_app.command("undo")
def undo_cmd(
    log_id: Annotated[int, typer.Argument(help="The log entry to undo.", metavar="LOG_ID")],
    reason: ReasonOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Take back a logged change.

    Any entry of `members log`: merge, unmerge, split, accept, reject, import, automatic merge.
    Later changes to the same members must be undone first."""
    from commops.identity.audit import undo

    with workspace() as ws:
        with ws.store.session() as session:
            entry = _entry_json(undo(session, log_id, actor=actor(), reason=reason))
        refresh_snapshot(ws)
    if as_json:
        print_json(entry)
    else:
        console.print(
            f"Undid log entry {log_id}: {escape(entry['summary'])}. "
            f"Log entry [bold]{entry['id']}[/]."
        )


@members_app.command("log")
def log_cmd(
    member: Annotated[
        str | None, typer.Option(help="Only entries that touched this member.", metavar="MEMBER")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many entries.")] = 50,
    as_json: JsonOpt = False,
) -> None:
    """The identity log: who changed who-is-who, when, why, and what changed."""
    from commops.identity.audit import find_member, log_entries

    with workspace() as ws, ws.store.session() as session:
        member_id = None if member is None else find_member(session, member)
        entries = log_entries(session, member_id, limit)
    if as_json:
        print_json([asdict(e) for e in entries])
        return
    if not entries:
        console.print("The identity log is empty." if member is None else "No log entries.")
        return
    _print_log(entries, "Identity log")


@members_app.command("suggestions")
def suggestions(
    status: Annotated[
        SuggestionStatus, typer.Option(help="Which suggestions.")
    ] = SuggestionStatus.open,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List possible merges, best score first, with their evidence.

    Review them with `members accept` / `members reject`."""
    from commops.identity.audit import list_suggestions

    with workspace() as ws, ws.store.session() as session:
        found = list_suggestions(session, status.value, limit)
    rows = [asdict(s) for s in found]
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print(
            f"No {status.value if status is not SuggestionStatus.all else ''} suggestions."
        )
        return
    for r in rows:
        a, b = r["identity_a"], r["identity_b"]
        r["a"] = f"{a['platform']}:{a['value']}" + (f" ({a['name']})" if a["name"] else "")
        r["b"] = f"{b['platform']}:{b['value']}" + (f" ({b['name']})" if b["name"] else "")
        r["members"] = f"{r['member_a']} / {r['member_b']}"
        r["score"] = round(r["score"], 3)
        r["evidence"] = "; ".join(
            f"{e.get('signal')}{'*' if e.get('strong') else ''}: {e.get('detail', '')}"
            for e in r["evidence"]
        )
    columns = ["id", "score", "a", "b", "members", "evidence"]
    if status is not SuggestionStatus.open:
        columns.insert(2, "status")
    console.print(table("Suggestions (* = strong signal)", columns, rows))


def _decide(ids: list[int], reason: str | None, as_json: bool, *, accept: bool) -> None:
    from commops.identity.audit import accept_suggestion, reject_suggestion

    decide = accept_suggestion if accept else reject_suggestion
    with workspace() as ws:
        with ws.store.session() as session:
            entries = [
                _entry_json(decide(session, i, actor=actor(), reason=reason))
                for i in dict.fromkeys(ids)
            ]
        refresh_snapshot(ws)
    if as_json:
        print_json(entries)
        return
    verb = "Accepted" if accept else "Rejected"
    for sid, e in zip(dict.fromkeys(ids), entries, strict=True):
        if e["action"] == "stale":
            err_console.print(
                f"suggestion {sid} is stale: {escape(e['reason'] or '')}; marked stale "
                f"(log entry {e['id']})",
                highlight=False,
                soft_wrap=True,
            )
        else:
            console.print(
                f"{verb} suggestion {sid}: {escape(e['summary'])}. Log entry [bold]{e['id']}[/] "
                f"(take it back with: commops members undo {e['id']})."
            )


@members_app.command("accept")
def accept(
    ids: Annotated[list[int], typer.Argument(help="Suggestion ids.", metavar="ID...")],
    reason: ReasonOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Accept suggestions: merge the members of their two identities."""
    _decide(ids, reason, as_json, accept=True)


@members_app.command("reject")
def reject(
    ids: Annotated[list[int], typer.Argument(help="Suggestion ids.", metavar="ID...")],
    reason: ReasonOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Reject suggestions: their identities are different people.

    They are never suggested or merged again."""
    _decide(ids, reason, as_json, accept=False)


@members_app.command("export")
def export_cmd(
    fmt: Annotated[MapFormat, typer.Option("--format", help="mailmap or json.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file. Default: stdout.")
    ] = None,
) -> None:
    """Export identity mappings as a git .mailmap or as JSON (members, identities, decisions)."""
    import json

    from commops.identity.interop import export_json, export_mailmap

    with workspace() as ws, ws.store.session() as session:
        if fmt is MapFormat.mailmap:
            text = export_mailmap(session)
        else:
            text = json.dumps(export_json(session), indent=2, ensure_ascii=False) + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        err_console.print(f"Wrote {escape(str(output))}.", highlight=False)


@members_app.command("import")
def import_cmd(
    file: Annotated[Path, typer.Argument(help="A .mailmap or .json file.", metavar="FILE")],
    fmt: Annotated[
        MapFormat | None,
        typer.Option("--format", help="mailmap or json. Default: from the file name."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Import identity mappings from a .mailmap or a JSON export.

    Links the identities the file names (existing identities only). Logged as one entry;
    importing the same file again changes nothing."""
    from commops.identity.interop import import_file

    with workspace() as ws:
        with ws.store.session() as session:
            report = import_file(session, file, fmt.value if fmt else None, actor=actor())
        if report.changes:
            refresh_snapshot(ws)
    if as_json:
        print_json(asdict(report))
        return
    for s in report.skipped:
        err_console.print(f"{escape(s['where'])}: skipped: {escape(s['reason'])}", highlight=False)
    for c in report.conflicts:
        err_console.print(
            f"{escape(c['where'])}: not linked: {escape(c['reason'])}", highlight=False
        )
    tail = (
        f" Log entry [bold]{report.log_id}[/] (take it back with: commops members undo "
        f"{report.log_id})."
        if report.log_id
        else ""
    )
    unit = "lines" if report.format == "mailmap" else "members"
    console.print(
        f"{escape(str(file))}: {report.entries} {unit} read; {report.changes} changes: "
        f"{report.merged} members merged, "
        f"{report.decisions_added} decisions added, {report.names_set} names set; "
        f"{len(report.skipped)} skipped, {len(report.conflicts)} conflicts.{tail}"
    )
