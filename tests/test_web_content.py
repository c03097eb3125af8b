"""The content pages and /api/v1/content: the board, the calendar, an item's moves, and
community review as a reviewer sees it (only what was assigned to them)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from commops.demo import generate
from commops.ops.content import demo as content_demo
from commops.ops.content.models import ContentItem, ContentReview
from commops.ops.content.rules import asked_reviewers, author_ids, current_round
from commops.store.models import Member
from commops.web import accounts
from commops.workspace import Workspace
from webkit import (
    PASSWORD,
    WebClient,
    add_role_users,
    client_as,
    demo_workspace,
    token_client,
    web_app,
)


@dataclass
class Env:
    ws: Workspace
    app: FastAPI
    in_review: list[int]  # the demo items in review
    reviewer_member: int  # the member of web user "rev-a", asked in one of them
    mine: int  # that item
    others: list[int]  # items in review rev-a was never asked to review
    clients: list[WebClient]

    def keep(self, client: WebClient) -> WebClient:
        self.clients.append(client)
        return client

    def as_role(self, role: str) -> WebClient:
        return self.keep(client_as(self.app, role))

    def token(self, role: str, scopes: tuple[str, ...]) -> WebClient:
        return self.keep(token_client(self.ws, self.app, role, scopes))


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    ws = demo_workspace(Path(tmp_path_factory.mktemp("web-content")), members=120, months=6)
    with ws.store.session() as session:
        content_demo.seed(session, random.Random(7), actor="demo")
    with ws.store.session() as session:
        in_review = sorted(
            session.execute(select(ContentItem.id).where(ContentItem.state == "in_review"))
            .scalars()
            .all()
        )
        assert len(in_review) == 2
        mine = in_review[0]
        rnd = current_round(session, mine)
        assert rnd is not None
        asked_mine = asked_reviewers(session, rnd.id)
        other_asked: set[int] = set()
        for other in in_review[1:]:
            other_round = current_round(session, other)
            assert other_round is not None
            other_asked |= set(asked_reviewers(session, other_round.id))
        member = next(m for m in asked_mine if m not in other_asked)
        accounts.add_user(session, "rev-a", PASSWORD, role="reviewer", member=member, actor="t")
        accounts.add_user(session, "rev-unlinked", PASSWORD, role="reviewer", actor="t")
    env = Env(ws, web_app(ws), in_review, member, mine, in_review[1:], [])
    yield env
    for client in env.clients:
        client.close()
    ws.close()


def login(env: Env, username: str) -> WebClient:
    client = env.keep(WebClient(env.app))
    client.login(username)
    return client


def state_of(ws: Workspace, item_id: int) -> str:
    with ws.store.session() as session:
        item = session.get(ContentItem, item_id)
        assert item is not None
        return item.state


def community(ws: Workspace, exclude: set[int], n: int) -> list[int]:
    with ws.store.session() as session:
        ids = session.execute(
            select(Member.id)
            .where(Member.is_bot.is_(False), Member.is_staff.is_(False))
            .order_by(Member.id.desc())
        ).scalars()
        return [m for m in ids if m not in exclude][:n]


# -- pages -------------------------------------------------------------------------------------


def test_board_shows_items_by_state_for_viewer(env: Env) -> None:
    client = env.as_role("viewer")
    response = client.get("/content")
    assert response.status_code == 200
    page = response.text
    for state in ("pitch", "accepted", "drafting", "in_review", "approved", "scheduled"):
        assert f'data-state="{state}"' in page
    assert "Multi-cluster networking explained" in page
    assert 'data-testid="content-new"' not in page  # a viewer adds nothing
    filtered = client.get("/content", params={"kind": "video"}).text
    assert "A video walkthrough of the installer" in filtered
    assert "Multi-cluster networking explained" not in filtered


def test_board_in_chinese(env: Env) -> None:
    client = env.as_role("viewer")
    page = client.get("/content", headers={"Accept-Language": "zh-CN"}).text
    assert "审阅中" in page


def test_calendar_shows_scheduled_item_and_gaps(env: Env) -> None:
    client = env.as_role("viewer")
    response = client.get("/content/calendar")
    assert response.status_code == 200
    assert "多集群网络详解" in response.text  # scheduled a week from today on wechat
    assert 'data-gap="true"' in response.text
    assert (
        client.get(
            "/content/calendar", params={"since": "2026-05-01", "until": "2026-01-01"}
        ).status_code
        == 400
    )


def test_item_page_shows_rounds_and_history(env: Env) -> None:
    client = env.as_role("viewer")
    page = client.get(f"/content/{env.mine}").text
    assert 'data-testid="review-round"' in page
    assert 'data-testid="content-history"' in page
    assert 'data-testid="content-actions"' not in page
    assert client.get("/content/999999").status_code == 404


def test_operator_takes_a_pitch_to_review_through_the_pages(env: Env) -> None:
    client = env.as_role("operator")
    author, r1, r2 = community(env.ws, {env.reviewer_member}, 3)
    response = client.form(
        "/content",
        {
            "title": "Tracing requests end to end",
            "kind": "article",
            "authors": str(author),
            "language": "en",
            "channels": "blog",
            "tags": "tracing",
        },
    )
    assert response.status_code == 303
    item_id = int(response.headers["location"].rsplit("/", 1)[1])
    assert state_of(env.ws, item_id) == "pitch"
    assert client.form(f"/content/{item_id}/accept").status_code == 303
    assert client.form(f"/content/{item_id}/drafting").status_code == 303
    assert state_of(env.ws, item_id) == "drafting"
    page = client.get(f"/content/{item_id}").text
    assert 'data-testid="content-submit-form"' in page
    response = client.form(f"/content/{item_id}/submit", {"reviewers": f"{r1}, {r2}"})
    assert response.status_code == 303
    assert state_of(env.ws, item_id) == "in_review"
    # a withdrawal without a reason: the domain's error, as a 400 page
    bad = client.form(f"/content/{item_id}/withdraw", {"reason": " "})
    assert bad.status_code == 400
    assert state_of(env.ws, item_id) == "in_review"


def test_viewer_and_reviewer_cannot_change_items(env: Env) -> None:
    for role in ("viewer", "reviewer"):
        client = env.as_role(role)
        assert client.form(f"/content/{env.mine}/withdraw", {"reason": "no"}).status_code == 403
        assert client.get("/content/new").status_code == 403
    assert state_of(env.ws, env.mine) == "in_review"


def test_reviewer_sees_only_items_assigned_to_them(env: Env) -> None:
    client = login(env, "rev-a")
    page = client.get("/content/review")
    assert page.status_code == 200
    assert f'data-item-id="{env.mine}"' in page.text
    for other in env.others:
        assert f'data-item-id="{other}"' not in page.text
        assert client.get(f"/content/review/{other}").status_code == 403
    assert client.get(f"/content/review/{env.mine}").status_code == 200
    for url in ("/content", "/content/calendar", f"/content/{env.mine}", "/feedback", "/qna"):
        assert client.get(url).status_code == 403, url
    assert client.get("/content").status_code == 403


def test_unlinked_reviewer_sees_nothing_and_is_told_why(env: Env) -> None:
    client = login(env, "rev-unlinked")
    page = client.get("/content/review").text
    assert 'data-testid="review-empty"' in page
    assert "not linked to a member" in page
    assert client.get(f"/content/review/{env.mine}").status_code == 403


def test_operator_sees_every_item_in_review(env: Env) -> None:
    page = env.as_role("operator").get("/content/review").text
    for item_id in env.in_review:
        assert f'data-item-id="{item_id}"' in page


def test_reviewer_requests_changes_then_approves_the_next_round(env: Env) -> None:
    """A whole article through community review, as the lead's browser test does it."""
    operator = env.as_role("operator")
    author, other = community(env.ws, {env.reviewer_member}, 2)
    created = operator.form(
        "/content",
        {
            "title": "Scaling the event bus",
            "kind": "article",
            "authors": str(author),
            "language": "en",
            "channels": "blog",
        },
    )
    item_id = int(created.headers["location"].rsplit("/", 1)[1])
    operator.form(f"/content/{item_id}/accept")
    operator.form(f"/content/{item_id}/drafting")
    operator.form(f"/content/{item_id}/submit", {"reviewers": f"{env.reviewer_member},{other}"})

    reviewer = login(env, "rev-a")
    listing = reviewer.get("/content/review").text
    assert f'data-item-id="{item_id}"' in listing
    page = reviewer.get(f"/content/review/{item_id}").text
    assert 'data-testid="review-approve"' in page
    # a request for changes needs a message
    assert (
        reviewer.form(f"/content/review/{item_id}", {"verdict": "request_changes"}).status_code
        == 400
    )
    response = reviewer.form(
        f"/content/review/{item_id}",
        {"verdict": "request_changes", "message": "Please add a diagram of the bus."},
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/content/review"
    assert state_of(env.ws, item_id) == "drafting"
    # the item stays visible to its reviewer, with nothing left to give
    page = reviewer.get(f"/content/review/{item_id}").text
    assert 'data-testid="review-form"' not in page
    assert "Please add a diagram of the bus." in page

    operator.form(f"/content/{item_id}/submit", {"reviewers": f"{env.reviewer_member},{other}"})
    assert reviewer.form(f"/content/review/{item_id}", {"verdict": "approve"}).status_code == 303
    assert state_of(env.ws, item_id) == "in_review"  # one of two approvals
    page = reviewer.get(f"/content/review/{item_id}").text
    assert 'data-testid="review-approved"' in page
    assert 'data-testid="review-approve"' not in page
    assert 'data-testid="review-comment"' in page
    # approving twice in a round is refused by the domain rule
    assert reviewer.form(f"/content/review/{item_id}", {"verdict": "approve"}).status_code == 400
    with env.ws.store.session() as session:
        verdicts = session.execute(
            select(ContentReview.verdict, ContentReview.actor)
            .where(ContentReview.item_id == item_id)
            .order_by(ContentReview.id)
        ).all()
    assert [tuple(v) for v in verdicts] == [
        ("request_changes", "web:rev-a"),
        ("approve", "web:rev-a"),
    ]


def test_review_form_needs_csrf(env: Env) -> None:
    client = login(env, "rev-a")
    response = client.post(
        f"/content/review/{env.mine}", data={"verdict": "comment", "message": "x"}
    )
    assert response.status_code == 403


# -- API ---------------------------------------------------------------------------------------


def test_api_lists_items_with_paging_and_filters(env: Env) -> None:
    client = env.token("viewer", ("read",))
    body = client.get("/api/v1/content/items", params={"limit": 2}).json()
    assert body["limit"] == 2
    assert body["offset"] == 0
    assert len(body["items"]) == 2
    assert body["total"] >= 9
    ids = [i["id"] for i in body["items"]]
    assert ids == sorted(ids, reverse=True)
    second = client.get("/api/v1/content/items", params={"limit": 2, "offset": 2}).json()
    assert not set(ids) & {i["id"] for i in second["items"]}
    in_review = client.get("/api/v1/content/items", params={"state": "in_review"}).json()
    assert {i["state"] for i in in_review["items"]} == {"in_review"}
    bad = client.get("/api/v1/content/items", params={"state": "lost"})
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")


def test_api_item_detail_and_404(env: Env) -> None:
    client = env.token("viewer", ("read",))
    detail = client.get(f"/api/v1/content/items/{env.mine}").json()
    assert detail["state"] == "in_review"
    assert detail["rounds"][-1]["outcome"] == "open"
    missing = client.get("/api/v1/content/items/999999")
    assert missing.status_code == 404
    assert missing.json()["status"] == 404


def test_api_calendar(env: Env) -> None:
    client = env.token("viewer", ("read",))
    cal = client.get("/api/v1/content/calendar").json()
    assert "wechat" in cal["channels"]
    assert any(cell["scheduled"] for cell in cal["cells"])
    assert client.get("/api/v1/content/calendar", params={"since": "0001-01-01"}).status_code == 400


def test_api_operator_moves_an_item_and_viewer_cannot(env: Env) -> None:
    operator = env.token("operator", ("read", "write"))
    author, r1, r2 = community(env.ws, {env.reviewer_member}, 3)
    created = operator.post(
        "/api/v1/content/items",
        json={
            "title": "Notes from the release",
            "kind": "article",
            "authors": [author],
            "language": "en",
            "channels": ["blog"],
        },
    )
    assert created.status_code == 201, created.text
    item_id = created.json()["id"]
    assert operator.post(f"/api/v1/content/items/{item_id}/accept").json()["state"] == "accepted"
    assert operator.post(f"/api/v1/content/items/{item_id}/drafting").json()["state"] == "drafting"
    wrong = operator.post(
        f"/api/v1/content/items/{item_id}/submit", json={"reviewers": [author, r1]}
    )
    assert wrong.status_code == 400
    assert "authors cannot review" in wrong.json()["detail"]
    submitted = operator.post(
        f"/api/v1/content/items/{item_id}/submit", json={"reviewers": [r1, r2]}
    )
    assert submitted.json()["state"] == "in_review"
    viewer = env.token("viewer", ("read", "write"))
    assert (
        viewer.post(f"/api/v1/content/items/{item_id}/withdraw", json={"reason": "x"}).status_code
        == 403
    )
    read_only = env.token("operator", ("read",))
    assert (
        read_only.post(
            f"/api/v1/content/items/{item_id}/withdraw", json={"reason": "x"}
        ).status_code
        == 403
    )
    assert operator.delete(f"/api/v1/content/items/{item_id}").status_code == 204
    assert operator.get(f"/api/v1/content/items/{item_id}").json()["deleted"] is True
    assert operator.post(f"/api/v1/content/items/{item_id}/restore").json()["deleted"] is False


def test_api_reviewer_reviews_only_what_is_assigned(env: Env) -> None:
    with env.ws.store.session() as session:
        author = author_ids(session, env.mine)[0]
        accounts.create_token(session, "rev-a", "t", scopes=("read", "write"), actor="t")
        issued = accounts.create_token(session, "rev-a", "t2", scopes=("read", "write"), actor="t")
    assert author != env.reviewer_member
    client = env.keep(WebClient(env.app, headers={"Authorization": f"Bearer {issued.secret}"}))
    listed = client.get("/api/v1/content/reviews").json()
    assert env.mine in {i["id"] for i in listed["items"]}
    assert not set(env.others) & {i["id"] for i in listed["items"]}
    assert client.get("/api/v1/content/items").status_code == 403
    for other in env.others:
        assert client.get(f"/api/v1/content/reviews/{other}").status_code == 403
        refused = client.post(f"/api/v1/content/reviews/{other}", json={"verdict": "approve"})
        assert refused.status_code == 403
        assert refused.headers["content-type"].startswith("application/problem+json")
    given = client.post(
        f"/api/v1/content/reviews/{env.mine}", json={"verdict": "comment", "message": "Nice intro."}
    )
    assert given.status_code == 201, given.text
    assert given.json()["verdict"] == "comment"
    assert (
        client.post(f"/api/v1/content/reviews/{env.mine}", json={"verdict": "maybe"}).status_code
        == 422
    )


# -- each database -----------------------------------------------------------------------------


def test_review_through_the_api_on_each_database(workspace: Workspace) -> None:
    """The demo seed and one community review, on SQLite and PostgreSQL."""
    generate(workspace, members=60, months=3, seed=4, end=date(2026, 10, 31))
    add_role_users(workspace)
    with workspace.store.session() as session:
        content_demo.seed(session, random.Random(3), actor="demo")
    with workspace.store.session() as session:
        item_id = (
            session.execute(
                select(ContentItem.id)
                .where(ContentItem.state == "in_review")
                .order_by(ContentItem.id)
            )
            .scalars()
            .first()
        )
        assert item_id is not None
        rnd = current_round(session, item_id)
        assert rnd is not None
        member = asked_reviewers(session, rnd.id)[0]
        accounts.add_user(session, "rev-db", PASSWORD, role="reviewer", member=member, actor="t")
        issued = accounts.create_token(session, "rev-db", "t", scopes=("read", "write"), actor="t")
    app = web_app(workspace)
    client = WebClient(app, headers={"Authorization": f"Bearer {issued.secret}"})
    try:
        listed = client.get("/api/v1/content/reviews").json()
        assert item_id in {i["id"] for i in listed["items"]}
        given = client.post(
            f"/api/v1/content/reviews/{item_id}",
            json={"verdict": "request_changes", "message": "Shorter intro, please."},
        )
        assert given.status_code == 201, given.text
        assert given.json()["state"] == "drafting"
    finally:
        client.close()
    assert state_of(workspace, item_id) == "drafting"


def test_api_edit_cross_post_and_approve(env: Env) -> None:
    operator = env.token("operator", ("read", "write"))
    published = operator.get("/api/v1/content/items", params={"state": "published"}).json()
    item_id = published["items"][0]["id"]
    edited = operator.patch(
        f"/api/v1/content/items/{item_id}", json={"tags": ["upgrade", "howto"], "reason": "tidy"}
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["tags"] == ["upgrade", "howto"]
    assert edited.json()["log"][-1]["action"] == "edited"
    assert operator.patch(f"/api/v1/content/items/{item_id}", json={}).status_code == 400
    assert (
        operator.patch(f"/api/v1/content/items/{item_id}", json={"title": None}).status_code == 400
    )
    posted = operator.post(
        f"/api/v1/content/items/{item_id}/cross-post", json={"channel": "juejin"}
    )
    assert posted.status_code == 200, posted.text
    assert "juejin" in {p["channel"] for p in posted.json()["posts"]}
    twice = operator.post(f"/api/v1/content/items/{item_id}/cross-post", json={"channel": "juejin"})
    assert twice.status_code == 409
    # an item in review whose rule does not hold yet cannot be approved by hand
    early = operator.post(f"/api/v1/content/items/{env.others[0]}/approve")
    assert early.status_code == 400
    assert "cannot be approved yet" in early.json()["detail"]


def test_cross_post_form(env: Env) -> None:
    client = env.as_role("operator")
    with env.ws.store.session() as session:
        item_id = (
            session.execute(
                select(ContentItem.id)
                .where(ContentItem.state == "published")
                .order_by(ContentItem.id)
            )
            .scalars()
            .first()
        )
    assert item_id is not None
    assert 'data-testid="content-cross-post"' in client.get(f"/content/{item_id}").text
    response = client.form(f"/content/{item_id}/cross-post", {"channel": "csdn"})
    assert response.status_code == 303
    assert "csdn" in client.get(f"/content/{item_id}").text
