"""The connector contract.

A connector reads one kind of source and yields *changes*; it holds no state of its own. The sync
runner (``commops.sync``) writes the changes in transactions that end at each ``Cursor`` the
connector yields: the items read since the previous cursor and the new cursor are committed
together, so the stored cursor never runs ahead of the stored items. A run that fails midway
keeps what was committed at earlier cursors and nothing after; the next run starts again from
the last stored cursor. Re-reading items that are already stored is harmless, because every
activity has a stable ``uid`` and inserting it twice is a no-op.

Every connector must:

* name its ``kind`` (``git``, ``github``, ...) and the ``streams`` it reads (``commits``, ...);
* give each source item a stable ``item_key`` (a commit sha, an issue number, a post id); one
  item may yield several activities (a commit and its co-authors), told apart by ``discriminator``;
* report times as UTC (``occurred_at`` is a naive ``datetime`` in UTC) and keep the original
  offset in ``attributes`` where the source has one;
* read in ascending update order from an inclusive lower bound (the cursor), so that items at the
  boundary are read again and dropped as duplicates by their uid rather than missed;
* yield ``Cursor`` after the items it covers (as often as is useful: every page is fine), and
  last, with everything the next run needs to read only what is new;
* honour ``ctx.window`` (``commops sync --from/--until``): read that range; the runner does not
  store cursors during such a backfill;
* yield ``Remove`` for stored items that the source no longer has (a rewritten git history), so
  that the store never keeps orphans;
* raise ``SourceError`` or ``SyncError`` with a message that names the source and, where there is
  one, the item (commit, page URL, line) that could not be read, and never a token.

A connector class also says how ``commops add KIND ...`` turns its arguments into a source
(``prepare``), so that the command line needs no per-kind code beyond its options.
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


@dataclass(slots=True)
class Observation:
    """A dated reading of a number the source reports (downloads, pulls, watchers).

    ``kind`` is ``counter`` for a running total read at ``observed_at`` (it may go down or reset:
    stored as read, and flagged), or ``count`` for the amount in the period starting at
    ``observed_at`` (a day of PyPI downloads)."""

    series: str
    observed_at: datetime
    value: int | float
    kind: str = "counter"
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Observe:
    observations: list[Observation]


@dataclass(slots=True)
class Status:
    """Facts about the source the user should see in ``commops sources`` (merged into the
    source's status): which fields a format lacks, what a platform does not offer."""

    value: dict[str, Any]


Change = Upsert | Remove | Observe | Status | Cursor


@dataclass(frozen=True, slots=True)
class Window:
    """A backfill range (``commops sync --from/--until``), both ends inclusive, in UTC."""

    since: datetime | None = None
    until: datetime | None = None

    def contains(self, when: datetime) -> bool:
        return (self.since is None or when >= self.since) and (
            self.until is None or when <= self.until
        )


class SyncContext(Protocol):
    """What the runner offers a connector while it reads."""

    cache_dir: Path
    window: Window | None
    params: dict[str, Any]  # run-time inputs, e.g. the files of `commops import gharchive`

    def secret(self, *names: str) -> str | None:
        """A token from the environment or commops.toml [tokens], first of ``names`` that is
        set. Never store or log it."""
        ...

    def http(self, base_url: str, **kwargs: Any) -> Any:
        """The shared HTTP client (``commops.connectors.http.HttpClient``) for this run."""
        ...

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

    @classmethod
    def prepare(cls, location: str, options: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
        """Check what ``commops add KIND LOCATION`` was given, before anything is stored.

        Returns the default source name, the location as it should be stored and the options.
        Raise ``SourceError`` naming the location when it cannot work."""
        return location, location, options

    @abstractmethod
    def read(self, stream: str, cursor: dict[str, Any], ctx: SyncContext) -> Iterator[Change]:
        """Yield the changes since ``cursor``, then the new ``Cursor``."""


ConnectorFactory = Callable[[SourceInfo], Connector]
