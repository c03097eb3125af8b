"""The Sources page and API: status, history, adding a git source, and syncs that run in the
background — a real git repository built here, synced through the app, its activities in the
store and in the metrics afterwards; a failing source shows its error and keeps its data."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from commops.ops.core import history, ops_source
from commops.store.models import Activity
from commops.web import jobs
from commops.workspace import Workspace
from conftest import GitRepo
from webkit import WebClient, add_role_users, client_as, demo_workspace, token_client, web_app

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Workspace, FastAPI, Path]]:
    root = tmp_path_factory.mktemp("web_sources")
    ws = demo_workspace(root / "ws", members=60, months=6)
    app = web_app(ws)
    yield ws, app, root
    jobs.runner(app).shutdown()
    ws.close()


@pytest.fixture(scope="module")
def operator(env: tuple[Workspace, FastAPI, Path]) -> Iterator[WebClient]:
    client = client_as(env[1], "operator")
    yield client
    client.close()


@pytest.fixture(scope="module")
def viewer(env: tuple[Workspace, FastAPI, Path]) -> Iterator[WebClient]:
    client = client_as(env[1], "viewer")
    yield client
    client.close()


def build_repo(path: Path, commits: int = 3) -> GitRepo:
    return fill(GitRepo(path), commits)


def fill(repo: GitRepo, commits: int) -> GitRepo:
    for i in range(commits):
        repo.commit(
            f"change {i}",
            author="Grace Hopper <grace@example.org>"
            if i % 2
            else "Ada Lovelace <ada@example.org>",
            date=f"2024-01-{10 + i:02d}T10:00:00+00:00",
            files={f"f{i}.txt": str(i)},
        )
    return repo


def add_git(client: WebClient, location: Path, name: str) -> int:
    response = client.form("/sources", {"location": str(location), "name": name})
    assert response.status_code == 303, response.text
    target = response.headers["location"]
    assert target.startswith("/sources/")
    return int(target.rsplit("/", 1)[1])


def wait_for(client: WebClient, job_id: int, timeout: float = 60.0) -> dict[str, Any]:
    """Poll the job API as a browser script would, until the job has ended."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(f"/api/v1/jobs/{job_id}").json()
        if job["state"] in ("done", "failed"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} did not end within {timeout}s")


def start_sync(client: WebClient, source_id: int) -> dict[str, Any]:
    response = client.post(
        f"/api/v1/sources/{source_id}/sync", headers={"X-CSRF-Token": client.csrf}
    )
    assert response.status_code == 202, response.text
    body: dict[str, Any] = response.json()
    assert response.headers["location"] == f"/api/v1/jobs/{body['id']}"
    return body


def count_activities(ws: Workspace, source_id: int) -> int:
    with ws.store.session() as session:
        return int(
            session.execute(
                select(func.count()).select_from(Activity).where(Activity.source_id == source_id)
            ).scalar_one()
        )


def commits_in(app: FastAPI, month: date) -> float:
    result = app.state.insights.result("commits", period="month")
    return sum(float(r.get("commits") or 0) for r in result.rows if r["period"] == month)


def test_sources_page_lists_every_source_with_its_status(
    env: tuple[Workspace, FastAPI, Path], viewer: WebClient, operator: WebClient
) -> None:
    ws, _, root = env
    source_id = add_git(operator, build_repo(root / "listed-repo", commits=1).path, "listed")
    rows = jobs.source_rows(ws)
    page = viewer.get("/sources")
    assert page.status_code == 200
    for row in rows:
        assert f'data-source="{row.name}"' in page.text
    assert "Sync now" not in page.text  # a viewer sees, does not start
    assert 'action="/sources"' not in page.text
    op_page = operator.get("/sources")
    assert f'action="/sources/{source_id}/sync"' in op_page.text
    assert 'action="/sources"' in op_page.text
    # what `commops demo` made leads nowhere: no sync offered
    demo = [r for r in rows if r.location.startswith("demo://")]
    assert demo
    assert not any(r.syncable for r in demo)
    assert f'action="/sources/{demo[0].id}/sync"' not in op_page.text


def test_sources_api_pages_and_filters(
    env: tuple[Workspace, FastAPI, Path], viewer: WebClient
) -> None:
    ws, _, _ = env
    everything = viewer.get("/api/v1/sources").json()
    assert everything["total"] == len(jobs.source_rows(ws)) >= 3
    page = viewer.get("/api/v1/sources", params={"limit": 2, "offset": 1}).json()
    assert page["limit"] == 2
    assert page["offset"] == 1
    assert [s["name"] for s in page["items"]] == [s["name"] for s in everything["items"][1:3]]
    kind = everything["items"][0]["kind"]
    only = viewer.get("/api/v1/sources", params={"kind": kind}).json()
    assert only["items"]
    assert all(s["kind"] == kind for s in only["items"])
    first = everything["items"][0]
    detail = viewer.get(f"/api/v1/sources/{first['id']}").json()
    assert detail["name"] == first["name"]
    assert isinstance(detail["runs"], list)
    bad = viewer.get("/api/v1/sources", params={"last_run": "sometimes"})
    assert bad.status_code == 422
    assert bad.headers["content-type"] == PROBLEM
    missing = viewer.get("/api/v1/sources/999999")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == PROBLEM
    assert viewer.get("/api/v1/jobs/999999").status_code == 404
    assert viewer.get("/sources/999999").status_code == 404


def test_sync_through_the_app_imports_and_refreshes_metrics(
    env: tuple[Workspace, FastAPI, Path], operator: WebClient, viewer: WebClient
) -> None:
    ws, app, root = env
    repo = build_repo(root / "good-repo", commits=3)
    source_id = add_git(operator, repo.path, "good-repo")
    assert count_activities(ws, source_id) == 0
    assert commits_in(app, date(2024, 1, 1)) == 0
    version = app.state.insights.version

    job = start_sync(operator, source_id)
    assert job["source"] == "good-repo"
    assert job["state"] in ("queued", "running", "done")
    ended = wait_for(viewer, job["id"])

    assert ended["state"] == "done", ended
    assert ended["error"] is None
    assert ended["actor"] == "web:operator"
    assert ended["added"] == count_activities(ws, source_id) > 0
    assert app.state.insights.version > version
    assert commits_in(app, date(2024, 1, 1)) == 3
    page = viewer.get(f"/sources/jobs/{job['id']}")
    assert page.status_code == 200
    assert 'data-job-state="done"' in page.text
    assert "refresh" not in {k.lower() for k in page.headers}  # ended: no more reloading
    source = viewer.get(f"/api/v1/sources/{source_id}").json()
    assert source["last_run"] == "ok"
    assert source["runs"][0]["status"] == "ok"
    assert source["last_synced_at"] is not None
    with ws.store.session() as session:
        actions = [(e.action, e.actor) for e in history(session, "source", source_id)]
    assert actions == [("add", "web:operator"), ("sync", "web:operator")]
    listed = viewer.get("/api/v1/jobs", params={"source": "good-repo", "state": "done"}).json()
    assert [j["id"] for j in listed["items"]] == [job["id"]]


def test_a_second_sync_of_a_busy_source_is_refused(
    env: tuple[Workspace, FastAPI, Path], operator: WebClient, viewer: WebClient
) -> None:
    ws, app, root = env
    repo = build_repo(root / "busy-repo", commits=2)
    source_id = add_git(operator, repo.path, "busy-repo")
    runner = jobs.runner(app)
    hold = threading.Event()
    runner._pool.submit(hold.wait)  # keep the one worker busy: the sync stays queued
    try:
        page = operator.form(f"/sources/{source_id}/sync")
        assert page.status_code == 303
        job_id = int(page.headers["location"].rsplit("/", 1)[1])
        queued = viewer.get(f"/sources/jobs/{job_id}")
        assert 'data-job-state="queued"' in queued.text
        assert queued.headers["refresh"] == "2"
        again = operator.post(
            f"/api/v1/sources/{source_id}/sync", headers={"X-CSRF-Token": operator.csrf}
        )
        assert again.status_code == 409
        assert again.headers["content-type"] == PROBLEM
        assert "already being synced" in again.json()["detail"]
        assert f"job {job_id}" in again.json()["detail"]
        detail = operator.get(f"/sources/{source_id}")
        assert f'href="/sources/jobs/{job_id}"' in detail.text
    finally:
        hold.set()
    assert wait_for(viewer, job_id)["state"] == "done"
    assert count_activities(ws, source_id) == 2


def test_a_failing_source_shows_its_error_and_keeps_its_data(
    env: tuple[Workspace, FastAPI, Path], operator: WebClient, viewer: WebClient
) -> None:
    ws, _, root = env
    repo = build_repo(root / "doomed-repo", commits=2)
    source_id = add_git(operator, repo.path, "doomed-repo")
    assert wait_for(viewer, start_sync(operator, source_id)["id"])["state"] == "done"
    stored = count_activities(ws, source_id)
    assert stored == 2
    shutil.rmtree(repo.path)

    ended = wait_for(viewer, start_sync(operator, source_id)["id"])

    assert ended["state"] == "failed"
    assert "doomed-repo" in ended["error"]
    assert str(repo.path) in ended["error"]
    assert count_activities(ws, source_id) == stored
    listed = viewer.get("/sources").text
    assert ended["error"] in listed.replace("&#39;", "'")
    detail = viewer.get(f"/api/v1/sources/{source_id}").json()
    assert detail["last_run"] == "failed"
    assert detail["last_error"] == ended["error"]
    assert [r["status"] for r in detail["runs"]] == ["failed", "ok"]
    failed_only = viewer.get("/api/v1/sources", params={"last_run": "failed"}).json()
    assert source_id in [s["id"] for s in failed_only["items"]]
    assert 'data-state="failed"' in viewer.get(f"/sources/{source_id}").text


def test_adding_a_bad_git_source_says_why_and_adds_nothing(
    env: tuple[Workspace, FastAPI, Path], operator: WebClient
) -> None:
    ws, _, root = env
    before = len(jobs.source_rows(ws))
    missing = root / "no-such-repo"
    response = operator.post(
        "/api/v1/sources",
        json={"location": str(missing), "name": "nothing"},
        headers={"X-CSRF-Token": operator.csrf},
    )
    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM
    assert str(missing) in response.json()["detail"]
    page = operator.form("/sources", {"location": str(missing)})
    assert page.status_code == 409
    assert "does not exist" in page.text
    invalid = operator.post(
        "/api/v1/sources",
        json={"location": "", "name": "bad name!"},
        headers={"X-CSRF-Token": operator.csrf},
    )
    assert invalid.status_code == 422
    assert invalid.headers["content-type"] == PROBLEM
    assert len(jobs.source_rows(ws)) == before


def test_the_api_adds_a_git_source_with_201(
    env: tuple[Workspace, FastAPI, Path], operator: WebClient
) -> None:
    _, _, root = env
    repo = build_repo(root / "api-repo", commits=1)
    response = operator.post(
        "/api/v1/sources",
        json={"location": str(repo.path), "name": "api-repo", "branch": "main"},
        headers={"X-CSRF-Token": operator.csrf},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["name"] == "api-repo"
    assert body["kind"] == "git"
    assert body["branch"] == "main"
    assert body["last_run"] is None
    assert body["activities"] == 0
    clash = operator.post(
        "/api/v1/sources",
        json={"location": str(repo.path), "name": "api-repo"},
        headers={"X-CSRF-Token": operator.csrf},
    )
    assert clash.status_code == 409
    assert "already exists" in clash.json()["detail"]


def test_only_operators_and_admins_change_sources(env: tuple[Workspace, FastAPI, Path]) -> None:
    ws, app, _ = env
    source_id = jobs.source_rows(ws)[0].id
    viewer = client_as(app, "viewer")
    reviewer = client_as(app, "reviewer")
    nobody = client_as(app, None)
    admin = client_as(app, "admin")
    read_only = token_client(ws, app, "admin", ("read",))
    try:
        assert viewer.form(f"/sources/{source_id}/sync").status_code == 403
        assert viewer.form("/sources", {"location": "/tmp"}).status_code == 403
        assert reviewer.get("/sources").status_code == 403
        assert reviewer.get("/api/v1/jobs").status_code == 403
        assert nobody.get("/sources").status_code == 303  # to the sign-in page
        assert nobody.get("/api/v1/sources").status_code == 401
        assert read_only.get("/api/v1/sources").status_code == 200
        denied = read_only.post(f"/api/v1/sources/{source_id}/sync")
        assert denied.status_code == 403
        assert denied.headers["content-type"] == PROBLEM
        assert "Sync now" in admin.get("/sources").text
        # without the form's CSRF token, even an operator's post is refused
        operator = client_as(app, "operator")
        assert operator.post(f"/sources/{source_id}/sync").status_code == 403
        operator.close()
    finally:
        for client in (viewer, reviewer, nobody, admin, read_only):
            client.close()


def test_the_ops_source_cannot_be_synced(
    env: tuple[Workspace, FastAPI, Path], operator: WebClient
) -> None:
    ws, _, _ = env
    with ws.store.session() as session:
        own = ops_source(session).id
    (row,) = [r for r in jobs.source_rows(ws) if r.id == own]
    assert not row.syncable
    response = operator.post(f"/api/v1/sources/{own}/sync", headers={"X-CSRF-Token": operator.csrf})
    assert response.status_code == 409
    assert "nothing to sync" in response.json()["detail"]


def test_sources_page_in_chinese(env: tuple[Workspace, FastAPI, Path]) -> None:
    client = client_as(env[1], "operator")
    try:
        page = client.get("/sources", headers={"Accept-Language": "zh-CN"})
        assert "数据源" in page.text
        assert "立即同步" in page.text
    finally:
        client.close()


def test_errors_shown_never_carry_credentials() -> None:
    assert (
        jobs.scrub("https://x-access-token:ghp_abc@github.com/o/r.git cannot be reached")
        == "https://github.com/o/r.git cannot be reached"
    )
    assert jobs.scrub("ada@example.org wrote") == "ada@example.org wrote"
    assert jobs.scrub(None) is None


def test_safe_location_hides_credentials() -> None:
    assert (
        jobs.safe_location("https://bob:s3cret@git.example.org:8443/x.git")
        == "https://git.example.org:8443/x.git"
    )
    assert jobs.safe_location("/srv/repos/x") == "/srv/repos/x"
    assert jobs.safe_location("git@github.com:a/b.git") == "git@github.com:a/b.git"


SIGNUPS = (
    "kind,occurred_at,actor_platform,actor_username,actor_name,channel\n"
    "event:registered,2024-02-01T10:00:00Z,meetup,lin,Lin Wei,meetup-shanghai\n"
    "event:registered,2024-02-02T11:00:00Z,meetup,sam,Sam Ortiz,meetup-shanghai\n"
    "event:attended,2024-02-10T19:00:00+08:00,meetup,lin,Lin Wei,meetup-shanghai\n"
)


def uploads_left(ws: Workspace) -> list[Path]:
    folder = ws.cache_dir / "uploads"
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def test_importing_a_csv_file_runs_in_the_background(
    env: tuple[Workspace, FastAPI, Path], operator: WebClient, viewer: WebClient
) -> None:
    ws, _, _ = env
    response = operator.post(
        "/sources/import",
        data={"csrf_token": operator.csrf, "source": "meetups"},
        files={"file": ("signups.csv", SIGNUPS.encode(), "text/csv")},
    )
    assert response.status_code == 303, response.text
    job_id = int(response.headers["location"].rsplit("/", 1)[1])
    ended = wait_for(viewer, job_id)
    assert ended["state"] == "done", ended
    assert ended["file"] == "signups.csv"
    (row,) = [r for r in jobs.source_rows(ws) if r.name == "meetups"]
    assert row.kind == "tabular"
    assert not row.syncable
    assert count_activities(ws, row.id) == ended["added"] == 3
    assert uploads_left(ws) == []  # the upload is gone once imported
    page = viewer.get(f"/sources/jobs/{job_id}").text
    assert "signups.csv" in page
    # the same file again adds nothing (uids from the rows), through the API this time
    again = operator.post(
        "/api/v1/sources/import",
        data={"source": "meetups"},
        files={"file": ("signups.csv", SIGNUPS.encode(), "text/csv")},
        headers={"X-CSRF-Token": operator.csrf},
    )
    assert again.status_code == 202, again.text
    assert wait_for(viewer, again.json()["id"])["added"] == 0
    assert count_activities(ws, row.id) == 3
    # an import source has nothing to sync on its own
    refused = operator.post(
        f"/api/v1/sources/{row.id}/sync", headers={"X-CSRF-Token": operator.csrf}
    )
    assert refused.status_code == 409
    assert "file imports" in refused.json()["detail"]


def test_a_bad_csv_file_is_refused_with_every_problem_and_nothing_stored(
    env: tuple[Workspace, FastAPI, Path], operator: WebClient
) -> None:
    ws, _, _ = env
    before = len(jobs.source_rows(ws))
    bad = (
        SIGNUPS
        + "event:registered,last tuesday,meetup,kim,Kim,meetup-shanghai\n"
        + "registered,2024-02-03,meetup,,,x\n"
    )
    response = operator.post(
        "/api/v1/sources/import",
        files={"file": ("bad-signups.csv", bad.encode(), "text/csv")},
        headers={"X-CSRF-Token": operator.csrf},
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
    detail = response.json()["detail"]
    assert "bad-signups.csv: 2 invalid rows; nothing was imported" in detail
    assert "bad-signups.csv:5: occurred_at" in detail
    assert "bad-signups.csv:6: kind" in detail
    assert str(ws.cache_dir) not in detail  # the server's paths stay on the server
    page = operator.post(
        "/sources/import",
        data={"csrf_token": operator.csrf},
        files={"file": ("notes.txt", b"hello", "text/plain")},
    )
    assert page.status_code == 400
    assert ".csv or .jsonl" in page.text
    empty = operator.post(
        "/api/v1/sources/import",
        files={"file": ("empty.csv", b"", "text/csv")},
        headers={"X-CSRF-Token": operator.csrf},
    )
    assert empty.status_code == 400
    assert len(jobs.source_rows(ws)) == before
    assert uploads_left(ws) == []


def test_viewers_cannot_import(env: tuple[Workspace, FastAPI, Path], viewer: WebClient) -> None:
    response = viewer.post(
        "/sources/import",
        data={"csrf_token": viewer.csrf},
        files={"file": ("signups.csv", SIGNUPS.encode(), "text/csv")},
    )
    assert response.status_code == 403
    assert uploads_left(env[0]) == []


def test_a_sync_through_the_app_on_each_database(workspace: Workspace, git_repo: GitRepo) -> None:
    add_role_users(workspace)
    fill(git_repo, 3)
    app = web_app(workspace)
    client = client_as(app, "operator")
    try:
        added = client.post(
            "/api/v1/sources",
            json={"location": str(git_repo.path), "name": "repo"},
            headers={"X-CSRF-Token": client.csrf},
        )
        assert added.status_code == 201, added.text
        source_id = added.json()["id"]
        ended = wait_for(client, start_sync(client, source_id)["id"])
        assert ended["state"] == "done", ended
        assert count_activities(workspace, source_id) == ended["added"] == 3
        assert commits_in(app, date(2024, 1, 1)) == 3
        assert 'data-state="ok"' in client.get("/sources").text
    finally:
        jobs.runner(app).shutdown()
        client.close()
