"""Sync runs: incremental reads, rewritten histories, remote sources, failures and resuming."""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from commops.errors import SourceError
from commops.exports import iter_activities, iter_identities
from commops.sources import add_git_source, get_sources
from commops.store.models import Source, SyncRun, SyncState
from commops.sync import SyncResult, sync_workspace
from commops.workspace import Workspace
from conftest import GitRepo

BOB = "Bob Marley <bob@example.org>"


def sync(ws: Workspace, *names: str) -> SyncResult:
    [result] = sync_workspace(ws, list(names) or None)
    return result


def sync_ok(ws: Workspace, *names: str) -> SyncResult:
    result = sync(ws, *names)
    assert result.error is None
    assert result.ok is True
    return result


def activities(ws: Workspace) -> list[dict[str, Any]]:
    return list(iter_activities(ws.store))


def commit_shas(ws: Workspace) -> list[str]:
    return sorted(a["attributes"]["sha"] for a in activities(ws) if a["kind"] == "git:commit")


def co_author_shas(ws: Workspace) -> list[str]:
    return sorted(a["attributes"]["sha"] for a in activities(ws) if a["kind"] == "git:co_authored")


def cursor(ws: Workspace, source: str = "repo") -> dict[str, Any] | None:
    with ws.store.session() as session:
        state = session.execute(
            select(SyncState)
            .join(Source, Source.id == SyncState.source_id)
            .where(Source.name == source, SyncState.stream == "commits")
        ).scalar_one_or_none()
        return None if state is None else dict(state.cursor)


def runs(ws: Workspace) -> list[tuple[str, int, int, str | None]]:
    with ws.store.session() as session:
        rows = session.execute(select(SyncRun).order_by(SyncRun.id)).scalars().all()
        return [(r.status, r.items_added, r.items_removed, r.error) for r in rows]


def rev_list(repo: GitRepo | Path, ref: str = "main") -> list[str]:
    path = repo.path if isinstance(repo, GitRepo) else repo
    out = subprocess.run(
        ["git", "-C", str(path), "rev-list", ref], capture_output=True, check=True, text=True
    ).stdout
    return sorted(out.split())


def assert_no_duplicates(ws: Workspace) -> None:
    acts = activities(ws)
    keys = Counter((a["kind"], a["attributes"]["sha"], a["actor"]["email"]) for a in acts)
    assert [k for k, n in keys.items() if n > 1] == []
    assert len({a["uid"] for a in acts}) == len(acts)


def linear(repo: GitRepo, start: int, stop: int, co_author: bool = False) -> list[str]:
    shas = []
    for i in range(start, stop):
        message = f"Commit {i}"
        if co_author:
            message += "\n\nCo-authored-by: Bob Marley <bob@example.org>"
        shas.append(
            repo.commit(
                message,
                date=f"2024-01-{i + 1:02d}T12:00:00+00:00",
                files={"counter.txt": f"{i}\n", f"f{i}.txt": "x\n"},
            )
        )
    return shas


# -- incremental -------------------------------------------------------------------------------


def test_sync_second_run_reads_only_new_commits(workspace: Workspace, git_repo: GitRepo) -> None:
    first = linear(git_repo, 0, 3)
    add_git_source(workspace.store, str(git_repo.path), name="repo")

    r1 = sync_ok(workspace)
    assert r1.added == 3
    assert cursor(workspace) == {"branch": "main", "head": first[-1], "commits": 3}

    second = linear(git_repo, 3, 5, co_author=True)
    r2 = sync_ok(workspace)
    assert (r2.added, r2.removed) == (4, 0)  # 2 commits, each with a co-author
    assert cursor(workspace) == {"branch": "main", "head": second[-1], "commits": 5}

    r3 = sync_ok(workspace)
    assert (r3.added, r3.removed) == (0, 0)
    assert cursor(workspace) == {"branch": "main", "head": second[-1], "commits": 5}

    assert commit_shas(workspace) == rev_list(git_repo)
    assert co_author_shas(workspace) == sorted(second)
    assert_no_duplicates(workspace)
    assert [r[:3] for r in runs(workspace)] == [("ok", 3, 0), ("ok", 4, 0), ("ok", 0, 0)]


def test_sync_incremental_picks_up_merged_branch(workspace: Workspace, git_repo: GitRepo) -> None:
    linear(git_repo, 0, 2)
    git_repo.git("checkout", "-q", "-b", "feature")
    side = git_repo.commit("Side work", author=BOB, date="2023-06-01T00:00:00Z", files={"s": "s"})
    git_repo.git("checkout", "-q", "main")
    add_git_source(workspace.store, str(git_repo.path), name="repo")
    sync_ok(workspace)
    linear(git_repo, 2, 3)
    git_repo.git(
        "merge", "-q", "--no-ff", "-m", "Merge pull request #5 from bob/feature", "feature"
    )

    result = sync_ok(workspace)

    assert result.added == 3  # an older side commit, the main commit and the merge
    assert side in commit_shas(workspace)
    assert commit_shas(workspace) == rev_list(git_repo)
    assert cursor(workspace)["commits"] == len(rev_list(git_repo))  # type: ignore[index]


def test_sync_force_push_is_reconciled(workspace: Workspace, git_repo: GitRepo) -> None:
    kept = linear(git_repo, 0, 3, co_author=True)
    dropped = linear(git_repo, 3, 5, co_author=True)
    add_git_source(workspace.store, str(git_repo.path), name="repo")
    sync_ok(workspace)
    assert co_author_shas(workspace) == sorted(kept + dropped)

    git_repo.git("reset", "-q", "--hard", "HEAD~2")
    new = git_repo.commit(
        "Rewritten\n\nCo-authored-by: Carol <carol@example.org>", files={"counter.txt": "new\n"}
    )
    result = sync_ok(workspace)

    assert (result.added, result.removed) == (2, 4)  # +commit +co-author, -2 x (commit, co-author)
    assert any("rewritten" in w for w in result.warnings)
    shas = commit_shas(workspace)
    assert shas == rev_list(git_repo)
    assert len(shas) == int(git_repo.git("rev-list", "--count", "main"))
    assert not set(dropped) & {a["attributes"]["sha"] for a in activities(workspace)}
    assert co_author_shas(workspace) == sorted([*kept, new])
    assert_no_duplicates(workspace)
    assert cursor(workspace) == {"branch": "main", "head": new, "commits": 4}

    again = sync_ok(workspace)
    assert (again.added, again.removed) == (0, 0)


def test_sync_branch_moved_back_removes_commits(workspace: Workspace, git_repo: GitRepo) -> None:
    kept = linear(git_repo, 0, 2)
    linear(git_repo, 2, 4, co_author=True)
    add_git_source(workspace.store, str(git_repo.path), name="repo")
    sync_ok(workspace)

    git_repo.git("reset", "-q", "--hard", kept[-1])
    result = sync_ok(workspace)

    assert (result.added, result.removed) == (0, 4)
    assert commit_shas(workspace) == sorted(kept)
    assert co_author_shas(workspace) == []
    assert cursor(workspace) == {"branch": "main", "head": kept[-1], "commits": 2}


def test_sync_history_replaced_entirely(sqlite_workspace: Workspace, git_repo: GitRepo) -> None:
    linear(git_repo, 0, 3)
    add_git_source(sqlite_workspace.store, str(git_repo.path), name="repo")
    sync_ok(sqlite_workspace)
    git_repo.git("checkout", "-q", "--orphan", "fresh")
    git_repo.git("rm", "-rq", "--cached", ".")
    new = git_repo.commit("New root", files={"n.txt": "n\n"})
    git_repo.git("branch", "-M", "main")

    result = sync_ok(sqlite_workspace)

    assert (result.added, result.removed) == (1, 3)
    assert commit_shas(sqlite_workspace) == [new]


def test_sync_branch_option_follows_that_branch(
    sqlite_workspace: Workspace, git_repo: GitRepo
) -> None:
    base = linear(git_repo, 0, 2)
    git_repo.git("checkout", "-q", "-b", "release")
    rel = git_repo.commit("Release only", files={"r": "r\n"})
    git_repo.git("checkout", "-q", "main")
    linear(git_repo, 2, 3)
    add_git_source(sqlite_workspace.store, str(git_repo.path), name="repo", branch="release")

    sync_ok(sqlite_workspace)

    assert commit_shas(sqlite_workspace) == sorted([*base, rel])


def test_sync_branch_wins_over_tag_of_same_name(
    sqlite_workspace: Workspace, git_repo: GitRepo
) -> None:
    linear(git_repo, 0, 1)
    git_repo.git("tag", "main")
    linear(git_repo, 1, 3)
    add_git_source(sqlite_workspace.store, str(git_repo.path), name="repo")

    sync_ok(sqlite_workspace)

    assert commit_shas(sqlite_workspace) == rev_list(git_repo, "refs/heads/main")
    assert len(commit_shas(sqlite_workspace)) == 3


def test_sync_two_sources_same_commits_keep_their_own_activities(
    sqlite_workspace: Workspace, git_repo: GitRepo, tmp_path: Path
) -> None:
    linear(git_repo, 0, 3)
    copy = tmp_path / "copy"
    subprocess.run(["git", "clone", "-q", str(git_repo.path), str(copy)], check=True)
    add_git_source(sqlite_workspace.store, str(git_repo.path), name="one")
    add_git_source(sqlite_workspace.store, str(copy), name="two")

    results = sync_workspace(sqlite_workspace)

    assert [(r.source, r.added) for r in results] == [("one", 3), ("two", 3)]
    assert Counter(a["source"] for a in activities(sqlite_workspace)) == {"one": 3, "two": 3}


# -- remote sources ----------------------------------------------------------------------------


def test_sync_url_source_cloned_then_fetched(
    workspace: Workspace, git_repo: GitRepo, tmp_path: Path
) -> None:
    linear(git_repo, 0, 3, co_author=True)
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(git_repo.path), str(remote)], check=True)
    url = remote.as_uri()
    src = add_git_source(workspace.store, url)
    assert (src.name, src.location, src.options["branch"]) == ("remote", url, "main")

    assert sync_ok(workspace).added == 6
    clones = list((workspace.cache_dir / "git").iterdir())
    assert len(clones) == 1
    assert (clones[0] / "HEAD").is_file()
    assert not (clones[0] / ".git").exists()  # bare
    assert commit_shas(workspace) == rev_list(remote)

    # New commits reach the remote: the next sync fetches them.
    linear(git_repo, 3, 5)
    git_repo.git("push", "-q", str(remote), "main")
    assert sync_ok(workspace).added == 2
    assert commit_shas(workspace) == rev_list(remote)

    # A force-push to the remote is fetched and reconciled.
    git_repo.git("reset", "-q", "--hard", "HEAD~3")
    git_repo.commit("Rewritten", files={"counter.txt": "rewritten\n"})
    git_repo.git("push", "-q", "--force", str(remote), "main")
    result = sync_ok(workspace)
    assert (result.added, result.removed) == (1, 4)  # -(commit 2 + co-author), -commits 3, 4
    assert commit_shas(workspace) == rev_list(remote)
    assert_no_duplicates(workspace)


def test_sync_url_sources_with_similar_names_use_separate_clones(
    sqlite_workspace: Workspace, tmp_path: Path
) -> None:
    remotes = []
    for i, who in enumerate(("Ada <ada@example.org>", BOB)):
        repo = GitRepo(tmp_path / f"work{i}")
        repo.commit(f"Repo {i}", author=who, files={"a": f"{i}\n"})
        remote = tmp_path / f"remote{i}.git"
        subprocess.run(["git", "clone", "-q", "--bare", str(repo.path), str(remote)], check=True)
        remotes.append(remote)
    add_git_source(sqlite_workspace.store, remotes[0].as_uri(), name="org/app")
    add_git_source(sqlite_workspace.store, remotes[1].as_uri(), name="org_app")

    results = sync_workspace(sqlite_workspace)

    assert [(r.source, r.ok, r.added) for r in results] == [
        ("org/app", True, 1),
        ("org_app", True, 1),
    ]
    assert len(list((sqlite_workspace.cache_dir / "git").iterdir())) == 2
    by_source = {a["source"]: a["attributes"]["sha"] for a in activities(sqlite_workspace)}
    assert by_source == {"org/app": rev_list(remotes[0])[0], "org_app": rev_list(remotes[1])[0]}


def test_sync_unreachable_url_rejected_naming_the_source(sqlite_workspace: Workspace) -> None:
    url = "http://127.0.0.1:9/nope.git"
    with pytest.raises(SourceError, match=r"source 'nope': http://127\.0\.0\.1:9/nope\.git"):
        add_git_source(sqlite_workspace.store, url)
    with pytest.raises(SourceError, match=r"source 'x': http://127\.0\.0\.1:9/nope\.git"):
        add_git_source(sqlite_workspace.store, url, name="x", branch="main")
    assert get_sources(sqlite_workspace.store) == []


def test_sync_remote_gone_fails_and_keeps_data(
    sqlite_workspace: Workspace, git_repo: GitRepo, tmp_path: Path
) -> None:
    linear(git_repo, 0, 2)
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(git_repo.path), str(remote)], check=True)
    add_git_source(sqlite_workspace.store, remote.as_uri(), name="remote")
    sync_ok(sqlite_workspace)
    before = activities(sqlite_workspace)
    moved = remote.rename(tmp_path / "moved.git")

    result = sync(sqlite_workspace)

    assert result.ok is False
    assert result.error is not None
    assert result.error.startswith(f"source 'remote': fetching {remote.as_uri()} failed")
    assert activities(sqlite_workspace) == before

    moved.rename(remote)
    linear(git_repo, 2, 3)
    git_repo.git("push", "-q", str(remote), "main")
    assert sync_ok(sqlite_workspace).added == 1


def test_sync_first_clone_failure_leaves_no_clone(
    sqlite_workspace: Workspace, git_repo: GitRepo, tmp_path: Path
) -> None:
    linear(git_repo, 0, 2)
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(git_repo.path), str(remote)], check=True)
    add_git_source(sqlite_workspace.store, remote.as_uri(), name="remote")
    moved = remote.rename(tmp_path / "moved.git")

    result = sync(sqlite_workspace)

    assert result.ok is False
    assert result.error is not None
    assert result.error.startswith(f"source 'remote': cloning {remote.as_uri()} failed")
    assert list((sqlite_workspace.cache_dir / "git").iterdir()) == []
    assert cursor(sqlite_workspace, "remote") is None
    assert [r[0] for r in runs(sqlite_workspace)] == ["failed"]

    moved.rename(remote)
    assert sync_ok(sqlite_workspace).added == 2


# -- bad input ---------------------------------------------------------------------------------


def test_sync_path_not_a_repository_rejected(sqlite_workspace: Workspace, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(SourceError, match=r"source 'plain': .*plain is not a git repository"):
        add_git_source(sqlite_workspace.store, str(plain))
    with pytest.raises(SourceError, match=r"source 'gone': .*missing does not exist"):
        add_git_source(sqlite_workspace.store, str(tmp_path / "missing"), name="gone")
    assert get_sources(sqlite_workspace.store) == []


def test_sync_repository_removed_after_adding_fails_clearly(
    sqlite_workspace: Workspace, git_repo: GitRepo
) -> None:
    linear(git_repo, 0, 2)
    add_git_source(sqlite_workspace.store, str(git_repo.path), name="repo")
    sync_ok(sqlite_workspace)
    shutil.rmtree(git_repo.path)

    result = sync(sqlite_workspace)

    assert result.ok is False
    assert result.error is not None
    assert result.error.startswith(f"source 'repo': {git_repo.path} does not exist")
    assert len(commit_shas(sqlite_workspace)) == 2


def test_sync_empty_repository_fails_clearly(sqlite_workspace: Workspace, tmp_path: Path) -> None:
    empty = GitRepo(tmp_path / "empty")
    add_git_source(sqlite_workspace.store, str(empty.path), name="empty")

    result = sync(sqlite_workspace)

    assert result.ok is False
    assert result.error is not None
    assert result.error.startswith("source 'empty': ")
    assert "empty repository" in result.error
    assert cursor(sqlite_workspace, "empty") is None

    # Once it has commits, the same source syncs.
    empty.commit("First", files={"a": "1\n"})
    assert sync_ok(sqlite_workspace).added == 1


def test_sync_empty_remote_repository_fails_clearly(
    sqlite_workspace: Workspace, tmp_path: Path
) -> None:
    remote = tmp_path / "empty.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    with pytest.raises(SourceError, match=r"source 'empty': .* is an empty repository"):
        add_git_source(sqlite_workspace.store, remote.as_uri(), name="empty")
    add_git_source(sqlite_workspace.store, remote.as_uri(), name="empty", branch="main")

    result = sync(sqlite_workspace)

    assert result.ok is False
    assert result.error is not None
    assert result.error.startswith("source 'empty': ")
    assert "empty repository" in result.error


def test_sync_missing_branch_rejected(
    sqlite_workspace: Workspace, git_repo: GitRepo, tmp_path: Path
) -> None:
    linear(git_repo, 0, 1)
    with pytest.raises(SourceError, match=r"source 'repo': branch 'nope' not found"):
        add_git_source(sqlite_workspace.store, str(git_repo.path), name="repo", branch="nope")
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(git_repo.path), str(remote)], check=True)
    with pytest.raises(SourceError, match=r"source 'remote': branch 'nope' not found"):
        add_git_source(sqlite_workspace.store, remote.as_uri(), branch="nope")
    assert get_sources(sqlite_workspace.store) == []
    add_git_source(sqlite_workspace.store, remote.as_uri(), branch="main")
    assert sync_ok(sqlite_workspace).added == 1


def test_sync_branch_deleted_after_adding_fails_clearly(
    sqlite_workspace: Workspace, git_repo: GitRepo
) -> None:
    linear(git_repo, 0, 1)
    git_repo.git("branch", "topic")
    add_git_source(sqlite_workspace.store, str(git_repo.path), name="repo", branch="topic")
    git_repo.git("branch", "-D", "topic")

    result = sync(sqlite_workspace)

    assert result.ok is False
    assert result.error is not None
    assert result.error.startswith("source 'repo': branch 'topic' not found")


def test_sync_unknown_source_name_rejected(sqlite_workspace: Workspace) -> None:
    with pytest.raises(SourceError, match="no source named 'ghost'"):
        sync_workspace(sqlite_workspace, ["ghost"])


# -- failures and resuming ---------------------------------------------------------------------


def _loose_object(repo: GitRepo, sha: str) -> Path:
    path = repo.path / ".git" / "objects" / sha[:2] / sha[2:]
    assert path.is_file()
    return path


def test_sync_resumes_after_git_log_fails_midway(workspace: Workspace, git_repo: GitRepo) -> None:
    git_repo.git("config", "gc.auto", "0")
    first = linear(git_repo, 0, 2)
    add_git_source(workspace.store, str(git_repo.path), name="repo")
    sync_ok(workspace)
    before = activities(workspace)
    people = list(iter_identities(workspace.store))

    broken = git_repo.commit("Add the middle file", files={"middle.txt": "m\n"})
    linear(git_repo, 2, 4, co_author=True)
    blob = _loose_object(git_repo, git_repo.git("rev-parse", f"{broken}:middle.txt"))
    saved = blob.read_bytes()
    blob.unlink()

    result = sync(workspace)

    assert result.ok is False
    assert result.error is not None
    assert result.error.startswith("source 'repo': git log failed while reading commit " + broken)
    assert activities(workspace) == before
    assert list(iter_identities(workspace.store)) == people  # Bob, the co-author, not kept
    assert cursor(workspace) == {"branch": "main", "head": first[-1], "commits": 2}
    assert [r[0] for r in runs(workspace)] == ["ok", "failed"]
    assert runs(workspace)[-1][3] == result.error

    blob.write_bytes(saved)
    again = sync_ok(workspace)
    assert again.added == 5  # 3 commits, 2 co-authors
    assert commit_shas(workspace) == rev_list(git_repo)
    assert_no_duplicates(workspace)


def test_sync_first_import_failure_records_nothing(
    sqlite_workspace: Workspace, git_repo: GitRepo
) -> None:
    git_repo.git("config", "gc.auto", "0")
    linear(git_repo, 0, 2)
    broken = git_repo.commit("Add the middle file", files={"middle.txt": "m\n"})
    linear(git_repo, 2, 4)
    blob = _loose_object(git_repo, git_repo.git("rev-parse", f"{broken}:middle.txt"))
    saved = blob.read_bytes()
    blob.unlink()
    add_git_source(sqlite_workspace.store, str(git_repo.path), name="repo")

    result = sync(sqlite_workspace)

    assert result.ok is False
    assert result.error is not None
    assert broken in result.error
    assert activities(sqlite_workspace) == []
    assert cursor(sqlite_workspace) is None
    with sqlite_workspace.store.session() as session:
        source = session.execute(select(Source)).scalar_one()
        assert source.last_synced_at is None

    blob.write_bytes(saved)
    assert sync_ok(sqlite_workspace).added == 5


def test_sync_missing_tree_names_the_commit_being_read(
    sqlite_workspace: Workspace, git_repo: GitRepo
) -> None:
    git_repo.git("config", "gc.auto", "0")
    shas = linear(git_repo, 0, 4)
    add_git_source(sqlite_workspace.store, str(git_repo.path), name="repo")
    # git diffs commit 2 against commit 1's tree before it prints commit 2.
    tree = _loose_object(git_repo, git_repo.git("rev-parse", f"{shas[1]}^{{tree}}"))
    saved = tree.read_bytes()
    tree.unlink()

    result = sync(sqlite_workspace)

    assert result.ok is False
    assert result.error is not None
    assert result.error.startswith("source 'repo': git log failed while reading commit " + shas[2])
    assert activities(sqlite_workspace) == []

    tree.write_bytes(saved)
    assert sync_ok(sqlite_workspace).added == 4


def test_sync_missing_commit_object_fails_clearly(
    sqlite_workspace: Workspace, git_repo: GitRepo
) -> None:
    git_repo.git("config", "gc.auto", "0")
    shas = linear(git_repo, 0, 4)
    add_git_source(sqlite_workspace.store, str(git_repo.path), name="repo")
    commit = _loose_object(git_repo, shas[1])
    saved = commit.read_bytes()
    commit.unlink()

    result = sync(sqlite_workspace)

    assert result.ok is False
    assert result.error is not None
    assert result.error.startswith("source 'repo': ")
    assert shas[1] in result.error
    assert activities(sqlite_workspace) == []

    commit.write_bytes(saved)
    assert sync_ok(sqlite_workspace).added == 4
