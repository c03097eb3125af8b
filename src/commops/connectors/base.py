"""The connector contract.

A connector reads one kind of source and yields *changes*; it holds no state of its own. The sync
runner (``commops.sync``) writes every change of one run, and the cursor the connector yields
last, in a single transaction: a run that fails midway leaves the store as it was, and the next
run starts again from the previous cursor. Re-reading items that are already stored is harmless,
because every activity has a stable ``uid`` and inserting it twice is a no-op.

Every connector must:

* name its ``kind`` (``git``, ``github``, ...) and the ``streams`` it reads (``commits``, ...);
* give each source item a stable ``item_key`` (a commit sha, an issue number, a post id); one
  item may yield several activities (a commit and its co-authors), told apart by ``discriminator``;
* report times as UTC (``occurred_at`` is a naive ``datetime`` in UTC) and keep the original
  offset in ``attributes`` where the source has one;
* yield ``Remove`` for stored items that the source no longer has (a rewritten git history), so
  that the store never keeps orphans;
* yield ``Cursor`` last, with everything the next run needs to read only what is new;
* raise ``SourceError`` or ``SyncError`` with a message that names the source and, where there is
  one, the item (commit, page URL, line) that could not be read.
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar, Protocol


@dataclass(frozen=True, slots=True)
class IdentityRef:
    """An identity as a source reports it. ``canonical`` is the (name, email) the source itself
    declares for this person (a git ``.mailmap``); identities with the same canonical e-mail are
    attached to the same member."""

    platform: str
    kind: str  # email | username | name
    value: str
    name: str | None = None
    canonical: tuple[str, str] | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.platform, self.kind, self.value)


@dataclass(slots=True)
class ActivityRecord:
    item_key: str
    kind: str
    occurred_at: datetime
    actor: IdentityRef
    discriminator: str = ""
    object: IdentityRef | None = None
    channel: str | None = None
    target: str | None = None
    parent: str | None = None
    title: str | None = None
    contribution_type: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    # Identities the item names that are not its actor (a git committer): stored so they can be
    # resolved, without an activity of their own.
    mentions: tuple[IdentityRef, ...] = ()


@dataclass(slots=True)
class Upsert:
    records: list[ActivityRecord]


@dataclass(slots=True)
class Remove:
    item_keys: list[str]
    reason: str


@dataclass(slots=True)
class Cursor:
    stream: str
    value: dict[str, Any]


Change = Upsert | Remove | Cursor


class SyncContext(Protocol):
    """What the runner offers a connector while it reads."""

    cache_dir: Path

    def known_item_keys(self) -> set[str]:
        """Item keys this source already has in the store."""
        ...

    def warn(self, message: str) -> None: ...

    def progress(
        self, advance: int = 0, total: int | None = None, note: str | None = None
    ) -> None: ...


def activity_uid(source: str, kind: str, item_key: str, discriminator: str = "") -> str:
    """Stable id of an activity: the same source item always gets the same uid."""
    raw = "\x00".join((source, kind, item_key, discriminator)).encode("utf-8", "surrogatepass")
    return hashlib.sha256(raw).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class SourceInfo:
    id: int
    name: str
    kind: str
    location: str
    options: dict[str, Any]


class Connector(ABC):
    kind: ClassVar[str]
    streams: ClassVar[tuple[str, ...]]

    def __init__(self, source: SourceInfo) -> None:
        self.source = source

    @abstractmethod
    def read(self, stream: str, cursor: dict[str, Any], ctx: SyncContext) -> Iterator[Change]:
        """Yield the changes since ``cursor``, then the new ``Cursor``."""


ConnectorFactory = Callable[[SourceInfo], Connector]
