"""``commops partners ...``: the partner ecosystem (docs/ecosystem.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from sqlalchemy.orm import Session

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

if TYPE_CHECKING:  # the commands import the domain lazily, to keep `commops --help` fast
    from commops.ops.ecosystem import Collaboration, Partner

partners_app = typer.Typer(
    help="Partner ecosystem: partners, contacts, touches, collaborations, health.",
    no_args_is_help=True,
)
contact_app = typer.Typer(help="A partner's contacts: add, remove.", no_args_is_help=True)
collab_app = typer.Typer(
    help="Collaborations with partners: add, status, outcome, link, delete, restore.",
    no_args_is_help=True,
)
partners_app.add_typer(contact_app, name="contact")
partners_app.add_typer(collab_app, name="collab")
app.add_typer(partners_app, name="partners")

PartnerArg = Annotated[str, typer.Argument(help="The partner: its id or name (any case).")]
CollabArg = Annotated[str, typer.Argument(help="The collaboration's id.")]
MemberArg = Annotated[str, typer.Argument(help="The member: id, e-mail, login or name.")]
ReasonOpt = Annotated[str | None, typer.Option("--reason", help="Why, for the audit log.")]


def _partner_json(session: Session, partner: Partner) -> dict[str, Any]:
    from commops.store.models import Organization

    org = session.get(Organization, partner.organization_id) if partner.organization_id else None
    return {
        "id": partner.id,
        "name": partner.name,
        "kind": partner.kind,
        "organization": org.name if org is not None else None,
        "website": partner.website,
        "notes": partner.notes,
        "created_at": partner.created_at,
        "deleted": partner.deleted_at is not None,
    }


def _collab_json(session: Session, collab: Collaboration) -> dict[str, Any]:
    from commops.ops.ecosystem import owner_id
    from commops.store.models import Member

    owner = owner_id(session, collab)
    member = session.get(Member, owner) if owner is not None else None
    return {
        "id": collab.id,
        "partner_id": collab.partner_id,
        "kind": collab.kind,
        "title": collab.title,
        "status": collab.status,
        "start_date": collab.start_date,
        "end_date": collab.end_date,
        "owner_id": owner,
        "owner": member.display_name if member is not None else None,
        "outcomes": list(collab.outcomes),
        "links": list(collab.links),
        "updated_at": collab.updated_at,
        "deleted": collab.deleted_at is not None,
    }


def _said(what: str, message: str) -> None:
    console.print(f"{escape(what)}: {message}")


def _report(info: dict[str, Any], as_json: bool, what: str, message: str) -> None:
    """A changed record as JSON, or one line saying what happened to it."""
    if as_json:
        print_json(info)
    else:
        _said(what, message)


# -- partners ---------------------------------------------------------------------------------


@partners_app.command("add")
def add_cmd(
    name: Annotated[str, typer.Argument(help="The partner's name (unique).")],
    kind: Annotated[
        str,
        typer.Option(
            help="community, company, university, training-institution, foundation or vendor."
        ),
    ],
    organization: Annotated[
        str | None,
        typer.Option(
            help="The organization its people are enrolled in (default: NAME; "
            "created when missing)."
        ),
    ] = None,
    website: Annotated[str | None, typer.Option(help="Its website (http(s) URL).")] = None,
    notes: Annotated[str | None, typer.Option(help="Free notes.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Add a partner, linked to an organization."""
    from commops.ops.ecosystem import add_partner

    with workspace() as ws, ws.store.session() as session:
        partner = add_partner(
            session,
            name=name,
            kind=kind,
            organization=organization,
            website=website,
            notes=notes,
            actor=cli_actor(),
        )
        info = _partner_json(session, partner)
    _report(
        info,
        as_json,
        f"partner {info['id']}",
        f"added ({info['kind']}, organization {info['organization']}).",
    )


@partners_app.command("list")
def list_cmd(
    kind: Annotated[str | None, typer.Option(help="Only partners of this kind.")] = None,
    deleted: Annotated[bool, typer.Option("--deleted", help="Include deleted ones.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """List partners by name."""
    from commops.ops.ecosystem import list_partners

    with workspace() as ws, ws.store.session() as session:
        rows = [
            _partner_json(session, p)
            for p in list_partners(session, kind=kind, include_deleted=deleted)
        ]
    if as_json:
        print_json(rows)
        return
    console.print(table("Partners", ["id", "name", "kind", "organization", "website"], rows))


@partners_app.command("show")
def show_cmd(partner: PartnerArg, as_json: JsonOpt = False) -> None:
    """Show a partner: contacts, collaborations (with outcomes and links) and touches."""
    from commops.ops.ecosystem import collaborations, contacts, get_partner, touches
    from commops.store.models import Member

    with workspace() as ws, ws.store.session() as session:
        found = get_partner(session, partner, include_deleted=True)
        info = _partner_json(session, found)
        info["contacts"] = []
        for member_id, role in contacts(session, found.id):
            member = session.get(Member, member_id)
            name = member.display_name if member is not None else None
            info["contacts"].append({"member_id": member_id, "name": name, "role": role})
        info["collaborations"] = [
            _collab_json(session, c) for c in collaborations(session, found.id)
        ]
        info["touches"] = [
            {"id": t.id, "kind": t.kind, "on": t.on, "note": t.note, "actor": t.actor}
            for t in touches(session, found.id)
        ]
    if as_json:
        print_json(info)
        return
    console.print(
        f"[bold]{escape(info['name'])}[/] (partner {info['id']}, {info['kind']}), "
        f"organization {escape(str(info['organization']))}"
        + (" [red]deleted[/]" if info["deleted"] else "")
    )
    console.print(table("Contacts", ["member_id", "name", "role"], info["contacts"]))
    console.print(
        table("Collaborations", ["id", "kind", "title", "status", "owner"], info["collaborations"])
    )
    for c in info["collaborations"]:
        console.print(
            f"collaboration {c['id']}: {escape(c['title'])} "
            f"({c['start_date'] or '…'} to {c['end_date'] or '…'})"
        )
        for o in c["outcomes"]:
            console.print(f"  outcome {o['on']}: {escape(o['text'])}")
        for link in c["links"]:
            console.print(f"  {link['type']}: {escape(str(link['value']))}")
    console.print(table("Touches", ["on", "kind", "note", "actor"], info["touches"]))


@partners_app.command("edit")
def edit_cmd(
    partner: PartnerArg,
    name: Annotated[str | None, typer.Option(help="A new name.")] = None,
    kind: Annotated[str | None, typer.Option(help="A new kind.")] = None,
    organization: Annotated[
        str | None, typer.Option(help="Another existing organization (name or id).")
    ] = None,
    website: Annotated[str | None, typer.Option(help="A new website ('' clears it).")] = None,
    notes: Annotated[str | None, typer.Option(help="New notes ('' clears them).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Change a partner's name, kind, organization, website or notes (audited)."""
    from commops.ops.ecosystem import edit_partner

    with workspace() as ws, ws.store.session() as session:
        found = edit_partner(
            session,
            partner,
            name=name,
            kind=kind,
            organization=organization,
            website=website,
            notes=notes,
            actor=cli_actor(),
        )
        info = _partner_json(session, found)
    _report(info, as_json, f"partner {info['id']}", "changed.")


@partners_app.command("delete")
def delete_cmd(partner: PartnerArg, reason: ReasonOpt = None, as_json: JsonOpt = False) -> None:
    """Delete a partner (soft: `partners restore` brings it back)."""
    from commops.ops.ecosystem import delete_partner

    with workspace() as ws, ws.store.session() as session:
        info = _partner_json(
            session, delete_partner(session, partner, actor=cli_actor(), reason=reason)
        )
    if as_json:
        print_json(info)
        return
    _said(
        f"partner {info['id']}", f"deleted (restore with `commops partners restore {info['id']}`)."
    )


@partners_app.command("restore")
def restore_cmd(partner: PartnerArg, reason: ReasonOpt = None, as_json: JsonOpt = False) -> None:
    """Bring back a deleted partner."""
    from commops.ops.ecosystem import restore_partner

    with workspace() as ws, ws.store.session() as session:
        info = _partner_json(
            session, restore_partner(session, partner, actor=cli_actor(), reason=reason)
        )
    _report(info, as_json, f"partner {info['id']}", "restored.")


@partners_app.command("log")
def log_cmd(partner: PartnerArg, as_json: JsonOpt = False) -> None:
    """The audit log of a partner and its collaborations, oldest first."""
    from commops.ops.ecosystem import partner_log

    with workspace() as ws, ws.store.session() as session:
        rows = [
            {
                "at": e.at,
                "actor": e.actor,
                "record": f"{e.record_type} {e.record_id}",
                "action": e.action,
                "from_state": e.from_state,
                "to_state": e.to_state,
                "reason": e.reason,
                "details": dict(e.details),
            }
            for e in partner_log(session, partner)
        ]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        row["details"] = ", ".join(f"{k}={v}" for k, v in row["details"].items())
    columns = ["at", "actor", "record", "action", "from_state", "to_state", "reason", "details"]
    console.print(table("Log", columns, rows))


@partners_app.command("touch")
def touch_cmd(
    partner: PartnerArg,
    kind: Annotated[str, typer.Option(help="meeting, email, call, event or other.")],
    on: Annotated[str | None, typer.Option(help="The day (YYYY-MM-DD, default today).")] = None,
    note: Annotated[str | None, typer.Option(help="What it was about.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Log an interaction with a partner."""
    from commops.ops.ecosystem import touch

    with workspace() as ws, ws.store.session() as session:
        row = touch(
            session, partner, kind=kind, on=date_option("--on", on), note=note, actor=cli_actor()
        )
        info = {
            "id": row.id,
            "partner_id": row.partner_id,
            "kind": row.kind,
            "on": row.on,
            "note": row.note,
        }
    _report(
        info, as_json, f"partner {info['partner_id']}", f"{info['kind']} on {info['on']} logged."
    )


@partners_app.command("health")
def health_cmd(
    days: Annotated[int, typer.Option(help="The window, in days up to today.")] = 90,
    partner: Annotated[str | None, typer.Option(help="Only this partner.")] = None,
    today: Annotated[str | None, typer.Option(help="The window's last day (YYYY-MM-DD).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Partner health: last touch, active collaborations, affiliated members and those of them
    who contribute in the window, with flags."""
    from dataclasses import asdict

    from commops.ops.ecosystem import health

    with workspace() as ws, ws.store.session() as session:
        rows = [
            asdict(h)
            for h in health(
                session, days=days, today=date_option("--today", today), partner=partner
            )
        ]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        row["touch"] = "never" if row["last_touch"] is None else f"{row['days_since_touch']}d ago"
        row["active"] = row["active_collaborations"]
        row["contributing"] = f"{row['contributing']} ({row['staff_contributing']} staff)"
        row["flags"] = ", ".join(row["flags"])
    columns = ["name", "touch", "active", "affiliated", "contributing", "contributions", "flags"]
    console.print(table(f"Partner health ({days} days)", columns, rows))


# -- contacts ---------------------------------------------------------------------------------


@contact_app.command("add")
def contact_add_cmd(
    partner: PartnerArg,
    member: MemberArg,
    role: Annotated[str | None, typer.Option(help="e.g. 'maintainer liaison'.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Make a member a contact of a partner (again: change the role)."""
    from commops.ops.ecosystem import add_contact
    from commops.store.models import Identity

    with workspace() as ws, ws.store.session() as session:
        row = add_contact(session, partner, member, role=role, actor=cli_actor())
        ident = session.get(Identity, row.identity_id)
        info = {
            "partner_id": row.partner_id,
            "member_id": ident.member_id if ident else None,
            "role": row.role,
        }
    _report(
        info, as_json, f"partner {info['partner_id']}", f"member {info['member_id']} is a contact."
    )


@contact_app.command("remove")
def contact_remove_cmd(
    partner: PartnerArg, member: MemberArg, reason: ReasonOpt = None, as_json: JsonOpt = False
) -> None:
    """A member is no longer a contact of a partner."""
    from commops.ops.ecosystem import get_partner, remove_contact

    with workspace() as ws, ws.store.session() as session:
        remove_contact(session, partner, member, reason=reason, actor=cli_actor())
        info = {"partner_id": get_partner(session, partner).id, "member": member, "removed": True}
    _report(
        info, as_json, f"partner {info['partner_id']}", f"{escape(member)} is no longer a contact."
    )


# -- collaborations ---------------------------------------------------------------------------


@collab_app.command("add")
def collab_add_cmd(
    partner: PartnerArg,
    title: Annotated[str, typer.Argument(help="What the collaboration is.")],
    kind: Annotated[
        str,
        typer.Option(
            help="product-integration, content-collaboration, co-hosted-event, "
            "course, sponsorship or case-study."
        ),
    ],
    owner: Annotated[str | None, typer.Option(help="The member who drives it.")] = None,
    start: Annotated[str | None, typer.Option(help="Start date (YYYY-MM-DD).")] = None,
    end: Annotated[str | None, typer.Option(help="End date (YYYY-MM-DD).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Propose a collaboration with a partner."""
    from commops.ops.ecosystem import add_collaboration

    with workspace() as ws, ws.store.session() as session:
        collab = add_collaboration(
            session,
            partner,
            kind=kind,
            title=title,
            owner=owner,
            start=date_option("--start", start),
            end=date_option("--end", end),
            actor=cli_actor(),
        )
        info = _collab_json(session, collab)
    _report(info, as_json, f"collaboration {info['id']}", "proposed.")


@collab_app.command("status")
def collab_status_cmd(
    collab: CollabArg,
    status: Annotated[str, typer.Argument(help="active, paused, completed or cancelled.")],
    reason: ReasonOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Move a collaboration: proposed → active → completed, active ↔ paused, → cancelled.
    Completing it credits its owner with `partner:collaborated`."""
    from commops.ops.ecosystem import set_status

    with workspace() as ws:
        with ws.store.session() as session:
            info = _collab_json(
                session, set_status(session, collab, status, reason=reason, actor=cli_actor())
            )
        if info["status"] == "completed":
            refresh_snapshot(ws)
    _report(info, as_json, f"collaboration {info['id']}", f"{info['status']}.")


@collab_app.command("outcome")
def collab_outcome_cmd(
    collab: CollabArg,
    text: Annotated[str, typer.Argument(help="The outcome.")],
    on: Annotated[str | None, typer.Option(help="The day (YYYY-MM-DD, default today).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Append a dated outcome to a collaboration."""
    from commops.ops.ecosystem import add_outcome

    with workspace() as ws, ws.store.session() as session:
        info = _collab_json(
            session,
            add_outcome(session, collab, text, on=date_option("--on", on), actor=cli_actor()),
        )
    _report(info, as_json, f"collaboration {info['id']}", "outcome added.")


@collab_app.command("link")
def collab_link_cmd(
    collab: CollabArg,
    url: Annotated[str | None, typer.Option(help="A URL.")] = None,
    content: Annotated[str | None, typer.Option(help="A content item (id, URL or slug).")] = None,
    event: Annotated[str | None, typer.Option(help="An event (its name or URL).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Link a collaboration to a URL, a content item or an event (one per call)."""
    from commops.ops.ecosystem import add_link

    with workspace() as ws, ws.store.session() as session:
        info = _collab_json(
            session,
            add_link(session, collab, url=url, content=content, event=event, actor=cli_actor()),
        )
    _report(info, as_json, f"collaboration {info['id']}", "linked.")


@collab_app.command("delete")
def collab_delete_cmd(
    collab: CollabArg, reason: ReasonOpt = None, as_json: JsonOpt = False
) -> None:
    """Delete a collaboration (soft: `partners collab restore` brings it back)."""
    from commops.ops.ecosystem import delete_collaboration

    with workspace() as ws, ws.store.session() as session:
        info = _collab_json(
            session, delete_collaboration(session, collab, reason=reason, actor=cli_actor())
        )
    _report(info, as_json, f"collaboration {info['id']}", "deleted.")


@collab_app.command("restore")
def collab_restore_cmd(
    collab: CollabArg, reason: ReasonOpt = None, as_json: JsonOpt = False
) -> None:
    """Bring back a deleted collaboration."""
    from commops.ops.ecosystem import restore_collaboration

    with workspace() as ws, ws.store.session() as session:
        info = _collab_json(
            session, restore_collaboration(session, collab, reason=reason, actor=cli_actor())
        )
    _report(info, as_json, f"collaboration {info['id']}", "restored.")
