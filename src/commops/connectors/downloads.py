"""Downloads and adoption: dated readings of package downloads, image pulls and release assets.

Each target is ``SERVICE:NAME``:

* ``pypi:NAME`` — daily downloads without mirrors from pypistats.org (``count`` per day);
* ``npm:NAME`` — daily downloads from api.npmjs.org (``count`` per day);
* ``docker:NS/REPO`` — Docker Hub's running ``pull_count`` and ``star_count`` (``counter``);
* ``github-releases:OWNER/REPO`` — ``download_count`` of every release asset (``counter``);
* ``helm:REPO/PACKAGE`` — Artifact Hub's stars and production users (``counter``; Artifact Hub
  publishes no download count).

Daily counts are stored per day, for complete days only (before today, UTC), and a re-read day is
dropped as a duplicate; the cursor keeps the last day read per target. Counters are read once per
sync and stored with the time of the reading; the runner stores a counter that went down as it
was read and flags it ``decreased``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import quote

from commops.clock import utcnow
from commops.connectors.base import (
    Change,
    Connector,
    Cursor,
    Observation,
    Observe,
    Status,
    SyncContext,
    Window,
)
from commops.errors import SourceError

STREAM = "downloads"
SERVICES: dict[str, str] = {
    "pypi": "pypistats",
    "npm": "npm",
    "docker": "docker",
    "github-releases": "github",
    "helm": "artifacthub",
}
ENDPOINTS: dict[str, str] = {
    "pypistats": "https://pypistats.org",
    "npm": "https://api.npmjs.org",
    "docker": "https://hub.docker.com",
    "github": "https://api.github.com",
    "artifacthub": "https://artifacthub.io",
}
NPM_DAYS = 365  # one request per year of history (the API allows at most 18 months)
NPM_FIRST_DAYS = 540  # how far back a first sync reads

_NAMES = {
    "pypi": re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$"),
    "npm": re.compile(r"^(@[a-z0-9][a-z0-9._~-]*/)?[a-z0-9][a-z0-9._~-]*$"),
    "docker": re.compile(r"^([a-z0-9][a-z0-9._-]*/)?[a-z0-9][a-z0-9._-]*$"),
    "github-releases": re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+$"),
    "helm": re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$"),
}
_EXAMPLES = "pypi:NAME npm:NAME docker:NS/REPO github-releases:OWNER/REPO helm:REPO/PACKAGE"


def parse_target(target: str) -> tuple[str, str]:
    service, _, name = target.partition(":")
    service = service.strip().lower()
    name = name.strip()
    if service not in _NAMES:
        raise SourceError(
            f"downloads target {target!r}: unknown service {service!r}",
            hint=f"Targets: {_EXAMPLES}",
        )
    if service == "docker" and "/" not in name:
        name = f"library/{name}"  # official images
    if service == "pypi":
        name = re.sub(r"[-_.]+", "-", name).lower()  # PEP 503
    if not _NAMES[service].match(name):
        raise SourceError(
            f"downloads target {target!r}: {name!r} is not a {service} name",
            hint=f"Targets: {_EXAMPLES}",
        )
    return service, name


def _day(value: Any, where: str) -> date:
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise SourceError(f"{where}: {value!r} is not a date") from None


def _number(value: Any, where: str) -> int | float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SourceError(f"{where}: expected a number, got {value!r}")
    return value


class DownloadsConnector(Connector):
    kind = "downloads"
    streams = (STREAM,)

    @classmethod
    def prepare(cls, location: str, options: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
        targets = [t for t in re.split(r"[,\s]+", location) if t]
        if not targets:
            raise SourceError("downloads: no target given", hint=f"Targets: {_EXAMPLES}")
        parsed = [parse_target(t) for t in targets]
        endpoints = dict(options.get("endpoints") or {})
        for service in endpoints:
            if service not in ENDPOINTS:
                raise SourceError(
                    f"downloads: unknown endpoint {service!r}",
                    hint=f"Endpoints: {', '.join(ENDPOINTS)}",
                )
        location = ",".join(f"{s}:{n}" for s, n in parsed)
        default = "downloads" if len(parsed) > 1 else f"{parsed[0][0]}:{parsed[0][1]}"
        return default, location, {**options, "endpoints": endpoints}

    def _base(self, service: str) -> str:
        endpoints = self.source.options.get("endpoints") or {}
        return str(endpoints.get(SERVICES[service]) or ENDPOINTS[SERVICES[service]]).rstrip("/")

    def read(self, stream: str, cursor: dict[str, Any], ctx: SyncContext) -> Iterator[Change]:
        targets = [parse_target(t) for t in self.source.location.split(",") if t]
        done = dict(cursor)
        ctx.progress(total=len(targets))
        now = utcnow()
        for service, name in targets:
            key = f"{service}:{name}"
            # A backfill reads its window whatever the cursor says.
            since = _day(done[key], key) if key in done and ctx.window is None else None
            if service == "pypi":
                observations, last = self._pypi(name, since, now, ctx)
            elif service == "npm":
                observations, last = self._npm(name, since, now, ctx)
            elif service == "docker":
                observations, last = self._docker(name, now, ctx), None
            elif service == "github-releases":
                observations, last = self._github(name, now, ctx), None
            else:
                observations, last = self._helm(name, now, ctx), None
            if observations:
                yield Observe(observations)
            if last is not None:
                done[key] = last.isoformat()
            ctx.progress(advance=1, note=key)
            yield Cursor(stream, dict(done))
        yield Status({"targets": len(targets), "last_reading": now.isoformat(timespec="seconds")})

    @staticmethod
    def _daily(
        series: str,
        days: list[tuple[date, int | float]],
        since: date | None,
        now: datetime,
        window: Window | None,
    ) -> tuple[list[Observation], date | None]:
        """Complete days (before today) from ``since`` on, inside the backfill window."""
        kept = [
            Observation(series, datetime.combine(day, time.min), value, "count")
            for day, value in sorted(days)
            if day < now.date()
            and (since is None or day >= since)
            and (window is None or window.contains(datetime.combine(day, time.min)))
        ]
        last = kept[-1].observed_at.date() if kept else since
        return kept, last

    def _pypi(
        self, name: str, since: date | None, now: datetime, ctx: SyncContext
    ) -> tuple[list[Observation], date | None]:
        http = ctx.http(self._base("pypi"))
        url = f"/api/packages/{quote(name)}/overall"
        data = http.get_json(url, {"mirrors": "false"})
        where = f"source {self.source.name!r}: pypistats {url}"
        rows = data.get("data") if isinstance(data, dict) else None
        if not isinstance(rows, list):
            raise SourceError(f"{where}: the answer has no 'data' list")
        days: list[tuple[date, int | float]] = []
        for row in rows:
            if not isinstance(row, dict):
                raise SourceError(f"{where}: a row is not an object")
            if row.get("category", "without_mirrors") != "without_mirrors":
                continue
            days.append((_day(row.get("date"), where), _number(row.get("downloads"), where)))
        return self._daily(f"pypi:{name}", days, since, now, ctx.window)

    def _npm(
        self, name: str, since: date | None, now: datetime, ctx: SyncContext
    ) -> tuple[list[Observation], date | None]:
        http = ctx.http(self._base("npm"))
        today = now.date()
        end = today - timedelta(days=1)
        start = since or today - timedelta(days=NPM_FIRST_DAYS)
        if ctx.window is not None:
            if ctx.window.since is not None:
                start = ctx.window.since.date()
            if ctx.window.until is not None:
                end = min(end, ctx.window.until.date())
        observations: list[Observation] = []
        last = since
        while start <= end:
            stop = min(end, start + timedelta(days=NPM_DAYS - 1))
            url = f"/downloads/range/{start.isoformat()}:{stop.isoformat()}/{name}"
            where = f"source {self.source.name!r}: npm {url}"
            data = http.get_json(url)
            rows = data.get("downloads") if isinstance(data, dict) else None
            if not isinstance(rows, list):
                raise SourceError(f"{where}: the answer has no 'downloads' list")
            days = []
            for row in rows:
                if not isinstance(row, dict):
                    raise SourceError(f"{where}: a row is not an object")
                days.append((_day(row.get("day"), where), _number(row.get("downloads"), where)))
            kept, last_here = self._daily(f"npm:{name}", days, since, now, ctx.window)
            observations += kept
            last = last_here or last
            start = stop + timedelta(days=1)
        return observations, last

    def _docker(self, name: str, now: datetime, ctx: SyncContext) -> list[Observation]:
        http = ctx.http(self._base("docker"))
        url = f"/v2/repositories/{name}/"
        data = http.get_json(url)
        where = f"source {self.source.name!r}: Docker Hub {url}"
        if not isinstance(data, dict) or "pull_count" not in data:
            raise SourceError(f"{where}: the answer has no pull_count")
        found = [Observation(f"docker:{name}:pulls", now, _number(data["pull_count"], where))]
        if "star_count" in data:
            found.append(
                Observation(f"docker:{name}:stars", now, _number(data["star_count"], where))
            )
        return found

    def _github(self, name: str, now: datetime, ctx: SyncContext) -> list[Observation]:
        token = ctx.secret(self.source.options.get("token_env") or "", "GITHUB_TOKEN")
        http = ctx.http(self._base("github-releases"), token=token)
        url = f"/repos/{name}/releases"
        found: list[Observation] = []
        for page in http.paginate(url, {"per_page": 100}):
            releases = page.json()
            where = f"source {self.source.name!r}: GitHub {page.url}"
            if not isinstance(releases, list):
                raise SourceError(f"{where}: expected a list of releases")
            for release in releases:
                if not isinstance(release, dict) or release.get("draft"):
                    continue
                tag = str(release.get("tag_name") or release.get("id"))
                for asset in release.get("assets") or []:
                    if not isinstance(asset, dict) or "download_count" not in asset:
                        raise SourceError(f"{where}: release {tag}: an asset has no download_count")
                    found.append(
                        Observation(
                            f"github-releases:{name}:{tag}/{asset.get('name')}"[:300],
                            now,
                            _number(asset["download_count"], where),
                            attributes={"release": tag, "asset": asset.get("name")},
                        )
                    )
        return found

    def _helm(self, name: str, now: datetime, ctx: SyncContext) -> list[Observation]:
        http = ctx.http(self._base("helm"))
        url = f"/api/v1/packages/helm/{name}"
        data = http.get_json(url)
        where = f"source {self.source.name!r}: Artifact Hub {url}"
        if not isinstance(data, dict):
            raise SourceError(f"{where}: expected a package object")
        found = []
        for field, series in (("stars", "stars"), ("production_organizations_count", "users")):
            if data.get(field) is not None:
                found.append(Observation(f"helm:{name}:{series}", now, _number(data[field], where)))
        if not found:
            raise SourceError(f"{where}: the answer has neither stars nor production users")
        return found
