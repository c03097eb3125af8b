"""``commops events ...``: events, the call for proposals, registrations and check-in,
volunteers, attribution and iCalendar (docs/events.md)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from commops.cli.app import JsonOpt, app
from commops.cli.common import (
    cli_actor,
    console,
    print_json,
    refresh_snapshot,
    table,
    workspace,
)
from commops.errors import UsageError

events_app = typer.Typer(
    help="Events: plan, call for proposals, registrations, check-in, volunteers, impact, "
    "iCalendar.",
    no_args_is_help=True,
)
app.add_typer(events_app, name="events")

EventArg = Annotated[str, typer.Argument(help="The event: its id or slug.")]
ProposalArg = Annotated[str, typer.Argument(help="The proposal's id.")]
ShiftArg = Annotated[str, typer.Argument(help="The shift's id.")]
MemberArg = Annotated[str, typer.Argument(help="A member: id, e-mail, login or name.")]
WhoArg = Annotated[
    str,
    typer.Argument(help="A registration: r<id>, the e-mail it was made with, or the member."),
]
ReasonOpt = Annotated[str | None, typer.Option("--reason", help="Why, for the audit log.")]
OutOpt = Annotated[Path, typer.Option("-o", "--output", help="The file to write.")]


def _event_info(session: Any, event: Any) -> dict[str, Any]:
    from commops.ops.events import organizer_ids
    from commops.ops.events.rules import member_label

    return {
        "id": event.id,
        "slug": event.slug,
        "title": event.title,
        "kind": event.kind,
        "state": event.state,
        "starts_at": event.starts_at.isoformat(sep=" "),
        "ends_at": event.ends_at.isoformat(sep=" "),
        "where": "online" if event.online else (event.city or ""),
        "venue": event.venue,
        "url": event.url,
        "partners": list(event.partners),
        "organizers": [member_label(session, m) for m in organizer_ids(session, event.id)],
        "deleted": event.deleted_at is not None,
    }


def _said(info: dict[str, Any], what: str) -> None:
    console.print(f"event [bold]{escape(info['slug'])}[/]: {what}")


# -- events ------------------------------------------------------------------------------------


@events_app.command("add")
def add_cmd(
    title: Annotated[str, typer.Argument(help="The event's title.")],
    start: Annotated[str, typer.Option(help="Start, ISO 8601 (UTC unless an offset is given).")],
    end: Annotated[str, typer.Option(help="End, ISO 8601.")],
    kind: Annotated[
        str, typer.Option(help="meetup, webinar, conference, workshop or hackathon.")
    ] = "meetup",
    city: Annotated[str | None, typer.Option(help="The city (events in person).")] = None,
    online: Annotated[bool, typer.Option("--online", help="An online event.")] = False,
    venue: Annotated[str | None, typer.Option(help="The venue's name and address.")] = None,
    url: Annotated[str | None, typer.Option(help="The event's page.")] = None,
    description: Annotated[str | None, typer.Option(help="What it is about.")] = None,
    organizer: Annotated[
        list[str] | None, typer.Option("--organizer", help="An organiser (member); repeat.")
    ] = None,
    partner: Annotated[
        list[str] | None, typer.Option("--partner", help="A co-hosting partner's name; repeat.")
    ] = None,
    slug: Annotated[str | None, typer.Option(help="Its short name (default: day-title).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Plan a new event (state: planned)."""
    from commops.ops.events import add_event
    from commops.ops.events.rules import parse_when

    with workspace() as ws, ws.store.session() as session:
        event = add_event(
            session,
            title=title,
            kind=kind,
            starts_at=parse_when(start, "--start"),
            ends_at=parse_when(end, "--end"),
            online=online,
            city=city,
            venue=venue,
            url=url,
            description=description,
            organizers=organizer or [],
            partners=partner or [],
            slug=slug,
            actor=cli_actor(),
        )
        info = _event_info(session, event)
    if as_json:
        print_json(info)
        return
    _said(info, f"planned for {info['starts_at']} UTC.")


@events_app.command("list")
def list_cmd(
    state: Annotated[str | None, typer.Option(help="planned, held or cancelled.")] = None,
    deleted: Annotated[bool, typer.Option("--deleted", help="Include deleted events.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """List events, soonest first."""
    from commops.ops.events import list_events

    with workspace() as ws, ws.store.session() as session:
        rows = [
            _event_info(session, e)
            for e in list_events(session, state=state, include_deleted=deleted)
        ]
    if as_json:
        print_json(rows)
        return
    console.print(
        table("Events", ["id", "slug", "kind", "state", "starts_at", "where", "title"], rows)
    )


@events_app.command("show")
def show_cmd(event: EventArg, as_json: JsonOpt = False) -> None:
    """Show an event: organisers, partners, agenda, proposals, registrations, shifts."""
    from commops.ops.events import agenda, get_event, list_proposals, shift_views
    from commops.ops.events.proposals import mean_score, speaker_ids
    from commops.ops.events.registrations import list_registrations
    from commops.ops.events.rules import member_label, member_of

    with workspace() as ws, ws.store.session() as session:
        ev = get_event(session, event, include_deleted=True)
        info = _event_info(session, ev)
        info["agenda"] = [
            {
                "at": s.starts_at.isoformat(sep=" "),
                "title": s.title,
                "speakers": [
                    member_label(session, member_of(session, i)) for i in s.speaker_identity_ids
                ],
            }
            for s in agenda(session, ev.id)
        ]
        info["proposals"] = [
            {
                "id": p.id,
                "title": p.title,
                "state": p.state,
                "speakers": [member_label(session, m) for m in speaker_ids(session, p.id)],
                "mean_score": mean_score(session, p.id),
            }
            for p in list_proposals(session, ev.id)
        ]
        regs = list_registrations(session, ev.id)
        info["registrations"] = len(regs)
        info["checked_in"] = sum(1 for r in regs if r.checked_in_at is not None)
        info["shifts"] = [asdict(v) for v in shift_views(session, ev.id)]
    if as_json:
        print_json(info)
        return
    console.print(
        f"[bold]{escape(info['title'])}[/] ({info['kind']}, {info['state']}) "
        f"{info['starts_at']} – {info['ends_at']} UTC, {escape(info['where'])}"
    )
    console.print(f"organisers: {escape(', '.join(info['organizers']) or '-')}")
    console.print(f"partners: {escape(', '.join(info['partners']) or '-')}")
    console.print(f"registrations: {info['registrations']}, checked in: {info['checked_in']}")
    for key, title in (("agenda", "Agenda"), ("proposals", "Proposals")):
        rows = [
            {k: ", ".join(v) if isinstance(v, list) else v for k, v in row.items()}
            for row in info[key]
        ]
        if rows:
            console.print(table(title, list(rows[0]), rows))
    shifts = [{k: v for k, v in s.items() if k != "volunteers"} for s in info["shifts"]]
    if shifts:
        console.print(table("Shifts", list(shifts[0]), shifts))


@events_app.command("organizer")
def organizer_cmd(event: EventArg, member: MemberArg, as_json: JsonOpt = False) -> None:
    """Add an organiser to an event."""
    from commops.ops.events import add_organizer

    with workspace() as ws, ws.store.session() as session:
        info = _event_info(session, add_organizer(session, event, member, actor=cli_actor()))
    refresh_snapshot(ws)
    if as_json:
        print_json(info)
        return
    _said(info, f"organisers: {escape(', '.join(info['organizers']))}.")


@events_app.command("session")
def session_cmd(
    event: EventArg,
    title: Annotated[str, typer.Argument(help="The session's title.")],
    at: Annotated[str, typer.Option("--at", help="When it starts, ISO 8601.")],
    end: Annotated[str | None, typer.Option(help="When it ends.")] = None,
    speaker: Annotated[
        list[str] | None, typer.Option("--speaker", help="A speaker (member); repeat.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Add a session to the event's agenda."""
    from commops.ops.events import add_session
    from commops.ops.events.rules import parse_when

    with workspace() as ws, ws.store.session() as session:
        row = add_session(
            session,
            event,
            title=title,
            starts_at=parse_when(at, "--at"),
            ends_at=parse_when(end, "--end") if end else None,
            speakers=speaker or [],
            actor=cli_actor(),
        )
        info: dict[str, Any] = {
            "id": row.id,
            "title": row.title,
            "at": row.starts_at.isoformat(sep=" "),
        }
    if as_json:
        print_json(info)
        return
    console.print(f"session {info['id']} [bold]{escape(info['title'])}[/] at {info['at']} UTC.")


def _event_move(fn_name: str, event: str, reason: str | None, as_json: bool, what: str) -> None:
    import commops.ops.events as ops

    with workspace() as ws, ws.store.session() as session:
        ev = getattr(ops, fn_name)(session, event, actor=cli_actor(), reason=reason)
        info = _event_info(session, ev)
    refresh_snapshot(ws)
    if as_json:
        print_json(info)
        return
    _said(info, what)


@events_app.command("hold")
def hold_cmd(event: EventArg, reason: ReasonOpt = None, as_json: JsonOpt = False) -> None:
    """The event took place: credit organisers, confirmed speakers and checked-in attendees."""
    _event_move("hold_event", event, reason, as_json, "held; participants credited.")


@events_app.command("cancel")
def cancel_cmd(event: EventArg, reason: ReasonOpt = None, as_json: JsonOpt = False) -> None:
    """The event will not take place."""
    _event_move("cancel_event", event, reason, as_json, "cancelled.")


@events_app.command("delete")
def delete_cmd(event: EventArg, reason: ReasonOpt = None, as_json: JsonOpt = False) -> None:
    """Hide an event (soft, audited; `commops events restore` brings it back)."""
    _event_move("delete_event", event, reason, as_json, "deleted.")


@events_app.command("restore")
def restore_cmd(event: EventArg, reason: ReasonOpt = None, as_json: JsonOpt = False) -> None:
    """Bring back a deleted event."""
    _event_move("restore_event", event, reason, as_json, "restored.")


# -- call for proposals ------------------------------------------------------------------------


def _proposal_info(session: Any, proposal: Any) -> dict[str, Any]:
    from commops.ops.events.models import Event
    from commops.ops.events.proposals import mean_score, speaker_ids
    from commops.ops.events.rules import member_label

    event = session.get(Event, proposal.event_id)
    return {
        "id": proposal.id,
        "event": event.slug,
        "title": proposal.title,
        "state": proposal.state,
        "speakers": [member_label(session, m) for m in speaker_ids(session, proposal.id)],
        "mean_score": mean_score(session, proposal.id),
    }


@events_app.command("propose")
def propose_cmd(
    event: EventArg,
    title: Annotated[str, typer.Argument(help="The talk's title.")],
    speaker: Annotated[list[str], typer.Option("--speaker", help="A speaker (member); repeat.")],
    abstract: Annotated[str | None, typer.Option(help="What the talk is about.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Submit a proposal to the event's call for proposals (state: submitted)."""
    from commops.ops.events import submit_proposal

    with workspace() as ws, ws.store.session() as session:
        proposal = submit_proposal(
            session, event, title=title, speakers=speaker, abstract=abstract, actor=cli_actor()
        )
        info = _proposal_info(session, proposal)
    if as_json:
        print_json(info)
        return
    console.print(f"proposal {info['id']} [bold]{escape(info['title'])}[/]: submitted.")


@events_app.command("proposals")
def proposals_cmd(event: EventArg, as_json: JsonOpt = False) -> None:
    """List an event's proposals with their state and mean review score."""
    from commops.ops.events import get_event, list_proposals

    with workspace() as ws, ws.store.session() as session:
        ev = get_event(session, event)
        rows = [_proposal_info(session, p) for p in list_proposals(session, ev.id)]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        row["speakers"] = ", ".join(row["speakers"])
    console.print(table("Proposals", ["id", "state", "mean_score", "title", "speakers"], rows))


@events_app.command("review")
def review_cmd(
    proposal: ProposalArg,
    score: Annotated[int, typer.Option(help="0 (no) to 5 (must have).")],
    reviewer: Annotated[str, typer.Option("--as", help="The reviewer (member).")],
    comment: Annotated[str | None, typer.Option("-m", "--comment", help="Feedback.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Score a submitted proposal (one review per reviewer; speakers cannot review)."""
    from commops.ops.events import review_proposal
    from commops.ops.events.proposals import get_proposal

    with workspace() as ws, ws.store.session() as session:
        review_proposal(
            session, proposal, reviewer=reviewer, score=score, comment=comment, actor=cli_actor()
        )
        info = _proposal_info(session, get_proposal(session, proposal))
    if as_json:
        print_json(info)
        return
    console.print(f"proposal {info['id']}: reviewed; mean score {info['mean_score']}.")


def _proposal_move(fn_name: str, proposal: str, reason: str | None, as_json: bool) -> None:
    import commops.ops.events as ops

    with workspace() as ws, ws.store.session() as session:
        row = getattr(ops, fn_name)(session, proposal, actor=cli_actor(), reason=reason)
        info = _proposal_info(session, row)
    refresh_snapshot(ws)
    if as_json:
        print_json(info)
        return
    console.print(f"proposal {info['id']} [bold]{escape(info['title'])}[/]: {info['state']}.")


@events_app.command("accept")
def accept_cmd(proposal: ProposalArg, reason: ReasonOpt = None, as_json: JsonOpt = False) -> None:
    """submitted → accepted."""
    _proposal_move("accept_proposal", proposal, reason, as_json)


@events_app.command("reject")
def reject_cmd(proposal: ProposalArg, reason: ReasonOpt = None, as_json: JsonOpt = False) -> None:
    """submitted → rejected."""
    _proposal_move("reject_proposal", proposal, reason, as_json)


@events_app.command("confirm")
def confirm_cmd(proposal: ProposalArg, reason: ReasonOpt = None, as_json: JsonOpt = False) -> None:
    """accepted → confirmed: the speakers will give the talk."""
    _proposal_move("confirm_proposal", proposal, reason, as_json)


@events_app.command("withdraw")
def withdraw_cmd(proposal: ProposalArg, reason: ReasonOpt = None, as_json: JsonOpt = False) -> None:
    """submitted or accepted → withdrawn."""
    _proposal_move("withdraw_proposal", proposal, reason, as_json)


@events_app.command("speaker")
def speaker_cmd(member: MemberArg, as_json: JsonOpt = False) -> None:
    """A member's talks (confirmed proposals) and all proposals with review feedback."""
    from commops.ops.events import speaker_profile

    with workspace() as ws, ws.store.session() as session:
        profile = asdict(speaker_profile(session, member))
    if as_json:
        print_json(profile)
        return
    console.print(
        f"[bold]{escape(profile['name'])}[/] (member {profile['member_id']}): "
        f"{len(profile['past_talks'])} talks, {len(profile['proposals'])} proposals"
    )
    rows = [
        {
            "event": t["event"],
            "title": t["title"],
            "state": t["state"],
            "mean_score": t["mean_score"],
            "feedback": "; ".join(
                f"{r['score']}: {r['comment']}" if r["comment"] else str(r["score"])
                for r in t["reviews"]
            ),
        }
        for t in profile["proposals"]
    ]
    console.print(table("Proposals", ["event", "title", "state", "mean_score", "feedback"], rows))


# -- registrations -----------------------------------------------------------------------------


def _reg_info(session: Any, reg: Any) -> dict[str, Any]:
    from commops.ops.events.rules import member_of

    return {
        "registration": f"r{reg.id}",
        "member_id": member_of(session, reg.identity_id),
        "name": reg.name,
        "email": reg.email,
        "organisation": reg.organisation,
        "consent": reg.consent,
        "checked_in_at": (
            reg.checked_in_at.isoformat(sep=" ", timespec="seconds") if reg.checked_in_at else None
        ),
    }


@events_app.command("register")
def register_cmd(
    event: EventArg,
    email: Annotated[str, typer.Option(help="Their e-mail address.")],
    name: Annotated[str, typer.Option(help="Their name.")] = "",
    login: Annotated[str | None, typer.Option(help="Their GitHub/Gitee login.")] = None,
    organisation: Annotated[str | None, typer.Option(help="Their organisation.")] = None,
    consent: Annotated[
        bool, typer.Option("--consent", help="They agree to their details going to partners.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Register one person (matched to a member, or a new member with an e-mail identity)."""
    from commops.ops.events import Person, register

    with workspace() as ws, ws.store.session() as session:
        reg = register(
            session,
            event,
            Person(name=name, email=email, login=login, organisation=organisation, consent=consent),
            actor=cli_actor(),
        )
        info = _reg_info(session, reg)
    if as_json:
        print_json(info)
        return
    console.print(
        f"{info['registration']}: {escape(info['name'])} (member {info['member_id']}) registered."
    )


@events_app.command("import-registrations")
def import_cmd(
    event: EventArg,
    file: Annotated[
        Path,
        typer.Argument(
            help="CSV (name, email, github/login, organisation, consent) or iCalendar (.ics: "
            "its ATTENDEEs)."
        ),
    ],
    as_json: JsonOpt = False,
) -> None:
    """Register everyone in a CSV file or an iCalendar file's attendees (checked whole first;
    importing again changes nothing)."""
    from commops.ops.events import import_registrations

    with workspace() as ws, ws.store.session() as session:
        result = asdict(import_registrations(session, event, file, actor=cli_actor()))
    refresh_snapshot(ws)
    if as_json:
        print_json(result)
        return
    console.print(
        f"{escape(result['file'])}: {result['rows']} rows, {result['created']} registered, "
        f"{result['updated']} updated, {result['unchanged']} unchanged, "
        f"{len(result['new_members'])} new members."
    )


@events_app.command("registrations")
def registrations_cmd(event: EventArg, as_json: JsonOpt = False) -> None:
    """List an event's registrations."""
    from commops.ops.events import get_event
    from commops.ops.events.registrations import list_registrations

    with workspace() as ws, ws.store.session() as session:
        ev = get_event(session, event)
        rows = [_reg_info(session, r) for r in list_registrations(session, ev.id)]
    if as_json:
        print_json(rows)
        return
    console.print(table("Registrations", list(rows[0]) if rows else ["registration"], rows))


@events_app.command("check-in")
def check_in_cmd(
    event: EventArg,
    who: WhoArg,
    at: Annotated[
        str | None, typer.Option("--at", help="When they arrived, ISO 8601 (default: now).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Mark a registrant as present (someone not registered is refused)."""
    from commops.ops.events import check_in
    from commops.ops.events.rules import parse_when

    when = parse_when(at, "--at") if at else None
    with workspace() as ws, ws.store.session() as session:
        info = _reg_info(session, check_in(session, event, who, actor=cli_actor(), at=when))
    refresh_snapshot(ws)
    if as_json:
        print_json(info)
        return
    console.print(f"{info['registration']}: {escape(info['name'])} checked in.")


@events_app.command("consent")
def consent_cmd(
    event: EventArg,
    who: WhoArg,
    yes: Annotated[
        bool, typer.Option("--yes/--no", help="Whether they agree to sharing with partners.")
    ],
    reason: ReasonOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Record whether a registrant agrees to their details going to the partners."""
    from commops.ops.events import set_consent

    with workspace() as ws, ws.store.session() as session:
        info = _reg_info(
            session, set_consent(session, event, who, yes, actor=cli_actor(), reason=reason)
        )
    if as_json:
        print_json(info)
        return
    console.print(f"{info['registration']}: consent {'given' if yes else 'withdrawn'}.")


@events_app.command("export-attendees")
def export_cmd(
    event: EventArg,
    output: OutOpt,
    for_partner: Annotated[
        bool,
        typer.Option("--for-partner", help="For a partner: only people who consented."),
    ] = False,
    skip_without_consent: Annotated[
        bool,
        typer.Option(
            "--skip-without-consent",
            help="With --for-partner: leave out people without consent instead of refusing.",
        ),
    ] = False,
    registrants: Annotated[
        bool, typer.Option("--registrants", help="Everyone registered, not only attendees.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Write the attendees to a CSV file. For a partner, everyone must have consented."""
    from commops.ops.events import attendee_export
    from commops.ops.events.registrations import write_csv

    if skip_without_consent and not for_partner:
        raise UsageError("--skip-without-consent goes with --for-partner")
    with workspace() as ws, ws.store.session() as session:
        export = attendee_export(
            session,
            event,
            for_partner=for_partner,
            skip_without_consent=skip_without_consent,
            registrants=registrants,
        )
    write_csv(export, output)
    info = {"file": str(output), "rows": len(export.rows), "left_out": export.left_out}
    if as_json:
        print_json(info)
        return
    console.print(f"{escape(str(output))}: {len(export.rows)} people.")
    if export.left_out:
        console.print(f"left out (no consent): {escape(', '.join(export.left_out))}")


@events_app.command("follow-up")
def follow_up_cmd(event: EventArg, as_json: JsonOpt = False) -> None:
    """The attendees to follow up with: e-mail, consent, and first-timers."""
    from commops.ops.events import follow_up

    with workspace() as ws, ws.store.session() as session:
        rows = [asdict(f) for f in follow_up(session, event)]
    if as_json:
        print_json(rows)
        return
    console.print(
        table(
            f"Follow-up ({sum(1 for r in rows if r['first_timer'])} first-timers)",
            [
                "registration",
                "member_id",
                "name",
                "email",
                "organisation",
                "consent",
                "first_timer",
            ],
            rows,
        )
    )


# -- volunteers --------------------------------------------------------------------------------


@events_app.command("shift")
def shift_cmd(
    event: EventArg,
    role: Annotated[str, typer.Argument(help="The role (registration desk, streaming, ...).")],
    start: Annotated[str, typer.Option(help="Start, ISO 8601.")],
    end: Annotated[str, typer.Option(help="End, ISO 8601.")],
    needed: Annotated[int, typer.Option(help="How many volunteers it needs.")] = 1,
    as_json: JsonOpt = False,
) -> None:
    """Add a volunteer shift."""
    from commops.ops.events import add_shift
    from commops.ops.events.rules import parse_when

    with workspace() as ws, ws.store.session() as session:
        shift = add_shift(
            session,
            event,
            role=role,
            starts_at=parse_when(start, "--start"),
            ends_at=parse_when(end, "--end"),
            needed=needed,
            actor=cli_actor(),
        )
        info: dict[str, Any] = {"id": shift.id, "role": shift.role, "needed": shift.needed}
    if as_json:
        print_json(info)
        return
    console.print(f"shift {info['id']} ({escape(info['role'])}) needs {info['needed']}.")


@events_app.command("shift-needed")
def shift_needed_cmd(
    shift: ShiftArg,
    needed: Annotated[int, typer.Argument(help="How many volunteers it needs now.")],
    as_json: JsonOpt = False,
) -> None:
    """Change how many volunteers a shift needs (never below its sign-ups)."""
    from commops.ops.events import set_needed

    with workspace() as ws, ws.store.session() as session:
        row = set_needed(session, shift, needed, actor=cli_actor())
        info = {"id": row.id, "role": row.role, "needed": row.needed}
    if as_json:
        print_json(info)
        return
    console.print(f"shift {info['id']} now needs {info['needed']}.")


@events_app.command("shifts")
def shifts_cmd(event: EventArg, as_json: JsonOpt = False) -> None:
    """An event's shifts with their sign-ups."""
    from commops.ops.events import shift_views

    with workspace() as ws, ws.store.session() as session:
        rows = [asdict(v) for v in shift_views(session, event)]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        row["volunteers"] = ", ".join(f"{v['member']} [{v['state']}]" for v in row["volunteers"])
    console.print(
        table("Shifts", ["id", "role", "starts_at", "needed", "signed_up", "volunteers"], rows)
    )


def _signup_move(fn_name: str, shift: str, member: str, as_json: bool, what: str) -> None:
    import commops.ops.events as ops

    with workspace() as ws, ws.store.session() as session:
        row = getattr(ops, fn_name)(session, shift, member, actor=cli_actor())
        info = {"signup": row.id, "shift": row.shift_id, "state": row.state}
    refresh_snapshot(ws)
    if as_json:
        print_json(info)
        return
    console.print(f"shift {info['shift']}: {escape(member)} {what}.")


@events_app.command("sign-up")
def sign_up_cmd(shift: ShiftArg, member: MemberArg, as_json: JsonOpt = False) -> None:
    """Sign a volunteer up for a shift (refused when the shift is full)."""
    _signup_move("sign_up", shift, member, as_json, "signed up")


@events_app.command("attended")
def attended_cmd(shift: ShiftArg, member: MemberArg, as_json: JsonOpt = False) -> None:
    """The volunteer did the shift (credited event:volunteered)."""
    _signup_move("mark_attended", shift, member, as_json, "attended")


@events_app.command("no-show")
def no_show_cmd(shift: ShiftArg, member: MemberArg, as_json: JsonOpt = False) -> None:
    """The volunteer did not come."""
    _signup_move("mark_no_show", shift, member, as_json, "did not come")


# -- after the event ---------------------------------------------------------------------------


@events_app.command("impact")
def impact_cmd(
    event: EventArg,
    windows: Annotated[str, typer.Option(help="Windows in days after the event.")] = "30,90,180",
    as_json: JsonOpt = False,
) -> None:
    """First contributions after the event by registrants, attendees and a baseline."""
    from commops.ops.events import event_impact, parse_windows

    days = parse_windows(windows)
    with workspace() as ws, ws.store.session() as session:
        impact = asdict(event_impact(session, event, days))
    if as_json:
        print_json(impact)
        return
    rows = []
    for cohort in impact["cohorts"]:
        row: dict[str, Any] = {
            "cohort": cohort["name"],
            "size": cohort["size"],
            "already": cohort["already_contributors"],
        }
        for w in cohort["windows"]:
            row[f"any {w['days']}d"] = f"{w['any']} ({w['any_rate']:.1%})"
            row[f"code {w['days']}d"] = f"{w['code']} ({w['code_rate']:.1%})"
        rows.append(row)
    console.print(
        table(
            f"First contributions after {impact['event']} ({impact['event_day']})",
            list(rows[0]),
            rows,
        )
    )


@events_app.command("ical")
def ical_cmd(event: EventArg, output: OutOpt) -> None:
    """Write one event as an iCalendar file (RFC 5545)."""
    from commops.ops.events import calendar_text, get_event

    with workspace() as ws, ws.store.session() as session:
        ev = get_event(session, event)
        text = calendar_text([ev], name=ev.title)
    output.write_bytes(text.encode("utf-8"))
    console.print(f"{escape(str(output))}: 1 event.")


@events_app.command("feed")
def feed_cmd(
    output: OutOpt,
    name: Annotated[str, typer.Option(help="The calendar's name.")] = "Community events",
) -> None:
    """Write the feed of upcoming (planned, not ended) events as an iCalendar file."""
    from commops.ops.events import calendar_text, upcoming

    with workspace() as ws, ws.store.session() as session:
        events = upcoming(session)
        text = calendar_text(events, name=name)
    output.write_bytes(text.encode("utf-8"))
    console.print(f"{escape(str(output))}: {len(events)} upcoming events.")
