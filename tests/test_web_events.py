"""The events pages and /api/v1/events: lists, an event with registrations and check-in,
proposals, volunteers, impact, the calendar feed, and who may do what."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from commops.ops.events import Event, EventRegistration, get_event, list_events
from commops.ops.events.demo import seed
from commops.store.models import Activity, OpsLog
from commops.workspace import Workspace
from webkit import WebClient, client_as, demo_workspace, token_client, web_app


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, Any]:
    ws = demo_workspace(tmp_path_factory.mktemp("events") / "ws", members=120)
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


def _events(ws: Workspace) -> dict[str, int]:
    with ws.store.session() as session:
        return {e.state + (":" + e.kind): e.id for e in list_events(session)}


def _upcoming(ws: Workspace) -> int:
    return _events(ws)["planned:webinar"]


def _held(ws: Workspace) -> int:
    return _events(ws)["held:meetup"]


def test_events_page_lists_the_demo_events(site: tuple[Workspace, Any], viewer: WebClient) -> None:
    response = viewer.get("/events")
    assert response.status_code == 200
    assert "Hangzhou Cloud Native Meetup" in response.text
    assert "Release Webinar" in response.text
    assert 'data-testid="new-event"' not in response.text  # viewers plan nothing


def test_events_page_filters_by_state(viewer: WebClient) -> None:
    response = viewer.get("/events?state=planned")
    assert response.status_code == 200
    assert "Release Webinar" in response.text
    assert "Hangzhou Cloud Native Meetup" not in response.text


def test_event_page_hides_emails_from_viewers(
    site: tuple[Workspace, Any], viewer: WebClient, operator: WebClient
) -> None:
    url = f"/events/{_upcoming(site[0])}"
    assert "ana.costa@example.org" not in viewer.get(url).text
    seen = operator.get(url)
    assert "ana.costa@example.org" in seen.text
    assert 'data-testid="checkin-' in seen.text
    assert 'data-testid="checkin-' not in viewer.get(url).text


def test_check_in_from_the_page_marks_the_registrant_attended(
    site: tuple[Workspace, Any], operator: WebClient
) -> None:
    ws = site[0]
    event_id = _upcoming(ws)
    with ws.store.session() as session:
        reg = (
            session.execute(
                select(EventRegistration).where(
                    EventRegistration.event_id == event_id,
                    EventRegistration.checked_in_at.is_(None),
                )
            )
            .scalars()
            .first()
        )
        assert reg is not None
        reg_id = reg.id
    response = operator.form(f"/events/{event_id}/registrations/{reg_id}/check-in")
    assert response.status_code == 303
    assert response.headers["location"] == f"/events/{event_id}#registration-{reg_id}"
    with ws.store.session() as session:
        assert session.get(EventRegistration, reg_id).checked_in_at is not None  # type: ignore[union-attr]
        logged = session.execute(
            select(OpsLog).where(OpsLog.record_id == reg_id, OpsLog.action == "checked_in")
        ).scalar_one()
        assert logged.actor == "web:operator"
    page = operator.get(f"/events/{event_id}").text
    row = page.split(f'data-testid="registration-{reg_id}"', 1)[1].split("</tr>", 1)[0]
    assert 'data-checked-in="true"' in page.split(f'id="registration-{reg_id}"', 1)[1][:200]
    assert "Attended" in row
    assert f'data-testid="checkin-{reg_id}"' not in row
    again = operator.form(f"/events/{event_id}/registrations/{reg_id}/check-in")
    assert again.status_code == 409  # checked in already


def test_viewer_cannot_check_in(site: tuple[Workspace, Any], viewer: WebClient) -> None:
    event_id = _upcoming(site[0])
    with site[0].store.session() as session:
        reg_id = (
            session.execute(
                select(EventRegistration.id).where(EventRegistration.event_id == event_id)
            )
            .scalars()
            .first()
        )
    response = viewer.form(f"/events/{event_id}/registrations/{reg_id}/check-in")
    assert response.status_code == 403


def test_reviewer_sees_no_events(site: tuple[Workspace, Any]) -> None:
    client = client_as(site[1], "reviewer")
    try:
        assert client.get("/events").status_code == 403
        assert client.get(f"/events/{_held(site[0])}").status_code == 403
        assert client.get("/api/v1/events").status_code == 403
    finally:
        client.close()


def test_plan_register_and_hold_an_event_through_the_pages(
    site: tuple[Workspace, Any], operator: WebClient
) -> None:
    ws = site[0]
    response = operator.form(
        "/events",
        {
            "title": "Beijing Contributor Workshop",
            "kind": "workshop",
            "starts_at": "2026-10-10T09:00",
            "ends_at": "2026-10-10T17:00",
            "city": "Beijing",
        },
    )
    assert response.status_code == 303, response.text
    event_id = int(response.headers["location"].rsplit("/", 1)[1])
    registered = operator.form(
        f"/events/{event_id}/registrations",
        {"name": "Wei Zhang", "email": "wei.zhang@example.org", "consent": "true"},
    )
    assert registered.status_code == 303
    reg_id = int(registered.headers["location"].rsplit("-", 1)[1])
    assert operator.form(f"/events/{event_id}/registrations/{reg_id}/check-in").status_code == 303
    assert operator.form(f"/events/{event_id}/hold").status_code == 303
    with ws.store.session() as session:
        event = get_event(session, event_id)
        assert event.state == "held"
        attended = (
            session.execute(
                select(Activity).where(
                    Activity.kind == "event:attended", Activity.channel == event.slug
                )
            )
            .scalars()
            .all()
        )
        assert len(attended) == 1
    # a held event takes no second hold: the domain's refusal is a 409 page
    assert operator.form(f"/events/{event_id}/hold").status_code == 409


def test_bad_form_input_is_a_clear_error(operator: WebClient) -> None:
    response = operator.form(
        "/events",
        {"title": "X", "kind": "meetup", "starts_at": "yesterday", "ends_at": "2026-01-01T00:00"},
    )
    assert response.status_code == 400
    assert "starts" in response.text


def test_proposal_flow_through_the_pages(site: tuple[Workspace, Any], operator: WebClient) -> None:
    ws = site[0]
    event_id = _upcoming(ws)
    api = operator.get(f"/api/v1/events/{event_id}/proposals?state=submitted").json()
    proposal = api["items"][0]
    base = f"/events/{event_id}/proposals/{proposal['id']}"
    assert operator.form(f"{base}/accept").status_code == 303
    assert operator.form(f"{base}/confirm").status_code == 303
    after = operator.get(f"/api/v1/events/{event_id}/proposals").json()["items"]
    assert [p["state"] for p in after if p["id"] == proposal["id"]] == ["confirmed"]
    assert operator.form(f"/events/{event_id}/proposals/{proposal['id']}/reject").status_code == 409


def test_volunteer_sign_up_and_attendance(site: tuple[Workspace, Any], operator: WebClient) -> None:
    ws = site[0]
    event_id = _upcoming(ws)
    added = operator.form(
        f"/events/{event_id}/shifts",
        {"role": "Moderator", "starts_at": "", "ends_at": "", "needed": "1"},
    )
    assert added.status_code == 422  # no time given
    with ws.store.session() as session:
        event = get_event(session, event_id)
        start = event.starts_at.isoformat(timespec="minutes")
        end = event.ends_at.isoformat(timespec="minutes")
    added = operator.form(
        f"/events/{event_id}/shifts",
        {"role": "Moderator", "starts_at": start, "ends_at": end, "needed": "1"},
    )
    assert added.status_code == 303
    shift = operator.get(f"/api/v1/events/{event_id}/shifts").json()[-1]
    assert shift["role"] == "Moderator"
    signed = operator.form(f"/events/{event_id}/shifts/{shift['id']}/signups", {"member": "5"})
    assert signed.status_code == 303
    full = operator.form(f"/events/{event_id}/shifts/{shift['id']}/signups", {"member": "6"})
    assert full.status_code == 409
    came = operator.form(f"/events/{event_id}/shifts/{shift['id']}/signups/5/attended")
    assert came.status_code == 303
    shift = operator.get(f"/api/v1/events/{event_id}/shifts").json()[-1]
    assert shift["volunteers"] == [
        {"member_id": 5, "name": shift["volunteers"][0]["name"], "state": "attended"}
    ]


def test_impact_page_and_api(site: tuple[Workspace, Any], viewer: WebClient) -> None:
    event_id = _held(site[0])
    page = viewer.get(f"/events/{event_id}/impact?windows=30,90")
    assert page.status_code == 200
    assert 'data-testid="cohort-attendees"' in page.text
    data = viewer.get(f"/api/v1/events/{event_id}/impact?windows=30").json()
    assert [c["name"] for c in data["cohorts"]] == ["registrants", "attendees", "baseline"]
    assert data["cohorts"][0]["size"] >= data["cohorts"][1]["size"] > 0
    assert [w["days"] for w in data["cohorts"][0]["windows"]] == [30]
    bad = viewer.get(f"/api/v1/events/{event_id}/impact?windows=0")
    assert bad.status_code == 400
    assert bad.headers["content-type"] == "application/problem+json"


def test_calendar_feed_has_the_upcoming_event(viewer: WebClient) -> None:
    response = viewer.get("/events/upcoming.ics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/calendar")
    assert "SUMMARY:Release Webinar: What's New" in response.text
    assert "Hangzhou" not in response.text


def test_api_lists_with_paging_and_filters(site: tuple[Workspace, Any], viewer: WebClient) -> None:
    page = viewer.get("/api/v1/events?limit=1&offset=1").json()
    assert (page["limit"], page["offset"], len(page["items"])) == (1, 1, 1)
    assert page["total"] >= 3
    held = viewer.get("/api/v1/events?state=held&kind=meetup").json()
    assert {e["state"] for e in held["items"]} == {"held"}
    assert all(e["checked_in"] <= e["registrations"] for e in held["items"])
    bad = viewer.get("/api/v1/events?state=sometime")
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"


def test_api_registrations_hide_emails_from_viewers(
    site: tuple[Workspace, Any], viewer: WebClient, operator: WebClient
) -> None:
    event_id = _held(site[0])
    seen = viewer.get(f"/api/v1/events/{event_id}/registrations?checked_in=true").json()
    assert seen["total"] > 0
    assert all(r["email"] is None and r["checked_in_at"] for r in seen["items"])
    full = operator.get(f"/api/v1/events/{event_id}/registrations").json()
    assert all(r["email"] for r in full["items"])
    assert full["total"] >= seen["total"]


def test_api_create_register_check_in(site: tuple[Workspace, Any]) -> None:
    ws, app = site
    client = token_client(ws, app, "operator", ("read", "write"))
    try:
        created = client.post(
            "/api/v1/events",
            json={
                "title": "Online Office Hours",
                "kind": "webinar",
                "starts_at": "2026-12-01T10:00:00+08:00",
                "ends_at": "2026-12-01T11:00:00+08:00",
                "online": True,
            },
        )
        assert created.status_code == 201, created.text
        event = created.json()
        assert event["starts_at"] == "2026-12-01T02:00:00"
        assert event["state"] == "planned"
        reg = client.post(
            f"/api/v1/events/{event['id']}/registrations",
            json={"name": "Kim Lee", "email": "kim.lee@example.org"},
        )
        assert reg.status_code == 201
        checked = client.post(
            f"/api/v1/events/{event['id']}/registrations/{reg.json()['id']}/check-in"
        )
        assert checked.status_code == 200
        assert checked.json()["checked_in_at"] is not None
        missing = client.post(f"/api/v1/events/{event['id']}/registrations/999999/check-in")
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"
        bad_email = client.post(
            f"/api/v1/events/{event['id']}/registrations", json={"email": "not an address"}
        )
        assert bad_email.status_code == 400
        assert "email" in bad_email.json()["detail"]
        cancelled = client.post(f"/api/v1/events/{event['id']}/cancel", json={"reason": "No host"})
        assert cancelled.json()["state"] == "cancelled"
    finally:
        client.close()


def test_api_refuses_changes_to_viewers_and_read_tokens(site: tuple[Workspace, Any]) -> None:
    ws, app = site
    body = {
        "title": "Nope",
        "kind": "meetup",
        "starts_at": "2026-12-01T10:00:00",
        "ends_at": "2026-12-01T11:00:00",
        "city": "Nowhere",
    }
    viewer = token_client(ws, app, "viewer", ("read", "write"))
    reader = token_client(ws, app, "operator", ("read",))
    try:
        assert viewer.post("/api/v1/events", json=body).status_code == 403
        assert reader.post("/api/v1/events", json=body).status_code == 403
        assert reader.get("/api/v1/events").status_code == 200
    finally:
        viewer.close()
        reader.close()
    with ws.store.session() as session:
        assert session.execute(select(Event).where(Event.title == "Nope")).first() is None


def test_unknown_event_is_404(viewer: WebClient) -> None:
    assert viewer.get("/events/999999").status_code == 404
    response = viewer.get("/api/v1/events/999999")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_event_page_in_chinese(site: tuple[Workspace, Any], viewer: WebClient) -> None:
    response = viewer.get(f"/events/{_held(site[0])}", headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 200
    assert "报名" in response.text


def test_check_in_on_each_database(database_url: str, tmp_path: Path) -> None:
    ws = demo_workspace(tmp_path / "db", members=60, database_url=database_url)
    try:
        with ws.store.session() as session:
            seed(session, random.Random(2), actor="demo")
        client = client_as(web_app(ws), "operator")
        try:
            event_id = _upcoming(ws)
            regs = client.get(f"/api/v1/events/{event_id}/registrations?checked_in=false").json()
            reg_id = regs["items"][0]["id"]
            response = client.form(f"/events/{event_id}/registrations/{reg_id}/check-in")
            assert response.status_code == 303
            page = client.get(f"/events/{event_id}").text
            assert f'data-testid="checkin-{reg_id}"' not in page
            assert client.get(f"/events/{_held(ws)}/impact").status_code == 200
            listed = client.get("/api/v1/events?state=held").json()
            assert listed["total"] == 2
        finally:
            client.close()
    finally:
        ws.close()
