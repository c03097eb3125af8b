"""``commops members bot|staff|detect``: bot and staff flags, by hand and by detection."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

import typer
from rich.markup import escape

from commops.cli.app import JsonOpt
from commops.cli.commands.members import members_app
from commops.cli.common import (
    cli_actor,
    console,
    err_console,
    print_json,
    refresh_snapshot,
    table,
    workspace,
)
from commops.errors import UsageError

MemberArg = Annotated[
    str,
    typer.Argument(
        help="The member: its id, an e-mail or login of one of its identities, or platform:login.",
        metavar="MEMBER",
    ),
]
OffOpt = Annotated[bool, typer.Option("--off", help="Mark as NOT one (by hand).")]
AutoOpt = Annotated[
    bool,
    typer.Option("--auto", help="Forget the choice made by hand: detection decides again."),
]
ReasonOpt = Annotated[str | None, typer.Option("--reason", help="Why, for the audit log.")]


def _flag(flag: str, member: str, off: bool, auto: bool, reason: str | None, as_json: bool) -> None:
    from commops.identity.audit import find_member
    from commops.identity.staff import clear_flag, set_flag
    from commops.store.models import Member

    if off and auto:
        raise UsageError("choose one of --off and --auto")
    with workspace() as ws:
        with ws.store.session() as session:
            member_id = find_member(session, member)
            if auto:
                entry = clear_flag(
                    session, member_id, flag, config=ws.config, actor=cli_actor(), reason=reason
                )
            else:
                entry = set_flag(
                    session, member_id, flag, not off, actor=cli_actor(), reason=reason
                )
            m = session.get(Member, member_id)
            assert m is not None
            out: dict[str, Any] = {
                "member_id": m.id,
                "display_name": m.display_name,
                "flag": flag,
                "value": bool(m.is_bot if flag == "bot" else m.is_staff),
                "origin": (m.flag_origins or {}).get(flag),
                "log_id": entry.id,
            }
        refresh_snapshot(ws)
    if as_json:
        print_json(out)
        return
    word = "a bot" if flag == "bot" else "staff"
    state = word if out["value"] else f"not {word}"
    how = "by hand" if out["origin"] == "manual" else f"by detection ({out['origin'] or 'no rule'})"
    console.print(
        f"Member {out['member_id']} ({escape(out['display_name'])}) is {state}, {how}; "
        f"log entry {out['log_id']} (undo: `commops members undo {out['log_id']}`).",
        soft_wrap=True,
    )


@members_app.command("bot")
def bot_cmd(
    member: MemberArg,
    off: OffOpt = False,
    auto: AutoOpt = False,
    reason: ReasonOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Mark a member as a bot by hand (--off: as a person). Detection never overrides it;
    --auto hands the flag back to detection. Metrics leave bots out."""
    _flag("bot", member, off, auto, reason, as_json)


@members_app.command("staff")
def staff_cmd(
    member: MemberArg,
    off: OffOpt = False,
    auto: AutoOpt = False,
    reason: ReasonOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Mark a member as staff by hand (--off: as not staff). Detection never overrides it;
    --auto hands the flag back to detection. Metrics leave staff out."""
    _flag("staff", member, off, auto, reason, as_json)


def _stats_json(stats: Any) -> dict[str, Any]:
    return asdict(stats)


@members_app.command("detect")
def detect_cmd(reason: ReasonOpt = None, as_json: JsonOpt = False) -> None:
    """Detect bots (rules, [bots] accounts, behaviour) and staff ([staff] organizations and
    identities) and set the members' flags, keeping every flag set by hand. Prints what
    changed; each run is one log entry per flag, undone with `commops members undo`."""
    from commops.identity.bots import apply_bot_flags
    from commops.identity.staff import apply_staff_flags

    with workspace() as ws:
        with ws.store.session() as session:
            bots = apply_bot_flags(session, ws.config, actor=cli_actor(), reason=reason)
            staff = apply_staff_flags(session, ws.config, actor=cli_actor(), reason=reason)
        refresh_snapshot(ws)
    if as_json:
        print_json({"bot": _stats_json(bots), "staff": _stats_json(staff)})
        return
    rows = [
        {
            "member": c.member_id,
            "name": escape(c.display_name),
            "flag": c.flag,
            "change": f"{'yes' if c.before else 'no'} -> {'yes' if c.after else 'no'}",
            "origin": c.origin_after or "",
            "why": escape(c.why or ""),
        }
        for c in [*bots.changes, *staff.changes]
    ]
    if rows:
        console.print(
            table("Flags changed", ["member", "name", "flag", "change", "origin", "why"], rows)
        )
    for stats in (bots, staff):
        word = "bots" if stats.flag == "bot" else "staff"
        line = (
            f"{word}: {stats.members_flagged} flagged, {stats.members_cleared} cleared, "
            f"{stats.origins_changed} origins recorded, {stats.manual_kept} set by hand kept"
        )
        if stats.flag == "bot":
            line += (
                f"; identities: {stats.identities_flagged} flagged, "
                f"{stats.identities_cleared} cleared"
            )
        if stats.log_id is not None:
            line += f" (log entry {stats.log_id})"
        console.print(escape(line), soft_wrap=True)
        for item in stats.unmatched:
            err_console.print(
                f"warning: {escape(item)} names nobody", highlight=False, soft_wrap=True
            )
