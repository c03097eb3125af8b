"""CSV and JSON Lines: activities, identities and members from anything without an API.

Three documented schemas (docs/connectors/csv.md): ``activities`` rows become activities through
the sync runner (the ``tabular`` connector reads the file given to ``commops import csv``);
``identities`` and ``members`` rows cannot be expressed as activities and are written by
``import_people`` in one transaction. Every file is validated as a whole first: each bad row is
reported as ``FILE:LINE: field: reason`` and nothing is written unless the file is valid (or the
caller asked to skip the bad rows). Importing the same file twice changes nothing.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from commops.clock import utcnow
from commops.connectors.base import (
    ActivityRecord,
    Change,
    Connector,
    Cursor,
    IdentityRef,
    Status,
    SyncContext,
    Upsert,
)
from commops.errors import SourceError
from commops.identity.audit import Changes
from commops.identity.bots import BotRules
from commops.store.db import Store
from commops.store.models import Identity, Member

KINDS = ("activities", "identities", "members")
FORMATS = ("csv", "jsonl")
BATCH = 500

# The all-contributors emoji key (https://allcontributors.org/docs/en/emoji-key).
CONTRIBUTION_TYPES = frozenset(
    {
        "a11y",
        "audio",
        "blog",
        "bug",
        "business",
        "code",
        "content",
        "data",
        "design",
        "doc",
        "eventOrganizing",
        "example",
        "financial",
        "fundingFinding",
        "ideas",
        "infra",
        "maintenance",
        "mentoring",
        "platform",
        "plugin",
        "projectManagement",
        "promotion",
        "question",
        "research",
        "review",
        "security",
        "talk",
        "test",
        "tool",
        "translation",
        "tutorial",
        "userTesting",
        "video",
    }
)

ACTIVITY_FIELDS = (
    "kind",
    "occurred_at",
    "actor_platform",
    "actor_username",
    "actor_email",
    "actor_name",
    "item_key",
    "channel",
    "target",
    "parent",
    "title",
    "contribution_type",
    "attributes",
)
IDENTITY_FIELDS = ("platform", "kind", "value", "name", "member_key")
MEMBER_FIELDS = ("member_key", "display_name", "is_bot", "is_staff", "tags")
FIELDS = {"activities": ACTIVITY_FIELDS, "identities": IDENTITY_FIELDS, "members": MEMBER_FIELDS}
REQUIRED = {
    "activities": ("kind", "occurred_at", "actor_platform"),
    "identities": ("platform", "kind", "value"),
    "members": ("member_key",),
}

# A member key is kept as an identity on this pseudo-platform, so that a later file (or the
# members file) finds the member the key was given to.
MEMBER_KEY_PLATFORM = "member_key"

_KIND = re.compile(r"^[a-z][a-z0-9_-]*:[a-z0-9_][a-z0-9_.-]*$")
_PLATFORM = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,39}$")
_TRUE = {"true", "yes", "1", "y"}
_FALSE = {"false", "no", "0", "n", ""}
_LIMITS = {"item_key": 300, "channel": 300, "target": 300, "parent": 300, "value": 500}


@dataclass(frozen=True, slots=True)
class RowError:
    file: str
    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.reason}"


@dataclass
class Parsed:
    """A validated file: good rows (line, value) and every problem found."""

    file: str
    kind: str
    rows: list[tuple[int, Any]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    total: int = 0


def file_format(path: Path, fmt: str | None) -> str:
    if fmt is not None:
        if fmt not in FORMATS:
            raise SourceError(f"{path}: unknown format {fmt!r}", hint="Use csv or jsonl.")
        return fmt
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix == ".csv":
        return "csv"
    raise SourceError(
        f"{path}: cannot tell the format from the extension {suffix or '(none)'!r}",
        hint="Name the file .csv or .jsonl, or pass --format csv|jsonl.",
    )


def _text(path: Path) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SourceError(f"{path}: no such file") from None
    except OSError as exc:
        raise SourceError(f"{path}: cannot read the file ({exc.strerror})") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise SourceError(
            f"{path}: not UTF-8 at byte {exc.start} (line {line}): "
            f"{raw[exc.start : exc.start + 1]!r} cannot be decoded",
            hint="Save the file as UTF-8 (e.g. `iconv -f GB18030 -t UTF-8`).",
        ) from None


def _records(
    path: Path, fmt: str, kind: str, parsed: Parsed
) -> Iterator[tuple[int, dict[str, Any]]]:
    text = _text(path)
    name = str(path)
    if fmt == "jsonl":
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                parsed.errors.append(RowError(name, number, "(line)", f"not JSON: {exc.msg}"))
                continue
            if not isinstance(obj, dict):
                parsed.errors.append(RowError(name, number, "(line)", "not a JSON object"))
                continue
            yield number, obj
        return
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as exc:
        raise SourceError(f"{path}:1: the CSV header cannot be read ({exc})") from None
    header = [h.strip() for h in header]
    unknown = [h for h in header if h not in FIELDS[kind]]
    for h in unknown:
        parsed.errors.append(RowError(name, 1, h, f"unknown column for {kind}"))
    missing = [f for f in REQUIRED[kind] if f not in header]
    for f in missing:
        parsed.errors.append(RowError(name, 1, f, "required column is missing"))
    if kind == "activities" and not {"actor_username", "actor_email", "actor_name"} & set(header):
        parsed.errors.append(
            RowError(name, 1, "actor", "needs an actor_username, actor_email or actor_name column")
        )
    if unknown or missing:
        return
    at = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            parsed.errors.append(RowError(name, at, "(line)", f"not CSV: {exc}"))
            return
        if cells and any(c.strip() for c in cells):
            if len(cells) != len(header):
                parsed.errors.append(
                    RowError(
                        name, at, "(line)", f"{len(cells)} cells, the header has {len(header)}"
                    )
                )
            else:
                yield at, dict(zip(header, cells, strict=True))
        at = reader.line_num + 1


def _str(row: dict[str, Any], key: str) -> str | None:
    value = row.get(key)
    if value is None:
        return None
    if isinstance(value, dict | list):
        raise ValueError("must be text, not a JSON " + type(value).__name__)
    if isinstance(value, bool):
        value = "true" if value else "false"
    text = str(value).strip()
    return text or None


def _when(text: str) -> tuple[datetime, str | None]:
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO 8601 date or time") from None
    if when.tzinfo is None:
        return when, None
    offset = when.strftime("%z")
    return when.astimezone(UTC).replace(tzinfo=None), f"{offset[:3]}:{offset[3:]}"


def _bool(row: dict[str, Any], key: str) -> bool | None:
    value = row.get(key)
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text == "":
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"{value!r} is not true or false")


def _check_lengths(row: dict[str, str | None]) -> None:
    for key, limit in _LIMITS.items():
        value = row.get(key)
        if value is not None and len(value) > limit:
            raise _FieldError(key, f"longer than {limit} characters")


class _FieldError(ValueError):
    def __init__(self, field_name: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field_name
        self.reason = reason


def _get(row: dict[str, Any], key: str) -> str | None:
    try:
        return _str(row, key)
    except ValueError as exc:
        raise _FieldError(key, str(exc)) from None


def _activity(row: dict[str, Any]) -> ActivityRecord:
    unknown = [k for k in row if k not in ACTIVITY_FIELDS]
    if unknown:
        raise _FieldError(unknown[0], "unknown field for activities")
    values = {k: _get(row, k) for k in ACTIVITY_FIELDS if k != "attributes"}
    for key in REQUIRED["activities"]:
        if values[key] is None:
            raise _FieldError(key, "required")
    kind = values["kind"] or ""
    if len(kind) > 60 or not _KIND.match(kind):
        raise _FieldError(
            "kind", f"{kind!r} is not a namespaced kind such as wechat:message or event:attended"
        )
    platform = values["actor_platform"] or ""
    if not _PLATFORM.match(platform):
        raise _FieldError("actor_platform", f"{platform!r} is not a platform name like wechat")
    try:
        occurred_at, offset = _when(values["occurred_at"] or "")
    except ValueError as exc:
        raise _FieldError("occurred_at", str(exc)) from None
    username, email, name = values["actor_username"], values["actor_email"], values["actor_name"]
    if username is None and email is None and name is None:
        raise _FieldError("actor", "needs actor_username, actor_email or actor_name")
    if email is not None and "@" not in email:
        raise _FieldError("actor_email", f"{email!r} is not an e-mail address")
    ctype = values["contribution_type"]
    if ctype is not None and ctype not in CONTRIBUTION_TYPES:
        raise _FieldError(
            "contribution_type", f"{ctype!r} is not in the all-contributors vocabulary"
        )
    raw_attrs = row.get("attributes")
    attributes: Any = {}
    if isinstance(raw_attrs, dict):
        attributes = raw_attrs
    elif raw_attrs not in (None, ""):
        try:
            attributes = json.loads(str(raw_attrs))
        except json.JSONDecodeError as exc:
            raise _FieldError("attributes", f"not JSON: {exc.msg}") from None
        if not isinstance(attributes, dict):
            raise _FieldError("attributes", "must be a JSON object")
    _check_lengths(values)
    if offset is not None:
        attributes = {**attributes, "utc_offset": offset}
    if username is not None:
        # The e-mail (if any) is the person's canonical address: stored and tied to one member.
        actor = IdentityRef(
            platform, "username", username, name, (name or "", email) if email else None
        )
    elif email is not None:
        actor = IdentityRef(platform, "email", email.lower(), name)
    else:
        actor = IdentityRef(platform, "name", name or "", name)
    item_key = values["item_key"]
    if item_key is None:
        content = {k: v for k, v in values.items() if v is not None}
        content["attributes"] = attributes
        digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
        item_key = "row:" + digest[:32]
    return ActivityRecord(
        item_key=item_key,
        kind=kind,
        occurred_at=occurred_at,
        actor=actor,
        channel=values["channel"],
        target=values["target"],
        parent=values["parent"],
        title=values["title"],
        contribution_type=ctype,
        attributes=attributes,
    )


@dataclass(frozen=True, slots=True)
class IdentityRow:
    platform: str
    kind: str
    value: str
    name: str | None
    member_key: str | None


def _identity(row: dict[str, Any]) -> IdentityRow:
    unknown = [k for k in row if k not in IDENTITY_FIELDS]
    if unknown:
        raise _FieldError(unknown[0], "unknown field for identities")
    values = {k: _get(row, k) for k in IDENTITY_FIELDS}
    for key in REQUIRED["identities"]:
        if values[key] is None:
            raise _FieldError(key, "required")
    platform, kind, value = values["platform"] or "", values["kind"] or "", values["value"] or ""
    if not _PLATFORM.match(platform) or platform == MEMBER_KEY_PLATFORM:
        raise _FieldError("platform", f"{platform!r} is not a platform name like wechat")
    if kind not in ("username", "email", "name"):
        raise _FieldError("kind", f"{kind!r} is not username, email or name")
    if kind == "email":
        if "@" not in value:
            raise _FieldError("value", f"{value!r} is not an e-mail address")
        value = value.lower()
    _check_lengths(values)
    return IdentityRow(platform, kind, value, values["name"], values["member_key"])


@dataclass(frozen=True, slots=True)
class MemberRow:
    member_key: str
    display_name: str | None
    is_bot: bool | None
    is_staff: bool | None
    tags: tuple[str, ...] | None


def _member(row: dict[str, Any]) -> MemberRow:
    unknown = [k for k in row if k not in MEMBER_FIELDS]
    if unknown:
        raise _FieldError(unknown[0], "unknown field for members")
    key = _get(row, "member_key")
    if key is None:
        raise _FieldError("member_key", "required")
    flags: dict[str, bool | None] = {}
    for name in ("is_bot", "is_staff"):
        try:
            flags[name] = _bool(row, name)
        except ValueError as exc:
            raise _FieldError(name, str(exc)) from None
    raw = row.get("tags")
    tags: tuple[str, ...] | None
    if raw is None or raw == "":
        tags = None
    elif isinstance(raw, list):
        if not all(isinstance(t, str) for t in raw):
            raise _FieldError("tags", "must be a list of text")
        tags = tuple(t.strip() for t in raw if t.strip())
    elif isinstance(raw, str):
        tags = tuple(t.strip() for t in re.split(r"[;,]", raw) if t.strip())
    else:
        raise _FieldError("tags", "must be text separated by ; or a JSON list")
    display_name = _get(row, "display_name")
    if display_name is not None and len(display_name) > 500:
        raise _FieldError("display_name", "longer than 500 characters")
    if len(key) > 500:
        raise _FieldError("member_key", "longer than 500 characters")
    return MemberRow(key, display_name, flags["is_bot"], flags["is_staff"], tags)


_PARSERS = {"activities": _activity, "identities": _identity, "members": _member}


def parse_file(path: Path, kind: str, fmt: str | None = None) -> Parsed:
    """Read and validate the whole file. Raises ``SourceError`` only when the file as a whole
    cannot be read (missing, not UTF-8, unknown format); row problems are in ``errors``."""
    if kind not in KINDS:
        raise SourceError(f"{path}: unknown kind {kind!r}", hint=f"Kinds: {', '.join(KINDS)}")
    parsed = Parsed(str(path), kind)
    parser = _PARSERS[kind]
    for line, row in _records(path, file_format(path, fmt), kind, parsed):
        parsed.total += 1
        try:
            parsed.rows.append((line, parser(row)))
        except _FieldError as exc:
            parsed.errors.append(RowError(str(path), line, exc.field, exc.reason))
    _check_duplicates(parsed)
    parsed.errors.sort(key=lambda e: e.line)
    return parsed


def _check_duplicates(parsed: Parsed) -> None:
    """Rows that would silently replace or contradict an earlier row of the same file."""
    seen: dict[Any, tuple[int, Any]] = {}
    kept: list[tuple[int, Any]] = []
    for line, row in parsed.rows:
        if isinstance(row, ActivityRecord):
            if row.item_key.startswith("row:"):
                kept.append((line, row))  # an identical row: the same activity, counted once
                continue
            key: Any = (row.kind, row.item_key)
            field_name, value = "item_key", f"{row.item_key!r} of kind {row.kind}"
        elif isinstance(row, IdentityRow):
            key = (row.platform, row.kind, row.value)
            field_name, value = "value", f"{row.platform} {row.kind} {row.value!r}"
        else:
            key = row.member_key
            field_name, value = "member_key", repr(row.member_key)
        if key in seen and seen[key][1] != row:
            parsed.errors.append(
                RowError(parsed.file, line, field_name, f"{value} differs from line {seen[key][0]}")
            )
            continue
        seen.setdefault(key, (line, row))
        kept.append((line, row))
    parsed.rows = kept


def invalid_file_error(parsed: Parsed, shown: int = 20) -> SourceError:
    lines = [str(e) for e in parsed.errors[:shown]]
    if len(parsed.errors) > shown:
        lines.append(f"... and {len(parsed.errors) - shown} more")
    return SourceError(
        f"{parsed.file}: {len(parsed.errors)} invalid rows; nothing was imported\n"
        + "\n".join(lines),
        hint="Fix the rows, or pass --skip-invalid to import the valid ones.",
    )


class TabularConnector(Connector):
    """Activities from a CSV or JSON Lines file given to ``commops import csv`` (run-time
    parameters ``file``, ``format``, ``skip_invalid``). ``commops sync`` does not re-read it."""

    kind = "tabular"
    streams = ("activities",)

    @classmethod
    def prepare(cls, location: str, options: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
        path = Path(location).expanduser()
        return path.stem or "import", str(path.resolve()), options

    def read(self, stream: str, cursor: dict[str, Any], ctx: SyncContext) -> Iterator[Change]:
        file = ctx.params.get("file")
        if file is None:
            return  # an import: read only when a file is given
        path = Path(file)
        parsed = parse_file(path, "activities", ctx.params.get("format"))
        if parsed.errors:
            if not ctx.params.get("skip_invalid"):
                raise invalid_file_error(parsed)
            for err in parsed.errors:
                ctx.warn(f"{err} (skipped)")
        ctx.progress(total=len(parsed.rows))
        batch: list[ActivityRecord] = []
        for number, (line, record) in enumerate(parsed.rows, 1):
            batch.append(record)
            if len(batch) >= BATCH or number == len(parsed.rows):
                yield Upsert(batch)
                ctx.progress(advance=len(batch))
                yield Cursor(stream, {"file": str(path.resolve()), "line": line})
                batch = []
        yield Status({"last_file": path.name, "rows": parsed.total, "skipped": len(parsed.errors)})
        yield Cursor(stream, {"file": str(path.resolve()), "done": True})


# -- identities and members ---------------------------------------------------------------------


@dataclass
class PeopleResult:
    file: str
    kind: str
    rows: int = 0
    skipped: int = 0
    identities_added: int = 0
    identities_moved: int = 0
    members_added: int = 0
    members_updated: int = 0


class _People:
    def __init__(self, session: Session, bots: BotRules, result: PeopleResult) -> None:
        self.session = session
        self.bots = bots
        self.result = result
        self.now = utcnow()
        # Moves of existing identities and changes of existing members are logged (action
        # "import") so that `commops members undo` can take them back.
        self.changes = Changes(session)

    def identity(self, platform: str, kind: str, value: str) -> Identity | None:
        return self.session.execute(
            select(Identity).where(
                Identity.platform == platform, Identity.kind == kind, Identity.value == value
            )
        ).scalar_one_or_none()

    def new_member(self, display_name: str, is_bot: bool = False) -> Member:
        member = Member(
            display_name=display_name[:500],
            is_bot=is_bot,
            is_staff=False,
            tags=[],
            created_at=self.now,
        )
        self.session.add(member)
        self.session.flush()
        self.result.members_added += 1
        return member

    def add_identity(
        self, member: Member, platform: str, kind: str, value: str, name: str | None
    ) -> Identity:
        ident = Identity(
            platform=platform,
            kind=kind,
            value=value,
            name=name,
            verified=False,
            is_bot=self.bots.is_bot(
                name=name,
                email=value if kind == "email" else None,
                username=value if kind == "username" else None,
            ),
            member_id=member.id,
            created_at=self.now,
        )
        self.session.add(ident)
        self.session.flush()
        if platform != MEMBER_KEY_PLATFORM:
            self.result.identities_added += 1
        return ident

    def keyed_member(self, key: str, display_name: str) -> Member:
        """The member a key names; a new one (holding the key) the first time."""
        ident = self.identity(MEMBER_KEY_PLATFORM, "username", key)
        if ident is not None:
            member = self.session.get(Member, ident.member_id)
            assert member is not None
            return member
        member = self.new_member(display_name)
        self.add_identity(member, MEMBER_KEY_PLATFORM, "username", key, None)
        return member

    def move(self, ident: Identity, member: Member) -> None:
        if ident.member_id == member.id:
            return
        old = ident.member_id
        self.changes.move(ident, member.id)
        self.result.identities_moved += 1
        self.changes.drop_if_empty(old, enrollments_to=member.id)


def _display(row: IdentityRow) -> str:
    return row.name or (row.value.split("@", 1)[0] if row.kind == "email" else row.value)


def import_people(
    store: Store,
    parsed: Parsed,
    bots: BotRules,
    *,
    skip_invalid: bool = False,
    actor: str | None = None,
) -> PeopleResult:
    """Write a validated identities or members file in one transaction. Identities with the same
    ``member_key`` end up on one member (moved there if they were elsewhere); members rows set
    the name, flags and tags of the member a key names. Running it twice changes nothing.

    Moves of existing identities and changes of existing members are written to the identity
    log (action ``import``, ``actor`` default ``import:<file name>``) and can be undone."""
    if parsed.kind not in ("identities", "members"):
        raise SourceError(f"{parsed.file}: {parsed.kind} are imported through the sync runner")
    if parsed.errors and not skip_invalid:
        raise invalid_file_error(parsed)
    result = PeopleResult(parsed.file, parsed.kind, len(parsed.rows), len(parsed.errors))
    with store.session() as session:
        people = _People(session, bots, result)
        if parsed.kind == "identities":
            _import_identities(people, [row for _, row in parsed.rows])
        else:
            _import_members(people, [row for _, row in parsed.rows])
        if not people.changes.empty:
            people.changes.write(
                "import",
                actor or f"import:{Path(parsed.file).name}",
                f"{parsed.kind} {parsed.file}",
            )
    return result


def _import_identities(people: _People, rows: list[IdentityRow]) -> None:
    groups: dict[str, list[IdentityRow]] = {}
    alone: list[IdentityRow] = []
    for row in rows:
        if row.member_key is None:
            alone.append(row)
        else:
            groups.setdefault(row.member_key, []).append(row)
    for row in alone:
        if people.identity(row.platform, row.kind, row.value) is None:
            member = people.new_member(_display(row))
            people.add_identity(member, row.platform, row.kind, row.value, row.name)
    for key, members_rows in groups.items():
        member = people.keyed_member(key, _display(members_rows[0]))
        for row in members_rows:
            ident = people.identity(row.platform, row.kind, row.value)
            if ident is None:
                people.add_identity(member, row.platform, row.kind, row.value, row.name)
            else:
                people.move(ident, member)


def _import_members(people: _People, rows: list[MemberRow]) -> None:
    for row in rows:
        before = people.result.members_added
        member = people.keyed_member(row.member_key, row.display_name or row.member_key)
        values: dict[str, Any] = {}
        if row.display_name is not None and member.display_name != row.display_name:
            values["display_name"] = row.display_name
        if row.is_bot is not None and member.is_bot != row.is_bot:
            values["is_bot"] = row.is_bot
        if row.is_staff is not None and member.is_staff != row.is_staff:
            values["is_staff"] = row.is_staff
        if row.tags is not None and list(member.tags or []) != list(row.tags):
            values["tags"] = list(row.tags)
        if not values:
            continue
        if people.result.members_added == before:
            people.changes.update_member(member, **values)
            people.result.members_updated += 1
        else:  # a member made by this import: nothing to undo
            for name, value in values.items():
                setattr(member, name, value)
