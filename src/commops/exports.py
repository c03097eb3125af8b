"""Data portability: every activity and identity, as JSON Lines or CSV."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from typing import Any, TextIO

from sqlalchemy import select
from sqlalchemy.orm import aliased

from commops.errors import UsageError
from commops.store.db import Store
from commops.store.models import Activity, Identity, Member, Source

ACTIVITY_CSV_COLUMNS = [
    "uid",
    "source",
    "kind",
    "occurred_at",
    "actor_platform",
    "actor_username",
    "actor_email",
    "actor_name",
    "actor_member_id",
    "object_email",
    "object_username",
    "channel",
    "target",
    "parent",
    "title",
    "contribution_type",
    "attributes",
]


def _person(ident: Identity | None, name: str | None = None) -> dict[str, Any] | None:
    if ident is None:
        return None
    return {
        "platform": ident.platform,
        "username": ident.value if ident.kind == "username" else None,
        "email": ident.value if ident.kind == "email" else None,
        "name": name or ident.name or (ident.value if ident.kind == "name" else None),
        "member_id": ident.member_id,
    }


def iter_activities(store: Store, sources: list[str] | None = None) -> Iterator[dict[str, Any]]:
    actor = aliased(Identity)
    obj = aliased(Identity)
    stmt = (
        select(Activity, Source.name, actor, obj)
        .join(Source, Source.id == Activity.source_id)
        .join(actor, actor.id == Activity.actor_identity_id)
        .outerjoin(obj, obj.id == Activity.object_identity_id)
        .order_by(Activity.id)
        .execution_options(yield_per=5000)
    )
    if sources:
        stmt = stmt.where(Source.name.in_(sources))
    with store.session() as session:
        for act, source_name, a, o in session.execute(stmt):
            attrs = act.attributes or {}
            name = attrs.get("author_name") if act.kind == "git:commit" else None
            yield {
                "uid": act.uid,
                "source": source_name,
                "kind": act.kind,
                "occurred_at": act.occurred_at.isoformat() + "Z",
                "actor": _person(a, name),
                "object": _person(o),
                "channel": act.channel,
                "target": act.target,
                "parent": act.parent,
                "title": act.title,
                "contribution_type": act.contribution_type,
                "attributes": attrs,
            }


def iter_identities(store: Store) -> Iterator[dict[str, Any]]:
    stmt = (
        select(Identity, Member).join(Member, Member.id == Identity.member_id).order_by(Identity.id)
    )
    with store.session() as session:
        for ident, member in session.execute(stmt):
            yield {
                "identity_id": ident.id,
                "platform": ident.platform,
                "kind": ident.kind,
                "value": ident.value,
                "name": ident.name,
                "verified": ident.verified,
                "is_bot": ident.is_bot,
                "member_id": member.id,
                "member_name": member.display_name,
                "member_is_bot": member.is_bot,
            }


def write_jsonl(rows: Iterator[dict[str, Any]], out: TextIO) -> int:
    n = 0
    for row in rows:
        out.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")))
        out.write("\n")
        n += 1
    return n


def write_activities_csv(rows: Iterator[dict[str, Any]], out: TextIO) -> int:
    writer = csv.DictWriter(out, fieldnames=ACTIVITY_CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    n = 0
    for row in rows:
        actor = row["actor"] or {}
        obj = row["object"] or {}
        writer.writerow(
            {
                "uid": row["uid"],
                "source": row["source"],
                "kind": row["kind"],
                "occurred_at": row["occurred_at"],
                "actor_platform": actor.get("platform"),
                "actor_username": actor.get("username"),
                "actor_email": actor.get("email"),
                "actor_name": actor.get("name"),
                "actor_member_id": actor.get("member_id"),
                "object_email": obj.get("email"),
                "object_username": obj.get("username"),
                "channel": row["channel"],
                "target": row["target"],
                "parent": row["parent"],
                "title": row["title"],
                "contribution_type": row["contribution_type"],
                "attributes": json.dumps(row["attributes"], ensure_ascii=False, sort_keys=True),
            }
        )
        n += 1
    return n


def export(store: Store, what: str, fmt: str, out: TextIO, sources: list[str] | None = None) -> int:
    if what == "activities":
        rows = iter_activities(store, sources)
        if fmt == "jsonl":
            return write_jsonl(rows, out)
        if fmt == "csv":
            return write_activities_csv(rows, out)
        raise UsageError(f"--format {fmt!r}: activities export as jsonl or csv")
    if what == "identities":
        if fmt != "jsonl":
            raise UsageError(f"--format {fmt!r}: identities export as jsonl")
        return write_jsonl(iter_identities(store), out)
    raise UsageError(f"cannot export {what!r}: use activities or identities")
