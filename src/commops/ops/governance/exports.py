"""Recognition exports and the starting state: ``.all-contributorsrc`` from the activity
stream's contribution types, OWNERS-style approver/reviewer lists from held roles, and the import
of existing OWNERS files and role lists (YAML or CSV) as role grants.

People are named by their GitHub login (the member's ``github`` username identity); a member
without one cannot appear in these files and is reported as skipped. Imports validate every
entry (file, line, login) before writing anything.
"""

from __future__ import annotations

import csv
import io
import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml  # type: ignore[import-untyped]
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from commops.clock import utcnow
from commops.errors import UsageError
from commops.ops.governance.evaluate import day_end
from commops.ops.governance.models import RoleGrant
from commops.ops.governance.roles import active_grant, add_grant, retire
from commops.ops.governance.rules import CONTRIBUTION_TYPES, Ladder
from commops.store.models import Activity, Identity, Member

OWNERS_KEYS = ("approvers", "reviewers", "emeritus_approvers")


def github_logins(session: Session) -> dict[int, str]:
    """Each member's GitHub login (the alphabetically first when they have several)."""
    out: dict[int, str] = {}
    rows = session.execute(
        select(Identity.member_id, Identity.value)
        .where(Identity.platform == "github", Identity.kind == "username")
        .order_by(Identity.value)
    )
    for mid, login in rows:
        out.setdefault(mid, login)
    return out


def member_by_login(session: Session) -> dict[str, int]:
    """GitHub login (lower case) -> member id."""
    rows = session.execute(
        select(Identity.value, Identity.member_id).where(
            Identity.platform == "github", Identity.kind == "username"
        )
    )
    return {login.lower(): mid for login, mid in rows}


@dataclass
class AllContributors:
    data: dict[str, Any]
    skipped: list[str] = field(default_factory=list)  # members with no GitHub login


def all_contributors(
    session: Session,
    *,
    project: str,
    owner: str,
    as_of: date | None = None,
    existing: Mapping[str, Any] | None = None,
) -> AllContributors:
    """The ``.all-contributorsrc`` document: every non-bot member with a contribution type in
    the activity stream (up to ``as_of``), their types sorted; entries of ``existing`` (a file
    read with ``read_all_contributors``) are kept and their contributions merged."""
    q = (
        select(Identity.member_id, Activity.contribution_type)
        .join(Identity, Identity.id == Activity.actor_identity_id)
        .join(Member, Member.id == Identity.member_id)
        .where(Activity.contribution_type.is_not(None), Member.is_bot.is_(False))
        .group_by(Identity.member_id, Activity.contribution_type)
    )
    if as_of is not None:
        q = q.where(Activity.occurred_at < day_end(as_of))
    types: dict[int, set[str]] = defaultdict(set)
    for mid, ctype in session.execute(q):
        if ctype in CONTRIBUTION_TYPES:
            types[mid].add(ctype)
    logins = github_logins(session)
    names = dict(session.execute(select(Member.id, Member.display_name)).all())
    entries: dict[str, dict[str, Any]] = {}
    for entry in (existing or {}).get("contributors", []):
        entries[str(entry["login"]).lower()] = dict(entry)
    skipped: list[str] = []
    for mid in sorted(types):
        login = logins.get(mid)
        if login is None:
            skipped.append(f"member {mid} ({names.get(mid, '?')})")
            continue
        entry = entries.setdefault(
            login.lower(),
            {
                "login": login,
                "name": names.get(mid, login),
                "avatar_url": f"https://github.com/{login}.png",
                "profile": f"https://github.com/{login}",
                "contributions": [],
            },
        )
        entry["contributions"] = sorted(set(entry["contributions"]) | types[mid])
    data = dict(existing or {})
    data.update(
        {
            "projectName": data.get("projectName", project),
            "projectOwner": data.get("projectOwner", owner),
            "repoType": data.get("repoType", "github"),
            "repoHost": data.get("repoHost", "https://github.com"),
            "files": data.get("files", ["README.md"]),
            "imageSize": data.get("imageSize", 100),
            "commit": data.get("commit", False),
            "contributorsPerLine": data.get("contributorsPerLine", 7),
            "contributors": sorted(entries.values(), key=lambda e: str(e["login"]).lower()),
        }
    )
    return AllContributors(data, skipped)


def read_all_contributors(path: Path) -> dict[str, Any]:
    """An existing ``.all-contributorsrc``, checked: a JSON object whose ``contributors`` each
    have a login and a list of known contribution types."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read ({exc})") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path} line {exc.lineno}: not valid JSON ({exc.msg})") from None
    if not isinstance(data, dict) or not isinstance(data.get("contributors", []), list):
        raise UsageError(f"{path}: not an all-contributors file (no contributors list)")
    for i, entry in enumerate(data.get("contributors", []), 1):
        if not isinstance(entry, dict) or not entry.get("login"):
            raise UsageError(f"{path}: contributor {i}: no login")
        contributions = entry.get("contributions", [])
        if not isinstance(contributions, list):
            raise UsageError(f"{path}: contributor {entry['login']}: contributions is not a list")
        for c in contributions:
            ctype = c.get("type") if isinstance(c, dict) else c
            if ctype not in CONTRIBUTION_TYPES:
                raise UsageError(
                    f"{path}: contributor {entry['login']}: unknown contribution type {ctype!r}"
                )
        entry["contributions"] = [
            c.get("type") if isinstance(c, dict) else c for c in contributions
        ]
    return data


def owners(
    session: Session, ladder: Ladder, *, approvers: str, reviewers: str | None = None
) -> tuple[dict[str, list[str]], list[str]]:
    """An OWNERS document: the GitHub logins of the members holding ``approvers`` (and
    ``reviewers``) in ``ladder``, and ``emeritus_approvers`` for emeritus approver grants.
    Also the members skipped for want of a login."""
    ladder.role(approvers)
    if reviewers is not None:
        ladder.role(reviewers)
    logins = github_logins(session)
    doc: dict[str, list[str]] = {}
    skipped: list[str] = []
    wanted = [("approvers", approvers, "active"), ("emeritus_approvers", approvers, "emeritus")]
    if reviewers is not None:
        wanted.insert(1, ("reviewers", reviewers, "active"))
    for key, role, state in wanted:
        mids = session.execute(
            select(RoleGrant.member_id)
            .where(
                RoleGrant.ladder == ladder.name, RoleGrant.role == role, RoleGrant.state == state
            )
            .distinct()
        ).scalars()
        names: list[str] = []
        for mid in mids:
            if mid in logins:
                names.append(logins[mid])
            else:
                skipped.append(f"member {mid} ({role})")
        if names or key != "emeritus_approvers":
            doc[key] = sorted(set(names), key=str.lower)
    return doc, skipped


def dump_owners(doc: Mapping[str, list[str]]) -> str:
    return str(yaml.safe_dump(dict(doc), sort_keys=False, default_flow_style=False))


@dataclass(frozen=True)
class RoleEntry:
    where: str  # "file line N"
    login: str
    role: str
    state: str  # active | emeritus
    granted_on: date


def read_owners(path: Path, *, approvers: str, reviewers: str | None) -> list[RoleEntry]:
    """The entries of an OWNERS file: ``approvers`` → the ``approvers`` role, ``reviewers`` →
    the ``reviewers`` role, ``emeritus_approvers`` → an emeritus ``approvers`` grant."""
    try:
        text = path.read_text(encoding="utf-8")
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read ({exc})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise UsageError(f"{path}{where}: not valid YAML") from None
    if root is None:
        return []
    if not isinstance(root, yaml.MappingNode):
        raise UsageError(f"{path} line {root.start_mark.line + 1}: an OWNERS file is a mapping")
    out: list[RoleEntry] = []
    today = utcnow().date()
    for key, value in root.value:
        name = key.value
        if name not in OWNERS_KEYS:
            continue  # labels, options, filters: not roles
        if name == "reviewers" and reviewers is None:
            continue
        if not isinstance(value, yaml.SequenceNode):
            raise UsageError(f"{path} line {value.start_mark.line + 1}: {name} must be a list")
        role = reviewers if name == "reviewers" else approvers
        assert role is not None
        state = "emeritus" if name == "emeritus_approvers" else "active"
        for item in value.value:
            login = str(item.value).strip() if isinstance(item, yaml.ScalarNode) else ""
            if not login:
                raise UsageError(f"{path} line {item.start_mark.line + 1}: {name}: not a login")
            out.append(
                RoleEntry(f"{path} line {item.start_mark.line + 1}", login, role, state, today)
            )
    return out


def read_role_list(path: Path) -> list[RoleEntry]:
    """A role list: CSV with columns ``login,role[,granted_on][,state]``, or YAML mapping each
    role to a list of logins."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read ({exc})") from None
    out: list[RoleEntry] = []
    today = utcnow().date()
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        missing = {"login", "role"} - set(reader.fieldnames or [])
        if missing:
            raise UsageError(f"{path} line 1: missing column(s) {', '.join(sorted(missing))}")
        for row in reader:
            line = reader.line_num
            login, role = (row.get("login") or "").strip(), (row.get("role") or "").strip()
            if not login or not role:
                raise UsageError(f"{path} line {line}: login and role are required")
            on = today
            if (row.get("granted_on") or "").strip():
                try:
                    on = date.fromisoformat(str(row["granted_on"]).strip())
                except ValueError:
                    raise UsageError(
                        f"{path} line {line}: column 'granted_on': {row['granted_on']!r} is not "
                        "a date (YYYY-MM-DD)"
                    ) from None
            state = (row.get("state") or "active").strip() or "active"
            if state not in ("active", "emeritus"):
                raise UsageError(
                    f"{path} line {line}: column 'state': {state!r} is not active or emeritus"
                )
            out.append(RoleEntry(f"{path} line {line}", login, role, state, on))
        return out
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        raise UsageError(f"{path}: not valid YAML or CSV") from None
    if not isinstance(root, yaml.MappingNode):
        raise UsageError(f"{path}: a YAML role list maps each role to a list of logins")
    for key, value in root.value:
        if not isinstance(value, yaml.SequenceNode):
            raise UsageError(f"{path} line {value.start_mark.line + 1}: {key.value}: not a list")
        for item in value.value:
            out.append(
                RoleEntry(
                    f"{path} line {item.start_mark.line + 1}",
                    str(item.value),
                    str(key.value),
                    "active",
                    today,
                )
            )
    return out


def import_roles(
    session: Session,
    ladder: Ladder,
    entries: list[RoleEntry],
    *,
    actor: str,
    source: str,
    on: date | None = None,
) -> tuple[int, int]:
    """Grant the entries' roles (``on`` overrides their dates); entries already held are left
    as they are. Every entry is checked first (role in the ladder, login known): any problem
    raises naming its file and line, before anything is written. Returns (granted, unchanged)."""
    by_login = member_by_login(session)
    resolved: list[tuple[RoleEntry, int]] = []
    for entry in entries:
        if entry.role not in {r.name for r in ladder.roles}:
            raise UsageError(
                f"{entry.where}: role {entry.role!r} is not in the ladder {ladder.name!r}",
                hint=f"Roles: {', '.join(r.name for r in ladder.roles)}.",
            )
        mid = by_login.get(entry.login.lower())
        if mid is None:
            raise UsageError(
                f"{entry.where}: no member has the GitHub login {entry.login!r}",
                hint="Sync the GitHub source first, or add the identity to a member.",
            )
        resolved.append((entry, mid))
    granted = unchanged = 0
    for entry, mid in resolved:
        when = on or entry.granted_on
        if entry.state == "emeritus":
            exists = session.execute(
                select(func.count())
                .select_from(RoleGrant)
                .where(
                    RoleGrant.ladder == ladder.name,
                    RoleGrant.member_id == mid,
                    RoleGrant.role == entry.role,
                    RoleGrant.state == "emeritus",
                )
            ).scalar_one()
            if exists:
                unchanged += 1
                continue
            row = add_grant(
                session,
                ladder.name,
                mid,
                entry.role,
                actor=actor,
                on=when,
                origin="import",
                scope=source,
            )
            retire(session, row.id, actor=actor, on=when, reason=f"emeritus in {source}")
            granted += 1
            continue
        if active_grant(session, ladder.name, mid, entry.role) is not None:
            unchanged += 1
            continue
        add_grant(
            session,
            ladder.name,
            mid,
            entry.role,
            actor=actor,
            on=when,
            origin="import",
            scope=source,
        )
        granted += 1
    return granted, unchanged
