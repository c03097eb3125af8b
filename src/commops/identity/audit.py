"""Changing who is who by hand, with an audit log and undo.

Every change of the identity -> member map goes through one of the functions here (merge,
unmerge, split, accept or reject a suggestion, import) or through a :class:`Changes` recorder, and
is written to ``IdentityLog`` in one transaction with the change itself. ``changes`` of a log
entry holds what undo needs::

    {
      "moves": [[identity_id, from_member_id, to_member_id], ...],
      "members_created": [member_id, ...],
      "members_deleted": [{member row: id, display_name, is_bot, is_staff, tags, notes,
                           created_at (ISO), flag_origins}, ...],
      "members_updated": [{"id": m, "before": {field: value}, "after": {field: value}}, ...],
      "enrollments_moved": [[enrollment_id, from_member_id, to_member_id], ...],
      "decisions_added": [decision_id, ...],
      "decisions_removed": [{decision row: id, identity_a_id, identity_b_id, decision, origin,
                             actor, reason, created_at (ISO)}, ...],
      "suggestions": [[suggestion_id, status_before, status_after], ...]
    }

All keys are optional. ``undo`` applies the inverse in reverse order and refuses when a later
entry that is still in force changed the same identities, members, decisions or suggestions
(naming it: undo that one first). Activities point at identities, so none of this rewrites an
activity.

Functions take a ``Session`` and never commit: the caller's transaction (``Store.session()``)
holds the change and its log entry together, and an error rolls both back.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, delete, func, insert, or_, select
from sqlalchemy.orm import Session

from commops.clock import utcnow
from commops.errors import StateConflict, UsageError
from commops.store.models import (
    Activity,
    Enrollment,
    Identity,
    IdentityDecision,
    IdentityLog,
    Member,
    MergeSuggestion,
    Organization,
)

__all__ = [
    "Changes",
    "EnrollmentView",
    "IdentityView",
    "LogView",
    "MemberDetail",
    "MemberSummary",
    "SuggestionView",
    "accept_suggestion",
    "describe_identity",
    "find_identity",
    "find_member",
    "list_members",
    "list_suggestions",
    "log_entries",
    "member_detail",
    "merge_members",
    "reject_suggestion",
    "split_member",
    "summarize",
    "undo",
    "unmerge",
]

MEMBER_FIELDS = ("display_name", "is_bot", "is_staff", "tags", "notes", "flag_origins")
SUGGESTION_STATUSES = ("open", "accepted", "rejected", "stale")


def _pair(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a < b else (b, a)


def describe_identity(ident: Identity) -> str:
    """``github:username fawei (#12)``: how messages name an identity."""
    return f"{ident.platform}:{ident.kind} {ident.value} (#{ident.id})"


def member_row(member: Any) -> dict[str, Any]:
    """A member as the log keeps it (an ORM Member or a Core row with the same columns)."""
    return {
        "id": member.id,
        "display_name": member.display_name,
        "is_bot": bool(member.is_bot),
        "is_staff": bool(member.is_staff),
        "tags": list(member.tags or []),
        "notes": member.notes,
        "created_at": member.created_at.isoformat(),
        "flag_origins": dict(member.flag_origins or {}),
    }


def _decision_row(dec: IdentityDecision) -> dict[str, Any]:
    return {
        "id": dec.id,
        "identity_a_id": dec.identity_a_id,
        "identity_b_id": dec.identity_b_id,
        "decision": dec.decision,
        "origin": dec.origin,
        "actor": dec.actor,
        "reason": dec.reason,
        "created_at": dec.created_at.isoformat(),
    }


def _jsonable(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, dict):
        return dict(value)
    return value


class Changes:
    """Records changes of who is who as they are made, then writes them as one log entry.

    Each method both changes the store (through the session) and notes what undo needs."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.now = utcnow()
        self.moves: list[list[int]] = []
        self.members_created: list[int] = []
        self.members_deleted: list[dict[str, Any]] = []
        self.members_updated: dict[int, dict[str, Any]] = {}
        self.enrollments_moved: list[list[int]] = []
        self.decisions_added: list[int] = []
        self.decisions_removed: list[dict[str, Any]] = []
        self.suggestions: list[list[Any]] = []

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "moves": self.moves,
            "members_created": self.members_created,
            "members_deleted": self.members_deleted,
            "members_updated": [
                {"id": m, "before": u["before"], "after": u["after"]}
                for m, u in self.members_updated.items()
                if u["before"] != u["after"]
            ],
            "enrollments_moved": self.enrollments_moved,
            "decisions_added": self.decisions_added,
            "decisions_removed": self.decisions_removed,
            "suggestions": self.suggestions,
        }
        return {k: v for k, v in out.items() if v}

    @property
    def empty(self) -> bool:
        return not self.as_json()

    def count(self) -> int:
        """How many things changed (moves, members, decisions, suggestions, ...)."""
        return sum(len(v) for v in self.as_json().values())

    # -- members and identities ----------------------------------------------------------------

    def move(self, ident: Identity, to_member_id: int) -> None:
        if ident.member_id == to_member_id:
            return
        self.moves.append([ident.id, ident.member_id, to_member_id])
        ident.member_id = to_member_id

    def new_member(
        self, display_name: str, *, is_bot: bool = False, flag_origins: dict[str, Any] | None = None
    ) -> Member:
        member = Member(
            display_name=display_name[:500] or "(unknown)",
            is_bot=is_bot,
            is_staff=False,
            tags=[],
            notes=None,
            created_at=self.now,
            flag_origins=flag_origins or {},
        )
        self.session.add(member)
        self.session.flush()
        self.members_created.append(member.id)
        return member

    def delete_member(self, member: Member) -> None:
        self.session.flush()
        self.members_deleted.append(member_row(member))
        self.session.delete(member)
        self.session.flush()

    def drop_if_empty(self, member_id: int, enrollments_to: int | None = None) -> bool:
        """Delete a member left without identities (its row is kept in the log). Its
        enrollments move to ``enrollments_to`` (where its identities went), if given."""
        self.session.flush()
        left = self.session.execute(
            select(func.count()).select_from(Identity).where(Identity.member_id == member_id)
        ).scalar_one()
        if left:
            return False
        member = self.session.get(Member, member_id)
        if member is None:
            return False
        if enrollments_to is not None:
            self.move_enrollments(member_id, enrollments_to)
        self.delete_member(member)
        return True

    def update_member(self, member: Member, **values: Any) -> None:
        entry = self.members_updated.setdefault(member.id, {"before": {}, "after": {}})
        for name, value in values.items():
            if name not in MEMBER_FIELDS:
                raise ValueError(f"not a member field: {name}")
            current = _jsonable(getattr(member, name))
            if current == _jsonable(value):
                continue
            entry["before"].setdefault(name, current)
            entry["after"][name] = _jsonable(value)
            setattr(member, name, value)
        for name in list(entry["after"]):
            if entry["before"].get(name) == entry["after"][name]:
                del entry["before"][name], entry["after"][name]

    def move_enrollments(self, from_member_id: int, to_member_id: int) -> None:
        rows = self.session.execute(
            select(Enrollment).where(Enrollment.member_id == from_member_id).order_by(Enrollment.id)
        ).scalars()
        for enr in list(rows):
            self.enrollments_moved.append([enr.id, from_member_id, to_member_id])
            enr.member_id = to_member_id

    # -- decisions and suggestions -------------------------------------------------------------

    def decision_between(self, a: int, b: int) -> IdentityDecision | None:
        lo, hi = _pair(a, b)
        return self.session.execute(
            select(IdentityDecision).where(
                IdentityDecision.identity_a_id == lo, IdentityDecision.identity_b_id == hi
            )
        ).scalar_one_or_none()

    def remove_decision(self, dec: IdentityDecision) -> None:
        self.decisions_removed.append(_decision_row(dec))
        self.session.delete(dec)
        self.session.flush()

    def add_decision(
        self, a: int, b: int, decision: str, *, origin: str, actor: str, reason: str | None
    ) -> int | None:
        """Record that identities a and b are the ``same`` person or ``different`` people. An
        equal decision already there is kept; an opposite one is replaced. Returns the new id."""
        if a == b:
            return None
        existing = self.decision_between(a, b)
        if existing is not None:
            if existing.decision == decision:
                return None
            self.remove_decision(existing)
        return self.add_decisions([(a, b)], decision, origin=origin, actor=actor, reason=reason)[0]

    def add_decisions(
        self,
        pairs: Sequence[tuple[int, int]],
        decision: str,
        *,
        origin: str,
        actor: str,
        reason: str | None,
    ) -> list[int]:
        """Insert decisions for pairs known to have none (one statement for many pairs)."""
        if not pairs:
            return []
        rows = [
            {
                "identity_a_id": lo,
                "identity_b_id": hi,
                "decision": decision,
                "origin": origin,
                "actor": actor,
                "reason": reason,
                "created_at": self.now,
            }
            for lo, hi in sorted({_pair(a, b) for a, b in pairs})
        ]
        table = cast(Table, IdentityDecision.__table__)
        stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        ids = [int(r[0]) for r in self.session.execute(stmt, rows)]
        self.decisions_added.extend(ids)
        return ids

    def set_suggestion(self, sugg: MergeSuggestion, status: str, actor: str | None) -> None:
        if sugg.status == status:
            return
        self.suggestions.append([sugg.id, sugg.status, status])
        sugg.status = status
        sugg.decided_at = self.now if status != "open" else None
        sugg.decided_by = actor if status != "open" else None

    def mark_stale(self, identity_ids: Iterable[int], actor: str | None) -> None:
        """Open suggestions about these identities whose two sides are now one member."""
        ids = list(set(identity_ids))
        if not ids:
            return
        self.session.flush()
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            rows = self.session.execute(
                select(MergeSuggestion).where(
                    MergeSuggestion.status == "open",
                    or_(
                        MergeSuggestion.identity_a_id.in_(chunk),
                        MergeSuggestion.identity_b_id.in_(chunk),
                    ),
                )
            ).scalars()
            for sugg in list(rows):
                a = self.session.get(Identity, sugg.identity_a_id)
                b = self.session.get(Identity, sugg.identity_b_id)
                if a is not None and b is not None and a.member_id == b.member_id:
                    self.set_suggestion(sugg, "stale", actor)

    def write(self, action: str, actor: str, reason: str | None = None) -> IdentityLog:
        self.session.flush()
        entry = IdentityLog(
            action=action,
            actor=actor,
            reason=reason,
            created_at=self.now,
            changes=self.as_json(),
        )
        self.session.add(entry)
        self.session.flush()
        return entry


# -- looking things up ------------------------------------------------------------------------


def _member(session: Session, member_id: int) -> Member:
    member = session.get(Member, member_id)
    if member is None:
        raise UsageError(f"no member {member_id}", hint="See `commops members list`.")
    return member


def _identities_of(session: Session, member_ids: Iterable[int]) -> list[Identity]:
    ids = list(member_ids)
    return list(
        session.execute(
            select(Identity).where(Identity.member_id.in_(ids)).order_by(Identity.id)
        ).scalars()
    )


def _different_between(session: Session, member_ids: Sequence[int]) -> list[IdentityDecision]:
    """'different' decisions that link identities of two of these members."""
    idents = _identities_of(session, member_ids)
    owner = {i.id: i.member_id for i in idents}
    ids = list(owner)
    found: list[IdentityDecision] = []
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        rows = session.execute(
            select(IdentityDecision).where(
                IdentityDecision.decision == "different",
                or_(
                    IdentityDecision.identity_a_id.in_(chunk),
                    IdentityDecision.identity_b_id.in_(chunk),
                ),
            )
        ).scalars()
        for dec in rows:
            a, b = owner.get(dec.identity_a_id), owner.get(dec.identity_b_id)
            if a is not None and b is not None and a != b and dec not in found:
                found.append(dec)
    return found


def find_member(session: Session, text: str) -> int:
    """The member a user names: a member id, an identity value (e-mail, login; any platform,
    case-insensitively), ``platform:value``, or an exact display name."""
    text = text.strip()
    if not text:
        raise UsageError("an empty member name", hint="Give a member id, an e-mail or a login.")
    if text.isdigit() and session.get(Member, int(text)) is not None:
        return int(text)
    idents = _identities_matching(session, text)
    members = sorted({i.member_id for i in idents})
    if len(members) == 1:
        return members[0]
    if len(members) > 1:
        shown = "; ".join(f"{describe_identity(i)} -> member {i.member_id}" for i in idents[:10])
        raise UsageError(
            f"{text!r} names several members: {shown}",
            hint="Give the member id, or platform:value (e.g. github:fawei).",
        )
    by_name = sorted(
        session.execute(
            select(Member.id).where(func.lower(Member.display_name) == text.lower())
        ).scalars()
    )
    if len(by_name) == 1:
        return int(by_name[0])
    if len(by_name) > 1:
        raise UsageError(
            f"{text!r} is the name of several members: {', '.join(map(str, by_name))}",
            hint="Give the member id.",
        )
    raise UsageError(
        f"no member or identity {text!r}",
        hint="See `commops members list --search TEXT`.",
    )


def _identities_matching(session: Session, text: str) -> list[Identity]:
    low = text.lower()
    idents = list(
        session.execute(
            select(Identity).where(func.lower(Identity.value) == low).order_by(Identity.id)
        ).scalars()
    )
    if not idents and ":" in text:
        platform, _, value = text.partition(":")
        idents = list(
            session.execute(
                select(Identity)
                .where(
                    Identity.platform == platform.strip(),
                    func.lower(Identity.value) == value.strip().lower(),
                )
                .order_by(Identity.id)
            ).scalars()
        )
    return idents


def find_identity(session: Session, text: str) -> Identity:
    """The identity a user names: an identity id, a value (case-insensitively), or
    ``platform:value``."""
    text = text.strip()
    if text.isdigit():
        ident = session.get(Identity, int(text))
        if ident is not None:
            return ident
    idents = _identities_matching(session, text)
    if len(idents) == 1:
        return idents[0]
    if len(idents) > 1:
        shown = "; ".join(describe_identity(i) for i in idents[:10])
        raise UsageError(
            f"{text!r} names several identities: {shown}",
            hint="Give the identity id (the #number) or platform:value.",
        )
    raise UsageError(
        f"no identity {text!r}", hint="See `commops members show MEMBER` for identity ids."
    )


# -- merge ------------------------------------------------------------------------------------

_HANDLE_CHARS = re.compile(r"[@\d_.\-+]")


def _handle_like(name: str) -> bool:
    """A login or an e-mail rather than a person's name: one token with digits or
    punctuation, or all lower-case ASCII."""
    text = name.strip()
    if not text:
        return True
    if len(text.split()) > 1:
        return False
    return bool(_HANDLE_CHARS.search(text)) or (text.isascii() and text == text.lower())


def _multi_word(name: str) -> bool:
    words = name.split()
    return len(words) >= 2 and all(any(c.isalpha() for c in w) for w in words)


def _merge_into(
    ch: Changes,
    target: Member,
    others: Sequence[Member],
    *,
    actor: str,
    reason: str | None,
    origin: str,
    force: bool,
    pairs: Sequence[tuple[int, int]] | None = None,
) -> None:
    session = ch.session
    conflicts = _different_between(session, [target.id, *(o.id for o in others)])
    if conflicts and not force:
        shown = "; ".join(
            f"{describe_identity(_ident(session, d.identity_a_id))} and "
            f"{describe_identity(_ident(session, d.identity_b_id))} "
            f"({d.origin}, by {d.actor})"
            for d in conflicts[:5]
        )
        more = f" and {len(conflicts) - 5} more" if len(conflicts) > 5 else ""
        raise UsageError(
            f"members {target.id} and {', '.join(str(o.id) for o in others)} were decided to be "
            f"different people: {shown}{more}",
            hint="Pass --force to remove those decisions and merge anyway (the removal is logged "
            "and undone with the merge).",
        )
    for dec in conflicts:
        ch.remove_decision(dec)
    target_idents = _identities_of(session, [target.id])
    moved: list[int] = []
    links: list[tuple[int, int]] = list(pairs or [])
    for other in others:
        idents = _identities_of(session, [other.id])
        if pairs is None and target_idents and idents:
            links.append((target_idents[0].id, idents[0].id))
        for ident in idents:
            ch.move(ident, target.id)
            moved.append(ident.id)
        ch.move_enrollments(other.id, target.id)
    session.flush()
    # Keep the target's name unless it looks like a login and another has a full name.
    if _handle_like(target.display_name):
        better = next((o.display_name for o in others if _multi_word(o.display_name)), None)
        if better is not None:
            ch.update_member(target, display_name=better)
    origins = dict(target.flag_origins or {})
    for flag, attr in (("bot", "is_bot"), ("staff", "is_staff")):
        if origins.get(flag) == "manual":
            continue
        if any(getattr(o, attr) and (o.flag_origins or {}).get(flag) == "manual" for o in others):
            origins[flag] = "manual"
            ch.update_member(target, **{attr: True})
    if origins != dict(target.flag_origins or {}):
        ch.update_member(target, flag_origins=origins)
    tags = list(target.tags or [])
    for other in others:
        tags.extend(t for t in other.tags or [] if t not in tags)
    if tags != list(target.tags or []):
        ch.update_member(target, tags=tags)
    if not target.notes:
        notes = next((o.notes for o in others if o.notes), None)
        if notes:
            ch.update_member(target, notes=notes)
    for other in others:
        ch.delete_member(other)
    for a, b in links:
        ch.add_decision(a, b, "same", origin=origin, actor=actor, reason=reason)
    ch.mark_stale(moved, actor)


def _ident(session: Session, identity_id: int) -> Identity:
    ident = session.get(Identity, identity_id)
    if ident is None:
        raise UsageError(f"no identity {identity_id}")
    return ident


def merge_members(
    session: Session,
    target_id: int,
    other_ids: Sequence[int],
    *,
    actor: str,
    reason: str | None = None,
    action: str = "merge",
    force: bool = False,
    origin: str = "manual",
) -> IdentityLog:
    """Merge the other members into ``target_id``: every identity and enrollment moves to the
    target, the emptied members are deleted (their rows kept in the log), and a ``same``
    decision links the target to each other member so the resolver keeps the merge. Refuses
    (no change) when a ``different`` decision links them, unless ``force`` removes those."""
    if not other_ids:
        raise UsageError("nothing to merge: name at least one other member")
    others_unique = list(dict.fromkeys(other_ids))
    if target_id in others_unique:
        raise UsageError(f"cannot merge member {target_id} with itself")
    target = _member(session, target_id)
    others = [_member(session, m) for m in others_unique]
    ch = Changes(session)
    _merge_into(ch, target, others, actor=actor, reason=reason, origin=origin, force=force)
    return ch.write(action, actor, reason)


MAX_TAG = 60
MAX_NOTES = 10_000


def _tag(value: str) -> str:
    tag = value.strip().lower()
    if not tag or len(tag) > MAX_TAG or any(c.isspace() or c == "," for c in tag):
        raise UsageError(
            f"tag {value!r}: 1 to {MAX_TAG} characters, no spaces or commas",
            hint="Use words like ambassador, user-committee, speaker.",
        )
    return tag


def update_profile(
    session: Session,
    member_id: int,
    *,
    add_tags: Sequence[str] = (),
    remove_tags: Sequence[str] = (),
    notes: str | None = None,
    actor: str,
    reason: str | None = None,
) -> IdentityLog | None:
    """Tag a member, untag them, or replace their private notes (``notes=""`` clears them).
    Logged like every change of who is who, and undone the same way (``undo``). Returns None
    when nothing changes. Tags are lower-case words; notes are never shown on public pages."""
    member = _member(session, member_id)
    adding = [_tag(t) for t in add_tags]
    removing = {_tag(t) for t in remove_tags}
    tags = [t for t in list(member.tags or []) if t not in removing]
    tags.extend(t for t in dict.fromkeys(adding) if t not in tags)
    values: dict[str, Any] = {"tags": tags}
    if notes is not None:
        if len(notes) > MAX_NOTES:
            raise UsageError(f"notes: at most {MAX_NOTES:,} characters, got {len(notes):,}")
        values["notes"] = notes.strip() or None
    ch = Changes(session)
    ch.update_member(member, **values)
    if ch.empty:
        return None
    return ch.write("profile", actor, reason)


# -- unmerge and split ------------------------------------------------------------------------


def _name_for(idents: Sequence[Identity]) -> str:
    for ident in idents:
        if ident.name and ident.name.strip():
            return ident.name.strip()
    first = idents[0]
    return first.value.split("@", 1)[0] if first.kind == "email" else first.value


def _separate(
    ch: Changes,
    groups: Sequence[Sequence[Identity]],
    *,
    actor: str,
    reason: str | None,
    origin: str = "manual",
) -> None:
    """'different' decisions between every identity of one group and every one of the others,
    replacing any 'same' decision between them."""
    pairs: list[tuple[int, int]] = []
    for gi, group in enumerate(groups):
        for other in groups[gi + 1 :]:
            pairs.extend((a.id, b.id) for a in group for b in other)
    existing = _decisions_for_pairs(ch.session, pairs)
    fresh: list[tuple[int, int]] = []
    for a, b in pairs:
        dec = existing.get(_pair(a, b))
        if dec is not None and dec.decision == "different":
            continue
        if dec is not None:
            ch.remove_decision(dec)
        fresh.append((a, b))
    ch.add_decisions(fresh, "different", origin=origin, actor=actor, reason=reason)


def _decisions_for_pairs(
    session: Session, pairs: Sequence[tuple[int, int]]
) -> dict[tuple[int, int], IdentityDecision]:
    wanted = {_pair(a, b) for a, b in pairs}
    ids = sorted({i for p in wanted for i in p})
    found: dict[tuple[int, int], IdentityDecision] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        for dec in session.execute(
            select(IdentityDecision).where(IdentityDecision.identity_a_id.in_(chunk))
        ).scalars():
            key = (dec.identity_a_id, dec.identity_b_id)
            if key in wanted:
                found[key] = dec
    return found


def unmerge(
    session: Session,
    identity_ids: Sequence[int],
    *,
    actor: str,
    reason: str | None = None,
) -> IdentityLog:
    """Move the listed identities (all of one member, which keeps at least one identity) to one
    new member, with ``different`` decisions between them and the identities left behind so
    that the resolver never merges them again."""
    if not identity_ids:
        raise UsageError("nothing to unmerge: name at least one identity")
    idents = [_ident(session, i) for i in dict.fromkeys(identity_ids)]
    owners = sorted({i.member_id for i in idents})
    if len(owners) > 1:
        shown = "; ".join(f"{describe_identity(i)} is on member {i.member_id}" for i in idents)
        raise UsageError(
            f"the identities are on different members: {shown}",
            hint="Unmerge the identities of one member at a time.",
        )
    member = _member(session, owners[0])
    all_idents = _identities_of(session, [member.id])
    moving = {i.id for i in idents}
    left = [i for i in all_idents if i.id not in moving]
    if not left:
        if len(all_idents) == 1:
            raise UsageError(
                f"{describe_identity(idents[0])} is alone on member {member.id} "
                f"({member.display_name}): it was never merged, there is nothing to unmerge"
            )
        raise UsageError(
            f"these are all the identities of member {member.id} ({member.display_name}): "
            "a member keeps at least one",
            hint=f"To give every identity a member of its own: commops members split {member.id}",
        )
    ch = Changes(session)
    new = ch.new_member(_name_for(idents), is_bot=all(i.is_bot for i in idents))
    for ident in idents:
        ch.move(ident, new.id)
    session.flush()
    _separate(ch, [idents, left], actor=actor, reason=reason)
    return ch.write("unmerge", actor, reason)


def split_member(
    session: Session, member_id: int, *, actor: str, reason: str | None = None
) -> IdentityLog:
    """Give every identity of the member a member of its own (the first keeps the member), with
    ``different`` decisions between all of them."""
    member = _member(session, member_id)
    idents = _identities_of(session, [member.id])
    if len(idents) < 2:
        raise UsageError(
            f"member {member.id} ({member.display_name}) has {len(idents)} identity: "
            "there is nothing to split"
        )
    ch = Changes(session)
    for ident in idents[1:]:
        new = ch.new_member(_name_for([ident]), is_bot=ident.is_bot)
        ch.move(ident, new.id)
    session.flush()
    _separate(ch, [[i] for i in idents], actor=actor, reason=reason)
    return ch.write("split", actor, reason)


# -- suggestions ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IdentityView:
    id: int
    platform: str
    kind: str
    value: str
    name: str | None
    member_id: int
    is_bot: bool = False
    verified: bool = False
    activities: int = 0

    @classmethod
    def of(cls, ident: Identity, activities: int = 0) -> IdentityView:
        return cls(
            ident.id,
            ident.platform,
            ident.kind,
            ident.value,
            ident.name,
            ident.member_id,
            bool(ident.is_bot),
            bool(ident.verified),
            activities,
        )


@dataclass(frozen=True, slots=True)
class SuggestionView:
    id: int
    score: float
    status: str
    evidence: list[Any]
    identity_a: IdentityView
    identity_b: IdentityView
    member_a: int
    member_a_name: str
    member_b: int
    member_b_name: str
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None


def list_suggestions(
    session: Session, status: str = "open", limit: int | None = None
) -> list[SuggestionView]:
    """Suggestions with this status (``all`` for every one), best score first."""
    if status != "all" and status not in SUGGESTION_STATUSES:
        raise UsageError(
            f"unknown suggestion status {status!r}",
            hint=f"Use one of {', '.join(SUGGESTION_STATUSES)} or all.",
        )
    stmt = select(MergeSuggestion).order_by(MergeSuggestion.score.desc(), MergeSuggestion.id)
    if status != "all":
        stmt = stmt.where(MergeSuggestion.status == status)
    if limit is not None:
        stmt = stmt.limit(limit)
    suggs = list(session.execute(stmt).scalars())
    ids = {i for s in suggs for i in (s.identity_a_id, s.identity_b_id)}
    idents = {
        i.id: i for i in session.execute(select(Identity).where(Identity.id.in_(ids))).scalars()
    }
    names = dict(
        session.execute(
            select(Member.id, Member.display_name).where(
                Member.id.in_({i.member_id for i in idents.values()})
            )
        ).all()
    )
    out = []
    for s in suggs:
        a, b = idents[s.identity_a_id], idents[s.identity_b_id]
        out.append(
            SuggestionView(
                s.id,
                s.score,
                s.status,
                list(s.evidence or []),
                IdentityView.of(a),
                IdentityView.of(b),
                a.member_id,
                names.get(a.member_id, ""),
                b.member_id,
                names.get(b.member_id, ""),
                s.created_at,
                s.decided_at,
                s.decided_by,
            )
        )
    return out


def _open_suggestion(session: Session, suggestion_id: int) -> MergeSuggestion:
    sugg = session.get(MergeSuggestion, suggestion_id)
    if sugg is None:
        raise UsageError(
            f"no suggestion {suggestion_id}", hint="See `commops members suggestions --status all`."
        )
    if sugg.status != "open":
        when = f" on {sugg.decided_at:%Y-%m-%d %H:%M}" if sugg.decided_at else ""
        by = f" by {sugg.decided_by}" if sugg.decided_by else ""
        raise StateConflict(f"suggestion {suggestion_id} is already {sugg.status}{by}{when}")
    return sugg


def _stale(ch: Changes, sugg: MergeSuggestion, actor: str, action: str) -> IdentityLog | None:
    a, b = _ident(ch.session, sugg.identity_a_id), _ident(ch.session, sugg.identity_b_id)
    if a.member_id != b.member_id:
        return None
    ch.set_suggestion(sugg, "stale", actor)
    return ch.write(
        "stale",
        actor,
        f"{action} of suggestion {sugg.id}: both identities are already member {a.member_id}",
    )


def accept_suggestion(
    session: Session, suggestion_id: int, *, actor: str, reason: str | None = None
) -> IdentityLog:
    """Merge the members of the suggestion's two identities (a ``same`` decision, origin
    ``suggestion``). When both identities are already one member, the suggestion is marked
    ``stale`` instead and the entry's action is ``stale``."""
    sugg = _open_suggestion(session, suggestion_id)
    ch = Changes(session)
    stale = _stale(ch, sugg, actor, "accept")
    if stale is not None:
        return stale
    a, b = _ident(session, sugg.identity_a_id), _ident(session, sugg.identity_b_id)
    target_id, other_id = sorted((a.member_id, b.member_id))
    ch.set_suggestion(sugg, "accepted", actor)  # before the merge marks open ones stale
    _merge_into(
        ch,
        _member(session, target_id),
        [_member(session, other_id)],
        actor=actor,
        reason=reason,
        origin="suggestion",
        force=False,
        pairs=[(a.id, b.id)],
    )
    return ch.write("accept", actor, reason)


def reject_suggestion(
    session: Session, suggestion_id: int, *, actor: str, reason: str | None = None
) -> IdentityLog:
    """Remember that the two identities are different people (origin ``suggestion``): the
    resolver never suggests or merges them again. Marked ``stale`` when they are one member
    already (unmerge them instead)."""
    sugg = _open_suggestion(session, suggestion_id)
    ch = Changes(session)
    stale = _stale(ch, sugg, actor, "reject")
    if stale is not None:
        return stale
    ch.add_decision(
        sugg.identity_a_id,
        sugg.identity_b_id,
        "different",
        origin="suggestion",
        actor=actor,
        reason=reason,
    )
    ch.set_suggestion(sugg, "rejected", actor)
    return ch.write("reject", actor, reason)


# -- undo -------------------------------------------------------------------------------------


def _later_entry(
    session: Session, after_id: int, touches: Callable[[dict[str, Any]], bool]
) -> IdentityLog | None:
    """The newest entry after ``after_id`` still in force whose changes ``touches``."""
    rows = session.execute(
        select(IdentityLog)
        .where(
            IdentityLog.id > after_id,
            IdentityLog.undone_by_id.is_(None),
            IdentityLog.undo_of_id.is_(None),
        )
        .order_by(IdentityLog.id.desc())
    ).scalars()
    for entry in rows:
        if touches(entry.changes or {}):
            return entry
    return None


def _touches_identity(ident_id: int) -> Callable[[dict[str, Any]], bool]:
    return lambda c: any(m[0] == ident_id for m in c.get("moves", []))


def _touches_suggestion(sid: int) -> Callable[[dict[str, Any]], bool]:
    return lambda c: any(x[0] == sid for x in c.get("suggestions", []))


def _removes_decision(did: int) -> Callable[[dict[str, Any]], bool]:
    return lambda c: any(r["id"] == did for r in c.get("decisions_removed", []))


def _adds_decision(did: int) -> Callable[[dict[str, Any]], bool]:
    return lambda c: did in c.get("decisions_added", [])


def _touches_enrollment(eid: int) -> Callable[[dict[str, Any]], bool]:
    return lambda c: any(x[0] == eid for x in c.get("enrollments_moved", []))


def _touches_member(member_id: int) -> Callable[[dict[str, Any]], bool]:
    def check(c: dict[str, Any]) -> bool:
        return (
            any(member_id in (m[1], m[2]) for m in c.get("moves", []))
            or member_id in c.get("members_created", [])
            or any(d["id"] == member_id for d in c.get("members_deleted", []))
            or any(u["id"] == member_id for u in c.get("members_updated", []))
            or any(member_id in (e[1], e[2]) for e in c.get("enrollments_moved", []))
        )

    return check


def _blocked(
    session: Session,
    entry: IdentityLog,
    what: str,
    touches: Callable[[dict[str, Any]], bool],
) -> UsageError:
    later = _later_entry(session, entry.id, touches)
    if later is not None:
        return UsageError(
            f"cannot undo log entry {entry.id}: {what} since, by log entry {later.id} "
            f"({later.action} by {later.actor})",
            hint=f"Undo {later.id} first: commops members undo {later.id}",
        )
    return UsageError(
        f"cannot undo log entry {entry.id}: {what} since, outside the identity log",
    )


def undo(session: Session, log_id: int, *, actor: str, reason: str | None = None) -> IdentityLog:
    """Reverse a log entry: suggestion statuses restored, added decisions deleted (removed
    ones restored), member fields reverted, deleted members re-created with their ids,
    enrollments and identities moved back, created members deleted once empty. Refuses (no
    change) when a later entry still in force changed the same things; it names that entry."""
    entry = session.get(IdentityLog, log_id)
    if entry is None:
        raise UsageError(f"no log entry {log_id}", hint="See `commops members log`.")
    if entry.undo_of_id is not None:
        raise UsageError(
            f"log entry {log_id} is itself the undo of entry {entry.undo_of_id}: "
            "an undo cannot be undone",
            hint=f"Make the change again instead (entry {entry.undo_of_id} was "
            f"{_action_of(session, entry.undo_of_id)}).",
        )
    if entry.undone_by_id is not None:
        raise StateConflict(f"log entry {log_id} was already undone by entry {entry.undone_by_id}")
    if entry.action in ("enroll", "unenroll"):
        raise UsageError(
            f"log entry {log_id} ({entry.action}) cannot be undone",
            hint="Use `commops orgs unenroll ID` or `commops orgs enroll` (docs/organizations.md).",
        )
    c: dict[str, Any] = entry.changes or {}
    ch = Changes(session)

    # Check everything before changing anything.
    suggs: list[tuple[MergeSuggestion, str]] = []
    for sid, before, after in reversed(c.get("suggestions", [])):
        sugg = session.get(MergeSuggestion, sid)
        if sugg is None:
            continue  # the resolver dropped it; nothing to restore
        if sugg.status != after:
            raise _blocked(
                session,
                entry,
                f"suggestion {sid} changed from {after} to {sugg.status}",
                _touches_suggestion(sid),
            )
        suggs.append((sugg, before))
    added: list[IdentityDecision] = []
    for did in c.get("decisions_added", []):
        dec = session.get(IdentityDecision, did)
        if dec is not None and dec.created_at > entry.created_at:
            dec = None  # SQLite gave the deleted decision's id to a newer one
        if dec is None:
            later = _later_entry(
                session,
                entry.id,
                _removes_decision(did),
            )
            if later is not None:
                raise _blocked(
                    session,
                    entry,
                    f"decision {did} was removed",
                    _removes_decision(did),
                )
            continue
        added.append(dec)
    added_ids = {d.id for d in added}
    removed: list[dict[str, Any]] = []
    for row in c.get("decisions_removed", []):
        if session.get(Identity, row["identity_a_id"]) is None:
            continue
        if session.get(Identity, row["identity_b_id"]) is None:
            continue
        lo, hi = row["identity_a_id"], row["identity_b_id"]
        now = ch.decision_between(lo, hi)
        if now is not None and now.id not in added_ids:
            raise _blocked(
                session,
                entry,
                f"a new decision {now.id} links identities {lo} and {hi}",
                _adds_decision(now.id),
            )
        removed.append(row)
    deleted_ids = {d["id"] for d in c.get("members_deleted", [])}
    updates: list[tuple[int, dict[str, Any]]] = []
    for upd in c.get("members_updated", []):
        mid = upd["id"]
        member = session.get(Member, mid)
        if member is None:
            if mid in deleted_ids:
                updates.append((mid, upd["before"]))
                continue
            raise _blocked(session, entry, f"member {mid} was deleted", _touches_member(mid))
        for name, value in upd["after"].items():
            if _jsonable(getattr(member, name)) != value:
                raise _blocked(
                    session, entry, f"member {mid}'s {name} changed", _touches_member(mid)
                )
        updates.append((mid, upd["before"]))
    pos: dict[int, int] = {}
    for ident_id, frm, to in reversed(c.get("moves", [])):
        if ident_id not in pos:
            ident = session.get(Identity, ident_id)
            if ident is None:
                raise UsageError(
                    f"cannot undo log entry {entry.id}: identity {ident_id} no longer exists"
                )
            pos[ident_id] = ident.member_id
        if pos[ident_id] != to:
            raise _blocked(
                session,
                entry,
                f"identity {ident_id} moved from member {to} to member {pos[ident_id]}",
                _touches_identity(ident_id),
            )
        pos[ident_id] = frm
    enr_moves: list[tuple[Enrollment, int]] = []
    enr_pos: dict[int, int] = {}
    for enr_id, frm, to in reversed(c.get("enrollments_moved", [])):
        enr = session.get(Enrollment, enr_id)
        if enr is None:
            continue  # deleted since (an affiliation removed): nothing to move back
        enr_pos.setdefault(enr_id, enr.member_id)
        if enr_pos[enr_id] != to:
            raise _blocked(
                session,
                entry,
                f"enrollment {enr_id} moved from member {to} to member {enr_pos[enr_id]}",
                _touches_enrollment(enr_id),
            )
        enr_pos[enr_id] = frm
        enr_moves.append((enr, frm))

    # Members the entry moved things away from that are gone since (a later entry or an undo
    # deleted them): re-created from the newest copy the log kept.
    vanished: dict[int, dict[str, Any]] = {}
    deleted_here = {d["id"] for d in c.get("members_deleted", [])}
    sources = {m[1] for m in c.get("moves", [])} | {e[1] for e in c.get("enrollments_moved", [])}
    for mid in sorted(sources - deleted_here):
        member = session.get(Member, mid)
        if member is not None and member.created_at <= entry.created_at:
            continue
        row = _deleted_row(session, mid, entry)
        if row is None:
            raise UsageError(
                f"cannot undo log entry {entry.id}: member {mid} no longer exists and the log "
                "holds no copy of it"
            )
        vanished[mid] = row

    # Apply, in the reverse order of the original.
    for sugg, before in suggs:
        ch.set_suggestion(sugg, before, actor)
    for dec in added:
        ch.remove_decision(dec)
    for row in removed:
        dec = IdentityDecision(
            identity_a_id=row["identity_a_id"],
            identity_b_id=row["identity_b_id"],
            decision=row["decision"],
            origin=row["origin"],
            actor=row["actor"],
            reason=row.get("reason"),
            created_at=datetime.fromisoformat(row["created_at"]),
        )
        if session.get(IdentityDecision, row["id"]) is None:
            dec.id = row["id"]
        session.add(dec)
        session.flush()
        ch.decisions_added.append(dec.id)
    remap: dict[int, int] = {}
    for row in c.get("members_deleted", []):
        remap[row["id"]] = _recreate(ch, row)
    for mid, row in vanished.items():
        remap[mid] = _recreate(ch, row)
    for mid, before in updates:
        member = session.get(Member, remap.get(mid, mid))
        if member is not None:
            ch.update_member(member, **before)
    for enr, frm in enr_moves:
        target = remap.get(frm, frm)
        ch.enrollments_moved.append([enr.id, enr.member_id, target])
        enr.member_id = target
    session.flush()
    touched: set[int] = set()
    for ident_id, frm, _to in reversed(c.get("moves", [])):
        ident = _ident(session, ident_id)
        touched.add(ident.member_id)
        ch.move(ident, remap.get(frm, frm))
    session.flush()
    if entry.action == "auto-merge":
        # Taking back what the resolver did is a decision: it must not merge them again on its
        # next full run. Each member given back stays apart from the one it was merged into.
        back: dict[tuple[int, int], int] = {}  # (member given back, target) -> an identity
        for ident_id, frm, to in c.get("moves", []):
            back.setdefault((remap.get(frm, frm), to), ident_id)
        for (given_back, to), ident_id in sorted(back.items()):
            keep = session.execute(
                select(Identity.id).where(Identity.member_id == to).order_by(Identity.id).limit(1)
            ).scalar_one_or_none()
            if keep is not None and given_back != to:
                ch.add_decision(
                    ident_id,
                    keep,
                    "different",
                    origin="manual",
                    actor=actor,
                    reason=reason or f"undo of automatic merge {entry.id}",
                )
    for mid in [*c.get("members_created", []), *sorted(touched)]:
        if session.get(Member, mid) is not None:
            _drop_with_enrollments(ch, mid)
    undo_entry = ch.write("undo", actor, reason)
    undo_entry.undo_of_id = entry.id
    entry.undone_by_id = undo_entry.id
    session.flush()
    return undo_entry


def _recreate(ch: Changes, row: dict[str, Any]) -> int:
    """A deleted member back from its row in the log, under its old id when that is free
    (SQLite may have given it to a new member since)."""
    member = Member(
        display_name=row["display_name"],
        is_bot=row["is_bot"],
        is_staff=row["is_staff"],
        tags=list(row.get("tags") or []),
        notes=row.get("notes"),
        created_at=datetime.fromisoformat(row["created_at"]),
        flag_origins=dict(row.get("flag_origins") or {}),
    )
    if ch.session.get(Member, row["id"]) is None:
        member.id = row["id"]
    ch.session.add(member)
    ch.session.flush()
    ch.members_created.append(member.id)
    return member.id


def _deleted_row(session: Session, member_id: int, entry: IdentityLog) -> dict[str, Any] | None:
    """The newest copy the log kept of a member deleted after ``entry`` (by any entry, undo
    entries included)."""
    rows = session.execute(
        select(IdentityLog).where(IdentityLog.id > entry.id).order_by(IdentityLog.id.desc())
    ).scalars()
    for later in rows:
        for row in (later.changes or {}).get("members_deleted", []):
            if row["id"] == member_id and datetime.fromisoformat(row["created_at"]) <= (
                entry.created_at
            ):
                return dict(row)
    return None


def _drop_with_enrollments(ch: Changes, member_id: int) -> None:
    left = ch.session.execute(
        select(func.count()).select_from(Identity).where(Identity.member_id == member_id)
    ).scalar_one()
    if left:
        return
    ch.session.execute(delete(Enrollment).where(Enrollment.member_id == member_id))
    member = ch.session.get(Member, member_id)
    if member is not None:
        ch.delete_member(member)


def _action_of(session: Session, log_id: int) -> str:
    entry = session.get(IdentityLog, log_id)
    return "?" if entry is None else f"a {entry.action} by {entry.actor}"


# -- reading: members, details, the log -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MemberSummary:
    id: int
    display_name: str
    is_bot: bool
    is_staff: bool
    identities: int
    activities: int
    handles: list[str]


@dataclass(frozen=True, slots=True)
class EnrollmentView:
    id: int
    organization_id: int
    organization: str
    start_date: date | None
    end_date: date | None
    origin: str | None


@dataclass(frozen=True, slots=True)
class LogView:
    id: int
    action: str
    actor: str
    reason: str | None
    created_at: datetime
    undone_by_id: int | None
    undo_of_id: int | None
    summary: str
    changes: dict[str, Any]

    @classmethod
    def of(cls, entry: IdentityLog) -> LogView:
        changes = dict(entry.changes or {})
        return cls(
            entry.id,
            entry.action,
            entry.actor,
            entry.reason,
            entry.created_at,
            entry.undone_by_id,
            entry.undo_of_id,
            summarize(changes),
            changes,
        )


@dataclass(frozen=True, slots=True)
class MemberDetail:
    id: int
    display_name: str
    is_bot: bool
    is_staff: bool
    flag_origins: dict[str, Any]
    tags: list[Any]
    notes: str | None
    created_at: datetime
    identities: list[IdentityView]
    enrollments: list[EnrollmentView]
    decisions: list[dict[str, Any]]
    log: list[LogView] = field(default_factory=list)

    @property
    def activities(self) -> int:
        return sum(i.activities for i in self.identities)


def summarize(changes: dict[str, Any]) -> str:
    """``2 identities moved, 1 member deleted, 1 decision added``: a log entry in a line."""
    parts = []
    labels = (
        ("moves", "identity moved", "identities moved"),
        ("members_created", "member created", "members created"),
        ("members_deleted", "member deleted", "members deleted"),
        ("members_updated", "member updated", "members updated"),
        ("enrollments_moved", "enrollment moved", "enrollments moved"),
        ("decisions_added", "decision added", "decisions added"),
        ("decisions_removed", "decision removed", "decisions removed"),
        ("suggestions", "suggestion changed", "suggestions changed"),
    )
    for key, one, many in labels:
        n = len(changes.get(key, []))
        if n:
            parts.append(f"{n} {one if n == 1 else many}")
    return ", ".join(parts) or "no change"


def _activity_counts(session: Session, identity_ids: Sequence[int]) -> dict[int, int]:
    counts: dict[int, int] = {}
    ids = list(identity_ids)
    for i in range(0, len(ids), 500):
        rows = session.execute(
            select(Activity.actor_identity_id, func.count())
            .where(Activity.actor_identity_id.in_(ids[i : i + 500]))
            .group_by(Activity.actor_identity_id)
        )
        counts.update({int(k): int(n) for k, n in rows})
    return counts


def list_members(
    session: Session,
    query: str | None = None,
    limit: int | None = 50,
    *,
    include_bots: bool = True,
    include_staff: bool = True,
) -> list[MemberSummary]:
    """Members, most active first; ``query`` matches the display name or any identity's value or
    name (case-insensitively)."""
    acts = (
        select(Activity.actor_identity_id.label("iid"), func.count().label("n"))
        .group_by(Activity.actor_identity_id)
        .subquery()
    )
    n_acts = func.coalesce(func.sum(acts.c.n), 0)
    stmt = (
        select(
            Member.id,
            Member.display_name,
            Member.is_bot,
            Member.is_staff,
            func.count(Identity.id),
            n_acts,
        )
        .join(Identity, Identity.member_id == Member.id)
        .outerjoin(acts, acts.c.iid == Identity.id)
        .group_by(Member.id, Member.display_name, Member.is_bot, Member.is_staff)
        .order_by(n_acts.desc(), Member.id)
    )
    if query:
        q = query.strip().lower()
        matching = select(Identity.member_id).where(
            or_(
                func.lower(Identity.value).contains(q, autoescape=True),
                func.lower(Identity.name).contains(q, autoescape=True),
            )
        )
        stmt = stmt.where(
            or_(
                func.lower(Member.display_name).contains(q, autoescape=True),
                Member.id.in_(matching),
            )
        )
    if not include_bots:
        stmt = stmt.where(Member.is_bot.is_(False))
    if not include_staff:
        stmt = stmt.where(Member.is_staff.is_(False))
    if limit is not None:
        stmt = stmt.limit(limit)
    rows = session.execute(stmt).all()
    handles: dict[int, list[str]] = defaultdict(list)
    ids = [int(r[0]) for r in rows]
    for i in range(0, len(ids), 500):
        for mid, platform, value in session.execute(
            select(Identity.member_id, Identity.platform, Identity.value)
            .where(Identity.member_id.in_(ids[i : i + 500]))
            .order_by(Identity.id)
        ):
            handles[int(mid)].append(f"{platform}:{value}")
    return [
        MemberSummary(
            int(mid), name, bool(bot), bool(staff), int(n_ident), int(n), handles[int(mid)]
        )
        for mid, name, bot, staff, n_ident, n in rows
    ]


def member_detail(session: Session, member_id: int, *, log_limit: int = 20) -> MemberDetail:
    member = _member(session, member_id)
    idents = _identities_of(session, [member.id])
    counts = _activity_counts(session, [i.id for i in idents])
    enrollments = [
        EnrollmentView(e.id, org.id, org.name, e.start_date, e.end_date, e.origin)
        for e, org in session.execute(
            select(Enrollment, Organization)
            .join(Organization, Organization.id == Enrollment.organization_id)
            .where(Enrollment.member_id == member.id)
            .order_by(Enrollment.start_date, Enrollment.id)
        )
    ]
    ids = [i.id for i in idents]
    decisions: list[dict[str, Any]] = []
    if ids:
        for dec in session.execute(
            select(IdentityDecision)
            .where(
                or_(
                    IdentityDecision.identity_a_id.in_(ids),
                    IdentityDecision.identity_b_id.in_(ids),
                )
            )
            .order_by(IdentityDecision.id)
        ).scalars():
            decisions.append(_decision_row(dec))
    return MemberDetail(
        id=member.id,
        display_name=member.display_name,
        is_bot=bool(member.is_bot),
        is_staff=bool(member.is_staff),
        flag_origins=dict(member.flag_origins or {}),
        tags=list(member.tags or []),
        notes=member.notes,
        created_at=member.created_at,
        identities=[IdentityView.of(i, counts.get(i.id, 0)) for i in idents],
        enrollments=enrollments,
        decisions=decisions,
        log=log_entries(session, member.id, limit=log_limit),
    )


# How many recent entries a member's log looks through: the JSON is searched in Python.
LOG_SCAN = 20_000


def log_entries(session: Session, member_id: int | None = None, limit: int = 50) -> list[LogView]:
    """The newest log entries, or the newest that touch a member (its id, or one of its
    identities, in the entry's changes; among the last ``LOG_SCAN`` entries)."""
    stmt = select(IdentityLog).order_by(IdentityLog.id.desc())
    if member_id is None:
        return [LogView.of(e) for e in session.execute(stmt.limit(limit)).scalars()]
    idents = set(
        session.execute(select(Identity.id).where(Identity.member_id == member_id)).scalars()
    )
    touches = _touches_member(member_id)
    out: list[LogView] = []
    for entry in session.execute(stmt.limit(LOG_SCAN)).scalars():
        c = entry.changes or {}
        if touches(c) or any(m[0] in idents for m in c.get("moves", [])):
            out.append(LogView.of(entry))
            if len(out) >= limit:
                break
    return out
