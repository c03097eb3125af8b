"""The Q&A desk pages and /api/v1/qna: the queue, a question, the desk's moves, and who may
make them."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from commops.demo import generate
from commops.ops.qna import demo as qna_demo
from commops.ops.qna import queue
from commops.ops.qna.models import QnaAssignment
from commops.workspace import Workspace
from webkit import Site, add_role_users, demo_workspace, token_client, web_app

Env = Site


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    ws = demo_workspace(Path(tmp_path_factory.mktemp("web-qna")), members=150, months=8)
    with ws.store.session() as session:
        qna_demo.seed(session, random.Random(2), actor="demo")
    env = Env(ws, web_app(ws))
    yield env
    env.close()


def waiting(env: Env, state: str = "open") -> list[str]:
    """Uids of queue questions in ``state`` that have suggested answerers."""
    with env.ws.store.session() as session:
        items = queue(session, labels=env.ws.config.qna_question_labels)
    return [i.uid for i in items if i.state == state and i.suggested]


def desk_state(env: Env, uid: str) -> str | None:
    with env.ws.store.session() as session:
        return session.execute(
            select(QnaAssignment.state).where(QnaAssignment.question_uid == uid)
        ).scalar_one_or_none()


def test_queue_page_lists_unanswered_questions(env: Env) -> None:
    client = env.as_role("viewer")
    page = client.get("/qna")
    assert page.status_code == 200
    with env.ws.store.session() as session:
        total = len(queue(session, labels=env.ws.config.qna_question_labels))
    assert total > 0
    assert page.text.count('data-testid="qna-question"') == min(50, total)
    assert f'data-testid="qna-total">{total}<' in page.text
    if total > 50:
        assert "offset=50" in page.text
        second = client.get("/qna", params={"offset": 50}).text
        assert second.count('data-testid="qna-question"') == min(50, total - 50)
    assigned = client.get("/qna", params={"state": "assigned"}).text
    assert assigned.count('data-testid="qna-question"') == 3
    none = client.get("/qna", params={"older_than": 100000}).text
    assert 'data-testid="qna-queue"' not in none
    assert client.get("/qna", params={"older_than": -1}).status_code == 422


def test_queue_in_chinese(env: Env) -> None:
    page = env.as_role("viewer").get("/qna", headers={"Accept-Language": "zh-CN"}).text
    assert "问答台" in page


def test_question_page_shows_suggestions(env: Env) -> None:
    uid = waiting(env)[0]
    client = env.as_role("viewer")
    page = client.get(f"/qna/questions/{uid}")
    assert page.status_code == 200
    assert 'data-testid="qna-suggested"' in page.text
    assert 'data-testid="qna-assign-form"' not in page.text
    assert client.get("/qna/questions/0000000000000000").status_code == 404
    assert client.get("/qna/questions/not-a-uid").status_code == 422


def test_operator_assigns_unassigns_drops_and_reopens(env: Env) -> None:
    uid = waiting(env)[1]
    client = env.as_role("operator")
    page = client.get(f"/qna/questions/{uid}").text
    assert 'data-testid="qna-assign-suggested"' in page
    with env.ws.store.session() as session:
        item = next(i for i in queue(session) if i.uid == uid)
        member = item.suggested[0].member_id
        asker = item.asker_id
    # the asker cannot be asked to answer: the domain refuses, nothing is written
    assert client.form(f"/qna/questions/{uid}/assign", {"member": str(asker)}).status_code == 400
    assert desk_state(env, uid) is None
    assert client.form(f"/qna/questions/{uid}/assign", {"member": str(member)}).status_code == 303
    assert desk_state(env, uid) == "assigned"
    page = client.get(f"/qna/questions/{uid}").text
    assert 'data-testid="qna-assignee"' in page
    assert "web:operator" in page
    assert client.form(f"/qna/questions/{uid}/unassign").status_code == 303
    assert desk_state(env, uid) == "open"
    assert client.form(f"/qna/questions/{uid}/drop", {"reason": "duplicate"}).status_code == 303
    assert desk_state(env, uid) == "dropped"
    assert uid not in client.get("/qna").text
    assert client.form(f"/qna/questions/{uid}/reopen").status_code == 303
    assert desk_state(env, uid) == "open"


def test_viewer_and_reviewer_cannot_change_the_desk(env: Env) -> None:
    uid = waiting(env)[2]
    viewer = env.as_role("viewer")
    assert viewer.form(f"/qna/questions/{uid}/drop").status_code == 403
    reviewer = env.as_role("reviewer")
    assert reviewer.get("/qna").status_code == 403
    assert reviewer.get(f"/qna/questions/{uid}").status_code == 403
    assert reviewer.form(f"/qna/questions/{uid}/drop").status_code == 403
    assert desk_state(env, uid) is None


def test_api_queue_paging_and_filters(env: Env) -> None:
    client = env.token("viewer", ("read",))
    body = client.get("/api/v1/qna/queue", params={"limit": 5}).json()
    assert body["limit"] == 5
    assert len(body["items"]) == 5
    assert body["total"] > 5
    asked = [i["asked_at"] for i in body["items"]]
    assert asked == sorted(asked)
    assigned = client.get("/api/v1/qna/queue", params={"state": "assigned"}).json()
    assert assigned["total"] >= 1
    assert all(i["assignee_id"] is not None for i in assigned["items"])
    channel = body["items"][0]["channel"]
    only = client.get("/api/v1/qna/queue", params={"channel": channel, "limit": 500}).json()
    assert {i["channel"] for i in only["items"]} == {channel}
    bad = client.get("/api/v1/qna/queue", params={"state": "lost"})
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")


def test_api_question_and_moves(env: Env) -> None:
    uid = waiting(env)[3]
    reader = env.token("viewer", ("read",))
    question = reader.get(f"/api/v1/qna/questions/{uid}").json()
    assert question["state"] == "open"
    assert question["suggested"]
    member = question["suggested"][0]["member_id"]
    operator = env.token("operator", ("read", "write"))
    assigned = operator.post(f"/api/v1/qna/questions/{uid}/assign", json={"member": member})
    assert assigned.status_code == 200, assigned.text
    assert assigned.json()["state"] == "assigned"
    assert assigned.json()["assignee_id"] == member
    again = operator.post(f"/api/v1/qna/questions/{uid}/assign", json={"member": member})
    assert again.status_code == 409
    assert "already assigned" in again.json()["detail"]
    dropped = operator.post(f"/api/v1/qna/questions/{uid}/drop", json={"reason": "spam"})
    assert dropped.json()["state"] == "dropped"
    assert [e["action"] for e in dropped.json()["log"]][:2] == ["dropped", "assigned"]
    assert operator.post(f"/api/v1/qna/questions/{uid}/reopen").json()["state"] == "open"
    viewer = env.token("viewer", ("read", "write"))
    assert viewer.post(f"/api/v1/qna/questions/{uid}/drop", json={}).status_code == 403
    reviewer = env.token("reviewer", ("read", "write"))
    assert reviewer.get("/api/v1/qna/queue").status_code == 403
    assert reader.get("/api/v1/qna/questions/ffffffffffffffff").status_code == 404


def test_seed_and_api_on_each_database(workspace: Workspace) -> None:
    """The demo seed, the queue and an assignment, on SQLite and PostgreSQL."""
    generate(workspace, members=60, months=3, seed=4, end=date(2026, 10, 31))
    add_role_users(workspace)
    with workspace.store.session() as session:
        qna_demo.seed(session, random.Random(3), actor="demo")
    app = web_app(workspace)
    operator = token_client(workspace, app, "operator", ("read", "write"))
    try:
        assigned = operator.get("/api/v1/qna/queue", params={"state": "assigned"}).json()
        assert assigned["total"] == 3
        waiting = operator.get("/api/v1/qna/queue", params={"state": "open"}).json()
        question = next(q for q in waiting["items"] if q["suggested"])
        member = question["suggested"][0]["member_id"]
        done = operator.post(
            f"/api/v1/qna/questions/{question['uid']}/assign", json={"member": member}
        )
        assert done.json()["assignee_id"] == member
        assert done.json()["log"][0]["actor"] == "web:operator"
    finally:
        operator.close()


def test_stats_page_and_api(env: Env) -> None:
    client = env.as_role("viewer")
    page = client.get("/qna/stats", params={"since": "2026-01-01"})
    assert page.status_code == 200
    assert 'data-scope="forum"' in page.text
    assert 'data-testid="qna-answerers"' in page.text
    assert (
        client.get("/qna/stats", params={"since": "2026-05-01", "until": "2026-01-01"}).status_code
        == 400
    )
    api = env.token("viewer", ("read",))
    body = api.get("/api/v1/qna/stats", params={"since": "2026-01-01"}).json()
    (everything,) = [r for r in body["support"] if r["scope"] == "all"]
    assert everything["questions"] == sum(
        r["questions"] for r in body["support"] if r["scope"] != "all"
    )
    assert everything["answered"] + everything["unanswered"] == everything["questions"]
    assert api.get("/api/v1/qna/stats", params={"since": "0001-01-01"}).status_code == 400
    assert env.token("reviewer", ("read",)).get("/api/v1/qna/stats").status_code == 403
