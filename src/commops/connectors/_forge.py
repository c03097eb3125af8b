"""What the code-forge connectors (GitHub, Gitee) and other API connectors share: their time
format and the ``ORG`` / ``OWNER/REPO[,OWNER/REPO...]`` locations of ``commops add``."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

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


def prepare_forge(
    kind: str,
    location: str,
    options: dict[str, Any],
    *,
    default_api: str,
    api_hint: str,
    name_prefix: str = "",
) -> tuple[str, str, dict[str, Any]]:
    """``Connector.prepare`` of a forge: the location checked and normalised, ``api_url`` kept
    only when it is not the default, ``token_env`` kept, and a default source name (the owner,
    ``OWNER-repos`` for several repositories of one owner, else the first repository)."""
    owner, repos = parse_location(kind, location)
    api_url = str(options.get("api_url") or default_api).rstrip("/")
    if not re.match(r"^https?://", api_url):
        raise SourceError(
            f"{kind} source {location!r}: api_url {api_url!r} is not an http(s) URL",
            hint=api_hint,
        )
    prepared: dict[str, Any] = {}
    if api_url != default_api:
        prepared["api_url"] = api_url
    if options.get("token_env"):
        prepared["token_env"] = str(options["token_env"])
    owners = sorted({r.split("/")[0] for r in repos})
    if owner is not None:
        name = owner
    elif len(repos) > 1 and len(owners) == 1:
        name = f"{owners[0]}-repos"
    else:
        name = repos[0]
    return name_prefix + name, owner if owner is not None else ",".join(repos), prepared
