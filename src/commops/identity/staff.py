"""Staff: the people paid to work on the project, whose activity community metrics leave out.

A member is staff (``apply_staff_flags``) when:

- origin ``organization``: it has a current enrollment (started on or before today or with no
  start, ending today or later or with no end) in an organization named in
  ``[staff] organizations`` (names compared case-insensitively);
- origin ``list``: one of its identities is named in ``[staff] identities``: ``alice@example.com``
  (an e-mail identity on any platform, any case), ``github:alice`` (that platform's identity with
  that value, any case) or ``alice`` (a username identity on any platform, any case).

A flag set by hand (``set_flag``, origin ``manual``) is never changed by detection; ``clear_flag``
hands it back to detection. Every change is written to the identity log, so ``undo`` reverts it.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from commops.clock import utcnow
from commops.config import Config
from commops.errors import ConfigError, UsageError
from commops.identity.audit import Changes
from commops.identity.bots import (
    AUTO_ORIGINS as BOT_ORIGINS,
)
from commops.identity.bots import (
    MEMBER_KEY_PLATFORM,
    FlagStats,
    apply_member_flags,
    bot_plan,
    write_flag_log,
)
from commops.store.models import Enrollment, Identity, IdentityLog, Member, Organization

__all__ = [
    "FLAGS",
    "STAFF_ORIGINS",
    "StaffEntry",
    "apply_staff_flags",
    "clear_flag",
    "parse_staff_identity",
    "set_flag",
    "staff_plan",
]

FLAGS = ("bot", "staff")
STAFF_ORIGINS = frozenset({"list", "organization"})
_PLATFORM = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,39}$")


@dataclass(frozen=True, slots=True)
class StaffEntry:
    """One ``[staff] identities`` entry: ``platform`` None means any platform; ``kind`` None
    means any kind."""

    text: str
    platform: str | None
    kind: str | None
    value: str  # lower case

    def condition(self) -> Any:
        cond = [func.lower(Identity.value) == self.value]
        if self.platform is not None:
            cond.append(Identity.platform == self.platform)
        else:
            cond.append(Identity.platform != MEMBER_KEY_PLATFORM)
        if self.kind is not None:
            cond.append(Identity.kind == self.kind)
        return and_(*cond)

    def matches(self, platform: str, kind: str, value: str) -> bool:
        return (
            value.lower() == self.value
            and (self.platform is None or platform == self.platform)
            and (self.kind is None or kind == self.kind)
        )


def parse_staff_identity(text: str, index: int = 0) -> StaffEntry:
    """``alice@example.com``, ``github:alice`` or ``alice``."""
    raw = text.strip()
    where = f"[staff] identities[{index}] {text!r}"
    if not raw:
        raise ConfigError(f"{where}: empty")
    head, sep, tail = raw.partition(":")
    if sep and "@" not in head:
        platform, value = head.strip().lower(), tail.strip()
        if not _PLATFORM.match(platform):
            raise ConfigError(
                f"{where}: {platform!r} is not a platform name",
                hint='Write "platform:login" (github:alice), an e-mail, or a bare login.',
            )
        if not value:
            raise ConfigError(f"{where}: no login after {platform}:")
        return StaffEntry(raw, platform, None, value.lower())
    if "@" in raw:
        local, _, domain = raw.rpartition("@")
        if not local or not domain or " " in raw:
            raise ConfigError(f"{where}: not an e-mail address")
        return StaffEntry(raw, None, "email", raw.lower())
    if any(c.isspace() for c in raw):
        raise ConfigError(
            f"{where}: a login has no spaces",
            hint='Name people by e-mail, "platform:login" or login, not by display name.',
        )
    return StaffEntry(raw, None, "username", raw.lower())


def staff_plan(
    session: Session,
    config: Config,
    member_ids: Collection[int] | None = None,
    today: date | None = None,
) -> tuple[dict[int, tuple[str, str]], list[str]]:
    """Members who are staff by list or organization: member id -> (origin, why), and the
    configuration entries that name nobody. Changes nothing."""
    today = today or utcnow().date()
    auto: dict[int, tuple[str, str]] = {}
    unmatched: list[str] = []
    wanted = {name.strip().casefold(): name for name in config.staff_organizations}
    if wanted:
        orgs = {
            org_id: name
            for org_id, name in session.execute(select(Organization.id, Organization.name))
            if name.strip().casefold() in wanted
        }
        found = {name.strip().casefold() for name in orgs.values()}
        unmatched += [
            f"[staff] organizations: {name!r} (no such organization)"
            for key, name in wanted.items()
            if key not in found
        ]
        if orgs:
            stmt = (
                select(Enrollment.member_id, Organization.name)
                .join(Organization, Organization.id == Enrollment.organization_id)
                .where(
                    Enrollment.organization_id.in_(list(orgs)),
                    or_(Enrollment.start_date.is_(None), Enrollment.start_date <= today),
                    or_(Enrollment.end_date.is_(None), Enrollment.end_date >= today),
                )
                .order_by(Enrollment.member_id, Organization.name)
            )
            for member_id, org_name in session.execute(stmt):
                auto.setdefault(int(member_id), ("organization", f"enrolled in {org_name}"))
    entries = [parse_staff_identity(t, i) for i, t in enumerate(config.staff_identities)]
    if entries:
        hit: set[str] = set()
        stmt2 = select(Identity.member_id, Identity.platform, Identity.kind, Identity.value).where(
            or_(*(e.condition() for e in entries))
        )
        for member_id, platform, kind, value in session.execute(stmt2.order_by(Identity.id)):
            for e in entries:
                if e.matches(platform, kind, value):
                    hit.add(e.text)
                    # the list wins over an organization: it is the more deliberate statement
                    if auto.get(int(member_id), ("",))[0] != "list":
                        auto[int(member_id)] = (
                            "list",
                            f"{platform}:{value} is in [staff] identities ({e.text})",
                        )
        unmatched += [
            f"[staff] identities: {e.text!r} (no such identity)"
            for e in entries
            if e.text not in hit
        ]
    if member_ids is not None:
        keep = set(member_ids)
        auto = {m: v for m, v in auto.items() if m in keep}
    return auto, unmatched


def apply_staff_flags(
    session: Session,
    config: Config,
    *,
    actor: str = "detector",
    reason: str | None = None,
    today: date | None = None,
) -> FlagStats:
    """Set ``is_staff`` from ``[staff] organizations`` and ``[staff] identities``; one
    ``staff-detect`` log entry holds every change (undo reverts it)."""
    auto, unmatched = staff_plan(session, config, today=today)
    stats = FlagStats("staff", unmatched=unmatched)
    ch = Changes(session)
    apply_member_flags(session, ch, "staff", auto, STAFF_ORIGINS, stats)
    entry = write_flag_log(ch, "staff-detect", actor, reason)
    stats.log_id = entry.id if entry is not None else None
    return stats


# -- by hand ----------------------------------------------------------------------------------


def _check(session: Session, member_id: int, flag: str) -> Member:
    if flag not in FLAGS:
        raise UsageError(f"no flag {flag!r}: use bot or staff")
    member = session.get(Member, member_id)
    if member is None:
        raise UsageError(f"no member {member_id}", hint="See `commops members list`.")
    return member


def _label(flag: str, value: bool) -> str:
    word = "a bot" if flag == "bot" else "staff"
    return word if value else f"not {word}"


def set_flag(
    session: Session,
    member_id: int,
    flag: str,
    value: bool,
    *,
    actor: str,
    reason: str | None = None,
) -> IdentityLog:
    """Mark a member as a bot / staff (or as not one) by hand: origin ``manual``, which
    detection never overrides. Logged as ``bot-manual`` / ``staff-manual``."""
    member = _check(session, member_id, flag)
    column = "is_bot" if flag == "bot" else "is_staff"
    origins = dict(member.flag_origins or {})
    if origins.get(flag) == "manual" and bool(getattr(member, column)) == value:
        raise UsageError(
            f"member {member_id} ({member.display_name}) is already marked "
            f"{_label(flag, value)} by hand: nothing changed"
        )
    origins[flag] = "manual"
    ch = Changes(session)
    ch.update_member(member, **{column: value, "flag_origins": origins})
    return ch.write(f"{flag}-manual", actor, reason)


def clear_flag(
    session: Session,
    member_id: int,
    flag: str,
    *,
    config: Config,
    actor: str,
    reason: str | None = None,
    today: date | None = None,
) -> IdentityLog:
    """Hand a member's flag back to automatic detection: the ``manual`` origin is removed and
    the flag is set to what detection says now. Logged as ``bot-auto`` / ``staff-auto``."""
    member = _check(session, member_id, flag)
    column = "is_bot" if flag == "bot" else "is_staff"
    origins = dict(member.flag_origins or {})
    if origins.get(flag) != "manual":
        raise UsageError(
            f"member {member_id} ({member.display_name})'s {flag} flag is not set by hand: "
            "detection already decides it",
            hint="`commops members detect` runs detection now.",
        )
    if flag == "bot":
        want = bot_plan(session, config, [member_id]).members.get(member_id)
        auto_origins = BOT_ORIGINS
    else:
        want = staff_plan(session, config, [member_id], today=today)[0].get(member_id)
        auto_origins = STAFF_ORIGINS
    del origins[flag]
    value = want is not None
    if want is not None:
        assert want[0] in auto_origins
        origins[flag] = want[0]
    ch = Changes(session)
    ch.update_member(member, **{column: value, "flag_origins": origins})
    return ch.write(f"{flag}-auto", actor, reason)
