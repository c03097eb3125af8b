"""The governance pages and /api/v1/governance: ladders, candidates with evidence (evaluated on
demand and cached), nominations through their whole flow, roles held, committees, and who may
do what."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from commops.ops.governance.demo import seed
from commops.ops.governance.models import Nomination, RoleGrant
from commops.store.models import Member, OpsLog
from commops.web.api import governance as api
from commops.workspace import Workspace
from webkit import WebClient, client_as, demo_workspace, token_client, web_app


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, Any]:
    ws = demo_workspace(tmp_path_factory.mktemp("governance") / "ws", members=120)
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


def test_governance_page_shows_nominations_roles_and_committee(viewer: WebClient) -> None:
    response = viewer.get("/governance?ladder=kubesphere")
    assert response.status_code == 200
    text = response.text
    assert 'data-testid="grants"' in text
    assert "Quarterly review" in text
    assert "End users 1" in text
    assert "Reviews pull requests from other contributors." in text
    assert 'data-testid="nominate-form"' not in text  # viewers nominate nobody


def test_unknown_ladder_is_a_clear_error(viewer: WebClient) -> None:
    response = viewer.get("/governance?ladder=nope")
    assert response.status_code == 400
    assert "kubesphere" in response.text  # the hint lists the ladders
    assert viewer.get("/governance?ladder=../../etc").status_code == 422


def test_candidates_are_evaluated_on_demand_and_cached(
    site: tuple[Workspace, Any], viewer: WebClient
) -> None:
    api._CACHE.clear()
    url = "/governance/candidates?ladder=kubesphere&role=contributor&as_of=2026-10-31"
    first = viewer.get(url)
    assert first.status_code == 200
    assert 'data-testid="not-evaluated"' in first.text
    evaluated = viewer.get(url + "&evaluate=true")
    assert 'data-testid="candidate-count"' in evaluated.text
    assert "merged PRs (as author)" in evaluated.text
    assert len(api._CACHE) == 1
    again = viewer.get(url)  # no button press: the cached result shows
    assert 'data-testid="candidate-count"' in again.text
    data = viewer.get(
        "/api/v1/governance/candidates?ladder=kubesphere&role=contributor&as_of=2026-10-31"
    ).json()
    assert len(api._CACHE) == 1  # the API used the same cached evaluation
    assert data["candidates"]["total"] > 0
    first_candidate = data["candidates"]["items"][0]
    assert first_candidate["eligible"] is True
    assert first_candidate["criteria"][0]["evidence"]  # activity uids behind the count


def test_cache_is_invalidated_by_a_change(site: tuple[Workspace, Any], operator: WebClient) -> None:
    api._CACHE.clear()
    url = "/api/v1/governance/candidates?ladder=kubesphere&role=member"
    before = operator.get(url).json()["candidates"]["total"]
    open_nom = operator.get("/api/v1/governance/nominations?ladder=kubesphere&state=open").json()
    nom = open_nom["items"][0]
    sponsors = {s["member_id"] for s in nom["sponsors"]} | {nom["member_id"]}
    other = next(m for m in range(3, 100) if m not in sponsors)
    added = operator.form(f"/governance/nominations/{nom['id']}/sponsors", {"member": str(other)})
    assert added.status_code == 303, added.text
    after = operator.get(url).json()
    assert len(api._CACHE) == 2  # a new audit-log entry: evaluated again
    assert after["candidates"]["total"] >= before


def test_nomination_flow_through_the_pages(
    site: tuple[Workspace, Any], operator: WebClient
) -> None:
    ws = site[0]
    found = operator.get(
        "/api/v1/governance/candidates?ladder=kubesphere&role=contributor&limit=500"
    ).json()["candidates"]["items"]
    with ws.store.session() as session:
        held = {g.member_id for g in session.execute(select(RoleGrant)).scalars()}
        busy = {n.member_id for n in session.execute(select(Nomination)).scalars()}
    member = next(c["member_id"] for c in found if c["member_id"] not in held | busy)
    made = operator.form(
        "/governance/nominations",
        {"ladder": "kubesphere", "member": str(member), "role": "contributor", "reason": "PRs"},
    )
    assert made.status_code == 303, made.text
    nom_id = int(made.headers["location"].rsplit("-", 1)[1])
    page = operator.get("/governance?ladder=kubesphere").text
    assert f'data-testid="approve-{nom_id}"' in page
    assert operator.form(f"/governance/nominations/{nom_id}/approve").status_code == 303
    assert operator.form(f"/governance/nominations/{nom_id}/grant").status_code == 303
    with ws.store.session() as session:
        nom = session.get(Nomination, nom_id)
        assert nom is not None
        assert nom.state == "granted"
        assert nom.evidence["eligible"] is True
        grant = session.execute(
            select(RoleGrant).where(RoleGrant.nomination_id == nom_id)
        ).scalar_one()
        assert (grant.member_id, grant.role, grant.state) == (member, "contributor", "active")
        actors = {
            e.actor
            for e in session.execute(
                select(OpsLog).where(OpsLog.record_type == "nomination", OpsLog.record_id == nom_id)
            ).scalars()
        }
        assert actors == {"web:operator"}
    page = operator.get("/governance?ladder=kubesphere").text
    assert f'data-testid="grant-row-{grant.id}"' in page
    twice = operator.form(f"/governance/nominations/{nom_id}/grant")
    assert twice.status_code == 409


def test_reject_needs_a_reason_and_approve_checks_criteria(
    site: tuple[Workspace, Any], operator: WebClient
) -> None:
    ws = site[0]
    with ws.store.session() as session:
        busy = {n.member_id for n in session.execute(select(Nomination)).scalars()}
        busy |= {g.member_id for g in session.execute(select(RoleGrant)).scalars()}
    member = next(m for m in range(3, 100) if m not in busy)
    made = operator.form(
        "/governance/nominations",
        {"ladder": "kubesphere", "member": str(member), "role": "member"},
    )
    assert made.status_code == 303, made.text
    nom_id = int(made.headers["location"].rsplit("-", 1)[1])
    # no sponsors yet: the member role needs two, so approval is refused, naming the criterion
    refused = operator.form(f"/governance/nominations/{nom_id}/approve")
    assert refused.status_code == 400
    assert "does not meet member" in refused.text
    assert "two sponsors" in refused.text
    url = f"/governance/nominations/{nom_id}/reject"
    assert operator.form(url, {"reason": " "}).status_code == 400
    assert operator.form(url, {"reason": "Not yet"}).status_code == 303
    with ws.store.session() as session:
        nom = session.get(Nomination, nom_id)
        assert nom is not None
        assert nom.state == "rejected"


def test_committee_changes_through_the_pages(
    site: tuple[Workspace, Any], operator: WebClient
) -> None:
    added = operator.form(
        "/governance/seats",
        {"committee": "steering", "name": "Chair", "description": "Runs the meetings"},
    )
    assert added.status_code == 303, added.text
    steering = next(
        c for c in operator.get("/api/v1/governance/committees").json() if c["name"] == "steering"
    )
    seat = steering["seats"][0]
    assert seat["current"] is None
    term = {"member": "12", "start": "2026-01-01", "end": "2027-12-31", "method": "election"}
    assert (
        operator.form(f"/governance/seats/{seat['id']}/terms", {**term, "votes": "9"}).status_code
        == 303
    )
    overlap = operator.form(
        f"/governance/seats/{seat['id']}/terms", {**term, "member": "13", "start": "2027-06-01"}
    )
    assert overlap.status_code == 400
    assert "overlaps" in overlap.text
    no_day = operator.form(f"/governance/seats/{seat['id']}/terms", {**term, "start": "someday"})
    assert no_day.status_code == 400
    met = operator.form(
        "/governance/committees/steering/meetings",
        {"title": "Kick-off", "held_on": "2026-02-01", "attendees": "12, 13", "minutes": "Hello"},
    )
    assert met.status_code == 303, met.text
    steering = next(
        c
        for c in operator.get("/api/v1/governance/committees?on=2026-03-01").json()
        if c["name"] == "steering"
    )
    assert steering["seats"][0]["current"]["member_id"] == 12
    assert steering["seats"][0]["current"]["votes"] == 9
    assert steering["meetings"][0]["attendees"] == [12, 13]
    assert steering["meetings"][0]["minutes"] == "Hello"
    unknown = operator.form(
        "/governance/committees/nobody/meetings", {"title": "X", "held_on": "2026-02-01"}
    )
    assert unknown.status_code == 400
    assert operator.form("/governance/seats/999999/terms", term).status_code == 404


def test_retire_and_revoke_roles(site: tuple[Workspace, Any], operator: WebClient) -> None:
    ws = site[0]
    held = operator.get("/api/v1/governance/roles?ladder=kubesphere&state=active").json()
    first, second = held["items"][0], held["items"][1]
    page = operator.get("/governance?ladder=kubesphere").text
    assert f'data-testid="retire-{first["id"]}"' in page
    assert operator.form(f"/governance/roles/{first['id']}/retire").status_code == 303
    assert (
        operator.form(f"/governance/roles/{second['id']}/revoke", {"reason": ""}).status_code == 400
    )
    assert (
        operator.form(f"/governance/roles/{second['id']}/revoke", {"reason": "Code of conduct"})
    ).status_code == 303
    with ws.store.session() as session:
        states = {
            g.id: g.state
            for g in session.execute(
                select(RoleGrant).where(RoleGrant.id.in_([first["id"], second["id"]]))
            ).scalars()
        }
    assert states == {first["id"]: "emeritus", second["id"]: "revoked"}
    assert operator.form(f"/governance/roles/{first['id']}/retire").status_code == 409
    assert operator.form("/governance/roles/999999/retire").status_code == 404


def test_api_committee_and_role_changes(site: tuple[Workspace, Any]) -> None:
    ws, app = site
    with ws.store.session() as session:
        member = str(
            session.execute(select(Member.id).where(Member.is_bot.is_(False)).order_by(Member.id))
            .scalars()
            .first()
        )
    client = token_client(ws, app, "operator", ("read", "write"))
    try:
        seats = client.post(
            "/api/v1/governance/committees/advisory board/seats", json={"name": "Academia"}
        )
        assert seats.status_code == 201, seats.text
        seat_id = seats.json()[0]["seats"][0]["id"]
        term = client.post(
            f"/api/v1/governance/seats/{seat_id}/terms",
            json={
                "member": member,
                "start": "2026-01-01",
                "end": "2026-12-31",
                "method": "appointment",
                "votes": 3,
            },
        )
        assert term.status_code == 400  # an appointment has no votes
        term = client.post(
            f"/api/v1/governance/seats/{seat_id}/terms",
            json={
                "member": member,
                "start": "2026-01-01",
                "end": "2026-12-31",
                "method": "appointment",
            },
        )
        assert term.status_code == 201, term.text
        meeting = client.post(
            "/api/v1/governance/committees/advisory board/meetings",
            json={"title": "First", "held_on": "2026-03-03", "attendees": [member]},
        )
        assert meeting.status_code == 201
        assert meeting.json()["attendees"] == [int(member)]
        missing = client.post("/api/v1/governance/roles/999999/revoke", json={"reason": "x"})
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"
    finally:
        client.close()


def test_viewer_and_reviewer_change_nothing(site: tuple[Workspace, Any], viewer: WebClient) -> None:
    form = {"ladder": "kubesphere", "member": "5", "role": "contributor"}
    assert viewer.form("/governance/nominations", form).status_code == 403
    assert viewer.form("/governance/nominations/1/grant").status_code == 403
    reviewer = client_as(site[1], "reviewer")
    try:
        assert reviewer.get("/governance").status_code == 403
        assert reviewer.get("/governance/candidates").status_code == 403
        assert reviewer.get("/api/v1/governance/nominations").status_code == 403
    finally:
        reviewer.close()


def test_api_lists_and_shapes(viewer: WebClient) -> None:
    ladders = viewer.get("/api/v1/governance/ladders").json()
    assert {x["name"] for x in ladders} == {"kubesphere", "kubernetes", "ksap"}
    kube = next(x for x in ladders if x["name"] == "kubesphere")
    assert [r["name"] for r in kube["roles"]] == ["contributor", "member", "lead"]
    roles = viewer.get("/api/v1/governance/roles?ladder=kubesphere&limit=1").json()
    assert roles["limit"] == 1
    assert len(roles["items"]) == 1
    assert roles["total"] >= 2
    active = viewer.get("/api/v1/governance/roles?state=active").json()["items"]
    assert {g["state"] for g in active} <= {"active"}
    committees = viewer.get("/api/v1/governance/committees?on=2026-06-01").json()
    users = next(c for c in committees if c["name"] == "user-committee")
    assert len(users["seats"]) == 3
    assert all(s["current"] for s in users["seats"])
    assert users["meetings"][0]["minutes"]
    bad = viewer.get("/api/v1/governance/nominations?state=maybe")
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
    missing = viewer.get("/api/v1/governance/nominations/999999")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"


def test_api_nomination_flow(site: tuple[Workspace, Any]) -> None:
    ws, app = site
    client = token_client(ws, app, "admin", ("read", "write"))
    try:
        nom = client.post(
            "/api/v1/governance/nominations",
            json={"ladder": "kubernetes", "member": "10", "role": "member", "reason": "Helps"},
        )
        assert nom.status_code == 201, nom.text
        body = nom.json()
        assert body["state"] == "open"
        assert body["evidence"]["role"] == "member"
        sponsored = client.post(
            f"/api/v1/governance/nominations/{body['id']}/sponsors", json={"member": "11"}
        )
        assert sponsored.status_code == 201
        assert [s["member_id"] for s in sponsored.json()["sponsors"]] == [11]
        self_sponsor = client.post(
            f"/api/v1/governance/nominations/{body['id']}/sponsors", json={"member": "10"}
        )
        assert self_sponsor.status_code == 400
        withdrawn = client.post(
            f"/api/v1/governance/nominations/{body['id']}/withdraw", json={"reason": "Later"}
        )
        assert withdrawn.json()["state"] == "withdrawn"
        wrong_role = client.post(
            "/api/v1/governance/nominations",
            json={"ladder": "kubernetes", "member": "10", "role": "wizard"},
        )
        assert wrong_role.status_code == 400
        assert "wizard" in wrong_role.json()["detail"]
    finally:
        client.close()
    reader = token_client(ws, app, "operator", ("read",))
    try:
        refused = reader.post(
            "/api/v1/governance/nominations",
            json={"ladder": "kubernetes", "member": "10", "role": "member"},
        )
        assert refused.status_code == 403
    finally:
        reader.close()


def test_governance_page_in_chinese(viewer: WebClient) -> None:
    response = viewer.get("/governance", headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 200
    assert "提名" in response.text


def test_governance_on_each_database(database_url: str, tmp_path: Path) -> None:
    ws = demo_workspace(tmp_path / "db", members=60, database_url=database_url)
    try:
        with ws.store.session() as session:
            seed(session, random.Random(2), actor="demo")
        client = client_as(web_app(ws), "operator")
        try:
            assert client.get("/governance").status_code == 200
            page = client.get("/governance/candidates?ladder=kubesphere&evaluate=true")
            assert page.status_code == 200
            noms = client.get("/api/v1/governance/nominations?state=open").json()["items"]
            assert [n["role"] for n in noms] == ["member"]
            withdrawn = client.form(f"/governance/nominations/{noms[0]['id']}/withdraw")
            assert withdrawn.status_code == 303
            committees = client.get("/api/v1/governance/committees").json()
            assert len(committees[0]["seats"]) == 3
        finally:
            client.close()
    finally:
        ws.close()
