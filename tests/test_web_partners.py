"""The partners pages and /api/v1/partners: list with health, a partner with contacts,
collaborations moved through their status flow, touches, and who may do what."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from commops.ops.ecosystem import Collaboration, Partner, list_partners
from commops.ops.ecosystem.demo import seed
from commops.store.models import Activity, OpsLog
from commops.workspace import Workspace
from webkit import WebClient, client_as, demo_workspace, token_client, web_app


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, Any]:
    ws = demo_workspace(tmp_path_factory.mktemp("partners") / "ws", members=120)
    with ws.store.session() as session:
        seed(session, random.Random(5), actor="demo")
    return ws, web_app(ws)


@pytest.fixture(scope="module")
def operator(site: tuple[Workspace, Any]) -> Iterator[WebClient]:
    client = client_as(site[1], "operator")
    yield client
    client.close()


@pytest.fixture(scope="module")
def viewer(site: tuple[Workspace, Any]) -> Iterator[WebClient]:
    client = client_as(site[1], "viewer")
    yield client
    client.close()


def _partner(ws: Workspace, name: str) -> int:
    with ws.store.session() as session:
        return next(p.id for p in list_partners(session) if p.name == name)


def test_partners_page_shows_health(site: tuple[Workspace, Any], viewer: WebClient) -> None:
    response = viewer.get("/partners")
    assert response.status_code == 200
    assert "Demo University" in response.text
    assert "Open Skills Academy" in response.text
    assert "no active collaboration" in response.text
    assert 'data-testid="new-partner"' not in response.text


def test_partners_page_filters_by_kind(viewer: WebClient) -> None:
    response = viewer.get("/partners?kind=university")
    assert "Demo University" in response.text
    assert "Open Skills Academy" not in response.text
    assert viewer.get("/partners?kind=pirate").status_code == 422


def test_partner_page(site: tuple[Workspace, Any], viewer: WebClient) -> None:
    pid = _partner(site[0], "Cloud Natives Ltd")
    response = viewer.get(f"/partners/{pid}")
    assert response.status_code == 200
    assert "Joint meetup series" in response.text
    assert "meetup organiser" in response.text
    assert 'data-testid="collaboration-active-' not in response.text  # viewers move nothing


def test_collaboration_flow_through_the_pages(
    site: tuple[Workspace, Any], operator: WebClient
) -> None:
    ws = site[0]
    pid = _partner(ws, "Demo University")
    page = operator.get(f"/partners/{pid}").text
    assert 'data-testid="collaboration-active-' in page
    with ws.store.session() as session:
        collab = session.execute(
            select(Collaboration).where(Collaboration.partner_id == pid)
        ).scalar_one()
        cid = collab.id
        assert collab.status == "proposed"
    url = f"/partners/{pid}/collaborations/{cid}"
    assert operator.form(f"{url}/status", {"status": "active"}).status_code == 303
    assert operator.form(f"{url}/outcomes", {"text": "40 students enrolled"}).status_code == 303
    assert operator.form(f"{url}/status", {"status": "completed"}).status_code == 303
    with ws.store.session() as session:
        collab = session.get(Collaboration, cid)
        assert collab is not None
        assert collab.status == "completed"
        assert [o["text"] for o in collab.outcomes] == ["40 students enrolled"]
        assert {
            e.actor
            for e in session.execute(
                select(OpsLog).where(OpsLog.record_type == "collaboration", OpsLog.record_id == cid)
            ).scalars()
            if e.action in ("started", "completed")
        } == {"web:operator"}
        credited = (
            session.execute(select(Activity).where(Activity.kind == "partner:collaborated"))
            .scalars()
            .all()
        )
        assert any(a.target == f"collaboration:{cid}" for a in credited)
    again = operator.form(f"{url}/status", {"status": "paused"})
    assert again.status_code == 409
    assert "completed" in again.text


def test_add_partner_touch_and_contact(site: tuple[Workspace, Any], operator: WebClient) -> None:
    ws = site[0]
    added = operator.form(
        "/partners", {"name": "Rivet Foundation", "kind": "foundation", "website": ""}
    )
    assert added.status_code == 303, added.text
    pid = int(added.headers["location"].rsplit("/", 1)[1])
    touched = operator.form(f"/partners/{pid}/touches", {"kind": "call", "note": "Intro call"})
    assert touched.status_code == 303
    contact = operator.form(f"/partners/{pid}/contacts", {"member": "7", "role": "board"})
    assert contact.status_code == 303
    proposed = operator.form(
        f"/partners/{pid}/collaborations",
        {"kind": "sponsorship", "title": "Travel grants", "start": "2026-01-01"},
    )
    assert proposed.status_code == 303
    detail = operator.get(f"/api/v1/partners/{pid}").json()
    assert detail["kind"] == "foundation"
    assert [t["note"] for t in detail["touches"]] == ["Intro call"]
    assert [(c["member_id"], c["role"]) for c in detail["contacts"]] == [(7, "board")]
    assert detail["collaborations"][0]["start_date"] == "2026-01-01"
    assert "no touch in 90 days" not in detail["health"]["flags"]
    future = operator.form(f"/partners/{pid}/touches", {"kind": "call", "on": "2199-01-01"})
    assert future.status_code == 400
    bad_day = operator.form(f"/partners/{pid}/touches", {"kind": "call", "on": "soon"})
    assert bad_day.status_code == 400
    assert "on" in bad_day.text
    with ws.store.session() as session:
        assert session.get(Partner, pid) is not None


def test_viewer_and_reviewer_change_nothing(site: tuple[Workspace, Any], viewer: WebClient) -> None:
    pid = _partner(site[0], "Cloud Natives Ltd")
    assert viewer.form(f"/partners/{pid}/touches", {"kind": "call"}).status_code == 403
    assert viewer.form("/partners", {"name": "X", "kind": "vendor"}).status_code == 403
    reviewer = client_as(site[1], "reviewer")
    try:
        assert reviewer.get("/partners").status_code == 403
        assert reviewer.get(f"/partners/{pid}").status_code == 403
        assert reviewer.get("/api/v1/partners").status_code == 403
    finally:
        reviewer.close()


def test_api_list_paging_and_filters(viewer: WebClient) -> None:
    page = viewer.get("/api/v1/partners?limit=2").json()
    assert page["limit"] == 2
    assert len(page["items"]) == 2
    assert page["total"] >= 4
    unis = viewer.get("/api/v1/partners?kind=university").json()["items"]
    assert [p["name"] for p in unis] == ["Demo University"]
    health = viewer.get("/api/v1/partners/health?flagged=false").json()
    assert all(not h["flags"] for h in health["items"])
    flagged = viewer.get("/api/v1/partners/health?flagged=true&days=30").json()
    assert all(h["flags"] for h in flagged["items"])
    bad = viewer.get("/api/v1/partners/health?days=0")
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"


def test_api_changes(site: tuple[Workspace, Any]) -> None:
    ws, app = site
    client = token_client(ws, app, "admin", ("read", "write"))
    try:
        created = client.post(
            "/api/v1/partners", json={"name": "Kite Training", "kind": "training-institution"}
        )
        assert created.status_code == 201, created.text
        pid = created.json()["id"]
        assert created.json()["organization"] == "Kite Training"
        dup = client.post("/api/v1/partners", json={"name": "kite training", "kind": "vendor"})
        assert dup.status_code == 409
        assert dup.headers["content-type"] == "application/problem+json"
        collab = client.post(
            f"/api/v1/partners/{pid}/collaborations",
            json={"kind": "course", "title": "Operator course", "owner": "3"},
        )
        assert collab.status_code == 201
        cid = collab.json()["id"]
        assert collab.json()["owner_member_id"] == 3
        moved = client.post(
            f"/api/v1/partners/{pid}/collaborations/{cid}/status",
            json={"status": "cancelled", "reason": "No trainer"},
        )
        assert moved.json()["status"] == "cancelled"
        listed = client.get(f"/api/v1/partners/{pid}/collaborations?status=cancelled").json()
        assert [x["id"] for x in listed["items"]] == [cid]
        touch = client.post(f"/api/v1/partners/{pid}/touches", json={"kind": "email"})
        assert touch.status_code == 201
        missing = client.post(
            f"/api/v1/partners/{pid}/collaborations/999999/status", json={"status": "active"}
        )
        assert missing.status_code == 404
        assert client.get("/api/v1/partners/999999").status_code == 404
    finally:
        client.close()
    reader = token_client(ws, app, "viewer", ("read", "write"))
    try:
        refused = reader.post("/api/v1/partners", json={"name": "Nope", "kind": "vendor"})
        assert refused.status_code == 403
    finally:
        reader.close()


def test_partner_page_in_chinese(site: tuple[Workspace, Any], viewer: WebClient) -> None:
    pid = _partner(site[0], "Demo University")
    response = viewer.get(f"/partners/{pid}", headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 200
    assert "合作" in response.text


def test_partners_on_each_database(database_url: str, tmp_path: Path) -> None:
    ws = demo_workspace(tmp_path / "db", members=60, database_url=database_url)
    try:
        with ws.store.session() as session:
            seed(session, random.Random(2), actor="demo")
        client = client_as(web_app(ws), "operator")
        try:
            assert client.get("/partners").status_code == 200
            pid = _partner(ws, "Cloud Natives Ltd")
            detail = client.get(f"/api/v1/partners/{pid}").json()
            paused = detail["collaborations"][0]
            assert paused["status"] == "paused"
            url = f"/partners/{pid}/collaborations/{paused['id']}/status"
            assert client.form(url, {"status": "active"}).status_code == 303
            assert client.get(f"/partners/{pid}").status_code == 200
            health = client.get("/api/v1/partners/health").json()
            assert health["total"] == 4
        finally:
            client.close()
    finally:
        ws.close()
