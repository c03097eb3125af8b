"""Reports in the web app: generate from the page and the API, list, view each format, the
schedule run by the server, and who may do what."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime

import pytest
from fastapi import FastAPI

from commops import reports
from commops.web.app import PERIODIC
from commops.workspace import Workspace
from webkit import client_as, demo_workspace, token_client, web_app


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Workspace, FastAPI]]:
    ws = demo_workspace(tmp_path_factory.mktemp("reports") / "ws", members=80, months=6)
    yield ws, web_app(ws)
    ws.close()


def test_operator_generates_a_monthly_report_from_the_page(
    demo: tuple[Workspace, FastAPI],
) -> None:
    ws, app = demo
    client = client_as(app, "operator")
    response = client.form(
        "/reports", {"kind": "monthly", "period": "2026-09", "lang": "zh-CN", "formats": "html"}
    )
    assert response.status_code == 303
    target = response.headers["location"]
    page = client.get(target)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert re.findall(r"<script([^>]*)>", page.text) == [
        ' type="application/json" id="commops-figures"'
    ]
    listing = client.get("/reports?kind=monthly")
    assert "2026-09" in listing.text
    with ws.store.session() as session:
        saved = reports.list_reports(session, kind="monthly")
    assert [(r.period, r.lang, r.format) for r in saved] == [("2026-09", "zh-CN", "html")]
    assert saved[0].generated_by == "web:operator"


def test_api_generates_lists_and_serves_files(demo: tuple[Workspace, FastAPI]) -> None:
    ws, app = demo
    client = token_client(ws, app, "operator", ("read", "write"))
    made = client.post(
        "/api/v1/reports", json={"kind": "weekly", "period": "2026-W40", "formats": ["md"]}
    )
    assert made.status_code == 201
    (report,) = made.json()
    assert report["format"] == "md"
    listed = client.get("/api/v1/reports?kind=weekly").json()
    assert [r["id"] for r in listed["items"]] == [report["id"]]
    file = client.get(f"/api/v1/reports/{report['id']}/file?download=true")
    assert file.status_code == 200
    assert file.headers["content-disposition"].startswith("attachment")
    assert file.content == (ws.root / report["path"]).read_bytes()
    assert client.get("/api/v1/reports/99999").status_code == 404
    bad = client.post("/api/v1/reports", json={"kind": "monthly", "period": "2026-13"})
    assert bad.status_code == 400
    assert bad.headers["content-type"] == "application/problem+json"


def test_viewer_reads_but_cannot_generate(demo: tuple[Workspace, FastAPI]) -> None:
    ws, app = demo
    viewer = client_as(app, "viewer")
    assert viewer.get("/reports").status_code == 200
    assert 'data-testid="generate-report"' not in viewer.get("/reports").text
    refused = viewer.form("/reports", {"kind": "monthly", "period": "2026-08"})
    assert refused.status_code == 403
    api = token_client(ws, app, "viewer", ("read", "write"))
    assert api.post("/api/v1/reports", json={"kind": "annual", "period": "2025"}).status_code == 403


def test_the_server_runs_the_schedule(tmp_path_factory: pytest.TempPathFactory) -> None:
    ws = demo_workspace(tmp_path_factory.mktemp("sched") / "ws", members=40, months=3)
    ws.config.reports_schedule = ["weekly"]
    ws.config.reports_formats = ["md"]
    app = web_app(ws)
    task = next(t for t in PERIODIC if t.name == "reports")
    task.run(app)
    task.run(app)
    with ws.store.session() as session:
        weekly = reports.list_reports(session, kind="weekly")
    assert len(weekly) == 1
    assert weekly[0].generated_by == "web:schedule"
    year, week, _ = datetime.now().isocalendar()
    assert weekly[0].period != f"{year}-W{week:02d}"  # the week before, which has ended
    ws.close()
