"""GH Archive import: the three formats, repository and organisation filters, idempotent
re-imports, clear errors for broken files. Expectations are computed from the fixtures with
json/gzip, independently of the connector."""

from __future__ import annotations

import gzip
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from commops.cli.app import app
from commops.errors import SourceError, UsageError
from commops.exports import iter_activities, iter_identities
from commops.sources import ensure_source, list_sources
from commops.sync import SyncResult, sync_workspace
from commops.workspace import Workspace
from conftest import shared_data

LEGACY = "devstats_2014_legacy_timeline_format.ndjson"
EVENTS_2017 = "devstats_2017-07-05_events_api_format.ndjson"
EVENTS_2022 = "devstats_2022-04-06_events_api_format.ndjson"
HOURLY_GZ = "simdjson_2013-01-10.json.gz"
DATA = Path(__file__).parent / "data" / "gharchive"


def derived(name: str) -> Path:
    return shared_data("fixtures", "gharchive", "derived", name)


def trimmed_gz(tmp_path: Path) -> Path:
    """The post-2025-10 push events (a JSON array in the fixture) as an hourly .json.gz."""
    events = json.loads(
        shared_data(
            "fixtures", "gharchive", "devstats", "push_evets_after_oct_2025.json"
        ).read_text()
    )
    path = tmp_path / "2025-11-01-10.json.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for event in events:
            fh.write(json.dumps(event) + "\n")
    return path


def read_lines(path: Path) -> list[str]:
    opener: Any = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as fh:
        return [line for line in fh.read().splitlines() if line.strip()]


def repo_of(event: dict[str, Any]) -> str:
    if "repo" in event:
        return str(event["repo"]["name"])
    r = event["repository"]
    return f"{r['owner']}/{r['name']}"


def expected_kind(event: dict[str, Any]) -> str:
    t, p = event["type"], event.get("payload") or {}
    action = p.get("action")
    simple = {
        "PushEvent": "github:push",
        "WatchEvent": "github:star",
        "ForkEvent": "github:fork",
        "GollumEvent": "github:wiki_edited",
        "CommitCommentEvent": "github:commit_comment",
        "PublicEvent": "github:repository_public",
        "PullRequestReviewEvent": "github:review",
        "PullRequestReviewCommentEvent": "github:review_comment",
        "IssueCommentEvent": "github:issue_comment",
        "TeamAddEvent": "github:team_add",
        "DownloadEvent": "github:download",
    }
    if t in simple:
        return simple[t]
    if t == "PullRequestEvent":
        if action == "closed":
            return "github:pr_merged" if p["pull_request"].get("merged") else "github:pr_closed"
        return f"github:pr_{action}"
    if t == "IssuesEvent":
        return f"github:issue_{action}"
    if t == "ReleaseEvent":
        return f"github:release_{action}"
    if t == "CreateEvent":
        return f"github:{p['ref_type']}_created"
    if t == "DeleteEvent":
        return f"github:{p['ref_type']}_deleted"
    if t == "MemberEvent":
        return f"github:member_{action}"
    raise AssertionError(f"no expectation for {t}")


def expected(
    paths: list[Path], repos: tuple[str, ...] = (), orgs: tuple[str, ...] = ()
) -> Counter[str]:
    """Kinds of the distinct kept events (by id, or by the whole line when there is none)."""
    kinds: dict[str, str] = {}
    for path in paths:
        for line in read_lines(path):
            event = json.loads(line)
            repo = repo_of(event)
            org = (event.get("org") or {}).get("login") or (event.get("repository") or {}).get(
                "organization"
            )
            owner = repo.split("/")[0]
            keep = repo.lower() in {r.lower() for r in repos} or {
                owner.lower(),
                (org or "").lower(),
            } & {o.lower() for o in orgs}
            if keep:
                kinds[str(event.get("id") or line)] = expected_kind(event)
    return Counter(kinds.values())


def run(
    ws: Workspace,
    files: list[Path],
    repos: tuple[str, ...] = (),
    orgs: tuple[str, ...] = (),
    keep_all: bool = False,
    name: str = "gha",
) -> SyncResult:
    options: dict[str, Any] = {"repos": list(repos), "orgs": list(orgs)}
    if keep_all:
        options["all"] = True
    ensure_source(ws.store, "gharchive", "test", name=name, options=options)
    [result] = sync_workspace(ws, [name], params={"files": [str(f) for f in files]})
    return result


def kinds(ws: Workspace) -> Counter[str]:
    return Counter(a["kind"] for a in iter_activities(ws.store))


def status(ws: Workspace, name: str = "gha") -> dict[str, Any]:
    [src] = [s for s in list_sources(ws.store) if s.name == name]
    return src.status


def invoke(cli: CliRunner, ws: Workspace, *args: str) -> Result:
    return cli.invoke(app, ["--workspace", str(ws.root), "import", "gharchive", *args])


def test_gharchive_legacy_timeline_imported(sqlite_workspace: Workspace) -> None:
    path = derived(LEGACY)
    owners = sorted({repo_of(json.loads(line)).split("/")[0] for line in read_lines(path)})
    orgs = tuple(owners[1:])  # all but one: the filter drops that one's events
    result = run(sqlite_workspace, [path], orgs=orgs)
    assert result.error is None
    want = expected([path], orgs=orgs)
    assert 10 < sum(want.values()) < 35
    assert kinds(sqlite_workspace) == want
    assert result.added == sum(want.values())
    formats = status(sqlite_workspace)["formats"]
    assert list(formats) == ["legacy-timeline"]
    # No event id (keys are hashes of the line); legacy issue events carry the id only.
    assert formats["legacy-timeline"]["missing"] == ["id", "payload.issue.title"]


def test_gharchive_legacy_offsets_converted_to_utc(sqlite_workspace: Workspace) -> None:
    path = derived(LEGACY)
    first = json.loads(read_lines(path)[0])
    run(sqlite_workspace, [path], repos=(repo_of(first),))
    pushes = [a for a in iter_activities(sqlite_workspace.store) if a["kind"] == "github:push"]
    by_created = {a["attributes"]["created_at"]: a for a in pushes}
    push = by_created[first["created_at"]]  # 2014-06-10T19:07:44-07:00
    assert push["occurred_at"] == "2014-06-11T02:07:44Z"
    assert push["actor"]["username"] == first["actor"]
    assert push["attributes"]["commits"] == len(first["payload"]["shas"])


def test_gharchive_events_api_imported(sqlite_workspace: Workspace) -> None:
    paths = [derived(EVENTS_2017), derived(EVENTS_2022)]
    orgs = tuple({repo_of(json.loads(line)).split("/")[0] for p in paths for line in read_lines(p)})
    result = run(sqlite_workspace, paths, orgs=orgs)
    assert result.error is None
    want = expected(paths, orgs=orgs)
    assert kinds(sqlite_workspace) == want
    assert sum(want.values()) == 47
    assert list(status(sqlite_workspace)["formats"]) == ["events-api"]


def test_gharchive_hourly_gz_with_repo_filter(sqlite_workspace: Workspace) -> None:
    path = derived(HOURLY_GZ)
    events = [json.loads(line) for line in read_lines(path)]
    repos = (events[0]["repo"]["name"], events[5]["repo"]["name"].upper())
    result = run(sqlite_workspace, [path], repos=repos)
    assert result.error is None
    want = expected([path], repos=repos)
    assert kinds(sqlite_workspace) == want
    kept = [e for e in events if e["repo"]["name"].lower() in {r.lower() for r in repos}]
    assert sorted(a["attributes"].get("type") for a in iter_activities(sqlite_workspace.store)) == (
        sorted(e["type"] for e in kept)
    )
    assert {a["channel"] for a in iter_activities(sqlite_workspace.store)} == {
        e["repo"]["name"] for e in kept
    }


def test_gharchive_push_counts_commits(sqlite_workspace: Workspace) -> None:
    path = derived(HOURLY_GZ)
    events = [json.loads(line) for line in read_lines(path)]
    run(sqlite_workspace, [path], keep_all=True)
    want = sorted(len(e["payload"]["commits"]) for e in events if e["type"] == "PushEvent")
    pushes = [a for a in iter_activities(sqlite_workspace.store) if a["kind"] == "github:push"]
    assert sorted(a["attributes"]["commits"] for a in pushes) == want
    assert kinds(sqlite_workspace) == expected([path], repos=tuple(repo_of(e) for e in events))


def test_gharchive_trimmed_2025_pushes_imported_without_commits(
    sqlite_workspace: Workspace, tmp_path: Path
) -> None:
    path = trimmed_gz(tmp_path)
    events = [json.loads(line) for line in read_lines(path)]
    result = run(sqlite_workspace, [path], keep_all=True)
    assert result.error is None
    assert result.added == len({e["id"] for e in events}) == 13
    pushes = list(iter_activities(sqlite_workspace.store))
    assert {a["kind"] for a in pushes} == {"github:push"}
    assert {a["attributes"]["commits"] for a in pushes} == {None}
    assert {a["attributes"]["format"] for a in pushes} == {"trimmed-2025"}
    assert status(sqlite_workspace)["formats"] == {
        "trimmed-2025": {
            "events": 13,
            "missing": ["payload.commits", "payload.distinct_size", "payload.size"],
        }
    }


def test_gharchive_trimmed_2025_pull_requests_imported(sqlite_workspace: Workspace) -> None:
    path = DATA / "trimmed_2025_pull_requests.ndjson"
    events = [json.loads(line) for line in read_lines(path)]
    result = run(sqlite_workspace, [path], orgs=("example-org",))
    assert (result.error, result.added) == (None, len(events))
    rows = sorted(iter_activities(sqlite_workspace.store), key=lambda a: a["occurred_at"])
    assert [(a["kind"], a["target"], a["title"], a["attributes"].get("merged")) for a in rows] == [
        ("github:pr_opened", "12", None, None),
        ("github:pr_closed", "11", None, None),  # merged or not: the payload no longer says
    ]
    assert status(sqlite_workspace)["formats"]["trimmed-2025"]["missing"] == [
        "payload.pull_request.merged",
        "payload.pull_request.title",
        "payload.pull_request.user",
    ]


def test_gharchive_all_formats_in_one_import(workspace: Workspace, tmp_path: Path) -> None:
    paths = [derived(LEGACY), derived(EVENTS_2017), derived(HOURLY_GZ), trimmed_gz(tmp_path)]
    result = run(workspace, paths, keep_all=True)
    assert result.error is None
    everything = tuple({repo_of(json.loads(line)) for p in paths for line in read_lines(p)})
    want = expected(paths, repos=everything)
    assert kinds(workspace) == want
    assert set(status(workspace)["formats"]) == {"legacy-timeline", "events-api", "trimmed-2025"}
    identities = {(i["platform"], i["kind"]) for i in iter_identities(workspace.store)}
    assert identities == {("github", "username")}


def test_gharchive_org_filter_keeps_org_repos(sqlite_workspace: Workspace) -> None:
    path = derived("pygithub_public_events_2020-04-25.ndjson")
    events = [json.loads(line) for line in read_lines(path)]
    owner = Counter(repo_of(e).split("/")[0] for e in events).most_common(1)[0][0]
    run(sqlite_workspace, [path], orgs=(owner,))
    want = expected([path], orgs=(owner,))
    assert kinds(sqlite_workspace) == want
    assert {a["channel"].split("/")[0] for a in iter_activities(sqlite_workspace.store)} == {owner}


def test_gharchive_reimport_is_a_no_op(workspace: Workspace, tmp_path: Path) -> None:
    paths = [derived(EVENTS_2017), derived(HOURLY_GZ)]
    first = run(workspace, paths, keep_all=True)
    everything = tuple({repo_of(json.loads(line)) for p in paths for line in read_lines(p)})
    assert first.added == sum(expected(paths, repos=everything).values())
    copy = tmp_path / "renamed.json.gz"
    copy.write_bytes(derived(HOURLY_GZ).read_bytes())
    again = run(workspace, [*paths, copy], keep_all=True)
    assert (again.error, again.added, again.checkpoints) == (None, 0, 0)
    assert sum(kinds(workspace).values()) == first.added


def test_gharchive_corrupt_gzip_names_the_file(sqlite_workspace: Workspace, tmp_path: Path) -> None:
    good = derived(EVENTS_2017)
    bad = tmp_path / "2015-01-01-15.json.gz"
    bad.write_bytes(derived(HOURLY_GZ).read_bytes()[:4000])
    result = run(sqlite_workspace, [good, bad], keep_all=True)
    assert result.error is not None
    assert f"cannot read {bad}: IO Error: Unexpected end of GZIP stream" in result.error
    assert "'gha'" in result.error
    assert result.added == len(read_lines(good)) == 25  # the file before it is kept
    again = run(sqlite_workspace, [good], keep_all=True)
    assert (again.added, again.checkpoints) == (0, 0)


def test_gharchive_bad_line_names_file_and_line(
    sqlite_workspace: Workspace, tmp_path: Path
) -> None:
    lines = read_lines(derived(HOURLY_GZ))
    lines[6] = '{"id": "1", "type": "PushEvent", broken'
    bad = tmp_path / "2013-01-10-00.json.gz"
    with gzip.open(bad, "wt", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    result = run(sqlite_workspace, [bad], keep_all=True)
    assert result.error is not None
    assert f"cannot read {bad}" in result.error
    assert "line 7 is not valid JSON" in result.error
    assert result.added == 0


def test_gharchive_missing_file_names_it(sqlite_workspace: Workspace, tmp_path: Path) -> None:
    missing = tmp_path / "2020-01-01-0.json.gz"
    result = run(sqlite_workspace, [derived(EVENTS_2017), missing], keep_all=True)
    assert result.error is not None
    assert result.error.startswith(f"source 'gha': {missing} does not exist or is not a file")
    assert result.added == 25


def test_gharchive_cli_imports_with_repo_and_org(
    cli: CliRunner, sqlite_workspace: Workspace
) -> None:
    path = derived(HOURLY_GZ)
    events = [json.loads(line) for line in read_lines(path)]
    repo = events[0]["repo"]["name"]
    org = events[1]["repo"]["name"].split("/")[0]
    args = [str(path), "--repo", repo, "--org", org, "--json"]
    result = invoke(cli, sqlite_workspace, *args)
    assert result.exit_code == 0, result.output
    [report] = json.loads(result.output)
    want = expected([path], repos=(repo,), orgs=(org,))
    assert (report["source"], report["added"]) == (
        f"gharchive-{repo}_{org}",
        sum(want.values()),
    )
    assert kinds(sqlite_workspace) == want
    again = invoke(cli, sqlite_workspace, *args)
    assert json.loads(again.output)[0]["added"] == 0


def test_gharchive_cli_needs_a_filter(cli: CliRunner, sqlite_workspace: Workspace) -> None:
    result = invoke(cli, sqlite_workspace, str(derived(HOURLY_GZ)))
    assert isinstance(result.exception, UsageError)
    assert (
        result.exception.message == "give --repo OWNER/NAME or --org OWNER (repeatable), or --all"
    )


@pytest.mark.parametrize("repo", ["noslash", "a/b/c", "/name"])
def test_gharchive_cli_rejects_bad_repo(
    cli: CliRunner, sqlite_workspace: Workspace, repo: str
) -> None:
    result = invoke(cli, sqlite_workspace, str(derived(HOURLY_GZ)), "--repo", repo)
    assert isinstance(result.exception, SourceError)
    assert result.exception.message == f"gharchive: {repo!r} is not a repository (OWNER/NAME)"
