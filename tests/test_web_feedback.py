"""The feedback pages and /api/v1/feedback: the inbox, items, suggestions and themes, and who
may do what there."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from commops.demo import generate
from commops.ops.feedback import demo as feedback_demo
from commops.ops.feedback.models import FeedbackItem, FeedbackSuggestion, FeedbackTheme
from commops.store.models import Activity, Member, OpsLog
from commops.workspace import Workspace
from webkit import Site, add_role_users, demo_workspace, token_client, web_app

Env = Site


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    ws = demo_workspace(Path(tmp_path_factory.mktemp("web-feedback")), members=120, months=6)
    with ws.store.session() as session:
        feedback_demo.seed(session, random.Random(5), actor="demo")
    env = Env(ws, web_app(ws))
    yield env
    env.close()


def theme_named(ws: Workspace, title: str) -> FeedbackTheme:
    with ws.store.session() as session:
        theme = session.execute(
            select(FeedbackTheme).where(FeedbackTheme.title == title)
        ).scalar_one()
        session.expunge(theme)
        return theme


def unthemed_item(ws: Workspace, title: str) -> int:
    with ws.store.session() as session:
        return session.execute(
            select(FeedbackItem.id).where(FeedbackItem.title == title)
        ).scalar_one()


def a_member(ws: Workspace) -> int:
    with ws.store.session() as session:
        return session.execute(
            select(Member.id).where(Member.is_bot.is_(False)).order_by(Member.id).limit(1)
        ).scalar_one()


# -- pages -------------------------------------------------------------------------------------


def test_inbox_lists_items_and_filters(env: Env) -> None:
    client = env.as_role("viewer")
    page = client.get("/feedback")
    assert page.status_code == 200
    assert "Faster log search" in page.text
    assert 'data-testid="feedback-add-form"' not in page.text
    unthemed = client.get("/feedback", params={"theme": "none"}).text
    assert "Faster log search" in unthemed
    assert "Please add a dark mode" not in unthemed
    surveys = client.get("/feedback", params={"origin": "survey"}).text
    assert surveys.count('data-testid="feedback-item"') >= 1
    assert client.get("/feedback", params={"origin": "pigeon"}).status_code == 400
    assert client.get("/feedback", params={"theme": "x1"}).status_code == 400


def test_inbox_in_chinese(env: Env) -> None:
    page = env.as_role("viewer").get("/feedback", headers={"Accept-Language": "zh-CN"}).text
    assert "反馈收件箱" in page


def test_themes_page_heaviest_first_and_detail(env: Env) -> None:
    client = env.as_role("viewer")
    page = client.get("/feedback/themes")
    assert page.status_code == 200
    assert page.text.index("Dark mode for the console") < page.text.index("A mobile app")
    shipped = client.get("/feedback/themes", params={"status": "shipped"}).text
    assert "Chinese documentation for the API" in shipped
    assert "Offline installation" not in shipped
    theme = theme_named(env.ws, "Offline installation")
    detail = client.get(f"/feedback/themes/{theme.id}").text
    assert 'data-status="planned"' in detail
    assert 'data-testid="theme-status-form"' not in detail  # viewers read only
    assert client.get("/feedback/themes/999999").status_code == 404


def test_operator_records_feedback_and_groups_it(env: Env) -> None:
    client = env.as_role("operator")
    member = a_member(env.ws)
    response = client.form(
        "/feedback/items",
        {
            "title": "Keyboard shortcuts in the console",
            "member": str(member),
            "origin": "event",
            "channel": "Meetup Beijing",
        },
    )
    assert response.status_code == 303
    item_id = int(response.headers["location"].rsplit("/", 1)[1])
    page = client.get(f"/feedback/items/{item_id}").text
    assert 'data-testid="feedback-assign-form"' in page
    theme = theme_named(env.ws, "Dark mode for the console")
    assert (
        client.form(f"/feedback/items/{item_id}/theme", {"theme_id": theme.id}).status_code == 303
    )
    with env.ws.store.session() as session:
        item = session.get(FeedbackItem, item_id)
        assert item is not None
        assert item.theme_id == theme.id
        actors = (
            session.execute(
                select(OpsLog.actor).where(
                    OpsLog.record_type == "feedback_item", OpsLog.record_id == item_id
                )
            )
            .scalars()
            .all()
        )
    assert set(actors) == {"web:operator"}
    assert client.form(f"/feedback/items/{item_id}/unassign").status_code == 303
    created = client.form("/feedback/themes", {"title": "Shortcuts", "item_id": item_id})
    assert created.status_code == 303
    with env.ws.store.session() as session:
        item = session.get(FeedbackItem, item_id)
        assert item is not None
        new_theme = session.get(FeedbackTheme, item.theme_id)
        assert new_theme is not None
        assert new_theme.title == "Shortcuts"


def test_operator_moves_and_routes_a_theme(env: Env) -> None:
    client = env.as_role("operator")
    theme = theme_named(env.ws, "Export dashboards as PDF")
    assert (
        client.form(f"/feedback/themes/{theme.id}/status", {"status": "planned"}).status_code == 303
    )
    # planned cannot become shipped: the domain's transition check, nothing changes
    refused = client.form(f"/feedback/themes/{theme.id}/status", {"status": "shipped"})
    assert refused.status_code == 409
    member = a_member(env.ws)
    routed = client.form(
        f"/feedback/themes/{theme.id}/route",
        {"product_area": "reports", "owner": str(member), "link": "https://example.org/issues/9"},
    )
    assert routed.status_code == 303
    after = theme_named(env.ws, "Export dashboards as PDF")
    assert after.status == "planned"
    assert after.product_area == "reports"
    assert after.link == "https://example.org/issues/9"


def test_suggestion_accept_and_reject(env: Env) -> None:
    client = env.as_role("operator")
    with env.ws.store.session() as session:
        open_ids = (
            session.execute(
                select(FeedbackSuggestion.id)
                .where(FeedbackSuggestion.status == "open")
                .order_by(FeedbackSuggestion.id)
            )
            .scalars()
            .all()
        )
    assert open_ids
    first = open_ids[0]
    with env.ws.store.session() as session:
        suggestion = session.get(FeedbackSuggestion, first)
        assert suggestion is not None
        back = suggestion.item_a_id
    assert client.form(f"/feedback/suggestions/{first}/reject", {"back": back}).status_code == 303
    with env.ws.store.session() as session:
        suggestion = session.get(FeedbackSuggestion, first)
        assert suggestion is not None
        assert suggestion.status == "rejected"
    again = client.form(f"/feedback/suggestions/{first}/reject", {"back": back})
    assert again.status_code == 409
    assert len(open_ids) > 1
    accepted = client.form(f"/feedback/suggestions/{open_ids[1]}/accept")
    assert accepted.status_code == 303
    assert accepted.headers["location"].startswith("/feedback/themes/")
    with env.ws.store.session() as session:
        second = session.get(FeedbackSuggestion, open_ids[1])
        assert second is not None
        assert second.status == "accepted"
        a = session.get(FeedbackItem, second.item_a_id)
        b = session.get(FeedbackItem, second.item_b_id)
        assert a is not None
        assert b is not None
        assert a.theme_id == b.theme_id is not None


def test_viewer_and_reviewer_cannot_change_feedback(env: Env) -> None:
    item_id = unthemed_item(env.ws, "Faster log search")
    viewer = env.as_role("viewer")
    assert viewer.form(f"/feedback/items/{item_id}/delete").status_code == 403
    reviewer = env.as_role("reviewer")
    for url in ("/feedback", "/feedback/themes", f"/feedback/items/{item_id}"):
        assert reviewer.get(url).status_code == 403
    assert reviewer.form(f"/feedback/items/{item_id}/delete").status_code == 403
    with env.ws.store.session() as session:
        item = session.get(FeedbackItem, item_id)
        assert item is not None
        assert item.deleted_at is None


def test_delete_and_restore_item(env: Env) -> None:
    client = env.as_role("operator")
    item_id = unthemed_item(env.ws, "Webhooks for audit events")
    assert client.form(f"/feedback/items/{item_id}/delete", {"reason": "spam"}).status_code == 303
    assert "Webhooks for audit events" not in client.get("/feedback").text
    assert client.form(f"/feedback/items/{item_id}/restore").status_code == 303
    assert "Webhooks for audit events" in client.get("/feedback").text


# -- API ---------------------------------------------------------------------------------------


def test_api_items_paging_and_filters(env: Env) -> None:
    client = env.token("viewer", ("read",))
    body = client.get("/api/v1/feedback/items", params={"limit": 3}).json()
    assert body["limit"] == 3
    assert len(body["items"]) == 3
    assert body["total"] > 3
    raised = [i["raised_at"] for i in body["items"]]
    assert raised == sorted(raised, reverse=True)
    unthemed = client.get(
        "/api/v1/feedback/items", params={"unthemed": "true", "limit": 500}
    ).json()
    assert all(i["theme_id"] is None for i in unthemed["items"])
    both = client.get("/api/v1/feedback/items", params={"unthemed": "true", "theme_id": 1})
    assert both.status_code == 400
    assert both.headers["content-type"].startswith("application/problem+json")
    assert client.get("/api/v1/feedback/items", params={"origin": "fax"}).status_code == 422
    missing = client.get("/api/v1/feedback/items/999999")
    assert missing.status_code == 404
    assert missing.json()["status"] == 404


def test_api_themes_and_suggestions(env: Env) -> None:
    client = env.token("viewer", ("read",))
    themes = client.get("/api/v1/feedback/themes").json()
    members = [t["members"] for t in themes["items"]]
    assert members == sorted(members, reverse=True)
    only = client.get("/api/v1/feedback/themes", params=[("status", "declined")]).json()
    assert [t["title"] for t in only["items"]] == ["A mobile app"]
    detail = client.get(f"/api/v1/feedback/themes/{themes['items'][0]['id']}").json()
    assert detail["item_ids"]
    assert detail["history"][0]["action"] == "created"
    assert (
        client.get("/api/v1/feedback/suggestions", params={"state": "rejected"}).status_code == 200
    )


def test_api_operator_changes_and_permissions(env: Env) -> None:
    operator = env.token("operator", ("read", "write"))
    created = operator.post(
        "/api/v1/feedback/items",
        json={"title": "SSO with LDAP", "origin": "email", "member": a_member(env.ws)},
    )
    assert created.status_code == 201, created.text
    item_id = created.json()["id"]
    assert created.json()["member_id"] is not None
    theme = operator.post(
        "/api/v1/feedback/themes", json={"title": "Single sign-on", "items": [item_id]}
    )
    assert theme.status_code == 201
    theme_id = theme.json()["id"]
    assert theme.json()["item_ids"] == [item_id]
    moved = operator.post(f"/api/v1/feedback/themes/{theme_id}/status", json={"status": "triaged"})
    assert moved.json()["status"] == "triaged"
    declined = operator.post(
        f"/api/v1/feedback/themes/{theme_id}/status", json={"status": "declined"}
    )
    assert declined.status_code == 400
    assert "reason" in declined.json()["detail"]
    routed = operator.patch(f"/api/v1/feedback/themes/{theme_id}", json={"product_area": "auth"})
    assert routed.json()["product_area"] == "auth"
    assert operator.patch(f"/api/v1/feedback/themes/{theme_id}", json={}).status_code == 400
    out = operator.delete(f"/api/v1/feedback/items/{item_id}/theme")
    assert out.json()["theme_id"] is None
    back = operator.request(
        "PUT", f"/api/v1/feedback/items/{item_id}/theme", json={"theme_id": theme_id}
    )
    assert back.json()["theme_id"] == theme_id
    assert operator.delete(f"/api/v1/feedback/items/{item_id}").status_code == 204
    viewer = env.token("viewer", ("read", "write"))
    assert viewer.post("/api/v1/feedback/items", json={"title": "x"}).status_code == 403
    reviewer = env.token("reviewer", ("read", "write"))
    assert reviewer.get("/api/v1/feedback/items").status_code == 403
    assert reviewer.get("/api/v1/feedback/themes").status_code == 403


def test_seed_and_api_on_each_database(workspace: Workspace) -> None:
    """The demo seed, the inbox and a theme's move, on SQLite and PostgreSQL."""
    generate(workspace, members=60, months=3, seed=4, end=date(2026, 10, 31))
    add_role_users(workspace)
    with workspace.store.session() as session:
        feedback_demo.seed(session, random.Random(3), actor="demo")
    app = web_app(workspace)
    operator = token_client(workspace, app, "operator", ("read", "write"))
    try:
        inbox = operator.get("/api/v1/feedback/items", params={"unthemed": "true"}).json()
        assert inbox["total"] == 5
        themes = operator.get("/api/v1/feedback/themes", params=[("status", "triaged")]).json()
        (theme,) = themes["items"]
        moved = operator.post(
            f"/api/v1/feedback/themes/{theme['id']}/status", json={"status": "planned"}
        )
        assert moved.json()["status"] == "planned"
        assert moved.json()["history"][-1]["actor"] == "web:operator"
    finally:
        operator.close()


def test_import_csv_through_the_page_and_the_api(env: Env) -> None:
    member = a_member(env.ws)
    good = (
        "id,title,body,member,raised_at\n"
        f"1,Helm chart for the gateway,We deploy with Helm,{member},2026-09-01\n"
        "2,Prometheus metrics for the installer,,,2026-09-02\n"
    )
    client = env.as_role("operator")
    response = client.post(
        "/feedback/import",
        data={"origin": "survey", "channel": "survey-2026", "csrf_token": client.csrf},
        files={"file": ("answers.csv", good.encode(), "text/csv")},
    )
    assert response.status_code == 303
    inbox = client.get("/feedback").text
    assert "Helm chart for the gateway" in inbox
    assert "Prometheus metrics for the installer" in inbox
    operator = env.token("operator", ("read", "write"))
    again = operator.post(
        "/api/v1/feedback/import",
        data={"origin": "survey", "channel": "survey-2026"},
        files={"file": ("answers.csv", good.encode(), "text/csv")},
    )
    assert again.status_code == 200, again.text
    assert again.json() == {"file": "answers.csv", "rows": 2, "added": [], "already": [2, 3]}
    bad = "title,member\nFine row,\nBad row,nobody-at-all-here\n"
    refused = operator.post(
        "/api/v1/feedback/import",
        files={"file": ("bad.csv", bad.encode(), "text/csv")},
    )
    assert refused.status_code == 400
    assert "bad.csv line 3" in refused.json()["detail"]
    with env.ws.store.session() as session:
        assert (
            session.execute(select(FeedbackItem.id).where(FeedbackItem.title == "Fine row")).first()
            is None
        )


def test_capture_through_the_page_and_the_api(env: Env) -> None:
    client = env.as_role("operator")
    response = client.form("/feedback/capture")
    assert response.status_code == 303
    with env.ws.store.session() as session:
        captured = session.execute(
            select(FeedbackItem.id).where(FeedbackItem.activity_uid.is_not(None))
        ).all()
    assert len(captured) > 0
    operator = env.token("operator", ("read", "write"))
    again = operator.post("/api/v1/feedback/capture").json()
    assert again["added"] == []
    assert again["already"] == len(captured)
    assert (
        env.token("viewer", ("read", "write")).post("/api/v1/feedback/capture").status_code == 403
    )


def test_close_the_loop_on_a_shipped_theme(env: Env) -> None:
    theme = theme_named(env.ws, "Chinese documentation for the API")
    client = env.as_role("operator")
    page = client.get(f"/feedback/themes/{theme.id}").text
    assert 'data-testid="theme-loop"' in page
    assert 'data-testid="loop-draft"' in page
    api = env.token("operator", ("read", "write"))
    listing = api.get(f"/api/v1/feedback/themes/{theme.id}/notify-list").json()
    assert listing["status"] == "shipped"
    untold = [r for r in listing["recipients"] if r["notified_at"] is None]
    assert len(untold) >= 2
    first, second = untold[0]["member_id"], untold[1]["member_id"]
    told = client.form(f"/feedback/themes/{theme.id}/notified", {"member": first})
    assert told.status_code == 303
    after = api.post(f"/api/v1/feedback/themes/{theme.id}/notified", json={"member": second})
    assert after.status_code == 200, after.text
    notified = {r["member_id"] for r in after.json()["recipients"] if r["notified_at"]}
    assert {first, second} <= notified
    with env.ws.store.session() as session:
        activities = (
            session.execute(
                select(Activity.kind).where(Activity.target == f"feedback-theme:{theme.id}")
            )
            .scalars()
            .all()
        )
    assert activities.count("feedback:closed_loop") == 2
    open_theme = theme_named(env.ws, "Offline installation")
    refused = api.get(f"/api/v1/feedback/themes/{open_theme.id}/notify-list")
    assert refused.status_code == 400
    assert "shipped or declined" in refused.json()["detail"]
    assert 'data-testid="theme-loop"' not in client.get(f"/feedback/themes/{open_theme.id}").text
