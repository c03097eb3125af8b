"""Downloads: dated observations from pypistats, npm, Docker Hub, GitHub releases and Artifact Hub,
served by the replay server in the APIs' documented shapes, with faults injected."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from commops.cli.app import app
from commops.clock import utcnow
from commops.config import Config
from commops.errors import SourceError
from commops.identity.bots import BotRules
from commops.sources import add_source, get_sources
from commops.store.models import Observation
from commops.sync import SyncResult, sync_source
from commops.workspace import Workspace
from replay import Replay

DATA = Path(__file__).parent / "data" / "downloads"
CONFIG = Config(http_timeout=2.0, http_attempts=4, http_max_wait=5.0)


def fixture(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


def add(ws: Workspace, targets: str, replay: Replay, service: str, name: str = "dl") -> None:
    add_source(
        ws.store, "downloads", targets, name=name, options={"endpoints": {service: replay.url}}
    )


def sync(ws: Workspace, name: str = "dl") -> SyncResult:
    [source] = get_sources(ws.store, [name])
    return sync_source(ws.store, source, cache_dir=ws.cache_dir, bots=BotRules([]), config=CONFIG)


def observations(ws: Workspace) -> list[tuple[str, str, str, float, bool]]:
    with ws.store.session() as session:
        rows = session.execute(
            select(Observation).order_by(Observation.series, Observation.observed_at)
        ).scalars()
        return [(o.series, o.observed_at.isoformat(), o.kind, o.value, o.decreased) for o in rows]


def test_downloads_pypi_daily_counts_stored_once(workspace: Workspace, replay: Replay) -> None:
    path = "/api/packages/commops/overall"
    replay.route(path, json=fixture("pypistats_overall.json"))
    add(workspace, "pypi:commops", replay, "pypistats")
    first = sync(workspace)
    assert first.ok, first.error
    assert first.observations == 3
    assert replay.seen(path)[0].query == {"mirrors": "false"}
    replay.route(path, json=fixture("pypistats_overall_next.json"))
    second = sync(workspace)
    assert second.ok, second.error
    assert second.observations == 2  # from the cursor's day on, inclusive
    assert observations(workspace) == [
        ("pypi:commops", "2024-04-28T00:00:00", "count", 1203.0, False),
        ("pypi:commops", "2024-04-29T00:00:00", "count", 1519.0, False),
        ("pypi:commops", "2024-04-30T00:00:00", "count", 1488.0, False),
        ("pypi:commops", "2024-05-01T00:00:00", "count", 1610.0, False),
    ]
    third = sync(workspace)
    assert third.ok, third.error
    assert len(observations(workspace)) == 4


def _npm_days(days: list[tuple[str, int]]) -> dict[str, Any]:
    shape = fixture("npm_range.json")
    shape["downloads"] = [{"downloads": n, "day": d} for d, n in days]
    return shape


def test_downloads_npm_reads_complete_days_from_cursor(
    sqlite_workspace: Workspace, replay: Replay
) -> None:
    today = utcnow().date()
    day = [(today - timedelta(days=n)).isoformat() for n in range(4)]  # today, yesterday, ...
    first = f"/downloads/range/{today - timedelta(days=540)}:{today - timedelta(days=176)}"
    second = f"/downloads/range/{today - timedelta(days=175)}:{day[1]}"
    name = "@commops/widgets"
    replay.route(f"{first}/{name}", json=_npm_days([]))
    replay.route(
        f"{second}/{name}",
        json=_npm_days([(day[3], 310), (day[2], 402), (day[1], 377), (day[0], 12)]),
    )
    add(sqlite_workspace, f"npm:{name}", replay, "npm")
    result = sync(sqlite_workspace)
    assert result.ok, result.error
    assert [(s, t[:10], v) for s, t, _, v, _ in observations(sqlite_workspace)] == [
        (f"npm:{name}", day[3], 310.0),
        (f"npm:{name}", day[2], 402.0),
        (f"npm:{name}", day[1], 377.0),  # today is not complete: not stored
    ]
    again = f"/downloads/range/{day[1]}:{day[1]}/{name}"
    replay.route(again, json=_npm_days([(day[1], 377)]))
    result = sync(sqlite_workspace)
    assert result.ok, result.error
    assert replay.count(again) == 1
    assert len(observations(sqlite_workspace)) == 3


def test_downloads_docker_pull_count_going_down_is_kept_and_flagged(
    workspace: Workspace, replay: Replay
) -> None:
    path = "/v2/repositories/kubesphere/ks-apiserver/"
    repo = fixture("docker_repository.json")
    replay.route(path, json=repo)
    add(workspace, "docker:kubesphere/ks-apiserver", replay, "docker")
    assert sync(workspace).ok
    replay.route(path, json={**repo, "pull_count": 10485000})  # a reset or a correction
    assert sync(workspace).ok
    pulls = [o for o in observations(workspace) if o[0].endswith(":pulls")]
    assert [(s, k, v, d) for s, _, k, v, d in pulls] == [
        ("docker:kubesphere/ks-apiserver:pulls", "counter", 10485760.0, False),
        ("docker:kubesphere/ks-apiserver:pulls", "counter", 10485000.0, True),
    ]
    stars = [o for o in observations(workspace) if o[0].endswith(":stars")]
    assert [v for _, _, _, v, _ in stars] == [12.0, 12.0]


def test_downloads_github_release_assets_are_counters(
    sqlite_workspace: Workspace, replay: Replay
) -> None:
    replay.paginate("/repos/kubesphere/kubekey/releases", fixture("github_releases.json"), 2)
    add(sqlite_workspace, "github-releases:kubesphere/kubekey", replay, "github")
    result = sync(sqlite_workspace)
    assert result.ok, result.error
    assert [r.query["per_page"] for r in replay.seen("/repos/kubesphere/kubekey/releases")] == [
        "100"
    ]
    assert [(s, k, v) for s, _, k, v, _ in observations(sqlite_workspace)] == [
        (
            "github-releases:kubesphere/kubekey:v3.0.13/kubekey-v3.0.13-linux-amd64.tar.gz",
            "counter",
            20480.0,
        ),
        (
            "github-releases:kubesphere/kubekey:v3.1.0/kubekey-v3.1.0-linux-amd64.tar.gz",
            "counter",
            5120.0,
        ),
        (
            "github-releases:kubesphere/kubekey:v3.1.0/kubekey-v3.1.0-linux-arm64.tar.gz",
            "counter",
            830.0,
        ),
    ]


def test_downloads_artifacthub_stars_and_users(sqlite_workspace: Workspace, replay: Replay) -> None:
    replay.route(
        "/api/v1/packages/helm/kubesphere/ks-core", json=fixture("artifacthub_package.json")
    )
    add(sqlite_workspace, "helm:kubesphere/ks-core", replay, "artifacthub")
    result = sync(sqlite_workspace)
    assert result.ok, result.error
    assert [(s, v) for s, _, _, v, _ in observations(sqlite_workspace)] == [
        ("helm:kubesphere/ks-core:stars", 42.0),
        ("helm:kubesphere/ks-core:users", 3.0),
    ]


@pytest.mark.parametrize(
    ("kind", "options"),
    [("retry_after", {"seconds": 1}), ("status", {"code": 502}), ("malformed", {})],
)
def test_downloads_fault_is_retried(
    sqlite_workspace: Workspace, replay: Replay, kind: str, options: dict[str, Any]
) -> None:
    path = "/api/packages/commops/overall"
    replay.route(path, json=fixture("pypistats_overall.json"))
    replay.fault(path, kind, **options)
    add(sqlite_workspace, "pypi:commops", replay, "pypistats")
    result = sync(sqlite_workspace)
    assert result.ok, result.error
    assert replay.count(path) == 2
    assert len(observations(sqlite_workspace)) == 3


def test_downloads_persistent_malformed_json_fails_clearly(
    sqlite_workspace: Workspace, replay: Replay
) -> None:
    path = "/api/packages/commops/overall"
    replay.route(path, json=fixture("pypistats_overall.json"))
    replay.fault(path, "malformed", times=10)
    add(sqlite_workspace, "pypi:commops", replay, "pypistats")
    result = sync(sqlite_workspace)
    assert not result.ok
    assert result.error is not None
    assert "/api/packages/commops/overall" in result.error
    assert "not valid JSON" in result.error
    assert observations(sqlite_workspace) == []


def test_downloads_unexpected_shape_names_the_url(
    sqlite_workspace: Workspace, replay: Replay
) -> None:
    replay.route("/v2/repositories/library/nginx/", json={"detail": "object not found"})
    add(sqlite_workspace, "docker:nginx", replay, "docker")
    result = sync(sqlite_workspace)
    assert not result.ok
    assert result.error == (
        "source 'dl': Docker Hub /v2/repositories/library/nginx/: the answer has no pull_count"
    )


def test_downloads_one_target_failing_keeps_earlier_ones(
    sqlite_workspace: Workspace, replay: Replay
) -> None:
    replay.route("/api/packages/commops/overall", json=fixture("pypistats_overall.json"))
    add_source(
        sqlite_workspace.store,
        "downloads",
        "pypi:commops,docker:kubesphere/missing",
        name="dl",
        options={"endpoints": {"pypistats": replay.url, "docker": replay.url}},
    )
    result = sync(sqlite_workspace)
    assert not result.ok
    assert "HTTP 404" in (result.error or "")
    assert len(observations(sqlite_workspace)) == 3


def test_downloads_bad_target_is_refused(sqlite_workspace: Workspace) -> None:
    with pytest.raises(SourceError) as err:
        add_source(sqlite_workspace.store, "downloads", "cargo:serde")
    assert str(err.value).startswith("downloads target 'cargo:serde': unknown service 'cargo'")


def test_downloads_cli_add_then_sources_shows_observations(
    cli: CliRunner, sqlite_workspace: Workspace, replay: Replay
) -> None:
    toml = sqlite_workspace.root / "commops.toml"
    text = toml.read_text(encoding="utf-8")
    toml.write_text(text.replace("timeout = 30.0", "timeout = 2.0"), encoding="utf-8")
    replay.route("/api/packages/commops/overall", json=fixture("pypistats_overall.json"))
    root = str(sqlite_workspace.root)
    added = cli.invoke(
        app,
        ["-w", root, "add", "downloads", "pypi:commops", "--endpoint", f"pypistats={replay.url}"],
    )
    assert added.exit_code == 0, added.output
    synced = cli.invoke(app, ["-w", root, "sync", "--json"])
    assert synced.exit_code == 0, synced.output
    assert json.loads(synced.stdout)[0]["observations"] == 3
    listed = cli.invoke(app, ["-w", root, "sources", "--json"])
    [source] = json.loads(listed.stdout)
    assert (source["name"], source["kind"], source["observations"]) == (
        "pypi:commops",
        "downloads",
        3,
    )
    assert source["cursors"]["downloads"] == {"pypi:commops": "2024-04-30"}


def test_downloads_backfill_window_ignores_cursor(
    sqlite_workspace: Workspace, replay: Replay
) -> None:
    from commops.connectors.base import Window

    path = "/api/packages/commops/overall"
    replay.route(path, json=fixture("pypistats_overall.json"))
    add(sqlite_workspace, "pypi:commops", replay, "pypistats")
    [source] = get_sources(sqlite_workspace.store, ["dl"])
    window = Window(since=datetime(2024, 4, 29), until=datetime(2024, 4, 29, 23, 59))
    result = sync_source(
        sqlite_workspace.store,
        source,
        cache_dir=sqlite_workspace.cache_dir,
        bots=BotRules([]),
        config=CONFIG,
        window=window,
    )
    assert result.ok, result.error
    assert [t for _, t, _, _, _ in observations(sqlite_workspace)] == ["2024-04-29T00:00:00"]
