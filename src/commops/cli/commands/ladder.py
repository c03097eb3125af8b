"""``commops ladder ...``: contributor ladders as rules over the activity stream, nominations and
role grants, the inactivity review, OWNERS and .all-contributorsrc exports."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from commops.cli.app import JsonOpt, app
from commops.cli.common import cli_actor, console, date_option, print_json, table, workspace
from commops.clock import utcnow

if TYPE_CHECKING:
    from commops.ops.governance.rules import Ladder

ladder_app = typer.Typer(
    help="Contributor ladders: check-rules, candidates, nominate, sponsor, approve, reject, "
    "withdraw, grant, revoke, review, roles, import-owners, import-roles, export-owners, "
    "export-allcontributors.",
    no_args_is_help=True,
)
app.add_typer(ladder_app, name="ladder")

RulesOpt = Annotated[
    str,
    typer.Option(
        "--rules",
        help="A ladder rule file, or the name of a shipped one (kubesphere-ladder, "
        "kubesphere-ambassadors, kubernetes-membership).",
    ),
]
AsOfOpt = Annotated[
    str | None, typer.Option("--as-of", help="Evaluate as of this day (YYYY-MM-DD; default today).")
]
OnOpt = Annotated[
    str | None, typer.Option("--on", help="The day it happens (YYYY-MM-DD; default today).")
]
ReasonOpt = Annotated[str | None, typer.Option("--reason", help="Why, for the audit log.")]


def _day(flag: str, value: str | None) -> date:
    return date_option(flag, value) or utcnow().date()


def load_rules(rules: str) -> Ladder:
    from commops.ops.governance.rules import load_ladder

    return load_ladder(rules)


def _criteria_lines(parts: list[dict[str, Any]], depth: int = 0) -> list[str]:
    lines: list[str] = []
    for p in parts:
        mark = "[green]✓[/]" if p["met"] else "[red]✗[/]"
        value = f" {p.get('value')} (needs {p.get('threshold')})" if "value" in p else ""
        evidence = p.get("evidence") or []
        shown = f" [dim]{escape(', '.join(evidence[-3:]))}[/]" if evidence else ""
        lines.append(f"{'  ' * (depth + 1)}{mark} {escape(p['criterion'])}:{value}{shown}")
        lines.extend(_criteria_lines(p.get("parts", []), depth + 1))
    return lines


@ladder_app.command("check-rules")
def check_rules_cmd(
    file: Annotated[str, typer.Argument(help="The rule file (or a shipped ladder's name).")],
    as_json: JsonOpt = False,
) -> None:
    """Load and validate a rule file; print its roles (errors name the file and line)."""
    from commops.ops.governance.rules import describe, load_ladder

    lad = load_ladder(file)
    rows = [
        {
            "role": r.name,
            "criteria": "; ".join(describe(c) for c in r.criteria.parts),
            "line": r.line,
        }
        for r in lad.roles
    ]
    if as_json:
        print_json({"ladder": lad.name, "path": lad.path, "roles": rows})
        return
    console.print(table(f"Ladder {lad.name} ({lad.path}): OK", ["role", "criteria", "line"], rows))


@ladder_app.command("candidates")
def candidates_cmd(
    rules: RulesOpt,
    role: Annotated[
        str | None,
        typer.Option("--role", help="Only this role (default: each member's next role)."),
    ] = None,
    as_of: AsOfOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List members who meet the criteria of a role (or of their next role), with evidence:
    each criterion's count against its threshold and the uids of the activities counted."""
    from commops.ops.governance.evaluate import candidates
    from commops.ops.governance.rules import load_ladder

    lad = load_ladder(rules)
    day = _day("--as-of", as_of)
    with workspace() as ws, ws.store.session() as session:
        found = [c.as_dict() for c in candidates(session, lad, day, role=role)]
    if as_json:
        print_json({"ladder": lad.name, "as_of": day, "candidates": found})
        return
    console.print(f"[bold]{len(found)} candidate(s)[/] for {lad.name} as of {day}")
    for c in found:
        current = f", now {c['current_role']}" if c["current_role"] else ""
        console.print(
            f"member {c['member_id']} {escape(c['name'])} → [bold]{c['role']}[/]{escape(current)}"
        )
        for line in _criteria_lines(c["criteria"]):
            console.print(line)


@ladder_app.command("nominate")
def nominate_cmd(
    member: Annotated[str, typer.Argument(help="Member id, e-mail, login or name.")],
    rules: RulesOpt,
    role: Annotated[str, typer.Option("--role", help="The role to nominate for.")],
    on: OnOpt = None,
    reason: ReasonOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Nominate a member for a role; their standing today is kept as the evidence."""
    from commops.ops import core
    from commops.ops.governance.roles import nominate
    from commops.ops.governance.rules import load_ladder

    lad = load_ladder(rules)
    with workspace() as ws, ws.store.session() as session:
        mid = core.require_member(session, member)
        nom = nominate(
            session, lad, mid, role, actor=cli_actor(), on=_day("--on", on), reason=reason
        )
        out = {"nomination": nom.id, "member_id": mid, "role": nom.role, "state": nom.state}
        eligible = nom.evidence.get("eligible")
    if as_json:
        print_json(out)
        return
    console.print(
        f"Nomination {out['nomination']}: member {mid} for {role} (open; criteria met today: "
        f"{'yes' if eligible else 'no'})."
    )


@ladder_app.command("sponsor")
def sponsor_cmd(
    nomination: Annotated[int, typer.Argument(help="Nomination id.")],
    member: Annotated[str, typer.Argument(help="The sponsoring member.")],
    on: OnOpt = None,
) -> None:
    """Sponsor an open nomination (the sponsor's organisation on the day is kept)."""
    from commops.ops import core
    from commops.ops.governance.roles import sponsor

    with workspace() as ws, ws.store.session() as session:
        mid = core.require_member(session, member, field="sponsor")
        row = sponsor(session, nomination, mid, actor=cli_actor(), on=_day("--on", on))
        org = row.organization
    console.print(f"Member {mid} ({escape(org or 'no organisation')}) sponsors {nomination}.")


@ladder_app.command("approve")
def approve_cmd(
    nomination: Annotated[int, typer.Argument(help="Nomination id.")],
    rules: RulesOpt,
    on: OnOpt = None,
    reason: ReasonOpt = None,
) -> None:
    """Approve an open nomination: refused unless the role's criteria hold on the day."""
    from commops.ops.governance.roles import approve
    from commops.ops.governance.rules import load_ladder

    lad = load_ladder(rules)
    with workspace() as ws, ws.store.session() as session:
        approve(session, lad, nomination, actor=cli_actor(), on=_day("--on", on), reason=reason)
    console.print(f"Nomination {nomination} approved.")


@ladder_app.command("reject")
def reject_cmd(
    nomination: Annotated[int, typer.Argument(help="Nomination id.")],
    reason: Annotated[str, typer.Option("--reason", help="Why (required).")],
    on: OnOpt = None,
) -> None:
    """Reject an open or approved nomination."""
    from commops.ops.governance.roles import reject

    with workspace() as ws, ws.store.session() as session:
        reject(session, nomination, actor=cli_actor(), on=_day("--on", on), reason=reason)
    console.print(f"Nomination {nomination} rejected.")


@ladder_app.command("withdraw")
def withdraw_cmd(
    nomination: Annotated[int, typer.Argument(help="Nomination id.")],
    reason: ReasonOpt = None,
) -> None:
    """Withdraw an open or approved nomination (the candidate or nominator steps back)."""
    from commops.ops.governance.roles import withdraw

    with workspace() as ws, ws.store.session() as session:
        withdraw(session, nomination, actor=cli_actor(), reason=reason)
    console.print(f"Nomination {nomination} withdrawn.")


@ladder_app.command("grant")
def grant_cmd(
    nomination: Annotated[int, typer.Argument(help="An approved nomination's id.")],
    on: OnOpt = None,
) -> None:
    """Grant the role of an approved nomination, held from the day given."""
    from commops.ops.governance.roles import grant

    with workspace() as ws, ws.store.session() as session:
        row = grant(session, nomination, actor=cli_actor(), on=_day("--on", on))
        out = (row.id, row.role, row.member_id, row.granted_on)
    console.print(f"Role grant {out[0]}: member {out[2]} is {out[1]} from {out[3]}.")


@ladder_app.command("revoke")
def revoke_cmd(
    grant_id: Annotated[int, typer.Argument(help="Role grant id (see `commops ladder roles`).")],
    reason: Annotated[str, typer.Option("--reason", help="Why (required).")],
    on: OnOpt = None,
) -> None:
    """Revoke a held role."""
    from commops.ops.governance.roles import revoke

    with workspace() as ws, ws.store.session() as session:
        revoke(session, grant_id, actor=cli_actor(), on=_day("--on", on), reason=reason)
    console.print(f"Role grant {grant_id} revoked.")


@ladder_app.command("review")
def review_cmd(
    rules: RulesOpt,
    as_of: AsOfOpt = None,
    apply: Annotated[
        bool, typer.Option("--apply", help="Make the proposed roles emeritus.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Inactivity review: held roles whose member has no activity in the ladder's inactivity
    period (default 18 months) ending on the day; with --apply they become emeritus."""
    from commops.ops.governance.roles import retire, review

    lad = load_rules(rules)
    day = _day("--as-of", as_of)
    with workspace() as ws, ws.store.session() as session:
        found = review(session, lad, day)
        if apply:
            for item in found:
                retire(
                    session,
                    item.grant_id,
                    actor=cli_actor(),
                    on=day,
                    reason="inactivity review: no activity since "
                    + (item.last_activity.date().isoformat() if item.last_activity else "ever"),
                )
    rows = [
        {
            "grant": i.grant_id,
            "member_id": i.member_id,
            "name": i.name,
            "role": i.role,
            "last_activity": i.last_activity,
            "proposal": "emeritus" if not apply else "made emeritus",
        }
        for i in found
    ]
    if as_json:
        print_json(rows)
        return
    console.print(
        table(
            f"Inactivity review of {lad.name} as of {day}",
            ["grant", "member_id", "name", "role", "last_activity", "proposal"],
            rows,
        )
    )


@ladder_app.command("roles")
def roles_cmd(
    ladder: Annotated[
        str | None, typer.Option("--ladder", help="Only this ladder (its name, e.g. kubesphere).")
    ] = None,
    state: Annotated[
        str | None, typer.Option("--state", help="active, emeritus or revoked.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """List role grants and open nominations."""
    from sqlalchemy import select

    from commops.ops.governance.models import Nomination, RoleGrant
    from commops.store.models import Member

    with workspace() as ws, ws.store.session() as session:
        q = select(RoleGrant, Member.display_name).join(Member, Member.id == RoleGrant.member_id)
        n = select(Nomination, Member.display_name).join(Member, Member.id == Nomination.member_id)
        if ladder:
            q = q.where(RoleGrant.ladder == ladder)
            n = n.where(Nomination.ladder == ladder)
        if state:
            q = q.where(RoleGrant.state == state)
        grants = [
            {
                "grant": g.id,
                "ladder": g.ladder,
                "role": g.role,
                "member_id": g.member_id,
                "name": name,
                "state": g.state,
                "granted_on": g.granted_on,
                "ended_on": g.ended_on,
                "origin": g.origin,
            }
            for g, name in session.execute(q.order_by(RoleGrant.ladder, RoleGrant.id))
        ]
        noms = [
            {
                "nomination": x.id,
                "ladder": x.ladder,
                "role": x.role,
                "member_id": x.member_id,
                "name": name,
                "state": x.state,
                "nominated_on": x.nominated_on,
                "decided_on": x.decided_on,
            }
            for x, name in session.execute(
                n.where(Nomination.state.in_(("open", "approved"))).order_by(Nomination.id)
            )
        ]
    if as_json:
        print_json({"grants": grants, "nominations": noms})
        return
    if grants:
        console.print(table("Roles", list(grants[0]), grants))
    else:
        console.print("No role grants.")
    if noms:
        console.print(table("Open nominations", list(noms[0]), noms))


@ladder_app.command("import-owners")
def import_owners_cmd(
    files: Annotated[list[Path], typer.Argument(help="OWNERS file(s).")],
    rules: RulesOpt,
    approvers: Annotated[str, typer.Option("--approvers", help="The role approvers hold.")],
    reviewers: Annotated[
        str | None, typer.Option("--reviewers", help="The role reviewers hold (default: skip).")
    ] = None,
    on: Annotated[
        str | None, typer.Option("--on", help="Granted on this day (default today).")
    ] = None,
) -> None:
    """Import OWNERS files as the starting state: approvers and reviewers get the roles named,
    emeritus_approvers an emeritus grant. Every login is checked before anything is written."""
    from commops.ops.governance.exports import import_roles, read_owners

    lad = load_rules(rules)
    day = _day("--on", on)
    with workspace() as ws, ws.store.session() as session:
        entries = [
            e for f in files for e in read_owners(f, approvers=approvers, reviewers=reviewers)
        ]
        granted, unchanged = import_roles(
            session, lad, entries, actor=cli_actor(), source=", ".join(map(str, files)), on=day
        )
    console.print(f"{granted} role(s) granted, {unchanged} already held.")


@ladder_app.command("import-roles")
def import_roles_cmd(
    file: Annotated[
        Path, typer.Argument(help="CSV (login,role[,granted_on][,state]) or YAML role: [logins].")
    ],
    rules: RulesOpt,
) -> None:
    """Import a role list as the starting state (every line checked before anything is written)."""
    from commops.ops.governance.exports import import_roles, read_role_list

    lad = load_rules(rules)
    with workspace() as ws, ws.store.session() as session:
        granted, unchanged = import_roles(
            session, lad, read_role_list(file), actor=cli_actor(), source=str(file)
        )
    console.print(f"{granted} role(s) granted, {unchanged} already held.")


@ladder_app.command("export-owners")
def export_owners_cmd(
    rules: RulesOpt,
    approvers: Annotated[str, typer.Option("--approvers", help="The role that approves.")],
    reviewers: Annotated[
        str | None, typer.Option("--reviewers", help="The role that reviews.")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here (default: print).")
    ] = None,
) -> None:
    """Write an OWNERS file (approvers, reviewers, emeritus_approvers) from held roles."""
    from commops.ops.governance.exports import dump_owners, owners

    lad = load_rules(rules)
    with workspace() as ws, ws.store.session() as session:
        doc, skipped = owners(session, lad, approvers=approvers, reviewers=reviewers)
    text = dump_owners(doc)
    if output is None:
        console.print(text, end="", markup=False, highlight=False)
    else:
        output.write_text(text, encoding="utf-8")
        console.print(f"Wrote {output}.")
    if skipped:
        console.print(f"[yellow]Skipped (no GitHub login):[/] {escape(', '.join(skipped))}")


@ladder_app.command("export-allcontributors")
def export_allcontributors_cmd(
    project: Annotated[str, typer.Option("--project", help="projectName.")] = "project",
    owner: Annotated[str, typer.Option("--owner", help="projectOwner (GitHub org).")] = "owner",
    output: Annotated[Path, typer.Option("--output", "-o", help="The file to write.")] = Path(
        ".all-contributorsrc"
    ),
    merge: Annotated[
        bool,
        typer.Option("--merge/--replace", help="Keep the entries already in the output file."),
    ] = True,
    as_of: AsOfOpt = None,
) -> None:
    """Write .all-contributorsrc: every member's all-contributors types from the activity
    stream (bots left out; members without a GitHub login reported)."""
    from commops.ops.governance.exports import all_contributors, read_all_contributors

    existing = read_all_contributors(output) if merge and output.exists() else None
    with workspace() as ws, ws.store.session() as session:
        result = all_contributors(
            session,
            project=project,
            owner=owner,
            as_of=date_option("--as-of", as_of),
            existing=existing,
        )
    output.write_text(json.dumps(result.data, indent=2, ensure_ascii=False) + "\n", "utf-8")
    console.print(
        f"Wrote {output}: {len(result.data['contributors'])} contributor(s); "
        f"{len(result.skipped)} member(s) without a GitHub login skipped."
    )
