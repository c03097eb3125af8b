"""Shared fixtures: real git repositories, real databases, real workspaces. No mocks of our code."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from commops.workspace import Workspace, init_workspace
from replay import Replay

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
POSTGRES_ENV = "COMMOPS_TEST_POSTGRES_URL"


def shared_data(*parts: str) -> Path:
    """A path under ../shared/data, or a skip that says why."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent: the real-data tests need ../shared/data beside the repo")
    return path


def _people_env(author: str, committer: str, date: str, commit_date: str) -> dict[str, str]:
    a_name, a_email = author.rsplit(" <", 1)
    c_name, c_email = committer.rsplit(" <", 1)
    return {
        "GIT_AUTHOR_NAME": a_name,
        "GIT_AUTHOR_EMAIL": a_email.rstrip(">"),
        "GIT_COMMITTER_NAME": c_name,
        "GIT_COMMITTER_EMAIL": c_email.rstrip(">"),
        "GIT_AUTHOR_DATE": date,
        "GIT_COMMITTER_DATE": commit_date,
    }


class GitRepo:
    """A real git repository built inside a test, with full control over authors and dates."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True, exist_ok=True)
        self.git("init", "-q", "-b", "main")
        self.git("config", "commit.gpgsign", "false")

    def git(self, *args: str, env: dict[str, str] | None = None, input: bytes | None = None) -> str:
        full_env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "LC_ALL": "C", **(env or {})}
        proc = subprocess.run(
            ["git", "-C", str(self.path), *args],
            capture_output=True,
            env=full_env,
            input=input,
            check=False,
        )
        if proc.returncode != 0:
            raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr.decode()}")
        return proc.stdout.decode("utf-8", "replace").strip()

    def write(self, name: str, content: str | bytes) -> None:
        target = self.path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            content = content.encode()
        target.write_bytes(content)

    def commit(
        self,
        message: str,
        *,
        author: str = "Ada Lovelace <ada@example.org>",
        committer: str | None = None,
        date: str = "2024-01-15T10:00:00+08:00",
        commit_date: str | None = None,
        files: dict[str, str | bytes] | None = None,
        allow_empty: bool = False,
    ) -> str:
        for name, content in (files or {}).items():
            self.write(name, content)
        self.git("add", "-A")
        args = ["commit", "-q", "--no-verify", "-m", message]
        if allow_empty:
            args.append("--allow-empty")
        self.git(*args, env=_people_env(author, committer or author, date, commit_date or date))
        return self.head()

    def merge(
        self,
        branch: str,
        message: str,
        *,
        author: str = "Ada Lovelace <ada@example.org>",
        date: str = "2024-01-15T10:00:00+08:00",
    ) -> str:
        """A merge commit (``--no-ff``) of ``branch`` into the current branch."""
        self.git(
            "merge",
            "--no-ff",
            "-q",
            "-m",
            message,
            branch,
            env=_people_env(author, author, date, date),
        )
        return self.head()

    def head(self) -> str:
        return self.git("rev-parse", "HEAD")


@pytest.fixture
def git_repo(tmp_path: Path) -> GitRepo:
    return GitRepo(tmp_path / "repo")


def _postgres_url() -> str | None:
    return os.environ.get(POSTGRES_ENV) or None


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database of each supported kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'commops.db'}"
        return
    base = _postgres_url()
    if base is None:
        pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV} (set by .ci/run and `make services`)")
    name = f"commops_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture
def workspace(tmp_path: Path, database_url: str) -> Iterator[Workspace]:
    """A workspace on each supported database."""
    ws, _ = init_workspace(tmp_path / "ws", database_url)
    try:
        yield ws
    finally:
        ws.close()


@pytest.fixture
def sqlite_workspace(tmp_path: Path) -> Iterator[Workspace]:
    ws, _ = init_workspace(tmp_path / "ws")
    try:
        yield ws
    finally:
        ws.close()


@pytest.fixture
def cli() -> CliRunner:
    return CliRunner()


@pytest.fixture
def replay() -> Iterator[Replay]:
    """A real HTTP server on 127.0.0.1 replaying recorded responses (tests/replay.py)."""
    with Replay() as server:
        yield server


@pytest.fixture
def history(git_repo: GitRepo, sqlite_workspace: Workspace) -> Workspace:
    """The hand-counted git history of test_metrics.py, imported (SQLite)."""
    from test_metrics import add_and_sync, build_history

    build_history(git_repo)
    add_and_sync(sqlite_workspace, git_repo, "repo")
    return sqlite_workspace


@pytest.fixture
def org(sqlite_workspace: Workspace, replay: Replay) -> Workspace:
    """The hand-counted GitHub organisation of test_github.py (``build_org``), synced."""
    from commops.sync import sync_workspace
    from test_github import FakeHub, add_org, build_org

    hub = FakeHub(replay)
    build_org(hub)
    add_org(sqlite_workspace, hub)
    (result,) = sync_workspace(sqlite_workspace)
    assert result.ok, result.error
    return sqlite_workspace
