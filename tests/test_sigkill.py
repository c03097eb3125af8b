"""`commops sync` killed with SIGKILL at random points, then run again, ends with exactly the data
of a run that was never interrupted: nothing lost, nothing twice, cursors where they belong."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from commops.exports import iter_activities
from commops.sources import list_sources
from commops.workspace import init_workspace, open_workspace

TRIALS = 20


def _fast_import_repo(path: Path, seed: int, commits: int) -> None:
    """A repository with `commits` commits by a handful of authors, built in one git process."""
    rng = random.Random(seed)
    authors = [f"Dev {i} <dev{i}.{seed}@example.org>" for i in range(7)]
    lines = []
    for n in range(1, commits + 1):
        who = rng.choice(authors)
        when = 1_600_000_000 + n * 3600
        message = f"Change {n} (#{n})\n\nCo-authored-by: {rng.choice(authors)}\n"
        content = f"line {n}\n" * rng.randint(1, 5)
        lines += [
            "commit refs/heads/main",
            f"mark :{n}",
            f"author {who} {when} +0800",
            f"committer {who} {when} +0800",
            f"data {len(message.encode())}",
            message,
        ]
        if n > 1:
            lines.append(f"from :{n - 1}")
        lines += [f"M 644 inline f{n % 13}.txt", f"data {len(content.encode())}", content]
    path.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(path)], check=True)
    subprocess.run(
        ["git", "-C", str(path), "fast-import", "--quiet"],
        input="\n".join(lines).encode() + b"\n",
        check=True,
    )
    subprocess.run(["git", "-C", str(path), "checkout", "-q", "main"], check=True)


def _sync_cmd(ws: Path) -> list[str]:
    return [sys.executable, "-m", "commops", "--workspace", str(ws), "sync", "--json"]


def _state(ws_dir: Path) -> dict[str, Any]:
    ws = open_workspace(ws_dir)
    try:
        uids = sorted(a["uid"] for a in iter_activities(ws.store))
        cursors = {s.name: s.cursors for s in list_sources(ws.store)}
        return {"uids": uids, "cursors": cursors}
    finally:
        ws.close()


def _workspace(root: Path, repos: list[Path]) -> Path:
    ws, _ = init_workspace(root)
    try:
        from commops.sources import add_git_source

        for repo in repos:
            add_git_source(ws.store, str(repo), name=repo.name)
    finally:
        ws.close()
    return root


@pytest.fixture(scope="module")
def repos(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    base = tmp_path_factory.mktemp("repos")
    out = []
    for i, commits in enumerate((400, 250, 150)):
        path = base / f"repo{i}"
        _fast_import_repo(path, seed=i, commits=commits)
        out.append(path)
    return out


def test_sync_killed_at_random_points_ends_equal_to_uninterrupted(
    repos: list[Path], tmp_path: Path
) -> None:
    reference = _workspace(tmp_path / "reference", repos)
    started = time.monotonic()
    done = subprocess.run(_sync_cmd(reference), capture_output=True, check=False)
    duration = time.monotonic() - started
    assert done.returncode == 0, done.stderr.decode()
    expected = _state(reference)
    assert len(expected["uids"]) > 800

    rng = random.Random(20261127)
    killed_midway = 0
    for trial in range(TRIALS):
        ws = _workspace(tmp_path / f"trial{trial}", repos)
        proc = subprocess.Popen(_sync_cmd(ws), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.0, duration))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            killed_midway += 1
        proc.wait()
        again = subprocess.run(_sync_cmd(ws), capture_output=True, check=False)
        assert again.returncode == 0, (trial, again.stderr.decode())
        results = json.loads(again.stdout)
        assert all(r["ok"] for r in results), (trial, results)
        assert _state(ws) == expected, f"trial {trial} differs from the uninterrupted run"
    assert killed_midway >= TRIALS // 2, "most trials must kill a running sync"


def _github_workspace(root: Path, api_url: str) -> Path:
    from commops.sources import add_source

    ws, _ = init_workspace(root)
    try:
        add_source(ws.store, "github", "octo-org", name="gh", options={"api_url": api_url})
    finally:
        ws.close()
    return root


def test_github_sync_killed_at_random_points_ends_equal_to_uninterrupted(
    replay: Any, tmp_path: Path
) -> None:
    """The same for an API source that commits page by page: the replay server runs in this
    process, `commops sync` in a child that is killed mid-way through its pages."""
    sys.path.insert(0, str(Path(__file__).parent / "data" / "github"))
    from fakehub import FakeHub

    hub = FakeHub(replay)
    for n in range(1, 451):
        day = f"2024-{1 + n % 12:02d}-{1 + n % 28:02d}"
        hub.issue(
            "app",
            n,
            author=f"user{n % 9}",
            created=f"{day}T09:00:00Z",
            updated=f"{day}T{10 + n % 12:02d}:{n % 60:02d}:00Z",
        )
        hub.comment("app", n, author=f"helper{n % 5}", created=f"{day}T10:00:00Z")
    for i in range(150):
        hub.star("app", f"fan{i}", f"2024-03-{1 + i % 28:02d}T{i % 24:02d}:00:00Z")

    def state(ws_dir: Path) -> dict[str, Any]:
        got = _state(ws_dir)
        # The repository snapshot's and the releases' cursors hold when they were read (their
        # counters are observations of that moment), not a position in a list.
        got["cursors"] = {
            name: {k: v for k, v in streams.items() if k not in ("repos", "releases")}
            for name, streams in got["cursors"].items()
        }
        return got

    reference = _github_workspace(tmp_path / "reference", hub.api_url)
    started = time.monotonic()
    done = subprocess.run(_sync_cmd(reference), capture_output=True, check=False)
    duration = time.monotonic() - started
    assert done.returncode == 0, done.stderr.decode()
    expected = state(reference)
    assert len(expected["uids"]) > 1000

    rng = random.Random(7)
    killed_midway = 0
    for trial in range(TRIALS):
        ws = _github_workspace(tmp_path / f"trial{trial}", hub.api_url)
        proc = subprocess.Popen(_sync_cmd(ws), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.0, duration))
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            killed_midway += 1
        proc.wait()
        again = subprocess.run(_sync_cmd(ws), capture_output=True, check=False)
        assert again.returncode == 0, (trial, again.stderr.decode())
        got = state(ws)
        diff = {
            stream: (value, expected["cursors"]["gh"].get(stream))
            for stream, value in got["cursors"]["gh"].items()
            if value != expected["cursors"]["gh"].get(stream)
        }
        assert got == expected, f"trial {trial} differs from the uninterrupted run: {diff}"
    assert killed_midway >= TRIALS // 2, "most trials must kill a running sync"
