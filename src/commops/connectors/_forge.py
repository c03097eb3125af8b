"""What the code-forge connectors (GitHub, Gitee) and other API connectors share: their time
format and the ``ORG`` / ``OWNER/REPO[,OWNER/REPO...]`` locations of ``commops add``."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from commops.errors import SourceError

_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,99})"
_OWNER = re.compile(rf"^{_NAME}$")
_REPO = re.compile(rf"^{_NAME}/{_NAME}$")


def parse_time(value: str) -> datetime:
    """``2016-02-01T12:13:21Z`` (or with an offset) as a naive UTC datetime."""
    when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if when.tzinfo is not None:
        when = when.astimezone(UTC).replace(tzinfo=None)
    return when


def format_time(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_location(kind: str, location: str) -> tuple[str | None, list[str]]:
    """``OWNER`` (every repository of the organisation or user) or ``OWNER/REPO[,...]``:
    (owner, []) or (None, the repositories, in order, without repeats)."""
    parts = [p.strip() for p in location.split(",") if p.strip()]
    if len(parts) == 1 and _OWNER.match(parts[0]):
        return parts[0], []
    bad = [p for p in parts if not _REPO.match(p)]
    if not parts or bad:
        raise SourceError(
            f"{kind} location {location!r} is not an owner (an organisation or a user) "
            "or a list of OWNER/REPO",
            hint=f"Use `commops add {kind} OWNER` or "
            f"`commops add {kind} OWNER/REPO [OWNER/REPO...]`.",
        )
    return None, list(dict.fromkeys(parts))
