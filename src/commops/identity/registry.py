"""Turning the identities a connector reports into stored identities and members.

Each new identity gets a member of its own, unless the source itself says who it is: identities
whose canonical e-mail (a git ``.mailmap``) is the same belong to one member, and the canonical
identity is stored too. Full cross-platform resolution builds on this.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from commops.clock import utcnow
from commops.connectors.base import IdentityRef
from commops.identity.bots import BotRules
from commops.store.models import Identity, Member

Key = tuple[str, str, str]
Group = tuple[str, str]  # (platform, e-mail that names the person)


# identities.value, identities.name and members.display_name are String(500); PostgreSQL
# enforces it. Longer text (a garbled trailer) is cut rather than failing the whole sync.
MAX_TEXT = 500


def _fit(ref: IdentityRef) -> IdentityRef:
    canon = ref.canonical
    if (
        len(ref.value) <= MAX_TEXT
        and (ref.name is None or len(ref.name) <= MAX_TEXT)
        and (canon is None or max(len(canon[0]), len(canon[1])) <= MAX_TEXT)
    ):
        return ref
    return IdentityRef(
        ref.platform,
        ref.kind,
        ref.value[:MAX_TEXT],
        None if ref.name is None else ref.name[:MAX_TEXT],
        None if canon is None else (canon[0][:MAX_TEXT], canon[1][:MAX_TEXT]),
    )


def _group(ref: IdentityRef) -> Group | None:
    if ref.canonical and ref.canonical[1]:
        return (ref.platform, ref.canonical[1])
    if ref.kind == "email":
        return (ref.platform, ref.value)
    return None


class IdentityRegistry:
    def __init__(self, session: Session, bots: BotRules) -> None:
        self.session = session
        self.bots = bots
        self.ids: dict[Key, int] = {}
        self.groups: dict[Group, int] = {}  # -> member id
        self.names: dict[int, set[str]] = {}  # identity id -> every name seen with it
        self.renamed: dict[int, set[str]] = {}  # identity id -> names to add to ``names``
        self.created = 0

    def id_of(self, ref: IdentityRef) -> int:
        found = self.ids.get(ref.key)
        return found if found is not None else self.ids[_fit(ref).key]

    def ensure(self, refs: Iterable[IdentityRef]) -> None:
        """Make sure every ref is stored; afterwards ``id_of`` answers for each of them."""
        wanted: dict[Key, IdentityRef] = {}
        extra: dict[Key, set[str]] = {}  # more names of a wanted key in this batch
        for ref in map(_fit, refs):
            known = self.ids.get(ref.key)
            if known is not None:
                if ref.name and ref.name not in self.names[known]:
                    self.names[known].add(ref.name)
                    self.renamed.setdefault(known, set()).add(ref.name)
                continue
            first = wanted.setdefault(ref.key, ref)
            if ref.name and first.name != ref.name:
                extra.setdefault(ref.key, set()).add(ref.name)
            if ref.canonical and ref.canonical[1]:
                canon = IdentityRef(ref.platform, "email", ref.canonical[1], ref.canonical[0])
                if canon.key not in self.ids:
                    wanted.setdefault(canon.key, canon)
        if not wanted:
            return
        self._load_ids(wanted)
        missing = [ref for key, ref in wanted.items() if key not in self.ids]
        if missing:
            self._create(missing)
        for key, ref in wanted.items():
            known = self.ids[key]
            for name in (ref.name, *sorted(extra.get(key, ()))):
                if name and name not in self.names[known]:
                    self.names[known].add(name)
                    self.renamed.setdefault(known, set()).add(name)

    def _create(self, missing: list[IdentityRef]) -> None:
        self._load_groups({g for ref in missing if (g := _group(ref)) is not None})
        now = utcnow()
        # Plain dicts and Core INSERT ... RETURNING: one round of inserts per batch without an
        # ORM object per row (a large import creates hundreds of thousands of people).
        by_group: dict[Group, dict[str, Any]] = {}
        alone: dict[Key, dict[str, Any]] = {}
        for ref in missing:
            group = _group(ref)
            if group is None:
                alone[ref.key] = self._member_row(ref, now)
            elif group not in self.groups:
                if group not in by_group:
                    by_group[group] = self._member_row(ref, now)
                elif ref.canonical is not None:  # the mailmap's name wins over a raw one
                    by_group[group]["display_name"] = self._display_name(ref)
        member_rows = [*by_group.values(), *alone.values()]
        member_ids = self._insert_returning(Member, member_rows)
        for row, member_id in zip(member_rows, member_ids, strict=True):
            row["id"] = member_id
        for group, row in by_group.items():
            self.groups[group] = row["id"]
        ident_rows = []
        for ref in missing:
            group = _group(ref)
            ident_rows.append(
                {
                    "platform": ref.platform,
                    "kind": ref.kind,
                    "value": ref.value,
                    "name": ref.name,
                    "verified": False,
                    "is_bot": self._is_bot(ref),
                    "member_id": alone[ref.key]["id"] if group is None else self.groups[group],
                    "created_at": now,
                }
            )
        ident_ids = self._insert_returning(Identity, ident_rows)
        for ref, ident_id in zip(missing, ident_ids, strict=True):
            self.ids[ref.key] = ident_id
            self.names[ident_id] = {ref.name} if ref.name else set()
        self.created += len(ident_ids)

    def flush_names(self) -> int:
        """Store the other names identities were seen with (before the caller commits).
        A name seen again later is one more piece of evidence for the resolver."""
        if not self.renamed:
            return 0
        ids = sorted(self.renamed)
        stored: dict[int, tuple[str | None, list[str]]] = {}
        for i in range(0, len(ids), 500):
            for ident_id, name, names in self.session.execute(
                select(Identity.id, Identity.name, Identity.names).where(
                    Identity.id.in_(ids[i : i + 500])
                )
            ):
                stored[ident_id] = (name, list(names or []))
        params = []
        for ident_id, new in self.renamed.items():
            name, names = stored[ident_id]
            add = sorted(n for n in new if n != name and n not in names)
            if add:
                # Bounded: a handle used under hundreds of spellings keeps the first 50.
                params.append({"iid": ident_id, "names": (names + add)[:50], "resolved": None})
        self.renamed.clear()
        if params:
            table = cast(Table, Identity.__table__)
            self.session.execute(
                update(table)
                .where(table.c.id == bindparam("iid"))
                .values(names=bindparam("names"), resolved_at=bindparam("resolved")),
                params,
            )
        return len(params)

    def _insert_returning(
        self, model: type[Member] | type[Identity], rows: list[dict[str, Any]]
    ) -> list[int]:
        if not rows:
            return []
        table = cast(Table, model.__table__)
        stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        return [row[0] for row in self.session.execute(stmt, rows)]

    def _member_row(self, ref: IdentityRef, now: datetime) -> dict[str, Any]:
        is_bot = self._is_bot(ref)
        return {
            "display_name": self._display_name(ref),
            "is_bot": is_bot,
            "flag_origins": {"bot": "rule"} if is_bot else {},
            "is_staff": False,
            "tags": [],
            "notes": None,
            "created_at": now,
        }

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

    def _load_ids(self, keys: Iterable[Key]) -> None:
        by_pk: dict[tuple[str, str], list[str]] = defaultdict(list)
        for platform, kind, value in keys:
            by_pk[(platform, kind)].append(value)
        for (platform, kind), values in by_pk.items():
            for i in range(0, len(values), 500):
                rows = self.session.execute(
                    select(
                        Identity.id,
                        Identity.value,
                        Identity.member_id,
                        Identity.name,
                        Identity.names,
                    ).where(
                        Identity.platform == platform,
                        Identity.kind == kind,
                        Identity.value.in_(values[i : i + 500]),
                    )
                )
                for ident_id, value, member_id, name, names in rows:
                    self.ids[(platform, kind, value)] = ident_id
                    self.names[ident_id] = {name, *(names or [])} - {None}
                    if kind == "email":
                        self.groups.setdefault((platform, value), member_id)

    def _load_groups(self, groups: set[Group]) -> None:
        todo = [g for g in groups if g not in self.groups]
        self._load_ids([(platform, "email", email) for platform, email in todo])
