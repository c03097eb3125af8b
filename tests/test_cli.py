"""The command line, driven as a user drives it: in-process through CliRunner for output, and as
a real ``python -m commops`` process for the error messages a user reads on stderr."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from commops.cli.app import app
from commops.errors import SourceError, UsageError, WorkspaceError
from commops.store.db import HEAD_REVISION
from conftest import GitRepo

ADA = "Ada Lovelace <ada@example.org>"
BOB = "Bob Marley <bob@example.org>"
CY = "Cy Twombly <cy@example.org>"
DEPENDABOT = "dependabot[bot] <49699333+dependabot[bot]@users.noreply.github.com>"


class History:
    """The shas of the small history ``build`` makes."""

    def __init__(self, repo: GitRepo) -> None:
        self.initial = repo.commit(
            "Initial commit",
            author=ADA,
            date="2024-01-15T10:00:00+08:00",
            files={"README.md": "hello\n", "src/a.py": "1\n2\n"},
        )
        self.squash = repo.commit(
            "Add feature (#12)\n\nCo-authored-by: Cy Twombly <cy@example.org>\n"
            "Signed-off-by: Bob Marley <bob@example.org>",
            author=BOB,
            date="2024-02-01T09:30:00-05:00",
            files={"src/a.py": "1\ntwo\n3\n"},
        )
        repo.git("checkout", "-q", "-b", "cy/docs")
        self.docs = repo.commit(
            "Write docs", author=CY, date="2024-02-10T10:00:00+00:00", files={"docs.md": "x\n"}
        )
        repo.git("checkout", "-q", "main")
        self.merge = repo.merge(
            "cy/docs",
            "Merge pull request #13 from cy/docs",
            author=ADA,
            date="2024-02-11T10:00:00+00:00",
        )
        self.bot = repo.commit(
            "Bump y from 1 to 2 (#14)",
            author=DEPENDABOT,
            date="2024-03-01T00:00:00+00:00",
            files={"y.txt": "2\n"},
        )


class Cli:
    """Runs commops in-process against one workspace folder."""

    def __init__(self, runner: CliRunner, root: Path) -> None:
        self.runner = runner
        self.root = root

    def __call__(self, *args: str, ok: bool = True) -> Result:
        result = self.runner.invoke(app, ["--workspace", str(self.root), *args])
        if ok:
            assert result.exit_code == 0, (result.stdout, result.stderr, result.exception)
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "--json").stdout)


@pytest.fixture
def ws_dir(tmp_path: Path, cli: CliRunner) -> Path:
    root = tmp_path / "ws"
    result = cli.invoke(app, ["init", str(root)])
    assert result.exit_code == 0, result.stderr
    return root


@pytest.fixture
def run(cli: CliRunner, ws_dir: Path) -> Cli:
    return Cli(cli, ws_dir)


@pytest.fixture
def history(git_repo: GitRepo) -> History:
    return History(git_repo)


@pytest.fixture
def synced(run: Cli, git_repo: GitRepo, history: History) -> Cli:
    run("add", "git", str(git_repo.path), "--name", "repo")
    run("sync")
    return run


def commops(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The real program, as a user runs it; COMMOPS_WORKSPACE unset unless given."""
    full_env = {k: v for k, v in os.environ.items() if k != "COMMOPS_WORKSPACE"}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "commops", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# -- init, add, sources -----------------------------------------------------------------------


def test_init_creates_workspace(tmp_path: Path, cli: CliRunner) -> None:
    result = cli.invoke(app, ["init", str(tmp_path / "new"), "--json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {
        "workspace": str(tmp_path / "new"),
        "created": True,
        "database": f"sqlite:///{tmp_path / 'new' / 'commops.db'}",
    }
    assert (tmp_path / "new" / "commops.toml").is_file()


def test_init_existing_workspace_reopens_it(ws_dir: Path, cli: CliRunner) -> None:
    result = cli.invoke(app, ["init", str(ws_dir), "--json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["created"] is False


def test_init_with_database_url(tmp_path: Path, cli: CliRunner, database_url: str) -> None:
    root = tmp_path / "team"
    result = cli.invoke(app, ["init", str(root), "--database-url", database_url, "--json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["created"] is True
    assert Cli(cli, root).json("migrate") == {
        "from": HEAD_REVISION,
        "to": HEAD_REVISION,
        "migrated": False,
    }


def test_add_git_prints_source(run: Cli, git_repo: GitRepo, history: History) -> None:
    assert run.json("add", "git", str(git_repo.path)) == {
        "name": "repo",
        "kind": "git",
        "location": str(git_repo.path),
        "branch": "main",
        "mailmap": True,
    }


def test_add_git_with_options(run: Cli, git_repo: GitRepo, history: History) -> None:
    run("add", "git", str(git_repo.path), "--name", "kube", "--branch", "cy/docs", "--no-mailmap")
    (source,) = run.json("sources")
    assert source == {
        "name": "kube",
        "kind": "git",
        "location": str(git_repo.path),
        "options": {"branch": "cy/docs", "mailmap": False},
        "activities": 0,
        "last_synced_at": None,
        "observations": 0,
        "cursors": {},
        "status": {},
        "last_run": None,
        "last_error": None,
    }


def test_sources_shows_cursor_and_last_error(synced: Cli, git_repo: GitRepo) -> None:
    (source,) = synced.json("sources")
    assert source["last_run"] == "ok"
    assert source["cursors"]["commits"]["head"] == git_repo.head()
    assert source["last_error"] is None
    git_repo.git("branch", "-m", "main", "renamed")
    synced("sync", ok=False)
    (source,) = synced.json("sources")
    assert source["last_run"] == "failed"
    assert "branch 'main' not found" in source["last_error"]
    table = synced("sources").stdout
    assert "failed" in table


def test_sources_after_sync_counts_activities(synced: Cli) -> None:
    (source,) = synced.json("sources")
    # Five commits and one co-authorship.
    assert source["activities"] == 6
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", source["last_synced_at"])


# -- sync -------------------------------------------------------------------------------------


def test_sync_json_reports_what_was_added(run: Cli, git_repo: GitRepo, history: History) -> None:
    run("add", "git", str(git_repo.path), "--name", "repo")
    (result,) = run.json("sync")
    assert {k: v for k, v in result.items() if k != "seconds"} == {
        "source": "repo",
        "ok": True,
        "added": 6,
        "removed": 0,
        "identities": 4,  # Ada, Bob, Cy, dependabot
        "observations": 0,
        "checkpoints": 1,  # git commits the whole history with its cursor at once
        "requests": 0,
        "warnings": [],
        "error": None,
    }


def test_sync_again_reads_only_new_commits(synced: Cli, git_repo: GitRepo) -> None:
    assert [r["added"] for r in synced.json("sync")] == [0]
    git_repo.commit("One more", author=ADA, date="2024-04-01T00:00:00+00:00", files={"z": "1\n"})
    assert [r["added"] for r in synced.json("sync", "repo")] == [1]


def test_sync_after_force_push_removes_lost_commits(synced: Cli, git_repo: GitRepo) -> None:
    git_repo.git("reset", "-q", "--hard", "HEAD~1")  # drop the bot's commit
    (result,) = synced.json("sync")
    assert (result["added"], result["removed"]) == (0, 1)
    assert result["warnings"] == [
        "history of main was rewritten: 1 commits are no longer on it and were removed"
    ]


# -- export -----------------------------------------------------------------------------------


def test_remove_source_deletes_its_activities(synced: Cli) -> None:
    assert [s["activities"] for s in synced.json("sources")] == [6]
    removed = synced.json("remove", "repo", "--yes")
    assert removed == {"name": "repo", "activities": 6, "cache": None}
    assert synced.json("sources") == []
    assert export_jsonl(synced, "activities") == []
    totals = synced.json("metrics", "totals", "--include-bots")["rows"][0]
    assert (totals["commits"], totals["active_contributors"]) == (0, 0)


def test_remove_source_without_yes_asks_and_keeps_it_on_no(synced: Cli) -> None:
    result = synced.runner.invoke(
        app, ["--workspace", str(synced.root), "remove", "repo"], input="n\n"
    )
    assert result.exit_code == 1
    assert [s["name"] for s in synced.json("sources")] == ["repo"]


def test_remove_url_source_deletes_its_clone(
    run: Cli, git_repo: GitRepo, history: History, ws_dir: Path
) -> None:
    run("add", "git", git_repo.path.as_uri(), "--name", "remote")
    run("sync")
    clones = list((ws_dir / ".commops" / "cache" / "git").iterdir())
    assert len(clones) == 1
    removed = run.json("remove", "remote", "--yes")
    assert removed["cache"] == str(clones[0])
    assert not clones[0].exists()


def test_error_remove_unknown_source(ws_dir: Path) -> None:
    proc = commops("--workspace", str(ws_dir), "remove", "nope", "--yes", cwd=ws_dir)
    assert proc.returncode == 1
    assert "no source named 'nope'" in proc.stderr


def export_jsonl(run: Cli, *args: str) -> list[dict[str, Any]]:
    out = run("export", *args).stdout
    return [json.loads(line) for line in out.splitlines()]


def by_sha(rows: list[dict[str, Any]], sha: str, kind: str = "git:commit") -> dict[str, Any]:
    (row,) = [r for r in rows if r["kind"] == kind and r["attributes"]["sha"] == sha]
    return row


def test_export_activities_jsonl_squash_commit(synced: Cli, history: History) -> None:
    rows = export_jsonl(synced, "activities", "--format", "jsonl")
    assert len(rows) == 6
    row = by_sha(rows, history.squash)
    assert re.fullmatch(r"[0-9a-f]{32}", row["uid"])
    assert row["actor"]["member_id"] > 0
    attrs = row["attributes"]
    assert {k: row[k] for k in ("source", "kind", "occurred_at", "channel", "target", "title")} == {
        "source": "repo",
        "kind": "git:commit",
        "occurred_at": "2024-02-01T14:30:00Z",  # 09:30 at -05:00
        "channel": "repo",
        "target": "12",
        "title": "Add feature (#12)",
    }
    assert {k: v for k, v in row["actor"].items() if k != "member_id"} == {
        "platform": "git",
        "username": None,
        "email": "bob@example.org",
        "name": "Bob Marley",
    }
    assert row["contribution_type"] == "code"
    assert {
        k: attrs[k]
        for k in (
            "sha",
            "parents",
            "files",
            "insertions",
            "deletions",
            "merge",
            "pr_number",
            "co_authors",
            "signed_off_by",
            "author_date",
            "author_tz_offset",
            "committed_at",
        )
    } == {
        "sha": history.squash,
        "parents": [history.initial],
        "files": [["src/a.py", 2, 1]],
        "insertions": 2,
        "deletions": 1,
        "merge": False,
        "pr_number": 12,
        "co_authors": [{"name": "Cy Twombly", "email": "cy@example.org"}],
        "signed_off_by": [{"name": "Bob Marley", "email": "bob@example.org"}],
        "author_date": "2024-02-01T09:30:00-05:00",
        "author_tz_offset": -300,
        "committed_at": "2024-02-01T14:30:00Z",
    }


def test_export_activities_jsonl_coauthor_credit(synced: Cli, history: History) -> None:
    rows = export_jsonl(synced, "activities")
    co = by_sha(rows, history.squash, kind="git:co_authored")
    author = by_sha(rows, history.squash)
    docs = by_sha(rows, history.docs)
    assert co["occurred_at"] == "2024-02-01T14:30:00Z"
    assert co["target"] == "12"
    assert co["actor"]["email"] == "cy@example.org"
    # Cy the co-author and Cy the author of "Write docs" are one member.
    assert co["actor"]["member_id"] == docs["actor"]["member_id"]
    assert co["object"] == author["actor"] | {"name": "Bob Marley"}


def test_export_activities_jsonl_merge_commit(synced: Cli, history: History) -> None:
    row = by_sha(export_jsonl(synced, "activities"), history.merge)
    attrs = row["attributes"]
    assert row["occurred_at"] == "2024-02-11T10:00:00Z"
    assert (attrs["merge"], attrs["parents"], attrs["pr_number"], attrs["merged_branch"]) == (
        True,
        [history.squash, history.docs],
        13,
        "cy/docs",
    )
    assert (attrs["files"], attrs["insertions"], attrs["deletions"]) == ([], 0, 0)


def test_export_activities_csv(synced: Cli, history: History) -> None:
    out = synced("export", "activities", "--format", "csv").stdout
    reader = csv.DictReader(io.StringIO(out))
    assert reader.fieldnames == [
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
    rows = list(reader)
    assert len(rows) == 6
    (first,) = [r for r in rows if r["kind"] == "git:commit" and r["title"] == "Initial commit"]
    attrs = json.loads(first["attributes"])
    assert (first["occurred_at"], first["actor_email"], first["actor_name"]) == (
        "2024-01-15T02:00:00Z",  # 10:00 at +08:00
        "ada@example.org",
        "Ada Lovelace",
    )
    assert first["actor_member_id"].isdigit()
    assert (first["actor_username"], first["target"], first["object_email"]) == ("", "", "")
    assert (attrs["sha"], attrs["insertions"], attrs["pr_number"]) == (history.initial, 3, None)
    assert sorted(attrs["files"]) == [["README.md", 1, 0], ["src/a.py", 2, 0]]
    (co,) = [r for r in rows if r["kind"] == "git:co_authored"]
    assert (co["actor_email"], co["object_email"]) == ("cy@example.org", "bob@example.org")


def test_export_activities_source_filter(synced: Cli, tmp_path: Path, history: History) -> None:
    other = GitRepo(tmp_path / "other")
    other.commit("Elsewhere", author=ADA, date="2024-05-01T00:00:00+00:00", files={"o": "1\n"})
    synced("add", "git", str(other.path))
    synced("sync")
    only_other = export_jsonl(synced, "activities", "--source", "other")
    both = export_jsonl(synced, "activities", "--source", "other", "--source", "repo")
    assert [r["title"] for r in only_other] == ["Elsewhere"]
    assert len(both) == 7


def test_export_activities_to_file(synced: Cli, tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    result = synced("export", "activities", "-o", str(target))
    assert result.stdout == ""
    assert f"6 activities exported to {target}" in result.stderr
    assert len(target.read_text(encoding="utf-8").splitlines()) == 6
    assert not (tmp_path / "out.jsonl.part").exists()


def test_export_identities(synced: Cli) -> None:
    rows = export_jsonl(synced, "identities", "--format", "jsonl")
    by_value = {r["value"]: r for r in rows}
    assert sorted(by_value) == [
        "49699333+dependabot[bot]@users.noreply.github.com",
        "ada@example.org",
        "bob@example.org",
        "cy@example.org",
    ]
    bot = by_value["49699333+dependabot[bot]@users.noreply.github.com"]
    assert {k: v for k, v in bot.items() if k not in ("identity_id", "member_id", "value")} == {
        "platform": "git",
        "kind": "email",
        "name": "dependabot[bot]",
        "verified": False,
        "is_bot": True,
        "member_name": "dependabot[bot]",
        "member_is_bot": True,
    }
    assert by_value["ada@example.org"]["is_bot"] is False


# -- metrics ----------------------------------------------------------------------------------


def test_metrics_json_has_series_totals_and_top(synced: Cli) -> None:
    out = synced.json("metrics")
    assert sorted(out) == ["series", "top", "totals"]
    assert [
        (r["period"], r["active_contributors"], r["commits"], r["merged_prs"])
        for r in out["series"]["rows"]
    ] == [("2024-01-01", 1, 1, 0), ("2024-02-01", 3, 3, 2)]
    totals = out["totals"]["rows"][0]
    assert (totals["commits"], totals["merged_prs"], totals["active_contributors"]) == (4, 2, 3)
    # Ada: 2 commits; Cy: 1 commit and 1 co-authorship; Bob: 1 commit.
    assert [(r["display_name"], r["commits"], r["contributions"]) for r in out["top"]["rows"]] == [
        ("Ada Lovelace", 2, 2),
        ("Cy Twombly", 1, 2),
        ("Bob Marley", 1, 1),
    ]


def test_metrics_named_json_with_options(synced: Cli) -> None:
    out = synced.json(
        "metrics",
        "merged-prs",
        "--period",
        "quarter",
        "--since",
        "2024-01-01",
        "--until",
        "2024-03-31",
        "--source",
        "repo",
        "--include-bots",
    )
    assert out["metric"] == "merged-prs"
    assert out["params"] == {
        "since": "2024-01-01",
        "until": "2024-03-31",
        "period": "quarter",
        "sources": ["repo"],
        "include_bots": True,
        "include_staff": False,
        "new_by": "any",
        "inactive_months": 6,
        "bus_rule": "strict",
        "bus_threshold": 0.5,
        "unaffiliated": "exclude",
        "core_share": 0.8,
        "regular_share": 0.95,
        "review_every": "quarter",
        "channels": [],
        "organizations": [],
        "tags": [],
        "top": 10,
    }
    assert out["rows"] == [{"period": "2024-01-01", "merged_prs": 3}]


def test_metrics_csv(synced: Cli) -> None:
    assert synced("metrics", "commits", "--csv").stdout == (
        "period,commits\n2024-01-01,1\n2024-02-01,3\n"
    )
    assert synced("metrics", "commits", "--csv", "--include-bots").stdout == (
        "period,commits\n2024-01-01,1\n2024-02-01,3\n2024-03-01,1\n"
    )


def test_metrics_csv_top_contributors(synced: Cli) -> None:
    out = synced("metrics", "top-contributors", "--csv", "--top", "1").stdout
    (row,) = list(csv.DictReader(io.StringIO(out)))
    assert {k: v for k, v in row.items() if k != "member_id"} == {
        "rank": "1",
        "display_name": "Ada Lovelace",
        "commits": "2",
        "co_authored": "0",
        "contributions": "2",
        "lines_changed": "3",
        "first_at": "2024-01-15T02:00:00Z",
        "last_at": "2024-02-11T10:00:00Z",
    }


def test_metrics_table_output(synced: Cli) -> None:
    out = synced("metrics").stdout
    assert "Activity by month" in out
    assert "Top contributors" in out


def test_snapshot_rebuild_and_refresh(synced: Cli, ws_dir: Path) -> None:
    snapshot = str(ws_dir / ".commops" / "snapshot")
    assert synced.json("snapshot", "rebuild") == {
        "snapshot": snapshot,
        "appended": 6,
        "rewritten_sources": 0,
        "files": 1,
        "table": {"built": True, "inserted": 6, "deleted": 0, "updated": 0},
    }
    assert synced.json("snapshot", "refresh") == {
        "snapshot": snapshot,
        "appended": 0,
        "rewritten_sources": 0,
        "files": 1,
        "table": {"built": False, "inserted": 0, "deleted": 0, "updated": 0},
    }
    assert "activities.duckdb: built, 6 activities." in synced("snapshot", "rebuild").stdout


# -- finding the workspace --------------------------------------------------------------------


def test_workspace_from_environment(
    synced: Cli, ws_dir: Path, tmp_path: Path, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COMMOPS_WORKSPACE", str(ws_dir))
    monkeypatch.chdir(tmp_path)
    result = cli.invoke(app, ["sources", "--json"])
    assert result.exit_code == 0, result.stderr
    assert [s["name"] for s in json.loads(result.stdout)] == ["repo"]


def test_workspace_found_upward(
    synced: Cli, ws_dir: Path, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COMMOPS_WORKSPACE", raising=False)
    deep = ws_dir / "reports" / "2024"
    deep.mkdir(parents=True)
    monkeypatch.chdir(deep)
    result = cli.invoke(app, ["sources", "--json"])
    assert result.exit_code == 0, result.stderr
    assert [s["name"] for s in json.loads(result.stdout)] == ["repo"]


def test_workspace_option_wins_over_environment(
    synced: Cli, tmp_path: Path, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty"
    assert cli.invoke(app, ["init", str(empty)]).exit_code == 0
    monkeypatch.setenv("COMMOPS_WORKSPACE", str(empty))
    assert synced.json("sources")[0]["name"] == "repo"


def test_workspace_missing_in_process(
    tmp_path: Path, cli: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COMMOPS_WORKSPACE", raising=False)
    monkeypatch.chdir(tmp_path)
    result = cli.invoke(app, ["sources"])
    assert result.exit_code != 0
    assert isinstance(result.exception, WorkspaceError)


def test_unknown_source_in_process(synced: Cli) -> None:
    result = synced("sync", "nope", ok=False)
    assert isinstance(result.exception, SourceError)
    assert result.exception.message == "no source named 'nope'"


def test_metrics_bad_date_in_process(synced: Cli) -> None:
    result = synced("metrics", "--until", "yesterday", ok=False)
    assert isinstance(result.exception, UsageError)


# -- errors, as a user sees them --------------------------------------------------------------


def test_error_no_workspace(tmp_path: Path) -> None:
    proc = commops("sources", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr.splitlines() == [
        f"error: no commops workspace here: no commops.toml in {tmp_path} or any folder above it",
        "Create one with `commops init [DIR]`, or name one with --workspace DIR or "
        "COMMOPS_WORKSPACE.",
    ]


def test_error_workspace_option_without_config(tmp_path: Path) -> None:
    proc = commops("--workspace", str(tmp_path), "sources", cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.splitlines()[0] == f"error: --workspace {tmp_path}: no commops.toml there"


def test_error_unknown_source(synced: Cli, ws_dir: Path) -> None:
    for args in (
        ["sync", "nope"],
        ["metrics", "--source", "nope"],
        ["export", "activities", "--source", "nope"],
    ):
        proc = commops("--workspace", str(ws_dir), *args, cwd=ws_dir)
        assert proc.returncode == 1, args
        assert proc.stdout == "", args
        assert proc.stderr.splitlines() == ["error: no source named 'nope'", "Sources: repo"]


def test_error_bad_since_date(ws_dir: Path) -> None:
    proc = commops("--workspace", str(ws_dir), "metrics", "--since", "2024-13-01", cwd=ws_dir)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == ["error: --since '2024-13-01' is not a date: use YYYY-MM-DD"]


def test_error_since_after_until(ws_dir: Path) -> None:
    proc = commops(
        "-w", str(ws_dir), "metrics", "--since", "2024-02-01", "--until", "2024-01-01", cwd=ws_dir
    )
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == ["error: --since 2024-02-01 is after --until 2024-01-01"]


def test_error_add_git_not_a_repository(ws_dir: Path, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    proc = commops("--workspace", str(ws_dir), "add", "git", str(plain), cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        f"error: source 'plain': {plain} is not a git repository",
        "Point commops at a folder inside a git checkout, or a clone URL.",
    ]


def test_error_add_git_missing_path(ws_dir: Path, tmp_path: Path) -> None:
    proc = commops("--workspace", str(ws_dir), "add", "git", str(tmp_path / "gone"), cwd=tmp_path)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [f"error: source 'gone': {tmp_path / 'gone'} does not exist"]


def test_error_unknown_metric(tmp_path: Path) -> None:
    # Checked before the workspace is looked for.
    proc = commops("metrics", "sparkles", cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.splitlines() == [
        "error: no metric named 'sparkles'",
        "Metrics: active-contributors, new-contributors, returning-contributors, "
        "inactive-contributors, contribution-types, retention, stars, forks, "
        "time-to-first-response, time-to-merge, change-requests, issue-age, releases, funnel, "
        "conversion, absence-factor, elephant-factor, onion-tiers, developer-activity, "
        "repository-activity, community-openrank, engagement-levels, community-support, "
        "unanswered-questions, top-answerers, downloads, watchers, commits, merged-prs, "
        "top-contributors, totals",
    ]


def test_error_csv_needs_a_metric_name(tmp_path: Path) -> None:
    proc = commops("metrics", "--csv", cwd=tmp_path)
    assert proc.returncode == 2
    assert "--csv prints one metric" in proc.stderr


def test_error_config_not_toml(ws_dir: Path) -> None:
    config = ws_dir / "commops.toml"
    config.write_text('[database]\nurl = "sqlite:///commops.db"\nsnapshot dir = 3\n')
    proc = commops("sources", cwd=ws_dir)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        f"error: {config}: not valid TOML: Expected '=' after a key in a key/value pair "
        "(at line 3, column 10)"
    ]


def test_error_config_bad_value_keeps_section_name(ws_dir: Path) -> None:
    config = ws_dir / "commops.toml"
    config.write_text("[bots]\npatterns = [1]\n")
    proc = commops("sources", cwd=ws_dir)
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [f"error: {config}: [bots] patterns[0] must be a string"]


def test_error_sync_failure_names_source(synced: Cli, ws_dir: Path, git_repo: GitRepo) -> None:
    git_repo.git("branch", "-m", "main", "trunk")
    proc = commops("--workspace", str(ws_dir), "sync", cwd=ws_dir)
    assert proc.returncode == 1
    assert proc.stderr.splitlines()[0] == (
        f"✗ repo: source 'repo': branch 'main' not found in {git_repo.path}"
    )


def test_version(cli: CliRunner) -> None:
    result = cli.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert re.fullmatch(r"commops \d+\.\d+\.\d+\S*\n", result.stdout)


def test_quickstart_with_only_bot_commits_prints_summary(
    git_repo: GitRepo, tmp_path: Path, cli: CliRunner
) -> None:
    git_repo.commit("Bump x (#1)", author=DEPENDABOT, files={"x": "1\n"})
    result = cli.invoke(app, ["quickstart", str(git_repo.path), "--into", str(tmp_path / "qs")])
    assert result.exit_code == 0, result.exception
    assert (
        "repo: 0 commits by 0 contributors, 0 merged pull requests (bots and staff excluded)."
        in result.stdout
    )
