"""Turning the identities a connector reports into stored identities and members.

Each new identity gets a member of its own, unless the source itself says who it is: identities
whose canonical e-mail (a git ``.mailmap``) is the same belong to one member, and the canonical
identity is stored too. Full cross-platform resolution builds on this.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from commops.clock import utcnow
from commops.connectors.base import IdentityRef
from commops.identity.bots import BotRules
from commops.store.models import Identity, Member

Key = tuple[str, str, str]


class IdentityRegistry:
    def __init__(self, session: Session, bots: BotRules) -> None:
        self.session = session
        self.bots = bots
        self.ids: dict[Key, int] = {}
        self.groups: dict[tuple[str, str], int] = {}  # (platform, canonical email) -> member id
        self.created = 0

    def id_of(self, ref: IdentityRef) -> int:
        return self.ids[ref.key]

    def ensure(self, refs: Iterable[IdentityRef]) -> None:
        wanted: dict[Key, IdentityRef] = {}
        for ref in refs:
            if ref.key not in self.ids and ref.key not in wanted:
                wanted[ref.key] = ref
        if not wanted:
            return
        self._load(wanted.keys())
        now = utcnow()
        new: list[tuple[IdentityRef, Identity]] = []
        for key, ref in wanted.items():
            if key in self.ids:
                continue
            member_id = self._group_member(ref)
            if member_id is None:
                member = Member(
                    display_name=self._display_name(ref),
                    is_bot=self._is_bot(ref),
                    is_staff=False,
                    tags=[],
                    created_at=now,
                )
                self.session.add(member)
                self.session.flush([member])
                member_id = member.id
                if ref.canonical and ref.canonical[1]:
                    self.groups[(ref.platform, ref.canonical[1])] = member_id
                    canon = IdentityRef(ref.platform, "email", ref.canonical[1], ref.canonical[0])
                    if canon.key not in self.ids:
                        self._load([canon.key])
                    if canon.key not in self.ids:
                        new.append((canon, self._identity(canon, member_id, now)))
                        self.ids[canon.key] = -1
                elif ref.kind == "email":
                    self.groups[(ref.platform, ref.value)] = member_id
            new.append((ref, self._identity(ref, member_id, now)))
            self.ids[key] = -1
        self.session.add_all([ident for _, ident in new])
        self.session.flush([ident for _, ident in new])
        for ref, ident in new:
            self.ids[ref.key] = ident.id
        self.created += len(new)

    def _identity(self, ref: IdentityRef, member_id: int, now: datetime) -> Identity:
        return Identity(
            platform=ref.platform, kind=ref.kind, value=ref.value, name=ref.name,
            verified=False, is_bot=self._is_bot(ref), member_id=member_id, created_at=now,
        )

    def _is_bot(self, ref: IdentityRef) -> bool:
        return self.bots.is_bot(
            name=ref.name,
            email=ref.value if ref.kind == "email" else None,
            username=ref.value if ref.kind == "username" else None,
        )

    @staticmethod
    def _display_name(ref: IdentityRef) -> str:
        if ref.canonical and ref.canonical[0]:
            return ref.canonical[0]
        return ref.name or (ref.value.split("@", 1)[0] if ref.kind == "email" else ref.value)

    def _group_member(self, ref: IdentityRef) -> int | None:
        email = ref.canonical[1] if ref.canonical and ref.canonical[1] else (
            ref.value if ref.kind == "email" else None)
        if email is None:
            return None
        group = (ref.platform, email)
        if group in self.groups:
            return self.groups[group]
        row = self.session.execute(
            select(Identity.member_id).where(
                Identity.platform == ref.platform, Identity.kind == "email", Identity.value == email
            )
        ).first()
        if row is not None:
            self.groups[group] = row[0]
            return int(row[0])
        return None

    def _load(self, keys: Iterable[Key]) -> None:
        by_pk: dict[tuple[str, str], list[str]] = defaultdict(list)
        for platform, kind, value in keys:
            by_pk[(platform, kind)].append(value)
        for (platform, kind), values in by_pk.items():
            for i in range(0, len(values), 500):
                rows = self.session.execute(
                    select(Identity.id, Identity.value).where(
                        Identity.platform == platform,
                        Identity.kind == kind,
                        Identity.value.in_(values[i : i + 500]),
                    )
                )
                for ident_id, value in rows:
                    self.ids[(platform, kind, value)] = ident_id
