"""Identity mappings in and out: git ``.mailmap`` files and a JSON document.

Export writes who is who as it stands; import only links identities that already exist (it
never creates one, and never splits a member): the identities a ``.mailmap`` line or a JSON
member names are merged into one member, with ``same`` decisions (origin ``mailmap`` or
``import``) so that the resolver keeps them together; a JSON file's ``different`` decisions are
recreated. An import is one transaction and one log entry (action ``import``) that
``commops members undo`` takes back; importing the same file again changes nothing.

The JSON document (``format`` 1)::

    {
      "format": 1,
      "exported_at": "2026-01-31T12:00:00Z",
      "members": [
        {"id": 12, "display_name": "Fawei Zhao", "is_bot": false, "is_staff": false,
         "identities": [{"platform": "git", "kind": "email", "value": "fawei@company.com",
                         "name": "Fawei Zhao"}, ...]},
        ...
      ],
      "decisions": [
        {"a": {"platform": ..., "kind": ..., "value": ...}, "b": {...},
         "decision": "same" | "different", "origin": "manual", "actor": "cli:ana",
         "reason": null, "created_at": "..."},
        ...
      ]
    }

E-mail identities are matched case-insensitively on import (``Ada@Example.org`` is
``ada@example.org``); other identities by their exact platform, kind and value.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from commops.clock import utcnow
from commops.errors import UsageError
from commops.identity.audit import Changes, _different_between, _merge_into, describe_identity
from commops.store.models import Activity, Identity, IdentityDecision, Member

__all__ = [
    "JSON_FORMAT",
    "ImportReport",
    "MailmapLine",
    "export_json",
    "export_mailmap",
    "file_format",
    "import_file",
    "import_json",
    "import_mailmap",
    "parse_mailmap",
]

JSON_FORMAT = 1
FORMATS = ("mailmap", "json")


@dataclass(frozen=True, slots=True)
class MailmapLine:
    """One mapping of a ``.mailmap``: the commit e-mail (and name) and, when given, the proper
    name and e-mail it stands for."""

    line: int
    proper_name: str | None
    proper_email: str | None
    commit_name: str | None
    commit_email: str

    @property
    def emails(self) -> list[str]:
        return [e for e in (self.proper_email, self.commit_email) if e is not None]


@dataclass
class ImportReport:
    file: str
    format: str
    entries: int = 0  # lines or members read
    merged: int = 0  # members merged into others
    decisions_added: int = 0
    names_set: int = 0
    changes: int = 0
    skipped: list[dict[str, Any]] = field(default_factory=list)
    conflicts: list[dict[str, Any]] = field(default_factory=list)
    log_id: int | None = None


# -- .mailmap ---------------------------------------------------------------------------------

_PART = re.compile(r"\s*([^<>#]*?)\s*<([^<>]*)>")


def parse_mailmap(text: str, file: str = ".mailmap") -> list[MailmapLine]:
    """The mappings of a ``.mailmap`` (git's four forms). A malformed line raises a
    ``UsageError`` naming ``FILE:LINE``."""
    out: list[MailmapLine] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts: list[tuple[str, str]] = []
        pos = 0
        while True:
            m = _PART.match(line, pos)
            if m is None:
                break
            parts.append((m.group(1), m.group(2).strip()))
            pos = m.end()
        rest = line[pos:].strip()
        where = f"{file}:{number}"
        if not parts:
            reason = (
                "an e-mail is not closed with >"
                if "<" in line and ">" not in line[line.index("<") :]
                else "no <e-mail> on the line"
            )
            raise UsageError(f"{where}: {reason}: {raw.strip()!r}", hint=_MAILMAP_HINT)
        if len(parts) > 2:
            raise UsageError(f"{where}: more than two e-mails on the line", hint=_MAILMAP_HINT)
        if rest and not rest.startswith("#"):
            raise UsageError(
                f"{where}: unexpected text after the e-mails: {rest!r}", hint=_MAILMAP_HINT
            )
        for _, email in parts:
            if not email:
                raise UsageError(f"{where}: an empty e-mail <>", hint=_MAILMAP_HINT)
            if any(c.isspace() for c in email):
                raise UsageError(f"{where}: e-mail {email!r} contains a space", hint=_MAILMAP_HINT)
        if len(parts) == 1:
            name, email = parts[0]
            out.append(MailmapLine(number, name or None, None, None, email))
        else:
            (pname, pemail), (cname, cemail) = parts
            out.append(MailmapLine(number, pname or None, pemail, cname or None, cemail))
    return out


_MAILMAP_HINT = (
    "A .mailmap line is `Proper Name <proper@email> Commit Name <commit@email>` "
    "(names optional, see `git help mailmap`); lines starting with # are comments."
)


def _clean_name(name: str) -> str:
    return re.sub(r"[<>#\n\r]", "", name).strip()


def _primary_emails(session: Session) -> tuple[dict[int, list[Identity]], dict[int, Identity]]:
    """Each member's e-mail identities and its primary one (most activities, then lowest id)."""
    idents = list(
        session.execute(
            select(Identity).where(Identity.kind == "email").order_by(Identity.id)
        ).scalars()
    )
    counts = dict(
        session.execute(
            select(Activity.actor_identity_id, func.count())
            .join(Identity, Identity.id == Activity.actor_identity_id)
            .where(Identity.kind == "email")
            .group_by(Activity.actor_identity_id)
        ).all()
    )
    by_member: dict[int, list[Identity]] = defaultdict(list)
    for ident in idents:
        by_member[ident.member_id].append(ident)
    primary = {
        mid: min(group, key=lambda i: (-int(counts.get(i.id, 0)), i.id))
        for mid, group in by_member.items()
    }
    return by_member, primary


def export_mailmap(session: Session) -> str:
    """A git ``.mailmap``: one line per e-mail identity, mapping it to its member's display
    name and primary e-mail: ``Proper Name <proper@email>`` for the primary e-mail itself,
    ``Proper Name <proper@email> Commit Name <commit@email>`` for an identity seen under one
    name, ``Proper Name <proper@email> <commit@email>`` otherwise."""
    by_member, primary = _primary_emails(session)
    names = dict(
        session.execute(
            select(Member.id, Member.display_name).where(Member.id.in_(list(by_member)))
        ).all()
    )
    lines: list[tuple[str, str, str]] = []
    for mid, idents in by_member.items():
        proper = _clean_name(names.get(mid, "")) or primary[mid].value.split("@", 1)[0]
        pemail = primary[mid].value
        if not _representable(pemail):
            continue
        for ident in idents:
            if not _representable(ident.value):
                continue
            cname = _clean_name(ident.name or "")
            other_names = [n for n in ident.names or [] if n != ident.name]
            if ident.value == pemail:  # git's short form: the name for this address
                text = f"{proper} <{pemail}>"
            elif cname and not other_names:
                text = f"{proper} <{pemail}> {cname} <{ident.value}>"
            else:
                text = f"{proper} <{pemail}> <{ident.value}>"
            lines.append((proper.lower(), ident.value.lower(), text))
    lines.sort()
    header = [
        "# Identity mappings exported by commops "
        f"({len(by_member)} members, {len(lines)} e-mail identities).",
    ]
    return "\n".join([*header, *(t for _, _, t in lines)]) + "\n"


def _representable(email: str) -> bool:
    return bool(email) and not any(c.isspace() or c in "<>" for c in email)


# -- JSON -------------------------------------------------------------------------------------


def _ref(ident: Identity) -> dict[str, Any]:
    return {"platform": ident.platform, "kind": ident.kind, "value": ident.value}


def export_json(session: Session) -> dict[str, Any]:
    """Every member with its identities, and every decision (see the module docstring)."""
    members: dict[int, dict[str, Any]] = {
        m.id: {
            "id": m.id,
            "display_name": m.display_name,
            "is_bot": bool(m.is_bot),
            "is_staff": bool(m.is_staff),
            "identities": [],
        }
        for m in session.execute(select(Member).order_by(Member.id)).scalars()
    }
    idents: dict[int, Identity] = {}
    for ident in session.execute(select(Identity).order_by(Identity.id)).scalars():
        idents[ident.id] = ident
        members[ident.member_id]["identities"].append({**_ref(ident), "name": ident.name})
    decisions = []
    for dec in session.execute(select(IdentityDecision).order_by(IdentityDecision.id)).scalars():
        a, b = idents.get(dec.identity_a_id), idents.get(dec.identity_b_id)
        if a is None or b is None:
            continue
        decisions.append(
            {
                "a": _ref(a),
                "b": _ref(b),
                "decision": dec.decision,
                "origin": dec.origin,
                "actor": dec.actor,
                "reason": dec.reason,
                "created_at": dec.created_at.isoformat() + "Z",
            }
        )
    return {
        "format": JSON_FORMAT,
        "exported_at": utcnow().isoformat(timespec="seconds") + "Z",
        "members": [m for m in members.values() if m["identities"]],
        "decisions": decisions,
    }


@dataclass(frozen=True, slots=True)
class _Ref:
    platform: str
    kind: str
    value: str


def _json_error(file: str, where: str, reason: str) -> UsageError:
    return UsageError(
        f"{file}: {where}: {reason}",
        hint="See docs/members.md for the JSON format (written by `commops members export "
        "--format json`).",
    )


def _parse_ref(file: str, where: str, obj: Any) -> _Ref:
    if not isinstance(obj, dict):
        raise _json_error(file, where, "must be an object with platform, kind and value")
    values = []
    for key in ("platform", "kind", "value"):
        value = obj.get(key)
        if not isinstance(value, str) or not value.strip():
            raise _json_error(file, f"{where}.{key}", "must be non-empty text")
        values.append(value)
    if values[1] not in ("email", "username", "name"):
        raise _json_error(file, f"{where}.kind", f"{values[1]!r} is not email, username or name")
    return _Ref(*values)


def _parse_json(
    text: str, file: str
) -> tuple[list[tuple[str, str | None, list[_Ref]]], list[tuple[str, str, _Ref, _Ref]]]:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{file}:{exc.lineno}: not JSON: {exc.msg} (column {exc.colno})") from None
    if not isinstance(doc, dict):
        raise _json_error(file, "(top)", "must be a JSON object")
    if doc.get("format") != JSON_FORMAT:
        raise _json_error(
            file, "format", f"is {doc.get('format')!r}; this version reads format {JSON_FORMAT}"
        )
    raw_members = doc.get("members", [])
    if not isinstance(raw_members, list):
        raise _json_error(file, "members", "must be a list")
    members: list[tuple[str, str | None, list[_Ref]]] = []
    for i, m in enumerate(raw_members):
        where = f"members[{i}]"
        if not isinstance(m, dict):
            raise _json_error(file, where, "must be an object")
        name = m.get("display_name")
        if name is not None and not isinstance(name, str):
            raise _json_error(file, f"{where}.display_name", "must be text")
        raw_idents = m.get("identities")
        if not isinstance(raw_idents, list):
            raise _json_error(file, f"{where}.identities", "must be a list")
        refs = [_parse_ref(file, f"{where}.identities[{j}]", r) for j, r in enumerate(raw_idents)]
        members.append((where, (name or "").strip() or None, refs))
    raw_decisions = doc.get("decisions", [])
    if not isinstance(raw_decisions, list):
        raise _json_error(file, "decisions", "must be a list")
    decisions: list[tuple[str, str, _Ref, _Ref]] = []
    for i, d in enumerate(raw_decisions):
        where = f"decisions[{i}]"
        if not isinstance(d, dict):
            raise _json_error(file, where, "must be an object")
        kind = d.get("decision")
        if kind not in ("same", "different"):
            raise _json_error(file, f"{where}.decision", f"{kind!r} is not same or different")
        decisions.append(
            (
                where,
                kind,
                _parse_ref(file, f"{where}.a", d.get("a")),
                _parse_ref(file, f"{where}.b", d.get("b")),
            )
        )
    return members, decisions


# -- import -----------------------------------------------------------------------------------


class _Lookup:
    """Stored identities by (platform, kind, value), e-mails case-insensitively."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def emails(self, emails: Iterable[str]) -> dict[str, list[int]]:
        wanted = sorted({e.lower() for e in emails})
        found: dict[str, list[int]] = defaultdict(list)
        for i in range(0, len(wanted), 500):
            rows = self.session.execute(
                select(Identity.id, Identity.value)
                .where(
                    Identity.kind == "email", func.lower(Identity.value).in_(wanted[i : i + 500])
                )
                .order_by(Identity.id)
            )
            for ident_id, value in rows:
                found[value.lower()].append(int(ident_id))
        return found

    def refs(self, refs: Iterable[_Ref]) -> dict[_Ref, list[int]]:
        refs = list(refs)
        by_email = self.emails(r.value for r in refs if r.kind == "email")
        out: dict[_Ref, list[int]] = {}
        for ref in refs:
            if ref in out:
                continue
            if ref.kind == "email":
                ids = [
                    i
                    for i in by_email.get(ref.value.lower(), [])
                    if self._platform(i) == ref.platform
                ]
            else:
                ids = list(
                    self.session.execute(
                        select(Identity.id).where(
                            Identity.platform == ref.platform,
                            Identity.kind == ref.kind,
                            Identity.value == ref.value,
                        )
                    ).scalars()
                )
            out[ref] = ids
        return out

    def _platform(self, ident_id: int) -> str:
        ident = self.session.get(Identity, ident_id)
        return "" if ident is None else ident.platform


@dataclass
class _Group:
    where: str
    order: int
    identity_ids: list[int]  # the first is the anchor
    name: str | None


def _apply_groups(
    ch: Changes,
    groups: Sequence[_Group],
    *,
    origin: str,
    actor: str,
    reason: str | None,
    report: ImportReport,
) -> None:
    session = ch.session
    conflicted: set[int] = set()
    for group in groups:
        ids = list(dict.fromkeys(group.identity_ids))
        if not ids:
            continue
        idents = [session.get(Identity, i) for i in ids]
        members = list(dict.fromkeys(i.member_id for i in idents if i is not None))
        conflicts = _different_between(session, members) if len(members) > 1 else []
        if conflicts:
            conflicted.add(id(group))
            report.conflicts.append(
                {
                    "where": group.where,
                    "reason": "decided to be different people: "
                    + "; ".join(
                        f"{describe_identity(_get(session, d.identity_a_id))} and "
                        f"{describe_identity(_get(session, d.identity_b_id))}"
                        for d in conflicts[:3]
                    ),
                }
            )
            continue
        if len(members) > 1:
            target = session.get(Member, members[0])
            others = [session.get(Member, m) for m in members[1:]]
            assert target is not None
            _merge_into(
                ch,
                target,
                [o for o in others if o is not None],
                actor=actor,
                reason=reason,
                origin=origin,
                force=False,
                pairs=[],
            )
            report.merged += len(others)
        anchor = ids[0]
        for other in ids[1:]:
            existing = ch.decision_between(anchor, other)
            if existing is None:
                ch.add_decisions(
                    [(anchor, other)], "same", origin=origin, actor=actor, reason=reason
                )
                report.decisions_added += 1
            elif existing.decision == "different":
                report.conflicts.append(
                    {
                        "where": group.where,
                        "reason": f"identities {anchor} and {other} were decided to be different "
                        "people (kept apart by that decision)",
                    }
                )
    session.flush()
    # Names last, and the same way every time, so that a second import changes nothing: a member
    # takes the name of the group that holds most of its identities (the first in file order on
    # a tie).
    votes: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for index, group in enumerate(groups):
        if group.name is None or id(group) in conflicted:
            continue
        for ident_id in dict.fromkeys(group.identity_ids):
            ident = session.get(Identity, ident_id)
            if ident is not None:
                votes[ident.member_id][index] += 1
    for member_id, counts in sorted(votes.items()):
        best = min(counts, key=lambda i: (-counts[i], groups[i].order))
        name = (groups[best].name or "")[:500]
        member = session.get(Member, member_id)
        if member is not None and name and member.display_name != name:
            ch.update_member(member, display_name=name)
            report.names_set += 1


def _get(session: Session, ident_id: int) -> Identity:
    ident = session.get(Identity, ident_id)
    assert ident is not None
    return ident


def _finish(ch: Changes, report: ImportReport, actor: str) -> ImportReport:
    report.changes = ch.count()
    if not ch.empty:
        entry = ch.write("import", actor, f"{report.format} {report.file}")
        report.log_id = entry.id
    return report


def import_mailmap(
    session: Session, text: str, *, actor: str, file: str = ".mailmap"
) -> ImportReport:
    """Link the e-mail identities each ``.mailmap`` line names (directly, or through a proper
    e-mail that several lines share) into one member, with ``same`` decisions (origin
    ``mailmap``); the proper name becomes the member's display name. Lines naming e-mails that
    no identity has are reported in ``skipped``."""
    entries = parse_mailmap(text, file)
    report = ImportReport(file, "mailmap", entries=len(entries))
    # Lines that share an e-mail describe one person: join them.
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for e in entries:
        keys = [m.lower() for m in e.emails]
        for k in keys[1:]:
            parent[root(k)] = root(keys[0])
        root(keys[0])
    lookup = _Lookup(session).emails(k for e in entries for k in e.emails)
    comps: dict[str, list[MailmapLine]] = defaultdict(list)
    for e in entries:
        comps[root(e.emails[0].lower())].append(e)
        unknown = [m for m in e.emails if m.lower() not in lookup]
        if unknown:
            report.skipped.append(
                {
                    "where": f"{file}:{e.line}",
                    "line": e.line,
                    "reason": "no identity with e-mail " + ", ".join(unknown),
                }
            )
    groups: list[_Group] = []
    for lines in comps.values():
        ordered: list[int] = []
        for e in lines:  # the proper e-mail's identities first: they anchor the decisions
            if e.proper_email is not None:
                ordered.extend(lookup.get(e.proper_email.lower(), []))
        for e in lines:
            for m in e.emails:
                ordered.extend(lookup.get(m.lower(), []))
        name = next((e.proper_name for e in lines if e.proper_name), None)
        groups.append(
            _Group(f"{file}:{lines[0].line}", lines[0].line, list(dict.fromkeys(ordered)), name)
        )
    ch = Changes(session)
    _apply_groups(ch, groups, origin="mailmap", actor=actor, reason=None, report=report)
    return _finish(ch, report, actor)


def import_json(
    session: Session, text: str, *, actor: str, file: str = "import.json"
) -> ImportReport:
    """Recreate a JSON document's grouping (merges, ``same`` decisions of origin ``import``)
    and its ``different`` decisions, for the identities that exist here."""
    members, decisions = _parse_json(text, file)
    report = ImportReport(file, "json", entries=len(members))
    lookup = _Lookup(session).refs(
        [r for _, _, refs in members for r in refs]
        + [r for _, _, a, b in decisions for r in (a, b)]
    )
    ch = Changes(session)
    for where, kind, a, b in decisions:
        if kind != "different":
            continue  # "same" is carried by the members' grouping
        ids_a, ids_b = lookup.get(a, []), lookup.get(b, [])
        if not ids_a or not ids_b:
            report.skipped.append({"where": f"{file}: {where}", "reason": "unknown identity"})
            continue
        for x in ids_a:
            for y in ids_b:
                if x == y:
                    continue
                ix, iy = _get(session, x), _get(session, y)
                existing = ch.decision_between(x, y)
                if existing is not None:
                    if existing.decision != "different":
                        report.conflicts.append(
                            {
                                "where": f"{file}: {where}",
                                "reason": f"here {describe_identity(ix)} and "
                                f"{describe_identity(iy)} were decided to be the same person",
                            }
                        )
                    continue
                if ix.member_id == iy.member_id:
                    report.conflicts.append(
                        {
                            "where": f"{file}: {where}",
                            "reason": f"{describe_identity(ix)} and {describe_identity(iy)} are "
                            f"one member here ({ix.member_id}); unmerge them to keep them apart",
                        }
                    )
                    continue
                ch.add_decisions([(x, y)], "different", origin="import", actor=actor, reason=None)
                report.decisions_added += 1
    groups: list[_Group] = []
    for order, (where, name, refs) in enumerate(members):
        ids: list[int] = []
        for j, ref in enumerate(refs):
            found = lookup.get(ref, [])
            if not found:
                report.skipped.append(
                    {
                        "where": f"{file}: {where}.identities[{j}]",
                        "reason": f"no identity {ref.platform}:{ref.kind} {ref.value}",
                    }
                )
            ids.extend(found)
        groups.append(_Group(f"{file}: {where}", order, ids, name))
    _apply_groups(ch, groups, origin="import", actor=actor, reason=None, report=report)
    return _finish(ch, report, actor)


def file_format(path: Path, fmt: str | None = None) -> str:
    if fmt is not None:
        if fmt not in FORMATS:
            raise UsageError(f"unknown format {fmt!r}", hint="Use mailmap or json.")
        return fmt
    if path.name == ".mailmap" or path.suffix.lower() == ".mailmap":
        return "mailmap"
    if path.suffix.lower() == ".json":
        return "json"
    raise UsageError(
        f"{path}: cannot tell the format from the name",
        hint="Name the file .mailmap or *.json, or pass --format mailmap|json.",
    )


def import_file(
    session: Session, path: Path, fmt: str | None = None, *, actor: str
) -> ImportReport:
    """Import a ``.mailmap`` or JSON file (format from ``fmt`` or the file name)."""
    kind = file_format(path, fmt)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not UTF-8 (byte {exc.start})") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read the file ({exc.strerror})") from None
    if kind == "mailmap":
        return import_mailmap(session, text, actor=actor, file=str(path))
    return import_json(session, text, actor=actor, file=str(path))
