"""``commops orgs ...``: organizations, their e-mail domains and members' enrollments."""

from __future__ import annotations

from dataclasses import asdict
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

orgs_app = typer.Typer(
    help="Organizations: list, show, add, add-domain, enroll, unenroll, affiliate.",
    no_args_is_help=True,
)
app.add_typer(orgs_app, name="orgs")

ReasonOpt = Annotated[str | None, typer.Option("--reason", help="Why, for the audit log.")]


@orgs_app.command("list")
def list_cmd(as_json: JsonOpt = False) -> None:
    """List organizations with their domains and how many members they have today."""
    from commops.identity.orgs import list_organizations

    with workspace() as ws, ws.store.session() as session:
        rows = [asdict(o) for o in list_organizations(session)]
    if as_json:
        print_json(rows)
        return
    for row in rows:
        row["domains"] = ", ".join(row["domains"])
    console.print(
        table("Organizations", ["id", "name", "kind", "members", "members_ever", "domains"], rows)
    )


@orgs_app.command("show")
def show_cmd(
    org: Annotated[str, typer.Argument(help="Organization name (any case) or id.")],
    as_json: JsonOpt = False,
) -> None:
    """Show an organization: its domains and every member enrolled in it, with dates."""
    from commops.identity.orgs import organization_detail

    with workspace() as ws, ws.store.session() as session:
        detail = asdict(organization_detail(session, org))
    if as_json:
        print_json(detail)
        return
    console.print(
        f"[bold]{escape(detail['name'])}[/] (id {detail['id']}, {detail['kind']}): "
        f"{detail['members']} current members"
    )
    console.print(f"domains: {escape(', '.join(detail['domains']) or '(none)')}")
    columns = [
        "enrollment_id",
        "member_id",
        "display_name",
        "start_date",
        "end_date",
        "origin",
        "current",
    ]
    console.print(table("Enrollments", columns, detail["enrollments"]))


@orgs_app.command("add")
def add_cmd(
    name: Annotated[str, typer.Argument(help="The organization's name.")],
    kind: Annotated[
        str,
        typer.Option(
            help="company, university, community, foundation, research, government or other."
        ),
    ] = "company",
    domain: Annotated[
        list[str] | None,
        typer.Option("--domain", help="An e-mail domain of the organization (repeatable)."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Add an organization (or record more domains on an existing one)."""
    from commops.identity.orgs import ensure_organization, organization_named

    with workspace() as ws:
        with ws.store.session() as session:
            created = organization_named(session, name) is None
            org = ensure_organization(
                session,
                name,
                kind,
                domain or [],
                extra_public=ws.config.public_providers,
                configured=ws.config.org_domains,
            )
            info: dict[str, Any] = {
                "id": org.id,
                "name": org.name,
                "kind": org.kind,
                "domains": list(org.domains),
                "created": created,
            }
        refresh_snapshot(ws)
    if as_json:
        print_json(info)
        return
    verb = "Added" if created else "Updated"
    console.print(
        f"{verb} organization [bold]{escape(info['name'])}[/] (id {info['id']}, {info['kind']}); "
        f"domains: {escape(', '.join(info['domains']) or '(none)')}"
    )
    console.print("Run [bold]commops orgs affiliate[/] to enroll the members its domains imply.")


@orgs_app.command("add-domain")
def add_domain_cmd(
    org: Annotated[str, typer.Argument(help="Organization name (any case) or id.")],
    domains: Annotated[list[str], typer.Argument(help="E-mail domains (example.com).")],
    create: Annotated[
        bool, typer.Option("--create", help="Create the organization when it does not exist.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Record e-mail domains of an organization (its subdomains follow).

    All or nothing: one bad domain and none is recorded."""
    from commops.identity.orgs import add_domain

    with workspace() as ws:
        with ws.store.session() as session:
            found = None
            for d in domains:
                found = add_domain(
                    session,
                    org if found is None else found.id,
                    d,
                    create=create,
                    extra_public=ws.config.public_providers,
                    configured=ws.config.org_domains,
                )
            if found is None:
                raise UsageError("give at least one domain")
            info: dict[str, Any] = {
                "id": found.id,
                "name": found.name,
                "domains": list(found.domains),
            }
        refresh_snapshot(ws)
    if as_json:
        print_json(info)
        return
    console.print(
        f"[bold]{escape(info['name'])}[/] domains: {escape(', '.join(info['domains']))}. "
        "Run [bold]commops orgs affiliate[/] to enroll the members they imply."
    )


@orgs_app.command("enroll")
def enroll_cmd(
    member: Annotated[
        str, typer.Argument(help="Member id, e-mail address, login or platform:login.")
    ],
    org: Annotated[str, typer.Argument(help="Organization name (any case) or id.")],
    since: Annotated[
        str | None, typer.Option("--from", help="First day (YYYY-MM-DD); open when omitted.")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="Last day (YYYY-MM-DD); open when omitted.")
    ] = None,
    reason: ReasonOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Enroll a member in an organization by hand.

    Manual enrollments win over those derived from e-mail domains: the member's domain
    enrollments are removed."""
    from commops.identity.orgs import enroll, find_member, get_organization

    start, end = date_option("--from", since), date_option("--until", until)
    with workspace() as ws:
        with ws.store.session() as session:
            member_id = find_member(session, member)
            e = enroll(
                session, member_id, org, start=start, end=end, actor=cli_actor(), reason=reason
            )
            info = {
                "enrollment_id": e.id,
                "member_id": e.member_id,
                "organization_id": e.organization_id,
                "organization": get_organization(session, e.organization_id).name,
                "start_date": e.start_date,
                "end_date": e.end_date,
                "origin": e.origin,
            }
        refresh_snapshot(ws)
    if as_json:
        print_json(info)
        return
    console.print(
        f"Enrolled member {info['member_id']} in {escape(str(info['organization']))} "
        f"from {start or '…'} to {end or '…'} (enrollment {info['enrollment_id']})."
    )


@orgs_app.command("unenroll")
def unenroll_cmd(
    enrollment_id: Annotated[int, typer.Argument(help="The enrollment's id (see orgs show).")],
    reason: ReasonOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Remove a manual enrollment.

    When it was the member's last one, the member's enrollments from e-mail domains are derived
    again."""
    from commops.identity.orgs import affiliate, unenroll

    with workspace() as ws:
        with ws.store.session() as session:
            removed = unenroll(session, enrollment_id, actor=cli_actor(), reason=reason)
            stats = affiliate(
                session,
                extra_domains=ws.config.org_domains,
                extra_public=ws.config.public_providers,
                member_ids=[removed["member_id"]],
            )
        refresh_snapshot(ws)
    info = {"removed": removed, "domain_enrollments_added": stats.enrollments_added}
    if as_json:
        print_json(info)
        return
    console.print(
        f"Removed enrollment {enrollment_id} of member {removed['member_id']}; "
        f"{stats.enrollments_added} enrollments derived from e-mail domains."
    )


@orgs_app.command("affiliate")
def affiliate_cmd(as_json: JsonOpt = False) -> None:
    """Derive dated enrollments from members' e-mail domains (again).

    Manual enrollments are kept and win; running it twice changes nothing."""
    from commops.identity.orgs import affiliate

    with workspace() as ws:
        with ws.store.session() as session:
            stats = asdict(
                affiliate(
                    session,
                    extra_domains=ws.config.org_domains,
                    extra_public=ws.config.public_providers,
                )
            )
        refresh_snapshot(ws)
    if as_json:
        print_json(stats)
        return
    console.print(
        f"{stats['members']} members looked at: {stats['members_affiliated']} affiliated by "
        f"e-mail domain, {stats['members_manual']} kept their manual enrollments. Enrollments: "
        f"{stats['enrollments_added']} added, {stats['enrollments_removed']} removed, "
        f"{stats['enrollments_unchanged']} unchanged."
    )
    if stats["organizations_created"]:
        console.print("Organizations created: " + escape(", ".join(stats["organizations_created"])))
