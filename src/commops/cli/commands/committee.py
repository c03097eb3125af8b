"""``commops committee ...``: the user committee (or any committee): seats, terms by election or
appointment, meetings and minutes."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from commops.cli.app import JsonOpt, app
from commops.cli.common import cli_actor, console, date_option, print_json, table, workspace
from commops.clock import utcnow
from commops.errors import UsageError

committee_app = typer.Typer(
    help="Committees: seat add, term add, appoint, elect, meeting add, minutes, list.",
    no_args_is_help=True,
)
app.add_typer(committee_app, name="committee")
seat_app = typer.Typer(help="Seats of a committee.", no_args_is_help=True)
committee_app.add_typer(seat_app, name="seat")
term_app = typer.Typer(help="Terms on a seat.", no_args_is_help=True)
committee_app.add_typer(term_app, name="term")
meeting_app = typer.Typer(help="Committee meetings.", no_args_is_help=True)
committee_app.add_typer(meeting_app, name="meeting")

CommitteeOpt = Annotated[str, typer.Option("--committee", "-c", help="The committee's name.")]
SeatArg = Annotated[str, typer.Argument(help="The seat's name.")]
MemberArg = Annotated[str, typer.Argument(help="Member id, e-mail, login or name.")]
StartOpt = Annotated[str, typer.Option("--start", help="First day of the term (YYYY-MM-DD).")]
EndOpt = Annotated[str, typer.Option("--end", help="Last day of the term (YYYY-MM-DD).")]


def _date(flag: str, value: str) -> date:
    day = date_option(flag, value)
    if day is None:
        raise UsageError(f"{flag}: a date is required")
    return day


def _term(
    committee: str, seat: str, member: str, start: str, end: str, method: str, votes: int | None
) -> None:
    from commops.ops import core
    from commops.ops.governance.committee import add_term, get_seat

    first, last = _date("--start", start), _date("--end", end)
    with workspace() as ws, ws.store.session() as session:
        row = get_seat(session, committee, seat)
        mid = core.require_member(session, member)
        term = add_term(
            session, row.id, mid, first, last, method=method, actor=cli_actor(), votes=votes
        )
        tid = term.id
    console.print(f"Term {tid}: member {mid} on {escape(seat)} ({method}) {first} .. {last}.")


@seat_app.command("add")
def seat_add_cmd(
    seat: SeatArg,
    committee: CommitteeOpt = "user-committee",
    description: Annotated[str | None, typer.Option("--description")] = None,
) -> None:
    """Add a seat to a committee."""
    from commops.ops.governance.committee import add_seat

    with workspace() as ws, ws.store.session() as session:
        row = add_seat(session, committee, seat, actor=cli_actor(), description=description)
        sid = row.id
    console.print(f"Seat {sid}: {escape(seat)} on {escape(committee)}.")


@term_app.command("add")
def term_add_cmd(
    seat: SeatArg,
    member: MemberArg,
    start: StartOpt,
    end: EndOpt,
    method: Annotated[str, typer.Option("--method", help="election or appointment.")],
    committee: CommitteeOpt = "user-committee",
    votes: Annotated[int | None, typer.Option("--votes", help="Votes (elections).")] = None,
) -> None:
    """Add a term on a seat; refused when it overlaps another term on that seat."""
    _term(committee, seat, member, start, end, method, votes)


@committee_app.command("appoint")
def appoint_cmd(
    seat: SeatArg,
    member: MemberArg,
    start: StartOpt,
    end: EndOpt,
    committee: CommitteeOpt = "user-committee",
) -> None:
    """Appoint a member to a seat for a term."""
    _term(committee, seat, member, start, end, "appointment", None)


@committee_app.command("elect")
def elect_cmd(
    seat: SeatArg,
    member: MemberArg,
    start: StartOpt,
    end: EndOpt,
    committee: CommitteeOpt = "user-committee",
    votes: Annotated[int | None, typer.Option("--votes", help="Votes received.")] = None,
) -> None:
    """Record a member elected to a seat for a term."""
    _term(committee, seat, member, start, end, "election", votes)


@meeting_app.command("add")
def meeting_add_cmd(
    title: Annotated[str, typer.Argument(help="The meeting's title.")],
    held_on: Annotated[str, typer.Option("--on", help="The day (YYYY-MM-DD).")],
    committee: CommitteeOpt = "user-committee",
    attendee: Annotated[
        list[str] | None, typer.Option("--attendee", help="A member present (repeatable).")
    ] = None,
) -> None:
    """Record a committee meeting and who attended."""
    from commops.ops import core
    from commops.ops.governance.committee import add_meeting

    day = _date("--on", held_on)
    with workspace() as ws, ws.store.session() as session:
        ids = [core.require_member(session, a, field="attendee") for a in attendee or []]
        row = add_meeting(session, committee, day, title, actor=cli_actor(), attendees=ids)
        mid = row.id
    console.print(f"Meeting {mid} on {day}.")


@committee_app.command("minutes")
def minutes_cmd(
    meeting: Annotated[int, typer.Argument(help="Meeting id.")],
    file: Annotated[Path, typer.Argument(help="A text or Markdown file with the minutes.")],
) -> None:
    """Attach (or replace) a meeting's minutes."""
    from commops.ops.governance.committee import set_minutes

    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{file}: cannot read ({exc})") from None
    with workspace() as ws, ws.store.session() as session:
        set_minutes(session, meeting, text, actor=cli_actor())
    console.print(f"Minutes of meeting {meeting} saved.")


@committee_app.command("list")
def list_cmd(
    committee: CommitteeOpt = "user-committee",
    on: Annotated[str | None, typer.Option("--on", help="Who sits on this day.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List a committee's seats with every term, and its meetings."""
    from sqlalchemy import select

    from commops.ops.governance.models import Meeting, Seat, Term
    from commops.store.models import Member

    day = date_option("--on", on)
    with workspace() as ws, ws.store.session() as session:
        q = (
            select(Seat, Term, Member.display_name)
            .outerjoin(Term, Term.seat_id == Seat.id)
            .outerjoin(Member, Member.id == Term.member_id)
            .where(Seat.committee == committee)
            .order_by(Seat.name, Term.start)
        )
        terms = []
        for seat, term, name in session.execute(q):
            if day is not None and (term is None or not term.start <= day <= term.end):
                continue
            terms.append(
                {
                    "seat": seat.name,
                    "term": term.id if term else None,
                    "member_id": term.member_id if term else None,
                    "name": name,
                    "start": term.start if term else None,
                    "end": term.end if term else None,
                    "method": term.method if term else None,
                    "current": bool(term and term.start <= utcnow().date() <= term.end),
                }
            )
        meetings = [
            {
                "meeting": m.id,
                "held_on": m.held_on,
                "title": m.title,
                "attendees": len(m.attendees),
                "minutes": m.minutes is not None,
            }
            for m in session.execute(
                select(Meeting).where(Meeting.committee == committee).order_by(Meeting.held_on)
            ).scalars()
        ]
    if as_json:
        print_json({"committee": committee, "terms": terms, "meetings": meetings})
        return
    if not terms and not meetings:
        console.print(f"No seats on {escape(committee)}.")
        return
    console.print(table(f"{committee}: seats and terms", list(terms[0]), terms))
    if meetings:
        console.print(table("Meetings", list(meetings[0]), meetings))
